/* test_transcript_read.c — SRT, WebVTT and JSON transcript readers, the
 * file loader and the transcript lookup rule.
 * Run: ctest --test-dir build -R test_transcript_read --output-on-failure
 */
#include <fcntl.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "transcript.h"
#include "vm_alloc.h"

#define LEN(s) (sizeof(s) - 1)

/* Parses a string literal with parser p; returns the status. */
#define PARSE(p, lit, t, e) p(lit, LEN(lit), t, e)

static int seg_is(const vm_transcript *t, size_t i, double a, double b, const char *spk,
                  const char *text) {
  if (i >= t->n_segments) TEST_FAIL_("segment %zu missing (n = %zu)", i, t->n_segments);
  const vm_tr_segment *s = &t->segments[i];
  ASSERT_NEAR(s->start_s, a, 1e-6);
  ASSERT_NEAR(s->end_s, b, 1e-6);
  ASSERT_STR_EQ(s->text, text);
  if (spk) ASSERT_STR_EQ(s->speaker, spk);
  else ASSERT_NULL(s->speaker);
  return 0;
}
#define SEG(t, i, a, b, spk, text) ASSERT_EQ(seg_is(t, i, a, b, spk, text), 0)

/* ---- SRT ------------------------------------------------------------- */

static int test_srt_korean_bom_crlf(void) {
  static const char in[] =
      "\xEF\xBB\xBF" "1\r\n00:00:01,000 --> 00:00:03,500\r\n안녕하세요.\r\n반갑습니다.\r\n\r\n"
      "2\r\n00:00:04,250 --> 00:00:06,000 X1:10 X2:20 Y1:5 Y2:9\r\n  돈을 보내.  \r\n\r\n";
  vm_transcript *t = NULL;
  vm_err e;
  ASSERT_OK(PARSE(vm_transcript_parse_srt, in, &t, &e));
  ASSERT_EQ(t->n_segments, 2);
  SEG(t, 0, 1.0, 3.5, NULL, "안녕하세요.\n반갑습니다.");
  SEG(t, 1, 4.25, 6.0, NULL, "돈을 보내.");
  ASSERT_STR_EQ(t->source, "srt");
  ASSERT_NULL(t->language);
  ASSERT(isnan(t->segments[0].asr.avg_logprob));
  vm_transcript_destroy(t);
  return 0;
}

static int test_srt_times(void) {
  static const char in[] = "1\n123:04:05.678 --> 123:04:06,5\n긴 녹음\n\n"
                           "2\n0:00:07,000-->0:00:07,000\n같은 시각\n\n"
                           "3\n01:02,003 --> 01:03,000\n시간 없이\n"; /* no hours, no end blank */
  vm_transcript *t = NULL;
  vm_err e;
  ASSERT_OK(PARSE(vm_transcript_parse_srt, in, &t, &e));
  ASSERT_EQ(t->n_segments, 3);
  SEG(t, 0, 7.0, 7.0, NULL, "같은 시각");
  SEG(t, 1, 62.003, 63.0, NULL, "시간 없이");
  SEG(t, 2, 123 * 3600.0 + 4 * 60 + 5.678, 123 * 3600.0 + 4 * 60 + 6.5, NULL, "긴 녹음");
  vm_transcript_destroy(t);
  return 0;
}

static int test_srt_no_blank_lines_and_overlap(void) {
  /* Cues run together without blank lines, overlap, come out of order,
   * and a second file was appended with its BOM. */
  static const char in[] = "1\n00:00:05,000 --> 00:00:08,000\n둘째\n"
                           "2\n00:00:01,000 --> 00:00:06,000\n첫째\n"
                           "00:00:07,000 --> 00:00:09,000\n번호 없는 셋째\n\n"
                           "\xEF\xBB\xBF" "1\n00:00:10,000 --> 00:00:11,000\n붙인 파일\n";
  vm_transcript *t = NULL;
  vm_err e;
  ASSERT_OK(PARSE(vm_transcript_parse_srt, in, &t, &e));
  ASSERT_EQ(t->n_segments, 4);
  SEG(t, 3, 10.0, 11.0, NULL, "붙인 파일");
  SEG(t, 0, 1.0, 6.0, NULL, "첫째");
  SEG(t, 1, 5.0, 8.0, NULL, "둘째");
  SEG(t, 2, 7.0, 9.0, NULL, "번호 없는 셋째");
  vm_transcript_destroy(t);
  return 0;
}

static int test_srt_markup(void) {
  static const char in[] = "1\n00:00:01,000 --> 00:00:02,000\n"
                           "{\\an8}<i>조용히</i> <font color=\"#ff0000\">해</font>\n"
                           "a < b & c <br> &amp;\n\n";
  vm_transcript *t = NULL;
  vm_err e;
  ASSERT_OK(PARSE(vm_transcript_parse_srt, in, &t, &e));
  SEG(t, 0, 1.0, 2.0, NULL, "조용히 해\na < b & c <br> &amp;");
  vm_transcript_destroy(t);
  return 0;
}

