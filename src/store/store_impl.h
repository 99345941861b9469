/* store_impl.h — internals shared by the store's .c files (and its tests).
 *
 * Not a public header: only the store sources and its unit tests
 * (tests/unit/test_store_<topic>.c) include it. It defines the handle,
 * the prepared-statement cache and the one place where SQLite result codes
 * become VM_E* codes.
 *
 * DESIGN
 *   - One sqlite3 connection per handle, used by one thread.
 *   - Statements for the per-file calls are prepared once, on first use,
 *     and kept in s->stmts[] until close (SQLITE_PREPARE_PERSISTENT).
 *     Users of a cached statement must vm__store_stmt_done() it before
 *     returning, so no statement stays active (an active read statement
 *     would keep the WAL from being checkpointed).
 *   - Every SQLite rc is translated by vm__store_db_err(), once, with
 *     sqlite3_errmsg() and the OS errno in the message.
 */
#ifndef VM_STORE_IMPL_H
#define VM_STORE_IMPL_H

#include <sqlite3.h>
#include <stdint.h>

#include "store.h"

/* Schema version written to PRAGMA user_version; bump with a migration
 * step in store.c (migrate()). */
#define VM_STORE_SCHEMA_VERSION 1
/* PRAGMA application_id: "VMST". Tells our file from other SQLite files. */
#define VM_STORE_APP_ID 0x564D5354
/* How long a write waits for a reader's lock before VM_EBUSY. */
#define VM_STORE_BUSY_TIMEOUT_MS 5000

/* Cached statements. SQL texts are in store.c (g_stmt_sql). */
enum vm__store_stmt_id {
  VM__ST_BEGIN = 0,
  VM__ST_COMMIT,
  VM__ST_ROLLBACK,
  VM__ST_FILE_REGISTER,
  VM__ST_FILE_STATE,
  VM__ST_FILE_START,
  VM__ST_FILE_COMPLETE,
  VM__ST_EXEC_INSERT,
  VM__ST_FILE_FAIL,
  VM__ST_FILE_RELEASE,
  VM__ST_FILE_TOUCH,
  VM__ST_BATCH_WRITE,
  VM__ST_COUNT
};

struct vm_store {
  sqlite3 *db;                         /* owned; closed by vm_store_close */
  sqlite3_stmt *stmts[VM__ST_COUNT];   /* owned; lazily prepared, may be NULL */
  char *path;                          /* owned copy of the store path */
  int lock_fd;                         /* "<path>.lock" with flock held; -1 if readonly */
  int readonly;                        /* 1 for vm_store_open_readonly handles */
};

/* Translates SQLite rc into a VM_E* code and fills err with what failed,
 * sqlite3_errmsg() and the OS error if any. Call right after the failing
 * SQLite call (later calls overwrite the message). Returns the code. */
int vm__store_db_err(vm_store *s, int rc, vm_err *err, const char *what);

/* Gets the cached statement id (preparing it on first use), reset and with
 * no bindings. OUT: *out (borrowed; valid until vm_store_close). */
int vm__store_stmt(vm_store *s, enum vm__store_stmt_id id,
                   sqlite3_stmt **out, vm_err *err);
/* Resets a cached statement after use; accepts NULL. */
void vm__store_stmt_done(sqlite3_stmt *st);

/* Runs a statement that returns no rows (or ignores them) to completion.
 * Returns 0 or a translated error. */
int vm__store_step_done(vm_store *s, sqlite3_stmt *st, vm_err *err,
                        const char *what);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK through the cache. Rollback never
 * fails visibly (it is the cleanup path) and keeps err as it is. */
int vm__store_begin(vm_store *s, vm_err *err);
int vm__store_commit(vm_store *s, vm_err *err);
void vm__store_rollback(vm_store *s);

/* VM_EINVAL if s was opened read-only (what names the refused call). */
int vm__store_check_writable(vm_store *s, const char *what, vm_err *err);

/* Binds text or NULL. */
int vm__store_bind_text(sqlite3_stmt *st, int i, const char *text);

/* Runs PRAGMA quick_check. 0 when it says "ok", VM_EDB otherwise (tests
 * use it after a simulated full disk). */
int vm__store_quick_check(vm_store *s, vm_err *err);

/* The raw connection (borrowed), for tests that need plain SQL. */
sqlite3 *vm__store_db(vm_store *s);

#endif /* VM_STORE_IMPL_H */
