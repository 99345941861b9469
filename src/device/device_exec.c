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
 *   - any failure with n == 1: that chunk is recorded failed with its reason;
 *   - VM_EGPU: the device is lost (fn could not restore its context): the
 *     unfinished chunks of the claim go back to the queue (a given-back
 *     list that claims drain before the cursor) and the worker stops. What
 *     is still queued when every worker has stopped fails with the reason.
 * With cfg->preallocated the engine took its batch memory when it was
 * created, so the size is its capacity (cfg->cap) under the ceiling, and
 * free memory is not re-read. The executor checks that a failed call did
 * not leave the device holding more engine bytes than before (the callback
 * freed what it took; less is fine: it may have torn its engine down); a
 * leak stops the run with VM_EINTERNAL, since later sizing would be wrong.
 *
 * LOCKING. sh->mu guards next, back, n_back, stats, rc and err. results[i]
 * is written only by the worker that claimed chunk i (or, for chunks no
 * device can run any more, after every worker has been joined).
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
  int *back;                       /* (n_chunks) chunks given back by lost devices */
  int n_back;
  int n_busy;                      /* workers inside a claim */
  pthread_cond_t cv;               /* signalled when a claim ends */
  vm_err lost;                     /* why the last device was lost */
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
  const vm_device_exec_config *cfg = w->sh->cfg;
  int cap = cfg->cap ? cfg->cap(cfg->user, w->i_device) : 0;
  int ceil = cap > 0 && cap < w->ceiling ? cap : w->ceiling;
  if (cfg->preallocated) return ceil > 0 ? ceil : 1;
  vm_device_info info;
  vm_err e;
  vm_err_clear(&e);
  if (vm_device_info_get(w->sh->dev, w->i_device, &info, &e) != VM_OK) {
    vm_log(VM_LOG_WARN, "GPU %d: %s; keeping batch %d", w->i_device,
           vm_err_text(&e), ceil);
    return ceil;
  }
  int n = 1;
  vm_device_batch_size(info.free_bytes, cfg->chunk_bytes, &cfg->limits, &n);
  return n < ceil ? n : ceil;
}

/* A chunk no device can run any more (after the workers are joined). */
static void record_locked(exec_shared *sh, int i, const vm_err *e) {
  vm_device_chunk_result *r = &sh->results[i];
  r->status = VM_EGPU;
  r->i_device = -1;
  snprintf(r->reason, sizeof(r->reason), "%s", vm_err_text(e));
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

/* Gives chunks [first, end) back to the queue (device lost). */
static void give_back(exec_shared *sh, int first, int end, const vm_err *e) {
  pthread_mutex_lock(&sh->mu);
  for (int i = first; i < end; i++) sh->back[sh->n_back++] = i;
  sh->lost = *e;
  sh->stats.n_lost++;
  pthread_mutex_unlock(&sh->mu);
}

/* Runs chunks [first, first + count) with halving; VM_OK, VM_EGPU (device
 * lost, the rest given back) or a fatal code. */
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
    if (rc != VM_OK && after > before) { /* less is fine: an engine torn down */
      vm_err_set(&e, VM_EINTERNAL,
                 "GPU %d: batch callback failed but kept %lld bytes",
                 w->i_device, (long long)(after - before));
      fatal(sh, &e);
      return VM_EINTERNAL;
    }
    if (rc == VM_OK) {
      record(w, pos, n, VM_OK, &e);
      pos += n;
    } else if (rc == VM_EGPU) {
      if (e.code == VM_OK) vm_err_set(&e, rc, "GPU %d lost", w->i_device);
      vm_log(VM_LOG_WARN, "GPU %d: %s; its chunks go to the other devices",
             w->i_device, vm_err_text(&e));
      give_back(sh, pos, end, &e);
      return VM_EGPU;
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

/* After every worker stopped: chunks still queued have no device left. */
static void fail_leftovers(exec_shared *sh) {
  if (sh->rc != VM_OK) return;
  vm_err e = sh->lost;
  if (e.code == VM_OK) vm_err_set(&e, VM_EGPU, "no device left");
  sh->stats.n_failed += sh->n_back + (sh->cfg->n_chunks - sh->next);
  while (sh->n_back > 0) record_locked(sh, sh->back[--sh->n_back], &e);
  while (sh->next < sh->cfg->n_chunks) record_locked(sh, sh->next++, &e);
}

/* Claims the next work: a given-back chunk, else up to n from the cursor.
 * With the queue empty it waits while other workers are inside a claim
 * (a lost device may give chunks back). Returns the count (0: stop). */
static int claim(exec_shared *sh, int n, int *first) {
  int take = 0;
  pthread_mutex_lock(&sh->mu);
  for (;;) {
    if (sh->rc != VM_OK) break;
    if (sh->n_back > 0) { /* a lost device's chunk, one at a time */
      *first = sh->back[--sh->n_back];
      take = 1;
      break;
    }
    int left = sh->cfg->n_chunks - sh->next;
    if (left > 0) {
      *first = sh->next;
      take = n < left ? n : left;
      sh->next += take;
      break;
    }
    if (sh->n_busy == 0) break;
    pthread_cond_wait(&sh->cv, &sh->mu);
  }
  if (take > 0) sh->n_busy++;
  pthread_mutex_unlock(&sh->mu);
  return take;
}

static void *worker_main(void *arg) {
  exec_worker *w = arg;
  exec_shared *sh = w->sh;
  for (;;) {
    int first = 0, take = claim(sh, batch_now(w), &first);
    if (take <= 0) break;
    int rc = run_claim(w, first, take);
    pthread_mutex_lock(&sh->mu);
    sh->n_busy--;
    pthread_cond_broadcast(&sh->cv);
    pthread_mutex_unlock(&sh->mu);
    if (rc != VM_OK) break;
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
  vm_err_clear(&sh.lost);
  exec_worker *ws = vm_calloc((size_t)n_devices, sizeof(*ws));
  sh.back = vm_calloc((size_t)cfg->n_chunks + 1, sizeof(int));
  if (!ws || !sh.back) {
    vm_free(ws);
    vm_free(sh.back);
    return vm_err_set(err, VM_ENOMEM, "no memory for workers");
  }
  if (pthread_mutex_init(&sh.mu, NULL) != 0) {
    rc = vm_err_set(err, VM_ENOMEM, "no mutex");
    goto out;
  }
  if (pthread_cond_init(&sh.cv, NULL) != 0) {
    pthread_mutex_destroy(&sh.mu);
    rc = vm_err_set(err, VM_ENOMEM, "no condition variable");
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
  if (n_started > 0) fail_leftovers(&sh);
  pthread_cond_destroy(&sh.cv);
  pthread_mutex_destroy(&sh.mu);
  *out_stats = sh.stats;
  if (n_started == 0)
    rc = vm_err_set(err, VM_ENOMEM, "could not start a worker thread");
  else if (sh.rc != VM_OK)
    rc = vm_err_set(err, sh.rc, "%s", vm_err_text(&sh.err));
out:
  vm_free(ws);
  vm_free(sh.back);
  return rc;
}
