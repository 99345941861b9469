/* report_sections.c — the report's evidence sections: the findings table,
 * text–voice discrepancies, speakers (voice measures, stress, speech
 * level, per-speaker scores), the transcript with one anchor per segment,
 * audio facts and the integrity block (hashes and versions).
 *
 * Every finding links to its transcript line: a language match names its
 * segment; a discrepancy or escalation zone is linked to the transcript
 * segment that covers its start time (vm__seg_anchor).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_html_impl.h"
#include "vm_alloc.h"

#define TEXT_CUT 200 /* code points of a finding's text shown in the table */

/* ---- transcript index ------------------------------------------------------ */

static const json_t *tr_segments(const json_t *r) {
  const json_t *a = vm__jget(r, "transcript.segments");
  return json_is_array(a) ? a : NULL;
}

/* Anchor number of segment i: its integer "id", else its index. */
static long anchor_id(const json_t *seg, size_t i) {
  const json_t *id = json_object_get(seg, "id");
  return json_is_integer(id) && json_integer_value(id) >= 0 ? (long)json_integer_value(id)
                                                            : (long)i;
}

/* Index of the segment with anchor seg_id, else of the one covering t
 * (or the last one starting before t); -1 when none. */
static long seg_index(const json_t *r, long seg_id, double t) {
  const json_t *a = tr_segments(r), *e;
  size_t i;
  long before = -1;
  if (!a) return -1;
  if (seg_id >= 0)
    json_array_foreach(a, i, e) if (anchor_id(e, i) == seg_id) return (long)i;
  if (!isfinite(t)) return -1;
  json_array_foreach(a, i, e) {
    double s0 = vm__jnum(e, "start"), s1 = vm__jnum(e, "end");
    if (s0 <= t + 0.05 && t < s1) return (long)i;
    if (s0 <= t) before = (long)i;
  }
  return before;
}

long vm__seg_anchor(const json_t *r, long seg_id, double t) {
  long i = seg_index(r, seg_id, t);
  return i < 0 ? -1 : anchor_id(json_array_get(tr_segments(r), (size_t)i), (size_t)i);
}

static long match_index(const json_t *r, const json_t *m) {
  double seg = vm__jnum(m, "segment");
  return seg_index(r, isfinite(seg) ? (long)seg : -1, vm__jnum(m, "start"));
}

/* "[m:ss.s]" linked to the transcript line of time t (or segment). */
static void time_link(vm__rctx *c, long seg_id, double t) {
  long a = vm__seg_anchor(c->r, seg_id, t);
  if (a >= 0) vm__hb_printf(c->b, "<a href=\"#seg-%ld\">", a);
  vm__hb_time(c->b, t);
  if (a >= 0) vm__hb_put(c->b, "</a>");
}

/* ---- findings ---------------------------------------------------------------- */

enum finding_kind { F_MATCH, F_DISCREPANCY, F_ESCALATION };

typedef struct finding {
  double t0;
  size_t order; /* tie-break: stable order of appearance */
  enum finding_kind kind;
  const json_t *src;
} finding;

static int finding_cmp(const void *pa, const void *pb) {
  const finding *a = pa, *b = pb;
  double ta = isfinite(a->t0) ? a->t0 : INFINITY, tb = isfinite(b->t0) ? b->t0 : INFINITY;
  if (ta != tb) return ta < tb ? -1 : 1;
  return a->order < b->order ? -1 : a->order > b->order;
}

static double zone_start(const json_t *z) {
  double t = vm__jnum(z, "start");
  return isfinite(t) ? t : vm__jnum(z, "start_s");
}

