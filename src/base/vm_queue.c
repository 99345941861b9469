/* vm_queue.c — linked FIFO guarded by one mutex and two condition vars.
 *
 * Invariants (under q->lock): weight == sum of the nodes' weights;
 * count == number of nodes; head == NULL iff count == 0. `not_full` is
 * signalled when weight drops or the queue closes, `not_empty` when an
 * item arrives or the queue closes. */
#include "vm_queue.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "vm_alloc.h"
#include "vm_status.h"

typedef struct node {
  struct node *next;
  void *item;
  double weight;
} node;

struct vm_queue {
  pthread_mutex_t lock;
  pthread_cond_t not_full;
  pthread_cond_t not_empty;
  node *head, *tail;
  size_t count;
  double weight, peak, capacity;
  int closed;
};

int vm_queue_create(double capacity, vm_queue **out) {
  *out = NULL;
  if (!(capacity > 0)) return VM_EINVAL;
  vm_queue *q = vm_calloc(1, sizeof *q);
  if (!q) return VM_ENOMEM;
  pthread_mutex_init(&q->lock, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&q->not_full, &ca);
  pthread_cond_init(&q->not_empty, &ca);
  pthread_condattr_destroy(&ca);
  q->capacity = capacity;
  *out = q;
  return VM_OK;
}

void vm_queue_destroy(vm_queue *q) {
  if (!q) return;
  node *n = q->head;
  while (n) {
    node *next = n->next;
    vm_free(n);
    n = next;
  }
  pthread_cond_destroy(&q->not_full);
  pthread_cond_destroy(&q->not_empty);
  pthread_mutex_destroy(&q->lock);
  vm_free(q);
}

int vm_queue_push(vm_queue *q, void *item, double weight) {
  node *n = vm_malloc(sizeof *n);
  if (!n) return VM_ENOMEM;
  n->next = NULL;
  n->item = item;
  n->weight = weight < 0 ? 0 : weight;
  pthread_mutex_lock(&q->lock);
  while (!q->closed && q->count > 0 && q->weight + n->weight > q->capacity)
    pthread_cond_wait(&q->not_full, &q->lock);
  if (q->closed) {
    pthread_mutex_unlock(&q->lock);
    vm_free(n);
    return VM_ECANCELED;
  }
  if (q->tail) q->tail->next = n;
  else q->head = n;
  q->tail = n;
  q->count++;
  q->weight += n->weight;
  if (q->weight > q->peak) q->peak = q->weight;
  pthread_cond_signal(&q->not_empty);
  pthread_mutex_unlock(&q->lock);
  return VM_OK;
}

static int pop_locked(vm_queue *q, void **out_item, double *out_weight) {
  node *n = q->head;
  q->head = n->next;
  if (!q->head) q->tail = NULL;
  q->count--;
  q->weight -= n->weight;
  if (q->count == 0) q->weight = 0; /* no float drift when empty */
  *out_item = n->item;
  if (out_weight) *out_weight = n->weight;
  vm_free(n);
  pthread_cond_broadcast(&q->not_full);
  return VM_OK;
}

int vm_queue_pop(vm_queue *q, void **out_item, double *out_weight) {
  int rc;
  pthread_mutex_lock(&q->lock);
  while (!q->closed && q->count == 0)
    pthread_cond_wait(&q->not_empty, &q->lock);
  rc = q->count > 0 ? pop_locked(q, out_item, out_weight) : VM_ECANCELED;
  pthread_mutex_unlock(&q->lock);
  return rc;
}

int vm_queue_pop_timed(vm_queue *q, void **out_item, double *out_weight,
                       double timeout_s) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  long long ns = (long long)ts.tv_nsec + (long long)(timeout_s * 1e9);
  ts.tv_sec += (time_t)(ns / 1000000000LL);
  ts.tv_nsec = (long)(ns % 1000000000LL);
  int rc = VM_OK;
  pthread_mutex_lock(&q->lock);
  while (!q->closed && q->count == 0) {
    if (pthread_cond_timedwait(&q->not_empty, &q->lock, &ts) == ETIMEDOUT)
      break;
  }
  if (q->count > 0) rc = pop_locked(q, out_item, out_weight);
  else rc = q->closed ? VM_ECANCELED : VM_EBUSY;
  pthread_mutex_unlock(&q->lock);
  return rc;
}

void vm_queue_close(vm_queue *q) {
  pthread_mutex_lock(&q->lock);
  q->closed = 1;
  pthread_cond_broadcast(&q->not_full);
  pthread_cond_broadcast(&q->not_empty);
  pthread_mutex_unlock(&q->lock);
}

double vm_queue_weight(vm_queue *q) {
  pthread_mutex_lock(&q->lock);
  double w = q->weight;
  pthread_mutex_unlock(&q->lock);
  return w;
}

size_t vm_queue_count(vm_queue *q) {
  pthread_mutex_lock(&q->lock);
  size_t c = q->count;
  pthread_mutex_unlock(&q->lock);
  return c;
}

double vm_queue_peak_weight(vm_queue *q) {
  pthread_mutex_lock(&q->lock);
  double p = q->peak;
  pthread_mutex_unlock(&q->lock);
  return p;
}
