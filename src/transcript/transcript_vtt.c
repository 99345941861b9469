/* transcript_vtt.c — WebVTT (.vtt) reader.
 *
 * DESIGN: follows the block structure of the W3C WebVTT parser, with its
 * error recovery replaced by clear errors. The file starts with "WEBVTT";
 * header lines up to the first blank line are skipped except
 * "Language: xx" (YouTube and others write it), which sets the language.
 * Then blocks separated by blank lines: NOTE, STYLE and REGION blocks are
 * skipped; a cue is an optional identifier line, a timing line
 * "[HH:]MM:SS.mmm --> [HH:]MM:SS.mmm [settings]" and text lines up to a
 * blank line (or a line containing "-->", which starts the next cue, as
 * the standard says). Cue text markup is handled by transcript_cue.c:
 * <v Name> gives the speaker, other tags are dropped, character
 * references decoded.
 */
#include <string.h>

#include "transcript_impl.h"
#include "vm_alloc.h"

#define VTT_TIMING_EXAMPLE "\"00:01.000 --> 00:04.000\""

static int has_arrow(const char *s, size_t n) {
  for (size_t i = 0; i + 3 <= n; i++)
    if (s[i] == '-' && s[i + 1] == '-' && s[i + 2] == '>') return 1;
  return 0;
}

/* 1 if line is word alone or followed by a space or tab. */
static int starts_word(const char *s, size_t n, const char *word) {
  size_t k = strlen(word);
  return n >= k && memcmp(s, word, k) == 0 && (n == k || s[k] == ' ' || s[k] == '\t');
}

/* Reads the signature and header; leaves it at the first block. */
static int header_read(vm__tr_lines *it, vm_transcript *t, vm_err *err) {
  const char *l;
  size_t n;
  char pv[VM__TR_PREVIEW_LEN];
  if (!vm__tr_lines_next(it, &l, &n)) return vm_err_set(err, VM_EEMPTY, "empty file");
  if (!starts_word(l, n, "WEBVTT")) {
    vm__tr_preview(l, n, pv);
    return vm_err_set(err, VM_EFORMAT,
                      "line 1: a WebVTT file must start with \"WEBVTT\", found \"%s\"", pv);
  }
  for (;;) {
    vm__tr_lines save = *it;
    if (!vm__tr_lines_next(it, &l, &n) || vm__tr_is_blank(l, n)) return VM_OK;
    if (has_arrow(l, n)) { /* a cue right after the header, no blank line */
      *it = save;
      return VM_OK;
    }
    char code[VM__TR_LANG_LEN];
    if (n > 9 && strncmp(l, "Language:", 9) == 0 && vm__tr_language_norm(l + 9, n - 9, code) &&
        vm_transcript_set_language(t, code) != VM_OK)
      return vm_err_set(err, VM_ENOMEM, "out of memory");
  }
}

static void block_skip(vm__tr_lines *it) {
  const char *l;
  size_t n;
  while (vm__tr_lines_next(it, &l, &n) && !vm__tr_is_blank(l, n)) {
  }
}

/* Reads a cue's timing line: l itself if it has an arrow, else the line
 * after the identifier l. */
static int cue_timing(vm__tr_lines *it, const char *l, size_t n, double *a, double *b,
                      vm_err *err) {
  char pv[VM__TR_PREVIEW_LEN], pv2[VM__TR_PREVIEW_LEN];
  if (!has_arrow(l, n)) {
    const char *l2;
    size_t n2;
    vm__tr_preview(l, n, pv);
    if (!vm__tr_lines_next(it, &l2, &n2))
      return vm_err_set(err, VM_EFORMAT, "line %zu: cue \"%s\" has no timing line (the file ends)",
                        it->line_no, pv);
    if (!has_arrow(l2, n2)) {
      vm__tr_preview(l2, n2, pv2);
      return vm_err_set(err, VM_EFORMAT,
                        "line %zu: expected a cue timing line such as " VTT_TIMING_EXAMPLE
                        " after cue identifier \"%s\", found \"%s\"",
                        it->line_no, pv, pv2);
    }
    l = l2;
    n = n2;
  }
  if (vm__tr_timing_parse(l, n, a, b) != 0) {
    vm__tr_preview(l, n, pv);
    return vm_err_set(err, VM_EFORMAT,
                      "line %zu: bad cue timing \"%s\": expected " VTT_TIMING_EXAMPLE
                      " (MM:SS.mmm or HH:MM:SS.mmm)",
                      it->line_no, pv);
  }
  return vm__tr_cue_check_order(*a, *b, '.', it->line_no, err);
}

static void cue_text(vm__tr_lines *it, vm__tr_buf *text) {
  for (;;) {
    vm__tr_lines save = *it;
    const char *l;
    size_t n;
    if (!vm__tr_lines_next(it, &l, &n) || vm__tr_is_blank(l, n)) return;
    if (has_arrow(l, n)) {
      *it = save;
      return;
    }
    vm__tr_buf_put(text, l, n);
    vm__tr_buf_putc(text, '\n');
  }
}

int vm_transcript_parse_vtt(const char *buf, size_t len, vm_transcript **out, vm_err *err) {
  int rc;
  vm__tr_buf text = {0};
  vm__tr_lines it;
  vm_transcript *t = vm_transcript_create();
  char *conv = NULL;
  size_t conv_n = 0;
  const char *charset;
  *out = NULL;
  vm_err_clear(err);
  if (!t || vm__tr_to_utf8(buf, len, &conv, &conv_n, &charset) != VM_OK) {
    vm_transcript_destroy(t);
    return vm_err_set(err, VM_ENOMEM, "out of memory");
  }
  vm__tr_lines_init(&it, conv ? conv : buf, conv ? conv_n : len);
  if ((rc = header_read(&it, t, err)) != VM_OK) goto fail;
  const char *l;
  size_t n;
  while (vm__tr_lines_next(&it, &l, &n)) {
    double a, b;
    if (vm__tr_is_blank(l, n)) continue;
    if (!has_arrow(l, n) && (starts_word(l, n, "NOTE") || starts_word(l, n, "STYLE") ||
                             starts_word(l, n, "REGION"))) {
      block_skip(&it);
      continue;
    }
    if ((rc = cue_timing(&it, l, n, &a, &b, err)) != VM_OK) goto fail;
    text.n = 0;
    cue_text(&it, &text);
    if (text.oom || (rc = vm__tr_cue_add(t, a, b, text.p, text.n, VM__TR_MARKUP_VTT))) {
      rc = vm_err_set(err, VM_ENOMEM, "out of memory");
      goto fail;
    }
  }
  if (t->n_segments == 0) {
    rc = vm_err_set(err, VM_EEMPTY, "no cue with text");
    goto fail;
  }
  if (vm_transcript_set_source(t, "vtt") != VM_OK) {
    rc = vm_err_set(err, VM_ENOMEM, "out of memory");
    goto fail;
  }
  vm_transcript_sort(t);
  vm__tr_buf_deinit(&text);
  vm_free(conv);
  *out = t;
  return VM_OK;
fail:
  vm__tr_buf_deinit(&text);
  vm_free(conv);
  vm_transcript_destroy(t);
  return rc;
}
