/* store.h — the SQLite checkpoint store that makes runs resumable.
 *
 * One database (WAL mode) per output folder by default. Tables (details in
 * docs/checkpoint-schema.md):
 *   runs        one row per `voiceman run`
 *   files       one row per input path: size, mtime, SHA-256, state,
 *               attempts, last error, stage timings, outputs
 *   executions  one row per completed processing of a file (audit of
 *               "done exactly once")
 *   batches     one row per batch: the BatchResult figures
 *
 * File states: pending → in_progress → completed | failed. A crash leaves
 * rows in_progress; vm_store_recover() puts them back to pending (or to
 * completed when they were started from completed).
 *
 * Locking: vm_store_open() takes an exclusive advisory lock (flock) on
 * "<path>.lock" for the lifetime of the handle, so a second voiceman on the
 * same store gets VM_EBUSY with a message naming the holder's pid. The
 * kernel drops the lock when the process dies (kill -9 included).
 *
 * Thread-safety: a handle is used by one thread (the pipeline coordinator).
 * Every write is its own transaction; SQLite keeps the file consistent
 * across crashes and full disks.
 */
#ifndef VM_STORE_H
#define VM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "vm_status.h"

typedef struct vm_store vm_store;

enum vm_file_state {
  VM_FILE_PENDING = 0,
  VM_FILE_IN_PROGRESS = 1,
  VM_FILE_COMPLETED = 2,
  VM_FILE_FAILED = 3,
};
#define VM_FILE_N_STATES 4

/* "pending", "in_progress", "completed", "failed". */
const char *vm_file_state_name(enum vm_file_state s);

/* Opens (creating if needed, with parent folders) the store at path, sets
 * WAL, creates or migrates the schema and takes the lock. On failure
 * *out = NULL and err says why (VM_EBUSY: another run holds it). */
int vm_store_open(const char *path, vm_store **out, vm_err *err);
/* Releases the lock and closes. Accepts NULL. */
void vm_store_close(vm_store *s);
/* Opens an existing store read-only, without taking the lock (for
 * `voiceman status` while a run is going). VM_ENOENT if absent. */
int vm_store_open_readonly(const char *path, vm_store **out, vm_err *err);

/* --- runs ------------------------------------------------------------ */

/* Inserts a run row (state "running"). options_json: the run's options as
 * JSON text. OUT: *out_run_id. */
int vm_store_run_begin(vm_store *s, const char *version,
                       const char *options_json, int64_t *out_run_id,
                       vm_err *err);
/* Closes the run row: status ("completed", "failed", "interrupted"),
 * totals as JSON text. */
int vm_store_run_end(vm_store *s, int64_t run_id, const char *status,
                     const char *totals_json, vm_err *err);

/* --- files ----------------------------------------------------------- */

/* Resolves every in_progress row left by a crash: back to completed if it
 * was started from completed (a skip check or a --force redo that never
 * finished: its earlier outputs and execution stand), else to pending.
 * OUT: how many rows were resolved (may be NULL). */
int vm_store_recover(vm_store *s, int *out_n_reset, vm_err *err);

/* A completed file as loaded at start-up. Strings owned by the array. */
typedef struct vm_store_done {
  char *path;
  int64_t size_bytes;
  int64_t mtime_ns;
  char sha256[65];
  char *outputs_json;   /* JSON object kind → path relative to OUT */
  char *output_stem;    /* relative output stem assigned to this input */
} vm_store_done;

/* Loads every completed file in ONE query. OUT: array (free with
 * vm_store_done_free) and its length. */
int vm_store_load_completed(vm_store *s, vm_store_done **out, size_t *out_n,
                            vm_err *err);
void vm_store_done_free(vm_store_done *d, size_t n);

/* Registers path (absolute) if new (state pending), or returns the
 * existing row. Updates size and mtime; when they changed, the stored
 * hash is dropped and a completed row goes back to pending (its outputs
 * describe the old content). output_stem (may be NULL) is assigned only
 * if the row has none: an existing stem wins. A stem already owned by
 * another path gives VM_EINVAL. OUT: *out_file_id. */
int vm_store_file_register(vm_store *s, const char *path, int64_t size_bytes,
                           int64_t mtime_ns, const char *output_stem,
                           int64_t *out_file_id, vm_err *err);

/* All output stems already assigned, in one query (for collision-free
 * naming across runs). OUT: array of strings (free with
 * vm_store_strings_free). */
