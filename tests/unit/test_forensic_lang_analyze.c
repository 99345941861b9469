/* test_forensic_lang_analyze.c — vm_lang_analyze end to end on built
 * transcripts: planted findings by a known speaker at known times, a
 * neutral control with ordinary small talk (zero findings), speech level
 * and its shifts, hierarchy markers, text–voice discrepancies, bootstrap
 * determinism, unknown speakers, empty input.
 *
 *   ctest --test-dir build -R test_forensic_lang_analyze --output-on-failure
 */
#include <string.h>

#include "lang.h"
#include "test.h"

static vm_lang_db *g_db;

static int open_db(void) {
  if (g_db) return 0;
  vm_err err;
  int rc = vm_lang_db_open(VM_SOURCE_DIR "/data/patterns", &g_db, &err);
  if (rc != VM_OK) fprintf(stderr, "open: %s\n", err.msg);
  return rc;
}

typedef struct line {
  double t0, t1;
  const char *speaker;
  const char *text;
} line;

static vm_transcript *make(const line *l, size_t n) {
  vm_transcript *t = vm_transcript_create();
  for (size_t i = 0; t && i < n; i++)
    if (vm_transcript_add(t, l[i].t0, l[i].t1, l[i].text, (size_t)-1, l[i].speaker, NULL)) {
      vm_transcript_destroy(t);
      return NULL;
    }
  return t;
}

static json_t *analyze(const vm_transcript *t, const vm_lang_voice *v, uint64_t seed) {
  vm_lang_opts o;
  vm_lang_opts_init(&o);
  o.seed = seed;
  o.bootstrap_resamples = 200;
  json_t *j = NULL;
  vm_err err;
  if (vm_lang_analyze(g_db, t, v, &o, &j, &err) != VM_OK) fprintf(stderr, "%s\n", err.msg);
  return j;
}

/* A (suspect) and B (victim); findings planted in A's turns only. */
static const line PLANTED[] = {
    {0.0, 3.0, "B", "오늘 왜 이렇게 늦었어요?"},
    {3.5, 7.0, "A", "그냥 일이 좀 있었어."},
    {8.0, 12.0, "B", "어제 한 말 기억나요? 약속했잖아요."},
    {12.5, 16.5, "A", "내가 언제 그랬어. 네가 잘못 기억하는 거야."},
    {17.0, 20.0, "B", "미안해요. 제가 착각했나 봐요."},
    {30.0, 36.0, "A", "만약 돈 안 주면 가만 안 둬."},
    {36.5, 40.0, "B", "알겠어요. 조금만 기다려 주세요."},
    {50.0, 54.0, "A", "그 친구 만나지 마. 너한테는 나밖에 없어."},
    {55.0, 58.0, "B", "네, 사장님한테도 말 안 할게요."},
};

/* Expected: (subtype, planted start time). */
static const struct { const char *type, *subtype; double t; } EXPECT[] = {
    {"gaslighting", "denial", 12.5},
    {"gaslighting", "denial", 12.5 + 4.0 * 7.0 / 17.0}, /* 7 of 17 characters in */
    {"threat", "conditional", 30.0},
    {"threat", "direct", 30.0 + 6.0 * 6.0 / 10.0},
    {"extortion", "demand", 30.0 + 6.0 * 2.0 / 10.0}, /* "돈 안 주면" */
    {"coercion", "isolation", 50.0},
    {"coercion", "isolation", 50.0 + 4.0 * 7.0 / 16.0},
};

