/* asr_cpu_pool.h — a tiny fork-join thread pool for the CPU backend
 * (internal to asr/).
 *
 * vm__asr_pool_run() cuts [0, n) into up to 4 contiguous chunks per
 * thread (never fewer than min_per_thread items each), which the caller's
 * thread and the workers claim one at a time, and returns when all are
 * done. The chunk boundaries depend only on n, min_per_thread and the
 * thread count, so results that depend on them are reproducible; which
 * thread runs a chunk is not. Only one thread may call run on a pool at a
 * time. Idle workers spin briefly, then sleep (see asr_cpu_pool.c).
 *
 * Usage:
 *   vm_asr_pool *p; vm__asr_pool_create(n_threads, &p);
 *   vm__asr_pool_run(p, n_rows, 16, fn, &job);  // fn(&job, i0, i1, ith)
 *   vm__asr_pool_destroy(p); */
#ifndef VM_ASR_CPU_POOL_H
#define VM_ASR_CPU_POOL_H

#include <stddef.h>

typedef struct vm_asr_pool vm_asr_pool;
/* Works on items [i0, i1) on the thread with index ith (0 = the caller;
 * < n_threads; no two chunks run at once on the same ith, so ith may
 * select per-thread scratch). */
typedef void (*vm_asr_pool_fn)(void *arg, size_t i0, size_t i1, int ith);

/* n_threads >= 1 (1: no worker threads). OUT: *out. VM_OK or VM_ENOMEM. */
int vm__asr_pool_create(int n_threads, vm_asr_pool **out);
void vm__asr_pool_destroy(vm_asr_pool *p);
int vm__asr_pool_n_threads(const vm_asr_pool *p);
/* Runs fn over [0, n); uses fewer threads when n < min_per_thread * 2. */
void vm__asr_pool_run(vm_asr_pool *p, size_t n, size_t min_per_thread,
                      vm_asr_pool_fn fn, void *arg);

#endif /* VM_ASR_CPU_POOL_H */
