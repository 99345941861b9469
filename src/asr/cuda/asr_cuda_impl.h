/* asr_cuda_impl.h — the CUDA backend's state and helpers, shared by its
 * files only (asr_cuda.cu: context, memory, weights, errors;
 * asr_cuda_ops.cu: the kernels and the ops).
 *
 * The same sources compile two ways:
 *  - nvcc, as CUDA C++ (VM_CUDA=ON): the real runtime and cuBLAS;
 *  - a C11 compiler with VM_CUDA_EMU defined (the CUDA test in a default
 *    build): tests/cuda_emu/vm_cuda_emu.h emulates the runtime, cuBLAS
 *    and kernel launches on the host.
 * So the code here is the common subset of C11 and C++: explicit casts
 * from void *, no designated initialisers, kernels launched only through
 * VM_LAUNCH over a 1-D grid, no shared memory or __syncthreads. */
#ifndef VM_ASR_CUDA_IMPL_H
#define VM_ASR_CUDA_IMPL_H

#ifdef VM_CUDA_EMU
#include "vm_cuda_emu.h"
#else
#include <cublas_v2.h>
#include <cuda_runtime.h>
#endif

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif
#include "asr_backend.h"
#include "vm_status.h"
#ifdef __cplusplus
}
#endif

/* Threads per block of every kernel (one thread per output element or row). */
#define VM_ASR_CUDA_BLOCK 256
/* Heads whose attention scores are held at once (scratch: this many
 * n_q x n_kv matrices; 72 MB at 1500 x 1500). */
#define VM_ASR_CUDA_ATTN_HEADS 8
/* Attention with at most this many query rows per item (decode steps)
 * runs every item and head in three direct kernels, not per item on
 * cuBLAS (asr_cuda_ops.cu). With VM_ASR_CUDA_SIMPLE=1 in the environment
 * (read when a backend is made) neither the direct attention nor the
 * two-pass row reductions below are used, so tests can check the simple
 * paths too. */
#define VM_ASR_CUDA_DIRECT_Q 8
/* Batch items per direct launch (their offsets are kernel arguments). */
#define VM_ASR_CUDA_ITEMS 64
/* Elements per partial of the two-pass LayerNorm and softmax kernels; their
 * partials scratch is 1/16 of the scores scratch (rows beyond it fall back
 * to one thread per row). */
#define VM_ASR_CUDA_SEG 128

#ifdef VM_CUDA_EMU
/* Runs kern once per thread of grid x block (1-D), as the device would,
 * unless the emulation makes this launch fail. */
#define VM_LAUNCH(kern, grid, block, stream, ...)                                    \
  do {                                                                               \
    (void)(stream);                                                                  \
    if (vm_cuda_emu_launch_begin()) break;                                           \
    gridDim.x = (unsigned)(grid), gridDim.y = gridDim.z = 1;                         \
    blockDim.x = (unsigned)(block), blockDim.y = blockDim.z = 1;                     \
    threadIdx.y = threadIdx.z = blockIdx.y = blockIdx.z = 0;                         \
    for (blockIdx.x = 0; blockIdx.x < gridDim.x; blockIdx.x++)                       \
      for (threadIdx.x = 0; threadIdx.x < blockDim.x; threadIdx.x++) kern(__VA_ARGS__); \
  } while (0)
/* Aborts unless [p, p + n floats) is device memory (no-op on a GPU). */
#define VM_CUDA_DEV(p, n) \
  vm_cuda_emu_check((p), (size_t)(n) * sizeof(float), #p, __FILE__, __LINE__)
#else
#define VM_LAUNCH(kern, grid, block, stream, ...) \
  kern<<<(grid), (block), 0, (stream)>>>(__VA_ARGS__)
#define VM_CUDA_DEV(p, n) ((void)(p), (void)(n))
#endif

/* One device allocation: a buffer (key NULL) or the copy of the model
 * weight at host address key. */
typedef struct vm_asr_cuda_mem {
  const float *key;
  float *dev;
  size_t n; /* floats */
} vm_asr_cuda_mem;

typedef struct vm_asr_cuda {
  int ordinal;            /* the device every call runs on */
  cudaStream_t stream;    /* every op and copy is queued here */
  cublasHandle_t blas;    /* bound to stream */
  int status;             /* VM_OK or the first failure (sticky) */
  char msg[256];          /* its message */
  vm_asr_cuda_mem *mem;   /* every allocation (buffers and weights) */
  size_t n_mem, cap_mem;
  float *scores;          /* attention scratch, n_scores floats */
  size_t n_scores;
  float *cols;            /* im2col scratch, n_cols floats */
  size_t n_cols;
  float *part;            /* row-reduction partials, n_part floats */
  size_t n_part;
  size_t n_bytes;         /* all device bytes held */
  int simple;             /* VM_ASR_CUDA_SIMPLE: no direct attention, no
                             partials scratch */
} vm_asr_cuda;

/* Records a failure of `what` with CUDA error e (VM_ENOMEM for
 * cudaErrorMemoryAllocation, else VM_EGPU) unless one is already set.
 * Returns 1 when e is cudaSuccess, else 0. */
int vm__asr_cuda_ok(vm_asr_cuda *c, cudaError_t e, const char *what);
/* The same for a cuBLAS status. */
int vm__asr_cuda_blas_ok(vm_asr_cuda *c, cublasStatus_t s, const char *what);
/* Starts an op: 0 if the backend has failed before or its device cannot
 * be selected (the op then does nothing), else 1. */
int vm__asr_cuda_begin(vm_asr_cuda *c);

/* The ops (asr_cuda_ops.cu); see vm_asr_backend_i. */
void vm__asr_cuda_linear(void *ctx, int m, int n, int k, const float *x, const float *w,
                         const float *b, float *y);
void vm__asr_cuda_layernorm(void *ctx, int m, int n, const float *x, const float *g,
                            const float *b, float *y);
void vm__asr_cuda_gelu(void *ctx, size_t n, float *x);
void vm__asr_cuda_add(void *ctx, size_t n, float *y, const float *x);
void vm__asr_cuda_attention(void *ctx, const vm_asr_attn_args *a);
void vm__asr_cuda_copy_items(void *ctx, int n, float *dst, const int *dst_item,
                             size_t dst_stride, const float *src, const int *src_item,
                             size_t src_stride, size_t len);
void vm__asr_cuda_conv1d(void *ctx, const vm_asr_conv_args *a);

#endif /* VM_ASR_CUDA_IMPL_H */
