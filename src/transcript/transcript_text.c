/* transcript_text.c — byte buffer, UTF-8 repair, lines and cue times for
 * the transcript readers and writers (see transcript_impl.h).
 *
 * Nothing here knows a file format beyond the shape of a cue time; the
 * format rules live in transcript_srt.c, transcript_vtt.c and
 * transcript_write.c.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "transcript_impl.h"
#include "vm_alloc.h"

/* ---- buffer ---------------------------------------------------------- */

static int buf_reserve(vm__tr_buf *b, size_t extra) {
  if (b->oom) return -1;
  if (extra < b->cap - b->n) return 0; /* keeps one byte for the NUL */
  size_t cap = b->cap ? b->cap : 256;
  while (cap - b->n <= extra) {
    if (cap > SIZE_MAX / 2) {
      b->oom = 1;
      return -1;
    }
    cap *= 2;
  }
  char *p = vm_realloc(b->p, cap);
  if (!p) {
    b->oom = 1;
    return -1;
  }
  b->p = p;
  b->cap = cap;
  return 0;
}

void vm__tr_buf_put(vm__tr_buf *b, const char *s, size_t n) {
  if (n == 0 || buf_reserve(b, n)) return;
  memcpy(b->p + b->n, s, n);
  b->n += n;
}

void vm__tr_buf_putc(vm__tr_buf *b, char c) {
  vm__tr_buf_put(b, &c, 1);
}

void vm__tr_buf_printf(vm__tr_buf *b, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (k < 0) return;
  if ((size_t)k < sizeof small) {
    vm__tr_buf_put(b, small, (size_t)k);
    return;
  }
  if (buf_reserve(b, (size_t)k + 1)) return;
  va_start(ap, fmt);
  vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
  va_end(ap);
  b->n += (size_t)k;
}

size_t vm__tr_utf8_seq(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t len;
  uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (n < len) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return len;
}

void vm__tr_buf_put_utf8(vm__tr_buf *b, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, run = 0; /* p[i-run..i) is valid and not yet copied */
  while (i < n) {
    size_t l = vm__tr_utf8_seq(p + i, n - i);
    if (l && p[i] != 0) {
      i += l;
      run += l;
      continue;
    }
    vm__tr_buf_put(b, s + i - run, run);
    vm__tr_buf_put(b, "\xEF\xBF\xBD", 3);
    run = 0;
    i++;
  }
  vm__tr_buf_put(b, s + i - run, run);
}

int vm__tr_buf_take(vm__tr_buf *b, char **out, size_t *out_len) {
  *out = NULL;
  if (out_len) *out_len = 0;
  if (buf_reserve(b, 0)) {
    vm__tr_buf_deinit(b);
    return VM_ENOMEM;
  }
  b->p[b->n] = '\0';
  *out = b->p;
  if (out_len) *out_len = b->n;
  b->p = NULL;
  b->n = b->cap = 0;
  return VM_OK;
}

void vm__tr_buf_deinit(vm__tr_buf *b) {
  vm_free(b->p);
  b->p = NULL;
  b->n = b->cap = 0;
  b->oom = 0;
}

/* ---- lines ----------------------------------------------------------- */

void vm__tr_lines_init(vm__tr_lines *it, const char *buf, size_t len) {
  it->buf = buf;
  it->len = len;
  it->pos = 0;
  it->line_no = 0;
  if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) it->pos = 3;
}

int vm__tr_lines_next(vm__tr_lines *it, const char **line, size_t *n) {
  if (it->pos >= it->len) return 0;
  const char *s = it->buf + it->pos;
  size_t left = it->len - it->pos, k = 0;
  if (left >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) { /* files joined with cat */
    s += 3;
    left -= 3;
    it->pos += 3;
  }
  while (k < left && s[k] != '\n' && s[k] != '\r') k++;
  *line = s;
  *n = k;
  if (k < left && s[k] == '\r' && k + 1 < left && s[k + 1] == '\n') k++;
  it->pos += k < left ? k + 1 : k;
  it->line_no++;
  return 1;
}

int vm__tr_is_blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t') return 0;
  return 1;
}

/* ---- times ----------------------------------------------------------- */

/* Reads 1..max decimal digits at s[*i]; -1 if none. */
static int64_t digits(const char *s, size_t n, size_t *i, int max, int *n_digits) {
  int64_t v = 0;
  int k = 0;
  while (*i < n && k < max && s[*i] >= '0' && s[*i] <= '9') {
    v = v * 10 + (s[*i] - '0');
    (*i)++;
    k++;
  }
  if (n_digits) *n_digits = k;
  return k ? v : -1;
}

int vm__tr_time_parse(const char *s, size_t n, size_t *used, double *out_s) {
  size_t i = 0;
  int64_t f[3];
  int n_fields = 0, nd;
  for (;;) {
    int max = n_fields == 0 ? 10 : 2;
    f[n_fields] = digits(s, n, &i, max, &nd);
    if (f[n_fields] < 0) return -1;
    if (n_fields == 0 && i < n && s[i] >= '0' && s[i] <= '9') return -1; /* > 10 digits */
    n_fields++;
    if (n_fields == 3 || i >= n || s[i] != ':') break;
    i++;
  }
  if (n_fields < 2) return -1;
  int64_t h = n_fields == 3 ? f[0] : 0, m = f[n_fields - 2], sec = f[n_fields - 1];
  if (m >= 60 || sec >= 60) return -1;
  double frac = 0.0;
  if (i < n && (s[i] == '.' || s[i] == ',')) {
    size_t j = i + 1;
    int64_t v = digits(s, n, &j, 9, &nd);
    if (v < 0) return -1;
    frac = (double)v / pow(10.0, nd);
    i = j;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++; /* beyond ns: ignored */
  }
  *used = i;
  *out_s = (double)h * 3600.0 + (double)m * 60.0 + (double)sec + frac;
  return 0;
}

