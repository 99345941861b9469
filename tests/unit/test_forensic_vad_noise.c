/* VAD robustness: frame accuracy on an espeak-ng conversation (known
 * turns, 117.5 s, 17 % silence) clean, with white noise, babble and mains
 * hum at 20/10/5 dB SNR, and through a telephone channel (300–3400 Hz,
 * 8 kHz mu-law, back to 16 kHz). Each condition prints accuracy, missed
 * speech and false alarm, and asserts a floor about 2 points under the
 * measured value (docs/diarization.md lists the numbers). Also: noise
 * that steps up by 20 dB mid-file (the local floor must follow it), a
 * 100 s monologue without pauses (the floor must not rise into the
 * speech), and hum as loud as the speech.
 *
 * Build & run: cmake --build build --target test_forensic_vad_noise &&
 *              build/tests/test_forensic_vad_noise [test_name]
 * Skips (77) without espeak-ng. */
#include "diar/diar_noise.h"
#include "diar/diar_testkit.h"
#include "diar/diar_text.h"
#include "test.h"
#include "vad.h"

static const tk_voice V_A = {"-v ko -p 25 -s 140"};
static const tk_voice V_B = {"-v ko+f3 -p 75 -s 165"};
/* babble talkers: other voices and languages than the conversation */
static const tk_voice BAB[6] = {{"-v en-us -p 40 -s 160"}, {"-v en-gb+f2 -p 70 -s 170"},
                                {"-v ko+m3 -p 45 -s 150"}, {"-v en-us+f4 -p 60 -s 180"},
                                {"-v ko+f2 -p 55 -s 175"}, {"-v en-gb+m1 -p 35 -s 145"}};

#define N_TURNS 12
#define N_BAB 12
static tk_sig g_u[N_TURNS], g_bab[N_BAB];
static tk_convo g_c;
static int g_ready;

static int load(void) {
  if (g_ready) return g_ready > 0 ? 0 : -1;
  g_ready = -1;
  if (system("espeak-ng --version >/dev/null 2>&1") != 0) return -1;
  static const double gaps[] = {0.6, 2.0, 0.9, 3.5, 0.4, 1.5};
  tk_turn_plan p[N_TURNS];
  char t[400];
  for (int i = 0; i < N_TURNS; i++) {
    g_u[i] = tk_say(i % 2 ? &V_B : &V_A, tk_text_ko(i + 30, t, sizeof t));
    if (!g_u[i].x) return -1;
    p[i] = (tk_turn_plan){&g_u[i], i % 2, gaps[i % 6]};
  }
  for (int i = 0; i < N_BAB; i++) {
    if (i % 2) tk_text_en(i + 60, t, sizeof t); else tk_text_ko(i + 90, t, sizeof t);
    g_bab[i] = tk_say(&BAB[i % 6], t);
    if (!g_bab[i].x) return -1;
  }
  if (tk_convo_build(p, N_TURNS, 1.5, &g_c)) return -1;
  g_ready = 1;
  return 0;
}

/* Runs the VAD on x and reports accuracy, miss and false-alarm rates. */
static double measure(const char *name, const float *x, double *out_miss, double *out_fa) {
  vm_vad_result *v = NULL;
  if (vm_vad_run(x, g_c.n, TK_RATE, NULL, &v)) return -1;
  size_t n_sp = 0, n_ns = 0, miss = 0, fa = 0;
  for (size_t t = 0; t < v->n_frames; t++) {
    int ref = tk_ref_at(&g_c, (t + 0.5) * 0.01) >= 0;
    n_sp += ref;
    n_ns += !ref;
    miss += ref && !v->frame_speech[t];
    fa += !ref && v->frame_speech[t];
  }
  double acc = tk_vad_accuracy(&g_c, v->frame_speech, v->n_frames);
  *out_miss = n_sp ? (double)miss / (double)n_sp : 0;
  *out_fa = n_ns ? (double)fa / (double)n_ns : 0;
  printf("  %-22s accuracy %6.2f %%  missed %5.2f %%  false alarm %5.2f %%  (%zu regions, floor %.1f dB)\n",
         name, 100 * acc, 100 * *out_miss, 100 * *out_fa, v->n_regions, v->noise_floor_db);
  vm_vad_result_destroy(v);
  return acc;
}

