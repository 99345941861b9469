/* store.c — opening, locking, schema migration and the SQLite boundary.
 *
 * What it does: vm_store_open / vm_store_open_readonly / vm_store_close,
 * the run lock, PRAGMA set-up, schema creation and migration, the
 * prepared-statement cache and the SQLite rc → VM_E* translation.
 * What it does not do: the file/run/batch records (store_file.c,
 * store_run.c).
 *
 * DESIGN
 *   Lock first, database second: vm_store_open takes flock(LOCK_EX|LOCK_NB)
 *   on "<path>.lock" before SQLite touches the database, so two runs never
 *   migrate or recover the same store at once. The lock file holds the
 *   holder's pid for the error message; it is never deleted (deleting a
 *   lock file races with a process that has it open). The kernel releases
 *   the flock when the holder closes it or dies (kill -9 included).
 *
 *   Durability: journal_mode=WAL with synchronous=NORMAL. In WAL mode
 *   NORMAL does not fsync on each commit, only at checkpoints. A process
 *   crash loses nothing (the WAL is in the OS page cache); a power loss or
 *   kernel crash can roll back the last few commits but never corrupts the
 *   database. For us a lost commit means a file that was finished is seen
 *   as in_progress or pending next time and is processed again; its
 *   outputs are rewritten atomically and its executions row was lost with
 *   the same commit, so "done exactly once" still holds in the store.
 *   FULL would cost an fsync per file for no gain in correctness.
 *
 *   Schema versions live in PRAGMA user_version (application_id marks the
 *   file as ours). migrate() upgrades older stores step by step inside one
 *   transaction and refuses a newer version with a message naming both.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_impl.h"
#include "vm_alloc.h"
#include "vm_fs.h"
#include "vm_log.h"

/* Version 1 of the schema; see docs/checkpoint-schema.md. */
static const char k_schema_v1[] =
    "CREATE TABLE runs("
    " id INTEGER PRIMARY KEY,"
    " started_ms INTEGER NOT NULL,"
    " ended_ms INTEGER,"
    " status TEXT NOT NULL DEFAULT 'running'"
    "  CHECK(status IN ('running','completed','failed','interrupted')),"
    " version TEXT NOT NULL,"
    " options_json TEXT,"
    " totals_json TEXT);"
    "CREATE TABLE files("
    " id INTEGER PRIMARY KEY,"
    " path TEXT NOT NULL UNIQUE,"
    " size_bytes INTEGER NOT NULL,"
    " mtime_ns INTEGER NOT NULL,"
    " sha256 TEXT CHECK(sha256 IS NULL OR length(sha256) = 64),"
    " state TEXT NOT NULL DEFAULT 'pending'"
    "  CHECK(state IN ('pending','in_progress','completed','failed')),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " started_from TEXT,"
    " last_error_code TEXT,"
    " last_error TEXT,"
    " stage_times_json TEXT,"
    " outputs_json TEXT,"
    " output_stem TEXT UNIQUE,"
    " duration_s REAL,"
    " first_seen_run INTEGER REFERENCES runs(id),"
    " last_run INTEGER REFERENCES runs(id),"
    " completed_ms INTEGER,"
    " updated_ms INTEGER NOT NULL);"
    "CREATE INDEX files_state ON files(state);"
    "CREATE TABLE executions("
    " id INTEGER PRIMARY KEY,"
    " file_id INTEGER NOT NULL REFERENCES files(id),"
    " run_id INTEGER NOT NULL REFERENCES runs(id),"
    " completed_ms INTEGER NOT NULL,"
    " sha256 TEXT NOT NULL);"
    "CREATE INDEX executions_file ON executions(file_id);"
    "CREATE TABLE batches("
    " run_id INTEGER NOT NULL REFERENCES runs(id),"
    " batch_number INTEGER NOT NULL,"
    " total INTEGER NOT NULL, successful INTEGER NOT NULL,"
    " failed INTEGER NOT NULL, skipped INTEGER NOT NULL,"
    " retries INTEGER NOT NULL,"
    " start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,"
    " duration_s REAL NOT NULL, audio_s REAL NOT NULL,"
    " peak_rss_mb REAL NOT NULL, cpu_util REAL NOT NULL,"
    " gpu_json TEXT, errors_json TEXT,"
    " PRIMARY KEY(run_id, batch_number));";

