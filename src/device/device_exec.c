/* device_exec.c — run chunks in memory-sized micro-batches on devices.
 *
 * DESIGN. One worker thread per listed device. All workers claim work from
 * one shared cursor (the chunk queue): a claim is the next run of chunks,
 * as many as the worker's current micro-batch size, so each chunk belongs
 * to exactly one worker. Before each claim the worker re-reads the device's
 * free memory and sizes the batch (vm_device_batch_size), capped by its
 * ceiling. Inside a claim:
 *   - VM_ENOMEM with n > 1: the callback freed its memory; halve, lower the
 *     ceiling to the half (it stays lower for the rest of the run), retry;
 *   - another failure with n > 1: halve (not the ceiling) to isolate the
 *     chunk that fails;
 *   - any failure with n == 1: that chunk is recorded failed with its reason.
 * The executor checks that a failed call left the device's engine bytes as
 * they were (the callback freed what it took); a leak stops the run with
 * VM_EINTERNAL, since later sizing would be wrong.
 *
 * LOCKING. sh->mu guards next, stats, rc and err. results[i] is written
 * only by the worker that claimed chunk i, so it needs no lock.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "device.h"
#include "vm_alloc.h"
#include "vm_log.h"

typedef struct exec_shared {
  vm_device *dev;
  const vm_device_exec_config *cfg;
  vm_device_chunk_result *results; /* (n_chunks) */
  pthread_mutex_t mu;
  int next;                        /* first unclaimed chunk */
  vm_device_exec_stats stats;
  int rc;                          /* first fatal status */
  vm_err err;                      /* its reason */
} exec_shared;

typedef struct exec_worker {
  exec_shared *sh;
  int i_device;
  int ceiling; /* largest batch allowed after out-of-memory */
  pthread_t tid;
} exec_worker;

static void fatal(exec_shared *sh, const vm_err *e) {
  pthread_mutex_lock(&sh->mu);
  if (sh->rc == VM_OK) {
    sh->rc = e->code;
    sh->err = *e;
  }
  pthread_mutex_unlock(&sh->mu);
}

/* Micro-batch size from the device's free memory now. */
static int batch_now(exec_worker *w) {
  vm_device_info info;
  vm_err e;
  vm_err_clear(&e);
  if (vm_device_info_get(w->sh->dev, w->i_device, &info, &e) != VM_OK) {
    vm_log(VM_LOG_WARN, "GPU %d: %s; keeping batch %d", w->i_device,
           vm_err_text(&e), w->ceiling);
    return w->ceiling;
  }
  int n = 1;
  vm_device_batch_size(info.free_bytes, w->sh->cfg->chunk_bytes,
                       &w->sh->cfg->limits, &n);
  return n < w->ceiling ? n : w->ceiling;
}

static void record(exec_worker *w, int first, int n, int status,
                   const vm_err *e) {
  for (int i = first; i < first + n; i++) {
    vm_device_chunk_result *r = &w->sh->results[i];
    r->status = status;
    r->i_device = w->i_device;
    snprintf(r->reason, sizeof(r->reason), "%s",
             status == VM_OK ? "" : vm_err_text(e));
  }
  exec_shared *sh = w->sh;
  pthread_mutex_lock(&sh->mu);
  if (status == VM_OK) {
    sh->stats.n_batches++;
    if (n > sh->stats.max_batch) sh->stats.max_batch = n;
  } else {
    sh->stats.n_failed += n;
  }
  pthread_mutex_unlock(&sh->mu);
}

