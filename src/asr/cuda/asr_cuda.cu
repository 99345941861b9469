/* asr_cuda.cu — the CUDA backend of the Whisper engine: context, device
 * selection, memory, weights, errors (the ops are in asr_cuda_ops.cu).
 *
 * DESIGN: one backend = one device ordinal, one non-blocking stream and
 * one cuBLAS handle bound to that stream. Every entry point selects the
 * backend's device first (cudaSetDevice is per host thread, and the
 * pipeline may drive several GPUs from several threads, one backend
 * each). Ops are queued on the stream and return at once; upload and
 * download synchronise the stream (so host buffers may be reused at once
 * and downloaded data is complete).
 *
 * Memory: every cudaMalloc is recorded in c->mem (buffers with key NULL,
 * weight copies keyed by the host address of the weight), so bytes() is
 * exact, weight() finds an uploaded weight again, and destroy() frees
 * whatever is left. Weights are kept as f32 (no binary16 copies yet).
 *
 * Errors (STYLE §4.3.7): cudaError_t and cublasStatus_t are translated
 * here, once: out of memory -> VM_ENOMEM, anything else -> VM_EGPU, with
 * the runtime's text. The first failure is sticky: later ops do nothing,
 * status() reports it, and the state must be destroyed (the pipeline
 * falls back to the CPU or fails the job). Kernel launch errors are read
 * with cudaGetLastError after each launch; errors during execution
 * surface at the next synchronisation (download, status).
 *
 * Compiled by nvcc, or as C11 under the host emulation (asr_cuda_impl.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asr_cuda_impl.h"

#ifdef __cplusplus
extern "C" {
#endif
#include "vm_alloc.h"
#ifdef __cplusplus
}
#endif

static void set_fail(vm_asr_cuda *c, int code, const char *what, const char *text) {
  if (c->status != VM_OK) return;
  c->status = code;
  snprintf(c->msg, sizeof c->msg, "CUDA device %d: %s: %s", c->ordinal, what, text);
}

int vm__asr_cuda_ok(vm_asr_cuda *c, cudaError_t e, const char *what) {
  if (e == cudaSuccess) return 1;
  set_fail(c, e == cudaErrorMemoryAllocation ? VM_ENOMEM : VM_EGPU, what,
           cudaGetErrorString(e));
  return 0;
}

int vm__asr_cuda_blas_ok(vm_asr_cuda *c, cublasStatus_t s, const char *what) {
  if (s == CUBLAS_STATUS_SUCCESS) return 1;
  set_fail(c, s == CUBLAS_STATUS_ALLOC_FAILED ? VM_ENOMEM : VM_EGPU, what,
           cublasGetStatusString(s));
  return 0;
}

int vm__asr_cuda_begin(vm_asr_cuda *c) {
  if (c->status != VM_OK) return 0;
  return vm__asr_cuda_ok(c, cudaSetDevice(c->ordinal), "cudaSetDevice");
}

/* ---- memory ------------------------------------------------------------- */

/* n floats of device memory recorded under key; NULL on failure (sticky). */
static float *dev_alloc(vm_asr_cuda *c, const float *key, size_t n) {
  void *p = NULL;
  if (!vm__asr_cuda_begin(c)) return NULL;
  if (c->n_mem == c->cap_mem) {
    size_t cap = c->cap_mem ? 2 * c->cap_mem : 64;
    vm_asr_cuda_mem *nw = (vm_asr_cuda_mem *)vm_realloc(c->mem, cap * sizeof *nw);
    if (!nw) {
      set_fail(c, VM_ENOMEM, "host allocation", "out of memory");
      return NULL;
    }
    c->mem = nw;
    c->cap_mem = cap;
  }
  if (!vm__asr_cuda_ok(c, cudaMalloc(&p, (n ? n : 1) * sizeof(float)), "cudaMalloc"))
    return NULL;
  c->mem[c->n_mem].key = key;
  c->mem[c->n_mem].dev = (float *)p;
  c->mem[c->n_mem].n = n;
  c->n_mem++;
  c->n_bytes += n * sizeof(float);
  return (float *)p;
}

static float *cuda_mem_alloc(void *ctx, size_t n) {
  return dev_alloc((vm_asr_cuda *)ctx, NULL, n);
}

static void cuda_mem_free(void *ctx, float *p) {
  vm_asr_cuda *c = (vm_asr_cuda *)ctx;
  if (!p) return;
  for (size_t i = 0; i < c->n_mem; i++)
    if (c->mem[i].dev == p) {
      cudaSetDevice(c->ordinal); /* a failure here is already sticky or harmless */
      cudaFree(p);
      c->n_bytes -= c->mem[i].n * sizeof(float);
      c->mem[i] = c->mem[--c->n_mem];
      return;
    }
  VM_ASSERT(!"mem_free of a pointer this backend did not allocate");
}

static void cuda_upload(void *ctx, float *dst, const float *src, size_t n) {
  vm_asr_cuda *c = (vm_asr_cuda *)ctx;
  if (!vm__asr_cuda_begin(c) || n == 0) return;
  if (vm__asr_cuda_ok(c, cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyHostToDevice,
                                         c->stream), "upload"))
    vm__asr_cuda_ok(c, cudaStreamSynchronize(c->stream), "upload (synchronise)");
}

static void cuda_download(void *ctx, float *dst, const float *src, size_t n) {
  vm_asr_cuda *c = (vm_asr_cuda *)ctx;
  if (!vm__asr_cuda_begin(c) || n == 0) return;
  if (vm__asr_cuda_ok(c, cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyDeviceToHost,
                                         c->stream), "download"))
    vm__asr_cuda_ok(c, cudaStreamSynchronize(c->stream), "download (synchronise)");
}

