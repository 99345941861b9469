/* transcript_srt.c — SubRip (.srt) reader.
 *
 * DESIGN: a cue is an optional number line, a timing line
 * "HH:MM:SS,mmm --> HH:MM:SS,mmm" (dot decimals, more hour digits and
 * trailing position settings accepted) and text lines up to a blank line.
 * A missing blank line between cues is tolerated: a timing line, or a
 * number line followed by one, starts the next cue. Anything else where a
 * cue should start is an error naming the line.
 *
 * SRT has no speaker field. Tools that diarise write the speaker as a
 * prefix of the text: "[SPEAKER_00] text" (voiceman, WhisperX-style),
 * "Name: text", or "(speaker 0) text" (whisper.cpp --diarize; "(speaker
 * ?)" is an unknown speaker). Such a prefix is read as the speaker only
 * when every cue of the file carries the same form (and the file has two
 * cues or more, or the label looks like "SPEAKER_00"), so a lone
 * "[음악] ..." or "참고: ..." stays text. <v Name> tags, which some converters copy from
 * WebVTT, are honoured too (and then prefixes are left alone).
 */
#include <string.h>

#include "transcript_impl.h"
#include "vm_alloc.h"

#define SRT_TIMING_EXAMPLE "\"00:00:01,000 --> 00:00:04,000\""

static int is_index(const char *s, size_t n) {
  size_t i = 0, k = 0;
  while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
  while (i < n && s[i] >= '0' && s[i] <= '9') i++, k++;
  while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
  return k > 0 && k <= 18 && i == n;
}

static int is_timing(const char *s, size_t n) {
  double a, b;
  return vm__tr_timing_parse(s, n, &a, &b) == 0;
}

/* 1 if the line after the iterator's position is a timing line. */
static int next_is_timing(vm__tr_lines it) {
  const char *l;
  size_t n;
  return vm__tr_lines_next(&it, &l, &n) && is_timing(l, n);
}

/* Reads the start of a cue at the current line (not blank): its times.
 * Returns VM_OK or VM_EFORMAT with the line named. */
static int cue_head(vm__tr_lines *it, const char *l, size_t n, double *a, double *b,
                    vm_err *err) {
  char pv[VM__TR_PREVIEW_LEN];
  if (is_index(l, n)) {
    const char *l2;
    size_t n2;
    size_t idx_line = it->line_no;
    vm__tr_preview(l, n, pv);
    if (!vm__tr_lines_next(it, &l2, &n2))
      return vm_err_set(err, VM_EFORMAT, "line %zu: cue %s has no timing line (the file ends)",
                        idx_line, pv);
    if (vm__tr_timing_parse(l2, n2, a, b) != 0) {
      char pv2[VM__TR_PREVIEW_LEN];
      vm__tr_preview(l2, n2, pv2);
      return vm_err_set(err, VM_EFORMAT,
                        "line %zu: expected a timing line such as " SRT_TIMING_EXAMPLE
                        " after cue number %s, found \"%s\"",
                        it->line_no, pv, pv2);
    }
  } else if (vm__tr_timing_parse(l, n, a, b) != 0) {
    vm__tr_preview(l, n, pv);
    return vm_err_set(err, VM_EFORMAT,
                      "line %zu: expected a cue number or a timing line such as "
                      SRT_TIMING_EXAMPLE ", found \"%s\"",
                      it->line_no, pv);
  }
  return vm__tr_cue_check_order(*a, *b, ',', it->line_no, err);
}

/* Gathers the cue's text lines into text, each followed by '\n'. */
static void cue_text(vm__tr_lines *it, vm__tr_buf *text) {
  for (;;) {
    vm__tr_lines save = *it;
    const char *l;
    size_t n;
    if (!vm__tr_lines_next(it, &l, &n) || vm__tr_is_blank(l, n)) return;
    if (is_timing(l, n) || (is_index(l, n) && next_is_timing(*it))) {
      *it = save; /* the next cue starts without a blank line */
      return;
    }
    vm__tr_buf_put(text, l, n);
    vm__tr_buf_putc(text, '\n');
  }
}

/* ---- speaker prefixes ------------------------------------------------ */

typedef struct prefix {
  size_t label0, label_n; /* the label within the text */
  size_t skip;            /* bytes of prefix to remove, separator included */
} prefix;

static int looks_like_speaker_tag(const char *s, size_t n) {
  size_t i = 0;
  static const char w[] = "speaker";
  for (; i < 7; i++) {
    char c = i < n ? s[i] : 0;
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != w[i]) return 0;
  }
  if (i < n && (s[i] == '_' || s[i] == ' ' || s[i] == '-')) i++;
  size_t d = i;
  while (i < n && s[i] >= '0' && s[i] <= '9') i++;
  return i > d && i == n;
}

/* Skips the separator after a label (what vm__tr_text_tidy would trim,
 * so that the text left is tidy too); 0 if no text follows. */
