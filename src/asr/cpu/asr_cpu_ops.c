/* asr_cpu_ops.c — the CPU reference backend: plain C11 + OpenBLAS.
 *
 * DESIGN: matrix products (linear layers, convolutions via im2col, the
 * attention's Q K^T and P V) go to cblas_sgemm, which OpenBLAS runs on
 * its own threads; the element-wise ops (LayerNorm, GELU, softmax,
 * residual add, im2col) run on our fork-join pool with the same thread
 * count. Attention loops over (batch item, head) and parallelises the
 * softmax rows, so memory for scores is one n_q x n_kv matrix.
 *
 * Numerics: f32 throughout; LayerNorm accumulates mean and variance in
 * double (rows up to 1280 wide, where f32 sums lose ~1e-6 relative);
 * softmax subtracts the row maximum; GELU is the exact erf form, as
 * torch.nn.GELU() in the reference model. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "asr_backend.h"
#include "asr_cpu_pool.h"
#include "vm_alloc.h"
#include "vm_status.h"

typedef struct cpu {
  vm_asr_pool *pool;
  int n_threads;
  float *scores;   /* (n_q, n_kv) attention scratch */
  size_t n_scores;
  float *cols;     /* im2col scratch */
  size_t n_cols;
} cpu;

static int cpu_reserve(void *ctx, size_t n_q, size_t n_kv, size_t n_cols) {
  cpu *c = ctx;
  if (n_q * n_kv > c->n_scores) {
    vm_free(c->scores);
    c->n_scores = 0;
    if (!(c->scores = vm_malloc(n_q * n_kv * sizeof(float)))) return VM_ENOMEM;
    c->n_scores = n_q * n_kv;
  }
  if (n_cols > c->n_cols) {
    vm_free(c->cols);
    c->n_cols = 0;
    if (!(c->cols = vm_malloc(n_cols * sizeof(float)))) return VM_ENOMEM;
    c->n_cols = n_cols;
  }
  return VM_OK;
}

static void cpu_linear(void *ctx, int m, int n, int k, const float *x, const float *w,
                       const float *b, float *y) {
  (void)ctx;
  if (b)
    for (int i = 0; i < m; i++) memcpy(y + (size_t)i * (size_t)n, b, (size_t)n * sizeof(float));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, x, k, w, k,
              b ? 1.0f : 0.0f, y, n);
}

typedef struct ln_job {
  int n;
  const float *x, *g, *b;
  float *y;
} ln_job;

static void ln_rows(void *arg, size_t r0, size_t r1, int ith) {
  const ln_job *j = arg;
  size_t n = (size_t)j->n;
  for (size_t r = r0; r < r1; r++) {
    const float *x = j->x + r * n;
    float *y = j->y + r * n;
    double s = 0.0, ss = 0.0;
    for (size_t i = 0; i < n; i++) s += x[i];
    double mean = s / (double)n;
    for (size_t i = 0; i < n; i++) ss += (x[i] - mean) * (x[i] - mean);
    float inv = (float)(1.0 / sqrt(ss / (double)n + 1e-5));
    float mf = (float)mean;
    for (size_t i = 0; i < n; i++) y[i] = (x[i] - mf) * inv * j->g[i] + j->b[i];
  }
}

static void cpu_layernorm(void *ctx, int m, int n, const float *x, const float *g,
                          const float *b, float *y) {
  cpu *c = ctx;
  ln_job j = {n, x, g, b, y};
  vm__asr_pool_run(c->pool, (size_t)m, 16, ln_rows, &j);
}

typedef struct ew_job {
  float *y;
  const float *x;
} ew_job;

