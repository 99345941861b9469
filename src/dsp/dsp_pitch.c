/* dsp_pitch.c — Praat-compatible pitch tracking (Boersma 1993).
 *
 * DESIGN
 * One pass over frames fills a candidate table (n_frames x max_candidates:
 * frequency, strength); a Viterbi pass then picks a path. Per frame:
 *   ac: subtract the local mean (one longest period each side), Hann
 *       window, zero-pad to a power of two >= 1.5 windows, |FFT|^2, inverse
 *       FFT = autocorrelation; divide by r(0) and by the window's own
 *       normalised autocorrelation (computed once with the same FFT size).
 *   cc: correlation of the first window-length of a (period + window)
 *       span with its shifted copies, normalised by both energies; the
 *       products come from one FFT cross-correlation per frame instead of
 *       Praat's O(window x lags) loop, so harmonicity costs about as much
 *       as ac pitch.
 * Maxima of r above voicing_threshold/2 become candidates: parabolic
 * interpolation for a first lag, 30-point sinc for the first strength,
 * then Brent maximisation of the 70-point (700 for cc) sinc interpolant.
 * Strengths above 1 (short-window artefacts) are reflected (1/r), as
 * Praat does. Numerical choices follow Praat 6 so that results agree to a
 * fraction of a percent; the code is our own.
 *
 * Memory: O(n_frames * max_candidates) for the table; per-frame scratch is
 * allocated once per call. This whole-file form is the reference; the
 * streamed form at the end of the file (vm__dsp_pitch_stream_*) runs the
 * same frame code on a window of the signal and a fixed-lag Viterbi over
 * a ring of frames, O(max_lag * max_candidates) whatever n.
 */
#include "dsp_pitch.h"

#include <fftw3.h>
#include <math.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
/* [p[1], p[0]]: the pair at p in reverse order (the left side of the
 * sinc walks downwards). */
static inline __m128d load_pair_reversed(const double *p) {
  __m128d v = _mm_loadu_pd(p);
  return _mm_shuffle_pd(v, v, 1);
}
#endif

#include "dsp_fft.h"
#include "vm_alloc.h"

/* Brent's x tolerance in lags (see vm__dsp_improve_maximum). */
#define VM_PITCH_BRENT_TOL 1e-6

/* Hard cap on candidates per frame (harmonicity at 48 kHz asks for 320). */
#define VM_PITCH_MAX_CAND 512

/* FFTW's planner is not thread-safe; plan create/destroy go through the
 * process-wide planner lock of dsp_fft.c. */

int vm__dsp_rfft_init(vm__rfft *f, int n) {
  memset(f, 0, sizeof *f);
  f->n = n;
  f->buf = fftwf_alloc_real((size_t)n);
  f->spec = fftwf_alloc_complex((size_t)n / 2 + 1);
  if (!f->buf || !f->spec) goto fail;
  vm_dsp_fftw_planner_lock();
  f->fwd = fftwf_plan_dft_r2c_1d(n, f->buf, f->spec, FFTW_ESTIMATE);
  f->inv = fftwf_plan_dft_c2r_1d(n, f->spec, f->buf, FFTW_ESTIMATE);
  vm_dsp_fftw_planner_unlock();
  if (!f->fwd || !f->inv) goto fail;
  return VM_OK;
fail:
  vm__dsp_rfft_deinit(f);
  return VM_ENOMEM;
}

void vm__dsp_rfft_deinit(vm__rfft *f) {
  if (f->fwd || f->inv) {
    vm_dsp_fftw_planner_lock();
    if (f->fwd) fftwf_destroy_plan(f->fwd);
    if (f->inv) fftwf_destroy_plan(f->inv);
    vm_dsp_fftw_planner_unlock();
  }
  if (f->buf) fftwf_free(f->buf);
  if (f->spec) fftwf_free(f->spec);
  memset(f, 0, sizeof *f);
}

void vm__dsp_rfft_forward(vm__rfft *f) { fftwf_execute(f->fwd); }
void vm__dsp_rfft_inverse(vm__rfft *f) { fftwf_execute(f->inv); }

/* ---------------------------------------------------------------- sinc */

/* cos(t) for the small window angles of the sinc (|t| <= 0.4 rad for
 * depths >= 30): Taylor series to t^14, whose next term is < 2e-20, so
 * the result is as exact as libm's and four times cheaper. Larger angles
 * (depths 2..~25) go to libm. */
static double cos_small(double t) {
  if (!(fabs(t) <= 0.4)) return cos(t);
  double u = t * t;
  return 1.0 + u * (-1.0 / 2 + u * (1.0 / 24 + u * (-1.0 / 720 + u * (1.0 / 40320 +
         u * (-1.0 / 3628800 + u * (1.0 / 479001600 + u * (-1.0 / 87178291200.0)))))));
}

/* One side of the windowed sinc sum, sum over k = 0..K-1 of
 *   (-1)^k y[k * step] (1 + cos(w0 + k dw)) / (a0 + k pi),
 * with step = -1 (left) or +1 (right). Terms go in pairs (even, odd)
 * (SSE2: one vector division; otherwise 1/u - 1/v as (v - u)/(u v) with
 * their weights), and the window cosines
 * come from two interleaved Chebyshev recurrences
 * c(k+2) = 2 cos(2 dw) c(k) - c(k-2), so the loop has no sin/cos. Error
 * growth of the recurrence is ~ k eps / sin(2 dw) < 1e-11 for the deepest
 * (700-point) interpolation, far below the float the strengths are
 * stored in. (Four terms per division measured slower.) */
#if defined(__SSE2__)
/* SSE2: lane 0 carries the even terms, lane 1 the odd ones; one divpd
 * per pair, the Chebyshev step as one vector multiply-subtract. */
