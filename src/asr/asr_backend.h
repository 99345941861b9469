/* asr_backend.h — the hot operations of the Whisper forward pass behind
 * one interface (internal to asr/), so that a GPU backend can sit beside
 * the CPU reference (STYLE §4.6).
 *
 * DESIGN: a backend is a struct of function pointers plus its ctx, as in
 * ggml's backend interface. The forward pass (asr_forward.c) is written
 * once against it. Pointers passed to the ops are backend memory (host
 * memory for the CPU backend); all tensors are f32, row-major, with the
 * shapes given beside each op. Ops are synchronous. A backend is used by
 * one thread at a time (it owns scratch and worker threads).
 *
 * Only asr_backend.c knows which backends exist.
 */
#ifndef VM_ASR_BACKEND_H
#define VM_ASR_BACKEND_H

#include <stddef.h>

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
  /* Makes sure scratch for attention over up to n_q x n_kv scores and a
   * convolution of up to n_cols floats of im2col exists (call at setup;
   * the CPU backend needs only 64 query rows per thread, whatever n_q).
   * Returns VM_OK or VM_ENOMEM. */
  int (*reserve)(void *ctx, size_t n_q, size_t n_kv, size_t n_cols);
  /* Offers a weight matrix w (n, k) that linear() will later be given
   * (same pointer); the backend may keep a faster copy of it. The CPU
   * backend keeps binary16 when every weight converts exactly (weights
   * read from an f16 file), which halves the bytes a one-token decode
   * step streams; any other matrix is left alone. Call at setup; w must
   * stay unchanged while the backend lives. Returns VM_OK or VM_ENOMEM. */
  int (*prepare)(void *ctx, const float *w, int n, int k);
  /* Bytes of scratch and prepared copies the backend holds. */
  size_t (*bytes)(void *ctx);
  /* y (m, n) = x (m, k) w(n, k)^T + b (n) (b may be NULL) */
  void (*linear)(void *ctx, int m, int n, int k, const float *x, const float *w,
                 const float *b, float *y);
  /* y (m, n) = LayerNorm over rows of x, eps 1e-5, gain g, bias b */
  void (*layernorm)(void *ctx, int m, int n, const float *x, const float *g,
                    const float *b, float *y);
  /* x = GELU(x), the erf form (CPU: erf to 1.5e-7 absolute), n elements */
  void (*gelu)(void *ctx, size_t n, float *x);
  /* y += x, n elements */
  void (*add)(void *ctx, size_t n, float *y, const float *x);
  void (*attention)(void *ctx, const vm_asr_attn_args *a);
  void (*conv1d)(void *ctx, const vm_asr_conv_args *a);
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

/* The backend for a device name ("cpu"); VM_EINVAL for unknown names. */
int vm__asr_backend_init(const char *device, int n_threads, vm_asr_backend_i *out);

#endif /* VM_ASR_BACKEND_H */
