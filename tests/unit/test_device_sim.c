/* Unit tests for the device interface: the simulated backend (memory
 * budget, injected out-of-memory, failing initialisation, exact engine
 * bytes), the real backend with no driver, and the host readings.
 * Run: ctest --test-dir build -L device */
#include "device.h"
#include "test.h"

#define MIB ((int64_t)1 << 20)

static int test_sim_info(void) {
  vm_device_sim_config cfg = {.n_devices = 2, .total_bytes = 64 * MIB,
                              .name = "simgpu"};
  vm_device *dev;
  vm_err err;
  ASSERT_OK(vm_device_open_sim(&cfg, &dev, &err));
  ASSERT_EQ(vm_device_count(dev), 2);
  ASSERT_EQ(vm_device_source_get(dev), VM_DEVICE_SOURCE_SIM);
  ASSERT_STR_EQ(vm_device_source_name(VM_DEVICE_SOURCE_SIM), "sim");
  vm_device_info info;
  ASSERT_OK(vm_device_info_get(dev, 1, &info, &err));
  ASSERT_STR_EQ(info.name, "simgpu #1");
  ASSERT_EQ(info.total_bytes, 64 * MIB);
  ASSERT_EQ(info.free_bytes, 64 * MIB);
  ASSERT_EQ(info.used_bytes, 0);
  ASSERT_EQ(info.engine_bytes, 0);
  ASSERT_GE(info.temp_c, 0);
  ASSERT_EQ(vm_device_info_get(dev, 2, &info, &err), VM_EINVAL);
  ASSERT_EQ(vm_device_info_get(dev, -1, &info, &err), VM_EINVAL);
  vm_device_close(dev);
  vm_device_close(NULL);
  return 0;
}

/* Allocations past the budget fail; engine bytes are exact per device. */
static int test_sim_budget(void) {
  vm_device_sim_config cfg = {.n_devices = 2, .total_bytes = 10 * MIB};
  vm_device *dev;
  vm_err err;
  ASSERT_OK(vm_device_open_sim(&cfg, &dev, &err));
  void *a, *b, *c;
  ASSERT_OK(vm_device_mem_alloc(dev, 0, (size_t)(6 * MIB), &a, &err));
  ASSERT_NOT_NULL(a);
  ASSERT_EQ(vm_device_mem_alloc(dev, 0, (size_t)(5 * MIB), &b, &err),
            VM_ENOMEM);
  ASSERT_NULL(b);
  ASSERT_STR_CONTAINS(err.msg, "out of memory on GPU 0");
  ASSERT_OK(vm_device_mem_alloc(dev, 1, (size_t)(5 * MIB), &c, &err));
  ASSERT_OK(vm_device_mem_alloc(dev, 0, (size_t)(4 * MIB), &b, &err));
  ASSERT_NE((long long)(size_t)a, (long long)(size_t)b);
  vm_device_info info;
  ASSERT_OK(vm_device_info_get(dev, 0, &info, &err));
  ASSERT_EQ(info.engine_bytes, 10 * MIB);
  ASSERT_EQ(info.free_bytes, 0);
  ASSERT_EQ(vm_device_engine_bytes(dev, 1), 5 * MIB);
  /* another process takes memory: free shrinks, engine bytes do not */
  ASSERT_OK(vm_device_sim_other_set(dev, 1, 4 * MIB));
  ASSERT_OK(vm_device_info_get(dev, 1, &info, &err));
  ASSERT_EQ(info.free_bytes, 1 * MIB);
  ASSERT_EQ(info.used_bytes, 9 * MIB);
  ASSERT_EQ(info.engine_bytes, 5 * MIB);
  vm_device_mem_free(dev, 0, a, (size_t)(6 * MIB));
  vm_device_mem_free(dev, 0, b, (size_t)(4 * MIB));
  vm_device_mem_free(dev, 1, c, (size_t)(5 * MIB));
  ASSERT_EQ(vm_device_engine_bytes(dev, 0), 0);
  ASSERT_EQ(vm_device_engine_bytes(dev, 1), 0);
  ASSERT_EQ(vm_device_sim_alloc_calls(dev), 4);
  vm_device_close(dev);
  return 0;
}

