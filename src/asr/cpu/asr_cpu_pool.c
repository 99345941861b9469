/* asr_cpu_pool.c — fork-join pool: persistent workers woken per job.
 *
 * DESIGN / LOCKING: one mutex guards the job fields (fn, arg, n, n_used)
 * and the counters. run() publishes a job by bumping `generation` under
 * the mutex and broadcasting `wake`; each worker whose index is < n_used
 * runs its slice, then decrements `pending` and signals `done` when it
 * reaches zero. Workers read the job fields only after seeing a new
 * generation under the mutex, so no field is read while run() writes it.
 * destroy() sets `quit` and joins. */
#include "asr_cpu_pool.h"

#include <pthread.h>

#include "vm_alloc.h"
#include "vm_status.h"

typedef struct worker {
  vm_asr_pool *pool;
  int ith;
  pthread_t tid;
} worker;

struct vm_asr_pool {
  int n_threads;
  worker *w;
  int n_started;
  pthread_mutex_t mu;
  pthread_cond_t wake, done;
  unsigned long generation;
  int quit, pending, n_used;
  size_t n;
  vm_asr_pool_fn fn;
  void *arg;
};

static void slice(size_t n, int parts, int i, size_t *a, size_t *b) {
  *a = n * (size_t)i / (size_t)parts;
  *b = n * (size_t)(i + 1) / (size_t)parts;
}

static void *worker_main(void *p_) {
  worker *w = p_;
  vm_asr_pool *p = w->pool;
  unsigned long seen = 0;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!p->quit && p->generation == seen) pthread_cond_wait(&p->wake, &p->mu);
    if (p->quit) break;
    seen = p->generation;
    if (w->ith >= p->n_used) continue;
    vm_asr_pool_fn fn = p->fn;
    void *arg = p->arg;
    size_t a, b;
    slice(p->n, p->n_used, w->ith, &a, &b);
    pthread_mutex_unlock(&p->mu);
    fn(arg, a, b, w->ith);
    pthread_mutex_lock(&p->mu);
    if (--p->pending == 0) pthread_cond_signal(&p->done);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

int vm__asr_pool_create(int n_threads, vm_asr_pool **out) {
  *out = NULL;
  vm_asr_pool *p = vm_calloc(1, sizeof *p);
  if (!p) return VM_ENOMEM;
  p->n_threads = n_threads < 1 ? 1 : n_threads;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->wake, NULL);
  pthread_cond_init(&p->done, NULL);
  p->w = vm_calloc((size_t)p->n_threads, sizeof *p->w);
  if (!p->w) goto fail;
  for (int i = 1; i < p->n_threads; i++) {
    p->w[i].pool = p;
    p->w[i].ith = i;
    if (pthread_create(&p->w[i].tid, NULL, worker_main, &p->w[i]) != 0) goto fail;
    p->n_started = i;
  }
  *out = p;
  return VM_OK;
fail:
  vm__asr_pool_destroy(p);
  return VM_ENOMEM;
}

void vm__asr_pool_destroy(vm_asr_pool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  p->quit = 1;
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
  for (int i = 1; i <= p->n_started; i++) pthread_join(p->w[i].tid, NULL);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->wake);
  pthread_cond_destroy(&p->done);
  vm_free(p->w);
  vm_free(p);
}

int vm__asr_pool_n_threads(const vm_asr_pool *p) { return p->n_threads; }

void vm__asr_pool_run(vm_asr_pool *p, size_t n, size_t min_per_thread, vm_asr_pool_fn fn,
                      void *arg) {
  if (n == 0) return;
  size_t per = min_per_thread ? min_per_thread : 1;
  int used = p->n_threads;
  if ((size_t)used > n / per) used = (int)(n / per);
  if (used < 1) used = 1;
  if (used == 1) {
    fn(arg, 0, n, 0);
    return;
  }
  pthread_mutex_lock(&p->mu);
  p->fn = fn;
  p->arg = arg;
  p->n = n;
  p->n_used = used;
  p->pending = used - 1;
  p->generation++;
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
  size_t a, b;
  slice(n, used, 0, &a, &b);
  fn(arg, a, b, 0);
  pthread_mutex_lock(&p->mu);
  while (p->pending > 0) pthread_cond_wait(&p->done, &p->mu);
  pthread_mutex_unlock(&p->mu);
}
