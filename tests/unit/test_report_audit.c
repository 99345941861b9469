/* test_report_audit.c — the hash-chained audit log and its verification.
 *
 * Each test builds a small output folder under /tmp (mkdtemp), writes a
 * log through vm_audit_*, damages it or the files it names, and checks the
 * exact findings of vm_audit_verify. Run one test: ./test_report_audit NAME
 */
#include <fcntl.h>
#include <inttypes.h>
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "test.h"
#include "vm_alloc.h"
#include "vm_fs.h"
#include "vm_sha256.h"

/* ---- helpers ---------------------------------------------------------- */

typedef struct fixture {
  char dir[64];    /* the output folder */
  char log[128];   /* dir/audit.jsonl */
  char input[128]; /* an "original" outside the folder: dir.in */
} fixture;

typedef struct findings {
  int n_ok, n_bad;
  char text[16384]; /* every message, one per line, prefixed "+ " or "- " */
} findings;

static void findings_add(void *user, int ok, const char *msg) {
  findings *f = user;
  size_t used = strlen(f->text);
  if (ok) f->n_ok++;
  else f->n_bad++;
  snprintf(f->text + used, sizeof f->text - used, "%s %s\n", ok ? "+" : "-",
           msg);
}

static void tree_remove(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
      if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
      char sub[512];
      snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
      tree_remove(sub);
    }
    if (d) closedir(d);
    rmdir(path);
  } else {
    unlink(path);
  }
}

static int fixture_make(fixture *fx) {
  snprintf(fx->dir, sizeof fx->dir, "/tmp/vm_audit_XXXXXX");
  if (!mkdtemp(fx->dir)) return -1;
  snprintf(fx->log, sizeof fx->log, "%s/audit.jsonl", fx->dir);
  snprintf(fx->input, sizeof fx->input, "%s.in", fx->dir);
  return 0;
}

static void fixture_free(fixture *fx) {
  tree_remove(fx->dir);
  unlink(fx->input);
}

static int file_put(const char *path, const char *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = fwrite(data, 1, n, f);
  return (fclose(f) == 0 && w == n) ? 0 : -1;
}

static char *file_get(const char *path, size_t *out_n) {
  char *buf = NULL;
  size_t n = 0;
  if (vm_fs_read_all(path, 1u << 24, &buf, &n, NULL) < 0) return NULL;
  if (out_n) *out_n = n;
  return buf;
}

/* Offset of the first byte of line i (1-based) in buf, or -1. */
static long line_offset(const char *buf, size_t n, int i) {
  size_t off = 0;
  for (int k = 1; k < i; k++) {
    const char *nl = memchr(buf + off, '\n', n - off);
    if (!nl) return -1;
    off = (size_t)(nl - buf) + 1;
  }
  return off < n ? (long)off : -1;
}

static int event_put(vm_audit *a, const char *event, json_t *fields) {
  vm_err e;
  int rc = vm_audit_append(a, event, fields, &e);
  json_decref(fields);
  if (rc < 0) fprintf(stderr, "append: %s\n", vm_err_text(&e));
  return rc;
}

/* A log of 5 lines: run_start, input_hashed, stage_done, output_written
 * (files/a.json), run_end. Creates the input and the output. */
static int fixture_log(fixture *fx) {
  char sub[160], out_path[200], sha[VM_SHA256_HEX_LEN + 1];
  static const char in_data[] = "RIFF fake audio bytes";
  static const char out_data[] = "{\"result\": 1}\n";
  vm_audit *a = NULL;
  if (file_put(fx->input, in_data, sizeof in_data - 1)) return -1;
  snprintf(sub, sizeof sub, "%s/files", fx->dir);
  mkdir(sub, 0755);
  snprintf(out_path, sizeof out_path, "%s/a.json", sub);
  if (file_put(out_path, out_data, sizeof out_data - 1)) return -1;
  if (vm_audit_open(fx->log, &a, NULL) < 0) return -1;
  int rc = event_put(a, "run_start", json_pack("{s:s,s:s,s:{}}", "run_id", "r1",
                                                 "version", "0.1.0", "options"));
  vm_sha256_buf_hex(in_data, sizeof in_data - 1, sha);
  rc |= event_put(a, "input_hashed", json_pack("{s:s,s:s,s:i}", "input",
                                               fx->input, "sha256", sha,
                                               "size", (int)sizeof in_data - 1));
  rc |= event_put(a, "stage_done", json_pack("{s:s,s:s,s:i}", "input",
                                             fx->input, "stage", "decode",
                                             "ms", 12));
  vm_sha256_buf_hex(out_data, sizeof out_data - 1, sha);
  rc |= event_put(a, "output_written",
                  json_pack("{s:s,s:s,s:s}", "input", fx->input, "path",
                            "files/a.json", "sha256", sha));
  rc |= event_put(a, "run_end", json_pack("{s:s,s:s}", "run_id", "r1",
                                          "status", "ok"));
  vm_audit_close(a);
  return rc;
}

