/* test_transcript_write.c — the TXT, SRT, WebVTT and JSON writers: exact
 * output for a small transcript, and write -> parse round trips.
 * Run: ctest --test-dir build -R test_transcript_write --output-on-failure
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test.h"
#include "transcript.h"
#include "vm_alloc.h"
#include "vm_json.h"

/* A small Korean conversation with speakers, markup-like characters, a
 * two-line segment and times past 100 hours. */
static vm_transcript *sample(int with_speakers) {
  vm_transcript *t = vm_transcript_create();
  if (!t) return NULL;
  struct {
    double a, b;
    const char *spk, *text;
  } s[] = {{0.0, 2.5, "SPEAKER_00", "지금 당장 돈 보내."},
           {2.5004, 4.0, "SPEAKER_01", "무슨 <말씀> & 이유로?\n저는 돈 없어요."},
           {360000.25, 360003.999, "김 과장", "100시간 뒤 --> 확인"}};
  for (size_t i = 0; i < 3; i++)
    if (vm_transcript_add(t, s[i].a, s[i].b, s[i].text, (size_t)-1,
                          with_speakers ? s[i].spk : NULL, NULL) != VM_OK) {
      vm_transcript_destroy(t);
      return NULL;
    }
  if (vm_transcript_set_language(t, "ko") != VM_OK) {
    vm_transcript_destroy(t);
    return NULL;
  }
  return t;
}

static int written_is(const vm_transcript *t, enum vm_tr_format fmt, const char *want) {
  char *out = NULL;
  size_t n = 0;
  ASSERT_OK(vm_transcript_write(t, fmt, &out, &n));
  ASSERT_EQ(n, strlen(out));
  ASSERT_STR_EQ(out, want);
  vm_free(out);
  return 0;
}
#define WRITTEN(t, fmt, want) ASSERT_EQ(written_is(t, fmt, want), 0)

static int test_write_txt(void) {
  vm_transcript *t = sample(1);
  ASSERT_NOT_NULL(t);
  WRITTEN(t, VM_TR_FORMAT_TXT,
          "[00:00:00.000 --> 00:00:02.500] SPEAKER_00: 지금 당장 돈 보내.\n"
          "[00:00:02.500 --> 00:00:04.000] SPEAKER_01: 무슨 <말씀> & 이유로? 저는 돈 없어요.\n"
          "[100:00:00.250 --> 100:00:03.999] 김 과장: 100시간 뒤 --> 확인\n");
  vm_transcript_destroy(t);
  t = sample(0);
  ASSERT_NOT_NULL(t);
  WRITTEN(t, VM_TR_FORMAT_TXT,
          "[00:00:00.000 --> 00:00:02.500] 지금 당장 돈 보내.\n"
          "[00:00:02.500 --> 00:00:04.000] 무슨 <말씀> & 이유로? 저는 돈 없어요.\n"
          "[100:00:00.250 --> 100:00:03.999] 100시간 뒤 --> 확인\n");
  vm_transcript_destroy(t);
  return 0;
}

static int test_write_srt(void) {
  vm_transcript *t = sample(1);
  ASSERT_NOT_NULL(t);
  WRITTEN(t, VM_TR_FORMAT_SRT,
          "1\n00:00:00,000 --> 00:00:02,500\n[SPEAKER_00] 지금 당장 돈 보내.\n\n"
          "2\n00:00:02,500 --> 00:00:04,000\n[SPEAKER_01] 무슨 <말씀> & 이유로?\n저는 돈 없어요.\n\n"
          "3\n100:00:00,250 --> 100:00:03,999\n[김 과장] 100시간 뒤 --> 확인\n\n");
  vm_transcript_destroy(t);
  return 0;
}

