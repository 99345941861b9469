/* asr_cpu_ops.c — the CPU backend: setup, linear layers, convolution and
 * the element-wise ops (attention is in asr_cpu_attn.c).
 *
 * DESIGN: every op runs on the backend's own fork-join pool; OpenBLAS is
 * set to one thread and called from each pool thread on its own slice, so
 * there is one set of threads and none of OpenBLAS's spinning threads
 * competing with ours between calls.
 *  - linear, many rows (encoder, prompts, conv via im2col): sgemm, the
 *    output columns (weight rows) split between threads.
 *  - linear, at most MATVEC_MAX_ROWS rows (decode steps, beams): our
 *    matrix-vector kernel, weight rows split between threads, each weight
 *    read once per 8 input rows. This path is memory-bound, so it reads
 *    the binary16 copy of the weight when prepare() made one (exact: only
 *    matrices whose every value is a binary16 number are copied; the
 *    environment variable VM_ASR_NO_F16=1 turns the copies off, to
 *    measure the difference).
 *  - LayerNorm, GELU, add: rows or ranges split between threads.
 * The kernels (asr_cpu_kernels.h) are the AVX2/F16C ones when the CPU has
 * them, else the portable ones.
 *
 * Numerics: f32 throughout with f32 accumulation in the products;
 * LayerNorm accumulates mean and variance in double (rows up to 1280
 * wide, where f32 sums lose ~1e-6 relative); GELU is the erf form, as
 * torch.nn.GELU() in the reference model (error bound in the kernels
 * header). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "asr_cpu_impl.h"
#include "vm_alloc.h"
#include "vm_status.h"

/* Largest row count that takes the matrix-vector path (one pass over the
 * weights: a decode step of up to 8 beams or chunks). */
#define MATVEC_MAX_ROWS 8

static int cpu_reserve(void *ctx, size_t n_q, size_t n_kv, size_t n_cols) {
  vm_asr_cpu *c = ctx;
  (void)n_q;
  if (n_kv > c->n_kv_max) {
    size_t n = (size_t)c->n_threads * VM_ASR_ATTN_QBLK * n_kv;
    vm_free(c->scores);
    c->n_bytes -= c->n_kv_max * (size_t)c->n_threads * VM_ASR_ATTN_QBLK * sizeof(float);
    c->n_kv_max = 0;
    if (!(c->scores = vm_malloc(n * sizeof(float)))) return VM_ENOMEM;
    c->n_kv_max = n_kv;
    c->n_bytes += n * sizeof(float);
  }
  if (n_cols > c->n_cols) {
    vm_free(c->cols);
    c->n_bytes -= c->n_cols * sizeof(float);
    c->n_cols = 0;
    if (!(c->cols = vm_malloc(n_cols * sizeof(float)))) return VM_ENOMEM;
    c->n_cols = n_cols;
    c->n_bytes += n_cols * sizeof(float);
  }
  return VM_OK;
}

/* ---- prepared (binary16) weights ---------------------------------------- */

static size_t pack_slot(const vm_asr_cpu *c, const float *w) {
  uint64_t hsh = ((uint64_t)(uintptr_t)w >> 4) * 0x9E3779B97F4A7C15ull;
  size_t i = (size_t)(hsh >> 32) & (c->n_pack_cap - 1);
  while (c->packs[i].w && c->packs[i].w != w) i = (i + 1) & (c->n_pack_cap - 1);
  return i;
}

static const uint16_t *pack_find(const vm_asr_cpu *c, const float *w) {
  if (c->n_packs == 0) return NULL;
  return c->packs[pack_slot(c, w)].h;
}

static int pack_grow(vm_asr_cpu *c) {
  size_t cap = c->n_pack_cap ? 2 * c->n_pack_cap : 64;
  vm_asr_cpu_pack *old = c->packs, *nw = vm_calloc(cap, sizeof *nw);
  size_t old_cap = c->n_pack_cap;
  if (!nw) return VM_ENOMEM;
  c->packs = nw;
  c->n_pack_cap = cap;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].w) c->packs[pack_slot(c, old[i].w)] = old[i];
  vm_free(old);
  return VM_OK;
}

typedef struct pack_job {
  const vm_asr_kern *k;
  const float *w;
  uint16_t *h;
  size_t n;        /* values */
  int inexact[64]; /* per thread */
} pack_job;

enum { PACK_CHUNK = 4096 };

/* Converts chunks [i0, i1) and checks that each value survives the round
 * trip f32 -> f16 -> f32 unchanged. */
static void pack_range(void *arg, size_t i0, size_t i1, int ith) {
  pack_job *j = arg;
  float back[PACK_CHUNK];
  for (size_t i = i0; i < i1 && !j->inexact[ith]; i++) {
    const float *w = j->w + i * PACK_CHUNK;
    uint16_t *h = j->h + i * PACK_CHUNK;
    size_t n = j->n - i * PACK_CHUNK < PACK_CHUNK ? j->n - i * PACK_CHUNK : PACK_CHUNK;
    j->k->f32_to_f16(n, w, h);
    j->k->f16_to_f32(n, h, back);
    for (size_t t = 0; t < n; t++)
      if (back[t] != w[t]) j->inexact[ith] = 1;
  }
}