static int test_planted(void) {
  ASSERT_OK(open_db());
  vm_transcript *t = make(PLANTED, sizeof PLANTED / sizeof *PLANTED);
  ASSERT_NOT_NULL(t);
  json_t *j = analyze(t, NULL, 1);
  vm_transcript_destroy(t);
  ASSERT_NOT_NULL(j);
  json_t *m = json_object_get(j, "matches");
  ASSERT_EQ(json_array_size(m), sizeof EXPECT / sizeof *EXPECT);
  for (size_t i = 0; i < json_array_size(m); i++) {
    json_t *x = json_array_get(m, i);
    ASSERT_STR_EQ(json_string_value(json_object_get(x, "speaker")), "A");
    int found = 0;
    for (size_t k = 0; k < sizeof EXPECT / sizeof *EXPECT; k++) {
      double st = json_real_value(json_object_get(x, "start"));
      if (strcmp(json_string_value(json_object_get(x, "type")), EXPECT[k].type) == 0 &&
          strcmp(json_string_value(json_object_get(x, "subtype")), EXPECT[k].subtype) == 0 &&
          fabs(st - EXPECT[k].t) < 0.05)
        found = 1;
    }
    if (!found) fprintf(stderr, "unexpected: %s\n", json_dumps(x, 0));
    ASSERT(found);
    double s = json_real_value(json_object_get(x, "start"));
    double e = json_real_value(json_object_get(x, "end"));
    ASSERT(s < e);
  }
  /* the matched text is the original text */
  json_t *c = NULL;
  for (size_t i = 0; i < json_array_size(m); i++)
    if (strcmp(json_string_value(json_object_get(json_array_get(m, i), "subtype")),
               "conditional") == 0)
      c = json_array_get(m, i);
  ASSERT_NOT_NULL(c);
  ASSERT_STR_EQ(json_string_value(json_object_get(c, "text")), "만약 돈 안 주면");
  ASSERT_STR_EQ(json_string_value(json_object_get(c, "pattern")), "만약 ~하면");
  ASSERT_EQ(json_integer_value(json_object_get(c, "segment")), 5);
  /* scores: A carries the risk, B none */
  json_t *sp = json_object_get(json_object_get(j, "scores"), "speakers");
  json_t *A = json_object_get(sp, "A"), *B = json_object_get(sp, "B");
  ASSERT(json_real_value(json_object_get(A, "overall")) >
         json_real_value(json_object_get(B, "overall")));
  json_t *tt = json_object_get(json_object_get(A, "threat_assessment"), "threat_types");
  ASSERT_EQ(json_array_size(tt), 3); /* direct, conditional, extortion.demand */
  ASSERT_EQ(json_array_size(json_object_get(json_object_get(B, "threat_assessment"),
                                            "threat_types")), 0);
  json_t *pd = json_object_get(json_object_get(A, "gaslighting"), "patterns_detected");
  ASSERT_STR_EQ(json_string_value(json_array_get(pd, 0)), "denial");
  json_t *ci = json_object_get(json_object_get(json_object_get(j, "scores"), "conversation"),
                               "overall_ci95");
  ASSERT_EQ(json_array_size(ci), 2);
  json_t *sum = json_object_get(j, "speaker_summary");
  ASSERT_EQ(json_integer_value(json_object_get(json_object_get(json_object_get(sum, "A"),
                                                               "findings"), "threat")), 2);
  ASSERT_NULL(json_object_get(json_object_get(json_object_get(sum, "B"), "findings"), "threat"));
  /* hierarchy: B addresses 사장님 */
  json_t *h = json_object_get(j, "hierarchy");
  ASSERT_EQ(json_array_size(h), 1);
  ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(h, 0), "kind")), "job");
  ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(h, 0), "speaker")), "B");
  json_decref(j);
  return 0;
}

static const line CONTROL[] = {
    {0.0, 2.5, "A", "안녕하세요, 오랜만이에요."},
    {3.0, 6.0, "B", "네, 잘 지냈어요? 요즘 날씨가 많이 춥네요."},
    {6.5, 10.0, "A", "어제 친구랑 영화 봤는데 진짜 재밌었어."},
    {10.5, 13.0, "B", "만약 시간 되면 주말에 같이 밥 먹자."},
    {13.5, 15.0, "A", "그래, 좋아. 토요일 어때?"},
    {15.5, 19.0, "B", "어, 그게 토요일은 좀 바빠서 일요일이 나을 것 같아."},
    {19.5, 21.0, "A", "알겠어. 일요일 점심에 보자."},
    {21.5, 23.0, "B", "회의는 다 끝났어?"},
    {23.5, 27.0, "A", "응, 방금 끝났어. 오늘 일이 많아서 좀 힘들었어."},
    {27.5, 29.0, "B", "고생했어. 푹 쉬어."},
    {29.5, 32.0, "A", "고마워. 형한테도 안부 전해 줘."},
    {32.5, 35.0, "B", "그럴게. 집에 나밖에 없어서 좀 심심하네."},
    {35.5, 38.0, "A", "쓰레기 버리러 나가는 길에 전화할게. 알지? 그 공원 앞."},
};

