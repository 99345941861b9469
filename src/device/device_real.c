/* device_real.c — the real GPUs, found at run time.
 *
 * DESIGN. Nothing here is linked at build time: libnvidia-ml.so.1 and the
 * CUDA runtime are opened with dlopen and only the few functions used are
 * declared (their C signatures from the NVML and CUDA runtime references;
 * the enums they return are plain ints). Order of preference:
 *   1. NVML — name, memory as the device reports it (not a framework's
 *      reserved figure), utilisation, temperature;
 *   2. CUDA runtime — device count and cudaMemGetInfo free/total;
 *   3. neither — zero devices, source NONE, the reason kept for the log.
 * The CUDA runtime, when present, also serves context creation and real
 * allocations (used by tools/gpu-check.sh to provoke a real out-of-memory).
 * NVML and CUDA may number devices differently unless
 * CUDA_DEVICE_ORDER=PCI_BUS_ID is set; docs/gpu.md says so.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "device_impl.h"
#include "vm_alloc.h"

#define NVML_OK 0
#define NVML_TEMPERATURE_GPU 0
#define CUDA_OK 0
#define CUDA_ERROR_MEMORY_ALLOCATION 2
#define MAX_GPUS 64

typedef struct nvml_memory { unsigned long long total, free, used; } nvml_memory;
typedef struct nvml_util { unsigned int gpu, memory; } nvml_util;

typedef struct nvml_api {
  void *lib;
  int (*init)(void);
  int (*shutdown)(void);
  int (*count)(unsigned int *);
  int (*handle)(unsigned int, void **);
  int (*name)(void *, char *, unsigned int);
  int (*mem)(void *, nvml_memory *);
  int (*util)(void *, nvml_util *);
  int (*temp)(void *, int, unsigned int *);
  const char *(*errstr)(int);
  void *handles[MAX_GPUS];
} nvml_api;

typedef struct cudart_api {
  void *lib;
  int (*count)(int *);
  int (*set_device)(int);
  int (*mem_info)(size_t *, size_t *);
  int (*malloc_fn)(void **, size_t);
  int (*free_fn)(void *);
  const char *(*errstr)(int);
} cudart_api;

typedef struct real_ctx {
  nvml_api nvml;  /* nvml.lib NULL when not used */
  cudart_api cu;  /* cu.lib NULL when absent */
  int nvml_up;    /* nvmlInit succeeded: call shutdown at close */
} real_ctx;

/* dlsym of the first name that exists (versioned names first). */
static void *sym(void *lib, const char *a, const char *b) {
  void *p = dlsym(lib, a);
  if (!p && b) p = dlsym(lib, b);
  return p;
}

/* POSIX guarantees a dlsym result can be used as a function pointer; the
 * store through void ** avoids an object-to-function pointer cast. */
#define LOAD(dst, lib, a, b) (*(void **)(&(dst)) = sym(lib, a, b))

static const char *nvml_text(const nvml_api *n, int rc) {
  return n->errstr ? n->errstr(rc) : "NVML error";
}

static const char *cuda_text(const cudart_api *c, int rc) {
  return c->errstr ? c->errstr(rc) : "CUDA error";
}

/* Opens NVML and reads the count; 0 devices and a reason on any failure. */
static int nvml_open(nvml_api *n, const char *path, int *out_up,
                     char *why, size_t why_len) {
  n->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!n->lib) {
    const char *msg = dlerror(); /* names the library already */
    snprintf(why, why_len, "%s", msg ? msg : path);
    return 0;
  }
  LOAD(n->init, n->lib, "nvmlInit_v2", "nvmlInit");
  LOAD(n->shutdown, n->lib, "nvmlShutdown", NULL);
  LOAD(n->count, n->lib, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount");
  LOAD(n->handle, n->lib, "nvmlDeviceGetHandleByIndex_v2",
       "nvmlDeviceGetHandleByIndex");
  LOAD(n->name, n->lib, "nvmlDeviceGetName", NULL);
  LOAD(n->mem, n->lib, "nvmlDeviceGetMemoryInfo", NULL);
  LOAD(n->util, n->lib, "nvmlDeviceGetUtilizationRates", NULL);
  LOAD(n->temp, n->lib, "nvmlDeviceGetTemperature", NULL);
  LOAD(n->errstr, n->lib, "nvmlErrorString", NULL);
  if (!n->init || !n->shutdown || !n->count || !n->handle || !n->mem) {
    snprintf(why, why_len, "%s lacks the functions used", path);
    return 0;
  }
  int rc = n->init();
  if (rc != NVML_OK) {
    snprintf(why, why_len, "nvmlInit: %s", nvml_text(n, rc));
    return 0;
  }
  *out_up = 1;
  unsigned int count = 0;
  rc = n->count(&count);
  if (rc != NVML_OK) {
    snprintf(why, why_len, "nvmlDeviceGetCount: %s", nvml_text(n, rc));
    return 0;
  }
  if (count > MAX_GPUS) count = MAX_GPUS;
  for (unsigned int i = 0; i < count; i++) {
    rc = n->handle(i, &n->handles[i]);
    if (rc != NVML_OK) {
      snprintf(why, why_len, "nvmlDeviceGetHandleByIndex(%u): %s", i,
               nvml_text(n, rc));
      return 0;
    }
  }
  if (count == 0) snprintf(why, why_len, "NVML sees no GPU");
  return (int)count;
}

