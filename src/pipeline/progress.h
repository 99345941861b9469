/* progress.h — what a person (or a machine) sees while a run goes on.
 *
 * AUTO on a terminal: one line on stderr, rewritten in place:
 *   [ 37/212] 17%  1.8 h audio  95.2x real time  ETA 00:04:10  2 failed
 * Log messages printed meanwhile clear the line first. AUTO elsewhere and
 * LINES: one log line per file. JSON: one JSON object per line per event.
 * QUIET: nothing but errors. Coordinator thread only. */
#ifndef VM_PROGRESS_H
#define VM_PROGRESS_H

#include "pipeline.h"

typedef struct vm_progress vm_progress;

typedef struct vm_progress_counts {
  int total, completed, skipped, failed;
  double audio_s;      /* audio processed in this run */
  double elapsed_s;
} vm_progress_counts;

vm_progress *vm__progress_create(enum vm_progress_mode mode);
void vm__progress_destroy(vm_progress *p);
/* One file resolved: status "completed", "skipped", "failed", "retrying". */
void vm__progress_file(vm_progress *p, const char *display, const char *status,
                       double audio_s, double ms, const char *error,
                       const vm_progress_counts *c);
/* Periodic refresh (rate-limited inside). */
void vm__progress_tick(vm_progress *p, const vm_progress_counts *c);
/* A free-form notice (start, stop, summary). */
void vm__progress_note(vm_progress *p, const char *event, const char *msg);

#endif /* VM_PROGRESS_H */