static void finding_match(vm__rctx *c, const json_t *m) {
  vm__hbuf *b = c->b;
  double seg = vm__jnum(m, "segment");
  const char *type = vm__jstr(m, "type"), *label = vm__jstr(m, "label_ko");
  vm__hb_put(b, "<tr class=\"f-");
  vm__hb_url(b, type ? type : "match", 0);
  vm__hb_put(b, "\"><td>");
  time_link(c, isfinite(seg) ? (long)seg : -1, vm__jnum(m, "start"));
  vm__hb_put(b, "</td><td>");
  vm__hb_spk_chip(b, c->spk, vm__jstr(m, "speaker"));
  vm__hb_put(b, "</td><td>");
  vm__hb_term(b, type);
  if (label) {
    vm__hb_put(b, " · ");
    vm__hb_text(b, label);
  }
  vm__hb_put(b, "</td><td>“");
  vm__hb_text_cut(b, vm__jstr(m, "text"), TEXT_CUT);
  vm__hb_put(b, "”</td><td>패턴: <span class=\"mono\">");
  vm__hb_text_cut(b, vm__jstr(m, "pattern"), TEXT_CUT);
  vm__hb_put(b, "</span></td><td class=\"num\">");
  vm__hb_num(b, vm__jnum(m, "weight"), "%.2f", NULL);
  vm__hb_put(b, " / ");
  vm__hb_num(b, vm__jnum(m, "confidence"), "%.2f", NULL);
  vm__hb_put(b, "</td></tr>");
}

static void finding_discrepancy(vm__rctx *c, const json_t *d) {
  vm__hbuf *b = c->b;
  double seg = vm__jnum(d, "segment");
  vm__hb_put(b, "<tr class=\"f-discrepancy\"><td>");
  time_link(c, isfinite(seg) ? (long)seg : -1, vm__jnum(d, "start"));
  vm__hb_put(b, "</td><td>");
  vm__hb_spk_chip(b, c->spk, vm__jstr(d, "speaker"));
  vm__hb_put(b, "</td><td>텍스트-음성 불일치 · ");
  vm__hb_text(b, vm__jstr(d, "rule"));
  vm__hb_put(b, "</td><td>");
  vm__hb_text_cut(b, vm__jstr(d, "text_cue"), TEXT_CUT);
  vm__hb_put(b, "</td><td>");
  vm__hb_text(b, vm__jstr(d, "description_ko"));
  vm__hb_put(b, " (음성 각성도: ");
  vm__hb_jvalue(b, vm__jget(d, "voice_arousal"));
  vm__hb_put(b, ")</td><td class=\"num\">");
  const char *sev = vm__jstr(d, "severity");
  if (sev) {
    vm__hb_term(b, sev);
    vm__hb_put(b, " / ");
  }
  vm__hb_num(b, vm__jnum(d, "confidence"), "%.2f", NULL);
  vm__hb_put(b, "</td></tr>");
}

static void finding_zone(vm__rctx *c, const json_t *z) {
  vm__hbuf *b = c->b;
  vm__hb_put(b, "<tr class=\"f-escalation\"><td>");
  time_link(c, -1, zone_start(z));
  vm__hb_put(b, "</td><td>");
  vm__hb_spk_chip(b, c->spk, vm__jstr(z, "speaker"));
  vm__hb_put(b, "</td><td>음성 고조 구간</td><td>강도 ");
  vm__hb_num(b, vm__jnum(z, "intensity_rise_db"), "+%.1f", " dB");
  vm__hb_put(b, ", 음높이 ");
  vm__hb_num(b, vm__jnum(z, "f0_rise_st"), "+%.1f", " st");
  vm__hb_num(b, vm__jnum(z, "f0_rise_percent"), " (+%.0f", "%)");
  vm__hb_put(b, "</td><td>구간 ");
  vm__hb_time(b, zone_start(z));
  vm__hb_put(b, "–");
  double end = vm__jnum(z, "end");
  vm__hb_time(b, isfinite(end) ? end : vm__jnum(z, "end_s"));
  vm__hb_put(b, ", 정점 ");
  double peak = vm__jnum(z, "peak");
  vm__hb_time(b, isfinite(peak) ? peak : vm__jnum(z, "peak_s"));
  vm__hb_put(b, "</td><td class=\"num\">–</td></tr>");
}

static size_t add_findings(finding *f, size_t n, const json_t *a, enum finding_kind kind) {
  const json_t *e;
  size_t i;
  json_array_foreach(a, i, e) {
    if (!json_is_object(e)) continue;
    double t = kind == F_ESCALATION ? zone_start(e) : vm__jnum(e, "start");
    f[n] = (finding){t, n, kind, e};
    n++;
  }
  return n;
}

