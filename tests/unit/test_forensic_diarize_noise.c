/* Diarization under degraded conditions: a Korean male/female and an
 * English male/male conversation (about 80 s of varied sentences each),
 * clean, with white noise at 10 and 5 dB SNR, babble at 10 dB, 50 Hz
 * hum at 10 dB, through a telephone channel (300–3400 Hz, 8 kHz mu-law),
 * and telephone plus white noise at 10 dB. Each case prints DER (0.25 s
 * collar) and the speaker count, and asserts DER < 5 % (a few points
 * over the measured 0.4–1.7 %; the issue asks < 10 % clean, < 20 % at
 * 10 dB) and the right count everywhere (docs/diarization.md).
 *
 * Build & run: cmake --build build --target test_forensic_diarize_noise &&
 *              build/tests/test_forensic_diarize_noise [test_name]
 * Skips (77) without espeak-ng. */
#include "diar/diar_noise.h"
#include "diar/diar_testkit.h"
#include "diar/diar_text.h"
#include "diarize.h"
#include "test.h"
#include "vad.h"

static const tk_voice BAB[6] = {{"-v en-us -p 40 -s 160"}, {"-v en-gb+f2 -p 70 -s 170"},
                                {"-v ko+m3 -p 45 -s 150"}, {"-v en-us+f4 -p 60 -s 180"},
                                {"-v ko+f2 -p 55 -s 175"}, {"-v en-gb+m1 -p 35 -s 145"}};
static tk_sig g_bab[6];
static int g_bab_ready;

static int babble_load(void) {
  if (g_bab_ready) return g_bab_ready > 0 ? 0 : -1;
  g_bab_ready = -1;
  char t[400];
  for (int i = 0; i < 6; i++) {
    if (i % 2) tk_text_en(i + 100, t, sizeof t); else tk_text_ko(i + 100, t, sizeof t);
    g_bab[i] = tk_say(&BAB[i], t);
    if (!g_bab[i].x) return -1;
  }
  g_bab_ready = 1;
  return 0;
}

/* VAD + diarization on x; returns DER, writes the speaker count. */
static double run_der(const tk_convo *c, const float *x, int *out_k) {
  vm_vad_result *v = NULL;
  vm_diar_result *d = NULL;
  if (vm_vad_run(x, c->n, TK_RATE, NULL, &v)) return 1e9;
  vm_diar_input in = {.mono = x, .n_samples = c->n, .sample_rate_hz = TK_RATE,
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

enum { C_CLEAN, C_W10, C_W5, C_BAB10, C_HUM10, C_TEL, C_TELW10, N_COND };
static const char *const COND[N_COND] = {"clean", "white 10 dB", "white 5 dB", "babble 10 dB",
                                         "hum 50 Hz 10 dB", "telephone", "telephone + white 10 dB"};

/* The degraded copy of c->mono for condition k (malloc'ed; NULL on failure). */
static float *degrade(const tk_convo *c, int k) {
  float *x = NULL;
  if (k == C_TEL || k == C_TELW10) {
    tk_sig t = tk_telephone(c->mono, c->n);
    x = t.x;
  } else if ((x = malloc(c->n * sizeof(float)))) {
    memcpy(x, c->mono, c->n * sizeof(float));
  }
  if (!x) return NULL;
  if (k == C_W10 || k == C_TELW10) tk_add_noise(x, c->n, c, 10, 21u);
  if (k == C_W5) tk_add_noise(x, c->n, c, 5, 22u);
  if (k == C_BAB10) tk_add_babble(x, c->n, c, g_bab, 6, 6, 10);
  if (k == C_HUM10) tk_add_hum(x, c->n, c, 50, 10);
  return x;
}

/* Runs every condition; max_pm[k] bounds DER (per mille); the count must
 * be right where need_k[k]. */
static int run_all(const char *name, const tk_voice *const *v, int lang_en,
                   const int max_pm[N_COND], const int need_k[N_COND]) {
  if (system("espeak-ng --version >/dev/null 2>&1") != 0 || babble_load())
    TEST_SKIP("espeak-ng not available");
  static const int who[2] = {0, 1};
  static tk_varied t;
  if (tk_varied_build(v, who, 2, lang_en, 40, 80, &t)) {
    tk_varied_free(&t);
    TEST_SKIP("espeak-ng synthesis failed");
  }
  for (int k = 0; k < N_COND; k++) {
    float *x = degrade(&t.c, k);
    ASSERT_NOT_NULL(x);
    int n_spk = 0;
    double der = run_der(&t.c, x, &n_spk);
    free(x);
    printf("  %s %-24s DER %5.2f %%, speakers %d (true 2)\n", name, COND[k], 100 * der, n_spk);
    ASSERT_LT(der * 1000, max_pm[k]);
    if (need_k[k]) ASSERT_EQ(n_spk, 2);
  }
  tk_varied_free(&t);
  return 0;
}

static int test_korean_male_female(void) {
  static const tk_voice a = {"-v ko -p 20 -s 130"}, b = {"-v ko+f3 -p 80 -s 170"};
  const tk_voice *v[2] = {&a, &b};
  /* measured 0.7 / 0.7 / 0.7 / 1.4 / 0.7 / 0.7 / 0.7 % */
  static const int max_pm[N_COND] = {50, 50, 50, 50, 50, 50, 50};
  static const int need_k[N_COND] = {1, 1, 1, 1, 1, 1, 1};
  return run_all("ko M/F", v, 0, max_pm, need_k);
}

static int test_english_male_male(void) {
  static const tk_voice a = {"-v en-us+m1 -p 40 -s 150"}, b = {"-v en-us+m3 -p 50 -s 170"};
  const tk_voice *v[2] = {&a, &b};
  /* measured 1.4 / 1.6 / 1.6 / 1.6 / 1.7 / 0.4 / 1.1 % */
  static const int max_pm[N_COND] = {50, 50, 50, 50, 50, 50, 50};
  static const int need_k[N_COND] = {1, 1, 1, 1, 1, 1, 1};
  return run_all("en M/M", v, 1, max_pm, need_k);
}

static int test_cleanup(void) {
  for (int i = 0; i < 6; i++) free(g_bab[i].x);
  tk_cleanup();
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_korean_male_female), TEST_ENTRY(test_english_male_male),
          TEST_ENTRY(test_cleanup))
