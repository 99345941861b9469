/* report_html.h — the human-readable evidence reports: one self-contained
 * HTML page per recording, OUT/index.html for the batch, and PDF copies.
 *
 * The pages are rendered FROM the per-file result JSON (schema
 * voiceman.result/1, docs/result-schema.md) and OUT/summary.json; they
 * compute nothing that is not in those files, so a report can always be
 * re-rendered from the evidence record and says the same thing. Layout,
 * sections and Korean labels: docs/report.md.
 *
 * What the pages guarantee:
 *  - Self-contained: inline CSS and inline SVG only; no external script,
 *    font, image or style, and a Content-Security-Policy that forbids any
 *    network load. The per-file page carries no script at all; the index
 *    has one small inline sorting script, allowed by its hash only.
 *  - Every text taken from the JSON or the context (transcript, names,
 *    speakers, patterns, file names) is HTML-escaped by one function;
 *    links are percent-encoded as well.
 *  - A missing or null key is shown as "없음" (not available), never a
 *    crash; unknown extra keys are ignored or listed generically.
 *  - Output is deterministic: the same JSON and context give the same bytes.
 *
 * Usage:
 *   vm_report_ctx ctx = {0};
 *   ctx.program_version = "0.2.0";
 *   ctx.output_sha256 = j->output_sha;   // {"json": "<hex>", "srt": ...}
 *   ctx.links = j->outputs;              // {"json": "files/a/b.m4a.json", ...}
 *   char *html = NULL; size_t n = 0; vm_err err;
 *   if (vm_report_html_render(result, &ctx, &html, &n, &err) == VM_OK) {
 *     vm_fs_write_atomic("OUT/files/a/b.m4a.html", html, n, &err);
 *     vm_free(html);
 *   }
 *   vm_report_pdf_print("OUT/files/a/b.m4a.html", "OUT/files/a/b.m4a.pdf", &err);
 *
 * Thread-safety: the render functions are pure (they read only their
 * arguments) and may run on any thread concurrently. vm_report_pdf_print
 * starts a browser process; it may run concurrently with itself (each call
 * uses its own browser profile folder).
 */
#ifndef VM_REPORT_HTML_H
#define VM_REPORT_HTML_H

#include <jansson.h>
#include <stddef.h>

#include "vm_status.h"

/* What is known when the report is written, beside the result JSON.
 * Every member may be NULL. All borrowed for the duration of the call. */
typedef struct vm_report_ctx {
  /* voiceman version writing the report; NULL: the result's
   * "voiceman_version" */
  const char *program_version;
  /* JSON object kind -> lower-case hex SHA-256 of each output written
   * before the report ("json", "txt", "srt", "vtt", ...). A report cannot
   * carry its own hash: the audit log records it. */
  const json_t *output_sha256;
  /* JSON object kind -> path of the same outputs. They lie next to the
   * report, so only the last path component is used as the link, e.g.
   * "files/a/b.m4a.json" -> href "b.m4a.json". */
  const json_t *links;
  /* ISO-8601 time the report was written, shown in the footer; NULL
   * leaves it out (the page then depends on the JSON alone). */
  const char *generated_at;
} vm_report_ctx;

/* Renders the per-file report of one result JSON (an object; ctx may be
 * NULL). OUT: *out_html, a NUL-terminated UTF-8 page owned by the caller
 * (vm_free); *out_len its length without the NUL (out_len may be NULL).
 * On failure *out_html is NULL. Returns VM_OK; VM_EINVAL when result is
 * not a JSON object or its "schema" is present and not voiceman.result/1;
 * VM_ENOMEM. */
int vm_report_html_render(const json_t *result, const vm_report_ctx *ctx,
                          char **out_html, size_t *out_len, vm_err *err);

/* Renders OUT/index.html from summary (OUT/summary.json) and, for each
 * entry of summary.files in order, results[i]: that file's result JSON or
 * NULL (failed, or not readable). n must equal the number of entries
 * (results may be NULL when n == 0). Links point at each entry's
 * outputs.html if present, else outputs.json, relative to OUT.
 * OUT: as vm_report_html_render. Returns VM_OK, VM_EINVAL (summary not an
 * object, files not an array, n differs from its size) or VM_ENOMEM. */
int vm_report_index_render(const json_t *summary, const json_t *const *results,
                           size_t n, char **out_html, size_t *out_len,
                           vm_err *err);

/* The part of a result JSON that the index shows (duration, speakers,
 * risk, score, the language matches), as a new object; the index renders
 * the same from it as from the whole result, so a run can keep one small
 * object per file instead of every result (a 1 h file's contours alone
 * are ~700 000 numbers). NULL for a NULL result or out of memory. */
json_t *vm_report_index_slim(const json_t *result);

/* VM_OK when vm_report_pdf_print would find a browser, else VM_ENOENT with
 * the same message (for refusing --pdf before any work is done). */
int vm_report_pdf_available(vm_err *err);

/* Prints html_path to pdf_path (A4, backgrounds) with headless Chromium,
 * found on PATH as "chromium" or "chromium-browser" (or $VM_CHROMIUM when
 * set). The PDF is written atomically (temporary name, fsync, rename) and
 * only if the browser produced a file that starts with "%PDF".
 * Blocks until done, at most 120 s. Returns VM_OK; VM_ENOENT when no
 * browser is installed or html_path does not exist (err says which);
 * VM_EIO when the browser fails or times out (err has the end of its
 * error output); VM_ENOMEM; errno-based codes for the output. */
int vm_report_pdf_print(const char *html_path, const char *pdf_path, vm_err *err);

#endif /* VM_REPORT_HTML_H */
