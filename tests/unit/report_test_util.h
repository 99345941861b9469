/* report_test_util.h — helpers shared by the report unit tests
 * (test_report_html*.c): loading the sample results of
 * tests/fixtures/report/, rendering, and checks on the rendered page. */
#ifndef VM_REPORT_TEST_UTIL_H
#define VM_REPORT_TEST_UTIL_H

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "report_html.h"
#include "vm_alloc.h"

#define REPORT_FIXTURES VM_SOURCE_DIR "/tests/fixtures/report/"

static inline json_t *load_fixture(const char *name) {
  char path[512];
  json_error_t je;
  snprintf(path, sizeof path, "%s%s", REPORT_FIXTURES, name);
  json_t *j = json_load_file(path, 0, &je);
  if (!j) fprintf(stderr, "%s: %s (line %d)\n", path, je.text, je.line);
  return j;
}

/* Renders with a context like the pipeline's; returns the page or NULL. */
__attribute__((noinline)) static char *render(const json_t *res, size_t *out_len) {
  json_t *sha = json_pack("{ssss}", "json", "1111111111111111111111111111111111111111111111111111111111111111",
                          "srt", "2222222222222222222222222222222222222222222222222222222222222222");
  json_t *links = json_pack("{ssss}", "json", "files/calls/a.m4a.json", "srt", "files/calls/a.m4a.srt");
  vm_report_ctx ctx = {"9.9.9-test", sha, links, NULL};
  char *html = NULL;
  vm_err err = {0};
  int rc = vm_report_html_render(res, &ctx, &html, out_len, &err);
  if (rc != VM_OK) fprintf(stderr, "render: %s\n", vm_err_text(&err));
  json_decref(sha);
  json_decref(links);
  return html;
}

static inline size_t count_of(const char *hay, const char *needle) {
  size_t n = 0, l = strlen(needle);
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += l) n++;
  return n;
}

/* Checks the markup of a page: every '<' opens one of the allowed tags
 * (text never holds a raw '<' once escaped), no tag has an on* event
 * attribute or a javascript: URL, and <script> appears at most
 * max_scripts times. Returns NULL when fine, else a static message. */
static inline const char *markup_check(const char *html, int max_scripts) {
  static char msg[256];
  static const char *const allowed[] = {
      "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "main", "header", "nav",
      "section", "h1", "h2", "h3", "table", "thead", "tbody", "tr", "th", "td", "p", "span",
      "div", "a", "ul", "li", "b", "i", "br", "figure", "figcaption", "svg", "g", "rect",
      "line", "text", "polyline", "circle", "footer", "script", NULL};
  int scripts = 0;
  for (const char *p = strchr(html, '<'); p; p = strchr(p, '<')) {
    const char *q = p + 1;
    if (*q == '/') q++;
    char name[16] = {0};
    size_t k = 0;
    while ((isalnum((unsigned char)*q) || *q == '!') && k < sizeof name - 1) name[k++] = *q++;
    int ok = 0;
    for (const char *const *a = allowed; *a && !ok; a++) ok = strcmp(*a, name) == 0;
    if (!ok) {
      snprintf(msg, sizeof msg, "unexpected tag <%s> at: %.60s", name, p);
      return msg;
    }
    const char *end = strchr(p, '>');
    if (!end) return "unterminated tag";
    for (const char *a = p; a < end; a++) {
      if (isspace((unsigned char)a[0]) && tolower((unsigned char)a[1]) == 'o' &&
          tolower((unsigned char)a[2]) == 'n' && isalpha((unsigned char)a[3])) {
        snprintf(msg, sizeof msg, "event attribute in: %.*s", (int)(end - p), p);
        return msg;
      }
      if (strncmp(a, "javascript:", 11) == 0) return "javascript: URL in a tag";
    }
    if (!strcmp(name, "script") && p[1] != '/') scripts++;
    /* Skip the contents of <style> and <script>: they are ours, constant. */
    if ((!strcmp(name, "style") || !strcmp(name, "script")) && p[1] != '/') {
      const char *close = strstr(end, !strcmp(name, "style") ? "</style>" : "</script>");
      if (!close) return "unclosed style/script";
      p = close;
      continue;
    }
    p = end;
  }
  if (scripts > max_scripts) {
    snprintf(msg, sizeof msg, "%d <script> elements (at most %d allowed)", scripts, max_scripts);
    return msg;
  }
  return NULL;
}

/* Every href="#seg-N" has an element with id="seg-N". */
static inline const char *anchors_check(const char *html) {
  static char msg[128];
  for (const char *p = strstr(html, "href=\"#seg-"); p; p = strstr(p + 1, "href=\"#seg-")) {
    long n = strtol(p + 11, NULL, 10);
    char id[48];
    snprintf(id, sizeof id, "id=\"seg-%ld\"", n);
    if (!strstr(html, id)) {
      snprintf(msg, sizeof msg, "link to #seg-%ld has no target", n);
      return msg;
    }
  }
  return NULL;
}

#endif /* VM_REPORT_TEST_UTIL_H */
