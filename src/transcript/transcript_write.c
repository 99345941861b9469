/* transcript_write.c — a transcript as plain text, SubRip, WebVTT or JSON.
 *
 * DESIGN: every writer emits valid UTF-8 (invalid bytes become U+FFFD)
 * and output that this module's readers read back to the same segments
 * (times to the millisecond):
 *   TXT   "[HH:MM:SS.mmm --> HH:MM:SS.mmm] SPEAKER: text", one line per
 *         segment (line breaks inside the text become spaces);
 *   SRT   numbered cues, the speaker as a "[SPEAKER] " prefix ("[?] " for
 *         an unknown one when others are known: transcript_srt.c reads
 *         prefixes back only when every cue has one); a text
 *         line that would read as a timing line gets "->" for "-->";
 *   VTT   "WEBVTT" (with "Language: xx" when known), cues with the speaker
 *         as a <v SPEAKER> voice tag, & < > escaped as character
 *         references (so no text line can look like a timing line);
 *   JSON  vm_transcript_to_json(), 2-space indented.
 * In SRT and VTT, blank lines inside a text would end the cue, so lines
 * are trimmed and empty ones dropped; a segment with no text left is not
 * written. Times are clamped to [0, VM__TR_TIME_MAX_S].
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "transcript_impl.h"
#include "vm_alloc.h"

/* The segment text, repaired and tidied (CR as a line break), in scratch
 * (NUL-terminated). */
static const char *text_clean(vm__tr_buf *scratch, const char *s, size_t *out_n) {
  scratch->n = 0;
  vm__tr_buf_put_utf8(scratch, s, strlen(s));
  vm__tr_buf_putc(scratch, '\0');
  if (scratch->oom) {
    *out_n = 0;
    return "";
  }
  for (size_t i = 0; i < scratch->n; i++) /* a CR also ends a line in SRT and VTT */
    if (scratch->p[i] == '\r') scratch->p[i] = '\n';
  *out_n = vm__tr_text_tidy(scratch->p, scratch->n - 1);
  return scratch->p;
}

/* Appends s[0..n) with, when vtt, & < > as character references, and
 * every byte found in bad (may be NULL) as a space. */
static void put_escaped(vm__tr_buf *b, const char *s, size_t n, int vtt, const char *bad) {
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    const char *rep = NULL;
    char c = s[i];
    if (vtt && c == '&') rep = "&amp;";
    else if (vtt && c == '<') rep = "&lt;";
    else if (vtt && c == '>') rep = "&gt;";
    else if (bad && c && strchr(bad, c)) rep = " ";
    if (!rep) {
      run++;
      continue;
    }
    vm__tr_buf_put(b, s + i - run, run);
    vm__tr_buf_put(b, rep, strlen(rep));
    run = 0;
  }
  vm__tr_buf_put(b, s + n - run, run);
}

static void speaker_put(vm__tr_buf *b, vm__tr_buf *scratch, const char *sp, int vtt,
                        const char *bad) {
  scratch->n = 0;
  vm__tr_buf_put_utf8(scratch, sp, strlen(sp));
  if (!scratch->oom) put_escaped(b, scratch->p, scratch->n, vtt, bad);
}

static void write_txt(const vm_transcript *t, vm__tr_buf *b, vm__tr_buf *tx, vm__tr_buf *sc) {
  char ta[VM__TR_TIME_LEN], tb[VM__TR_TIME_LEN];
  for (size_t i = 0; i < t->n_segments; i++) {
    const vm_tr_segment *s = &t->segments[i];
    size_t n;
    const char *text = text_clean(tx, s->text, &n);
    vm__tr_time_format(s->start_s, '.', ta);
    vm__tr_time_format(s->end_s, '.', tb);
    vm__tr_buf_printf(b, "[%s --> %s] ", ta, tb);
    if (s->speaker && s->speaker[0]) {
      speaker_put(b, sc, s->speaker, 0, "\n\r\t");
      vm__tr_buf_put(b, ": ", 2);
    }
    put_escaped(b, text, n, 0, "\n");
    vm__tr_buf_putc(b, '\n');
  }
}

/* SRT text lines as they are, except one that would read as a timing
 * line (and so start a new cue): its arrows are written "->". */
static void put_srt_text(vm__tr_buf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    size_t e = i;
    double x, y;
    while (e < n && s[e] != '\n') e++;
    size_t k = i, from = i;
    int timing = vm__tr_timing_parse(s + i, e - i, &x, &y) == 0;
    while (timing && k < e) {
      if (k + 3 <= e && memcmp(s + k, "-->", 3) == 0) {
        vm__tr_buf_put(b, s + from, k - from);
        vm__tr_buf_put(b, "->", 2);
        from = k += 3;
      } else {
        k++;
      }
    }
    vm__tr_buf_put(b, s + from, e - from);
    if (e < n) vm__tr_buf_putc(b, '\n');
    i = e + 1;
  }
}

/* "[LABEL] " as transcript_srt.c reads it back: brackets and line breaks
 * in the label become spaces, it is cut to VM__TR_SRT_LABEL_MAX bytes (at
 * a character boundary), and an empty or missing one is "?" (unknown). */
