/* lang_normalize.c — the text form the pattern matcher sees.
 *
 * DESIGN: speech-to-text output varies in spacing, punctuation and Unicode
 * form (macOS tools write Hangul decomposed into jamo). A segment is cut
 * into extended grapheme clusters (utf8proc's rules); each cluster is
 * NFC-composed on its own (composition never crosses a cluster boundary,
 * so this equals NFC of the whole string) and every code point it yields
 * remembers the cluster's original byte span. Letters, marks, digits and
 * symbols are kept, lower-cased; separators and punctuation are dropped
 * but leave a flag on the next kept character: "a token starts here", and
 * for . ? ! … (and their full-width forms) "a sentence starts here". The
 * matcher therefore ignores spacing and punctuation entirely, yet can
 * still ask whether a match begins or ends on a word boundary.
 *
 * Not done here: no spelling correction, no jamo-level fuzzy matching, no
 * morphological analysis (ending variants come from the data files).
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "lang_impl.h"
#include "vm_alloc.h"

#define TEXT_MAX_BYTES (16u << 20)

void vm__lang_cplist_deinit(vm__lang_cplist *l) {
  if (!l) return;
  for (size_t i = 0; i < l->n; i++) vm_free(l->items[i].cps);
  vm_free(l->items);
  l->items = NULL;
  l->n = 0;
}

void vm__lang_text_deinit(vm__lang_text *t) {
  if (!t) return;
  vm_free(t->cps);
  vm_free(t->b0);
  vm_free(t->b1);
  vm_free(t->flags);
  memset(t, 0, sizeof *t);
}

static int is_sentence_end(int32_t cp) {
  return cp == '.' || cp == '?' || cp == '!' || cp == 0x2026 /* … */ ||
         cp == 0x3002 /* 。 */ || cp == 0xFF0E || cp == 0xFF1F || cp == 0xFF01;
}

enum { CLS_KEEP, CLS_SPACE, CLS_SENT, CLS_DROP };

static int classify(int32_t cp) {
  if (is_sentence_end(cp)) return CLS_SENT;
  if (cp == '~' || cp == 0xFF5E) return CLS_SPACE;
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return CLS_SPACE;
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CS:
      return CLS_DROP;
    default:
      return CLS_KEEP;
  }
}

/* Builder state carried across clusters. */
typedef struct norm_state {
  vm__lang_text *t;
  size_t cap;
  int pend_token, pend_sent;
} norm_state;

static int push_cp(norm_state *s, int32_t cp, uint32_t b0, uint32_t b1) {
  vm__lang_text *t = s->t;
  int cls = classify(cp);
  if (cls == CLS_DROP) return VM_OK;
  if (cls != CLS_KEEP) {
    s->pend_token = 1;
    if (cls == CLS_SENT) s->pend_sent = 1;
    if (cp == '!' || cp == 0xFF01) t->n_exclaim++;
    return VM_OK;
  }
  if (t->n == s->cap) {
    size_t nc = s->cap ? 2 * s->cap : 64;
    int32_t *c = vm_realloc(t->cps, nc * sizeof *c);
    if (!c) return VM_ENOMEM;
    t->cps = c;
    uint32_t *p0 = vm_realloc(t->b0, nc * sizeof *p0);
    if (!p0) return VM_ENOMEM;
    t->b0 = p0;
    uint32_t *p1 = vm_realloc(t->b1, nc * sizeof *p1);
    if (!p1) return VM_ENOMEM;
    t->b1 = p1;
    uint8_t *f = vm_realloc(t->flags, nc);
    if (!f) return VM_ENOMEM;
    t->flags = f;
    s->cap = nc;
  }
  uint8_t fl = 0;
  if (t->n == 0 || s->pend_token) fl |= VM__LANG_F_TOKEN;
  if (t->n == 0 || s->pend_sent) fl |= VM__LANG_F_SENT | VM__LANG_F_TOKEN;
  if (fl & VM__LANG_F_TOKEN) t->n_tokens++;
  s->pend_token = s->pend_sent = 0;
  t->cps[t->n] = utf8proc_tolower(cp);
  t->b0[t->n] = b0;
  t->b1[t->n] = b1;
  t->flags[t->n] = fl;
  t->n++;
  return VM_OK;
}

/* NFC of one cluster [b0, b1) of s, pushed code point by code point. */
static int push_cluster(norm_state *st, const char *s, size_t b0, size_t b1) {
  utf8proc_uint8_t *nfc = NULL;
  utf8proc_ssize_t m = utf8proc_map((const utf8proc_uint8_t *)s + b0,
                                    (utf8proc_ssize_t)(b1 - b0), &nfc,
                                    UTF8PROC_STABLE | UTF8PROC_COMPOSE);
  if (m < 0) return m == UTF8PROC_ERROR_NOMEM ? VM_ENOMEM : VM_OK;
  int rc = VM_OK;
  for (utf8proc_ssize_t k = 0; k < m && rc == VM_OK;) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t step = utf8proc_iterate(nfc + k, m - k, &cp);
    if (step <= 0) break;
    rc = push_cp(st, cp, (uint32_t)b0, (uint32_t)b1);
    k += step;
  }
  free(nfc); /* allocated by utf8proc with malloc */
  return rc;
}

int vm__lang_text_init(vm__lang_text *t, const char *s, size_t len) {
  memset(t, 0, sizeof *t);
  if (len > TEXT_MAX_BYTES) return VM_EINVAL;
  norm_state st = {t, 0, 1, 1};
  const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
  size_t i = 0, c0 = 0;
  utf8proc_int32_t prev = -1, state = 0;
  int rc = VM_OK;
  while (i < len && rc == VM_OK) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t step = utf8proc_iterate(u + i, (utf8proc_ssize_t)(len - i), &cp);
    if (step <= 0) { /* invalid byte: close the cluster, skip it */
      if (prev >= 0) rc = push_cluster(&st, s, c0, i);
      st.pend_token = 1;
      prev = -1;
      state = 0;
      i++;
      c0 = i;
      continue;
    }
    if (prev >= 0 && utf8proc_grapheme_break_stateful(prev, cp, &state)) {
      rc = push_cluster(&st, s, c0, i);
      c0 = i;
    }
    prev = cp;
    i += (size_t)step;
  }
  if (rc == VM_OK && prev >= 0) rc = push_cluster(&st, s, c0, i);
  if (rc != VM_OK) vm__lang_text_deinit(t);
  return rc;
}

int vm__lang_cpstr_from_utf8(const char *s, vm__lang_cpstr *out) {
  vm__lang_text t;
  out->cps = NULL;
  out->n = 0;
  int rc = vm__lang_text_init(&t, s, strlen(s));
  if (rc != VM_OK) return rc;
  out->cps = t.cps; /* take the code points, drop the rest */
  out->n = t.n;
  t.cps = NULL;
  vm__lang_text_deinit(&t);
  return VM_OK;
}

int vm__lang_text_token_end(const vm__lang_text *t, size_t i) {
  return i + 1 >= t->n || (t->flags[i + 1] & VM__LANG_F_TOKEN);
}
