/* vm_cuda_emu.c — the host emulation of the CUDA runtime and cuBLAS
 * subset declared in vm_cuda_emu.h (see there for the design). Test
 * infrastructure: aborts on misuse, never returns wrong data silently. */
#include "vm_cuda_emu.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Thread_local dim3 blockIdx, threadIdx, blockDim, gridDim;

typedef struct emu_alloc {
  unsigned char *p;
  size_t n_bytes;
} emu_alloc;

static emu_alloc *g_allocs; /* live device allocations */
static size_t g_n_allocs, g_cap_allocs, g_bytes;
static cudaError_t g_last; /* pending error for cudaGetLastError */
static long g_launches;
static int g_device;

static long env_long(const char *name, long dflt) {
  const char *v = getenv(name);
  return v && *v ? strtol(v, NULL, 10) : dflt;
}

static const emu_alloc *find(const void *p) {
  const unsigned char *c = p;
  for (size_t i = 0; i < g_n_allocs; i++)
    if (c >= g_allocs[i].p && c < g_allocs[i].p + g_allocs[i].n_bytes) return &g_allocs[i];
  return NULL;
}

static void die(const char *what, const void *p, size_t n, const char *file, int line) {
  fprintf(stderr, "%s:%d: CUDA emulation: %s (%p, %zu bytes) is not inside one device "
                  "allocation\n", file, line, what, p, n);
  abort();
}

void vm_cuda_emu_check(const void *p, size_t n_bytes, const char *what, const char *file,
                       int line) {
  const emu_alloc *a = p ? find(p) : NULL;
  if (!a || (size_t)((const unsigned char *)p - a->p) + n_bytes > a->n_bytes)
    die(what, p, n_bytes, file, line);
}

int vm_cuda_emu_launch_begin(void) {
  long fail_at = env_long("VM_CUDA_EMU_FAIL_LAUNCH", 0);
  g_launches++;
  if (fail_at > 0 && g_launches == fail_at) {
    g_last = cudaErrorLaunchFailure;
    return 1;
  }
  return 0;
}

long vm_cuda_emu_launch_count(void) { return g_launches; }

size_t vm_cuda_emu_bytes_in_use(void) { return g_bytes; }

/* ---- runtime ------------------------------------------------------------ */

const char *cudaGetErrorString(cudaError_t e) {
  switch (e) {
  case cudaSuccess: return "no error";
  case cudaErrorInvalidValue: return "invalid argument";
  case cudaErrorMemoryAllocation: return "out of memory";
  case cudaErrorLaunchFailure: return "unspecified launch failure";
  case cudaErrorNoDevice: return "no CUDA-capable device is detected";
  case cudaErrorInvalidDevice: return "invalid device ordinal";
  }
  return "unknown error";
}

cudaError_t cudaGetLastError(void) {
  cudaError_t e = g_last;
  g_last = cudaSuccess;
  return e;
}

cudaError_t cudaGetDeviceCount(int *n) {
  *n = (int)env_long("VM_CUDA_EMU_DEVICES", 1);
  return *n > 0 ? cudaSuccess : cudaErrorNoDevice;
}

cudaError_t cudaSetDevice(int ordinal) {
  int n;
  if (cudaGetDeviceCount(&n) != cudaSuccess) return cudaErrorNoDevice;
  if (ordinal < 0 || ordinal >= n) return cudaErrorInvalidDevice;
  g_device = ordinal;
  return cudaSuccess;
}

cudaError_t cudaMalloc(void **p, size_t n_bytes) {
  long cap = env_long("VM_CUDA_EMU_MEM_BYTES", 16L << 30); /* a 16 GiB device */
  *p = NULL;
  if (n_bytes == 0) n_bytes = 1;
  if (cap > 0 && g_bytes + n_bytes > (size_t)cap) return cudaErrorMemoryAllocation;
  if (g_n_allocs == g_cap_allocs) {
    size_t cap_n = g_cap_allocs ? 2 * g_cap_allocs : 256;
    emu_alloc *nw = realloc(g_allocs, cap_n * sizeof *nw);
    if (!nw) return cudaErrorMemoryAllocation;
    g_allocs = nw;
    g_cap_allocs = cap_n;
  }
  unsigned char *m = malloc(n_bytes);
  if (!m) return cudaErrorMemoryAllocation;
  const float nan = NAN; /* unwritten device memory reads as NaN */
  for (size_t i = 0; i + sizeof nan <= n_bytes; i += sizeof nan) memcpy(m + i, &nan, sizeof nan);
  g_allocs[g_n_allocs].p = m;
  g_allocs[g_n_allocs].n_bytes = n_bytes;
  g_n_allocs++;
  g_bytes += n_bytes;
  *p = m;
  return cudaSuccess;
}