static size_t skip_ws(const char *s, size_t n, size_t i) {
  while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
  return i;
}

int vm__tr_timing_parse(const char *s, size_t n, double *start_s, double *end_s) {
  size_t i = skip_ws(s, n, 0), used;
  if (vm__tr_time_parse(s + i, n - i, &used, start_s)) return -1;
  i = skip_ws(s, n, i + used);
  if (n - i < 3 || memcmp(s + i, "-->", 3) != 0) return -1;
  i = skip_ws(s, n, i + 3);
  if (vm__tr_time_parse(s + i, n - i, &used, end_s)) return -1;
  i += used;
  if (i < n && s[i] != ' ' && s[i] != '\t') return -1;
  return 0;
}

void vm__tr_time_format(double t_s, char sep, char out[VM__TR_TIME_LEN]) {
  if (!(t_s > 0.0)) t_s = 0.0; /* also NaN */
  if (t_s > VM__TR_TIME_MAX_S) t_s = VM__TR_TIME_MAX_S;
  long long ms = llround(t_s * 1000.0);
  long long h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60;
  snprintf(out, VM__TR_TIME_LEN, "%02lld:%02lld:%02lld%c%03lld", h, m, s, sep, ms % 1000);
}

/* ---- previews -------------------------------------------------------- */

void vm__tr_preview(const char *s, size_t n, char out[VM__TR_PREVIEW_LEN]) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, o = 0;
  while (i < n && o < 40) {
    size_t l = vm__tr_utf8_seq(p + i, n - i);
    if (l <= 1 || o + l > 40) {
      if (l > 1) break;
      out[o++] = (l == 1 && p[i] >= 0x20 && p[i] != 0x7F) ? (char)p[i] : '?';
      i++;
      continue;
    }
    memcpy(out + o, p + i, l);
    o += l;
    i += l;
  }
  if (i < n) {
    memcpy(out + o, "...", 3);
    o += 3;
  }
  out[o] = '\0';
}

size_t vm__tr_text_tidy(char *s, size_t n) {
  size_t o = 0, i = 0;
  while (i < n) {
    size_t e = i;
    while (e < n && s[e] != '\n') e++;
    size_t a = i, z = e;
    for (;;) { /* a BOM (U+FEFF) opening a line is dropped, as the line reader does */
      if (a < z && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r')) a++;
      else if (z - a >= 3 && memcmp(s + a, "\xEF\xBB\xBF", 3) == 0) a += 3;
      else break;
    }
    while (z > a && (s[z - 1] == ' ' || s[z - 1] == '\t' || s[z - 1] == '\r')) z--;
    if (z > a) {
      if (o) s[o++] = '\n';
      memmove(s + o, s + a, z - a);
      o += z - a;
    }
    i = e + 1;
  }
  s[o] = '\0';
  return o;
}

/* ---- language -------------------------------------------------------- */

int vm__tr_language_norm(const char *s, size_t n, char out[VM__TR_LANG_LEN]) {
  static const struct {
    const char *name, *code;
  } names[] = {{"korean", "ko"},   {"english", "en"}, {"japanese", "ja"},
               {"chinese", "zh"},  {"german", "de"},  {"french", "fr"},
               {"spanish", "es"},  {"russian", "ru"}, {"vietnamese", "vi"}};
  char low[16];
  size_t k = 0;
  while (n && (s[0] == ' ' || s[0] == '\t')) s++, n--;
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
  if (n == 0 || n >= sizeof low) return 0;
  for (; k < n; k++) {
    char c = s[k];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    low[k] = c;
  }
  low[k] = '\0';
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(low, names[i].name) == 0) {
      strcpy(out, names[i].code);
      return 1;
    }
  size_t a = 0; /* "ko", "kor", "ko-KR", "ko_KR" */
  while (a < k && low[a] >= 'a' && low[a] <= 'z') a++;
  if (a < 2 || a > 3 || (a < k && low[a] != '-' && low[a] != '_')) return 0;
  if (a < k) { /* a region or script subtag: 2 to 4 letters or digits */
    size_t r = a + 1;
    while (r < k && ((low[r] >= 'a' && low[r] <= 'z') || (low[r] >= '0' && low[r] <= '9'))) r++;
    if (r != k || k - a - 1 < 2 || k - a - 1 > 4) return 0;
  }
  memcpy(out, low, a);
  out[a] = '\0';
  return 1;
}

int vm__tr_label_unknown(const char *s, size_t n) {
  static const char *const unknown[] = {"?", "speaker?", "speaker ?"};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    size_t k = strlen(unknown[i]), j = 0;
    if (k != n) continue;
    while (j < k && (s[j] >= 'A' && s[j] <= 'Z' ? s[j] - 'A' + 'a' : s[j]) == unknown[i][j]) j++;
    if (j == k) return 1;
  }
  return 0;
}

int vm__tr_cue_check_order(double a, double b, char sep, size_t line_no, vm_err *err) {
  if (b >= a) return VM_OK;
  char ta[VM__TR_TIME_LEN], tb[VM__TR_TIME_LEN];
  vm__tr_time_format(a, sep, ta);
  vm__tr_time_format(b, sep, tb);
  return vm_err_set(err, VM_EFORMAT, "line %zu: cue ends (%s) before it starts (%s)", line_no,
                    tb, ta);
}