static double sinc_side(const double *y, long step, long K, double a0, double w0, double dw) {
  __m128d c2 = _mm_set1_pd(2.0 * cos_small(2.0 * dw));
  __m128d c = _mm_set_pd(cos_small(w0 + dw), cos_small(w0));               /* c(1), c(0) */
  __m128d cm = _mm_set_pd(cos_small(w0 - dw), cos_small(w0 - 2.0 * dw));   /* c(-1), c(-2) */
  __m128d u = _mm_set_pd(a0 + M_PI, a0), two_pi = _mm_set1_pd(2.0 * M_PI), one = _mm_set1_pd(1.0);
  __m128d acc = _mm_setzero_pd();
  long k = 0;
  for (; k + 1 < K; k += 2) {
    __m128d yy = step > 0 ? _mm_loadu_pd(y + k) : load_pair_reversed(y - k - 1);
    acc = _mm_add_pd(acc, _mm_div_pd(_mm_mul_pd(yy, _mm_add_pd(one, c)), u));
    __m128d nc = _mm_sub_pd(_mm_mul_pd(c2, c), cm);
    cm = c, c = nc;
    u = _mm_add_pd(u, two_pi);
  }
  double lanes[2], cc[2], uu[2];
  _mm_storeu_pd(lanes, acc), _mm_storeu_pd(cc, c), _mm_storeu_pd(uu, u);
  double sum = lanes[0] - lanes[1];
  if (k < K) sum += y[k * step] * (1.0 + cc[0]) / uu[0];
  return sum;
}
#else
static double sinc_side(const double *y, long step, long K, double a0, double w0, double dw) {
  double c2 = 2.0 * cos_small(2.0 * dw);
  double ce = cos_small(w0), co = cos_small(w0 + dw);              /* c(0), c(1) */
  double cem = cos_small(w0 - 2.0 * dw), com = cos_small(w0 - dw); /* c(-2), c(-1) */
  double sum = 0.0, u = a0;
  long k = 0;
  for (; k + 1 < K; k += 2) {
    double v = u + M_PI;
    double te = y[k * step] * (1.0 + ce), to = y[(k + 1) * step] * (1.0 + co);
    sum += (te * v - to * u) / (u * v);
    double ne = c2 * ce - cem, no = c2 * co - com;
    cem = ce, ce = ne, com = co, co = no;
    u = v + M_PI;
  }
  if (k < K) sum += y[k * step] * (1.0 + ce) / u;
  return sum;
}
#endif

/* Same numbers as Praat's NUM_interpolate_sinc (to ~1e-13 relative; the
 * straightforward loop is kept as the reference in test_dsp_pitch.c). */
double vm__dsp_interpolate_sinc(const double *y1, long size, double x,
                                long max_depth) {
  if (size < 1) return NAN;
  if (x < 1) return y1[1];
  if (x > size) return y1[size];
  long midleft = (long)floor(x), midright = midleft + 1;
  if (x == midleft) return y1[midleft];
  if (max_depth > midright - 1) max_depth = midright - 1;
  if (max_depth > size - midleft) max_depth = size - midleft;
  if (max_depth <= 0) return y1[(long)floor(x + 0.5)];
  if (max_depth == 1) return y1[midleft] + (x - midleft) * (y1[midright] - y1[midleft]);
  /* windowed sinc: sinc(pi d) * 0.5 (1 + cos(pi d / span)) on each side;
   * sin(a + k pi) = (-1)^k sin(a), and sin(pi (midright - x)) = sin(a). */
  long left = midright - max_depth, right = midleft + max_depth;
  double a = M_PI * (x - midleft), b = M_PI * (midright - x);
  double sl = x - left + 1.0, sr = right - x + 1.0;
  double l = sinc_side(y1 + midleft, -1, midleft - left + 1, a, a / sl, M_PI / sl);
  double r = sinc_side(y1 + midright, 1, right - midright + 1, b, b / sr, M_PI / sr);
  return 0.5 * sin(a) * (l + r);
}

/* Brent's method (golden section + parabolic steps) minimising
 * -interp(x) on [a, b] from x0 in (a, b); tolerance tol in x. */
static double brent_maximise(const double *y1, long size, long depth, double a,
                             double b, double x0, double tol, double *out_x) {
  const double golden = 0.3819660112501051;
  double x = x0, w = x, v = x;
  double fx = -vm__dsp_interpolate_sinc(y1, size, x, depth), fw = fx, fv = fx;
  double d = 0.0, e = 0.0;
  for (int iter = 0; iter < 60; iter++) {
    double xm = 0.5 * (a + b);
    double tol1 = 1e-12 * fabs(x) + tol / 3, tol2 = 2.0 * tol1;
    if (fabs(x - xm) <= tol2 - 0.5 * (b - a)) break;
    int golden_step = 1;
    if (fabs(e) > tol1) {
      double r = (x - w) * (fx - fv), q = (x - v) * (fx - fw);
      double p = (x - v) * q - (x - w) * r;
      q = 2.0 * (q - r);
      if (q > 0.0) p = -p;
      q = fabs(q);
      double etemp = e;
      e = d;
      if (!(fabs(p) >= fabs(0.5 * q * etemp) || p <= q * (a - x) || p >= q * (b - x))) {
        d = p / q;
        double u = x + d;
        if (u - a < tol2 || b - u < tol2) d = xm >= x ? tol1 : -tol1;
        golden_step = 0;
      }
    }
    if (golden_step) {
      e = x >= xm ? a - x : b - x;
      d = golden * e;
    }
    double u = fabs(d) >= tol1 ? x + d : x + (d > 0 ? tol1 : -tol1);
    double fu = -vm__dsp_interpolate_sinc(y1, size, u, depth);
    if (fu <= fx) {
      if (u >= x) a = x; else b = x;
      v = w, fv = fw, w = x, fw = fx, x = u, fx = fu;
    } else {
      if (u < x) a = u; else b = u;
      if (fu <= fw || w == x) {
        v = w, fv = fw, w = u, fw = fu;
      } else if (fu <= fv || v == x || v == w) {
        v = u, fv = fu;
      }
    }
  }
  *out_x = x;
  return -fx;
}

double vm__dsp_improve_maximum(const double *y1, long size, long ixmid,
                               long depth, double *out_x) {
  if (ixmid <= 1) { *out_x = 1; return y1[1]; }
  if (ixmid >= size) { *out_x = (double)size; return y1[size]; }
  /* x tolerance 1e-6 lag: the peak value is then exact to ~1e-13 and the
   * frequency to < 4e-8 relative (lags >= 26 samples at 16 kHz), both
   * below the float the track stores; it takes about 60 % of the
   * evaluations of Praat's 1e-10 */
  return brent_maximise(y1, size, depth, ixmid - 1.0, ixmid + 1.0, ixmid - 1.0 + 0.3819660112501051 * 2.0,
                        VM_PITCH_BRENT_TOL, out_x);
}

