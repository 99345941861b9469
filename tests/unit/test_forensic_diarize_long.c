/* Diarization of long conversations (>= 5 minutes) built from varied
 * sentences (tests/diar/diar_text.h): the speaker count must not grow
 * with the file length, for distinct (Korean male/female) and close
 * (two English male) voices; asserts count 2 and DER < 10 %.
 *
 * Build & run: cmake --build build --target test_forensic_diarize_long &&
 *              build/tests/test_forensic_diarize_long [test_name]
 * VM_DIAR_LONG_MIN=<minutes> overrides the length (for exploration; the
 * default, 5.5 min, is what CI runs). Skips (77) without espeak-ng. */
#include <time.h>

#include "diar/diar_testkit.h"
#include "diar/diar_text.h"
#include "diarize.h"
#include "test.h"
#include "vad.h"

static const tk_voice KO_M = {"-v ko -p 20 -s 130"};
static const tk_voice KO_F = {"-v ko+f3 -p 80 -s 170"};

/* VAD + diarization; returns DER, writes the speaker count and speed. */
static double run_der(const tk_convo *c, const float *mono, int *out_k, double *out_rtf) {
  vm_vad_result *v = NULL;
  vm_diar_result *d = NULL;
  double t0 = (double)clock() / CLOCKS_PER_SEC;
  if (vm_vad_run(mono, c->n, TK_RATE, NULL, &v)) return 1e9;
  vm_diar_input in = {.mono = mono, .n_samples = c->n, .sample_rate_hz = TK_RATE,
                      .regions = v->regions, .n_regions = v->n_regions};
  int rc = vm_diarize(&in, NULL, &d);
  double t1 = (double)clock() / CLOCKS_PER_SEC;
  vm_vad_result_destroy(v);
  if (rc) return 1e9;
  *out_rtf = ((double)c->n / TK_RATE) / fmax(t1 - t0, 1e-6);
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

static double minutes_opt(double dflt) {
  const char *s = getenv("VM_DIAR_LONG_MIN");
  return s && atof(s) > 0 ? atof(s) : dflt;
}

/* Korean male and female, >= 5 minutes, varied sentences. */
static int test_long_two_speakers(void) {
  if (system("espeak-ng --version >/dev/null 2>&1") != 0) TEST_SKIP("espeak-ng not available");
  const tk_voice *v[2] = {&KO_M, &KO_F};
  static const int who[2] = {0, 1};
  static tk_varied lc;
  ASSERT_EQ(tk_varied_build(v, who, 2, 0, 0, 60 * minutes_opt(5.5), &lc), 0);
  int k = 0;
  double rtf = 0, der = run_der(&lc.c, lc.c.mono, &k, &rtf);
  printf("  long ko M/F %.0f s (%zu turns): DER %.2f %%, speakers %d (true 2), %.0fx real time\n",
         (double)lc.c.n / TK_RATE, lc.c.n_ref, 100 * der, k, rtf);
  ASSERT_EQ(k, 2);
  ASSERT_LT(der * 1000, 100);
  tk_varied_free(&lc);
  return 0;
}

/* Two male English voices ~2 semitones apart, >= 5 minutes. */
static int test_long_same_gender(void) {
  if (system("espeak-ng --version >/dev/null 2>&1") != 0) TEST_SKIP("espeak-ng not available");
  static const tk_voice a = {"-v en-us+m1 -p 40 -s 150"}, b = {"-v en-us+m3 -p 50 -s 170"};
  const tk_voice *v[2] = {&a, &b};
  static const int who[2] = {0, 1};
  static tk_varied lc;
  ASSERT_EQ(tk_varied_build(v, who, 2, 1, 20, 60 * minutes_opt(5.0), &lc), 0);
  int k = 0;
  double rtf = 0, der = run_der(&lc.c, lc.c.mono, &k, &rtf);
  printf("  long en M/M %.0f s (%zu turns): DER %.2f %%, speakers %d (true 2), %.0fx real time\n",
         (double)lc.c.n / TK_RATE, lc.c.n_ref, 100 * der, k, rtf);
  ASSERT_EQ(k, 2);
  ASSERT_LT(der * 1000, 100);
  tk_varied_free(&lc);
  return 0;
}

static int test_cleanup(void) {
  tk_cleanup();
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_long_two_speakers), TEST_ENTRY(test_long_same_gender),
          TEST_ENTRY(test_cleanup))
