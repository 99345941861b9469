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
#include <string.h>

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

int vm__dsp_intensity_geom_init(vm__intensity_geom *g, size_t n, int rate_hz,
                                double min_pitch_hz, double time_step_s) {
  memset(g, 0, sizeof *g);
  if (rate_hz <= 0 || !(min_pitch_hz > 0) || time_step_s < 0) return VM_EINVAL;
  double dx = 1.0 / rate_hz, logical = 3.2 / min_pitch_hz;
  double dt = time_step_s > 0 ? time_step_s : logical / 4.0;
  double physical = 2.0 * logical, half = 0.5 * physical, duration = (double)n * dx;
  g->n = (long)n, g->dx = dx, g->dt_s = dt;
  g->halfn = (long)floor(half / dx);
  long wn = 2 * g->halfn + 1;
  g->w = vm_malloc(sizeof(double) * (size_t)wn);
  if (!g->w) return VM_ENOMEM;
  for (long i = 0; i < wn; i++) {
    double u = (i - g->halfn) * dx / half, root = 1.0 - u * u;
    g->w[i] = bessel_i0((2.0 * M_PI * M_PI + 0.5) * sqrt(root > 0 ? root : 0.0));
  }
  if (physical <= duration) g->n_frames = (size_t)floor((duration - physical) / dt) + 1;
  g->t0_s = 0.5 * duration - 0.5 * (double)g->n_frames * dt + 0.5 * dt;
  return VM_OK;
}

void vm__dsp_intensity_geom_deinit(vm__intensity_geom *g) {
  vm_free(g->w);
  g->w = NULL;
}

/* Centre sample of frame k. */
static long frame_centre(const vm__intensity_geom *g, size_t k) {
  double mid = g->t0_s + (double)k * g->dt_s;
  return (long)floor((mid - 0.5 * g->dx) / g->dx + 0.5);
}

void vm__dsp_intensity_frame_span(const vm__intensity_geom *g, size_t k, long *lo, long *hi) {
  long c = frame_centre(g, k), l = c - g->halfn, r = c + g->halfn;
  *lo = l < 0 ? 0 : l;
  *hi = r > g->n - 1 ? g->n : r + 1;
}

float vm__dsp_intensity_frame(const vm__intensity_geom *g, const float *xb, long x0, size_t k) {
  long c = frame_centre(g, k), l, r;
  vm__dsp_intensity_frame_span(g, k, &l, &r);
  r--; /* inclusive */
  double sx = 0, sx2w = 0, sxw = 0, sw = 0;
  for (long i = l; i <= r; i++) {
    double v = xb[i - x0], wi = g->w[i - c + g->halfn];
    sx += v, sxw += v * wi, sx2w += v * v * wi, sw += wi;
  }
  double m = sx / (double)(r - l + 1);
  double e = (sx2w - 2 * m * sxw + m * m * sw) / sw / 4.0e-10;
  return (float)(e < 1e-30 ? -300.0 : 10.0 * log10(e));
}

int vm_dsp_intensity_create(const float *x, size_t n, int rate_hz,
                            double min_pitch_hz, double time_step_s,
                            vm_intensity_track **out, vm_err *err) {
  *out = NULL;
  if (!x && n) return vm_err_set(err, VM_EINVAL, "intensity: invalid parameters");
  vm__intensity_geom g;
  int rc = vm__dsp_intensity_geom_init(&g, n, rate_hz, min_pitch_hz, time_step_s);
  if (rc == VM_EINVAL) return vm_err_set(err, VM_EINVAL, "intensity: invalid parameters");
  vm_intensity_track *t = rc ? NULL : vm_calloc(1, sizeof *t);
  if (!t) goto nomem;
  t->n_frames = g.n_frames, t->dt_s = g.dt_s, t->t0_s = g.t0_s;
  t->db = vm_malloc(sizeof(float) * (g.n_frames ? g.n_frames : 1));
  if (!t->db) goto nomem;
  for (size_t k = 0; k < g.n_frames; k++) t->db[k] = vm__dsp_intensity_frame(&g, x, 0, k);
  vm__dsp_intensity_geom_deinit(&g);
  *out = t;
  return VM_OK;
nomem:
  vm__dsp_intensity_geom_deinit(&g);
  vm_dsp_intensity_destroy(t);
  return vm_err_set(err, VM_ENOMEM, "intensity: out of memory");
}

void vm_dsp_intensity_destroy(vm_intensity_track *t) {
  if (!t) return;
  vm_free(t->db);
  vm_free(t);
}
