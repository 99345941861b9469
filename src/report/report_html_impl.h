/* report_html_impl.h — shared by the HTML report writers (report_*.c)
 * only; not part of the module's contract.
 *
 * Output goes into a growable buffer with a sticky failure flag: writers
 * append without checking each call, and the entry point turns a failed
 * buffer into VM_ENOMEM once at the end. Markup is appended raw with
 * vm__hb_put/vm__hb_printf (never with text from the JSON), and every text
 * from the JSON goes through vm__hb_text — the one escaping function — or
 * vm__hb_url for links.
 */
#ifndef VM_REPORT_HTML_IMPL_H
#define VM_REPORT_HTML_IMPL_H

#include <jansson.h>
#include <stddef.h>

#include "report_html.h"

/* ---- output buffer (report_buf.c) ------------------------------------- */

typedef struct vm__hbuf {
  char *p;      /* NUL-terminated when not failed */
  size_t n;     /* bytes used, without the NUL */
  size_t cap;   /* bytes allocated */
  int failed;   /* an allocation failed: contents are incomplete */
  /* Korean labels of pattern type ids found in the result itself
   * ("denial" and "gaslighting.denial" -> "부정", from language.matches
   * and deception_markers), used by vm__hb_term before its own table;
   * borrowed, may be NULL. */
  const json_t *labels;
} vm__hbuf;

void vm__hb_init(vm__hbuf *b);
void vm__hb_deinit(vm__hbuf *b);
/* Hands the contents to the caller (vm_free) and resets b; NULL if the
 * buffer failed. */
