/* lang_match.c — finding compiled pattern variants in a normalised segment.
 *
 * DESIGN: matching works on vm__lang_text, where spacing and punctuation
 * are gone, so "그런적 없어", "그런 적없어." and "그런 적 없어" are the same
 * string. Word boundaries survive as flags and each pattern's boundary
 * rule decides where a match may begin and end (lang_impl.h,
 * enum vm__lang_bound): by default a match begins where a token begins
 * and ends where a token ends (a polite "요" may follow), and patterns of
 * one or two characters must be whole tokens, so "어" matches the
 * hesitation in "어, 그게" but never 먹어 or 어디. Slots try the shortest
 * span first and back off to longer ones until the end rule holds; no
 * match crosses a sentence end. Each variant is scanned left to right,
 * non-overlapping. Afterwards, within one family, a match contained in a
 * longer match is dropped ("알지?" inside "무슨 말인지 알지?"), so one
 * utterance is not counted twice.
 *
 * Confidence (after the original, §6.5): 0.95 when the match is a whole
 * sentence, else 0.80, +0.10 for patterns of ≥ 8 characters or +0.05 for
 * ≥ 5; templates with slots lose 0.10 (the slot is unverified text).
 */
#include <string.h>

#include "lang_impl.h"
#include "vm_alloc.h"

void vm__lang_hits_deinit(vm__lang_hits *h) {
  if (!h) return;
  vm_free(h->items);
  h->items = NULL;
  h->n = h->cap = 0;
}

static int hits_push(vm__lang_hits *h, vm__lang_hit hit) {
  if (h->n == h->cap) {
    size_t nc = h->cap ? 2 * h->cap : 16;
    vm__lang_hit *p = vm_realloc(h->items, nc * sizeof *p);
    if (!p) return VM_ENOMEM;
    h->items = p;
    h->cap = nc;
  }
  h->items[h->n++] = hit;
  return VM_OK;
}

/* 1 if [e, j) is a sequence of at most depth items of list (particles
 * stack: 사장님 + 한테 + 도). */
static int tail_split(const vm__lang_text *t, size_t e, size_t j, const vm__lang_cplist *list,
                      int depth) {
  if (e == j) return 1;
  if (depth == 0) return 0;
  for (size_t i = 0; i < list->n; i++) {
    size_t k = list->items[i].n;
    if (k <= j - e && memcmp(list->items[i].cps, t->cps + e, k * sizeof *t->cps) == 0 &&
        tail_split(t, e + k, j, list, depth - 1))
      return 1;
  }
  return 0;
}

/* Length of the rest of the token that continues at e if it is made of
 * (up to three) items of list, else -1. */
static long tail_in(const vm__lang_text *t, size_t e, const vm__lang_cplist *list) {
  size_t j = e;
  while (j < t->n && !(t->flags[j] & VM__LANG_F_TOKEN)) j++;
  return tail_split(t, e, j, list, 3) ? (long)(j - e) : -1;
}

static int start_ok(const vm__lang_text *t, size_t s, int bound) {
  if (bound == VM__LANG_BOUND_NONE) return 1;
  if (bound == VM__LANG_BOUND_SENTENCE) return (t->flags[s] & VM__LANG_F_SENT) != 0;
  return (t->flags[s] & VM__LANG_F_TOKEN) != 0;
}

/* The end of a match whose pattern ends at e: e itself, e plus an allowed
 * tail (the tail is part of the reported text), or -1 if the boundary
 * rule fails. */
static long end_at(const vm_lang_db *db, const vm__lang_text *t, size_t e, int bound) {
  int at_token_end = e >= t->n || (t->flags[e] & VM__LANG_F_TOKEN);
  long tail;
  switch (bound) {
    case VM__LANG_BOUND_WORD:
    case VM__LANG_BOUND_NOUN:
      if (at_token_end) return (long)e;
      tail = tail_in(t, e, bound == VM__LANG_BOUND_WORD ? &db->word_tails : &db->particles);
      return tail < 0 ? -1 : (long)e + tail;
    case VM__LANG_BOUND_START: /* a stem: report the whole word it begins */
      while (e < t->n && !(t->flags[e] & VM__LANG_F_TOKEN)) e++;
      return (long)e;
    case VM__LANG_BOUND_TOKEN: return at_token_end ? (long)e : -1;
    case VM__LANG_BOUND_SENTENCE: return e >= t->n || (t->flags[e] & VM__LANG_F_SENT) ? (long)e : -1;
    default: return (long)e;
  }
}

typedef struct mctx {
  const vm_lang_db *db;
  const vm__lang_text *t;
  const vm__lang_variant *v;
  int bound;
} mctx;

