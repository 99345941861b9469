/* lang_level.c — speech level (존댓말 / 반말) of a segment.
 *
 * DESIGN: Korean marks the speech level on the predicate that ends a
 * sentence, so only the last word of each sentence is read (sentences end
 * at . ? ! … or at the segment's end; speech-to-text often omits
 * punctuation, and then the segment is one sentence). In order:
 *   1. a word ending in an exception (필요, 중요: nouns ending in 요) → none;
 *   2. the whole word is a formal (네, 예) or informal (응, 그래) token;
 *   3. 합쇼체: ...니다 / ...니까 after a syllable with final ㅂ
 *      (습니다, 합니다, 입니까) → formal;
 *   4. a formal ending from speech_level.json (요, 죠, 세요 ...) → formal;
 *   5. an informal ending (어, 아, 야, 지, 다 ...) → informal;
 *   otherwise the sentence carries no level. Because formal is checked
 *   first, 입니다 is never counted as informal 다 (the original's §16 #28),
 *   and a sentence without markers is "unknown", not "informal".
 */
#include <string.h>

#include "lang_impl.h"

#define HANGUL_FIRST 0xAC00
#define HANGUL_LAST 0xD7A3
#define JONG_BIEUP 17 /* ㅂ as a final consonant */
#define NI 0xB2C8     /* 니 */
#define DA 0xB2E4     /* 다 */
#define KKA 0xAE4C    /* 까 */

static int ends_with(const int32_t *w, size_t n, const vm__lang_cpstr *s) {
  return s->n <= n && memcmp(w + n - s->n, s->cps, s->n * sizeof *w) == 0;
}

static int equals(const int32_t *w, size_t n, const vm__lang_cpstr *s) {
  return s->n == n && memcmp(w, s->cps, n * sizeof *w) == 0;
}

static int any(const vm__lang_cplist *l, const int32_t *w, size_t n, int whole) {
  for (size_t i = 0; i < l->n; i++)
    if (whole ? equals(w, n, &l->items[i]) : ends_with(w, n, &l->items[i])) return 1;
  return 0;
}

static int hapsyo(const int32_t *w, size_t n) {
  if (n < 3 || w[n - 2] != NI || (w[n - 1] != DA && w[n - 1] != KKA)) return 0;
  int32_t c = w[n - 3];
  return c >= HANGUL_FIRST && c <= HANGUL_LAST && (c - HANGUL_FIRST) % 28 == JONG_BIEUP;
}

/* Level of one sentence-final word w (n code points). */
static int word_level(const vm_lang_db *db, const int32_t *w, size_t n) {
  if (any(&db->level_exceptions, w, n, 0)) return VM__LANG_LEVEL_UNKNOWN;
  if (any(&db->formal_tokens, w, n, 1)) return VM__LANG_LEVEL_FORMAL;
  if (any(&db->informal_tokens, w, n, 1)) return VM__LANG_LEVEL_INFORMAL;
  if (hapsyo(w, n) || any(&db->formal_endings, w, n, 0)) return VM__LANG_LEVEL_FORMAL;
  if (any(&db->informal_endings, w, n, 0)) return VM__LANG_LEVEL_INFORMAL;
  return VM__LANG_LEVEL_UNKNOWN;
}

int vm__lang_level_classify(const vm_lang_db *db, const vm__lang_text *t, int *out_formal,
                            int *out_informal) {
  int f = 0, inf = 0;
  size_t i = 0;
  while (i < t->n) {
    size_t end = i + 1, word = i;
    while (end < t->n && !(t->flags[end] & VM__LANG_F_SENT)) {
      if (t->flags[end] & VM__LANG_F_TOKEN) word = end;
      end++;
    }
    int lv = word_level(db, t->cps + word, end - word);
    f += lv == VM__LANG_LEVEL_FORMAL;
    inf += lv == VM__LANG_LEVEL_INFORMAL;
    i = end;
  }
  *out_formal = f;
  *out_informal = inf;
  if (f && inf) return VM__LANG_LEVEL_MIXED;
  if (f) return VM__LANG_LEVEL_FORMAL;
  if (inf) return VM__LANG_LEVEL_INFORMAL;
  return VM__LANG_LEVEL_UNKNOWN;
}

const char *vm__lang_level_name(int level) {
  switch (level) {
    case VM__LANG_LEVEL_FORMAL: return "formal";
    case VM__LANG_LEVEL_INFORMAL: return "informal";
    case VM__LANG_LEVEL_MIXED: return "mixed";
    default: return "unknown";
  }
}
