/* Glottal pulses, jitter, shimmer and HNR: ground truth on synthetic
 * vowels with known perturbations and noise, and agreement with Praat's
 * voice report (PointProcess (cc), jitter/shimmer, Harmonicity (cc)). */
#include <math.h>

#include "dsp_hnr.h"
#include "dsp_pitch.h"
#include "dsp_pointprocess.h"
#include "dsp_voice_quality.h"
#include "test.h"
#include "voice_test_util.h"

#define RATE 16000

typedef struct vq {
  vm_jitter j;
  vm_shimmer s;
  double hnr;
  size_t pulses;
} vq;

static int measure(const float *x, size_t n, int rate, vq *out) {
  vm_pitch_params pp;
  vm_dsp_pitch_params_init(&pp);
  vm_pitch_track *pt = NULL;
  vm_pointprocess *pulses = NULL;
  vm_hnr_track *h = NULL;
  vm_hnr_params hp;
  vm_dsp_hnr_params_init(&hp);
  vm_voice_quality_params q;
  vm_dsp_voice_quality_params_init(&q);
  ASSERT_OK(vm_dsp_pitch_create(x, n, rate, &pp, &pt, NULL));
  ASSERT_OK(vm_dsp_pointprocess_create(x, n, rate, pt, NULL, &pulses, NULL));
  ASSERT_OK(vm_dsp_hnr_create(x, n, rate, &hp, &h, NULL));
  double end = (double)n / rate;
  vm_dsp_jitter_get(pulses, 0, end, &q, &out->j);
  vm_dsp_shimmer_get(pulses, 0, end, &q, &out->s);
  double s = 0;
  size_t c = 0;
  for (size_t i = 0; i < h->n_frames; i++) if (!isnan(h->hnr_db[i])) s += h->hnr_db[i], c++;
  out->hnr = c ? s / (double)c : NAN;
  out->pulses = pulses->n;
  vm_dsp_hnr_destroy(h);
  vm_dsp_pointprocess_destroy(pulses);
  vm_dsp_pitch_destroy(pt);
  return 0;
}

/* Known jitter and shimmer: local ~ 2/sqrt(pi) x SD for Gaussian
 * perturbations (mean absolute difference of neighbours). */
static int test_ground_truth(void) {
  static float x[2 * RATE];
  const double fmt[3] = {700, 1220, 2600};
  vq m;
  vt_vowel(x, 2 * RATE, RATE, 120, 0.0, 0.0, 0.0, fmt, 1);
  ASSERT_OK(measure(x, 2 * RATE, RATE, &m));
  ASSERT_NEAR(m.pulses, 2 * 120, 8);
  ASSERT(m.j.local < 0.002);
  ASSERT(m.s.local < 0.01);
  ASSERT(m.hnr > 30);
  vt_vowel(x, 2 * RATE, RATE, 120, 0.01, 0.0, 0.0, fmt, 2);
  ASSERT_OK(measure(x, 2 * RATE, RATE, &m));
  printf("  jitter 1%%: local %.5f (expect ~%.5f)\n", m.j.local, 0.01 * 2 / sqrt(M_PI));
  ASSERT(vt_close(m.j.local, 0.01 * 2 / sqrt(M_PI), 0.2, 0));
  vt_vowel(x, 2 * RATE, RATE, 120, 0.0, 0.08, 0.0, fmt, 3);
  ASSERT_OK(measure(x, 2 * RATE, RATE, &m));
  printf("  shimmer 8%%: local %.4f (source ~%.4f, smeared by the resonators)\n", m.s.local,
         0.08 * 2 / sqrt(M_PI));
  ASSERT(m.s.local > 0.03 && m.s.local < 0.12);
  ASSERT(m.j.local < 0.003);
  vt_vowel(x, 2 * RATE, RATE, 120, 0.0, 0.0, 0.05, fmt, 4);
  ASSERT_OK(measure(x, 2 * RATE, RATE, &m));
  printf("  noise: hnr %.2f dB\n", m.hnr);
  ASSERT(m.hnr > 5 && m.hnr < 25);
  return 0;
}

