/* report_buf.c — the HTML writers' output buffer, the one escaping
 * function, value formatting, speaker colours and risk-level names.
 *
 * Does not decide what a report contains (report_html.c and the section
 * writers do). See report_html_impl.h for the contracts.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "report_html_impl.h"
#include "vm_alloc.h" /* vm_realloc, vm_free */

/* ---- buffer ------------------------------------------------------------ */

void vm__hb_init(vm__hbuf *b) { memset(b, 0, sizeof *b); }

void vm__hb_deinit(vm__hbuf *b) {
  vm_free(b->p);
  memset(b, 0, sizeof *b);
}

char *vm__hb_take(vm__hbuf *b, size_t *out_len) {
  char *p = NULL;
  if (!b->failed && b->p) {
    p = b->p;
    if (out_len) *out_len = b->n;
    b->p = NULL;
  }
  vm__hb_deinit(b);
  return p;
}

/* Makes room for extra more bytes plus the NUL. */
static int reserve(vm__hbuf *b, size_t extra) {
  if (b->failed) return 0;
  if (b->n + extra + 1 <= b->cap) return 1;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->n + extra + 1) {
    if (cap > ((size_t)-1) / 2) {
      b->failed = 1;
      return 0;
    }
    cap *= 2;
  }
  char *p = vm_realloc(b->p, cap);
  if (!p) {
    b->failed = 1;
    return 0;
  }
  b->p = p;
  b->cap = cap;
  return 1;
}

void vm__hb_putn(vm__hbuf *b, const char *s, size_t n) {
  if (!reserve(b, n)) return;
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

void vm__hb_put(vm__hbuf *b, const char *s) {
  if (s) vm__hb_putn(b, s, strlen(s));
}

void vm__hb_printf(vm__hbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !reserve(b, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->n += (size_t)n;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if none. */
static size_t utf8_len(const unsigned char *p, size_t n) {
  unsigned c = p[0];
  size_t len;
  unsigned min;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) len = 2, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF) len = 3, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4) len = 4, min = 0x10000;
  else return 0;
  if (n < len) return 0;
  unsigned cp = c & (0x7Fu >> len);
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

/* Escapes at most max_chars code points of s; returns 1 if s was cut. */
static int text_escape(vm__hbuf *b, const char *s, size_t max_chars) {
  const unsigned char *p = (const unsigned char *)s;
  size_t n = strlen(s), i = 0, chars = 0;
  while (i < n) {
    if (chars++ >= max_chars) return 1;
    unsigned c = p[i];
    const char *ent = NULL;
    switch (c) {
    case '&': ent = "&amp;"; break;
    case '<': ent = "&lt;"; break;
    case '>': ent = "&gt;"; break;
    case '"': ent = "&quot;"; break;
    case '\'': ent = "&#39;"; break;
    default: break;
    }
    if (ent) {
      vm__hb_put(b, ent);
      i++;
      continue;
    }
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
      vm__hb_put(b, REPLACEMENT);
      i++;
      continue;
    }
    size_t l = utf8_len(p + i, n - i);
    if (!l) {
      vm__hb_put(b, REPLACEMENT);
      i++;
      continue;
    }
    vm__hb_putn(b, s + i, l);
    i += l;
  }
  return 0;
}

void vm__hb_text(vm__hbuf *b, const char *s) {
  if (s) text_escape(b, s, (size_t)-1);
}

void vm__hb_text_cut(vm__hbuf *b, const char *s, size_t max_chars) {
  if (s && text_escape(b, s, max_chars)) vm__hb_put(b, "…");
}

void vm__hb_url(vm__hbuf *b, const char *s, int keep_slash) {
  static const char hex[] = "0123456789ABCDEF";
  if (!s) return;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    unsigned c = *p;
    int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/');
    if (plain) {
      char ch = (char)c;
      vm__hb_putn(b, &ch, 1);
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};
      vm__hb_putn(b, e, 3);
    }
  }
}

