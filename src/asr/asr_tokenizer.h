/* asr_tokenizer.h — from Whisper token ids to text, and the special tokens.
 *
 * Whisper's vocabulary is byte-level BPE: a token is a byte string, not
 * necessarily valid UTF-8 on its own. A Hangul syllable (3 UTF-8 bytes)
 * is often split across two or three tokens, so text is made by joining
 * the bytes of all tokens first and validating UTF-8 only then; a token
 * sequence that still ends inside a character (a stream cut mid-syllable)
 * is handled with vm_asr_utf8_complete_len().
 *
 * All functions are thread-safe (they only read the model).
 */
#ifndef VM_ASR_TOKENIZER_H
#define VM_ASR_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "asr_model.h"

#define VM_ASR_N_LANGUAGES_MAX 100

/* The byte string of a text token (id < n_vocab_stored and not special).
 * OUT: *out_len. Returns NULL for special tokens and ids out of range.
 * Borrowed: valid while m lives. */
const uint8_t *vm_asr_token_bytes(const vm_asr_model *m, int32_t id, size_t *out_len);

/* 1 if id is a special token (>= eot), 0 otherwise. */
int vm_asr_token_is_special(const vm_asr_model *m, int32_t id);

/* Text of ids[0..n): the bytes of every text token (special tokens are
 * skipped) joined, then made valid UTF-8: each byte that does not start a
 * well-formed sequence becomes U+FFFD. OUT: *out (NUL-terminated, caller
 * frees with vm_free), *out_len (may be NULL). Returns VM_OK or VM_ENOMEM. */
int vm_asr_tokens_to_text(const vm_asr_model *m, const int32_t *ids, size_t n,
                          char **out, size_t *out_len);

/* Length of the longest prefix of s[0..n) that does not end inside an
 * incomplete (but so far well-formed) UTF-8 sequence: the bytes a
 * streaming printer may emit now. At most 3 bytes are held back. */
size_t vm_asr_utf8_complete_len(const uint8_t *s, size_t n);

/* Whisper's language codes in token order ("en", "zh", ..., "yue").
 * Index of code, or -1. */
int vm_asr_lang_index(const char *code);
/* Code of index i (0 <= i < 100), or NULL. */
const char *vm_asr_lang_code(int i);
/* The language token of code for model m, or -1 if m has no such token. */
int32_t vm_asr_token_lang(const vm_asr_model *m, const char *code);

/* A printable name of any token: "<|endoftext|>", "<|ko|>", "<|1.24|>",
 * or the token's bytes (as is). Writes at most cap bytes including NUL. */
void vm_asr_token_name(const vm_asr_model *m, int32_t id, char *buf, size_t cap);

#endif /* VM_ASR_TOKENIZER_H */