static int test_write_vtt(void) {
  vm_transcript *t = sample(1);
  ASSERT_NOT_NULL(t);
  WRITTEN(t, VM_TR_FORMAT_VTT,
          "WEBVTT\nLanguage: ko\n\n"
          "00:00:00.000 --> 00:00:02.500\n<v SPEAKER_00>지금 당장 돈 보내.\n\n"
          "00:00:02.500 --> 00:00:04.000\n<v SPEAKER_01>무슨 &lt;말씀&gt; &amp; 이유로?\n"
          "저는 돈 없어요.\n\n"
          "100:00:00.250 --> 100:00:03.999\n<v 김 과장>100시간 뒤 --&gt; 확인\n\n");
  vm_transcript_destroy(t);
  return 0;
}

static int test_write_json(void) {
  vm_transcript *t = sample(1);
  ASSERT_NOT_NULL(t);
  ASSERT_OK(vm_transcript_set_source(t, "whisper"));
  char *out = NULL;
  size_t n = 0;
  ASSERT_OK(vm_transcript_write(t, VM_TR_FORMAT_JSON, &out, &n));
  ASSERT_EQ(out[n - 1], '\n');
  ASSERT_STR_CONTAINS(out, "\"source\": \"whisper\"");
  ASSERT_STR_CONTAINS(out, "\"language\": \"ko\"");
  ASSERT_STR_CONTAINS(out, "\"speaker\": \"김 과장\"");
  ASSERT_STR_CONTAINS(out, "\"start\": 360000.25");
  ASSERT_STR_CONTAINS(out, "\"text\": \"무슨 <말씀> & 이유로?\\n저는 돈 없어요.\"");
  ASSERT_STR_CONTAINS(out, "\"avg_logprob\": null");
  vm_free(out);
  vm_transcript_destroy(t);
  return 0;
}

/* Writes t in fmt and parses it back with p; the segments must match
 * (times to the ms) and, when spk, the speakers too. */
static int round_trip(const vm_transcript *t, enum vm_tr_format fmt,
                      int (*p)(const char *, size_t, vm_transcript **, vm_err *)) {
  char *out = NULL;
  size_t n = 0;
  vm_transcript *r = NULL;
  vm_err e;
  ASSERT_OK(vm_transcript_write(t, fmt, &out, &n));
  int rc = p(out, n, &r, &e);
  if (rc != VM_OK) TEST_FAIL_("parse of written format %d: %s\n%s", (int)fmt, e.msg, out);
  vm_free(out);
  ASSERT_EQ(r->n_segments, t->n_segments);
  for (size_t i = 0; i < t->n_segments; i++) {
    const vm_tr_segment *a = &t->segments[i], *b = &r->segments[i];
    ASSERT_NEAR(b->start_s, a->start_s, 0.0005 + 1e-9);
    ASSERT_NEAR(b->end_s, a->end_s, 0.0005 + 1e-9);
    ASSERT_STR_EQ(b->text, a->text);
    if (a->speaker) ASSERT_STR_EQ(b->speaker, a->speaker);
    else ASSERT_NULL(b->speaker);
  }
  if (fmt != VM_TR_FORMAT_SRT && t->language) ASSERT_STR_EQ(r->language, t->language);
  if (!t->language) ASSERT_NULL(r->language);
  vm_transcript_destroy(r);
  return 0;
}

static int test_round_trips(void) {
  for (int spk = 0; spk < 2; spk++) {
    vm_transcript *t = sample(spk);
    ASSERT_NOT_NULL(t);
    ASSERT_EQ(round_trip(t, VM_TR_FORMAT_SRT, vm_transcript_parse_srt), 0);
    ASSERT_EQ(round_trip(t, VM_TR_FORMAT_VTT, vm_transcript_parse_vtt), 0);
    ASSERT_EQ(round_trip(t, VM_TR_FORMAT_JSON, vm_transcript_parse_json), 0);
    vm_transcript_destroy(t);
  }
  return 0;
}

