/* Diarization measured on espeak-ng conversations with known turns.
 *
 * Build & run: cmake --build build --target test_forensic_diarize &&
 *              build/tests/test_forensic_diarize [test_name]
 * Each test prints its measured DER (0.25 s collar, optimal mapping) and
 * asserts the targets: < 10 % clean mono, < 20 % at 10 dB SNR,
 * the speaker count right on every clean file. Skips (77) without
 * espeak-ng. */
#include <time.h>

#include "diar/diar_testkit.h"
#include "diarize.h"
#include "test.h"
#include "vad.h"

static const tk_voice KO_M = {"-v ko -p 20 -s 130"};
static const tk_voice KO_F = {"-v ko+f3 -p 80 -s 170"};
static const tk_voice EN_M = {"-v en-us -p 30 -s 150"};
static const tk_voice EN_F = {"-v en-gb+f2 -p 75 -s 175"};

static const char *KO_TEXT[] = {
  "여보세요 김철수 씨 되시죠 저는 서울 중앙 지검 수사관입니다",
  "네 맞는데요 무슨 일 때문에 그러세요",
  "고객님 명의로 된 계좌가 범죄에 사용된 정황이 있어서 연락드렸습니다",
  "그럴 리가 없어요 저는 그런 계좌를 만든 적이 없습니다",
  "지금 바로 확인하지 않으면 고객님께서 처벌을 받으실 수도 있어요",
  "어떻게 확인하면 되는지 자세히 설명해 주세요",
};
static const char *EN_TEXT[] = {
  "Good morning, this is the bank security department calling about your account",
  "Oh really, what seems to be the problem with it",
  "We noticed several unusual transfers late last night from a foreign address",
  "I did not make any transfers yesterday, I was at home all evening",
  "Then we need to verify your identity right now before the account is frozen",
  "Alright, but please tell me who I am speaking with first",
};

typedef struct corpus {
  tk_sig ko[6], en[6];
  int ready;
} corpus;
static corpus g_c;

static int corpus_load(void) {
  if (g_c.ready) return g_c.ready > 0 ? 0 : -1;
  g_c.ready = -1;
  if (system("espeak-ng --version >/dev/null 2>&1") != 0) return -1;
  for (int i = 0; i < 6; i++) {
    g_c.ko[i] = tk_say(i % 2 ? &KO_F : &KO_M, KO_TEXT[i]);
    g_c.en[i] = tk_say(i % 2 ? &EN_F : &EN_M, EN_TEXT[i]);
    if (!g_c.ko[i].x || !g_c.en[i].x) return -1;
  }
  g_c.ready = 1;
  return 0;
}

/* Two parties alternating, gaps including one bridged by the VAD. */
static int build_two(const tk_sig *u, tk_convo *c) {
  static const double gaps[] = {0, 0.6, 0.9, 0.2, 1.2, 0.5};
  tk_turn_plan p[6];
  for (int i = 0; i < 6; i++) p[i] = (tk_turn_plan){&u[i], i % 2, gaps[i]};
  return tk_convo_build(p, 6, 1.0, c);
}

/* One speaker: the even (same-voice) utterances, three of them twice. */
static int build_one(const tk_sig *u, tk_convo *c) {
  tk_turn_plan p[6];
  for (int i = 0; i < 6; i++) p[i] = (tk_turn_plan){&u[(i % 3) * 2], 0, 0.7};
  return tk_convo_build(p, 6, 1.0, c);
}

