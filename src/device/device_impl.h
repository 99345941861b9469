/* device_impl.h — the device interface shared inside src/device only.
 *
 * A backend (real or simulated) fills a vm__device_ops table; device.c
 * wraps it with the mutex, the index checks and the engine-bytes counters,
 * so both backends report engine memory the same exact way.
 */
#ifndef VM_DEVICE_IMPL_H
#define VM_DEVICE_IMPL_H

#include <pthread.h>

#include "device.h"

/* Called with the device mutex held; i is already range-checked. */
typedef struct vm__device_ops {
  int (*info_get)(void *ctx, int i, vm_device_info *out, vm_err *err);
  int (*context_open)(void *ctx, int i, vm_err *err);
  void (*context_close)(void *ctx, int i);
  int (*mem_alloc)(void *ctx, int i, size_t n_bytes, void **out_ptr,
                   vm_err *err);
  void (*mem_free)(void *ctx, int i, void *ptr, size_t n_bytes);
  void (*close)(void *ctx);
} vm__device_ops;

struct vm_device {
  const vm__device_ops *ops;
  void *ctx;                    /* backend state, owned */
  enum vm_device_source source;
  int n_devices;
  int64_t *engine_bytes;        /* (n_devices) bytes held via mem_alloc */
  pthread_mutex_t mu;           /* serialises every call below */
};

/* Wraps a backend. Takes ctx: on failure ops->close(ctx) has been called. */
int vm__device_create(const vm__device_ops *ops, void *ctx,
                      enum vm_device_source source, int n_devices,
                      vm_device **out);

#endif /* VM_DEVICE_IMPL_H */
