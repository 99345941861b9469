/* dsp_intensity.c — Praat-compatible intensity contour.
 *
 * DESIGN
 * Direct weighted sums per frame (window ~1000 samples at 16 kHz, hop 8
 * ms): sum w (x - m)^2 = sum w x^2 - 2 m sum w x + m^2 sum w, with m the
 * plain mean over the window, so one pass gives both sums. Accumulation in
 * double. The Bessel I0 comes from its power series (converges fast for
 * the arguments used, <= 20.2).
 */
#include "dsp_intensity.h"

#include <math.h>

#include "vm_alloc.h"

static double bessel_i0(double x) {
  double sum = 1.0, term = 1.0, q = 0.25 * x * x;
  for (int k = 1; k < 200; k++) {
    term *= q / ((double)k * k);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return sum;
}

int vm_dsp_intensity_create(const float *x, size_t n, int rate_hz,
                            double min_pitch_hz, double time_step_s,
                            vm_intensity_track **out, vm_err *err) {
  *out = NULL;
  if ((!x && n) || rate_hz <= 0 || !(min_pitch_hz > 0) || time_step_s < 0)
    return vm_err_set(err, VM_EINVAL, "intensity: invalid parameters");
  double dx = 1.0 / rate_hz, logical = 3.2 / min_pitch_hz;
  double dt = time_step_s > 0 ? time_step_s : logical / 4.0;
  double physical = 2.0 * logical, half = 0.5 * physical, duration = (double)n * dx;
  long halfn = (long)floor(half / dx), wn = 2 * halfn + 1;
  vm_intensity_track *t = vm_calloc(1, sizeof *t);
  double *w = vm_malloc(sizeof(double) * (size_t)wn);
  if (!t || !w) goto nomem;
  for (long i = 0; i < wn; i++) {
    double u = (i - halfn) * dx / half, root = 1.0 - u * u;
    w[i] = bessel_i0((2.0 * M_PI * M_PI + 0.5) * sqrt(root > 0 ? root : 0.0));
  }
  size_t nf = 0;
  if (physical <= duration) nf = (size_t)floor((duration - physical) / dt) + 1;
  t->n_frames = nf, t->dt_s = dt;
  t->t0_s = 0.5 * duration - 0.5 * (double)nf * dt + 0.5 * dt;
  t->db = vm_malloc(sizeof(float) * (nf ? nf : 1));
  if (!t->db) goto nomem;
  for (size_t k = 0; k < nf; k++) {
    double mid = t->t0_s + (double)k * dt;
    long c = (long)floor((mid - 0.5 * dx) / dx + 0.5);
    long l = c - halfn, r = c + halfn;
    if (l < 0) l = 0;
    if (r > (long)n - 1) r = (long)n - 1;
    double sx = 0, sx2w = 0, sxw = 0, sw = 0;
    for (long i = l; i <= r; i++) {
      double v = x[i], wi = w[i - c + halfn];
      sx += v, sxw += v * wi, sx2w += v * v * wi, sw += wi;
    }
    double m = sx / (double)(r - l + 1);
    double e = (sx2w - 2 * m * sxw + m * m * sw) / sw / 4.0e-10;
    t->db[k] = (float)(e < 1e-30 ? -300.0 : 10.0 * log10(e));
  }
  vm_free(w);
  *out = t;
  return VM_OK;
nomem:
  vm_free(w);
  vm_dsp_intensity_destroy(t);
  return vm_err_set(err, VM_ENOMEM, "intensity: out of memory");
}

void vm_dsp_intensity_destroy(vm_intensity_track *t) {
  if (!t) return;
  vm_free(t->db);
  vm_free(t);
}
