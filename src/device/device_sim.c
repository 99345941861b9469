/* device_sim.c — simulated GPUs for tests.
 *
 * Each device has total_bytes of memory. Free memory is total minus what
 * "other processes" hold (vm_device_sim_other_set) minus what the engine
 * holds; an allocation that does not fit fails with VM_ENOMEM, exactly as
 * cudaMalloc would. On top, chosen allocation calls (1-based, counted over
 * all devices) fail with VM_ENOMEM even when they would fit, others with
 * VM_EGPU (a broken context), and the first K context opens fail with
 * VM_EGPU. Pointers are opaque tokens, never
 * dereferenced. All state is touched under the vm_device mutex.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "device_impl.h"
#include "vm_alloc.h"

typedef struct sim_gpu {
  int64_t held_bytes;  /* by the engine */
  int64_t other_bytes; /* by other processes */
  int n_contexts;      /* open contexts */
} sim_gpu;

typedef struct sim_ctx {
  vm_device_sim_config cfg;
  long *oom_at;         /* copy of cfg.oom_at_calls */
  long *gpu_err_at;     /* copy of cfg.gpu_error_at_calls */
  char name[64];
  sim_gpu *gpus;        /* (n_devices) */
  long n_alloc_calls;
  int n_init_calls;
  uintptr_t next_token;
} sim_ctx;

static int sim_info_get(void *ctx, int i, vm_device_info *out, vm_err *err) {
  sim_ctx *s = ctx;
  const sim_gpu *g = &s->gpus[i];
  snprintf(out->name, sizeof(out->name), "%s #%d", s->name, i);
  out->total_bytes = s->cfg.total_bytes;
  out->used_bytes = g->held_bytes + g->other_bytes;
  out->free_bytes = out->total_bytes - out->used_bytes;
  if (out->free_bytes < 0) out->free_bytes = 0;
  out->util_percent = g->held_bytes > 0 ? 50 : 0;
  out->temp_c = 40;
  return VM_OK;
}

static int sim_context_open(void *ctx, int i, vm_err *err) {
  sim_ctx *s = ctx;
  s->n_init_calls++;
  if (s->n_init_calls <= s->cfg.n_init_failures)
    return vm_err_set(err, VM_EGPU,
                      "simulated context creation failure %d of %d on GPU %d",
                      s->n_init_calls, s->cfg.n_init_failures, i);
  s->gpus[i].n_contexts++;
  return VM_OK;
}

static void sim_context_close(void *ctx, int i) {
  sim_ctx *s = ctx;
  if (s->gpus[i].n_contexts > 0) s->gpus[i].n_contexts--;
}

static int injected(const long *at, int n, long call) {
  for (int k = 0; k < n; k++)
    if (at[k] == call) return 1;
  return 0;
}

static int sim_mem_alloc(void *ctx, int i, size_t n_bytes, void **out_ptr,
                         vm_err *err) {
  sim_ctx *s = ctx;
  sim_gpu *g = &s->gpus[i];
  long call = ++s->n_alloc_calls;
  int64_t free_bytes = s->cfg.total_bytes - g->held_bytes - g->other_bytes;
  if (injected(s->gpu_err_at, s->cfg.n_gpu_error_at_calls, call))
    return vm_err_set(err, VM_EGPU,
                      "simulated context error on GPU %d (injected at allocation %ld)",
                      i, call);
  if (injected(s->oom_at, s->cfg.n_oom_at_calls, call))
    return vm_err_set(err, VM_ENOMEM,
                      "out of memory on GPU %d (injected at allocation %ld)",
                      i, call);
  if ((int64_t)n_bytes > free_bytes)
    return vm_err_set(err, VM_ENOMEM,
                      "out of memory on GPU %d: %zu bytes asked, %lld free", i,
                      n_bytes, (long long)(free_bytes > 0 ? free_bytes : 0));
  g->held_bytes += (int64_t)n_bytes;
  s->next_token += 16;
  *out_ptr = (void *)s->next_token;
  return VM_OK;
}

static void sim_mem_free(void *ctx, int i, void *ptr, size_t n_bytes) {
  sim_ctx *s = ctx;
  s->gpus[i].held_bytes -= (int64_t)n_bytes;
}

static void sim_close(void *ctx) {
  sim_ctx *s = ctx;
  if (!s) return;
  vm_free(s->oom_at);
  vm_free(s->gpu_err_at);
  vm_free(s->gpus);
  vm_free(s);
}

static const vm__device_ops sim_ops = {
    sim_info_get, sim_context_open, sim_context_close,
    sim_mem_alloc, sim_mem_free, sim_close};

int vm_device_open_sim(const vm_device_sim_config *cfg, vm_device **out,
                       vm_err *err) {
  *out = NULL;
  if (!cfg || cfg->n_devices < 0 || cfg->total_bytes < 0 ||
      cfg->n_oom_at_calls < 0 || (cfg->n_oom_at_calls && !cfg->oom_at_calls) ||
      cfg->n_gpu_error_at_calls < 0 ||
      (cfg->n_gpu_error_at_calls && !cfg->gpu_error_at_calls))
    return vm_err_set(err, VM_EINVAL, "bad simulated device configuration");
  int n = cfg->n_devices;
  sim_ctx *s = vm_calloc(1, sizeof(*s));
  if (!s) goto nomem;
  s->cfg = *cfg;
  s->gpus = vm_calloc((size_t)(n > 0 ? n : 1), sizeof(*s->gpus));
  s->oom_at = vm_calloc((size_t)cfg->n_oom_at_calls + 1, sizeof(long));
  s->gpu_err_at = vm_calloc((size_t)cfg->n_gpu_error_at_calls + 1, sizeof(long));
  if (!s->gpus || !s->oom_at || !s->gpu_err_at) goto nomem;
  if (cfg->n_gpu_error_at_calls)
    memcpy(s->gpu_err_at, cfg->gpu_error_at_calls,
           (size_t)cfg->n_gpu_error_at_calls * sizeof(long));
  s->cfg.gpu_error_at_calls = s->gpu_err_at;
  if (cfg->n_oom_at_calls)
    memcpy(s->oom_at, cfg->oom_at_calls,
           (size_t)cfg->n_oom_at_calls * sizeof(long));
  s->cfg.oom_at_calls = s->oom_at;
  snprintf(s->name, sizeof(s->name), "%s", cfg->name ? cfg->name : "vm-sim");
  s->cfg.name = s->name;
  s->next_token = 0x1000;
  if (vm__device_create(&sim_ops, s, VM_DEVICE_SOURCE_SIM, n, out) != VM_OK)
    return vm_err_set(err, VM_ENOMEM, "no memory for simulated device");
  return VM_OK;
nomem:
  sim_close(s);
  return vm_err_set(err, VM_ENOMEM, "no memory for simulated device");
}

int vm_device_sim_other_set(vm_device *dev, int i, int64_t bytes) {
  if (!dev || dev->source != VM_DEVICE_SOURCE_SIM || i < 0 ||
      i >= dev->n_devices || bytes < 0)
    return VM_EINVAL;
  pthread_mutex_lock(&dev->mu);
  ((sim_ctx *)dev->ctx)->gpus[i].other_bytes = bytes;
  pthread_mutex_unlock(&dev->mu);
  return VM_OK;
}

long vm_device_sim_alloc_calls(vm_device *dev) {
  if (!dev || dev->source != VM_DEVICE_SOURCE_SIM) return -1;
  pthread_mutex_lock(&dev->mu);
  long n = ((sim_ctx *)dev->ctx)->n_alloc_calls;
  pthread_mutex_unlock(&dev->mu);
  return n;
}
