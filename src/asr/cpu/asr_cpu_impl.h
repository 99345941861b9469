/* asr_cpu_impl.h — the CPU backend's state, shared by its files only
 * (asr_cpu_ops.c: setup, linear and element-wise ops; asr_cpu_attn.c:
 * attention). */
#ifndef VM_ASR_CPU_IMPL_H
#define VM_ASR_CPU_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "asr_backend.h"
#include "asr_cpu_kernels.h"
#include "asr_cpu_pool.h"

/* Query rows per attention task: a task's scores (QBLK x n_kv floats,
 * 384 KiB at n_kv 1500) stay in the core's L2 cache between the Q K^T
 * product, the softmax and the P V product. */
#define VM_ASR_ATTN_QBLK 64

/* A weight matrix kept as binary16 by prepare(). */
typedef struct vm_asr_cpu_pack {
  const float *w; /* the f32 matrix it stands for (lookup key); NULL: free slot */
  uint16_t *h;    /* the same values, binary16 */
} vm_asr_cpu_pack;

typedef struct vm_asr_cpu {
  vm_asr_pool *pool;
  int n_threads;
  const vm_asr_kern *k; /* kernels for this CPU */
  float *scores;        /* (n_threads, VM_ASR_ATTN_QBLK, n_kv_max) */
  size_t n_kv_max;
  float *cols;          /* im2col scratch, n_cols floats */
  size_t n_cols;
  vm_asr_cpu_pack *packs; /* open-addressing table, n_pack_cap slots */
  size_t n_pack_cap, n_packs;
  size_t n_bytes;       /* scratch + packed copies */
  int no_f16;           /* VM_ASR_NO_F16=1: prepare() keeps no copies */
} vm_asr_cpu;

/* vm_asr_backend_i.attention for the CPU backend (asr_cpu_attn.c). */
void vm__asr_cpu_attention(void *ctx, const vm_asr_attn_args *a);

#endif /* VM_ASR_CPU_IMPL_H */