static int verify(const fixture *fx, int check_inputs, findings *f,
                  vm_audit_verify_stats *st) {
  vm_err e;
  memset(f, 0, sizeof *f);
  int rc = vm_audit_verify(fx->dir, check_inputs, findings_add, f, st, &e);
  if (getenv("VM_TEST_VERBOSE")) fprintf(stderr, "%s", f->text);
  return rc;
}

static int64_t problems(const vm_audit_verify_stats *s) {
  return s->n_chain_errors + s->n_outputs_changed + s->n_outputs_missing +
         s->n_inputs_changed + s->n_inputs_missing;
}

/* ---- tests ------------------------------------------------------------ */

/* Lines have the fixed members first, seq counts on after a reopen and
 * prev hashes the previous line's bytes. */
static int test_append_reopen_chain(void) {
  fixture fx;
  vm_audit *a = NULL;
  size_t n = 0;
  ASSERT_OK(fixture_make(&fx));
  ASSERT_OK(vm_audit_open(fx.log, &a, NULL));
  ASSERT_OK(event_put(a, "run_start", json_pack("{s:s}", "run_id", "r1")));
  ASSERT_OK(event_put(a, "stage_done", NULL));
  vm_audit_close(a);
  a = NULL;
  ASSERT_OK(vm_audit_open(fx.log, &a, NULL));
  ASSERT_OK(event_put(a, "run_end", json_pack("{s:s,s:i}", "status", "ok",
                                              "n", 3)));
  vm_audit_close(a);

  char *buf = file_get(fx.log, &n);
  ASSERT_NOT_NULL(buf);
  ASSERT_EQ(buf[n - 1], '\n');
  char prev[VM_SHA256_HEX_LEN + 1];
  memset(prev, '0', VM_SHA256_HEX_LEN);
  prev[VM_SHA256_HEX_LEN] = '\0';
  const char *events[] = {"run_start", "stage_done", "run_end"};
  size_t off = 0;
  for (int i = 0; i < 3; i++) {
    char *nl = memchr(buf + off, '\n', n - off);
    ASSERT_NOT_NULL(nl);
    size_t len = (size_t)(nl - (buf + off));
    char head[256];
    snprintf(head, sizeof head, "{\"seq\":%d,\"time\":\"", i + 1);
    ASSERT_EQ(strncmp(buf + off, head, strlen(head)), 0);
    json_t *j = json_loadb(buf + off, len, 0, NULL);
    ASSERT_NOT_NULL(j);
    const char *t = json_string_value(json_object_get(j, "time"));
    ASSERT_EQ(strlen(t), 24);
    ASSERT_EQ(t[23], 'Z');
    ASSERT_EQ(t[10], 'T');
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "event")), events[i]);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "prev")), prev);
    /* fixed members first, in order, then the caller's */
    const char *key;
    json_t *v;
    int k = 0;
    static const char *order[] = {"seq", "time", "event", "prev"};
    json_object_foreach(j, key, v) {
      if (k < 4) ASSERT_STR_EQ(key, order[k]);
      k++;
    }
    ASSERT_EQ(k, i == 0 ? 5 : i == 1 ? 4 : 6);
    json_decref(j);
    vm_sha256_buf_hex(buf + off, len, prev);
    off += len + 1;
  }
  ASSERT_EQ(off, n);
  ASSERT_STR_CONTAINS(buf, "\"prev\":\"" /* last line keeps caller order */);
  ASSERT_STR_CONTAINS(buf, ",\"status\":\"ok\",\"n\":3}\n");
  vm_free(buf);
  fixture_free(&fx);
  return 0;
}

