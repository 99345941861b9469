/* lang_compile.c — pattern text → matchable variants.
 *
 * DESIGN: a pattern in the data files is written as a Korean phrase with
 * three pieces of syntax (docs/language.md "Pattern syntax"):
 *   (a|b|c)  alternatives, one level, an empty option allowed: "(이|)";
 *   ~        a slot: 1..VM__LANG_SLOT_MAX characters of the utterance,
 *            never across a sentence end; "~하" stands for any predicate,
 *            so "만약 ~하면" matches "만약 돈 안 주면" (the slot takes
 *            "돈안주", the ending "면" must follow);
 *   spaces and punctuation are ignored, exactly as in the text.
 * Each alternative combination is one variant; then each spelling rule of
 * endings.json (e.g. 네가 → 니가) whose left side occurs adds a variant,
 * and, where the pattern enables endings, each ending rule whose left side
 * ends the variant (e.g. 거야 → 겁니다) adds one more. Duplicates are
 * dropped. A variant is a code-point array with VM__LANG_SLOT elements.
 */
#include <stdio.h>
#include <string.h>

#include "lang_impl.h"
#include "vm_alloc.h"

#define MAX_TOTAL_VARIANTS 256
#define HA 0xD558 /* 하 */

typedef struct strlist {
  char **s;
  size_t n;
} strlist;

static void strlist_free(strlist *l) {
  for (size_t i = 0; i < l->n; i++) vm_free(l->s[i]);
  vm_free(l->s);
  l->s = NULL;
  l->n = 0;
}

static int strlist_push(strlist *l, char *s) {
  char **p = vm_realloc(l->s, (l->n + 1) * sizeof *p);
  if (!p) {
    vm_free(s);
    return VM_ENOMEM;
  }
  l->s = p;
  l->s[l->n++] = s;
  return VM_OK;
}

/* Expands the first (a|b) group of text recursively into out. */
static int expand_alts(const char *text, strlist *out, char *why, size_t why_len) {
  const char *open = strchr(text, '(');
  const char *close = strchr(text, ')');
  if (!open) {
    if (close) {
      snprintf(why, why_len, "unbalanced ')'");
      return VM_EFORMAT;
    }
    if (out->n >= VM__LANG_MAX_VARIANTS) {
      snprintf(why, why_len, "more than %d alternative combinations", VM__LANG_MAX_VARIANTS);
      return VM_EFORMAT;
    }
    char *d = vm_strdup(text);
    return d ? strlist_push(out, d) : VM_ENOMEM;
  }
  close = strchr(open + 1, ')');
  const char *nested = strchr(open + 1, '(');
  if (!close) {
    snprintf(why, why_len, "unbalanced '('");
    return VM_EFORMAT;
  }
  if (nested && nested < close) {
    snprintf(why, why_len, "nested '(' is not supported");
    return VM_EFORMAT;
  }
  int rc = VM_OK;
  const char *opt = open + 1;
  while (rc == VM_OK) {
    const char *bar = memchr(opt, '|', (size_t)(close - opt));
    const char *end = bar ? bar : close;
    char *joined = vm_asprintf("%.*s%.*s%s", (int)(open - text), text, (int)(end - opt), opt,
                               close + 1);
    if (!joined) return VM_ENOMEM;
    rc = expand_alts(joined, out, why, why_len);
    vm_free(joined);
    if (!bar) break;
    opt = bar + 1;
  }
  return rc;
}

/* One expanded string (no groups) → code points with slots. */
static int to_variant(const char *s, vm__lang_cpstr *out, char *why, size_t why_len) {
  size_t cap = strlen(s) + 1, n = 0;
  int32_t *v = vm_malloc(cap * sizeof *v);
  if (!v) return VM_ENOMEM;
  int rc = VM_OK, after_slot = 0;
  while (*s) {
    const char *tilde = strchr(s, '~');
    size_t len = tilde ? (size_t)(tilde - s) : strlen(s);
    char *piece = vm_asprintf("%.*s", (int)len, s);
    vm__lang_cpstr cp = {0};
    if (!piece || (rc = vm__lang_cpstr_from_utf8(piece, &cp)) != VM_OK) {
      vm_free(piece);
      rc = rc ? rc : VM_ENOMEM;
      goto out;
    }
    vm_free(piece);
    size_t k0 = (after_slot && cp.n > 0 && cp.cps[0] == HA) ? 1 : 0; /* "~하" */
    for (size_t k = k0; k < cp.n; k++) v[n++] = cp.cps[k];
    vm_free(cp.cps);
    if (!tilde) break;
    if (n > 0 && v[n - 1] == VM__LANG_SLOT) {
      snprintf(why, why_len, "two slots '~' with nothing between them");
      rc = VM_EFORMAT;
      goto out;
    }
    v[n++] = VM__LANG_SLOT;
    after_slot = 1;
    s = tilde + 1;
  }
  if (n == 0) {
    snprintf(why, why_len, "no letters in the pattern");
    rc = VM_EFORMAT;
  } else if (v[0] == VM__LANG_SLOT || v[n - 1] == VM__LANG_SLOT) {
    snprintf(why, why_len, "a slot '~' may not begin or end a pattern");
    rc = VM_EFORMAT;
  }
out:
  if (rc != VM_OK) {
    vm_free(v);
    v = NULL;
    n = 0;
  }
  out->cps = v;
  out->n = n;
  return rc;
}

