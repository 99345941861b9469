/* asr_cpu_kernels_avx2.c — the AVX2 + FMA + F16C kernel table (contract
 * in asr_cpu_kernels.h).
 *
 * Every function carries the target attribute instead of the file being
 * built with -mavx2, so nothing here runs unless vm__asr_kern_get() saw
 * the features at run time. On other architectures the table is absent.
 *
 * matvec streams each weight row once for up to 8 input rows (two 8-wide
 * accumulators per row up to 4 rows, one beyond); it is memory-bound (one decoded token reads
 * every decoder weight once), which is why f16 weights (half the bytes)
 * matter more than the arithmetic. exp is the Cephes expf scheme: n =
 * round(x log2 e), r = x - n ln 2 in two parts, a degree-6 polynomial,
 * times 2^n built in the exponent bits. erf is Abramowitz & Stegun
 * 7.1.26: 1 - t (a1 + t (a2 + ...)) exp(-z^2), t = 1 / (1 + p z). */
#include "asr_cpu_kernels.h"

#include "asr_ggml.h" /* defines: vm__asr_f16_to_f32, vm__asr_f32_to_f16 */

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define VM_AVX2 __attribute__((target("avx2,fma,f16c")))
#define VM_AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma,f16c")))

VM_AVX2_INLINE float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

VM_AVX2_INLINE __m256 load_w(const float *w) { return _mm256_loadu_ps(w); }
VM_AVX2_INLINE __m256 load_h(const uint16_t *w) {
  return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)w));
}

/* Fully unrolled row loops keep the accumulators in registers (m is a
 * constant at each call site). */
#define UNROLL _Pragma("GCC unroll 8")

/* One weight row against m <= 4 input rows (m a constant after inlining),
 * two accumulators per row. */
#define MATVEC_ROW(LOAD, WTYPE, TOF32)                                            \
  VM_AVX2_INLINE void mv_row_##WTYPE(int m, int k, const float *x, size_t ldx,    \
                                     const WTYPE *w, float *out) {                \
    __m256 a0[VM_ASR_MATVEC_ROWS], a1[VM_ASR_MATVEC_ROWS];                        \
    UNROLL for (int r = 0; r < m; r++) a0[r] = a1[r] = _mm256_setzero_ps();              \
    int i = 0;                                                                    \
    for (; i + 16 <= k; i += 16) {                                                \
      __m256 w0 = LOAD(w + i), w1 = LOAD(w + i + 8);                              \
      UNROLL for (int r = 0; r < m; r++) {                                               \
        a0[r] = _mm256_fmadd_ps(_mm256_loadu_ps(x + (size_t)r * ldx + i), w0, a0[r]); \
        a1[r] = _mm256_fmadd_ps(_mm256_loadu_ps(x + (size_t)r * ldx + i + 8), w1, a1[r]); \
      }                                                                           \
    }                                                                             \
    for (; i + 8 <= k; i += 8) {                                                  \
      __m256 w0 = LOAD(w + i);                                                    \
      UNROLL for (int r = 0; r < m; r++)                                                 \
        a0[r] = _mm256_fmadd_ps(_mm256_loadu_ps(x + (size_t)r * ldx + i), w0, a0[r]); \
    }                                                                             \
    UNROLL for (int r = 0; r < m; r++) {                                                 \
      float s = hsum(_mm256_add_ps(a0[r], a1[r]));                                \
      for (int t = i; t < k; t++) s += x[(size_t)r * ldx + (size_t)t] * TOF32(w[t]); \
      out[r] = s;                                                                 \
    }                                                                             \
  }

VM_AVX2_INLINE float h2f(uint16_t h) { return _cvtsh_ss(h); }
VM_AVX2_INLINE float f2f(float f) { return f; }
MATVEC_ROW(load_w, float, f2f)
MATVEC_ROW(load_h, uint16_t, h2f)

/* 5 to 8 input rows (beams): one accumulator per row, so that the
 * accumulators, the weights and an input fit the 16 registers. */
