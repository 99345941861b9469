/* dsp_formant.c — Burg LPC formants, Praat-compatible.
 *
 * DESIGN
 * 1. vm__dsp_resample: exact band-limited rate change in the frequency
 *    domain, block by block (blocks of 16-32 k input samples with 2 k-sample
 *    overlaps that absorb the circular edges), so memory is bounded by the
 *    block and the output. Downsampling drops the bins above the new
 *    Nyquist (Praat's anti-alias filter); upsampling zero-pads. The new
 *    samples lie on Praat's grid (centred in the old time domain, a
 *    fraction of an input sample off the old grid), by a phase ramp on
 *    the kept bins. That fraction matters: with speech energy up to the
 *    new Nyquist (a 22.05 kHz espeak-ng voice), 0.25 sample at 11 kHz
 *    changes which frames' order-10 LPC puts a wide pole pair below F1,
 *    and it moved mean F1 of a low male voice by 7 % (issue 4).
 * 2. Pre-emphasis, Gaussian window, Burg recursion (the classic
 *    "memcof" form, double precision), then the roots of the order-10
 *    predictor polynomial by Laguerre's method with deflation and
 *    polishing on the full polynomial (Praat uses a companion-matrix
 *    eigen-solver; both converge to the same roots).
 * The frame loop allocates nothing.
 * 3. One analysis is a vm__formant_stream (geometry, sliding resampled
 *    signal, scratch) whose frames are analysed in order from any window
 *    of the input that covers them (vm__dsp_formant_stream_span), so the
 *    streamed voice measures and vm_dsp_formant_create_sparse run the
 *    same code. Tracks are dense (a row per frame, with bandwidths) or,
 *    for the voice measures, sparse: F1-F3 rows only for analysed frames,
 *    found through a bitmap and per-64-frame row counts.
 */
#include "dsp_formant.h"

#include <fftw3.h>
#include <math.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "dsp_pitch.h"
#include "vm_alloc.h"

void vm_dsp_formant_params_init(vm_formant_params *p) {
  p->max_formants = 5;
  p->max_formant_hz = 5500.0;
  p->window_s = 0.025;
  p->time_step_s = 0.0;
  p->preemphasis_from_hz = 50.0;
}

static long gcd_l(long a, long b) {
  while (b) { long t = a % b; a = b; b = t; }
  return a;
}

/* A block resampler: output block b (samples b*cout .. +cout) depends
 * only on input samples around it, so the output can be produced block
 * by block in order, with memory O(block). */
typedef struct rs_stream {
  const float *x;  /* x[i - x0] is input sample i (a window when streamed) */
  long x0;
  size_t n, ny;
  long L, M, cin, cout, min_, mout, nin, nout, nb;
  double x1_out; /* time of output sample 0, s */
  float *ph;     /* (nb, 2): exp(2 pi i b shift / nin) / nin; NULL at equal rates */
  vm__rfft fi, fo;
} rs_stream;

