/* Unit tests for the micro-batch executor on simulated devices:
 * out-of-memory recovery gives the same results as an unfaulted run, every
 * chunk exactly once; a chunk that fails alone is reported with its reason;
 * shrinking free memory shrinks the next batch; a callback that leaks on
 * failure is caught; two devices share one queue; a lost device hands its
 * chunks over; an engine with preallocated memory runs at its capacity.
 * Run: build-dev/tests/test_device_exec */
#include <pthread.h>

#include "device.h"
#include "test.h"
#include "vm_time.h"

#define MIB ((int64_t)1 << 20)
#define MAX_CHUNKS 2000
#define MAX_CALLS 4096

/* A deterministic stand-in for the engine: allocates what the batch needs
 * (chunk_bytes * need_factor per chunk), "transcribes" chunk i into
 * out[i] = hash(i), frees. */
typedef struct job {
  int64_t use_bytes;       /* device bytes per chunk it really allocates */
  int poison;              /* chunk that needs more than any device has; -1 none */
  int leak_on_fail;        /* keep the allocation when failing (a bug) */
  int cap;                 /* engine capacity for preallocated runs */
  int64_t other_after_first; /* sim: other process takes this after call 1 */
  double sleep_s;          /* per call, so that workers interleave */
  pthread_mutex_t mu;
  uint32_t out[MAX_CHUNKS];
  int n_done[MAX_CHUNKS];  /* successful completions per chunk */
  int sizes[MAX_CALLS];    /* batch size of each call, in call order */
  int n_calls;
} job;

static uint32_t hash_chunk(int i) {
  uint32_t h = 2166136261u ^ (uint32_t)i;
  for (int k = 0; k < 4; k++) h = (h ^ (h >> 13)) * 16777619u;
  return h;
}

static int fake_batch(void *user, vm_device *dev, int i_device, int i_first,
                      int n, vm_err *err) {
  job *j = user;
  pthread_mutex_lock(&j->mu);
  int call = j->n_calls;
  if (j->n_calls < MAX_CALLS) j->sizes[j->n_calls++] = n;
  pthread_mutex_unlock(&j->mu);
  void *mem = NULL;
  size_t bytes = (size_t)(j->use_bytes * n);
  int rc = vm_device_mem_alloc(dev, i_device, bytes, &mem, err);
  if (rc) return rc;
  if (j->poison >= i_first && j->poison < i_first + n) {
    if (!j->leak_on_fail) vm_device_mem_free(dev, i_device, mem, bytes);
    return vm_err_set(err, VM_ENOMEM, "chunk %d needs more memory than GPU %d has",
                      j->poison, i_device);
  }
  if (j->sleep_s > 0) vm_time_sleep(j->sleep_s);
  pthread_mutex_lock(&j->mu);
  for (int i = i_first; i < i_first + n; i++) {
    j->out[i] = hash_chunk(i);
    j->n_done[i]++;
  }
  pthread_mutex_unlock(&j->mu);
  vm_device_mem_free(dev, i_device, mem, bytes);
  if (call == 0 && j->other_after_first) /* between batch 1 and 2 */
    vm_device_sim_other_set(dev, i_device, j->other_after_first);
  return VM_OK;
}

static job *job_new(void) {
  job *j = calloc(1, sizeof(*j));
  if (!j) return NULL;
  pthread_mutex_init(&j->mu, NULL);
  j->use_bytes = MIB;
  j->poison = -1;
  return j;
}

static void job_free(job *j) {
  if (!j) return;
  pthread_mutex_destroy(&j->mu);
  free(j);
}

static vm_device_exec_config exec_cfg(job *j, int n_chunks, int max_batch) {
  vm_device_exec_config c = {.n_chunks = n_chunks, .chunk_bytes = MIB,
                             .limits = {1.0, 1, max_batch},
                             .fn = fake_batch, .user = j};
  return c;
}

/* Runs n chunks on sim devices; out_j receives the job for inspection. */
static int run(const vm_device_sim_config *sim, int n_devices, job *j,
               int n_chunks, int max_batch, vm_device_chunk_result *res,
               vm_device_exec_stats *st) {
  vm_device *dev;
  vm_err err;
  int rc = vm_device_open_sim(sim, &dev, &err);
  if (rc) return rc;
  int devices[2] = {0, 1};
  vm_device_exec_config c = exec_cfg(j, n_chunks, max_batch);
  rc = vm_device_exec_run(dev, devices, n_devices, &c, res, st, &err);
  for (int i = 0; i < n_devices; i++)
    if (vm_device_engine_bytes(dev, i) != 0) rc = VM_EINTERNAL;
  vm_device_close(dev);
  return rc;
}