/* SQL of the cached statements, indexed by enum vm__store_stmt_id.
 * State changes are guarded in the WHERE clause; a statement that changes
 * no row is an illegal transition (or an unknown id). */
static const char *const k_stmt_sql[VM__ST_COUNT] = {
    [VM__ST_BEGIN] = "BEGIN IMMEDIATE",
    [VM__ST_COMMIT] = "COMMIT",
    [VM__ST_ROLLBACK] = "ROLLBACK",
    /* ?1 path ?2 size ?3 mtime ?4 stem ?5 now. A changed size or mtime
     * drops the hash, and a completed row goes back to pending (its
     * outputs no longer describe the file on disk). SET expressions see
     * the old row. */
    [VM__ST_FILE_REGISTER] =
        "INSERT INTO files(path, size_bytes, mtime_ns, output_stem, state,"
        " first_seen_run, updated_ms)"
        " VALUES(?1, ?2, ?3, ?4, 'pending', (SELECT max(id) FROM runs), ?5)"
        " ON CONFLICT(path) DO UPDATE SET"
        "  state = CASE WHEN state = 'completed' AND"
        "   (size_bytes <> excluded.size_bytes OR mtime_ns <> excluded.mtime_ns)"
        "   THEN 'pending' ELSE state END,"
        "  sha256 = CASE WHEN size_bytes <> excluded.size_bytes"
        "   OR mtime_ns <> excluded.mtime_ns THEN NULL ELSE sha256 END,"
        "  size_bytes = excluded.size_bytes, mtime_ns = excluded.mtime_ns,"
        "  output_stem = coalesce(output_stem, excluded.output_stem),"
        "  updated_ms = excluded.updated_ms"
        " RETURNING id",
    [VM__ST_FILE_STATE] = "SELECT state, path FROM files WHERE id = ?1",
    /* ?1 id ?2 run ?3 now */
    [VM__ST_FILE_START] =
        "UPDATE files SET state = 'in_progress', attempts = attempts + 1,"
        " started_from = state,"
        " last_run = ?2, first_seen_run = coalesce(first_seen_run, ?2),"
        " updated_ms = ?3"
        " WHERE id = ?1 AND state IN ('pending','failed','completed')",
    /* ?1 id ?2 run ?3 now ?4 sha ?5 size ?6 mtime ?7 duration ?8 stages
     * ?9 outputs */
    [VM__ST_FILE_COMPLETE] =
        "UPDATE files SET state = 'completed', sha256 = ?4, size_bytes = ?5,"
        " mtime_ns = ?6, duration_s = ?7, stage_times_json = ?8,"
        " outputs_json = ?9, last_error_code = NULL, last_error = NULL,"
        " last_run = ?2, completed_ms = ?3, updated_ms = ?3"
        " WHERE id = ?1 AND state = 'in_progress'",
    [VM__ST_EXEC_INSERT] =
        "INSERT INTO executions(file_id, run_id, completed_ms, sha256)"
        " VALUES(?1, ?2, ?3, ?4)",
    /* ?1 id ?2 run ?3 now ?4 sha (may be NULL) ?5 code ?6 text */
    [VM__ST_FILE_FAIL] =
        "UPDATE files SET state = 'failed', sha256 = coalesce(?4, sha256),"
        " last_error_code = ?5, last_error = ?6, last_run = ?2,"
        " updated_ms = ?3"
        " WHERE id = ?1 AND state = 'in_progress'",
    /* An interrupted attempt does not count: attempts goes back down. */
    [VM__ST_FILE_RELEASE] =
        /* a canceled re-check of a completed file leaves it completed */
        "UPDATE files SET state = CASE WHEN started_from = 'completed'"
        " AND sha256 IS NOT NULL THEN 'completed' ELSE 'pending' END,"
        " attempts = max(attempts - 1, 0), updated_ms = ?2"
        " WHERE id = ?1 AND state = 'in_progress'",
    /* A skip: the row is completed, or in_progress started from
     * completed (dispatched for hashing, hash matched). Hashing is not an
     * attempt, so the start's attempts += 1 is taken back. */
    [VM__ST_FILE_TOUCH] =
        "UPDATE files SET state = 'completed', last_run = ?2,"
        " attempts = CASE WHEN state = 'in_progress'"
        "  THEN max(attempts - 1, 0) ELSE attempts END, updated_ms = ?3"
        " WHERE id = ?1 AND (state = 'completed' OR"
        "  (state = 'in_progress' AND started_from = 'completed'))",
    [VM__ST_BATCH_WRITE] =
        "INSERT OR REPLACE INTO batches(run_id, batch_number, total,"
        " successful, failed, skipped, retries, start_ms, end_ms, duration_s,"
        " audio_s, peak_rss_mb, cpu_util, gpu_json, errors_json)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
        " ?14, ?15)",
};

