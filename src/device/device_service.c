/* device_service.c — engine lifecycle on one GPU: create -> warm-up -> ready.
 *
 * DESIGN. One attempt = open the device context, create the engine (model
 * load and allocation), warm it up on a short generated input. A failed
 * attempt is undone completely — engine destroyed, context closed — and the
 * device must then hold no more engine memory than before the attempt;
 * otherwise the attempt left half-made state, which is a bug in the engine
 * callbacks and is reported as VM_EINTERNAL instead of being retried on top.
 * Attempts are spaced by a back-off that doubles (backoff_s, 2x, 4x, ...).
 * After the last failure --device auto yields CPU_FALLBACK and --device
 * cuda yields VM_EGPU; both carry the last reason.
 */
#include <stdio.h>

#include "device.h"
#include "vm_alloc.h"
#include "vm_log.h"
#include "vm_time.h"

struct vm_device_service {
  vm_device *dev;                  /* borrowed */
  int i_device;
  vm_device_engine_ops ops;
  void *user;
  void *engine;                    /* owned; NULL in CPU_FALLBACK */
  enum vm_device_service_state state;
  int n_attempts;
};

/* One attempt; on failure everything it made is undone. */
static int attempt(vm_device_service *s, vm_err *e) {
  void *engine = NULL;
  int ctx_open = 0;
  int rc = vm_device_context_open(s->dev, s->i_device, e);
  if (rc) goto fail;
  ctx_open = 1;
  rc = s->ops.create(s->user, s->dev, s->i_device, &engine, e);
  if (rc) goto fail;
  rc = s->ops.warmup ? s->ops.warmup(s->user, engine, e) : VM_OK;
  if (rc) goto fail;
  s->engine = engine;
  return VM_OK;
fail:
  if (e->code == VM_OK) vm_err_set(e, rc, "%s", vm_strerror(rc));
  if (engine) s->ops.destroy(s->user, engine);
  if (ctx_open) vm_device_context_close(s->dev, s->i_device);
  return rc;
}

/* Tries up to 1 + n_retries times; VM_OK, the last failure, or EINTERNAL. */
static int bring_up(vm_device_service *s, const vm_device_service_config *cfg,
                    vm_err *e) {
  double wait_s = cfg->backoff_s;
  int rc = VM_EGPU;
  for (int k = 0; k <= cfg->n_retries; k++) {
    if (k > 0) {
      vm_log(VM_LOG_WARN, "GPU %d: start failed (%s); retry %d of %d in %.3f s",
             s->i_device, vm_err_text(e), k, cfg->n_retries, wait_s);
      vm_time_sleep(wait_s);
      wait_s *= 2.0;
    }
    int64_t held = vm_device_engine_bytes(s->dev, s->i_device);
    vm_err_clear(e);
    s->n_attempts++;
    rc = attempt(s, e);
    if (rc == VM_OK) return VM_OK;
    int64_t left = vm_device_engine_bytes(s->dev, s->i_device) - held;
    if (left != 0)
      return vm_err_set(e, VM_EINTERNAL,
                        "GPU %d: failed start left %lld bytes allocated",
                        s->i_device, (long long)left);
  }
  return rc;
}

int vm_device_service_open(vm_device *dev, int i_device,
                           const vm_device_service_config *cfg,
                           const vm_device_engine_ops *ops, void *user,
                           vm_device_service **out, vm_err *err) {
  *out = NULL;
  if (!dev || !cfg || !ops || !ops->create || !ops->destroy ||
      cfg->n_retries < 0 || cfg->backoff_s < 0)
    return vm_err_set(err, VM_EINVAL, "bad engine service arguments");
  vm_device_service *s = vm_calloc(1, sizeof(*s));
  if (!s) return vm_err_set(err, VM_ENOMEM, "no memory for engine service");
  *s = (vm_device_service){.dev = dev, .i_device = i_device, .ops = *ops,
                           .user = user};
  vm_err e;
  vm_err_clear(&e);
  int rc = i_device >= 0 && i_device < vm_device_count(dev)
               ? bring_up(s, cfg, &e)
               : vm_err_set(&e, VM_EGPU, "no GPU with index %d", i_device);
  if (rc == VM_OK) {
    s->state = VM_DEVICE_SERVICE_READY;
  } else if (rc != VM_EINTERNAL && cfg->mode == VM_DEVICE_MODE_AUTO) {
    s->state = VM_DEVICE_SERVICE_CPU_FALLBACK;
    vm_err_clear(err);
    if (err)
      snprintf(err->msg, sizeof(err->msg),
               "GPU %d unusable after %d attempt(s): %s; falling back to CPU",
               i_device, s->n_attempts, vm_err_text(&e));
    vm_log(VM_LOG_WARN, "%s", err ? err->msg : "falling back to CPU");
    rc = VM_OK;
  } else {
    rc = vm_err_set(err, rc == VM_EINTERNAL ? rc : VM_EGPU,
                    "GPU %d did not start after %d attempt(s): %s", i_device,
                    s->n_attempts, vm_err_text(&e));
    vm_free(s);
    return rc;
  }
  *out = s;
  return rc;
}

void vm_device_service_close(vm_device_service *svc) {
  if (!svc) return;
  if (svc->engine) {
    svc->ops.destroy(svc->user, svc->engine);
    vm_device_context_close(svc->dev, svc->i_device);
  }
  vm_free(svc);
}

enum vm_device_service_state vm_device_service_state_get(
    const vm_device_service *svc) {
  return svc->state;
}

void *vm_device_service_engine_get(const vm_device_service *svc) {
  return svc->engine;
}

int vm_device_service_attempts(const vm_device_service *svc) {
  return svc->n_attempts;
}
