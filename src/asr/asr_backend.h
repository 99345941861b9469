/* asr_backend.h — the hot operations of the Whisper forward pass behind
 * one interface (internal to asr/), so that a GPU backend can sit beside
 * the CPU reference (STYLE §4.6).
 *
 * DESIGN: a backend is a struct of function pointers plus its ctx, as in
 * ggml's backend interface. The forward pass (asr_forward.c) is written
 * once against it. Pointers passed to the ops are backend memory: buffers
 * from mem_alloc() and weights from weight() (plain host memory for the
 * CPU backend, device memory for CUDA); all tensors are f32, row-major,
 * with the shapes given beside each op. Host data enters and leaves
 * backend memory only through upload() and download() (STYLE §4.4).
 *
 * Ops may be asynchronous (CUDA queues them on the backend's stream):
 * they return nothing, and a failure is kept as a sticky error that
 * status() reports; once set, later ops do nothing and the backend is
 * unusable (destroy it). download() waits for every op queued before it.
 * The CPU backend's ops are synchronous and cannot fail.
 *
 * A backend is used by one thread at a time (it owns scratch, worker
 * threads, a CUDA stream).
 *
 * Only asr_backend.c knows which backends exist.
 */
#ifndef VM_ASR_BACKEND_H
#define VM_ASR_BACKEND_H

#include <stddef.h>

#include "vm_status.h"

/* Multi-head scaled dot-product attention over a batch:
 * out[b, i, h*d:(h+1)*d] = softmax_j(q[b,i,h] . k[b,j,h] / sqrt(d)) v[b,j,h]
 * for j < n_kv, and with causal set only j <= q_pos0 + i. */
typedef struct vm_asr_attn_args {
  int n_batch, n_head, d_head;
  int n_q, n_kv;     /* query rows, key/value rows per batch item */
  const float *q;    /* row i of item b at q + b*q_bstride + i*q_ld */
  size_t q_ld, q_bstride;
  const float *k, *v;/* same layout for keys and values */
  size_t kv_ld, kv_bstride;
  float *out;        /* same layout as q with o_ld, o_bstride */
  size_t o_ld, o_bstride;
  int causal, q_pos0;
  /* NULL, or (host memory, n_batch entries) the K/V item each batch item
   * attends to: item b reads k and v at kv_item[b] * kv_bstride instead of
   * b * kv_bstride (decoding several sequences, each over its own KV slot
   * or chunk, in one call). */
  const int *kv_item;
} vm_asr_attn_args;

/* 1-D convolution, kernel 3, padding 1, stride 1 or 2, per batch item:
 * y[t, o] = b[o] + sum_{c,k} w[o, c, k] x(c, t*stride + k - 1), with
 * x(c, t) = x[c*x_cs + t*x_ts] (0 outside 0 <= t < t_in). */
typedef struct vm_asr_conv_args {
  int c_in, t_in, c_out, stride;
  const float *x;
  size_t x_cs, x_ts;
  const float *w;   /* (c_out, c_in, 3) */
  const float *b;   /* (c_out) */
  float *y;         /* (t_out, c_out), t_out = (t_in - 1) / stride + 1 */
} vm_asr_conv_args;