/* As vm__dsp_improve_maximum, but Brent starts from x0 (the parabolic
 * estimate of the peak) instead of the golden-section point: same
 * bracket [ixmid - 1, ixmid + 1] and tolerance, so the same maximum to
 * the tolerance, in slightly fewer evaluations. */
static double improve_maximum_from(const double *y1, long size, long ixmid, long depth,
                                   double x0, double *out_x) {
  if (ixmid <= 1) { *out_x = 1; return y1[1]; }
  if (ixmid >= size) { *out_x = (double)size; return y1[size]; }
  double a = ixmid - 1.0, b = ixmid + 1.0;
  if (!(x0 > a + 1e-3 && x0 < b - 1e-3)) x0 = a + 0.3819660112501051 * 2.0;
  return brent_maximise(y1, size, depth, a, b, x0, VM_PITCH_BRENT_TOL, out_x);
}

/* ---------------------------------------------------------------- pitch */

void vm_dsp_pitch_params_init(vm_pitch_params *p) {
  p->method = VM_PITCH_AC;
  p->floor_hz = 75.0;
  p->ceiling_hz = 600.0;
  p->time_step_s = 0.0;
  p->periods_per_window = 3.0;
  p->max_candidates = 15;
  p->silence_threshold = 0.03;
  p->voicing_threshold = 0.45;
  p->octave_cost = 0.01;
  p->octave_jump_cost = 0.35;
  p->voiced_unvoiced_cost = 0.14;
}

/* Analysis geometry and scratch shared by all frames of one call. */
typedef struct pitch_ctx {
  const float *x;       /* x[i - x0] is sample i (a window of the signal when streamed) */
  long x0;
  long nx;              /* samples of the whole signal */
  double dx;            /* 1 / rate */
  const vm_pitch_params *p;
  double ceiling;       /* clipped to Nyquist */
  int max_cand;         /* including the unvoiced slot */
  long nsamp_window, half_window, nsamp_period, half_period;
  long maximum_lag, brent_ixmax, nfft;
  long brent_depth;     /* 70 or 700 */
  double dt_window, global_peak;
  int prune;            /* cc with zero costs: only the best candidate matters */
  double *window;       /* (nsamp_window) Hann */
  double *window_r;     /* (brent_ixmax+1) normalised window autocorrelation */
  double *rbuf;         /* (2 brent_ixmax + 1): r[-ixmax .. ixmax] */
  double *frame;        /* (nsamp_window) mean-removed samples */
  double *prefix2;      /* (nsamp_window + maximum_lag + 2) cc energy prefix sums */
  long *imax;           /* (max_cand) lag of each candidate */
  void *xspec;          /* (nfft/2+1) fftwf_complex, cc: spectrum of the first window */
  vm__rfft fft;
  /* candidate table: (n_frames, max_cand) */
  float *cand_f, *cand_s;
  int *n_cand;
} pitch_ctx;

/* Praat's frame intensity and the mean-removed (windowed for ac) frame. */
static void frame_prepare(pitch_ctx *c, double t, double *out_intensity,
                          double *out_mean) {
  long left = (long)floor((t - 0.5 * c->dx) / c->dx); /* 0-based low index */
  long right = left + 1;
  double mean = 0.0;
  long s0 = right - c->nsamp_period, s1 = left + c->nsamp_period;
  for (long i = s0; i <= s1; i++) mean += (i >= 0 && i < c->nx) ? c->x[i - c->x0] : 0.0;
  mean /= 2.0 * (double)c->nsamp_period;
  long start = right - c->half_window;
  for (long j = 0; j < c->nsamp_window; j++) {
    long i = start + j;
    double v = (i >= 0 && i < c->nx) ? c->x[i - c->x0] - mean : 0.0;
    c->frame[j] = c->p->method == VM_PITCH_AC ? v * c->window[j] : v;
  }
  long j0 = c->half_window - c->half_period, j1 = c->half_window + c->half_period - 1;
  if (j0 < 0) j0 = 0;
  if (j1 > c->nsamp_window - 1) j1 = c->nsamp_window - 1;
  double peak = 0.0;
  for (long j = j0; j <= j1; j++) if (fabs(c->frame[j]) > peak) peak = fabs(c->frame[j]);
  *out_intensity = peak > c->global_peak ? 1.0 : peak / c->global_peak;
  *out_mean = mean;
}

/* ac: r[lag] for lag = 1..brent_ixmax from the windowed frame. */
static void frame_correlate_ac(pitch_ctx *c, double *r) {
  vm__rfft *f = &c->fft;
  for (long j = 0; j < c->nfft; j++) f->buf[j] = j < c->nsamp_window ? (float)c->frame[j] : 0.0f;
  vm__dsp_rfft_forward(f);
  fftwf_complex *s = f->spec;
  for (long k = 0; k <= c->nfft / 2; k++) {
    s[k][0] = s[k][0] * s[k][0] + s[k][1] * s[k][1];
    s[k][1] = 0.0f;
  }
  vm__dsp_rfft_inverse(f);
  double r0 = f->buf[0];
  r[0] = 1.0;
  for (long i = 1; i <= c->brent_ixmax; i++)
    r[i] = r[-i] = r0 > 0 ? f->buf[i] / (r0 * c->window_r[i]) : 0.0;
}

