/* report_html.c — the per-file HTML report: page frame, header, summary
 * with risk badge, category cards, the gaslighting / threat / deception
 * sections and the long-term perspective, in the original report's order
 * and Korean wording (docs/report.md).
 *
 * Does not compute scores: every number comes from the result JSON
 * (language.scores.*); a missing one is shown as "없음". The other
 * sections (time line, plots, findings, transcript, speakers, audio,
 * integrity) are in report_svg.c and report_sections.c.
 *
 * DESIGN
 * The page is built into one vm__hbuf; writers append markup and send
 * every JSON text through vm__hb_text. The page has no script; its
 * Content-Security-Policy forbids every load except inline styles, so even
 * a bug in escaping could not make the browser fetch or run anything.
 */
#include <math.h>
#include <string.h>

#include "report_html_impl.h"
#include "vm_alloc.h"

#define RESULT_SCHEMA "voiceman.result/1"
#define MAX_EVIDENCE 50 /* evidence lines listed per section */

const json_t *vm__scores(const json_t *r) { return vm__jget(r, "language.scores.conversation"); }

/* A row of a key/value table: label, then the value. */
typedef enum kv_kind { KV_ANY = 0, KV_PERCENT, KV_SCORE } kv_kind;
typedef struct kv_row {
  const char *key, *label_ko;
  kv_kind kind;
} kv_row;

static void kv_value(vm__hbuf *b, const json_t *v, kv_kind kind) {
  double x = vm__jval(v);
  if (kind == KV_PERCENT && isfinite(x)) vm__hb_num(b, x * 100, "%.1f", "%");
  else if (kind == KV_SCORE && isfinite(x)) vm__hb_num(b, x, "%.1f", " / 100");
  else vm__hb_jvalue(b, v);
}

/* The known rows of o in order, then any other member under its own key. */
static void kv_table(vm__hbuf *b, const json_t *o, const kv_row *rows) {
  vm__hb_put(b, "<table class=\"kv\">");
  for (const kv_row *r = rows; r->key; r++) {
    vm__hb_printf(b, "<tr><th>%s</th><td>", r->label_ko);
    kv_value(b, o ? json_object_get(o, r->key) : NULL, r->kind);
    vm__hb_put(b, "</td></tr>");
  }
  const char *k;
  json_t *v;
  json_object_foreach(vm__jmut(o), k, v) {
    int known = 0;
    for (const kv_row *r = rows; r->key && !known; r++) known = strcmp(r->key, k) == 0;
    if (known) continue;
    vm__hb_put(b, "<tr><th>");
    vm__hb_text(b, k);
    vm__hb_put(b, "</th><td>");
    vm__hb_jvalue(b, v);
    vm__hb_put(b, "</td></tr>");
  }
  vm__hb_put(b, "</table>");
}

/* ---- page frame --------------------------------------------------------- */

static void page_head(vm__rctx *c) {
  vm__hbuf *b = c->b;
  vm__hb_put(b, "<!DOCTYPE html>\n<html lang=\"ko\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                "style-src 'unsafe-inline'; img-src data:\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                "<meta name=\"generator\" content=\"voiceman\">\n<title>음성 포렌식 분석 보고서 — ");
  vm__hb_text(b, vm__jstr(c->r, "input.name"));
  vm__hb_put(b, "</title>\n<style>\n");
  vm__hb_put(b, vm__report_css);
  vm__hb_put(b, "</style>\n</head>\n<body>\n<main>\n");
}

static void page_header(vm__rctx *c) {
  vm__hbuf *b = c->b;
  const json_t *r = c->r;
  vm__hb_put(b, "<header class=\"report\" id=\"report-header\"><h1>음성 포렌식 분석 보고서</h1>"
                "<table class=\"kv\"><tr><th>파일</th><td>");
  vm__hb_text(b, vm__jstr(r, "input.name"));
  vm__hb_put(b, "</td></tr><tr><th>경로</th><td class=\"mono\">");
  vm__hb_text(b, vm__jstr(r, "input.path"));
  vm__hb_put(b, "</td></tr><tr><th>분석 일시 (UTC)</th><td>");
  const char *at = vm__jstr(r, "processed_at");
  if (at) vm__hb_text(b, at);
  else vm__hb_put(b, VM__NA);
  vm__hb_put(b, "</td></tr><tr><th>길이</th><td>");
  vm__hb_duration_ko(b, vm__jnum(r, "audio.duration_s"));
  vm__hb_put(b, "</td></tr><tr><th>원본 SHA-256</th><td class=\"mono\">");
  const char *sha = vm__jstr(r, "input.sha256");
  if (sha) vm__hb_text(b, sha);
  else vm__hb_put(b, VM__NA);
  vm__hb_put(b, "</td></tr></table></header>\n");
  vm__hb_put(b, "<nav class=\"toc\"><a href=\"#summary\">요약</a><a href=\"#categories\">범주별 분석</a>"
                "<a href=\"#timeline\">타임라인</a><a href=\"#contours\">음높이·강도</a>"
                "<a href=\"#findings\">발견 사항</a><a href=\"#gaslighting\">가스라이팅</a>"
                "<a href=\"#threat\">위협</a><a href=\"#deception\">기만</a>"
                "<a href=\"#speakers\">화자</a><a href=\"#transcript\">대화 기록</a>"
                "<a href=\"#long-term\">장기적 관점</a><a href=\"#audio\">오디오</a>"
                "<a href=\"#integrity\">무결성</a></nav>\n");
}

