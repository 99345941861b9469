/* asr_cuda_ops.cu — the CUDA backend's ops: linear layers and products on
 * cuBLAS (f32, default math mode: no TF32), and simple kernels for the
 * rest.
 *
 * DESIGN: correctness and emulability first (asr_cuda_impl.h): every
 * kernel is one thread per output element or per row over a 1-D grid,
 * with no shared memory, so the host emulation runs the same code. A
 * faster version would use warp-per-row reductions for LayerNorm and the
 * softmax, a fused (flash) attention kernel, fused bias+GELU epilogues
 * (cublasLt) and binary16 weights for the decode step (docs/asr-cuda.md).
 *
 * Row-major on column-major cuBLAS: a row-major (r, c) matrix with row
 * stride ld is, to cuBLAS, the column-major (c, r) matrix with the same
 * ld, i.e. its transpose. So row-major Y = X W^T (X (m, k), W (n, k),
 * Y (m, n)) is column-major Y^T = W X^T: sgemm(T, N, n, m, k, W, ld k,
 * X, ld k, Y, ld n). The same reading gives the attention products below.
 *
 * Numerics: f32 storage; cuBLAS accumulates in f32; LayerNorm accumulates
 * mean and variance in double like the CPU reference; the softmax
 * subtracts the row maximum; GELU is the erf form (erff). */
#include <math.h>

#include "asr_cuda_impl.h"

/* Blocks for n threads. */
static unsigned blocks(size_t n) {
  return (unsigned)((n + VM_ASR_CUDA_BLOCK - 1) / VM_ASR_CUDA_BLOCK);
}

/* The thread's global index in a 1-D grid. */
#define GLOBAL_ID() ((size_t)blockIdx.x * (size_t)blockDim.x + (size_t)threadIdx.x)

/* ---- kernels ------------------------------------------------------------ */

/* y (m, n) += b (n) broadcast over rows; one thread per element. */
static __global__ void k_bias_add(size_t n_el, int n, float *y, const float *b) {
  size_t i = GLOBAL_ID();
  if (i >= n_el) return;
  y[i] += b[i % (size_t)n];
}

/* One thread per row: y = (x - mean) / sqrt(var + 1e-5) * g + b; y may be x
 * (each element is read before it is written, by the same thread). */
static __global__ void k_layernorm(int m, int n, const float *x, const float *g, const float *b,
                                   float *y) {
  size_t r = GLOBAL_ID();
  if (r >= (size_t)m) return;
  const float *xr = x + r * (size_t)n;
  float *yr = y + r * (size_t)n;
  double s = 0.0, ss = 0.0;
  for (int i = 0; i < n; i++) s += xr[i];
  double mean = s / (double)n;
  for (int i = 0; i < n; i++) ss += (xr[i] - mean) * (xr[i] - mean);
  float inv = (float)(1.0 / sqrt(ss / (double)n + 1e-5));
  float mf = (float)mean;
  for (int i = 0; i < n; i++) yr[i] = (xr[i] - mf) * inv * g[i] + b[i];
}

static __global__ void k_gelu(size_t n, float *x) {
  size_t i = GLOBAL_ID();
  if (i >= n) return;
  float v = x[i];
  x[i] = 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
}

static __global__ void k_add(size_t n, float *y, const float *x) {
  size_t i = GLOBAL_ID();
  if (i >= n) return;
  y[i] += x[i];
}

/* Softmax in place over rows of s (n_rows = heads x n_q rows of n_kv);
 * row r is query i = r % n_q, which sees keys j < lim (all, or with
 * causal j <= q_pos0 + i); the hidden scores are set to 0. One thread
 * per row. */
static __global__ void k_softmax(float *s, size_t n_rows, int n_q, int n_kv, int causal,
                                 int q_pos0) {
  size_t r = GLOBAL_ID();
  if (r >= n_rows) return;
  int i = (int)(r % (size_t)n_q);
  int lim = n_kv;
  if (causal && q_pos0 + i + 1 < n_kv) lim = q_pos0 + i + 1;
  float *row = s + r * (size_t)n_kv;
  float mx = row[0];
  for (int j = 1; j < lim; j++) mx = fmaxf(mx, row[j]);
  float sum = 0.0f;
  for (int j = 0; j < lim; j++) {
    float e = expf(row[j] - mx);
    row[j] = e;
    sum += e;
  }
  float inv = 1.0f / sum;
  for (int j = 0; j < lim; j++) row[j] *= inv;
  for (int j = lim; j < n_kv; j++) row[j] = 0.0f;
}

