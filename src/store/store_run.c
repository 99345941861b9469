/* store_run.c — runs, batches and the read-only queries (status, tests).
 *
 * What it does: the runs and batches tables and the walks over files and
 * batches that `voiceman status` and the tests use.
 * What it does not do: format anything for people (report/, app/).
 *
 * DESIGN
 *   Batches are keyed by (run_id, batch_number), so batch 3 of one run
 *   never overwrites batch 3 of another (the original system keyed them by
 *   "batch_<n>" alone). The walks hand the callback borrowed strings that
 *   live until the callback returns; a non-zero return stops the walk and
 *   is returned as is.
 */
#include <string.h>

#include "store_impl.h"
#include "vm_time.h"

int vm_store_run_begin(vm_store *s, const char *version,
                       const char *options_json, int64_t *out_run_id,
                       vm_err *err) {
  sqlite3_stmt *st = NULL;
  int rc = vm__store_check_writable(s, "run_begin", err);
  *out_run_id = 0;
  if (rc != VM_OK) return rc;
  rc = sqlite3_prepare_v2(s->db,
                          "INSERT INTO runs(started_ms, status, version,"
                          " options_json) VALUES(?1, 'running', ?2, ?3)",
                          -1, &st, NULL);
  if (rc != SQLITE_OK) {
    rc = vm__store_db_err(s, rc, err, "cannot begin a run");
    goto out;
  }
  sqlite3_bind_int64(st, 1, vm_time_unix_ms());
  vm__store_bind_text(st, 2, version ? version : "");
  vm__store_bind_text(st, 3, options_json);
  rc = vm__store_step_done(s, st, err, "cannot begin a run");
  if (rc == VM_OK) *out_run_id = sqlite3_last_insert_rowid(s->db);
out:
  sqlite3_finalize(st);
  return rc;
}

int vm_store_run_end(vm_store *s, int64_t run_id, const char *status,
                     const char *totals_json, vm_err *err) {
  sqlite3_stmt *st = NULL;
  int rc = vm__store_check_writable(s, "run_end", err);
  if (rc != VM_OK) return rc;
  if (!status || (strcmp(status, "completed") != 0 &&
                  strcmp(status, "failed") != 0 &&
                  strcmp(status, "interrupted") != 0))
    return vm_err_set(err, VM_EINVAL,
                      "run_end: status must be completed, failed or "
                      "interrupted, not \"%s\"", status ? status : "(null)");
  rc = sqlite3_prepare_v2(s->db,
                          "UPDATE runs SET ended_ms = ?2, status = ?3,"
                          " totals_json = ?4 WHERE id = ?1", -1, &st, NULL);
  if (rc != SQLITE_OK) {
    rc = vm__store_db_err(s, rc, err, "cannot end a run");
    goto out;
  }
  sqlite3_bind_int64(st, 1, run_id);
  sqlite3_bind_int64(st, 2, vm_time_unix_ms());
  vm__store_bind_text(st, 3, status);
  vm__store_bind_text(st, 4, totals_json);
  rc = vm__store_step_done(s, st, err, "cannot end a run");
  if (rc == VM_OK && sqlite3_changes(s->db) == 0)
    rc = vm_err_set(err, VM_EINVAL, "run_end: no run %lld", (long long)run_id);
out:
  sqlite3_finalize(st);
  return rc;
}

int vm_store_batch_write(vm_store *s, const vm_batch_result *b, vm_err *err) {
  sqlite3_stmt *st;
  int rc = vm__store_check_writable(s, "batch_write", err);
  if (rc != VM_OK) return rc;
  if (b->batch_number < 1)
    return vm_err_set(err, VM_EINVAL, "batch_write: batch_number %d < 1",
                      b->batch_number);
  if ((rc = vm__store_stmt(s, VM__ST_BATCH_WRITE, &st, err)) != VM_OK)
    return rc;
  sqlite3_bind_int64(st, 1, b->run_id);
  sqlite3_bind_int(st, 2, b->batch_number);
  sqlite3_bind_int(st, 3, b->total);
  sqlite3_bind_int(st, 4, b->successful);
  sqlite3_bind_int(st, 5, b->failed);
  sqlite3_bind_int(st, 6, b->skipped);
  sqlite3_bind_int(st, 7, b->retries);
  sqlite3_bind_int64(st, 8, b->start_ms);
  sqlite3_bind_int64(st, 9, b->end_ms);
  sqlite3_bind_double(st, 10, b->duration_s);
  sqlite3_bind_double(st, 11, b->audio_s);
  sqlite3_bind_double(st, 12, b->peak_rss_mb);
  sqlite3_bind_double(st, 13, b->cpu_util);
  vm__store_bind_text(st, 14, b->gpu_json);
  vm__store_bind_text(st, 15, b->errors_json);
  return vm__store_step_done(s, st, err, "cannot write a batch");
}