static void page_footer(vm__rctx *c) {
  vm__hbuf *b = c->b;
  vm__hb_put(b, "<footer class=\"note\"><p>이 보고서는 자동화된 분석 시스템(voiceman ");
  const char *ver = c->ctx->program_version ? c->ctx->program_version
                                            : vm__jstr(c->r, "voiceman_version");
  if (ver) vm__hb_text(b, ver);
  else vm__hb_put(b, VM__NA);
  vm__hb_put(b, ")에 의해 생성되었습니다. 점수는 자동 분석의 결과이며 법적 판단을 대신하지 "
                "않습니다. 음성 스트레스는 화자 자신의 평소 음성에 대한 운율적 각성도(음높이·강도·"
                "음질의 변화)이며, 신경망 감정 인식이나 거짓말 탐지가 아닙니다.</p>");
  if (c->ctx->generated_at) {
    vm__hb_put(b, "<p>보고서 작성: ");
    vm__hb_text(b, c->ctx->generated_at);
    vm__hb_put(b, "</p>");
  }
  vm__hb_put(b, "</footer>\n</main>\n</body>\n</html>\n");
}

/* ---- summary ------------------------------------------------------------ */

static enum vm__risk score_risk(const json_t *s) {
  enum vm__risk r = vm__risk_parse(vm__jstr(s, "risk_level"));
  return r != VM__RISK_NONE ? r : vm__risk_of_score(vm__jnum(s, "overall"));
}

/* Why there is no language score: the transcription stage's reason. */
static void no_scores_reason(vm__rctx *c) {
  vm__hbuf *b = c->b;
  vm__hb_put(b, "<p id=\"summary-text\">언어 분석 결과 없음: ");
  if (!vm__jget(c->r, "transcript")) vm__hb_put(b, "전사본(대화 기록)이 없습니다");
  else vm__hb_put(b, "언어 분석이 수행되지 않았습니다");
  const char *why = vm__jstr(c->r, "stages.transcription.reason");
  if (why) {
    vm__hb_put(b, " (");
    vm__hb_text(b, why);
    vm__hb_put(b, ")");
  }
  vm__hb_put(b, ". 음성 측정값은 아래 각 절에 있습니다.</p>");
}

static void summary_recs(vm__hbuf *b, const json_t *recs) {
  size_t i;
  const json_t *e;
  vm__hb_put(b, "<h3>권고 사항</h3><ul class=\"recs\">");
  if (!json_is_array(recs) || json_array_size(recs) == 0) vm__hb_put(b, "<li>" VM__NA "</li>");
  json_array_foreach(recs, i, e) {
    const char *t = json_string_value(e);
    if (!t) continue;
    int urgent = strstr(t, "즉시") || strstr(t, "전문") || strstr(t, "신고") || strstr(t, "안전");
    vm__hb_put(b, urgent ? "<li class=\"critical\">" : "<li>");
    vm__hb_text(b, t);
    vm__hb_put(b, "</li>");
  }
  vm__hb_put(b, "</ul>");
}

