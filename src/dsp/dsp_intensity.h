/* dsp_intensity.h — intensity contour in dB (Praat "To Intensity").
 *
 * Per frame: the mean pressure is subtracted, the squared samples are
 * averaged under a Kaiser-Bessel-like window of 6.4 / min_pitch seconds
 * (I0((2 pi^2 + 0.5) sqrt(1 - x^2))), and the result is expressed in dB
 * relative to (2e-5)^2, taking full scale (1.0) as 1 Pa as Praat does:
 * a full-scale sine reads 90.97 dB. Frames every 0.8 / min_pitch s
 * (8 ms for the default 100 Hz), symmetric in the signal.
 *
 * Thread-safety: reentrant.
 */
#ifndef VM_DSP_INTENSITY_H
#define VM_DSP_INTENSITY_H

#include <stddef.h>

#include "vm_status.h"

typedef struct vm_intensity_track {
  size_t n_frames;
  double t0_s, dt_s; /* frame k at t0_s + k dt_s */
  float *db;         /* (n_frames); -300 for digital silence, as Praat */
} vm_intensity_track;

/* min_pitch_hz: Praat's "minimum pitch" (100 by default); time_step_s 0 =
 * 0.8 / min_pitch. A signal shorter than 6.4 / min_pitch gives an empty
 * track. OUT: *out (vm_dsp_intensity_destroy); NULL on failure. Returns
 * VM_OK, VM_EINVAL or VM_ENOMEM. */
int vm_dsp_intensity_create(const float *x, size_t n, int rate_hz,
                            double min_pitch_hz, double time_step_s,
                            vm_intensity_track **out, vm_err *err);
void vm_dsp_intensity_destroy(vm_intensity_track *t);

/* ---- module-internal: the same frames one at a time (streamed input) ----
 * vm_dsp_intensity_create is init + frame for k < n_frames + deinit. */
typedef struct vm__intensity_geom {
  long n;            /* samples of the whole signal */
  double dx;         /* 1 / rate */
  size_t n_frames;
  double t0_s, dt_s; /* frame k at t0_s + k dt_s */
  long halfn;        /* window half length, samples */
  double *w;         /* (2 halfn + 1) Kaiser-like window */
} vm__intensity_geom;
/* Returns VM_OK, VM_EINVAL or VM_ENOMEM (then g owns nothing). */
int vm__dsp_intensity_geom_init(vm__intensity_geom *g, size_t n, int rate_hz,
                                double min_pitch_hz, double time_step_s);
void vm__dsp_intensity_geom_deinit(vm__intensity_geom *g);
/* Samples [*lo, *hi) that frame k reads (inside [0, n)). */
void vm__dsp_intensity_frame_span(const vm__intensity_geom *g, size_t k, long *lo, long *hi);
/* dB of frame k; xb[i - x0] is sample i for every i of the frame's span. */
float vm__dsp_intensity_frame(const vm__intensity_geom *g, const float *xb, long x0, size_t k);

#endif /* VM_DSP_INTENSITY_H */
