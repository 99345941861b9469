/* asr_cpu_pool.h — a tiny fork-join thread pool for the CPU backend
 * (internal to asr/).
 *
 * vm__asr_pool_run() splits [0, n) into one contiguous range per thread
 * (the caller's thread takes the first) and returns when all are done.
 * Only one thread may call run on a pool at a time. */
#ifndef VM_ASR_CPU_POOL_H
#define VM_ASR_CPU_POOL_H

#include <stddef.h>

typedef struct vm_asr_pool vm_asr_pool;
/* Works on items [i0, i1) with thread index ith. */
typedef void (*vm_asr_pool_fn)(void *arg, size_t i0, size_t i1, int ith);

/* n_threads >= 1 (1: no worker threads). OUT: *out. VM_OK or VM_ENOMEM. */
int vm__asr_pool_create(int n_threads, vm_asr_pool **out);
void vm__asr_pool_destroy(vm_asr_pool *p);
int vm__asr_pool_n_threads(const vm_asr_pool *p);
/* Runs fn over [0, n); uses fewer threads when n < min_per_thread * 2. */
void vm__asr_pool_run(vm_asr_pool *p, size_t n, size_t min_per_thread,
                      vm_asr_pool_fn fn, void *arg);

#endif /* VM_ASR_CPU_POOL_H */