void vm__sec_summary(vm__rctx *c) {
  vm__hbuf *b = c->b;
  const json_t *s = vm__scores(c->r);
  vm__hb_put(b, "<section id=\"summary\"><h2>요약 (Executive Summary)</h2><div class=\"summary-top\">");
  vm__hb_risk_badge(b, s ? score_risk(s) : VM__RISK_NONE, "risk-badge");
  if (!s) {
    vm__hb_put(b, "</div>");
    no_scores_reason(c);
    vm__hb_put(b, "</section>\n");
    return;
  }
  vm__hb_put(b, "<span class=\"score-big\">");
  vm__hb_num(b, vm__jnum(s, "overall"), "%.1f", " / 100");
  vm__hb_put(b, "</span> 신뢰도: ");
  vm__hb_num(b, vm__jnum(s, "confidence") * 100, "%.1f", "%");
  const json_t *ci = vm__jget(s, "overall_ci95");
  vm__hb_put(b, " · 95% 신뢰구간: ");
  if (json_is_array(ci) && json_array_size(ci) == 2) {
    vm__hb_num(b, vm__jval(json_array_get(ci, 0)), "[%.1f", NULL);
    vm__hb_num(b, vm__jval(json_array_get(ci, 1)), ", %.1f]", NULL);
  } else {
    vm__hb_put(b, VM__NA);
  }
  vm__hb_put(b, "</div><p id=\"summary-text\">");
  const char *sum = vm__jstr(s, "summary_ko");
  if (sum) vm__hb_text(b, sum);
  else vm__hb_put(b, VM__NA);
  vm__hb_put(b, "</p><div class=\"flags\">");
  const json_t *flags = vm__jget(s, "flags"), *e;
  size_t i;
  json_array_foreach(flags, i, e) {
    vm__hb_put(b, "<span class=\"chip\">");
    vm__hb_term(b, json_string_value(e));
    vm__hb_put(b, "</span>");
  }
  vm__hb_put(b, "</div>");
  summary_recs(b, vm__jget(s, "recommendations_ko"));
  vm__hb_put(b, "</section>\n");
}

/* ---- categories ---------------------------------------------------------- */

static const char *const category_order[] = {"gaslighting", "threat", "coercion", "deception",
                                             "emotional_manipulation", NULL};

static void category_card(vm__hbuf *b, const char *key, const json_t *cat) {
  double score = vm__jnum(cat, "score");
  enum vm__risk r = vm__risk_of_score(score);
  vm__hb_put(b, "<div class=\"card\"><h3>");
  vm__hb_term(b, key);
  vm__hb_put(b, "</h3><div class=\"bar\"><span class=\"risk-");
  vm__hb_put(b, vm__risk_name(r));
  vm__hb_printf(b, "\" style=\"width:%.1f%%\"></span></div>",
                isfinite(score) ? fmax(0, fmin(100, score)) : 0.0);
  vm__hb_num(b, score, "<b>%.1f</b>", " / 100");
  vm__hb_printf(b, " · %s<br>신뢰도: ", vm__risk_name_ko(r));
  vm__hb_num(b, vm__jnum(cat, "confidence") * 100, "%.0f", "%");
  vm__hb_put(b, " | 증거: ");
  vm__hb_num(b, vm__jnum(cat, "evidence_count"), "%.0f", "건");
  const json_t *ki = vm__jget(cat, "key_indicators"), *e;
  size_t i;
  if (json_array_size(ki)) vm__hb_put(b, "<br>");
  json_array_foreach(ki, i, e) {
    if (i >= 3) break;
    vm__hb_put(b, "<span class=\"chip\">");
    vm__hb_term(b, json_string_value(e));
    vm__hb_put(b, "</span>");
  }
  vm__hb_put(b, "</div>");
}

void vm__sec_categories(vm__rctx *c) {
  vm__hbuf *b = c->b;
  const json_t *cats = vm__jget(vm__scores(c->r), "categories");
  vm__hb_put(b, "<section id=\"categories\"><h2>범주별 분석</h2>");
  if (!json_is_object(cats)) {
    vm__hb_put(b, "<p class=\"na\">" VM__NA "</p></section>\n");
    return;
  }
  vm__hb_put(b, "<div class=\"cards\">");
  for (const char *const *k = category_order; *k; k++) {
    const json_t *cat = json_object_get(cats, *k);
    if (json_is_object(cat)) category_card(b, *k, cat);
  }
  const char *k;
  json_t *cat;
  json_object_foreach(vm__jmut(cats), k, cat) {
    int known = 0;
    for (const char *const *o = category_order; *o && !known; o++) known = !strcmp(*o, k);
    if (!known && json_is_object(cat)) category_card(b, k, cat);
  }
  vm__hb_put(b, "</div></section>\n");
}

/* ---- gaslighting, threat, deception ------------------------------------ */

