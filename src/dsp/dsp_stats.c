/* dsp_stats.c — one pass for peak/RMS/DC/clipping, one for 20 ms frames.
 * Sums in double: a 3-hour file has 1.7e8 samples, beyond float's
 * 24-bit mantissa. */
#include "dsp_stats.h"

#include <math.h>

static double to_db(double lin) { return lin > 0 ? 20.0 * log10(lin) : -INFINITY; }

void vm_dsp_level_stats(const float *x, size_t n, int rate_hz,
                        vm_level_stats *out) {
  double peak = 0, sum = 0, sum2 = 0;
  size_t clipped = 0, runs = 0, run = 0;
  for (size_t i = 0; i < n; i++) {
    double v = x[i], a = fabs(v);
    if (a > peak) peak = a;
    sum += v;
    sum2 += v * v;
    if (a >= VM_CLIP_LEVEL) {
      clipped++;
      if (++run == 3) runs++;
    } else {
      run = 0;
    }
  }
  size_t frame = rate_hz > 0 ? (size_t)rate_hz / 50 : 320;
  size_t n_frames = 0, n_active = 0, n_audible = 0;
  if (frame == 0) frame = 1;
  for (size_t s = 0; s + frame <= n || (s == 0 && n > 0); s += frame) {
    size_t len = s + frame <= n ? frame : n - s;
    double e = 0;
    for (size_t i = s; i < s + len; i++) e += (double)x[i] * x[i];
    double db = to_db(sqrt(e / (double)len));
    n_frames++;
    if (db > -50) n_active++;
    if (db > -60) n_audible++;
    if (len < frame) break;
  }
  double rms = n ? sqrt(sum2 / (double)n) : 0;
  out->peak = peak;
  out->peak_dbfs = to_db(peak);
  out->rms_dbfs = to_db(rms);
  out->crest_db = rms > 0 ? out->peak_dbfs - out->rms_dbfs : NAN;
  out->dc_offset = n ? sum / (double)n : 0;
  out->clipped_fraction = n ? (double)clipped / (double)n : 0;
  out->n_clipped_runs = runs;
  out->active_fraction = n_frames ? (double)n_active / (double)n_frames : 0;
  out->silent = n_audible == 0;
}