#define MATVEC_ROW8(LOAD, WTYPE, TOF32)                                           \
  VM_AVX2_INLINE void mv_row8_##WTYPE(int m, int k, const float *x, size_t ldx,   \
                                      const WTYPE *w, float *out) {               \
    __m256 a[VM_ASR_MATVEC_ROWS];                                                 \
    UNROLL for (int r = 0; r < m; r++) a[r] = _mm256_setzero_ps();                       \
    int i = 0;                                                                    \
    for (; i + 8 <= k; i += 8) {                                                  \
      __m256 w0 = LOAD(w + i);                                                    \
      UNROLL for (int r = 0; r < m; r++)                                                 \
        a[r] = _mm256_fmadd_ps(_mm256_loadu_ps(x + (size_t)r * ldx + i), w0, a[r]); \
    }                                                                             \
    UNROLL for (int r = 0; r < m; r++) {                                                 \
      float s = hsum(a[r]);                                                       \
      for (int t = i; t < k; t++) s += x[(size_t)r * ldx + (size_t)t] * TOF32(w[t]); \
      out[r] = s;                                                                 \
    }                                                                             \
  }

MATVEC_ROW8(load_w, float, f2f)
MATVEC_ROW8(load_h, uint16_t, h2f)

#define MATVEC(WTYPE)                                                             \
  VM_AVX2 static void matvec_##WTYPE(int m, int k, const float *x, size_t ldx,    \
                                     const WTYPE *w, size_t ldw, const float *b,  \
                                     float *y, size_t ldy, size_t j0, size_t j1) { \
    float out[VM_ASR_MATVEC_ROWS];                                                \
    for (size_t j = j0; j < j1; j++) {                                            \
      switch (m) { /* constant row counts let the compiler unroll */              \
      case 1: mv_row_##WTYPE(1, k, x, ldx, w + j * ldw, out); break;              \
      case 2: mv_row_##WTYPE(2, k, x, ldx, w + j * ldw, out); break;              \
      case 3: mv_row_##WTYPE(3, k, x, ldx, w + j * ldw, out); break;              \
      case 4: mv_row_##WTYPE(4, k, x, ldx, w + j * ldw, out); break;              \
      case 5: mv_row8_##WTYPE(5, k, x, ldx, w + j * ldw, out); break;             \
      case 6: mv_row8_##WTYPE(6, k, x, ldx, w + j * ldw, out); break;             \
      case 7: mv_row8_##WTYPE(7, k, x, ldx, w + j * ldw, out); break;             \
      default: mv_row8_##WTYPE(8, k, x, ldx, w + j * ldw, out); break;            \
      }                                                                           \
      for (int r = 0; r < m; r++) y[(size_t)r * ldy + j] = (b ? b[j] : 0.0f) + out[r]; \
    }                                                                             \
  }

MATVEC(float)
MATVEC(uint16_t)

VM_AVX2 static float dot_avx2(int n, const float *a, const float *b) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8)
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  float s = hsum(_mm256_add_ps(s0, s1));
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

VM_AVX2 static void axpy_avx2(int n, float alpha, const float *x, float *y) {
  __m256 a = _mm256_set1_ps(alpha);
  int i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; i++) y[i] += alpha * x[i];
}

/* d == 64 (every Whisper model): the query, or the output row, lives in
 * eight registers while the keys or values stream past. */
VM_AVX2 static void attn_scores_avx2(int n, int d, const float *q, const float *k, size_t ldk,
                                     float scale, float *s) {
  if (d != 64) {
    for (int j = 0; j < n; j++) s[j] = scale * dot_avx2(d, q, k + (size_t)j * ldk);
    return;
  }
  __m256 qv[8];
  for (int t = 0; t < 8; t++) qv[t] = _mm256_loadu_ps(q + 8 * t);
  for (int j = 0; j < n; j++) {
    const float *kj = k + (size_t)j * ldk;
    __m256 a0 = _mm256_mul_ps(qv[0], _mm256_loadu_ps(kj));
    __m256 a1 = _mm256_mul_ps(qv[1], _mm256_loadu_ps(kj + 8));
    for (int t = 2; t < 8; t += 2) {
      a0 = _mm256_fmadd_ps(qv[t], _mm256_loadu_ps(kj + 8 * t), a0);
      a1 = _mm256_fmadd_ps(qv[t + 1], _mm256_loadu_ps(kj + 8 * t + 8), a1);
    }
    s[j] = scale * hsum(_mm256_add_ps(a0, a1));
  }
}