static int rs_init(rs_stream *r, const float *x, size_t n, int rate_in, int rate_out) {
  memset(r, 0, sizeof *r);
  r->x = x, r->x0 = 0, r->n = n;
  r->ny = (size_t)floor((double)n * rate_out / rate_in + 0.5);
  long g = gcd_l(rate_in, rate_out), L = rate_in / g, M = rate_out / g;
  /* A block is q L input / q M output samples (so bins map one to one),
   * of which 2 mg L are overlap. q is a power of two: FFTW then plans
   * 2^a x (factors of L, M) sizes in microseconds; a factor like 17
   * (from q = 4096 + 256) cost ~0.1 s of planning per call. */
  long mg = (2048 + L - 1) / L, q = 1;
  while (q * L <= 16384 || q <= 4 * mg) q *= 2;
  long k = q - 2 * mg;
  r->L = L, r->M = M, r->cin = k * L, r->cout = k * M, r->min_ = mg * L, r->mout = mg * M;
  r->nin = r->cin + 2 * r->min_, r->nout = r->cout + 2 * r->mout;
  r->nb = (r->nin < r->nout ? r->nin : r->nout) / 2; /* bins kept: 0 .. nb-1 */
  /* Praat's Sound_resample centres the new samples in the old time domain
   * [0, n / rate_in]: sample 0 at 0.5 (n / rate_in - (ny - 1) / rate_out).
   * New sample j then sits at input position j L / M + shift (input
   * sample i at time (i + 0.5) / rate_in); the shift, a fraction of an
   * input sample, is a phase ramp on the kept bins, folded with 1 / nin.
   * Same rate: Praat copies, so no shift. */
  r->x1_out = 0.5 * ((double)n / rate_in - ((double)r->ny - 1.0) / rate_out);
  if (rate_in == rate_out) {
    r->x1_out = 0.5 / rate_in;
    return VM_OK;
  }
  double shift = r->x1_out * rate_in - 0.5;
  r->ph = vm_malloc(sizeof(float) * 2 * (size_t)r->nb);
  if (!r->ph || vm__dsp_rfft_init(&r->fi, (int)r->nin) || vm__dsp_rfft_init(&r->fo, (int)r->nout)) {
    vm_free(r->ph), r->ph = NULL;
    vm__dsp_rfft_deinit(&r->fi), vm__dsp_rfft_deinit(&r->fo);
    return VM_ENOMEM;
  }
  for (long b = 0; b < r->nb; b++) {
    double w = 2.0 * M_PI * (double)b * shift / (double)r->nin, gain = 1.0 / (double)r->nin;
    r->ph[2 * b] = (float)(gain * cos(w)), r->ph[2 * b + 1] = (float)(gain * sin(w));
  }
  return VM_OK;
}

static void rs_deinit(rs_stream *r) {
  vm_free(r->ph), r->ph = NULL;
  vm__dsp_rfft_deinit(&r->fi), vm__dsp_rfft_deinit(&r->fo);
}

/* Input samples [*lo, *hi) that output block j0 reads (clipped to [0, n)). */
static void rs_block_span(const rs_stream *r, long j0, long *lo, long *hi) {
  long a = j0, b = j0 + r->cout;
  if (r->L != r->M) a = (j0 / r->M) * r->L - r->min_, b = a + r->nin;
  *lo = a < 0 ? 0 : a > (long)r->n ? (long)r->n : a;
  *hi = b < 0 ? 0 : b > (long)r->n ? (long)r->n : b;
}

/* Writes output samples j0 .. min(j0 + cout, ny) - 1 to y (j0 a multiple
 * of cout); returns how many. */
static long rs_block(rs_stream *r, long j0, float *y) {
  long m = r->cout < (long)r->ny - j0 ? r->cout : (long)r->ny - j0;
  if (m <= 0) return 0;
  if (r->L == r->M) {
    memcpy(y, r->x + (j0 - r->x0), (size_t)m * sizeof(float));
    return m;
  }
  long s = (j0 / r->M) * r->L - r->min_; /* j0 is a multiple of cout, so of M */
  for (long i = 0; i < r->nin; i++) {
    long src = s + i;
    r->fi.buf[i] = src >= 0 && src < (long)r->n ? r->x[src - r->x0] : 0.0f;
  }
  vm__dsp_rfft_forward(&r->fi);
  float (*si)[2] = r->fi.spec, (*so)[2] = r->fo.spec; /* fftwf_complex is _Complex here */
  const float *ph = r->ph; /* advance by the shift, scaled by 1 / nin */
  for (long b = 0; b < r->nb; b++) {
    float re = si[b][0], im = si[b][1];
    so[b][0] = re * ph[2 * b] - im * ph[2 * b + 1];
    so[b][1] = re * ph[2 * b + 1] + im * ph[2 * b];
  }
  for (long b = r->nb; b <= r->nout / 2; b++) so[b][0] = so[b][1] = 0.0f;
  vm__dsp_rfft_inverse(&r->fo);
  memcpy(y, r->fo.buf + r->mout, (size_t)m * sizeof(float));
  return m;
}

