/* analysis.c — VAD → diarization → voice measures for one recording.
 *
 * The voice tracks (pitch, pulses, harmonicity, formants, intensity) are
 * computed once for the whole file; every summary — file, speaker, turn —
 * is read from them. A measure that cannot be computed is null with its
 * reason (voice_measures.c), never a stand-in. */
#include "analysis.h"

#include <math.h>
#include <string.h>

#include "diarize.h"
#include "vad.h"
#include "vm_alloc.h"
#include "vm_json.h"
#include "vm_time.h"
#include "voice_measures.h"

void vm_analysis_opts_default(vm_analysis_opts *o) {
  o->pitch_floor_hz = 75;
  o->pitch_ceiling_hz = 600;
  o->n_speakers = 0;
}

void vm_analysis_deinit(vm_analysis *a) {
  if (!a) return;
  json_decref(a->vad);
  json_decref(a->diarization);
  json_decref(a->acoustic);
  json_decref(a->speakers);
  json_decref(a->segments);
  memset(a, 0, sizeof *a);
}

/* The whole-file "acoustic" object: voice measures plus the
 * timing facts of the VAD. */
static json_t *acoustic_json(const vm_voice *v, const vm_vad_result *vad) {
  vm_voice_summary s;
  vm_forensic_voice_summary_get(v, 0, 0, &s);
  json_t *o = vm_forensic_voice_summary_to_json(&s);
  if (!o) return NULL;
  json_t *pauses = json_array();
  for (size_t i = 0; pauses && i < vad->n_pauses; i++)
    json_array_append_new(pauses, json_pack("{s:o,s:o}", "start",
                          vm_json_real(vad->pauses[i].start_s), "duration",
                          vm_json_real(vad->pauses[i].duration_s)));
  json_object_set_new(o, "speech_ratio", vm_json_real(vad->speech_ratio));
  json_object_set_new(o, "speech_s", vm_json_real(vad->speech_s));
  json_object_set_new(o, "pauses", pauses ? pauses : json_array());
  json_object_set_new(o, "min_pause_s", vm_json_real(vad->min_pause_s));
  return o;
}

/* Main measures of one turn: small enough to keep for every turn. */
static json_t *turn_json(const vm_voice *v, const vm_diar_turn *t) {
  vm_voice_summary s;
  char name[32];
  vm_forensic_voice_summary_get(v, t->start_s, t->end_s, &s);
  return json_pack("{s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "start",
                   vm_json_real(t->start_s), "end", vm_json_real(t->end_s), "speaker",
                   vm_diar_speaker_name(t->speaker, name, sizeof name), "voiced_fraction",
                   vm_json_real(s.voiced_fraction.value), "f0_mean_hz",
                   vm_json_real(s.f0_mean_hz.value), "f0_sd_hz", vm_json_real(s.f0_sd_hz.value),
                   "jitter_local", vm_json_real(s.jitter_local.value), "shimmer_local",
                   vm_json_real(s.shimmer_local.value), "hnr_db", vm_json_real(s.hnr_db.value),
                   "intensity_mean_db", vm_json_real(s.intensity_mean_db.value));
}

/* Per speaker: the diarization figures, plus the voice measures over all
 * of that speaker's turns at once. */
static json_t *speakers_json(const vm_voice *v, const vm_diar_result *d, const json_t *diar) {
  json_t *a = json_array();
  double *t0 = vm_malloc((d->n_turns ? d->n_turns : 1) * sizeof *t0);
  double *t1 = vm_malloc((d->n_turns ? d->n_turns : 1) * sizeof *t1);
  const json_t *figures = json_object_get(diar, "speakers");
  if (!a || !t0 || !t1) {
    json_decref(a);
    a = NULL;
    goto out;
  }
  for (int k = 0; k < d->n_speakers; k++) {
    size_t n = 0;
    for (size_t i = 0; i < d->n_turns; i++) {
      if (d->turns[i].speaker != k) continue;
      t0[n] = d->turns[i].start_s;
      t1[n++] = d->turns[i].end_s;
    }
    vm_voice_summary s;
    if (vm_forensic_voice_summary_get_ranges(v, t0, t1, n, &s) != VM_OK) {
      json_decref(a);
      a = NULL;
      goto out;
    }
    json_t *o = json_deep_copy(json_array_get(figures, (size_t)k));
    if (!json_is_object(o)) {
      json_decref(o);
      o = json_object();
    }
    json_object_set_new(o, "acoustic", vm_forensic_voice_summary_to_json(&s));
    json_array_append_new(a, o);
  }
out:
  vm_free(t0);
  vm_free(t1);
  return a;
}

