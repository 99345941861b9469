/* test_asr_kernels.c — the CPU backend's kernels, pool and ops against
 * plain reference loops (double precision), for both the portable and the
 * AVX2/F16C kernel tables (the AVX2 cases skip on CPUs without them).
 *
 * Tolerances (see asr_cpu_kernels.h for why they hold):
 *   matvec, dot, linear: |err| <= 2e-6 * sum_i |x_i w_i| + 1e-30
 *   softmax:             |err| <= 2e-5 * p + 1e-9 (relative, per value; the
 *                        f32 sum over up to 1500 terms dominates)
 *   gelu:                |err| <= 3e-7 * max(1, |x|)
 *   attention:           |err| <= 2e-5 (values of O(1))
 *   f16 conversion:      exact (nearest, ties to even)
 *
 *   ctest --test-dir build -R test_asr_kernels --output-on-failure */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "asr_backend.h"
#include "asr_cpu_kernels.h"
#include "asr_cpu_pool.h"
#include "asr_ggml.h"
#include "test.h"
#include "vm_alloc.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd_u32(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 11);
}

static float rnd_f(float lo, float hi) {
  return lo + (hi - lo) * (float)(rnd_u32() & 0xffffff) / 16777216.0f;
}

/* The tables to test: portable always, AVX2 when the CPU has it. */
static int tables(const vm_asr_kern **out) {
  int n = 0;
  out[n++] = vm__asr_kern_get(VM_ASR_KERN_PORTABLE);
  const vm_asr_kern *a = vm__asr_kern_get(VM_ASR_KERN_AVX2);
  if (a) out[n++] = a;
  else fprintf(stderr, "note: no AVX2/FMA/F16C on this CPU; portable kernels only\n");
  return n;
}

static int test_f16_roundtrip_all(void) {
  const vm_asr_kern *ks[2];
  int nk = tables(ks);
  uint16_t *h = vm_malloc(65536 * sizeof *h), *back = vm_malloc(65536 * sizeof *back);
  float *f = vm_malloc(65536 * sizeof *f);
  ASSERT(h && back && f);
  for (uint32_t i = 0; i < 65536; i++) h[i] = (uint16_t)i;
  for (int t = 0; t < nk; t++) {
    ks[t]->f16_to_f32(65536, h, f);
    ks[t]->f32_to_f16(65536, f, back);
    for (uint32_t i = 0; i < 65536; i++) {
      float ref = vm__asr_f16_to_f32((uint16_t)i);
      if (isnan(ref)) {
        ASSERT(isnan(f[i]));
        ASSERT_EQ(back[i] & 0x7c00u, 0x7c00u);
        ASSERT_NE(back[i] & 0x3ffu, 0u);
        continue;
      }
      ASSERT(memcmp(&ref, &f[i], 4) == 0);
      ASSERT_EQ(back[i], i);
    }
  }
  vm_free(h);
  vm_free(back);
  vm_free(f);
  return 0;
}

/* Every finite float maps to a nearest binary16 (ties to even), or to inf
 * beyond 65520; both tables agree bit for bit. */