static int same(const int32_t *a, size_t na, const int32_t *b, size_t nb) {
  return na == nb && memcmp(a, b, na * sizeof *a) == 0;
}

/* Appends a variant to db unless the pattern already has an equal one.
 * Takes ownership of cps. */
static int add_variant(vm_lang_db *db, size_t pattern, size_t first, int32_t *cps, size_t n) {
  if (n == 0 || cps[0] == VM__LANG_SLOT || cps[n - 1] == VM__LANG_SLOT) { /* a rewrite emptied it */
    vm_free(cps);
    return VM_OK;
  }
  for (size_t i = first; i < db->n_variants; i++) {
    if (same(db->variants[i].cps, db->variants[i].n, cps, n)) {
      vm_free(cps);
      return VM_OK;
    }
  }
  if (db->n_variants - first >= MAX_TOTAL_VARIANTS) { /* documented cap */
    vm_free(cps);
    return VM_OK;
  }
  if (db->n_variants == db->cap_variants) {
    size_t nc = db->cap_variants ? 2 * db->cap_variants : 1024;
    vm__lang_variant *p = vm_realloc(db->variants, nc * sizeof *p);
    if (!p) {
      vm_free(cps);
      return VM_ENOMEM;
    }
    db->variants = p;
    db->cap_variants = nc;
  }
  db->variants[db->n_variants++] = (vm__lang_variant){cps, n, pattern};
  return VM_OK;
}

/* A copy of v with [at, at + rm) replaced by rep. */
static int32_t *splice(const vm__lang_variant *v, size_t at, size_t rm, const vm__lang_cpstr *rep,
                       size_t *out_n) {
  size_t n = v->n - rm + rep->n;
  int32_t *c = vm_malloc((n ? n : 1) * sizeof *c);
  if (!c) return NULL;
  memcpy(c, v->cps, at * sizeof *c);
  memcpy(c + at, rep->cps, rep->n * sizeof *c);
  memcpy(c + at + rep->n, v->cps + at + rm, (v->n - at - rm) * sizeof *c);
  *out_n = n;
  return c;
}

static long find_sub(const int32_t *h, size_t nh, const vm__lang_cpstr *needle) {
  if (needle->n == 0 || needle->n > nh) return -1;
  for (size_t i = 0; i + needle->n <= nh; i++)
    if (memcmp(h + i, needle->cps, needle->n * sizeof *h) == 0) return (long)i;
  return -1;
}

/* Adds spelling variants (first occurrence of each rule's left side, also
 * on variants made by other spellings) and,
 * if endings, ending variants, for the variants [first, end). */
static int add_rewrites(vm_lang_db *db, size_t pattern, size_t first, int endings) {
  /* spellings combine (니가 … 꺼야): new variants are rewritten in turn;
   * duplicates are dropped and the total is capped, so this ends */
  for (size_t i = first; i < db->n_variants; i++) {
    for (size_t r = 0; r < db->n_spellings; r++) {
      const vm__lang_rule *ru = &db->spellings[r];
      long at = find_sub(db->variants[i].cps, db->variants[i].n, &ru->from);
      if (at < 0) continue;
      size_t n;
      int32_t *c = splice(&db->variants[i], (size_t)at, ru->from.n, &ru->to, &n);
      if (!c) return VM_ENOMEM;
      int rc = add_variant(db, pattern, first, c, n);
      if (rc != VM_OK) return rc;
    }
  }
  if (!endings) return VM_OK;
  size_t end = db->n_variants;
  for (size_t i = first; i < end; i++) {
    for (size_t r = 0; r < db->n_endings; r++) {
      const vm__lang_rule *ru = &db->endings[r];
      const vm__lang_variant *v = &db->variants[i];
      if (ru->from.n >= v->n) continue;
      size_t at = v->n - ru->from.n;
      if (memcmp(v->cps + at, ru->from.cps, ru->from.n * sizeof *v->cps) != 0) continue;
      if (v->cps[at - 1] == VM__LANG_SLOT && ru->to.n == 0) continue;
      size_t n;
      int32_t *c = splice(v, at, ru->from.n, &ru->to, &n);
      if (!c) return VM_ENOMEM;
      int rc = add_variant(db, pattern, first, c, n);
      if (rc != VM_OK) return rc;
    }
  }
  return VM_OK;
}

int vm__lang_pattern_compile(vm_lang_db *db, size_t pattern, const char *text, int endings,
                             char *why, size_t why_len) {
  strlist alts = {0};
  size_t first = db->n_variants;
  int rc = expand_alts(text, &alts, why, why_len);
  for (size_t i = 0; rc == VM_OK && i < alts.n; i++) {
    vm__lang_cpstr v;
    rc = to_variant(alts.s[i], &v, why, why_len);
    if (rc == VM_OK) rc = add_variant(db, pattern, first, v.cps, v.n);
  }
  if (rc == VM_OK) rc = add_rewrites(db, pattern, first, endings);
  if (rc == VM_OK) {
    vm__lang_pattern *p = &db->patterns[pattern];
    const vm__lang_variant *v0 = &db->variants[first];
    p->n_chars = 0;
    for (size_t k = 0; k < v0->n; k++) {
      if (v0->cps[k] == VM__LANG_SLOT) p->has_slot = 1;
      else p->n_chars++;
    }
  } else {
    while (db->n_variants > first) vm_free(db->variants[--db->n_variants].cps);
  }
  strlist_free(&alts);
  return rc;
}