/* Matches elements k.. of the variant at pos; returns the end or -1. */
static long match_rest(const mctx *m, size_t k, size_t pos) {
  const vm__lang_text *t = m->t;
  for (; k < m->v->n; k++) {
    if (m->v->cps[k] == VM__LANG_SLOT) {
      for (size_t len = 1; len <= VM__LANG_SLOT_MAX && pos + len <= t->n; len++) {
        if (t->flags[pos + len - 1] & VM__LANG_F_SENT) break; /* never across a sentence */
        long e = match_rest(m, k + 1, pos + len);
        if (e >= 0) return e;
      }
      return -1;
    }
    if (pos >= t->n || t->cps[pos] != m->v->cps[k]) return -1;
    if (k > 0 && (t->flags[pos] & VM__LANG_F_SENT)) return -1;
    pos++;
  }
  return end_at(m->db, t, pos, m->bound);
}

static double confidence(const vm__lang_pattern *p, const vm__lang_text *t, size_t c0,
                         size_t c1) {
  int whole = (t->flags[c0] & VM__LANG_F_SENT) && (c1 >= t->n || (t->flags[c1] & VM__LANG_F_SENT));
  double c = whole ? 0.95 : 0.80 + (p->n_chars >= 8 ? 0.10 : p->n_chars >= 5 ? 0.05 : 0.0);
  if (p->has_slot) c -= 0.10;
  return c > 1.0 ? 1.0 : c;
}

/* Adds [c0,c1) of pattern unless the same pattern already overlaps it
 * (a longer new match replaces the old one). */
static int add_hit(vm__lang_hits *h, size_t first, const vm_lang_db *db, const vm__lang_text *t,
                   size_t pattern, size_t seg, size_t c0, size_t c1) {
  for (size_t i = first; i < h->n; i++) {
    vm__lang_hit *o = &h->items[i];
    if (o->pattern != pattern || c1 <= o->c0 || c0 >= o->c1) continue;
    if (c1 - c0 > o->c1 - o->c0) {
      o->c0 = c0;
      o->c1 = c1;
      o->confidence = confidence(&db->patterns[pattern], t, c0, c1);
    }
    return VM_OK;
  }
  vm__lang_hit hit = {pattern, seg, c0, c1, confidence(&db->patterns[pattern], t, c0, c1)};
  return hits_push(h, hit);
}

/* Drops, within one family, matches inside a longer one (equal spans: the
 * pattern with fewer literal characters, then the lower weight, then the
 * later pattern, goes). */
static void drop_contained(const vm_lang_db *db, vm__lang_hits *h, size_t first) {
  size_t w = first;
  for (size_t i = first; i < h->n; i++) {
    const vm__lang_hit *a = &h->items[i];
    const vm__lang_pattern *pa = &db->patterns[a->pattern];
    int drop = 0;
    for (size_t j = first; j < h->n && !drop; j++) {
      const vm__lang_hit *b = &h->items[j];
      const vm__lang_pattern *pb = &db->patterns[b->pattern];
      if (i == j || pa->family != pb->family || a->c0 < b->c0 || a->c1 > b->c1) continue;
      if (a->c0 != b->c0 || a->c1 != b->c1) {
        drop = 1;
      } else { /* equal spans: the more specific pattern, then the heavier */
        double wa = db->families[pa->family].types[pa->type].weight;
        double wb = db->families[pb->family].types[pb->type].weight;
        drop = pa->n_chars < pb->n_chars ||
               (pa->n_chars == pb->n_chars && (wa < wb || (wa == wb && a->pattern > b->pattern)));
      }
    }
    if (!drop) h->items[w++] = *a;
  }
  h->n = w;
}

int vm__lang_match_text(const vm_lang_db *db, const vm__lang_text *t, size_t seg, int family,
                        vm__lang_hits *out) {
  size_t first = out->n;
  for (size_t iv = 0; iv < db->n_variants; iv++) {
    const vm__lang_variant *v = &db->variants[iv];
    const vm__lang_pattern *p = &db->patterns[v->pattern];
    if (family >= 0 && p->family != family) continue;
    mctx m = {db, t, v, p->bound};
    for (size_t i = 0; i < t->n; i++) {
      if (t->cps[i] != v->cps[0] || !start_ok(t, i, p->bound)) continue;
      long e = match_rest(&m, 0, i);
      if (e < 0) continue;
      int rc = add_hit(out, first, db, t, v->pattern, seg, i, (size_t)e);
      if (rc != VM_OK) return rc;
      i = (size_t)e - 1;
    }
  }
  drop_contained(db, out, first);
  return VM_OK;
}