/* VAD + diarization; returns DER and writes the speaker count. */
static double run_der(const tk_convo *c, const float *mono, int stereo,
                      const vm_diar_opts *o, int *out_k, const char **out_method,
                      double *out_rtf) {
  vm_vad_result *v = NULL;
  vm_diar_result *d = NULL;
  double t0 = (double)clock() / CLOCKS_PER_SEC;
  if (vm_vad_run(mono, c->n, TK_RATE, NULL, &v)) return 1e9;
  vm_diar_input in = {.mono = mono, .n_samples = c->n, .sample_rate_hz = TK_RATE,
                      .regions = v->regions, .n_regions = v->n_regions};
  if (stereo) { in.channels[0] = c->ch[0]; in.channels[1] = c->ch[1]; }
  int rc = vm_diarize(&in, o, &d);
  double t1 = (double)clock() / CLOCKS_PER_SEC;
  vm_vad_result_destroy(v);
  if (rc) return 1e9;
  if (out_rtf) *out_rtf = ((double)c->n / TK_RATE) / fmax(t1 - t0, 1e-6);
  tk_hyp_turn h[256];
  size_t nh = d->n_turns < 256 ? d->n_turns : 256;
  for (size_t i = 0; i < nh; i++) h[i] = (tk_hyp_turn){d->turns[i].start_s, d->turns[i].end_s, d->turns[i].speaker};
  *out_k = d->n_speakers;
  if (out_method) *out_method = d->method;
  vm_diar_result_destroy(d);
  return tk_der(c, h, nh, 0.25);
}

static int check_two(const char *name, const tk_sig *u) {
  tk_convo c;
  ASSERT_EQ(build_two(u, &c), 0);
  int k = 0;
  double rtf = 0;
  double der = run_der(&c, c.mono, 0, NULL, &k, NULL, &rtf);
  printf("  %s clean mono: DER %.2f %%, speakers %d (true 2), %.0fx real time\n", name, 100 * der, k, rtf);
  ASSERT_LT(der * 1000, 100);
  ASSERT_EQ(k, 2);
  static const double snr[] = {20, 10};
  for (int i = 0; i < 2; i++) {
    float *x = malloc(c.n * sizeof(float));
    ASSERT_NOT_NULL(x);
    memcpy(x, c.mono, c.n * sizeof(float));
    tk_add_noise(x, c.n, &c, snr[i], 7u + (uint32_t)i);
    double dn = run_der(&c, x, 0, NULL, &k, NULL, NULL);
    free(x);
    printf("  %s mono %2.0f dB SNR: DER %.2f %%, speakers %d\n", name, snr[i], 100 * dn, k);
    ASSERT_LT(dn * 1000, 200);
  }
  tk_convo_free(&c);
  return 0;
}

static int test_two_speakers_korean(void) {
  if (corpus_load()) TEST_SKIP("espeak-ng with Korean voices not available");
  return check_two("ko", g_c.ko);
}

static int test_two_speakers_english(void) {
  if (corpus_load()) TEST_SKIP("espeak-ng not available");
  return check_two("en", g_c.en);
}

static int test_one_speaker(void) {
  if (corpus_load()) TEST_SKIP("espeak-ng not available");
  const tk_sig *sets[4] = {g_c.ko, g_c.en, g_c.ko + 1, g_c.en + 1};
  const char *names[4] = {"ko male", "en male", "ko female", "en female"};
  for (int s = 0; s < 4; s++) {
    tk_convo c;
    ASSERT_EQ(build_one(sets[s], &c), 0);
    int k = 0;
    double der = run_der(&c, c.mono, 0, NULL, &k, NULL, NULL);
    printf("  one speaker (%s): DER %.2f %%, speakers %d (true 1)\n", names[s], 100 * der, k);
    ASSERT_EQ(k, 1);
    ASSERT_LT(der * 1000, 100);
    tk_convo_free(&c);
  }
  return 0;
}