/* Speakers with characters that the formats give meaning to. */
static int test_round_trip_odd_speakers(void) {
  vm_transcript *t = vm_transcript_create();
  ASSERT_NOT_NULL(t);
  ASSERT_OK(vm_transcript_add(t, 1, 2, "a", (size_t)-1, "<Kim> & Lee", NULL));
  ASSERT_OK(vm_transcript_add(t, 3, 4, "b", (size_t)-1, "박: 대리", NULL));
  ASSERT_OK(vm_transcript_add(t, 5, 6, "c", (size_t)-1, NULL, NULL)); /* mixed: "[?] c" */
  ASSERT_EQ(round_trip(t, VM_TR_FORMAT_VTT, vm_transcript_parse_vtt), 0);
  ASSERT_EQ(round_trip(t, VM_TR_FORMAT_JSON, vm_transcript_parse_json), 0);
  ASSERT_EQ(round_trip(t, VM_TR_FORMAT_SRT, vm_transcript_parse_srt), 0);
  vm_transcript_destroy(t);
  return 0;
}

/* SRT labels: brackets become spaces, an empty one is "?", a long one is
 * cut at 128 bytes on a character boundary; all read back as speakers. */
static int test_srt_labels(void) {
  vm_transcript *t = vm_transcript_create(), *r = NULL;
  ASSERT_NOT_NULL(t);
  char long_label[200];
  for (size_t i = 0; i + 3 < sizeof long_label; i += 3) memcpy(long_label + i, "가", 3);
  long_label[198] = '\0'; /* 66 syllables, 198 bytes */
  ASSERT_OK(vm_transcript_add(t, 1, 2, "a", (size_t)-1, "[김]", NULL));
  ASSERT_OK(vm_transcript_add(t, 3, 4, "b", (size_t)-1, "][", NULL));
  ASSERT_OK(vm_transcript_add(t, 5, 6, "c", (size_t)-1, long_label, NULL));
  char *out = NULL;
  size_t n = 0;
  vm_err e;
  ASSERT_OK(vm_transcript_write(t, VM_TR_FORMAT_SRT, &out, &n));
  ASSERT_STR_CONTAINS(out, "\n[김] a\n");
  ASSERT_STR_CONTAINS(out, "\n[?] b\n");
  ASSERT_OK(vm_transcript_parse_srt(out, n, &r, &e));
  ASSERT_EQ(r->n_segments, 3);
  ASSERT_STR_EQ(r->segments[0].speaker, "김");
  ASSERT_NULL(r->segments[1].speaker);
  ASSERT_EQ(strlen(r->segments[2].speaker), 126); /* 42 syllables */
  ASSERT_EQ(strncmp(r->segments[2].speaker, long_label, 126), 0);
  ASSERT_STR_EQ(r->segments[2].text, "c");
  vm_free(out);
  vm_transcript_destroy(r);
  vm_transcript_destroy(t);
  return 0;
}

/* The JSON form keeps the decoder details it carries. */
static int test_json_keeps_asr(void) {
  vm_transcript *t = vm_transcript_create(), *r = NULL;
  ASSERT_NOT_NULL(t);
  int32_t tok[2] = {50364, 1234};
  vm_tr_asr asr = {.avg_logprob = -0.5, .no_speech_prob = 0.125, .temperature = 0.2,
                   .compression_ratio = NAN, .tokens = tok, .n_tokens = 2};
  ASSERT_OK(vm_transcript_add(t, 0.5, 1.5, " 네 ", (size_t)-1, NULL, &asr));
  char *out = NULL;
  size_t n;
  vm_err e;
  ASSERT_OK(vm_transcript_write(t, VM_TR_FORMAT_JSON, &out, &n));
  ASSERT_OK(vm_transcript_parse_json(out, n, &r, &e));
  ASSERT_STR_EQ(r->segments[0].text, "네"); /* trimmed */
  ASSERT_NEAR(r->segments[0].asr.avg_logprob, -0.5, 1e-12);
  ASSERT_NEAR(r->segments[0].asr.no_speech_prob, 0.125, 1e-12);
  ASSERT_NEAR(r->segments[0].asr.temperature, 0.2, 1e-12);
  ASSERT(isnan(r->segments[0].asr.compression_ratio));
  vm_free(out);
  vm_transcript_destroy(r);
  vm_transcript_destroy(t);
  return 0;
}

