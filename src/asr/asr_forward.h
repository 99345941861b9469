/* asr_forward.h — the Whisper forward pass: encoder and decoder.
 *
 * A vm_asr_state holds everything one worker needs to run a model: the
 * backend (CPU, or CUDA when built with VM_CUDA=ON: docs/asr-cuda.md),
 * activations, the cross-attention keys and values of the current chunks
 * and the decoder's self-attention KV cache, all allocated once at
 * creation (in the backend's memory: on the GPU for CUDA, with the
 * model's weights copied there once) for up to n_batch_max independent
 * 30 s chunks. Batching chunks into one forward is the GPU's speed lever; on
 * the CPU it turns the decoder's matrix-vector products into small
 * matrix products.
 *
 * Maths (the reference model): conv1d(k3,s1)+GELU, conv1d(k3,s2)+GELU,
 * + positional embedding, pre-norm blocks (x += attn(ln(x)); x +=
 * mlp(ln(x)), mlp = Linear-GELU-Linear), ln_post. Decoder: token + learned
 * position embedding, blocks with masked self-attention (KV cache),
 * cross-attention over the encoder output, MLP; final LayerNorm; logits =
 * x · token_embedding^T.
 *
 * One state per thread; a state borrows its model, which must outlive it.
 * Several states on different GPUs may run in different threads.
 *
 * Errors: besides VM_EINVAL for bad arguments, every call that runs the
 * model may return VM_ENOMEM (out of GPU memory) or VM_EGPU (any other
 * CUDA/cuBLAS failure, with CUDA's text in err). A GPU failure is
 * sticky: every later call on the state fails the same way, so destroy it
 * (and fall back to the CPU or fail the job). The CPU backend does not
 * fail after creation.
 *
 * Usage:
 *   vm_asr_state *st; vm_asr_state_create(model, &opts, &st, &err);
 *   vm_asr_state_encode(st, mel, 1, &err);          // mel (1, n_mels, 3000)
 *   int32_t prompt[3] = {sot, lang, transcribe};
 *   vm_asr_state_decode(st, prompt, 3, 0, &err);    // n_past 0
 *   const float *logits = vm_asr_state_logits(st);  // (1, 3, n_vocab)
 *   vm_asr_state_decode(st, &next, 1, 3, &err);     // one more token
 *   vm_asr_state_destroy(st);
 */
#ifndef VM_ASR_FORWARD_H
#define VM_ASR_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "asr_model.h"
#include "vm_status.h"

typedef struct vm_asr_state_opts {
  int n_threads;     /* >= 1 */
  int n_batch_max;   /* chunks per forward, >= 1 */
  int n_tokens_max;  /* tokens per decode call (prompt length), >= 1;
                        logits are kept for all of them */
  const char *device;/* "cpu" (NULL = "cpu"), "cuda" (= "cuda:0") or
                        "cuda:N" (CUDA device ordinal N) */
  int n_seq_max;     /* decoder sequences (KV cache slots) for
                        vm_asr_state_decode_seqs(), e.g. chunks x beams;
                        0 = n_batch_max. At least n_batch_max is kept. */
} vm_asr_state_opts;

typedef struct vm_asr_state vm_asr_state;

/* OUT: *out. Returns VM_OK, VM_EINVAL (bad options or device name),
 * VM_ENOMEM (host or GPU memory; the bytes asked for in err), VM_EGPU (no
 * such GPU, CUDA failed, or this build has no CUDA: configure with
 * -DVM_CUDA=ON). On failure *out is NULL and nothing is held. */
int vm_asr_state_create(const vm_asr_model *m, const vm_asr_state_opts *opts,
                        vm_asr_state **out, vm_err *err);
void vm_asr_state_destroy(vm_asr_state *s);
/* Bytes of activations, caches and scratch the state allocated (host and
 * backend memory; for CUDA also the weights' copies on the GPU). */
