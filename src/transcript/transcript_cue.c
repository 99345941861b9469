/* transcript_cue.c — one cue's text (SRT or WebVTT markup) to segments.
 *
 * DESIGN: the cue text is scanned once. Literal runs are copied with UTF-8
 * repair; markup is dropped, except <v Name>, whose annotation becomes the
 * speaker of the text that follows. A cue that changes voice after some
 * text ("<v A>Hi\n<v B>Hello") yields one segment per voice, all with the
 * cue's times, so that every word keeps its speaker. WebVTT treats every
 * '<' as a tag and decodes character references; SRT has neither, so
 * there only the tags players honour are removed and a lone '<' or '&'
 * is text.
 */
#include <stdint.h>
#include <string.h>

#include "transcript_impl.h"
#include "vm_alloc.h"

/* Longest SRT tag or {\...} override looked for (<font color=...> and
 * ASS overrides are far shorter); longer ones are text. */
#define SRT_TAG_MAX 256

typedef struct cue_state {
  vm_transcript *t;
  double start_s, end_s;
  int markup;      /* VM__TR_MARKUP_* */
  vm__tr_buf text; /* text of the current voice so far */
  char *speaker;   /* current voice (vm_malloc'd) or NULL */
} cue_state;

/* Adds the text gathered so far as a segment (if any is left after
 * tidying) and empties the buffer. */
static int flush(cue_state *c) {
  vm__tr_buf_putc(&c->text, '\0'); /* room for tidy's NUL */
  if (c->text.oom) return VM_ENOMEM;
  size_t n = vm__tr_text_tidy(c->text.p, c->text.n - 1);
  int rc = VM_OK;
  if (n) rc = vm_transcript_add(c->t, c->start_s, c->end_s, c->text.p, n, c->speaker, NULL);
  c->text.n = 0;
  return rc;
}

static void put_codepoint(vm__tr_buf *b, uint32_t cp) {
  char u[4];
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    u[0] = (char)cp;
    vm__tr_buf_put(b, u, 1);
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3F));
    vm__tr_buf_put(b, u, 2);
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    vm__tr_buf_put(b, u, 3);
  } else {
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    vm__tr_buf_put(b, u, 4);
  }
}

/* Decodes the character reference at s ('&' ... ';') into b. Returns the
 * bytes consumed, or 0 if s does not start a reference we know (the '&'
 * is then text). &nbsp; becomes a plain space: it only ever stands for
 * layout, and the language analysis splits words on ASCII spaces. */
static size_t entity_put(vm__tr_buf *b, const char *s, size_t n) {
  static const struct {
    const char *name;
    uint32_t cp;
  } named[] = {{"amp", '&'},   {"lt", '<'},      {"gt", '>'},      {"nbsp", ' '},
               {"quot", '"'},  {"apos", '\''},   {"lrm", 0x200E},  {"rlm", 0x200F}};
  size_t semi = 1;
  while (semi < n && semi < 12 && s[semi] != ';') semi++;
  if (semi >= n || s[semi] != ';' || semi < 2) return 0;
  if (s[1] == '#') {
    int hex = semi > 2 && (s[2] == 'x' || s[2] == 'X');
    size_t i = hex ? 3 : 2;
    uint32_t cp = 0;
    if (i == semi) return 0;
    for (; i < semi; i++) {
      char ch = s[i];
      int d = ch >= '0' && ch <= '9'   ? ch - '0'
              : hex && ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
              : hex && ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                              : -1;
      if (d < 0) return 0;
      cp = cp * (hex ? 16u : 10u) + (uint32_t)d;
      if (cp > 0x10FFFF) cp = 0x110000; /* stays invalid, no overflow */
    }
    put_codepoint(b, cp);
    return semi + 1;
  }
  for (size_t k = 0; k < sizeof named / sizeof named[0]; k++) {
    size_t l = strlen(named[k].name);
    if (l == semi - 1 && memcmp(s + 1, named[k].name, l) == 0) {
      put_codepoint(b, named[k].cp);
      return semi + 1;
    }
  }
  return 0;
}

static int name_is(const char *s, size_t n, const char *name, int fold) {
  size_t l = strlen(name);
  if (n != l) return 0;
  for (size_t i = 0; i < l; i++) {
    char c = s[i];
    if (fold && c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != name[i]) return 0;
  }
  return 1;
}

/* Sets the voice from a <v ...> annotation s[0..n) (classes already
 * skipped): trimmed, references decoded (WebVTT), UTF-8 repaired. */