VM_AVX2 static void attn_mix_avx2(int n, int d, const float *p, const float *v, size_t ldv,
                                  float *o) {
  if (d != 64) {
    for (int t = 0; t < d; t++) o[t] = 0.0f;
    for (int j = 0; j < n; j++) axpy_avx2(d, p[j], v + (size_t)j * ldv, o);
    return;
  }
  __m256 ov[8];
  for (int t = 0; t < 8; t++) ov[t] = _mm256_setzero_ps();
  for (int j = 0; j < n; j++) {
    const float *vj = v + (size_t)j * ldv;
    __m256 pj = _mm256_set1_ps(p[j]);
    for (int t = 0; t < 8; t++) ov[t] = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj + 8 * t), ov[t]);
  }
  for (int t = 0; t < 8; t++) _mm256_storeu_ps(o + 8 * t, ov[t]);
}

/* exp(x) for x in [-87.3, 88.3] (clamped outside). */
VM_AVX2_INLINE __m256 exp256(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

VM_AVX2 static void softmax_avx2(int n, float *s) {
  __m256 mv = _mm256_set1_ps(s[0]);
  int i = 0;
  for (; i + 8 <= n; i += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(s + i));
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mv), _mm256_extractf128_ps(mv, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
  float mx = _mm_cvtss_f32(m4);
  for (; i < n; i++) mx = s[i] > mx ? s[i] : mx;
  __m256 vmx = _mm256_set1_ps(mx), sum = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(s + i), vmx));
    _mm256_storeu_ps(s + i, e);
    sum = _mm256_add_ps(sum, e);
  }
  float tot = hsum(sum);
  for (; i < n; i++) {
    __m256 e = exp256(_mm256_set1_ps(s[i] - mx));
    s[i] = _mm256_cvtss_f32(e);
    tot += s[i];
  }
  __m256 inv = _mm256_set1_ps(1.0f / tot);
  for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(s + i, _mm256_mul_ps(_mm256_loadu_ps(s + i), inv));
  for (; i < n; i++) s[i] *= 1.0f / tot;
}

VM_AVX2_INLINE __m256 gelu256(__m256 x) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 z = _mm256_mul_ps(_mm256_andnot_ps(sign, x), _mm256_set1_ps(0.70710678118654752f));
  __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f),
                           _mm256_fmadd_ps(z, _mm256_set1_ps(0.3275911f), _mm256_set1_ps(1.0f)));
  __m256 p = _mm256_set1_ps(1.061405429f);
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
  /* q = erfc(|x| / sqrt 2) */
  __m256 q = _mm256_mul_ps(_mm256_mul_ps(p, t), exp256(_mm256_sub_ps(sign, _mm256_mul_ps(z, z))));
  __m256 hx = _mm256_mul_ps(x, _mm256_set1_ps(0.5f));
  /* x >= 0: x - 0.5 x q;  x < 0: 0.5 x q */
  __m256 pos = _mm256_fnmadd_ps(hx, q, x), neg = _mm256_mul_ps(hx, q);
  return _mm256_blendv_ps(pos, neg, x);
}

VM_AVX2 static void gelu_avx2(size_t n, float *x) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, gelu256(_mm256_loadu_ps(x + i)));
  if (i < n) {
    float tmp[8] = {0};
    for (size_t t = i; t < n; t++) tmp[t - i] = x[t];
    _mm256_storeu_ps(tmp, gelu256(_mm256_loadu_ps(tmp)));
    for (size_t t = i; t < n; t++) x[t] = tmp[t - i];
  }
}

VM_AVX2 static void f32_to_f16_avx2(size_t n, const float *x, uint16_t *y) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128((__m128i *)(void *)(y + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; i++) y[i] = vm__asr_f32_to_f16(x[i]);
}

VM_AVX2 static void f16_to_f32_avx2(size_t n, const uint16_t *x, float *y) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, load_h(x + i));
  for (; i < n; i++) y[i] = vm__asr_f16_to_f32(x[i]);
}

static const vm_asr_kern kern_avx2 = {
    "avx2", matvec_float, matvec_uint16_t, dot_avx2, axpy_avx2, attn_scores_avx2, attn_mix_avx2,
    softmax_avx2, gelu_avx2,
    f32_to_f16_avx2, f16_to_f32_avx2};

const vm_asr_kern *vm__asr_kern_avx2(void) { return &kern_avx2; }

#else /* not x86 */

const vm_asr_kern *vm__asr_kern_avx2(void) { return 0; }

#endif
