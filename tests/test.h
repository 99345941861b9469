/* tests/test.h — assertion macros for voiceman's CTest executables.
 *
 * Each test file defines small `static int test_xxx(void)` functions and
 * lists them in a TEST_LIST; main() runs them all (or the one named in
 * argv[1]) and returns non-zero on the first failure. Assertions print
 * both operands with file:line. TEST_SKIP() returns 77, which CTest
 * reports as skipped (SKIP_RETURN_CODE 77). */
#ifndef VM_TEST_H
#define VM_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm_status.h"

#define TEST_FAIL_(...)                                             \
  do {                                                              \
    fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                 \
    fprintf(stderr, __VA_ARGS__);                                   \
    fprintf(stderr, "\n");                                          \
    return 1;                                                       \
  } while (0)

#define ASSERT(c) do { if (!(c)) TEST_FAIL_("assertion failed: %s", #c); } while (0)
#define ASSERT_INT_OP_(a, b, op)                                           \
  do {                                                                     \
    long long a_ = (long long)(a), b_ = (long long)(b);                    \
    if (!(a_ op b_))                                                       \
      TEST_FAIL_("%s %s %s failed: %lld vs %lld", #a, #op, #b, a_, b_);    \
  } while (0)
#define ASSERT_EQ(a, b) ASSERT_INT_OP_(a, b, ==)
#define ASSERT_NE(a, b) ASSERT_INT_OP_(a, b, !=)
#define ASSERT_LT(a, b) ASSERT_INT_OP_(a, b, <)
#define ASSERT_LE(a, b) ASSERT_INT_OP_(a, b, <=)
#define ASSERT_GT(a, b) ASSERT_INT_OP_(a, b, >)
#define ASSERT_GE(a, b) ASSERT_INT_OP_(a, b, >=)
#define ASSERT_OK(rc)                                                      \
  do {                                                                     \
    int rc_ = (rc);                                                        \
    if (rc_ != 0) TEST_FAIL_("%s returned %s (%d)", #rc, vm_err_name(rc_), rc_); \
  } while (0)
#define ASSERT_NULL(p) do { if ((p) != NULL) TEST_FAIL_("%s is not NULL", #p); } while (0)
#define ASSERT_NOT_NULL(p) do { if ((p) == NULL) TEST_FAIL_("%s is NULL", #p); } while (0)
#define ASSERT_NEAR(a, b, tol)                                             \
  do {                                                                     \
    double a_ = (double)(a), b_ = (double)(b), t_ = (double)(tol);         \
    if (!(fabs(a_ - b_) <= t_))                                            \
      TEST_FAIL_("%s ~ %s failed: %.9g vs %.9g (tol %g)", #a, #b, a_, b_, t_); \
  } while (0)
#define ASSERT_STR_EQ(a, b)                                                \
  do {                                                                     \
    const char *a_ = (a), *b_ = (b);                                       \
    if (!a_ || !b_ || strcmp(a_, b_) != 0)                                 \
      TEST_FAIL_("%s == %s failed: \"%s\" vs \"%s\"", #a, #b,              \
                 a_ ? a_ : "(null)", b_ ? b_ : "(null)");                  \
  } while (0)
#define ASSERT_STR_CONTAINS(hay, needle)                                   \
  do {                                                                     \
    const char *h_ = (hay), *n_ = (needle);                                \
    if (!h_ || !strstr(h_, n_))                                            \
      TEST_FAIL_("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", n_); \
  } while (0)

#define TEST_SKIP_CODE 77
#define TEST_SKIP(...)                                                     \
  do {                                                                     \
    fprintf(stderr, "skipped: " __VA_ARGS__);                              \
    fprintf(stderr, "\n");                                                 \
    return TEST_SKIP_CODE;                                                 \
  } while (0)

typedef struct test_entry {
  const char *name;
  int (*fn)(void);
} test_entry;

#define TEST_ENTRY(fn) {#fn, fn}

/* Runs every entry (or only argv[1]); prints one line per test. */
static inline int test_run_all(const test_entry *tests, int argc, char **argv) {
  int failed = 0, skipped = 0, ran = 0;
  for (const test_entry *t = tests; t->name; t++) {
    if (argc > 1 && strcmp(argv[1], t->name) != 0) continue;
    int rc = t->fn();
    ran++;
    if (rc == TEST_SKIP_CODE) {
      skipped++;
      printf("skip %s\n", t->name);
    } else if (rc != 0) {
      failed++;
      printf("FAIL %s\n", t->name);
    } else {
      printf("ok   %s\n", t->name);
    }
  }
  if (ran == 0) {
    fprintf(stderr, "no test matched\n");
    return 1;
  }
  if (failed) return 1;
  return skipped == ran ? TEST_SKIP_CODE : 0;
}

#define TEST_MAIN(...)                                                     \
  int main(int argc, char **argv) {                                        \
    static const test_entry tests_[] = {__VA_ARGS__, {NULL, NULL}};        \
    return test_run_all(tests_, argc, argv);                               \
  }

#endif /* VM_TEST_H */
