/* Unit tests for the engine lifecycle on simulated devices: create ->
 * warm-up -> ready; failed context creation, model load or warm-up retried
 * with back-off, leaving no engine memory between attempts; after the last
 * failure CPU fall-back (--device auto) or a clear error (--device cuda);
 * an engine that leaks on failure is caught.
 * Run: build-dev/tests/test_device_service */
#include "device.h"
#include "test.h"
#include "vm_time.h"

#define MIB ((int64_t)1 << 20)

/* A stand-in engine: create allocates the weights on the device. */
typedef struct fake_spec {
  size_t model_bytes;
  int create_fail_first; /* model load fails on the first K creates */
  int warmup_fail_first; /* warm-up fails on the first K warm-ups */
  int leak;              /* a failing create keeps its weights (a bug) */
  int n_create, n_warmup, n_destroy;
  int64_t held_at_create; /* engine bytes seen when create starts */
} fake_spec;

typedef struct fake_engine {
  vm_device *dev;
  int i_device;
  void *weights;
  size_t n_bytes;
} fake_engine;

static int fake_create(void *user, vm_device *dev, int i, void **out,
                       vm_err *err) {
  fake_spec *s = user;
  s->n_create++;
  s->held_at_create = vm_device_engine_bytes(dev, i);
  void *w = NULL;
  int rc = vm_device_mem_alloc(dev, i, s->model_bytes, &w, err);
  if (rc) return rc;
  if (s->n_create <= s->create_fail_first) {
    if (!s->leak) vm_device_mem_free(dev, i, w, s->model_bytes);
    return vm_err_set(err, VM_EMODEL, "model load failed (try %d)",
                      s->n_create);
  }
  fake_engine *e = calloc(1, sizeof(*e));
  if (!e) {
    vm_device_mem_free(dev, i, w, s->model_bytes);
    return vm_err_set(err, VM_ENOMEM, "no memory");
  }
  *e = (fake_engine){dev, i, w, s->model_bytes};
  *out = e;
  return VM_OK;
}

static int fake_warmup(void *user, void *engine, vm_err *err) {
  fake_spec *s = user;
  s->n_warmup++;
  if (s->n_warmup <= s->warmup_fail_first)
    return vm_err_set(err, VM_EGPU, "warm-up kernel failed");
  return VM_OK;
}

static void fake_destroy(void *user, void *engine) {
  fake_spec *s = user;
  fake_engine *e = engine;
  s->n_destroy++;
  vm_device_mem_free(e->dev, e->i_device, e->weights, e->n_bytes);
  free(e);
}

static const vm_device_engine_ops fake_ops = {fake_create, fake_warmup,
                                              fake_destroy};

static vm_device *sim_open(int n_init_failures) {
  vm_device_sim_config cfg = {.n_devices = 1, .total_bytes = 100 * MIB,
                              .n_init_failures = n_init_failures};
  vm_device *dev = NULL;
  vm_err err;
  vm_device_open_sim(&cfg, &dev, &err);
  return dev;
}

static int test_ready_first_time(void) {
  vm_device *dev = sim_open(0);
  ASSERT_NOT_NULL(dev);
  fake_spec s = {.model_bytes = (size_t)(40 * MIB)};
  vm_device_service_config cfg = {VM_DEVICE_MODE_CUDA, 3, 0.0};
  vm_device_service *svc;
  vm_err err;
  ASSERT_OK(vm_device_service_open(dev, 0, &cfg, &fake_ops, &s, &svc, &err));
  ASSERT_EQ(vm_device_service_state_get(svc), VM_DEVICE_SERVICE_READY);
  ASSERT_EQ(vm_device_service_attempts(svc), 1);
  ASSERT_NOT_NULL(vm_device_service_engine_get(svc));
  ASSERT_EQ(vm_device_engine_bytes(dev, 0), 40 * MIB);
  vm_device_service_close(svc);
  vm_device_service_close(NULL);
  ASSERT_EQ(vm_device_engine_bytes(dev, 0), 0);
  ASSERT_EQ(s.n_destroy, 1);
  vm_device_close(dev);
  return 0;
}

/* Context creation, model load and warm-up each fail a few times; every
 * retry starts from an empty device and the service ends ready. */
static int test_retries_then_ready(void) {
  vm_device *dev = sim_open(2);
  ASSERT_NOT_NULL(dev);
  fake_spec s = {.model_bytes = (size_t)(40 * MIB), .create_fail_first = 1,
                 .warmup_fail_first = 1};
  vm_device_service_config cfg = {VM_DEVICE_MODE_CUDA, 4, 0.001};
  vm_device_service *svc;
  vm_err err;
  ASSERT_OK(vm_device_service_open(dev, 0, &cfg, &fake_ops, &s, &svc, &err));
  ASSERT_EQ(vm_device_service_state_get(svc), VM_DEVICE_SERVICE_READY);
  /* 2 context failures, 1 load failure, 1 warm-up failure, then ready */
  ASSERT_EQ(vm_device_service_attempts(svc), 5);
  ASSERT_EQ(s.n_create, 3);
  ASSERT_EQ(s.n_destroy, 1); /* the warmed-up-and-failed engine */
  ASSERT_EQ(s.held_at_create, 0);
  ASSERT_EQ(vm_device_engine_bytes(dev, 0), 40 * MIB);
  vm_device_service_close(svc);
  ASSERT_EQ(vm_device_engine_bytes(dev, 0), 0);
  vm_device_close(dev);
  return 0;
}

