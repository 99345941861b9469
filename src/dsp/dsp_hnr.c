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

int vm_dsp_hnr_create(const float *x, size_t n, int rate_hz,
                      const vm_hnr_params *p, vm_hnr_track **out, vm_err *err) {
  *out = NULL;
  if (rate_hz <= 0 || !(p->min_pitch_hz > 0) || !(p->min_pitch_hz < 0.5 * rate_hz))
    return vm_err_set(err, VM_EINVAL, "hnr: invalid parameters");
  vm_pitch_params pp;
  vm_dsp_pitch_params_init(&pp);
  pp.method = VM_PITCH_CC;
  pp.time_step_s = p->time_step_s;
  pp.floor_hz = p->min_pitch_hz;
  pp.ceiling_hz = 0.5 * rate_hz;
  pp.periods_per_window = p->periods_per_window;
  pp.silence_threshold = p->silence_threshold;
  pp.voicing_threshold = 0.0;
  pp.octave_cost = pp.octave_jump_cost = pp.voiced_unvoiced_cost = 0.0;
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
  for (size_t i = 0; i < pt->n_frames; i++) {
    double r = pt->strength[i];
    if (pt->f0_hz[i] <= 0) h->hnr_db[i] = NAN;
    else h->hnr_db[i] = (float)(r <= 1e-15 ? -150.0 : r > 1.0 - 1e-15 ? 150.0 : 10.0 * log10(r / (1.0 - r)));
  }
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
