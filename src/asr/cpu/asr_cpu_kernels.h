/* asr_cpu_kernels.h — the inner loops of the CPU backend, in two builds:
 * a portable C11 one (the reference, runs anywhere) and an AVX2+FMA+F16C
 * one chosen at run time when the CPU has those features (internal to
 * asr/).
 *
 * DESIGN: a table of function pointers per instruction set. The backend
 * (asr_cpu_ops.c) takes the table once at creation; tests take both and
 * compare each against a plain loop (tests/unit/test_asr_kernels.c). The
 * SIMD file is compiled with per-function target attributes, so the
 * binary stays portable (VM_NATIVE off) and never executes an AVX2
 * instruction on a CPU without it.
 *
 * Numerics (what must stay true; the tests check these bounds):
 *  - matvec: f32 accumulation in any order; f16 weights are widened to
 *    f32 exactly, so the result equals the f32 product of the widened
 *    weights up to summation order.
 *  - softmax: SIMD exp is the Cephes expf polynomial after range
 *    reduction (a few ulp; portable path: expf); each softmax value is
 *    within 2e-5 relative, dominated by the f32 sum over up to 1500
 *    terms.
 *  - gelu: the erf form 0.5 x (1 + erf(x / sqrt 2)); SIMD erf is
 *    Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7), so |gelu error| <=
 *    1e-7 |x| + 1 ulp (portable path: erff).
 *  - f16 conversion: IEEE binary16, round to nearest even, with
 *    subnormals, infinities and NaN.
 *
 * Usage:
 *   const vm_asr_kern *k = vm__asr_kern_get(VM_ASR_KERN_BEST);
 *   k->matvec_f32(1, n_in, x, n_in, w, n_in, b, y, 0, n_out);
 */
#ifndef VM_ASR_CPU_KERNELS_H
#define VM_ASR_CPU_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Rows of x that one matvec call handles together (weights are read once
 * per call for all of them). */
#define VM_ASR_MATVEC_ROWS 8

typedef struct vm_asr_kern {
  const char *name; /* "portable" or "avx2" */
  /* y[r*ldy + j] = b[j] + sum_i x[r*ldx + i] * w[j*ldw + i], for r < m
   * (1 <= m <= VM_ASR_MATVEC_ROWS) and j0 <= j < j1; b may be NULL. */
  void (*matvec_f32)(int m, int k, const float *x, size_t ldx, const float *w, size_t ldw,
                     const float *b, float *y, size_t ldy, size_t j0, size_t j1);
  /* Same with binary16 weights. */
  void (*matvec_f16)(int m, int k, const float *x, size_t ldx, const uint16_t *w,
                     size_t ldw, const float *b, float *y, size_t ldy, size_t j0, size_t j1);
  /* sum_i a[i] b[i] */
  float (*dot)(int n, const float *a, const float *b);
  /* y[i] += alpha x[i] */
  void (*axpy)(int n, float alpha, const float *x, float *y);
  /* Attention of one query row: s[j] = scale * (q . k_j) for j < n, with
   * k_j = k + j * ldk, d values each. */
  void (*attn_scores)(int n, int d, const float *q, const float *k, size_t ldk, float scale,
                      float *s);
  /* o[t] = sum_j p[j] v_j[t] for t < d, v_j = v + j * ldv. */
  void (*attn_mix)(int n, int d, const float *p, const float *v, size_t ldv, float *o);
  /* s[i] = exp(s[i] - max s) / sum, in place over n >= 1 values. */
  void (*softmax)(int n, float *s);
  /* x[i] = GELU(x[i]) (erf form). */
  void (*gelu)(size_t n, float *x);
  void (*f32_to_f16)(size_t n, const float *x, uint16_t *y);
  void (*f16_to_f32)(size_t n, const uint16_t *x, float *y);
} vm_asr_kern;

enum vm_asr_kern_isa {
  VM_ASR_KERN_PORTABLE = 0, /* plain C, always available */
  VM_ASR_KERN_AVX2 = 1,     /* AVX2 + FMA + F16C; NULL if the CPU lacks them */
  VM_ASR_KERN_BEST = 2      /* the fastest the CPU runs */
};

/* The kernel table for isa (static storage; never freed), or NULL when
 * the CPU cannot run it. Thread-safe. Setting the environment variable
 * VM_ASR_NO_SIMD=1 makes VM_ASR_KERN_BEST return the portable table. */
const vm_asr_kern *vm__asr_kern_get(int isa);

/* The AVX2 table (asr_cpu_kernels_avx2.c); only valid on CPUs with AVX2,
 * FMA and F16C. */
const vm_asr_kern *vm__asr_kern_avx2(void);

#endif /* VM_ASR_CPU_KERNELS_H */