static int test_srt_speakers(void) {
  vm_transcript *t = NULL;
  vm_err e;
  /* Bracket prefixes on every cue (the form voiceman and the examples use). */
  static const char br[] = "1\n00:00:01,000 --> 00:00:02,000\n[SPEAKER_00] 돈 보내.\n\n"
                           "2\n00:00:03,000 --> 00:00:04,000\n[김 과장]: 네,\n알겠습니다.\n\n";
  ASSERT_OK(PARSE(vm_transcript_parse_srt, br, &t, &e));
  SEG(t, 0, 1, 2, "SPEAKER_00", "돈 보내.");
  SEG(t, 1, 3, 4, "김 과장", "네,\n알겠습니다.");
  vm_transcript_destroy(t);
  /* What follows a prefix is tidied like the rest (a BOM, a line break). */
  static const char br2[] = "1\n00:00:01,000 --> 00:00:02,000\n[A]\xEF\xBB\xBF 가\n\n"
                            "2\n00:00:03,000 --> 00:00:04,000\n[B]\n나\n";
  ASSERT_OK(PARSE(vm_transcript_parse_srt, br2, &t, &e));
  SEG(t, 0, 1, 2, "A", "가");
  SEG(t, 1, 3, 4, "B", "나");
  vm_transcript_destroy(t);
  /* "Name: text" on every cue. */
  static const char co[] = "1\n00:00:01,000 --> 00:00:02,000\n철수: 어디야?\n\n"
                           "2\n00:00:03,000 --> 00:00:04,000\nSpeaker 2: 집이야.\n\n";
  ASSERT_OK(PARSE(vm_transcript_parse_srt, co, &t, &e));
  SEG(t, 0, 1, 2, "철수", "어디야?");
  SEG(t, 1, 3, 4, "Speaker 2", "집이야.");
  vm_transcript_destroy(t);
  /* Not every cue has a prefix: all stays text. */
  static const char mx[] = "1\n00:00:01,000 --> 00:00:02,000\n[음악] 네\n\n"
                           "2\n00:00:03,000 --> 00:00:04,000\n참고: 아니요\n\n";
  ASSERT_OK(PARSE(vm_transcript_parse_srt, mx, &t, &e));
  SEG(t, 0, 1, 2, NULL, "[음악] 네");
  SEG(t, 1, 3, 4, NULL, "참고: 아니요");
  vm_transcript_destroy(t);
  /* One cue: only a label that looks like a diariser's counts. */
  static const char one[] = "1\n00:00:01,000 --> 00:00:02,000\n[웃음] 네\n";
  ASSERT_OK(PARSE(vm_transcript_parse_srt, one, &t, &e));
  SEG(t, 0, 1, 2, NULL, "[웃음] 네");
  vm_transcript_destroy(t);
  static const char one2[] = "1\n00:00:01,000 --> 00:00:02,000\n[SPEAKER_01] 네\n";
  ASSERT_OK(PARSE(vm_transcript_parse_srt, one2, &t, &e));
  SEG(t, 0, 1, 2, "SPEAKER_01", "네");
  vm_transcript_destroy(t);
  /* whisper.cpp --diarize: "(speaker N)" glued to the text, "?" unknown. */
  static const char wc[] = "1\n00:00:00,000 --> 00:00:02,000\n(speaker 0) 안녕\n\n"
                           "2\n00:00:02,000 --> 00:00:04,000\n(speaker ?)네\n\n"
                           "3\n00:00:04,000 --> 00:00:05,000\n(speaker 1) 응\n";
  ASSERT_OK(PARSE(vm_transcript_parse_srt, wc, &t, &e));
  SEG(t, 0, 0, 2, "speaker 0", "안녕");
  SEG(t, 1, 2, 4, NULL, "네");
  SEG(t, 2, 4, 5, "speaker 1", "응");
  vm_transcript_destroy(t);
  /* WebVTT voice tags copied into an SRT file. */
  static const char v[] = "1\n00:00:01,000 --> 00:00:02,000\n<v 영희>안녕</v>\n";
  ASSERT_OK(PARSE(vm_transcript_parse_srt, v, &t, &e));
  SEG(t, 0, 1, 2, "영희", "안녕");
  vm_transcript_destroy(t);
  return 0;
}

static int test_srt_invalid_utf8(void) {
  static const char in[] = "1\n00:00:01,000 --> 00:00:02,000\n돈\xFF\xC3(\0)끝\n";
  vm_transcript *t = NULL;
  vm_err e;
  ASSERT_OK(PARSE(vm_transcript_parse_srt, in, &t, &e));
  SEG(t, 0, 1, 2, NULL, "돈\xEF\xBF\xBD\xEF\xBF\xBD(\xEF\xBF\xBD)끝");
  vm_transcript_destroy(t);
  return 0;
}

/* in must fail with code and a message equal to msg. */
static int fails_with(int (*p)(const char *, size_t, vm_transcript **, vm_err *),
                      const char *in, size_t n, int code, const char *msg) {
  vm_transcript *t = (vm_transcript *)&t; /* must be reset to NULL */
  vm_err e;
  int rc = p(in, n, &t, &e);
  ASSERT_EQ(rc, code);
  ASSERT_EQ(e.code, code);
  ASSERT_NULL(t);
  ASSERT_STR_EQ(e.msg, msg);
  return 0;
}
#define FAILS(p, lit, code, msg) ASSERT_EQ(fails_with(p, lit, LEN(lit), code, msg), 0)

