/* test_asr_decode_segments.c — from a window's tokens to transcript
 * segments (asr_transcribe_seg.c, internal API): the reference's split on
 * timestamp pairs and its seek, Korean text whose bytes are split across
 * tokens and segments, repetition loops, hallucination phrases.
 * Tokens are the real vocabulary's single-byte tokens, so a Hangul
 * syllable (3 UTF-8 bytes) really is split across tokens.
 *
 *   ctest --test-dir build -R test_asr_decode_segments --output-on-failure */
#include "asr/asr_test_util.h"
#include "asr_decode_impl.h"
#include "asr_model.h"
#include "asr_tokenizer.h"
#include "test.h"

static vm_asr_model *g_m;
static int32_t g_byte_tok[256];
static int32_t TB;

static void model_free(void) { vm_asr_model_destroy(g_m); }

static int setup(void) {
  if (g_m) return 0;
  vm_asr_gen_opts o;
  asr_test_tiny_opts(&o, VM_ASR_GTYPE_F32, 9);
  o.hp.n_audio_layer = o.hp.n_text_layer = 1;
  char *path = asr_test_model(&o, "seg_vocab.bin");
  vm_err err;
  int rc = path ? vm_asr_model_create_from_file(path, &g_m, &err) : -1;
  vm_free(path);
  if (rc) return rc;
  atexit(model_free);
  for (int b = 0; b < 256; b++) g_byte_tok[b] = -1;
  for (int32_t id = 0; id < 50257; id++) {
    size_t len;
    const uint8_t *p = vm_asr_token_bytes(g_m, id, &len);
    if (p && len == 1 && g_byte_tok[p[0]] < 0) g_byte_tok[p[0]] = id;
  }
  TB = vm_asr_model_special(g_m)->timestamp_begin;
  return 0;
}

/* Appends the single-byte tokens of s to t. */
static int bytes(int32_t *t, int n, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) t[n++] = g_byte_tok[*p];
  return n;
}

typedef struct run_out {
  vm_transcript *t;
  int seek, looped;
} run_out;

static int run(int32_t *toks, int n, double nsp, double avg_lp, int keep_unfinished,
               vm__asr_carry *carry, run_out *r) {
  vm_asr_result res = {toks, NULL, n, avg_lp * (n + 1), avg_lp, 0.0};
  vm__asr_window w = {10.0, 3000, nsp, 1.5, 1, keep_unfinished};
  vm__asr_guard g = {1, 0.3, -0.7};
  r->t = vm_transcript_create();
  if (!r->t) return -1;
  return vm__asr_window_segments(g_m, &g, &w, &res, carry, r->t, NULL, &r->seek, &r->looped);
}

static int test_korean_across_segments(void) {
  ASSERT_OK(setup());
  int32_t t[64];
  int n = 0;
  t[n++] = TB;
  n = bytes(t, n, " 가\xec\x95"); /* "가" and the first 2 bytes of "안" */
  t[n++] = TB + 50;
  t[n++] = TB + 50;
  n = bytes(t, n, "\x88녕하세요");   /* the last byte of "안", then "녕하세요" */
  t[n++] = TB + 100;
  vm__asr_carry carry = {{0}, 0};
  run_out r;
  ASSERT_OK(run(t, n, 0.01, -0.2, 0, &carry, &r));
  ASSERT_EQ(r.t->n_segments, 2);
  ASSERT_STR_EQ(r.t->segments[0].text, "가");
  ASSERT_STR_EQ(r.t->segments[1].text, "안녕하세요");
  ASSERT_NEAR(r.t->segments[0].start_s, 10.0, 1e-9);
  ASSERT_NEAR(r.t->segments[0].end_s, 11.0, 1e-9);
  ASSERT_NEAR(r.t->segments[1].start_s, 11.0, 1e-9);
  ASSERT_NEAR(r.t->segments[1].end_s, 12.0, 1e-9);
  ASSERT_EQ(r.seek, 3000); /* single timestamp at the end: the whole window */
  ASSERT_EQ(r.looped, 0);
  ASSERT_EQ(carry.n, 0);
  ASSERT_EQ(r.t->segments[0].asr.n_tokens, 8); /* ts, 6 bytes, ts */
  ASSERT_NEAR(r.t->segments[0].asr.avg_logprob, -0.2, 1e-12);
  ASSERT_NEAR(r.t->segments[0].asr.no_speech_prob, 0.01, 1e-12);
  vm_transcript_destroy(r.t);
  return 0;
}

static int test_carry_between_windows(void) {
  ASSERT_OK(setup());
  int32_t a[16], b[16];
  int na = 0, nb = 0;
  a[na++] = TB;
  na = bytes(a, na, "\xec\x95");
  a[na++] = TB + 20; /* ends with a lone byte sequence: all carried */
  b[nb++] = TB;
  nb = bytes(b, nb, "\x88");
  b[nb++] = TB + 20;
  vm__asr_carry carry = {{0}, 0};
  run_out r1, r2;
  ASSERT_OK(run(a, na, 0.01, -0.2, 0, &carry, &r1));
  ASSERT_EQ(r1.t->n_segments, 0); /* nothing complete yet */
  ASSERT_EQ(carry.n, 2);
  ASSERT_OK(run(b, nb, 0.01, -0.2, 0, &carry, &r2));
  ASSERT_EQ(r2.t->n_segments, 1);
  ASSERT_STR_EQ(r2.t->segments[0].text, "안");
  vm_transcript_destroy(r1.t);
  vm_transcript_destroy(r2.t);
  /* a byte that can never start a character becomes U+FFFD, not a carry */
  int32_t c[8];
  int nc = 0;
  c[nc++] = TB;
  nc = bytes(c, nc, "a\xff" "b");
  c[nc++] = TB + 20;
  ASSERT_OK(run(c, nc, 0.01, -0.2, 0, &carry, &r1));
  ASSERT_STR_EQ(r1.t->segments[0].text, "a\xef\xbf\xbd" "b");
  vm_transcript_destroy(r1.t);
  return 0;
}

