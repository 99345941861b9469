/* test_report_html_plot.c — the report's figures and long inputs:
 * contour downsampling, a one-hour recording (360 000 contour values,
 * 3 600 turns) that must still give small SVGs, and a long transcript
 * whose every line keeps its anchor.
 * Run one test: ./test_report_html_plot NAME
 */
#include <math.h>

#include "report_html_impl.h"
#include "report_test_util.h"
#include "test.h"

static int test_downsample(void) {
  double v[10] = {1, 3, NAN, NAN, 5, 7, 2, NAN, 4, 4}, t[5], o[5];
  size_t m = vm__contour_downsample(v, 10, 0.01, 5, t, o);
  ASSERT_EQ(m, 5);
  ASSERT_NEAR(o[0], 2, 1e-12);
  ASSERT(isnan(o[1])); /* a bucket without a value stays a gap */
  ASSERT_NEAR(o[2], 6, 1e-12);
  ASSERT_NEAR(o[3], 2, 1e-12);
  ASSERT_NEAR(o[4], 4, 1e-12);
  ASSERT_NEAR(t[0], 0.005, 1e-12); /* bucket centre */
  ASSERT_NEAR(t[4], 0.085, 1e-12);
  /* fewer values than buckets: unchanged */
  m = vm__contour_downsample(v, 3, 0.01, 5, t, o);
  ASSERT_EQ(m, 3);
  ASSERT_NEAR(o[1], 3, 1e-12);
  ASSERT(isnan(o[2]));
  /* uneven division covers every value exactly once */
  double w[7] = {1, 1, 1, 1, 1, 1, 10};
  m = vm__contour_downsample(w, 7, 1, 3, t, o);
  ASSERT_EQ(m, 3);
  ASSERT_NEAR(o[0] * 2 + o[1] * 2 + o[2] * 3, 16, 1e-12);
  return 0;
}

/* The text of the element with that id, up to its closing tag. */
static char *element(const char *html, const char *id, const char *close) {
  char want[64];
  snprintf(want, sizeof want, "id=\"%s\"", id);
  const char *p = strstr(html, want), *q = p ? strstr(p, close) : NULL;
  if (!q) return NULL;
  char *s = vm_malloc((size_t)(q - p) + 1);
  memcpy(s, p, (size_t)(q - p));
  s[q - p] = '\0';
  return s;
}

/* Points in the polylines of an SVG fragment. */
static size_t n_points(const char *svg) {
  size_t n = 0;
  for (const char *p = strstr(svg, "points=\""); p; p = strstr(p + 1, "points=\"")) {
    const char *end = strchr(p + 8, '"');
    for (const char *c = p + 8; c < end; c++) n += *c == ',';
  }
  return n + count_of(svg, "<circle");
}

static json_t *hour_result(void) {
  const double dur = 3600.0;
  json_t *r = json_pack("{ss s{sf} s{s[]} s{sf s[] s[]}}", "schema", "voiceman.result/1", "audio",
                        "duration_s", dur, "diarization", "turns", "contours", "step_s", 0.01,
                        "f0_hz", "intensity_db");
  json_t *turns = json_object_get(json_object_get(r, "diarization"), "turns");
  for (int i = 0; i < 3600; i++)
    json_array_append_new(turns, json_pack("{sf sf ss}", "start", i + 0.05, "end", i + 0.9,
                                           "speaker", i % 2 ? "SPEAKER_01" : "SPEAKER_00"));
  json_t *f0 = json_object_get(json_object_get(r, "contours"), "f0_hz");
  json_t *it = json_object_get(json_object_get(r, "contours"), "intensity_db");
  for (int i = 0; i < 360000; i++) {
    double t = i * 0.01;
    json_array_append_new(f0, (i / 30) % 4 == 0 ? json_null()
                                                : json_real(150 + 40 * sin(t / 60)));
    json_array_append_new(it, json_real(60 + 10 * sin(t / 30)));
  }
  return r;
}

static int test_hour_recording(void) {
  json_t *r = hour_result();
  size_t n = 0;
  char *html = render(r, &n);
  ASSERT_NOT_NULL(html);
  ASSERT_NULL(markup_check(html, 0));
  char *f0 = element(html, "f0-plot", "</svg>"), *in = element(html, "intensity-plot", "</svg>"),
       *tl = element(html, "timeline-svg", "</svg>");
  ASSERT(f0 && in && tl);
  ASSERT_LE(n_points(f0), 2000);
  ASSERT_GE(n_points(f0), 1000); /* downsampled, not emptied */
  ASSERT_LE(n_points(in), 2000);
  ASSERT_GE(n_points(in), 1900);
  ASSERT_STR_CONTAINS(html, "360000개 값(10 ms 간격), 표시를 위해 2000개 구간 평균으로 축약");
  /* 3 600 turns: bars closer than half a unit merge; two lanes */
  ASSERT_LE(count_of(tl, "<rect"), 2 * 900);
  ASSERT_STR_CONTAINS(tl, ">1:00:00</text>"); /* axis labels past an hour */
  ASSERT_LT(n, 600000); /* the whole page stays small */
  vm_free(f0);
  vm_free(in);
  vm_free(tl);
  vm_free(html);
  json_decref(r);
  return 0;
}

static int test_long_transcript(void) {
  const int n_seg = 5000;
  json_t *r = json_pack("{ss s{sf} s{ss ss s[]} s{s[]}}", "schema", "voiceman.result/1", "audio",
                        "duration_s", n_seg * 2.0, "transcript", "source", "srt", "language", "ko",
                        "segments", "language", "matches");
  json_t *segs = json_object_get(json_object_get(r, "transcript"), "segments");
  for (int i = 0; i < n_seg; i++) {
    char text[96];
    snprintf(text, sizeof text, "%d번째 발화입니다 <%d> & \"끝\"", i, i);
    json_array_append_new(segs, json_pack("{si sf sf ss ss}", "id", i, "start", i * 2.0, "end",
                                          i * 2.0 + 1.5, "speaker", i % 3 ? "A" : "B", "text", text));
  }
  json_t *ms = json_object_get(json_object_get(r, "language"), "matches");
  /* one with its segment, one with only a time */
  json_array_append_new(ms, json_pack("{si ss sf sf ss ss}", "segment", 4000, "type", "threat",
                                      "start", 8000.2, "end", 8001.0, "speaker", "B", "text", "x"));
  json_array_append_new(ms, json_pack("{ss sf sf ss ss}", "type", "gaslighting", "start", 9000.7,
                                      "end", 9001.0, "speaker", "A", "text", "y"));
  char *html = render(r, NULL);
  ASSERT_NOT_NULL(html);
  ASSERT_NULL(markup_check(html, 0));
  ASSERT_NULL(anchors_check(html));
  ASSERT_EQ(count_of(html, "<div class=\"seg"), (size_t)n_seg);
  ASSERT_STR_CONTAINS(html, "id=\"seg-4999\"");
  ASSERT_STR_CONTAINS(html, "4999번째 발화입니다 &lt;4999&gt; &amp; &quot;끝&quot;");
  ASSERT_STR_CONTAINS(html, "<a href=\"#seg-4000\">2:13:20</a>");
  ASSERT_STR_CONTAINS(html, "<a href=\"#seg-4500\">2:30:00</a>"); /* by time: 9000.7 s */
  ASSERT_EQ(count_of(html, "<div class=\"seg flagged\""), 2);
  ASSERT_STR_CONTAINS(html, "구간 5000개 · 화자 2명");
  vm_free(html);
  json_decref(r);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_downsample), TEST_ENTRY(test_hour_recording),
          TEST_ENTRY(test_long_transcript))
