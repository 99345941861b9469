/* audit.h — the append-only, hash-chained evidence log of an output folder.
 *
 * OUT/audit.jsonl holds one JSON object per line:
 *   {"seq":N,"time":"2026-11-26T17:40:00.123Z","event":"...","prev":"<hex>",...}
 * where prev is the SHA-256 (hex) of the previous line's bytes without its
 * newline ("0"*64 for the first line), so changing, removing or reordering
 * any line breaks the chain. Events written by voiceman:
 *   run_start    {run_id, version, options{...}}
 *   input_hashed {input, sha256, size}
 *   stage_done   {input, stage, ms}
 *   output_written {input|null, path (relative to OUT), sha256}
 *   file_failed  {input, error}
 *   run_end      {run_id, status, totals{...}}
 *   log_repaired {torn_bytes}   (see below)
 *
 * Crash safety: each line is written with one write() and fdatasync'd.
 * If a crash tore the last line, vm_audit_open() leaves it in place,
 * terminates it with '\n' and appends a log_repaired event whose prev
 * hashes the torn bytes, so nothing is hidden and the chain stays whole.
 *
 * seq starts at 1 and grows by 1 per line. A torn line uses no seq: its
 * log_repaired line takes the seq after the last line that still parses.
 *
 * Thread-safety: one writer (the coordinator); vm_audit_open takes an
 * exclusive flock, so a second writer gets VM_EBUSY. vm_audit_verify is
 * independent of any open handle.
 */
#ifndef VM_AUDIT_H
#define VM_AUDIT_H

#include <jansson.h>
#include <stdint.h>

#include "vm_status.h"

typedef struct vm_audit vm_audit;

/* Opens (creating, 0644) the log at path for appending. Reads only the
 * tail of the file (cheap for long logs) and repairs a torn last line as
 * described above. OUT: *out, a handle to vm_audit_close; NULL on failure.
 * Returns VM_OK; VM_EBUSY when another handle holds the log; VM_EFORMAT
 * when the last complete line is not an event (nothing is appended to a
 * log whose end cannot be read: run vm_audit_verify); errno-based codes. */
int vm_audit_open(const char *path, vm_audit **out, vm_err *err);
/* Closes the handle (releasing the lock). Accepts NULL. */
void vm_audit_close(vm_audit *a);

/* Appends one event. fields (may be NULL) is a JSON object whose members
 * follow the fixed ones; it is borrowed. VM_EINVAL when fields is not an
 * object or uses a fixed name (seq, time, event, prev), or event is not
 * UTF-8. A failed write (VM_ENOSPC, VM_EIO) leaves seq/prev where they
 * were; any partial line is cut off again when possible, otherwise the
 * handle refuses further appends (VM_EIO) and the next vm_audit_open
 * repairs the torn line. */
int vm_audit_append(vm_audit *a, const char *event, const json_t *fields,
                    vm_err *err);

/* Outcome of a verification. */
typedef struct vm_audit_verify_stats {
  int64_t n_lines;          /* lines read */
  int64_t n_chain_errors;   /* broken links, bad JSON, wrong seq; also
                               events lacking their fields and unsafe
                               paths (absolute or ".." output, relative
                               input), which voiceman never writes */
  /* missing includes unreadable; changed includes "now a symbolic link
   * out of out_dir" and "no longer a regular file" (such files are not
   * read) */
  int64_t n_outputs_ok, n_outputs_changed, n_outputs_missing;
  int64_t n_inputs_ok, n_inputs_changed, n_inputs_missing;
} vm_audit_verify_stats;

/* Receives each finding: ok = 1 for a confirmation, 0 for a problem;
 * msg is one human sentence, e.g. "output files/a.m4a.json changed:
 * SHA-256 is 3f.. but the log recorded 9c.." */
typedef void (*vm_audit_report_fn)(void *user, int ok, const char *msg);

/* Re-checks the chain of out_dir/audit.jsonl, then every output's hash
 * (latest output_written per path, relative to out_dir) and every
 * original's hash (latest input_hashed per input). check_inputs = 0 skips
 * re-hashing the originals. Returns VM_OK when the log was read (problems
 * are counted in *out_stats and reported), VM_ENOENT without a log.
 * report and out_stats may be NULL. A torn line (repaired or not yet) is
 * reported with ok = 0 but not counted: it is what a crash leaves. */
int vm_audit_verify(const char *out_dir, int check_inputs,
                    vm_audit_report_fn report, void *user,
                    vm_audit_verify_stats *out_stats, vm_err *err);

#endif /* VM_AUDIT_H */
