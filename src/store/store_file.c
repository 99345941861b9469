/* store_file.c — the files table: registration, state changes, start-up
 * loads.
 *
 * What it does: every call that reads or writes one file row, plus the two
 * start-up loads (completed rows, output stems), each ONE query.
 * What it does not do: decide what to process (pipeline/) or hash/decode.
 *
 * DESIGN
 *   The state machine (docs/checkpoint-schema.md) is enforced by SQL:
 *   each change is "UPDATE ... WHERE id = ? AND state IN (<legal from>)".
 *   When no row changed, explain_refusal() reads the row once to say why
 *   (unknown id, or the state it is in) and the call returns VM_EINVAL.
 *   vm_store_file_complete updates the row and inserts the executions row
 *   in one transaction, so a completed file without its audit row (or the
 *   reverse) cannot exist.
 */
#include <stdio.h>
#include <string.h>

#include "store_impl.h"
#include "vm_alloc.h"
#include "vm_time.h"

/* Says why a guarded UPDATE changed nothing. Always returns VM_EINVAL
 * (or a translated error if the lookup itself fails). */
static int explain_refusal(vm_store *s, int64_t file_id, const char *what,
                           const char *expected, vm_err *err) {
  sqlite3_stmt *st;
  int rc = vm__store_stmt(s, VM__ST_FILE_STATE, &st, err);
  if (rc != VM_OK) return rc;
  sqlite3_bind_int64(st, 1, file_id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    rc = vm_err_set(err, VM_EINVAL,
                    "cannot %s file %lld (%s): it is %s, expected %s", what,
                    (long long)file_id,
                    (const char *)sqlite3_column_text(st, 1),
                    (const char *)sqlite3_column_text(st, 0), expected);
  } else if (rc == SQLITE_DONE) {
    rc = vm_err_set(err, VM_EINVAL, "cannot %s file %lld: no such file row",
                    what, (long long)file_id);
  } else {
    rc = vm__store_db_err(s, rc, err, "cannot read a file row");
  }
  vm__store_stmt_done(st);
  return rc;
}

/* Steps a guarded UPDATE; VM_EINVAL via explain_refusal when it changed
 * no row. */
static int step_transition(vm_store *s, sqlite3_stmt *st, int64_t file_id,
                           const char *what, const char *expected,
                           vm_err *err) {
  int rc = vm__store_step_done(s, st, err, what);
  if (rc != VM_OK) return rc;
  if (sqlite3_changes(s->db) == 0)
    return explain_refusal(s, file_id, what, expected, err);
  return VM_OK;
}

int vm_store_recover(vm_store *s, int *out_n_reset, vm_err *err) {
  sqlite3_stmt *st = NULL;
  int rc = vm__store_check_writable(s, "recover", err);
  if (out_n_reset) *out_n_reset = 0;
  if (rc != VM_OK) return rc;
  rc = sqlite3_prepare_v2(s->db,
                          /* a completed file that was only being re-checked
                           * (or redone by --force) is still completed: its
                           * outputs and execution row are intact */
                          "UPDATE files SET state = CASE WHEN started_from ="
                          " 'completed' AND sha256 IS NOT NULL THEN 'completed'"
                          " ELSE 'pending' END, updated_ms = ?1"
                          " WHERE state = 'in_progress'", -1, &st, NULL);
  if (rc != SQLITE_OK) {
    rc = vm__store_db_err(s, rc, err, "cannot recover");
    goto out;
  }
  sqlite3_bind_int64(st, 1, vm_time_unix_ms());
  rc = vm__store_step_done(s, st, err, "cannot recover");
  if (rc == VM_OK && out_n_reset) *out_n_reset = sqlite3_changes(s->db);
out:
  sqlite3_finalize(st);
  return rc;
}

/* Duplicates a column's text; *ok = 0 when out of memory. NULL stays NULL. */
static char *col_dup(sqlite3_stmt *st, int i, int *ok) {
  const char *t = (const char *)sqlite3_column_text(st, i);
  if (!t) return NULL;
  char *d = vm_strdup(t);
  if (!d) *ok = 0;
  return d;
}