/* cc: normalised cross-correlation of the first window with its shifts. */
static void frame_correlate_cc(pitch_ctx *c, double t, double mean, double *r) {
  vm__rfft *f = &c->fft;
  long w = c->nsamp_window;
  double start_time = t - 0.5 * (1.0 / c->p->floor_hz + c->dt_window);
  long start = (long)floor((start_time - 0.5 * c->dx) / c->dx);
  if (start < 0) start = 0;
  long span = c->maximum_lag + w;
  if (span > c->nx - start) span = c->nx - start;
  long max_lag = span - w;
  const float *xs0 = c->x + (start - c->x0); /* sample start */
  double *p2 = c->prefix2;
  p2[0] = 0.0;
  for (long i = 0; i < span; i++) {
    double v = xs0[i] - mean;
    p2[i + 1] = p2[i] + v * v;
  }
  /* X = FFT(first window), Y = FFT(whole span); corr = IFFT(conj(X) Y) */
  fftwf_complex *s = f->spec;
  for (long j = 0; j < c->nfft; j++) f->buf[j] = j < w ? (float)(xs0[j] - mean) : 0.0f;
  vm__dsp_rfft_forward(f);
  long nb = c->nfft / 2 + 1;
  fftwf_complex *xs = c->xspec;
  memcpy(xs, s, sizeof(fftwf_complex) * (size_t)nb);
  for (long j = 0; j < c->nfft; j++) f->buf[j] = j < span ? (float)(xs0[j] - mean) : 0.0f;
  vm__dsp_rfft_forward(f);
  for (long k = 0; k < nb; k++) {
    float re = xs[k][0] * s[k][0] + xs[k][1] * s[k][1];
    float im = xs[k][0] * s[k][1] - xs[k][1] * s[k][0];
    s[k][0] = re, s[k][1] = im;
  }
  vm__dsp_rfft_inverse(f);
  double sumx2 = p2[w];
  r[0] = 1.0;
  for (long i = 1; i <= c->brent_ixmax; i++) {
    double v = 0.0;
    if (i <= max_lag) {
      double sumy2 = p2[i + w] - p2[i];
      double prod = f->buf[i] / (double)c->nfft;
      v = sumx2 > 0 && sumy2 > 0 ? prod / sqrt(sumx2 * sumy2) : 0.0;
    }
    r[i] = r[-i] = v;
  }
}

/* Finds candidates in r for frame iframe (slot 0 = unvoiced). */
static void frame_candidates(pitch_ctx *c, const double *r, size_t iframe) {
  const vm_pitch_params *p = c->p;
  float *cf = c->cand_f + iframe * (size_t)c->max_cand;
  float *cs = c->cand_s + iframe * (size_t)c->max_cand;
  double freq[VM_PITCH_MAX_CAND], str[VM_PITCH_MAX_CAND];
  int n = 1;
  freq[0] = 0.0, str[0] = 0.0;
  const double *y1 = r - c->brent_ixmax - 1; /* y1[k] = r[k - ixmax - 1] */
  long size = 2 * c->brent_ixmax + 1;
  long offset = -c->brent_ixmax - 1;
  for (long i = 2; i < c->maximum_lag && i < c->brent_ixmax; i++) {
    if (!(r[i] > 0.5 * p->voicing_threshold && r[i] > r[i - 1] && r[i] >= r[i + 1])) continue;
    double dr = 0.5 * (r[i + 1] - r[i - 1]), d2r = 2.0 * r[i] - r[i - 1] - r[i + 1];
    double fmax = 1.0 / c->dx / (i + dr / d2r);
    double smax = vm__dsp_interpolate_sinc(y1, size, 1.0 / c->dx / fmax - offset, 30);
    if (smax > 1.0) smax = 1.0 / smax;
    int place = -1;
    if (n < c->max_cand) {
      place = n++;
    } else {
      double weakest = 2.0;
      for (int k = 1; k < c->max_cand; k++) {
        double ls = str[k] - p->octave_cost * log2(p->floor_hz / freq[k]);
        if (ls < weakest) weakest = ls, place = k;
      }
      if (smax - p->octave_cost * log2(p->floor_hz / fmax) <= weakest) place = -1;
    }
    if (place >= 0) freq[place] = fmax, str[place] = smax, c->imax[place] = i;
  }
  double best = -1.0;
  if (c->prune)
    for (int k = 1; k < n; k++) if (str[k] > best) best = str[k];
  for (int k = 1; k < n; k++) {
    if (c->prune && str[k] < best - 0.05) continue; /* cannot win the argmax */
    double xmid;
    long depth = freq[k] > 0.3 / c->dx ? 700 : c->brent_depth;
    double x0 = 1.0 / c->dx / freq[k] - offset;
    double ymid = improve_maximum_from(y1, size, c->imax[k] - offset, depth, x0, &xmid);
    xmid += offset;
    freq[k] = 1.0 / c->dx / xmid;
    str[k] = ymid > 1.0 ? 1.0 / ymid : ymid;
  }
  for (int k = 0; k < n; k++) cf[k] = (float)freq[k], cs[k] = (float)str[k];
  c->n_cand[iframe] = n;
}

/* Praat's unvoiced "strength" for a frame of the given intensity. */
static double unvoiced_strength(const vm_pitch_params *p, double intensity) {
  double u = p->silence_threshold <= 0 ? 0.0
             : 2.0 - intensity / (p->silence_threshold / (1.0 + p->voicing_threshold));
  return p->voicing_threshold + (u > 0 ? u : 0.0);
}

static int is_voiced_freq(double f, double ceiling) { return f > 0.0 && f < ceiling; }

static double local_score(const pitch_ctx *c, double f, double s, double unvoiced) {
  if (!is_voiced_freq(f, c->ceiling)) return unvoiced;
  return s - c->p->octave_cost * log2(c->ceiling / f);
}

/* Zero-cost case (harmonicity): the path is the per-frame argmax. */
static void frame_pick_best(pitch_ctx *c, vm_pitch_track *t, size_t iframe) {
  const float *cf = c->cand_f, *cs = c->cand_s; /* one frame's row */
  double unv = unvoiced_strength(c->p, t->intensity[iframe]);
  int best = 0;
  double best_v = local_score(c, cf[0], cs[0], unv);
  for (int k = 1; k < c->n_cand[0]; k++) {
    double v = local_score(c, cf[k], cs[k], unv);
    if (v > best_v) best_v = v, best = k;
  }
  int voiced = is_voiced_freq(cf[best], c->ceiling);
  t->f0_hz[iframe] = voiced ? cf[best] : 0.0f;
  t->strength[iframe] = voiced ? cs[best] : 0.0f;
}