/* Bad bytes, empty texts, blank lines, odd times: the output is valid
 * UTF-8 and still parses. */
static int test_write_hostile_segments(void) {
  vm_transcript *t = vm_transcript_create();
  ASSERT_NOT_NULL(t);
  ASSERT_OK(vm_transcript_add(t, 1, 2, "돈\xFF\xC3", (size_t)-1, "A\xFE", NULL));
  ASSERT_OK(vm_transcript_add(t, 2, 3, "   ", (size_t)-1, "A", NULL));
  ASSERT_OK(vm_transcript_add(t, 3, 4, "위\n\n \n아래", (size_t)-1, "A\nB", NULL));
  ASSERT_OK(vm_transcript_add(t, -5, 1e300, "큰 수", (size_t)-1, "A", NULL));
  static const enum vm_tr_format fmts[] = {VM_TR_FORMAT_TXT, VM_TR_FORMAT_SRT, VM_TR_FORMAT_VTT,
                                           VM_TR_FORMAT_JSON};
  for (size_t f = 0; f < 4; f++) {
    char *out = NULL;
    size_t n = 0;
    ASSERT_OK(vm_transcript_write(t, fmts[f], &out, &n));
    ASSERT(vm_utf8_valid(out, n));
    vm_free(out);
  }
  WRITTEN(t, VM_TR_FORMAT_SRT,
          "1\n00:00:01,000 --> 00:00:02,000\n[A\xEF\xBF\xBD] 돈\xEF\xBF\xBD\xEF\xBF\xBD\n\n"
          "2\n00:00:03,000 --> 00:00:04,000\n[A B] 위\n아래\n\n"
          "3\n00:00:00,000 --> 100000000:00:00,000\n[A] 큰 수\n\n");
  char *out = NULL;
  size_t n = 0;
  vm_transcript *r = NULL;
  vm_err e;
  ASSERT_OK(vm_transcript_write(t, VM_TR_FORMAT_VTT, &out, &n));
  ASSERT_OK(vm_transcript_parse_vtt(out, n, &r, &e));
  ASSERT_EQ(r->n_segments, 3); /* the blank one is not written */
  ASSERT_STR_EQ(r->segments[0].speaker, "A");
  ASSERT_NEAR(r->segments[0].end_s, 3.6e11, 1e-3);
  vm_free(out);
  vm_transcript_destroy(r);
  ASSERT_EQ(vm_transcript_write(t, (enum vm_tr_format)42, &out, &n), VM_EINVAL);
  ASSERT_NULL(out);
  vm_transcript_destroy(t);
  return 0;
}

/* Nothing written may read back as a timing line: a VTT voice name
 * ending in "--" (its '>' would close an arrow) and an SRT text line that
 * is itself a timing line (found by fuzzing). */
static int test_write_arrow_guards(void) {
  vm_transcript *t = vm_transcript_create();
  ASSERT_NOT_NULL(t);
  ASSERT_OK(vm_transcript_add(t, 1, 2, "a", (size_t)-1, "SPEAKER_--", NULL));
  ASSERT_OK(vm_transcript_add(t, 3, 4, "b\n00:00:05,000 --> 00:00:01,000", (size_t)-1,
                              "SPEAKER_--", NULL));
  WRITTEN(t, VM_TR_FORMAT_VTT,
          "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v SPEAKER_-- >a\n\n"
          "00:00:03.000 --> 00:00:04.000\n<v SPEAKER_-- >b\n00:00:05,000 --&gt; 00:00:01,000\n\n");
  WRITTEN(t, VM_TR_FORMAT_SRT,
          "1\n00:00:01,000 --> 00:00:02,000\n[SPEAKER_--] a\n\n"
          "2\n00:00:03,000 --> 00:00:04,000\n[SPEAKER_--] b\n00:00:05,000 -> 00:00:01,000\n\n");
  ASSERT_EQ(round_trip(t, VM_TR_FORMAT_VTT, vm_transcript_parse_vtt), 0);
  vm_transcript *r = NULL;
  vm_err e;
  char *out = NULL;
  size_t n = 0;
  ASSERT_OK(vm_transcript_write(t, VM_TR_FORMAT_SRT, &out, &n));
  ASSERT_OK(vm_transcript_parse_srt(out, n, &r, &e));
  ASSERT_EQ(r->n_segments, 2);
  ASSERT_STR_EQ(r->segments[1].text, "b\n00:00:05,000 -> 00:00:01,000");
  ASSERT_STR_EQ(r->segments[1].speaker, "SPEAKER_--");
  vm_free(out);
  vm_transcript_destroy(r);
  vm_transcript_destroy(t);
  return 0;
}