/* Runs chunks [first, first + count) with halving; VM_OK or fatal code. */
static int run_claim(exec_worker *w, int first, int count) {
  exec_shared *sh = w->sh;
  int pos = first, end = first + count, size = count;
  while (pos < end) {
    int n = size < end - pos ? size : end - pos;
    vm_err e;
    vm_err_clear(&e);
    int64_t before = vm_device_engine_bytes(sh->dev, w->i_device);
    int rc = sh->cfg->fn(sh->cfg->user, sh->dev, w->i_device, pos, n, &e);
    int64_t after = vm_device_engine_bytes(sh->dev, w->i_device);
    pthread_mutex_lock(&sh->mu);
    if (n < sh->stats.min_batch || sh->stats.min_batch == 0)
      sh->stats.min_batch = n;
    if (rc == VM_ENOMEM) sh->stats.n_oom++;
    pthread_mutex_unlock(&sh->mu);
    if (rc != VM_OK && after != before) {
      vm_err_set(&e, VM_EINTERNAL,
                 "GPU %d: batch callback failed but kept %lld bytes",
                 w->i_device, (long long)(after - before));
      fatal(sh, &e);
      return VM_EINTERNAL;
    }
    if (rc == VM_OK) {
      record(w, pos, n, VM_OK, &e);
      pos += n;
    } else if (n > 1) {
      size = n / 2;
      if (rc == VM_ENOMEM) w->ceiling = size;
    } else {
      if (e.code == VM_OK) vm_err_set(&e, rc, "%s", vm_strerror(rc));
      record(w, pos, 1, rc, &e);
      pos += 1;
    }
  }
  return VM_OK;
}

static void *worker_main(void *arg) {
  exec_worker *w = arg;
  exec_shared *sh = w->sh;
  for (;;) {
    int n = batch_now(w);
    pthread_mutex_lock(&sh->mu);
    int first = sh->next, left = sh->cfg->n_chunks - first;
    int take = n < left ? n : left;
    int stop = sh->rc != VM_OK || take <= 0;
    if (!stop) sh->next += take;
    pthread_mutex_unlock(&sh->mu);
    if (stop || run_claim(w, first, take) != VM_OK) break;
  }
  return NULL;
}

static int check_args(vm_device *dev, const int *devices, int n_devices,
                      const vm_device_exec_config *cfg, vm_err *err) {
  if (!dev || !devices || n_devices < 1 || !cfg || !cfg->fn ||
      cfg->n_chunks < 0 || cfg->chunk_bytes <= 0)
    return vm_err_set(err, VM_EINVAL, "bad executor arguments");
  for (int k = 0; k < n_devices; k++)
    if (devices[k] < 0 || devices[k] >= vm_device_count(dev))
      return vm_err_set(err, VM_EINVAL, "no GPU with index %d", devices[k]);
  int n = 0;
  if (vm_device_batch_size(1, cfg->chunk_bytes, &cfg->limits, &n) ==
      VM_EINVAL)
    return vm_err_set(err, VM_EINVAL, "bad micro-batch limits");
  return VM_OK;
}

int vm_device_exec_run(vm_device *dev, const int *devices, int n_devices,
                       const vm_device_exec_config *cfg,
                       vm_device_chunk_result *out_results,
                       vm_device_exec_stats *out_stats, vm_err *err) {
  memset(out_stats, 0, sizeof(*out_stats));
  int rc = check_args(dev, devices, n_devices, cfg, err);
  if (rc) return rc;
  for (int i = 0; i < cfg->n_chunks; i++) {
    out_results[i].status = VM_ECANCELED;
    out_results[i].i_device = -1;
    snprintf(out_results[i].reason, sizeof(out_results[i].reason), "not run");
  }
  exec_shared sh = {.dev = dev, .cfg = cfg, .results = out_results};
  vm_err_clear(&sh.err);
  exec_worker *ws = vm_calloc((size_t)n_devices, sizeof(*ws));
  if (!ws) return vm_err_set(err, VM_ENOMEM, "no memory for workers");
  if (pthread_mutex_init(&sh.mu, NULL) != 0) {
    rc = vm_err_set(err, VM_ENOMEM, "no mutex");
    goto out;
  }
  int n_started = 0;
  for (int k = 0; k < n_devices; k++) {
    ws[k] = (exec_worker){.sh = &sh, .i_device = devices[k],
                          .ceiling = cfg->limits.max_batch};
    if (pthread_create(&ws[k].tid, NULL, worker_main, &ws[k]) != 0) break;
    n_started++;
  }
  for (int k = 0; k < n_started; k++) pthread_join(ws[k].tid, NULL);
  pthread_mutex_destroy(&sh.mu);
  *out_stats = sh.stats;
  if (n_started == 0)
    rc = vm_err_set(err, VM_ENOMEM, "could not start a worker thread");
  else if (sh.rc != VM_OK)
    rc = vm_err_set(err, sh.rc, "%s", vm_err_text(&sh.err));
out:
  vm_free(ws);
  return rc;
}
