/* device.h — GPU discovery, memory accounting and memory-sized batching.
 *
 * What it does: puts "a set of GPUs" behind one small interface with two
 * implementations — the real one (NVML opened at run time with dlopen,
 * falling back to the CUDA runtime, then to "no GPU"; nothing is linked at
 * build time) and a simulated one for tests (given memory, a budget that
 * refuses allocations past it, out-of-memory injected at chosen calls,
 * context creation failing the first K times). On top of that interface:
 * the memory one 30 s chunk needs from the Whisper dimensions, the
 * micro-batch size that fits, an executor that halves on out-of-memory,
 * an engine lifecycle with retries, and one worker thread per device.
 *
 * What it does not do: run Whisper on a GPU (asr/cuda), parse CLI options
 * (app), or schedule files (pipeline). Callbacks stand in for the engine.
 *
 * Usage:
 *   vm_device *dev = NULL;
 *   vm_device_open_real(NULL, &dev, &err);          // never fails for "no GPU"
 *   if (vm_device_count(dev) > 0) {
 *     vm_device_info info;
 *     vm_device_info_get(dev, 0, &info, &err);      // name, free, used, temp
 *     int64_t chunk = vm_device_chunk_bytes(&dims, VM_DEVICE_PRECISION_F16, 5);
 *     int n;
 *     vm_device_batch_size(info.free_bytes, chunk, &limits, &n);
 *   }
 *   vm_device_close(dev);
 *
 * Thread safety: a vm_device may be shared by threads; every call on it is
 * serialised by an internal mutex. Other objects are single-threaded.
 */
#ifndef VM_DEVICE_H
#define VM_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "vm_status.h"

/* ---- device set and readings --------------------------------------- */

typedef struct vm_device vm_device;

enum vm_device_source {
  VM_DEVICE_SOURCE_NONE = 0, /* no GPU usable: CPU only */
  VM_DEVICE_SOURCE_NVML,     /* libnvidia-ml.so.1 (monitoring) */
  VM_DEVICE_SOURCE_CUDART,   /* CUDA runtime only (free/total, no temp) */
  VM_DEVICE_SOURCE_SIM       /* simulated device (tests) */
};

typedef struct vm_device_info {
  char name[96];
  int64_t total_bytes;  /* device memory */
  int64_t used_bytes;   /* by every process, as the device reports it */
  int64_t free_bytes;   /* what an allocation can still get */
  int util_percent;     /* GPU utilisation 0..100, -1 if unknown */
  int temp_c;           /* degrees Celsius, -1 if unknown */
  int64_t engine_bytes; /* bytes this process holds through vm_device_mem_alloc */
} vm_device_info;

/* Machine side, for the CPU backend's budget (read from /proc). */
typedef struct vm_device_host_info {
  int64_t rss_bytes;           /* this process */
  int64_t mem_available_bytes; /* MemAvailable */
  double cpu_seconds;          /* user + system so far; two readings give use */
  int n_cores;
} vm_device_host_info;

/* Library names for the real backend; NULL fields take the defaults
 * ("libnvidia-ml.so.1"; "libcudart.so" and its versioned names). */
typedef struct vm_device_real_config {
  const char *nvml_lib;
  const char *cudart_lib;
} vm_device_real_config;

/* Opens the real GPUs. Succeeds with vm_device_count() == 0 and source
 * NONE when there is no driver, no library or no device; the reason is in
 * err's message (err->code stays VM_OK). Fails only on VM_ENOMEM.
 * cfg may be NULL. Close with vm_device_close. */
int vm_device_open_real(const vm_device_real_config *cfg, vm_device **out,
                        vm_err *err);

typedef struct vm_device_sim_config {
  int n_devices;
  int64_t total_bytes;      /* per device */
  const char *name;         /* NULL: "vm-sim" */
  const long *oom_at_calls; /* 1-based allocation call numbers (counted
                               over all devices) that fail with VM_ENOMEM */
  int n_oom_at_calls;
  int n_init_failures;      /* the first K vm_device_context_open calls fail */
  const long *gpu_error_at_calls; /* allocation call numbers (as above) that
                               fail with VM_EGPU: a context the engine must
                               tear down and re-create */
  int n_gpu_error_at_calls;
} vm_device_sim_config;

/* Opens n simulated devices. Free memory = total - other processes' use
 * (vm_device_sim_other_set) - what the engine holds; an allocation that
 * does not fit fails with VM_ENOMEM. */
int vm_device_open_sim(const vm_device_sim_config *cfg, vm_device **out,
                       vm_err *err);
/* Simulates another process holding bytes on device i (sim only). */
int vm_device_sim_other_set(vm_device *dev, int i, int64_t bytes);
/* Allocation calls made so far over all devices (sim only; else -1). */
long vm_device_sim_alloc_calls(vm_device *dev);

