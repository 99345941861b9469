/* asr_decode.c — Whisper's logit filters and window measures.
 *
 * DESIGN: the filters follow the reference decoder's order: suppress blank
 * at the first sampled position, suppress the listed tokens, then the
 * timestamp rules, whose "force a timestamp" test uses the log-softmax of
 * the logits already filtered. The suppressed list is a byte mask over the
 * vocabulary built once per rules object. The non-speech list is what the
 * reference gets from its tokenizer: the tokens of a fixed set of symbols,
 * found here by byte-pair merging with the model's vocabulary (rank = id,
 * as in the tiktoken files the models were made from).
 *
 * Not here: the search (asr_decode_search.c). */
#include "asr_decode.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "asr_decode_impl.h"
#include "asr_tokenizer.h"
#include "vm_alloc.h"

struct vm_asr_rules {
  const vm_asr_model *m;
  vm_asr_decode_opts o;
  int32_t n_vocab, eot, ts_begin, blank; /* blank: the " " token or -1 */
  uint8_t *suppress;     /* (n_vocab) 1 = never sampled */
  int32_t *non_speech;   /* (n_non_speech) */
  size_t n_non_speech;
};

vm_asr_decode_opts vm_asr_decode_opts_default(void) {
  vm_asr_decode_opts o = {5, 5, 1, 1, 0, 50, 224, 2.4, -1.0, 0.6};
  return o;
}

/* ---- Byte-pair encoding of short symbols (non-speech list) ------------- */

typedef struct vocab_map {
  int32_t *slot; /* open addressing, -1 empty */
  size_t cap;
} vocab_map;