static int test_neutral_control(void) {
  ASSERT_OK(open_db());
  vm_transcript *t = make(CONTROL, sizeof CONTROL / sizeof *CONTROL);
  ASSERT_NOT_NULL(t);
  json_t *j = analyze(t, NULL, 1);
  vm_transcript_destroy(t);
  ASSERT_NOT_NULL(j);
  json_t *m = json_object_get(j, "matches");
  if (json_array_size(m)) fprintf(stderr, "%s\n", json_dumps(m, JSON_INDENT(1)));
  ASSERT_EQ(json_array_size(m), 0);
  json_t *conv = json_object_get(json_object_get(j, "scores"), "conversation");
  ASSERT_STR_EQ(json_string_value(json_object_get(conv, "risk_level")), "minimal");
  ASSERT_EQ(json_array_size(json_object_get(conv, "flags")), 0);
  ASSERT_STR_CONTAINS(json_string_value(json_object_get(conv, "summary_ko")), "최소 위험 수준");
  /* markers are counted, but not as findings */
  ASSERT_GT(json_array_size(json_object_get(j, "deception_markers")), 0);
  json_decref(j);
  return 0;
}

/* Everyday family and work talk, including near misses of the database
 * (만약 … 오면, 다 끝났어, 알지?, 그건 사실이 아니지, 힘들어, 무리하지 마). */
static const char *const SMALL_TALK[] = {
    "여보세요? 어, 나야. 지금 통화 괜찮아?",
    "응, 괜찮아. 무슨 일이야?",
    "내일 엄마 생신인데 케이크 뭐로 할까?",
    "글쎄, 작년에는 초코 케이크 했잖아. 이번엔 과일 케이크 어때?",
    "좋아. 그럼 내가 퇴근하면서 사 갈게.",
    "근데 너 요즘 회사 일 많다며? 너무 무리하지 마.",
    "별일 아니야. 이번 주만 지나면 괜찮아져.",
    "다행이다. 그리고 아빠가 주말에 같이 등산 가자고 하셨어.",
    "나 주말에 약속 있는데. 다음 주는 안 될까?",
    "알겠어, 아빠한테 말해 볼게.",
    "아 맞다, 그 친구 결혼식 언제라고 했지?",
    "다음 달 셋째 주 토요일이야. 축의금은 얼마나 해야 될지 모르겠어.",
    "보통 오만 원이나 십만 원 하더라.",
    "그래, 그 정도면 되겠다. 너는 갈 거야?",
    "당연하지. 그때 같이 가자.",
    "아까 뉴스 봤어? 내일 비 많이 온대.",
    "진짜? 우산 챙겨야겠다.",
    "그리고 만약 비 너무 많이 오면 그냥 집에서 밥 먹자.",
    "그래, 그게 낫겠다. 내가 장 봐 올게.",
    "고마워. 그럼 이따 저녁에 다시 전화할게.",
    "참, 너 지난번에 빌려 간 책 다 읽었어?",
    "아직 반밖에 못 읽었어. 다 읽으면 돌려줄게.",
    "천천히 읽어. 급한 거 아니야.",
    "요즘 운동은 하고 있어? 나 헬스장 등록했어.",
    "오 대단하다. 나도 해야 되는데 시간이 없네.",
    "점심은 먹었어? 나는 김치찌개 먹었어.",
    "나 아직. 이따 회의 끝나고 먹으려고.",
    "회의는 몇 시에 끝나?",
    "세 시쯤? 끝나면 바로 연락할게.",
    "사장님이 오늘 기분이 좋으셔서 회식 한대.",
    "와, 부럽다. 맛있는 거 많이 먹어.",
    "그 영화 진짜 무서웠어. 다시는 공포 영화 안 볼 거야.",
    "하하, 너 원래 겁 많잖아.",
    "그건 사실이 아니지. 나 겁 없어.",
    "알지? 우리 내일 아침 일찍 출발하는 거.",
    "응, 알아. 여섯 시에 깨워 줘.",
    "이번 프로젝트는 진짜 힘들어. 그래도 거의 다 끝났어.",
    "조금만 더 힘내. 끝나면 맛있는 거 사 줄게.",
    "내가 언제 도착한다고 했더라? 기억이 잘 안 나네.",
    "일곱 시쯤이라고 했어. 늦으면 연락해.",
};

