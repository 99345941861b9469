/* analysis.h — the signal analyses of one recording, shared by the
 * pipeline's analysis stage and `voiceman analyze`.
 *
 * On the normalised 16 kHz mono signal (and its two channels, when the
 * recording has them): voice activity (forensic/vad.h), speaker turns
 * (forensic/diarize.h; channel-per-party first, clustering otherwise), and
 * the voice measures (forensic/voice_measures.h), computed once per file
 * and summarised for the whole file, for each speaker's turns together
 * and for each turn. Results are JSON objects ready for the result file.
 * Thread-safe: concurrent calls on different signals. */
#ifndef VM_ANALYSIS_H
#define VM_ANALYSIS_H

#include <jansson.h>
#include <stddef.h>

#include "vm_status.h"

typedef struct vm_analysis_opts {
  double pitch_floor_hz;    /* 75 (Praat's default) */
  double pitch_ceiling_hz;  /* 600 */
  int n_speakers;           /* 0 = estimate (1–4) */
} vm_analysis_opts;

void vm_analysis_opts_default(vm_analysis_opts *o);

typedef struct vm_analysis {
  json_t *vad;          /* speech regions, pauses, speech ratio, levels */
  json_t *diarization;  /* method, n_speakers, turns, speakers */
  json_t *acoustic;     /* whole-file measures + speech_ratio + pauses */
  json_t *speakers;     /* per speaker: talk figures + acoustic measures */
  json_t *segments;     /* per turn: start, end, speaker, main measures */
  double vad_ms, diarize_ms, voice_ms;
} vm_analysis;

/* Runs every analysis on x (n samples at rate_hz, mono, normalised).
 * ch0/ch1: the two channels at the same rate and length, or NULL. On
 * failure *out owns nothing. */
int vm_analysis_run(const float *x, size_t n, int rate_hz, const float *ch0,
                    const float *ch1, const vm_analysis_opts *opts,
                    vm_analysis *out, vm_err *err);
void vm_analysis_deinit(vm_analysis *a);

#endif /* VM_ANALYSIS_H */