/* Injected out-of-memory at several calls: every chunk finishes once with
 * the same output as the unfaulted run; the batch was halved. */
static int test_oom_recovery_identical(void) {
  enum { N = 100 };
  static vm_device_chunk_result ra[N], rb[N];
  vm_device_exec_stats sa, sb;
  job *a = job_new(), *b = job_new();
  ASSERT(a && b);
  vm_device_sim_config clean = {.n_devices = 1, .total_bytes = 1024 * MIB};
  ASSERT_OK(run(&clean, 1, a, N, 8, ra, &sa));
  ASSERT_EQ(sa.n_oom, 0);
  /* calls: 1 (8) OOM, 2 (4) OOM, 3-6 (2) ok, 7-8 (2) ok, 9 (2) OOM, then 1s */
  long at[] = {1, 2, 9};
  vm_device_sim_config faulty = clean;
  faulty.oom_at_calls = at;
  faulty.n_oom_at_calls = 3;
  ASSERT_OK(run(&faulty, 1, b, N, 8, rb, &sb));
  ASSERT_EQ(sb.n_oom, 3);
  ASSERT_EQ(sb.n_failed, 0);
  ASSERT_EQ(b->sizes[0], 8);
  ASSERT_EQ(b->sizes[1], 4);
  ASSERT_EQ(b->sizes[2], 2);
  ASSERT_EQ(sb.min_batch, 1);
  for (int i = 0; i < N; i++) {
    ASSERT_EQ(rb[i].status, VM_OK);
    ASSERT_EQ(b->n_done[i], 1);
    ASSERT_EQ(a->out[i], b->out[i]);
    ASSERT_EQ(a->out[i], hash_chunk(i));
  }
  job_free(a);
  job_free(b);
  return 0;
}

/* The sizing estimate is too low (the callback needs 3x): the device
 * budget refuses, the executor frees, halves and finishes. */
static int test_budget_oom_halves(void) {
  enum { N = 40 };
  static vm_device_chunk_result r[N];
  vm_device_exec_stats st;
  job *j = job_new();
  ASSERT_NOT_NULL(j);
  j->use_bytes = 3 * MIB;
  vm_device_sim_config sim = {.n_devices = 1, .total_bytes = 16 * MIB};
  ASSERT_OK(run(&sim, 1, j, N, 16, r, &st));
  ASSERT_EQ(j->sizes[0], 16); /* 48 MiB: refused */
  ASSERT_EQ(j->sizes[1], 8);  /* 24 MiB: refused */
  ASSERT_EQ(j->sizes[2], 4);  /* 12 MiB: fits */
  ASSERT_EQ(st.n_oom, 2);
  ASSERT_EQ(st.max_batch, 4);
  for (int i = 0; i < N; i++) {
    ASSERT_EQ(r[i].status, VM_OK);
    ASSERT_EQ(j->n_done[i], 1);
  }
  job_free(j);
  return 0;
}

/* A chunk that does not fit even alone fails with its reason; the others
 * finish. */
static int test_chunk_fails_alone(void) {
  enum { N = 20 };
  static vm_device_chunk_result r[N];
  vm_device_exec_stats st;
  job *j = job_new();
  ASSERT_NOT_NULL(j);
  j->poison = 13;
  vm_device_sim_config sim = {.n_devices = 1, .total_bytes = 1024 * MIB};
  ASSERT_OK(run(&sim, 1, j, N, 8, r, &st));
  ASSERT_EQ(st.n_failed, 1);
  for (int i = 0; i < N; i++) {
    if (i == 13) {
      ASSERT_EQ(r[i].status, VM_ENOMEM);
      ASSERT_STR_CONTAINS(r[i].reason, "chunk 13 needs more memory");
      ASSERT_EQ(j->n_done[i], 0);
    } else {
      ASSERT_EQ(r[i].status, VM_OK);
      ASSERT_STR_EQ(r[i].reason, "");
      ASSERT_EQ(j->n_done[i], 1);
    }
  }
  job_free(j);
  return 0;
}

/* Another process takes memory during the run: the next micro-batch is
 * sized from the smaller free memory, without an out-of-memory. */
