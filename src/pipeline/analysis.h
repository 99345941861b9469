/* analysis.h — the signal analyses of one recording, shared by the
 * pipeline's analysis stage and `voiceman analyze`.
 *
 * On the normalised 16 kHz mono signal (and its two channels, when the
 * recording has them): voice activity (forensic/vad.h), speaker turns
 * (forensic/diarize.h; channel-per-party first, clustering otherwise), the
 * voice measures (forensic/voice_measures.h, tracks computed once per
 * file), the stress index against each speaker's own baseline
 * (voice_stress.h) and escalation zones (voice_escalation.h). Everything
 * is summarised for the whole file, for each speaker and for each segment,
 * as JSON objects ready for the result file (keys: docs/result-schema.md,
 * method: docs/acoustics.md).
 *
 * Segments are the diarization turns, or, when opts->transcript is given,
 * the transcript's segments: each segment without a speaker gets one from
 * the turns and is SPLIT where it spans a change of speaker (the split is
 * written into the transcript itself, so the reports print what was
 * analysed; rule in docs/acoustics.md §6); speakers already in the
 * transcript are kept. With a transcript, speech and articulation rates
 * are measured and feed the stress index.
 *
 * Usage:
 *   vm_analysis_opts o;
 *   vm_analysis_opts_default(&o);
 *   o.transcript = tr;                      // optional, may stay NULL
 *   vm_analysis a;
 *   if (vm_analysis_run(x, n, 16000, NULL, NULL, &o, &a, &err) != VM_OK) ...
 *   json_object_set(result, "segments", a.segments);   // borrowed
 *   ... a.seg_stress[i] belongs to tr->segments[i] ...
 *   vm_analysis_deinit(&a);
 *
 * Thread-safe: concurrent calls on different signals and transcripts. */
#ifndef VM_ANALYSIS_H
#define VM_ANALYSIS_H

#include <jansson.h>
#include <stddef.h>

#include "transcript.h"
#include "vad.h"
#include "vm_status.h"

typedef struct vm_analysis_opts {
  double pitch_floor_hz;    /* 75 (Praat's default) */
  double pitch_ceiling_hz;  /* 600 */
  int n_speakers;           /* 0 = estimate (1–4) */
  /* Borrowed, may be NULL. Modified by vm_analysis_run: segments without
   * a speaker get one ("SPEAKER_00", ...) and are split where they span
   * a change of speaker; segment pointers are invalidated. */
  vm_transcript *transcript;
  /* Borrowed, may be NULL: the voice activity of this very signal, found
   * by vm_vad_run with default options (e.g. for transcription's chunks),
   * used instead of running the detector again. */
  const vm_vad_result *vad;
} vm_analysis_opts;

void vm_analysis_opts_default(vm_analysis_opts *o);

typedef struct vm_analysis {
  json_t *vad;          /* speech regions, pauses, speech ratio, levels */
  json_t *diarization;  /* method, n_speakers, turns, speakers */
  json_t *acoustic;     /* whole-file measures + speech_ratio + pauses + rates */
  json_t *speakers;     /* per speaker: talk figures, acoustic, stress, rates */
  json_t *segments;     /* per turn or transcript segment: measures, stress */
  json_t *escalation;   /* {"scope", "zones": [...], "speakers": [baselines]} */
  json_t *contours;     /* {"step_s": 0.01, "f0_hz": [...], "intensity_db": [...]} */
  /* Per transcript segment (after splitting; index i = transcript segment
   * i), NULL without a transcript: the stress index 0–100 and the arousal,
   * i.e. the stress score before clamping (weighted mean of the signed
   * robust z-scores; 0 = the speaker's baseline, > 0 raised, < 0 calmer).
   * NAN where undefined. Owned; freed by vm_analysis_deinit. */
  double *seg_stress;   /* (n_seg) */
  double *seg_arousal;  /* (n_seg) */
  size_t n_seg;
  double vad_ms, diarize_ms, voice_ms;
} vm_analysis;

/* Runs every analysis on x (n samples at rate_hz, mono, normalised).
 * ch0/ch1: the two channels at the same rate and length, or NULL. opts may
 * be NULL (defaults, no transcript). On failure *out owns nothing (the
 * transcript may already be relabelled, never left half-split). Returns
 * VM_OK, VM_EINVAL, VM_ENOMEM with err set. */
int vm_analysis_run(const float *x, size_t n, int rate_hz, const float *ch0,
                    const float *ch1, const vm_analysis_opts *opts,
                    vm_analysis *out, vm_err *err);
void vm_analysis_deinit(vm_analysis *a);

#endif /* VM_ANALYSIS_H */