/* --device auto: after the last failure, CPU fall-back with the reason. */
static int test_fallback_auto(void) {
  vm_device *dev = sim_open(100);
  ASSERT_NOT_NULL(dev);
  fake_spec s = {.model_bytes = (size_t)MIB};
  vm_device_service_config cfg = {VM_DEVICE_MODE_AUTO, 2, 0.0};
  vm_device_service *svc;
  vm_err err;
  ASSERT_OK(vm_device_service_open(dev, 0, &cfg, &fake_ops, &s, &svc, &err));
  ASSERT_EQ(err.code, VM_OK);
  ASSERT_EQ(vm_device_service_state_get(svc), VM_DEVICE_SERVICE_CPU_FALLBACK);
  ASSERT_EQ(vm_device_service_attempts(svc), 3);
  ASSERT_NULL(vm_device_service_engine_get(svc));
  ASSERT_STR_CONTAINS(err.msg, "falling back to CPU");
  ASSERT_STR_CONTAINS(err.msg, "simulated context creation failure 3");
  ASSERT_EQ(s.n_create, 0);
  vm_device_service_close(svc);
  vm_device_close(dev);
  return 0;
}

/* --device cuda: after the last failure, a clear error and no object. */
static int test_error_cuda(void) {
  vm_device *dev = sim_open(0);
  ASSERT_NOT_NULL(dev);
  fake_spec s = {.model_bytes = (size_t)MIB, .create_fail_first = 100};
  vm_device_service_config cfg = {VM_DEVICE_MODE_CUDA, 2, 0.0};
  vm_device_service *svc;
  vm_err err;
  ASSERT_EQ(vm_device_service_open(dev, 0, &cfg, &fake_ops, &s, &svc, &err),
            VM_EGPU);
  ASSERT_NULL(svc);
  ASSERT_EQ(err.code, VM_EGPU);
  ASSERT_STR_CONTAINS(err.msg, "did not start after 3 attempt(s)");
  ASSERT_STR_CONTAINS(err.msg, "model load failed (try 3)");
  ASSERT_EQ(vm_device_engine_bytes(dev, 0), 0);
  /* and no GPU at all: a bad index is the same clear error */
  ASSERT_EQ(vm_device_service_open(dev, 5, &cfg, &fake_ops, &s, &svc, &err),
            VM_EGPU);
  cfg.mode = VM_DEVICE_MODE_AUTO;
  ASSERT_OK(vm_device_service_open(dev, 5, &cfg, &fake_ops, &s, &svc, &err));
  ASSERT_EQ(vm_device_service_state_get(svc), VM_DEVICE_SERVICE_CPU_FALLBACK);
  vm_device_service_close(svc);
  vm_device_close(dev);
  return 0;
}

/* A failed create that keeps memory is half-made state: not retried on
 * top of, not hidden behind a fall-back. */
static int test_half_made_state_caught(void) {
  vm_device *dev = sim_open(0);
  ASSERT_NOT_NULL(dev);
  fake_spec s = {.model_bytes = (size_t)MIB, .create_fail_first = 1,
                 .leak = 1};
  vm_device_service_config cfg = {VM_DEVICE_MODE_AUTO, 3, 0.0};
  vm_device_service *svc;
  vm_err err;
  ASSERT_EQ(vm_device_service_open(dev, 0, &cfg, &fake_ops, &s, &svc, &err),
            VM_EINTERNAL);
  ASSERT_NULL(svc);
  ASSERT_STR_CONTAINS(err.msg, "left 1048576 bytes");
  ASSERT_EQ(s.n_create, 1);
  vm_device_close(dev);
  return 0;
}

/* Back-off doubles: 10 ms + 20 ms before the second and third attempts. */
static int test_backoff(void) {
  vm_device *dev = sim_open(100);
  ASSERT_NOT_NULL(dev);
  fake_spec s = {.model_bytes = (size_t)MIB};
  vm_device_service_config cfg = {VM_DEVICE_MODE_AUTO, 2, 0.01};
  vm_device_service *svc;
  vm_err err;
  double t0 = vm_time_mono();
  ASSERT_OK(vm_device_service_open(dev, 0, &cfg, &fake_ops, &s, &svc, &err));
  double dt = vm_time_mono() - t0;
  ASSERT(dt >= 0.029);
  ASSERT(dt < 2.0);
  vm_device_service_close(svc);
  cfg.n_retries = -1;
  ASSERT_EQ(vm_device_service_open(dev, 0, &cfg, &fake_ops, &s, &svc, &err),
            VM_EINVAL);
  vm_device_close(dev);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_ready_first_time), TEST_ENTRY(test_retries_then_ready),
          TEST_ENTRY(test_fallback_auto), TEST_ENTRY(test_error_cuda),
          TEST_ENTRY(test_half_made_state_caught), TEST_ENTRY(test_backoff))
