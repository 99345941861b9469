/* transcript_fuzz_check.h — the checks shared by the transcript fuzz
 * targets (fuzz_transcript_srt.c, _vtt.c, _json.c).
 *
 * A parser must either fail with VM_EFORMAT or VM_EEMPTY, a message and
 * *out == NULL, or give a transcript whose segments are sorted, timed
 * (0 <= start <= end, finite) and carry non-empty valid UTF-8. A parsed
 * transcript is then written in every format; each output must be valid
 * UTF-8, and the SRT, WebVTT and JSON outputs must parse back into the
 * same number of segments (SRT only when no text has markup-like
 * characters, which SRT cannot escape); JSON and, but for line breaks in
 * odd places, WebVTT must give back the same texts and speakers. Any violation
 * aborts, which libFuzzer reports as a crash.
 */
#ifndef VM_TRANSCRIPT_FUZZ_CHECK_H
#define VM_TRANSCRIPT_FUZZ_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transcript.h"
#include "vm_alloc.h"
#include "vm_json.h"

/* Says which check failed (libFuzzer shows stderr), then aborts. */
#define TR_FUZZ_CHECK(cond)                                              \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                           \
    }                                                                    \
  } while (0)

typedef int (*tr_fuzz_parse_fn)(const char *, size_t, vm_transcript **, vm_err *);

static void tr_fuzz_check_transcript(const vm_transcript *t) {
  TR_FUZZ_CHECK(t && t->n_segments > 0);
  for (size_t i = 0; i < t->n_segments; i++) {
    const vm_tr_segment *s = &t->segments[i];
    TR_FUZZ_CHECK(isfinite(s->start_s) && isfinite(s->end_s));
    TR_FUZZ_CHECK(s->start_s >= 0 && s->end_s >= s->start_s);
    TR_FUZZ_CHECK(i == 0 || t->segments[i - 1].start_s <= s->start_s);
    TR_FUZZ_CHECK(s->text[0] && vm_utf8_valid(s->text, strlen(s->text)));
    TR_FUZZ_CHECK(!s->speaker || (s->speaker[0] && vm_utf8_valid(s->speaker, strlen(s->speaker))));
  }
}

/* SRT cannot escape markup: a text with '<' or '{' may read back split
 * (a <v> tag) or emptied (<i></i>), so its cue count is not compared. */
static int tr_fuzz_has_markup(const vm_transcript *t) {
  for (size_t i = 0; i < t->n_segments; i++) {
    const vm_tr_segment *s = &t->segments[i];
    if (strpbrk(s->text, "<{") || (s->speaker && strpbrk(s->speaker, "<{"))) return 1;
  }
  return 0;
}

/* WebVTT escapes everything, so texts and speakers come back as they
 * were, except for what no line-based format keeps: CR, tabs and line
 * breaks in speakers, a BOM at the start of a line. */
static int tr_fuzz_vtt_exact(const vm_transcript *t) {
  for (size_t i = 0; i < t->n_segments; i++) {
    const vm_tr_segment *s = &t->segments[i];
    if (strchr(s->text, '\r') || strstr(s->text, "\xEF\xBB\xBF")) return 0;
    if (s->speaker && (strpbrk(s->speaker, "\r\n\t") || strstr(s->speaker, "\xEF\xBB\xBF")))
      return 0;
  }
  return 1;
}

/* Writes t in fmt, parses it back with p (if not NULL), compares. */
static void tr_fuzz_round_trip(const vm_transcript *t, enum vm_tr_format fmt, tr_fuzz_parse_fn p,
                               int same_count, int same_text) {
  char *out = NULL;
  size_t n = 0;
  vm_transcript *r = NULL;
  vm_err e;
  TR_FUZZ_CHECK(vm_transcript_write(t, fmt, &out, &n) == VM_OK);
  TR_FUZZ_CHECK(strlen(out) == n && vm_utf8_valid(out, n));
  if (p) {
    int rc = p(out, n, &r, &e);
    if (rc == VM_EEMPTY && !same_count) { /* SRT: all text was markup-like */
      vm_free(out);
      return;
    }
    if (rc != VM_OK) fprintf(stderr, "format %d: %s\n%s\n", (int)fmt, e.msg, out);
    TR_FUZZ_CHECK(rc == VM_OK);
    tr_fuzz_check_transcript(r);
    TR_FUZZ_CHECK(!same_count || r->n_segments == t->n_segments);
    for (size_t i = 0; same_text && i < t->n_segments; i++) {
      const vm_tr_segment *a = &t->segments[i], *b = &r->segments[i];
      TR_FUZZ_CHECK(strcmp(a->text, b->text) == 0);
      TR_FUZZ_CHECK(!a->speaker == !b->speaker);
      TR_FUZZ_CHECK(!a->speaker || strcmp(a->speaker, b->speaker) == 0);
    }
    vm_transcript_destroy(r);
  }
  vm_free(out);
}

static int tr_fuzz_one(tr_fuzz_parse_fn parse, const uint8_t *data, size_t size) {
  vm_transcript *t = (vm_transcript *)&t;
  vm_err e;
  int rc = parse((const char *)data, size, &t, &e);
  if (rc != VM_OK) {
    TR_FUZZ_CHECK(rc == VM_EFORMAT || rc == VM_EEMPTY);
    TR_FUZZ_CHECK(t == NULL && e.code == rc && e.msg[0]);
    return 0;
  }
  tr_fuzz_check_transcript(t);
  tr_fuzz_round_trip(t, VM_TR_FORMAT_TXT, NULL, 0, 0);
  tr_fuzz_round_trip(t, VM_TR_FORMAT_SRT, vm_transcript_parse_srt, !tr_fuzz_has_markup(t), 0);
  tr_fuzz_round_trip(t, VM_TR_FORMAT_VTT, vm_transcript_parse_vtt, 1, tr_fuzz_vtt_exact(t));
  tr_fuzz_round_trip(t, VM_TR_FORMAT_JSON, vm_transcript_parse_json, 1, 1);
  vm_transcript_destroy(t);
  return 0;
}

#endif /* VM_TRANSCRIPT_FUZZ_CHECK_H */