int vm_store_load_completed(vm_store *s, vm_store_done **out, size_t *out_n,
                            vm_err *err) {
  sqlite3_stmt *st = NULL;
  vm_store_done *v = NULL;
  size_t n = 0, cap = 0;
  int rc;
  *out = NULL;
  *out_n = 0;
  rc = sqlite3_prepare_v2(s->db,
                          "SELECT path, size_bytes, mtime_ns, sha256,"
                          " outputs_json, output_stem FROM files"
                          " WHERE state = 'completed' ORDER BY path",
                          -1, &st, NULL);
  if (rc != SQLITE_OK) {
    rc = vm__store_db_err(s, rc, err, "cannot load completed files");
    goto fail;
  }
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      vm_store_done *nv = vm_realloc(v, ncap * sizeof *nv);
      if (!nv) goto nomem;
      v = nv;
      cap = ncap;
    }
    vm_store_done *d = &v[n++];
    int ok = 1;
    memset(d, 0, sizeof *d);
    d->path = col_dup(st, 0, &ok);
    d->size_bytes = sqlite3_column_int64(st, 1);
    d->mtime_ns = sqlite3_column_int64(st, 2);
    const char *sha = (const char *)sqlite3_column_text(st, 3);
    if (sha) snprintf(d->sha256, sizeof d->sha256, "%s", sha);
    d->outputs_json = col_dup(st, 4, &ok);
    d->output_stem = col_dup(st, 5, &ok);
    if (!ok) goto nomem;
  }
  if (rc != SQLITE_DONE) {
    rc = vm__store_db_err(s, rc, err, "cannot load completed files");
    goto fail;
  }
  sqlite3_finalize(st);
  *out = v;
  *out_n = n;
  return VM_OK;
nomem:
  rc = vm_err_set(err, VM_ENOMEM, "out of memory loading completed files");
fail:
  sqlite3_finalize(st);
  vm_store_done_free(v, n);
  return rc;
}

void vm_store_done_free(vm_store_done *d, size_t n) {
  if (!d) return;
  for (size_t i = 0; i < n; i++) {
    vm_free(d[i].path);
    vm_free(d[i].outputs_json);
    vm_free(d[i].output_stem);
  }
  vm_free(d);
}

int vm_store_file_register(vm_store *s, const char *path, int64_t size_bytes,
                           int64_t mtime_ns, const char *output_stem,
                           int64_t *out_file_id, vm_err *err) {
  sqlite3_stmt *st = NULL;
  int rc;
  *out_file_id = 0;
  if ((rc = vm__store_check_writable(s, "register", err)) != VM_OK) return rc;
  if (!path || !path[0])
    return vm_err_set(err, VM_EINVAL, "register: empty path");
  if ((rc = vm__store_stmt(s, VM__ST_FILE_REGISTER, &st, err)) != VM_OK)
    return rc;
  vm__store_bind_text(st, 1, path);
  sqlite3_bind_int64(st, 2, size_bytes);
  sqlite3_bind_int64(st, 3, mtime_ns);
  vm__store_bind_text(st, 4, output_stem);
  sqlite3_bind_int64(st, 5, vm_time_unix_ms());
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *out_file_id = sqlite3_column_int64(st, 0);
    rc = vm__store_step_done(s, st, err, "cannot register a file");
  } else if ((rc & 0xff) == SQLITE_CONSTRAINT) {
    /* The only constraint left is output_stem UNIQUE. */
    rc = vm__store_db_err(s, rc, err, "cannot register a file");
    vm_err_set(err, rc, "cannot register %s: output stem \"%s\" already "
               "belongs to another file", path, output_stem ? output_stem : "");
  } else {
    rc = vm__store_db_err(s, rc, err, "cannot register a file");
  }
  vm__store_stmt_done(st);
  return rc;
}

