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
 * Launch count: a decode step is bound by the host's launch rate, not the
 * GPU (measured on an H100: docs/asr-cuda.md), so attention with a few
 * query rows per item (decode steps) runs all batch items and heads in
 * three kernels (scores, softmax, mix), and the KV cache append or a beam
 * reorder is one kernel (copy_items); per-item offsets travel by value in
 * an item_offs (up to VM_ASR_CUDA_ITEMS items per launch). Attention with
 * many query rows (the encoder) stays on cuBLAS, a few heads at a time.
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

/* Row reductions in two passes, for rows too long to leave to one thread:
 * pass 1 is one thread per (row, segment of VM_ASR_CUDA_SEG elements),
 * pass 2 one thread per element, which merges its row's few partials. */

/* LayerNorm pass 1: part[2t], part[2t+1] = sum and sum of squares (double)
 * of segment t % n_seg of row t / n_seg. */
static __global__ void k_ln_part(size_t n_el, int n, int n_seg, const float *x, double *part) {
  size_t t = GLOBAL_ID();
  if (t >= n_el) return;
  size_t r = t / (size_t)n_seg;
  int i0 = (int)(t % (size_t)n_seg) * VM_ASR_CUDA_SEG;
  int i1 = i0 + VM_ASR_CUDA_SEG < n ? i0 + VM_ASR_CUDA_SEG : n;
  const float *xr = x + r * (size_t)n;
  double s = 0.0, ss = 0.0;
  for (int i = i0; i < i1; i++) {
    double v = xr[i];
    s += v;
    ss += v * v;
  }
  part[2 * t] = s;
  part[2 * t + 1] = ss;
}

/* LayerNorm pass 2: y = (x - mean) / sqrt(var + 1e-5) * g + b, mean and
 * variance from the row's partials (var = E[x^2] - mean^2 in double); y
 * may be x. */
static __global__ void k_ln_apply(size_t n_el, int n, int n_seg, const double *part,
                                  const float *x, const float *g, const float *b, float *y) {
  size_t t = GLOBAL_ID();
  if (t >= n_el) return;
  size_t r = t / (size_t)n;
  int i = (int)(t % (size_t)n);
  const double *pr = part + 2 * r * (size_t)n_seg;
  double s = 0.0, ss = 0.0;
  for (int k = 0; k < n_seg; k++) {
    s += pr[2 * k];
    ss += pr[2 * k + 1];
  }
  double mean = s / (double)n, var = ss / (double)n - mean * mean;
  float inv = (float)(1.0 / sqrt((var > 0.0 ? var : 0.0) + 1e-5));
  y[t] = (x[t] - (float)mean) * inv * g[i] + b[i];
}

/* Keys visible to query row r % n_q (as k_softmax). */
static __device__ int sm_lim(size_t r, int n_q, int n_kv, int causal, int q_pos0) {
  int i = (int)(r % (size_t)n_q);
  return causal && q_pos0 + i + 1 < n_kv ? q_pos0 + i + 1 : n_kv;
}

/* Softmax pass 1: part[2t] = the maximum of segment t % n_seg of score
 * row t / n_seg (visible keys only), part[2t+1] = the sum of exp(s - max)
 * over it (0 for a segment with no visible key). */
static __global__ void k_sm_part(size_t n_el, int n_seg, const float *s, int n_q, int n_kv,
                                 int causal, int q_pos0, float *part) {
  size_t t = GLOBAL_ID();
  if (t >= n_el) return;
  size_t r = t / (size_t)n_seg;
  int lim = sm_lim(r, n_q, n_kv, causal, q_pos0);
  int j0 = (int)(t % (size_t)n_seg) * VM_ASR_CUDA_SEG;
  int j1 = j0 + VM_ASR_CUDA_SEG < lim ? j0 + VM_ASR_CUDA_SEG : lim;
  const float *row = s + r * (size_t)n_kv;
  float mx = j0 < j1 ? row[j0] : 0.0f, z = 0.0f;
  for (int j = j0 + 1; j < j1; j++) mx = fmaxf(mx, row[j]);
  for (int j = j0; j < j1; j++) z += expf(row[j] - mx);
  part[2 * t] = mx;
  part[2 * t + 1] = z;
}