static int test_srt_errors(void) {
  FAILS(vm_transcript_parse_srt, "1\n00:00:01,000 --> 00:00:02,000\n가\n\n"
                                 "2\n00:00:05,000 --> 00:00:04,500\n나\n",
        VM_EFORMAT, "line 6: cue ends (00:00:04,500) before it starts (00:00:05,000)");
  FAILS(vm_transcript_parse_srt, "1\n00:00:01,000 -> 00:00:02,000\n가\n", VM_EFORMAT,
        "line 2: expected a timing line such as \"00:00:01,000 --> 00:00:04,000\" after cue "
        "number 1, found \"00:00:01,000 -> 00:00:02,000\"");
  FAILS(vm_transcript_parse_srt, "\n\nWEBVTT\n\n", VM_EFORMAT,
        "line 3: expected a cue number or a timing line such as \"00:00:01,000 --> "
        "00:00:04,000\", found \"WEBVTT\"");
  FAILS(vm_transcript_parse_srt, "1\n00:00:01,000 --> 00:00:02,000\n가\n\n7\n", VM_EFORMAT,
        "line 5: cue 7 has no timing line (the file ends)");
  FAILS(vm_transcript_parse_srt, "1\n00:61:01,000 --> 00:62:02,000\n가\n", VM_EFORMAT,
        "line 2: expected a timing line such as \"00:00:01,000 --> 00:00:04,000\" after cue "
        "number 1, found \"00:61:01,000 --> 00:62:02,000\"");
  FAILS(vm_transcript_parse_srt, "1\n00:00:01,000 --> 00:00:02,000 junk\x01\n가\n\n"
                                 "이 줄은 너무 길어서 오류 메시지에서는 잘려야 합니다 정말로\n",
        VM_EFORMAT,
        "line 5: expected a cue number or a timing line such as \"00:00:01,000 --> "
        "00:00:04,000\", found \"이 줄은 너무 길어서 오류 메...\"");
  FAILS(vm_transcript_parse_srt, "", VM_EEMPTY, "no subtitle cue with text");
  FAILS(vm_transcript_parse_srt, "\xEF\xBB\xBF\r\n \r\n", VM_EEMPTY, "no subtitle cue with text");
  FAILS(vm_transcript_parse_srt, "1\n00:00:01,000 --> 00:00:02,000\n\n2\n00:00:03,000 --> "
                                 "00:00:04,000\n<i> </i>\n",
        VM_EEMPTY, "no subtitle cue with text");
  return 0;
}

/* ---- WebVTT ---------------------------------------------------------- */

static int test_vtt_structure(void) {
  static const char in[] =
      "\xEF\xBB\xBFWEBVTT - 통화 녹취\r\nKind: captions\r\nLanguage: ko-KR\r\n\r\n"
      "NOTE 이 블록은\r\n무시된다 00:00:00.000 --> 00:00:01.000?\r\n\r\n"
      "STYLE\r\n::cue { color: red }\r\n\r\n"
      "REGION\r\nid:fred\r\n\r\n"
      "cue-1\r\n00:01.000 --> 00:03.500 align:start line:0\r\n<v.loud SPEAKER_00>지금 당장\r\n"
      "보내.</v>\r\n\r\n"
      "01:00:04.000 --> 01:00:05.000\r\n<c.yellow>평범한</c> <b>말</b><00:00:04.500> 끝\r\n";
  vm_transcript *t = NULL;
  vm_err e;
  ASSERT_OK(PARSE(vm_transcript_parse_vtt, in, &t, &e));
  ASSERT_EQ(t->n_segments, 2);
  SEG(t, 0, 1.0, 3.5, "SPEAKER_00", "지금 당장\n보내.");
  SEG(t, 1, 3604.0, 3605.0, NULL, "평범한 말 끝");
  ASSERT_STR_EQ(t->language, "ko");
  ASSERT_STR_EQ(t->source, "vtt");
  vm_transcript_destroy(t);
  return 0;
}

static int test_vtt_voices_and_entities(void) {
  static const char in[] =
      "WEBVTT\n\n"
      "00:00:01.000 --> 00:00:04.000\n<v 김&amp;이>A &lt;B&gt; &amp; C&nbsp;D &#54620;&#xAE00; "
      "&bogus; & x\n\n"
      /* Two voices in one cue: one segment each, same times. */
      "00:00:05.000 --> 00:00:07.000\n<v 철수>어디야?</v>\n<v 영희>집이야.\n\n"
      /* Same voice twice: one segment. */
      "00:00:08.000 --> 00:00:09.000\n<v A>하나 <v A>둘\n\n"
      /* Empty voice annotation: unknown speaker; whisper.cpp's "Speaker?" too. */
      "00:00:10.000 --> 00:00:11.000\n<v>누구\n\n"
      "00:00:12.000 --> 00:00:13.000\n<v Speaker?>몰라\n";
  vm_transcript *t = NULL;
  vm_err e;
  ASSERT_OK(PARSE(vm_transcript_parse_vtt, in, &t, &e));
  ASSERT_EQ(t->n_segments, 6);
  SEG(t, 5, 12, 13, NULL, "몰라");
  SEG(t, 0, 1, 4, "김&이", "A <B> & C D 한글 &bogus; & x");
  SEG(t, 1, 5, 7, "철수", "어디야?");
  SEG(t, 2, 5, 7, "영희", "집이야.");
  SEG(t, 3, 8, 9, "A", "하나 둘");
  SEG(t, 4, 10, 11, NULL, "누구");
  vm_transcript_destroy(t);
  return 0;
}

