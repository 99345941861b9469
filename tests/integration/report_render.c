/* report_render.c — renders result JSONs to HTML reports without a run,
 * for the browser test (test_report_browser.py) and for looking at a
 * report by hand.
 *
 *   report_render [--pdf] -o OUTDIR [--summary SUMMARY.json] RESULT.json...
 *
 * Writes OUTDIR/<name>.html for each RESULT <name>.json (ctx: links and
 * SHA-256 of the JSON itself), OUTDIR/<name>.pdf with --pdf, and with
 * --summary OUTDIR/index.html, where summary file i gets the RESULT whose
 * input.path equals files[i].input (NULL when none). Exit 0, or 2 with
 * the error on stderr.
 *
 * Build: cmake --build build --target vm_report_render
 */
#include <stdio.h>
#include <string.h>

#include "report_html.h"
#include "vm_alloc.h"
#include "vm_fs.h"
#include "vm_sha256.h"

#define MAX_RESULTS 64

static int fail(const char *what, const vm_err *err) {
  fprintf(stderr, "report_render: %s: %s\n", what, vm_err_text(err));
  return 2;
}

/* OUTDIR/<base of json without .json>.<ext> */
static char *out_name(const char *outdir, const char *json_path, const char *ext) {
  const char *base = strrchr(json_path, '/');
  base = base ? base + 1 : json_path;
  size_t n = strlen(base);
  if (n > 5 && !strcmp(base + n - 5, ".json")) n -= 5;
  return vm_asprintf("%s/%.*s.%s", outdir, (int)n, base, ext);
}

static int render_one(const char *outdir, const char *path, json_t *res, int pdf) {
  vm_err err = {0};
  char sha[VM_SHA256_HEX_LEN + 1], *html = NULL;
  uint8_t d[VM_SHA256_LEN];
  size_t n = 0;
  if (vm_sha256_file(path, d, NULL, &err) != VM_OK) return fail(path, &err);
  vm_sha256_hex(d, sha);
  const char *base = strrchr(path, '/');
  json_t *links = json_pack("{ss}", "json", base ? base + 1 : path);
  json_t *shas = json_pack("{ss}", "json", sha);
  vm_report_ctx ctx = {"test", shas, links, NULL};
  int rc = vm_report_html_render(res, &ctx, &html, &n, &err);
  json_decref(links);
  json_decref(shas);
  if (rc != VM_OK) return fail(path, &err);
  char *hp = out_name(outdir, path, "html"), *pp = out_name(outdir, path, "pdf");
  rc = vm_fs_write_atomic(hp, html, n, &err);
  if (rc == VM_OK && pdf) rc = vm_report_pdf_print(hp, pp, &err);
  if (rc != VM_OK) rc = fail(hp, &err);
  vm_free(html);
  vm_free(hp);
  vm_free(pp);
  return rc;
}

static int render_index(const char *outdir, const char *summary_path, json_t *const *res,
                        size_t n_res) {
  vm_err err = {0};
  json_error_t je;
  json_t *s = json_load_file(summary_path, 0, &je);
  if (!s) {
    fprintf(stderr, "report_render: %s: %s\n", summary_path, je.text);
    return 2;
  }
  const json_t *files = json_object_get(s, "files"), *f;
  size_t n = json_array_size(files), i;
  const json_t **per = vm_calloc(n ? n : 1, sizeof *per);
  json_array_foreach(files, i, f) {
    const char *in = json_string_value(json_object_get(f, "input"));
    for (size_t k = 0; in && k < n_res; k++) {
      const char *p = json_string_value(json_object_get(json_object_get(res[k], "input"), "path"));
      if (p && !strcmp(p, in)) per[i] = res[k];
    }
  }
  char *html = NULL, *path = vm_asprintf("%s/index.html", outdir);
  size_t len = 0;
  int rc = vm_report_index_render(s, per, n, &html, &len, &err);
  if (rc == VM_OK) rc = vm_fs_write_atomic(path, html, len, &err);
  if (rc != VM_OK) rc = fail("index", &err);
  vm_free(html);
  vm_free(path);
  vm_free(per);
  json_decref(s);
  return rc;
}

int main(int argc, char **argv) {
  const char *outdir = NULL, *summary = NULL, *paths[MAX_RESULTS];
  json_t *res[MAX_RESULTS];
  size_t n = 0;
  int pdf = 0, rc = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--pdf")) pdf = 1;
    else if (!strcmp(argv[i], "-o") && i + 1 < argc) outdir = argv[++i];
    else if (!strcmp(argv[i], "--summary") && i + 1 < argc) summary = argv[++i];
    else if (n < MAX_RESULTS) paths[n++] = argv[i];
  }
  if (!outdir) {
    fprintf(stderr, "usage: report_render [--pdf] -o OUTDIR [--summary S.json] RESULT.json...\n");
    return 2;
  }
  for (size_t i = 0; i < n; i++) {
    json_error_t je;
    res[i] = json_load_file(paths[i], 0, &je);
    if (!res[i]) {
      fprintf(stderr, "report_render: %s: %s\n", paths[i], je.text);
      n = i;
      rc = 2;
      break;
    }
  }
  for (size_t i = 0; i < n && rc == 0; i++) rc = render_one(outdir, paths[i], res[i], pdf);
  if (rc == 0 && summary) rc = render_index(outdir, summary, res, n);
  for (size_t i = 0; i < n; i++) json_decref(res[i]);
  return rc;
}
