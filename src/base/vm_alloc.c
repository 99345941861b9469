/* vm_alloc.c — malloc wrappers with failure injection for tests. */
#include "vm_alloc.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_long g_fail_after = -1;

static int should_fail(void) {
  long v = atomic_load(&g_fail_after);
  while (v >= 0) {
    if (v == 0) return 1;
    if (atomic_compare_exchange_weak(&g_fail_after, &v, v - 1)) return 0;
  }
  return 0;
}

void vm_alloc_fail_after(long n) { atomic_store(&g_fail_after, n); }

void *vm_malloc(size_t n) { return should_fail() ? NULL : malloc(n ? n : 1); }

void *vm_calloc(size_t count, size_t size) {
  return should_fail() ? NULL : calloc(count ? count : 1, size ? size : 1);
}

void *vm_realloc(void *p, size_t n) {
  return should_fail() ? NULL : realloc(p, n ? n : 1);
}

void vm_free(void *p) { free(p); }

char *vm_strdup(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = vm_malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

char *vm_asprintf(const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *s = NULL;
  if (n >= 0 && (s = vm_malloc((size_t)n + 1)) != NULL)
    vsnprintf(s, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  return s;
}