static void gelu_range(void *arg, size_t a, size_t b, int ith) {
  float *x = ((ew_job *)arg)->y;
  for (size_t i = a; i < b; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

static void cpu_gelu(void *ctx, size_t n, float *x) {
  cpu *c = ctx;
  ew_job j = {x, NULL};
  vm__asr_pool_run(c->pool, n, 16384, gelu_range, &j);
}

static void add_range(void *arg, size_t a, size_t b, int ith) {
  ew_job *j = arg;
  for (size_t i = a; i < b; i++) j->y[i] += j->x[i];
}

static void cpu_add(void *ctx, size_t n, float *y, const float *x) {
  cpu *c = ctx;
  ew_job j = {y, x};
  vm__asr_pool_run(c->pool, n, 65536, add_range, &j);
}

typedef struct sm_job {
  float *s;
  int n_kv, causal, q_pos0;
} sm_job;

static void softmax_rows(void *arg, size_t r0, size_t r1, int ith) {
  const sm_job *j = arg;
  for (size_t r = r0; r < r1; r++) {
    float *s = j->s + r * (size_t)j->n_kv;
    int n = j->n_kv;
    if (j->causal) {
      int lim = j->q_pos0 + (int)r + 1;
      if (lim < n) n = lim;
    }
    float mx = -INFINITY, sum = 0.0f;
    for (int i = 0; i < n; i++) mx = fmaxf(mx, s[i]);
    for (int i = 0; i < n; i++) {
      s[i] = expf(s[i] - mx);
      sum += s[i];
    }
    float inv = 1.0f / sum;
    for (int i = 0; i < n; i++) s[i] *= inv;
    for (int i = n; i < j->n_kv; i++) s[i] = 0.0f;
  }
}

static void cpu_attention(void *ctx, const vm_asr_attn_args *a) {
  cpu *c = ctx;
  VM_ASSERT((size_t)a->n_q * (size_t)a->n_kv <= c->n_scores);
  float scale = 1.0f / sqrtf((float)a->d_head);
  sm_job sj = {c->scores, a->n_kv, a->causal, a->q_pos0};
  for (int b = 0; b < a->n_batch; b++)
    for (int h = 0; h < a->n_head; h++) {
      size_t hd = (size_t)h * (size_t)a->d_head;
      const float *q = a->q + (size_t)b * a->q_bstride + hd;
      const float *k = a->k + (size_t)b * a->kv_bstride + hd;
      const float *v = a->v + (size_t)b * a->kv_bstride + hd;
      float *o = a->out + (size_t)b * a->o_bstride + hd;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, a->n_q, a->n_kv, a->d_head,
                  scale, q, (int)a->q_ld, k, (int)a->kv_ld, 0.0f, c->scores, a->n_kv);
      vm__asr_pool_run(c->pool, (size_t)a->n_q, 8, softmax_rows, &sj);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, a->n_q, a->d_head, a->n_kv,
                  1.0f, c->scores, a->n_kv, v, (int)a->kv_ld, 0.0f, o, (int)a->o_ld);
    }
}

static void im2col_rows(void *arg, size_t t0, size_t t1, int ith) {
  const vm_asr_conv_args *a = ((const void **)arg)[0];
  float *cols = ((void **)arg)[1];
  size_t w = (size_t)a->c_in * 3;
  for (size_t t = t0; t < t1; t++) {
    float *row = cols + t * w;
    for (int ci = 0; ci < a->c_in; ci++)
      for (int k = 0; k < 3; k++) {
        long ts = (long)t * a->stride + k - 1;
        row[ci * 3 + k] = (ts < 0 || ts >= a->t_in)
                              ? 0.0f
                              : a->x[(size_t)ci * a->x_cs + (size_t)ts * a->x_ts];
      }
  }
}

static void cpu_conv1d(void *ctx, const vm_asr_conv_args *a) {
  cpu *c = ctx;
  int t_out = (a->t_in - 1) / a->stride + 1;
  VM_ASSERT((size_t)t_out * (size_t)a->c_in * 3 <= c->n_cols);
  const void *arg[2] = {a, c->cols};
  vm__asr_pool_run(c->pool, (size_t)t_out, 32, im2col_rows, (void *)arg);
  cpu_linear(ctx, t_out, a->c_out, a->c_in * 3, c->cols, a->w, a->b, a->y);
}

static void cpu_destroy(void *ctx) {
  cpu *c = ctx;
  if (!c) return;
  vm__asr_pool_destroy(c->pool);
  vm_free(c->scores);
  vm_free(c->cols);
  vm_free(c);
}

int vm__asr_backend_cpu_init(int n_threads, vm_asr_backend_i *out) {
  memset(out, 0, sizeof *out);
  cpu *c = vm_calloc(1, sizeof *c);
  if (!c) return VM_ENOMEM;
  c->n_threads = n_threads < 1 ? 1 : n_threads;
  if (vm__asr_pool_create(c->n_threads, &c->pool) != 0) {
    cpu_destroy(c);
    return VM_ENOMEM;
  }
  openblas_set_num_threads(c->n_threads);
  out->name = "cpu";
  out->ctx = c;
  out->reserve = cpu_reserve;
  out->linear = cpu_linear;
  out->layernorm = cpu_layernorm;
  out->gelu = cpu_gelu;
  out->add = cpu_add;
  out->attention = cpu_attention;
  out->conv1d = cpu_conv1d;
  out->destroy = cpu_destroy;
  return VM_OK;
}
