/* dsp_formant.h — formant track by Burg LPC (Praat "To Formant (burg)").
 *
 * As Praat: the signal is resampled to twice the maximum formant
 * (2 x 5500 = 11000 Hz, on Praat's sample grid; band-limited, so 8 kHz
 * telephone audio keeps its 4 kHz band), pre-emphasised from 50 Hz
 * (x[i] -= exp(-2 pi 50 / fs) x[i-1]), cut into Gaussian-windowed
 * frames of twice the "window length" (0.025 s -> 50 ms physical) every
 * window/4 s (6.25 ms), and each frame gets a Burg LPC of order
 * 2 x max_formants (10). Roots of the predictor polynomial, reflected
 * into the unit circle, give frequencies (angle) and bandwidths
 * (-ln|z|^2 fs / 2 pi); those within 50 Hz of 0 or Nyquist are dropped,
 * the rest sorted: F1 is the lowest remaining.
 *
 * Formants need bandwidth, not the 16 kHz pipeline rate: any rate >= 11
 * kHz gives the same analysis; lower rates simply have no energy above
 * their Nyquist (F3 of 8 kHz audio is often missing or unreliable).
 *
 * Thread-safety: reentrant.
 */
#ifndef VM_DSP_FORMANT_H
#define VM_DSP_FORMANT_H

#include <stddef.h>

#include "vm_status.h"

#define VM_FORMANT_MAX 5

typedef struct vm_formant_params {
  int max_formants;           /* 5 (LPC order 10) */
  double max_formant_hz;      /* 5500 */
  double window_s;            /* 0.025 (Praat's half window) */
  double time_step_s;         /* 0 = window_s / 4 */
  double preemphasis_from_hz; /* 50 */
} vm_formant_params;

void vm_dsp_formant_params_init(vm_formant_params *p);

typedef struct vm_formant_track {
  size_t n_frames;
  double t0_s, dt_s;     /* frame k at t0_s + k dt_s (input time axis) */
  unsigned char *n_formants;  /* (n_frames) formants found, 0..max */
  float *freq_hz;        /* (n_frames, VM_FORMANT_MAX), NAN past n_formants */
  float *bw_hz;          /* (n_frames, VM_FORMANT_MAX) */
} vm_formant_track;

/* OUT: *out (vm_dsp_formant_destroy); NULL on failure. Returns VM_OK,
 * VM_EINVAL or VM_ENOMEM. */
int vm_dsp_formant_create(const float *x, size_t n, int rate_hz,
                          const vm_formant_params *p, vm_formant_track **out,
                          vm_err *err);
void vm_dsp_formant_destroy(vm_formant_track *t);

/* Decides per frame (centre t_s on the input time axis) whether its
 * formants are wanted; non-zero = analyse. */
typedef int (*vm_formant_want_fn)(void *arg, double t_s);

/* As vm_dsp_formant_create, but frames for which want(want_arg, t) is 0
 * are not analysed: they read as "no formants" (n_formants 0, NAN). The
 * frame grid and every analysed frame are identical to the full track.
 * The voice measures pass "the pitch track is voiced here", since
 * formants of silence and fricatives are LPC noise that no summary uses;
 * that skips 40-70 % of the Burg and root work on calls. want NULL =
 * every frame. */
int vm_dsp_formant_create_sparse(const float *x, size_t n, int rate_hz,
                                 const vm_formant_params *p,
                                 vm_formant_want_fn want, void *want_arg,
                                 vm_formant_track **out, vm_err *err);

/* Formant k (1-based: 1 = F1) of frame i, NAN if absent. */
double vm_dsp_formant_get(const vm_formant_track *t, size_t i, int k);

/* Module-internal: band-limited resampling by FFT in overlapping blocks
 * (memory O(block), not O(n)). OUT: *out_y (vm_free), *out_n =
 * round(n rate_out / rate_in). Praat's grid (Sound_resample): input
 * sample i at time (i + 0.5) / rate_in, output sample j at
 * x1 + j / rate_out with x1 = 0.5 (n / rate_in - (*out_n - 1) / rate_out),
 * i.e. centred in the input's time domain (at equal rates a copy). */
int vm__dsp_resample(const float *x, size_t n, int rate_in, int rate_out,
                     float **out_y, size_t *out_n);

#endif /* VM_DSP_FORMANT_H */
