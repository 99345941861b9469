/* analysis.c — VAD → diarization → (transcript speakers) → voice
 * measures → stress and escalation → contours, for one recording.
 *
 * DESIGN
 * The voice tracks (pitch, pulses, harmonicity, formants, intensity) are
 * computed once for the whole file; every summary — file, speaker,
 * segment, stress window, escalation window, contour point — is read from
 * them. A measure that cannot be computed is null with its reason
 * (voice_measures.c), never a stand-in. The rows of segments[] ("units")
 * and the speaker groups are built in analysis_segments.c, the stress
 * index and escalation zones in analysis_stress.c, the transcript's
 * speaker assignment in analysis_transcript.c, the contours in
 * analysis_contours.c.
 *
 * Memory: besides the input, the tracks of the vm_voice (about 0.5 MB per
 * audio minute kept, ~2.5 MB/min at the peak while they are computed;
 * docs/acoustics.md §5) and the contour JSON (2 values per 10 ms) live
 * until the function returns; the vm_voice is freed before returning.
 */
#include "analysis.h"

#include <math.h>
#include <string.h>

#include "analysis_impl.h"
#include "vm_alloc.h"
#include "vm_json.h"
#include "vm_time.h"

void vm_analysis_opts_default(vm_analysis_opts *o) {
  o->pitch_floor_hz = 75;
  o->pitch_ceiling_hz = 600;
  o->n_speakers = 0;
  o->transcript = NULL;
  o->vad = NULL;
}

void vm_analysis_deinit(vm_analysis *a) {
  if (!a) return;
  json_decref(a->vad);
  json_decref(a->diarization);
  json_decref(a->acoustic);
  json_decref(a->speakers);
  json_decref(a->segments);
  json_decref(a->escalation);
  json_decref(a->contours);
  vm_free(a->seg_stress);
  vm_free(a->seg_arousal);
  memset(a, 0, sizeof *a);
}

/* The whole-file "acoustic" object: voice measures plus the
 * timing facts of the VAD and the rates of the transcript. */
static json_t *acoustic_json(const vm__an_ctx *c) {
  const vm_vad_result *vad = c->vad;
  vm_voice_summary s;
  vm_forensic_voice_summary_get(c->voice, 0, 0, &s);
  json_t *o = vm_forensic_voice_summary_to_json(&s), *pauses = json_array();
  if (!o || !pauses) goto fail;
  int bad = 0;
  for (size_t i = 0; i < vad->n_pauses; i++)
    bad |= json_array_append_new(pauses, json_pack("{s:o,s:o}", "start",
                                 vm_json_real(vad->pauses[i].start_s), "duration",
                                 vm_json_real(vad->pauses[i].duration_s)));
  bad |= json_object_set_new(o, "speech_ratio", vm_json_real(vad->speech_ratio));
  bad |= json_object_set_new(o, "speech_s", vm_json_real(vad->speech_s));
  bad |= json_object_set_new(o, "pauses", pauses);
  pauses = NULL;
  bad |= json_object_set_new(o, "min_pause_s", vm_json_real(vad->min_pause_s));
  bad |= vm__analysis_rates_set(c, -2, o) != VM_OK;
  if (bad) goto fail;
  return o;
fail:
  json_decref(o), json_decref(pauses);
  return NULL;
}

/* Per transcript segment: stress index and arousal (score before
 * clamping), NAN where undefined. */
static int seg_scores(const vm__an_ctx *c, vm_analysis *out) {
  if (!c->transcript) return VM_OK;
  size_t n = c->n_units ? c->n_units : 1;
  out->seg_stress = vm_malloc(n * sizeof *out->seg_stress);
  out->seg_arousal = vm_malloc(n * sizeof *out->seg_arousal);
  if (!out->seg_stress || !out->seg_arousal) return VM_ENOMEM;
  out->n_seg = c->n_units;
  for (size_t i = 0; i < c->n_units; i++) {
    const vm__an_unit *u = &c->units[i];
    int ok = u->group >= 0 && !isnan(u->stress.index.value);
    out->seg_stress[i] = ok ? u->stress.index.value : NAN;
    out->seg_arousal[i] = ok ? u->stress.score : NAN;
  }
  return VM_OK;
}

