/* vm_alloc.h — checked allocation through a swappable allocator.
 *
 * All voiceman heap memory goes through these so that tests can inject
 * allocation failures (vm_alloc_fail_after) and exercise every VM_ENOMEM
 * path. They behave like malloc/calloc/realloc/free/strdup. */
#ifndef VM_ALLOC_H
#define VM_ALLOC_H

#include <stddef.h>

void *vm_malloc(size_t n);
void *vm_calloc(size_t count, size_t size);
void *vm_realloc(void *p, size_t n);
void vm_free(void *p);
char *vm_strdup(const char *s);
/* printf into a freshly allocated string; NULL on failure. */
char *vm_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Test hook: after n more successful allocations every allocation fails
 * (returns NULL) until called again with a negative n. Thread-safe. */
void vm_alloc_fail_after(long n);

#endif /* VM_ALLOC_H */