static int test_small_talk_control(void) {
  ASSERT_OK(open_db());
  vm_transcript *t = vm_transcript_create();
  ASSERT_NOT_NULL(t);
  size_t n = sizeof SMALL_TALK / sizeof *SMALL_TALK;
  for (size_t i = 0; i < n; i++)
    ASSERT_OK(vm_transcript_add(t, 4.0 * (double)i, 4.0 * (double)i + 3.5, SMALL_TALK[i],
                                (size_t)-1, i % 2 ? "A" : "B", NULL));
  json_t *j = analyze(t, NULL, 1);
  vm_transcript_destroy(t);
  ASSERT_NOT_NULL(j);
  json_t *m = json_object_get(j, "matches");
  if (json_array_size(m)) fprintf(stderr, "%s\n", json_dumps(m, JSON_INDENT(1)));
  ASSERT_EQ(json_array_size(m), 0);
  json_t *conv = json_object_get(json_object_get(j, "scores"), "conversation");
  ASSERT_STR_EQ(json_string_value(json_object_get(conv, "risk_level")), "minimal");
  json_decref(j);
  return 0;
}

static int test_speech_level(void) {
  ASSERT_OK(open_db());
  static const line L[] = {
      {0.0, 1.0, "X", "안녕하세요."},
      {1.0, 2.0, "X", "네, 알겠습니다."},
      {2.0, 3.0, "X", "야, 그만해."},
      {3.0, 4.0, "Y", "저는 학생입니다."},
      {4.0, 5.0, "Y", "이거 필요"},
      {5.0, 6.0, "Z", "밥 먹어."},
  };
  vm_transcript *t = make(L, 6);
  ASSERT_NOT_NULL(t);
  json_t *j = analyze(t, NULL, 1);
  vm_transcript_destroy(t);
  ASSERT_NOT_NULL(j);
  json_t *sp = json_object_get(json_object_get(j, "speech_level"), "speakers");
  json_t *x = json_object_get(sp, "X"), *y = json_object_get(sp, "Y"), *z = json_object_get(sp, "Z");
  /* sentences end at . ? !, so "네, 알겠습니다." is one (formal) sentence */
  ASSERT_EQ(json_integer_value(json_object_get(x, "formal")), 2);
  ASSERT_EQ(json_integer_value(json_object_get(x, "informal")), 1);
  ASSERT_STR_EQ(json_string_value(json_object_get(x, "dominant")), "mixed");
  json_t *sh = json_object_get(x, "shifts");
  ASSERT_EQ(json_array_size(sh), 1);
  ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(sh, 0), "from")), "formal");
  ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(sh, 0), "to")), "informal");
  ASSERT_NEAR(json_real_value(json_object_get(json_array_get(sh, 0), "time")), 2.0, 1e-9);
  /* 입니다 is formal only; a noun ending in 요 is no level */
  ASSERT_EQ(json_integer_value(json_object_get(y, "formal")), 1);
  ASSERT_EQ(json_integer_value(json_object_get(y, "informal")), 0);
  ASSERT_STR_EQ(json_string_value(json_object_get(y, "dominant")), "formal");
  ASSERT_STR_EQ(json_string_value(json_object_get(z, "dominant")), "informal");
  json_decref(j);
  return 0;
}

