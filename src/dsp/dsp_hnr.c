/* dsp_hnr.c — harmonicity (cc) on top of the pitch engine.
 *
 * DESIGN
 * Praat computes harmonicity as a cc pitch analysis with voicing threshold
 * 0, all costs 0 and ceiling = Nyquist, then maps the winning candidate's
 * strength r to dB. With zero costs the Viterbi path is the per-frame
 * argmax, which the pitch engine detects and exploits (only near-best
 * candidates are refined). Strengths are clipped as Praat does (r <= 1e-15
 * -> -150 dB, r >= 1 - 1e-15 -> 150 dB).
 */
#include "dsp_hnr.h"

#include <math.h>

#include "dsp_pitch.h"
#include "vm_alloc.h"

void vm_dsp_hnr_params_init(vm_hnr_params *p) {
  p->time_step_s = 0.01;
  p->min_pitch_hz = 75.0;
  p->silence_threshold = 0.1;
  p->periods_per_window = 1.0;
}

void vm__dsp_hnr_pitch_params(const vm_hnr_params *p, int rate_hz, vm_pitch_params *out) {
  vm_dsp_pitch_params_init(out);
  out->method = VM_PITCH_CC;
  out->time_step_s = p->time_step_s;
  out->floor_hz = p->min_pitch_hz;
  out->ceiling_hz = 0.5 * rate_hz;
  out->periods_per_window = p->periods_per_window;
  out->silence_threshold = p->silence_threshold;
  out->voicing_threshold = 0.0;
  out->octave_cost = out->octave_jump_cost = out->voiced_unvoiced_cost = 0.0;
}

float vm__dsp_hnr_db(float f0_hz, float strength) {
  double r = strength;
  if (f0_hz <= 0) return NAN;
  return (float)(r <= 1e-15 ? -150.0 : r > 1.0 - 1e-15 ? 150.0 : 10.0 * log10(r / (1.0 - r)));
}

int vm_dsp_hnr_create(const float *x, size_t n, int rate_hz,
                      const vm_hnr_params *p, vm_hnr_track **out, vm_err *err) {
  *out = NULL;
  if (rate_hz <= 0 || !(p->min_pitch_hz > 0) || !(p->min_pitch_hz < 0.5 * rate_hz))
    return vm_err_set(err, VM_EINVAL, "hnr: invalid parameters");
  vm_pitch_params pp;
  vm__dsp_hnr_pitch_params(p, rate_hz, &pp);
  vm_pitch_track *pt = NULL;
  vm_hnr_track *h = NULL;
  int rc = vm_dsp_pitch_create(x, n, rate_hz, &pp, &pt, err);
  if (rc) return rc;
  h = vm_calloc(1, sizeof *h);
  if (!h || !(h->hnr_db = vm_malloc(sizeof(float) * (pt->n_frames ? pt->n_frames : 1)))) {
    rc = vm_err_set(err, VM_ENOMEM, "hnr: out of memory");
    goto out;
  }
  h->n_frames = pt->n_frames, h->t0_s = pt->t0_s, h->dt_s = pt->dt_s;
  for (size_t i = 0; i < pt->n_frames; i++) h->hnr_db[i] = vm__dsp_hnr_db(pt->f0_hz[i], pt->strength[i]);
  *out = h, h = NULL;
out:
  vm_dsp_pitch_destroy(pt);
  vm_dsp_hnr_destroy(h);
  return rc;
}

void vm_dsp_hnr_destroy(vm_hnr_track *h) {
  if (!h) return;
  vm_free(h->hnr_db);
  vm_free(h);
}