void vm__sec_findings(vm__rctx *c) {
  vm__hbuf *b = c->b;
  const json_t *ms = vm__jget(c->r, "language.matches"),
               *ds = vm__jget(c->r, "language.discrepancies"), *zs = vm__jget(c->r, "escalation.zones");
  size_t cap = json_array_size(ms) + json_array_size(ds) + json_array_size(zs), n = 0;
  finding *f = cap ? vm_malloc(cap * sizeof *f) : NULL;
  if (cap && !f) {
    b->failed = 1;
    return;
  }
  n = add_findings(f, n, ms, F_MATCH);
  n = add_findings(f, n, ds, F_DISCREPANCY);
  n = add_findings(f, n, zs, F_ESCALATION);
  if (n) qsort(f, n, sizeof *f, finding_cmp);
  vm__hb_printf(b, "<section id=\"findings\"><h2>발견 사항 (%zu건)</h2>"
                   "<table id=\"findings-table\"><thead><tr><th>시간</th><th>화자</th><th>유형</th>"
                   "<th>발화 / 측정</th><th>근거</th><th>가중치 / 신뢰도</th></tr></thead><tbody>",
                n);
  for (size_t i = 0; i < n; i++) {
    if (f[i].kind == F_MATCH) finding_match(c, f[i].src);
    else if (f[i].kind == F_DISCREPANCY) finding_discrepancy(c, f[i].src);
    else finding_zone(c, f[i].src);
  }
  if (n == 0) vm__hb_put(b, "<tr><td colspan=\"6\" class=\"na\">" VM__NA "</td></tr>");
  vm__hb_put(b, "</tbody></table><p class=\"muted\">시간을 누르면 대화 기록의 해당 발화로 "
                "이동합니다.</p></section>\n");
  vm_free(f);
}

void vm__sec_discrepancies(vm__rctx *c) {
  vm__hbuf *b = c->b;
  const json_t *ds = vm__jget(c->r, "language.discrepancies");
  vm__hb_put(b, "<section id=\"discrepancies\"><h2>텍스트-음성 교차 검증</h2>");
  if (!json_is_array(ds)) {
    vm__hb_put(b, "<p class=\"na\">" VM__NA "</p></section>\n");
    return;
  }
  vm__hb_printf(b, "<p>불일치 %zu건. 음성 각성도는 화자 자신의 평소 음성 대비 운율(음높이·강도) "
                   "변화이며 감정 인식 모델의 결과가 아닙니다.</p>",
                json_array_size(ds));
  vm__hb_put(b, "<table id=\"discrepancies-table\"><thead><tr><th>시간</th><th>화자</th>"
                "<th>규칙</th><th>텍스트 단서</th><th>설명</th><th>심각도 / 신뢰도</th></tr></thead><tbody>");
  const json_t *d;
  size_t i;
  json_array_foreach(ds, i, d) if (json_is_object(d)) finding_discrepancy(c, d);
  if (json_array_size(ds) == 0) vm__hb_put(b, "<tr><td colspan=\"6\" class=\"na\">" VM__NA "</td></tr>");
  vm__hb_put(b, "</tbody></table></section>\n");
}

/* ---- speakers ----------------------------------------------------------------- */

static void speaker_row(vm__rctx *c, const json_t *s) {
  vm__hbuf *b = c->b;
  const char *label = vm__jstr(s, "speaker");
  vm__hb_put(b, "<tr><td>");
  vm__hb_spk_chip(b, c->spk, label);
  vm__hb_put(b, "</td><td class=\"num\">");
  vm__hb_num(b, vm__jnum(s, "talk_time_s"), "%.1f", " s");
  vm__hb_put(b, "</td><td class=\"num\">");
  vm__hb_num(b, vm__jnum(s, "share") * 100, "%.0f", "%");
  vm__hb_put(b, "</td><td class=\"num\">");
  vm__hb_num(b, vm__jnum(s, "turns"), "%.0f", NULL);
  vm__hb_put(b, "</td><td class=\"num\">");
  vm__hb_num(b, vm__jnum(s, "interruptions"), "%.0f", NULL);
  static const struct { const char *key, *fmt; double scale; } ac[] = {
      {"acoustic.f0_mean_hz", "%.1f", 1},   {"acoustic.f0_range_st", "%.1f", 1},
      {"acoustic.jitter_local", "%.2f", 100}, {"acoustic.shimmer_local", "%.2f", 100},
      {"acoustic.hnr_db", "%.1f", 1},       {"acoustic.intensity_mean_db", "%.1f", 1}};
  for (size_t i = 0; i < sizeof ac / sizeof *ac; i++) {
    vm__hb_put(b, "</td><td class=\"num\">");
    vm__hb_num(b, vm__jnum(s, ac[i].key) * ac[i].scale, ac[i].fmt, NULL);
  }
  vm__hb_put(b, "</td><td>");
  vm__hb_num(b, vm__jnum(s, "stress.index"), "%.0f", NULL);
  const char *lvl = vm__jstr(s, "stress.level");
  if (lvl) {
    vm__hb_put(b, " (");
    vm__hb_term(b, lvl);
    vm__hb_put(b, ")");
  }
  vm__hb_put(b, "</td><td>");
  const json_t *sl = label ? json_object_get(vm__jget(c->r, "language.speech_level.speakers"), label)
                           : NULL;
  const char *sl_level = vm__jstr(sl, "level");
  if (!sl_level) sl_level = vm__jstr(sl, "dominant");
  if (sl_level) vm__hb_term(b, sl_level);
  else vm__hb_put(b, VM__NA);
  vm__hb_put(b, "</td></tr>");
}