static int test_vtt_edge_layout(void) {
  /* No blank line after the header, none between cues (the arrow line
   * starts the next cue, as the standard says), hours beyond 100. */
  static const char in[] = "WEBVTT\n00:00:01.000 --> 00:00:02.000\n하나\n"
                           "150:00:00.000 --> 150:00:01.250\n둘\n";
  vm_transcript *t = NULL;
  vm_err e;
  ASSERT_OK(PARSE(vm_transcript_parse_vtt, in, &t, &e));
  ASSERT_EQ(t->n_segments, 2);
  SEG(t, 0, 1, 2, NULL, "하나");
  SEG(t, 1, 540000.0, 540001.25, NULL, "둘");
  vm_transcript_destroy(t);
  return 0;
}

static int test_vtt_errors(void) {
  FAILS(vm_transcript_parse_vtt, "1\n00:00:01,000 --> 00:00:02,000\n가\n", VM_EFORMAT,
        "line 1: a WebVTT file must start with \"WEBVTT\", found \"1\"");
  FAILS(vm_transcript_parse_vtt, "WEBVTTX\n", VM_EFORMAT,
        "line 1: a WebVTT file must start with \"WEBVTT\", found \"WEBVTTX\"");
  FAILS(vm_transcript_parse_vtt, "WEBVTT\n\n00:00:03.000 --> 00:00:02.000\n가\n", VM_EFORMAT,
        "line 3: cue ends (00:00:02.000) before it starts (00:00:03.000)");
  FAILS(vm_transcript_parse_vtt, "WEBVTT\n\nid\n00:00:xx.000 --> 00:00:02.000\n가\n", VM_EFORMAT,
        "line 4: bad cue timing \"00:00:xx.000 --> 00:00:02.000\": expected \"00:01.000 --> "
        "00:04.000\" (MM:SS.mmm or HH:MM:SS.mmm)");
  FAILS(vm_transcript_parse_vtt, "WEBVTT\n\nid\n가\n", VM_EFORMAT,
        "line 4: expected a cue timing line such as \"00:01.000 --> 00:04.000\" after cue "
        "identifier \"id\", found \"가\"");
  FAILS(vm_transcript_parse_vtt, "WEBVTT\n\nlast", VM_EFORMAT,
        "line 3: cue \"last\" has no timing line (the file ends)");
  FAILS(vm_transcript_parse_vtt, "", VM_EEMPTY, "empty file");
  FAILS(vm_transcript_parse_vtt, "\xEF\xBB\xBFWEBVTT\n\nNOTE only a note\n", VM_EEMPTY,
        "no cue with text");
  return 0;
}

/* ---- JSON ------------------------------------------------------------ */

static int test_json_forms(void) {
  vm_transcript *t = NULL;
  vm_err e;
  static const char wcpp[] =
      "{\"systeminfo\": \"AVX = 1\", \"result\": {\"language\": \"ko\"}, \"transcription\": ["
      "{\"timestamps\": {\"from\": \"00:00:00,000\", \"to\": \"00:00:02,500\"},"
      " \"offsets\": {\"from\": 0, \"to\": 2500}, \"text\": \" 안녕하세요.\"},"
      "{\"timestamps\": {\"from\": \"00:00:02,500\", \"to\": \"00:00:04,000\"},"
      " \"text\": \" 네.\", \"speaker\": \"1\"},"
      "{\"offsets\": {\"from\": 4000, \"to\": 5000}, \"text\": \"음\", \"speaker\": \"?\"}]}";
  ASSERT_OK(PARSE(vm_transcript_parse_json, wcpp, &t, &e));
  ASSERT_EQ(t->n_segments, 3);
  SEG(t, 2, 4.0, 5.0, NULL, "음");
  SEG(t, 0, 0.0, 2.5, NULL, "안녕하세요.");
  SEG(t, 1, 2.5, 4.0, "1", "네.");
  ASSERT_STR_EQ(t->language, "ko");
  ASSERT_STR_EQ(t->source, "json");
  vm_transcript_destroy(t);

  static const char openai[] =
      "{\"task\": \"transcribe\", \"language\": \"korean\", \"duration\": 9.5, \"text\": \"x\","
      " \"segments\": [{\"id\": 0, \"seek\": 0, \"start\": 0.0, \"end\": 3.2, \"text\": \" 돈\","
      " \"tokens\": [1, 2], \"temperature\": 0.0, \"avg_logprob\": -0.25,"
      " \"compression_ratio\": 1.1, \"no_speech_prob\": 0.01}]}";
  ASSERT_OK(PARSE(vm_transcript_parse_json, openai, &t, &e));
  SEG(t, 0, 0.0, 3.2, NULL, "돈");
  ASSERT_STR_EQ(t->language, "ko");
  ASSERT_NEAR(t->segments[0].asr.avg_logprob, -0.25, 1e-12);
  ASSERT_NEAR(t->segments[0].asr.no_speech_prob, 0.01, 1e-12);
  ASSERT_NEAR(t->segments[0].asr.temperature, 0.0, 1e-12);
  ASSERT_NEAR(t->segments[0].asr.compression_ratio, 1.1, 1e-12);
  vm_transcript_destroy(t);

  static const char wx[] =
      "{\"segments\": [{\"start\": 5.5, \"end\": 7, \"text\": \"둘째\", \"speaker\": "
      "\"SPEAKER_01\", \"words\": []}, {\"start\": 1, \"end\": 6, \"text\": \"첫째\","
      " \"speaker\": \"SPEAKER_00\"}, {\"start\": 8, \"end\": 9, \"text\": \"  \"}],"
      " \"word_segments\": [], \"language\": \"xx-long-name\"}";
  ASSERT_OK(PARSE(vm_transcript_parse_json, wx, &t, &e));
  ASSERT_EQ(t->n_segments, 2); /* the blank one is skipped; order by start */
  SEG(t, 0, 1, 6, "SPEAKER_00", "첫째");
  SEG(t, 1, 5.5, 7, "SPEAKER_01", "둘째");
  ASSERT_NULL(t->language);
  vm_transcript_destroy(t);

  static const char arr[] = "\xEF\xBB\xBF[{\"start\": \"01:00:00.500\", \"end\": 3601,"
                            " \"text\": \"가\", \"speaker\": 2}, {\"start\": 3601, \"end\": 3602,"
                            " \"text\": \"나\", \"speaker\": null}]";
  ASSERT_OK(PARSE(vm_transcript_parse_json, arr, &t, &e));
  SEG(t, 0, 3600.5, 3601, "2", "가");
  SEG(t, 1, 3601, 3602, NULL, "나");
  vm_transcript_destroy(t);

  static const char res[] = "{\"file\": \"a.m4a\", \"transcript\": {\"source\": \"whisper\","
                            " \"language\": \"ko\", \"segments\": [{\"id\": 0, \"start\": 1,"
                            " \"end\": 2, \"speaker\": \"S\", \"text\": \"가\\n나\","
                            " \"avg_logprob\": null}]}}";
  ASSERT_OK(PARSE(vm_transcript_parse_json, res, &t, &e));
  SEG(t, 0, 1, 2, "S", "가\n나");
  ASSERT(isnan(t->segments[0].asr.avg_logprob));
  vm_transcript_destroy(t);

  static const char bad8[] = "[{\"start\": 0, \"end\": 1, \"text\": \"돈\xFF\xFE\"}]";
  ASSERT_OK(PARSE(vm_transcript_parse_json, bad8, &t, &e));
  SEG(t, 0, 0, 1, NULL, "돈\xEF\xBF\xBD\xEF\xBF\xBD");
  vm_transcript_destroy(t);
  return 0;
}