static int test_f32_to_f16_nearest(void) {
  const vm_asr_kern *ks[2];
  int nk = tables(ks);
  enum { N = 200003 };
  float *x = vm_malloc(N * sizeof *x);
  uint16_t *h[2] = {vm_malloc(N * 2), vm_malloc(N * 2)};
  ASSERT(x && h[0] && h[1]);
  for (int i = 0; i < N; i++) {
    uint32_t b = rnd_u32() << 1 ^ rnd_u32();
    if (i % 3 == 0) b = (b & 0x807fffffu) | ((uint32_t)(100 + rnd_u32() % 45) << 23);
    if (i % 7 == 0) b = (b & 0xffffe000u) | 0x1000u; /* exact ties */
    memcpy(&x[i], &b, 4);
    if (isnan(x[i])) x[i] = 1.0f;
  }
  for (int t = 0; t < nk; t++) ks[t]->f32_to_f16(N, x, h[t]);
  for (int i = 0; i < N; i++) {
    if (nk == 2) ASSERT_EQ(h[0][i], h[1][i]);
    double v = x[i], got = vm__asr_f16_to_f32(h[0][i]);
    if (fabs(v) >= 65520.0) {
      ASSERT(isinf(got));
      continue;
    }
    for (int d = -1; d <= 1; d += 2) { /* no neighbour is closer */
      uint16_t nb = (uint16_t)(h[0][i] + d);
      double alt = vm__asr_f16_to_f32(nb);
      if (isnan(alt) || isinf(alt) || (nb & 0x7fffu) == 0x7fffu) continue;
      if ((nb ^ h[0][i]) & 0x8000u) continue; /* crossed zero */
      ASSERT(fabs(v - got) <= fabs(v - alt));
      if (fabs(v - got) == fabs(v - alt)) ASSERT_EQ(h[0][i] & 1u, 0u);
    }
  }
  vm_free(x);
  vm_free(h[0]);
  vm_free(h[1]);
  return 0;
}

/* y = b + x w^T over rows [j0, j1), against a double loop; outputs outside
 * the rows and the padding must be untouched. */
static int check_matvec(const vm_asr_kern *k, int m, int kd, int half, int with_b) {
  size_t ldx = (size_t)kd + 3, ldw = (size_t)kd + 5, n = 37, ldy = n + 2;
  size_t j0 = 3, j1 = 35;
  float *x = vm_malloc(VM_ASR_MATVEC_ROWS * ldx * sizeof *x), *w = vm_malloc(n * ldw * sizeof *w);
  uint16_t *wh = vm_malloc(n * ldw * sizeof *wh);
  float *b = vm_malloc(n * sizeof *b), *y = vm_malloc(VM_ASR_MATVEC_ROWS * ldy * sizeof *y);
  ASSERT(x && w && wh && b && y);
  for (size_t i = 0; i < VM_ASR_MATVEC_ROWS * ldx; i++) x[i] = rnd_f(-1.0f, 1.0f);
  for (size_t i = 0; i < n * ldw; i++) {
    wh[i] = vm__asr_f32_to_f16(rnd_f(-2.0f, 2.0f));
    w[i] = half ? vm__asr_f16_to_f32(wh[i]) : rnd_f(-2.0f, 2.0f);
  }
  for (size_t j = 0; j < n; j++) b[j] = rnd_f(-1.0f, 1.0f);
  for (size_t i = 0; i < VM_ASR_MATVEC_ROWS * ldy; i++) y[i] = 1234.5f;
  const float *bb = with_b ? b : NULL;
  if (half)
    k->matvec_f16(m, kd, x, ldx, wh, ldw, bb, y, ldy, j0, j1);
  else
    k->matvec_f32(m, kd, x, ldx, w, ldw, bb, y, ldy, j0, j1);
  for (int r = 0; r < VM_ASR_MATVEC_ROWS; r++)
    for (size_t j = 0; j < ldy; j++) {
      float got = y[(size_t)r * ldy + j];
      if (r >= m || j < j0 || j >= j1) {
        ASSERT(got == 1234.5f);
        continue;
      }
      double ref = with_b ? b[j] : 0.0, mag = fabs(ref);
      for (int i = 0; i < kd; i++) {
        ref += (double)x[(size_t)r * ldx + (size_t)i] * w[j * ldw + (size_t)i];
        mag += fabs((double)x[(size_t)r * ldx + (size_t)i] * w[j * ldw + (size_t)i]);
      }
      ASSERT_NEAR(got, ref, 2e-6 * mag + 1e-30);
    }
  vm_free(x);
  vm_free(w);
  vm_free(wh);
  vm_free(b);
  vm_free(y);
  return 0;
}

