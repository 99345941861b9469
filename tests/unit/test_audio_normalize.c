/* Unit tests for vm_audio_normalize. Every result is re-measured here with
 * libebur128 directly, independently of the value the function reports.
 *
 *   ctest --test-dir build -R test_audio_normalize --output-on-failure
 */
#include <ebur128.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio.h"
#include "test.h"
#include "vm_alloc.h"

#define RATE 16000
#define PI 3.14159265358979323846

/* Integrated loudness by libebur128, LUFS. */
static double lufs_of(const float *x, size_t n, int rate) {
  ebur128_state *st = ebur128_init(1, (unsigned long)rate, EBUR128_MODE_I);
  double l = NAN;
  if (!st) return NAN;
  ebur128_add_frames_float(st, x, n);
  ebur128_loudness_global(st, &l);
  ebur128_destroy(&st);
  return l;
}

static float peak_of(const float *x, size_t n) {
  float p = 0;
  for (size_t i = 0; i < n; i++) p = fabsf(x[i]) > p ? fabsf(x[i]) : p;
  return p;
}

/* n samples of a 1 kHz sine scaled to exactly `lufs`. */
static float *sine_at(size_t n, double lufs) {
  float *x = vm_malloc(n * sizeof(float));
  if (!x) return NULL;
  for (size_t i = 0; i < n; i++) x[i] = (float)(0.1 * sin(2 * PI * 1000.0 * (double)i / RATE));
  float g = (float)pow(10.0, (lufs - lufs_of(x, n, RATE)) / 20.0);
  for (size_t i = 0; i < n; i++) x[i] *= g;
  return x;
}

static int test_sine_to_target(void) {
  size_t n = 5 * RATE;
  float *x = sine_at(n, -35.0);
  vm_loudness l;
  vm_err e;
  ASSERT_NOT_NULL(x);
  ASSERT_NEAR(lufs_of(x, n, RATE), -35.0, 0.01);
  double peak0 = 20 * log10(peak_of(x, n));
  ASSERT_OK(vm_audio_normalize(x, n, RATE, NULL, &l, &e));
  ASSERT_NEAR(lufs_of(x, n, RATE), -23.0, 0.5);  /* re-measured */
  ASSERT_NEAR(lufs_of(x, n, RATE), -23.0, 0.02); /* and in fact much closer */
  ASSERT_NEAR(l.lufs_before, -35.0, 0.01);
  ASSERT_NEAR(l.lufs_after, -23.0, 0.01);
  ASSERT_NEAR(l.gain_db, 12.0, 0.01);
  ASSERT_NEAR(l.peak_dbfs_before, peak0, 0.001);
  ASSERT_NEAR(l.peak_dbfs_after, peak0 + 12.0, 0.01);
  ASSERT_EQ(l.silent, 0);
  ASSERT_EQ(l.gain_limited, 0);
  vm_free(x);
  return 0;
}

static int test_speech_fixture(void) {
  vm_audio a;
  vm_loudness l;
  vm_err e;
  ASSERT_OK(vm_audio_decode_file(VM_FIXTURE_DIR "/good/en1.flac", NULL, &a, &e));
  for (size_t i = 0; i < a.n_samples; i++) a.samples[i] *= 0.05f; /* ~ -26 dB */
  double before = lufs_of(a.samples, a.n_samples, a.sample_rate_hz);
  ASSERT(before < -40);
  ASSERT_OK(vm_audio_normalize(a.samples, a.n_samples, a.sample_rate_hz, NULL, &l, &e));
  double after = lufs_of(a.samples, a.n_samples, a.sample_rate_hz);
  ASSERT_NEAR(l.lufs_before, before, 0.01);
  ASSERT_NEAR(l.lufs_after, after, 0.05); /* computed value == re-measured */
  ASSERT(l.peak_dbfs_after <= -1.0 + 1e-4);
  if (!l.gain_limited) ASSERT_NEAR(after, -23.0, 0.5);
  else ASSERT(after < -23.0);
  vm_audio_deinit(&a);
  return 0;
}