/* Opens the CUDA runtime; returns its device count (0 on any failure). */
static int cudart_open(cudart_api *c, const char *path, char *why,
                       size_t why_len) {
  static const char *names[] = {"libcudart.so", "libcudart.so.13",
                                "libcudart.so.12", "libcudart.so.11.0"};
  for (size_t k = 0; !c->lib && k < sizeof(names) / sizeof(names[0]); k++)
    c->lib = dlopen(path ? path : names[k], RTLD_NOW | RTLD_LOCAL);
  if (!c->lib) {
    snprintf(why, why_len, "%s: not found", path ? path : "libcudart.so");
    return 0;
  }
  LOAD(c->count, c->lib, "cudaGetDeviceCount", NULL);
  LOAD(c->set_device, c->lib, "cudaSetDevice", NULL);
  LOAD(c->mem_info, c->lib, "cudaMemGetInfo", NULL);
  LOAD(c->malloc_fn, c->lib, "cudaMalloc", NULL);
  LOAD(c->free_fn, c->lib, "cudaFree", NULL);
  LOAD(c->errstr, c->lib, "cudaGetErrorString", NULL);
  if (!c->count || !c->set_device || !c->mem_info || !c->malloc_fn ||
      !c->free_fn) {
    dlclose(c->lib);
    memset(c, 0, sizeof(*c));
    snprintf(why, why_len, "CUDA runtime lacks the functions used");
    return 0;
  }
  int n = 0;
  int rc = c->count(&n);
  if (rc != CUDA_OK) {
    snprintf(why, why_len, "cudaGetDeviceCount: %s", cuda_text(c, rc));
    return 0;
  }
  if (n == 0) snprintf(why, why_len, "CUDA runtime sees no GPU");
  return n > MAX_GPUS ? MAX_GPUS : n;
}

static int real_info_get(void *ctx, int i, vm_device_info *out, vm_err *err) {
  real_ctx *r = ctx;
  if (r->nvml.lib) {
    nvml_api *n = &r->nvml;
    void *h = n->handles[i];
    nvml_memory m;
    int rc = n->mem(h, &m);
    if (rc != NVML_OK)
      return vm_err_set(err, VM_EGPU, "nvmlDeviceGetMemoryInfo(%d): %s", i,
                        nvml_text(n, rc));
    out->total_bytes = (int64_t)m.total;
    out->free_bytes = (int64_t)m.free;
    out->used_bytes = (int64_t)m.used;
    if (!n->name || n->name(h, out->name, sizeof(out->name)) != NVML_OK)
      snprintf(out->name, sizeof(out->name), "GPU %d", i);
    nvml_util u;
    if (n->util && n->util(h, &u) == NVML_OK) out->util_percent = (int)u.gpu;
    unsigned int t;
    if (n->temp && n->temp(h, NVML_TEMPERATURE_GPU, &t) == NVML_OK)
      out->temp_c = (int)t;
    return VM_OK;
  }
  cudart_api *c = &r->cu;
  size_t free_b = 0, total_b = 0;
  int rc = c->set_device(i);
  if (rc == CUDA_OK) rc = c->mem_info(&free_b, &total_b);
  if (rc != CUDA_OK)
    return vm_err_set(err, VM_EGPU, "cudaMemGetInfo(%d): %s", i,
                      cuda_text(c, rc));
  snprintf(out->name, sizeof(out->name), "CUDA device %d", i);
  out->total_bytes = (int64_t)total_b;
  out->free_bytes = (int64_t)free_b;
  out->used_bytes = (int64_t)(total_b - free_b);
  return VM_OK;
}