/* cols (t_out, c_in * 3): cols[t, c*3 + k] = x(c, t*stride + k - 1), 0
 * outside the input; one thread per element. */
static __global__ void k_im2col(size_t n_el, int c_in, int t_in, int stride, const float *x,
                                size_t x_cs, size_t x_ts, float *cols) {
  size_t i = GLOBAL_ID();
  if (i >= n_el) return;
  size_t w = (size_t)c_in * 3, t = i / w, r = i % w;
  long ts = (long)t * stride + (long)(r % 3) - 1;
  cols[i] = (ts < 0 || ts >= t_in) ? 0.0f : x[(r / 3) * x_cs + (size_t)ts * x_ts];
}

/* ---- ops ---------------------------------------------------------------- */

/* Records a failed launch (the kernel's own faults show at the next
 * synchronisation). */
static void launched(vm_asr_cuda *c, const char *what) {
  vm__asr_cuda_ok(c, cudaGetLastError(), what);
}

void vm__asr_cuda_linear(void *ctx, int m, int n, int k, const float *x, const float *w,
                         const float *b, float *y) {
  vm_asr_cuda *c = (vm_asr_cuda *)ctx;
  const float one = 1.0f, zero = 0.0f;
  if (!vm__asr_cuda_begin(c) || m == 0 || n == 0) return;
  VM_CUDA_DEV(x, (size_t)m * (size_t)k);
  VM_CUDA_DEV(w, (size_t)n * (size_t)k);
  VM_CUDA_DEV(y, (size_t)m * (size_t)n);
  if (!vm__asr_cuda_blas_ok(c, cublasSgemm(c->blas, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &one, w,
                                           k, x, k, &zero, y, n), "cublasSgemm (linear)"))
    return;
  if (b) {
    size_t n_el = (size_t)m * (size_t)n;
    VM_CUDA_DEV(b, n);
    VM_LAUNCH(k_bias_add, blocks(n_el), VM_ASR_CUDA_BLOCK, c->stream, n_el, n, y, b);
    launched(c, "bias kernel");
  }
}

void vm__asr_cuda_layernorm(void *ctx, int m, int n, const float *x, const float *g,
                            const float *b, float *y) {
  vm_asr_cuda *c = (vm_asr_cuda *)ctx;
  if (!vm__asr_cuda_begin(c) || m == 0) return;
  VM_CUDA_DEV(x, (size_t)m * (size_t)n);
  VM_CUDA_DEV(y, (size_t)m * (size_t)n);
  VM_CUDA_DEV(g, n);
  VM_CUDA_DEV(b, n);
  VM_LAUNCH(k_layernorm, blocks((size_t)m), VM_ASR_CUDA_BLOCK, c->stream, m, n, x, g, b, y);
  launched(c, "layernorm kernel");
}

void vm__asr_cuda_gelu(void *ctx, size_t n, float *x) {
  vm_asr_cuda *c = (vm_asr_cuda *)ctx;
  if (!vm__asr_cuda_begin(c) || n == 0) return;
  VM_CUDA_DEV(x, n);
  VM_LAUNCH(k_gelu, blocks(n), VM_ASR_CUDA_BLOCK, c->stream, n, x);
  launched(c, "gelu kernel");
}

void vm__asr_cuda_add(void *ctx, size_t n, float *y, const float *x) {
  vm_asr_cuda *c = (vm_asr_cuda *)ctx;
  if (!vm__asr_cuda_begin(c) || n == 0) return;
  VM_CUDA_DEV(y, n);
  VM_CUDA_DEV(x, n);
  VM_LAUNCH(k_add, blocks(n), VM_ASR_CUDA_BLOCK, c->stream, n, y, x);
  launched(c, "add kernel");
}

/* Attention of heads h0 .. h0+g-1 of one batch item (pointers at the
 * item): three steps on the scores scratch S (g, n_q, n_kv).
 *  1. S_h = scale Q_h K_h^T. Row-major Q_h is (n_q, d) at q + h*d with
 *     row stride q_ld, K_h (n_kv, d) at k + h*d, kv_ld. Column-major
 *     S_h^T (n_kv, n_q) = K_h Q_h^T: sgemm(T, N, n_kv, n_q, d, K_h,
 *     kv_ld, Q_h, q_ld, S_h, n_kv), batched over heads with strides d,
 *     d, n_q*n_kv.
 *  2. softmax over each row of S_h (causal mask).
 *  3. O_h (n_q, d) = P_h V_h. Column-major O_h^T (d, n_q) = V_h^T P_h^T,
 *     where V_h as stored is already V_h^T to cuBLAS: sgemm(N, N, d, n_q,
 *     n_kv, V_h, kv_ld, P_h, n_kv, O_h, o_ld), strides d, n_q*n_kv, d. */