static int cpu_prepare(void *ctx, const float *w, int n, int k) {
  vm_asr_cpu *c = ctx;
  size_t cnt = (size_t)n * (size_t)k;
  if (pack_find(c, w) || cnt == 0 || c->n_threads > 64 || c->no_f16) return VM_OK;
  if ((c->n_packs + 1) * 2 > c->n_pack_cap && pack_grow(c) != 0) return VM_ENOMEM;
  pack_job j;
  memset(&j, 0, sizeof j);
  j.k = c->k;
  j.w = w;
  j.n = cnt;
  if (!(j.h = vm_malloc(cnt * sizeof(uint16_t)))) return VM_ENOMEM;
  vm__asr_pool_run(c->pool, (cnt + PACK_CHUNK - 1) / PACK_CHUNK, 16, pack_range, &j);
  for (int t = 0; t < c->n_threads; t++)
    if (j.inexact[t]) {
      vm_free(j.h); /* not an f16 matrix: linear() keeps using f32 */
      return VM_OK;
    }
  size_t i = pack_slot(c, w);
  c->packs[i].w = w;
  c->packs[i].h = j.h;
  c->n_packs++;
  c->n_bytes += cnt * sizeof(uint16_t);
  return VM_OK;
}

static size_t cpu_bytes(void *ctx) { return ((vm_asr_cpu *)ctx)->n_bytes; }

/* ---- linear ------------------------------------------------------------- */

typedef struct lin_job {
  const vm_asr_kern *k;
  int m, n, kd;
  const float *x, *w, *b;
  const uint16_t *h; /* binary16 copy of w, or NULL */
  float *y;
} lin_job;

static void lin_matvec(void *arg, size_t j0, size_t j1, int ith) {
  const lin_job *j = arg;
  size_t K = (size_t)j->kd, N = (size_t)j->n;
  for (int r = 0; r < j->m; r += VM_ASR_MATVEC_ROWS) {
    int mr = j->m - r < VM_ASR_MATVEC_ROWS ? j->m - r : VM_ASR_MATVEC_ROWS;
    const float *x = j->x + (size_t)r * K;
    float *y = j->y + (size_t)r * N;
    if (j->h)
      j->k->matvec_f16(mr, j->kd, x, K, j->h, K, j->b, y, N, j0, j1);
    else
      j->k->matvec_f32(mr, j->kd, x, K, j->w, K, j->b, y, N, j0, j1);
  }
}

static void lin_gemm(void *arg, size_t j0, size_t j1, int ith) {
  const lin_job *j = arg;
  size_t K = (size_t)j->kd, N = (size_t)j->n, nc = j1 - j0;
  if (j->b)
    for (int i = 0; i < j->m; i++) memcpy(j->y + (size_t)i * N + j0, j->b + j0, nc * sizeof(float));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->m, (int)nc, j->kd, 1.0f, j->x,
              (int)K, j->w + j0 * K, (int)K, j->b ? 1.0f : 0.0f, j->y + j0, (int)N);
}

static void cpu_linear(void *ctx, int m, int n, int k, const float *x, const float *w,
                       const float *b, float *y) {
  vm_asr_cpu *c = ctx;
  lin_job j = {c->k, m, n, k, x, w, b, NULL, y};
  if (m <= MATVEC_MAX_ROWS) {
    j.h = pack_find(c, w);
    vm__asr_pool_run(c->pool, (size_t)n, 32, lin_matvec, &j);
  } else {
    vm__asr_pool_run(c->pool, (size_t)n, 64, lin_gemm, &j);
  }
}

/* ---- element-wise ------------------------------------------------------- */

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
  vm_asr_cpu *c = ctx;
  ln_job j = {n, x, g, b, y};
  vm__asr_pool_run(c->pool, (size_t)m, 16, ln_rows, &j);
}

typedef struct ew_job {
  const vm_asr_kern *k;
  float *y;
  const float *x;
} ew_job;

static void gelu_range(void *arg, size_t a, size_t b, int ith) {
  const ew_job *j = arg;
  j->k->gelu(b - a, j->y + a);
}

static void cpu_gelu(void *ctx, size_t n, float *x) {
  vm_asr_cpu *c = ctx;
  ew_job j = {c->k, x, NULL};
  vm__asr_pool_run(c->pool, n, 8192, gelu_range, &j);
}

static void add_range(void *arg, size_t a, size_t b, int ith) {
  const ew_job *j = arg;
  for (size_t i = a; i < b; i++) j->y[i] += j->x[i];
}

static void cpu_add(void *ctx, size_t n, float *y, const float *x) {
  vm_asr_cpu *c = ctx;
  ew_job j = {c->k, y, x};
  vm__asr_pool_run(c->pool, n, 65536, add_range, &j);
}