/* Viterbi over the candidate table (Praat's Pitch_pathFinder). */
static int path_find(pitch_ctx *c, vm_pitch_track *t) {
  const vm_pitch_params *p = c->p;
  size_t nf = t->n_frames, mc = (size_t)c->max_cand;
  double tsc = 0.01 / t->dt_s;
  double jump_cost = p->octave_jump_cost * tsc, vu_cost = p->voiced_unvoiced_cost * tsc;
  double *prev = vm_malloc(sizeof(double) * mc), *cur = vm_malloc(sizeof(double) * mc);
  unsigned short *psi = vm_malloc(sizeof(unsigned short) * mc * nf);
  int rc = VM_ENOMEM;
  if (!prev || !cur || !psi) goto out;
  for (size_t i = 0; i < nf; i++) {
    const float *cf = c->cand_f + i * mc, *cs = c->cand_s + i * mc;
    double unv = unvoiced_strength(p, t->intensity[i]);
    for (int k = 0; k < c->n_cand[i]; k++) {
      double local = local_score(c, cf[k], cs[k], unv);
      if (i == 0) { cur[k] = local; psi[k] = 0; continue; }
      const float *pf = cf - mc;
      double best = -1e300;
      int place = 0;
      int v2 = is_voiced_freq(cf[k], c->ceiling);
      for (int j = 0; j < c->n_cand[i - 1]; j++) {
        int v1 = is_voiced_freq(pf[j], c->ceiling);
        double tc = v1 != v2 ? vu_cost : !v2 ? 0.0 : jump_cost * fabs(log2(pf[j] / cf[k]));
        double v = prev[j] - tc + local;
        if (v > best) best = v, place = j;
      }
      cur[k] = best;
      psi[i * mc + (size_t)k] = (unsigned short)place;
    }
    double *tmp = prev; prev = cur; cur = tmp;
  }
  int place = 0;
  for (int k = 1; k < c->n_cand[nf - 1]; k++) if (prev[k] > prev[place]) place = k;
  for (size_t i = nf; i-- > 0;) {
    float f = c->cand_f[i * mc + (size_t)place], s = c->cand_s[i * mc + (size_t)place];
    int voiced = is_voiced_freq(f, c->ceiling);
    t->f0_hz[i] = voiced ? f : 0.0f;
    t->strength[i] = voiced ? s : 0.0f;
    place = psi[i * mc + (size_t)place];
  }
  rc = VM_OK;
out:
  vm_free(prev);
  vm_free(cur);
  vm_free(psi);
  return rc;
}

static int ctx_setup(pitch_ctx *c, const vm_pitch_params *p, int rate_hz) {
  int ac = p->method == VM_PITCH_AC;
  c->dx = 1.0 / rate_hz;
  c->ceiling = p->ceiling_hz < 0.5 * rate_hz ? p->ceiling_hz : 0.5 * rate_hz;
  c->max_cand = p->max_candidates;
  if (c->max_cand < c->ceiling / p->floor_hz) c->max_cand = (int)floor(c->ceiling / p->floor_hz);
  if (c->max_cand > VM_PITCH_MAX_CAND) c->max_cand = VM_PITCH_MAX_CAND;
  c->brent_depth = ac ? 70 : 700;
  c->nsamp_period = (long)floor(1.0 / c->dx / p->floor_hz);
  c->half_period = c->nsamp_period / 2 + 1;
  c->dt_window = p->periods_per_window / p->floor_hz;
  c->half_window = (long)floor(c->dt_window / c->dx) / 2 - 1;
  if (c->half_window < 2) return VM_EINVAL;
  c->nsamp_window = 2 * c->half_window;
  long ml = (long)floor(c->nsamp_window / p->periods_per_window) + 2;
  c->maximum_lag = ml < c->nsamp_window ? ml : c->nsamp_window;
  c->brent_ixmax = (long)floor(c->nsamp_window * (ac ? 0.5 : 1.0));
  long need = ac ? (long)ceil(c->nsamp_window * 1.5) : c->maximum_lag + c->nsamp_window;
  c->nfft = 1;
  while (c->nfft < need) c->nfft *= 2;
  c->prune = !ac && p->octave_cost == 0 && p->octave_jump_cost == 0 &&
             p->voiced_unvoiced_cost == 0;
  c->window = vm_calloc((size_t)c->nsamp_window, sizeof(double));
  c->window_r = vm_calloc((size_t)c->brent_ixmax + 1, sizeof(double));
  c->rbuf = vm_calloc((size_t)(2 * c->brent_ixmax + 1), sizeof(double));
  c->frame = vm_calloc((size_t)c->nsamp_window, sizeof(double));
  c->prefix2 = vm_calloc((size_t)(c->nsamp_window + c->maximum_lag + 2), sizeof(double));
  c->imax = vm_calloc((size_t)c->max_cand, sizeof(long));
  c->xspec = fftwf_alloc_complex((size_t)c->nfft / 2 + 1);
  if (!c->window || !c->window_r || !c->rbuf || !c->frame || !c->prefix2 || !c->imax ||
      !c->xspec)
    return VM_ENOMEM;
  if (vm__dsp_rfft_init(&c->fft, (int)c->nfft) != VM_OK) return VM_ENOMEM;
  for (long j = 0; j < c->nsamp_window; j++)
    c->window[j] = 0.5 - 0.5 * cos((j + 1) * 2.0 * M_PI / (c->nsamp_window + 1));
  if (ac) { /* normalised autocorrelation of the window, same FFT size */
    vm__rfft *f = &c->fft;
    for (long j = 0; j < c->nfft; j++) f->buf[j] = j < c->nsamp_window ? (float)c->window[j] : 0.0f;
    vm__dsp_rfft_forward(f);
    fftwf_complex *s = f->spec;
    for (long k = 0; k <= c->nfft / 2; k++) {
      s[k][0] = s[k][0] * s[k][0] + s[k][1] * s[k][1];
      s[k][1] = 0.0f;
    }
    vm__dsp_rfft_inverse(f);
    for (long i = 0; i <= c->brent_ixmax; i++) c->window_r[i] = f->buf[i] / f->buf[0];
  }
  return VM_OK;
}

static void ctx_free(pitch_ctx *c) {
  vm_free(c->window);
  vm_free(c->window_r);
  vm_free(c->rbuf);
  vm_free(c->frame);
  vm_free(c->prefix2);
  vm_free(c->imax);
  if (c->xspec) fftwf_free(c->xspec);
  if (c->fft.buf) vm__dsp_rfft_deinit(&c->fft);
  vm_free(c->cand_f);
  vm_free(c->cand_s);
  vm_free(c->n_cand);
}

static int track_alloc(size_t nf, vm_pitch_track **out) {
  vm_pitch_track *t = vm_calloc(1, sizeof *t);
  if (!t) return VM_ENOMEM;
  size_t m = nf ? nf : 1;
  t->n_frames = nf;
  t->f0_hz = vm_calloc(m, sizeof(float));
  t->strength = vm_calloc(m, sizeof(float));
  t->intensity = vm_calloc(m, sizeof(float));
  if (!t->f0_hz || !t->strength || !t->intensity) {
    vm_dsp_pitch_destroy(t);
    return VM_ENOMEM;
  }
  *out = t;
  return VM_OK;
}