static void attn_heads(vm_asr_cuda *c, const vm_asr_attn_args *a, const float *q,
                       const float *k, const float *v, float *o, int h0, int g) {
  int d = a->d_head, nq = a->n_q, nkv = a->n_kv;
  long long sS = (long long)nq * nkv;
  const float scale = 1.0f / sqrtf((float)d), one = 1.0f, zero = 0.0f;
  size_t off = (size_t)h0 * (size_t)d;
  if (!vm__asr_cuda_blas_ok(
          c, cublasSgemmStridedBatched(c->blas, CUBLAS_OP_T, CUBLAS_OP_N, nkv, nq, d, &scale,
                                       k + off, (int)a->kv_ld, d, q + off, (int)a->q_ld, d,
                                       &zero, c->scores, nkv, sS, g),
          "cublasSgemmStridedBatched (Q K^T)"))
    return;
  size_t n_rows = (size_t)g * (size_t)nq;
  VM_LAUNCH(k_softmax, blocks(n_rows), VM_ASR_CUDA_BLOCK, c->stream, c->scores, n_rows, nq,
            nkv, a->causal, a->q_pos0);
  launched(c, "softmax kernel");
  vm__asr_cuda_blas_ok(
      c, cublasSgemmStridedBatched(c->blas, CUBLAS_OP_N, CUBLAS_OP_N, d, nq, nkv, &one, v + off,
                                   (int)a->kv_ld, d, c->scores, nkv, sS, &zero, o + off,
                                   (int)a->o_ld, d, g),
      "cublasSgemmStridedBatched (P V)");
}

void vm__asr_cuda_attention(void *ctx, const vm_asr_attn_args *a) {
  vm_asr_cuda *c = (vm_asr_cuda *)ctx;
  if (!vm__asr_cuda_begin(c) || a->n_q == 0 || a->n_batch == 0) return;
  size_t per_head = (size_t)a->n_q * (size_t)a->n_kv;
  VM_ASSERT(per_head > 0 && per_head <= c->n_scores); /* reserve() sized it */
  size_t fit = c->n_scores / per_head;
  int G = fit < (size_t)a->n_head ? (int)fit : a->n_head;
  for (int b = 0; b < a->n_batch; b++) {
    const float *q = a->q + (size_t)b * a->q_bstride;
    const float *k = a->k + (size_t)b * a->kv_bstride;
    const float *v = a->v + (size_t)b * a->kv_bstride;
    float *o = a->out + (size_t)b * a->o_bstride;
    size_t w = (size_t)a->n_head * (size_t)a->d_head;
    VM_CUDA_DEV(q, (size_t)(a->n_q - 1) * a->q_ld + w);
    VM_CUDA_DEV(k, (size_t)(a->n_kv - 1) * a->kv_ld + w);
    VM_CUDA_DEV(v, (size_t)(a->n_kv - 1) * a->kv_ld + w);
    VM_CUDA_DEV(o, (size_t)(a->n_q - 1) * a->o_ld + w);
    for (int h0 = 0; h0 < a->n_head; h0 += G)
      attn_heads(c, a, q, k, v, o, h0, a->n_head - h0 < G ? a->n_head - h0 : G);
  }
}

void vm__asr_cuda_conv1d(void *ctx, const vm_asr_conv_args *a) {
  vm_asr_cuda *c = (vm_asr_cuda *)ctx;
  if (!vm__asr_cuda_begin(c)) return;
  int t_out = (a->t_in - 1) / a->stride + 1;
  size_t n_el = (size_t)t_out * (size_t)a->c_in * 3;
  VM_ASSERT(n_el <= c->n_cols); /* reserve() sized it */
  VM_CUDA_DEV(a->x, (size_t)(a->c_in - 1) * a->x_cs + (size_t)(a->t_in - 1) * a->x_ts + 1);
  VM_LAUNCH(k_im2col, blocks(n_el), VM_ASR_CUDA_BLOCK, c->stream, n_el, a->c_in, a->t_in,
            a->stride, a->x, a->x_cs, a->x_ts, c->cols);
  launched(c, "im2col kernel");
  vm__asr_cuda_linear(ctx, t_out, a->c_out, a->c_in * 3, c->cols, a->w, a->b, a->y);
}
