/* dsp_formant.c — Burg LPC formants, Praat-compatible.
 *
 * DESIGN
 * 1. vm__dsp_resample: exact band-limited rate change in the frequency
 *    domain, block by block (blocks of ~64 k input samples with 2 k-sample
 *    overlaps that absorb the circular edges), so memory is bounded by the
 *    block and the output. Downsampling drops the bins above the new
 *    Nyquist (Praat's anti-alias filter); upsampling zero-pads.
 * 2. Pre-emphasis, Gaussian window, Burg recursion (the classic
 *    "memcof" form, double precision), then the roots of the order-10
 *    predictor polynomial by Laguerre's method with deflation and
 *    polishing on the full polynomial (Praat uses a companion-matrix
 *    eigen-solver; both converge to the same roots).
 * The frame loop allocates nothing.
 */
#include "dsp_formant.h"

#include <complex.h>
#include <fftw3.h>
#include <math.h>
#include <string.h>

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

int vm__dsp_resample(const float *x, size_t n, int rate_in, int rate_out,
                     float **out_y, size_t *out_n) {
  *out_y = NULL, *out_n = 0;
  size_t ny = (size_t)floor((double)n * rate_out / rate_in + 0.5);
  float *y = vm_calloc(ny ? ny : 1, sizeof(float));
  if (!y) return VM_ENOMEM;
  if (rate_in == rate_out) {
    if (n) memcpy(y, x, n * sizeof(float));
    *out_y = y, *out_n = n;
    return VM_OK;
  }
  long g = gcd_l(rate_in, rate_out), L = rate_in / g, M = rate_out / g;
  long k = (65536 + L - 1) / L, mg = (2048 + L - 1) / L;
  long cin = k * L, cout = k * M, min_ = mg * L, mout = mg * M;
  long nin = cin + 2 * min_, nout = cout + 2 * mout;
  vm__rfft fi, fo;
  memset(&fi, 0, sizeof fi), memset(&fo, 0, sizeof fo);
  if (vm__dsp_rfft_init(&fi, (int)nin) || vm__dsp_rfft_init(&fo, (int)nout)) {
    vm__dsp_rfft_deinit(&fi), vm__dsp_rfft_deinit(&fo), vm_free(y);
    return VM_ENOMEM;
  }
  long nb = (nin < nout ? nin : nout) / 2; /* bins kept: 0 .. nb-1 */
  float (*si)[2] = fi.spec, (*so)[2] = fo.spec; /* fftwf_complex is _Complex here */
  for (long j0 = 0; j0 < (long)ny; j0 += cout) {
    long s = (j0 / M) * L - min_; /* j0 is a multiple of cout, so of M */
    for (long i = 0; i < nin; i++) {
      long src = s + i;
      fi.buf[i] = src >= 0 && src < (long)n ? x[src] : 0.0f;
    }
    vm__dsp_rfft_forward(&fi);
    float scale = 1.0f / (float)nin;
    for (long b = 0; b <= nout / 2; b++) {
      so[b][0] = b < nb ? si[b][0] * scale : 0.0f;
      so[b][1] = b < nb ? si[b][1] * scale : 0.0f;
    }
    vm__dsp_rfft_inverse(&fo);
    for (long j = 0; j < cout && j0 + j < (long)ny; j++) y[j0 + j] = fo.buf[mout + j];
  }
  vm__dsp_rfft_deinit(&fi), vm__dsp_rfft_deinit(&fo);
  *out_y = y, *out_n = ny;
  return VM_OK;
}

/* Burg's method: a[1..m] with x[i] ~ sum a[k] x[i-k]. Scratch b1, b2, aa
 * of n, n, m+1 doubles. Returns 0 on a degenerate frame. */
static int burg(const double *x, long n, int m, double *a, double *b1, double *b2, double *aa) {
  double p = 0;
  for (long j = 0; j < n; j++) p += x[j] * x[j];
  if (p <= 0 || n <= m) return 0;
  for (long j = 0; j < n - 1; j++) b1[j] = x[j], b2[j] = x[j + 1];
  for (int i = 1; i <= m; i++) {
    double num = 0, den = 0;
    for (long j = 0; j < n - i; j++) num += b1[j] * b2[j], den += b1[j] * b1[j] + b2[j] * b2[j];
    if (den <= 0) return 0;
    a[i] = 2.0 * num / den;
    for (int j = 1; j < i; j++) a[j] = aa[j] - a[i] * aa[i - j];
    if (i < m) {
      for (int j = 1; j <= i; j++) aa[j] = a[j];
      for (long j = 0; j < n - i - 1; j++) {
        b1[j] -= aa[i] * b2[j];
        b2[j] = b2[j + 1] - aa[i] * b1[j + 1];
      }
    }
  }
  return 1;
}

/* One root of the degree-m polynomial c[0..m] (ascending) by Laguerre. */
static void laguerre(const double complex *c, int m, double complex *x) {
  static const double frac[] = {0.0, 0.5, 0.25, 0.75, 0.13, 0.38, 0.62, 0.88, 1.0};
  for (int iter = 1; iter <= 80; iter++) {
    double complex b = c[m], d = 0, f = 0;
    double err = cabs(b), abx = cabs(*x);
    for (int j = m - 1; j >= 0; j--) {
      f = *x * f + d;
      d = *x * d + b;
      b = *x * b + c[j];
      err = cabs(b) + abx * err;
    }
    if (cabs(b) <= err * 1e-15) return;
    double complex g = d / b, g2 = g * g, h = g2 - 2.0 * f / b;
    double complex sq = csqrt((m - 1) * (m * h - g2)), gp = g + sq, gm = g - sq;
    double abp = cabs(gp), abm = cabs(gm);
    if (abp < abm) gp = gm;
    double complex dx = fmax(abp, abm) > 0 ? m / gp : (1 + abx) * cexp(I * (double)iter);
    double complex x1 = *x - dx;
    if (*x == x1) return;
    if (iter % 10) *x = x1; else *x -= frac[iter / 10 % 9] * dx;
  }
}