static int test_peak_ceiling(void) {
  /* A quiet sine (-40 LUFS) with clicks at 0.5: +17 dB would clip; the gain
   * must stop where the clicks reach -1 dBFS. */
  size_t n = 4 * RATE;
  float *x = sine_at(n, -40.0);
  vm_loudness l;
  vm_err e;
  ASSERT_NOT_NULL(x);
  for (size_t i = 100; i < n; i += RATE / 2) x[i] = 0.5f;
  ASSERT_OK(vm_audio_normalize(x, n, RATE, NULL, &l, &e));
  ASSERT_EQ(l.gain_limited, 1);
  ASSERT_EQ(l.silent, 0);
  ASSERT_NEAR(l.peak_dbfs_before, 20 * log10(0.5), 1e-4);
  ASSERT_NEAR(l.gain_db, -1.0 - 20 * log10(0.5), 1e-6);
  ASSERT(peak_of(x, n) <= powf(10.0f, -1.0f / 20.0f) * 1.000001f);
  ASSERT_NEAR(l.peak_dbfs_after, -1.0, 0.001);
  ASSERT(l.lufs_after < -30);
  ASSERT_NEAR(lufs_of(x, n, RATE), l.lufs_after, 0.05);
  vm_free(x);
  return 0;
}

static int test_gain_cap_and_attenuation(void) {
  size_t n = 3 * RATE;
  float *x = sine_at(n, -65.0);
  vm_loudness l;
  vm_err e;
  ASSERT_NOT_NULL(x);
  ASSERT_OK(vm_audio_normalize(x, n, RATE, NULL, &l, &e));
  ASSERT_NEAR(l.gain_db, 30.0, 1e-9); /* wanted +42 dB */
  ASSERT_EQ(l.gain_limited, 1);
  ASSERT_NEAR(lufs_of(x, n, RATE), -35.0, 0.05);
  vm_free(x);
  /* a loud signal is turned down, without limiting */
  x = sine_at(n, -10.0);
  ASSERT_NOT_NULL(x);
  vm_norm_opts o = vm_norm_opts_default();
  o.target_lufs = -20;
  ASSERT_OK(vm_audio_normalize(x, n, RATE, &o, &l, &e));
  ASSERT_NEAR(l.gain_db, -10.0, 0.01);
  ASSERT_EQ(l.gain_limited, 0);
  ASSERT_NEAR(lufs_of(x, n, RATE), -20.0, 0.05);
  vm_free(x);
  return 0;
}

static int check_untouched(float *x, size_t n, int want_finite_peak) {
  float *copy = vm_malloc(n * sizeof(float) + 1);
  vm_loudness l;
  vm_err e;
  ASSERT_NOT_NULL(copy);
  if (n) memcpy(copy, x, n * sizeof(float));
  ASSERT_OK(vm_audio_normalize(x, n, RATE, NULL, &l, &e));
  ASSERT_EQ(l.silent, 1);
  ASSERT_EQ(l.gain_limited, 0);
  ASSERT_NEAR(l.gain_db, 0, 0);
  ASSERT(isnan(l.lufs_before) && isnan(l.lufs_after));
  ASSERT(want_finite_peak ? isfinite(l.peak_dbfs_before)
                          : (isinf(l.peak_dbfs_before) && l.peak_dbfs_before < 0));
  ASSERT(l.peak_dbfs_after == l.peak_dbfs_before);
  ASSERT(n == 0 || memcmp(copy, x, n * sizeof(float)) == 0);
  vm_free(copy);
  return 0;
}

static int test_silence_untouched(void) {
  size_t n = 3 * RATE;
  float *x = vm_calloc(n, sizeof(float));
  ASSERT_NOT_NULL(x);
  ASSERT_EQ(check_untouched(x, n, 0), 0);       /* digital silence */
  for (size_t i = 0; i < n; i++) x[i] = (i & 1) ? 1e-5f : -1e-5f;
  ASSERT_EQ(check_untouched(x, n, 1), 0);       /* under the -70 LUFS gate */
  vm_free(x);
  float *s = sine_at(RATE, -20.0);  /* first 0.3 s: below one block */
  ASSERT_NOT_NULL(s);
  ASSERT_EQ(check_untouched(s, RATE * 3 / 10, 1), 0);
  vm_free(s);
  ASSERT_EQ(check_untouched(NULL, 0, 0), 0);
  vm_err e;
  float y[4] = {0};
  ASSERT_EQ(vm_audio_normalize(y, 4, 0, NULL, NULL, &e), VM_EINVAL);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_sine_to_target), TEST_ENTRY(test_speech_fixture),
          TEST_ENTRY(test_peak_ceiling), TEST_ENTRY(test_gain_cap_and_attenuation),
          TEST_ENTRY(test_silence_untouched))
