/* asr_transcribe_seg.c — from a decoded window's tokens to transcript
 * segments.
 *
 * DESIGN: the split follows the reference transcribe(): a pair of
 * consecutive timestamp tokens closes a segment; a window that ends with a
 * single timestamp had no speech after it (seek past the window); one that
 * ends inside a segment drops the unfinished text and seeks to the last
 * timestamp so the next window starts there. On top of the reference:
 *  - repetition loops inside a segment are cut to their first copy, and a
 *    text repeated by 3 or more consecutive segments is kept once;
 *  - known hallucination phrases are dropped when the window supports it
 *    (no-speech probability or low average log-probability);
 *  - text is made from token bytes; an unfinished UTF-8 character at the
 *    end of a segment is carried to the next segment instead of becoming
 *    U+FFFD; leading and trailing ASCII spaces are trimmed.
 * A looped or dropped window is reported so the caller does not feed it
 * back through the prompt. */
#include <string.h>

#include "asr_decode_impl.h"
#include "asr_tokenizer.h"
#include "vm_alloc.h"

#define TIME_PRECISION_S 0.02 /* one timestamp step */
#define FRAMES_PER_TS 2       /* mel frames per encoder position */

int vm__asr_tokvec_push(vm__asr_tokvec *t, const int32_t *v, size_t n) {
  if (t->n + n > t->cap) {
    size_t cap = t->cap ? t->cap : 256;
    while (cap < t->n + n) cap *= 2;
    int32_t *p = vm_realloc(t->v, cap * sizeof *p);
    if (!p) return VM_ENOMEM;
    t->v = p;
    t->cap = cap;
  }
  if (n) memcpy(t->v + t->n, v, n * sizeof *v);
  t->n += n;
  return VM_OK;
}

void vm__asr_tokvec_deinit(vm__asr_tokvec *t) {
  vm_free(t->v);
  memset(t, 0, sizeof *t);
}

/* Length of the well-formed UTF-8 sequence at s (n bytes left), 0 if
 * ill-formed (Unicode's table: no overlongs, surrogates, > U+10FFFF). */
static int utf8_len(const uint8_t *s, size_t n) {
  uint8_t c = s[0], lo = 0x80, hi = 0xbf;
  int len;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) len = 2;
  else if (c >= 0xe0 && c <= 0xef) len = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
  else if (c >= 0xf0 && c <= 0xf4) len = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
  else return 0;
  if ((size_t)len > n) return 0;
  for (int i = 1; i < len; i++)
    if (i == 1 ? (s[i] < lo || s[i] > hi) : (s[i] < 0x80 || s[i] > 0xbf)) return 0;
  return len;
}

/* Valid UTF-8 of raw[0..n) (bad bytes -> U+FFFD), trimmed of ASCII space.
 * OUT: *out (vm_free). */
static int utf8_repair(const uint8_t *raw, size_t n, char **out) {
  char *txt = vm_malloc(n * 3 + 1);
  size_t w = 0;
  if (!txt) return VM_ENOMEM;
  for (size_t i = 0; i < n;) {
    int l = utf8_len(raw + i, n - i);
    if (l > 0) {
      memcpy(txt + w, raw + i, (size_t)l);
      w += (size_t)l;
      i += (size_t)l;
    } else {
      memcpy(txt + w, "\xef\xbf\xbd", 3);
      w += 3;
      i++;
    }
  }
  while (w > 0 && (txt[w - 1] == ' ' || txt[w - 1] == '\t' || txt[w - 1] == '\n')) w--;
  txt[w] = '\0';
  size_t lead = strspn(txt, " \t\n");
  memmove(txt, txt + lead, w - lead + 1);
  *out = txt;
  return VM_OK;
}

int vm__asr_result_text(const vm_asr_model *m, const vm_asr_result *res, char **out,
                        size_t *out_len) {
  return vm_asr_tokens_to_text(m, res->tokens, (size_t)res->n_tokens, out, out_len);
}

/* Text of toks with the carry in front; the unfinished tail goes back to
 * carry. OUT: *out (vm_free). */
static int carry_text(const vm_asr_model *m, const int32_t *toks, int n, vm__asr_carry *c,
                      char **out) {
  size_t total = (size_t)c->n, len;
  for (int i = 0; i < n; i++)
    if (vm_asr_token_bytes(m, toks[i], &len)) total += len;
  uint8_t *raw = vm_malloc(total + 1);
  if (!raw) return VM_ENOMEM;
  size_t o = (size_t)c->n;
  memcpy(raw, c->b, (size_t)c->n);
  for (int i = 0; i < n; i++) {
    const uint8_t *b = vm_asr_token_bytes(m, toks[i], &len);
    if (b) memcpy(raw + o, b, len), o += len;
  }
  size_t done = vm_asr_utf8_complete_len(raw, total);
  c->n = (int)(total - done); /* at most 3 */
  memcpy(c->b, raw + done, (size_t)c->n);
  int rc = utf8_repair(raw, done, out);
  vm_free(raw);
  return rc;
}