static int test_verify_clean(void) {
  fixture fx;
  findings f;
  vm_audit_verify_stats st;
  ASSERT_OK(fixture_make(&fx));
  ASSERT_OK(fixture_log(&fx));
  ASSERT_OK(verify(&fx, 1, &f, &st));
  ASSERT_EQ(st.n_lines, 5);
  ASSERT_EQ(problems(&st), 0);
  ASSERT_EQ(st.n_outputs_ok, 1);
  ASSERT_EQ(st.n_inputs_ok, 1);
  ASSERT_EQ(f.n_bad, 0);
  ASSERT_STR_CONTAINS(f.text, "+ chain of 5 lines intact");
  ASSERT_STR_CONTAINS(f.text, "+ output files/a.json ok");
  /* check_inputs = 0 skips the originals */
  ASSERT_OK(verify(&fx, 0, &f, &st));
  ASSERT_EQ(st.n_inputs_ok + st.n_inputs_changed + st.n_inputs_missing, 0);
  fixture_free(&fx);
  return 0;
}

/* One byte changed inside line 3 (still valid JSON): line 4's link breaks. */
static int test_verify_edited_line(void) {
  fixture fx;
  findings f;
  vm_audit_verify_stats st;
  size_t n;
  ASSERT_OK(fixture_make(&fx));
  ASSERT_OK(fixture_log(&fx));
  char *buf = file_get(fx.log, &n);
  ASSERT_NOT_NULL(buf);
  long off = line_offset(buf, n, 3);
  ASSERT_GE(off, 0);
  char *p = strstr(buf + off, "\"decode\"");
  ASSERT_NOT_NULL(p);
  p[1] = 'D';
  ASSERT_OK(file_put(fx.log, buf, n));
  vm_free(buf);
  ASSERT_OK(verify(&fx, 1, &f, &st));
  ASSERT_EQ(st.n_lines, 5);
  ASSERT_EQ(st.n_chain_errors, 1);
  ASSERT_STR_CONTAINS(f.text, "- line 4: prev does not match line 3 (the log "
                              "was edited or lines were removed)");
  ASSERT_EQ(st.n_outputs_ok, 1);
  fixture_free(&fx);
  return 0;
}

static int test_verify_deleted_line(void) {
  fixture fx;
  findings f;
  vm_audit_verify_stats st;
  size_t n;
  ASSERT_OK(fixture_make(&fx));
  ASSERT_OK(fixture_log(&fx));
  char *buf = file_get(fx.log, &n);
  ASSERT_NOT_NULL(buf);
  long a = line_offset(buf, n, 2), b = line_offset(buf, n, 3);
  ASSERT_GT(b, a);
  memmove(buf + a, buf + b, n - (size_t)b);
  ASSERT_OK(file_put(fx.log, buf, n - (size_t)(b - a)));
  vm_free(buf);
  ASSERT_OK(verify(&fx, 1, &f, &st));
  ASSERT_EQ(st.n_lines, 4);
  ASSERT_EQ(st.n_chain_errors, 2);
  ASSERT_STR_CONTAINS(f.text, "- line 2: prev does not match line 1");
  ASSERT_STR_CONTAINS(f.text, "- line 2: seq is 3, expected 2");
  ASSERT(!strstr(f.text, "line 3:"));
  /* removing the first line breaks line 1's zero link */
  buf = file_get(fx.log, &n);
  ASSERT_NOT_NULL(buf);
  b = line_offset(buf, n, 2);
  ASSERT_OK(file_put(fx.log, buf + b, n - (size_t)b));
  vm_free(buf);
  ASSERT_OK(verify(&fx, 1, &f, &st));
  ASSERT_STR_CONTAINS(f.text, "- line 1: prev is not zero");
  ASSERT_STR_CONTAINS(f.text, "- line 1: seq is 3, expected 1");
  fixture_free(&fx);
  return 0;
}

