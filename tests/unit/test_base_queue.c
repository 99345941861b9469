/* Unit tests for vm_queue: order, weight bound, oversize items, close. */
#include <pthread.h>

#include "test.h"
#include "vm_queue.h"
#include "vm_time.h"

static int test_fifo_order(void) {
  vm_queue *q;
  ASSERT_OK(vm_queue_create(10, &q));
  int v[3] = {1, 2, 3};
  for (int i = 0; i < 3; i++) ASSERT_OK(vm_queue_push(q, &v[i], 1));
  ASSERT_EQ(vm_queue_count(q), 3);
  ASSERT_NEAR(vm_queue_weight(q), 3, 1e-9);
  for (int i = 0; i < 3; i++) {
    void *p;
    double w;
    ASSERT_OK(vm_queue_pop(q, &p, &w));
    ASSERT_EQ(*(int *)p, v[i]);
    ASSERT_NEAR(w, 1, 1e-9);
  }
  ASSERT_EQ(vm_queue_pop_timed(q, &(void *){0}, NULL, 0.01), VM_EBUSY);
  vm_queue_destroy(q);
  return 0;
}

typedef struct prod {
  vm_queue *q;
  int n;
  double w;
} prod;

static void *producer(void *arg) {
  prod *p = arg;
  for (int i = 0; i < p->n; i++) vm_queue_push(p->q, (void *)(size_t)(i + 1), p->w);
  return NULL;
}

/* The weight held never exceeds the capacity while producers block. */
static int test_weight_bound(void) {
  vm_queue *q;
  ASSERT_OK(vm_queue_create(5.0, &q));
  prod p = {q, 200, 2.0};
  pthread_t t[2];
  for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, producer, &p);
  long sum = 0;
  for (int i = 0; i < 400; i++) {
    void *it;
    ASSERT_OK(vm_queue_pop(q, &it, NULL));
    sum += (long)(size_t)it;
    ASSERT(vm_queue_weight(q) <= 5.0 + 1e-9);
  }
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  ASSERT_EQ(sum, 2L * 200 * 201 / 2);
  ASSERT(vm_queue_peak_weight(q) <= 5.0 + 1e-9);
  ASSERT(vm_queue_peak_weight(q) >= 4.0 - 1e-9);
  vm_queue_destroy(q);
  return 0;
}

/* An item heavier than the capacity passes when the queue is empty. */
static int test_oversize_item(void) {
  vm_queue *q;
  ASSERT_OK(vm_queue_create(1.0, &q));
  ASSERT_OK(vm_queue_push(q, (void *)1, 100.0));
  void *it;
  ASSERT_OK(vm_queue_pop(q, &it, NULL));
  ASSERT_EQ((size_t)it, 1);
  vm_queue_destroy(q);
  return 0;
}

static void *closer(void *arg) {
  vm_time_sleep(0.05);
  vm_queue_close(arg);
  return NULL;
}

static int test_close_wakes_and_drains(void) {
  vm_queue *q;
  ASSERT_OK(vm_queue_create(1.0, &q));
  ASSERT_OK(vm_queue_push(q, (void *)7, 1.0));
  pthread_t t;
  pthread_create(&t, NULL, closer, q);
  /* blocks (full) until closed */
  ASSERT_EQ(vm_queue_push(q, (void *)8, 1.0), VM_ECANCELED);
  pthread_join(t, NULL);
  void *it;
  ASSERT_OK(vm_queue_pop(q, &it, NULL));
  ASSERT_EQ((size_t)it, 7);
  ASSERT_EQ(vm_queue_pop(q, &it, NULL), VM_ECANCELED);
  vm_queue_destroy(q);
  ASSERT_EQ(vm_queue_create(0, &q), VM_EINVAL);
  ASSERT_NULL(q);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_fifo_order), TEST_ENTRY(test_weight_bound),
          TEST_ENTRY(test_oversize_item), TEST_ENTRY(test_close_wakes_and_drains))