typedef struct seg_ctx {
  const vm_asr_model *m;
  const vm__asr_guard *g;
  const vm__asr_window *w;
  const vm_asr_result *res;
  vm__asr_carry *carry;
  vm_transcript *t;
  vm__asr_tokvec *all;
  char *prev_text; /* last kept segment text of this window (borrowed from t) */
  int n_same;      /* consecutive segments with prev_text */
  int looped;
} seg_ctx;

/* One segment of tokens toks[0..n) (timestamps included) from t0 to t1. */
static int add_segment(seg_ctx *s, const int32_t *toks, int n, double t0, double t1) {
  int32_t *cut = vm_malloc(((size_t)n + 1) * sizeof *cut);
  char *text = NULL;
  int rc = VM_ENOMEM;
  if (!cut) return rc;
  memcpy(cut, toks, (size_t)n * sizeof *cut);
  int n_cut = vm_asr_repeat_cut(cut, n);
  if (n_cut < n) s->looped = 1;
  if ((rc = carry_text(s->m, cut, n_cut, s->carry, &text)) != VM_OK) goto out;
  double end_max = s->w->offset_s + s->w->n_frames * 0.01;
  if (t1 > end_max) t1 = end_max;
  if (t0 > t1) t0 = t1;
  int halluc = s->g->enabled && vm_asr_text_is_hallucination(text) &&
               (s->w->no_speech_prob >= s->g->no_speech || s->res->avg_logprob < s->g->logprob);
  if (halluc) s->looped = 1;
  if (s->prev_text && strcmp(s->prev_text, text) == 0) {
    if (++s->n_same >= 2) { /* third copy in a row: a loop */
      s->looped = 1;
      goto out;
    }
  } else {
    s->n_same = 0;
  }
  if (!text[0] || halluc || t0 == t1) goto out; /* the reference clears these */
  vm_tr_asr a = {.avg_logprob = s->res->avg_logprob,
                 .no_speech_prob = s->w->no_speech_prob,
                 .temperature = s->res->temperature,
                 .compression_ratio = s->w->compression_ratio,
                 .tokens = cut,
                 .n_tokens = (size_t)n_cut};
  if ((rc = vm_transcript_add(s->t, t0, t1, text, (size_t)-1, NULL, &a)) != VM_OK) goto out;
  s->prev_text = s->t->segments[s->t->n_segments - 1].text;
  if (s->all) rc = vm__asr_tokvec_push(s->all, cut, (size_t)n_cut);
out:
  vm_free(text);
  vm_free(cut);
  return rc;
}

/* The reference's split on consecutive timestamps. */
static int split_timestamps(seg_ctx *s, int *out_seek) {
  const int32_t *tok = s->res->tokens;
  int n = s->res->n_tokens, rc, last = 0;
  int32_t tb = vm_asr_model_special(s->m)->timestamp_begin;
  double off = s->w->offset_s;
  int single_end = n >= 2 && tok[n - 2] < tb && tok[n - 1] >= tb;
  int n_pairs = 0;
  for (int i = 1; i < n; i++) {
    if (!(tok[i - 1] >= tb && tok[i] >= tb)) continue;
    n_pairs++;
    if ((rc = add_segment(s, tok + last, i - last, off + (tok[last] - tb) * TIME_PRECISION_S,
                          off + (tok[i - 1] - tb) * TIME_PRECISION_S)) != VM_OK)
      return rc;
    last = i;
  }
  if (n_pairs > 0) {
    if (single_end) {
      *out_seek = s->w->n_frames;
      return add_segment(s, tok + last, n - last, off + (tok[last] - tb) * TIME_PRECISION_S,
                         off + (tok[n - 1] - tb) * TIME_PRECISION_S);
    }
    *out_seek = (tok[last - 1] - tb) * FRAMES_PER_TS;
    if (!s->w->keep_unfinished || last >= n) return VM_OK;
    *out_seek = s->w->n_frames; /* batched: no second look, keep the tail */
    return add_segment(s, tok + last, n - last, off + (tok[last] - tb) * TIME_PRECISION_S,
                       off + s->w->n_frames * 0.01);
  }
  double dur = s->w->n_frames * 0.01;
  for (int i = n - 1; i >= 0; i--)
    if (tok[i] >= tb) {
      if (tok[i] != tb) dur = (tok[i] - tb) * TIME_PRECISION_S;
      break;
    }
  *out_seek = s->w->n_frames;
  return add_segment(s, tok, n, off, off + dur);
}

int vm__asr_window_segments(const vm_asr_model *m, const vm__asr_guard *g,
                            const vm__asr_window *w, const vm_asr_result *res,
                            vm__asr_carry *carry, vm_transcript *t, vm__asr_tokvec *all,
                            int *out_seek, int *out_looped) {
  seg_ctx s = {m, g, w, res, carry, t, all, NULL, 0, 0};
  int rc;
  *out_seek = w->n_frames;
  if (w->timestamps) rc = split_timestamps(&s, out_seek);
  else rc = add_segment(&s, res->tokens, res->n_tokens, w->offset_s,
                        w->offset_s + w->n_frames * 0.01);
  if (*out_seek <= 0) *out_seek = w->n_frames; /* never stand still */
  *out_looped = s.looped;
  return rc;
}