/* Softmax pass 2, in place: s = exp(s - M) / Z with M, Z merged from the
 * row's partials; hidden keys 0. */
static __global__ void k_sm_apply(size_t n_el, int n_seg, float *s, int n_q, int n_kv,
                                  int causal, int q_pos0, const float *part) {
  size_t t = GLOBAL_ID();
  if (t >= n_el) return;
  size_t r = t / (size_t)n_kv;
  int j = (int)(t % (size_t)n_kv);
  if (j >= sm_lim(r, n_q, n_kv, causal, q_pos0)) {
    s[t] = 0.0f;
    return;
  }
  const float *pr = part + 2 * r * (size_t)n_seg;
  float M = pr[0], Z = 0.0f; /* segment 0 always has a visible key */
  for (int k = 1; k < n_seg; k++)
    if (pr[2 * k + 1] > 0.0f) M = fmaxf(M, pr[2 * k]);
  for (int k = 0; k < n_seg; k++)
    if (pr[2 * k + 1] > 0.0f) Z += pr[2 * k + 1] * expf(pr[2 * k] - M);
  s[t] = expf(s[t] - M) / Z;
}

/* Float offsets of up to VM_ASR_CUDA_ITEMS batch items, by value. */
typedef struct item_offs {
  size_t at[VM_ASR_CUDA_ITEMS];
} item_offs;

/* Block i (< n, len floats) from src + so.at[i] to dst + dof.at[i]; one
 * thread per element. */
static __global__ void k_copy_items(size_t n_el, size_t len, float *dst, item_offs dof,
                                    const float *src, item_offs so) {
  size_t t = GLOBAL_ID();
  if (t >= n_el) return;
  size_t i = t / len, e = t % len;
  dst[dof.at[i] + e] = src[so.at[i] + e];
}

/* Shape of a direct attention launch: n items of H heads, n_q query rows
 * and n_kv keys each; row r = (item * H + head) * n_q + i of the scores. */
typedef struct attn_shape {
  int H, d, n_q, n_kv, causal, q_pos0;
  size_t q_ld, q_bs, kv_ld, o_ld, o_bs;
} attn_shape;

/* Keys visible to query row i. */
static __device__ int attn_lim(const attn_shape *g, int i) {
  if (g->causal && g->q_pos0 + i + 1 < g->n_kv) return g->q_pos0 + i + 1;
  return g->n_kv;
}

/* S[r, j] = scale q_r . k_j over the head's d columns (0 for a hidden
 * key: the softmax clears it anyway); one thread per score. */
static __global__ void k_attn_scores(size_t n_el, attn_shape g, float scale, const float *q,
                                     const float *k, item_offs kv, float *S) {
  size_t t = GLOBAL_ID();
  if (t >= n_el) return;
  size_t j = t % (size_t)g.n_kv, r = t / (size_t)g.n_kv;
  int i = (int)(r % (size_t)g.n_q), h = (int)(r / (size_t)g.n_q % (size_t)g.H);
  size_t b = r / ((size_t)g.n_q * (size_t)g.H), hd = (size_t)h * (size_t)g.d;
  if ((int)j >= attn_lim(&g, i)) {
    S[t] = 0.0f;
    return;
  }
  const float *qr = q + b * g.q_bs + (size_t)i * g.q_ld + hd;
  const float *kr = k + kv.at[b] + j * g.kv_ld + hd;
  float acc = 0.0f;
  for (int e = 0; e < g.d; e++) acc += qr[e] * kr[e];
  S[t] = acc * scale;
}

/* out[r, e] = sum_j P[r, j] v_j[e] over the visible keys; one thread per
 * output element (neighbouring threads read neighbouring v columns). */
