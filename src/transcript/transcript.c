/* transcript.c — the transcript type: segments, ownership, JSON form.
 * Readers are transcript_srt.c, transcript_vtt.c, transcript_json.c and
 * transcript_load.c (files, lookup); writers are in transcript_write.c;
 * helpers they share in transcript_text.c and transcript_cue.c. */
#include "transcript.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vm_alloc.h"
#include "vm_json.h"

vm_transcript *vm_transcript_create(void) {
  return vm_calloc(1, sizeof(vm_transcript));
}

static void segment_deinit(vm_tr_segment *s) {
  vm_free(s->text);
  vm_free(s->speaker);
  vm_free(s->asr.tokens);
}

void vm_transcript_destroy(vm_transcript *t) {
  if (!t) return;
  for (size_t i = 0; i < t->n_segments; i++) segment_deinit(&t->segments[i]);
  vm_free(t->segments);
  vm_free(t->language);
  vm_free(t->source);
  vm_free(t);
}

static char *dup_n(const char *s, size_t n) {
  char *d = vm_malloc(n + 1);
  if (!d) return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

int vm_transcript_add(vm_transcript *t, double start_s, double end_s, const char *text,
                      size_t len, const char *speaker, const vm_tr_asr *asr) {
  if (!t || !text || !isfinite(start_s) || !isfinite(end_s) || end_s < start_s)
    return VM_EINVAL;
  if (t->n_segments == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 16;
    vm_tr_segment *n = vm_realloc(t->segments, cap * sizeof *n);
    if (!n) return VM_ENOMEM;
    t->segments = n;
    t->cap = cap;
  }
  vm_tr_segment s = {.start_s = start_s, .end_s = end_s};
  s.asr.avg_logprob = s.asr.no_speech_prob = s.asr.temperature = NAN;
  s.asr.compression_ratio = NAN;
  s.text = dup_n(text, len == (size_t)-1 ? strlen(text) : len);
  if (speaker) s.speaker = dup_n(speaker, strlen(speaker));
  if (asr) {
    s.asr = *asr;
    s.asr.tokens = NULL;
    if (asr->n_tokens) {
      s.asr.tokens = vm_malloc(asr->n_tokens * sizeof *s.asr.tokens);
      if (s.asr.tokens) memcpy(s.asr.tokens, asr->tokens, asr->n_tokens * sizeof *s.asr.tokens);
    }
  }
  if (!s.text || (speaker && !s.speaker) || (asr && asr->n_tokens && !s.asr.tokens)) {
    segment_deinit(&s);
    return VM_ENOMEM;
  }
  t->segments[t->n_segments++] = s;
  return VM_OK;
}

static int set_str(char **dst, const char *s) {
  char *d = NULL;
  if (s && !(d = dup_n(s, strlen(s)))) return VM_ENOMEM;
  vm_free(*dst);
  *dst = d;
  return VM_OK;
}

int vm_transcript_set_language(vm_transcript *t, const char *language) {
  return set_str(&t->language, language);
}

int vm_transcript_set_source(vm_transcript *t, const char *source) {
  return set_str(&t->source, source);
}

static void sort_insertion(vm_tr_segment *a, size_t n) {
  for (size_t i = 1; i < n; i++) {
    vm_tr_segment s = a[i];
    size_t j = i;
    for (; j > 0 && a[j - 1].start_s > s.start_s; j--) a[j] = a[j - 1];
    a[j] = s;
  }
}

/* Stable. Transcripts arrive sorted or nearly so (a pass finds that in
 * O(n)), but a file may list its cues in any order, so the general case is
 * a bottom-up merge sort (O(n log n); insertion sort was quadratic on a
 * reversed 100k-cue file). Out of memory falls back to insertion sort. */
void vm_transcript_sort(vm_transcript *t) {
  size_t n = t->n_segments, i = 1;
  while (i < n && t->segments[i - 1].start_s <= t->segments[i].start_s) i++;
  if (i >= n) return;
  vm_tr_segment *tmp = vm_malloc(n * sizeof *tmp), *src = t->segments, *dst = tmp;
  if (!tmp) {
    sort_insertion(t->segments, n);
    return;
  }
  for (size_t w = 1; w < n; w *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * w) {
      size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      size_t a = lo, b = mid, o = lo;
      while (a < mid && b < hi) dst[o++] = src[b].start_s < src[a].start_s ? src[b++] : src[a++];
      while (a < mid) dst[o++] = src[a++];
      while (b < hi) dst[o++] = src[b++];
    }
    vm_tr_segment *x = src;
    src = dst;
    dst = x;
  }
  if (src != t->segments) memcpy(t->segments, src, n * sizeof *src);
  vm_free(tmp);
}

static json_t *num_or_null(double v) {
  return isfinite(v) ? json_real(v) : json_null();
}

json_t *vm_transcript_to_json(const vm_transcript *t) {
  json_t *o = json_object(), *a = json_array();
  if (!o || !a) goto fail;
  if (json_object_set_new(o, "source", t->source ? json_string(t->source) : json_null()) ||
      json_object_set_new(o, "language",
                          t->language ? json_string(t->language) : json_null()))
    goto fail;
  for (size_t i = 0; i < t->n_segments; i++) {
    const vm_tr_segment *s = &t->segments[i];
    json_t *e = json_object();
    if (!e || json_array_append_new(a, e)) goto fail;
    if (json_object_set_new(e, "id", json_integer((json_int_t)i)) ||
        json_object_set_new(e, "start", json_real(s->start_s)) ||
        json_object_set_new(e, "end", json_real(s->end_s)) ||
        json_object_set_new(e, "speaker",
                            s->speaker ? vm_json_string_lossy(s->speaker) : json_null()) ||
        json_object_set_new(e, "text", vm_json_string_lossy(s->text)) ||
        json_object_set_new(e, "avg_logprob", num_or_null(s->asr.avg_logprob)) ||
        json_object_set_new(e, "no_speech_prob", num_or_null(s->asr.no_speech_prob)) ||
        json_object_set_new(e, "temperature", num_or_null(s->asr.temperature)))
      goto fail;
  }
  if (json_object_set_new(o, "segments", a)) {
    a = NULL;
    goto fail;
  }
  return o;
fail:
  json_decref(a);
  json_decref(o);
  return NULL;
}