static float *cuda_weight(void *ctx, const float *host, size_t n) {
  vm_asr_cuda *c = (vm_asr_cuda *)ctx;
  for (size_t i = 0; i < c->n_mem; i++) /* a few hundred tensors, at setup */
    if (c->mem[i].key == host) return c->mem[i].dev;
  float *d = dev_alloc(c, host, n);
  if (!d) return NULL;
  cuda_upload(c, d, host, n);
  return c->status == VM_OK ? d : NULL;
}

static int cuda_status(void *ctx, vm_err *err) {
  vm_asr_cuda *c = (vm_asr_cuda *)ctx;
  if (vm__asr_cuda_begin(c))
    vm__asr_cuda_ok(c, cudaStreamSynchronize(c->stream), "synchronise");
  if (c->status == VM_OK) return VM_OK;
  return vm_err_set(err, c->status, "%s", c->msg);
}

/* ---- setup -------------------------------------------------------------- */

/* Makes *buf hold at least n floats (scratch is only ever grown). */
static int grow(vm_asr_cuda *c, float **buf, size_t *have, size_t n) {
  if (n <= *have) return VM_OK;
  cuda_mem_free(c, *buf);
  *buf = NULL;
  *have = 0;
  if (!(*buf = dev_alloc(c, NULL, n))) return VM_ENOMEM;
  *have = n;
  return VM_OK;
}

static int cuda_reserve(void *ctx, size_t n_q, size_t n_kv, size_t n_cols) {
  vm_asr_cuda *c = (vm_asr_cuda *)ctx;
  size_t n_scores = VM_ASR_CUDA_ATTN_HEADS * n_q * n_kv;
  if (grow(c, &c->scores, &c->n_scores, n_scores) != VM_OK ||
      grow(c, &c->cols, &c->n_cols, n_cols) != VM_OK ||
      (!c->simple && grow(c, &c->part, &c->n_part, n_scores / 16 + 64) != VM_OK))
    return c->status == VM_OK ? VM_ENOMEM : c->status;
  return VM_OK;
}

/* f32 weights are used as they are (a binary16 copy for cublasGemmEx
 * would halve a decode step's traffic: docs/asr-cuda.md). */
static int cuda_prepare(void *ctx, const float *w, int n, int k) {
  (void)ctx;
  (void)w;
  (void)n;
  (void)k;
  return VM_OK;
}

static size_t cuda_bytes(void *ctx) { return ((vm_asr_cuda *)ctx)->n_bytes; }

static void cuda_destroy(void *ctx) {
  vm_asr_cuda *c = (vm_asr_cuda *)ctx;
  if (!c) return;
  cudaSetDevice(c->ordinal);
  if (c->stream) cudaStreamSynchronize(c->stream);
  for (size_t i = 0; i < c->n_mem; i++) cudaFree(c->mem[i].dev);
  if (c->blas) cublasDestroy(c->blas);
  if (c->stream) cudaStreamDestroy(c->stream);
  vm_free(c->mem);
  vm_free(c);
}

int vm__asr_backend_cuda_init(int ordinal, vm_asr_backend_i *out, vm_err *err) {
  int n_dev = 0, rc = VM_OK;
  memset(out, 0, sizeof *out);
  vm_asr_cuda *c = (vm_asr_cuda *)vm_calloc(1, sizeof *c);
  if (!c) return vm_err_set(err, VM_ENOMEM, "out of memory");
  c->ordinal = ordinal;
  const char *simple = getenv("VM_ASR_CUDA_SIMPLE");
  c->simple = simple && *simple && strcmp(simple, "0") != 0;
  cudaError_t e = cudaGetDeviceCount(&n_dev);
  if (e != cudaSuccess || n_dev == 0) {
    rc = vm_err_set(err, VM_EGPU, "no usable CUDA device: %s",
                    e != cudaSuccess ? cudaGetErrorString(e) : "none found");
    goto fail;
  }
  if (ordinal >= n_dev) {
    rc = vm_err_set(err, VM_EGPU, "no CUDA device %d (%d found)", ordinal, n_dev);
    goto fail;
  }
  if (vm__asr_cuda_begin(c) &&
      vm__asr_cuda_ok(c, cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking),
                      "cudaStreamCreate") &&
      vm__asr_cuda_blas_ok(c, cublasCreate(&c->blas), "cublasCreate"))
    vm__asr_cuda_blas_ok(c, cublasSetStream(c->blas, c->stream), "cublasSetStream");
  if (c->status != VM_OK) {
    rc = vm_err_set(err, c->status, "%s", c->msg);
    goto fail;
  }
  out->name = "cuda";
  out->ctx = c;
  out->host_mem = 0;
  out->mem_alloc = cuda_mem_alloc;
  out->mem_free = cuda_mem_free;
  out->upload = cuda_upload;
  out->download = cuda_download;
  out->copy_items = vm__asr_cuda_copy_items;
  out->weight = cuda_weight;
  out->status = cuda_status;
  out->reserve = cuda_reserve;
  out->prepare = cuda_prepare;
  out->bytes = cuda_bytes;
  out->linear = vm__asr_cuda_linear;
  out->layernorm = vm__asr_cuda_layernorm;
  out->gelu = vm__asr_cuda_gelu;
  out->add = vm__asr_cuda_add;
  out->attention = vm__asr_cuda_attention;
  out->conv1d = vm__asr_cuda_conv1d;
  out->destroy = cuda_destroy;
  return VM_OK;
fail:
  cuda_destroy(c);
  return rc;
}
