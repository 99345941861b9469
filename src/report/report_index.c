/* report_index.c — OUT/index.html: the batch at a glance.
 *
 * One row per entry of summary.json "files" (in processing order): the
 * file (linked to its report), duration, status, risk level and score,
 * the top findings, speakers, and for failures the reason; then rejected
 * inputs. Columns sort with a few lines of inline script (click a header);
 * the page's Content-Security-Policy allows that one script by its
 * SHA-256 and nothing else, and the table is complete without it.
 */
#include <math.h>
#include <string.h>

#include "report_html_impl.h"
#include "vm_alloc.h"
#include "vm_sha256.h"

#define TOP_FINDINGS 3

static const char sort_script[] =
    "(function(){var t=document.getElementById('files-table');if(!t)return;"
    "t.querySelectorAll('th.sortable').forEach(function(th){th.addEventListener('click',"
    "function(){var i=th.cellIndex,b=t.tBodies[0],num=th.dataset.type==='num',"
    "asc=th.dataset.dir!=='asc';th.dataset.dir=asc?'asc':'desc';"
    "var rows=Array.prototype.slice.call(b.rows);rows.sort(function(x,y){"
    "var a=x.cells[i].dataset.sort||x.cells[i].textContent,"
    "c=y.cells[i].dataset.sort||y.cells[i].textContent;"
    "var r=num?(parseFloat(a)||0)-(parseFloat(c)||0):a.localeCompare(c,'ko');"
    "return asc?r:-r;});rows.forEach(function(r){b.appendChild(r);});});});})();";

static void base64(vm__hbuf *b, const uint8_t *p, size_t n) {
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                 (i + 2 < n ? p[i + 2] : 0);
    char o[4] = {tab[v >> 18 & 63], tab[v >> 12 & 63], i + 1 < n ? tab[v >> 6 & 63] : '=',
                 i + 2 < n ? tab[v & 63] : '='};
    vm__hb_putn(b, o, 4);
  }
}

