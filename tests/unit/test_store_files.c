/* Unit tests for the store's records: file registration and every state
 * transition, recover, the start-up loads, executions, runs and batches.
 *
 * Build and run: cmake --build build --target test_store_files &&
 *   build/tests/test_store_files [test_name]
 * Each test works in its own mkdtemp folder under /tmp and removes it. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "store_impl.h"
#include "test.h"
#include "vm_alloc.h"

static const char k_sha_a[] =
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char k_sha_b[] =
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/* --- fixture: a fresh store in a temp folder ------------------------ */

typedef struct fx {
  char dir[64];
  char path[128];
  vm_store *s;
  int64_t run;
} fx;

static int rm_one(const char *p, const struct stat *sb, int flag,
                  struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(p);
}

static int fx_open(fx *f) {
  vm_err err = {0};
  snprintf(f->dir, sizeof f->dir, "/tmp/vm_store_files_XXXXXX");
  if (!mkdtemp(f->dir)) return 1;
  snprintf(f->path, sizeof f->path, "%s/voiceman.db", f->dir);
  int rc = vm_store_open(f->path, &f->s, &err);
  if (rc == 0) rc = vm_store_run_begin(f->s, "0.1.0", "{}", &f->run, &err);
  if (rc != 0) fprintf(stderr, "fx_open: %s\n", vm_err_text(&err));
  return rc;
}