static void speaker_scores(vm__rctx *c) {
  vm__hbuf *b = c->b;
  const json_t *sp = vm__jget(c->r, "language.scores.speakers");
  static const char *const cats[] = {"gaslighting", "threat", "coercion", "deception",
                                     "emotional_manipulation"};
  vm__hb_put(b, "<h3>화자별 위험도</h3>");
  if (!json_is_object(sp) || json_object_size(sp) == 0) {
    vm__hb_put(b, "<p class=\"na\">" VM__NA "</p>");
    return;
  }
  vm__hb_put(b, "<table><thead><tr><th>화자</th><th>위험 수준</th><th>종합 점수</th>");
  for (size_t i = 0; i < 5; i++) vm__hb_printf(b, "<th>%s</th>", vm__ko_category(cats[i]));
  vm__hb_put(b, "</tr></thead><tbody>");
  const char *label;
  json_t *s;
  json_object_foreach(vm__jmut(sp), label, s) {
    enum vm__risk r = vm__risk_parse(vm__jstr(s, "risk_level"));
    if (r == VM__RISK_NONE) r = vm__risk_of_score(vm__jnum(s, "overall"));
    vm__hb_put(b, "<tr><td>");
    vm__hb_spk_chip(b, c->spk, label);
    vm__hb_put(b, "</td><td>");
    vm__hb_risk_badge(b, r, NULL);
    vm__hb_put(b, "</td><td class=\"num\">");
    vm__hb_num(b, vm__jnum(s, "overall"), "%.1f", NULL);
    for (size_t i = 0; i < 5; i++) {
      vm__hb_put(b, "</td><td class=\"num\">");
      const json_t *cat = json_object_get(vm__jget(s, "categories"), cats[i]);
      vm__hb_num(b, vm__jnum(cat, "score"), "%.1f", NULL);
    }
    vm__hb_put(b, "</td></tr>");
  }
  vm__hb_put(b, "</tbody></table>");
}

/* Turns whose stress level is "high", as a short table. */
static void stressed_segments(vm__rctx *c) {
  vm__hbuf *b = c->b;
  const json_t *segs = vm__jget(c->r, "segments"), *e;
  size_t i, n = 0;
  vm__hb_put(b, "<h3>스트레스 높은 구간</h3><table><thead><tr><th>시간</th><th>화자</th>"
                "<th>스트레스 지수</th></tr></thead><tbody>");
  json_array_foreach(segs, i, e) {
    const char *lvl = vm__jstr(e, "stress_level");
    if (!lvl || strcmp(lvl, "high") != 0) continue;
    n++;
    vm__hb_put(b, "<tr><td>");
    time_link(c, -1, vm__jnum(e, "start"));
    vm__hb_put(b, "–");
    vm__hb_time(b, vm__jnum(e, "end"));
    vm__hb_put(b, "</td><td>");
    vm__hb_spk_chip(b, c->spk, vm__jstr(e, "speaker"));
    vm__hb_put(b, "</td><td class=\"num\">");
    vm__hb_num(b, vm__jnum(e, "stress_index"), "%.0f", NULL);
    vm__hb_put(b, "</td></tr>");
  }
  if (!n) vm__hb_put(b, "<tr><td colspan=\"3\" class=\"na\">" VM__NA "</td></tr>");
  vm__hb_put(b, "</tbody></table>");
}