static const char *const k_state_names[VM_FILE_N_STATES] = {
    "pending", "in_progress", "completed", "failed"};

const char *vm_file_state_name(enum vm_file_state st) {
  if ((int)st < 0 || (int)st >= VM_FILE_N_STATES) return "unknown";
  return k_state_names[st];
}

/* --- SQLite boundary ------------------------------------------------- */

int vm__store_db_err(vm_store *s, int rc, vm_err *err, const char *what) {
  int sys = s && s->db ? sqlite3_system_errno(s->db) : 0;
  int code;
  switch (rc & 0xff) {
    case SQLITE_FULL: code = VM_ENOSPC; break;
    case SQLITE_BUSY: case SQLITE_LOCKED: code = VM_EBUSY; break;
    case SQLITE_NOMEM: code = VM_ENOMEM; break;
    case SQLITE_CONSTRAINT: code = VM_EINVAL; break;
    case SQLITE_IOERR:
      code = (sys == ENOSPC || sys == EDQUOT || sys == EFBIG) ? VM_ENOSPC
                                                             : VM_EDB;
      break;
    case SQLITE_READONLY: case SQLITE_CANTOPEN: case SQLITE_PERM:
      code = (sys == EACCES || sys == EPERM || sys == EROFS) ? VM_EACCES
                                                            : VM_EDB;
      break;
    default: code = VM_EDB;
  }
  const char *msg = s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
  const char *path = s && s->path ? s->path : "?";
  if (sys != 0)
    return vm_err_set(err, code, "%s: %s (%s) [store %s]", what, msg,
                      strerror(sys), path);
  return vm_err_set(err, code, "%s: %s [store %s]", what, msg, path);
}

int vm__store_stmt(vm_store *s, enum vm__store_stmt_id id,
                   sqlite3_stmt **out, vm_err *err) {
  VM_ASSERT(id >= 0 && id < VM__ST_COUNT);
  *out = NULL;
  if (!s->stmts[id]) {
    int rc = sqlite3_prepare_v3(s->db, k_stmt_sql[id], -1,
                                SQLITE_PREPARE_PERSISTENT, &s->stmts[id], NULL);
    if (rc != SQLITE_OK) {
      s->stmts[id] = NULL;
      return vm__store_db_err(s, rc, err, "cannot prepare a statement");
    }
  }
  sqlite3_reset(s->stmts[id]);
  sqlite3_clear_bindings(s->stmts[id]);
  *out = s->stmts[id];
  return VM_OK;
}

void vm__store_stmt_done(sqlite3_stmt *st) {
  if (st) sqlite3_reset(st);
}

int vm__store_step_done(vm_store *s, sqlite3_stmt *st, vm_err *err,
                        const char *what) {
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) {
    int code = vm__store_db_err(s, rc, err, what);
    sqlite3_reset(st);
    return code;
  }
  sqlite3_reset(st);
  return VM_OK;
}

static int run_cached(vm_store *s, enum vm__store_stmt_id id, vm_err *err,
                      const char *what) {
  sqlite3_stmt *st;
  int rc = vm__store_stmt(s, id, &st, err);
  if (rc == VM_OK) rc = vm__store_step_done(s, st, err, what);
  return rc;
}

int vm__store_begin(vm_store *s, vm_err *err) {
  return run_cached(s, VM__ST_BEGIN, err, "cannot begin a transaction");
}

int vm__store_commit(vm_store *s, vm_err *err) {
  return run_cached(s, VM__ST_COMMIT, err, "cannot commit");
}

