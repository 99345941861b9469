/* Repeated audio: a conversation looped from four fixed recordings and a
 * whole recording replayed several times. Before repeat detection
 * (diarize_repeat.c) these came out as 3-4 speakers (one per sentence,
 * DER 11-42 %); now the repeated stretches are found, counted once for
 * clustering, and reported as diarization.repeated_speech_s.
 *
 * Asserts: 2 speakers and DER < 5 % on both; repeated_s within 10 % of
 * the speech that truly repeats; the same words said by another voice
 * are not a repeat (< 0.5 s of false matches) and stay another speaker.
 *
 * Build & run: cmake --build build --target test_forensic_diarize_repeat &&
 *              build/tests/test_forensic_diarize_repeat [test_name]
 * Skips (77) without espeak-ng. */
#include "diar/diar_testkit.h"
#include "diar/diar_text.h"
#include "diarize.h"
#include "test.h"
#include "vad.h"

static const tk_voice KO_M = {"-v ko -p 20 -s 130"};
static const tk_voice KO_F = {"-v ko+f3 -p 80 -s 170"};

/* VAD + diarization. OUT: DER, speaker count, repeated speech (s). */
static double run_der(const tk_convo *c, int *out_k, double *out_rep) {
  vm_vad_result *v = NULL;
  vm_diar_result *d = NULL;
  if (vm_vad_run(c->mono, c->n, TK_RATE, NULL, &v)) return 1e9;
  vm_diar_input in = {.mono = c->mono, .n_samples = c->n, .sample_rate_hz = TK_RATE,
                      .regions = v->regions, .n_regions = v->n_regions};
  int rc = vm_diarize(&in, NULL, &d);
  vm_vad_result_destroy(v);
  if (rc) return 1e9;
  tk_hyp_turn *h = malloc((d->n_turns + 1) * sizeof *h);
  if (!h) return 1e9;
  for (size_t i = 0; i < d->n_turns; i++)
    h[i] = (tk_hyp_turn){d->turns[i].start_s, d->turns[i].end_s, d->turns[i].speaker};
  *out_k = d->n_speakers;
  *out_rep = d->repeated_s;
  json_t *j = vm_diar_result_to_json(d);
  double jr = j ? json_real_value(json_object_get(j, "repeated_speech_s")) : -1;
  json_decref(j);
  double der = tk_der(c, h, d->n_turns, 0.25);
  free(h);
  vm_diar_result_destroy(d);
  return fabs(jr - *out_rep) < 1e-9 ? der : 1e9;
}

/* Speech in the reference turns after the first `skip` of them. */
static double ref_speech_after(const tk_convo *c, size_t skip) {
  double s = 0;
  for (size_t r = skip; r < c->n_ref; r++) s += c->ref[r].end_s - c->ref[r].start_s;
  return s;
}

/* Four recordings (two per voice) looped for about 3 minutes. */
static int test_looped_sentences(void) {
  if (system("espeak-ng --version >/dev/null 2>&1") != 0) TEST_SKIP("espeak-ng not available");
  static const char *text[4] = {
    "여보세요 김철수 씨 되시죠 저는 서울 중앙 지검 수사관입니다",
    "네 맞는데요 무슨 일 때문에 그러세요",
    "고객님 명의로 된 계좌가 범죄에 사용된 정황이 있어서 연락드렸습니다",
    "그럴 리가 없어요 저는 그런 계좌를 만든 적이 없습니다",
  };
  tk_sig u[4];
  for (int i = 0; i < 4; i++) {
    u[i] = tk_say(i % 2 ? &KO_F : &KO_M, text[i]);
    ASSERT_NOT_NULL(u[i].x);
  }
  static tk_turn_plan p[48];
  for (size_t i = 0; i < 48; i++) p[i] = (tk_turn_plan){&u[i % 4], (int)(i % 2), 0.3 + 0.1 * (double)(i % 5)};
  static tk_convo c;
  ASSERT_EQ(tk_convo_build(p, 48, 0.5, &c), 0);
  int k = 0;
  double rep = 0, der = run_der(&c, &k, &rep), truth = ref_speech_after(&c, 4);
  printf("  looped 4 recordings, %.0f s: DER %.2f %%, speakers %d (true 2), repeated %.1f s (true %.1f s)\n",
         (double)c.n / TK_RATE, 100 * der, k, rep, truth);
  ASSERT_EQ(k, 2);
  ASSERT_LT(der * 1000, 50);
  ASSERT_NEAR(rep, truth, 0.1 * truth);
  tk_convo_free(&c);
  for (int i = 0; i < 4; i++) free(u[i].x);
  return 0;
}