int vm__dsp_resample(const float *x, size_t n, int rate_in, int rate_out,
                     float **out_y, size_t *out_n) {
  *out_y = NULL, *out_n = 0;
  rs_stream r;
  if (rs_init(&r, x, n, rate_in, rate_out)) return VM_ENOMEM;
  float *y = vm_calloc(r.ny ? r.ny : 1, sizeof(float));
  if (!y) { rs_deinit(&r); return VM_ENOMEM; }
  for (long j0 = 0; j0 < (long)r.ny; j0 += r.cout) rs_block(&r, j0, y + j0);
  rs_deinit(&r);
  *out_y = y, *out_n = r.ny;
  return VM_OK;
}

/* Burg's method: a[1..m] with x[i] ~ sum a[k] x[i-k] (the classic
 * "memcof" recursion, double precision). Scratch b1, b2, aa of n, n, m+1
 * doubles. The forward/backward error update of one order and the
 * numerator/denominator sums of the next are one pass (same arithmetic,
 * two partial sums each). Returns 0 on a degenerate frame. */
static int burg(const double *x, long n, int m, double *a, double *restrict b1,
                double *restrict b2, double *aa) {
  double p = 0;
  for (long j = 0; j < n; j++) p += x[j] * x[j];
  if (p <= 0 || n <= m) return 0;
  double num = 0, den = 0, num2 = 0, den2 = 0;
  for (long j = 0; j < n - 1; j++) {
    b1[j] = x[j], b2[j] = x[j + 1];
    num += b1[j] * b2[j], den += b1[j] * b1[j] + b2[j] * b2[j];
  }
  for (int i = 1; i <= m; i++) {
    num += num2, den += den2;
    if (den <= 0) return 0;
    a[i] = 2.0 * num / den;
    for (int j = 1; j < i; j++) a[j] = aa[j] - a[i] * aa[i - j];
    if (i == m) break;
    for (int j = 1; j <= i; j++) aa[j] = a[j];
    double k = aa[i];
    long len = n - i - 1, j = 0;
    num = den = num2 = den2 = 0;
#if defined(__SSE2__) /* the same even/odd partial sums as the loop below, in two lanes */
    __m128d kk = _mm_set1_pd(k), vn = _mm_setzero_pd(), vd = _mm_setzero_pd();
    for (; j + 1 < len; j += 2) {
      __m128d x1 = _mm_sub_pd(_mm_loadu_pd(b1 + j), _mm_mul_pd(kk, _mm_loadu_pd(b2 + j)));
      __m128d x2 = _mm_sub_pd(_mm_loadu_pd(b2 + j + 1), _mm_mul_pd(kk, _mm_loadu_pd(b1 + j + 1)));
      _mm_storeu_pd(b1 + j, x1), _mm_storeu_pd(b2 + j, x2);
      vn = _mm_add_pd(vn, _mm_mul_pd(x1, x2));
      vd = _mm_add_pd(vd, _mm_add_pd(_mm_mul_pd(x1, x1), _mm_mul_pd(x2, x2)));
    }
    double ln[2], ld[2];
    _mm_storeu_pd(ln, vn), _mm_storeu_pd(ld, vd);
    num = ln[0], num2 = ln[1], den = ld[0], den2 = ld[1];
#endif
    for (; j + 1 < len; j += 2) {
      double x1 = b1[j] - k * b2[j], x2 = b2[j + 1] - k * b1[j + 1];
      double y1 = b1[j + 1] - k * b2[j + 1], y2 = b2[j + 2] - k * b1[j + 2];
      b1[j] = x1, b2[j] = x2, b1[j + 1] = y1, b2[j + 1] = y2;
      num += x1 * x2, den += x1 * x1 + x2 * x2;
      num2 += y1 * y2, den2 += y1 * y1 + y2 * y2;
    }
    for (; j < len; j++) {
      double x1 = b1[j] - k * b2[j], x2 = b2[j + 1] - k * b1[j + 1];
      b1[j] = x1, b2[j] = x2;
      num += x1 * x2, den += x1 * x1 + x2 * x2;
    }
  }
  return 1;
}

/* Complex arithmetic written out on a plain struct: the compiler's
 * _Complex division and cabs go through __divdc3 and hypot, whose
 * overflow care costs more than the whole Laguerre step here (roots lie
 * near the unit circle, coefficients are O(1..100)). */
typedef struct cpx {
  double re, im;
} cpx;