/* ---- JSON values ------------------------------------------------------- */

const json_t *vm__jget(const json_t *o, const char *path) {
  char key[128];
  while (o && json_is_object(o) && path && *path) {
    const char *dot = strchr(path, '.');
    size_t len = dot ? (size_t)(dot - path) : strlen(path);
    if (len >= sizeof key) return NULL;
    memcpy(key, path, len);
    key[len] = '\0';
    o = json_object_get(o, key);
    if (!dot) return json_is_null(o) ? NULL : o;
    path = dot + 1;
  }
  return NULL;
}

double vm__jval(const json_t *v) {
  return json_is_number(v) ? json_number_value(v) : NAN;
}

double vm__jnum(const json_t *o, const char *path) { return vm__jval(vm__jget(o, path)); }

const char *vm__jstr(const json_t *o, const char *path) {
  const json_t *v = vm__jget(o, path);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

void vm__hb_num(vm__hbuf *b, double v, const char *fmt, const char *unit) {
  if (!isfinite(v)) {
    vm__hb_put(b, VM__NA);
    return;
  }
  /* fmt is always a literal of this module with one double conversion. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  vm__hb_printf(b, fmt, v);
#pragma GCC diagnostic pop
  if (unit && *unit) vm__hb_put(b, unit);
}

void vm__hb_time(vm__hbuf *b, double s) {
  if (!isfinite(s)) {
    vm__hb_put(b, VM__NA);
    return;
  }
  if (s < 0) s = 0;
  long tenths = lround(s * 10);
  long h = tenths / 36000, m = (tenths / 600) % 60, sec = (tenths / 10) % 60, t = tenths % 10;
  if (h > 0) vm__hb_printf(b, "%ld:%02ld:%02ld", h, m, sec);
  else vm__hb_printf(b, "%ld:%02ld.%ld", m, sec, t);
}

void vm__hb_duration_ko(vm__hbuf *b, double s) {
  if (!isfinite(s) || s < 0) {
    vm__hb_put(b, VM__NA);
    return;
  }
  long total = lround(s);
  if (total >= 3600) vm__hb_printf(b, "%ld시간 ", total / 3600);
  vm__hb_printf(b, "%ld분 %ld초", (total / 60) % 60, total % 60);
}

void vm__hb_jvalue(vm__hbuf *b, const json_t *v) {
  if (!v || json_is_null(v)) {
    vm__hb_put(b, VM__NA);
  } else if (json_is_string(v)) {
    vm__hb_term(b, json_string_value(v));
  } else if (json_is_integer(v)) {
    vm__hb_printf(b, "%lld", (long long)json_integer_value(v));
  } else if (json_is_real(v)) {
    vm__hb_num(b, json_real_value(v), "%.4g", NULL);
  } else if (json_is_boolean(v)) {
    vm__hb_put(b, json_is_true(v) ? "예" : "아니오");
  } else if (json_is_array(v)) {
    size_t i;
    const json_t *e;
    if (json_array_size(v) == 0) vm__hb_put(b, VM__NA);
    json_array_foreach(v, i, e) {
      if (i) vm__hb_put(b, ", ");
      vm__hb_jvalue(b, e);
    }
  } else if (json_is_object(v)) {
    const char *k;
    const json_t *e;
    int first = 1;
    if (json_object_size(v) == 0) vm__hb_put(b, VM__NA);
    json_object_foreach(vm__jmut(v), k, e) {
      if (!first) vm__hb_put(b, "; ");
      first = 0;
      vm__hb_term(b, k);
      vm__hb_put(b, ": ");
      vm__hb_jvalue(b, e);
    }
  }
}

/* ---- speakers ---------------------------------------------------------- */

static const char *const spk_colours[VM__SPK_COLOURS] = {
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#8a6d00", "#56b4e9", "#6b6b6b", "#8c564b"};

const char *vm__spk_colour(size_t k) { return spk_colours[k % VM__SPK_COLOURS]; }

size_t vm__spk_index(vm__spkmap *m, const char *label) {
  if (!label || m->failed) return 0;
  for (size_t i = 0; i < m->n; i++)
    if (strcmp(m->labels[i], label) == 0) return i;
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 8;
    const char **l = vm_realloc(m->labels, cap * sizeof *l);
    if (!l) {
      m->failed = 1;
      return 0;
    }
    m->labels = l;
    m->cap = cap;
  }
  m->labels[m->n] = label;
  return m->n++;
}

/* Adds the "speaker" string of every element of the array at path. */
static void collect_array(vm__spkmap *m, const json_t *r, const char *path) {
  const json_t *a = vm__jget(r, path), *e;
  size_t i;
  if (!json_is_array(a)) return;
  json_array_foreach(a, i, e) vm__spk_index(m, vm__jstr(e, "speaker"));
}

void vm__spk_collect(vm__spkmap *m, const json_t *r) {
  memset(m, 0, sizeof *m);
  collect_array(m, r, "speakers");
  collect_array(m, r, "diarization.turns");
  collect_array(m, r, "transcript.segments");
  collect_array(m, r, "language.matches");
  collect_array(m, r, "escalation.zones");
}

void vm__spk_deinit(vm__spkmap *m) {
  vm_free(m->labels);
  memset(m, 0, sizeof *m);
}

void vm__hb_spk_class(vm__hbuf *b, vm__spkmap *m, const char *label) {
  if (!label) vm__hb_put(b, "spk-none");
  else vm__hb_printf(b, "spk-%zu", vm__spk_index(m, label) % VM__SPK_COLOURS);
}

void vm__hb_spk_chip(vm__hbuf *b, vm__spkmap *m, const char *label) {
  vm__hb_put(b, "<span class=\"spk ");
  vm__hb_spk_class(b, m, label);
  vm__hb_put(b, "\">");
  if (label) vm__hb_text(b, label);
  else vm__hb_put(b, "화자 미상");
  vm__hb_put(b, "</span>");
}

/* ---- risk levels and Korean terms -------------------------------------- */

static const char *const risk_names[] = {"minimal", "low", "moderate", "high", "critical"};
static const char *const risk_ko[] = {"최소", "낮음", "중간", "높음", "심각"};

enum vm__risk vm__risk_parse(const char *s) {
  for (int i = 0; s && i < 5; i++)
    if (strcmp(s, risk_names[i]) == 0) return (enum vm__risk)i;
  return VM__RISK_NONE;
}

enum vm__risk vm__risk_of_score(double x) {
  if (!isfinite(x)) return VM__RISK_NONE;
  if (x <= 20) return VM__RISK_MINIMAL;
  if (x <= 40) return VM__RISK_LOW;
  if (x <= 60) return VM__RISK_MODERATE;
  if (x <= 80) return VM__RISK_HIGH;
  return VM__RISK_CRITICAL;
}

const char *vm__risk_name(enum vm__risk r) { return r < 0 ? "none" : risk_names[r]; }
const char *vm__risk_name_ko(enum vm__risk r) { return r < 0 ? "평가 없음" : risk_ko[r]; }

void vm__hb_risk_badge(vm__hbuf *b, enum vm__risk r, const char *id) {
  vm__hb_put(b, "<span class=\"risk-badge risk-");
  vm__hb_put(b, vm__risk_name(r));
  vm__hb_put(b, "\"");
  if (id) vm__hb_printf(b, " id=\"%s\"", id);
  vm__hb_printf(b, ">%s</span>", vm__risk_name_ko(r));
}

typedef struct term_ko {
  const char *key, *ko;
} term_ko;

/* The language module's names (data/patterns, lang_score.c), so cards,
 * tables and its Korean summary use the same words. */
static const term_ko categories_ko[] = {
    {"gaslighting", "가스라이팅"}, {"threat", "협박"}, {"coercion", "강요"},
    {"deception", "기만"}, {"emotional_manipulation", "정서적 조작"},
    {"insult", "모욕"}, {"extortion", "공갈"}, {"fraud", "사기"}, {NULL, NULL}};

static const term_ko terms_ko[] = {
    {"hedging language", "모호한 언어"}, {"emotional incongruence", "감정 불일치"},
    {"voice-text inconsistency", "음성-텍스트 불일치"}, {"distancing language", "거리두기 언어"},
    {"elevated stress", "높은 스트레스"}, {"denial", "부정"}, {"countering", "반박"},
    {"trivializing", "축소"}, {"blame_shifting", "책임 전가"}, {"reality distortion", "현실 왜곡"},
    {"emotional coercion", "감정적 강압"}, {"direct", "직접적"}, {"conditional", "조건부"},
    {"veiled", "암시적"}, {"coercive", "강압적"}, {"immediate", "즉각적"},
    {"near-term", "단기적"}, {"long-term", "장기적"}, {"detailed", "상세함"},
    {"specific", "구체적"}, {"vague", "모호함"}, {"low", "낮음"}, {"medium", "중간"},
    {"high", "높음"}, {"minimal", "최소"}, {"moderate", "중간"}, {"critical", "심각"},
    {"HIGH_RISK_DETECTED", "고위험 감지"}, {"GASLIGHTING_PATTERN", "가스라이팅 패턴"},
    {"THREAT_DETECTED", "위협 감지"}, {"DECEPTION_INDICATOR", "기만 지표"},
    {"HIGH_STRESS", "높은 스트레스"}, {"INSULT_DETECTED", "모욕 감지"},
    {"EXTORTION_DETECTED", "공갈 감지"}, {"FRAUD_INDICATOR", "사기 지표"},
    {"family", "가족"}, {"job", "직함"}, {"social", "사회적 호칭"}, {"unknown", "판단 불가"},
    {"formal", "존댓말"}, {"informal", "반말"},
    {"mixed", "혼용"}, {"speaker", "화자"}, {"addresses", "청자"}, {"marker", "표지"},
    {"level", "수준"}, {"formal_ratio", "존댓말 비율"}, {NULL, NULL}};

static const char *lookup(const term_ko *t, const char *key) {
  for (; key && t->key; t++)
    if (strcmp(t->key, key) == 0) return t->ko;
  return NULL;
}

const char *vm__ko_category(const char *key) { return lookup(categories_ko, key); }

const char *vm__ko_term(const char *key) {
  const char *ko = lookup(terms_ko, key);
  return ko ? ko : lookup(categories_ko, key);
}

void vm__hb_term(vm__hbuf *b, const char *key) {
  const char *ko = key ? json_string_value(json_object_get(b->labels, key)) : NULL;
  if (ko) {
    vm__hb_text(b, ko);
    return;
  }
  ko = vm__ko_term(key);
  if (ko) vm__hb_put(b, ko);
  else vm__hb_text(b, key);
}

/* Adds "subtype" and "type.subtype" -> label_ko of each element of a. */
static int labels_add(json_t *map, const json_t *a) {
  const json_t *m;
  size_t i;
  json_array_foreach(a, i, m) {
    const char *type = vm__jstr(m, "type"), *sub = vm__jstr(m, "subtype");
    const json_t *ko = vm__jget(m, "label_ko");
    if (!sub || !json_is_string(ko) || json_object_get(map, sub)) continue;
    if (json_object_set(map, sub, vm__jmut(ko))) return -1;
    char q[256];
    if (type && snprintf(q, sizeof q, "%s.%s", type, sub) < (int)sizeof q &&
        json_object_set(map, q, vm__jmut(ko)))
      return -1;
  }
  return 0;
}

json_t *vm__labels_collect(const json_t *r) {
  json_t *map = json_object();
  if (!map || labels_add(map, vm__jget(r, "language.matches")) ||
      labels_add(map, vm__jget(r, "language.deception_markers"))) {
    json_decref(map);
    return NULL;
  }
  return map;
}