/* One evidence line: time link, speaker, label, text, weight, confidence. */
static void evidence_line(vm__rctx *c, const json_t *m) {
  vm__hbuf *b = c->b;
  double st = vm__jnum(m, "start");
  double seg = vm__jnum(m, "segment");
  long a = vm__seg_anchor(c->r, isfinite(seg) ? (long)seg : -1, st);
  vm__hb_put(b, "<li>");
  if (a >= 0) vm__hb_printf(b, "<a href=\"#seg-%ld\">", a);
  vm__hb_put(b, "[");
  vm__hb_time(b, st);
  vm__hb_put(b, a >= 0 ? "]</a> " : "] ");
  vm__hb_spk_chip(b, c->spk, vm__jstr(m, "speaker"));
  vm__hb_put(b, " <b>");
  const char *label = vm__jstr(m, "label_ko");
  vm__hb_text(b, label ? label : vm__jstr(m, "subtype"));
  vm__hb_put(b, "</b> “");
  vm__hb_text_cut(b, vm__jstr(m, "text"), 200);
  vm__hb_put(b, "” <span class=\"muted\">(가중치 ");
  vm__hb_num(b, vm__jnum(m, "weight"), "%.2f", NULL);
  vm__hb_put(b, ", 신뢰도 ");
  vm__hb_num(b, vm__jnum(m, "confidence"), "%.2f", NULL);
  vm__hb_put(b, ")</span></li>");
}

void vm__match_list(vm__rctx *c, const char *type) {
  vm__hbuf *b = c->b;
  static const char *const sources[] = {"language.matches", "language.deception_markers"};
  size_t i, shown = 0, total = 0;
  const json_t *m;
  vm__hb_put(b, "<h3>근거 발화</h3><ul class=\"evidence\">");
  for (size_t k = 0; k < 2; k++) {
    json_array_foreach(vm__jget(c->r, sources[k]), i, m) {
      const char *t = vm__jstr(m, "type");
      if (!t || strcmp(t, type) != 0) continue;
      if (total++ >= MAX_EVIDENCE) continue;
      shown++;
      evidence_line(c, m);
    }
  }
  if (total == 0) vm__hb_put(b, "<li class=\"na\">" VM__NA "</li>");
  if (total > shown) vm__hb_printf(b, "<li class=\"muted\">외 %zu건 (발견 사항 표 참조)</li>", total - shown);
  vm__hb_put(b, "</ul>");
}

static const kv_row gaslighting_rows[] = {
    {"intensity_score", "강도", KV_SCORE},
    {"patterns_detected", "감지된 패턴", KV_ANY},
    {"manipulation_techniques", "조종 기법", KV_ANY},
    {"victim_impact_level", "피해 영향 수준", KV_ANY},
    {"recurring_phrases", "반복 표현", KV_ANY},
    {NULL, NULL, KV_ANY}};

static const kv_row threat_rows[] = {
    {"threat_level", "위협 수준", KV_ANY},   {"threat_score", "위협 점수", KV_SCORE},
    {"threat_types", "위협 유형", KV_ANY},   {"immediacy", "긴급성", KV_ANY},
    {"specificity", "구체성", KV_ANY},       {"credibility_score", "신뢰성", KV_PERCENT},
    {NULL, NULL, KV_ANY}};

static const kv_row deception_rows[] = {
    {"deception_probability", "기만 확률", KV_PERCENT},
    {"voice_text_consistency", "음성-텍스트 일관성", KV_PERCENT},
    {"emotional_authenticity", "감정 진정성", KV_PERCENT},
    {"linguistic_markers_count", "언어 지표 수", KV_ANY},
    {"marker_score", "언어 지표 점수", KV_PERCENT},
    {"marker_counts", "유형별 지표 수", KV_ANY},
    {"behavioral_indicators", "행동 지표", KV_ANY},
    {NULL, NULL, KV_ANY}};

static void analysis_section(vm__rctx *c, const char *id, const char *title, const char *key,
                             const kv_row *rows, const char *match_type) {
  vm__hbuf *b = c->b;
  vm__hb_printf(b, "<section id=\"%s\"><h2>%s</h2>", id, title);
  const json_t *o = vm__jget(vm__scores(c->r), key);
  if (json_is_object(o)) kv_table(b, o, rows);
  else vm__hb_put(b, "<p class=\"na\">분석 결과 " VM__NA "</p>");
  vm__match_list(c, match_type);
  vm__hb_put(b, "</section>\n");
}

void vm__sec_gaslighting(vm__rctx *c) {
  analysis_section(c, "gaslighting", "가스라이팅 분석", "gaslighting", gaslighting_rows,
                   "gaslighting");
}

