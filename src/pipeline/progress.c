/* progress.c — terminal line, per-file lines, or JSON events.
 *
 * The live line lives on stderr. While it is shown, the log sink is
 * replaced by one that erases the line before a message and redraws
 * nothing (the next tick redraws), so warnings never interleave with it. */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vm_alloc.h"
#include "vm_json.h"
#include "vm_log.h"
#include "vm_time.h"

struct vm_progress {
  enum vm_progress_mode mode;
  int line_shown;
  double last_draw;
};

static void sink_erasing(enum vm_log_level level, const char *msg, void *user) {
  vm_progress *p = user;
  if (p->line_shown) {
    fputs("\r\033[K", stderr);
    p->line_shown = 0;
  }
  fprintf(stderr, "voiceman: %s: %s\n", vm_log_level_name(level), msg);
}

static void sink_json(enum vm_log_level level, const char *msg, void *user) {
  json_t *o = json_pack("{s:s,s:s,s:o}", "event", "log", "level",
                        vm_log_level_name(level), "message", vm_json_string_lossy(msg));
  char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  if (s) fprintf(stderr, "%s\n", s);
  free(s);
  json_decref(o);
}

vm_progress *vm__progress_create(enum vm_progress_mode mode) {
  vm_progress *p = vm_calloc(1, sizeof *p);
  if (!p) return NULL;
  if (mode == VM_PROGRESS_AUTO && !isatty(STDERR_FILENO)) mode = VM_PROGRESS_LINES;
  p->mode = mode;
  if (mode == VM_PROGRESS_AUTO) vm_log_set_sink(sink_erasing, p);
  else if (mode == VM_PROGRESS_JSON) vm_log_set_sink(sink_json, p);
  else if (mode == VM_PROGRESS_QUIET) vm_log_set_level(VM_LOG_ERROR);
  return p;
}

void vm__progress_destroy(vm_progress *p) {
  if (!p) return;
  if (p->line_shown) fputs("\n", stderr);
  if (p->mode == VM_PROGRESS_AUTO || p->mode == VM_PROGRESS_JSON) vm_log_set_sink(NULL, NULL);
  vm_free(p);
}

static void fmt_hms(double s, char out[16]) {
  if (!(s >= 0) || s > 359999) {
    snprintf(out, 16, "--:--:--");
    return;
  }
  int t = (int)(s + 0.5);
  snprintf(out, 16, "%02d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
}

static void draw(vm_progress *p, const vm_progress_counts *c) {
  int done = c->completed + c->skipped + c->failed;
  int processed = c->completed + c->failed;
  double eta = -1;
  if (processed > 0 && c->total > done)
    eta = c->elapsed_s / processed * (c->total - done);
  else if (c->total == done)
    eta = 0;
  char e[16];
  fmt_hms(eta, e);
  double rtf = c->elapsed_s > 0 ? c->audio_s / c->elapsed_s : 0;
  fprintf(stderr, "\r\033[K[%*d/%d] %3d%%  %.2f h audio  %.1fx real time  ETA %s",
          c->total >= 1000 ? 5 : 3, done, c->total,
          c->total ? done * 100 / c->total : 100, c->audio_s / 3600.0, rtf, e);
  if (c->failed) fprintf(stderr, "  %d failed", c->failed);
  fflush(stderr);
  p->line_shown = 1;
}

void vm__progress_tick(vm_progress *p, const vm_progress_counts *c) {
  if (!p || p->mode != VM_PROGRESS_AUTO) return;
  double now = vm_time_mono();
  if (now - p->last_draw < 0.25) return;
  p->last_draw = now;
  draw(p, c);
}

void vm__progress_file(vm_progress *p, const char *display, const char *status,
                       double audio_s, double ms, const char *error,
                       const vm_progress_counts *c) {
  if (!p) return;
  switch (p->mode) {
    case VM_PROGRESS_AUTO:
      if (error) VM_WARN("%s %s: %s", status, display, error);
      draw(p, c);
      break;
    case VM_PROGRESS_LINES:
      if (error) VM_WARN("%s %s: %s", status, display, error);
      else VM_INFO("%s %s (%.1f s audio, %.0f ms)", status, display, audio_s, ms);
      break;
    case VM_PROGRESS_JSON: {
      json_t *o = json_pack("{s:s,s:o,s:s,s:o,s:o,s:o,s:i,s:i}", "event", "file",
                            "input", vm_json_string_lossy(display), "status", status,
                            "audio_s", vm_json_real(audio_s), "ms", vm_json_real(ms),
                            "error", error ? vm_json_string_lossy(error) : json_null(),
                            "done", c->completed + c->skipped + c->failed, "total", c->total);
      char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
      if (s) fprintf(stderr, "%s\n", s);
      free(s);
      json_decref(o);
      break;
    }
    case VM_PROGRESS_QUIET:
      if (error) VM_ERROR("%s %s: %s", status, display, error);
      break;
  }
}

void vm__progress_note(vm_progress *p, const char *event, const char *msg) {
  if (!p) return;
  if (p->mode == VM_PROGRESS_JSON) {
    json_t *o = json_pack("{s:s,s:o}", "event", event, "message", vm_json_string_lossy(msg));
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (s) fprintf(stderr, "%s\n", s);
    free(s);
    json_decref(o);
  } else if (p->mode != VM_PROGRESS_QUIET) {
    VM_INFO("%s", msg);
  }
}