/* Speech level of one speaker: dominant level, counts, shifts. */
static void speech_level_cell(vm__rctx *c, const json_t *sl) {
  vm__hbuf *b = c->b;
  const char *lvl = vm__jstr(sl, "dominant");
  if (!lvl) lvl = vm__jstr(sl, "level");
  if (!sl) {
    vm__hb_put(b, VM__NA);
    return;
  }
  if (lvl) vm__hb_term(b, lvl);
  vm__hb_num(b, vm__jnum(sl, "formal"), " (존댓말 %.0f", NULL);
  vm__hb_num(b, vm__jnum(sl, "informal"), " · 반말 %.0f)", NULL);
  const json_t *sh = vm__jget(sl, "shifts"), *e;
  size_t i;
  if (json_array_size(sh)) vm__hb_printf(b, "<br>전환 %zu회:", json_array_size(sh));
  json_array_foreach(sh, i, e) {
    if (i >= 5) {
      vm__hb_put(b, " …");
      break;
    }
    vm__hb_put(b, " ");
    double seg = vm__jnum(e, "segment");
    time_link(c, isfinite(seg) ? (long)seg : -1, vm__jnum(e, "time"));
    vm__hb_put(b, " ");
    vm__hb_term(b, vm__jstr(e, "from"));
    vm__hb_put(b, "→");
    vm__hb_term(b, vm__jstr(e, "to"));
  }
}

/* Per speaker: segments, words, findings by family, first finding, speech
 * level (language.speaker_summary, language.speech_level.speakers). */
static void language_summary(vm__rctx *c) {
  vm__hbuf *b = c->b;
  const json_t *sum = vm__jget(c->r, "language.speaker_summary"),
               *lv = vm__jget(c->r, "language.speech_level.speakers");
  const char *k;
  json_t *v;
  size_t n = 0;
  vm__hb_put(b, "<h3>화자별 언어 요약</h3><table id=\"language-speakers\"><thead><tr><th>화자</th>"
                "<th>발화 구간</th><th>단어</th><th>발견</th><th>첫 발견</th><th>말투</th></tr>"
                "</thead><tbody>");
  for (int pass = 0; pass < 2; pass++) {
    json_object_foreach(vm__jmut(pass ? lv : sum), k, v) {
      if (pass && json_object_get(sum, k)) continue; /* listed in the first pass */
      const json_t *s = pass ? NULL : v;
      n++;
      vm__hb_put(b, "<tr><td>");
      vm__hb_spk_chip(b, c->spk, k);
      vm__hb_put(b, "</td><td class=\"num\">");
      vm__hb_num(b, vm__jnum(s, "n_segments"), "%.0f", NULL);
      vm__hb_put(b, "</td><td class=\"num\">");
      vm__hb_num(b, vm__jnum(s, "words"), "%.0f", NULL);
      vm__hb_put(b, "</td><td>");
      const char *fk;
      json_t *fv;
      json_object_foreach(vm__jmut(vm__jget(s, "findings")), fk, fv) {
        vm__hb_put(b, "<span class=\"chip\">");
        vm__hb_term(b, fk);
        vm__hb_num(b, vm__jval(fv), " %.0f", "건");
        vm__hb_put(b, "</span>");
      }
      if (!json_object_size(vm__jget(s, "findings"))) vm__hb_put(b, VM__NA);
      vm__hb_put(b, "</td><td>");
      time_link(c, -1, vm__jnum(s, "first_finding_time"));
      vm__hb_put(b, "</td><td>");
      speech_level_cell(c, json_object_get(lv, k));
      vm__hb_put(b, "</td></tr>");
    }
  }
  if (!n) vm__hb_put(b, "<tr><td colspan=\"6\" class=\"na\">" VM__NA "</td></tr>");
  vm__hb_put(b, "</tbody></table>");
}

