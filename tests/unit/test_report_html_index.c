/* test_report_html_index.c — OUT/index.html from a summary with
 * completed, skipped and failed files, and printing to PDF.
 * The PDF tests need headless Chromium; without it only the "not
 * installed" error is checked.
 * Run one test: ./test_report_html_index NAME
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report_html_impl.h"
#include "report_test_util.h"
#include "test.h"
#include "vm_fs.h"
#include "vm_sha256.h"

typedef struct batch {
  json_t *summary;
  json_t *res[5];
} batch;

/* The summary fixture's five files: three results, two failures. */
static int batch_load(batch *b) {
  b->summary = load_fixture("summary.json");
  b->res[0] = load_fixture("full_ko.json");
  b->res[1] = load_fixture("hostile.json");
  b->res[2] = load_fixture("real_no_language.json");
  b->res[3] = b->res[4] = NULL;
  return b->summary && b->res[0] && b->res[1] && b->res[2];
}

static void batch_free(batch *b) {
  json_decref(b->summary);
  for (int i = 0; i < 5; i++) json_decref(b->res[i]);
}

static int test_index_rows(void) {
  batch bt;
  ASSERT(batch_load(&bt));
  char *html = NULL;
  size_t n = 0;
  vm_err err;
  ASSERT_OK(vm_report_index_render(bt.summary, (const json_t *const *)bt.res, 5, &html, &n, &err));
  ASSERT_EQ(strlen(html), n);
  const char *bad = markup_check(html, 1);
  if (bad) fprintf(stderr, "%s\n", bad);
  ASSERT_NULL(bad);
  ASSERT_EQ(count_of(html, "<script>"), 1);
  ASSERT_STR_CONTAINS(html, "id=\"files-table\"");
  ASSERT_EQ(count_of(html, "<tr class=\"row-failed\">"), 2);
  ASSERT_EQ(count_of(html, "</tr>\n"), 5);
  /* links to each report, relative to OUT and percent-encoded */
  ASSERT_STR_CONTAINS(html, "<a href=\"full_ko.html\"><b>통화_2026-11-20.m4a</b></a>");
  ASSERT_STR_CONTAINS(html, "<a href=\"hostile.html\">");
  /* risk, score, duration, top findings (largest weight x confidence first) */
  ASSERT_STR_CONTAINS(html, "<td data-sort=\"3\"><span class=\"risk-badge risk-high\">높음</span>");
  ASSERT_STR_CONTAINS(html, "data-sort=\"72.400\">72.4</td>");
  ASSERT_STR_CONTAINS(html, "1분 4초");
  const char *top = strstr(html, "직접적협박"), *second = strstr(html, "조건부협박");
  ASSERT(top && second && top < second);
  ASSERT_STR_CONTAINS(html, "외 5건");
  ASSERT_STR_CONTAINS(html, "건너뜀 (변경 없음)");
  ASSERT_STR_CONTAINS(html, "<span class=\"na\">분석 없음</span>");
  /* failures with their reasons, escaped */
  ASSERT_STR_CONTAINS(html, "corrupt or truncated audio: moov atom not found");
  ASSERT_STR_CONTAINS(html, "VM_EDECODE");
  ASSERT_STR_CONTAINS(html, "cannot read: &lt;script&gt;alert(10)&lt;/script&gt; &amp; &quot;quoted&quot;");
  ASSERT_STR_CONTAINS(html, "/evidence/calls/&lt;b&gt;evil&lt;/b&gt;.mp3");
  ASSERT_STR_CONTAINS(html, "/evidence/notes.txt &lt;script&gt;"); /* rejected input */
  ASSERT_STR_CONTAINS(html, "전체 5 · 완료 2 · 건너뜀 1 · 실패 2 · 거부 1");
  vm_free(html);
  batch_free(&bt);
  return 0;
}

/* The index from slim copies is the index from the whole results. */
static int test_index_slim(void) {
  batch bt;
  ASSERT(batch_load(&bt));
  json_t *slim[5] = {NULL};
  for (int i = 0; i < 5; i++) {
    slim[i] = vm_report_index_slim(bt.res[i]);
    ASSERT_EQ(slim[i] != NULL, bt.res[i] != NULL);
  }
  ASSERT_NULL(json_object_get(slim[0], "contours"));
  ASSERT_NULL(json_object_get(slim[0], "transcript"));
  char *full = NULL, *small = NULL;
  size_t n1 = 0, n2 = 0;
  vm_err err;
  ASSERT_OK(vm_report_index_render(bt.summary, (const json_t *const *)bt.res, 5, &full, &n1, &err));
  ASSERT_OK(vm_report_index_render(bt.summary, (const json_t *const *)slim, 5, &small, &n2, &err));
  ASSERT_EQ(n1, n2);
  ASSERT(memcmp(full, small, n1) == 0);
  char *dump = json_dumps(slim[0], JSON_COMPACT);
  ASSERT_LT(strlen(dump), 8000); /* the full result is ~150 kB */
  free(dump);
  vm_free(full);
  vm_free(small);
  for (int i = 0; i < 5; i++) json_decref(slim[i]);
  batch_free(&bt);
  return 0;
}