/* Frame geometry (Praat's Sampled_shortTermAnalysis); 0 frames if the
 * signal is shorter than one window. */
static size_t frame_grid(double duration, double window_s, double dt, double *t0) {
  if (window_s > duration) return 0;
  size_t nf = (size_t)floor((duration - window_s) / dt) + 1;
  *t0 = 0.5 * duration - 0.5 * (double)nf * dt + 0.5 * dt;
  return nf;
}

/* The unvoiced score above which a frame can never be voiced on the
 * chosen path, so its correlation and candidates need not be computed.
 * A voiced candidate scores at most 1 (strength <= 1, octave cost >= 0).
 * Argmax (zero costs): unvoiced wins ties, so unvoiced >= 1 suffices.
 * Viterbi: replacing a voiced frame by unvoiced on any path changes the
 * transitions by at most 2 vu_cost (all costs >= 0), so unvoiced
 * > 1 + 2 vu_cost makes every path through a voiced candidate strictly
 * worse than its unvoiced twin. Exact: the path is unchanged. Returns
 * INFINITY (never skip) when a cost is negative. */
static double skip_threshold(const pitch_ctx *c, double dt) {
  const vm_pitch_params *p = c->p;
  if (p->octave_cost < 0 || p->octave_jump_cost < 0 || p->voiced_unvoiced_cost < 0) return INFINITY;
  if (c->prune) return 1.0;
  return nextafter(1.0 + 2.0 * p->voiced_unvoiced_cost * (0.01 / dt), INFINITY);
}

/* The candidates of the frame at time tt into candidate row `row` (r is
 * the correlation scratch); returns the frame's intensity as the track
 * stores it (float). Absolute silence, or too quiet to be voiced: only the
 * unvoiced candidate. */
static float frame_analyse(pitch_ctx *c, double tt, size_t row, double *r, double skip) {
  double inten, mean;
  frame_prepare(c, tt, &inten, &mean);
  float inten_f = (float)inten;
  if (inten == 0.0 || unvoiced_strength(c->p, inten_f) >= skip) {
    c->cand_f[row * (size_t)c->max_cand] = 0.0f;
    c->cand_s[row * (size_t)c->max_cand] = 0.0f;
    c->n_cand[row] = 1;
  } else {
    if (c->p->method == VM_PITCH_AC) frame_correlate_ac(c, r);
    else frame_correlate_cc(c, tt, mean, r);
    frame_candidates(c, r, row);
  }
  return inten_f;
}

static void run_frames(pitch_ctx *c, vm_pitch_track *t) {
  double *r = c->rbuf + c->brent_ixmax; /* r[-ixmax .. ixmax] */
  double skip = skip_threshold(c, t->dt_s);
  for (size_t i = 0; i < t->n_frames; i++) {
    double tt = t->t0_s + (double)i * t->dt_s;
    t->intensity[i] = frame_analyse(c, tt, c->prune ? 0 : i, r, skip);
    if (c->prune) frame_pick_best(c, t, i);
  }
}

int vm_dsp_pitch_create(const float *x, size_t n, int rate_hz,
                        const vm_pitch_params *p, vm_pitch_track **out,
                        vm_err *err) {
  *out = NULL;
  if ((!x && n) || rate_hz <= 0 || !(p->floor_hz > 0) || !(p->ceiling_hz > p->floor_hz) ||
      !(p->periods_per_window > 0) || p->max_candidates < 2 || p->time_step_s < 0)
    return vm_err_set(err, VM_EINVAL, "pitch: invalid parameters");
  pitch_ctx c;
  memset(&c, 0, sizeof c);
  c.x = x, c.nx = (long)n, c.p = p;
  vm_pitch_track *t = NULL;
  int rc = ctx_setup(&c, p, rate_hz);
  if (rc == VM_EINVAL) { vm_err_set(err, rc, "pitch: analysis window too short"); goto fail; }
  if (rc) goto nomem;
  double duration = (double)n * c.dx, dt = p->time_step_s > 0 ? p->time_step_s
                                                               : p->periods_per_window / p->floor_hz / 4.0;
  double window_s = p->method == VM_PITCH_CC ? 1.0 / p->floor_hz + c.dt_window : c.dt_window, t0 = 0;
  size_t nf = frame_grid(duration, window_s, dt, &t0);
  if (track_alloc(nf, &t)) goto nomem;
  t->t0_s = t0, t->dt_s = dt, t->ceiling_hz = c.ceiling, t->duration_s = duration;
  double mean = 0.0;
  for (size_t i = 0; i < n; i++) mean += x[i];
  mean = n ? mean / (double)n : 0.0;
  for (size_t i = 0; i < n; i++) if (fabs(x[i] - mean) > c.global_peak) c.global_peak = fabs(x[i] - mean);
  if (nf == 0 || c.global_peak == 0.0) goto done; /* all unvoiced */
  size_t rows = c.prune ? 1 : nf;
  c.cand_f = vm_malloc(sizeof(float) * rows * (size_t)c.max_cand);
  c.cand_s = vm_malloc(sizeof(float) * rows * (size_t)c.max_cand);
  c.n_cand = vm_malloc(sizeof(int) * rows);
  if (!c.cand_f || !c.cand_s || !c.n_cand) goto nomem;
  run_frames(&c, t);
  if (!c.prune && path_find(&c, t)) goto nomem;
done:
  ctx_free(&c);
  *out = t;
  return VM_OK;
nomem:
  rc = vm_err_set(err, VM_ENOMEM, "pitch: out of memory");
fail:
  ctx_free(&c);
  vm_dsp_pitch_destroy(t);
  return rc;
}

void vm_dsp_pitch_destroy(vm_pitch_track *t) {
  if (!t) return;
  vm_free(t->f0_hz);
  vm_free(t->strength);
  vm_free(t->intensity);
  vm_free(t);
}

int vm_dsp_pitch_is_voiced(const vm_pitch_track *t, size_t i) {
  return i < t->n_frames && is_voiced_freq(t->f0_hz[i], t->ceiling_hz);
}

