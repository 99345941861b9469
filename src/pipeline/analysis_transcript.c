/* analysis_transcript.c — transcript segments meet the diarization turns:
 * speaker assignment, splitting at speaker changes, rate counting.
 *
 * DESIGN
 * A segment without a speaker is cut into pieces by the turns it overlaps
 * (consecutive turns of one speaker form one piece; the silence between
 * two turns of different speakers is split at its middle; the first piece
 * starts at the segment's start and the last ends at its end). Pieces
 * shorter than VM__AN_MIN_PIECE_S are absorbed by their longer neighbour,
 * so a speaker keeps the time they overlap most. The text follows the
 * speech: piece k gets the characters (code points) in proportion to the
 * VAD speech inside it (to its duration when the segment holds no
 * speech), each cut moved to the nearest space; where no space can carry
 * a cut (a one-word segment, Chinese or Japanese text) the two pieces
 * stay one, with the speaker that overlaps it longer. The transcript is
 * rebuilt in a new segment array and swapped in at the end, so a failure
 * leaves it as it was.
 */
#include <math.h>
#include <string.h>

#include "analysis_impl.h"
#include "vm_alloc.h"

typedef struct piece {
  double a, b;
  int spk;
} piece;

/* Speaker of the turn nearest to [s, e) within VM__AN_NEAREST_MAX_S, or -1. */
static int nearest_speaker(const vm_diar_turn *turns, size_t nt, double s, double e) {
  int best = -1;
  double bd = VM__AN_NEAREST_MAX_S;
  for (size_t i = 0; i < nt; i++) {
    double d = turns[i].start_s >= e ? turns[i].start_s - e
               : turns[i].end_s <= s ? s - turns[i].end_s : 0.0;
    if (d <= bd) bd = d, best = turns[i].speaker;
  }
  return best;
}

/* Removes piece i, giving its time to the neighbour j, then joins
 * neighbours that now share a speaker. Returns the new count. */
static size_t piece_absorb(piece *p, size_t m, size_t i, size_t j) {
  if (j < i) p[j].b = p[i].b;
  else p[j].a = p[i].a;
  memmove(p + i, p + i + 1, (m - i - 1) * sizeof *p);
  m--;
  for (size_t k = 1; k < m;) {
    if (p[k].spk == p[k - 1].spk) {
      p[k - 1].b = p[k].b;
      memmove(p + k, p + k + 1, (m - k - 1) * sizeof *p);
      m--;
    } else {
      k++;
    }
  }
  return m;
}

/* Cuts [s, e) into speaker pieces (p has room for one per turn, at least
 * one). Returns the count (>= 1). */
static size_t pieces_make(const vm_diar_turn *turns, size_t nt, double s, double e, piece *p) {
  size_t m = 0;
  for (size_t i = 0; i < nt; i++) {
    const vm_diar_turn *u = &turns[i];
    if (u->end_s <= s || u->start_s >= e) continue;
    double a = fmax(u->start_s, s), b = fmin(u->end_s, e);
    if (m && p[m - 1].spk == u->speaker) {
      p[m - 1].b = b;
      continue;
    }
    if (m) { /* the silence between two speakers: split at its middle */
      double mid = 0.5 * (p[m - 1].b + a);
      p[m - 1].b = mid, a = mid;
    }
    p[m++] = (piece){a, b, u->speaker};
  }
  if (m == 0) {
    p[0] = (piece){s, e, nearest_speaker(turns, nt, s, e)};
    return 1;
  }
  p[0].a = s, p[m - 1].b = e;
  while (m > 1) { /* absorb the shortest piece under the minimum */
    size_t k = 0;
    for (size_t i = 1; i < m; i++)
      if (p[i].b - p[i].a < p[k].b - p[k].a) k = i;
    if (p[k].b - p[k].a >= VM__AN_MIN_PIECE_S) break;
    size_t j = k == 0 ? 1 : k == m - 1 ? m - 2
             : (p[k - 1].b - p[k - 1].a >= p[k + 1].b - p[k + 1].a ? k - 1 : k + 1);
    m = piece_absorb(p, m, k, j);
  }
  return m;
}

static int is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Byte offset and code-point index of a run of spaces in the text:
 * [b0, b1) bytes, starting at code point cp. */
typedef struct gap {
  size_t b0, b1, cp;
} gap;

/* The inner runs of spaces of text (non-space text on both sides) and the
 * code-point count. g has room for strlen(text) runs. */