/* The CSP names the sorting script by its SHA-256, so the browser runs it
 * and nothing else. */
static int test_index_csp_hash(void) {
  batch bt;
  ASSERT(batch_load(&bt));
  char *html = NULL;
  vm_err err;
  ASSERT_OK(vm_report_index_render(bt.summary, (const json_t *const *)bt.res, 5, &html, NULL, &err));
  const char *s0 = strstr(html, "<script>"), *s1 = s0 ? strstr(s0, "</script>") : NULL;
  ASSERT(s0 && s1);
  s0 += 8;
  uint8_t d[VM_SHA256_LEN];
  vm_sha256_buf(s0, (size_t)(s1 - s0), d);
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char b64[96] = "script-src 'sha256-";
  size_t o = strlen(b64);
  for (size_t i = 0; i < VM_SHA256_LEN; i += 3) {
    unsigned v = (unsigned)d[i] << 16 | (i + 1 < VM_SHA256_LEN ? (unsigned)d[i + 1] << 8 : 0) |
                 (i + 2 < VM_SHA256_LEN ? d[i + 2] : 0);
    b64[o++] = tab[v >> 18 & 63];
    b64[o++] = tab[v >> 12 & 63];
    b64[o++] = i + 1 < VM_SHA256_LEN ? tab[v >> 6 & 63] : '=';
    b64[o++] = i + 2 < VM_SHA256_LEN ? tab[v & 63] : '=';
  }
  b64[o++] = '\'';
  b64[o] = '\0';
  ASSERT_STR_CONTAINS(html, b64);
  vm_free(html);
  batch_free(&bt);
  return 0;
}

static int test_index_bad_input(void) {
  batch bt;
  ASSERT(batch_load(&bt));
  char *html = (char *)1;
  vm_err err = {0};
  ASSERT_EQ(vm_report_index_render(bt.summary, (const json_t *const *)bt.res, 4, &html, NULL, &err),
            VM_EINVAL);
  ASSERT_NULL(html);
  ASSERT_STR_CONTAINS(err.msg, "4 results given for 5 summary files");
  ASSERT_EQ(vm_report_index_render(bt.res[3], NULL, 0, &html, NULL, &err), VM_EINVAL);
  json_t *odd = json_pack("{si}", "files", 3);
  ASSERT_EQ(vm_report_index_render(odd, NULL, 0, &html, NULL, &err), VM_EINVAL);
  json_decref(odd);
  /* an empty run still gives a page */
  json_t *empty = json_pack("{s[]}", "files");
  ASSERT_OK(vm_report_index_render(empty, NULL, 0, &html, NULL, &err));
  ASSERT_STR_CONTAINS(html, "<td colspan=\"8\" class=\"na\">없음</td>");
  vm_free(html);
  json_decref(empty);
  batch_free(&bt);
  return 0;
}

/* ---- PDF ------------------------------------------------------------------ */

static int have_chromium(void) {
  const char *path = getenv("PATH");
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path ? path : "");
  for (char *save = NULL, *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    char exe[4200];
    snprintf(exe, sizeof exe, "%s/chromium", d);
    if (access(exe, X_OK) == 0) return 1;
    snprintf(exe, sizeof exe, "%s/chromium-browser", d);
    if (access(exe, X_OK) == 0) return 1;
  }
  return 0;
}