static int test_edge_cases(void) {
  static float x[RATE];
  vq m;
  ASSERT_OK(measure(x, RATE, RATE, &m)); /* silence */
  ASSERT_EQ(m.pulses, 0);
  ASSERT(isnan(m.j.local) && isnan(m.s.local) && isnan(m.hnr));
  ASSERT_OK(measure(x, 100, RATE, &m)); /* 6 ms */
  ASSERT(isnan(m.j.local) && isnan(m.hnr));
  x[RATE / 2] = 1.0f; /* one click */
  ASSERT_OK(measure(x, RATE, RATE, &m));
  ASSERT(isnan(m.j.local));
  return 0;
}

static int compare(const char *wav) {
  size_t n;
  int rate;
  float *x = vt_read_wav(wav, &n, &rate);
  ASSERT_NOT_NULL(x);
  vq m;
  int rc = measure(x, n, rate, &m);
  free(x);
  ASSERT_OK(rc);
  vt_report r;
  ASSERT_OK(vt_praat("voice_report.praat", wav, 75, 600, &r));
  printf("  %s\n    pulses %zu/%g jitter %.5f/%.5f rap %.5f/%.5f ppq5 %.5f/%.5f\n"
         "    shimmer %.4f/%.4f apq3 %.4f/%.4f apq11 %.4f/%.4f hnr %.2f/%.2f\n",
         wav, m.pulses, vt_get(&r, "pulses"), m.j.local, vt_get(&r, "jitter_local"), m.j.rap,
         vt_get(&r, "jitter_rap"), m.j.ppq5, vt_get(&r, "jitter_ppq5"), m.s.local,
         vt_get(&r, "shimmer_local"), m.s.apq3, vt_get(&r, "shimmer_apq3"), m.s.apq11,
         vt_get(&r, "shimmer_apq11"), m.hnr, vt_get(&r, "hnr_mean"));
  ASSERT(vt_close(m.j.local, vt_get(&r, "jitter_local"), 0.10, 0.002));
  ASSERT(vt_close(m.s.local, vt_get(&r, "shimmer_local"), 0.10, 0.002));
  ASSERT(vt_close(m.j.local_abs_s, vt_get(&r, "jitter_local_abs"), 0.10, 2e-5));
  ASSERT_NEAR(m.hnr, vt_get(&r, "hnr_mean"), 1.0);
  return 0;
}

static int test_praat(void) {
  if (!vt_have_praat()) TEST_SKIP("praat not installed");
  static float x[2 * RATE];
  const double fmt[3] = {650, 1100, 2500};
  const struct { double f0, jit, shim, noise; } c[] = {
      {110, 0.01, 0.05, 0.005}, {210, 0.005, 0.10, 0.02}, {150, 0.02, 0.02, 0.0}};
  char wav[256];
  snprintf(wav, sizeof wav, "%s/vq.wav", vt_tmpdir());
  for (int k = 0; k < 3; k++) {
    vt_vowel(x, 2 * RATE, RATE, c[k].f0, c[k].jit, c[k].shim, c[k].noise, fmt, 20 + (uint64_t)k);
    ASSERT_OK(vt_write_wav(wav, x, 2 * RATE, RATE));
    int rc = compare(wav);
    unlink(wav);
    if (rc) return rc;
  }
  if (system("espeak-ng --version >/dev/null 2>&1") != 0) return 0;
  const char *args[] = {"-v en-gb -p 70 'I will call you back tomorrow morning about the contract.'",
                        "-v ko -s 140 -p 30 '지금 당장 돈을 보내지 않으면 큰일 날 줄 알아.'"};
  for (int k = 0; k < 2; k++) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "espeak-ng -w '%s' %s", wav, args[k]);
    ASSERT_EQ(system(cmd), 0);
    int rc = compare(wav);
    unlink(wav);
    if (rc) return rc;
  }
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_ground_truth), TEST_ENTRY(test_edge_cases), TEST_ENTRY(test_praat))