void vm__sec_speakers(vm__rctx *c) {
  vm__hbuf *b = c->b;
  const json_t *sp = vm__jget(c->r, "speakers"), *s;
  size_t i;
  vm__hb_put(b, "<section id=\"speakers\"><h2>화자별 분석</h2><p class=\"muted\">분리 방법: ");
  const char *method = vm__jstr(c->r, "diarization.method");
  if (method) vm__hb_text(b, method);
  else vm__hb_put(b, VM__NA);
  vm__hb_put(b, "</p><table id=\"speakers-table\"><thead><tr><th>화자</th><th>발화 시간</th>"
                "<th>비율</th><th>발화 수</th><th>끼어들기</th><th>F0 평균 (Hz)</th>"
                "<th>F0 범위 (st)</th><th>Jitter (%)</th><th>Shimmer (%)</th><th>HNR (dB)</th>"
                "<th>강도 (dB)</th><th>스트레스 (0–100)</th><th>말투</th></tr></thead><tbody>");
  json_array_foreach(sp, i, s) speaker_row(c, s);
  if (json_array_size(sp) == 0)
    vm__hb_put(b, "<tr><td colspan=\"13\" class=\"na\">" VM__NA "</td></tr>");
  vm__hb_put(b, "</tbody></table>");
  speaker_scores(c);
  stressed_segments(c);
  language_summary(c);
  vm__hb_put(b, "<h3>호칭·위계 표지</h3><ul>");
  const json_t *h = vm__jget(c->r, "language.hierarchy");
  json_array_foreach(h, i, s) {
    vm__hb_put(b, "<li>");
    if (json_is_object(s) && vm__jstr(s, "marker")) {
      double seg = vm__jnum(s, "segment");
      time_link(c, isfinite(seg) ? (long)seg : -1, vm__jnum(s, "start"));
      vm__hb_put(b, " ");
      vm__hb_spk_chip(b, c->spk, vm__jstr(s, "speaker"));
      vm__hb_put(b, " “");
      vm__hb_text(b, vm__jstr(s, "marker"));
      vm__hb_put(b, "” <span class=\"muted\">");
      vm__hb_term(b, vm__jstr(s, "kind"));
      vm__hb_put(b, "</span>");
    } else {
      vm__hb_jvalue(b, s);
    }
    vm__hb_put(b, "</li>");
  }
  if (json_array_size(h) == 0) vm__hb_put(b, "<li class=\"na\">" VM__NA "</li>");
  vm__hb_put(b, "</ul></section>\n");
}

/* ---- transcript --------------------------------------------------------------- */

static void transcript_line(vm__rctx *c, const json_t *seg, size_t i, const long *mseg,
                            size_t n_m) {
  vm__hbuf *b = c->b;
  const json_t *ms = vm__jget(c->r, "language.matches");
  int flagged = 0;
  for (size_t k = 0; k < n_m && !flagged; k++) flagged = mseg[k] == (long)i;
  const char *spk = vm__jstr(seg, "speaker");
  vm__hb_printf(b, "<div class=\"seg%s\" id=\"seg-%ld\"><span class=\"t\">", flagged ? " flagged" : "",
                anchor_id(seg, i));
  vm__hb_time(b, vm__jnum(seg, "start"));
  vm__hb_put(b, "</span><span>");
  vm__hb_spk_chip(b, c->spk, spk);
  vm__hb_put(b, "</span><span class=\"x\">");
  vm__hb_text(b, vm__jstr(seg, "text"));
  double lp = vm__jnum(seg, "avg_logprob"), ns = vm__jnum(seg, "no_speech_prob");
  if ((isfinite(lp) && lp < -1.0) || (isfinite(ns) && ns > 0.6))
    vm__hb_put(b, " <span class=\"chip\" title=\"음성 인식 신뢰도 낮음\">인식 불확실</span>");
  for (size_t k = 0; k < n_m; k++) {
    if (mseg[k] != (long)i) continue;
    const json_t *m = json_array_get(ms, k);
    const char *label = vm__jstr(m, "label_ko");
    vm__hb_put(b, " <span class=\"chip\">");
    vm__hb_text(b, label ? label : vm__jstr(m, "type"));
    vm__hb_put(b, "</span>");
  }
  vm__hb_put(b, "</span></div>\n");
}

