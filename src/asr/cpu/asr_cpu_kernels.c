/* asr_cpu_kernels.c — the portable kernel table and the run-time choice
 * of instruction set (see asr_cpu_kernels.h for the contract).
 *
 * The portable loops are written for clarity first; they keep several
 * partial sums so that a compiler can still use SIMD registers without
 * -ffast-math. f16 weights go through a 65536-entry table (256 KiB, built
 * once), which is exact. */
#include "asr_cpu_kernels.h"

#include "asr_ggml.h" /* defines: vm__asr_f16_to_f32, vm__asr_f32_to_f16 */

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static float f16_table[65536];
static pthread_once_t f16_once = PTHREAD_ONCE_INIT;

static void f16_table_init(void) {
  for (uint32_t i = 0; i < 65536; i++) f16_table[i] = vm__asr_f16_to_f32((uint16_t)i);
}

/* 8 partial sums: independent chains, and a shape a compiler vectorises. */
static float dot_c(int n, const float *a, const float *b) {
  float acc[8] = {0};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; l++) acc[l] += a[i + l] * b[i + l];
  float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

static void matvec_f32_c(int m, int k, const float *x, size_t ldx, const float *w, size_t ldw,
                         const float *b, float *y, size_t ldy, size_t j0, size_t j1) {
  for (size_t j = j0; j < j1; j++)
    for (int r = 0; r < m; r++)
      y[(size_t)r * ldy + j] = (b ? b[j] : 0.0f) + dot_c(k, x + (size_t)r * ldx, w + j * ldw);
}

static void matvec_f16_c(int m, int k, const float *x, size_t ldx, const uint16_t *w,
                         size_t ldw, const float *b, float *y, size_t ldy, size_t j0,
                         size_t j1) {
  pthread_once(&f16_once, f16_table_init);
  float row[512];
  for (size_t j = j0; j < j1; j++) {
    float acc[VM_ASR_MATVEC_ROWS] = {0};
    for (int i0 = 0; i0 < k; i0 += 512) { /* widen 512 weights, then dot */
      int n = k - i0 < 512 ? k - i0 : 512;
      for (int i = 0; i < n; i++) row[i] = f16_table[w[j * ldw + (size_t)(i0 + i)]];
      for (int r = 0; r < m; r++) acc[r] += dot_c(n, x + (size_t)r * ldx + i0, row);
    }
    for (int r = 0; r < m; r++) y[(size_t)r * ldy + j] = (b ? b[j] : 0.0f) + acc[r];
  }
}

static void axpy_c(int n, float alpha, const float *x, float *y) {
  for (int i = 0; i < n; i++) y[i] += alpha * x[i];
}

static void attn_scores_c(int n, int d, const float *q, const float *k, size_t ldk, float scale,
                          float *s) {
  for (int j = 0; j < n; j++) s[j] = scale * dot_c(d, q, k + (size_t)j * ldk);
}

static void attn_mix_c(int n, int d, const float *p, const float *v, size_t ldv, float *o) {
  memset(o, 0, (size_t)d * sizeof(float));
  for (int j = 0; j < n; j++) axpy_c(d, p[j], v + (size_t)j * ldv, o);
}

static void softmax_c(int n, float *s) {
  float mx = s[0], sum = 0.0f;
  for (int i = 1; i < n; i++) mx = s[i] > mx ? s[i] : mx;
  for (int i = 0; i < n; i++) {
    s[i] = expf(s[i] - mx);
    sum += s[i];
  }
  float inv = 1.0f / sum;
  for (int i = 0; i < n; i++) s[i] *= inv;
}

static void gelu_c(size_t n, float *x) {
  for (size_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

static void f32_to_f16_c(size_t n, const float *x, uint16_t *y) {
  for (size_t i = 0; i < n; i++) y[i] = vm__asr_f32_to_f16(x[i]);
}

static void f16_to_f32_c(size_t n, const uint16_t *x, float *y) {
  for (size_t i = 0; i < n; i++) y[i] = vm__asr_f16_to_f32(x[i]);
}

static const vm_asr_kern kern_portable = {
    "portable", matvec_f32_c, matvec_f16_c, dot_c, axpy_c, attn_scores_c, attn_mix_c, softmax_c, gelu_c,
    f32_to_f16_c, f16_to_f32_c};

static int cpu_has_avx2(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("f16c");
#else
  return 0;
#endif
}

const vm_asr_kern *vm__asr_kern_get(int isa) {
  switch (isa) {
  case VM_ASR_KERN_PORTABLE:
    return &kern_portable;
  case VM_ASR_KERN_AVX2:
    return cpu_has_avx2() ? vm__asr_kern_avx2() : NULL;
  default: {
    const char *no = getenv("VM_ASR_NO_SIMD");
    if ((!no || strcmp(no, "1") != 0) && cpu_has_avx2()) return vm__asr_kern_avx2();
    return &kern_portable;
  }
  }
}