/* Releases everything; NULL is fine. Memory still held is freed. */
void vm_device_close(vm_device *dev);

int vm_device_count(vm_device *dev);
enum vm_device_source vm_device_source_get(vm_device *dev);
const char *vm_device_source_name(enum vm_device_source src);

/* Current readings of device i. VM_EINVAL for a bad index, VM_EGPU when
 * the library refuses (message in err). */
int vm_device_info_get(vm_device *dev, int i, vm_device_info *out,
                       vm_err *err);
/* Process RSS, MemAvailable, CPU time. Never fails (zeros if unknown). */
void vm_device_host_get(vm_device_host_info *out);

/* Creates the compute context on device i (CUDA: cudaSetDevice and a
 * first call). VM_EGPU on failure. Pair with vm_device_context_close. */
int vm_device_context_open(vm_device *dev, int i, vm_err *err);
void vm_device_context_close(vm_device *dev, int i);

/* Device memory for the engine. *out_ptr is a device pointer (sim: an
 * opaque token), owned by the caller until vm_device_mem_free with the
 * same size. VM_ENOMEM when it does not fit, VM_EGPU with no runtime.
 * Every byte is counted in vm_device_info.engine_bytes. */
int vm_device_mem_alloc(vm_device *dev, int i, size_t n_bytes,
                        void **out_ptr, vm_err *err);
void vm_device_mem_free(vm_device *dev, int i, void *ptr, size_t n_bytes);
/* Bytes held through vm_device_mem_alloc on device i. */
int64_t vm_device_engine_bytes(vm_device *dev, int i);

/* ---- memory sizing -------------------------------------------------- */

/* The Whisper dimensions that sizing needs (a copy of vm_asr_hparams'
 * fields, so that device does not link asr). */
typedef struct vm_device_model_dims {
  int32_t n_vocab;
  int32_t n_audio_ctx;   /* 1500 = 30 s */
  int32_t n_audio_state;
  int32_t n_audio_head;
  int32_t n_audio_layer;
  int32_t n_text_ctx;    /* 448 */
  int32_t n_text_state;
  int32_t n_text_head;
  int32_t n_text_layer;
  int32_t n_mels;
} vm_device_model_dims;

enum vm_device_precision {
  VM_DEVICE_PRECISION_F32 = 4, /* value = bytes per element */
  VM_DEVICE_PRECISION_F16 = 2
};

/* Dimensions of the released models: "tiny", "base", "small", "medium",
 * "large-v3" (and "large" = large-v3). VM_EINVAL for another name. */
int vm_device_model_dims_preset(const char *name, vm_device_model_dims *out);
/* Bytes of the weights at this precision (what the resident model takes). */
int64_t vm_device_model_bytes(const vm_device_model_dims *m,
                              enum vm_device_precision prec);
/* Bytes one 30 s chunk needs while it is transcribed with n_beams beams:
 * peak of encoder and decoder activations, cross-attention K/V, one
 * self-attention K/V per beam, logits. Formula in docs/gpu.md. */
int64_t vm_device_chunk_bytes(const vm_device_model_dims *m,
                              enum vm_device_precision prec, int n_beams);

typedef struct vm_device_batch_limits {
  double mem_fraction; /* share of free memory to use (--gpu-mem-fraction, 0.9) */
  int min_batch;       /* >= 1 */
  int max_batch;       /* --max-micro-batch */
} vm_device_batch_limits;

/* Fills the defaults: 0.9, 1, 16. */
void vm_device_batch_limits_default(vm_device_batch_limits *out);
/* *out_n = clamp(floor(free_bytes * fraction / chunk_bytes), min, max).
 * Used for GPUs (free = device free) and for the CPU (free = MemAvailable).
 * Returns VM_ENOMEM (with *out_n = min) when not even one chunk fits, so the
 * caller knows the result is a floor, not a fit; VM_EINVAL for bad limits. */
int vm_device_batch_size(int64_t free_bytes, int64_t chunk_bytes,
                         const vm_device_batch_limits *lim, int *out_n);

/* ---- micro-batch executor ------------------------------------------- */

/* Processes chunks [i_first, i_first + n) on device i_device. Returns VM_OK,
 * VM_ENOMEM (out of memory: it must have freed what it allocated for this
 * call; the executor halves and retries), VM_EGPU (the device is lost: its
 * context could not be restored; the worker gives the claimed chunks back
 * to the queue for the other devices and stops; when no device is left
 * they fail with err's reason) or another code (the executor halves to
 * isolate the chunk; alone, it fails with err's reason). The
 * same chunks may come again after a failure, so fn commits results only
 * when it returns VM_OK. Called from the device's worker thread; with
 * several devices, from several threads at once. */