static int test_reevaluate_on_shrink(void) {
  enum { N = 40 };
  static vm_device_chunk_result r[N];
  vm_device_exec_stats st;
  job *j = job_new();
  ASSERT_NOT_NULL(j);
  j->other_after_first = 12 * MIB; /* taken after call 1 */
  vm_device_sim_config sim = {.n_devices = 1, .total_bytes = 16 * MIB};
  ASSERT_OK(run(&sim, 1, j, N, 8, r, &st));
  ASSERT_EQ(j->sizes[0], 8);
  ASSERT_EQ(j->sizes[1], 4); /* 16 - 12 MiB free now */
  ASSERT_EQ(j->sizes[2], 4);
  ASSERT_EQ(st.n_oom, 0);
  for (int i = 0; i < N; i++) ASSERT_EQ(j->n_done[i], 1);
  job_free(j);
  return 0;
}

/* A callback that keeps memory when it fails is a bug the executor stops
 * on, since every later size would be wrong. */
static int test_leak_detected(void) {
  enum { N = 8 };
  static vm_device_chunk_result r[N];
  vm_device_exec_stats st;
  job *j = job_new();
  ASSERT_NOT_NULL(j);
  j->poison = 3;
  j->leak_on_fail = 1;
  vm_device_sim_config sim = {.n_devices = 1, .total_bytes = 1024 * MIB};
  vm_device *dev;
  vm_err err;
  ASSERT_OK(vm_device_open_sim(&sim, &dev, &err));
  int d0 = 0;
  vm_device_exec_config c = exec_cfg(j, N, 8);
  ASSERT_EQ(vm_device_exec_run(dev, &d0, 1, &c, r, &st, &err), VM_EINTERNAL);
  ASSERT_STR_CONTAINS(err.msg, "kept");
  vm_device_close(dev);
  job_free(j);
  return 0;
}

/* Two devices, one queue, faults on both: all chunks exactly once, both
 * devices did work, output as the reference. */
static int test_two_devices_share(void) {
  enum { N = 1000 };
  static vm_device_chunk_result r[N];
  vm_device_exec_stats st;
  job *j = job_new();
  ASSERT_NOT_NULL(j);
  j->sleep_s = 0.0005;
  /* allocation calls are counted over both devices and the threads
   * interleave, so only the first three fail: whoever gets them, no batch
   * reaches size 1 on a failing call (8 -> 4 -> 2 -> 1 needs a fourth) */
  long at[] = {1, 2, 3};
  vm_device_sim_config sim = {.n_devices = 2, .total_bytes = 64 * MIB,
                              .oom_at_calls = at, .n_oom_at_calls = 3};
  ASSERT_OK(run(&sim, 2, j, N, 8, r, &st));
  int per_dev[2] = {0, 0};
  for (int i = 0; i < N; i++) {
    ASSERT_EQ(r[i].status, VM_OK);
    ASSERT_EQ(j->n_done[i], 1);
    ASSERT_EQ(j->out[i], hash_chunk(i));
    ASSERT(r[i].i_device == 0 || r[i].i_device == 1);
    per_dev[r[i].i_device]++;
  }
  ASSERT_GT(per_dev[0], 0);
  ASSERT_GT(per_dev[1], 0);
  ASSERT_EQ(st.n_oom, 3);
  printf("two devices: %d + %d chunks, %d batches\n", per_dev[0], per_dev[1],
         st.n_batches);
  job_free(j);
  return 0;
}

/* A device whose context breaks (VM_EGPU) is lost: its chunks go to the
 * other device, every chunk finishes exactly once. */
static int test_lost_device_hands_over(void) {
  enum { N = 200 };
  static vm_device_chunk_result r[N];
  vm_device_exec_stats st;
  job *j = job_new();
  ASSERT_NOT_NULL(j);
  j->sleep_s = 0.0005;
  long at[] = {5};
  vm_device_sim_config sim = {.n_devices = 2, .total_bytes = 64 * MIB,
                              .gpu_error_at_calls = at, .n_gpu_error_at_calls = 1};
  ASSERT_OK(run(&sim, 2, j, N, 4, r, &st));
  ASSERT_EQ(st.n_lost, 1);
  ASSERT_EQ(st.n_failed, 0);
  int per_dev[2] = {0, 0};
  for (int i = 0; i < N; i++) {
    ASSERT_EQ(r[i].status, VM_OK);
    ASSERT_EQ(j->n_done[i], 1);
    ASSERT_EQ(j->out[i], hash_chunk(i));
    per_dev[r[i].i_device]++;
  }
  printf("lost device: %d + %d chunks\n", per_dev[0], per_dev[1]);
  job_free(j);
  return 0;
}