static int test_json_errors(void) {
  FAILS(vm_transcript_parse_json, "{\"segments\": [\n{\"start\": 1,}]}", VM_EFORMAT,
        "JSON line 2 column 13: string or '}' expected near '}'");
  FAILS(vm_transcript_parse_json, "{\"foo\": 1}", VM_EFORMAT,
        "no \"segments\" or \"transcription\" array (expected voiceman, whisper.cpp -oj, "
        "OpenAI or WhisperX JSON, or an array of segments)");
  FAILS(vm_transcript_parse_json, "[{\"start\": 0, \"end\": 1, \"text\": \"a\"}, 3]", VM_EFORMAT,
        "segment 1: not an object");
  FAILS(vm_transcript_parse_json, "[{\"text\": \"a\"}]", VM_EFORMAT,
        "segment 0: no times (expected \"start\"/\"end\" in seconds or \"offsets\": {\"from\", "
        "\"to\"} in ms)");
  FAILS(vm_transcript_parse_json, "[{\"start\": 2, \"text\": \"a\"}]", VM_EFORMAT,
        "segment 0: \"end\" is missing");
  FAILS(vm_transcript_parse_json, "{\"transcription\": [{\"offsets\": {\"to\": 5}}]}", VM_EFORMAT,
        "segment 0: \"from\" is missing");
  FAILS(vm_transcript_parse_json, "[{\"start\": 2, \"end\": 1, \"text\": \"a\"}]", VM_EFORMAT,
        "segment 0: ends (1.000 s) before it starts (2.000 s)");
  FAILS(vm_transcript_parse_json, "[{\"start\": -1, \"end\": 1, \"text\": \"a\"}]", VM_EFORMAT,
        "segment 0: \"start\"/\"end\" must be non-negative numbers or \"HH:MM:SS.mmm\"");
  FAILS(vm_transcript_parse_json,
        "{\"transcription\": [{\"offsets\": {\"from\": \"x\", \"to\": 5}, \"text\": \"a\"}]}",
        VM_EFORMAT,
        "segment 0: \"from\"/\"to\" must be non-negative numbers or \"HH:MM:SS.mmm\"");
  FAILS(vm_transcript_parse_json, "[{\"start\": 0, \"end\": 1}]", VM_EFORMAT,
        "segment 0: no \"text\" string");
  FAILS(vm_transcript_parse_json, "[{\"start\": 0, \"end\": 1, \"text\": \"a\", \"speaker\": []}]",
        VM_EFORMAT, "segment 0: \"speaker\" must be a string");
  FAILS(vm_transcript_parse_json, " \r\n", VM_EEMPTY, "empty file");
  FAILS(vm_transcript_parse_json, "{\"segments\": []}", VM_EEMPTY, "no segment with text");
  return 0;
}

/* ---- character sets ---------------------------------------------- */

/* utf8 in UTF-16 (big or little endian) after a BOM; vm_free. */
static char *utf16_of(const char *utf8, int big, size_t *out_n) {
  iconv_t cd = iconv_open(big ? "UTF-16BE" : "UTF-16LE", "UTF-8");
  if (cd == (iconv_t)-1) return NULL;
  size_t in_left = strlen(utf8), cap = 4 * in_left + 2, room = cap - 2;
  char *out = vm_malloc(cap), *in = (char *)(uintptr_t)utf8, *o = out + 2;
  if (out && iconv(cd, &in, &in_left, &o, &room) != (size_t)-1) {
    out[0] = (char)(big ? 0xFE : 0xFF);
    out[1] = (char)(big ? 0xFF : 0xFE);
    *out_n = (size_t)(o - out);
  } else {
    vm_free(out);
    out = NULL;
  }
  iconv_close(cd);
  return out;
}

