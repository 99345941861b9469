/* test_report_html.c — the per-file HTML report: escaping, sections,
 * links, missing and mistyped keys, determinism, out-of-memory paths.
 *
 * Renders the sample results of tests/fixtures/report/ (made by
 * make_samples.py there) and checks the page text.
 * Run one test: ./test_report_html NAME
 */
#include <math.h>

#include "report_html_impl.h"
#include "report_test_util.h"
#include "test.h"

static char *hb_string(void (*fn)(vm__hbuf *, const char *), const char *in) {
  vm__hbuf b;
  vm__hb_init(&b);
  fn(&b, in);
  vm__hb_put(&b, "");
  return vm__hb_take(&b, NULL);
}

/* No NaN or infinity printed as a number. */
static int no_nan(const char *html) {
  static const char *const bad[] = {">nan", "nan<", "-nan", " nan", "nan ", ">inf", "inf<",
                                    " inf", "nan,", ",nan", NULL};
  for (const char *const *b = bad; *b; b++)
    if (strstr(html, *b)) {
      fprintf(stderr, "found \"%s\"\n", *b);
      return 0;
    }
  return 1;
}

static void url_slash(vm__hbuf *b, const char *s) { vm__hb_url(b, s, 1); }

static int test_escape_text(void) {
  char *s = hb_string(vm__hb_text, "<script>alert(1)</script> \"q\" & 'a' 한국어");
  ASSERT_STR_EQ(s, "&lt;script&gt;alert(1)&lt;/script&gt; &quot;q&quot; &amp; &#39;a&#39; 한국어");
  vm_free(s);
  /* control characters and broken UTF-8 become U+FFFD; tab and newline stay */
  s = hb_string(vm__hb_text, "a\x01" "b\tc\nd\xff" "e\xed\xa0\x80" "f\xe2\x82");
  ASSERT_STR_EQ(s, "a\xEF\xBF\xBD" "b\tc\nd\xEF\xBF\xBD" "e\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                   "f\xEF\xBF\xBD\xEF\xBF\xBD");
  vm_free(s);
  vm__hbuf b;
  vm__hb_init(&b);
  vm__hb_text_cut(&b, "가나다라마 <b>", 3);
  vm__hb_put(&b, "|");
  vm__hb_text_cut(&b, "ab", 3);
  s = vm__hb_take(&b, NULL);
  ASSERT_STR_EQ(s, "가나다…|ab");
  vm_free(s);
  return 0;
}

static int test_escape_url(void) {
  char *s = hb_string(url_slash, "dir/a b<c>&\"'#?.json");
  ASSERT_STR_EQ(s, "dir/a%20b%3Cc%3E%26%22%27%23%3F.json");
  vm_free(s);
  s = hb_string(url_slash, "javascript:alert(1)");
  ASSERT_STR_EQ(s, "javascript%3Aalert%281%29"); /* no scheme: a relative name */
  vm_free(s);
  s = hb_string(url_slash, "통화.json");
  ASSERT_STR_EQ(s, "%ED%86%B5%ED%99%94.json");
  vm_free(s);
  return 0;
}

static int test_hostile_text_is_text(void) {
  json_t *r = load_fixture("hostile.json");
  ASSERT_NOT_NULL(r);
  size_t n = 0;
  char *html = render(r, &n);
  ASSERT_NOT_NULL(html);
  ASSERT_EQ(strlen(html), n);
  const char *bad = markup_check(html, 0);
  if (bad) fprintf(stderr, "%s\n", bad);
  ASSERT_NULL(bad);
  ASSERT(!strstr(html, "<script"));
  ASSERT(!strstr(html, "<img"));
  ASSERT(!strstr(html, "<iframe"));
  ASSERT(!strstr(html, "<b>김"));
  ASSERT(!strstr(html, "<i>extra"));
  /* the texts are there, escaped: file name, transcript, speaker, summary */
  ASSERT_STR_CONTAINS(html, "&lt;script&gt;alert(1)&lt;/script&gt; &quot;q&quot; &amp; &#39;a&#39;.m4a");
  ASSERT_STR_CONTAINS(html, "&lt;img src=x onerror=alert(2)&gt;");
  ASSERT_STR_CONTAINS(html, "&lt;/div&gt;&lt;/section&gt;&lt;script&gt;alert(3)");
  ASSERT_STR_CONTAINS(html, "요약 &lt;/p&gt;&lt;script&gt;alert(4)&lt;/script&gt; &amp; &quot;끝&quot;");
  ASSERT_STR_CONTAINS(html, "&lt;b&gt;김&quot;철수&quot;&lt;/b&gt; &amp; Co");
  ASSERT_STR_CONTAINS(html, "O&#39;Brien &lt;i&gt;");
  ASSERT_STR_CONTAINS(html, "&lt;a href=&quot;javascript:alert(5)&quot;&gt;");
  ASSERT_STR_CONTAINS(html, "&lt;svg onload=alert(6)&gt;");
  ASSERT_STR_CONTAINS(html, "&lt;i&gt;extra&lt;/i&gt;");
  ASSERT_STR_CONTAINS(html, "1.0 &lt;script&gt;alert(8)&lt;/script&gt;");
  ASSERT_STR_CONTAINS(html, "&lt;script&gt;alert(9)&lt;/script&gt;");
  ASSERT_STR_CONTAINS(html, "&lt;iframe src=//x&gt;");
  ASSERT_STR_CONTAINS(html, "<title>음성 포렌식 분석 보고서 — &lt;script&gt;");
  ASSERT_NULL(anchors_check(html));
  vm_free(html);
  json_decref(r);
  return 0;
}

static int test_sections_present(void) {
  json_t *r = load_fixture("full_ko.json");
  ASSERT_NOT_NULL(r);
  char *html = render(r, NULL);
  ASSERT_NOT_NULL(html);
  ASSERT_NULL(markup_check(html, 0));
  static const char *const ids[] = {"report-header", "summary", "categories", "timeline",
                                    "contours", "findings", "gaslighting", "threat", "deception",
                                    "discrepancies", "speakers", "transcript", "long-term",
                                    "audio", "integrity", "risk-badge", "timeline-svg",
                                    "findings-table", "f0-plot", "intensity-plot", NULL};
  for (const char *const *id = ids; *id; id++) {
    char want[64];
    snprintf(want, sizeof want, "id=\"%s\"", *id);
    ASSERT_EQ(count_of(html, want), 1);
  }
  /* summary: badge from the scoring's risk level, score, CI, texts */
  ASSERT_STR_CONTAINS(html, "<span class=\"risk-badge risk-high\" id=\"risk-badge\">높음</span>");
  ASSERT_STR_CONTAINS(html, "72.4 / 100");
  ASSERT_STR_CONTAINS(html, "95% 신뢰구간: [64.9, 78.6]");
  ASSERT_STR_CONTAINS(html, "요약 (Executive Summary)");
  ASSERT_STR_CONTAINS(html, "<li class=\"critical\">즉시 안전한 장소로");
  ASSERT_STR_CONTAINS(html, "고위험 감지");
  /* category cards in the original's order with Korean names */
  const char *g = strstr(html, "<h3>가스라이팅</h3>"), *t = strstr(html, "<h3>협박</h3>"),
             *e = strstr(html, "<h3>정서적 조작</h3>");
  ASSERT(g && t && e && g < t && t < e);
  ASSERT_STR_CONTAINS(html, "신뢰도: 90% | 증거: 4건");
  /* sections of the original, in Korean */
  ASSERT_STR_CONTAINS(html, "<h2>가스라이팅 분석</h2>");
  ASSERT_STR_CONTAINS(html, "<h2>위협 평가</h2>");
  ASSERT_STR_CONTAINS(html, "<h2>기만 분석</h2>");
  ASSERT_STR_CONTAINS(html, "<h2>대화 기록</h2>");
  ASSERT_STR_CONTAINS(html, "<h2>장기적 관점</h2>");
  ASSERT_STR_CONTAINS(html, "가스라이팅 장기 관찰"); /* intensity 68 >= 30 */
  ASSERT_STR_CONTAINS(html, "안전 계획 수립");       /* threat level critical */
  ASSERT_STR_CONTAINS(html, "<td>단기적</td>");
  /* findings: 9 matches + 2 discrepancies + 2 escalation zones, time-ordered */
  ASSERT_STR_CONTAINS(html, "발견 사항 (12건)");
  ASSERT_EQ(count_of(html, "<tr class=\"f-"), 12 + 2); /* + discrepancy table */
  ASSERT_EQ(count_of(html, "<tr class=\"f-insult\">"), 1);
  ASSERT_STR_CONTAINS(html, "<a href=\"#seg-9\">0:44.8</a>");
  ASSERT_NULL(anchors_check(html));
  ASSERT_EQ(count_of(html, "<div class=\"seg"), 12);
  ASSERT_EQ(count_of(html, "<div class=\"seg flagged\""), 4);
  /* the language module's labels for type ids, deception markers as evidence */
  ASSERT_STR_CONTAINS(html, "<td>부정, 현실왜곡, 최소화, 책임전가</td>");
  ASSERT_STR_CONTAINS(html, "<span class=\"chip\">부정</span><span class=\"chip\">최소화</span>");
  ASSERT_STR_CONTAINS(html, "<b>회피어</b> “솔직히 말하면”");
  ASSERT_STR_CONTAINS(html, "모욕 감지");
  ASSERT_STR_CONTAINS(html, "높음 / 0.70"); /* discrepancy severity / confidence */
  /* who says what: per-speaker language summary, speech level, hierarchy */
  ASSERT_STR_CONTAINS(html, "화자별 언어 요약");
  ASSERT_STR_CONTAINS(html, "<span class=\"chip\">협박 2건</span>");
  ASSERT_STR_CONTAINS(html, "반말 (존댓말 1 · 반말 8)<br>전환 1회: <a href=\"#seg-9\">0:44.5</a> 반말→존댓말");
  ASSERT_STR_CONTAINS(html, "“선배님” <span class=\"muted\">사회적 호칭</span>");
  ASSERT_STR_CONTAINS(html, "인식 불확실"); /* segment 10: avg_logprob -1.4 */
  /* speakers coloured consistently: SPEAKER_00 first seen -> spk-0 */
  ASSERT_STR_CONTAINS(html, "<span class=\"spk spk-0\">SPEAKER_00</span>");
  ASSERT_STR_CONTAINS(html, "<span class=\"spk spk-1\">SPEAKER_01</span>");
  ASSERT_EQ(count_of(html, "<span class=\"spk spk-1\">SPEAKER_00"), 0);
  ASSERT_STR_CONTAINS(html, "71 (높음)"); /* stress */
  ASSERT_STR_CONTAINS(html, "존댓말");
  /* integrity: hashes and versions */
  ASSERT_STR_CONTAINS(html, "9f2cabab");
  ASSERT_STR_CONTAINS(html, "<a href=\"a.m4a.json\">a.m4a.json</a>");
  ASSERT_STR_CONTAINS(html, "1111111111111111111111111111111111111111111111111111111111111111");
  ASSERT_STR_CONTAINS(html, "voiceman 9.9.9-test");
  ASSERT_STR_CONTAINS(html, "ggml-large-v3.bin");
  ASSERT_STR_CONTAINS(html, "ko-patterns 1.1.0");
  /* self-contained: no network URL anywhere, CSP forbids loads */
  ASSERT(!strstr(html, "http://") || count_of(html, "http://") == count_of(html, "http://www.w3.org/2000/svg"));
  ASSERT(!strstr(html, "https://"));
  ASSERT_STR_CONTAINS(html, "default-src 'none'");
  ASSERT(no_nan(html));
  vm_free(html);
  json_decref(r);
  return 0;
}

static int test_missing_keys(void) {
  static const char *const names[] = {"real_no_language.json", "nulls.json", NULL};
  for (const char *const *nm = names; *nm; nm++) {
    json_t *r = load_fixture(*nm);
    ASSERT_NOT_NULL(r);
    char *html = render(r, NULL);
    ASSERT_NOT_NULL(html);
    ASSERT_NULL(markup_check(html, 0));
    ASSERT_STR_CONTAINS(html, "<span class=\"risk-badge risk-none\" id=\"risk-badge\">평가 없음</span>");
    ASSERT_STR_CONTAINS(html, "언어 분석 결과 없음");
    ASSERT_STR_CONTAINS(html, "id=\"findings-table\"");
    ASSERT_STR_CONTAINS(html, "<h2>대화 기록</h2><p class=\"na\">없음");
    ASSERT(no_nan(html));
    vm_free(html);
    json_decref(r);
  }
  /* the real result has a time line from diarization but no contours */
  json_t *r = load_fixture("real_no_language.json");
  char *html = render(r, NULL);
  ASSERT_STR_CONTAINS(html, "id=\"timeline-svg\"");
  ASSERT_STR_CONTAINS(html, "<h3>기본 주파수 F0</h3><p class=\"na\">없음</p>");
  ASSERT_STR_CONTAINS(html, "15.2"); /* HNR of SPEAKER_00 */
  vm_free(html);
  json_decref(r);
  return 0;
}

/* A result whose "language" part the real language module wrote
 * (src/forensic/lang_analyze.c on a WebVTT transcript with two named
 * speakers, joined to a real run's result). */
static int test_real_language(void) {
  json_t *r = load_fixture("real_language.json");
  ASSERT_NOT_NULL(r);
  char *html = render(r, NULL);
  ASSERT_NOT_NULL(html);
  ASSERT_NULL(markup_check(html, 0));
  ASSERT_NULL(anchors_check(html));
  ASSERT_STR_CONTAINS(html, "<span class=\"risk-badge risk-minimal\" id=\"risk-badge\">최소</span>");
  ASSERT_STR_CONTAINS(html, "발견 사항 (2건)");
  ASSERT_STR_CONTAINS(html, "<a href=\"#seg-2\">0:05.2</a>");
  ASSERT_STR_CONTAINS(html, "<span class=\"spk spk-1\">김철수</span>");
  ASSERT_STR_CONTAINS(html, "<span class=\"spk spk-2\">이영희</span>");
  ASSERT_STR_CONTAINS(html, "<h3>협박</h3>");
  ASSERT_STR_CONTAINS(html, "<td>직접적협박, 조건부협박</td>"); /* threat types, by the data's labels */
  ASSERT_STR_CONTAINS(html, "<b>회피어</b>");                    /* a deception marker */
  ASSERT_STR_CONTAINS(html, "화자별 언어 요약");
  const char *ver = json_string_value(json_object_get(json_object_get(r, "language"), "patterns_version"));
  ASSERT_NOT_NULL(ver);
  ASSERT_STR_CONTAINS(html, ver);
  ASSERT(no_nan(html));
  vm_free(html);
  json_decref(r);
  return 0;
}

/* Every key the report reads, with the wrong type or odd values. */
static int test_mistyped_keys(void) {
  static const char *const docs[] = {
      "{}",
      "{\"schema\":\"voiceman.result/1\",\"input\":5,\"audio\":[],\"speakers\":\"x\","
      "\"segments\":{},\"diarization\":{\"turns\":[1,null,{\"start\":\"a\"},"
      "{\"start\":5,\"end\":2,\"speaker\":7},{\"start\":-3,\"end\":1e300,\"speaker\":\"S\"}]},"
      "\"transcript\":{\"segments\":[null,3,{\"id\":-4,\"text\":5},{\"id\":2,\"start\":1}]},"
      "\"contours\":{\"step_s\":\"a\",\"f0_hz\":\"x\"},"
      "\"escalation\":{\"zones\":[{},{\"start_s\":1,\"end_s\":2}]},"
      "\"language\":{\"matches\":[1,null,\"x\",{},{\"segment\":99,\"start\":1e9}],"
      "\"discrepancies\":\"x\",\"hierarchy\":{},\"speech_level\":[],"
      "\"scores\":{\"conversation\":{\"overall\":\"high\",\"categories\":[],\"flags\":{},"
      "\"recommendations_ko\":[1,null],\"overall_ci95\":[1]},\"speakers\":[]}},"
      "\"stages\":[]}",
      "{\"audio\":{\"duration_s\":0},\"contours\":{\"step_s\":0.01,\"f0_hz\":[null,null],"
      "\"intensity_db\":[1]},\"diarization\":{\"turns\":[{\"start\":0,\"end\":1,"
      "\"speaker\":\"A\"}]}}",
      NULL};
  for (const char *const *d = docs; *d; d++) {
    json_error_t je;
    json_t *r = json_loads(*d, 0, &je);
    ASSERT_NOT_NULL(r);
    char *html = render(r, NULL);
    ASSERT_NOT_NULL(html);
    ASSERT_NULL(markup_check(html, 0));
    ASSERT_NULL(anchors_check(html));
    vm_free(html);
    json_decref(r);
  }
  return 0;
}

static int test_bad_input(void) {
  vm_err err = {0};
  char *html = (char *)1;
  json_t *a = json_array();
  ASSERT_EQ(vm_report_html_render(a, NULL, &html, NULL, &err), VM_EINVAL);
  ASSERT_NULL(html);
  ASSERT_STR_CONTAINS(err.msg, "not a JSON object");
  json_t *o = json_pack("{ss}", "schema", "voiceman.result/2");
  ASSERT_EQ(vm_report_html_render(o, NULL, &html, NULL, &err), VM_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "voiceman.result/1");
  ASSERT_EQ(vm_report_html_render(NULL, NULL, &html, NULL, &err), VM_EINVAL);
  json_decref(a);
  json_decref(o);
  return 0;
}

static int test_deterministic(void) {
  json_t *r = load_fixture("full_ko.json");
  size_t n1 = 0, n2 = 0;
  char *a = render(r, &n1), *b = render(r, &n2);
  ASSERT(a && b);
  ASSERT_EQ(n1, n2);
  ASSERT(memcmp(a, b, n1) == 0);
  /* no context: versions come from the result, no links or hashes */
  char *c = NULL;
  vm_err err;
  ASSERT_OK(vm_report_html_render(r, NULL, &c, NULL, &err));
  ASSERT_STR_CONTAINS(c, "voiceman 0.2.0");
  ASSERT_STR_CONTAINS(c, "<h3>출력 파일</h3>");
  vm_free(a);
  vm_free(b);
  vm_free(c);
  json_decref(r);
  return 0;
}

static int test_out_of_memory(void) {
  json_t *r = load_fixture("full_ko.json");
  int n_fail = 0, n_ok = 0;
  for (long k = 0; k < 400; k += 3) {
    char *html = NULL;
    vm_err err;
    vm_alloc_fail_after(k);
    int rc = vm_report_html_render(r, NULL, &html, NULL, &err);
    vm_alloc_fail_after(-1);
    if (rc == VM_OK) {
      ASSERT_NOT_NULL(html);
      n_ok++;
    } else {
      ASSERT_EQ(rc, VM_ENOMEM);
      ASSERT_NULL(html);
      n_fail++;
    }
    vm_free(html);
  }
  ASSERT_GT(n_fail, 0);
  ASSERT_GT(n_ok, 0);
  json_decref(r);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_escape_text), TEST_ENTRY(test_escape_url),
          TEST_ENTRY(test_hostile_text_is_text), TEST_ENTRY(test_sections_present),
          TEST_ENTRY(test_missing_keys), TEST_ENTRY(test_real_language),
          TEST_ENTRY(test_mistyped_keys),
          TEST_ENTRY(test_bad_input), TEST_ENTRY(test_deterministic),
          TEST_ENTRY(test_out_of_memory))