static int voice_set(cue_state *c, const char *s, size_t n) {
  vm__tr_buf name = {0};
  for (size_t i = 0; i < n;) {
    size_t k = 0;
    if (c->markup == VM__TR_MARKUP_VTT && s[i] == '&') k = entity_put(&name, s + i, n - i);
    if (k) {
      i += k;
      continue;
    }
    size_t j = i + 1;
    while (j < n && s[j] != '&') j++;
    vm__tr_buf_put_utf8(&name, s + i, j - i);
    i = j;
  }
  for (size_t i = 0; i < name.n; i++)
    if (name.p[i] == '\n' || name.p[i] == '\t') name.p[i] = ' ';
  char *sp = NULL;
  int rc = vm__tr_buf_take(&name, &sp, NULL);
  if (rc != VM_OK) return rc;
  size_t len = vm__tr_text_tidy(sp, strlen(sp));
  if (len == 0 || vm__tr_label_unknown(sp, len)) {
    vm_free(sp);
    sp = NULL;
  }
  int same = (!sp && !c->speaker) || (sp && c->speaker && strcmp(sp, c->speaker) == 0);
  if (!same && !vm__tr_is_blank(c->text.p, c->text.n) && (rc = flush(c)) != VM_OK) {
    vm_free(sp);
    return rc;
  }
  vm_free(c->speaker);
  c->speaker = sp;
  return VM_OK;
}

/* Handles the tag starting at s[0] == '<'. Returns the bytes consumed (0:
 * not a tag here, the '<' is text) or -1 when out of memory. */
static long tag_take(cue_state *c, const char *s, size_t n) {
  int vtt = c->markup == VM__TR_MARKUP_VTT;
  size_t end = 1; /* SRT tags are short: the bound keeps a line of '<' linear */
  while (end < n && s[end] != '>' && (vtt || (s[end] != '\n' && end < SRT_TAG_MAX))) end++;
  if (!vtt && (end >= n || s[end] != '>')) return 0;
  size_t i = 1;
  int closing = i < end && s[i] == '/';
  if (closing) i++;
  size_t name0 = i;
  while (i < end && s[i] != '.' && s[i] != ' ' && s[i] != '\t' && s[i] != '\n') i++;
  const char *name = s + name0;
  size_t name_n = i - name0;
  if (!vtt) {
    int known = name_is(name, name_n, "i", 1) || name_is(name, name_n, "b", 1) ||
                name_is(name, name_n, "u", 1) || name_is(name, name_n, "s", 1) ||
                name_is(name, name_n, "font", 1) || name_is(name, name_n, "v", 1);
    if (!known || (closing && i != end)) return 0;
  }
  if (!closing && name_is(name, name_n, "v", !vtt)) {
    while (i < end && s[i] != ' ' && s[i] != '\t' && s[i] != '\n') i++; /* classes */
    if (voice_set(c, s + i, end - i) != VM_OK) return -1;
  }
  return (long)(end < n ? end + 1 : end);
}

/* Length of an SRT/ASS override "{\...}" at s, or 0. */
static size_t override_len(const char *s, size_t n) {
  if (n < 3 || s[1] != '\\') return 0;
  for (size_t i = 2; i < n && i < SRT_TAG_MAX && s[i] != '\n'; i++)
    if (s[i] == '}') return i + 1;
  return 0;
}

static int cue_scan(cue_state *c, const char *s, size_t n) {
  int vtt = c->markup == VM__TR_MARKUP_VTT;
  size_t i = 0;
  while (i < n) {
    size_t k = 0;
    if (s[i] == '<') {
      long r = tag_take(c, s + i, n - i);
      if (r < 0) return VM_ENOMEM;
      k = (size_t)r;
    } else if (s[i] == '&' && vtt) {
      k = entity_put(&c->text, s + i, n - i);
    } else if (s[i] == '{' && !vtt) {
      k = override_len(s + i, n - i);
    }
    if (k) {
      i += k;
      continue;
    }
    size_t j = i + 1; /* a literal run up to the next special byte */
    while (j < n && s[j] != '<' && s[j] != '&' && s[j] != '{') j++;
    vm__tr_buf_put_utf8(&c->text, s + i, j - i);
    i = j;
  }
  return c->text.oom ? VM_ENOMEM : VM_OK;
}

int vm__tr_cue_add(vm_transcript *t, double start_s, double end_s, const char *text,
                   size_t n, int markup) {
  cue_state c = {.t = t, .start_s = start_s, .end_s = end_s, .markup = markup};
  int rc = cue_scan(&c, text, n);
  if (rc == VM_OK) rc = flush(&c);
  vm__tr_buf_deinit(&c.text);
  vm_free(c.speaker);
  return rc;
}
