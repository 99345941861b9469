/* dsp_pitch.h — Praat-compatible periodicity (pitch) tracking.
 *
 * Implements Boersma (1993), "Accurate short-term analysis of the
 * fundamental frequency and the harmonics-to-noise ratio of a sampled
 * sound", as Praat's "To Pitch (ac)" does it: per frame, the local mean is
 * removed, the frame is Hann-windowed, its autocorrelation (via FFT) is
 * divided by the window's own autocorrelation, local maxima become
 * candidates (frequency by parabolic + sinc interpolation, strength =
 * normalised correlation), and a Viterbi path through the candidates,
 * with octave cost, octave-jump cost and voiced/unvoiced cost, picks one
 * candidate (or "unvoiced") per frame. The same engine with
 * VM_PITCH_CC (forward cross-correlation, no window) is Praat's
 * "To Pitch (cc)", which dsp_hnr.c uses for harmonicity.
 *
 * Time convention (same as Praat for a sound read from a file): sample i
 * (0-based) sits at t = (i + 0.5) / rate_hz; the signal spans [0, n/rate).
 * Frames are centred symmetrically in that span (Praat's
 * Sampled_shortTermAnalysis), so frame k is at t0_s + k * dt_s.
 *
 * Not here: jitter/shimmer (dsp_voice_quality), glottal pulses
 * (dsp_pointprocess), statistics over a time range (forensic/voice_measures).
 *
 * Thread-safety: every function is reentrant; FFTW planning inside is
 * serialised on the process-wide FFTW planner lock of dsp_fft.h (see vm__dsp_rfft_init).
 */
#ifndef VM_DSP_PITCH_H
#define VM_DSP_PITCH_H

#include <stddef.h>

#include "vm_status.h"

enum vm_pitch_method {
  VM_PITCH_AC = 0, /* Hann-windowed autocorrelation ("To Pitch (ac)") */
  VM_PITCH_CC = 1, /* forward cross-correlation, accurate ("(cc)", 700-point sinc) */
};

typedef struct vm_pitch_params {
  enum vm_pitch_method method;
  double floor_hz;             /* minimum pitch (Praat "pitch floor"), default 75 */
  double ceiling_hz;           /* maximum pitch, default 600 (clipped to Nyquist) */
  double time_step_s;          /* 0 = Praat default: periods_per_window/floor/4 */
  double periods_per_window;   /* 3.0 for ac, 1.0 for harmonicity cc */
  int max_candidates;          /* 15 */
  double silence_threshold;    /* 0.03 (fraction of global peak) */
  double voicing_threshold;    /* 0.45 */
  double octave_cost;          /* 0.01 per octave */
  double octave_jump_cost;     /* 0.35 */
  double voiced_unvoiced_cost; /* 0.14 */
} vm_pitch_params;

/* Fills p with Praat's "To Pitch (ac)" defaults (floor 75, ceiling 600). */
void vm_dsp_pitch_params_init(vm_pitch_params *p);

/* A pitch track: one value per frame. Arrays are (n_frames). */
typedef struct vm_pitch_track {
  size_t n_frames;
  double t0_s;        /* centre of frame 0 */
  double dt_s;        /* frame step */
  double ceiling_hz;  /* frames with f0 >= ceiling count as unvoiced */
  double duration_s;  /* n / rate of the analysed signal */
  float *f0_hz;       /* 0 = unvoiced */
  float *strength;    /* correlation of the chosen candidate (0..1); 0 if unvoiced;
                       * NULL in the voice measures' compact track */
  float *intensity;   /* local peak / global peak (0..1), Praat's frame intensity;
                       * NULL in the voice measures' compact track */
} vm_pitch_track;

/* Analyses x (n samples at rate_hz). A signal shorter than one analysis
 * window (3/floor s for ac) gives a track with n_frames == 0, not an error.
 * OUT: *out, owned by the caller (vm_dsp_pitch_destroy); NULL on failure.
 * Returns VM_OK, VM_EINVAL (bad parameters) or VM_ENOMEM. */
int vm_dsp_pitch_create(const float *x, size_t n, int rate_hz,
                        const vm_pitch_params *p, vm_pitch_track **out,
                        vm_err *err);
/* Frees t (NULL is fine). */
void vm_dsp_pitch_destroy(vm_pitch_track *t);

/* F0 at time t_s with Praat's linear interpolation between frame centres
 * (Pitch_getValueAtTime, "linear"); NAN where unvoiced or outside. */
