/* vm_strmap.c — FNV-1a hashing, power-of-two table kept under 50 % full. */
#include "vm_strmap.h"

#include <stdint.h>
#include <string.h>

#include "vm_alloc.h"
#include "vm_status.h"

typedef struct slot {
  char *key;  /* NULL = empty */
  void *value;
} slot;

struct vm_strmap {
  slot *slots;
  size_t cap, count;
};

static uint64_t hash(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
  return h;
}

int vm_strmap_create(vm_strmap **out) {
  vm_strmap *m = vm_calloc(1, sizeof *m);
  *out = NULL;
  if (!m) return VM_ENOMEM;
  m->cap = 64;
  m->slots = vm_calloc(m->cap, sizeof *m->slots);
  if (!m->slots) {
    vm_free(m);
    return VM_ENOMEM;
  }
  *out = m;
  return VM_OK;
}

void vm_strmap_destroy(vm_strmap *m) {
  if (!m) return;
  for (size_t i = 0; i < m->cap; i++) vm_free(m->slots[i].key);
  vm_free(m->slots);
  vm_free(m);
}

static slot *find(slot *slots, size_t cap, const char *key) {
  size_t i = (size_t)hash(key) & (cap - 1);
  while (slots[i].key && strcmp(slots[i].key, key) != 0) i = (i + 1) & (cap - 1);
  return &slots[i];
}

static int grow(vm_strmap *m) {
  size_t ncap = m->cap * 2;
  slot *ns = vm_calloc(ncap, sizeof *ns);
  if (!ns) return VM_ENOMEM;
  for (size_t i = 0; i < m->cap; i++)
    if (m->slots[i].key) *find(ns, ncap, m->slots[i].key) = m->slots[i];
  vm_free(m->slots);
  m->slots = ns;
  m->cap = ncap;
  return VM_OK;
}

int vm_strmap_put(vm_strmap *m, const char *key, void *value) {
  if ((m->count + 1) * 2 > m->cap && grow(m) != VM_OK) return VM_ENOMEM;
  slot *s = find(m->slots, m->cap, key);
  if (!s->key) {
    if (!(s->key = vm_strdup(key))) return VM_ENOMEM;
    m->count++;
  }
  s->value = value;
  return VM_OK;
}

int vm_strmap_get(const vm_strmap *m, const char *key, void **out_value) {
  slot *s = find(m->slots, m->cap, key);
  if (!s->key) return 0;
  if (out_value) *out_value = s->value;
  return 1;
}

size_t vm_strmap_count(const vm_strmap *m) { return m->count; }
