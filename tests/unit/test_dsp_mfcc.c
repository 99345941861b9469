/* FFT wrapper and MFCC/band-energy extractor on signals with known
 * answers; FFT plans created from several threads at once.
 *
 * Build & run: cmake --build build --target test_dsp_mfcc &&
 *              build/tests/test_dsp_mfcc [test_name] */
#include <math.h>
#include <pthread.h>

#include "dsp_fft.h"
#include "dsp_mfcc.h"
#include "test.h"

#define RATE 16000
#define PI_F 3.14159265358979f

static int test_fft_power_and_parseval(void) {
  vm_dsp_fft *f = NULL;
  ASSERT_EQ(vm_dsp_fft_create(3, &f), VM_EINVAL);
  ASSERT_NULL(f);
  ASSERT_OK(vm_dsp_fft_create(512, &f));
  ASSERT_EQ(vm_dsp_fft_size(f), 512);
  static float x[512], p[257];
  double e = 0;
  for (int i = 0; i < 512; i++) {
    x[i] = 0.5f * sinf(2 * PI_F * 32 * i / 512.0f); /* exactly bin 32 */
    e += (double)x[i] * x[i];
  }
  vm_dsp_fft_power(f, x, 512, p);
  int peak = 0;
  double sum = p[0] + p[256];
  for (int k = 1; k < 256; k++) sum += 2.0 * p[k];
  for (int k = 1; k < 257; k++) if (p[k] > p[peak]) peak = k;
  ASSERT_EQ(peak, 32);
  ASSERT_NEAR(sum / 512.0, e, 1e-3 * e); /* Parseval */
  /* autocorrelation of a periodic signal peaks again at its period */
  static float r[257];
  for (int i = 0; i < 200; i++) x[i] = sinf(2 * PI_F * i / 50.0f);
  vm_dsp_fft_autocorr(f, x, 200, r);
  double r0 = 0;
  for (int i = 0; i < 200; i++) r0 += (double)x[i] * x[i];
  ASSERT_NEAR(r[0], r0, 1e-3 * r0);
  ASSERT(r[50] > r[25] && r[50] > r[49] && r[50] > r[51]);
  vm_dsp_fft_destroy(f);
  vm_dsp_fft_destroy(NULL);
  return 0;
}

static void *plan_many(void *arg) {
  (void)arg;
  for (int i = 0; i < 50; i++) {
    vm_dsp_fft *f = NULL;
    if (vm_dsp_fft_create((size_t)(64 << (i % 6)), &f) != 0) return (void *)1;
    vm_dsp_fft_destroy(f);
  }
  return NULL;
}

static int test_fft_threads(void) {
  pthread_t t[4];
  for (int i = 0; i < 4; i++) ASSERT_EQ(pthread_create(&t[i], NULL, plan_many, NULL), 0);
  for (int i = 0; i < 4; i++) {
    void *rv = (void *)1;
    pthread_join(t[i], &rv);
    ASSERT_NULL(rv);
  }
  return 0;
}

static int test_band_energy_and_frames(void) {
  vm_mfcc_opts o;
  vm_dsp_mfcc_opts_default(&o);
  vm_dsp_mfcc *m = NULL;
  ASSERT_OK(vm_dsp_mfcc_create(&o, &m));
  ASSERT_EQ(vm_dsp_mfcc_hop(m), 160);
  ASSERT_EQ(vm_dsp_mfcc_n_frames(m, 16000), 100);
  ASSERT_EQ(vm_dsp_mfcc_n_frames(m, 16001), 101);
  ASSERT_EQ(vm_dsp_mfcc_n_frames(m, 0), 0);
  static float x[RATE], db[100], ceps[100 * 13];
  for (int i = 0; i < RATE; i++) x[i] = sinf(2 * PI_F * 1000 * i / RATE);
  vm_dsp_mfcc_compute(m, x, RATE, ceps, db);
  ASSERT_NEAR(db[50], -3.01, 0.2); /* full-scale sine: mean square 0.5 */
  for (int i = 0; i < RATE; i++) x[i] = 0.5f * sinf(2 * PI_F * 50 * i / RATE); /* hum */
  vm_dsp_mfcc_compute(m, x, RATE, ceps, db);
  ASSERT_LT(db[50], -30); /* outside the 100-3800 Hz band */
  for (int i = 0; i < RATE; i++) x[i] = 0;
  vm_dsp_mfcc_compute(m, x, RATE, ceps, db);
  for (int i = 0; i < 100 * 13; i++) ASSERT(isfinite(ceps[i]));
  ASSERT_LT(db[10], -100);
  /* cepstra tell a low tone from a high one */
  static float c1[100 * 13], c2[100 * 13];
  for (int i = 0; i < RATE; i++) x[i] = 0.3f * sinf(2 * PI_F * 300 * i / RATE);
  vm_dsp_mfcc_compute(m, x, RATE, c1, NULL);
  for (int i = 0; i < RATE; i++) x[i] = 0.3f * sinf(2 * PI_F * 3000 * i / RATE);
  vm_dsp_mfcc_compute(m, x, RATE, c2, NULL);
  ASSERT(c1[50 * 13 + 1] > c2[50 * 13 + 1]); /* c1 = spectral tilt */
  vm_dsp_mfcc_destroy(m);
  o.fmax_hz = 9000; /* above Nyquist */
  ASSERT_EQ(vm_dsp_mfcc_create(&o, &m), VM_EINVAL);
  ASSERT_NULL(m);
  return 0;
}

static int test_deltas(void) {
  static float f[20 * 2], d[20 * 2];
  for (int t = 0; t < 20; t++) { f[t * 2] = 3.0f * t; f[t * 2 + 1] = 7; }
  vm_dsp_deltas(f, 20, 2, 2, d);
  ASSERT_NEAR(d[10 * 2], 3.0, 1e-5);  /* slope of a ramp */
  ASSERT_NEAR(d[10 * 2 + 1], 0, 1e-6);
  ASSERT(d[0] < 3.0f);                /* edges replicated */
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_fft_power_and_parseval), TEST_ENTRY(test_fft_threads),
          TEST_ENTRY(test_band_energy_and_frames), TEST_ENTRY(test_deltas))