void vm__store_rollback(vm_store *s) {
  /* After some errors (SQLITE_FULL, IOERR) SQLite has already rolled
   * back; ROLLBACK outside a transaction would only add noise. */
  if (sqlite3_get_autocommit(s->db)) return;
  if (run_cached(s, VM__ST_ROLLBACK, NULL, "rollback") != VM_OK)
    VM_WARN("store %s: rollback failed: %s", s->path, sqlite3_errmsg(s->db));
}

int vm__store_check_writable(vm_store *s, const char *what, vm_err *err) {
  if (!s->readonly) return VM_OK;
  return vm_err_set(err, VM_EINVAL, "%s: store %s is open read-only", what,
                    s->path);
}

int vm__store_bind_text(sqlite3_stmt *st, int i, const char *text) {
  if (!text) return sqlite3_bind_null(st, i);
  return sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT);
}

sqlite3 *vm__store_db(vm_store *s) { return s->db; }

/* Runs a one-value integer query (PRAGMA or SELECT). */
static int query_int(vm_store *s, const char *sql, int64_t *out, vm_err *err,
                     const char *what) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_int64(st, 0);
    rc = VM_OK;
  } else {
    rc = vm__store_db_err(s, rc == SQLITE_DONE ? SQLITE_ERROR : rc, err, what);
  }
  sqlite3_finalize(st);
  return rc;
}

int vm__store_quick_check(vm_store *s, vm_err *err) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check", -1, &st, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    rc = vm__store_db_err(s, rc, err, "quick_check failed");
    goto out;
  }
  const char *res = (const char *)sqlite3_column_text(st, 0);
  if (!res || strcmp(res, "ok") != 0) {
    rc = vm_err_set(err, VM_EDB, "store %s is damaged: %s", s->path,
                    res ? res : "?");
    goto out;
  }
  rc = VM_OK;
out:
  sqlite3_finalize(st);
  return rc;
}

/* --- lock ------------------------------------------------------------ */

/* Takes the run lock on "<path>.lock" and writes our pid into it. */
static int lock_take(vm_store *s, vm_err *err) {
  char *lock_path = vm_asprintf("%s.lock", s->path);
  char buf[32];
  int rc = VM_OK;
  if (!lock_path) return vm_err_set(err, VM_ENOMEM, "out of memory");
  s->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (s->lock_fd < 0) {
    int e = errno;
    rc = vm_err_set(err, vm_status_from_errno(e),
                    "cannot create the store lock file %s: %s", lock_path,
                    strerror(e));
    goto out;
  }
  if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    if (e == EWOULDBLOCK) {
      ssize_t n = pread(s->lock_fd, buf, sizeof buf - 1, 0);
      long pid = 0;
      if (n > 0) {
        buf[n] = '\0';
        pid = strtol(buf, NULL, 10);
      }
      if (pid > 0)
        rc = vm_err_set(err, VM_EBUSY,
                        "another voiceman run is using the store %s (pid %ld)",
                        s->path, pid);
      else
        rc = vm_err_set(err, VM_EBUSY,
                        "another voiceman run is using the store %s "
                        "(pid unknown)", s->path);
    } else {
      rc = vm_err_set(err, vm_status_from_errno(e), "cannot lock %s: %s",
                      lock_path, strerror(e));
    }
    close(s->lock_fd);
    s->lock_fd = -1;
    goto out;
  }
  /* The pid is only for the message above: failing to write it is not
   * worth refusing the run (the database itself will report a full disk). */
  int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
  if (ftruncate(s->lock_fd, 0) != 0 ||
      pwrite(s->lock_fd, buf, (size_t)n, 0) != (ssize_t)n)
    VM_WARN("cannot write pid into %s: %s", lock_path, strerror(errno));
out:
  vm_free(lock_path);
  return rc;
}

static void lock_release(vm_store *s) {
  if (s->lock_fd < 0) return;
  /* Clear the pid first so nobody reads a stale one, then unlock. */
  if (ftruncate(s->lock_fd, 0) != 0) {
    /* harmless: the next holder overwrites it */
  }
  flock(s->lock_fd, LOCK_UN);
  close(s->lock_fd);
  s->lock_fd = -1;
}