cudaError_t cudaFree(void *p) {
  if (!p) return cudaSuccess;
  for (size_t i = 0; i < g_n_allocs; i++)
    if (g_allocs[i].p == p) {
      g_bytes -= g_allocs[i].n_bytes;
      free(p);
      g_allocs[i] = g_allocs[--g_n_allocs];
      return cudaSuccess;
    }
  return cudaErrorInvalidValue;
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n_bytes, cudaMemcpyKind kind,
                            cudaStream_t st) {
  (void)st;
  if (n_bytes == 0) return cudaSuccess;
  int dev_dst = kind != cudaMemcpyDeviceToHost, dev_src = kind != cudaMemcpyHostToDevice;
  if (dev_dst) vm_cuda_emu_check(dst, n_bytes, "cudaMemcpy destination", __FILE__, __LINE__);
  else if (find(dst)) die("cudaMemcpy host destination is device memory", dst, n_bytes,
                          __FILE__, __LINE__);
  if (dev_src) vm_cuda_emu_check(src, n_bytes, "cudaMemcpy source", __FILE__, __LINE__);
  else if (find(src)) die("cudaMemcpy host source is device memory", src, n_bytes, __FILE__,
                          __LINE__);
  memmove(dst, src, n_bytes);
  return cudaSuccess;
}

struct vm_cuda_emu_stream {
  int device;
};

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *st, unsigned flags) {
  (void)flags;
  *st = malloc(sizeof **st);
  if (!*st) return cudaErrorMemoryAllocation;
  (*st)->device = g_device;
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t st) {
  free(st);
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t st) {
  (void)st;
  return cudaSuccess;
}

/* ---- cuBLAS ------------------------------------------------------------- */

struct vm_cuda_emu_blas {
  cudaStream_t stream;
};

const char *cublasGetStatusString(cublasStatus_t s) {
  switch (s) {
  case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
  case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
  case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
  case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
  case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

cublasStatus_t cublasCreate(cublasHandle_t *h) {
  *h = calloc(1, sizeof **h);
  return *h ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_ALLOC_FAILED;
}

cublasStatus_t cublasDestroy(cublasHandle_t h) {
  free(h);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t h, cudaStream_t st) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  h->stream = st;
  return CUBLAS_STATUS_SUCCESS;
}

/* Elements spanned by a column-major matrix of r rows, c columns, ld. */
static size_t span(int r, int c, int ld) {
  return r == 0 || c == 0 ? 0 : (size_t)(c - 1) * (size_t)ld + (size_t)r;
}

static cublasStatus_t gemm_one(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                               float alpha, const float *A, int lda, const float *B, int ldb,
                               float beta, float *C, int ldc) {
  /* op(A) is (m, k): A is (m, k) for N, (k, m) for T; likewise B. */
  int ar = ta == CUBLAS_OP_N ? m : k, ac = ta == CUBLAS_OP_N ? k : m;
  int br = tb == CUBLAS_OP_N ? k : n, bc = tb == CUBLAS_OP_N ? n : k;
  if (m < 0 || n < 0 || k < 0 || lda < (ar > 1 ? ar : 1) || ldb < (br > 1 ? br : 1) ||
      ldc < (m > 1 ? m : 1))
    return CUBLAS_STATUS_INVALID_VALUE;
  if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
  if (k > 0) {
    vm_cuda_emu_check(A, span(ar, ac, lda) * sizeof(float), "cublasSgemm A", __FILE__, __LINE__);
    vm_cuda_emu_check(B, span(br, bc, ldb) * sizeof(float), "cublasSgemm B", __FILE__, __LINE__);
  }
  vm_cuda_emu_check(C, span(m, n, ldc) * sizeof(float), "cublasSgemm C", __FILE__, __LINE__);
  for (int j = 0; j < n; j++)
    for (int i = 0; i < m; i++) {
      double acc = 0.0;
      for (int l = 0; l < k; l++) {
        float a = ta == CUBLAS_OP_N ? A[i + (size_t)l * (size_t)lda]
                                    : A[l + (size_t)i * (size_t)lda];
        float b = tb == CUBLAS_OP_N ? B[l + (size_t)j * (size_t)ldb]
                                    : B[j + (size_t)l * (size_t)ldb];
        acc += (double)a * (double)b;
      }
      float *c = &C[i + (size_t)j * (size_t)ldc];
      *c = (float)((double)alpha * acc + (beta == 0.0f ? 0.0 : (double)beta * (double)*c));
    }
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
                           int n, int k, const float *alpha, const float *A, int lda,
                           const float *B, int ldb, const float *beta, float *C, int ldc) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  return gemm_one(ta, tb, m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc);
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta,
                                         cublasOperation_t tb, int m, int n, int k,
                                         const float *alpha, const float *A, int lda,
                                         long long sA, const float *B, int ldb, long long sB,
                                         const float *beta, float *C, int ldc, long long sC,
                                         int n_batch) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (n_batch < 0) return CUBLAS_STATUS_INVALID_VALUE;
  for (int i = 0; i < n_batch; i++) {
    cublasStatus_t s = gemm_one(ta, tb, m, n, k, *alpha, A + (ptrdiff_t)(i * sA), lda,
                                B + (ptrdiff_t)(i * sB), ldb, *beta, C + (ptrdiff_t)(i * sC), ldc);
    if (s != CUBLAS_STATUS_SUCCESS) return s;
  }
  return CUBLAS_STATUS_SUCCESS;
}
