/* asr_cpu_pool.c — fork-join pool with dynamic chunks: persistent workers
 * spin briefly for the next job, then sleep.
 *
 * DESIGN: a decode step is ~100 small parallel ops of 10-200 us each, so
 * waking a sleeping thread per op (tens of us) would cost as much as the
 * work; workers therefore spin on an atomic for up to SPIN_ROUNDS pauses
 * (~50-100 us) before sleeping on a condition variable. Work is cut into
 * chunks that threads claim one at a time, the caller included, so a
 * worker that the OS has not scheduled (a busy machine) delays nothing:
 * the caller claims the chunks itself and waits only for chunks already
 * being worked on.
 *
 * LOCKING / ORDERING: `ticket` packs (generation, n_chunks, next chunk)
 * in 32 + 16 + 16 bits. A thread claims chunk c of generation g by a
 * compare-and-swap from (g, n, c) to (g, n, c+1), and only if c < n.
 * run() writes the job fields (fn,
 * arg, n, n_chunks) only after every chunk of the previous job has been
 * claimed and finished (`n_done` == n_chunks), and publishes the new job
 * by a release store of the new ticket; a thread reads the job fields
 * only after a successful claim, which the caller cannot overtake, so the
 * fields it reads are those of the claimed generation. Sleeping: a worker
 * re-checks the generation under `mu` before waiting on `wake`, and run()
 * broadcasts under `mu` when `n_sleeping` > 0, so no wake-up is lost. The
 * thread that finishes the last chunk signals `done` under `mu`; the
 * caller re-checks `n_done` under `mu` before waiting on it. destroy()
 * sets `quit` under `mu`, broadcasts and joins. */
#include "asr_cpu_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "vm_alloc.h"
#include "vm_status.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

#define SPIN_ROUNDS 4000
/* Every YIELD_EVERY pauses a spinning thread yields: free cores make that
 * a no-op, but when our threads share a core (a busy machine) it hands
 * the core to the thread that has the work instead of burning its slice. */
#define YIELD_EVERY 64
#define CHUNKS_PER_THREAD 4

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
  int n_sleeping;            /* workers waiting on wake (under mu) */
  atomic_uint_fast64_t ticket; /* generation << 32 | n_chunks << 16 | next chunk */
  atomic_int n_done;         /* chunks finished in this generation */
  atomic_int quit;
  /* the job, written by run() only when no chunk is claimable or running */
  uint32_t n_chunks;
  size_t n;
  vm_asr_pool_fn fn;
  void *arg;
};

/* Claims and runs chunks of generation gen until none is left. */
static void work(vm_asr_pool *p, uint64_t gen, int ith) {
  uint64_t t = atomic_load_explicit(&p->ticket, memory_order_acquire);
  for (;;) {
    if ((t >> 32) != gen) return;
    uint32_t c = (uint32_t)(t & 0xffffu), nc = (uint32_t)((t >> 16) & 0xffffu);
    if (c >= nc) return;
    if (!atomic_compare_exchange_weak_explicit(&p->ticket, &t, t + 1, memory_order_acq_rel,
                                               memory_order_acquire))
      continue;
    /* the job fields are this generation's until n_done reaches nc, so
     * they are read here, never after the increment below */
    size_t a = p->n * c / nc, b = p->n * (c + 1) / nc;
    p->fn(p->arg, a, b, ith);
    if (atomic_fetch_add_explicit(&p->n_done, 1, memory_order_acq_rel) + 1 == (int)nc) {
      pthread_mutex_lock(&p->mu);
      pthread_cond_signal(&p->done);
      pthread_mutex_unlock(&p->mu);
    }
    t = atomic_load_explicit(&p->ticket, memory_order_acquire);
  }
}

/* Waits for a generation other than seen (or quit); returns it. */
static uint64_t wait_job(vm_asr_pool *p, uint64_t seen) {
  uint64_t g;
  for (int i = 0; i < SPIN_ROUNDS; i++) {
    g = atomic_load_explicit(&p->ticket, memory_order_acquire) >> 32;
    if (g != seen || atomic_load_explicit(&p->quit, memory_order_relaxed)) return g;
    CPU_RELAX();
    if (i % YIELD_EVERY == YIELD_EVERY - 1) sched_yield();
  }
  pthread_mutex_lock(&p->mu);
  p->n_sleeping++;
  while ((g = atomic_load_explicit(&p->ticket, memory_order_acquire) >> 32) == seen &&
         !atomic_load_explicit(&p->quit, memory_order_relaxed))
    pthread_cond_wait(&p->wake, &p->mu);
  p->n_sleeping--;
  pthread_mutex_unlock(&p->mu);
  return g;
}

static void *worker_main(void *p_) {
  worker *w = p_;
  vm_asr_pool *p = w->pool;
  uint64_t seen = 0;
  for (;;) {
    seen = wait_job(p, seen);
    if (atomic_load_explicit(&p->quit, memory_order_acquire)) break;
    work(p, seen, w->ith);
  }
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
  atomic_init(&p->ticket, 0);
  atomic_init(&p->n_done, 0);
  atomic_init(&p->quit, 0);
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
  atomic_store_explicit(&p->quit, 1, memory_order_release);
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
  size_t per = min_per_thread ? min_per_thread : 1, chunks = n / per;
  if (chunks > (size_t)p->n_threads * CHUNKS_PER_THREAD)
    chunks = (size_t)p->n_threads * CHUNKS_PER_THREAD;
  if (chunks > 0xffff) chunks = 0xffff; /* 16 bits in the ticket */
  if (p->n_threads == 1 || chunks < 2) {
    fn(arg, 0, n, 0);
    return;
  }
  p->fn = fn;
  p->arg = arg;
  p->n = n;
  p->n_chunks = (uint32_t)chunks;
  atomic_store_explicit(&p->n_done, 0, memory_order_relaxed);
  uint64_t gen = (atomic_load_explicit(&p->ticket, memory_order_relaxed) >> 32) + 1;
  atomic_store_explicit(&p->ticket, gen << 32 | (uint64_t)chunks << 16, memory_order_release);
  pthread_mutex_lock(&p->mu);
  if (p->n_sleeping > 0) pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
  work(p, gen, 0);
  for (int i = 0; i < SPIN_ROUNDS; i++) {
    if (atomic_load_explicit(&p->n_done, memory_order_acquire) == (int)chunks) return;
    CPU_RELAX();
    if (i % YIELD_EVERY == YIELD_EVERY - 1) sched_yield();
  }
  pthread_mutex_lock(&p->mu);
  while (atomic_load_explicit(&p->n_done, memory_order_acquire) != (int)chunks)
    pthread_cond_wait(&p->done, &p->mu);
  pthread_mutex_unlock(&p->mu);
}