static int test_matvec(void) {
  const vm_asr_kern *ks[2];
  int nk = tables(ks);
  static const int K[] = {1, 7, 8, 15, 16, 17, 33, 64, 384, 1000};
  for (int t = 0; t < nk; t++)
    for (int m = 1; m <= VM_ASR_MATVEC_ROWS; m++)
      for (size_t i = 0; i < sizeof K / sizeof K[0]; i++)
        for (int half = 0; half < 2; half++)
          if (check_matvec(ks[t], m, K[i], half, (int)(i + (size_t)m) % 2) != 0) {
            fprintf(stderr, "kernels %s, m %d, k %d, f16 %d\n", ks[t]->name, m, K[i], half);
            return 1;
          }
  return 0;
}

static int test_dot_axpy(void) {
  const vm_asr_kern *ks[2];
  int nk = tables(ks);
  float a[300], b[300], y[300], y0[300];
  for (int i = 0; i < 300; i++) {
    a[i] = rnd_f(-1, 1);
    b[i] = rnd_f(-3, 3);
    y0[i] = rnd_f(-1, 1);
  }
  for (int t = 0; t < nk; t++)
    for (int n = 0; n <= 300; n += (n < 40 ? 1 : 37)) {
      double ref = 0.0, mag = 0.0;
      for (int i = 0; i < n; i++) {
        ref += (double)a[i] * b[i];
        mag += fabs((double)a[i] * b[i]);
      }
      ASSERT_NEAR(ks[t]->dot(n, a, b), ref, 2e-6 * mag + 1e-30);
      memcpy(y, y0, sizeof y);
      ks[t]->axpy(n, 0.37f, a, y);
      for (int i = 0; i < 300; i++)
        ASSERT_NEAR(y[i], i < n ? y0[i] + 0.37 * a[i] : y0[i], 1e-6);
    }
  return 0;
}

/* attn_scores and attn_mix for d 64 (the register path) and others. */
static int test_attn_row_kernels(void) {
  const vm_asr_kern *ks[2];
  int nk = tables(ks);
  enum { NK = 301, LD = 150 };
  float *k = vm_malloc(NK * LD * sizeof *k), q[128], s[NK], o[128];
  ASSERT_NOT_NULL(k);
  for (int i = 0; i < NK * LD; i++) k[i] = rnd_f(-1, 1);
  for (int i = 0; i < 128; i++) q[i] = rnd_f(-1, 1);
  static const int D[] = {64, 48, 8, 128, 5};
  for (int t = 0; t < nk; t++)
    for (size_t c = 0; c < sizeof D / sizeof D[0]; c++)
      for (int n = 1; n <= NK; n += 100) {
        int d = D[c];
        ks[t]->attn_scores(n, d, q, k, LD, 0.125f, s);
        for (int j = 0; j < n; j++) {
          double ref = 0.0, mag = 0.0;
          for (int i = 0; i < d; i++) {
            ref += (double)q[i] * k[j * LD + i];
            mag += fabs((double)q[i] * k[j * LD + i]);
          }
          ASSERT_NEAR(s[j], 0.125 * ref, 2e-6 * 0.125 * mag + 1e-30);
        }
        for (int j = 0; j < n; j++) s[j] = rnd_f(0, 1);
        ks[t]->attn_mix(n, d, s, k + 3, LD, o);
        for (int i = 0; i < d; i++) {
          double ref = 0.0, mag = 0.0;
          for (int j = 0; j < n; j++) {
            ref += (double)s[j] * k[j * LD + 3 + i];
            mag += fabs((double)s[j] * k[j * LD + 3 + i]);
          }
          ASSERT_NEAR(o[i], ref, 2e-6 * mag + 1e-30);
        }
      }
  vm_free(k);
  return 0;
}