static int test_charsets(void) {
  vm_transcript *t = NULL;
  vm_err e;
  /* CP949 (EUC-KR plus extensions such as 똠), as older Korean tools save. */
  static const char cp949[] = "1\r\n00:00:01,000 --> 00:00:02,000\r\n"
                              "[\xC3\xB6\xBC\xF6] \xBE\xC8\xB3\xE7\xC7\xCF\xBC\xBC\xBF\xE4 "
                              "\xB5\xB7\xC0\xBB \xBA\xB8\xB3\xBB\r\n\x8C\x63\xB9\xE6\xB0\xA2\xC7\xCF\r\n";
  ASSERT_OK(PARSE(vm_transcript_parse_srt, cp949, &t, &e));
  SEG(t, 0, 1, 2, NULL, "[철수] 안녕하세요 돈을 보내\n똠방각하");
  vm_transcript_destroy(t);
  /* UTF-16 with BOM, both byte orders, a character beyond the BMP. */
  size_t n = 0;
  char *u16 = utf16_of("WEBVTT\n\n00:01.000 --> 00:02.000\n<v 철수>돈 😀\n", 0, &n);
  ASSERT_NOT_NULL(u16);
  ASSERT_OK(vm_transcript_parse_vtt(u16, n, &t, &e));
  SEG(t, 0, 1, 2, "철수", "돈 😀");
  vm_transcript_destroy(t);
  vm_free(u16);
  u16 = utf16_of("[{\"start\": 1, \"end\": 2, \"text\": \"네\"}]", 1, &n);
  ASSERT_NOT_NULL(u16);
  ASSERT_OK(vm_transcript_parse_json(u16, n, &t, &e));
  SEG(t, 0, 1, 2, NULL, "네");
  vm_transcript_destroy(t);
  vm_free(u16);
  /* A lone surrogate and an odd trailing byte. */
  static const char lone[] = "\xFF\xFE" "1\0\n\0" "0\0" "0\0:\0" "0\0" "0\0:\0" "0\0" "1\0,\0"
                             "0\0" "0\0" "0\0 \0-\0-\0>\0 \0" "0\0" "0\0:\0" "0\0" "0\0:\0"
                             "0\0" "2\0,\0" "0\0" "0\0" "0\0\n\0" "a\0\x00\xD8" "b\0" "c";
  ASSERT_OK(PARSE(vm_transcript_parse_srt, lone, &t, &e));
  SEG(t, 0, 1, 2, NULL, "a\xEF\xBF\xBD" "b");
  vm_transcript_destroy(t);
  return 0;
}

/* ---- files ----------------------------------------------------------- */

static char dir_[64];

static int put_file(const char *rel, const char *text) {
  char p[256];
  snprintf(p, sizeof p, "%s/%s", dir_, rel);
  FILE *f = fopen(p, "wb");
  if (!f) return -1;
  fputs(text, f);
  return fclose(f);
}

static int find_is(const char *rel, const char *want_rel) {
  char *p = NULL, want[256];
  int rc = vm_transcript_find(dir_, rel, &p);
  if (!want_rel) {
    ASSERT_EQ(rc, VM_ENOENT);
    ASSERT_NULL(p);
    return 0;
  }
  ASSERT_OK(rc);
  snprintf(want, sizeof want, "%s/%s", dir_, want_rel);
  ASSERT_STR_EQ(p, want);
  vm_free(p);
  return 0;
}