void vm__sec_threat(vm__rctx *c) {
  analysis_section(c, "threat", "위협 평가", "threat_assessment", threat_rows, "threat");
}

void vm__sec_deception(vm__rctx *c) {
  analysis_section(c, "deception", "기만 분석", "deception_analysis", deception_rows, "deception");
}

/* ---- long-term perspective --------------------------------------------- */

void vm__sec_longterm(vm__rctx *c) {
  vm__hbuf *b = c->b;
  const json_t *s = vm__scores(c->r);
  double gi = vm__jnum(s, "gaslighting.intensity_score");
  if (!isfinite(gi)) gi = vm__jnum(s, "categories.gaslighting.score");
  enum vm__risk tl = vm__risk_parse(vm__jstr(s, "threat_assessment.threat_level"));
  vm__hb_put(b, "<section id=\"long-term\"><h2>장기적 관점</h2>");
  if (isfinite(gi) && gi >= 30)
    vm__hb_put(b, "<h3>가스라이팅 장기 관찰</h3><ul><li>반복적인 부정 패턴 기록 유지</li>"
                  "<li>자가 인식 저하 징후 모니터링</li><li>독립적인 현실 확인 확보</li></ul>");
  if (tl >= VM__RISK_MODERATE)
    vm__hb_put(b, "<h3>안전 계획 수립</h3><ul><li>비상 연락망 구축</li>"
                  "<li>증거 자료 안전한 곳 보관</li><li>법적 지원 옵션 사전 파악</li></ul>");
  vm__hb_put(b, "<h3>일반적 권장사항</h3><ul><li>정기적인 심리 상태 점검</li>"
                "<li>신뢰할 수 있는 지원 시스템 유지</li><li>필요시 전문가 상담</li></ul>"
                "</section>\n");
}

/* ---- entry point ---------------------------------------------------------- */

/* The last time any part of the result mentions, for files whose audio
 * facts are missing. */
static double result_duration(const json_t *r) {
  double d = vm__jnum(r, "audio.duration_s");
  if (isfinite(d) && d > 0) return d;
  const json_t *a = vm__jget(r, "transcript.segments"), *e;
  size_t i;
  d = 0;
  json_array_foreach(a, i, e) d = fmax(d, vm__jnum(e, "end"));
  a = vm__jget(r, "diarization.turns");
  json_array_foreach(a, i, e) d = fmax(d, vm__jnum(e, "end"));
  return d > 0 ? d : NAN;
}

int vm_report_html_render(const json_t *result, const vm_report_ctx *ctx, char **out_html,
                          size_t *out_len, vm_err *err) {
  static const vm_report_ctx no_ctx = {0};
  vm__hbuf b;
  vm__spkmap spk;
  int rc = VM_OK;
  *out_html = NULL;
  if (out_len) *out_len = 0;
  if (!json_is_object(result))
    return vm_err_set(err, VM_EINVAL, "report: the result is not a JSON object");
  const json_t *schema = json_object_get(result, "schema");
  if (schema && (!json_is_string(schema) || strcmp(json_string_value(schema), RESULT_SCHEMA)))
    return vm_err_set(err, VM_EINVAL, "report: result schema is not %s", RESULT_SCHEMA);
  vm__hb_init(&b);
  json_t *labels = vm__labels_collect(result);
  b.labels = labels;
  vm__spk_collect(&spk, result);
  vm__rctx c = {&b, result, ctx ? ctx : &no_ctx, &spk, result_duration(result)};
  page_head(&c);
  page_header(&c);
  vm__sec_summary(&c);
  vm__sec_categories(&c);
  vm__sec_timeline(&c);
  vm__sec_contours(&c);
  vm__sec_findings(&c);
  vm__sec_gaslighting(&c);
  vm__sec_threat(&c);
  vm__sec_deception(&c);
  vm__sec_discrepancies(&c);
  vm__sec_speakers(&c);
  vm__sec_transcript(&c);
  vm__sec_longterm(&c);
  vm__sec_audio(&c);
  vm__sec_integrity(&c);
  page_footer(&c);
  if (b.failed || spk.failed) {
    rc = vm_err_set(err, VM_ENOMEM, "report: out of memory while rendering");
    goto out;
  }
  *out_html = vm__hb_take(&b, out_len);
out:
  vm__hb_deinit(&b);
  vm__spk_deinit(&spk);
  json_decref(labels);
  return rc;
}