static int test_softmax(void) {
  const vm_asr_kern *ks[2];
  int nk = tables(ks);
  static const int N[] = {1, 2, 3, 7, 8, 9, 16, 100, 1500};
  float *s = vm_malloc(1500 * sizeof *s);
  double *ref = vm_malloc(1500 * sizeof *ref);
  ASSERT(s && ref);
  for (int t = 0; t < nk; t++)
    for (size_t c = 0; c < sizeof N / sizeof N[0]; c++)
      for (int spread = 1; spread <= 100; spread *= 10) {
        int n = N[c];
        double mx = -1e30, sum = 0.0;
        for (int i = 0; i < n; i++) {
          s[i] = rnd_f(-(float)spread, (float)spread) + 5.0f;
          mx = s[i] > mx ? s[i] : mx;
        }
        for (int i = 0; i < n; i++) sum += (ref[i] = exp((double)s[i] - mx));
        ks[t]->softmax(n, s);
        for (int i = 0; i < n; i++) ASSERT_NEAR(s[i], ref[i] / sum, 2e-5 * ref[i] / sum + 1e-9);
      }
  vm_free(s);
  vm_free(ref);
  return 0;
}

static int test_gelu(void) {
  const vm_asr_kern *ks[2];
  int nk = tables(ks);
  enum { N = 20011 };
  float *x = vm_malloc(N * sizeof *x), *y = vm_malloc(N * sizeof *y);
  ASSERT(x && y);
  for (int i = 0; i < N; i++) x[i] = i < 20001 ? -10.0f + 0.001f * (float)i : rnd_f(-30, 30);
  for (int t = 0; t < nk; t++) {
    memcpy(y, x, N * sizeof *y);
    ks[t]->gelu(N, y);
    double worst = 0.0;
    for (int i = 0; i < N; i++) {
      double ref = 0.5 * x[i] * (1.0 + erf(x[i] / sqrt(2.0)));
      double tol = 3e-7 * fmax(1.0, fabs(x[i]));
      ASSERT_NEAR(y[i], ref, tol);
      worst = fmax(worst, fabs(y[i] - ref) / fmax(1.0, fabs(x[i])));
    }
    printf("gelu %s: max |err| / max(1,|x|) = %.3g\n", ks[t]->name, worst);
  }
  vm_free(x);
  vm_free(y);
  return 0;
}

/* ---- pool ----------------------------------------------------------------- */

typedef struct cover_job {
  int *hits;
  int n_threads, bad_ith;
} cover_job;

static void cover(void *arg, size_t a, size_t b, int ith) {
  cover_job *j = arg;
  if (ith < 0 || ith >= j->n_threads) j->bad_ith = 1;
  for (size_t i = a; i < b; i++) j->hits[i]++;
}

static int test_pool_covers_once(void) {
  for (int nt = 1; nt <= 4; nt++) {
    vm_asr_pool *p = NULL;
    ASSERT_OK(vm__asr_pool_create(nt, &p));
    ASSERT_EQ(vm__asr_pool_n_threads(p), nt);
    int *hits = vm_calloc(5000, sizeof *hits);
    ASSERT_NOT_NULL(hits);
    for (int rep = 0; rep < 300; rep++) {
      size_t n = rnd_u32() % 5000, per = 1 + rnd_u32() % 64;
      cover_job j = {hits, nt, 0};
      memset(hits, 0, 5000 * sizeof *hits);
      vm__asr_pool_run(p, n, per, cover, &j);
      ASSERT_EQ(j.bad_ith, 0);
      for (size_t i = 0; i < 5000; i++) ASSERT_EQ(hits[i], i < n ? 1 : 0);
    }
    vm_free(hits);
    vm__asr_pool_destroy(p);
  }
  return 0;
}

/* ---- backend ops (both kernel tables via VM_ASR_NO_SIMD) ------------------ */

/* A fresh backend per case: prepare() keys its copies by the weight's
 * address, which must not be reused for other values while it lives. */