static int voice_stage(const float *x, size_t n, int rate_hz, const vm_analysis_opts *o,
                       vm__an_ctx *c, vm_analysis *out, vm_err *err) {
  vm_voice_params p;
  vm_voice *v = NULL;
  vm_forensic_voice_params_init(&p);
  p.pitch_floor_hz = o->pitch_floor_hz;
  p.pitch_ceiling_hz = o->pitch_ceiling_hz;
  int rc = vm_forensic_voice_create(x, n, rate_hz, &p, &v, err);
  if (rc != VM_OK) return rc;
  c->voice = v;
  if ((rc = vm__analysis_units_build(c)) != VM_OK || (rc = vm__analysis_stress(c)) != VM_OK ||
      (rc = seg_scores(c, out)) != VM_OK)
    goto out;
  out->acoustic = acoustic_json(c);
  out->speakers = vm__analysis_speakers_json(c, out->diarization);
  out->segments = vm__analysis_segments_json(c);
  out->escalation = vm__analysis_escalation_json(c);
  out->contours = vm__analysis_contours_json(v, (double)n / rate_hz);
  if (!out->acoustic || !out->speakers || !out->segments || !out->escalation || !out->contours)
    rc = VM_ENOMEM;
out:
  vm__analysis_units_free(c);
  c->voice = NULL;
  vm_forensic_voice_destroy(v);
  if (rc) return vm_err_set(err, rc, "out of memory summarising the voice measures");
  return VM_OK;
}

static int diarize_stage(const float *x, size_t n, int rate_hz, const float *ch0,
                         const float *ch1, const vm_analysis_opts *opts,
                         const vm_vad_result *vad, vm_diar_result **d, vm_err *err) {
  vm_diar_input in = {.mono = x, .n_samples = n, .sample_rate_hz = rate_hz,
                      .channels = {ch0 && ch1 ? ch0 : NULL, ch0 && ch1 ? ch1 : NULL},
                      .regions = vad->regions, .n_regions = vad->n_regions};
  vm_diar_opts dopt;
  vm_diar_opts_default(&dopt);
  dopt.n_speakers = opts->n_speakers;
  int rc = vm_diarize(&in, &dopt, d);
  if (rc != VM_OK) return vm_err_set(err, rc, "diarization failed: %s", vm_strerror(rc));
  if (opts->transcript && (rc = vm__analysis_transcript_assign(opts->transcript, (*d)->turns,
                                                               (*d)->n_turns, vad)) != VM_OK)
    return vm_err_set(err, rc, "out of memory giving the transcript its speakers");
  return VM_OK;
}

int vm_analysis_run(const float *x, size_t n, int rate_hz, const float *ch0,
                    const float *ch1, const vm_analysis_opts *opts,
                    vm_analysis *out, vm_err *err) {
  vm_analysis_opts def;
  vm_vad_result *own_vad = NULL;
  const vm_vad_result *vad = NULL;
  vm_diar_result *d = NULL;
  int rc = VM_OK;
  memset(out, 0, sizeof *out);
  vm_analysis_opts_default(&def);
  if (!opts) opts = &def;
  if (rate_hz <= 0 || (!x && n))
    return vm_err_set(err, VM_EINVAL, "analysis: no signal (NULL samples or rate %d Hz)", rate_hz);
  for (size_t i = 0; i < n; i++) /* NaN would poison every track silently */
    if (!isfinite(x[i]))
      return vm_err_set(err, VM_EINVAL,
                        "analysis: the signal holds a non-finite sample (NaN or infinity) at "
                        "%.3f s (sample %zu)", (double)i / rate_hz, i);

  double t0 = vm_time_mono();
  if (opts->vad) {
    vad = opts->vad;
  } else if ((rc = vm_vad_run(x, n, rate_hz, NULL, &own_vad)) == VM_OK) {
    vad = own_vad;
  } else {
    vm_err_set(err, rc, "voice activity detection failed: %s", vm_strerror(rc));
    goto out;
  }
  out->vad = vm_vad_result_to_json(vad);
  out->vad_ms = (vm_time_mono() - t0) * 1e3;

  t0 = vm_time_mono();
  if ((rc = diarize_stage(x, n, rate_hz, ch0, ch1, opts, vad, &d, err)) != VM_OK) goto out;
  out->diarization = vm_diar_result_to_json(d);
  out->diarize_ms = (vm_time_mono() - t0) * 1e3;

  t0 = vm_time_mono();
  vm__an_ctx c = {.vad = vad, .diar = d, .transcript = opts->transcript};
  rc = voice_stage(x, n, rate_hz, opts, &c, out, err);
  out->voice_ms = (vm_time_mono() - t0) * 1e3;
  if (rc == VM_OK && (!out->vad || !out->diarization))
    rc = vm_err_set(err, VM_ENOMEM, "out of memory building the analysis");
out:
  vm_diar_result_destroy(d);
  vm_vad_result_destroy(own_vad);
  if (rc != VM_OK) vm_analysis_deinit(out);
  return rc;
}