/* A 30 s conversation of varied sentences, replayed to about 4.5 min. */
static int test_replayed_recording(void) {
  if (system("espeak-ng --version >/dev/null 2>&1") != 0) TEST_SKIP("espeak-ng not available");
  const tk_voice *v[2] = {&KO_M, &KO_F};
  static const int who[2] = {0, 1};
  static tk_varied t;
  static tk_convo c;
  ASSERT_EQ(tk_varied_build(v, who, 2, 0, 3, 30, &t), 0);
  ASSERT_EQ(tk_tile(&t.c, 270, &c), 0);
  int k = 0;
  double rep = 0, der = run_der(&c, &k, &rep), truth = ref_speech_after(&c, t.c.n_ref);
  printf("  30 s recording replayed to %.0f s: DER %.2f %%, speakers %d (true 2), repeated %.1f s (true %.1f s)\n",
         (double)c.n / TK_RATE, 100 * der, k, rep, truth);
  ASSERT_EQ(k, 2);
  ASSERT_LT(der * 1000, 50);
  ASSERT_NEAR(rep, truth, 0.1 * truth);
  tk_convo_free(&c);
  tk_varied_free(&t);
  return 0;
}

/* The same sentences said by two voices are not repeated audio: each
 * sentence is said by one close male voice and then by the other (same
 * words, different voice). Nothing may be marked, and the two voices
 * must stay apart. */
static int test_same_words_other_voice(void) {
  if (system("espeak-ng --version >/dev/null 2>&1") != 0) TEST_SKIP("espeak-ng not available");
  static const tk_voice a = {"-v en-us+m1 -p 40 -s 150"}, b = {"-v en-us+m3 -p 50 -s 170"};
  static const int idx[8] = {0, 1, 2, 3, 4, 5, 6, 7}; /* no phrase in common */
  tk_sig u[16];
  tk_turn_plan p[16];
  char t[400];
  for (int i = 0; i < 16; i++) {
    u[i] = tk_say(i % 2 ? &b : &a, tk_text_en(idx[i / 2], t, sizeof t));
    ASSERT_NOT_NULL(u[i].x);
    p[i] = (tk_turn_plan){&u[i], i % 2, 0.4 + 0.2 * (double)(i % 3)};
  }
  static tk_convo c;
  ASSERT_EQ(tk_convo_build(p, 16, 1.0, &c), 0);
  int k = 0;
  double rep = 0, der = run_der(&c, &k, &rep);
  printf("  same words, other voice, %.0f s: DER %.2f %%, speakers %d (true 2), repeated %.2f s (true 0)\n",
         (double)c.n / TK_RATE, 100 * der, k, rep);
  ASSERT(rep < 0.5);
  ASSERT_EQ(k, 2);
  ASSERT_LT(der * 1000, 100);
  tk_convo_free(&c);
  for (int i = 0; i < 16; i++) free(u[i].x);
  return 0;
}

static int test_cleanup(void) {
  tk_cleanup();
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_looped_sentences), TEST_ENTRY(test_replayed_recording),
          TEST_ENTRY(test_same_words_other_voice), TEST_ENTRY(test_cleanup))