static size_t gaps_find(const char *text, gap *g, size_t *out_n_cp) {
  size_t ng = 0, cp = 0, len = strlen(text);
  int seen = 0;
  for (size_t i = 0; i < len;) {
    if (is_space((unsigned char)text[i])) {
      size_t j = i, c0 = cp;
      while (j < len && is_space((unsigned char)text[j])) j++, cp++;
      if (seen && j < len) g[ng++] = (gap){i, j, c0};
      i = j;
      continue;
    }
    seen = 1;
    if (((unsigned char)text[i] & 0xC0) != 0x80) cp++;
    i++;
  }
  /* cp above counted lead bytes and spaces: the code-point count */
  *out_n_cp = cp;
  return ng;
}

/* Share of the text each piece gets: its VAD speech, or (no vad, or no
 * speech in the whole segment) its duration. w has room for m. */
static void weights_get(const piece *p, size_t m, const vm_vad_result *vad, double *w) {
  double total = 0;
  for (size_t k = 0; k < m; k++) total += w[k] = vad ? vm__analysis_speech_in(vad, p[k].a, p[k].b) : 0;
  if (total > 0) return;
  for (size_t k = 0; k < m; k++) w[k] = p[k].b - p[k].a;
}

/* Chooses cut gaps for the m pieces (text shares w): cut[k] (k < m - 1)
 * is the gap index ending piece k's text, or (size_t)-1 when none can
 * carry it (then piece k + 1 joins piece k). */
static void cuts_choose(size_t m, const double *w, const gap *g, size_t ng, size_t n_cp,
                        size_t *cut) {
  double total = 0, acc = 0;
  for (size_t k = 0; k < m; k++) total += w[k];
  size_t next = 0; /* first gap still free */
  for (size_t k = 0; k + 1 < m; k++) {
    acc += w[k];
    double target = total > 0 ? acc / total * (double)n_cp : 0.0;
    size_t best = (size_t)-1;
    double bd = INFINITY;
    for (size_t i = next; i < ng; i++) {
      double d = fabs((double)g[i].cp - target);
      if (d < bd) bd = d, best = i;
    }
    cut[k] = best;
    if (best != (size_t)-1) next = best + 1;
  }
}

/* Joins pieces whose text cut failed (cut (size_t)-1; the longer piece
 * names the speaker), then neighbours left with one speaker (their cut
 * is dropped). cut[k] separates pieces k and k + 1. Returns the count. */
static size_t pieces_join(piece *p, size_t m, size_t *cut) {
  for (int pass = 0; pass < 2; pass++) {
    size_t w = 0;
    for (size_t k = 0; k < m; k++) {
      int join = k > 0 && (pass == 0 ? cut[k - 1] == (size_t)-1 : p[k].spk == p[w - 1].spk);
      if (!join) {
        p[w] = p[k];
        if (k + 1 < m) cut[w] = cut[k];
        w++;
        continue;
      }
      if (pass == 0 && p[k].b - p[k].a > p[w - 1].b - p[w - 1].a) p[w - 1].spk = p[k].spk;
      p[w - 1].b = p[k].b;
      if (k + 1 < m) cut[w - 1] = cut[k];
    }
    m = w;
  }
  return m;
}

/* Scratch of one split: room for one piece per turn (+1). */
typedef struct split_buf {
  piece *p;
  gap *g;     /* one per text byte */
  size_t *cut;
  double *w;
} split_buf;

/* Appends the m pieces (in sb->p) of segment src to dst
 * (vm_transcript_add copies). */
static int segment_split(vm_transcript *dst, const vm_tr_segment *src, size_t m,
                         const vm_vad_result *vad, split_buf *sb) {
  piece *p = sb->p;
  gap *g = sb->g;
  size_t *cut = sb->cut;
  size_t n_cp = 0, ng = gaps_find(src->text, g, &n_cp);
  weights_get(p, m, vad, sb->w);
  cuts_choose(m, sb->w, g, ng, n_cp, cut);
  m = pieces_join(p, m, cut);
  vm_tr_asr asr = src->asr;
  asr.tokens = NULL, asr.n_tokens = 0; /* token ids belong to the whole segment */
  size_t t0 = 0;
  for (size_t k = 0; k < m; k++) {
    size_t t1 = k + 1 < m ? g[cut[k]].b0 : strlen(src->text);
    char name[32];
    const char *spk = p[k].spk >= 0 ? vm_diar_speaker_name(p[k].spk, name, sizeof name) : NULL;
    while (m > 1 && t0 < t1 && is_space((unsigned char)src->text[t0])) t0++; /* unsplit: verbatim */
    int rc = vm_transcript_add(dst, p[k].a, p[k].b, src->text + t0, t1 - t0, spk,
                               m > 1 ? &asr : &src->asr);
    if (rc) return rc;
    if (k + 1 < m) t0 = g[cut[k]].b1;
  }
  return VM_OK;
}