int vm_store_load_stems(vm_store *s, char ***out, size_t *out_n, vm_err *err);
void vm_store_strings_free(char **v, size_t n);

/* Every (path, output_stem) pair of the files table (rows without a stem
 * are left out), ordered by path, in ONE query, so a run can give each
 * input the stem it had before and new inputs stems that collide with
 * none. OUT: two parallel arrays of *out_n strings (free each with
 * vm_store_strings_free). */
int vm_store_load_stem_map(vm_store *s, char ***out_paths, char ***out_stems,
                           size_t *out_n, vm_err *err);

/* pending|failed|completed → in_progress; attempts += 1. */
int vm_store_file_start(vm_store *s, int64_t file_id, int64_t run_id,
                        vm_err *err);

typedef struct vm_store_completion {
  const char *sha256;            /* hex digest of the original */
  int64_t size_bytes, mtime_ns;  /* as hashed */
  double duration_s;             /* decoded audio duration */
  const char *stage_times_json;  /* {"hash_ms":..,"decode_ms":..,...} */
  const char *outputs_json;      /* {"json":"files/a/b.m4a.json",...} */
} vm_store_completion;

/* in_progress → completed, clears last_error, and inserts an executions
 * row, all in one transaction. c->sha256 must be 64 hex characters. */
int vm_store_file_complete(vm_store *s, int64_t file_id, int64_t run_id,
                           const vm_store_completion *c, vm_err *err);

/* in_progress → failed with the reason. sha256 may be NULL (not hashed). */
int vm_store_file_fail(vm_store *s, int64_t file_id, int64_t run_id,
                       const char *sha256, const char *error_code,
                       const char *error_text, vm_err *err);

/* in_progress → pending (work canceled by an interrupt; not an attempt
 * that counts as failed), or back to completed when it was started from
 * completed. */
int vm_store_file_release(vm_store *s, int64_t file_id, vm_err *err);

/* Marks a completed file as seen by this run without redoing it (updates
 * last_run). Legal from completed, and from in_progress when the start
 * came from completed (a skip candidate dispatched for hashing whose hash
 * matched): the row goes back to completed and that start is not counted
 * in attempts. Anything else: VM_EINVAL. */
int vm_store_file_touch(vm_store *s, int64_t file_id, int64_t run_id,
                        vm_err *err);

/* --- batches --------------------------------------------------------- */

typedef struct vm_batch_result {
  int64_t run_id;
  int batch_number;           /* 1-based within the run */
  int total, successful, failed, skipped, retries;
  int64_t start_ms, end_ms;   /* Unix ms; end_ms 0 while open */
  double duration_s;
  double audio_s;             /* seconds of audio processed */
  double peak_rss_mb;
  double cpu_util;            /* process CPU seconds / (wall s × cores), 0..1 */
  const char *gpu_json;       /* GPU figures as JSON text, or NULL */
  const char *errors_json;    /* JSON array of "name: reason", or NULL */
} vm_batch_result;

/* Inserts or replaces the batch row (run_id, batch_number). */
int vm_store_batch_write(vm_store *s, const vm_batch_result *b, vm_err *err);

/* --- queries (status, tests) ----------------------------------------- */

/* Rows per state. OUT: counts[VM_FILE_N_STATES]. */
int vm_store_count_states(vm_store *s, int64_t counts[VM_FILE_N_STATES],
                          vm_err *err);

/* Calls fn for each file row in the given state, ordered by path. The
 * strings are borrowed until fn returns. A non-zero return from fn stops
 * the walk and is returned as is. */
typedef int (*vm_store_file_fn)(void *user, const char *path,
                                const char *sha256, int attempts,
                                const char *error_code,
                                const char *error_text);
int vm_store_each_file(vm_store *s, enum vm_file_state state,
                       vm_store_file_fn fn, void *user, vm_err *err);

/* Calls fn for each batch row of the latest run (or run_id if > 0), by
 * batch_number; b's strings are borrowed until fn returns. A non-zero
 * return from fn stops the walk and is returned as is. */
typedef int (*vm_store_batch_fn)(void *user, const vm_batch_result *b);
int vm_store_each_batch(vm_store *s, int64_t run_id, vm_store_batch_fn fn,
                        void *user, vm_err *err);

/* Number of executions rows for path (tests: "done exactly once"). */
int vm_store_count_executions(vm_store *s, const char *path,
                              int64_t *out_n, vm_err *err);

#endif /* VM_STORE_H */
