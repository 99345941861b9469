/* asr_decode_impl.h — shared by asr_decode*.c and asr_transcribe*.c only. */
#ifndef VM_ASR_DECODE_IMPL_H
#define VM_ASR_DECODE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "asr_decode.h"
#include "transcript.h"

/* The vocabulary size and end-of-text id the rules were built for. */
int32_t vm__asr_rules_n_vocab(const vm_asr_rules *r);
int32_t vm__asr_rules_eot(const vm_asr_rules *r);

/* The ids of the (at most) k largest of x[0..n), -inf excluded, largest
 * first, the lower id first among equal values; one pass. OUT: top (k
 * entries). Returns how many were found (< k when fewer are finite). */
int vm__asr_top_k(const float *x, int32_t n, int k, int32_t *top);

/* ---- Segments of a decoded window (asr_transcribe_seg.c) --------------- */

/* A growable token array. */
typedef struct vm__asr_tokvec {
  int32_t *v;
  size_t n, cap;
} vm__asr_tokvec;

int vm__asr_tokvec_push(vm__asr_tokvec *t, const int32_t *v, size_t n);
void vm__asr_tokvec_deinit(vm__asr_tokvec *t);

/* Bytes of an unfinished UTF-8 character carried to the next segment. */
typedef struct vm__asr_carry {
  uint8_t b[4];
  int n;
} vm__asr_carry;

/* A decoded window as the segmenter needs it. */
typedef struct vm__asr_window {
  double offset_s;       /* start of the window in its file */
  int n_frames;          /* mel frames of content in the window (<= 3000) */
  double no_speech_prob, compression_ratio;
  int timestamps;        /* the window was decoded with timestamps */
  int keep_unfinished;   /* batched: text after the last timestamp pair
                            becomes a segment to the window's end (no seek) */
} vm__asr_window;

/* Hallucination guard settings (from vm_asr_opts). */
typedef struct vm__asr_guard {
  int enabled;
  double no_speech, logprob;
} vm__asr_guard;

/* Splits res into segments as the reference does (pairs of consecutive
 * timestamps close a segment), cuts repetition loops, drops known
 * hallucination phrases when the window looks silent (guard), builds each
 * text from token bytes with carry, and appends the segments to t. The
 * tokens of the kept segments are appended to all (may be NULL).
 * OUT: *out_seek (mel frames to advance), *out_looped (a loop was cut or a
 * segment dropped: do not prompt with this window). Returns VM_OK or
 * VM_ENOMEM. */
int vm__asr_window_segments(const vm_asr_model *m, const vm__asr_guard *g,
                            const vm__asr_window *w, const vm_asr_result *res,
                            vm__asr_carry *carry, vm_transcript *t, vm__asr_tokvec *all,
                            int *out_seek, int *out_looped);

/* Text of res's tokens as the reference decodes it (timestamps and special
 * tokens skipped, bad bytes as U+FFFD). OUT: *out (vm_free). */
int vm__asr_result_text(const vm_asr_model *m, const vm_asr_result *res, char **out,
                        size_t *out_len);

/* ---- Engine internals (asr_transcribe.c), for tests --------------------- */

struct vm_asr_engine;
struct vm_asr_chunk;
struct vm_asr_opts;

/* Encodes n (<= n_batch_max) chunks in one forward and decodes them (the
 * temperature ladder; prompt: <|startofprev|> + prev[0..n_prev) when
 * n_prev > 0), without segmenting. OUT: out[0..n) (vm_asr_result_deinit
 * each), out_nsp[], out_lang[]. */
int vm__asr_engine_decode(struct vm_asr_engine *e, const struct vm_asr_chunk *ch, int n,
                          const int32_t *prev, int n_prev, const struct vm_asr_opts *o,
                          vm_asr_result *out, double *out_nsp, int *out_lang, vm_err *err);
/* Candidates per window that opts can ask for (beam at temperature 0,
 * best-of when a temperature above 0 may be used). */
int vm__asr_opts_max_cand(const struct vm_asr_opts *o);
/* Windows encoded by e so far. */
long vm__asr_engine_n_windows(const struct vm_asr_engine *e);

#endif /* VM_ASR_DECODE_IMPL_H */