static int test_stereo_channel_per_party(void) {
  if (corpus_load()) TEST_SKIP("espeak-ng not available");
  tk_convo c;
  ASSERT_EQ(build_two(g_c.ko, &c), 0);
  tk_add_noise(c.ch[0], c.n, &c, 30, 11);
  tk_add_noise(c.ch[1], c.n, &c, 30, 12);
  for (size_t i = 0; i < c.n; i++) c.mono[i] = 0.5f * (c.ch[0][i] + c.ch[1][i]);
  int k = 0;
  const char *method = NULL;
  double der = run_der(&c, c.mono, 1, NULL, &k, &method, NULL);
  printf("  stereo one party per channel: DER %.2f %%, speakers %d, method %s\n", 100 * der, k, method);
  ASSERT_STR_EQ(method, "stereo-channels");
  ASSERT_EQ(k, 2);
  ASSERT_LT(der * 1000, 50);
  /* the same mix on both channels is not channel-per-party */
  memcpy(c.ch[0], c.mono, c.n * sizeof(float));
  memcpy(c.ch[1], c.mono, c.n * sizeof(float));
  der = run_der(&c, c.mono, 1, NULL, &k, &method, NULL);
  printf("  stereo dual-mono: DER %.2f %%, speakers %d, method %s\n", 100 * der, k, method);
  ASSERT_STR_EQ(method, "bic-ahc-viterbi");
  ASSERT_EQ(k, 2);
  tk_convo_free(&c);
  return 0;
}

/* Three parties: Korean male, Korean female, English female. */
static int test_three_speakers(void) {
  if (corpus_load()) TEST_SKIP("espeak-ng not available");
  tk_turn_plan p[9];
  static const double gaps[] = {0, 0.6, 0.8, 0.5, 1.0, 0.7, 0.6, 0.9, 0.5};
  for (int i = 0; i < 9; i++) {
    int who = i % 3;
    const tk_sig *u = who == 0 ? &g_c.ko[(i / 3) * 2] : who == 1 ? &g_c.ko[(i / 3) * 2 + 1] : &g_c.en[(i / 3) * 2 + 1];
    p[i] = (tk_turn_plan){u, who, gaps[i]};
  }
  tk_convo c;
  ASSERT_EQ(tk_convo_build(p, 9, 1.0, &c), 0);
  int k = 0;
  double der = run_der(&c, c.mono, 0, NULL, &k, NULL, NULL);
  printf("  three speakers: DER %.2f %%, speakers %d (true 3)\n", 100 * der, k);
  ASSERT_EQ(k, 3);
  ASSERT_LT(der * 1000, 100);
  tk_convo_free(&c);
  return 0;
}

static int test_given_speaker_count(void) {
  if (corpus_load()) TEST_SKIP("espeak-ng not available");
  tk_convo c;
  ASSERT_EQ(build_two(g_c.en, &c), 0);
  vm_diar_opts o;
  vm_diar_opts_default(&o);
  o.n_speakers = 2;
  int k = 0;
  double der = run_der(&c, c.mono, 0, &o, &k, NULL, NULL);
  printf("  --speakers 2: DER %.2f %%\n", 100 * der);
  ASSERT_EQ(k, 2);
  ASSERT_LT(der * 1000, 100);
  tk_convo_free(&c);
  return 0;
}

/* Transcript segments: one spanning a change is split at the change; the
 * statistics add up; the JSON carries diarization.turns. */