static int test_verify_output_changed_missing(void) {
  fixture fx;
  findings f;
  vm_audit_verify_stats st;
  char path[200], msg[400], sha_new[VM_SHA256_HEX_LEN + 1],
      sha_old[VM_SHA256_HEX_LEN + 1];
  static const char old_data[] = "{\"result\": 1}\n";
  static const char new_data[] = "{\"result\": 2}\n";
  ASSERT_OK(fixture_make(&fx));
  ASSERT_OK(fixture_log(&fx));
  snprintf(path, sizeof path, "%s/files/a.json", fx.dir);
  ASSERT_OK(file_put(path, new_data, sizeof new_data - 1));
  ASSERT_OK(verify(&fx, 1, &f, &st));
  ASSERT_EQ(st.n_chain_errors, 0);
  ASSERT_EQ(st.n_outputs_changed, 1);
  ASSERT_EQ(st.n_outputs_ok, 0);
  vm_sha256_buf_hex(new_data, sizeof new_data - 1, sha_new);
  vm_sha256_buf_hex(old_data, sizeof old_data - 1, sha_old);
  snprintf(msg, sizeof msg,
           "- output files/a.json changed: SHA-256 is %s but the log "
           "recorded %s", sha_new, sha_old);
  ASSERT_STR_CONTAINS(f.text, msg);
  ASSERT_OK(unlink(path));
  ASSERT_OK(verify(&fx, 1, &f, &st));
  ASSERT_EQ(st.n_outputs_missing, 1);
  ASSERT_EQ(st.n_outputs_changed, 0);
  ASSERT_STR_CONTAINS(f.text, "- output files/a.json missing");
  fixture_free(&fx);
  return 0;
}

/* The latest output_written for a path is the one checked. */
static int test_verify_latest_output_wins(void) {
  fixture fx;
  findings f;
  vm_audit_verify_stats st;
  vm_audit *a = NULL;
  char path[200], sha[VM_SHA256_HEX_LEN + 1];
  static const char v2[] = "second version";
  ASSERT_OK(fixture_make(&fx));
  ASSERT_OK(fixture_log(&fx));
  snprintf(path, sizeof path, "%s/files/a.json", fx.dir);
  ASSERT_OK(file_put(path, v2, sizeof v2 - 1));
  vm_sha256_buf_hex(v2, sizeof v2 - 1, sha);
  ASSERT_OK(vm_audit_open(fx.log, &a, NULL));
  ASSERT_OK(event_put(a, "output_written",
                      json_pack("{s:n,s:s,s:s}", "input", "path",
                                "files/a.json", "sha256", sha)));
  vm_audit_close(a);
  ASSERT_OK(verify(&fx, 1, &f, &st));
  ASSERT_EQ(st.n_lines, 6);
  ASSERT_EQ(problems(&st), 0);
  ASSERT_EQ(st.n_outputs_ok, 1);
  fixture_free(&fx);
  return 0;
}

static int test_verify_input_changed(void) {
  fixture fx;
  findings f;
  vm_audit_verify_stats st;
  ASSERT_OK(fixture_make(&fx));
  ASSERT_OK(fixture_log(&fx));
  ASSERT_OK(file_put(fx.input, "RIFF fake audio bytez", 21));
  ASSERT_OK(verify(&fx, 1, &f, &st));
  ASSERT_EQ(st.n_inputs_changed, 1);
  ASSERT_EQ(st.n_inputs_ok, 0);
  ASSERT_EQ(st.n_outputs_ok, 1);
  ASSERT_STR_CONTAINS(f.text, "changed: SHA-256 is ");
  ASSERT_OK(verify(&fx, 0, &f, &st)); /* not looked at */
  ASSERT_EQ(st.n_inputs_changed, 0);
  ASSERT_EQ(problems(&st), 0);
  ASSERT_OK(unlink(fx.input));
  ASSERT_OK(verify(&fx, 1, &f, &st));
  ASSERT_EQ(st.n_inputs_missing, 1);
  fixture_free(&fx);
  return 0;
}