/* All m roots of c[0..m] (ascending, c[m] != 0). */
static void poly_roots(const double *cr, int m, double complex *roots) {
  double complex c[32], ad[32];
  for (int j = 0; j <= m; j++) c[j] = ad[j] = cr[j];
  for (int j = m; j >= 1; j--) {
    double complex x = 0, b = ad[j];
    laguerre(ad, j, &x);
    roots[j - 1] = x;
    for (int jj = j - 1; jj >= 0; jj--) { double complex t = ad[jj]; ad[jj] = b; b = x * b + t; }
  }
  for (int j = 0; j < m; j++) laguerre(c, m, &roots[j]); /* polish */
}

typedef struct fctx {
  const vm_formant_params *p;
  int order;
  long nsamp;
  double *window, *frame, *a, *b1, *b2, *aa;
} fctx;

static void frame_formants(fctx *c, const float *y, long ny, long start, double nyq,
                           vm_formant_track *t, size_t iframe) {
  float *fq = t->freq_hz + iframe * VM_FORMANT_MAX, *bw = t->bw_hz + iframe * VM_FORMANT_MAX;
  for (int k = 0; k < VM_FORMANT_MAX; k++) fq[k] = bw[k] = NAN;
  t->n_formants[iframe] = 0;
  long end = start + c->nsamp - 1, s0 = start < 0 ? 0 : start, e0 = end > ny - 1 ? ny - 1 : end;
  double peak = 0;
  for (long i = s0; i <= e0; i++) if (fabsf(y[i]) > peak) peak = fabsf(y[i]);
  if (peak == 0) return;
  for (long j = 0; j < c->nsamp; j++) {
    long i = s0 + j;
    c->frame[j] = i < ny ? y[i] * c->window[j] : 0.0;
  }
  memset(c->aa, 0, sizeof(double) * (size_t)(c->order + 1));
  if (!burg(c->frame, e0 - s0 + 1, c->order, c->a, c->b1, c->b2, c->aa)) return;
  double coef[32];
  for (int i = 1; i <= c->order; i++) coef[i - 1] = -c->a[c->order - i + 1];
  coef[c->order] = 1.0;
  double complex roots[32];
  poly_roots(coef, c->order, roots);
  double f[32], b[32];
  int nf = 0;
  for (int i = 0; i < c->order; i++) {
    double complex z = roots[i];
    if (cabs(z) > 1.0) z = 1.0 / conj(z);
    if (cimag(z) < 0) continue;
    double fr = fabs(atan2(cimag(z), creal(z))) * nyq / M_PI;
    if (fr < 50.0 || fr > nyq - 50.0) continue;
    f[nf] = fr, b[nf] = -log(creal(z) * creal(z) + cimag(z) * cimag(z)) * nyq / M_PI, nf++;
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
  *out = NULL;
  if ((!x && n) || rate_hz <= 0 || p->max_formants < 1 || p->max_formants > VM_FORMANT_MAX ||
      !(p->max_formant_hz > 0) || !(p->window_s > 0) || p->time_step_s < 0)
    return vm_err_set(err, VM_EINVAL, "formant: invalid parameters");
  int rate_out = (int)floor(2.0 * p->max_formant_hz + 0.5);
  float *y = NULL;
  size_t ny = 0;
  vm_formant_track *t = NULL;
  fctx c;
  memset(&c, 0, sizeof c);
  c.p = p, c.order = 2 * p->max_formants;
  if (vm__dsp_resample(x, n, rate_hz, rate_out, &y, &ny)) goto nomem;
  double dx = 1.0 / rate_out, x1 = 0.5 / rate_hz, nyq = 0.5 * rate_out;
  double alpha = exp(-2.0 * M_PI * p->preemphasis_from_hz * dx);
  for (size_t i = ny; i-- > 1;) y[i] -= (float)(alpha * y[i - 1]);
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
  c.window = vm_malloc(sizeof(double) * ns);
  c.frame = vm_malloc(sizeof(double) * ns);
  c.b1 = vm_malloc(sizeof(double) * ns);
  c.b2 = vm_malloc(sizeof(double) * ns);
  c.a = vm_calloc((size_t)c.order + 1, sizeof(double));
  c.aa = vm_calloc((size_t)c.order + 1, sizeof(double));
  if (!c.window || !c.frame || !c.b1 || !c.b2 || !c.a || !c.aa) goto nomem;
  double imid = 0.5 * (c.nsamp + 1), edge = exp(-12.0);
  for (long i = 1; i <= c.nsamp; i++)
    c.window[i - 1] = (exp(-48.0 * (i - imid) * (i - imid) / (c.nsamp + 1) / (c.nsamp + 1)) - edge) / (1 - edge);
  for (size_t k = 0; k < nf; k++) {
    double tt = t1 + (double)k * dt;
    long left = (long)floor((tt - x1) / dx);
    frame_formants(&c, y, (long)ny, left + 1 - half, nyq, t, k);
  }
  int rc = VM_OK;
  goto out;
nomem:
  rc = vm_err_set(err, VM_ENOMEM, "formant: out of memory");
  vm_dsp_formant_destroy(t);
  t = NULL;
out:
  vm_free(y);
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