static int test_unfinished_seek(void) {
  ASSERT_OK(setup());
  int32_t t[32];
  int n = 0;
  t[n++] = TB;
  n = bytes(t, n, " one");
  t[n++] = TB + 40;
  t[n++] = TB + 40;
  n = bytes(t, n, " two"); /* cut off: no closing timestamp */
  vm__asr_carry carry = {{0}, 0};
  run_out r;
  ASSERT_OK(run(t, n, 0.01, -0.2, 0, &carry, &r));
  ASSERT_EQ(r.t->n_segments, 1); /* long-form: the tail is decoded again */
  ASSERT_STR_EQ(r.t->segments[0].text, "one");
  ASSERT_EQ(r.seek, 80);          /* 0.80 s = 80 mel frames */
  vm_transcript_destroy(r.t);
  ASSERT_OK(run(t, n, 0.01, -0.2, 1, &carry, &r)); /* batched: kept to the end */
  ASSERT_EQ(r.t->n_segments, 2);
  ASSERT_STR_EQ(r.t->segments[1].text, "two");
  ASSERT_NEAR(r.t->segments[1].start_s, 10.8, 1e-9);
  ASSERT_NEAR(r.t->segments[1].end_s, 40.0, 1e-9);
  ASSERT_EQ(r.seek, 3000);
  vm_transcript_destroy(r.t);
  /* no pair at all: one segment to the last timestamp */
  int32_t u[16];
  int nu = 0;
  u[nu++] = TB + 10;
  nu = bytes(u, nu, " three");
  ASSERT_OK(run(u, nu, 0.01, -0.2, 0, &carry, &r));
  ASSERT_EQ(r.t->n_segments, 1);
  ASSERT_NEAR(r.t->segments[0].start_s, 10.0, 1e-9);
  ASSERT_NEAR(r.t->segments[0].end_s, 10.2, 1e-9);
  ASSERT_EQ(r.seek, 3000);
  vm_transcript_destroy(r.t);
  return 0;
}

static int test_hallucination_guard(void) {
  ASSERT_OK(setup());
  int32_t t[128];
  int n = 0;
  t[n++] = TB;
  n = bytes(t, n, " 시청해주셔서 감사합니다.");
  t[n++] = TB + 100;
  vm__asr_carry carry = {{0}, 0};
  run_out r;
  ASSERT_OK(run(t, n, 0.5, -0.2, 0, &carry, &r)); /* no-speech 0.5: dropped */
  ASSERT_EQ(r.t->n_segments, 0);
  ASSERT_EQ(r.looped, 1);
  vm_transcript_destroy(r.t);
  ASSERT_OK(run(t, n, 0.01, -1.0, 0, &carry, &r)); /* low logprob: dropped */
  ASSERT_EQ(r.t->n_segments, 0);
  vm_transcript_destroy(r.t);
  ASSERT_OK(run(t, n, 0.01, -0.2, 0, &carry, &r)); /* confident speech: kept */
  ASSERT_EQ(r.t->n_segments, 1);
  ASSERT_STR_EQ(r.t->segments[0].text, "시청해주셔서 감사합니다.");
  ASSERT_EQ(r.looped, 0);
  vm_transcript_destroy(r.t);
  return 0;
}

static int test_repetition_cut(void) {
  ASSERT_OK(setup());
  int32_t t[128];
  int n = 0;
  t[n++] = TB;
  n = bytes(t, n, " go ");
  for (int i = 0; i < 6; i++) n = bytes(t, n, "ab");
  t[n++] = TB + 100;
  t[n++] = TB + 100;
  for (int k = 0; k < 3; k++) { /* the same segment text three times */
    n = bytes(t, n, " same");
    t[n++] = TB + 110 + 10 * k;
    t[n++] = TB + 110 + 10 * k;
  }
  n--; /* end with a single timestamp */
  vm__asr_carry carry = {{0}, 0};
  run_out r;
  ASSERT_OK(run(t, n, 0.01, -0.2, 0, &carry, &r));
  ASSERT_EQ(r.looped, 1);
  ASSERT_EQ(r.t->n_segments, 3);
  ASSERT_STR_EQ(r.t->segments[0].text, "go ab");
  ASSERT_STR_EQ(r.t->segments[1].text, "same");
  ASSERT_STR_EQ(r.t->segments[2].text, "same"); /* the third copy is dropped */
  vm_transcript_destroy(r.t);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_korean_across_segments), TEST_ENTRY(test_carry_between_windows),
          TEST_ENTRY(test_unfinished_seek), TEST_ENTRY(test_hallucination_guard),
          TEST_ENTRY(test_repetition_cut))