static int test_segments_and_stats(void) {
  if (corpus_load()) TEST_SKIP("espeak-ng not available");
  tk_convo c;
  ASSERT_EQ(build_two(g_c.ko, &c), 0);
  vm_vad_result *v = NULL;
  vm_diar_result *d = NULL;
  ASSERT_OK(vm_vad_run(c.mono, c.n, TK_RATE, NULL, &v));
  vm_diar_span segs[2] = {
    {c.ref[0].start_s, c.ref[0].end_s},                 /* one speaker */
    {c.ref[2].start_s + 0.5, c.ref[3].end_s - 0.5},     /* spans a change */
  };
  vm_diar_input in = {.mono = c.mono, .n_samples = c.n, .sample_rate_hz = TK_RATE,
                      .regions = v->regions, .n_regions = v->n_regions,
                      .segments = segs, .n_segments = 2};
  ASSERT_OK(vm_diarize(&in, NULL, &d));
  ASSERT_EQ(d->n_speakers, 2);
  size_t n0 = 0, n1 = 0;
  double cut = -1;
  for (size_t i = 0; i < d->n_seg_labels; i++) {
    if (d->seg_labels[i].segment == 0) n0++;
    if (d->seg_labels[i].segment == 1) {
      if (n1++ == 1) cut = d->seg_labels[i].start_s;
    }
  }
  ASSERT_EQ(n0, 1);
  ASSERT_EQ(n1, 2);
  double truth = 0.5 * (c.ref[2].end_s + c.ref[3].start_s);
  printf("  split at %.2f s, true change %.2f..%.2f s\n", cut, c.ref[2].end_s, c.ref[3].start_s);
  ASSERT_NEAR(cut, truth, 0.3);
  double share = 0, talk = 0;
  for (int k = 0; k < d->n_speakers; k++) {
    share += d->speakers[k].share;
    talk += d->speakers[k].talk_s;
    ASSERT_EQ(d->speakers[k].n_turns, 3);
    ASSERT(d->speakers[k].longest_monologue_s > 1.0);
  }
  ASSERT_NEAR(share, 1.0, 1e-9);
  ASSERT_NEAR(talk, v->speech_s, 0.05);
  json_t *j = vm_diar_result_to_json(d);
  ASSERT_NOT_NULL(j);
  ASSERT_EQ(json_array_size(json_object_get(j, "turns")), d->n_turns);
  json_t *t0 = json_array_get(json_object_get(j, "turns"), 0);
  ASSERT_STR_EQ(json_string_value(json_object_get(t0, "speaker")), "SPEAKER_00");
  ASSERT_EQ(json_integer_value(json_object_get(j, "n_speakers")), 2);
  ASSERT_EQ(json_array_size(json_object_get(j, "segments")), 3);
  json_decref(j);
  vm_diar_result_destroy(d);
  vm_vad_result_destroy(v);
  tk_convo_free(&c);
  return 0;
}

static int test_no_speech(void) {
  static float x[TK_RATE * 3];
  vm_diar_input in = {.mono = x, .n_samples = TK_RATE * 3, .sample_rate_hz = TK_RATE};
  vm_diar_result *d = NULL;
  ASSERT_OK(vm_diarize(&in, NULL, &d));
  ASSERT_EQ(d->n_speakers, 0);
  ASSERT_EQ(d->n_turns, 0);
  ASSERT_STR_EQ(d->method, "none");
  json_t *j = vm_diar_result_to_json(d);
  ASSERT_NOT_NULL(j);
  json_decref(j);
  vm_diar_result_destroy(d);
  vm_vad_region bad = {0, TK_RATE * 4, 0, 4};
  in.regions = &bad;
  in.n_regions = 1;
  ASSERT_EQ(vm_diarize(&in, NULL, &d), VM_EINVAL);
  ASSERT_NULL(d);
  return 0;
}

/* Speed: VAD + diarization on a 2-minute conversation, one core. */
static int test_speed(void) {
  if (corpus_load()) TEST_SKIP("espeak-ng not available");
  tk_turn_plan p[36];
  for (int i = 0; i < 36; i++) p[i] = (tk_turn_plan){i % 12 < 6 ? &g_c.ko[i % 6] : &g_c.en[i % 6], i % 2, 0.6};
  tk_convo c;
  ASSERT_EQ(tk_convo_build(p, 36, 1.0, &c), 0);
  int k = 0;
  double rtf = 0;
  run_der(&c, c.mono, 0, NULL, &k, NULL, &rtf);
  printf("  VAD + diarization: %.0f s of audio at %.0fx real time (one core)\n", (double)c.n / TK_RATE, rtf);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__OPTIMIZE__)
  (void)rtf;
#elif !defined(__SANITIZE_ADDRESS__)
  ASSERT_GT(rtf, 200);
#endif
  tk_convo_free(&c);
  return 0;
}

static int test_cleanup(void) {
  tk_cleanup();
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_no_speech), TEST_ENTRY(test_two_speakers_korean),
          TEST_ENTRY(test_two_speakers_english), TEST_ENTRY(test_one_speaker),
          TEST_ENTRY(test_stereo_channel_per_party), TEST_ENTRY(test_three_speakers),
          TEST_ENTRY(test_given_speaker_count),
          TEST_ENTRY(test_segments_and_stats), TEST_ENTRY(test_speed),
          TEST_ENTRY(test_cleanup))
