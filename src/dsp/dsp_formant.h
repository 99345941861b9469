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

/* Dense (vm_dsp_formant_create*): one row per frame. Sparse (the voice
 * measures): rows only for the frames that were analysed, located by a
 * bitmap and per-word row counts; every other frame has no formants.
 * Read values through vm_dsp_formant_get, which handles both. */
typedef struct vm_formant_track {
  size_t n_frames;
  double t0_s, dt_s;     /* frame k at t0_s + k dt_s (input time axis) */
  int n_kept;            /* formants stored per row: VM_FORMANT_MAX from
                          * vm_dsp_formant_create*, 3 in the voice measures */
  size_t n_rows;         /* rows stored (n_frames when dense) */
  float *freq_hz;        /* (n_rows, n_kept), NAN past the formants found */
  float *bw_hz;          /* (n_rows, n_kept), or NULL where not kept (voice measures) */
  unsigned long long *has_row; /* (n_frames / 64 + 1) sparse: bit k % 64 of word k / 64
                                * set if frame k has a row; NULL when dense */
  size_t *row_base;      /* (n_frames / 64 + 1) sparse: rows before word w */
  size_t rows_cap, next_word; /* sparse, while rows are added: rows allocated,
                               * first word whose row_base is not set yet */
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

/* Formant k (1-based: 1 = F1) of frame i, NAN if absent or not kept. */
double vm_dsp_formant_get(const vm_formant_track *t, size_t i, int k);

/* Module-internal: band-limited resampling by FFT in overlapping blocks
 * (memory O(block), not O(n)). OUT: *out_y (vm_free), *out_n =
 * round(n rate_out / rate_in). Praat's grid (Sound_resample): input
 * sample i at time (i + 0.5) / rate_in, output sample j at
 * x1 + j / rate_out with x1 = 0.5 (n / rate_in - (*out_n - 1) / rate_out),
 * i.e. centred in the input's time domain (at equal rates a copy). */
int vm__dsp_resample(const float *x, size_t n, int rate_in, int rate_out,
                     float **out_y, size_t *out_n);

/* ---- module-internal: the same frames one at a time (streamed input,
 * forensic/voice_stream.c); vm_dsp_formant_create_sparse is exactly
 * create + frame for each wanted k + destroy. Frames must be analysed in
 * increasing k; skipped frames cost nothing. ---- */
typedef struct vm__formant_stream vm__formant_stream;
/* Geometry for n input samples at rate_hz. Returns VM_OK, VM_EINVAL or
 * VM_ENOMEM. */
int vm__dsp_formant_stream_create(const vm_formant_params *p, size_t n, int rate_hz,
                                  vm__formant_stream **out);
void vm__dsp_formant_stream_destroy(vm__formant_stream *s);
void vm__dsp_formant_stream_geometry(const vm__formant_stream *s, size_t *n_frames,
                                     double *t0_s, double *dt_s);
/* Input samples [*lo, *hi) that analysing frame k (next) reads; *lo is
 * also the lowest input sample any later frame can read. */
void vm__dsp_formant_stream_span(const vm__formant_stream *s, size_t k, long *lo, long *hi);
/* Analyses frame k (xb[i - x0] = input sample i over its span): n_kept
 * frequencies into fq, bandwidths into bw unless NULL. */
void vm__dsp_formant_stream_frame(vm__formant_stream *s, const float *xb, long x0, size_t k,
                                  int n_kept, float *fq, float *bw);
/* A dense track of n_frames x n_kept NAN values (bandwidths if with_bw). */
int vm__dsp_formant_track_alloc(size_t n_frames, int n_kept, int with_bw, vm_formant_track **out);
/* A sparse track (no rows yet, no bandwidths). */
int vm__dsp_formant_track_alloc_sparse(size_t n_frames, int n_kept, vm_formant_track **out);
/* Sparse: adds an (all NAN) row for frame k, after every earlier row
 * (k increasing), and returns it; NULL on ENOMEM. May move freq_hz. */
float *vm__dsp_formant_track_add_row(vm_formant_track *t, size_t k);
/* Sparse: completes row_base and gives back the growth slack once all
 * rows are added (required before vm_dsp_formant_get). */
void vm__dsp_formant_track_shrink(vm_formant_track *t);

#endif /* VM_DSP_FORMANT_H */
