/* Device checks against the real GPU 0; skipped (77) where there is none.
 * tools/gpu-check.sh runs this on a machine with an NVIDIA GPU: it prints
 * what NVML / the CUDA runtime report, provokes a real out-of-memory with a
 * second allocation, and runs the executor with real allocations that are
 * too big, so that halving is seen on the device.
 * Run: build-dev/tests/test_device_real */
#include "device.h"
#include "test.h"

static vm_device *open_gpu(void) {
  vm_device *dev = NULL;
  vm_err err;
  if (vm_device_open_real(NULL, &dev, &err) != VM_OK) return NULL;
  if (vm_device_count(dev) == 0) {
    printf("%s\n", err.msg);
    vm_device_close(dev);
    return NULL;
  }
  if (vm_device_context_open(dev, 0, &err) != VM_OK) {
    printf("GPU 0 seen (%s) but no CUDA context: %s\n",
           vm_device_source_name(vm_device_source_get(dev)), err.msg);
    vm_device_close(dev);
    return NULL;
  }
  return dev;
}

static int test_real_info(void) {
  vm_device *dev = open_gpu();
  if (!dev) TEST_SKIP("no usable GPU");
  vm_err err;
  for (int i = 0; i < vm_device_count(dev); i++) {
    vm_device_info f;
    ASSERT_OK(vm_device_info_get(dev, i, &f, &err));
    printf("GPU %d [%s]: %s, total %.2f GiB, used %.2f GiB, free %.2f GiB, "
           "util %d %%, %d C\n", i,
           vm_device_source_name(vm_device_source_get(dev)), f.name,
           (double)f.total_bytes / 1073741824.0,
           (double)f.used_bytes / 1073741824.0,
           (double)f.free_bytes / 1073741824.0, f.util_percent, f.temp_c);
    ASSERT_GT(f.total_bytes, 0);
    ASSERT_LE(f.free_bytes, f.total_bytes);
  }
  vm_device_host_info h;
  vm_device_host_get(&h);
  printf("host: rss %.1f MiB, available %.2f GiB, %d cores\n",
         (double)h.rss_bytes / 1048576.0,
         (double)h.mem_available_bytes / 1073741824.0, h.n_cores);
  vm_device_close(dev);
  return 0;
}

/* 60 % of free, then another 60 %: the second must be a clean VM_ENOMEM,
 * and the device's own free figure must show the first allocation. */
static int test_real_oom(void) {
  vm_device *dev = open_gpu();
  if (!dev) TEST_SKIP("no usable GPU");
  vm_err err;
  vm_device_info f0, f1;
  ASSERT_OK(vm_device_info_get(dev, 0, &f0, &err));
  size_t big = (size_t)((double)f0.free_bytes * 0.6);
  void *a = NULL, *b = NULL;
  ASSERT_OK(vm_device_mem_alloc(dev, 0, big, &a, &err));
  ASSERT_OK(vm_device_info_get(dev, 0, &f1, &err));
  printf("after %.2f GiB: free %.2f -> %.2f GiB, engine %.2f GiB\n",
         (double)big / 1073741824.0, (double)f0.free_bytes / 1073741824.0,
         (double)f1.free_bytes / 1073741824.0,
         (double)f1.engine_bytes / 1073741824.0);
  ASSERT_LE(f1.free_bytes, f0.free_bytes - (int64_t)(big / 10 * 9));
  ASSERT_EQ(f1.engine_bytes, (int64_t)big);
  int rc = vm_device_mem_alloc(dev, 0, big, &b, &err);
  printf("second allocation: %s (%s)\n", vm_err_name(rc), err.msg);
  ASSERT_EQ(rc, VM_ENOMEM);
  ASSERT_NULL(b);
  vm_device_mem_free(dev, 0, a, big);
  ASSERT_EQ(vm_device_engine_bytes(dev, 0), 0);
  vm_device_close(dev);
  return 0;
}

typedef struct real_job {
  int64_t use_bytes; /* really allocated per chunk */
  int n_done[64];
} real_job;

static int real_batch(void *user, vm_device *dev, int i_device, int i_first,
                      int n, vm_err *err) {
  real_job *j = user;
  void *p = NULL;
  size_t bytes = (size_t)(j->use_bytes * n);
  int rc = vm_device_mem_alloc(dev, i_device, bytes, &p, err);
  if (rc) return rc;
  for (int i = i_first; i < i_first + n; i++) j->n_done[i]++;
  vm_device_mem_free(dev, i_device, p, bytes);
  return VM_OK;
}

/* Sizing believes a chunk needs free/20; it really takes 3x that, so
 * 16 and 8 chunks hit real out-of-memory and 4 fit. */
static int test_real_exec_halves(void) {
  vm_device *dev = open_gpu();
  if (!dev) TEST_SKIP("no usable GPU");
  vm_err err;
  vm_device_info f;
  ASSERT_OK(vm_device_info_get(dev, 0, &f, &err));
  static real_job j;
  j.use_bytes = f.free_bytes / 20 * 3;
  vm_device_exec_config c = {.n_chunks = 64, .chunk_bytes = f.free_bytes / 20,
                             .limits = {0.9, 1, 16}, .fn = real_batch,
                             .user = &j};
  vm_device_chunk_result r[64];
  vm_device_exec_stats st;
  int d0 = 0;
  ASSERT_OK(vm_device_exec_run(dev, &d0, 1, &c, r, &st, &err));
  printf("exec: %d batches, %d out-of-memory, largest %d\n", st.n_batches,
         st.n_oom, st.max_batch);
  ASSERT_GE(st.n_oom, 1);
  ASSERT_EQ(st.n_failed, 0);
  for (int i = 0; i < 64; i++) ASSERT_EQ(j.n_done[i], 1);
  ASSERT_EQ(vm_device_engine_bytes(dev, 0), 0);
  vm_device_close(dev);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_real_info), TEST_ENTRY(test_real_oom),
          TEST_ENTRY(test_real_exec_halves))