/* The last line cut in the middle: verify reports it, open repairs it,
 * verify then reports the repair but no chain error. */
static int test_torn_tail_repair(void) {
  fixture fx;
  findings f;
  vm_audit_verify_stats st;
  vm_audit *a = NULL;
  size_t n;
  char sha[VM_SHA256_HEX_LEN + 1];
  ASSERT_OK(fixture_make(&fx));
  ASSERT_OK(fixture_log(&fx));
  char *buf = file_get(fx.log, &n);
  ASSERT_NOT_NULL(buf);
  long off = line_offset(buf, n, 5);
  ASSERT_GT(off, 0);
  size_t torn = (n - (size_t)off) / 2;
  ASSERT_OK(truncate(fx.log, (off_t)((size_t)off + torn)));
  vm_sha256_buf_hex(buf + off, torn, sha);
  vm_free(buf);

  ASSERT_OK(verify(&fx, 1, &f, &st));
  ASSERT_EQ(st.n_chain_errors, 0);
  ASSERT_STR_CONTAINS(f.text, "- line 5: the last line is incomplete");

  ASSERT_OK(vm_audit_open(fx.log, &a, NULL));
  ASSERT_OK(event_put(a, "run_start", NULL));
  vm_audit_close(a);
  buf = file_get(fx.log, &n);
  ASSERT_NOT_NULL(buf);
  off = line_offset(buf, n, 6);
  ASSERT_GT(off, 0);
  ASSERT_EQ(buf[off - 1], '\n');
  json_t *j = json_loadb(buf + off, (size_t)(strchr(buf + off, '\n') -
                                             (buf + off)), 0, NULL);
  ASSERT_NOT_NULL(j);
  ASSERT_STR_EQ(json_string_value(json_object_get(j, "event")), "log_repaired");
  ASSERT_STR_EQ(json_string_value(json_object_get(j, "prev")), sha);
  ASSERT_EQ(json_integer_value(json_object_get(j, "torn_bytes")), torn);
  ASSERT_EQ(json_integer_value(json_object_get(j, "seq")), 5);
  json_decref(j);
  ASSERT_STR_CONTAINS(buf + off, "\n{\"seq\":6,");
  vm_free(buf);

  ASSERT_OK(verify(&fx, 1, &f, &st));
  ASSERT_EQ(st.n_lines, 7);
  ASSERT_EQ(st.n_chain_errors, 0);
  ASSERT_EQ(problems(&st), 0);
  ASSERT_STR_CONTAINS(f.text, "- line 5: a torn line of ");
  ASSERT_STR_CONTAINS(f.text, "repaired by line 6");
  fixture_free(&fx);
  return 0;
}

/* A torn (unparseable) line that is not followed by its log_repaired is a
 * chain error: in the middle, with a wrong torn_bytes, or at the end. */