static int test_find_and_load(void) {
  snprintf(dir_, sizeof dir_, "/tmp/vm_test_tr_XXXXXX");
  ASSERT_NOT_NULL(mkdtemp(dir_));
  char sub[128];
  snprintf(sub, sizeof sub, "%s/a", dir_);
  ASSERT_EQ(mkdir(sub, 0755), 0);
  snprintf(sub, sizeof sub, "%s/a/d.srt", dir_);
  ASSERT_EQ(mkdir(sub, 0755), 0); /* a folder is not a transcript */
  static const char srt[] = "1\n00:00:01,000 --> 00:00:02,000\n가\n";
  static const char vtt[] = "WEBVTT\n\n00:01.000 --> 00:02.000\n<v A>나\n";
  static const char js[] = "[{\"start\": 1, \"end\": 2, \"text\": \"다\"}]";
  ASSERT_EQ(put_file("a/b.srt", srt), 0);
  ASSERT_EQ(put_file("a/b.vtt", vtt), 0);
  ASSERT_EQ(put_file("a/c.json", js), 0);
  ASSERT_EQ(put_file("a/d.VTT", vtt), 0);
  ASSERT_EQ(put_file("a/e.txt", "x"), 0);
  ASSERT_EQ(put_file("a/bad.srt", "1\n2\n"), 0);
  ASSERT_EQ(put_file("noext.json", js), 0);
  ASSERT_EQ(find_is("a/b.m4a", "a/b.srt"), 0);
  ASSERT_EQ(find_is("a/c.mp3", "a/c.json"), 0);
  ASSERT_EQ(find_is("a/d.wav", "a/d.VTT"), 0);
  ASSERT_EQ(find_is("a/e.m4a", NULL), 0);
  ASSERT_EQ(find_is("noext", "noext.json"), 0);
  ASSERT_EQ(find_is("x/b.m4a", NULL), 0);

  vm_transcript *t = NULL;
  vm_err e;
  char p[256];
  snprintf(p, sizeof p, "%s/a/b.vtt", dir_);
  ASSERT_OK(vm_transcript_load(p, &t, &e));
  SEG(t, 0, 1, 2, "A", "나");
  vm_transcript_destroy(t);
  snprintf(p, sizeof p, "%s/a/d.VTT", dir_);
  ASSERT_OK(vm_transcript_load(p, &t, &e));
  vm_transcript_destroy(t);
  snprintf(p, sizeof p, "%s/a/bad.srt", dir_);
  ASSERT_EQ(vm_transcript_load(p, &t, &e), VM_EFORMAT);
  ASSERT_NULL(t);
  ASSERT_STR_EQ(e.msg, "line 2: expected a timing line such as \"00:00:01,000 --> 00:00:04,000\" "
                       "after cue number 1, found \"2\"");
  snprintf(p, sizeof p, "%s/a/e.txt", dir_);
  ASSERT_EQ(vm_transcript_load(p, &t, &e), VM_EFORMAT);
  ASSERT_STR_CONTAINS(e.msg, "not a transcript file name (expected .srt, .vtt or .json)");
  snprintf(p, sizeof p, "%s/a/missing.srt", dir_);
  ASSERT_EQ(vm_transcript_load(p, &t, &e), VM_ENOENT);
  ASSERT_STR_CONTAINS(e.msg, "missing.srt");

  snprintf(p, sizeof p, "%s/big.json", dir_); /* sparse, 64 MiB + 1 */
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT(fd >= 0);
  ASSERT_EQ(ftruncate(fd, ((off_t)64 << 20) + 1), 0);
  close(fd);
  ASSERT_EQ(vm_transcript_load(p, &t, &e), VM_EFORMAT);
  ASSERT_STR_CONTAINS(e.msg, "larger than 64 MiB");
  unlink(p);

  const char *rm[] = {"a/b.srt", "a/b.vtt", "a/c.json", "a/d.VTT", "a/e.txt", "a/bad.srt",
                      "noext.json"};
  for (size_t i = 0; i < sizeof rm / sizeof rm[0]; i++) {
    snprintf(p, sizeof p, "%s/%s", dir_, rm[i]);
    unlink(p);
  }
  snprintf(p, sizeof p, "%s/a/d.srt", dir_);
  rmdir(p);
  snprintf(p, sizeof p, "%s/a", dir_);
  rmdir(p);
  rmdir(dir_);
  return 0;
}

/* vm_transcript_find and vm_transcript_load under allocation failures:
 * VM_ENOMEM and nothing returned, or success. */
static int test_find_load_out_of_memory(void) {
  char dir[64], p[128];
  snprintf(dir, sizeof dir, "/tmp/vm_test_tr_XXXXXX");
  ASSERT_NOT_NULL(mkdtemp(dir));
  snprintf(p, sizeof p, "%s/b.vtt", dir);
  FILE *f = fopen(p, "wb");
  ASSERT_NOT_NULL(f);
  fputs("WEBVTT\n\n00:01.000 --> 00:02.000\n<v A>가\n", f);
  ASSERT_EQ(fclose(f), 0);
  int found = 0, loaded = 0;
  for (long k = 0; k < 100 && !(found && loaded); k++) {
    char *path = NULL;
    vm_transcript *t = NULL;
    vm_err e;
    vm_alloc_fail_after(k);
    int rc = vm_transcript_find(dir, "b.m4a", &path);
    int rc2 = vm_transcript_load(p, &t, &e);
    vm_alloc_fail_after(-1);
    if (rc == VM_OK) {
      found = 1;
      ASSERT_STR_EQ(path, p);
    } else {
      ASSERT_EQ(rc, VM_ENOMEM);
      ASSERT_NULL(path);
    }
    if (rc2 == VM_OK) {
      loaded = 1;
      ASSERT_NOT_NULL(t);
    } else {
      ASSERT_EQ(rc2, VM_ENOMEM);
      ASSERT_NULL(t);
    }
    vm_free(path);
    vm_transcript_destroy(t);
  }
  ASSERT(found && loaded);
  unlink(p);
  rmdir(dir);
  return 0;
}

/* The transcripts shipped in examples/ read, and the .srt and .vtt of a
 * call agree segment for segment. */
static int test_examples(void) {
  static const char *calls[] = {"call_01_demand", "call_02_denial", "call_03_meeting",
                                "call_04_stereo"};
  for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++) {
    char p[512];
    vm_transcript *s = NULL, *v = NULL;
    vm_err e;
    snprintf(p, sizeof p, "%s/examples/transcripts/%s.srt", VM_SOURCE_DIR, calls[c]);
    int rc = vm_transcript_load(p, &s, &e);
    if (rc != VM_OK) TEST_FAIL_("%s: %s", p, vm_err_text(&e));
    snprintf(p, sizeof p, "%s/examples/transcripts/%s.vtt", VM_SOURCE_DIR, calls[c]);
    rc = vm_transcript_load(p, &v, &e);
    if (rc != VM_OK) TEST_FAIL_("%s: %s", p, vm_err_text(&e));
    ASSERT_GE(s->n_segments, 2);
    ASSERT_EQ(s->n_segments, v->n_segments);
    for (size_t i = 0; i < s->n_segments; i++) {
      ASSERT_NOT_NULL(s->segments[i].speaker);
      ASSERT_EQ(strncmp(s->segments[i].speaker, "SPEAKER_", 8), 0);
      SEG(v, i, s->segments[i].start_s, s->segments[i].end_s, s->segments[i].speaker,
          s->segments[i].text);
    }
    vm_transcript_destroy(s);
    vm_transcript_destroy(v);
  }
  return 0;
}