static int check_linear(int portable, int n_threads, int m, int n, int k, int f16) {
  if (portable) setenv("VM_ASR_NO_SIMD", "1", 1);
  vm_asr_backend_i bei, *be = &bei;
  int rc = vm__asr_backend_cpu_init(n_threads, be);
  unsetenv("VM_ASR_NO_SIMD");
  ASSERT_OK(rc);
  float *x = vm_malloc((size_t)m * (size_t)k * sizeof *x);
  float *w = vm_malloc((size_t)n * (size_t)k * sizeof *w), *b = vm_malloc((size_t)n * sizeof *b);
  float *y = vm_malloc((size_t)m * (size_t)n * sizeof *y);
  ASSERT(x && w && b && y);
  for (size_t i = 0; i < (size_t)m * (size_t)k; i++) x[i] = rnd_f(-1, 1);
  for (size_t i = 0; i < (size_t)n * (size_t)k; i++) {
    w[i] = rnd_f(-1, 1);
    if (f16) w[i] = vm__asr_f16_to_f32(vm__asr_f32_to_f16(w[i]));
  }
  for (int i = 0; i < n; i++) b[i] = rnd_f(-1, 1);
  ASSERT_OK(be->prepare(be->ctx, w, n, k));
  be->linear(be->ctx, m, n, k, x, w, b, y);
  for (int r = 0; r < m; r++)
    for (int j = 0; j < n; j++) {
      double ref = b[j], mag = fabs(b[j]);
      for (int i = 0; i < k; i++) {
        double p = (double)x[(size_t)r * (size_t)k + (size_t)i] * w[(size_t)j * (size_t)k + (size_t)i];
        ref += p;
        mag += fabs(p);
      }
      ASSERT_NEAR(y[(size_t)r * (size_t)n + (size_t)j], ref, 2e-6 * mag);
    }
  ASSERT(be->bytes(be->ctx) >= (f16 ? (size_t)n * (size_t)k * 2 : 0));
  be->destroy(be->ctx);
  vm_free(x);
  vm_free(w);
  vm_free(b);
  vm_free(y);
  return 0;
}

/* Attention against a double loop, with padded strides and a batch of 2;
 * with D 64 the items attend to each other's keys/values (kv_item). */
static int check_attention(vm_asr_backend_i *be, int n_q, int n_kv, int causal, int q_pos0,
                           int D) {
  int B = 2, H = 3, C = H * D;
  size_t q_ld = (size_t)C + 4, kv_ld = (size_t)C + 8, q_bs = (size_t)n_q * q_ld + 5;
  size_t kv_bs = (size_t)n_kv * kv_ld + 3;
  float *q = vm_malloc((size_t)B * q_bs * sizeof *q), *o = vm_malloc((size_t)B * q_bs * sizeof *o);
  float *k = vm_malloc((size_t)B * kv_bs * sizeof *k), *v = vm_malloc((size_t)B * kv_bs * sizeof *v);
  double *s = vm_malloc((size_t)n_kv * sizeof *s);
  ASSERT(q && o && k && v && s);
  for (size_t i = 0; i < (size_t)B * q_bs; i++) q[i] = rnd_f(-2, 2);
  for (size_t i = 0; i < (size_t)B * kv_bs; i++) {
    k[i] = rnd_f(-2, 2);
    v[i] = rnd_f(-1, 1);
  }
  static const int swap[2] = {1, 0};
  const int *item = D == 64 ? swap : NULL;
  vm_asr_attn_args a = {B, H, D, n_q, n_kv, q, q_ld, q_bs, k, v, kv_ld, kv_bs, o, q_ld, q_bs,
                        causal, q_pos0, item};
  be->attention(be->ctx, &a);
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++)
      for (int i = 0; i < n_q; i++) {
        int kb = item ? item[b] : b;
        int lim = causal && q_pos0 + i + 1 < n_kv ? q_pos0 + i + 1 : n_kv;
        const float *qi = q + (size_t)b * q_bs + (size_t)i * q_ld + (size_t)(h * D);
        double mx = -1e300, sum = 0.0;
        for (int j = 0; j < lim; j++) {
          const float *kj = k + (size_t)kb * kv_bs + (size_t)j * kv_ld + (size_t)(h * D);
          double d = 0.0;
          for (int t = 0; t < D; t++) d += (double)qi[t] * kj[t];
          s[j] = d / sqrt((double)D);
          mx = fmax(mx, s[j]);
        }
        for (int j = 0; j < lim; j++) sum += (s[j] = exp(s[j] - mx));
        for (int t = 0; t < D; t++) {
          double ref = 0.0;
          for (int j = 0; j < lim; j++)
            ref += s[j] / sum * v[(size_t)kb * kv_bs + (size_t)j * kv_ld + (size_t)(h * D + t)];
          ASSERT_NEAR(o[(size_t)b * q_bs + (size_t)i * q_ld + (size_t)(h * D + t)], ref, 2e-5);
        }
      }
  vm_free(q);
  vm_free(o);
  vm_free(k);
  vm_free(v);
  vm_free(s);
  return 0;
}

