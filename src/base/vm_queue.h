/* vm_queue.h — a bounded, weighted, multi-producer multi-consumer FIFO.
 *
 * Each item carries a weight (for voiceman: seconds of audio, which is
 * proportional to bytes held). A push blocks while the weights held plus
 * the new item's weight would exceed the capacity — except when the queue
 * is empty, so that one item heavier than the whole capacity (an hours-long
 * recording) still passes instead of deadlocking. Memory held between two
 * pipeline stages is therefore bounded by capacity + one item, whatever
 * the number of files.
 *
 * Closing: after vm_queue_close() pushes fail with VM_ECANCELED and pops
 * drain the remaining items, then fail with VM_ECANCELED. Thread-safe.
 */
#ifndef VM_QUEUE_H
#define VM_QUEUE_H

#include <stddef.h>

typedef struct vm_queue vm_queue;

/* Creates a queue holding at most capacity weight (> 0). */
int vm_queue_create(double capacity, vm_queue **out);
/* Destroys q (NULL is fine). Items still inside are not freed. */
void vm_queue_destroy(vm_queue *q);

/* Appends item; blocks while full. VM_ECANCELED once closed. */
int vm_queue_push(vm_queue *q, void *item, double weight);
/* Removes the oldest item; blocks while empty and open.
 * OUT: *out_item, *out_weight (may be NULL). VM_ECANCELED when closed and
 * drained. */
int vm_queue_pop(vm_queue *q, void **out_item, double *out_weight);
/* Like vm_queue_pop but waits at most timeout_s; VM_EBUSY on time-out. */
int vm_queue_pop_timed(vm_queue *q, void **out_item, double *out_weight,
                       double timeout_s);
/* Closes q; wakes every waiter. Idempotent. */
void vm_queue_close(vm_queue *q);

/* Current weight held and item count (racy by nature; for statistics). */
double vm_queue_weight(vm_queue *q);
size_t vm_queue_count(vm_queue *q);
/* Highest weight ever held at once. */
double vm_queue_peak_weight(vm_queue *q);

#endif /* VM_QUEUE_H */