/* --- schema ---------------------------------------------------------- */

/* Creates or upgrades the schema. Runs in one IMMEDIATE transaction so a
 * crash mid-way leaves the old version intact. */
static int migrate(vm_store *s, vm_err *err) {
  int64_t version = 0, app_id = 0, n_objects = 0;
  char *msg = NULL;
  int rc = vm__store_begin(s, err);
  if (rc != VM_OK) return rc;
  if ((rc = query_int(s, "PRAGMA user_version", &version, err,
                      "cannot read the schema version")) != VM_OK ||
      (rc = query_int(s, "PRAGMA application_id", &app_id, err,
                      "cannot read the application id")) != VM_OK ||
      (rc = query_int(s, "SELECT count(*) FROM sqlite_schema", &n_objects,
                      err, "cannot read the schema")) != VM_OK)
    goto fail;
  if (version > VM_STORE_SCHEMA_VERSION) {
    rc = vm_err_set(err, VM_EDB,
                    "store %s has schema version %lld, newer than this "
                    "voiceman supports (%d); use a newer voiceman or another "
                    "store", s->path, (long long)version,
                    VM_STORE_SCHEMA_VERSION);
    goto fail;
  }
  if ((version == 0 && n_objects > 0) ||
      (version > 0 && app_id != VM_STORE_APP_ID)) {
    rc = vm_err_set(err, VM_EDB,
                    "%s is an SQLite database but not a voiceman store; "
                    "refusing to change it", s->path);
    goto fail;
  }
  if (version < 1) {
    rc = sqlite3_exec(s->db, k_schema_v1, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
      rc = vm__store_db_err(s, rc, err, "cannot create the schema");
      goto fail;
    }
  }
  /* Later versions: if (version < 2) { ALTER ... } and so on. */
  if (version != VM_STORE_SCHEMA_VERSION) {
    char sql[96];
    snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=%d",
             VM_STORE_APP_ID, VM_STORE_SCHEMA_VERSION);
    rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
      rc = vm__store_db_err(s, rc, err, "cannot set the schema version");
      goto fail;
    }
    VM_DEBUG("store %s: schema version %lld -> %d", s->path,
             (long long)version, VM_STORE_SCHEMA_VERSION);
  }
  rc = vm__store_commit(s, err);
  if (rc != VM_OK) goto fail;
  return VM_OK;
fail:
  sqlite3_free(msg);
  vm__store_rollback(s);
  return rc;
}

/* Checks the version of a store opened read-only (no migration). */
static int check_version_readonly(vm_store *s, vm_err *err) {
  int64_t version = 0, app_id = 0;
  int rc;
  if ((rc = query_int(s, "PRAGMA user_version", &version, err,
                      "cannot read the schema version")) != VM_OK ||
      (rc = query_int(s, "PRAGMA application_id", &app_id, err,
                      "cannot read the application id")) != VM_OK)
    return rc;
  if (version > VM_STORE_SCHEMA_VERSION)
    return vm_err_set(err, VM_EDB,
                      "store %s has schema version %lld, newer than this "
                      "voiceman supports (%d); use a newer voiceman",
                      s->path, (long long)version, VM_STORE_SCHEMA_VERSION);
  if (version == 0 || app_id != VM_STORE_APP_ID)
    return vm_err_set(err, VM_EDB, "%s is not a voiceman store", s->path);
  if (version < VM_STORE_SCHEMA_VERSION)
    return vm_err_set(err, VM_EDB,
                      "store %s has the older schema version %lld; a run "
                      "with this voiceman upgrades it", s->path,
                      (long long)version);
  return VM_OK;
}

/* --- open / close ---------------------------------------------------- */

/* SQLite's unix VFS refuses full paths longer than mxPathname; say so
 * plainly instead of "unable to open database file". */
static int check_path_length(const char *path, vm_err *err) {
  sqlite3_vfs *vfs = sqlite3_vfs_find(NULL);
  size_t n = strlen(path) + 8; /* room for the "-journal" style suffix */
  if (path[0] != '/') {
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd)) n += strlen(cwd) + 1;
  }
  if (vfs && n > (size_t)vfs->mxPathname)
    return vm_err_set(err, VM_EINVAL,
                      "store path is too long (%zu bytes; SQLite allows %d): "
                      "%s", n - 8, vfs->mxPathname - 8, path);
  return VM_OK;
}