double vm_dsp_pitch_get_value(const vm_pitch_track *t, double t_s);
/* 1 if frame i is voiced (0 < f0 < ceiling). */
int vm_dsp_pitch_is_voiced(const vm_pitch_track *t, size_t i);

/* ---- module-internal: streamed pitch (forensic/voice_stream.c) ----
 * The same analysis frame by frame on a signal that arrives in blocks.
 * The caller knows the whole length n and the global level (Praat
 * normalises frame intensities by the global peak), pushes frames in
 * order with the samples of each frame's span at hand, and receives
 * every frame once through emit, as soon as it is final. Memory is
 * O(max_lag_s / dt * max_candidates), whatever n.
 * Viterbi (ac): frames become final as soon as all surviving paths agree
 * on them, which gives exactly the whole-file path; if they have not
 * agreed for max_lag_s, the older half of the undecided frames follow the
 * best path so far (vm__dsp_pitch_stream_n_forced counts such frames; 0
 * means the result equals vm_dsp_pitch_create's). Zero costs (harmonicity):
 * each frame is final at once. */
typedef struct vm__pitch_stream vm__pitch_stream;
/* Frame i is final: f0_hz (0 = unvoiced) and the chosen strength. */
typedef void (*vm__pitch_emit_fn)(void *user, size_t i, float f0_hz, float strength);
/* n: samples of the whole signal; global_peak: max |x - mean| over the
 * whole signal, mean = (double sum of x) / n (what vm_dsp_pitch_create
 * computes). emit(user, ...) receives each frame once. Returns VM_OK,
 * VM_EINVAL or VM_ENOMEM. */
int vm__dsp_pitch_stream_create(const vm_pitch_params *p, int rate_hz, size_t n,
                                double global_peak, double max_lag_s, vm__pitch_emit_fn emit,
                                void *user, vm__pitch_stream **out);
void vm__dsp_pitch_stream_destroy(vm__pitch_stream *s);
/* OUT: the frame grid (same as vm_dsp_pitch_create's on n samples). */
void vm__dsp_pitch_stream_geometry(const vm__pitch_stream *s, size_t *n_frames, double *t0_s,
                                   double *dt_s, double *ceiling_hz);
/* Samples [*lo, *hi) that frame i reads (clipped to [0, n)). */
void vm__dsp_pitch_stream_span(const vm__pitch_stream *s, size_t i, long *lo, long *hi);
/* Analyses frame vm__dsp_pitch_stream_next(s); xb[j - x0] must be sample
 * j for every j of its span. Emits the frames that became final. Returns
 * VM_OK, or VM_EINVAL after the last frame. */
int vm__dsp_pitch_stream_push(vm__pitch_stream *s, const float *xb, long x0);
size_t vm__dsp_pitch_stream_next(const vm__pitch_stream *s);
/* Frames [0, n_final) have been emitted. */
size_t vm__dsp_pitch_stream_n_final(const vm__pitch_stream *s);
size_t vm__dsp_pitch_stream_n_forced(const vm__pitch_stream *s);
/* After the last push: emits the remaining frames (best final path). */
void vm__dsp_pitch_stream_finish(vm__pitch_stream *s);

/* ---- module-internal helpers shared by dsp_pitch/hnr/formant ---- */

/* A real FFT of size n with its inverse, on buffers it owns. */
typedef struct vm__rfft {
  int n;
  float *buf;   /* (n) time domain; input of forward, output of inverse */
  void *spec;   /* (n/2+1) fftwf_complex */
  void *fwd;    /* fftwf_plan buf -> spec */
  void *inv;    /* fftwf_plan spec -> buf (unnormalised) */
} vm__rfft;
/* Plans under the process-wide FFTW planner lock. Returns VM_OK/VM_ENOMEM. */
int vm__dsp_rfft_init(vm__rfft *f, int n);
void vm__dsp_rfft_deinit(vm__rfft *f);
void vm__dsp_rfft_forward(vm__rfft *f);
void vm__dsp_rfft_inverse(vm__rfft *f);

/* Praat-compatible windowed-sinc interpolation of y[1..size] (1-based, as
 * Praat's NUM_interpolate_sinc) at real index x with the given depth. */
double vm__dsp_interpolate_sinc(const double *y1, long size, double x,
                                long max_depth);
/* Brent maximisation of the sinc-interpolated y1 around integer ixmid,
 * in [ixmid-1, ixmid+1]. OUT: *out_x. Returns the maximum. */
double vm__dsp_improve_maximum(const double *y1, long size, long ixmid,
                               long depth, double *out_x);

#endif /* VM_DSP_PITCH_H */