double vm_dsp_pitch_get_value(const vm_pitch_track *t, double t_s) {
  if (t->n_frames == 0 || t_s < 0 || t_s > t->duration_s) return NAN;
  double ireal = (t_s - t->t0_s) / t->dt_s; /* 0-based real index */
  long ileft = (long)floor(ireal), inear, ifar;
  double phase = ireal - ileft;
  if (phase < 0.5) inear = ileft, ifar = ileft + 1;
  else ifar = ileft, inear = ileft + 1, phase = 1.0 - phase;
  if (inear < 0 || inear >= (long)t->n_frames) return NAN;
  if (!vm_dsp_pitch_is_voiced(t, (size_t)inear)) return NAN;
  double fnear = t->f0_hz[inear];
  if (ifar < 0 || ifar >= (long)t->n_frames || !vm_dsp_pitch_is_voiced(t, (size_t)ifar))
    return fnear;
  return fnear + phase * (t->f0_hz[ifar] - fnear);
}

/* ------------------------------------------------------------- streamed
 * The same frames pushed one at a time, with a fixed-lag Viterbi. Frames
 * live in a ring of n_ring rows (candidates, back-pointers). After each
 * frame, the back-pointers of all its states are followed together; at
 * the first earlier frame where they meet in one state, every path the
 * whole-file search could still choose goes through that state, so that
 * frame and all before it are final and are emitted (identical to the
 * whole-file traceback). Unvoiced-only frames (silence) meet at once.
 * If the paths have not met when the ring is full (max_lag_s of
 * undecided frames), the older half of the ring is decided by the best
 * path at that moment: the only case in which the result can differ from
 * the whole-file path (counted in n_forced). */
struct vm__pitch_stream {
  pitch_ctx c;
  vm_pitch_params p;   /* c.p points here */
  size_t n_frames, next, n_final, n_ring;
  double t0_s, dt_s, jump_cost, vu_cost, skip;
  vm__pitch_emit_fn emit;
  void *user;
  unsigned short *psi; /* (n_ring, max_cand) */
  double *prev, *cur;  /* (max_cand) path scores of the last frame, of this frame */
  int *set, *mark;     /* (max_cand) traceback state set, dedupe stamps */
  int stamp;
  size_t n_forced;
};

int vm__dsp_pitch_stream_create(const vm_pitch_params *p, int rate_hz, size_t n,
                                double global_peak, double max_lag_s, vm__pitch_emit_fn emit,
                                void *user, vm__pitch_stream **out) {
  *out = NULL;
  if (rate_hz <= 0 || !(p->floor_hz > 0) || !(p->ceiling_hz > p->floor_hz) ||
      !(p->periods_per_window > 0) || p->max_candidates < 2 || p->time_step_s < 0 || !emit)
    return VM_EINVAL;
  vm__pitch_stream *s = vm_calloc(1, sizeof *s);
  if (!s) return VM_ENOMEM;
  s->p = *p;
  pitch_ctx *c = &s->c;
  c->p = &s->p, c->nx = (long)n;
  int rc = ctx_setup(c, &s->p, rate_hz);
  if (rc) goto fail;
  double duration = (double)n * c->dx;
  s->dt_s = p->time_step_s > 0 ? p->time_step_s : p->periods_per_window / p->floor_hz / 4.0;
  double window_s = p->method == VM_PITCH_CC ? 1.0 / p->floor_hz + c->dt_window : c->dt_window;
  s->n_frames = frame_grid(duration, window_s, s->dt_s, &s->t0_s);
  s->emit = emit, s->user = user;
  c->global_peak = global_peak;
  double tsc = 0.01 / s->dt_s;
  s->jump_cost = p->octave_jump_cost * tsc, s->vu_cost = p->voiced_unvoiced_cost * tsc;
  s->skip = skip_threshold(c, s->dt_s);
  size_t lag = (size_t)ceil(max_lag_s / s->dt_s);
  s->n_ring = c->prune ? 1 : (lag < 2 ? 2 : lag) + 1; /* >= 2 frames in flight */
  size_t mc = (size_t)c->max_cand;
  rc = VM_ENOMEM;
  c->cand_f = vm_malloc(sizeof(float) * s->n_ring * mc);
  c->cand_s = vm_malloc(sizeof(float) * s->n_ring * mc);
  c->n_cand = vm_malloc(sizeof(int) * s->n_ring);
  s->psi = vm_malloc(sizeof(unsigned short) * s->n_ring * mc);
  s->prev = vm_malloc(sizeof(double) * mc), s->cur = vm_malloc(sizeof(double) * mc);
  s->set = vm_malloc(sizeof(int) * mc), s->mark = vm_calloc(mc, sizeof(int));
  if (!c->cand_f || !c->cand_s || !c->n_cand || !s->psi || !s->prev || !s->cur || !s->set || !s->mark)
    goto fail;
  *out = s;
  return VM_OK;
fail:
  vm__dsp_pitch_stream_destroy(s);
  return rc;
}

void vm__dsp_pitch_stream_destroy(vm__pitch_stream *s) {
  if (!s) return;
  ctx_free(&s->c);
  vm_free(s->psi), vm_free(s->prev), vm_free(s->cur), vm_free(s->set), vm_free(s->mark);
  vm_free(s);
}

void vm__dsp_pitch_stream_geometry(const vm__pitch_stream *s, size_t *n_frames, double *t0_s,
                                   double *dt_s, double *ceiling_hz) {
  *n_frames = s->n_frames, *t0_s = s->t0_s, *dt_s = s->dt_s, *ceiling_hz = s->c.ceiling;
}

size_t vm__dsp_pitch_stream_next(const vm__pitch_stream *s) { return s->next; }
size_t vm__dsp_pitch_stream_n_final(const vm__pitch_stream *s) { return s->n_final; }
size_t vm__dsp_pitch_stream_n_forced(const vm__pitch_stream *s) { return s->n_forced; }