typedef int (*vm_device_batch_fn)(void *user, vm_device *dev, int i_device,
                                  int i_first, int n, vm_err *err);

/* The largest batch device i's engine takes now (its capacity), or 0 for
 * no cap. Called from the device's worker thread. */
typedef int (*vm_device_cap_fn)(void *user, int i_device);

typedef struct vm_device_exec_config {
  int n_chunks;
  int64_t chunk_bytes;          /* from vm_device_chunk_bytes */
  vm_device_batch_limits limits;
  vm_device_batch_fn fn;
  void *user;
  vm_device_cap_fn cap;         /* optional per-device cap */
  int preallocated;             /* 1: the engine allocated its batch memory
                                   when it was created (sized then), so the
                                   batch is min(cap, ceiling, max_batch) and
                                   free memory is not re-read; 0: the engine
                                   allocates per batch, sized from the free
                                   memory read before each micro-batch */
} vm_device_exec_config;

/* Outcome of one chunk. */
typedef struct vm_device_chunk_result {
  int status;       /* VM_OK or why it failed */
  int i_device;     /* device that finished (or failed) it */
  char reason[160]; /* failure reason, "" when VM_OK */
} vm_device_chunk_result;

typedef struct vm_device_exec_stats {
  int n_batches;   /* calls of fn that succeeded */
  int n_oom;       /* calls that returned VM_ENOMEM */
  int n_failed;    /* chunks that failed */
  int n_lost;      /* devices lost during the run (fn returned VM_EGPU) */
  int max_batch;   /* largest batch that succeeded */
  int min_batch;   /* smallest batch that was tried */
} vm_device_exec_stats;

/* Runs every chunk on the listed devices, one worker thread per device,
 * all taking work from one shared queue; each chunk is finished by exactly
 * one worker. Before each micro-batch the worker re-reads free memory and
 * sizes the batch; on VM_ENOMEM it halves (down to 1) and keeps the
 * smaller ceiling for the rest of the run (it does not grow back); a chunk
 * that fails alone is recorded failed.
 * out_results has n_chunks entries. Returns VM_OK when the run completed
 * (even with failed chunks), VM_EINTERNAL if fn leaked device memory on a
 * failure, VM_EINVAL / VM_ENOMEM for bad arguments / no memory. */
int vm_device_exec_run(vm_device *dev, const int *devices, int n_devices,
                       const vm_device_exec_config *cfg,
                       vm_device_chunk_result *out_results,
                       vm_device_exec_stats *out_stats, vm_err *err);

/* ---- engine service lifecycle ---------------------------------------- */

/* The engine behind callbacks: create loads and allocates (and on failure
 * frees what it made), warmup runs a short generated input, destroy frees. */
typedef struct vm_device_engine_ops {
  int (*create)(void *user, vm_device *dev, int i_device, void **out_engine,
                vm_err *err);
  int (*warmup)(void *user, void *engine, vm_err *err);
  void (*destroy)(void *user, void *engine);
} vm_device_engine_ops;

enum vm_device_mode {
  VM_DEVICE_MODE_AUTO = 0, /* --device auto: GPU if it comes up, else CPU */
  VM_DEVICE_MODE_CUDA      /* --device cuda: GPU or a clear error */
};

enum vm_device_service_state {
  VM_DEVICE_SERVICE_READY = 0,   /* engine created and warmed up */
  VM_DEVICE_SERVICE_CPU_FALLBACK /* GPU gave up; caller runs the CPU backend */
};

typedef struct vm_device_service_config {
  enum vm_device_mode mode;
  int n_retries;     /* --init-retries: attempts after the first */
  double backoff_s;  /* wait before the first retry; doubles each time */
} vm_device_service_config;

typedef struct vm_device_service vm_device_service;

/* create -> warm-up -> ready on device i, retrying with back-off. Each
 * failed attempt destroys the engine, closes the context and checks that
 * the device holds no engine memory before the next. After the last
 * failure: AUTO returns VM_OK with state CPU_FALLBACK (reason in err's
 * message, err->code VM_OK); CUDA returns VM_EGPU with the reason.
 * On VM_OK *out must be closed with vm_device_service_close. */
int vm_device_service_open(vm_device *dev, int i_device,
                           const vm_device_service_config *cfg,
                           const vm_device_engine_ops *ops, void *user,
                           vm_device_service **out, vm_err *err);
void vm_device_service_close(vm_device_service *svc);
enum vm_device_service_state vm_device_service_state_get(
    const vm_device_service *svc);
/* The engine (NULL in CPU_FALLBACK); valid until vm_device_service_close. */
void *vm_device_service_engine_get(const vm_device_service *svc);
/* Attempts made (1 + retries used). */
int vm_device_service_attempts(const vm_device_service *svc);

#endif /* VM_DEVICE_H */