static void fx_close(fx *f) {
  vm_store_close(f->s);
  f->s = NULL;
  nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* One integer from plain SQL (-1 on error). */
static int64_t sql_int(vm_store *s, const char *sql) {
  sqlite3_stmt *st = NULL;
  int64_t v = -1;
  if (sqlite3_prepare_v2(vm__store_db(s), sql, -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

/* State of file id as an enum index (-1 if absent). */
static int state_of(vm_store *s, int64_t id) {
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT CASE state WHEN 'pending' THEN 0 WHEN 'in_progress' THEN 1"
           " WHEN 'completed' THEN 2 WHEN 'failed' THEN 3 END"
           " FROM files WHERE id = %lld", (long long)id);
  return (int)sql_int(s, sql);
}

static int attempts_of(vm_store *s, int64_t id) {
  char sql[96];
  snprintf(sql, sizeof sql, "SELECT attempts FROM files WHERE id = %lld",
           (long long)id);
  return (int)sql_int(s, sql);
}

static vm_store_completion completion(const char *sha, int64_t size) {
  vm_store_completion c = {
      .sha256 = sha, .size_bytes = size, .mtime_ns = size * 10,
      .duration_s = 1.5, .stage_times_json = "{\"hash_ms\":1}",
      .outputs_json = "{\"json\":\"x.json\"}"};
  return c;
}

/* --- tests ----------------------------------------------------------- */

static int test_register_semantics(void) {
  fx f;
  vm_err err = {0};
  int64_t a, a2, b, b2, c;
  char **stems;
  size_t n;
  ASSERT_OK(fx_open(&f));
  ASSERT_OK(vm_store_file_register(f.s, "/in/a.m4a", 10, 100, "a", &a, &err));
  ASSERT_GT(a, 0);
  ASSERT_EQ(state_of(f.s, a), VM_FILE_PENDING);
  ASSERT_EQ(sql_int(f.s, "SELECT first_seen_run FROM files"), f.run);
  /* Re-register: same id, stem kept, size/mtime updated. */
  ASSERT_OK(vm_store_file_register(f.s, "/in/a.m4a", 11, 101, "other", &a2,
                                   &err));
  ASSERT_EQ(a2, a);
  ASSERT_EQ(sql_int(f.s, "SELECT size_bytes FROM files WHERE path='/in/a.m4a'"),
            11);
  /* A row without a stem gets one on a later register. */
  ASSERT_OK(vm_store_file_register(f.s, "/in/b.m4a", 5, 50, NULL, &b, &err));
  ASSERT_OK(vm_store_file_register(f.s, "/in/b.m4a", 5, 50, "b", &b2, &err));
  ASSERT_EQ(b2, b);
  ASSERT_OK(vm_store_load_stems(f.s, &stems, &n, &err));
  ASSERT_EQ(n, 2);
  ASSERT_STR_EQ(stems[0], "a");
  ASSERT_STR_EQ(stems[1], "b");
  vm_store_strings_free(stems, n);
  /* A stem that belongs to another file is refused. */
  ASSERT_EQ(vm_store_file_register(f.s, "/in/c.m4a", 1, 1, "a", &c, &err),
            VM_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "already belongs");
  ASSERT_EQ(sql_int(f.s, "SELECT count(*) FROM files"), 2);
  fx_close(&f);
  return 0;
}

/* A completed row keeps its state when re-registered unchanged, and goes
 * back to pending (hash dropped) when size or mtime changed. */
static int test_register_changed_completed(void) {
  fx f;
  vm_err err = {0};
  int64_t a, id;
  ASSERT_OK(fx_open(&f));
  ASSERT_OK(vm_store_file_register(f.s, "/in/a", 10, 100, "a", &a, &err));
  ASSERT_OK(vm_store_file_start(f.s, a, f.run, &err));
  vm_store_completion c = completion(k_sha_a, 10);
  c.mtime_ns = 100;
  ASSERT_OK(vm_store_file_complete(f.s, a, f.run, &c, &err));
  ASSERT_OK(vm_store_file_register(f.s, "/in/a", 10, 100, "a", &id, &err));
  ASSERT_EQ(state_of(f.s, a), VM_FILE_COMPLETED);
  ASSERT_EQ(sql_int(f.s, "SELECT sha256 IS NOT NULL FROM files"), 1);
  ASSERT_OK(vm_store_file_register(f.s, "/in/a", 12, 100, "a", &id, &err));
  ASSERT_EQ(state_of(f.s, a), VM_FILE_PENDING);
  ASSERT_EQ(sql_int(f.s, "SELECT sha256 IS NULL FROM files"), 1);
  fx_close(&f);
  return 0;
}

static int test_transitions_legal(void) {
  fx f;
  vm_err err = {0};
  int64_t id;
  ASSERT_OK(fx_open(&f));
  ASSERT_OK(vm_store_file_register(f.s, "/in/x", 1, 1, "x", &id, &err));
  /* pending → in_progress → completed */
  ASSERT_OK(vm_store_file_start(f.s, id, f.run, &err));
  ASSERT_EQ(state_of(f.s, id), VM_FILE_IN_PROGRESS);
  ASSERT_EQ(attempts_of(f.s, id), 1);
  vm_store_completion c = completion(k_sha_a, 1);
  ASSERT_OK(vm_store_file_complete(f.s, id, f.run, &c, &err));
  ASSERT_EQ(state_of(f.s, id), VM_FILE_COMPLETED);
  /* completed → touch (stays completed) */
  ASSERT_OK(vm_store_file_touch(f.s, id, f.run, &err));
  ASSERT_EQ(state_of(f.s, id), VM_FILE_COMPLETED);
  /* completed → in_progress (forced redo) → failed */
  ASSERT_OK(vm_store_file_start(f.s, id, f.run, &err));
  ASSERT_OK(vm_store_file_fail(f.s, id, f.run, NULL, "VM_EDECODE",
                               "truncated", &err));
  ASSERT_EQ(state_of(f.s, id), VM_FILE_FAILED);
  ASSERT_EQ(attempts_of(f.s, id), 2);
  /* fail with sha256 NULL keeps the earlier hash */
  ASSERT_EQ(sql_int(f.s, "SELECT sha256 IS NOT NULL FROM files"), 1);
  /* failed → in_progress → pending (release does not count) */
  ASSERT_OK(vm_store_file_start(f.s, id, f.run, &err));
  ASSERT_EQ(attempts_of(f.s, id), 3);
  ASSERT_OK(vm_store_file_release(f.s, id, &err));
  ASSERT_EQ(state_of(f.s, id), VM_FILE_PENDING);
  ASSERT_EQ(attempts_of(f.s, id), 2);
  /* the failure reason is still there until a completion clears it */
  ASSERT_EQ(sql_int(f.s, "SELECT last_error IS NOT NULL FROM files"), 1);
  ASSERT_OK(vm_store_file_start(f.s, id, f.run, &err));
  c = completion(k_sha_b, 1);
  ASSERT_OK(vm_store_file_complete(f.s, id, f.run, &c, &err));
  ASSERT_EQ(sql_int(f.s, "SELECT last_error IS NULL AND last_error_code IS"
                         " NULL FROM files"), 1);
  ASSERT_EQ(sql_int(f.s, "SELECT last_run FROM files"), f.run);
  ASSERT_EQ(sql_int(f.s, "SELECT completed_ms > 0 FROM files"), 1);
  fx_close(&f);
  return 0;
}

/* The pipeline's skip: a completed row is started for hashing; touch puts
 * it back to completed without counting an attempt or an execution. A row
 * started from anything else cannot be touched. */
static int test_touch_skip_candidate(void) {
  fx f;
  vm_err err = {0};
  int64_t id, other, n, run2;
  ASSERT_OK(fx_open(&f));
  ASSERT_OK(vm_store_file_register(f.s, "/in/x", 1, 1, "x", &id, &err));
  ASSERT_OK(vm_store_file_register(f.s, "/in/y", 1, 1, "y", &other, &err));
  ASSERT_OK(vm_store_file_start(f.s, id, f.run, &err));
  vm_store_completion c = completion(k_sha_a, 1);
  ASSERT_OK(vm_store_file_complete(f.s, id, f.run, &c, &err));
  ASSERT_OK(vm_store_run_begin(f.s, "t", NULL, &run2, &err));
  ASSERT_OK(vm_store_file_start(f.s, id, run2, &err));
  ASSERT_EQ(attempts_of(f.s, id), 2);
  ASSERT_OK(vm_store_file_touch(f.s, id, run2, &err));
  ASSERT_EQ(state_of(f.s, id), VM_FILE_COMPLETED);
  ASSERT_EQ(attempts_of(f.s, id), 1);
  ASSERT_EQ(sql_int(f.s, "SELECT last_run FROM files WHERE path='/in/x'"),
            run2);
  ASSERT_OK(vm_store_count_executions(f.s, "/in/x", &n, &err));
  ASSERT_EQ(n, 1);
  /* started from pending: not a skip */
  ASSERT_OK(vm_store_file_start(f.s, other, run2, &err));
  ASSERT_EQ(vm_store_file_touch(f.s, other, run2, &err), VM_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "it is in_progress");
  ASSERT_EQ(state_of(f.s, other), VM_FILE_IN_PROGRESS);
  /* started from failed: not a skip either */
  ASSERT_OK(vm_store_file_fail(f.s, other, run2, NULL, "E", "t", &err));
  ASSERT_OK(vm_store_file_start(f.s, other, run2, &err));
  ASSERT_EQ(vm_store_file_touch(f.s, other, run2, &err), VM_EINVAL);
  fx_close(&f);
  return 0;
}

/* A completed file whose re-check (skip candidate) or --force redo was
 * interrupted — by a crash (recover) or a stop (release) — stays completed:
 * otherwise the next run would process it a second time. */
static int test_interrupted_recheck_stays_completed(void) {
  fx f;
  vm_err err = {0};
  int64_t a, b, p, run2, n;
  int n_reset = 0;
  ASSERT_OK(fx_open(&f));
  ASSERT_OK(vm_store_file_register(f.s, "/in/a", 1, 1, "a", &a, &err));
  ASSERT_OK(vm_store_file_register(f.s, "/in/b", 1, 1, "b", &b, &err));
  ASSERT_OK(vm_store_file_register(f.s, "/in/p", 1, 1, "p", &p, &err));
  vm_store_completion c = completion(k_sha_a, 1);
  ASSERT_OK(vm_store_file_start(f.s, a, f.run, &err));
  ASSERT_OK(vm_store_file_complete(f.s, a, f.run, &c, &err));
  ASSERT_OK(vm_store_file_start(f.s, b, f.run, &err));
  ASSERT_OK(vm_store_file_complete(f.s, b, f.run, &c, &err));
  ASSERT_OK(vm_store_run_begin(f.s, "t", NULL, &run2, &err));
  ASSERT_OK(vm_store_file_start(f.s, a, run2, &err)); /* then a crash */
  ASSERT_OK(vm_store_file_start(f.s, b, run2, &err)); /* then a stop */
  ASSERT_OK(vm_store_file_start(f.s, p, run2, &err)); /* new work, crash */
  ASSERT_OK(vm_store_file_release(f.s, b, &err));
  ASSERT_EQ(state_of(f.s, b), VM_FILE_COMPLETED);
  ASSERT_OK(vm_store_recover(f.s, &n_reset, &err));
  ASSERT_EQ(n_reset, 2);
  ASSERT_EQ(state_of(f.s, a), VM_FILE_COMPLETED);
  ASSERT_EQ(state_of(f.s, p), VM_FILE_PENDING);
  ASSERT_OK(vm_store_count_executions(f.s, "/in/a", &n, &err));
  ASSERT_EQ(n, 1);
  fx_close(&f);
  return 0;
}

static int test_load_stem_map(void) {
  fx f;
  vm_err err = {0};
  int64_t id;
  char **paths, **stems;
  size_t n;
  ASSERT_OK(fx_open(&f));
  ASSERT_OK(vm_store_load_stem_map(f.s, &paths, &stems, &n, &err));
  ASSERT_EQ(n, 0);
  vm_store_strings_free(paths, n);
  vm_store_strings_free(stems, n);
  ASSERT_OK(vm_store_file_register(f.s, "/in/b", 1, 1, "files/in/b", &id,
                                   &err));
  ASSERT_OK(vm_store_file_register(f.s, "/in/a", 1, 1, "files/in/a~2", &id,
                                   &err));
  ASSERT_OK(vm_store_file_register(f.s, "/in/c", 1, 1, NULL, &id, &err));
  ASSERT_OK(vm_store_load_stem_map(f.s, &paths, &stems, &n, &err));
  ASSERT_EQ(n, 2);
  ASSERT_STR_EQ(paths[0], "/in/a");
  ASSERT_STR_EQ(stems[0], "files/in/a~2");
  ASSERT_STR_EQ(paths[1], "/in/b");
  ASSERT_STR_EQ(stems[1], "files/in/b");
  vm_store_strings_free(paths, n);
  vm_store_strings_free(stems, n);
  fx_close(&f);
  return 0;
}

/* Each illegal call: VM_EINVAL, a message naming the state, no change. */
static int test_transitions_illegal(void) {
  fx f;
  vm_err err = {0};
  int64_t id, n;
  ASSERT_OK(fx_open(&f));
  ASSERT_OK(vm_store_file_register(f.s, "/in/x", 1, 1, "x", &id, &err));
  vm_store_completion c = completion(k_sha_a, 1);
  /* from pending */
  ASSERT_EQ(vm_store_file_complete(f.s, id, f.run, &c, &err), VM_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "it is pending, expected in_progress");
  ASSERT_STR_CONTAINS(err.msg, "/in/x");
  ASSERT_EQ(vm_store_file_fail(f.s, id, f.run, NULL, "E", "t", &err),
            VM_EINVAL);
  ASSERT_EQ(vm_store_file_release(f.s, id, &err), VM_EINVAL);
  ASSERT_EQ(vm_store_file_touch(f.s, id, f.run, &err), VM_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "expected completed");
  ASSERT_EQ(state_of(f.s, id), VM_FILE_PENDING);
  ASSERT_OK(vm_store_count_executions(f.s, "/in/x", &n, &err));
  ASSERT_EQ(n, 0);
  /* from in_progress */
  ASSERT_OK(vm_store_file_start(f.s, id, f.run, &err));
  ASSERT_EQ(vm_store_file_start(f.s, id, f.run, &err), VM_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "it is in_progress");
  ASSERT_EQ(vm_store_file_touch(f.s, id, f.run, &err), VM_EINVAL);
  ASSERT_EQ(attempts_of(f.s, id), 1);
  /* bad completion data leaves the row in_progress */
  c.sha256 = "abc";
  ASSERT_EQ(vm_store_file_complete(f.s, id, f.run, &c, &err), VM_EINVAL);
  ASSERT_EQ(state_of(f.s, id), VM_FILE_IN_PROGRESS);
  /* from failed */
  ASSERT_OK(vm_store_file_fail(f.s, id, f.run, NULL, "E", "t", &err));
  c.sha256 = k_sha_a;
  ASSERT_EQ(vm_store_file_complete(f.s, id, f.run, &c, &err), VM_EINVAL);
  ASSERT_EQ(vm_store_file_fail(f.s, id, f.run, NULL, "E", "t", &err),
            VM_EINVAL);
  ASSERT_EQ(vm_store_file_release(f.s, id, &err), VM_EINVAL);
  ASSERT_EQ(vm_store_file_touch(f.s, id, f.run, &err), VM_EINVAL);
  ASSERT_EQ(state_of(f.s, id), VM_FILE_FAILED);
  /* from completed */
  ASSERT_OK(vm_store_file_start(f.s, id, f.run, &err));
  ASSERT_OK(vm_store_file_complete(f.s, id, f.run, &c, &err));
  ASSERT_EQ(vm_store_file_complete(f.s, id, f.run, &c, &err), VM_EINVAL);
  ASSERT_EQ(vm_store_file_fail(f.s, id, f.run, NULL, "E", "t", &err),
            VM_EINVAL);
  ASSERT_EQ(vm_store_file_release(f.s, id, &err), VM_EINVAL);
  ASSERT_OK(vm_store_count_executions(f.s, "/in/x", &n, &err));
  ASSERT_EQ(n, 1);
  /* unknown id, unknown run */
  ASSERT_EQ(vm_store_file_start(f.s, 999, f.run, &err), VM_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "no such file row");
  ASSERT_EQ(vm_store_file_start(f.s, id, f.run + 7, &err), VM_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "FOREIGN KEY");
  ASSERT_EQ(state_of(f.s, id), VM_FILE_COMPLETED);
  fx_close(&f);
  return 0;
}

/* If the executions insert fails, the state update is rolled back too. */
static int test_complete_is_atomic(void) {
  fx f;
  vm_err err = {0};
  int64_t id, n;
  ASSERT_OK(fx_open(&f));
  ASSERT_OK(vm_store_file_register(f.s, "/in/x", 1, 1, "x", &id, &err));
  ASSERT_OK(vm_store_file_start(f.s, id, f.run, &err));
  ASSERT_EQ(sqlite3_exec(vm__store_db(f.s),
                         "CREATE TEMP TRIGGER boom BEFORE INSERT ON"
                         " executions BEGIN SELECT RAISE(ABORT, 'boom'); END",
                         NULL, NULL, NULL), SQLITE_OK);
  vm_store_completion c = completion(k_sha_a, 1);
  ASSERT_NE(vm_store_file_complete(f.s, id, f.run, &c, &err), 0);
  ASSERT_STR_CONTAINS(err.msg, "boom");
  ASSERT_EQ(state_of(f.s, id), VM_FILE_IN_PROGRESS);
  ASSERT_EQ(sqlite3_exec(vm__store_db(f.s), "DROP TRIGGER boom", NULL, NULL,
                         NULL), SQLITE_OK);
  ASSERT_OK(vm_store_file_complete(f.s, id, f.run, &c, &err));
  ASSERT_OK(vm_store_count_executions(f.s, "/in/x", &n, &err));
  ASSERT_EQ(n, 1);
  fx_close(&f);
  return 0;
}

static int test_recover(void) {
  fx f;
  vm_err err = {0};
  int64_t id[3], counts[VM_FILE_N_STATES];
  int n_reset = -1;
  ASSERT_OK(fx_open(&f));
  for (int i = 0; i < 3; i++) {
    char p[32], stem[8];
    snprintf(p, sizeof p, "/in/%d", i);
    snprintf(stem, sizeof stem, "s%d", i);
    ASSERT_OK(vm_store_file_register(f.s, p, 1, 1, stem, &id[i], &err));
  }
  ASSERT_OK(vm_store_file_start(f.s, id[0], f.run, &err));
  ASSERT_OK(vm_store_file_start(f.s, id[1], f.run, &err));
  ASSERT_OK(vm_store_recover(f.s, &n_reset, &err));
  ASSERT_EQ(n_reset, 2);
  ASSERT_OK(vm_store_count_states(f.s, counts, &err));
  ASSERT_EQ(counts[VM_FILE_PENDING], 3);
  ASSERT_EQ(counts[VM_FILE_IN_PROGRESS], 0);
  /* a crashed attempt still counts (a file that kills us is visible) */
  ASSERT_EQ(attempts_of(f.s, id[0]), 1);
  ASSERT_OK(vm_store_recover(f.s, &n_reset, &err));
  ASSERT_EQ(n_reset, 0);
  ASSERT_OK(vm_store_recover(f.s, NULL, &err));
  fx_close(&f);
  return 0;
}

static int test_load_completed(void) {
  fx f;
  vm_err err = {0};
  int64_t id[6];
  vm_store_done *d;
  size_t n;
  ASSERT_OK(fx_open(&f));
  ASSERT_OK(vm_store_load_completed(f.s, &d, &n, &err));
  ASSERT_EQ(n, 0);
  vm_store_done_free(d, n);
  /* paths registered out of order; 0,2,4 completed; 1 failed; 3 pending;
   * 5 in_progress */
  const char *paths[6] = {"/in/e", "/in/d", "/in/c", "/in/b", "/in/a",
                          "/in/f"};
  for (int i = 0; i < 6; i++) {
    char stem[8];
    snprintf(stem, sizeof stem, "st%d", i);
    ASSERT_OK(vm_store_file_register(f.s, paths[i], i, i, stem, &id[i], &err));
    if (i == 3) continue;
    ASSERT_OK(vm_store_file_start(f.s, id[i], f.run, &err));
    if (i == 1) {
      ASSERT_OK(vm_store_file_fail(f.s, id[i], f.run, NULL, "E", "x", &err));
    } else if (i != 5) {
      vm_store_completion c = completion(i == 2 ? k_sha_b : k_sha_a,
                                         1000 + i);
      ASSERT_OK(vm_store_file_complete(f.s, id[i], f.run, &c, &err));
    }
  }
  ASSERT_OK(vm_store_load_completed(f.s, &d, &n, &err));
  ASSERT_EQ(n, 3);
  /* ordered by path: /in/a (i=4), /in/c (i=2), /in/e (i=0) */
  const int want[3] = {4, 2, 0};
  for (size_t k = 0; k < 3; k++) {
    int i = want[k];
    char stem[8];
    snprintf(stem, sizeof stem, "st%d", i);
    ASSERT_STR_EQ(d[k].path, paths[i]);
    ASSERT_EQ(d[k].size_bytes, 1000 + i);
    ASSERT_EQ(d[k].mtime_ns, (1000 + i) * 10);
    ASSERT_STR_EQ(d[k].sha256, i == 2 ? k_sha_b : k_sha_a);
    ASSERT_STR_EQ(d[k].outputs_json, "{\"json\":\"x.json\"}");
    ASSERT_STR_EQ(d[k].output_stem, stem);
  }
  vm_store_done_free(d, n);
  vm_store_done_free(NULL, 0);
  fx_close(&f);
  return 0;
}

static int test_executions_counted(void) {
  fx f;
  vm_err err = {0};
  int64_t a, b, n, run2;
  ASSERT_OK(fx_open(&f));
  ASSERT_OK(vm_store_file_register(f.s, "/in/a", 1, 1, "a", &a, &err));
  ASSERT_OK(vm_store_file_register(f.s, "/in/b", 1, 1, "b", &b, &err));
  vm_store_completion c = completion(k_sha_a, 1);
  ASSERT_OK(vm_store_file_start(f.s, a, f.run, &err));
  ASSERT_OK(vm_store_file_complete(f.s, a, f.run, &c, &err));
  ASSERT_OK(vm_store_run_begin(f.s, "0.1.0", NULL, &run2, &err));
  ASSERT_OK(vm_store_file_start(f.s, a, run2, &err));
  ASSERT_OK(vm_store_file_complete(f.s, a, run2, &c, &err));
  ASSERT_OK(vm_store_file_start(f.s, b, run2, &err));
  ASSERT_OK(vm_store_file_complete(f.s, b, run2, &c, &err));
  ASSERT_OK(vm_store_count_executions(f.s, "/in/a", &n, &err));
  ASSERT_EQ(n, 2);
  ASSERT_OK(vm_store_count_executions(f.s, "/in/b", &n, &err));
  ASSERT_EQ(n, 1);
  ASSERT_OK(vm_store_count_executions(f.s, "/in/none", &n, &err));
  ASSERT_EQ(n, 0);
  ASSERT_EQ(sql_int(f.s, "SELECT count(DISTINCT run_id) FROM executions"), 2);
  fx_close(&f);
  return 0;
}

typedef struct failed_seen {
  int n;
  char paths[4][32];
  char codes[4][32];
  char texts[4][64];
  int attempts[4];
} failed_seen;

static int on_failed(void *user, const char *path, const char *sha256,
                     int attempts, const char *code, const char *text) {
  failed_seen *fs = user;
  if (fs->n >= 4) return 1;
  snprintf(fs->paths[fs->n], 32, "%s", path);
  snprintf(fs->codes[fs->n], 32, "%s", code ? code : "(null)");
  snprintf(fs->texts[fs->n], 64, "%s", text ? text : "(null)");
  fs->attempts[fs->n] = attempts;
  fs->n++;
  return 0;
}

static int stop_at_first(void *user, const char *path, const char *sha256,
                         int attempts, const char *code, const char *text) {
  (*(int *)user)++;
  return 42;
}

static int test_count_states_each_failed(void) {
  fx f;
  vm_err err = {0};
  int64_t id[5], counts[VM_FILE_N_STATES];
  failed_seen fs = {0};
  int calls = 0;
  ASSERT_OK(fx_open(&f));
  const char *paths[5] = {"/in/z", "/in/y", "/in/x", "/in/w", "/in/v"};
  for (int i = 0; i < 5; i++)
    ASSERT_OK(vm_store_file_register(f.s, paths[i], 1, 1, NULL, &id[i], &err));
  for (int i = 0; i < 4; i++)
    ASSERT_OK(vm_store_file_start(f.s, id[i], f.run, &err));
  ASSERT_OK(vm_store_file_fail(f.s, id[0], f.run, NULL, "VM_EFORMAT",
                               "not audio", &err));
  ASSERT_OK(vm_store_file_fail(f.s, id[1], f.run, k_sha_b, "VM_EDECODE",
                               "truncated at 3.2 s", &err));
  vm_store_completion c = completion(k_sha_a, 1);
  ASSERT_OK(vm_store_file_complete(f.s, id[2], f.run, &c, &err));
  ASSERT_OK(vm_store_count_states(f.s, counts, &err));
  ASSERT_EQ(counts[VM_FILE_PENDING], 1);
  ASSERT_EQ(counts[VM_FILE_IN_PROGRESS], 1);
  ASSERT_EQ(counts[VM_FILE_COMPLETED], 1);
  ASSERT_EQ(counts[VM_FILE_FAILED], 2);
  ASSERT_OK(vm_store_each_file(f.s, VM_FILE_FAILED, on_failed, &fs, &err));
  ASSERT_EQ(fs.n, 2);
  ASSERT_STR_EQ(fs.paths[0], "/in/y");
  ASSERT_STR_EQ(fs.codes[0], "VM_EDECODE");
  ASSERT_STR_EQ(fs.texts[0], "truncated at 3.2 s");
  ASSERT_STR_EQ(fs.paths[1], "/in/z");
  ASSERT_STR_EQ(fs.codes[1], "VM_EFORMAT");
  ASSERT_STR_EQ(fs.texts[1], "not audio");
  ASSERT_EQ(fs.attempts[0], 1);
  ASSERT_EQ(vm_store_each_file(f.s, VM_FILE_FAILED, stop_at_first, &calls,
                               &err), 42);
  ASSERT_EQ(calls, 1);
  ASSERT_EQ(vm_store_each_file(f.s, (enum vm_file_state)9, on_failed, &fs,
                               &err), VM_EINVAL);
  ASSERT_STR_EQ(vm_file_state_name(VM_FILE_IN_PROGRESS), "in_progress");
  ASSERT_STR_EQ(vm_file_state_name(VM_FILE_FAILED), "failed");
  fx_close(&f);
  return 0;
}

static int test_runs(void) {
  fx f;
  vm_err err = {0};
  int64_t run2;
  ASSERT_OK(fx_open(&f));
  ASSERT_OK(vm_store_run_begin(f.s, "0.2.0", "{\"workers\":4}", &run2, &err));
  ASSERT_GT(run2, f.run);
  ASSERT_EQ(sql_int(f.s, "SELECT count(*) FROM runs WHERE status='running'"
                         " AND ended_ms IS NULL AND started_ms > 0"), 2);
  ASSERT_OK(vm_store_run_end(f.s, f.run, "interrupted", "{\"done\":1}", &err));
  ASSERT_EQ(vm_store_run_end(f.s, run2, "running", NULL, &err), VM_EINVAL);
  ASSERT_EQ(vm_store_run_end(f.s, run2, "bogus", NULL, &err), VM_EINVAL);
  ASSERT_EQ(vm_store_run_end(f.s, 999, "completed", NULL, &err), VM_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "no run 999");
  ASSERT_OK(vm_store_run_end(f.s, run2, "completed", NULL, &err));
  ASSERT_EQ(sql_int(f.s, "SELECT count(*) FROM runs WHERE ended_ms > 0"), 2);
  ASSERT_EQ(sql_int(f.s, "SELECT count(*) FROM runs WHERE status="
                         "'interrupted' AND totals_json='{\"done\":1}'"), 1);
  fx_close(&f);
  return 0;
}

typedef struct batches_seen {
  int n;
  vm_batch_result b[4];
  char gpu[4][32];
  int gpu_null[4];
} batches_seen;

static int on_batch(void *user, const vm_batch_result *b) {
  batches_seen *bs = user;
  if (bs->n >= 4) return 1;
  bs->b[bs->n] = *b;
  bs->gpu_null[bs->n] = b->gpu_json == NULL;
  snprintf(bs->gpu[bs->n], 32, "%s", b->gpu_json ? b->gpu_json : "");
  bs->b[bs->n].gpu_json = bs->b[bs->n].errors_json = NULL;
  bs->n++;
  return 0;
}

static int test_batches(void) {
  fx f;
  vm_err err = {0};
  int64_t run2;
  batches_seen bs = {0};
  ASSERT_OK(fx_open(&f));
  vm_batch_result b = {
      .run_id = f.run, .batch_number = 1, .total = 10, .successful = 9,
      .failed = 1, .skipped = 0, .retries = 2, .start_ms = 1000,
      .end_ms = 2000, .duration_s = 1.0, .audio_s = 600.5,
      .peak_rss_mb = 512.25, .cpu_util = 0.75, .gpu_json = "{\"util\":0.9}",
      .errors_json = "[\"a: not audio\"]"};
  ASSERT_OK(vm_store_batch_write(f.s, &b, &err));
  b.batch_number = 2;
  b.gpu_json = NULL;
  ASSERT_OK(vm_store_batch_write(f.s, &b, &err));
  /* replace batch 2 */
  b.total = 7;
  b.successful = 7;
  b.failed = 0;
  ASSERT_OK(vm_store_batch_write(f.s, &b, &err));
  ASSERT_OK(vm_store_run_begin(f.s, "0.1.0", NULL, &run2, &err));
  b.run_id = run2;
  b.batch_number = 1;
  b.total = 3;
  ASSERT_OK(vm_store_batch_write(f.s, &b, &err));
  b.batch_number = 0;
  ASSERT_EQ(vm_store_batch_write(f.s, &b, &err), VM_EINVAL);
  b.batch_number = 1;
  b.run_id = 999; /* no such run */
  ASSERT_EQ(vm_store_batch_write(f.s, &b, &err), VM_EINVAL);
  ASSERT_OK(vm_store_each_batch(f.s, f.run, on_batch, &bs, &err));
  ASSERT_EQ(bs.n, 2);
  ASSERT_EQ(bs.b[0].batch_number, 1);
  ASSERT_EQ(bs.b[0].total, 10);
  ASSERT_EQ(bs.b[0].retries, 2);
  ASSERT_EQ(bs.b[0].start_ms, 1000);
  ASSERT_EQ(bs.b[0].end_ms, 2000);
  ASSERT_NEAR(bs.b[0].audio_s, 600.5, 1e-9);
  ASSERT_NEAR(bs.b[0].peak_rss_mb, 512.25, 1e-9);
  ASSERT_NEAR(bs.b[0].cpu_util, 0.75, 1e-9);
  ASSERT_STR_EQ(bs.gpu[0], "{\"util\":0.9}");
  ASSERT_EQ(bs.b[1].batch_number, 2);
  ASSERT_EQ(bs.b[1].total, 7);
  ASSERT_EQ(bs.b[1].failed, 0);
  ASSERT_EQ(bs.gpu_null[1], 1);
  /* run_id 0: the latest run */
  memset(&bs, 0, sizeof bs);
  ASSERT_OK(vm_store_each_batch(f.s, 0, on_batch, &bs, &err));
  ASSERT_EQ(bs.n, 1);
  ASSERT_EQ(bs.b[0].run_id, run2);
  ASSERT_EQ(bs.b[0].total, 3);
  ASSERT_EQ(sql_int(f.s, "SELECT count(*) FROM batches"), 3);
  fx_close(&f);
  return 0;
}

/* Every allocation failure in the loads gives VM_ENOMEM and leaks
 * nothing (run under ASan to see the second half). */
static int test_loads_out_of_memory(void) {
  fx f;
  vm_err err = {0};
  int64_t id;
  int n_nomem = 0;
  ASSERT_OK(fx_open(&f));
  for (int i = 0; i < 3; i++) {
    char p[16];
    snprintf(p, sizeof p, "/in/%d", i);
    ASSERT_OK(vm_store_file_register(f.s, p, 1, 1, p + 4, &id, &err));
    ASSERT_OK(vm_store_file_start(f.s, id, f.run, &err));
    vm_store_completion c = completion(k_sha_a, 1);
    ASSERT_OK(vm_store_file_complete(f.s, id, f.run, &c, &err));
  }
  for (long k = 0; k < 16; k++) {
    vm_store_done *d = NULL;
    char **a = NULL, **b = NULL;
    size_t n = 0, m = 0, q = 0;
    vm_alloc_fail_after(k);
    int rc1 = vm_store_load_completed(f.s, &d, &n, &err);
    vm_alloc_fail_after(k);
    int rc2 = vm_store_load_stem_map(f.s, &a, &b, &m, &err);
    char **st = NULL;
    vm_alloc_fail_after(k);
    int rc3 = vm_store_load_stems(f.s, &st, &q, &err);
    vm_alloc_fail_after(-1);
    ASSERT(rc1 == VM_OK || rc1 == VM_ENOMEM);
    ASSERT(rc2 == VM_OK || rc2 == VM_ENOMEM);
    ASSERT(rc3 == VM_OK || rc3 == VM_ENOMEM);
    if (rc1 == VM_OK) ASSERT_EQ(n, 3); else ASSERT_NULL(d);
    if (rc2 == VM_OK) ASSERT_EQ(m, 3); else ASSERT_NULL(a);
    if (rc3 == VM_OK) ASSERT_EQ(q, 3); else ASSERT_NULL(st);
    n_nomem += (rc1 != 0) + (rc2 != 0) + (rc3 != 0);
    vm_store_done_free(d, n);
    vm_store_strings_free(a, m);
    vm_store_strings_free(b, m);
    vm_store_strings_free(st, q);
  }
  ASSERT_GT(n_nomem, 3);
  fx_close(&f);
  return 0;
}

/* Statements stay cached across many calls (no re-prepare, no leak). */
static int test_many_files(void) {
  fx f;
  vm_err err = {0};
  vm_store_done *d;
  size_t n;
  ASSERT_OK(fx_open(&f));
  for (int i = 0; i < 500; i++) {
    char p[32];
    int64_t id;
    snprintf(p, sizeof p, "/in/%04d.m4a", i);
    ASSERT_OK(vm_store_file_register(f.s, p, i, i, p + 4, &id, &err));
    ASSERT_OK(vm_store_file_start(f.s, id, f.run, &err));
    vm_store_completion c = completion(k_sha_a, i);
    ASSERT_OK(vm_store_file_complete(f.s, id, f.run, &c, &err));
  }
  ASSERT_OK(vm_store_load_completed(f.s, &d, &n, &err));
  ASSERT_EQ(n, 500);
  ASSERT_STR_EQ(d[499].path, "/in/0499.m4a");
  vm_store_done_free(d, n);
  fx_close(&f);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_register_semantics),
          TEST_ENTRY(test_register_changed_completed),
          TEST_ENTRY(test_transitions_legal),
          TEST_ENTRY(test_transitions_illegal),
          TEST_ENTRY(test_touch_skip_candidate),
          TEST_ENTRY(test_interrupted_recheck_stays_completed),
          TEST_ENTRY(test_load_stem_map),
          TEST_ENTRY(test_complete_is_atomic),
          TEST_ENTRY(test_recover),
          TEST_ENTRY(test_load_completed),
          TEST_ENTRY(test_executions_counted),
          TEST_ENTRY(test_count_states_each_failed),
          TEST_ENTRY(test_runs),
          TEST_ENTRY(test_batches),
          TEST_ENTRY(test_loads_out_of_memory),
          TEST_ENTRY(test_many_files))