void vm__sec_transcript(vm__rctx *c) {
  vm__hbuf *b = c->b;
  const json_t *segs = tr_segments(c->r), *e, *ms = vm__jget(c->r, "language.matches");
  size_t i, n_m = json_array_size(ms);
  vm__hb_put(b, "<section id=\"transcript\" class=\"newpage\"><h2>대화 기록</h2>");
  if (!segs) {
    vm__hb_put(b, "<p class=\"na\">" VM__NA);
    const char *why = vm__jstr(c->r, "stages.transcription.reason");
    if (why) {
      vm__hb_put(b, ": ");
      vm__hb_text(b, why);
    }
    vm__hb_put(b, "</p></section>\n");
    return;
  }
  long *mseg = n_m ? vm_malloc(n_m * sizeof *mseg) : NULL;
  if (n_m && !mseg) {
    b->failed = 1;
    return;
  }
  json_array_foreach(ms, i, e) mseg[i] = match_index(c->r, e);
  vm__hb_put(b, "<p class=\"muted\">출처: ");
  vm__hb_jvalue(b, vm__jget(c->r, "transcript.source"));
  vm__hb_put(b, " · 언어: ");
  vm__hb_jvalue(b, vm__jget(c->r, "transcript.language"));
  vm__hb_printf(b, " · 구간 %zu개 · 화자 %zu명</p><div class=\"transcript\">", json_array_size(segs),
                c->spk->n);
  json_array_foreach(segs, i, e) transcript_line(c, e, i, mseg, n_m);
  if (json_array_size(segs) == 0) vm__hb_put(b, "<p class=\"na\">" VM__NA " (빈 전사본)</p>");
  vm__hb_put(b, "</div></section>\n");
  vm_free(mseg);
}

/* ---- audio facts ----------------------------------------------------------------- */

typedef struct fact {
  const char *label, *path, *fmt, *unit;
} fact;

static void facts_table(vm__rctx *c, const fact *f) {
  vm__hbuf *b = c->b;
  vm__hb_put(b, "<table class=\"kv\">");
  for (; f->label; f++) {
    vm__hb_printf(b, "<tr><th>%s</th><td>", f->label);
    const json_t *v = vm__jget(c->r, f->path);
    if (f->fmt && json_is_number(v)) vm__hb_num(b, vm__jval(v), f->fmt, f->unit);
    else vm__hb_jvalue(b, v);
    vm__hb_put(b, "</td></tr>");
  }
  vm__hb_put(b, "</table>");
}

static const fact audio_facts[] = {
    {"컨테이너", "audio.container", NULL, NULL},
    {"코덱", "audio.codec", NULL, NULL},
    {"샘플레이트", "audio.sample_rate_hz", "%.0f", " Hz"},
    {"채널", "audio.channels", "%.0f", NULL},
    {"비트레이트", "audio.bit_rate", "%.0f", " bit/s"},
    {"디코딩 길이", "audio.duration_s", "%.2f", " s"},
    {"컨테이너 표기 길이", "audio.container_duration_s", "%.2f", " s"},
    {"디코딩 오류 패킷", "audio.decode_errors", "%.0f", NULL},
    {"삽입된 무음", "audio.filled_s", "%.2f", " s"},
    {"피크", "levels.peak_dbfs", "%.1f", " dBFS"},
    {"RMS", "levels.rms_dbfs", "%.1f", " dBFS"},
    {"클리핑 비율", "levels.clipped_fraction", "%.4f", NULL},
    {"라우드니스 (정규화 전/후)", "loudness.integrated_lufs_before", "%.1f", " LUFS"},
    {"정규화 이득", "loudness.gain_db", "%.1f", " dB"},
    {"음성 비율 (VAD)", "vad.speech_ratio", "%.3f", NULL},
    {"무음 파일", "speech_free", NULL, NULL},
    {NULL, NULL, NULL, NULL}};

void vm__sec_audio(vm__rctx *c) {
  vm__hbuf *b = c->b;
  vm__hb_put(b, "<section id=\"audio\"><h2>오디오 정보</h2>");
  facts_table(c, audio_facts);
  vm__hb_put(b, "<h3>처리 단계</h3><table><thead><tr><th>단계</th><th>상태</th><th>시간 (ms)</th>"
                "<th>사유</th></tr></thead><tbody>");
  const json_t *st = vm__jget(c->r, "stages");
  const char *k;
  json_t *v;
  json_object_foreach(vm__jmut(st), k, v) {
    vm__hb_put(b, "<tr><td>");
    vm__hb_text(b, k);
    vm__hb_put(b, "</td><td>");
    vm__hb_jvalue(b, vm__jget(v, "status"));
    vm__hb_put(b, "</td><td class=\"num\">");
    vm__hb_num(b, vm__jnum(v, "ms"), "%.1f", NULL);
    vm__hb_put(b, "</td><td>");
    const char *why = vm__jstr(v, "reason");
    if (why) vm__hb_text(b, why);
    vm__hb_put(b, "</td></tr>");
  }
  if (!json_object_size(st)) vm__hb_put(b, "<tr><td colspan=\"4\" class=\"na\">" VM__NA "</td></tr>");
  vm__hb_put(b, "</tbody></table></section>\n");
}