static __global__ void k_attn_mix(size_t n_el, attn_shape g, const float *P, const float *v,
                                  item_offs kv, float *out) {
  size_t t = GLOBAL_ID();
  if (t >= n_el) return;
  size_t e = t % (size_t)g.d, r = t / (size_t)g.d;
  int i = (int)(r % (size_t)g.n_q), h = (int)(r / (size_t)g.n_q % (size_t)g.H);
  size_t b = r / ((size_t)g.n_q * (size_t)g.H), hd = (size_t)h * (size_t)g.d;
  const float *pr = P + r * (size_t)g.n_kv, *vc = v + kv.at[b] + hd + e;
  int lim = attn_lim(&g, i);
  float acc = 0.0f;
  for (int j = 0; j < lim; j++) acc += pr[j] * vc[(size_t)j * g.kv_ld];
  out[b * g.o_bs + (size_t)i * g.o_ld + hd + e] = acc;
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
  size_t n_seg = ((size_t)n + VM_ASR_CUDA_SEG - 1) / VM_ASR_CUDA_SEG;
  size_t n_parts = (size_t)m * n_seg; /* partials of 2 doubles = 4 floats each */
  if (4 * n_parts > c->n_part) { /* more rows than the partial scratch holds */
    VM_LAUNCH(k_layernorm, blocks((size_t)m), VM_ASR_CUDA_BLOCK, c->stream, m, n, x, g, b, y);
    launched(c, "layernorm kernel");
    return;
  }
  double *part = (double *)(void *)c->part;
  size_t n_el = (size_t)m * (size_t)n;
  VM_LAUNCH(k_ln_part, blocks(n_parts), VM_ASR_CUDA_BLOCK, c->stream, n_parts, n, (int)n_seg, x,
            part);
  launched(c, "layernorm kernel");
  VM_LAUNCH(k_ln_apply, blocks(n_el), VM_ASR_CUDA_BLOCK, c->stream, n_el, n, (int)n_seg, part,
            x, g, b, y);
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

/* Softmax over n_rows rows of the scores scratch (k_softmax's layout):
 * the two-pass kernels when the partials fit their scratch, else one
 * thread per row. */
static void softmax_rows(vm_asr_cuda *c, size_t n_rows, int n_q, int n_kv, int causal,
                         int q_pos0) {
  size_t n_seg = ((size_t)n_kv + VM_ASR_CUDA_SEG - 1) / VM_ASR_CUDA_SEG;
  size_t n_parts = n_rows * n_seg, n_el = n_rows * (size_t)n_kv;
  if (2 * n_parts > c->n_part) {
    VM_LAUNCH(k_softmax, blocks(n_rows), VM_ASR_CUDA_BLOCK, c->stream, c->scores, n_rows, n_q,
              n_kv, causal, q_pos0);
    launched(c, "softmax kernel");
    return;
  }
  VM_LAUNCH(k_sm_part, blocks(n_parts), VM_ASR_CUDA_BLOCK, c->stream, n_parts, (int)n_seg,
            c->scores, n_q, n_kv, causal, q_pos0, c->part);
  launched(c, "softmax kernel");
  VM_LAUNCH(k_sm_apply, blocks(n_el), VM_ASR_CUDA_BLOCK, c->stream, n_el, (int)n_seg,
            c->scores, n_q, n_kv, causal, q_pos0, c->part);
  launched(c, "softmax kernel");
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
  softmax_rows(c, n_rows, nq, nkv, a->causal, a->q_pos0);
  vm__asr_cuda_blas_ok(
      c, cublasSgemmStridedBatched(c->blas, CUBLAS_OP_N, CUBLAS_OP_N, d, nq, nkv, &one, v + off,
                                   (int)a->kv_ld, d, c->scores, nkv, sS, &zero, o + off,
                                   (int)a->o_ld, d, g),
      "cublasSgemmStridedBatched (P V)");
}

/* Attention of items b0 .. b0+n-1 in the three direct kernels (few query
 * rows per item; n <= VM_ASR_CUDA_ITEMS, scores fit the scratch). */
static void attn_direct(vm_asr_cuda *c, const vm_asr_attn_args *a, int b0, int n) {
  attn_shape g = {a->n_head, a->d_head, a->n_q, a->n_kv, a->causal, a->q_pos0,
                  a->q_ld,   a->q_bstride, a->kv_ld, a->o_ld, a->o_bstride};
  item_offs kv;
  size_t w = (size_t)a->n_head * (size_t)a->d_head;
  for (int i = 0; i < n; i++) {
    int b = b0 + i, item = a->kv_item ? a->kv_item[b] : b;
    kv.at[i] = (size_t)item * a->kv_bstride;
    VM_CUDA_DEV(a->q + (size_t)b * a->q_bstride, (size_t)(a->n_q - 1) * a->q_ld + w);
    VM_CUDA_DEV(a->out + (size_t)b * a->o_bstride, (size_t)(a->n_q - 1) * a->o_ld + w);
    VM_CUDA_DEV(a->k + kv.at[i], (size_t)(a->n_kv - 1) * a->kv_ld + w);
    VM_CUDA_DEV(a->v + kv.at[i], (size_t)(a->n_kv - 1) * a->kv_ld + w);
  }
  const float *q = a->q + (size_t)b0 * a->q_bstride;
  float *o = a->out + (size_t)b0 * a->o_bstride;
  size_t rows = (size_t)n * (size_t)a->n_head * (size_t)a->n_q;
  size_t n_s = rows * (size_t)a->n_kv, n_o = rows * (size_t)a->d_head;
  VM_LAUNCH(k_attn_scores, blocks(n_s), VM_ASR_CUDA_BLOCK, c->stream, n_s, g,
            1.0f / sqrtf((float)a->d_head), q, a->k, kv, c->scores);
  launched(c, "attention scores kernel");
  softmax_rows(c, rows, a->n_q, a->n_kv, a->causal, a->q_pos0);
  VM_LAUNCH(k_attn_mix, blocks(n_o), VM_ASR_CUDA_BLOCK, c->stream, n_o, g, c->scores, a->v,
            kv, o);
  launched(c, "attention mix kernel");
}

void vm__asr_cuda_attention(void *ctx, const vm_asr_attn_args *a) {
  vm_asr_cuda *c = (vm_asr_cuda *)ctx;
  if (!vm__asr_cuda_begin(c) || a->n_q == 0 || a->n_batch == 0) return;
  size_t per_head = (size_t)a->n_q * (size_t)a->n_kv;
  VM_ASSERT(per_head > 0 && per_head <= c->n_scores); /* reserve() sized it */
  size_t per_item = per_head * (size_t)a->n_head, fit_items = c->n_scores / per_item;
  if (!c->simple && a->n_q <= VM_ASR_CUDA_DIRECT_Q && fit_items > 0) {
    int step = fit_items < VM_ASR_CUDA_ITEMS ? (int)fit_items : VM_ASR_CUDA_ITEMS;
    for (int b0 = 0; b0 < a->n_batch; b0 += step)
      attn_direct(c, a, b0, a->n_batch - b0 < step ? a->n_batch - b0 : step);
    return;
  }
  size_t fit = c->n_scores / per_head;
  int G = fit < (size_t)a->n_head ? (int)fit : a->n_head;
  for (int b = 0; b < a->n_batch; b++) {
    size_t item = a->kv_item ? (size_t)a->kv_item[b] : (size_t)b;
    const float *q = a->q + (size_t)b * a->q_bstride;
    const float *k = a->k + item * a->kv_bstride;
    const float *v = a->v + item * a->kv_bstride;
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

void vm__asr_cuda_copy_items(void *ctx, int n, float *dst, const int *dst_item,
                             size_t dst_stride, const float *src, const int *src_item,
                             size_t src_stride, size_t len) {
  vm_asr_cuda *c = (vm_asr_cuda *)ctx;
  if (!vm__asr_cuda_begin(c) || n <= 0 || len == 0) return;
  for (int i0 = 0; i0 < n; i0 += VM_ASR_CUDA_ITEMS) {
    int m = n - i0 < VM_ASR_CUDA_ITEMS ? n - i0 : VM_ASR_CUDA_ITEMS;
    item_offs dof, so;
    for (int i = 0; i < m; i++) {
      dof.at[i] = (size_t)(dst_item ? dst_item[i0 + i] : i0 + i) * dst_stride;
      so.at[i] = (size_t)(src_item ? src_item[i0 + i] : i0 + i) * src_stride;
      VM_CUDA_DEV(dst + dof.at[i], len);
      VM_CUDA_DEV(src + so.at[i], len);
    }
    size_t n_el = (size_t)m * len;
    VM_LAUNCH(k_copy_items, blocks(n_el), VM_ASR_CUDA_BLOCK, c->stream, n_el, len, dst, dof,
              src, so);
    launched(c, "copy kernel");
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