int vm_store_load_stems(vm_store *s, char ***out, size_t *out_n, vm_err *err) {
  sqlite3_stmt *st = NULL;
  char **v = NULL;
  size_t n = 0, cap = 0;
  int rc;
  *out = NULL;
  *out_n = 0;
  rc = sqlite3_prepare_v2(s->db,
                          "SELECT output_stem FROM files WHERE output_stem"
                          " IS NOT NULL ORDER BY output_stem", -1, &st, NULL);
  if (rc != SQLITE_OK) {
    rc = vm__store_db_err(s, rc, err, "cannot load output stems");
    goto fail;
  }
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      char **nv = vm_realloc(v, ncap * sizeof *nv);
      if (!nv) goto nomem;
      v = nv;
      cap = ncap;
    }
    int ok = 1;
    v[n] = col_dup(st, 0, &ok);
    if (!ok) goto nomem;
    n++;
  }
  if (rc != SQLITE_DONE) {
    rc = vm__store_db_err(s, rc, err, "cannot load output stems");
    goto fail;
  }
  sqlite3_finalize(st);
  *out = v;
  *out_n = n;
  return VM_OK;
nomem:
  rc = vm_err_set(err, VM_ENOMEM, "out of memory loading output stems");
fail:
  sqlite3_finalize(st);
  vm_store_strings_free(v, n);
  return rc;
}

int vm_store_load_stem_map(vm_store *s, char ***out_paths, char ***out_stems,
                           size_t *out_n, vm_err *err) {
  sqlite3_stmt *st = NULL;
  char **paths = NULL, **stems = NULL;
  size_t n = 0, cap = 0;
  int rc;
  *out_paths = *out_stems = NULL;
  *out_n = 0;
  rc = sqlite3_prepare_v2(s->db,
                          "SELECT path, output_stem FROM files WHERE"
                          " output_stem IS NOT NULL ORDER BY path",
                          -1, &st, NULL);
  if (rc != SQLITE_OK) goto dberr;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      char **np = vm_realloc(paths, ncap * sizeof *np);
      if (np) paths = np;
      char **ns = np ? vm_realloc(stems, ncap * sizeof *ns) : NULL;
      if (!ns) goto nomem;
      stems = ns;
      cap = ncap;
    }
    int ok = 1;
    paths[n] = col_dup(st, 0, &ok);
    stems[n] = col_dup(st, 1, &ok);
    n++;
    if (!ok) goto nomem;
  }
  if (rc != SQLITE_DONE) goto dberr;
  sqlite3_finalize(st);
  *out_paths = paths;
  *out_stems = stems;
  *out_n = n;
  return VM_OK;
dberr:
  rc = vm__store_db_err(s, rc, err, "cannot load output stems");
  goto fail;
nomem:
  rc = vm_err_set(err, VM_ENOMEM, "out of memory loading output stems");
fail:
  sqlite3_finalize(st);
  vm_store_strings_free(paths, n);
  vm_store_strings_free(stems, n);
  return rc;
}

void vm_store_strings_free(char **v, size_t n) {
  if (!v) return;
  for (size_t i = 0; i < n; i++) vm_free(v[i]);
  vm_free(v);
}

int vm_store_file_start(vm_store *s, int64_t file_id, int64_t run_id,
                        vm_err *err) {
  sqlite3_stmt *st;
  int rc = vm__store_check_writable(s, "start", err);
  if (rc == VM_OK) rc = vm__store_stmt(s, VM__ST_FILE_START, &st, err);
  if (rc != VM_OK) return rc;
  sqlite3_bind_int64(st, 1, file_id);
  sqlite3_bind_int64(st, 2, run_id);
  sqlite3_bind_int64(st, 3, vm_time_unix_ms());
  return step_transition(s, st, file_id, "start",
                         "pending, failed or completed", err);
}

static int completion_check(const vm_store_completion *c, vm_err *err) {
  if (!c || !c->sha256 || strlen(c->sha256) != 64)
    return vm_err_set(err, VM_EINVAL,
                      "complete: a 64-character sha256 is required");
  return VM_OK;
}