static size_t after_label(const char *s, size_t i, int need_space) {
  size_t k = i;
  for (;;) {
    if (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r') k++;
    else if ((unsigned char)s[k] == 0xEF && (unsigned char)s[k + 1] == 0xBB &&
             (unsigned char)s[k + 2] == 0xBF) /* short-circuits at the NUL */
      k += 3;
    else break;
  }
  if ((need_space && k == i) || s[k] == '\0') return 0;
  return k;
}

/* The prefix forms, in the order they are tried. */
enum { FORM_BRACKET, FORM_COLON, FORM_WHISPER_CPP, N_FORMS };

static int starts_fold(const char *s, const char *word) {
  for (size_t i = 0; word[i]; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != word[i]) return 0;
  }
  return 1;
}

/* "[LABEL] text" or "[LABEL]: text" (FORM_BRACKET), "LABEL: text"
 * (FORM_COLON), "(speaker LABEL) text" (FORM_WHISPER_CPP, as whisper.cpp
 * --diarize writes; "?" there means it could not tell). */
static int prefix_find(const char *s, int form, prefix *p) {
  static const char open[N_FORMS] = {'[', 0, '('}, stop[N_FORMS] = {']', ':', ')'};
  static const size_t max[N_FORMS] = {VM__TR_SRT_LABEL_MAX, 32, 32};
  size_t i = 0, spaces = 0;
  if (open[form] && s[i++] != open[form]) return 0;
  if (form == FORM_WHISPER_CPP && !starts_fold(s + i, "speaker ")) return 0;
  size_t l0 = i;
  for (; s[i] && s[i] != stop[form]; i++) {
    if (s[i] == '\n' || s[i] == '[' || s[i] == ']' || i - l0 >= max[form] ||
        (form == FORM_COLON && (s[i] == '<' || s[i] == '>' || s[i] == '(')))
      return 0;
    spaces += s[i] == ' ';
  }
  if (s[i] != stop[form] || vm__tr_is_blank(s + l0, i - l0) ||
      (form == FORM_COLON && spaces > 3))
    return 0;
  size_t l1 = i++;
  if (form == FORM_BRACKET && s[i] == ':') i++;
  size_t k = after_label(s, i, form == FORM_COLON);
  if (!k) return 0;
  while (l0 < l1 && (s[l0] == ' ' || s[l0] == '\t')) l0++;
  while (l1 > l0 && (s[l1 - 1] == ' ' || s[l1 - 1] == '\t')) l1--;
  p->label0 = l0;
  p->label_n = l1 - l0;
  p->skip = k;
  return 1;
}

/* Moves speaker prefixes into the speaker field when every cue has one of
 * the same form (see the file comment). VM_OK or VM_ENOMEM. */
static int speakers_from_prefixes(vm_transcript *t) {
  for (size_t i = 0; i < t->n_segments; i++)
    if (t->segments[i].speaker) return VM_OK;
  for (int form = 0; form < N_FORMS; form++) {
    size_t i = 0;
    prefix p = {0};
    for (; i < t->n_segments; i++)
      if (!prefix_find(t->segments[i].text, form, &p)) break;
    if (i < t->n_segments || t->n_segments == 0) continue;
    if (t->n_segments == 1 && form != FORM_WHISPER_CPP &&
        !looks_like_speaker_tag(t->segments[0].text + p.label0, p.label_n))
      continue;
    for (i = 0; i < t->n_segments; i++) {
      vm_tr_segment *s = &t->segments[i];
      prefix_find(s->text, form, &p);
      char *sp = NULL;
      if (!vm__tr_label_unknown(s->text + p.label0, p.label_n)) {
        if (!(sp = vm_malloc(p.label_n + 1))) return VM_ENOMEM;
        memcpy(sp, s->text + p.label0, p.label_n);
        sp[p.label_n] = '\0';
      }
      memmove(s->text, s->text + p.skip, strlen(s->text + p.skip) + 1);
      s->speaker = sp;
    }
    return VM_OK;
  }
  return VM_OK;
}

int vm_transcript_parse_srt(const char *buf, size_t len, vm_transcript **out, vm_err *err) {
  int rc = VM_OK;
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
  const char *l;
  size_t n;
  while (vm__tr_lines_next(&it, &l, &n)) {
    double a, b;
    if (vm__tr_is_blank(l, n)) continue;
    if ((rc = cue_head(&it, l, n, &a, &b, err)) != VM_OK) goto fail;
    text.n = 0;
    cue_text(&it, &text);
    if (text.oom || (rc = vm__tr_cue_add(t, a, b, text.p, text.n, VM__TR_MARKUP_SRT))) {
      rc = vm_err_set(err, VM_ENOMEM, "out of memory");
      goto fail;
    }
  }
  if (t->n_segments == 0) {
    rc = vm_err_set(err, VM_EEMPTY, "no subtitle cue with text");
    goto fail;
  }
  if (speakers_from_prefixes(t) != VM_OK || vm_transcript_set_source(t, "srt") != VM_OK) {
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