static int test_discrepancies(void) {
  ASSERT_OK(open_db());
  static const line L[] = {
      {0.0, 3.0, "A", "한 번만 더 그러면 죽여버릴 거야."},
      {3.0, 6.0, "A", "미안해, 내가 잘못했어."},
      {6.0, 9.0, "A", "오늘 점심 뭐 먹을까?"},
  };
  vm_lang_voice v[3] = {{-2.0, 30.0}, {2.0, 40.0}, {0.0, NAN}};
  vm_transcript *t = make(L, 3);
  ASSERT_NOT_NULL(t);
  json_t *j = analyze(t, v, 1);
  json_t *quiet = analyze(t, NULL, 1);
  vm_transcript_destroy(t);
  ASSERT_NOT_NULL(j);
  ASSERT_NOT_NULL(quiet);
  json_t *d = json_object_get(j, "discrepancies");
  ASSERT_EQ(json_array_size(d), 2);
  ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(d, 0), "rule")), "threat_calm_voice");
  ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(d, 0), "text_cue")),
                "죽여버릴 거야");
  ASSERT_NEAR(json_real_value(json_object_get(json_array_get(d, 0), "voice_arousal")), -2.0, 0);
  ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(d, 1), "rule")),
                "apology_raised_voice");
  ASSERT_EQ(json_integer_value(json_object_get(json_array_get(d, 1), "segment")), 1);
  json_t *da = json_object_get(json_object_get(json_object_get(j, "scores"), "conversation"),
                               "deception_analysis");
  /* K = 1 − 0.3·(0.85·0.9 + 0.6·0.85) */
  ASSERT_NEAR(json_real_value(json_object_get(da, "voice_text_consistency")),
              1.0 - 0.3 * (0.765 + 0.51), 1e-9);
  json_t *dq = json_object_get(json_object_get(json_object_get(quiet, "scores"), "conversation"),
                               "deception_analysis");
  ASSERT(json_is_null(json_object_get(dq, "voice_text_consistency")));
  ASSERT_EQ(json_array_size(json_object_get(quiet, "discrepancies")), 0);
  json_decref(j);
  json_decref(quiet);
  return 0;
}

static int test_bootstrap_determinism(void) {
  ASSERT_OK(open_db());
  vm_transcript *t = make(PLANTED, sizeof PLANTED / sizeof *PLANTED);
  ASSERT_NOT_NULL(t);
  json_t *a = analyze(t, NULL, 42), *b = analyze(t, NULL, 42), *c = analyze(t, NULL, 43);
  vm_transcript_destroy(t);
  ASSERT(a && b && c);
  char *sa = json_dumps(a, JSON_SORT_KEYS), *sb = json_dumps(b, JSON_SORT_KEYS);
  ASSERT_STR_EQ(sa, sb); /* the whole object, interval included */
  free(sa);
  free(sb);
  json_t *ca = json_object_get(json_object_get(json_object_get(a, "scores"), "conversation"),
                               "overall_ci95");
  json_t *cc = json_object_get(json_object_get(json_object_get(c, "scores"), "conversation"),
                               "overall_ci95");
  double lo = json_real_value(json_array_get(ca, 0)), hi = json_real_value(json_array_get(ca, 1));
  ASSERT(lo < hi);
  ASSERT(lo != json_real_value(json_array_get(cc, 0)) ||
         hi != json_real_value(json_array_get(cc, 1)));
  json_decref(a);
  json_decref(b);
  json_decref(c);
  return 0;
}