static int test_torn_line_elsewhere(void) {
  fixture fx;
  findings f;
  vm_audit_verify_stats st;
  vm_audit *a = NULL;
  size_t n;
  ASSERT_OK(fixture_make(&fx));
  ASSERT_OK(fixture_log(&fx));
  char *buf = file_get(fx.log, &n);
  ASSERT_NOT_NULL(buf);
  /* cut line 3 to half, keep its newline */
  long a3 = line_offset(buf, n, 3), a4 = line_offset(buf, n, 4);
  size_t keep = (size_t)(a4 - a3) / 2;
  memmove(buf + a3 + keep, buf + a4 - 1, n - (size_t)a4 + 1);
  size_t n2 = n - ((size_t)(a4 - a3) - 1 - keep);
  ASSERT_OK(file_put(fx.log, buf, n2));
  ASSERT_OK(verify(&fx, 1, &f, &st));
  ASSERT_EQ(st.n_chain_errors, 2); /* line 3 bad, line 4's link */
  ASSERT_STR_CONTAINS(f.text, "- line 3: not a valid event: not JSON");
  ASSERT_STR_CONTAINS(f.text, "- line 4: prev does not match line 3");
  ASSERT(!strstr(f.text, "torn line of"));

  /* a hand-made log_repaired with the wrong torn_bytes is not accepted */
  fixture_free(&fx);
  ASSERT_OK(fixture_make(&fx));
  ASSERT_OK(file_put(fx.log, "{\"seq\":1,\"ti", 12));
  ASSERT_OK(vm_audit_open(fx.log, &a, NULL)); /* repairs: torn_bytes 12 */
  vm_audit_close(a);
  ASSERT_OK(verify(&fx, 1, &f, &st));
  ASSERT_EQ(st.n_chain_errors, 0);
  ASSERT_STR_CONTAINS(f.text, "- line 1: a torn line of 12 bytes");
  vm_free(buf);
  buf = file_get(fx.log, &n);
  ASSERT_NOT_NULL(buf);
  char *tb = strstr(buf, "\"torn_bytes\":12}");
  ASSERT_NOT_NULL(tb);
  tb[14] = '3';
  ASSERT_OK(file_put(fx.log, buf, n));
  ASSERT_OK(verify(&fx, 1, &f, &st));
  ASSERT_EQ(st.n_chain_errors, 1);
  ASSERT_STR_CONTAINS(f.text, "- line 1: not a valid event");

  /* a complete garbage last line: chain error, and open refuses it */
  ASSERT_OK(file_put(fx.log, "{\"seq\":1,\"ti\n", 13));
  ASSERT_OK(verify(&fx, 1, &f, &st));
  ASSERT_EQ(st.n_chain_errors, 1);
  vm_err e;
  a = (vm_audit *)1;
  ASSERT_EQ(vm_audit_open(fx.log, &a, &e), VM_EFORMAT);
  ASSERT_NULL(a);
  vm_free(buf);
  fixture_free(&fx);
  return 0;
}

/* Output paths that leave the folder are findings and are never opened:
 * the log records their true hashes, so reading them would say "ok". */
static int test_hostile_output_paths(void) {
  fixture fx;
  findings f;
  vm_audit_verify_stats st;
  vm_audit *a = NULL;
  char outside[200], link[200], sha_x[VM_SHA256_HEX_LEN + 1];
  uint8_t d[VM_SHA256_LEN];
  char sha_pw[VM_SHA256_HEX_LEN + 1];
  ASSERT_OK(fixture_make(&fx));
  snprintf(outside, sizeof outside, "%s.x", fx.dir);
  ASSERT_OK(file_put(outside, "secret", 6));
  vm_sha256_buf_hex("secret", 6, sha_x);
  if (vm_sha256_file("/etc/passwd", d, NULL, NULL) == 0)
    vm_sha256_hex(d, sha_pw);
  else
    snprintf(sha_pw, sizeof sha_pw, "%s", sha_x);
  snprintf(link, sizeof link, "%s/lnk", fx.dir);
  ASSERT_OK(symlink(outside, link));
  const char *base = strrchr(fx.dir, '/') + 1;
  char dotdot[200];
  snprintf(dotdot, sizeof dotdot, "../%s.x", base);

  ASSERT_OK(vm_audit_open(fx.log, &a, NULL));
  ASSERT_OK(event_put(a, "output_written", json_pack("{s:s,s:s}", "path",
                                                     dotdot, "sha256", sha_x)));
  ASSERT_OK(event_put(a, "output_written", json_pack("{s:s,s:s}", "path",
                                                     "/etc/passwd", "sha256",
                                                     sha_pw)));
  ASSERT_OK(event_put(a, "output_written", json_pack("{s:s,s:s}", "path",
                                                     "files/../../x", "sha256",
                                                     sha_x)));
  ASSERT_OK(event_put(a, "output_written", json_pack("{s:s,s:s}", "path",
                                                     "lnk", "sha256", sha_x)));
  ASSERT_OK(event_put(a, "input_hashed", json_pack("{s:s,s:s}", "input",
                                                   "rel/in.wav", "sha256",
                                                   sha_x)));
  vm_audit_close(a);
  ASSERT_OK(verify(&fx, 1, &f, &st));
  ASSERT_EQ(st.n_outputs_ok, 0);
  ASSERT_EQ(st.n_inputs_ok, 0);
  ASSERT_EQ(st.n_chain_errors, 4); /* 3 unsafe outputs, 1 relative input */
  ASSERT_EQ(st.n_outputs_changed, 1); /* the link */
  ASSERT_STR_CONTAINS(f.text, "- line 2: output path \"/etc/passwd\" is "
                              "absolute or leaves the output folder; not read");
  ASSERT_STR_CONTAINS(f.text, "- line 1: output path \"../");
  ASSERT_STR_CONTAINS(f.text, "- output lnk changed: it is now a link that "
                              "leads outside");
  ASSERT(!strstr(f.text, " ok\n"));
  unlink(outside);
  fixture_free(&fx);
  return 0;
}