static int voice_stage(const float *x, size_t n, int rate_hz, const vm_analysis_opts *o,
                       const vm_vad_result *vad, const vm_diar_result *d, vm_analysis *out,
                       vm_err *err) {
  vm_voice_params p;
  vm_voice *v = NULL;
  vm_forensic_voice_params_init(&p);
  p.pitch_floor_hz = o->pitch_floor_hz;
  p.pitch_ceiling_hz = o->pitch_ceiling_hz;
  int rc = vm_forensic_voice_create(x, n, rate_hz, &p, &v, err);
  if (rc != VM_OK) return rc;
  out->acoustic = acoustic_json(v, vad);
  out->speakers = speakers_json(v, d, out->diarization);
  out->segments = json_array();
  for (size_t i = 0; out->segments && i < d->n_turns; i++)
    json_array_append_new(out->segments, turn_json(v, &d->turns[i]));
  vm_forensic_voice_destroy(v);
  if (!out->acoustic || !out->speakers || !out->segments)
    return vm_err_set(err, VM_ENOMEM, "out of memory summarising the voice measures");
  return VM_OK;
}

int vm_analysis_run(const float *x, size_t n, int rate_hz, const float *ch0,
                    const float *ch1, const vm_analysis_opts *opts,
                    vm_analysis *out, vm_err *err) {
  vm_analysis_opts def;
  vm_vad_result *vad = NULL;
  vm_diar_result *d = NULL;
  int rc = VM_OK;
  memset(out, 0, sizeof *out);
  vm_analysis_opts_default(&def);
  if (!opts) opts = &def;

  double t0 = vm_time_mono();
  if ((rc = vm_vad_run(x, n, rate_hz, NULL, &vad)) != VM_OK) {
    vm_err_set(err, rc, "voice activity detection failed: %s", vm_strerror(rc));
    goto out;
  }
  out->vad = vm_vad_result_to_json(vad);
  out->vad_ms = (vm_time_mono() - t0) * 1e3;

  t0 = vm_time_mono();
  vm_diar_input in = {.mono = x, .n_samples = n, .sample_rate_hz = rate_hz,
                      .channels = {ch0 && ch1 ? ch0 : NULL, ch0 && ch1 ? ch1 : NULL},
                      .regions = vad->regions, .n_regions = vad->n_regions};
  vm_diar_opts dopt;
  vm_diar_opts_default(&dopt);
  dopt.n_speakers = opts->n_speakers;
  if ((rc = vm_diarize(&in, &dopt, &d)) != VM_OK) {
    vm_err_set(err, rc, "diarization failed: %s", vm_strerror(rc));
    goto out;
  }
  out->diarization = vm_diar_result_to_json(d);
  out->diarize_ms = (vm_time_mono() - t0) * 1e3;

  t0 = vm_time_mono();
  rc = voice_stage(x, n, rate_hz, opts, vad, d, out, err);
  out->voice_ms = (vm_time_mono() - t0) * 1e3;
  if (rc == VM_OK && (!out->vad || !out->diarization))
    rc = vm_err_set(err, VM_ENOMEM, "out of memory building the analysis");
out:
  vm_diar_result_destroy(d);
  vm_vad_result_destroy(vad);
  if (rc != VM_OK) vm_analysis_deinit(out);
  return rc;
}
