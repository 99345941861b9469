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
 * Thread-safety: one writer (the coordinator). vm_audit_verify is
 * independent of any open handle.
 */
#ifndef VM_AUDIT_H
#define VM_AUDIT_H

#include <jansson.h>
#include <stdint.h>

#include "vm_status.h"

typedef struct vm_audit vm_audit;

/* Opens (creating) the log at path for appending. */
int vm_audit_open(const char *path, vm_audit **out, vm_err *err);
void vm_audit_close(vm_audit *a);

/* Appends one event. fields (may be NULL) is a JSON object whose members
 * follow the fixed ones; it is borrowed. */
int vm_audit_append(vm_audit *a, const char *event, const json_t *fields,
                    vm_err *err);

/* Outcome of a verification. */
typedef struct vm_audit_verify_stats {
  int64_t n_lines;          /* lines read */
  int64_t n_chain_errors;   /* broken links, bad JSON, wrong seq */
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
 * are counted in *out_stats and reported), VM_ENOENT without a log. */
int vm_audit_verify(const char *out_dir, int check_inputs,
                    vm_audit_report_fn report, void *user,
                    vm_audit_verify_stats *out_stats, vm_err *err);

#endif /* VM_AUDIT_H */