/* ---- convolution -------------------------------------------------------- */

typedef struct im2col_job {
  const vm_asr_conv_args *a;
  float *cols; /* (t_out, c_in * 3) */
} im2col_job;

static void im2col_rows(void *arg, size_t t0, size_t t1, int ith) {
  const im2col_job *j = arg;
  const vm_asr_conv_args *a = j->a;
  size_t w = (size_t)a->c_in * 3;
  for (size_t t = t0; t < t1; t++) {
    float *row = j->cols + t * w;
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
  vm_asr_cpu *c = ctx;
  int t_out = (a->t_in - 1) / a->stride + 1;
  VM_ASSERT((size_t)t_out * (size_t)a->c_in * 3 <= c->n_cols);
  im2col_job j = {a, c->cols};
  vm__asr_pool_run(c->pool, (size_t)t_out, 32, im2col_rows, &j);
  cpu_linear(ctx, t_out, a->c_out, a->c_in * 3, c->cols, a->w, a->b, a->y);
}

/* ---- memory: plain host memory ------------------------------------------
 * Each buffer carries its size in a header in front of it, so mem_free can
 * keep bytes() exact; 64 bytes keep the caller's pointer as aligned as
 * vm_malloc's. */

#define MEM_HDR 64

static float *cpu_mem_alloc(void *ctx, size_t n) {
  vm_asr_cpu *c = ctx;
  if (n > ((size_t)-1 - MEM_HDR) / sizeof(float)) return NULL;
  unsigned char *p = vm_malloc(MEM_HDR + n * sizeof(float));
  if (!p) return NULL;
  memcpy(p, &n, sizeof n);
  c->n_bytes += n * sizeof(float);
  return (float *)(void *)(p + MEM_HDR);
}

static void cpu_mem_free(void *ctx, float *p) {
  vm_asr_cpu *c = ctx;
  if (!p) return;
  unsigned char *h = (unsigned char *)p - MEM_HDR;
  size_t n;
  memcpy(&n, h, sizeof n);
  c->n_bytes -= n * sizeof(float);
  vm_free(h);
}

static void cpu_copy(void *ctx, float *dst, const float *src, size_t n) {
  (void)ctx;
  memcpy(dst, src, n * sizeof(float));
}

static void cpu_copy_items(void *ctx, int n, float *dst, const int *dst_item, size_t dst_stride,
                           const float *src, const int *src_item, size_t src_stride,
                           size_t len) {
  (void)ctx;
  for (int i = 0; i < n; i++)
    memcpy(dst + (size_t)(dst_item ? dst_item[i] : i) * dst_stride,
           src + (size_t)(src_item ? src_item[i] : i) * src_stride, len * sizeof(float));
}

static float *cpu_weight(void *ctx, const float *host, size_t n) {
  (void)ctx;
  (void)n;
  return (float *)(uintptr_t)host; /* read-only by contract (asr_backend.h) */
}

static int cpu_status(void *ctx, vm_err *err) {
  (void)ctx;
  (void)err;
  return VM_OK;
}

/* ---- lifecycle ---------------------------------------------------------- */

static void cpu_destroy(void *ctx) {
  vm_asr_cpu *c = ctx;
  if (!c) return;
  vm__asr_pool_destroy(c->pool);
  for (size_t i = 0; i < c->n_pack_cap; i++) vm_free(c->packs[i].h);
  vm_free(c->packs);
  vm_free(c->scores);
  vm_free(c->cols);
  vm_free(c);
}

int vm__asr_backend_cpu_init(int n_threads, vm_asr_backend_i *out) {
  memset(out, 0, sizeof *out);
  vm_asr_cpu *c = vm_calloc(1, sizeof *c);
  if (!c) return VM_ENOMEM;
  c->n_threads = n_threads < 1 ? 1 : n_threads;
  c->k = vm__asr_kern_get(VM_ASR_KERN_BEST);
  const char *nf = getenv("VM_ASR_NO_F16");
  c->no_f16 = nf && strcmp(nf, "1") == 0;
  if (vm__asr_pool_create(c->n_threads, &c->pool) != 0) {
    cpu_destroy(c);
    return VM_ENOMEM;
  }
  openblas_set_num_threads(1);
  out->name = "cpu";
  out->ctx = c;
  out->host_mem = 1;
  out->pool = c->pool;
  out->mem_alloc = cpu_mem_alloc;
  out->mem_free = cpu_mem_free;
  out->upload = cpu_copy;
  out->download = cpu_copy;
  out->copy_items = cpu_copy_items;
  out->weight = cpu_weight;
  out->status = cpu_status;
  out->reserve = cpu_reserve;
  out->prepare = cpu_prepare;
  out->bytes = cpu_bytes;
  out->linear = cpu_linear;
  out->layernorm = cpu_layernorm;
  out->gelu = cpu_gelu;
  out->add = cpu_add;
  out->attention = vm__asr_cpu_attention;
  out->conv1d = cpu_conv1d;
  out->destroy = cpu_destroy;
  return VM_OK;
}