/* The only device is lost: what it had not finished fails with the reason,
 * nothing is run twice. */
static int test_last_device_lost(void) {
  enum { N = 30 };
  static vm_device_chunk_result r[N];
  vm_device_exec_stats st;
  job *j = job_new();
  ASSERT_NOT_NULL(j);
  long at[] = {3};
  vm_device_sim_config sim = {.n_devices = 1, .total_bytes = 64 * MIB,
                              .gpu_error_at_calls = at, .n_gpu_error_at_calls = 1};
  ASSERT_OK(run(&sim, 1, j, N, 4, r, &st));
  ASSERT_EQ(st.n_lost, 1);
  ASSERT_EQ(st.n_failed, N - 8); /* calls 1 and 2 finished 4 chunks each */
  for (int i = 0; i < N; i++) {
    if (i < 8) {
      ASSERT_EQ(r[i].status, VM_OK);
    } else {
      ASSERT_EQ(r[i].status, VM_EGPU);
      ASSERT_STR_CONTAINS(r[i].reason, "simulated context error");
      ASSERT_EQ(j->n_done[i], 0);
    }
  }
  job_free(j);
  return 0;
}

static int cap_of(void *user, int i_device) {
  (void)i_device;
  return ((job *)user)->cap;
}

/* An engine that allocated its batch memory when it was created: the size
 * is its capacity even when the device reads almost full. */
static int test_preallocated_capacity(void) {
  enum { N = 20 };
  static vm_device_chunk_result r[N];
  vm_device_exec_stats st;
  job *j = job_new();
  ASSERT_NOT_NULL(j);
  j->use_bytes = 0;
  j->cap = 3;
  vm_device_sim_config sim = {.n_devices = 1, .total_bytes = 64 * MIB};
  vm_device *dev;
  vm_err err;
  ASSERT_OK(vm_device_open_sim(&sim, &dev, &err));
  vm_device_sim_other_set(dev, 0, 63 * MIB); /* 1 MiB free: one chunk by free memory */
  int d0 = 0;
  vm_device_exec_config c = exec_cfg(j, N, 8);
  c.cap = cap_of;
  c.preallocated = 1;
  ASSERT_OK(vm_device_exec_run(dev, &d0, 1, &c, r, &st, &err));
  ASSERT_EQ(j->sizes[0], 3);
  ASSERT_EQ(st.max_batch, 3);
  for (int i = 0; i < N; i++) ASSERT_EQ(j->n_done[i], 1);
  vm_device_close(dev);
  job_free(j);
  return 0;
}

static int test_bad_args(void) {
  vm_device_sim_config sim = {.n_devices = 1, .total_bytes = MIB};
  vm_device *dev;
  vm_err err;
  ASSERT_OK(vm_device_open_sim(&sim, &dev, &err));
  job *j = job_new();
  ASSERT_NOT_NULL(j);
  vm_device_chunk_result r[1];
  vm_device_exec_stats st;
  int bad = 1, d0 = 0;
  vm_device_exec_config c = exec_cfg(j, 1, 4);
  ASSERT_EQ(vm_device_exec_run(dev, &bad, 1, &c, r, &st, &err), VM_EINVAL);
  c.limits.max_batch = 0;
  ASSERT_EQ(vm_device_exec_run(dev, &d0, 1, &c, r, &st, &err), VM_EINVAL);
  c = exec_cfg(j, 0, 4);
  ASSERT_OK(vm_device_exec_run(dev, &d0, 1, &c, r, &st, &err));
  ASSERT_EQ(st.n_batches, 0);
  vm_device_close(dev);
  job_free(j);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_oom_recovery_identical),
          TEST_ENTRY(test_budget_oom_halves), TEST_ENTRY(test_chunk_fails_alone),
          TEST_ENTRY(test_reevaluate_on_shrink), TEST_ENTRY(test_leak_detected),
          TEST_ENTRY(test_two_devices_share), TEST_ENTRY(test_lost_device_hands_over),
          TEST_ENTRY(test_last_device_lost), TEST_ENTRY(test_preallocated_capacity),
          TEST_ENTRY(test_bad_args))