void vm__dsp_pitch_stream_span(const vm__pitch_stream *s, size_t i, long *lo, long *hi) {
  const pitch_ctx *c = &s->c;
  double t = s->t0_s + (double)i * s->dt_s;
  long left = (long)floor((t - 0.5 * c->dx) / c->dx), right = left + 1;
  long a = right - c->nsamp_period, b = left + c->nsamp_period + 1;
  long wa = right - c->half_window, wb = wa + c->nsamp_window;
  if (wa < a) a = wa;
  if (wb > b) b = wb;
  if (c->p->method == VM_PITCH_CC) {
    double start_time = t - 0.5 * (1.0 / c->p->floor_hz + c->dt_window);
    long start = (long)floor((start_time - 0.5 * c->dx) / c->dx);
    if (start < 0) start = 0;
    long end = start + c->maximum_lag + c->nsamp_window;
    if (start < a) a = start;
    if (end > b) b = end;
  }
  *lo = a < 0 ? 0 : a > c->nx ? c->nx : a;
  *hi = b < 0 ? 0 : b > c->nx ? c->nx : b;
}

static void emit_row(vm__pitch_stream *s, size_t i, int place) {
  const pitch_ctx *c = &s->c;
  size_t row = (i % s->n_ring) * (size_t)c->max_cand + (size_t)place;
  float f = c->cand_f[row], st = c->cand_s[row];
  int voiced = is_voiced_freq(f, c->ceiling);
  s->emit(s->user, i, voiced ? f : 0.0f, voiced ? st : 0.0f);
}

/* Emits frames [s->n_final, last] along the back-pointers from state
 * `place` of frame last. */
static void emit_back(vm__pitch_stream *s, size_t last, int place) {
  size_t mc = (size_t)s->c.max_cand;
  for (size_t i = last + 1; i-- > s->n_final;) {
    emit_row(s, i, place);
    place = s->psi[(i % s->n_ring) * mc + (size_t)place];
  }
  s->n_final = last + 1;
}

/* Follows all states of frame i back; emits what they agree on. */
static void converge(vm__pitch_stream *s, size_t i) {
  size_t mc = (size_t)s->c.max_cand;
  int n = s->c.n_cand[i % s->n_ring];
  for (int k = 0; k < n; k++) s->set[k] = k;
  for (size_t j = i; j > s->n_final; j--) {
    if (n == 1) { emit_back(s, j, s->set[0]); return; }
    const unsigned short *psi = s->psi + (j % s->n_ring) * mc;
    int m = 0;
    s->stamp++;
    for (int k = 0; k < n; k++) {
      int q = psi[s->set[k]];
      if (s->mark[q] != s->stamp) s->mark[q] = s->stamp, s->set[m++] = q;
    }
    n = m;
  }
  if (n == 1) emit_back(s, s->n_final, s->set[0]); /* the set is frame n_final's */
}

/* Index of the best path score of frame i (first maximum, as the
 * whole-file search). */
static int best_state(const vm__pitch_stream *s, size_t i) {
  int place = 0;
  for (int k = 1; k < s->c.n_cand[i % s->n_ring]; k++) if (s->prev[k] > s->prev[place]) place = k;
  return place;
}

/* One Viterbi step for frame i (its candidates in the ring): s->prev
 * becomes the path scores of frame i (as path_find). */
static void viterbi_step(vm__pitch_stream *s, size_t i, double intensity) {
  pitch_ctx *c = &s->c;
  size_t mc = (size_t)c->max_cand, r = i % s->n_ring, rp = (i + s->n_ring - 1) % s->n_ring;
  const float *cf = c->cand_f + r * mc, *cs = c->cand_s + r * mc, *pf = c->cand_f + rp * mc;
  unsigned short *psi = s->psi + r * mc;
  double unv = unvoiced_strength(c->p, intensity);
  for (int k = 0; k < c->n_cand[r]; k++) {
    double local = local_score(c, cf[k], cs[k], unv);
    if (i == 0) { s->cur[k] = local; psi[k] = 0; continue; }
    double best = -1e300;
    int place = 0;
    int v2 = is_voiced_freq(cf[k], c->ceiling);
    for (int j = 0; j < c->n_cand[rp]; j++) {
      int v1 = is_voiced_freq(pf[j], c->ceiling);
      double tc = v1 != v2 ? s->vu_cost : !v2 ? 0.0 : s->jump_cost * fabs(log2(pf[j] / cf[k]));
      double v = s->prev[j] - tc + local;
      if (v > best) best = v, place = j;
    }
    s->cur[k] = best;
    psi[k] = (unsigned short)place;
  }
  double *tmp = s->prev; s->prev = s->cur; s->cur = tmp;
}

int vm__dsp_pitch_stream_push(vm__pitch_stream *s, const float *xb, long x0) {
  pitch_ctx *c = &s->c;
  size_t i = s->next;
  if (i >= s->n_frames) return VM_EINVAL;
  s->next++;
  if (c->global_peak == 0.0) { /* all unvoiced, as the whole-file analysis */
    s->emit(s->user, i, 0.0f, 0.0f);
    s->n_final = i + 1;
    return VM_OK;
  }
  c->x = xb, c->x0 = x0;
  double *r = c->rbuf + c->brent_ixmax;
  double tt = s->t0_s + (double)i * s->dt_s;
  size_t row = i % s->n_ring;
  float inten_f = frame_analyse(c, tt, row, r, s->skip);
  c->x = NULL;
  if (c->prune) { /* zero costs: the per-frame argmax, final at once */
    double unv = unvoiced_strength(c->p, inten_f);
    int best = 0;
    double best_v = local_score(c, c->cand_f[0], c->cand_s[0], unv);
    for (int k = 1; k < c->n_cand[0]; k++) {
      double v = local_score(c, c->cand_f[k], c->cand_s[k], unv);
      if (v > best_v) best_v = v, best = k;
    }
    emit_row(s, i, best);
    s->n_final = i + 1;
    return VM_OK;
  }
  viterbi_step(s, i, inten_f);
  converge(s, i);
  if (i + 2 - s->n_final >= s->n_ring) { /* ring full: decide the older half */
    size_t keep = s->n_ring / 2, last = i - keep;
    int place = best_state(s, i);
    size_t mc = (size_t)c->max_cand;
    for (size_t j = i; j > last; j--) place = s->psi[(j % s->n_ring) * mc + (size_t)place];
    s->n_forced += last + 1 - s->n_final;
    emit_back(s, last, place);
  }
  return VM_OK;
}

void vm__dsp_pitch_stream_finish(vm__pitch_stream *s) {
  if (s->n_final >= s->next || s->next == 0) return;
  emit_back(s, s->next - 1, best_state(s, s->next - 1));
}