int vm_store_file_complete(vm_store *s, int64_t file_id, int64_t run_id,
                           const vm_store_completion *c, vm_err *err) {
  sqlite3_stmt *st;
  int64_t now = vm_time_unix_ms();
  int rc = vm__store_check_writable(s, "complete", err);
  if (rc == VM_OK) rc = completion_check(c, err);
  if (rc != VM_OK) return rc;
  if ((rc = vm__store_begin(s, err)) != VM_OK) return rc;
  if ((rc = vm__store_stmt(s, VM__ST_FILE_COMPLETE, &st, err)) != VM_OK)
    goto fail;
  sqlite3_bind_int64(st, 1, file_id);
  sqlite3_bind_int64(st, 2, run_id);
  sqlite3_bind_int64(st, 3, now);
  vm__store_bind_text(st, 4, c->sha256);
  sqlite3_bind_int64(st, 5, c->size_bytes);
  sqlite3_bind_int64(st, 6, c->mtime_ns);
  sqlite3_bind_double(st, 7, c->duration_s);
  vm__store_bind_text(st, 8, c->stage_times_json);
  vm__store_bind_text(st, 9, c->outputs_json);
  rc = step_transition(s, st, file_id, "complete", "in_progress", err);
  if (rc != VM_OK) goto fail;
  if ((rc = vm__store_stmt(s, VM__ST_EXEC_INSERT, &st, err)) != VM_OK)
    goto fail;
  sqlite3_bind_int64(st, 1, file_id);
  sqlite3_bind_int64(st, 2, run_id);
  sqlite3_bind_int64(st, 3, now);
  vm__store_bind_text(st, 4, c->sha256);
  rc = vm__store_step_done(s, st, err, "cannot record the execution");
  if (rc != VM_OK) goto fail;
  if ((rc = vm__store_commit(s, err)) != VM_OK) goto fail;
  return VM_OK;
fail:
  vm__store_rollback(s);
  return rc;
}

int vm_store_file_fail(vm_store *s, int64_t file_id, int64_t run_id,
                       const char *sha256, const char *error_code,
                       const char *error_text, vm_err *err) {
  sqlite3_stmt *st;
  int rc = vm__store_check_writable(s, "fail", err);
  if (rc == VM_OK) rc = vm__store_stmt(s, VM__ST_FILE_FAIL, &st, err);
  if (rc != VM_OK) return rc;
  sqlite3_bind_int64(st, 1, file_id);
  sqlite3_bind_int64(st, 2, run_id);
  sqlite3_bind_int64(st, 3, vm_time_unix_ms());
  vm__store_bind_text(st, 4, sha256);
  vm__store_bind_text(st, 5, error_code);
  vm__store_bind_text(st, 6, error_text);
  return step_transition(s, st, file_id, "fail", "in_progress", err);
}

int vm_store_file_release(vm_store *s, int64_t file_id, vm_err *err) {
  sqlite3_stmt *st;
  int rc = vm__store_check_writable(s, "release", err);
  if (rc == VM_OK) rc = vm__store_stmt(s, VM__ST_FILE_RELEASE, &st, err);
  if (rc != VM_OK) return rc;
  sqlite3_bind_int64(st, 1, file_id);
  sqlite3_bind_int64(st, 2, vm_time_unix_ms());
  return step_transition(s, st, file_id, "release", "in_progress", err);
}

int vm_store_file_touch(vm_store *s, int64_t file_id, int64_t run_id,
                        vm_err *err) {
  sqlite3_stmt *st;
  int rc = vm__store_check_writable(s, "touch", err);
  if (rc == VM_OK) rc = vm__store_stmt(s, VM__ST_FILE_TOUCH, &st, err);
  if (rc != VM_OK) return rc;
  sqlite3_bind_int64(st, 1, file_id);
  sqlite3_bind_int64(st, 2, run_id);
  sqlite3_bind_int64(st, 3, vm_time_unix_ms());
  return step_transition(s, st, file_id, "touch",
                         "completed (or in_progress started from completed)",
                         err);
}
