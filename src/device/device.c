/* device.c — the backend-independent side of vm_device.
 *
 * Holds the mutex and the per-device count of bytes the engine holds, so
 * that "engine bytes" is exact for every backend: it is the sum of sizes
 * of successful vm_device_mem_alloc calls minus the frees, never a figure
 * the framework or driver reports. Host readings come from /proc (vm_sys).
 */
#include <stdlib.h>
#include <string.h>

#include "device_impl.h"
#include "vm_alloc.h"
#include "vm_sys.h"

int vm__device_create(const vm__device_ops *ops, void *ctx,
                      enum vm_device_source source, int n_devices,
                      vm_device **out) {
  *out = NULL;
  vm_device *dev = vm_calloc(1, sizeof(*dev));
  int64_t *held = vm_calloc((size_t)(n_devices > 0 ? n_devices : 1),
                            sizeof(*held));
  if (!dev || !held) goto fail;
  if (pthread_mutex_init(&dev->mu, NULL) != 0) goto fail;
  dev->ops = ops;
  dev->ctx = ctx;
  dev->source = source;
  dev->n_devices = n_devices;
  dev->engine_bytes = held;
  *out = dev;
  return VM_OK;
fail:
  vm_free(held);
  vm_free(dev);
  if (ops && ops->close) ops->close(ctx);
  return VM_ENOMEM;
}

void vm_device_close(vm_device *dev) {
  if (!dev) return;
  if (dev->ops && dev->ops->close) dev->ops->close(dev->ctx);
  pthread_mutex_destroy(&dev->mu);
  vm_free(dev->engine_bytes);
  vm_free(dev);
}

int vm_device_count(vm_device *dev) { return dev ? dev->n_devices : 0; }

enum vm_device_source vm_device_source_get(vm_device *dev) {
  return dev ? dev->source : VM_DEVICE_SOURCE_NONE;
}

const char *vm_device_source_name(enum vm_device_source src) {
  switch (src) {
    case VM_DEVICE_SOURCE_NVML: return "nvml";
    case VM_DEVICE_SOURCE_CUDART: return "cudart";
    case VM_DEVICE_SOURCE_SIM: return "sim";
    case VM_DEVICE_SOURCE_NONE: break;
  }
  return "none";
}

static int check_index(vm_device *dev, int i, vm_err *err) {
  if (!dev || i < 0 || i >= dev->n_devices)
    return vm_err_set(err, VM_EINVAL, "no GPU with index %d", i);
  return VM_OK;
}

int vm_device_info_get(vm_device *dev, int i, vm_device_info *out,
                       vm_err *err) {
  memset(out, 0, sizeof(*out));
  out->util_percent = -1;
  out->temp_c = -1;
  int rc = check_index(dev, i, err);
  if (rc) return rc;
  pthread_mutex_lock(&dev->mu);
  rc = dev->ops->info_get(dev->ctx, i, out, err);
  out->engine_bytes = dev->engine_bytes[i];
  pthread_mutex_unlock(&dev->mu);
  return rc;
}

void vm_device_host_get(vm_device_host_info *out) {
  out->rss_bytes = vm_sys_rss_bytes();
  out->mem_available_bytes = vm_sys_mem_available_bytes();
  out->cpu_seconds = vm_sys_cpu_seconds();
  out->n_cores = vm_sys_ncores();
}

int vm_device_context_open(vm_device *dev, int i, vm_err *err) {
  int rc = check_index(dev, i, err);
  if (rc) return rc;
  pthread_mutex_lock(&dev->mu);
  rc = dev->ops->context_open(dev->ctx, i, err);
  pthread_mutex_unlock(&dev->mu);
  return rc;
}

void vm_device_context_close(vm_device *dev, int i) {
  if (check_index(dev, i, NULL)) return;
  pthread_mutex_lock(&dev->mu);
  dev->ops->context_close(dev->ctx, i);
  pthread_mutex_unlock(&dev->mu);
}

int vm_device_mem_alloc(vm_device *dev, int i, size_t n_bytes,
                        void **out_ptr, vm_err *err) {
  *out_ptr = NULL;
  int rc = check_index(dev, i, err);
  if (rc) return rc;
  pthread_mutex_lock(&dev->mu);
  rc = dev->ops->mem_alloc(dev->ctx, i, n_bytes, out_ptr, err);
  if (rc == VM_OK) dev->engine_bytes[i] += (int64_t)n_bytes;
  pthread_mutex_unlock(&dev->mu);
  return rc;
}

void vm_device_mem_free(vm_device *dev, int i, void *ptr, size_t n_bytes) {
  if (!ptr || check_index(dev, i, NULL)) return;
  pthread_mutex_lock(&dev->mu);
  dev->ops->mem_free(dev->ctx, i, ptr, n_bytes);
  dev->engine_bytes[i] -= (int64_t)n_bytes;
  pthread_mutex_unlock(&dev->mu);
}

int64_t vm_device_engine_bytes(vm_device *dev, int i) {
  if (check_index(dev, i, NULL)) return 0;
  pthread_mutex_lock(&dev->mu);
  int64_t n = dev->engine_bytes[i];
  pthread_mutex_unlock(&dev->mu);
  return n;
}