static int test_unknown_speaker_and_empty(void) {
  ASSERT_OK(open_db());
  static const line L[] = {{0.0, 2.0, NULL, "닥쳐!"}};
  vm_transcript *t = make(L, 1);
  ASSERT_NOT_NULL(t);
  json_t *j = analyze(t, NULL, 1);
  vm_transcript_destroy(t);
  ASSERT_NOT_NULL(j);
  json_t *m = json_array_get(json_object_get(j, "matches"), 0);
  ASSERT(json_is_null(json_object_get(m, "speaker")));
  ASSERT_STR_EQ(json_string_value(json_object_get(m, "type_label_ko")), "가스라이팅");
  json_t *u = json_object_get(json_object_get(json_object_get(j, "scores"), "speakers"), "unknown");
  ASSERT_NOT_NULL(u);
  ASSERT(json_is_null(json_object_get(u, "overall_ci95"))); /* one segment */
  json_decref(j);
  /* a speaker label that is not UTF-8 becomes a valid key, not a failure */
  static const line bad[] = {{0.0, 1.0, "Kim\xff", "닥쳐!"}, {1.0, 2.0, "Kim\xff", "응."}};
  t = make(bad, 2);
  ASSERT_NOT_NULL(t);
  j = analyze(t, NULL, 1);
  vm_transcript_destroy(t);
  ASSERT_NOT_NULL(j);
  ASSERT_NOT_NULL(json_object_get(json_object_get(json_object_get(j, "scores"), "speakers"),
                                  "Kim\xef\xbf\xbd"));
  json_decref(j);
  vm_transcript *e = vm_transcript_create();
  ASSERT_NOT_NULL(e);
  j = analyze(e, NULL, 1);
  ASSERT_NOT_NULL(j);
  ASSERT_EQ(json_integer_value(json_object_get(j, "n_segments")), 0);
  json_t *conv = json_object_get(json_object_get(j, "scores"), "conversation");
  ASSERT_STR_EQ(json_string_value(json_object_get(conv, "risk_level")), "minimal");
  ASSERT_NEAR(json_real_value(json_object_get(conv, "overall")), 0.0, 1e-12);
  json_decref(j);
  vm_err err;
  ASSERT_EQ(vm_lang_analyze(g_db, NULL, NULL, NULL, &j, &err), VM_EINVAL);
  ASSERT_EQ(vm_lang_analyze(NULL, e, NULL, NULL, &j, &err), VM_EINVAL);
  vm_transcript_destroy(e);
  return 0;
}

static int test_voice_arousal(void) {
  static const line L[] = {
      {0, 1, "A", "가"}, {1, 2, "A", "나"}, {2, 3, "A", "다"}, {3, 4, "A", "라"}, {4, 5, "A", "마"},
      {5, 6, "B", "바"}, {6, 7, "B", "사"}, {7, 8, "B", "아"}, {8, 9, "B", "자"},
      {9, 10, "C", "차"}, {10, 11, "C", "카"},
  };
  double f0[11] = {100, 102, 98, 101, 160, 220, 225, 215, NAN, 300, 310};
  double db[11] = {60, 61, 59, 60, 72, 65, 66, 64, NAN, 70, 71};
  vm_transcript *t = make(L, 11);
  ASSERT_NOT_NULL(t);
  vm_lang_voice v[11];
  for (int i = 0; i < 11; i++) v[i].stress_index = 12.0;
  ASSERT_OK(vm_lang_voice_arousal(t, f0, db, v));
  /* A's shout: F0 8.0 semitones and intensity 12 dB over A's own median,
   * spreads at their floors (1 st, 2 dB) → z 7.97 and 6 */
  double st160 = 12.0 * log2(1.60), st101 = 12.0 * log2(1.01);
  ASSERT_NEAR(v[4].arousal, 0.5 * ((st160 - st101) / 1.0 + 12.0 / 2.0), 1e-9);
  ASSERT_NEAR(v[0].arousal, 0.5 * (-st101 + 0.0), 1e-9);
  /* B speaks higher than A but at its own baseline: no arousal */
  ASSERT(fabs(v[5].arousal) < 0.2);
  ASSERT(isnan(v[8].arousal));   /* nothing measured */
  ASSERT(isnan(v[9].arousal));   /* C has only 2 segments */
  ASSERT_NEAR(v[0].stress_index, 12.0, 0); /* untouched */
  /* intensity alone is enough */
  ASSERT_OK(vm_lang_voice_arousal(t, NULL, db, v));
  ASSERT_NEAR(v[4].arousal, 6.0, 1e-9);
  ASSERT_EQ(vm_lang_voice_arousal(NULL, f0, db, v), VM_EINVAL);
  vm_transcript_destroy(t);
  return 0;
}

static int cleanup(void) {
  vm_lang_db_close(g_db);
  g_db = NULL;
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_planted), TEST_ENTRY(test_neutral_control),
          TEST_ENTRY(test_small_talk_control),
          TEST_ENTRY(test_speech_level), TEST_ENTRY(test_discrepancies),
          TEST_ENTRY(test_bootstrap_determinism), TEST_ENTRY(test_unknown_speaker_and_empty),
          TEST_ENTRY(test_voice_arousal),
          TEST_ENTRY(cleanup))
