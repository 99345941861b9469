/* dsp_hnr.h — harmonics-to-noise ratio track (Praat "To Harmonicity (cc)").
 *
 * Per 10 ms frame: the best normalised cross-correlation r of a one-period
 * window (minimum pitch 75 Hz) with its shifted copies, with no
 * octave or transition costs and a silence threshold of 0.1 of the global
 * peak; HNR = 10 log10(r / (1 - r)) dB. Praat writes -200 dB into frames
 * it finds unvoiced or silent; here those frames are NAN, so that no
 * average can ever include them (the original system's HNR-to-0-dB bug).
 *
 * Thread-safety: reentrant.
 */
#ifndef VM_DSP_HNR_H
#define VM_DSP_HNR_H

#include <stddef.h>

#include "dsp_pitch.h"
#include "vm_status.h"

typedef struct vm_hnr_params {
  double time_step_s;        /* 0.01 */
  double min_pitch_hz;       /* 75 */
  double silence_threshold;  /* 0.1 */
  double periods_per_window; /* 1.0 */
} vm_hnr_params;

void vm_dsp_hnr_params_init(vm_hnr_params *p);

typedef struct vm_hnr_track {
  size_t n_frames;
  double t0_s, dt_s;  /* frame k at t0_s + k dt_s */
  float *hnr_db;      /* (n_frames) NAN where unvoiced/silent */
} vm_hnr_track;

/* OUT: *out, owned by the caller (vm_dsp_hnr_destroy); NULL on failure.
 * A signal shorter than 2 / min_pitch gives an empty track. Returns VM_OK,
 * VM_EINVAL or VM_ENOMEM. */
int vm_dsp_hnr_create(const float *x, size_t n, int rate_hz,
                      const vm_hnr_params *p, vm_hnr_track **out, vm_err *err);
void vm_dsp_hnr_destroy(vm_hnr_track *h);

/* ---- module-internal (streamed harmonicity, forensic/voice_stream.c) ---- */
/* The cc pitch parameters harmonicity runs with. OUT: *out. */
void vm__dsp_hnr_pitch_params(const vm_hnr_params *p, int rate_hz, vm_pitch_params *out);
/* HNR in dB of a cc frame (NAN where f0_hz <= 0, i.e. unvoiced). */
float vm__dsp_hnr_db(float f0_hz, float strength);

#endif /* VM_DSP_HNR_H */