static cpx c_mul(cpx a, cpx b) { return (cpx){a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re}; }
static cpx c_div(cpx a, cpx b) {
  double d = b.re * b.re + b.im * b.im;
  return (cpx){(a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d};
}
static double c_abs(cpx a) { return sqrt(a.re * a.re + a.im * a.im); }
static cpx c_sqrt(cpx a) {
  double m = c_abs(a);
  if (m == 0) return (cpx){0, 0};
  double re = sqrt(0.5 * (m + fabs(a.re))), im = 0.5 * a.im / re;
  if (a.re >= 0) return (cpx){re, im};
  return (cpx){fabs(im), a.im >= 0 ? re : -re};
}

/* One root of the degree-m real polynomial c[0..m] (ascending), by
 * Laguerre's method from *x (Numerical Recipes' laguer, with its
 * fractional steps every 10th iteration to break limit cycles). */
static void laguerre(const double *c, int m, cpx *x) {
  static const double frac[] = {0.0, 0.5, 0.25, 0.75, 0.13, 0.38, 0.62, 0.88, 1.0};
  for (int iter = 1; iter <= 80; iter++) {
    cpx b = {c[m], 0}, d = {0, 0}, f = {0, 0};
    double err = fabs(c[m]), abx = c_abs(*x);
    for (int j = m - 1; j >= 0; j--) {
      f = c_mul(*x, f), f.re += d.re, f.im += d.im;
      d = c_mul(*x, d), d.re += b.re, d.im += b.im;
      b = c_mul(*x, b), b.re += c[j];
      err = c_abs(b) + abx * err;
    }
    if (c_abs(b) <= err * 1e-15) return;
    cpx g = c_div(d, b), g2 = c_mul(g, g), fb = c_div(f, b);
    cpx h = {g2.re - 2.0 * fb.re, g2.im - 2.0 * fb.im};
    cpx sq = c_sqrt((cpx){(m - 1) * (m * h.re - g2.re), (m - 1) * (m * h.im - g2.im)});
    cpx gp = {g.re + sq.re, g.im + sq.im}, gm = {g.re - sq.re, g.im - sq.im};
    double abp = c_abs(gp), abm = c_abs(gm);
    if (abp < abm) gp = gm;
    cpx dx;
    if (fmax(abp, abm) > 0) dx = c_div((cpx){(double)m, 0}, gp);
    else dx = (cpx){(1 + abx) * cos((double)iter), (1 + abx) * sin((double)iter)};
    cpx x1 = {x->re - dx.re, x->im - dx.im};
    if (x->re == x1.re && x->im == x1.im) return;
    if (iter % 10) *x = x1;
    else x->re -= frac[iter / 10 % 9] * dx.re, x->im -= frac[iter / 10 % 9] * dx.im;
  }
}

/* The roots with Im >= 0 of the real polynomial c[0..m] (ascending,
 * c[m] != 0): Laguerre with deflation, a complex root deflating its
 * conjugate with it (real quadratic factor, so the deflated polynomial
 * stays real and each pair costs one search), then each kept root is
 * polished on the full polynomial. Returns the number of roots written. */
static int poly_roots_upper(const double *c, int m, cpx *roots) {
  double ad[32];
  int nr = 0;
  for (int j = 0; j <= m; j++) ad[j] = c[j];
  for (int deg = m; deg >= 1;) {
    cpx x = {0, 0};
    laguerre(ad, deg, &x);
    if (deg >= 2 && fabs(x.im) > 1e-12 * fabs(x.re) + 1e-300) {
      /* divide by z^2 - p z - q with p = 2 Re x, q = -|x|^2 */
      double p = 2.0 * x.re, q = -(x.re * x.re + x.im * x.im), b1 = 0, b2 = 0;
      double nd[32];
      for (int j = deg; j >= 2; j--) {
        double bj = ad[j] + p * b1 + q * b2;
        nd[j - 2] = bj;
        b2 = b1, b1 = bj;
      }
      for (int j = 0; j <= deg - 2; j++) ad[j] = nd[j];
      roots[nr++] = (cpx){x.re, fabs(x.im)};
      deg -= 2;
    } else {
      double r = x.re, b = ad[deg];
      for (int j = deg - 1; j >= 0; j--) { double t = ad[j]; ad[j] = b; b = r * b + t; }
      roots[nr++] = (cpx){r, 0.0};
      deg -= 1;
    }
  }
  for (int j = 0; j < nr; j++) laguerre(c, m, &roots[j]); /* polish */
  return nr;
}

/* The resampled, pre-emphasised signal, produced block by block into a
 * sliding buffer that holds [base, base + len): memory O(block + frame)
 * whatever the length. Pre-emphasis y[i] -= alpha y[i-1] uses the
 * sample before it (y[0] unchanged), exactly as on the whole signal. */
typedef struct ybuf {
  rs_stream rs;
  float *buf;
  long cap, base, len, produced;
  float prev;
  double alpha;
} ybuf;

/* One analysis: geometry, the sliding resampled signal and the frame
 * scratch (the frame loop allocates nothing). */
struct vm__formant_stream {
  vm_formant_params p;
  int order;
  long nsamp, half;
  size_t n_frames;
  double t0_s, dt_s, dx, x1, nyq;
  ybuf yb;
  double *window, *frame, *a, *b1, *b2, *aa; /* (nsamp) x4, (order + 1) x2 */
};

/* The block whose output the buffer must start from to serve samples
 * from lo: the block before lo's (its last sample is the pre-emphasis
 * history), or the next one to produce if that is later. Skipping the
 * blocks in between (silence, unvoiced stretches) keeps the input a
 * streamed analysis must hold bounded. */
static long ybuf_first_block(const ybuf *b, long lo) {
  long jb = (lo / b->rs.cout - 1) * b->rs.cout;
  return jb > b->produced ? jb : b->produced;
}

/* Makes samples [lo, hi) available (lo never decreases between calls). */
static void ybuf_need(ybuf *b, long lo, long hi) {
  long jb = ybuf_first_block(b, lo);
  if (jb > b->produced) /* nothing before block jb is needed: skip to it */
    b->base = b->produced = jb, b->len = 0;
  while (b->produced < hi) {
    if (b->produced - b->base + b->rs.cout > b->cap) { /* drop what no frame needs */
      long keep = lo < b->produced ? lo : b->produced, drop = keep - b->base;
      memmove(b->buf, b->buf + drop, (size_t)(b->len - drop) * sizeof(float));
      b->base = keep, b->len -= drop;
    }
    float *y = b->buf + (b->produced - b->base);
    long m = rs_block(&b->rs, b->produced, y);
    for (long i = 0; i < m; i++) {
      float orig = y[i];
      if (b->produced + i > 0) y[i] -= (float)(b->alpha * b->prev);
      b->prev = orig;
    }
    b->produced += m, b->len += m;
    if (m == 0) break;
  }
}

/* Resampled samples [*lo, *hi) of frame k. */
static void frame_yspan(const vm__formant_stream *s, size_t k, long *lo, long *hi) {
  double tt = s->t0_s + (double)k * s->dt_s;
  long left = (long)floor((tt - s->x1) / s->dx), start = left + 1 - s->half;
  *lo = start < 0 ? 0 : start;
  long ny = (long)s->yb.rs.ny;
  *hi = *lo + s->nsamp < ny ? *lo + s->nsamp : ny;
}

/* Analyses frame k: writes n_kept frequencies to fq and, if bw is not
 * NULL, bandwidths (NAN past the formants found). The input samples of
 * vm__dsp_formant_stream_span(s, k) must be in xb (xb[i - x0] = sample i). */
void vm__dsp_formant_stream_frame(vm__formant_stream *s, const float *xb, long x0, size_t k,
                                  int n_kept, float *fq, float *bw) {
  for (int j = 0; j < n_kept; j++) fq[j] = NAN;
  if (bw) for (int j = 0; j < n_kept; j++) bw[j] = NAN;
  long lo, hi, start, ny = (long)s->yb.rs.ny;
  frame_yspan(s, k, &lo, &hi);
  start = (long)floor((s->t0_s + (double)k * s->dt_s - s->x1) / s->dx) + 1 - s->half;
  s->yb.rs.x = xb, s->yb.rs.x0 = x0;
  ybuf_need(&s->yb, lo, hi);
  s->yb.rs.x = NULL;
  const float *yb = s->yb.buf;
  long base = s->yb.base;
  long end = start + s->nsamp - 1, s0 = start < 0 ? 0 : start, e0 = end > ny - 1 ? ny - 1 : end;
  double peak = 0;
  for (long i = s0; i <= e0; i++) if (fabsf(yb[i - base]) > peak) peak = fabsf(yb[i - base]);
  if (peak == 0) return;
  for (long j = 0; j < s->nsamp; j++) {
    long i = s0 + j;
    s->frame[j] = i < ny ? yb[i - base] * s->window[j] : 0.0;
  }
  memset(s->aa, 0, sizeof(double) * (size_t)(s->order + 1));
  if (!burg(s->frame, e0 - s0 + 1, s->order, s->a, s->b1, s->b2, s->aa)) return;
  double coef[32];
  for (int i = 1; i <= s->order; i++) coef[i - 1] = -s->a[s->order - i + 1];
  coef[s->order] = 1.0;
  cpx roots[32];
  int nr = poly_roots_upper(coef, s->order, roots);
  double f[32], b[32];
  int nf = 0;
  for (int i = 0; i < nr; i++) {
    cpx z = roots[i];
    double m2 = z.re * z.re + z.im * z.im;
    if (m2 > 1.0) z.re /= m2, z.im /= m2, m2 = 1.0 / m2; /* 1 / conj(z) */
    if (z.im < 0) continue;
    double fr = fabs(atan2(z.im, z.re)) * s->nyq / M_PI;
    if (fr < 50.0 || fr > s->nyq - 50.0) continue;
    f[nf] = fr, b[nf] = -log(m2) * s->nyq / M_PI, nf++;
  }
  for (int i = 1; i < nf; i++) /* insertion sort by frequency */
    for (int j = i; j > 0 && f[j] < f[j - 1]; j--) {
      double tf = f[j]; f[j] = f[j - 1]; f[j - 1] = tf;
      double tb = b[j]; b[j] = b[j - 1]; b[j - 1] = tb;
    }
  if (nf > s->p.max_formants) nf = s->p.max_formants;
  if (nf > n_kept) nf = n_kept;
  for (int j = 0; j < nf; j++) {
    fq[j] = (float)f[j];
    if (bw) bw[j] = (float)b[j];
  }
}

void vm__dsp_formant_stream_destroy(vm__formant_stream *s) {
  if (!s) return;
  rs_deinit(&s->yb.rs);
  vm_free(s->yb.buf);
  vm_free(s->window), vm_free(s->frame), vm_free(s->b1), vm_free(s->b2);
  vm_free(s->a), vm_free(s->aa);
  vm_free(s);
}

int vm__dsp_formant_stream_create(const vm_formant_params *p, size_t n, int rate_hz,
                                  vm__formant_stream **out) {
  *out = NULL;
  if (rate_hz <= 0 || p->max_formants < 1 || p->max_formants > VM_FORMANT_MAX ||
      !(p->max_formant_hz > 0) || !(p->window_s > 0) || p->time_step_s < 0)
    return VM_EINVAL;
  vm__formant_stream *s = vm_calloc(1, sizeof *s);
  if (!s) return VM_ENOMEM;
  s->p = *p, s->order = 2 * p->max_formants;
  int rate_out = (int)floor(2.0 * p->max_formant_hz + 0.5);
  if (rs_init(&s->yb.rs, NULL, n, rate_hz, rate_out)) goto nomem;
  size_t ny = s->yb.rs.ny;
  s->dx = 1.0 / rate_out, s->x1 = s->yb.rs.x1_out, s->nyq = 0.5 * rate_out;
  s->yb.alpha = exp(-2.0 * M_PI * p->preemphasis_from_hz * s->dx);
  s->dt_s = p->time_step_s > 0 ? p->time_step_s : p->window_s / 4.0;
  double dur = (double)ny * s->dx, dtw = 2.0 * p->window_s;
  s->nsamp = (long)floor(dtw / s->dx);
  s->half = s->nsamp / 2;
  if (ny > 0 && dur >= dtw && s->nsamp >= s->order + 1) {
    s->n_frames = 1 + (size_t)floor((dur - dtw) / s->dt_s);
    s->t0_s = s->x1 + 0.5 * (dur - s->dx - (double)(s->n_frames - 1) * s->dt_s);
  }
  size_t ns = (size_t)(s->nsamp > 0 ? s->nsamp : 1);
  s->yb.cap = s->yb.rs.cout + (long)ns + 1;
  s->yb.buf = vm_malloc(sizeof(float) * (size_t)s->yb.cap);
  s->window = vm_malloc(sizeof(double) * ns);
  s->frame = vm_malloc(sizeof(double) * ns);
  s->b1 = vm_malloc(sizeof(double) * ns);
  s->b2 = vm_malloc(sizeof(double) * ns);
  s->a = vm_calloc((size_t)s->order + 1, sizeof(double));
  s->aa = vm_calloc((size_t)s->order + 1, sizeof(double));
  if (!s->yb.buf || !s->window || !s->frame || !s->b1 || !s->b2 || !s->a || !s->aa) goto nomem;
  double imid = 0.5 * (s->nsamp + 1), edge = exp(-12.0);
  for (long i = 1; i <= s->nsamp; i++)
    s->window[i - 1] = (exp(-48.0 * (i - imid) * (i - imid) / (s->nsamp + 1) / (s->nsamp + 1)) - edge) / (1 - edge);
  *out = s;
  return VM_OK;
nomem:
  vm__dsp_formant_stream_destroy(s);
  return VM_ENOMEM;
}

void vm__dsp_formant_stream_geometry(const vm__formant_stream *s, size_t *n_frames,
                                     double *t0_s, double *dt_s) {
  *n_frames = s->n_frames, *t0_s = s->t0_s, *dt_s = s->dt_s;
}

/* The resampler produces whole blocks: frame k needs every block up to
 * the one holding its last resampled sample, i.e. input up to that
 * block's end; the lowest input still needed is the next block's start. */
void vm__dsp_formant_stream_span(const vm__formant_stream *s, size_t k, long *lo, long *hi) {
  long ylo, yhi, a, b;
  frame_yspan(s, k, &ylo, &yhi);
  const rs_stream *r = &s->yb.rs;
  long produced = ybuf_first_block(&s->yb, ylo);
  rs_block_span(r, produced, lo, &b);
  *hi = *lo;
  if (yhi <= produced) return;
  long last = ((yhi - 1) / r->cout) * r->cout;
  rs_block_span(r, last, &a, hi);
  (void)a, (void)b;
}

int vm__dsp_formant_track_alloc(size_t n_frames, int n_kept, int with_bw, vm_formant_track **out) {
  *out = NULL;
  vm_formant_track *t = vm_calloc(1, sizeof *t);
  size_t m = (n_frames ? n_frames : 1) * (size_t)n_kept;
  if (!t) return VM_ENOMEM;
  t->n_frames = n_frames, t->n_kept = n_kept, t->n_rows = n_frames;
  t->freq_hz = vm_malloc(sizeof(float) * m);
  t->bw_hz = with_bw ? vm_malloc(sizeof(float) * m) : NULL;
  if (!t->freq_hz || (with_bw && !t->bw_hz)) {
    vm_dsp_formant_destroy(t);
    return VM_ENOMEM;
  }
  for (size_t i = 0; i < m; i++) {
    t->freq_hz[i] = NAN;
    if (t->bw_hz) t->bw_hz[i] = NAN;
  }
  *out = t;
  return VM_OK;
}

int vm_dsp_formant_create(const float *x, size_t n, int rate_hz,
                          const vm_formant_params *p, vm_formant_track **out,
                          vm_err *err) {
  return vm_dsp_formant_create_sparse(x, n, rate_hz, p, NULL, NULL, out, err);
}

int vm_dsp_formant_create_sparse(const float *x, size_t n, int rate_hz,
                                 const vm_formant_params *p,
                                 vm_formant_want_fn want, void *want_arg,
                                 vm_formant_track **out, vm_err *err) {
  *out = NULL;
  if (!x && n) return vm_err_set(err, VM_EINVAL, "formant: invalid parameters");
  vm__formant_stream *s = NULL;
  vm_formant_track *t = NULL;
  int rc = vm__dsp_formant_stream_create(p, n, rate_hz, &s);
  if (rc == VM_EINVAL) return vm_err_set(err, rc, "formant: invalid parameters");
  if (rc || vm__dsp_formant_track_alloc(s->n_frames, VM_FORMANT_MAX, 1, &t)) goto nomem;
  t->t0_s = s->t0_s, t->dt_s = s->dt_s;
  for (size_t k = 0; k < s->n_frames; k++) {
    if (want && !want(want_arg, s->t0_s + (double)k * s->dt_s)) continue; /* no formants */
    vm__dsp_formant_stream_frame(s, x, 0, k, VM_FORMANT_MAX, t->freq_hz + k * VM_FORMANT_MAX,
                                 t->bw_hz + k * VM_FORMANT_MAX);
  }
  vm__dsp_formant_stream_destroy(s);
  *out = t;
  return VM_OK;
nomem:
  vm__dsp_formant_stream_destroy(s);
  vm_dsp_formant_destroy(t);
  return vm_err_set(err, VM_ENOMEM, "formant: out of memory");
}

int vm__dsp_formant_track_alloc_sparse(size_t n_frames, int n_kept, vm_formant_track **out) {
  *out = NULL;
  vm_formant_track *t = vm_calloc(1, sizeof *t);
  if (!t) return VM_ENOMEM;
  size_t nw = n_frames / 64 + 1;
  t->n_frames = n_frames, t->n_kept = n_kept;
  t->has_row = vm_calloc(nw, sizeof *t->has_row);
  t->row_base = vm_calloc(nw, sizeof *t->row_base);
  if (!t->has_row || !t->row_base) {
    vm_dsp_formant_destroy(t);
    return VM_ENOMEM;
  }
  *out = t;
  return VM_OK;
}

float *vm__dsp_formant_track_add_row(vm_formant_track *t, size_t k) {
  size_t nk = (size_t)t->n_kept;
  if (t->n_rows == t->rows_cap) { /* grow by 1/8: large blocks are remapped, not copied */
    size_t cap = t->rows_cap + t->rows_cap / 8 + 1024;
    float *f = vm_realloc(t->freq_hz, cap * nk * sizeof(float));
    if (!f) return NULL;
    t->freq_hz = f, t->rows_cap = cap;
  }
  /* rows come in frame order: every row so far is before word k / 64
   * unless that word already has one */
  while (t->next_word <= k / 64) t->row_base[t->next_word++] = t->n_rows;
  t->has_row[k / 64] |= 1ULL << (k % 64);
  float *row = t->freq_hz + t->n_rows * nk;
  for (size_t j = 0; j < nk; j++) row[j] = NAN;
  t->n_rows++;
  return row;
}

void vm__dsp_formant_track_shrink(vm_formant_track *t) {
  while (t->next_word <= t->n_frames / 64) t->row_base[t->next_word++] = t->n_rows;
  float *f = vm_realloc(t->freq_hz, (t->n_rows ? t->n_rows : 1) * (size_t)t->n_kept * sizeof(float));
  if (f) t->freq_hz = f, t->rows_cap = t->n_rows ? t->n_rows : 1;
}

void vm_dsp_formant_destroy(vm_formant_track *t) {
  if (!t) return;
  vm_free(t->freq_hz);
  vm_free(t->bw_hz);
  vm_free(t->has_row);
  vm_free(t->row_base);
  vm_free(t);
}

double vm_dsp_formant_get(const vm_formant_track *t, size_t i, int k) {
  if (i >= t->n_frames || k < 1 || k > t->n_kept) return NAN;
  size_t row = i;
  if (t->has_row) {
    unsigned long long word = t->has_row[i / 64], bit = 1ULL << (i % 64);
    if (!(word & bit)) return NAN;
    row = t->row_base[i / 64] + (size_t)__builtin_popcountll(word & (bit - 1));
  }
  return t->freq_hz[row * (size_t)t->n_kept + (size_t)(k - 1)];
}