static void index_head(vm__hbuf *b) {
  uint8_t digest[VM_SHA256_LEN];
  vm_sha256_buf(sort_script, strlen(sort_script), digest);
  vm__hb_put(b, "<!DOCTYPE html>\n<html lang=\"ko\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                "style-src 'unsafe-inline'; img-src data:; script-src 'sha256-");
  base64(b, digest, sizeof digest);
  vm__hb_put(b, "'\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                "<title>voiceman 분석 결과 목록</title>\n<style>\n");
  vm__hb_put(b, vm__report_css);
  vm__hb_put(b, "</style>\n</head>\n<body>\n<main>\n");
}

static const char *status_ko(const char *s) {
  if (!s) return VM__NA;
  if (!strcmp(s, "completed")) return "완료";
  if (!strcmp(s, "skipped")) return "건너뜀 (변경 없음)";
  if (!strcmp(s, "failed")) return "실패";
  if (!strcmp(s, "interrupted")) return "중단";
  return NULL;
}

static void run_facts(vm__hbuf *b, const json_t *s) {
  vm__hb_put(b, "<header class=\"report\"><h1>음성 포렌식 분석 — 일괄 처리 결과</h1></header>"
                "<table class=\"kv\" id=\"run-table\"><tr><th>실행 ID</th><td>");
  vm__hb_jvalue(b, vm__jget(s, "run.id"));
  vm__hb_put(b, "</td></tr><tr><th>시작 / 종료 (UTC)</th><td>");
  vm__hb_jvalue(b, vm__jget(s, "run.started"));
  vm__hb_put(b, " / ");
  vm__hb_jvalue(b, vm__jget(s, "run.ended"));
  vm__hb_put(b, "</td></tr><tr><th>상태</th><td>");
  const char *st = vm__jstr(s, "run.status"), *st_ko = status_ko(st);
  if (st_ko && st) vm__hb_put(b, st_ko);
  else vm__hb_jvalue(b, vm__jget(s, "run.status"));
  vm__hb_put(b, "</td></tr><tr><th>파일</th><td>");
  static const struct { const char *key, *ko; } tot[] = {
      {"totals.files", "전체"}, {"totals.completed", "완료"}, {"totals.skipped", "건너뜀"},
      {"totals.failed", "실패"}, {"totals.rejected", "거부"}, {"totals.interrupted", "중단"}};
  for (size_t i = 0; i < sizeof tot / sizeof *tot; i++) {
    vm__hb_printf(b, "%s%s ", i ? " · " : "", tot[i].ko);
    vm__hb_num(b, vm__jnum(s, tot[i].key), "%.0f", NULL);
  }
  vm__hb_put(b, "</td></tr><tr><th>오디오 총 길이</th><td>");
  vm__hb_duration_ko(b, vm__jnum(s, "totals.audio_seconds"));
  vm__hb_put(b, "</td></tr><tr><th>프로그램</th><td>voiceman ");
  vm__hb_jvalue(b, vm__jget(s, "voiceman_version"));
  vm__hb_put(b, "</td></tr></table>\n");
}

static double match_rank(const json_t *m) {
  double w = vm__jnum(m, "weight"), c = vm__jnum(m, "confidence");
  return (isfinite(w) ? w : 0) * (isfinite(c) ? c : 1);
}

/* The TOP_FINDINGS matches with the largest weight x confidence. */
static void top_findings(vm__hbuf *b, vm__spkmap *spk, const json_t *res) {
  const json_t *ms = vm__jget(res, "language.matches"), *m;
  size_t n = json_array_size(ms), picked[TOP_FINDINGS], n_picked = 0;
  while (n_picked < TOP_FINDINGS && n_picked < n) {
    long best = -1;
    size_t i;
    json_array_foreach(ms, i, m) {
      int used = 0;
      for (size_t k = 0; k < n_picked; k++) used |= picked[k] == i;
      if (!used && (best < 0 || match_rank(m) > match_rank(json_array_get(ms, (size_t)best))))
        best = (long)i;
    }
    picked[n_picked++] = (size_t)best;
  }
  for (size_t k = 0; k < n_picked; k++) {
    m = json_array_get(ms, picked[k]);
    const char *label = vm__jstr(m, "label_ko");
    vm__hb_put(b, k ? "<br>" : "");
    vm__hb_time(b, vm__jnum(m, "start"));
    vm__hb_put(b, " ");
    vm__hb_spk_chip(b, spk, vm__jstr(m, "speaker"));
    vm__hb_put(b, " ");
    vm__hb_text(b, label ? label : vm__jstr(m, "type"));
    vm__hb_put(b, ": “");
    vm__hb_text_cut(b, vm__jstr(m, "text"), 60);
    vm__hb_put(b, "”");
  }
  if (n > n_picked) vm__hb_printf(b, "<br><span class=\"muted\">외 %zu건</span>", n - n_picked);
  if (n == 0) vm__hb_put(b, res && vm__jget(res, "language") ? "없음" : "<span class=\"na\">분석 없음</span>");
}

static void file_cell(vm__hbuf *b, const json_t *f) {
  const char *in = vm__jstr(f, "input");
  const char *base = in ? strrchr(in, '/') : NULL;
  base = base ? base + 1 : in;
  const char *href = vm__jstr(f, "outputs.html");
  if (!href) href = vm__jstr(f, "outputs.json");
  vm__hb_put(b, "<td data-sort=\"");
  vm__hb_text(b, base);
  vm__hb_put(b, "\">");
  if (href) {
    vm__hb_put(b, "<a href=\"");
    vm__hb_url(b, href, 1);
    vm__hb_put(b, "\">");
  }
  vm__hb_put(b, "<b>");
  vm__hb_text(b, base ? base : VM__NA);
  vm__hb_put(b, href ? "</b></a>" : "</b>");
  vm__hb_put(b, "<br><span class=\"mono muted\">");
  vm__hb_text(b, in);
  vm__hb_put(b, "</span></td>");
}

static void file_row(vm__hbuf *b, vm__spkmap *spk, const json_t *f, const json_t *res) {
  const char *st = vm__jstr(f, "status");
  const json_t *s = vm__scores(res);
  double dur = vm__jnum(f, "duration_s");
  if (!isfinite(dur)) dur = vm__jnum(res, "audio.duration_s");
  enum vm__risk r = vm__risk_parse(vm__jstr(s, "risk_level"));
  if (r == VM__RISK_NONE) r = vm__risk_of_score(vm__jnum(s, "overall"));
  double score = vm__jnum(s, "overall");
  vm__hb_put(b, st && !strcmp(st, "failed") ? "<tr class=\"row-failed\">" : "<tr>");
  file_cell(b, f);
  vm__hb_printf(b, "<td class=\"num\" data-sort=\"%.3f\">", isfinite(dur) ? dur : -1.0);
  vm__hb_duration_ko(b, dur);
  vm__hb_put(b, "</td><td>");
  const char *ko = status_ko(st);
  if (ko) vm__hb_put(b, ko);
  else vm__hb_text(b, st);
  vm__hb_printf(b, "</td><td data-sort=\"%d\">", (int)r);
  vm__hb_risk_badge(b, r, NULL);
  vm__hb_printf(b, "</td><td class=\"num\" data-sort=\"%.3f\">", isfinite(score) ? score : -1.0);
  vm__hb_num(b, score, "%.1f", NULL);
  vm__hb_put(b, "</td><td>");
  top_findings(b, spk, res);
  vm__hb_put(b, "</td><td class=\"num\">");
  vm__hb_num(b, vm__jnum(res, "diarization.n_speakers"), "%.0f", NULL);
  vm__hb_put(b, "</td><td>");
  const char *e = vm__jstr(f, "error");
  if (e) {
    vm__hb_put(b, "<span class=\"error\">");
    vm__hb_text(b, e);
    vm__hb_put(b, "</span>");
    const char *code = vm__jstr(f, "error_code");
    if (code) {
      vm__hb_put(b, " <span class=\"mono muted\">");
      vm__hb_text(b, code);
      vm__hb_put(b, "</span>");
    }
  }
  vm__hb_put(b, "</td></tr>\n");
}

static void rejected_list(vm__hbuf *b, const json_t *s) {
  const json_t *rj = vm__jget(s, "rejected"), *e;
  size_t i;
  if (json_array_size(rj) == 0) return;
  vm__hb_put(b, "<h2>거부된 입력</h2><table id=\"rejected-table\"><thead><tr><th>입력</th>"
                "<th>사유</th></tr></thead><tbody>");
  json_array_foreach(rj, i, e) {
    vm__hb_put(b, "<tr><td class=\"mono\">");
    vm__hb_text(b, vm__jstr(e, "input"));
    vm__hb_put(b, "</td><td>");
    vm__hb_text(b, vm__jstr(e, "reason"));
    vm__hb_put(b, "</td></tr>");
  }
  vm__hb_put(b, "</tbody></table>\n");
}

int vm_report_index_render(const json_t *summary, const json_t *const *results, size_t n,
                           char **out_html, size_t *out_len, vm_err *err) {
  vm__hbuf b;
  vm__spkmap spk;
  *out_html = NULL;
  if (out_len) *out_len = 0;
  if (!json_is_object(summary))
    return vm_err_set(err, VM_EINVAL, "index: the summary is not a JSON object");
  const json_t *files = json_object_get(summary, "files"), *f;
  if (files && !json_is_array(files))
    return vm_err_set(err, VM_EINVAL, "index: summary \"files\" is not an array");
  if (json_array_size(files) != n || (n && !results))
    return vm_err_set(err, VM_EINVAL, "index: %zu results given for %zu summary files", n,
                      json_array_size(files));
  vm__hb_init(&b);
  memset(&spk, 0, sizeof spk);
  index_head(&b);
  run_facts(&b, summary);
  vm__hb_put(&b, "<h2>파일</h2><table id=\"files-table\"><thead><tr>"
                 "<th class=\"sortable\">파일</th><th class=\"sortable\" data-type=\"num\">길이</th>"
                 "<th class=\"sortable\">상태</th>"
                 "<th class=\"sortable\" data-type=\"num\">위험 수준</th>"
                 "<th class=\"sortable\" data-type=\"num\">점수</th><th>주요 발견</th>"
                 "<th>화자 수</th><th>실패 사유</th></tr></thead><tbody>\n");
  size_t i;
  int spk_failed = 0;
  json_array_foreach(files, i, f) {
    /* Speaker colours as in that file's own report. */
    vm__spk_collect(&spk, results[i]);
    file_row(&b, &spk, f, results[i]);
    spk_failed |= spk.failed;
    vm__spk_deinit(&spk);
  }
  if (n == 0) vm__hb_put(&b, "<tr><td colspan=\"8\" class=\"na\">" VM__NA "</td></tr>");
  vm__hb_put(&b, "</tbody></table>\n");
  rejected_list(&b, summary);
  vm__hb_put(&b, "<footer class=\"note\">머리글을 누르면 정렬됩니다. 각 파일의 보고서에 발견 "
                 "사항과 근거가 있습니다.</footer>\n</main>\n<script>");
  vm__hb_put(&b, sort_script);
  vm__hb_put(&b, "</script>\n</body>\n</html>\n");
  int rc = VM_OK;
  if (b.failed || spk_failed) rc = vm_err_set(err, VM_ENOMEM, "index: out of memory while rendering");
  else *out_html = vm__hb_take(&b, out_len);
  vm__hb_deinit(&b);
  vm__spk_deinit(&spk);
  return rc;
}

/* Copies the value at a dotted path of src into dst, creating objects. */
static int copy_path(json_t *dst, const json_t *src, const char *path) {
  const json_t *v = vm__jget(src, path);
  if (!v) return 0;
  char key[64];
  const char *dot;
  while ((dot = strchr(path, '.')) != NULL) {
    size_t len = (size_t)(dot - path);
    if (len >= sizeof key) return -1;
    memcpy(key, path, len);
    key[len] = '\0';
    json_t *sub = json_object_get(dst, key);
    if (!sub) {
      sub = json_object();
      if (!sub || json_object_set_new(dst, key, sub)) return -1;
    }
    dst = sub;
    path = dot + 1;
  }
  return json_object_set(dst, path, vm__jmut(v));
}

json_t *vm_report_index_slim(const json_t *result) {
  static const char *const keep[] = {"input.path", "audio.duration_s", "diarization.n_speakers",
                                     "language.matches", "language.scores.conversation.overall",
                                     "language.scores.conversation.risk_level", NULL};
  if (!json_is_object(result)) return NULL;
  json_t *o = json_object();
  if (!o) return NULL;
  /* "language" present (even without matches) tells "no findings" from
   * "not analysed". */
  if (vm__jget(result, "language") && json_object_set_new(o, "language", json_object())) goto fail;
  for (const char *const *k = keep; *k; k++)
    if (copy_path(o, result, *k)) goto fail;
  /* Speakers in the order that gives them their colours in the report. */
  vm__spkmap spk;
  vm__spk_collect(&spk, result);
  json_t *sp = json_array();
  int bad = !sp || spk.failed || json_object_set_new(o, "speakers", sp);
  for (size_t i = 0; i < spk.n && !bad; i++)
    bad = json_array_append_new(sp, json_pack("{ss}", "speaker", spk.labels[i])) != 0;
  vm__spk_deinit(&spk);
  if (bad) goto fail;
  return o;
fail:
  json_decref(o);
  return NULL;
}
