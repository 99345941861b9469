/* vm_cuda_emu.h — a host emulation of the CUDA runtime and cuBLAS subset
 * that src/asr/cuda/ uses, so its kernels, launch geometry, cuBLAS
 * argument conventions and the forward pass's device-memory discipline
 * are tested on machines without a GPU (CI). Included instead of
 * <cuda_runtime.h> and <cublas_v2.h> when VM_CUDA_EMU is defined; the
 * .cu files are then compiled as C11.
 *
 * DESIGN:
 *  - A kernel is a plain C function; VM_LAUNCH (asr_cuda_impl.h) runs it
 *    once per (block, thread) of a 1-D grid, setting blockIdx/threadIdx/
 *    blockDim/gridDim (thread-local globals) before each call. Kernels
 *    must therefore not use shared memory or __syncthreads.
 *  - "Device memory" is host memory, but every allocation is recorded:
 *    cudaMemcpy* and the cuBLAS calls check that each pointer range lies
 *    inside one device allocation (and that host-side pointers do not),
 *    aborting with file:line otherwise, and the op wrappers check kernel
 *    arguments with vm_cuda_emu_check(). So a host pointer handed to an
 *    op, or a GEMM leading dimension that reads past a buffer, fails the
 *    test instead of silently working as it would on the host. New
 *    allocations are filled with NaN, so reading unwritten memory shows.
 *  - cuBLAS is re-implemented from its documented column-major semantics
 *    (naive loops, double accumulation), independent of the CPU backend.
 *  - Environment knobs (read at each call): VM_CUDA_EMU_MEM_BYTES caps
 *    the bytes cudaMalloc may hold (default 16 GiB; past it
 *    cudaErrorMemoryAllocation);
 *    VM_CUDA_EMU_DEVICES sets the device count (default 1);
 *    VM_CUDA_EMU_FAIL_LAUNCH=N makes the N-th kernel launch of the
 *    process fail (cudaErrorLaunchFailure from cudaGetLastError).
 *  - Single-threaded test infrastructure: the allocation table is not
 *    locked. Streams are synchronous.
 *
 * Not emulated: concurrency between streams, asynchronous errors, the
 * real numerics of the GPU (FMA contraction, cuBLAS's summation order). */
#ifndef VM_CUDA_EMU_H
#define VM_CUDA_EMU_H

#include <stddef.h>

typedef struct dim3 {
  unsigned x, y, z;
} dim3;

extern _Thread_local dim3 blockIdx, threadIdx, blockDim, gridDim;

#define __global__
#define __device__
#define __host__

/* ---- runtime ---- */
typedef enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorLaunchFailure = 719,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101
} cudaError_t;

typedef enum cudaMemcpyKind {
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3
} cudaMemcpyKind;

typedef struct vm_cuda_emu_stream *cudaStream_t;
#define cudaStreamNonBlocking 0x01u

const char *cudaGetErrorString(cudaError_t e);
cudaError_t cudaGetLastError(void);
cudaError_t cudaGetDeviceCount(int *n);
cudaError_t cudaSetDevice(int ordinal);
cudaError_t cudaMalloc(void **p, size_t n_bytes);
cudaError_t cudaFree(void *p);
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n_bytes, cudaMemcpyKind kind,
                            cudaStream_t st);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *st, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t st);
cudaError_t cudaStreamSynchronize(cudaStream_t st);

/* ---- cuBLAS ---- */
typedef enum cublasStatus {
  CUBLAS_STATUS_SUCCESS = 0,
  CUBLAS_STATUS_NOT_INITIALIZED = 1,
  CUBLAS_STATUS_ALLOC_FAILED = 3,
  CUBLAS_STATUS_INVALID_VALUE = 7,
  CUBLAS_STATUS_EXECUTION_FAILED = 13
} cublasStatus_t;

typedef enum cublasOperation { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 } cublasOperation_t;

typedef struct vm_cuda_emu_blas *cublasHandle_t;

const char *cublasGetStatusString(cublasStatus_t s);
cublasStatus_t cublasCreate(cublasHandle_t *h);
cublasStatus_t cublasDestroy(cublasHandle_t h);
cublasStatus_t cublasSetStream(cublasHandle_t h, cudaStream_t st);
/* C (m, n, ldc) = alpha op(A) op(B) + beta C, column-major; C is not read
 * when beta == 0 (as cuBLAS documents). */
cublasStatus_t cublasSgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
                           int n, int k, const float *alpha, const float *A, int lda,
                           const float *B, int ldb, const float *beta, float *C, int ldc);
/* The same for batch i = 0..n_batch-1 with A + i*sA, B + i*sB, C + i*sC. */
cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta,
                                         cublasOperation_t tb, int m, int n, int k,
                                         const float *alpha, const float *A, int lda,
                                         long long sA, const float *B, int ldb, long long sB,
                                         const float *beta, float *C, int ldc, long long sC,
                                         int n_batch);

/* ---- emulation hooks (used by asr_cuda_impl.h) ---- */
/* Aborts with file:line unless [p, p + n_bytes) lies inside one live
 * device allocation (n_bytes 0: p itself must lie inside one). */
void vm_cuda_emu_check(const void *p, size_t n_bytes, const char *what, const char *file,
                       int line);
/* Counts a launch; 0 when the launch may run, 1 when it is made to fail
 * (VM_CUDA_EMU_FAIL_LAUNCH) — the kernel is then skipped. */
int vm_cuda_emu_launch_begin(void);
/* Kernel launches so far (the next one is number count + 1). */
long vm_cuda_emu_launch_count(void);
/* Bytes cudaMalloc holds now (all devices). */
size_t vm_cuda_emu_bytes_in_use(void);

#endif /* VM_CUDA_EMU_H */
