/* Diarization of hard voice pairs: two same-gender voices of similar
 * pitch, and three speakers of mixed gender, on conversations of varied
 * sentences (about 90 s), clean and at 10 dB SNR.
 *
 * Build & run: cmake --build build --target test_forensic_diarize_voices &&
 *              build/tests/test_forensic_diarize_voices [test_name]
 * Each case prints its DER (0.25 s collar, optimal mapping) and speaker
 * count and asserts the targets: DER < 10 % clean, < 20 % at
 * 10 dB SNR (up to 3 speakers; see test_four_mixed for 4), the speaker
 * count right on the clean file. Before the CLR
 * stage (diarize_gmm.c) every same-gender pair came out as one speaker
 * (DER 41-49 %). Skips (77) without espeak-ng. */
#include "diar/diar_testkit.h"
#include "diar/diar_text.h"
#include "diarize.h"
#include "test.h"
#include "vad.h"

/* VAD + diarization; returns DER and writes the speaker count. */
static double run_der(const tk_convo *c, const float *mono, int *out_k) {
  vm_vad_result *v = NULL;
  vm_diar_result *d = NULL;
  if (vm_vad_run(mono, c->n, TK_RATE, NULL, &v)) return 1e9;
  vm_diar_input in = {.mono = mono, .n_samples = c->n, .sample_rate_hz = TK_RATE,
                      .regions = v->regions, .n_regions = v->n_regions};
  int rc = vm_diarize(&in, NULL, &d);
  vm_vad_result_destroy(v);
  if (rc) return 1e9;
  tk_hyp_turn *h = malloc((d->n_turns + 1) * sizeof *h);
  if (!h) return 1e9;
  for (size_t i = 0; i < d->n_turns; i++)
    h[i] = (tk_hyp_turn){d->turns[i].start_s, d->turns[i].end_s, d->turns[i].speaker};
  *out_k = d->n_speakers;
  double der = tk_der(c, h, d->n_turns, 0.25);
  free(h);
  vm_diar_result_destroy(d);
  return der;
}

/* Runs one case clean and at 10 dB. OUT: DERs and counts. */
static int run_case(const char *name, const tk_voice *const *v, const int *who, size_t n_who,
                    int lang_en, double seconds, double out_der[2], int out_k[2]) {
  static tk_varied t;
  if (tk_varied_build(v, who, n_who, lang_en, 5, seconds, &t)) {
    tk_varied_free(&t);
    TEST_SKIP("espeak-ng synthesis failed");
  }
  out_der[0] = run_der(&t.c, t.c.mono, &out_k[0]);
  float *x = malloc(t.c.n * sizeof(float));
  ASSERT_NOT_NULL(x);
  memcpy(x, t.c.mono, t.c.n * sizeof(float));
  tk_add_noise(x, t.c.n, &t.c, 10, 3);
  out_der[1] = run_der(&t.c, x, &out_k[1]);
  free(x);
  int n_true = t.c.n_speakers;
  printf("  %s (%.0f s, %zu turns): clean DER %.2f %%, %d speakers; 10 dB DER %.2f %%, %d speakers (true %d)\n",
         name, (double)t.c.n / TK_RATE, t.c.n_ref, 100 * out_der[0], out_k[0], 100 * out_der[1],
         out_k[1], t.c.n_speakers);
  tk_varied_free(&t);
  ASSERT_EQ(out_k[0], n_true);
  ASSERT_LT(out_der[0] * 1000, 100);
  if (n_true <= 3) ASSERT_LT(out_der[1] * 1000, 200);
  return 0;
}

#define HAVE_ESPEAK() (system("espeak-ng --version >/dev/null 2>&1") == 0)

static int test_same_gender_korean(void) {
  if (!HAVE_ESPEAK()) TEST_SKIP("espeak-ng not available");
  static const tk_voice a = {"-v ko -p 30 -s 135"}, b = {"-v ko+m3 -p 45 -s 160"};
  const tk_voice *v[2] = {&a, &b};
  static const int who[2] = {0, 1};
  double der[2];
  int k[2];
  return run_case("ko male/male", v, who, 2, 0, 90, der, k);
}

static int test_same_gender_english(void) {
  if (!HAVE_ESPEAK()) TEST_SKIP("espeak-ng not available");
  static const tk_voice a = {"-v en-us+m1 -p 40 -s 150"}, b = {"-v en-us+m3 -p 50 -s 170"};
  const tk_voice *v[2] = {&a, &b};
  static const int who[2] = {0, 1};
  double der[2];
  int k[2];
  return run_case("en male/male", v, who, 2, 1, 90, der, k);
}

static int test_same_gender_female(void) {
  if (!HAVE_ESPEAK()) TEST_SKIP("espeak-ng not available");
  static const tk_voice a = {"-v en-us+f2 -p 60 -s 160"}, b = {"-v en-us+f4 -p 70 -s 180"};
  const tk_voice *v[2] = {&a, &b};
  static const int who[2] = {0, 1};
  double der[2];
  int k[2];
  return run_case("en female/female", v, who, 2, 1, 90, der, k);
}

static int test_three_mixed(void) {
  if (!HAVE_ESPEAK()) TEST_SKIP("espeak-ng not available");
  static const tk_voice a = {"-v ko -p 25 -s 130"}, b = {"-v ko+f3 -p 80 -s 170"},
                        c = {"-v ko+m3 -p 50 -s 155"};
  const tk_voice *v[3] = {&a, &b, &c};
  static const int who[6] = {0, 1, 2, 1, 0, 2};
  double der[2];
  int k[2];
  return run_case("ko 3 speakers M/F/M", v, who, 6, 0, 100, der, k);
}

/* Four speakers, two of each gender (the issue asks for 1-4). */
static int test_four_mixed(void) {
  if (!HAVE_ESPEAK()) TEST_SKIP("espeak-ng not available");
  static const tk_voice a = {"-v ko -p 25 -s 130"}, b = {"-v ko+f3 -p 80 -s 170"},
                        c = {"-v ko+m3 -p 50 -s 155"}, d = {"-v ko+f2 -p 60 -s 145"};
  const tk_voice *v[4] = {&a, &b, &c, &d};
  static const int who[8] = {0, 1, 2, 3, 1, 0, 3, 2};
  double der[2];
  int k[2];
  if (run_case("ko 4 speakers M/F/M/F", v, who, 8, 0, 130, der, k)) return 1;
  /* At 10 dB the two female voices (5 semitones apart) reach CLR -0.48,
   * above the -0.5 threshold, and merge: 3 speakers, DER 29 %
   * (docs/diarization.md, known weaknesses). Guard against worse. */
  ASSERT_GE(k[1], 3);
  ASSERT_LT(der[1] * 1000, 350);
  return 0;
}

static int test_cleanup(void) {
  tk_cleanup();
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_same_gender_korean), TEST_ENTRY(test_same_gender_english),
          TEST_ENTRY(test_same_gender_female), TEST_ENTRY(test_three_mixed), TEST_ENTRY(test_four_mixed),
          TEST_ENTRY(test_cleanup))
