/* audio_normalize.c — loudness normalisation with libebur128.
 *
 * DESIGN: measure once, scale once. libebur128 (ITU-R BS.1770-4 / EBU
 * R128, mode I + sample peak) gives the integrated loudness of the mono
 * signal; the gain that brings it to target_lufs is then
 *   - capped at max_gain_db (a quiet recording is mostly noise: never
 *     amplify it by more than +30 dB), and
 *   - lowered so that the sample peak after the gain stays at or under
 *     peak_ceiling_dbfs (no clipping, no limiter: a forensic copy must stay
 *     a linear function of the original).
 * A signal is "silent" and left untouched when libebur128 finds no 400 ms
 * block above the -70 LUFS absolute gate (it returns -inf), or when it is
 * shorter than one gating block (0.4 s), which cannot be measured.
 *
 * lufs_after is computed, not re-measured: lufs_before + gain_db. The
 * K-weighting filter is linear, so scaling by g scales every block's power
 * by g^2 and moves every block loudness and both gates by the same dB; the
 * only inexactness is a block crossing the fixed -70 LUFS absolute gate,
 * which matters only for blocks > 10 LU under the mean, i.e. already
 * removed by the relative gate. The unit test re-measures to confirm.
 *
 * Not here: decoding (audio_decode.c), level statistics (dsp/).
 */
#include <math.h>
#include <string.h>

#include <ebur128.h>

#include "audio.h"

#define GATE_BLOCK_S 0.4        /* one BS.1770 gating block */
#define ABS_GATE_LUFS -70.0     /* BS.1770 absolute gate */
#define CHUNK_FRAMES 65536      /* frames per ebur128_add_frames_float call */

vm_norm_opts vm_norm_opts_default(void) {
  vm_norm_opts o = {.target_lufs = -23.0, .max_gain_db = 30.0,
                    .peak_ceiling_dbfs = -1.0};
  return o;
}

static double peak_dbfs(const float *x, size_t n) {
  float peak = 0;
  for (size_t i = 0; i < n; i++) {
    float a = fabsf(x[i]);
    if (a > peak) peak = a;
  }
  return peak > 0 ? 20.0 * log10((double)peak) : -INFINITY;
}

/* Integrated loudness of x, LUFS (-inf when everything is gated out), and
 * its sample peak, dBFS. */
static int measure(const float *x, size_t n, int rate_hz, double *out_lufs,
                   double *out_peak_dbfs, vm_err *err) {
  ebur128_state *st = ebur128_init(1, (unsigned long)rate_hz,
                                   EBUR128_MODE_I | EBUR128_MODE_SAMPLE_PEAK);
  double peak = 0;
  int rc = VM_OK;
  if (!st) return vm_err_set(err, VM_ENOMEM, "cannot set up loudness meter");
  for (size_t i = 0; i < n; i += CHUNK_FRAMES) {
    size_t m = n - i < CHUNK_FRAMES ? n - i : CHUNK_FRAMES;
    if (ebur128_add_frames_float(st, x + i, m) != EBUR128_SUCCESS) {
      rc = vm_err_set(err, VM_ENOMEM, "loudness meter failed");
      goto out;
    }
  }
  if (ebur128_loudness_global(st, out_lufs) != EBUR128_SUCCESS ||
      ebur128_sample_peak(st, 0, &peak) != EBUR128_SUCCESS)
    rc = vm_err_set(err, VM_EINTERNAL, "loudness measurement failed");
  *out_peak_dbfs = peak > 0 ? 20.0 * log10(peak) : -INFINITY;
out:
  ebur128_destroy(&st);
  return rc;
}

int vm_audio_normalize(float *x, size_t n, int rate_hz,
                       const vm_norm_opts *opts, vm_loudness *out,
                       vm_err *err) {
  vm_norm_opts o = opts ? *opts : vm_norm_opts_default();
  vm_loudness l = {.lufs_before = NAN, .lufs_after = NAN, .gain_db = 0};
  double lufs = -INFINITY;
  int rc = VM_OK;

  vm_err_clear(err);
  if (out) memset(out, 0, sizeof *out);
  if ((!x && n) || rate_hz < 16 || rate_hz > 2822400 || !isfinite(o.target_lufs) ||
      !(o.max_gain_db >= 0) || !isfinite(o.peak_ceiling_dbfs))
    return vm_err_set(err, VM_EINVAL, "invalid normalisation arguments");

  l.peak_dbfs_before = peak_dbfs(x, n);
  l.peak_dbfs_after = l.peak_dbfs_before;
  if ((double)n < GATE_BLOCK_S * rate_hz || isinf(l.peak_dbfs_before)) {
    l.silent = 1; /* too short to measure, or digital silence */
    goto out;
  }
  /* libebur128's sample peak equals our max |x|; keep one source. */
  if ((rc = measure(x, n, rate_hz, &lufs, &l.peak_dbfs_before, err)) != VM_OK)
    goto out;
  l.peak_dbfs_after = l.peak_dbfs_before;
  if (!isfinite(lufs) || lufs < ABS_GATE_LUFS) {
    l.silent = 1;
    goto out;
  }
  l.lufs_before = lufs;
  double gain = o.target_lufs - lufs;
  if (gain > o.max_gain_db) {
    gain = o.max_gain_db;
    l.gain_limited = 1;
  }
  if (l.peak_dbfs_before + gain > o.peak_ceiling_dbfs) {
    gain = o.peak_ceiling_dbfs - l.peak_dbfs_before;
    l.gain_limited = 1;
  }
  float scale = (float)pow(10.0, gain / 20.0);
  for (size_t i = 0; i < n; i++) x[i] *= scale;
  l.gain_db = gain;
  l.lufs_after = lufs + gain; /* exact up to the absolute gate: see top */
  l.peak_dbfs_after = peak_dbfs(x, n);
out:
  if (out && rc == VM_OK) *out = l;
  return rc;
}
