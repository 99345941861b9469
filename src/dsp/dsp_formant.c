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
  const float *x;
  size_t n, ny;
  long L, M, cin, cout, min_, mout, nin, nout, nb;
  double x1_out; /* time of output sample 0, s */
  float *ph;     /* (nb, 2): exp(2 pi i b shift / nin) / nin; NULL at equal rates */
  vm__rfft fi, fo;
} rs_stream;

static int rs_init(rs_stream *r, const float *x, size_t n, int rate_in, int rate_out) {
  memset(r, 0, sizeof *r);
  r->x = x, r->n = n;
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

/* Writes output samples j0 .. min(j0 + cout, ny) - 1 to y (j0 a multiple
 * of cout); returns how many. */
static long rs_block(rs_stream *r, long j0, float *y) {
  long m = r->cout < (long)r->ny - j0 ? r->cout : (long)r->ny - j0;
  if (m <= 0) return 0;
  if (r->L == r->M) {
    memcpy(y, r->x + j0, (size_t)m * sizeof(float));
    return m;
  }
  long s = (j0 / r->M) * r->L - r->min_; /* j0 is a multiple of cout, so of M */
  for (long i = 0; i < r->nin; i++) {
    long src = s + i;
    r->fi.buf[i] = src >= 0 && src < (long)r->n ? r->x[src] : 0.0f;
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

typedef struct fctx {
  const vm_formant_params *p;
  int order;
  long nsamp;
  double *window, *frame, *a, *b1, *b2, *aa;
} fctx;

/* y holds samples base .. of the resampled, pre-emphasised signal (of
 * ny in all); the frame's samples must be in it. */
static void frame_formants(fctx *c, const float *yb, long base, long ny, long start, double nyq,
                           vm_formant_track *t, size_t iframe) {
  float *fq = t->freq_hz + iframe * VM_FORMANT_MAX, *bw = t->bw_hz + iframe * VM_FORMANT_MAX;
  for (int k = 0; k < VM_FORMANT_MAX; k++) fq[k] = bw[k] = NAN;
  t->n_formants[iframe] = 0;
  long end = start + c->nsamp - 1, s0 = start < 0 ? 0 : start, e0 = end > ny - 1 ? ny - 1 : end;
  double peak = 0;
  for (long i = s0; i <= e0; i++) if (fabsf(yb[i - base]) > peak) peak = fabsf(yb[i - base]);
  if (peak == 0) return;
  for (long j = 0; j < c->nsamp; j++) {
    long i = s0 + j;
    c->frame[j] = i < ny ? yb[i - base] * c->window[j] : 0.0;
  }
  memset(c->aa, 0, sizeof(double) * (size_t)(c->order + 1));
  if (!burg(c->frame, e0 - s0 + 1, c->order, c->a, c->b1, c->b2, c->aa)) return;
  double coef[32];
  for (int i = 1; i <= c->order; i++) coef[i - 1] = -c->a[c->order - i + 1];
  coef[c->order] = 1.0;
  cpx roots[32];
  int nr = poly_roots_upper(coef, c->order, roots);
  double f[32], b[32];
  int nf = 0;
  for (int i = 0; i < nr; i++) {
    cpx z = roots[i];
    double m2 = z.re * z.re + z.im * z.im;
    if (m2 > 1.0) z.re /= m2, z.im /= m2, m2 = 1.0 / m2; /* 1 / conj(z) */
    if (z.im < 0) continue;
    double fr = fabs(atan2(z.im, z.re)) * nyq / M_PI;
    if (fr < 50.0 || fr > nyq - 50.0) continue;
    f[nf] = fr, b[nf] = -log(m2) * nyq / M_PI, nf++;
  }
  for (int i = 1; i < nf; i++) /* insertion sort by frequency */
    for (int j = i; j > 0 && f[j] < f[j - 1]; j--) {
      double tf = f[j]; f[j] = f[j - 1]; f[j - 1] = tf;
      double tb = b[j]; b[j] = b[j - 1]; b[j - 1] = tb;
    }
  if (nf > c->p->max_formants) nf = c->p->max_formants;
  if (nf > VM_FORMANT_MAX) nf = VM_FORMANT_MAX;
  for (int k = 0; k < nf; k++) fq[k] = (float)f[k], bw[k] = (float)b[k];
  t->n_formants[iframe] = (unsigned char)nf;
}

static int track_alloc(size_t nf, vm_formant_track **out) {
  vm_formant_track *t = vm_calloc(1, sizeof *t);
  size_t m = nf ? nf : 1;
  if (!t) return VM_ENOMEM;
  t->n_frames = nf;
  t->n_formants = vm_calloc(m, 1);
  t->freq_hz = vm_malloc(sizeof(float) * m * VM_FORMANT_MAX);
  t->bw_hz = vm_malloc(sizeof(float) * m * VM_FORMANT_MAX);
  if (!t->n_formants || !t->freq_hz || !t->bw_hz) {
    vm_dsp_formant_destroy(t);
    return VM_ENOMEM;
  }
  *out = t;
  return VM_OK;
}

int vm_dsp_formant_create(const float *x, size_t n, int rate_hz,
                          const vm_formant_params *p, vm_formant_track **out,
                          vm_err *err) {
  return vm_dsp_formant_create_sparse(x, n, rate_hz, p, NULL, NULL, out, err);
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

/* Makes samples [lo, hi) available (lo never decreases between calls). */
static void ybuf_need(ybuf *b, long lo, long hi) {
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

int vm_dsp_formant_create_sparse(const float *x, size_t n, int rate_hz,
                                 const vm_formant_params *p,
                                 vm_formant_want_fn want, void *want_arg,
                                 vm_formant_track **out, vm_err *err) {
  *out = NULL;
  if ((!x && n) || rate_hz <= 0 || p->max_formants < 1 || p->max_formants > VM_FORMANT_MAX ||
      !(p->max_formant_hz > 0) || !(p->window_s > 0) || p->time_step_s < 0)
    return vm_err_set(err, VM_EINVAL, "formant: invalid parameters");
  int rate_out = (int)floor(2.0 * p->max_formant_hz + 0.5);
  ybuf yb;
  memset(&yb, 0, sizeof yb);
  vm_formant_track *t = NULL;
  fctx c;
  memset(&c, 0, sizeof c);
  c.p = p, c.order = 2 * p->max_formants;
  if (rs_init(&yb.rs, x, n, rate_hz, rate_out)) goto nomem;
  size_t ny = yb.rs.ny;
  double dx = 1.0 / rate_out, x1 = yb.rs.x1_out, nyq = 0.5 * rate_out;
  yb.alpha = exp(-2.0 * M_PI * p->preemphasis_from_hz * dx);
  double dt = p->time_step_s > 0 ? p->time_step_s : p->window_s / 4.0;
  double dur = (double)ny * dx, dtw = 2.0 * p->window_s;
  c.nsamp = (long)floor(dtw / dx);
  long half = c.nsamp / 2;
  size_t nf = 0;
  double t1 = 0;
  if (ny > 0 && dur >= dtw && c.nsamp >= c.order + 1) {
    nf = 1 + (size_t)floor((dur - dtw) / dt);
    t1 = x1 + 0.5 * (dur - dx - (double)(nf - 1) * dt);
  }
  if (track_alloc(nf, &t)) goto nomem;
  t->t0_s = t1, t->dt_s = dt;
  size_t ns = (size_t)(c.nsamp > 0 ? c.nsamp : 1);
  yb.cap = yb.rs.cout + (long)ns + 1;
  yb.buf = vm_malloc(sizeof(float) * (size_t)yb.cap);
  c.window = vm_malloc(sizeof(double) * ns);
  c.frame = vm_malloc(sizeof(double) * ns);
  c.b1 = vm_malloc(sizeof(double) * ns);
  c.b2 = vm_malloc(sizeof(double) * ns);
  c.a = vm_calloc((size_t)c.order + 1, sizeof(double));
  c.aa = vm_calloc((size_t)c.order + 1, sizeof(double));
  if (!yb.buf || !c.window || !c.frame || !c.b1 || !c.b2 || !c.a || !c.aa) goto nomem;
  double imid = 0.5 * (c.nsamp + 1), edge = exp(-12.0);
  for (long i = 1; i <= c.nsamp; i++)
    c.window[i - 1] = (exp(-48.0 * (i - imid) * (i - imid) / (c.nsamp + 1) / (c.nsamp + 1)) - edge) / (1 - edge);
  for (size_t k = 0; k < nf; k++) {
    double tt = t1 + (double)k * dt;
    if (want && !want(want_arg, tt)) { /* not wanted: no formants */
      for (int j = 0; j < VM_FORMANT_MAX; j++) t->freq_hz[k * VM_FORMANT_MAX + (size_t)j] = t->bw_hz[k * VM_FORMANT_MAX + (size_t)j] = NAN;
      t->n_formants[k] = 0;
      continue;
    }
    long left = (long)floor((tt - x1) / dx), start = left + 1 - half, lo = start < 0 ? 0 : start;
    long hi = lo + c.nsamp < (long)ny ? lo + c.nsamp : (long)ny;
    ybuf_need(&yb, lo, hi);
    frame_formants(&c, yb.buf, yb.base, (long)ny, start, nyq, t, k);
  }
  int rc = VM_OK;
  goto out;
nomem:
  rc = vm_err_set(err, VM_ENOMEM, "formant: out of memory");
  vm_dsp_formant_destroy(t);
  t = NULL;
out:
  rs_deinit(&yb.rs);
  vm_free(yb.buf);
  vm_free(c.window), vm_free(c.frame), vm_free(c.b1), vm_free(c.b2);
  vm_free(c.a), vm_free(c.aa);
  *out = t;
  return rc;
}

void vm_dsp_formant_destroy(vm_formant_track *t) {
  if (!t) return;
  vm_free(t->n_formants);
  vm_free(t->freq_hz);
  vm_free(t->bw_hz);
  vm_free(t);
}

double vm_dsp_formant_get(const vm_formant_track *t, size_t i, int k) {
  if (i >= t->n_frames || k < 1 || k > t->n_formants[i]) return NAN;
  return t->freq_hz[i * VM_FORMANT_MAX + (size_t)(k - 1)];
}