static int check_backend(int portable, int n_threads) {
  if (portable) setenv("VM_ASR_NO_SIMD", "1", 1);
  vm_asr_backend_i be;
  int rc = vm__asr_backend_cpu_init(n_threads, &be);
  unsetenv("VM_ASR_NO_SIMD");
  ASSERT_OK(rc);
  ASSERT_OK(be.reserve(be.ctx, 200, 300, 1));
  static const int M[] = {1, 2, 5, 8, 9, 40};
  for (size_t i = 0; i < sizeof M / sizeof M[0]; i++)
    for (int f16 = 0; f16 < 2; f16++)
      if (check_linear(portable, n_threads, M[i], 130, 70, f16) != 0 ||
          check_linear(portable, n_threads, M[i], 200, 64, f16) != 0) {
        fprintf(stderr, "linear m %d f16 %d portable %d\n", M[i], f16, portable);
        return 1;
      }
  static const int Q[][4] = {{1, 1, 0, 0},   {1, 300, 0, 0}, {1, 9, 1, 8},   {3, 12, 1, 9},
                             {70, 70, 1, 0}, {130, 300, 0, 0}, {200, 200, 1, 0}, {4, 9, 1, 5}};
  for (size_t i = 0; i < sizeof Q / sizeof Q[0]; i++)
    if (check_attention(&be, Q[i][0], Q[i][1], Q[i][2], Q[i][3], 16) != 0 ||
        check_attention(&be, Q[i][0], Q[i][1], Q[i][2], Q[i][3], 64) != 0) {
      fprintf(stderr, "attention case %zu portable %d threads %d\n", i, portable, n_threads);
      return 1;
    }
  be.destroy(be.ctx);
  return 0;
}

static int test_backend_portable(void) { return check_backend(1, 2) || check_backend(1, 1); }

static int test_backend_simd(void) {
  if (!vm__asr_kern_get(VM_ASR_KERN_AVX2)) TEST_SKIP("no AVX2/FMA/F16C on this CPU");
  return check_backend(0, 2) || check_backend(0, 3);
}

/* prepare() keeps f16 only for exactly representable matrices; the f32
 * path must then give the f32 answer (not one rounded to f16). */
