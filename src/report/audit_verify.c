/* audit_verify.c — re-checks an output folder against its audit.jsonl.
 *
 * Reads the log; never writes anything. Independent of any open vm_audit.
 *
 * DESIGN
 * Pass 1 streams the log line by line (getline; memory is one line plus
 * two maps). For each line it checks: the line is a JSON object with an
 * integer seq, string time and event, and a 64-hex prev; prev equals the
 * SHA-256 of the previous line's bytes (64 '0' for line 1); seq is the
 * previous valid line's seq + 1 (the first is 1). After a wrong seq the
 * count resynchronises, so one removed line gives one seq finding; the
 * line after a bad (unrepaired) line may have any seq, since the bad line
 * may have used one.
 * An unparseable line is held back one line: it is accepted as a torn
 * write (a finding, not a chain error) only when the very next line is a
 * log_repaired event whose prev hashes it and whose torn_bytes is its
 * length, which is what vm_audit_open writes. An unterminated last line
 * that does not parse is a torn write not yet repaired: a finding only.
 * The latest output_written per path and input_hashed per input are kept
 * in two jansson objects used as maps.
 *
 * Pass 2 re-hashes those files. Output paths come from a possibly hostile
 * log, so before anything is opened a path must be relative, non-empty and
 * free of "." / ".." components; the resolved path (realpath) must still
 * lie under the resolved out_dir (so a symbolic link cannot lead out) and
 * be a regular file (so a FIFO cannot block us). Inputs are absolute by
 * design; they must be absolute and regular files too.
 *
 * Counting: problems with the log itself (bad lines, broken links, wrong
 * seq, events missing their fields, unsafe output paths) go to
 * n_chain_errors. Unreadable outputs/inputs count as missing; links out of
 * out_dir and non-regular files count as changed.
 */
#include "audit.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "vm_alloc.h" /* vm_free */
#include "vm_fs.h"    /* vm_path_join */
#include "vm_sha256.h"

#define MSG_MAX 2048

typedef struct verify_ctx {
  vm_audit_report_fn report; /* may be NULL */
  void *user;
  vm_audit_verify_stats *st;
  json_t *outputs; /* path  -> {"sha256":s, "line":n}, latest wins */
  json_t *inputs;  /* input -> {"sha256":s, "line":n}, latest wins */
  char prev_hex[VM_SHA256_HEX_LEN + 1]; /* hash of the previous line */
  int64_t next_seq;                     /* seq the next valid line must have */
  int seq_free; /* 1: the next valid line follows a bad line, any seq goes */
  int64_t bad_line;                     /* held-back unparseable line, 0: none */
  size_t bad_len;                       /* its length in bytes */
  char bad_why[256];                    /* why it did not parse */
} verify_ctx;