enum { K_WHITE, K_BABBLE, K_HUM50, K_HUM60 };

/* Accuracy with noise of `kind` at snr_db. */
static double noisy(int kind, double snr_db, double *miss, double *fa) {
  float *x = malloc(g_c.n * sizeof(float));
  if (!x) return -1;
  memcpy(x, g_c.mono, g_c.n * sizeof(float));
  static const char *names[] = {"white", "babble", "hum 50 Hz", "hum 60 Hz"};
  if (kind == K_WHITE) tk_add_noise(x, g_c.n, &g_c, snr_db, 11u);
  else if (kind == K_BABBLE) tk_add_babble(x, g_c.n, &g_c, g_bab, N_BAB, 6, snr_db);
  else tk_add_hum(x, g_c.n, &g_c, kind == K_HUM50 ? 50 : 60, snr_db);
  char name[64];
  snprintf(name, sizeof name, "%s %2.0f dB", names[kind], snr_db);
  double acc = measure(name, x, miss, fa);
  free(x);
  return acc;
}

static int test_clean(void) {
  if (load()) TEST_SKIP("espeak-ng not available");
  size_t n_sil = 0, n_fr = (g_c.n + 159) / 160;
  for (size_t t = 0; t < n_fr; t++) n_sil += tk_ref_at(&g_c, (t + 0.5) * 0.01) < 0;
  printf("  conversation: %.1f s, %.1f %% silence (reference)\n", (double)g_c.n / TK_RATE,
         100.0 * (double)n_sil / (double)n_fr);
  double miss, fa, acc = measure("clean", g_c.mono, &miss, &fa);
  ASSERT_GT(acc * 1000, 970); /* issue target 95 %; measured 99.0 % */
  return 0;
}

/* Floors per SNR (20, 10, 5 dB) for each kind, in per mille. */
static int check_kind(int kind, const int floor_pm[3]) {
  static const double snr[3] = {20, 10, 5};
  for (int s = 0; s < 3; s++) {
    double miss, fa, acc = noisy(kind, snr[s], &miss, &fa);
    ASSERT_GT(acc * 1000, floor_pm[s]);
  }
  return 0;
}

static int test_white_noise(void) {
  if (load()) TEST_SKIP("espeak-ng not available");
  static const int fl[3] = {970, 970, 960}; /* measured 99.2 / 99.2 / 99.1 % */
  return check_kind(K_WHITE, fl);
}

static int test_babble(void) {
  if (load()) TEST_SKIP("espeak-ng not available");
  static const int fl[3] = {970, 970, 930}; /* measured 99.2 / 99.2 / 97.0 % */
  return check_kind(K_BABBLE, fl);
}

static int test_hum(void) {
  if (load()) TEST_SKIP("espeak-ng not available");
  static const int fl[3] = {970, 970, 970}; /* measured 99.2 % at each SNR */
  if (check_kind(K_HUM50, fl)) return 1;
  double miss, fa;
  ASSERT_GT(noisy(K_HUM60, 10, &miss, &fa) * 1000, fl[1]);
  return 0;
}

static int test_telephone(void) {
  if (load()) TEST_SKIP("espeak-ng not available");
  tk_sig t = tk_telephone(g_c.mono, g_c.n);
  ASSERT_NOT_NULL(t.x);
  double miss, fa, acc = measure("telephone", t.x, &miss, &fa);
  ASSERT_GT(acc * 1000, 970); /* measured 99.1 % */
  tk_add_noise(t.x, t.n, &g_c, 10, 5u);
  acc = measure("telephone + white 10 dB", t.x, &miss, &fa);
  ASSERT_GT(acc * 1000, 970); /* measured 99.1 % */
  free(t.x);
  return 0;
}

/* Noise that changes level: white noise 20 dB quieter in the first half
 * (e.g. a car starting). The local floor must follow the step. */