static int test_prepare_inexact_keeps_f32(void) {
  vm_asr_backend_i be;
  ASSERT_OK(vm__asr_backend_cpu_init(2, &be));
  size_t before = be.bytes(be.ctx);
  float w[64 * 8], x[64], y[8];
  for (int i = 0; i < 64 * 8; i++) w[i] = 1.0f + 1e-6f * (float)(i + 1); /* not f16 */
  for (int i = 0; i < 64; i++) x[i] = 1.0f;
  ASSERT_OK(be.prepare(be.ctx, w, 8, 64));
  ASSERT_EQ(be.bytes(be.ctx), before);
  be.linear(be.ctx, 1, 8, 64, x, w, NULL, y);
  for (int j = 0; j < 8; j++) {
    double ref = 0.0;
    for (int i = 0; i < 64; i++) ref += w[j * 64 + i];
    ASSERT_NEAR(y[j], ref, 2e-5);
    ASSERT(fabs(y[j] - 64.0) > 1e-3); /* an f16 copy would give exactly 64 */
  }
  be.destroy(be.ctx);
  return 0;
}

/* The same ops give bit-identical results however the pool's threads pick
 * up the chunks (the chunking depends only on the sizes): repeated runs
 * of linear (both paths), attention and GELU with 2 and 3 threads. */
static int test_backend_deterministic(void) {
  enum { M = 70, N = 300, K = 96, T = 130 };
  float *x = vm_malloc(M * K * sizeof *x), *w = vm_malloc(N * K * sizeof *w);
  float *y0 = vm_malloc((M + 3) * N * sizeof *y0), *y = vm_malloc(M * N * sizeof *y);
  float *qkv = vm_malloc(3 * T * K * sizeof *qkv), *o0 = vm_malloc(T * K * sizeof *o0);
  float *o = vm_malloc(T * K * sizeof *o);
  ASSERT(x && w && y0 && y && qkv && o0 && o);
  for (int i = 0; i < M * K; i++) x[i] = rnd_f(-1, 1);
  for (int i = 0; i < N * K; i++) w[i] = vm__asr_f16_to_f32(vm__asr_f32_to_f16(rnd_f(-1, 1)));
  for (int i = 0; i < 3 * T * K; i++) qkv[i] = rnd_f(-2, 2);
  for (int nt = 2; nt <= 3; nt++) {
    vm_asr_backend_i be;
    ASSERT_OK(vm__asr_backend_cpu_init(nt, &be));
    ASSERT_OK(be.reserve(be.ctx, T, T, 1));
    ASSERT_OK(be.prepare(be.ctx, w, N, K));
    vm_asr_attn_args a = {1, 3, K / 3, T, T, qkv, K, 0, qkv + T * K, qkv + 2 * T * K,
                          K, 0, o, K, 0, 1, 0, NULL};
    be.linear(be.ctx, M, N, K, x, w, NULL, y0);          /* sgemm path */
    be.linear(be.ctx, 3, N, K, x, w, NULL, y0 + M * N); /* matrix-vector path */
    for (int rep = 0; rep < 200; rep++) {
      int m = rep % 2 ? 3 : M;
      be.linear(be.ctx, m, N, K, x, w, NULL, y);
      ASSERT(memcmp(y, rep % 2 ? y0 + M * N : y0, (size_t)m * N * sizeof *y) == 0);
      be.attention(be.ctx, &a);
      if (rep == 0) memcpy(o0, o, T * K * sizeof *o);
      ASSERT(memcmp(o, o0, T * K * sizeof *o) == 0);
    }
    be.destroy(be.ctx);
  }
  vm_free(x);
  vm_free(w);
  vm_free(y0);
  vm_free(y);
  vm_free(qkv);
  vm_free(o0);
  vm_free(o);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_f16_roundtrip_all), TEST_ENTRY(test_f32_to_f16_nearest),
          TEST_ENTRY(test_matvec), TEST_ENTRY(test_dot_axpy), TEST_ENTRY(test_attn_row_kernels),
          TEST_ENTRY(test_softmax),
          TEST_ENTRY(test_gelu), TEST_ENTRY(test_pool_covers_once),
          TEST_ENTRY(test_backend_portable), TEST_ENTRY(test_backend_simd),
          TEST_ENTRY(test_prepare_inexact_keeps_f32), TEST_ENTRY(test_backend_deterministic))
