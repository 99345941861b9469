/* asr_decode.h — Whisper's decoding rules and search, independent of how
 * logits are computed.
 *
 * What is here, after the reference decoder (openai-whisper decoding.py;
 * the differences are listed in docs/asr.md):
 *  - the logit filters (vm_asr_rules): special tokens are never sampled;
 *    suppress-blank (no " " and no end-of-text as the first token); the
 *    optional non-speech symbol list; the timestamp rules (timestamps come
 *    in pairs, never decrease, the first one is at most 1.0 s, and a
 *    timestamp is forced when the summed probability of all timestamps
 *    beats the most likely text token);
 *  - the search (vm_asr_search_run): greedy (temperature 0), sampling with
 *    best-of N (temperature > 0), and beam search (patience 1) over any
 *    number of windows at once, through a small language-model interface
 *    (vm_asr_lm_i) so tests can drive it with hand-built logits;
 *  - the window-level measures: compression ratio (zlib, as the reference),
 *    no-speech probability, language detection, the fallback and skip
 *    decisions, repetition loops and known hallucination phrases.
 *
 * Not here: audio, mel, the forward pass, seeking (asr_transcribe.c).
 * Thread-safety: rules are read-only after creation; a search call uses
 * only its arguments.
 *
 * Usage (see asr_transcribe.c for the real thing):
 *   vm_asr_rules *r; vm_asr_rules_create(model, &dopts, &r, &err);
 *   ... decode the prompt into slot w * n_cand of each window w ...
 *   vm_asr_search_run(r, &dopts, &lm, n_win, first_logits, prompt_len,
 *                     temperature, &rng, results, &err);
 *   ... results[w].tokens ...; vm_asr_result_deinit(&results[w]);
 */
#ifndef VM_ASR_DECODE_H
#define VM_ASR_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "asr_model.h"
#include "vm_status.h"

/* Decoding options (vm_asr_decode_opts_default gives the reference's). */
typedef struct vm_asr_decode_opts {
  int beam_size;          /* beams at temperature 0; 1 = greedy (default 5) */
  int best_of;            /* samples at temperature > 0 (default 5) */
  int timestamps;         /* 1: timestamp tokens and rules (default);
                             0: <|notimestamps|>, timestamps suppressed */
  int suppress_blank;     /* 1 (default) */
  int suppress_non_speech;/* 1: also suppress the reference's non-speech
                             symbols ("♪", "(", "[", ...); default 0 */
  int max_initial_ts;     /* max first timestamp in 0.02 s steps (50 = 1 s) */
  int max_tokens;         /* sampled tokens per window (default 224) */
  double compression_ratio_thold; /* 2.4: above it, fall back */
  double logprob_thold;   /* -1.0: average log-probability below it, fall back */
  double no_speech_thold; /* 0.6: above it (with low logprob), skip window */
} vm_asr_decode_opts;

vm_asr_decode_opts vm_asr_decode_opts_default(void);

/* ---- Logit filters ------------------------------------------------------ */

typedef struct vm_asr_rules vm_asr_rules;

/* Builds the filters for model m and opts (copied). The non-speech list
 * is found by byte-pair encoding the reference's symbols with m's
 * vocabulary. OUT: *out. Returns VM_OK, VM_EINVAL, VM_ENOMEM. */
int vm_asr_rules_create(const vm_asr_model *m, const vm_asr_decode_opts *opts,
                        vm_asr_rules **out, vm_err *err);
void vm_asr_rules_destroy(vm_asr_rules *r);

/* Applies every filter, in the reference's order, to logits (n_vocab) of
 * a sequence whose sampled tokens so far (after the prompt) are
 * sampled[0..n_sampled). Suppressed entries become -INFINITY. */
void vm_asr_rules_apply(const vm_asr_rules *r, const int32_t *sampled, int n_sampled,
                        float *logits);

/* 1 if token id is on the suppressed list (specials, non-speech). */
int vm_asr_rules_is_suppressed(const vm_asr_rules *r, int32_t id);
/* The non-speech token ids (borrowed, valid while r lives). OUT: *out_n. */
const int32_t *vm_asr_rules_non_speech(const vm_asr_rules *r, size_t *out_n);

/* log-softmax of x[0..n) into out (may alias x); -INFINITY stays. */
void vm_asr_log_softmax(const float *x, int n, float *out);

/* ---- Search ------------------------------------------------------------- */

/* The decoder as the search sees it. Sequence KV slots: window w's
 * candidate j lives in slot w * n_cand + j (n_cand = beam_size at
 * temperature 0 with beams, best_of at temperature > 0, else 1). */