/* Chosen allocation calls fail even when they would fit. */
static int test_sim_injected_oom(void) {
  long at[] = {2, 4};
  vm_device_sim_config cfg = {.n_devices = 1, .total_bytes = 100 * MIB,
                              .oom_at_calls = at, .n_oom_at_calls = 2};
  vm_device *dev;
  vm_err err;
  ASSERT_OK(vm_device_open_sim(&cfg, &dev, &err));
  int expect[] = {VM_OK, VM_ENOMEM, VM_OK, VM_ENOMEM, VM_OK};
  for (int k = 0; k < 5; k++) {
    void *p;
    ASSERT_EQ(vm_device_mem_alloc(dev, 0, 1024, &p, &err), expect[k]);
    vm_device_mem_free(dev, 0, p, 1024);
  }
  ASSERT_STR_CONTAINS(err.msg, "injected");
  ASSERT_EQ(vm_device_engine_bytes(dev, 0), 0);
  vm_device_close(dev);
  return 0;
}

static int test_sim_init_failures(void) {
  vm_device_sim_config cfg = {.n_devices = 1, .total_bytes = MIB,
                              .n_init_failures = 2};
  vm_device *dev;
  vm_err err;
  ASSERT_OK(vm_device_open_sim(&cfg, &dev, &err));
  ASSERT_EQ(vm_device_context_open(dev, 0, &err), VM_EGPU);
  ASSERT_EQ(vm_device_context_open(dev, 0, &err), VM_EGPU);
  ASSERT_STR_CONTAINS(err.msg, "2 of 2");
  ASSERT_OK(vm_device_context_open(dev, 0, &err));
  vm_device_context_close(dev, 0);
  ASSERT_EQ(vm_device_context_open(dev, 3, &err), VM_EINVAL);
  vm_device_close(dev);
  return 0;
}

static int test_sim_bad_config(void) {
  vm_device *dev;
  vm_err err;
  vm_device_sim_config cfg = {.n_devices = -1};
  ASSERT_EQ(vm_device_open_sim(&cfg, &dev, &err), VM_EINVAL);
  ASSERT_NULL(dev);
  ASSERT_EQ(vm_device_open_sim(NULL, &dev, &err), VM_EINVAL);
  cfg = (vm_device_sim_config){.n_devices = 1, .n_oom_at_calls = 1};
  ASSERT_EQ(vm_device_open_sim(&cfg, &dev, &err), VM_EINVAL);
  return 0;
}

/* With libraries that do not exist the real backend is "no GPU", not an
 * error, and it says what it tried. */
static int test_real_without_driver(void) {
  vm_device_real_config cfg = {.nvml_lib = "libvm-no-such-nvml.so",
                               .cudart_lib = "libvm-no-such-cudart.so"};
  vm_device *dev;
  vm_err err;
  ASSERT_OK(vm_device_open_real(&cfg, &dev, &err));
  ASSERT_EQ(err.code, VM_OK);
  ASSERT_EQ(vm_device_count(dev), 0);
  ASSERT_EQ(vm_device_source_get(dev), VM_DEVICE_SOURCE_NONE);
  ASSERT_STR_CONTAINS(err.msg, "no GPU");
  ASSERT_STR_CONTAINS(err.msg, "libvm-no-such-nvml.so");
  vm_device_info info;
  ASSERT_EQ(vm_device_info_get(dev, 0, &info, &err), VM_EINVAL);
  void *p;
  ASSERT_EQ(vm_device_mem_alloc(dev, 0, 16, &p, &err), VM_EINVAL);
  vm_device_close(dev);
  return 0;
}

/* The default libraries: whatever this machine has, opening succeeds and
 * every listed device can be read. */
static int test_real_default(void) {
  vm_device *dev;
  vm_err err;
  ASSERT_OK(vm_device_open_real(NULL, &dev, &err));
  int n = vm_device_count(dev);
  printf("real: source %s, %d GPU(s)%s%s\n",
         vm_device_source_name(vm_device_source_get(dev)), n,
         n ? "" : ": ", n ? "" : err.msg);
  for (int i = 0; i < n; i++) {
    vm_device_info info;
    ASSERT_OK(vm_device_info_get(dev, i, &info, &err));
    ASSERT_GT(info.total_bytes, 0);
  }
  vm_device_close(dev);
  return 0;
}

static int test_host(void) {
  vm_device_host_info h;
  vm_device_host_get(&h);
  ASSERT_GT(h.rss_bytes, 0);
  ASSERT_GT(h.mem_available_bytes, 0);
  ASSERT_GE(h.n_cores, 1);
  ASSERT(h.cpu_seconds >= 0.0);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_sim_info), TEST_ENTRY(test_sim_budget),
          TEST_ENTRY(test_sim_injected_oom), TEST_ENTRY(test_sim_init_failures),
          TEST_ENTRY(test_sim_bad_config), TEST_ENTRY(test_real_without_driver),
          TEST_ENTRY(test_real_default), TEST_ENTRY(test_host))