int vm__analysis_transcript_assign(vm_transcript *t, const vm_diar_turn *turns,
                                   size_t n_turns, const vm_vad_result *vad) {
  vm_transcript *nt = vm_transcript_create();
  size_t max_len = 1;
  for (size_t i = 0; i < t->n_segments; i++) {
    size_t l = strlen(t->segments[i].text) + 1;
    if (l > max_len) max_len = l;
  }
  split_buf sb = {vm_malloc(sizeof *sb.p * (n_turns + 1)), vm_malloc(sizeof *sb.g * max_len),
                  vm_malloc(sizeof *sb.cut * (n_turns + 1)), vm_malloc(sizeof *sb.w * (n_turns + 1))};
  int rc = VM_ENOMEM;
  if (!nt || !sb.p || !sb.g || !sb.cut || !sb.w) goto out;
  rc = VM_OK;
  for (size_t i = 0; i < t->n_segments && rc == VM_OK; i++) {
    const vm_tr_segment *s = &t->segments[i];
    if (s->speaker) { /* a label from the transcript file is kept */
      rc = vm_transcript_add(nt, s->start_s, s->end_s, s->text, (size_t)-1, s->speaker, &s->asr);
      continue;
    }
    size_t m = pieces_make(turns, n_turns, s->start_s, s->end_s, sb.p);
    rc = segment_split(nt, s, m, vad, &sb);
  }
  if (rc) goto out;
  /* swap the segment arrays; nt now owns the old segments */
  vm_tr_segment *segs = t->segments;
  size_t n = t->n_segments, cap = t->cap;
  t->segments = nt->segments, t->n_segments = nt->n_segments, t->cap = nt->cap;
  nt->segments = segs, nt->n_segments = n, nt->cap = cap;
  vm_transcript_sort(t); /* pieces of overlapping segments may interleave */
out:
  vm_transcript_destroy(nt);
  vm_free(sb.p), vm_free(sb.g), vm_free(sb.cut), vm_free(sb.w);
  return rc;
}

/* Decodes one UTF-8 code point at s (len bytes left); *adv = bytes used
 * (1 for an invalid byte, returned as U+FFFD). */
static unsigned utf8_next(const unsigned char *s, size_t len, size_t *adv) {
  unsigned c = s[0];
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || n > len) { *adv = 1; return 0xFFFD; }
  unsigned cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) { *adv = 1; return 0xFFFD; }
    cp = cp << 6 | (s[i] & 0x3F);
  }
  *adv = n;
  return cp;
}

/* A letter or digit for word counting: ASCII alnum, or any non-ASCII code
 * point that is not punctuation-like (general punctuation, CJK symbols,
 * full-width forms' punctuation, U+FFFD). */
static int is_wordish(unsigned cp) {
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z');
  if (cp >= 0x2000 && cp <= 0x206F) return 0;
  if (cp >= 0x3000 && cp <= 0x303F) return 0;
  if (cp >= 0xFF00 && cp <= 0xFF0F) return 0;
  return cp != 0xFFFD && cp != 0xA0;
}

void vm__analysis_text_count(const char *text, size_t *out_syllables, size_t *out_words) {
  const unsigned char *s = (const unsigned char *)text;
  size_t len = text ? strlen(text) : 0, syl = 0, words = 0, adv;
  int in_word = 0, word_ok = 0;
  for (size_t i = 0; i < len; i += adv) {
    unsigned cp = utf8_next(s + i, len - i, &adv);
    if (cp >= 0xAC00 && cp <= 0xD7A3) syl++;
    if (cp < 0x80 && is_space((unsigned char)cp)) {
      words += in_word && word_ok;
      in_word = word_ok = 0;
      continue;
    }
    in_word = 1;
    word_ok |= is_wordish(cp);
  }
  words += in_word && word_ok;
  *out_syllables = syl;
  *out_words = words;
}

int vm__analysis_transcript_is_korean(const vm_transcript *t) {
  if (t->language && t->language[0]) return strncmp(t->language, "ko", 2) == 0;
  size_t syl = 0, words = 0;
  for (size_t i = 0; i < t->n_segments; i++) {
    size_t s, w;
    vm__analysis_text_count(t->segments[i].text, &s, &w);
    syl += s, words += w;
  }
  return syl > 0 && syl >= words;
}

double vm__analysis_speech_in(const vm_vad_result *vad, double t0, double t1) {
  size_t lo = 0, hi = vad->n_regions; /* first region ending after t0 */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (vad->regions[mid].end_s <= t0) lo = mid + 1; else hi = mid;
  }
  double s = 0;
  for (size_t i = lo; i < vad->n_regions && vad->regions[i].start_s < t1; i++)
    s += fmin(t1, vad->regions[i].end_s) - fmax(t0, vad->regions[i].start_s);
  return s > 0 ? s : 0;
}