int vm_store_count_states(vm_store *s, int64_t counts[VM_FILE_N_STATES],
                          vm_err *err) {
  sqlite3_stmt *st = NULL;
  int rc;
  for (int i = 0; i < VM_FILE_N_STATES; i++) counts[i] = 0;
  rc = sqlite3_prepare_v2(s->db,
                          "SELECT state, count(*) FROM files GROUP BY state",
                          -1, &st, NULL);
  if (rc != SQLITE_OK) goto dberr;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(st, 0);
    for (int i = 0; i < VM_FILE_N_STATES; i++)
      if (name && strcmp(name, vm_file_state_name((enum vm_file_state)i)) == 0)
        counts[i] = sqlite3_column_int64(st, 1);
  }
  if (rc != SQLITE_DONE) goto dberr;
  sqlite3_finalize(st);
  return VM_OK;
dberr:
  rc = vm__store_db_err(s, rc, err, "cannot count files");
  sqlite3_finalize(st);
  return rc;
}

int vm_store_each_file(vm_store *s, enum vm_file_state state,
                       vm_store_file_fn fn, void *user, vm_err *err) {
  sqlite3_stmt *st = NULL;
  int rc;
  if ((int)state < 0 || (int)state >= VM_FILE_N_STATES)
    return vm_err_set(err, VM_EINVAL, "each_file: bad state %d", (int)state);
  rc = sqlite3_prepare_v2(s->db,
                          "SELECT path, sha256, attempts, last_error_code,"
                          " last_error FROM files WHERE state = ?1"
                          " ORDER BY path", -1, &st, NULL);
  if (rc != SQLITE_OK) goto dberr;
  vm__store_bind_text(st, 1, vm_file_state_name(state));
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    int r = fn(user, (const char *)sqlite3_column_text(st, 0),
               (const char *)sqlite3_column_text(st, 1),
               sqlite3_column_int(st, 2),
               (const char *)sqlite3_column_text(st, 3),
               (const char *)sqlite3_column_text(st, 4));
    if (r != 0) {
      sqlite3_finalize(st);
      return r;
    }
  }
  if (rc != SQLITE_DONE) goto dberr;
  sqlite3_finalize(st);
  return VM_OK;
dberr:
  rc = vm__store_db_err(s, rc, err, "cannot list files");
  sqlite3_finalize(st);
  return rc;
}

/* Fills b from a batches row (column order of the SELECT below). Strings
 * are borrowed from st until its next step. */
static void batch_from_row(sqlite3_stmt *st, vm_batch_result *b) {
  memset(b, 0, sizeof *b);
  b->run_id = sqlite3_column_int64(st, 0);
  b->batch_number = sqlite3_column_int(st, 1);
  b->total = sqlite3_column_int(st, 2);
  b->successful = sqlite3_column_int(st, 3);
  b->failed = sqlite3_column_int(st, 4);
  b->skipped = sqlite3_column_int(st, 5);
  b->retries = sqlite3_column_int(st, 6);
  b->start_ms = sqlite3_column_int64(st, 7);
  b->end_ms = sqlite3_column_int64(st, 8);
  b->duration_s = sqlite3_column_double(st, 9);
  b->audio_s = sqlite3_column_double(st, 10);
  b->peak_rss_mb = sqlite3_column_double(st, 11);
  b->cpu_util = sqlite3_column_double(st, 12);
  b->gpu_json = (const char *)sqlite3_column_text(st, 13);
  b->errors_json = (const char *)sqlite3_column_text(st, 14);
}

int vm_store_each_batch(vm_store *s, int64_t run_id, vm_store_batch_fn fn,
                        void *user, vm_err *err) {
  sqlite3_stmt *st = NULL;
  vm_batch_result b;
  int rc = sqlite3_prepare_v2(
      s->db,
      "SELECT run_id, batch_number, total, successful, failed, skipped,"
      " retries, start_ms, end_ms, duration_s, audio_s, peak_rss_mb,"
      " cpu_util, gpu_json, errors_json FROM batches"
      " WHERE run_id = CASE WHEN ?1 > 0 THEN ?1"
      "  ELSE (SELECT max(id) FROM runs) END"
      " ORDER BY batch_number", -1, &st, NULL);
  if (rc != SQLITE_OK) goto dberr;
  sqlite3_bind_int64(st, 1, run_id);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    batch_from_row(st, &b);
    int r = fn(user, &b);
    if (r != 0) {
      sqlite3_finalize(st);
      return r;
    }
  }
  if (rc != SQLITE_DONE) goto dberr;
  sqlite3_finalize(st);
  return VM_OK;
dberr:
  rc = vm__store_db_err(s, rc, err, "cannot list batches");
  sqlite3_finalize(st);
  return rc;
}

int vm_store_count_executions(vm_store *s, const char *path, int64_t *out_n,
                              vm_err *err) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(s->db,
                              "SELECT count(*) FROM executions e"
                              " JOIN files f ON f.id = e.file_id"
                              " WHERE f.path = ?1", -1, &st, NULL);
  *out_n = 0;
  if (rc != SQLITE_OK) goto dberr;
  vm__store_bind_text(st, 1, path);
  rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) goto dberr;
  *out_n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return VM_OK;
dberr:
  rc = vm__store_db_err(s, rc, err, "cannot count executions");
  sqlite3_finalize(st);
  return rc;
}