static void put_srt_label(vm__tr_buf *b, vm__tr_buf *sc, const char *sp) {
  sc->n = 0;
  if (sp) vm__tr_buf_put_utf8(sc, sp, strlen(sp));
  for (size_t i = 0; i < sc->n; i++)
    if (sc->p[i] && strchr("\n\r\t[]", sc->p[i])) sc->p[i] = ' ';
  size_t a = 0, z = sc->oom ? 0 : sc->n;
  while (a < z && sc->p[a] == ' ') a++;
  if (z - a > VM__TR_SRT_LABEL_MAX) {
    z = a + VM__TR_SRT_LABEL_MAX;
    while (z > a && ((unsigned char)sc->p[z] & 0xC0) == 0x80) z--;
  }
  while (z > a && sc->p[z - 1] == ' ') z--;
  vm__tr_buf_putc(b, '[');
  if (z > a) vm__tr_buf_put(b, sc->p + a, z - a);
  else vm__tr_buf_putc(b, '?');
  vm__tr_buf_put(b, "] ", 2);
}

/* When any segment has a speaker, every cue gets a prefix ("[?] " for the
 * unknown ones): the reader takes prefixes only from files where all
 * cues have one. */
static void write_srt(const vm_transcript *t, vm__tr_buf *b, vm__tr_buf *tx, vm__tr_buf *sc) {
  char ta[VM__TR_TIME_LEN], tb[VM__TR_TIME_LEN];
  size_t k = 0;
  int any_speaker = 0;
  for (size_t i = 0; i < t->n_segments && !any_speaker; i++)
    any_speaker = t->segments[i].speaker && t->segments[i].speaker[0];
  for (size_t i = 0; i < t->n_segments; i++) {
    const vm_tr_segment *s = &t->segments[i];
    size_t n;
    const char *text = text_clean(tx, s->text, &n);
    if (n == 0) continue;
    vm__tr_time_format(s->start_s, ',', ta);
    vm__tr_time_format(s->end_s, ',', tb);
    vm__tr_buf_printf(b, "%zu\n%s --> %s\n", ++k, ta, tb);
    if (any_speaker) put_srt_label(b, sc, s->speaker);
    put_srt_text(b, text, n);
    vm__tr_buf_put(b, "\n\n", 2);
  }
}

static void write_vtt(const vm_transcript *t, vm__tr_buf *b, vm__tr_buf *tx, vm__tr_buf *sc) {
  char ta[VM__TR_TIME_LEN], tb[VM__TR_TIME_LEN];
  vm__tr_buf_put(b, "WEBVTT\n", 7);
  if (t->language && t->language[0]) {
    vm__tr_buf_put(b, "Language: ", 10);
    speaker_put(b, sc, t->language, 0, "\n\r");
    vm__tr_buf_putc(b, '\n');
  }
  vm__tr_buf_putc(b, '\n');
  for (size_t i = 0; i < t->n_segments; i++) {
    const vm_tr_segment *s = &t->segments[i];
    size_t n;
    const char *text = text_clean(tx, s->text, &n);
    if (n == 0) continue;
    vm__tr_time_format(s->start_s, '.', ta);
    vm__tr_time_format(s->end_s, '.', tb);
    vm__tr_buf_printf(b, "%s --> %s\n", ta, tb);
    if (s->speaker && s->speaker[0]) {
      vm__tr_buf_put(b, "<v ", 3);
      speaker_put(b, sc, s->speaker, 1, "\n\r\t");
      if (b->n && b->p[b->n - 1] == '-') /* "A--" + ">" would read as an arrow */
        vm__tr_buf_putc(b, ' ');
      vm__tr_buf_putc(b, '>');
    }
    put_escaped(b, text, n, 1, NULL);
    vm__tr_buf_put(b, "\n\n", 2);
  }
}

static void write_json(const vm_transcript *t, vm__tr_buf *b) {
  json_t *j = vm_transcript_to_json(t);
  char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))
              : NULL;
  json_decref(j);
  if (!s) {
    b->oom = 1;
    return;
  }
  vm__tr_buf_put(b, s, strlen(s));
  vm__tr_buf_putc(b, '\n');
  free(s); /* jansson allocates with malloc */
}

int vm_transcript_write(const vm_transcript *t, enum vm_tr_format fmt, char **out,
                        size_t *out_len) {
  vm__tr_buf b = {0}, tx = {0}, sc = {0};
  *out = NULL;
  if (out_len) *out_len = 0;
  if (!t) return VM_EINVAL;
  switch (fmt) {
  case VM_TR_FORMAT_TXT: write_txt(t, &b, &tx, &sc); break;
  case VM_TR_FORMAT_SRT: write_srt(t, &b, &tx, &sc); break;
  case VM_TR_FORMAT_VTT: write_vtt(t, &b, &tx, &sc); break;
  case VM_TR_FORMAT_JSON: write_json(t, &b); break;
  default: return VM_EINVAL;
  }
  int rc = (tx.oom || sc.oom) ? VM_ENOMEM : VM_OK;
  vm__tr_buf_deinit(&tx);
  vm__tr_buf_deinit(&sc);
  if (rc != VM_OK) {
    vm__tr_buf_deinit(&b);
    return rc;
  }
  return vm__tr_buf_take(&b, out, out_len);
}