static int real_context_open(void *ctx, int i, vm_err *err) {
  cudart_api *c = &((real_ctx *)ctx)->cu;
  if (!c->lib) return vm_err_set(err, VM_EGPU, "no CUDA runtime loaded");
  int rc = c->set_device(i);
  if (rc == CUDA_OK) rc = c->free_fn(NULL); /* forces context creation */
  if (rc != CUDA_OK)
    return vm_err_set(err, VM_EGPU, "CUDA context on GPU %d: %s", i,
                      cuda_text(c, rc));
  return VM_OK;
}

static void real_context_close(void *ctx, int i) {
  /* The primary context lives until the process ends; nothing to undo. */
}

static int real_mem_alloc(void *ctx, int i, size_t n_bytes, void **out_ptr,
                          vm_err *err) {
  cudart_api *c = &((real_ctx *)ctx)->cu;
  if (!c->lib) return vm_err_set(err, VM_EGPU, "no CUDA runtime loaded");
  int rc = c->set_device(i);
  if (rc == CUDA_OK) rc = c->malloc_fn(out_ptr, n_bytes);
  if (rc == CUDA_ERROR_MEMORY_ALLOCATION)
    return vm_err_set(err, VM_ENOMEM, "cudaMalloc(%zu) on GPU %d: %s",
                      n_bytes, i, cuda_text(c, rc));
  if (rc != CUDA_OK)
    return vm_err_set(err, VM_EGPU, "cudaMalloc(%zu) on GPU %d: %s", n_bytes,
                      i, cuda_text(c, rc));
  return VM_OK;
}

static void real_mem_free(void *ctx, int i, void *ptr, size_t n_bytes) {
  cudart_api *c = &((real_ctx *)ctx)->cu;
  if (c->lib && c->set_device(i) == CUDA_OK) c->free_fn(ptr);
}

static void real_close(void *ctx) {
  real_ctx *r = ctx;
  if (!r) return;
  if (r->nvml_up) r->nvml.shutdown();
  if (r->nvml.lib) dlclose(r->nvml.lib);
  if (r->cu.lib) dlclose(r->cu.lib);
  vm_free(r);
}

static const vm__device_ops real_ops = {
    real_info_get, real_context_open, real_context_close,
    real_mem_alloc, real_mem_free, real_close};

int vm_device_open_real(const vm_device_real_config *cfg, vm_device **out,
                        vm_err *err) {
  *out = NULL;
  vm_err_clear(err);
  real_ctx *r = vm_calloc(1, sizeof(*r));
  if (!r) return vm_err_set(err, VM_ENOMEM, "no memory for GPU state");
  const char *nvml_path = cfg && cfg->nvml_lib ? cfg->nvml_lib
                                               : "libnvidia-ml.so.1";
  char why_nvml[200] = "", why_cuda[200] = "";
  enum vm_device_source src = VM_DEVICE_SOURCE_NVML;
  int n = nvml_open(&r->nvml, nvml_path, &r->nvml_up, why_nvml,
                    sizeof(why_nvml));
  int n_cuda = cudart_open(&r->cu, cfg ? cfg->cudart_lib : NULL, why_cuda,
                           sizeof(why_cuda));
  if (n == 0) {
    if (r->nvml_up) r->nvml.shutdown();
    r->nvml_up = 0;
    if (r->nvml.lib) dlclose(r->nvml.lib);
    memset(&r->nvml, 0, sizeof(r->nvml));
    src = n_cuda > 0 ? VM_DEVICE_SOURCE_CUDART : VM_DEVICE_SOURCE_NONE;
    n = n_cuda;
  }
  if (src == VM_DEVICE_SOURCE_NONE && err)
    snprintf(err->msg, sizeof(err->msg), "no GPU: %s; %s", why_nvml,
             why_cuda);
  else if (src == VM_DEVICE_SOURCE_NVML && n_cuda == 0 && err)
    snprintf(err->msg, sizeof(err->msg),
             "NVML sees %d GPU(s) but the CUDA runtime does not: %s", n,
             why_cuda);
  int rc = vm__device_create(&real_ops, r, src, n, out);
  if (rc) return vm_err_set(err, rc, "no memory for GPU state");
  return VM_OK;
}