static int test_pdf_no_browser(void) {
  char *old = getenv("PATH") ? vm_strdup(getenv("PATH")) : NULL;
  char *old_vm = getenv("VM_CHROMIUM") ? vm_strdup(getenv("VM_CHROMIUM")) : NULL;
  setenv("PATH", "/nonexistent-voiceman", 1);
  unsetenv("VM_CHROMIUM");
  vm_err err = {0};
  int rc = vm_report_pdf_print("/tmp/x.html", "/tmp/x.pdf", &err);
  if (old) setenv("PATH", old, 1);
  if (old_vm) setenv("VM_CHROMIUM", old_vm, 1);
  ASSERT_EQ(rc, VM_ENOENT);
  ASSERT_STR_CONTAINS(err.msg, "Chromium not found");
  setenv("PATH", "/nonexistent-voiceman", 1);
  rc = vm_report_pdf_available(&err);
  if (old) setenv("PATH", old, 1);
  ASSERT_EQ(rc, VM_ENOENT);
  ASSERT_STR_CONTAINS(err.msg, "Chromium not found");
  ASSERT_EQ(vm_report_pdf_print(NULL, "/tmp/x.pdf", &err), VM_EINVAL);
  vm_free(old);
  vm_free(old_vm);
  return 0;
}

/* A "browser" that fails, or succeeds without printing: clear VM_EIO and
 * no output file. */
static int test_pdf_browser_fails(void) {
  char dir[] = "/tmp/vm-report-pdf.XXXXXX";
  ASSERT_NOT_NULL(mkdtemp(dir));
  char html_path[128], pdf_path[128];
  snprintf(html_path, sizeof html_path, "%s/a.html", dir);
  snprintf(pdf_path, sizeof pdf_path, "%s/a.pdf", dir);
  vm_err err = {0};
  ASSERT_OK(vm_fs_write_atomic(html_path, "<p>x</p>", 8, &err));
  char *old_vm = getenv("VM_CHROMIUM") ? vm_strdup(getenv("VM_CHROMIUM")) : NULL;
  setenv("VM_CHROMIUM", "/bin/false", 1);
  int rc1 = vm_report_pdf_print(html_path, pdf_path, &err);
  char msg1[VM_ERR_MSG_MAX];
  snprintf(msg1, sizeof msg1, "%s", err.msg);
  setenv("VM_CHROMIUM", "/bin/true", 1);
  int rc2 = vm_report_pdf_print(html_path, pdf_path, &err);
  if (old_vm) setenv("VM_CHROMIUM", old_vm, 1);
  else unsetenv("VM_CHROMIUM");
  vm_free(old_vm);
  ASSERT_EQ(rc1, VM_EIO);
  ASSERT_STR_CONTAINS(msg1, "/bin/false failed (exit status 1)");
  ASSERT_EQ(rc2, VM_EIO);
  ASSERT_STR_CONTAINS(err.msg, "the browser produced no PDF");
  ASSERT(!vm_fs_exists(pdf_path));
  unlink(html_path);
  ASSERT_OK(rmdir(dir));
  return 0;
}

static int test_pdf_print(void) {
  if (!have_chromium()) TEST_SKIP("chromium is not installed");
  vm_err aerr;
  ASSERT_OK(vm_report_pdf_available(&aerr));
  char dir[] = "/tmp/vm-report-pdf.XXXXXX";
  ASSERT_NOT_NULL(mkdtemp(dir));
  char html_path[128], pdf_path[128], missing[128];
  snprintf(html_path, sizeof html_path, "%s/리포트 <1>.html", dir);
  snprintf(pdf_path, sizeof pdf_path, "%s/out.pdf", dir);
  snprintf(missing, sizeof missing, "%s/none.html", dir);
  json_t *r = load_fixture("full_ko.json");
  size_t n = 0;
  char *html = render(r, &n);
  vm_err err = {0};
  ASSERT_OK(vm_fs_write_atomic(html_path, html, n, &err));
  ASSERT_EQ(vm_report_pdf_print(missing, pdf_path, &err), VM_ENOENT);
  ASSERT_STR_CONTAINS(err.msg, "none.html");
  int rc = vm_report_pdf_print(html_path, pdf_path, &err);
  if (rc != VM_OK) fprintf(stderr, "pdf: %s\n", vm_err_text(&err));
  ASSERT_OK(rc);
  char *pdf = NULL;
  size_t pn = 0;
  ASSERT_OK(vm_fs_read_all(pdf_path, 64u << 20, &pdf, &pn, &err));
  ASSERT_GT(pn, 10000);
  ASSERT(memcmp(pdf, "%PDF", 4) == 0);
  vm_free(pdf);
  vm_free(html);
  json_decref(r);
  unlink(pdf_path);
  unlink(html_path);
  ASSERT_OK(rmdir(dir)); /* nothing left behind */
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_index_rows), TEST_ENTRY(test_index_slim), TEST_ENTRY(test_index_csp_hash),
          TEST_ENTRY(test_index_bad_input), TEST_ENTRY(test_pdf_no_browser),
          TEST_ENTRY(test_pdf_browser_fails),
          TEST_ENTRY(test_pdf_print))