size_t vm_asr_state_bytes(const vm_asr_state *s);
/* The backend's worker threads, idle between the state's calls (CPU
 * backend), or NULL (CUDA): see vm_asr_backend_i.pool. */
struct vm_asr_pool *vm__asr_state_pool(const vm_asr_state *s);

/* Encodes n_batch chunks: mel is (n_batch, n_mels, 3000) (vm_asr_mel
 * output, one chunk after the other); the model uses the first
 * 2*n_audio_ctx frames of each. Computes the encoder output and every
 * decoder layer's cross-attention keys/values, and forgets the decoder's
 * KV cache. Returns VM_OK, VM_EINVAL (n_batch out of range), VM_ENOMEM or
 * VM_EGPU (GPU failure, see above). */
int vm_asr_state_encode(vm_asr_state *s, const float *mel, int n_batch, vm_err *err);

/* The encoder output of the last encode, (n_batch, n_audio_ctx,
 * n_audio_state); valid until the next encode or destroy. With CUDA it is
 * downloaded on the first call after an encode (NULL if that fails). */
const float *vm_asr_state_encoder_output(const vm_asr_state *s);

/* Runs the decoder on tokens (n_batch, n_tokens) at positions n_past ..
 * n_past + n_tokens - 1 of every chunk of the last encode, using and
 * extending the KV cache (positions < n_past must have been decoded
 * before; rewinding by passing a smaller n_past is allowed). Returns
 * VM_OK, VM_EINVAL (no encode yet, n_tokens > n_tokens_max, past
 * n_text_ctx, token out of range), VM_ENOMEM or VM_EGPU. */
int vm_asr_state_decode(vm_asr_state *s, const int32_t *tokens, int n_tokens, int n_past,
                        vm_err *err);

/* Logits of the last decode, (n_batch, n_tokens, n_vocab), in host memory
 * (downloaded from the GPU by the decode); valid until the next
 * decode/encode or destroy. */
const float *vm_asr_state_logits(const vm_asr_state *s);

/* ---- Sequences: beams and batched decoding ----------------------------
 * A sequence is one decoder hypothesis: it owns KV cache slot
 * seq_slot[i] (0 <= slot < n_seq_max) and attends to the encoder output of
 * chunk seq_chunk[i] of the last encode, so several beams can share one
 * chunk's cross-attention and finished sequences can simply be left out. */

/* Runs the decoder on tokens (n_seq, n_tokens) at positions n_past ..
 * n_past + n_tokens - 1 of each sequence, using and extending the KV cache
 * of its slot (slots must be distinct). seq_slot NULL means slot i for
 * sequence i. Only the LAST position's logits are computed: see
 * vm_asr_state_seq_logits(). Returns VM_OK, VM_EINVAL (no encode yet,
 * bad chunk or slot, too many tokens or sequences, past n_text_ctx, token
 * out of range), VM_ENOMEM or VM_EGPU. */
int vm_asr_state_decode_seqs(vm_asr_state *s, int n_seq, const int32_t *tokens, int n_tokens,
                             int n_past, const int *seq_chunk, const int *seq_slot,
                             vm_err *err);

/* Logits of the last position of each sequence of the last
 * vm_asr_state_decode_seqs, (n_seq, n_vocab); valid until the next
 * decode/encode or destroy (shares storage with vm_asr_state_logits). */
const float *vm_asr_state_seq_logits(const vm_asr_state *s);

/* Copies the KV cache rows 0..n_pos-1 of slot src_slot[i] into slot
 * dst_slot[i] for i < n (beam search reordering; any mapping, sources are
 * read before any destination is written). Returns VM_OK, VM_EINVAL,
 * VM_ENOMEM or VM_EGPU. */
int vm_asr_state_kv_copy(vm_asr_state *s, int n, const int *dst_slot, const int *src_slot,
                         int n_pos, vm_err *err);

#endif /* VM_ASR_FORWARD_H */