/* A line that is only a BOM (U+FEFF) would read back as a blank line and
 * end the cue; writers and readers both drop a BOM opening a line. */
static int test_write_bom_lines(void) {
  vm_transcript *t = vm_transcript_create();
  ASSERT_NOT_NULL(t);
  ASSERT_OK(vm_transcript_add(t, 1, 2, "가\n\xEF\xBB\xBF\n\xEF\xBB\xBF나\xEF\xBB\xBF다", (size_t)-1, "A",
                              NULL));
  WRITTEN(t, VM_TR_FORMAT_SRT, "1\n00:00:01,000 --> 00:00:02,000\n[A] 가\n나\xEF\xBB\xBF다\n\n");
  vm_transcript *r = NULL;
  vm_err e;
  char *out = NULL;
  size_t n = 0;
  ASSERT_OK(vm_transcript_write(t, VM_TR_FORMAT_VTT, &out, &n));
  ASSERT_OK(vm_transcript_parse_vtt(out, n, &r, &e));
  ASSERT_EQ(r->n_segments, 1);
  ASSERT_STR_EQ(r->segments[0].text, "가\n나\xEF\xBB\xBF다");
  vm_free(out);
  vm_transcript_destroy(r);
  vm_transcript_destroy(t);
  return 0;
}

/* An empty transcript writes an empty (but valid) document. */
static int test_write_empty(void) {
  vm_transcript *t = vm_transcript_create();
  ASSERT_NOT_NULL(t);
  WRITTEN(t, VM_TR_FORMAT_TXT, "");
  WRITTEN(t, VM_TR_FORMAT_SRT, "");
  WRITTEN(t, VM_TR_FORMAT_VTT, "WEBVTT\n\n");
  vm_transcript_destroy(t);
  return 0;
}

static int test_write_out_of_memory(void) {
  vm_transcript *t = sample(1);
  ASSERT_NOT_NULL(t);
  for (int f = VM_TR_FORMAT_TXT; f <= VM_TR_FORMAT_JSON; f++) {
    int ok = 0;
    for (long k = 0; k < 100 && !ok; k++) {
      char *out = NULL;
      size_t n = 0;
      vm_alloc_fail_after(k);
      int rc = vm_transcript_write(t, (enum vm_tr_format)f, &out, &n);
      vm_alloc_fail_after(-1);
      if (rc == VM_OK) ok = 1;
      else ASSERT_EQ(rc, VM_ENOMEM);
      if (rc != VM_OK) ASSERT_NULL(out);
      vm_free(out);
    }
    ASSERT(ok);
  }
  vm_transcript_destroy(t);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_write_txt), TEST_ENTRY(test_write_srt), TEST_ENTRY(test_write_vtt),
          TEST_ENTRY(test_write_json), TEST_ENTRY(test_round_trips),
          TEST_ENTRY(test_round_trip_odd_speakers), TEST_ENTRY(test_srt_labels), TEST_ENTRY(test_json_keeps_asr),
          TEST_ENTRY(test_write_hostile_segments), TEST_ENTRY(test_write_arrow_guards), TEST_ENTRY(test_write_bom_lines),
          TEST_ENTRY(test_write_empty),
          TEST_ENTRY(test_write_out_of_memory))