static int parent_dir_create(const char *path, vm_err *err) {
  const char *slash = strrchr(path, '/');
  if (!slash || slash == path) return VM_OK;
  char *dir = vm_asprintf("%.*s", (int)(slash - path), path);
  if (!dir) return vm_err_set(err, VM_ENOMEM, "out of memory");
  int rc = vm_fs_mkdir_p(dir, err);
  vm_free(dir);
  return rc;
}

/* Sets the per-connection pragmas. WAL is set only on writable handles
 * (it is persistent in the file; a reader just follows it). */
static int pragmas_set(vm_store *s, vm_err *err) {
  int rc = sqlite3_busy_timeout(s->db, VM_STORE_BUSY_TIMEOUT_MS);
  if (rc != SQLITE_OK) return vm__store_db_err(s, rc, err, "busy_timeout");
  if (!s->readonly) {
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
      rc = vm__store_db_err(s, rc, err, "cannot open the store");
      sqlite3_finalize(st);
      return rc;
    }
    const char *mode = (const char *)sqlite3_column_text(st, 0);
    if (!mode || strcmp(mode, "wal") != 0)
      VM_WARN("store %s: journal mode is %s, not wal (file system without "
              "shared memory?)", s->path, mode ? mode : "?");
    sqlite3_finalize(st);
  }
  rc = sqlite3_exec(s->db,
                    "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                    NULL, NULL, NULL);
  if (rc != SQLITE_OK) return vm__store_db_err(s, rc, err, "cannot open the store");
  return VM_OK;
}

static int store_open(const char *path, int readonly, vm_store **out,
                      vm_err *err) {
  vm_store *s = NULL;
  int rc;
  *out = NULL;
  if (!path || !path[0])
    return vm_err_set(err, VM_EINVAL, "empty store path");
  if ((rc = check_path_length(path, err)) != VM_OK) return rc;
  s = vm_calloc(1, sizeof *s);
  if (!s) return vm_err_set(err, VM_ENOMEM, "out of memory");
  s->lock_fd = -1;
  s->readonly = readonly;
  s->path = vm_strdup(path);
  if (!s->path) {
    rc = vm_err_set(err, VM_ENOMEM, "out of memory");
    goto fail;
  }
  if (readonly) {
    struct stat st;
    if (stat(path, &st) != 0) {
      int e = errno;
      rc = vm_err_set(err, vm_status_from_errno(e), "cannot open store %s: %s",
                      path, strerror(e));
      goto fail;
    }
  } else {
    if ((rc = parent_dir_create(path, err)) != VM_OK) goto fail;
    if ((rc = lock_take(s, err)) != VM_OK) goto fail;
  }
  int flags = readonly ? SQLITE_OPEN_READONLY
                       : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  rc = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    rc = vm__store_db_err(s, rc, err, "cannot open the store");
    goto fail;
  }
  sqlite3_extended_result_codes(s->db, 1);
  if ((rc = pragmas_set(s, err)) != VM_OK) goto fail;
  rc = readonly ? check_version_readonly(s, err) : migrate(s, err);
  if (rc != VM_OK) goto fail;
  *out = s;
  return VM_OK;
fail:
  vm_store_close(s);
  return rc;
}

int vm_store_open(const char *path, vm_store **out, vm_err *err) {
  return store_open(path, 0, out, err);
}

int vm_store_open_readonly(const char *path, vm_store **out, vm_err *err) {
  return store_open(path, 1, out, err);
}

void vm_store_close(vm_store *s) {
  if (!s) return;
  for (int i = 0; i < VM__ST_COUNT; i++) sqlite3_finalize(s->stmts[i]);
  if (s->db) {
    int rc = sqlite3_close(s->db);
    if (rc != SQLITE_OK)
      VM_WARN("store %s: close: %s", s->path ? s->path : "?",
              sqlite3_errstr(rc));
  }
  /* The database is closed (and checkpointed) before the lock goes, so the
   * next holder never sees our connection. */
  lock_release(s);
  vm_free(s->path);
  vm_free(s);
}