static int test_empty_and_missing_log(void) {
  fixture fx;
  findings f;
  vm_audit_verify_stats st;
  vm_audit *a = NULL;
  vm_err e;
  ASSERT_OK(fixture_make(&fx));
  ASSERT_EQ(vm_audit_verify(fx.dir, 1, NULL, NULL, &st, &e), VM_ENOENT);
  ASSERT_OK(file_put(fx.log, "", 0));
  ASSERT_OK(verify(&fx, 1, &f, &st));
  ASSERT_EQ(st.n_lines, 0);
  ASSERT_EQ(problems(&st), 0);
  ASSERT_STR_CONTAINS(f.text, "+ chain of 0 lines intact");
  ASSERT_OK(vm_audit_open(fx.log, &a, NULL));
  ASSERT_OK(event_put(a, "run_start", NULL));
  vm_audit_close(a);
  char *buf = file_get(fx.log, NULL);
  ASSERT_NOT_NULL(buf);
  ASSERT_EQ(strncmp(buf, "{\"seq\":1,", 9), 0);
  ASSERT_STR_CONTAINS(buf, "\"prev\":\"000000000000000000000000000000000000"
                           "0000000000000000000000000000\"}\n");
  vm_free(buf);
  fixture_free(&fx);
  return 0;
}

static int test_not_json(void) {
  fixture fx;
  findings f;
  vm_audit_verify_stats st;
  vm_audit *a = NULL;
  ASSERT_OK(fixture_make(&fx));
  ASSERT_OK(file_put(fx.log, "hello world\n[1,2]\n\0\0\n", 21));
  ASSERT_OK(verify(&fx, 1, &f, &st));
  ASSERT_EQ(st.n_lines, 3);
  ASSERT_EQ(st.n_chain_errors, 3);
  ASSERT_STR_CONTAINS(f.text, "- line 1: not a valid event: not JSON");
  ASSERT_STR_CONTAINS(f.text, "- line 2: not a valid event: not a JSON object");
  ASSERT_STR_CONTAINS(f.text, "- line 3: not a valid event");
  ASSERT_EQ(vm_audit_open(fx.log, &a, NULL), VM_EFORMAT);
  ASSERT_NULL(a);
  fixture_free(&fx);
  return 0;
}

static int test_append_bad_fields(void) {
  fixture fx;
  vm_audit *a = NULL, *b = NULL;
  vm_err e;
  ASSERT_OK(fixture_make(&fx));
  ASSERT_OK(vm_audit_open(fx.log, &a, NULL));
  json_t *f = json_pack("{s:i}", "seq", 9);
  ASSERT_EQ(vm_audit_append(a, "x", f, &e), VM_EINVAL);
  json_decref(f);
  f = json_pack("[i]", 1);
  ASSERT_EQ(vm_audit_append(a, "x", f, &e), VM_EINVAL);
  json_decref(f);
  ASSERT_EQ(vm_audit_append(a, "\xff", NULL, &e), VM_EINVAL);
  ASSERT_EQ(vm_audit_open(fx.log, &b, &e), VM_EBUSY); /* one writer */
  ASSERT_NULL(b);
  ASSERT_OK(event_put(a, "run_start", NULL));
  vm_audit_close(a);
  char *buf = file_get(fx.log, NULL);
  ASSERT_NOT_NULL(buf);
  ASSERT_EQ(strncmp(buf, "{\"seq\":1,", 9), 0); /* failures used no seq */
  vm_free(buf);
  fixture_free(&fx);
  return 0;
}