static int test_noise_step(void) {
  if (load()) TEST_SKIP("espeak-ng not available");
  float *x = malloc(g_c.n * sizeof(float)), *y = calloc(g_c.n, sizeof(float));
  ASSERT_NOT_NULL(x);
  ASSERT_NOT_NULL(y);
  memcpy(x, g_c.mono, g_c.n * sizeof(float));
  tk_add_noise(y, g_c.n, &g_c, 10, 13u);
  for (size_t i = 0; i < g_c.n; i++) x[i] += i < g_c.n / 2 ? 0.1f * y[i] : y[i];
  double miss, fa, acc = measure("white 30 -> 10 dB step", x, &miss, &fa);
  ASSERT_GT(acc * 1000, 970); /* measured 99.3 % */
  /* with the file floor only (the previous rule) the loud half is all speech */
  vm_vad_opts o;
  vm_vad_opts_default(&o);
  o.floor_window_s = 0;
  vm_vad_result *v = NULL;
  ASSERT_OK(vm_vad_run(x, g_c.n, TK_RATE, &o, &v));
  double acc0 = tk_vad_accuracy(&g_c, v->frame_speech, v->n_frames);
  printf("  (file floor only: accuracy %.2f %%)\n", 100 * acc0);
  ASSERT(acc0 < acc - 0.03);
  vm_vad_result_destroy(v);
  free(x);
  free(y);
  return 0;
}

/* A monologue: the twelve utterances 0.15 s apart (no pause of 0.3 s for
 * over a minute), clean and with white noise at 10 dB. The local floor
 * window then holds almost only speech; its cap must keep the weak
 * syllables in. */
static int test_monologue(void) {
  if (load()) TEST_SKIP("espeak-ng not available");
  tk_turn_plan p[N_TURNS];
  for (int i = 0; i < N_TURNS; i++) p[i] = (tk_turn_plan){&g_u[i], 0, 0.15};
  tk_convo m;
  ASSERT_EQ(tk_convo_build(p, N_TURNS, 1.0, &m), 0);
  for (int pass = 0; pass < 2; pass++) {
    if (pass) tk_add_noise(m.mono, m.n, &m, 10, 17u);
    vm_vad_result *v = NULL;
    ASSERT_OK(vm_vad_run(m.mono, m.n, TK_RATE, NULL, &v));
    size_t miss = 0, n_sp = 0;
    for (size_t t = 0; t < v->n_frames; t++) {
      int ref = tk_ref_at(&m, (t + 0.5) * 0.01) >= 0;
      n_sp += ref;
      miss += ref && !v->frame_speech[t];
    }
    double acc = tk_vad_accuracy(&m, v->frame_speech, v->n_frames);
    printf("  monologue %.0f s, %s: accuracy %.2f %%, missed %.2f %% (%zu regions)\n",
           (double)m.n / TK_RATE, pass ? "white 10 dB" : "clean", 100 * acc,
           100.0 * (double)miss / (double)n_sp, v->n_regions);
    ASSERT_GT(acc * 1000, 970);
    ASSERT_LT(miss * 100, n_sp); /* < 1 % of the speech missed */
    vm_vad_result_destroy(v);
  }
  tk_convo_free(&m);
  return 0;
}

/* Strong hum: as loud as the speech. */
static int test_hum_0db(void) {
  if (load()) TEST_SKIP("espeak-ng not available");
  double miss, fa;
  ASSERT_GT(noisy(K_HUM50, 0, &miss, &fa) * 1000, 970); /* measured 99.2 % */
  return 0;
}

static int test_cleanup(void) {
  for (int i = 0; i < N_TURNS; i++) free(g_u[i].x);
  for (int i = 0; i < N_BAB; i++) free(g_bab[i].x);
  tk_convo_free(&g_c);
  tk_cleanup();
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_clean), TEST_ENTRY(test_white_noise), TEST_ENTRY(test_babble),
          TEST_ENTRY(test_hum), TEST_ENTRY(test_telephone), TEST_ENTRY(test_noise_step), TEST_ENTRY(test_monologue),
          TEST_ENTRY(test_hum_0db), TEST_ENTRY(test_cleanup))
