/* vm_strmap.h — a string-keyed hash map (open addressing, linear probing).
 *
 * Keys are copied; values are borrowed pointers. Used for path → record
 * look-ups when a run starts (thousands of files, one pass). Not
 * thread-safe. */
#ifndef VM_STRMAP_H
#define VM_STRMAP_H

#include <stddef.h>

typedef struct vm_strmap vm_strmap;

int vm_strmap_create(vm_strmap **out);
void vm_strmap_destroy(vm_strmap *m);
/* Inserts or replaces key → value. VM_ENOMEM on failure. */
int vm_strmap_put(vm_strmap *m, const char *key, void *value);
/* Returns 1 and sets *out_value if key is present, else 0. */
int vm_strmap_get(const vm_strmap *m, const char *key, void **out_value);
size_t vm_strmap_count(const vm_strmap *m);

#endif /* VM_STRMAP_H */