typedef struct vm_asr_backend_i {
  const char *name;
  void *ctx;
  /* 1 when backend memory is host memory that the caller may read and
   * write directly (CPU): the forward pass then skips its staging copies
   * and reads logits and encoder output in place. */
  int host_mem;
  /* The backend's own worker threads (CPU), idle between ops, so the
   * caller may run host work on them then (one caller at a time, as the
   * backend itself); NULL when the backend has none (CUDA). */
  struct vm_asr_pool *pool;
  /* ---- memory ---- */
  /* n floats of backend memory (contents undefined), or NULL when out of
   * memory (the sticky error becomes VM_ENOMEM on CUDA). Free with
   * mem_free (accepts NULL). Counted by bytes(). */
  float *(*mem_alloc)(void *ctx, size_t n);
  void (*mem_free)(void *ctx, float *p);
  /* dst (backend, n floats) = src (host). src may be reused as soon as
   * upload returns (CUDA waits for the copy). */
  void (*upload)(void *ctx, float *dst, const float *src, size_t n);
  /* dst (host, n floats) = src (backend), after every op queued before. */
  void (*download)(void *ctx, float *dst, const float *src, size_t n);
  /* n blocks of len floats, backend memory, not overlapping: block i goes
   * from src + src_item[i]*src_stride to dst + dst_item[i]*dst_stride
   * (item arrays: host memory, n entries; NULL means i). One call for what
   * would be n copies (a decode step's KV cache append, a beam reorder). */
  void (*copy_items)(void *ctx, int n, float *dst, const int *dst_item, size_t dst_stride,
                     const float *src, const int *src_item, size_t src_stride, size_t len);
  /* The backend's copy of a model weight: host (n floats) is uploaded on
   * the first call for that pointer and the same copy returned on later
   * calls (the CPU backend returns host itself). The copy is read-only
   * (the type is non-const only so the forward pass can keep it in a
   * vm_asr_model-shaped table), lives until destroy, and is counted by
   * bytes(). NULL when out of memory (sticky VM_ENOMEM). Call at setup. */
  float *(*weight)(void *ctx, const float *host, size_t n);
  /* VM_OK, or the first failure of any op so far (sticky) with its
   * message in err (may be NULL): VM_ENOMEM for out of memory, VM_EGPU
   * for any other device error (with the runtime's text). Waits for the
   * queued ops to finish first. */
  int (*status)(void *ctx, vm_err *err);
  /* ---- setup ---- */
  /* Makes sure scratch for attention over up to n_q x n_kv scores and a
   * convolution of up to n_cols floats of im2col exists (call at setup;
   * the CPU backend needs only 64 query rows per thread, whatever n_q;
   * CUDA holds the scores of up to 8 heads of one batch item at once).
   * Returns VM_OK or VM_ENOMEM. */
  int (*reserve)(void *ctx, size_t n_q, size_t n_kv, size_t n_cols);
  /* Offers a weight matrix w (n, k) that linear() will later be given
   * (same pointer); the backend may keep a faster copy of it. The CPU
   * backend keeps binary16 when every weight converts exactly (weights
   * read from an f16 file), which halves the bytes a one-token decode
   * step streams; any other matrix is left alone. CUDA keeps nothing
   * (f32 weights throughout). Call at setup; w must stay unchanged while
   * the backend lives. Returns VM_OK or VM_ENOMEM. */
  int (*prepare)(void *ctx, const float *w, int n, int k);
  /* Bytes the backend holds: mem_alloc buffers, scratch, prepared
   * copies and weight copies (none on the CPU, whose weights are the
   * model's). */
  size_t (*bytes)(void *ctx);
  /* ---- ops ---- */
  /* y (m, n) = x (m, k) w(n, k)^T + b (n) (b may be NULL) */
  void (*linear)(void *ctx, int m, int n, int k, const float *x, const float *w,
                 const float *b, float *y);
  /* y (m, n) = LayerNorm over rows of x, eps 1e-5, gain g, bias b; y may
   * be x */
  void (*layernorm)(void *ctx, int m, int n, const float *x, const float *g,
                    const float *b, float *y);
  /* x = GELU(x), the erf form (CPU: erf to 1.5e-7 absolute), n elements */
  void (*gelu)(void *ctx, size_t n, float *x);
  /* y += x, n elements */
  void (*add)(void *ctx, size_t n, float *y, const float *x);
  void (*attention)(void *ctx, const vm_asr_attn_args *a);
  void (*conv1d)(void *ctx, const vm_asr_conv_args *a);
  /* Frees the backend, its scratch and weight copies. The caller frees its
   * mem_alloc buffers first (CUDA frees any it still finds). */
  void (*destroy)(void *ctx);
} vm_asr_backend_i;

/* The CPU backend (asr/cpu/), n_threads >= 1: OpenBLAS sgemm for
 * products with many rows, its own SIMD kernels (AVX2/F16C when the CPU
 * has them, else portable C) for one-token decode steps, attention and
 * element-wise ops, all on its own pool of n_threads threads. OUT: *out
 * (the struct is filled; destroy with out->destroy(out->ctx)). Note:
 * OpenBLAS's thread count is process-wide; this sets it to 1 (the
 * backend splits the work itself), so other OpenBLAS users in the
 * process run single-threaded. */
int vm__asr_backend_cpu_init(int n_threads, vm_asr_backend_i *out);

/* The CUDA backend (asr/cuda/, built with VM_CUDA=ON, or under the host
 * emulation of the CUDA test): cuBLAS f32 products and simple kernels on
 * CUDA device `ordinal`, one stream per backend. OUT: *out. Returns
 * VM_OK, VM_EGPU (no such device, CUDA/cuBLAS failed to start; message
 * in err) or VM_ENOMEM. */
int vm__asr_backend_cuda_init(int ordinal, vm_asr_backend_i *out, vm_err *err);

/* The backend for a device name: "cpu" (or NULL), "cuda" (= "cuda:0") or
 * "cuda:N". OUT: *out. Returns VM_OK, VM_EINVAL (unknown name), VM_EGPU
 * (CUDA not built in, or the device cannot be used; message in err) or
 * VM_ENOMEM. */
int vm__asr_backend_init(const char *device, int n_threads, vm_asr_backend_i *out,
                         vm_err *err);

#endif /* VM_ASR_BACKEND_H */