/* A write cut short by the file-size limit (as by a full disk): error,
 * partial bytes removed, state not advanced, the next append chains. */
static int test_short_write(void) {
  fixture fx;
  findings f;
  vm_audit_verify_stats st;
  vm_audit *a = NULL;
  vm_err e;
  struct rlimit old, lim;
  struct stat sb;
  ASSERT_OK(fixture_make(&fx));
  ASSERT_OK(vm_audit_open(fx.log, &a, NULL));
  ASSERT_OK(event_put(a, "run_start", NULL));
  ASSERT_OK(stat(fx.log, &sb));
  ASSERT_OK(getrlimit(RLIMIT_FSIZE, &old));
  signal(SIGXFSZ, SIG_IGN);
  lim = old;
  lim.rlim_cur = (rlim_t)sb.st_size + 20;
  ASSERT_OK(setrlimit(RLIMIT_FSIZE, &lim));
  json_t *fl = json_pack("{s:s}", "input", "/some/long/path/to/a/file.wav");
  int rc = vm_audit_append(a, "stage_done", fl, &e);
  setrlimit(RLIMIT_FSIZE, &old);
  json_decref(fl);
  ASSERT_EQ(rc, VM_ENOSPC);
  struct stat sa;
  ASSERT_OK(stat(fx.log, &sa));
  ASSERT_EQ(sa.st_size, sb.st_size);
  ASSERT_OK(event_put(a, "run_end", NULL));
  vm_audit_close(a);
  ASSERT_OK(verify(&fx, 1, &f, &st));
  ASSERT_EQ(st.n_lines, 2);
  ASSERT_EQ(st.n_chain_errors, 0);
  fixture_free(&fx);
  return 0;
}

/* Opening a long log reads only its tail: 100k lines, then reopen. */
static int test_reopen_long_log(void) {
  fixture fx;
  vm_audit *a = NULL;
  findings f;
  vm_audit_verify_stats st;
  ASSERT_OK(fixture_make(&fx));
  FILE *fp = fopen(fx.log, "wb");
  ASSERT_NOT_NULL(fp);
  char prev[VM_SHA256_HEX_LEN + 1], line[256];
  memset(prev, '0', VM_SHA256_HEX_LEN);
  prev[VM_SHA256_HEX_LEN] = '\0';
  for (int i = 1; i <= 100000; i++) {
    int n = snprintf(line, sizeof line,
                     "{\"seq\":%d,\"time\":\"2026-01-01T00:00:00.000Z\","
                     "\"event\":\"stage_done\",\"prev\":\"%s\"}",
                     i, prev);
    fprintf(fp, "%s\n", line);
    vm_sha256_buf_hex(line, (size_t)n, prev);
  }
  ASSERT_OK(fclose(fp));
  double t0 = (double)clock();
  ASSERT_OK(vm_audit_open(fx.log, &a, NULL));
  double dt = ((double)clock() - t0) / CLOCKS_PER_SEC;
  ASSERT_LT(dt * 1000, 200);
  ASSERT_OK(event_put(a, "run_end", NULL));
  vm_audit_close(a);
  ASSERT_OK(verify(&fx, 1, &f, &st));
  ASSERT_EQ(st.n_lines, 100001);
  ASSERT_EQ(st.n_chain_errors, 0);
  fixture_free(&fx);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_append_reopen_chain), TEST_ENTRY(test_verify_clean),
          TEST_ENTRY(test_verify_edited_line),
          TEST_ENTRY(test_verify_deleted_line),
          TEST_ENTRY(test_verify_output_changed_missing),
          TEST_ENTRY(test_verify_latest_output_wins),
          TEST_ENTRY(test_verify_input_changed),
          TEST_ENTRY(test_torn_tail_repair),
          TEST_ENTRY(test_torn_line_elsewhere),
          TEST_ENTRY(test_hostile_output_paths),
          TEST_ENTRY(test_empty_and_missing_log), TEST_ENTRY(test_not_json),
          TEST_ENTRY(test_append_bad_fields), TEST_ENTRY(test_short_write),
          TEST_ENTRY(test_reopen_long_log))