/* Inputs built to make a careless parser quadratic: a 4 MiB line of tag
 * and override openers without closers, and 100k cues in reverse order. */
static int test_pathological_sizes(void) {
  static const char head_srt[] = "1\n00:00:01,000 --> 00:00:02,000\n";
  static const char head_vtt[] = "WEBVTT\n\n00:01.000 --> 00:02.000\nx";
  const size_t n = (size_t)4 << 20;
  char *b = vm_malloc(n + 64);
  ASSERT_NOT_NULL(b);
  for (int vtt = 0; vtt < 2; vtt++) {
    const char *h = vtt ? head_vtt : head_srt;
    size_t hn = strlen(h);
    memcpy(b, h, hn);
    for (size_t i = hn; i < n; i++) b[i] = "<{\\&"[i % 4];
    vm_transcript *t = NULL;
    vm_err e;
    clock_t c0 = clock();
    int rc = (vtt ? vm_transcript_parse_vtt : vm_transcript_parse_srt)(b, n, &t, &e);
    double secs = (double)(clock() - c0) / CLOCKS_PER_SEC;
    ASSERT_OK(rc);
    ASSERT(secs < 5.0);
    ASSERT_EQ(t->n_segments, 1);
    ASSERT_GE(strlen(t->segments[0].text), vtt ? 1 : n / 2);
    vm_transcript_destroy(t);
  }
  vm_free(b);
  return 0;
}

/* Sorting a reversed 200k-cue transcript stays fast and stable. */
static int test_sort_large(void) {
  vm_transcript *t = vm_transcript_create();
  ASSERT_NOT_NULL(t);
  const size_t n = 200000;
  char txt[32];
  for (size_t i = 0; i < n; i++) {
    snprintf(txt, sizeof txt, "%zu", i);
    ASSERT_OK(vm_transcript_add(t, (double)((n - i) / 2), (double)n, txt, (size_t)-1, NULL,
                                NULL));
  }
  clock_t c0 = clock();
  vm_transcript_sort(t);
  double secs = (double)(clock() - c0) / CLOCKS_PER_SEC;
  ASSERT(secs < 5.0);
  for (size_t i = 1; i < n; i++) {
    const vm_tr_segment *a = &t->segments[i - 1], *b = &t->segments[i];
    ASSERT(a->start_s <= b->start_s);
    if (a->start_s == b->start_s) ASSERT_LT(atol(a->text), atol(b->text)); /* stable */
  }
  vm_transcript_destroy(t);
  return 0;
}

/* Every allocation failure inside a parser gives VM_ENOMEM (never a crash
 * or a leak under ASan) and *out NULL. */
static int test_parsers_out_of_memory(void) {
  static const char srt[] = "1\n00:00:01,000 --> 00:00:02,000\n[A] <i>가</i>\n\n"
                            "2\n00:00:00,000 --> 00:00:02,000\n[B] 나\n";
  static const char vtt[] = "WEBVTT\nLanguage: ko\n\n00:01.000 --> 00:02.000\n<v A>가 &amp;"
                            "<v B>나\n";
  static const char js[] = "{\"language\": \"ko\", \"segments\": [{\"start\": 1, \"end\": 2,"
                           " \"text\": \"가\", \"speaker\": \"A\"}]}";
  struct {
    int (*p)(const char *, size_t, vm_transcript **, vm_err *);
    const char *in;
    size_t n;
  } cases[] = {{vm_transcript_parse_srt, srt, LEN(srt)},
               {vm_transcript_parse_vtt, vtt, LEN(vtt)},
               {vm_transcript_parse_json, js, LEN(js)}};
  for (size_t c = 0; c < 3; c++) {
    int ok = 0;
    for (long k = 0; k < 200 && !ok; k++) {
      vm_transcript *t = NULL;
      vm_err e;
      vm_alloc_fail_after(k);
      int rc = cases[c].p(cases[c].in, cases[c].n, &t, &e);
      vm_alloc_fail_after(-1);
      if (rc == VM_OK) {
        ok = 1;
        ASSERT_NOT_NULL(t);
      } else {
        ASSERT_EQ(rc, VM_ENOMEM);
        ASSERT_NULL(t);
      }
      vm_transcript_destroy(t);
    }
    ASSERT(ok);
  }
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_srt_korean_bom_crlf), TEST_ENTRY(test_srt_times),
          TEST_ENTRY(test_srt_no_blank_lines_and_overlap), TEST_ENTRY(test_srt_markup),
          TEST_ENTRY(test_srt_speakers), TEST_ENTRY(test_srt_invalid_utf8),
          TEST_ENTRY(test_srt_errors), TEST_ENTRY(test_vtt_structure),
          TEST_ENTRY(test_vtt_voices_and_entities), TEST_ENTRY(test_vtt_edge_layout),
          TEST_ENTRY(test_vtt_errors), TEST_ENTRY(test_json_forms), TEST_ENTRY(test_json_errors), TEST_ENTRY(test_charsets),
          TEST_ENTRY(test_find_and_load),
          TEST_ENTRY(test_find_load_out_of_memory), TEST_ENTRY(test_examples), TEST_ENTRY(test_pathological_sizes),
          TEST_ENTRY(test_sort_large),
          TEST_ENTRY(test_parsers_out_of_memory))