static void finding(verify_ctx *c, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void finding(verify_ctx *c, int ok, const char *fmt, ...) {
  char msg[MSG_MAX];
  va_list ap;
  if (!c->report) return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  c->report(c->user, ok, msg);
}

static int hex64_is(const char *s) {
  if (strlen(s) != VM_SHA256_HEX_LEN) return 0;
  for (const char *p = s; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
  return 1;
}

/* A new reference to the event in line, or NULL with the reason in why. */
static json_t *event_parse(const char *line, size_t n, char *why,
                           size_t why_n) {
  json_error_t je;
  json_t *j = json_loadb(line, n, JSON_REJECT_DUPLICATES, &je);
  const char *bad = NULL;
  if (!j) {
    snprintf(why, why_n, "not JSON (%.160s at byte %d)", je.text, je.position);
    return NULL;
  }
  json_t *prev = json_object_get(j, "prev");
  if (!json_is_object(j)) bad = "not a JSON object";
  else if (!json_is_integer(json_object_get(j, "seq"))) bad = "no integer seq";
  else if (!json_is_string(json_object_get(j, "time"))) bad = "no time";
  else if (!json_is_string(json_object_get(j, "event"))) bad = "no event name";
  else if (!json_is_string(prev) || !hex64_is(json_string_value(prev)))
    bad = "no 64-digit hex prev";
  if (bad) {
    snprintf(why, why_n, "%s", bad);
    json_decref(j);
    return NULL;
  }
  return j;
}

/* Remembers {sha256, line} under key in map (latest wins). */
static int map_put(json_t *map, const char *key, const char *sha,
                   int64_t line_no) {
  json_t *rec = json_pack("{s:s,s:I}", "sha256", sha, "line",
                          (json_int_t)line_no);
  return rec ? json_object_set_new(map, key, rec) : -1;
}

/* Records output_written / input_hashed events. */
static int event_collect(verify_ctx *c, int64_t line_no, const json_t *ev) {
  const char *name = json_string_value(json_object_get(ev, "event"));
  int is_out = strcmp(name, "output_written") == 0;
  if (!is_out && strcmp(name, "input_hashed") != 0) return VM_OK;
  const char *key = json_string_value(
      json_object_get(ev, is_out ? "path" : "input"));
  const char *sha = json_string_value(json_object_get(ev, "sha256"));
  if (!key || !sha) {
    c->st->n_chain_errors++;
    finding(c, 0, "line %" PRId64 ": %s event without %s and sha256", line_no,
            name, is_out ? "path" : "input");
    return VM_OK;
  }
  if (map_put(is_out ? c->outputs : c->inputs, key, sha, line_no) != 0)
    return VM_ENOMEM;
  return VM_OK;
}

/* Decides the held-back unparseable line, given the line after it (ev,
 * NULL when unparseable or at the end of the log). */
static void bad_line_settle(verify_ctx *c, const json_t *ev) {
  if (!c->bad_line) return;
  const char *name = ev ? json_string_value(json_object_get(ev, "event")) : "";
  const char *prev = ev ? json_string_value(json_object_get(ev, "prev")) : "";
  json_t *torn = ev ? json_object_get(ev, "torn_bytes") : NULL;
  if (strcmp(name, "log_repaired") == 0 && strcmp(prev, c->prev_hex) == 0 &&
      json_is_integer(torn) &&
      json_integer_value(torn) == (json_int_t)c->bad_len) {
    finding(c, 0,
            "line %" PRId64 ": a torn line of %zu bytes (a write cut off by "
            "a crash), repaired by line %" PRId64,
            c->bad_line, c->bad_len, c->bad_line + 1);
  } else {
    c->st->n_chain_errors++;
    c->seq_free = 1; /* the bad line may have used a seq: do not count twice */
    finding(c, 0, "line %" PRId64 ": not a valid event: %s", c->bad_line,
            c->bad_why);
  }
  c->bad_line = 0;
}

/* Checks one line (n bytes, '\n' stripped; terminated = it had one). */
static int line_check(verify_ctx *c, int64_t line_no, const char *line,
                      size_t n, int terminated) {
  int rc = VM_OK;
  char why[sizeof c->bad_why];
  json_t *ev = event_parse(line, n, why, sizeof why);
  bad_line_settle(c, ev);
  if (!ev) {
    if (terminated) {
      c->bad_line = line_no;
      c->bad_len = n;
      snprintf(c->bad_why, sizeof c->bad_why, "%s", why);
    } else {
      finding(c, 0,
              "line %" PRId64 ": the last line is incomplete (%zu bytes, no "
              "newline): a write was cut off; opening the log repairs it",
              line_no, n);
    }
    goto out;
  }
  int64_t seq = (int64_t)json_integer_value(json_object_get(ev, "seq"));
  const char *prev = json_string_value(json_object_get(ev, "prev"));
  if (strcmp(prev, c->prev_hex) != 0) {
    c->st->n_chain_errors++;
    if (line_no == 1)
      finding(c, 0, "line 1: prev is not zero (the start of the log is "
                    "missing)");
    else
      finding(c, 0,
              "line %" PRId64 ": prev does not match line %" PRId64
              " (the log was edited or lines were removed)",
              line_no, line_no - 1);
  }
  if (seq != c->next_seq && !c->seq_free) {
    c->st->n_chain_errors++;
    finding(c, 0,
            "line %" PRId64 ": seq is %" PRId64 ", expected %" PRId64
            " (lines were removed, added or reordered)",
            line_no, seq, c->next_seq);
  }
  c->next_seq = seq < INT64_MAX ? seq + 1 : INT64_MAX;
  c->seq_free = 0;
  if (!terminated)
    finding(c, 0, "line %" PRId64 ": the last line has no newline (a write "
                  "was cut off); opening the log repairs it", line_no);
  rc = event_collect(c, line_no, ev);
out:
  vm_sha256_buf_hex(line, n, c->prev_hex);
  json_decref(ev);
  return rc;
}

/* Pass 1 over the open log. */
static int chain_check(verify_ctx *c, FILE *f, vm_err *err) {
  int rc = VM_OK;
  char *buf = NULL; /* getline's buffer: malloc'd by libc, freed with free */
  size_t cap = 0;
  int64_t line_no = 0;
  for (;;) {
    errno = 0;
    ssize_t n = getline(&buf, &cap, f);
    if (n < 0) {
      if (ferror(f) || errno == ENOMEM) {
        int e = errno ? errno : EIO;
        rc = vm_err_set(err, vm_status_from_errno(e),
                        "cannot read the audit log after line %" PRId64 ": %s",
                        line_no, strerror(e));
        goto out;
      }
      break;
    }
    size_t len = (size_t)n;
    int terminated = len > 0 && buf[len - 1] == '\n';
    line_no++;
    c->st->n_lines = line_no;
    rc = line_check(c, line_no, buf, terminated ? len - 1 : len, terminated);
    if (rc < 0) {
      rc = vm_err_set(err, rc, "out of memory verifying the audit log");
      goto out;
    }
  }
  bad_line_settle(c, NULL);
  if (c->st->n_chain_errors == 0)
    finding(c, 1, "chain of %" PRId64 " lines intact", line_no);
out:
  free(buf);
  return rc;
}

/* 1 when rel is a non-empty relative path without "", "." or ".."
 * components, i.e. one that names something under its base folder. */
static int rel_path_is_safe(const char *rel) {
  if (!*rel || *rel == '/') return 0;
  for (const char *p = rel;;) {
    const char *e = strchr(p, '/');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n == 0 || (n == 1 && p[0] == '.') ||
        (n == 2 && p[0] == '.' && p[1] == '.'))
      return 0;
    if (!e) return 1;
    p = e + 1;
  }
}

/* Re-hashes one file and reports. kind is "output" or "input"; shown is the
 * name from the log; path the file to open (already checked). base_real,
 * when not NULL, is the folder the resolved path must stay under. */
static void file_check(verify_ctx *c, const char *kind, const char *shown,
                       const char *path, const char *base_real,
                       const char *logged, int64_t *n_ok, int64_t *n_changed,
                       int64_t *n_missing) {
  char real[PATH_MAX], hex[VM_SHA256_HEX_LEN + 1];
  uint8_t digest[VM_SHA256_LEN];
  struct stat st;
  vm_err e;
  vm_err_clear(&e);
  if (!realpath(path, real)) {
    (*n_missing)++;
    finding(c, 0, "%s %s missing: %s", kind, shown, strerror(errno));
    return;
  }
  size_t bn = base_real ? strlen(base_real) : 0;
  if (base_real && (strncmp(real, base_real, bn) != 0 || real[bn] != '/')) {
    (*n_changed)++;
    finding(c, 0, "%s %s changed: it is now a link that leads outside the "
                  "output folder (not read)", kind, shown);
    return;
  }
  if (stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
    (*n_changed)++;
    finding(c, 0, "%s %s changed: it is no longer a regular file (not read)",
            kind, shown);
    return;
  }
  if (vm_sha256_file(real, digest, NULL, &e) < 0) {
    (*n_missing)++;
    finding(c, 0, "%s %s missing: cannot be read: %s", kind, shown,
            vm_err_text(&e));
    return;
  }
  vm_sha256_hex(digest, hex);
  if (strcasecmp(hex, logged) == 0) {
    (*n_ok)++;
    finding(c, 1, "%s %s ok", kind, shown);
  } else {
    (*n_changed)++;
    finding(c, 0, "%s %s changed: SHA-256 is %s but the log recorded %s",
            kind, shown, hex, logged);
  }
}

/* Pass 2: every output (and input when check_inputs). */
static int files_check(verify_ctx *c, const char *out_dir, int check_inputs,
                       vm_err *err) {
  vm_audit_verify_stats *s = c->st;
  char base[PATH_MAX];
  const char *key;
  json_t *rec;
  if (!realpath(out_dir, base))
    return vm_err_set(err, vm_status_from_errno(errno),
                      "cannot resolve %s: %s", out_dir, strerror(errno));
  json_object_foreach(c->outputs, key, rec) {
    const char *sha = json_string_value(json_object_get(rec, "sha256"));
    int64_t line_no = (int64_t)json_integer_value(json_object_get(rec, "line"));
    if (!rel_path_is_safe(key)) {
      s->n_chain_errors++;
      finding(c, 0, "line %" PRId64 ": output path \"%s\" is absolute or "
                    "leaves the output folder; not read", line_no, key);
      continue;
    }
    char *path = vm_path_join(base, key);
    if (!path) return vm_err_set(err, VM_ENOMEM, "out of memory");
    file_check(c, "output", key, path, base, sha, &s->n_outputs_ok,
               &s->n_outputs_changed, &s->n_outputs_missing);
    vm_free(path);
  }
  if (!check_inputs) return VM_OK;
  json_object_foreach(c->inputs, key, rec) {
    const char *sha = json_string_value(json_object_get(rec, "sha256"));
    int64_t line_no = (int64_t)json_integer_value(json_object_get(rec, "line"));
    if (key[0] != '/') {
      s->n_chain_errors++;
      finding(c, 0, "line %" PRId64 ": input path \"%s\" is not absolute; "
                    "not read", line_no, key);
      continue;
    }
    file_check(c, "input", key, key, NULL, sha, &s->n_inputs_ok,
               &s->n_inputs_changed, &s->n_inputs_missing);
  }
  return VM_OK;
}

int vm_audit_verify(const char *out_dir, int check_inputs,
                    vm_audit_report_fn report, void *user,
                    vm_audit_verify_stats *out_stats, vm_err *err) {
  int rc = VM_OK;
  vm_audit_verify_stats local;
  verify_ctx c;
  FILE *f = NULL;
  char *log_path = NULL;
  memset(&c, 0, sizeof c);
  c.st = out_stats ? out_stats : &local;
  memset(c.st, 0, sizeof *c.st);
  c.report = report;
  c.user = user;
  c.next_seq = 1;
  memset(c.prev_hex, '0', VM_SHA256_HEX_LEN);
  if (!out_dir) return vm_err_set(err, VM_EINVAL, "vm_audit_verify: no folder");
  c.outputs = json_object();
  c.inputs = json_object();
  log_path = vm_path_join(out_dir, "audit.jsonl");
  if (!c.outputs || !c.inputs || !log_path) {
    rc = vm_err_set(err, VM_ENOMEM, "out of memory");
    goto out;
  }
  f = fopen(log_path, "rb");
  if (!f) {
    int e = errno;
    rc = vm_err_set(err, vm_status_from_errno(e), "cannot open %s: %s",
                    log_path, strerror(e));
    goto out;
  }
  rc = chain_check(&c, f, err);
  if (rc < 0) goto out;
  rc = files_check(&c, out_dir, check_inputs, err);
out:
  if (f) fclose(f);
  vm_free(log_path);
  json_decref(c.outputs);
  json_decref(c.inputs);
  return rc;
}