char *vm__hb_take(vm__hbuf *b, size_t *out_len);
/* Raw markup (trusted, from this program). */
void vm__hb_put(vm__hbuf *b, const char *s);
void vm__hb_putn(vm__hbuf *b, const char *s, size_t n);
void vm__hb_printf(vm__hbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* THE escaping function: appends s as text that is safe both between
 * tags and inside a double- or single-quoted attribute value. & < > " '
 * become entities; control characters other than tab/CR/LF and bytes
 * that are not valid UTF-8 become U+FFFD. NULL appends nothing. */
void vm__hb_text(vm__hbuf *b, const char *s);
/* Text of at most max_chars code points, "…" appended when cut. */
void vm__hb_text_cut(vm__hbuf *b, const char *s, size_t max_chars);
/* A link target: every byte outside [A-Za-z0-9-._~] (and '/' when
 * keep_slash) is percent-encoded, so the result needs no further
 * escaping in an attribute and cannot change the URL's scheme. */
void vm__hb_url(vm__hbuf *b, const char *s, int keep_slash);

/* ---- values from the JSON (report_buf.c) ------------------------------ */

/* Member at a dotted path ("scores.conversation.overall"); NULL when any
 * step is missing, JSON null or not an object. */
const json_t *vm__jget(const json_t *o, const char *path);
/* Number at path (integer or real), NAN when absent or not a number. */
double vm__jnum(const json_t *o, const char *path);
/* String at path, NULL when absent or not a string. */
const char *vm__jstr(const json_t *o, const char *path);
/* Number of a JSON value itself (NAN when not a number). */
double vm__jval(const json_t *v);

/* jansson's object iteration takes json_t *; the writers never modify the
 * JSON, this only drops the const for json_object_foreach. */
static inline json_t *vm__jmut(const json_t *j) {
  union {
    const json_t *c;
    json_t *m;
  } u = {j};
  return u.m;
}

/* Label shown for absent values. */
#define VM__NA "없음"

/* Appends v with printf format fmt (e.g. "%.1f") and unit (may be NULL
 * or ""), or "없음" when v is not finite. */
void vm__hb_num(vm__hbuf *b, double v, const char *fmt, const char *unit);
/* Appends seconds as m:ss.s (or h:mm:ss when >= 1 h); "없음" if NAN. */
void vm__hb_time(vm__hbuf *b, double s);
/* Appends a duration in Korean, "M분 S초". */
void vm__hb_duration_ko(vm__hbuf *b, double s);
/* Appends any JSON value for display: strings escaped, numbers with
 * up to 4 significant decimals, arrays joined by ", ", objects as
 * "key: value" pairs, null as "없음". */
void vm__hb_jvalue(vm__hbuf *b, const json_t *v);

/* ---- speakers and risk levels (report_buf.c) -------------------------- */

/* Speakers get a colour index by first appearance in the result
 * (speakers[], diarization.turns, transcript segments, language matches),
 * so every plot, table and transcript line shows one speaker in one
 * colour. Labels are borrowed from the result JSON. */
#define VM__SPK_COLOURS 8
typedef struct vm__spkmap {
  const char **labels; /* (n) */
  size_t n, cap;
  int failed;
} vm__spkmap;

void vm__spk_collect(vm__spkmap *m, const json_t *result);
void vm__spk_deinit(vm__spkmap *m);
/* Index of label (adding it if new); 0 for NULL or after a failure. */
size_t vm__spk_index(vm__spkmap *m, const char *label);
/* Appends the CSS class "spk-K" of a label. */
void vm__hb_spk_class(vm__hbuf *b, vm__spkmap *m, const char *label);
/* Appends a coloured chip with the escaped label ("화자 미상" if NULL). */
void vm__hb_spk_chip(vm__hbuf *b, vm__spkmap *m, const char *label);
/* Fill colour (#rrggbb) of colour index k. */
const char *vm__spk_colour(size_t k);

/* Risk levels as the scoring module names them. */
enum vm__risk { VM__RISK_NONE = -1, VM__RISK_MINIMAL = 0, VM__RISK_LOW, VM__RISK_MODERATE,
                VM__RISK_HIGH, VM__RISK_CRITICAL };
/* "minimal".."critical" -> level; anything else VM__RISK_NONE. */
enum vm__risk vm__risk_parse(const char *s);
/* The scoring module's bands: <= 20 minimal, <= 40 low, <= 60 moderate,
 * <= 80 high, else critical (inclusive upper bounds); NONE for NAN. */
enum vm__risk vm__risk_of_score(double score_0_100);
const char *vm__risk_name(enum vm__risk r);    /* "high"; "none" */
const char *vm__risk_name_ko(enum vm__risk r); /* "높음"; "평가 없음" */
/* Appends <span class="risk-badge risk-X">한국어</span>; id may be NULL. */
void vm__hb_risk_badge(vm__hbuf *b, enum vm__risk r, const char *id);
/* Korean for category and indicator keys; NULL when unknown. */
const char *vm__ko_category(const char *key);
const char *vm__ko_term(const char *key);
/* Korean of a term (b->labels, then the built-in table), else the term
 * itself (escaped). */
void vm__hb_term(vm__hbuf *b, const char *key);
/* A new object of the labels described at vm__hbuf.labels; NULL if none
 * or out of memory (labels are then only the built-in ones). */
json_t *vm__labels_collect(const json_t *result);

/* ---- the transcript index (report_sections.c) ------------------------- */

/* The anchor id ("seg-N") of the transcript segment with that "id", or
 * of the one covering time t when seg_id < 0; -1 when there is none. */
long vm__seg_anchor(const json_t *result, long seg_id, double t);

/* ---- sections (one writer per section) -------------------------------- */

typedef struct vm__rctx {
  vm__hbuf *b;
  const json_t *r;        /* the result */
  const vm_report_ctx *ctx; /* never NULL inside the writers */
  vm__spkmap *spk;
  double duration_s;      /* audio.duration_s, else the last time seen */
} vm__rctx;

extern const char vm__report_css[];

void vm__sec_summary(vm__rctx *c);
void vm__sec_categories(vm__rctx *c);
void vm__sec_gaslighting(vm__rctx *c);
void vm__sec_threat(vm__rctx *c);
void vm__sec_deception(vm__rctx *c);
void vm__sec_longterm(vm__rctx *c);
void vm__sec_timeline(vm__rctx *c);
void vm__sec_contours(vm__rctx *c);
void vm__sec_findings(vm__rctx *c);
void vm__sec_discrepancies(vm__rctx *c);
void vm__sec_speakers(vm__rctx *c);
void vm__sec_transcript(vm__rctx *c);
void vm__sec_audio(vm__rctx *c);
void vm__sec_integrity(vm__rctx *c);

/* Conversation-level score object (language.scores.conversation) or NULL. */
const json_t *vm__scores(const json_t *result);
/* Matches of one type ("gaslighting", ...) as a list with links; writes
 * "없음" when there are none. */
void vm__match_list(vm__rctx *c, const char *type);

/* Downsamples a contour with NULL gaps: v[i] (n values, NAN = no value,
 * step_s apart) into at most max_out buckets of equal length; each bucket
 * is the mean of its finite values, NAN when it has none. OUT: out_t
 * (bucket centre times) and out_v, caller-allocated with max_out entries;
 * returns the number of buckets. */
size_t vm__contour_downsample(const double *v, size_t n, double step_s,
                              size_t max_out, double *out_t, double *out_v);

#endif /* VM_REPORT_HTML_IMPL_H */