typedef struct vm_asr_lm_i {
  void *ctx;
  /* Feeds tok[i] at position n_past to sequence i (window win[i], KV slot
   * slot[i]) for i < n. OUT: *out_logits (n, n_vocab), valid until the next
   * call. Returns VM_OK or a VM_E* code with err set. */
  int (*step)(void *ctx, int n, const int32_t *tok, const int *win, const int *slot,
              int n_past, const float **out_logits, vm_err *err);
  /* KV rows 0..n_pos-1 of slot src[i] -> slot dst[i], for i < n (any mapping). */
  int (*kv_copy)(void *ctx, int n, const int *dst, const int *src, int n_pos, vm_err *err);
  /* Optional (NULL: everything on the calling thread): runs fn(arg, i0,
   * i1, ith) over chunks of [0, n) on up to n_threads threads (ith <
   * n_threads; no two chunks at once with the same ith) and returns when
   * all are done. The search filters the logits of a step's hypotheses
   * this way (each window's choices stay in a fixed order, so the results
   * do not depend on the threads). */
  void (*parallel)(void *ctx, size_t n, void (*fn)(void *arg, size_t i0, size_t i1, int ith),
                   void *arg);
  int n_threads;
} vm_asr_lm_i;

/* The decoded text of one window. */
typedef struct vm_asr_result {
  int32_t *tokens;        /* (n_tokens) sampled tokens, end-of-text excluded; owned */
  float *logprobs;        /* (n_tokens) log-probability of each */
  int n_tokens;
  double sum_logprob;     /* end-of-text's log-probability included */
  double avg_logprob;     /* sum_logprob / (n_tokens + 1), as the reference */
  double temperature;
} vm_asr_result;

void vm_asr_result_deinit(vm_asr_result *r);

/* Deterministic random numbers for sampling (xorshift64*). */
typedef struct vm_asr_rng { uint64_t s; } vm_asr_rng;
void vm_asr_rng_seed(vm_asr_rng *g, uint64_t seed);
double vm_asr_rng_uniform(vm_asr_rng *g); /* [0, 1) */

/* Candidates per window for a temperature under opts (see vm_asr_lm_i). */
int vm_asr_search_n_cand(const vm_asr_decode_opts *opts, double temperature);

/* Decodes n_win windows at once. Sampling (temperature > 0) draws window
 * w's tokens from rngs[w] only, so a window's result does not depend on
 * which other windows share the batch. The caller has decoded each window's
 * prompt (prompt_len tokens) into slot w * n_cand; first_logits
 * (n_win, n_vocab) are the logits after each prompt. Runs greedy,
 * sampling or beam search (vm_asr_search_n_cand) until every window ends
 * (end-of-text, max_tokens, or the text context is full) and writes the
 * best candidate of window w to out[w] (ranked by sum_logprob / length, as
 * the reference). OUT: out[0..n_win) (vm_asr_result_deinit each, also on
 * failure). Returns VM_OK, VM_ENOMEM, or the lm's error. */
int vm_asr_search_run(const vm_asr_rules *r, const vm_asr_decode_opts *opts,
                      const vm_asr_lm_i *lm, int n_win, const float *first_logits,
                      int prompt_len, int n_text_ctx, double temperature, vm_asr_rng *rngs,
                      vm_asr_result *out, vm_err *err);

/* ---- Window measures and decisions -------------------------------------- */

/* len(text) / len(zlib.compress(text)) at zlib's default level, as the
 * reference computes it; 0 for empty text. */
double vm_asr_compression_ratio(const char *text, size_t len);

/* Probability of <|nospeech|> from the logits (n_vocab) at the sot
 * position (plain softmax, no filters). */
double vm_asr_no_speech_prob(const vm_asr_model *m, const float *logits);

/* Language from the logits (n_vocab) at the sot position: the most likely
 * language token. OUT: *out_prob (its probability among the languages; may
 * be NULL). Returns the language index (vm_asr_lang_code), or -1 for an
 * English-only model. */
int vm_asr_lang_detect(const vm_asr_model *m, const float *logits, double *out_prob);

/* The reference's fallback rule: too repetitive (compression ratio above
 * the threshold) or too unlikely (avg_logprob below it), unless the
 * window looks silent (no_speech_prob above its threshold and low
 * avg_logprob). */
int vm_asr_needs_fallback(const vm_asr_decode_opts *o, double compression_ratio,
                          double avg_logprob, double no_speech_prob);
/* The reference's skip rule: no_speech_prob above the threshold and
 * avg_logprob not above logprob_thold. */
int vm_asr_window_is_silent(const vm_asr_decode_opts *o, double avg_logprob,
                            double no_speech_prob);

/* Finds the first repetition loop in toks[0..n): an n-gram of 1..16
 * tokens repeated back to back (8 times for a single token, 4 times for
 * longer ones). OUT: *out_start (first copy), *out_period (n-gram length),
 * *out_count (copies). Returns 1 if found, else 0. */
int vm_asr_repeat_find(const int32_t *toks, int n, int *out_start, int *out_period,
                       int *out_count);

/* Removes every repetition loop from toks (keeps the first copy of each).
 * Returns the new length (<= n). */
int vm_asr_repeat_cut(int32_t *toks, int n);

/* 1 if text (UTF-8) is one of the phrases Whisper is known to invent on
 * silence and music ("시청해주셔서 감사합니다", "Thank you for watching",
 * "구독과 좋아요", ...), compared without spaces, punctuation and case. */
int vm_asr_text_is_hallucination(const char *text);

#endif /* VM_ASR_DECODE_H */