/* ---- integrity ------------------------------------------------------------------ */

static void output_row(vm__rctx *c, const char *kind) {
  vm__hbuf *b = c->b;
  const char *path = vm__jstr(c->ctx->links, kind);
  const char *sha = vm__jstr(c->ctx->output_sha256, kind);
  vm__hb_put(b, "<tr><td>");
  vm__hb_text(b, kind);
  vm__hb_put(b, "</td><td>");
  if (path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    vm__hb_put(b, "<a href=\"");
    vm__hb_url(b, base, 0);
    vm__hb_put(b, "\">");
    vm__hb_text(b, base);
    vm__hb_put(b, "</a>");
  } else {
    vm__hb_put(b, VM__NA);
  }
  vm__hb_put(b, "</td><td class=\"mono\">");
  if (sha) vm__hb_text(b, sha);
  else vm__hb_put(b, VM__NA);
  vm__hb_put(b, "</td></tr>");
}

static void outputs_table(vm__rctx *c) {
  vm__hbuf *b = c->b;
  const char *k;
  json_t *v;
  size_t n = 0;
  vm__hb_put(b, "<h3>출력 파일</h3><table id=\"outputs-table\"><thead><tr><th>종류</th><th>파일</th>"
                "<th>SHA-256</th></tr></thead><tbody>");
  json_object_foreach(vm__jmut(c->ctx->links), k, v) {
    if (!json_is_object(c->ctx->links)) break;
    if (!strcmp(k, "html") || !strcmp(k, "pdf")) continue;
    output_row(c, k);
    n++;
  }
  json_object_foreach(vm__jmut(c->ctx->output_sha256), k, v) {
    if (!json_is_object(c->ctx->output_sha256)) break;
    if (vm__jget(c->ctx->links, k) || !strcmp(k, "html") || !strcmp(k, "pdf")) continue;
    output_row(c, k);
    n++;
  }
  if (!n) vm__hb_put(b, "<tr><td colspan=\"3\" class=\"na\">" VM__NA "</td></tr>");
  vm__hb_put(b, "</tbody></table><p class=\"muted\">이 보고서(HTML/PDF) 자체의 해시는 감사 로그"
                "(audit.jsonl)에 기록되며 <span class=\"mono\">voiceman verify</span>로 확인할 수 "
                "있습니다.</p>");
}

void vm__sec_integrity(vm__rctx *c) {
  vm__hbuf *b = c->b;
  const json_t *r = c->r;
  vm__hb_put(b, "<section id=\"integrity\"><h2>무결성 및 버전</h2>");
  static const fact input_facts[] = {
      {"원본 경로", "input.path", NULL, NULL},     {"크기", "input.size_bytes", "%.0f", " bytes"},
      {"수정 시각", "input.mtime", NULL, NULL},    {"원본 SHA-256", "input.sha256", NULL, NULL},
      {"실행 ID", "run_id", "%.0f", NULL},          {"결과 스키마", "schema", NULL, NULL},
      {NULL, NULL, NULL, NULL}};
  facts_table(c, input_facts);
  outputs_table(c);
  vm__hb_put(b, "<h3>버전</h3><table class=\"kv\"><tr><th>프로그램</th><td>voiceman ");
  const char *ver = c->ctx->program_version ? c->ctx->program_version : vm__jstr(r, "voiceman_version");
  if (ver) vm__hb_text(b, ver);
  else vm__hb_put(b, VM__NA);
  vm__hb_put(b, "</td></tr><tr><th>음성 인식 모델</th><td>");
  vm__hb_jvalue(b, vm__jget(r, "transcript.model"));
  vm__hb_put(b, "</td></tr><tr><th>전사 출처</th><td>");
  vm__hb_jvalue(b, vm__jget(r, "transcript.source"));
  vm__hb_put(b, "</td></tr><tr><th>패턴 데이터베이스</th><td>");
  vm__hb_jvalue(b, vm__jget(r, "language.patterns_version"));
  vm__hb_put(b, "</td></tr></table></section>\n");
}