static uint64_t hash_bytes(const uint8_t *p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

static int map_build(const vm_asr_model *m, int32_t n_text, vocab_map *vm) {
  vm->cap = 1;
  while (vm->cap < (size_t)n_text * 2) vm->cap <<= 1;
  vm->slot = vm_malloc(vm->cap * sizeof(int32_t));
  if (!vm->slot) return VM_ENOMEM;
  memset(vm->slot, 0xff, vm->cap * sizeof(int32_t));
  for (int32_t id = 0; id < n_text; id++) {
    size_t len;
    const uint8_t *b = vm_asr_token_bytes(m, id, &len);
    if (!b) continue;
    size_t h = (size_t)hash_bytes(b, len) & (vm->cap - 1);
    while (vm->slot[h] >= 0) h = (h + 1) & (vm->cap - 1);
    vm->slot[h] = id;
  }
  return VM_OK;
}

/* The token whose bytes are exactly p[0..n), or -1. */
static int32_t map_find(const vm_asr_model *m, const vocab_map *vm, const uint8_t *p, size_t n) {
  size_t h = (size_t)hash_bytes(p, n) & (vm->cap - 1);
  for (; vm->slot[h] >= 0; h = (h + 1) & (vm->cap - 1)) {
    size_t len;
    const uint8_t *b = vm_asr_token_bytes(m, vm->slot[h], &len);
    if (len == n && memcmp(b, p, n) == 0) return vm->slot[h];
  }
  return -1;
}

/* BPE of s (< 32 bytes) by lowest-rank merges. OUT: toks. Returns count,
 * or -1 if a byte has no token. */
static int bpe_encode(const vm_asr_model *m, const vocab_map *vm, const char *s,
                      int32_t *toks) {
  const uint8_t *p = (const uint8_t *)s;
  size_t start[33], n = strlen(s);
  if (n == 0 || n > 32) return -1;
  for (size_t i = 0; i <= n; i++) start[i] = i; /* part i = p[start[i]..start[i+1]) */
  size_t n_parts = n;
  for (;;) {
    int32_t best = -1;
    size_t bi = 0;
    for (size_t i = 0; i + 1 < n_parts; i++) {
      int32_t id = map_find(m, vm, p + start[i], start[i + 2] - start[i]);
      if (id >= 0 && (best < 0 || id < best)) best = id, bi = i;
    }
    if (best < 0) break;
    memmove(start + bi + 1, start + bi + 2, (n_parts - bi - 1) * sizeof start[0]);
    n_parts--;
  }
  for (size_t i = 0; i < n_parts; i++) {
    toks[i] = map_find(m, vm, p + start[i], start[i + 1] - start[i]);
    if (toks[i] < 0) return -1;
  }
  return (int)n_parts;
}

static void add_unique(vm_asr_rules *r, int32_t id) {
  for (size_t i = 0; i < r->n_non_speech; i++)
    if (r->non_speech[i] == id) return;
  r->non_speech[r->n_non_speech++] = id;
}

/* The reference's non_speech_tokens: " -", " '", and each symbol alone
 * or after a space when it is one token (always the first token for the
 * musical signs). */
static int non_speech_build(vm_asr_rules *r, int32_t n_text) {
  static const char *const symbols[] = {
      "\"", "#", "(", ")", "*", "+", "/", ":", ";", "<", "=", ">", "@", "[", "\\", "]",
      "^", "_", "`", "{", "|", "}", "~", "「", "」", "『", "』", "<<", ">>", "<<<", ">>>",
      "--", "---", "-(", "-[", "('", "(\"", "((", "))", "(((", ")))", "[[", "]]", "{{",
      "}}", "♪♪", "♪♪♪"};
  static const char *const misc[] = {"♩", "♪", "♫", "♬", "♭", "♮", "♯"};
  size_t n_sym = sizeof symbols / sizeof symbols[0], n_misc = sizeof misc / sizeof misc[0];
  vocab_map vm = {0};
  int32_t toks[33];
  char buf[40];
  if (map_build(r->m, n_text, &vm) != VM_OK) return VM_ENOMEM;
  r->non_speech = vm_malloc((2 + 2 * (n_sym + n_misc)) * sizeof(int32_t));
  if (!r->non_speech) {
    vm_free(vm.slot);
    return VM_ENOMEM;
  }
  if (bpe_encode(r->m, &vm, " -", toks) > 0) add_unique(r, toks[0]);
  if (bpe_encode(r->m, &vm, " '", toks) > 0) add_unique(r, toks[0]);
  for (size_t i = 0; i < n_sym + n_misc; i++) {
    const char *sym = i < n_sym ? symbols[i] : misc[i - n_sym];
    for (int sp = 0; sp < 2; sp++) {
      snprintf(buf, sizeof buf, "%s%s", sp ? " " : "", sym);
      int k = bpe_encode(r->m, &vm, buf, toks);
      if (k == 1 || (k > 1 && i >= n_sym)) add_unique(r, toks[0]);
    }
  }
  vm_free(vm.slot);
  return VM_OK;
}

int vm_asr_rules_create(const vm_asr_model *m, const vm_asr_decode_opts *opts,
                        vm_asr_rules **out, vm_err *err) {
  const vm_asr_special *sp = vm_asr_model_special(m);
  int32_t V = vm_asr_model_hparams(m)->n_vocab, n_text = vm_asr_model_n_vocab_stored(m);
  int rc = VM_ENOMEM;
  *out = NULL;
  if (opts->beam_size < 1 || opts->best_of < 1 || opts->max_tokens < 1 ||
      opts->max_initial_ts < 0)
    return vm_err_set(err, VM_EINVAL, "bad decoding options (beam %d, best-of %d, "
                      "max tokens %d)", opts->beam_size, opts->best_of, opts->max_tokens);
  vm_asr_rules *r = vm_calloc(1, sizeof *r);
  if (!r || !(r->suppress = vm_calloc((size_t)V, 1))) goto fail;
  r->m = m;
  r->o = *opts;
  r->n_vocab = V;
  r->eot = sp->eot;
  r->ts_begin = sp->timestamp_begin;
  r->blank = -1;
  if (n_text > sp->eot) n_text = sp->eot;
  for (int32_t id = 0; id < n_text && r->blank < 0; id++) {
    size_t len;
    const uint8_t *b = vm_asr_token_bytes(m, id, &len);
    if (b && len == 1 && b[0] == ' ') r->blank = id;
  }
  /* every special token but end-of-text and the timestamps */
  for (int32_t id = sp->eot + 1; id < sp->timestamp_begin && id < V; id++) r->suppress[id] = 1;
  for (int32_t id = n_text; id < sp->eot; id++) r->suppress[id] = 1; /* no bytes */
  if (!opts->timestamps)
    for (int32_t id = sp->timestamp_begin; id < V; id++) r->suppress[id] = 1;
  if (opts->suppress_non_speech) {
    if (non_speech_build(r, n_text) != VM_OK) goto fail;
    for (size_t i = 0; i < r->n_non_speech; i++) r->suppress[r->non_speech[i]] = 1;
  }
  *out = r;
  return VM_OK;
fail:
  vm_asr_rules_destroy(r);
  return vm_err_set(err, rc, "out of memory for the decoding rules");
}

void vm_asr_rules_destroy(vm_asr_rules *r) {
  if (!r) return;
  vm_free(r->suppress);
  vm_free(r->non_speech);
  vm_free(r);
}

int vm_asr_rules_is_suppressed(const vm_asr_rules *r, int32_t id) {
  return id >= 0 && id < r->n_vocab && r->suppress[id];
}

int32_t vm__asr_rules_n_vocab(const vm_asr_rules *r) { return r->n_vocab; }
int32_t vm__asr_rules_eot(const vm_asr_rules *r) { return r->eot; }

const int32_t *vm_asr_rules_non_speech(const vm_asr_rules *r, size_t *out_n) {
  *out_n = r->n_non_speech;
  return r->non_speech;
}

void vm_asr_log_softmax(const float *x, int n, float *out) {
  float mx = -INFINITY;
  for (int i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
  if (mx == -INFINITY) {
    for (int i = 0; i < n; i++) out[i] = -INFINITY;
    return;
  }
  double sum = 0.0; /* expf: the terms are <= 1, summed in double */
  for (int i = 0; i < n; i++) sum += (double)expf(x[i] - mx);
  float lse = mx + (float)log(sum);
  for (int i = 0; i < n; i++) out[i] = x[i] - lse;
}

static void fill_inf(float *x, int32_t from, int32_t to) {
  for (int32_t i = from; i < to; i++) x[i] = -INFINITY;
}

/* The reference's ApplyTimestampRules for one sequence. */
static void timestamp_rules(const vm_asr_rules *r, const int32_t *s, int n, float *x) {
  int32_t tb = r->ts_begin, V = r->n_vocab;
  int last_ts = n >= 1 && s[n - 1] >= tb;
  int penult_ts = n < 2 || s[n - 2] >= tb;
  if (last_ts) {
    if (penult_ts) fill_inf(x, tb, V); /* a pair is closed: text next */
    else fill_inf(x, 0, r->eot);       /* an open pair: timestamp or end */
  }
  int32_t ts_last = -1;
  for (int i = n - 1; i >= 0 && ts_last < 0; i--)
    if (s[i] >= tb) ts_last = s[i];
  if (ts_last >= 0) /* never decrease; a closing timestamp may repeat */
    fill_inf(x, tb, last_ts && !penult_ts ? ts_last : ts_last + 1);
  if (n == 0) {
    fill_inf(x, 0, tb);
    int32_t last_allowed = tb + r->o.max_initial_ts;
    if (last_allowed + 1 < V) fill_inf(x, last_allowed + 1, V);
  }
  /* Force a timestamp when all of them together beat every text token:
   * logsumexp(timestamps) > max(text) (both log-probabilities share the
   * softmax normaliser, so it cancels and only 1501 exps are needed). */
  float text_max = -INFINITY, ts_max = -INFINITY;
  for (int32_t i = 0; i < tb; i++) text_max = x[i] > text_max ? x[i] : text_max;
  for (int32_t i = tb; i < V; i++) ts_max = x[i] > ts_max ? x[i] : ts_max;
  if (text_max == -INFINITY || ts_max == -INFINITY) return;
  double ts_sum = 0.0;
  for (int32_t i = tb; i < V; i++) ts_sum += exp((double)(x[i] - ts_max));
  if ((double)ts_max + log(ts_sum) > (double)text_max) fill_inf(x, 0, tb);
}

void vm_asr_rules_apply(const vm_asr_rules *r, const int32_t *sampled, int n_sampled,
                        float *logits) {
  if (n_sampled == 0 && r->o.suppress_blank) {
    if (r->blank >= 0) logits[r->blank] = -INFINITY;
    logits[r->eot] = -INFINITY;
  }
  for (int32_t i = 0; i < r->n_vocab; i++)
    if (r->suppress[i]) logits[i] = -INFINITY;
  if (r->o.timestamps) timestamp_rules(r, sampled, n_sampled, logits);
}

/* ---- Window measures ---------------------------------------------------- */

double vm_asr_compression_ratio(const char *text, size_t len) {
  if (len == 0) return 0.0;
  uLongf cap = compressBound((uLong)len);
  Bytef *buf = vm_malloc(cap);
  if (!buf) return 0.0;
  int zrc = compress2(buf, &cap, (const Bytef *)text, (uLong)len, Z_DEFAULT_COMPRESSION);
  vm_free(buf);
  return zrc == Z_OK && cap > 0 ? (double)len / (double)cap : 0.0;
}

double vm_asr_no_speech_prob(const vm_asr_model *m, const float *logits) {
  int32_t V = vm_asr_model_hparams(m)->n_vocab, ns = vm_asr_model_special(m)->nospeech;
  float mx = -INFINITY;
  for (int32_t i = 0; i < V; i++) mx = logits[i] > mx ? logits[i] : mx;
  double sum = 0.0;
  for (int32_t i = 0; i < V; i++) sum += exp((double)(logits[i] - mx));
  return sum > 0.0 ? exp((double)(logits[ns] - mx)) / sum : 0.0;
}

int vm_asr_lang_detect(const vm_asr_model *m, const float *logits, double *out_prob) {
  const vm_asr_special *sp = vm_asr_model_special(m);
  if (out_prob) *out_prob = 0.0;
  if (!sp->multilingual || sp->n_languages < 1) return -1;
  const float *x = logits + sp->lang_first;
  int best = 0;
  for (int i = 1; i < sp->n_languages; i++)
    if (x[i] > x[best]) best = i;
  double sum = 0.0;
  for (int i = 0; i < sp->n_languages; i++) sum += exp((double)(x[i] - x[best]));
  if (out_prob) *out_prob = 1.0 / sum;
  return best;
}

int vm_asr_needs_fallback(const vm_asr_decode_opts *o, double compression_ratio,
                          double avg_logprob, double no_speech_prob) {
  int fb = compression_ratio > o->compression_ratio_thold || avg_logprob < o->logprob_thold;
  if (no_speech_prob > o->no_speech_thold && avg_logprob < o->logprob_thold) fb = 0;
  return fb;
}

int vm_asr_window_is_silent(const vm_asr_decode_opts *o, double avg_logprob,
                            double no_speech_prob) {
  return no_speech_prob > o->no_speech_thold && !(avg_logprob > o->logprob_thold);
}

/* ---- Repetition loops ---------------------------------------------------- */

#define REPEAT_MAX_PERIOD 16

static int copies_at(const int32_t *t, int n, int i, int p) {
  int c = 1;
  while (i + (c + 1) * p <= n && memcmp(t + i, t + i + c * p, (size_t)p * sizeof *t) == 0) c++;
  return c;
}

int vm_asr_repeat_find(const int32_t *toks, int n, int *out_start, int *out_period,
                       int *out_count) {
  for (int i = 0; i < n; i++)
    for (int p = 1; p <= REPEAT_MAX_PERIOD && i + 2 * p <= n; p++) {
      int c = copies_at(toks, n, i, p);
      if (c >= (p == 1 ? 8 : 4)) {
        *out_start = i;
        *out_period = p;
        *out_count = c;
        return 1;
      }
    }
  return 0;
}

int vm_asr_repeat_cut(int32_t *toks, int n) {
  int start, period, count, from = 0;
  while (from < n && vm_asr_repeat_find(toks + from, n - from, &start, &period, &count)) {
    int keep_end = from + start + period, drop_end = from + start + count * period;
    memmove(toks + keep_end, toks + drop_end, (size_t)(n - drop_end) * sizeof *toks);
    n -= drop_end - keep_end;
    from = keep_end;
  }
  return n;
}

/* ---- Hallucination phrases ----------------------------------------------- */

/* Lower-cased ASCII letters and every non-ASCII byte that is not
 * punctuation we know; spaces and ASCII punctuation dropped. */
static size_t normalize(const char *s, char *out, size_t cap) {
  size_t w = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p && w + 1 < cap; p++) {
    if (*p < 0x80) {
      if (isalnum(*p)) out[w++] = (char)tolower(*p);
    } else if (p[0] == 0xe2 && p[1] == 0x80) { /* U+2000..U+203F: dashes, quotes, … */
      p += p[2] ? 2 : 1;
    } else {
      out[w++] = (char)*p;
    }
  }
  out[w] = '\0';
  return w;
}

int vm_asr_text_is_hallucination(const char *text) {
  /* Matched anywhere in the segment (normalised). */
  static const char *const contains[] = {
      "시청해주셔서감사합니다", "시청해주셔서고맙습니다", "시청해주셔서감사드립니다",
      "구독과좋아요", "구독좋아요", "좋아요와구독", "구독과알림설정", "자막제공및자막편집",
      "자막by", "한국어자막", "thankyouforwatching", "thanksforwatching",
      "pleasesubscribe", "likeandsubscribe", "subtitlesbytheamaraorgcommunity",
      "ご視聴ありがとうございました", "字幕由amaraorg社区提供", "请不吝点赞订阅转发打赏"};
  /* Only when they are the whole segment. */
  static const char *const whole[] = {"감사합니다", "thankyou", "thanks", "you", "bye",
                                      "mbc뉴스", "다음영상에서만나요"};
  char buf[512];
  normalize(text, buf, sizeof buf);
  if (!buf[0]) return 0;
  for (size_t i = 0; i < sizeof contains / sizeof contains[0]; i++)
    if (strstr(buf, contains[i])) return 1;
  for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++)
    if (strcmp(buf, whole[i]) == 0) return 1;
  return 0;
}
