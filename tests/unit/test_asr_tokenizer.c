/* test_asr_tokenizer.c — token ids to text with the real multilingual
 * vocabulary (tests/fixtures/whisper/multilingual.tiktoken): Hangul
 * syllables split across byte-level tokens are joined before UTF-8 is
 * validated; special tokens are skipped; names of special tokens.
 *
 *   ctest --test-dir build -R test_asr_tokenizer --output-on-failure */
#include "asr/asr_test_util.h"
#include "asr_model.h"
#include "asr_tokenizer.h"
#include "test.h"

static vm_asr_model *load_real_vocab(void) {
  vm_asr_gen_opts o;
  asr_test_tiny_opts(&o, VM_ASR_GTYPE_F16, 5);
  o.hp.n_audio_ctx = 8;
  o.hp.n_text_ctx = 8;
  o.hp.n_audio_state = o.hp.n_text_state = 8;
  o.hp.n_audio_layer = o.hp.n_text_layer = 1;
  char *path = asr_test_model(&o, "tok.bin");
  vm_asr_model *m = NULL;
  if (path) (void)vm_asr_model_create_from_file(path, &m, NULL);
  vm_free(path);
  return m;
}

/* The id of the token whose bytes are exactly s[0..n), or -1. */
static int32_t find_token(const vm_asr_model *m, const char *s, size_t n) {
  for (int32_t id = 0; id < vm_asr_model_n_vocab_stored(m); id++) {
    size_t len;
    const uint8_t *b = vm_asr_token_bytes(m, id, &len);
    if (b && len == n && memcmp(b, s, n) == 0) return id;
  }
  return -1;
}

static int test_hangul_split(void) {
  vm_asr_model *m = load_real_vocab();
  ASSERT_NOT_NULL(m);
  ASSERT_EQ(vm_asr_model_n_vocab_stored(m), 50257);
  const vm_asr_special *sp = vm_asr_model_special(m);
  const char *hello = "\xec\x95\x88\xeb\x85\x95"; /* 안녕 */
  int32_t ids[16];
  int n = 0;
  ids[n++] = sp->sot;
  ids[n++] = vm_asr_token_lang(m, "ko");
  ASSERT_EQ(ids[1], 50264);
  for (int i = 0; i < 6; i++) { /* one byte-level token per byte */
    ids[n] = find_token(m, hello + i, 1);
    ASSERT_GE(ids[n], 0);
    n++;
  }
  ids[n++] = sp->eot;
  char *txt;
  size_t len;
  ASSERT_OK(vm_asr_tokens_to_text(m, ids, (size_t)n, &txt, &len));
  ASSERT_STR_EQ(txt, "안녕");
  ASSERT_EQ(len, 6);
  vm_free(txt);
  /* 2 + 1 byte split of 안 if the vocabulary has the 2-byte piece */
  int32_t two = find_token(m, hello, 2), three[2] = {two, ids[4]};
  if (two >= 0) {
    ASSERT_OK(vm_asr_tokens_to_text(m, three, 2, &txt, NULL));
    ASSERT_STR_EQ(txt, "안");
    vm_free(txt);
  }
  /* a stream cut inside a syllable: each stray byte becomes U+FFFD */
  ASSERT_OK(vm_asr_tokens_to_text(m, ids + 2, 2, &txt, &len));
  ASSERT_STR_EQ(txt, "\xef\xbf\xbd\xef\xbf\xbd");
  vm_free(txt);
  /* whole-word tokens of the real vocabulary round-trip */
  int32_t w = find_token(m, " the", 4);
  ASSERT_GE(w, 0);
  ASSERT_OK(vm_asr_tokens_to_text(m, &w, 1, &txt, NULL));
  ASSERT_STR_EQ(txt, " the");
  vm_free(txt);
  vm_asr_model_destroy(m);
  return 0;
}

static int test_utf8_complete_len(void) {
  const uint8_t *s = (const uint8_t *)"A\xec\x95\x88\xeb\x85";
  ASSERT_EQ(vm_asr_utf8_complete_len(s, 1), 1);
  ASSERT_EQ(vm_asr_utf8_complete_len(s, 2), 1);
  ASSERT_EQ(vm_asr_utf8_complete_len(s, 3), 1);
  ASSERT_EQ(vm_asr_utf8_complete_len(s, 4), 4);
  ASSERT_EQ(vm_asr_utf8_complete_len(s, 6), 4);
  ASSERT_EQ(vm_asr_utf8_complete_len((const uint8_t *)"\xff\xc0", 2), 2); /* invalid: emit */
  ASSERT_EQ(vm_asr_utf8_complete_len((const uint8_t *)"\xed\xa0", 2), 2); /* surrogate */
  ASSERT_EQ(vm_asr_utf8_complete_len((const uint8_t *)"\xf0\x9f\x98", 3), 0);
  return 0;
}

static int test_token_names(void) {
  vm_asr_model *m = load_real_vocab();
  ASSERT_NOT_NULL(m);
  const vm_asr_special *sp = vm_asr_model_special(m);
  char buf[64];
  vm_asr_token_name(m, sp->sot, buf, sizeof buf);
  ASSERT_STR_EQ(buf, "<|startoftranscript|>");
  vm_asr_token_name(m, vm_asr_token_lang(m, "ko"), buf, sizeof buf);
  ASSERT_STR_EQ(buf, "<|ko|>");
  vm_asr_token_name(m, sp->timestamp_begin + 62, buf, sizeof buf);
  ASSERT_STR_EQ(buf, "<|1.24|>");
  vm_asr_token_name(m, sp->notimestamps, buf, sizeof buf);
  ASSERT_STR_EQ(buf, "<|notimestamps|>");
  ASSERT_EQ(vm_asr_token_lang(m, "yue"), -1); /* 99 languages in 51865 */
  ASSERT(vm_asr_token_is_special(m, sp->eot));
  ASSERT(!vm_asr_token_is_special(m, 100));
  size_t len;
  ASSERT_NULL(vm_asr_token_bytes(m, sp->sot, &len));
  ASSERT_NULL(vm_asr_token_bytes(m, -1, &len));
  vm_asr_model_destroy(m);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_hangul_split), TEST_ENTRY(test_utf8_complete_len),
          TEST_ENTRY(test_token_names))
