/* Unit tests for vm_dsp_level_stats on signals with known answers. */
#include <math.h>

#include "dsp_stats.h"
#include "test.h"

#define RATE 16000

static int test_sine_levels(void) {
  static float x[RATE];
  for (int i = 0; i < RATE; i++) x[i] = 0.5f * sinf(2.0f * 3.14159265f * 440.0f * (float)i / RATE);
  vm_level_stats s;
  vm_dsp_level_stats(x, RATE, RATE, &s);
  ASSERT_NEAR(s.peak, 0.5, 1e-3);
  ASSERT_NEAR(s.peak_dbfs, -6.0206, 0.01);
  ASSERT_NEAR(s.rms_dbfs, -9.0309, 0.01); /* 0.5/sqrt(2) */
  ASSERT_NEAR(s.crest_db, 3.0103, 0.02);
  ASSERT_NEAR(s.dc_offset, 0, 1e-4);
  ASSERT_EQ(s.silent, 0);
  ASSERT_NEAR(s.active_fraction, 1.0, 1e-9);
  ASSERT_NEAR(s.clipped_fraction, 0, 1e-12);
  return 0;
}

static int test_silence_and_empty(void) {
  static float x[RATE];
  vm_level_stats s;
  vm_dsp_level_stats(x, RATE, RATE, &s);
  ASSERT(isinf(s.peak_dbfs) && s.peak_dbfs < 0);
  ASSERT(isnan(s.crest_db));
  ASSERT_EQ(s.silent, 1);
  ASSERT_NEAR(s.active_fraction, 0, 1e-12);
  vm_dsp_level_stats(x, 0, RATE, &s);
  ASSERT_EQ(s.silent, 1);
  /* very quiet noise floor at -70 dBFS is still "silent" */
  for (int i = 0; i < RATE; i++) x[i] = (i & 1) ? 3e-4f : -3e-4f;
  vm_dsp_level_stats(x, RATE, RATE, &s);
  ASSERT_EQ(s.silent, 1);
  return 0;
}

static int test_clipping_runs(void) {
  static float x[1000];
  for (int i = 0; i < 1000; i++) x[i] = 0.1f;
  for (int i = 100; i < 110; i++) x[i] = 1.0f;   /* one run of 10 */
  for (int i = 500; i < 502; i++) x[i] = -1.0f;  /* too short to be a run */
  vm_level_stats s;
  vm_dsp_level_stats(x, 1000, RATE, &s);
  ASSERT_NEAR(s.clipped_fraction, 12.0 / 1000, 1e-12);
  ASSERT_EQ(s.n_clipped_runs, 1);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_sine_levels), TEST_ENTRY(test_silence_and_empty),
          TEST_ENTRY(test_clipping_runs))
