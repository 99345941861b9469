/* pipeline.c — the coordinator of `voiceman run`.
 *
 * DESIGN
 * The caller's thread is the coordinator. It alone talks to the store and
 * the audit log. It dispatches jobs (marking each in_progress in the store
 * first) into q_jobs, keeping at most a window of 2 × workers outstanding,
 * and consumes finished jobs from q_done. Workers (stages.c) never block
 * on the coordinator except through the bounded queues.
 *
 * Exactly-once: a job becomes "completed" in the store only after its
 * outputs were renamed into place, in the same transaction that records
 * its execution. A crash before that leaves it in_progress; the next run's
 * vm_store_recover() makes it pending and it is redone, overwriting its
 * outputs atomically. Completed files are skipped only when their size,
 * mtime and SHA-256 are unchanged and their outputs still exist.
 *
 * Stop: when opts->stop is set, nothing new is dispatched, the workers'
 * cancel flag is raised, and the coordinator drains every outstanding job
 * (finished ones are recorded, canceled ones go back to pending).
 *
 * Batches: job i belongs to batch i / batch_size. A batch opens when its
 * first job is dispatched and closes when its last job is resolved; its
 * figures (see vm_batch_result) go to the store and summary.json.
 */
#include "pipeline.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#include "asr_model.h"
#include "audit.h"
#include "pipeline_impl.h"
#include "progress.h"
#include "report_html.h"
#include "store.h"
#include "vm_alloc.h"
#include "vm_fs.h"
#include "vm_json.h"
#include "vm_log.h"
#include "vm_strmap.h"
#include "vm_sys.h"
#include "vm_time.h"

typedef struct batch {
  int first, n;             /* job range */
  int opened, closed, resolved;
  int successful, failed, skipped, retries;
  int64_t start_ms, end_ms;
  double t0, cpu0, audio_s, peak_rss;
  json_t *errors;           /* array of "name: reason" */
  json_t *gpu;              /* transcription-stage readings when it closed */
} batch;

typedef struct coord {
  const vm_run_opts *opts;
  vm_store *store;
  vm_audit *audit;
  vm_progress *progress;
  int64_t run_id;
  vm_discovery disc;
  vm_job *jobs;
  size_t n_jobs;
  batch *batches;
  int n_batches;
  int *retry;               /* job indices waiting for another attempt */
  int n_retry;
  size_t next;              /* next job index to dispatch */
  int outstanding;
  int stopping;
  vm_stage_ctx ctx;
  vm_progress_counts counts;
  int interrupted;
  double t_start;
  vm_store_done *done;
  size_t n_done;
  int fatal;                /* store or audit unusable: stop the run */
  vm_err fatal_err;
} coord;

/* --- small helpers ---------------------------------------------------- */

static void audit_event(coord *c, const char *event, json_t *fields) {
  vm_err e;
  if (c->audit && vm_audit_append(c->audit, event, fields, &e) != VM_OK && !c->fatal) {
    c->fatal = 1;
    vm_err_set(&c->fatal_err, e.code, "cannot append to the audit log: %s", vm_err_text(&e));
  }
  json_decref(fields);
}

static void store_failed(coord *c, const vm_err *e) {
  if (c->fatal) return;
  c->fatal = 1;
  vm_err_set(&c->fatal_err, e->code, "checkpoint store failure: %s", vm_err_text(e));
}

static char *stage_times_json(const vm_job *j) {
  json_t *o = json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "hash_ms",
                        j->t.hash_ms, "decode_ms", j->t.decode_ms, "levels_ms", j->t.levels_ms,
                        "normalize_ms", j->t.normalize_ms, "transcription_ms", j->t.asr_ms,
                        "vad_ms", j->t.vad_ms, "diarize_ms", j->t.diarize_ms, "voice_ms",
                        j->t.voice_ms, "language_ms", j->t.language_ms, "report_ms",
                        j->t.report_ms, "write_ms", j->t.write_ms, "wait_ms", j->t.wait_ms);
  char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6)) : NULL;
  json_decref(o);
  return s;
}

static double job_audio_s(const vm_job *j) {
  return j->outcome == VM_JOB_DONE ? j->audio.facts.duration_s : 0;
}

/* --- batches ---------------------------------------------------------- */

/* The transcription stage's figures for batch b: as they were when it
 * closed, else now; NULL without a model. New reference. */
static json_t *batch_gpu(coord *c, int b) {
  if (c->batches[b].gpu) return json_incref(c->batches[b].gpu);
  return c->ctx.asr ? vm__asr_service_readings(c->ctx.asr) : NULL;
}

/* r->errors_json points to *errors_text, which the caller frees (free());
 * r->gpu_json is left NULL (batch_gpu() has it). */
static void batch_to_result(coord *c, int b, vm_batch_result *r, char **errors_text) {
  batch *bt = &c->batches[b];
  memset(r, 0, sizeof *r);
  r->run_id = c->run_id;
  r->batch_number = b + 1;
  r->total = bt->n;
  r->successful = bt->successful;
  r->failed = bt->failed;
  r->skipped = bt->skipped;
  r->retries = bt->retries;
  r->start_ms = bt->start_ms;
  r->end_ms = bt->end_ms;
  double wall = bt->closed ? (double)(bt->end_ms - bt->start_ms) / 1e3 : vm_time_mono() - bt->t0;
  r->duration_s = wall;
  r->audio_s = bt->audio_s;
  r->peak_rss_mb = bt->peak_rss / (1024.0 * 1024.0);
  double cpu = vm_sys_cpu_seconds() - bt->cpu0;
  r->cpu_util = wall > 0 ? cpu / (wall * vm_sys_ncores()) : 0;
  if (r->cpu_util > 1) r->cpu_util = 1;
  *errors_text = json_dumps(bt->errors, JSON_COMPACT);
  r->errors_json = *errors_text;
}

static void batch_save(coord *c, int b) {
  vm_batch_result r;
  char *errs = NULL, *gpu = NULL;
  vm_err e;
  batch_to_result(c, b, &r, &errs);
  json_t *g = batch_gpu(c, b);
  r.gpu_json = gpu = g ? json_dumps(g, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(g);
  if (vm_store_batch_write(c->store, &r, &e) != VM_OK) store_failed(c, &e);
  free(errs);
  free(gpu);
}

static void batches_sample_rss(coord *c) {
  double rss = (double)vm_sys_rss_bytes();
  for (int b = 0; b < c->n_batches; b++)
    if (c->batches[b].opened && !c->batches[b].closed && rss > c->batches[b].peak_rss)
      c->batches[b].peak_rss = rss;
}

static void batch_open(coord *c, int b) {
  batch *bt = &c->batches[b];
  if (bt->opened) return;
  bt->opened = 1;
  bt->start_ms = vm_time_unix_ms();
  bt->t0 = vm_time_mono();
  bt->cpu0 = vm_sys_cpu_seconds();
  bt->peak_rss = (double)vm_sys_rss_bytes();
  batch_save(c, b);
}

static void batch_resolve(coord *c, const vm_job *j) {
  batch *bt = &c->batches[j->batch];
  bt->resolved++;
  if (bt->resolved < bt->n || bt->closed) return;
  bt->closed = 1;
  bt->end_ms = vm_time_unix_ms();
  bt->gpu = batch_gpu(c, j->batch);
  batches_sample_rss(c);
  batch_save(c, j->batch);
}

/* --- dispatch --------------------------------------------------------- */

static void job_reset(vm_job *j) {
  vm_audio_deinit(&j->audio);
  json_decref(j->outputs);
  j->outputs = NULL;
  json_decref(j->output_sha);
  j->output_sha = NULL;
  vm_transcript_destroy(j->transcript);
  j->transcript = NULL;
  vm_free(j->transcript_path);
  j->transcript_path = NULL;
  json_decref(j->index_slim);
  j->index_slim = NULL;
  j->outcome = VM_JOB_NONE;
  vm_err_clear(&j->err);
  memset(&j->t, 0, sizeof j->t);
  memset(&j->loudness, 0, sizeof j->loudness);
  memset(&j->levels, 0, sizeof j->levels);
  j->sha256[0] = '\0';
}

static int dispatch_one(coord *c, vm_job *j) {
  vm_err e;
  if (j->file_id == 0 &&
      vm_store_file_register(c->store, j->in->path, j->in->size_bytes, j->in->mtime_ns,
                             j->stem, &j->file_id, &e) != VM_OK) {
    store_failed(c, &e);
    return -1;
  }
  if (vm_store_file_start(c->store, j->file_id, c->run_id, &e) != VM_OK) {
    store_failed(c, &e);
    return -1;
  }
  job_reset(j);
  j->attempts++;
  batch_open(c, j->batch);
  if (vm_queue_push(c->ctx.q_jobs, j, 1) != VM_OK) return -1;
  c->outstanding++;
  return 0;
}

static void dispatch(coord *c) {
  int window = 2 * c->opts->workers;
  while (!c->stopping && !c->fatal && c->outstanding < window) {
    vm_job *j;
    if (c->n_retry > 0) j = &c->jobs[c->retry[--c->n_retry]];
    else if (c->next < c->n_jobs) j = &c->jobs[c->next++];
    else break;
    if (dispatch_one(c, j) != 0) break;
  }
}

/* --- results ---------------------------------------------------------- */

static void record_done(coord *c, vm_job *j) {
  vm_err e;
  audit_event(c, "input_hashed", json_pack("{s:o,s:s,s:I}", "input",
              vm_json_string_lossy(j->in->path), "sha256", j->sha256,
              "size", (json_int_t)j->hashed_size));
  const char *names[] = {"decode", "levels", "normalize", "transcription", "vad",
                         "diarization", "voice", "language", "report"};
  double ms[] = {j->t.decode_ms, j->t.levels_ms, j->t.normalize_ms, j->t.asr_ms, j->t.vad_ms,
                 j->t.diarize_ms, j->t.voice_ms, j->t.language_ms, j->t.report_ms};
  int done[] = {1, 1, 1, j->transcript && !j->transcript_path, 1, 1, 1, j->transcript != NULL,
                json_object_get(j->outputs, "html") != NULL};
  for (int i = 0; i < 9; i++)
    if (done[i]) audit_event(c, "stage_done", json_pack("{s:o,s:s,s:f}", "input",
                vm_json_string_lossy(j->in->path), "stage", names[i], "ms", ms[i]));
  const char *key;
  json_t *val;
  json_object_foreach(j->outputs, key, val) {
    audit_event(c, "output_written", json_pack("{s:o,s:s,s:O,s:s}", "input",
                vm_json_string_lossy(j->in->path), "kind", key, "path", val,
                "sha256", json_string_value(json_object_get(j->output_sha, key))));
  }
  char *times = stage_times_json(j);
  char *outs = json_dumps(j->outputs, JSON_COMPACT | JSON_PRESERVE_ORDER);
  vm_store_completion sc = {j->sha256, (int64_t)j->hashed_size, j->in->mtime_ns,
                            j->audio.facts.duration_s, times, outs};
  if (vm_store_file_complete(c->store, j->file_id, c->run_id, &sc, &e) != VM_OK)
    store_failed(c, &e);
  free(times);
  free(outs);
}

static void record_failed(coord *c, vm_job *j) {
  vm_err e;
  const char *why = vm_err_text(&j->err);
  if (j->sha256[0])
    audit_event(c, "input_hashed", json_pack("{s:o,s:s,s:I}", "input",
                vm_json_string_lossy(j->in->path), "sha256", j->sha256,
                "size", (json_int_t)j->hashed_size));
  audit_event(c, "file_failed", json_pack("{s:o,s:s,s:o}", "input",
              vm_json_string_lossy(j->in->path), "code", vm_err_name(j->err.code),
              "error", vm_json_string_lossy(why)));
  if (vm_store_file_fail(c->store, j->file_id, c->run_id, j->sha256[0] ? j->sha256 : NULL,
                         vm_err_name(j->err.code), why, &e) != VM_OK)
    store_failed(c, &e);
  const char *slash = strrchr(j->in->path, '/');
  char *line = vm_asprintf("%s: %s", slash ? slash + 1 : j->in->path, why);
  if (line) json_array_append_new(c->batches[j->batch].errors, vm_json_string_lossy(line));
  vm_free(line);
}

static int wants_retry(coord *c, const vm_job *j) {
  return j->outcome == VM_JOB_FAILED && !c->stopping &&
         vm_status_is_transient(j->err.code) &&
         j->attempts < 1 + c->opts->retries;
}

static void handle_result(coord *c, vm_job *j) {
  vm_err e;
  batch *bt = &c->batches[j->batch];
  double ms = j->t.hash_ms + j->t.decode_ms + j->t.normalize_ms + j->t.levels_ms +
              j->t.vad_ms + j->t.diarize_ms + j->t.voice_ms + j->t.write_ms;
  c->outstanding--;
  c->counts.elapsed_s = vm_time_mono() - c->t_start;
  if (wants_retry(c, j)) {
    /* the attempt is recorded as failed; dispatch starts the next one */
    audit_event(c, "attempt_failed", json_pack("{s:o,s:i,s:s,s:o}", "input",
                vm_json_string_lossy(j->in->path), "attempt", j->attempts, "code",
                vm_err_name(j->err.code), "error", vm_json_string_lossy(vm_err_text(&j->err))));
    if (vm_store_file_fail(c->store, j->file_id, c->run_id, j->sha256[0] ? j->sha256 : NULL,
                           vm_err_name(j->err.code), vm_err_text(&j->err), &e) != VM_OK)
      store_failed(c, &e);
    bt->retries++;
    c->retry[c->n_retry++] = (int)j->index;
    vm__progress_file(c->progress, j->in->display, "retrying", 0, ms, vm_err_text(&j->err),
                      &c->counts);
    return;
  }
  switch (j->outcome) {
    case VM_JOB_DONE:
      record_done(c, j);
      bt->successful++;
      bt->audio_s += job_audio_s(j);
      c->counts.completed++;
      c->counts.audio_s += job_audio_s(j);
      vm__progress_file(c->progress, j->in->display, "completed", job_audio_s(j), ms, NULL,
                        &c->counts);
      break;
    case VM_JOB_SKIPPED:
      audit_event(c, "file_skipped", json_pack("{s:o,s:s,s:s}", "input",
                  vm_json_string_lossy(j->in->path), "sha256", j->sha256, "reason",
                  "completed by an earlier run; size, mtime and SHA-256 unchanged"));
      if (vm_store_file_touch(c->store, j->file_id, c->run_id, &e) != VM_OK) store_failed(c, &e);
      bt->skipped++;
      c->counts.skipped++;
      vm__progress_file(c->progress, j->in->display, "skipped", 0, ms, NULL, &c->counts);
      break;
    case VM_JOB_FAILED:
      record_failed(c, j);
      bt->failed++;
      c->counts.failed++;
      vm__progress_file(c->progress, j->in->display, "failed", 0, ms, vm_err_text(&j->err),
                        &c->counts);
      break;
    default: /* canceled */
      if (vm_store_file_release(c->store, j->file_id, &e) != VM_OK) store_failed(c, &e);
      j->outcome = VM_JOB_CANCELED;
      c->interrupted++;
      break;
  }
  j->resolved = 1;
  if (j->outcome != VM_JOB_CANCELED) batch_resolve(c, j);
}

/* --- setup ------------------------------------------------------------ */

/* The stem of each input: the one the store gave it before, else
 * "files/<root>/<relative path>", suffixed "~2", "~3" … on collision. */
static int assign_stems(coord *c, vm_err *err) {
  char **paths = NULL, **stems = NULL;
  size_t n = 0;
  vm_strmap *by_path = NULL, *taken = NULL;
  int rc = vm_store_load_stem_map(c->store, &paths, &stems, &n, err);
  if (rc != VM_OK) return rc;
  if (vm_strmap_create(&by_path) || vm_strmap_create(&taken)) {
    rc = vm_err_set(err, VM_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    if (vm_strmap_put(by_path, paths[i], stems[i]) || vm_strmap_put(taken, stems[i], NULL)) {
      rc = vm_err_set(err, VM_ENOMEM, "out of memory");
      goto out;
    }
  }
  for (size_t i = 0; i < c->n_jobs && rc == VM_OK; i++) {
    vm_job *j = &c->jobs[i];
    void *old;
    if (vm_strmap_get(by_path, j->in->path, &old)) {
      j->stem = vm_strdup(old);
    } else {
      j->stem = vm_asprintf("files/%s", j->in->root_rel);
      for (int k = 2; j->stem && vm_strmap_get(taken, j->stem, NULL); k++) {
        vm_free(j->stem);
        j->stem = vm_asprintf("files/%s~%d", j->in->root_rel, k);
      }
      if (j->stem && vm_strmap_put(taken, j->stem, NULL)) rc = VM_ENOMEM;
    }
    if (!j->stem) rc = VM_ENOMEM;
  }
  if (rc != VM_OK) vm_err_set(err, rc, "out of memory");
out:
  vm_strmap_destroy(by_path);
  vm_strmap_destroy(taken);
  vm_store_strings_free(paths, n);
  vm_store_strings_free(stems, n);
  return rc;
}

/* Every output of an earlier completion must still exist to skip. */
static int outputs_exist(const char *out_dir, const char *outputs_json) {
  json_t *o = outputs_json ? json_loads(outputs_json, 0, NULL) : NULL;
  int ok = json_is_object(o) && json_object_size(o) > 0;
  const char *key;
  json_t *val;
  json_object_foreach(o, key, val) {
    char *p = json_is_string(val) ? vm_path_join(out_dir, json_string_value(val)) : NULL;
    if (!p || !vm_fs_exists(p)) ok = 0;
    vm_free(p);
  }
  json_decref(o);
  return ok;
}

static int plan_jobs(coord *c, vm_err *err) {
  vm_strmap *done = NULL;
  c->n_jobs = c->disc.n_inputs;
  c->jobs = vm_calloc(c->n_jobs ? c->n_jobs : 1, sizeof *c->jobs);
  c->retry = vm_calloc(c->n_jobs ? c->n_jobs : 1, sizeof *c->retry);
  c->n_batches = (int)((c->n_jobs + (size_t)c->opts->batch_size - 1) / (size_t)c->opts->batch_size);
  c->batches = vm_calloc(c->n_batches ? (size_t)c->n_batches : 1, sizeof *c->batches);
  if (!c->jobs || !c->retry || !c->batches || vm_strmap_create(&done) != VM_OK)
    return vm_err_set(err, VM_ENOMEM, "out of memory");
  for (int b = 0; b < c->n_batches; b++) {
    c->batches[b].first = b * c->opts->batch_size;
    c->batches[b].n = (int)(c->n_jobs - (size_t)c->batches[b].first);
    if (c->batches[b].n > c->opts->batch_size) c->batches[b].n = c->opts->batch_size;
    c->batches[b].errors = json_array();
  }
  int rc = VM_OK;
  if (!c->opts->force) {
    rc = vm_store_load_completed(c->store, &c->done, &c->n_done, err);
    for (size_t i = 0; rc == VM_OK && i < c->n_done; i++)
      if (vm_strmap_put(done, c->done[i].path, &c->done[i])) rc = VM_ENOMEM;
  }
  for (size_t i = 0; rc == VM_OK && i < c->n_jobs; i++) {
    vm_job *j = &c->jobs[i];
    void *p;
    j->in = &c->disc.inputs[i];
    j->index = i;
    j->batch = (int)(i / (size_t)c->opts->batch_size);
    j->run_id = c->run_id;
    if (vm_strmap_get(done, j->in->path, &p)) {
      const vm_store_done *d = p;
      if (d->size_bytes == j->in->size_bytes && d->mtime_ns == j->in->mtime_ns &&
          outputs_exist(c->opts->out_dir, d->outputs_json)) {
        j->skip_candidate = 1;
        memcpy(j->expect_sha, d->sha256, sizeof j->expect_sha);
        j->prev_outputs_json = d->outputs_json;
      }
    }
  }
  vm_strmap_destroy(done);
  if (rc != VM_OK) return rc == VM_ENOMEM ? vm_err_set(err, rc, "out of memory") : rc;
  return assign_stems(c, err);
}

/* --- summary ---------------------------------------------------------- */

static const char *job_status(const vm_job *j) {
  switch (j->outcome) {
    case VM_JOB_DONE: return "completed";
    case VM_JOB_SKIPPED: return "skipped";
    case VM_JOB_FAILED: return "failed";
    default: return "interrupted";
  }
}

static json_t *summary_files(coord *c) {
  json_t *a = json_array();
  for (size_t i = 0; i < c->n_jobs; i++) {
    vm_job *j = &c->jobs[i];
    json_t *outs = NULL;
    if (j->outcome == VM_JOB_DONE) outs = json_incref(j->outputs);
    else if (j->outcome == VM_JOB_SKIPPED) outs = json_loads(j->prev_outputs_json, 0, NULL);
    json_t *f = json_object();
    json_object_set_new(f, "input", vm_json_string_lossy(j->in->path));
    json_object_set_new(f, "sha256", j->sha256[0] ? json_string(j->sha256) : json_null());
    json_object_set_new(f, "status", json_string(job_status(j)));
    json_object_set_new(f, "error", j->outcome == VM_JOB_FAILED
                                        ? vm_json_string_lossy(vm_err_text(&j->err))
                                        : json_null());
    json_object_set_new(f, "error_code", j->outcome == VM_JOB_FAILED
                                             ? json_string(vm_err_name(j->err.code))
                                             : json_null());
    json_object_set_new(f, "outputs", outs ? outs : json_object());
    json_object_set_new(f, "duration_s", j->outcome == VM_JOB_DONE
                                             ? vm_json_real(j->audio.facts.duration_s)
                                             : json_null());
    json_object_set_new(f, "attempts", json_integer(j->attempts));
    json_object_set_new(f, "batch", json_integer(j->batch + 1));
    json_array_append_new(a, f);
  }
  return a;
}

static json_t *summary_batches(coord *c) {
  json_t *a = json_array();
  for (int b = 0; b < c->n_batches; b++) {
    batch *bt = &c->batches[b];
    if (!bt->opened) continue;
    vm_batch_result r;
    char *errs = NULL, st[32] = "", en[32] = "";
    batch_to_result(c, b, &r, &errs);
    free(errs);
    vm_time_iso_utc(r.start_ms, st);
    if (bt->closed) vm_time_iso_utc(r.end_ms, en);
    json_t *o = json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:s,s:o,s:f,s:f,s:f,s:f,s:o?,s:O}",
        "batch_number", r.batch_number, "total_files", r.total, "successful", r.successful,
        "failed", r.failed, "skipped", r.skipped, "retries", r.retries, "start_time", st,
        "end_time", bt->closed ? json_string(en) : json_null(), "duration_seconds",
        r.duration_s, "audio_seconds", r.audio_s, "peak_rss_mb", r.peak_rss_mb,
        "cpu_utilization", r.cpu_util, "gpu", batch_gpu(c, b), "errors", bt->errors);
    json_array_append_new(a, o);
  }
  return a;
}

static json_t *totals_json(coord *c, const char *status) {
  double wall = vm_time_mono() - c->t_start;
  return json_pack("{s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:f,s:f,s:o}", "status", status,
                   "files", (int)c->n_jobs, "completed", c->counts.completed,
                   "skipped", c->counts.skipped, "failed", c->counts.failed,
                   "rejected", (int)c->disc.n_rejected, "interrupted", c->interrupted,
                   "audio_seconds", c->counts.audio_s, "wall_seconds", wall,
                   "real_time_factor", wall > 0 ? vm_json_real(c->counts.audio_s / wall)
                                                : json_null());
}

/* OUT/index.html: the batch at a glance, from summary.json and the slim
 * part of each file's result: kept by the worker for files done in this
 * run, read back one at a time for files skipped (done by earlier runs).
 * A result that cannot be read shows as such in the index; the index
 * itself failing is a warning, the summary stays the record. */
static void write_index(coord *c, const json_t *summary) {
  const json_t *files = json_object_get(summary, "files");
  size_t n = json_array_size(files);
  json_t **res = vm_calloc(n ? n : 1, sizeof *res);
  char *html = NULL, *path = vm_path_join(c->opts->out_dir, "index.html");
  char sha[VM_SHA256_HEX_LEN + 1];
  size_t len = 0;
  vm_err e;
  vm_err_clear(&e);
  if (!res || !path) {
    vm_err_set(&e, VM_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++) { /* files[i] is jobs[i] (summary_files) */
    if (i < c->n_jobs && c->jobs[i].index_slim) {
      res[i] = json_incref(c->jobs[i].index_slim);
      continue;
    }
    const char *rel = json_string_value(
        json_object_get(json_object_get(json_array_get(files, i), "outputs"), "json"));
    char *p = rel ? vm_path_join(c->opts->out_dir, rel) : NULL;
    json_t *r = p ? json_load_file(p, 0, NULL) : NULL;
    res[i] = vm_report_index_slim(r);
    json_decref(r);
    vm_free(p);
  }
  if (vm_report_index_render(summary, (const json_t *const *)res, n, &html, &len, &e) != VM_OK ||
      vm_fs_write_atomic(path, html, len, &e) != VM_OK)
    goto out;
  vm_sha256_buf_hex(html, len, sha);
  audit_event(c, "output_written", json_pack("{s:n,s:s,s:s,s:s}", "input", "kind", "index",
              "path", "index.html", "sha256", sha));
out:
  if (e.code) VM_WARN("index.html not written: %s", vm_err_text(&e));
  for (size_t i = 0; res && i < n; i++) json_decref(res[i]);
  vm_free(res);
  vm_free(html);
  vm_free(path);
}

static int write_summary(coord *c, const char *status, vm_err *err) {
  char started[32], now[32], sha[VM_SHA256_HEX_LEN + 1];
  vm_time_iso_utc(vm_time_unix_ms() - (int64_t)((vm_time_mono() - c->t_start) * 1e3), started);
  vm_time_iso_utc(vm_time_unix_ms(), now);
  json_t *rej = json_array();
  for (size_t i = 0; i < c->disc.n_rejected; i++)
    json_array_append_new(rej, json_pack("{s:o,s:o}", "input",
        vm_json_string_lossy(c->disc.rejected[i].path), "reason",
        vm_json_string_lossy(c->disc.rejected[i].reason)));
  json_t *opts = c->opts->options_json ? json_loads(c->opts->options_json, 0, NULL) : NULL;
  json_t *s = json_pack("{s:s,s:s,s:{s:I,s:s,s:s,s:s,s:o},s:o,s:o,s:o,s:o}",
      "schema", VM_SUMMARY_SCHEMA, "voiceman_version", c->opts->version,
      "run", "id", (json_int_t)c->run_id, "started", started, "ended", now, "status", status,
      "options", opts ? opts : json_object(),
      "files", summary_files(c), "rejected", rej, "batches", summary_batches(c),
      "totals", totals_json(c, status));
  char *path = vm_path_join(c->opts->out_dir, "summary.json");
  int rc = (!s || !path) ? vm_err_set(err, VM_ENOMEM, "out of memory")
                         : vm_json_write_atomic(path, s, sha, err);
  if (rc == VM_OK)
    audit_event(c, "output_written", json_pack("{s:n,s:s,s:s,s:s}", "input", "kind",
                "summary", "path", "summary.json", "sha256", sha));
  if (rc == VM_OK && c->opts->html) write_index(c, s);
  vm_free(path);
  json_decref(s);
  return rc;
}

/* --- main loop -------------------------------------------------------- */

static void check_stop(coord *c) {
  if (c->stopping) return;
  if ((c->opts->stop && atomic_load(c->opts->stop)) || c->fatal) {
    c->stopping = 1;
    atomic_store(&c->ctx.cancel, 1);
    if (!c->fatal)
      vm__progress_note(c->progress, "stopping",
                        "stopping: finishing the files in flight, saving state "
                        "(press Ctrl-C again to quit at once)");
  }
}

static void run_loop(coord *c) {
  c->counts.total = (int)c->n_jobs;
  for (;;) {
    check_stop(c);
    dispatch(c);
    if (c->outstanding == 0 && (c->stopping || c->fatal ||
                                (c->next >= c->n_jobs && c->n_retry == 0)))
      break;
    void *item;
    int rc = vm_queue_pop_timed(c->ctx.q_done, &item, NULL, 0.2);
    batches_sample_rss(c);
    c->counts.elapsed_s = vm_time_mono() - c->t_start;
    if (rc == VM_OK) handle_result(c, item);
    vm__progress_tick(c->progress, &c->counts);
  }
}

static int start_threads(coord *c, pthread_t *pre, int n_pre, pthread_t *ana, int n_ana) {
  for (int i = 0; i < n_pre; i++)
    if (pthread_create(&pre[i], NULL, vm__stage_preprocess_main, &c->ctx) != 0) return i;
  for (int i = 0; i < n_ana; i++)
    if (pthread_create(&ana[i], NULL, vm__stage_analysis_main, &c->ctx) != 0) return n_pre + i;
  return n_pre + n_ana;
}

static void stop_threads(coord *c, pthread_t *pre, int n_pre, pthread_t *ana, int n_ana) {
  vm_queue_close(c->ctx.q_jobs);
  for (int i = 0; i < n_pre; i++) pthread_join(pre[i], NULL);
  vm_queue_close(c->ctx.q_audio);
  for (int i = 0; i < n_ana; i++) pthread_join(ana[i], NULL);
  vm_queue_close(c->ctx.q_done);
}

static int open_outputs(coord *c, vm_err *err) {
  const vm_run_opts *o = c->opts;
  int rc = vm_fs_mkdir_p(o->out_dir, err);
  if (rc != VM_OK) return rc;
  char *store_path = o->store_path ? vm_strdup(o->store_path) : vm_path_join(o->out_dir, "voiceman.db");
  char *audit_path = vm_path_join(o->out_dir, "audit.jsonl");
  if (!store_path || !audit_path) rc = vm_err_set(err, VM_ENOMEM, "out of memory");
  if (rc == VM_OK) rc = vm_store_open(store_path, &c->store, err);
  if (rc == VM_OK) {
    int n = 0;
    vm_fs_sweep_temps(o->out_dir, &n); /* safe: we hold the store lock */
    if (n) VM_INFO("removed %d temporary file(s) left by an interrupted run", n);
    rc = vm_audit_open(audit_path, &c->audit, err);
  }
  if (rc == VM_OK) {
    int n = 0;
    rc = vm_store_recover(c->store, &n, err);
    if (rc == VM_OK && n) VM_INFO("%d file(s) left in progress by an interrupted run will be redone", n);
  }
  vm_free(store_path);
  vm_free(audit_path);
  return rc;
}

static void coord_deinit(coord *c) {
  for (size_t i = 0; i < c->n_jobs; i++) {
    job_reset(&c->jobs[i]);
    vm_free(c->jobs[i].stem);
  }
  for (int b = 0; b < c->n_batches; b++) {
    json_decref(c->batches[b].errors);
    json_decref(c->batches[b].gpu);
  }
  vm_free(c->jobs);
  vm_free(c->retry);
  vm_free(c->batches);
  vm_store_done_free(c->done, c->n_done);
  vm_discovery_deinit(&c->disc);
  vm_queue_destroy(c->ctx.q_jobs);
  vm_queue_destroy(c->ctx.q_audio);
  vm_queue_destroy(c->ctx.q_done);
  vm__progress_destroy(c->progress);
  vm_audit_close(c->audit);
  vm_store_close(c->store);
}

static int run_jobs(coord *c, vm_err *err) {
  const vm_run_opts *o = c->opts;
  int n_pre = o->workers, n_ana = o->workers > 1 ? o->workers / 2 : 1;
  pthread_t pre[256], ana[128];
  if (n_pre > 256) n_pre = 256;
  c->ctx.opts = o;
  c->ctx.out_dir = o->out_dir;
  if (vm_queue_create(1e9, &c->ctx.q_jobs) || vm_queue_create(o->queue_seconds, &c->ctx.q_audio) ||
      vm_queue_create(1e9, &c->ctx.q_done))
    return vm_err_set(err, VM_ENOMEM, "out of memory");
  int started = start_threads(c, pre, n_pre, ana, n_ana);
  if (started < n_pre + n_ana) {
    c->fatal = 1;
    vm_err_set(&c->fatal_err, VM_ENOMEM, "cannot start worker threads");
    n_pre = started < n_pre ? started : n_pre;
    n_ana = started - n_pre;
  } else {
    run_loop(c);
  }
  stop_threads(c, pre, n_pre, ana, n_ana);
  return VM_OK;
}

/* The pattern database and the Whisper engine, loaded once before anything
 * is written, so a bad --patterns or --model is a set-up error. */
static int open_engines(coord *c, vm_err *err) {
  const vm_run_opts *o = c->opts;
  vm_lang_db *db = NULL;
  vm_err e;
  if (vm_lang_db_open(o->patterns_dir, &db, &e) != VM_OK)
    return vm_err_set(err, e.code, "pattern database: %s", vm_err_text(&e));
  c->ctx.lang_db = db;
  if (!o->model_path) return VM_OK;
  vm_asr_service_config sc = {
      .model_path = o->model_path, .mode = (enum vm_asr_device_mode)o->device_mode,
      .devices = o->devices, .n_devices = o->n_devices,
      .mem_fraction = o->gpu_mem_fraction > 0 ? o->gpu_mem_fraction : 0.9,
      .max_micro_batch = o->max_micro_batch > 0 ? o->max_micro_batch : 16,
      .init_retries = o->init_retries, .init_backoff_s = 0.5, .resident = o->model_resident,
      .n_threads = o->asr_threads > 0 ? o->asr_threads : vm_sys_ncores(),
      .max_cand = o->beam_size > 5 ? o->beam_size : 5, /* best-of 5 at fallback */
      .sim = o->device_sim};
  if (vm__asr_service_open(&sc, &c->ctx.asr, &e) != VM_OK)
    return vm_err_set(err, e.code, "model %s: %s", o->model_path, vm_err_text(&e));
  json_t *r = vm__asr_service_readings(c->ctx.asr);
  const char *why = json_string_value(json_object_get(r, "cpu_reason"));
  VM_INFO("Whisper model %s loaded (%.0f MB); transcribing on %s%s%s", o->model_path,
          json_real_value(json_object_get(r, "model_mb")),
          strcmp(vm__asr_service_backend(c->ctx.asr), "cuda") == 0 ? "the GPU(s)" : "the CPU",
          why ? ": " : "", why ? why : "");
  json_decref(r);
  return VM_OK;
}

static void close_engines(coord *c) {
  vm__asr_service_close(c->ctx.asr);
  vm_lang_db_close(c->ctx.lang_db);
}

int vm_pipeline_run(const vm_run_opts *o, vm_run_totals *out, vm_err *err) {
  coord c;
  memset(&c, 0, sizeof c);
  memset(out, 0, sizeof *out);
  c.opts = o;
  c.t_start = vm_time_mono();
  int rc = open_engines(&c, err);
  if (rc == VM_OK) rc = open_outputs(&c, err);
  if (rc == VM_OK) rc = vm_discover(o->inputs, o->n_inputs, &c.disc, err);
  if (rc == VM_OK) rc = vm_store_run_begin(c.store, o->version, o->options_json, &c.run_id, err);
  if (rc != VM_OK) goto out;
  json_t *opts = o->options_json ? json_loads(o->options_json, 0, NULL) : NULL;
  audit_event(&c, "run_start", json_pack("{s:I,s:s,s:o}", "run_id", (json_int_t)c.run_id,
              "version", o->version, "options", opts ? opts : json_object()));
  for (size_t i = 0; i < c.disc.n_rejected; i++)
    VM_WARN("not processed: %s: %s", c.disc.rejected[i].path, c.disc.rejected[i].reason);
  if ((rc = plan_jobs(&c, err)) != VM_OK) goto out;
  c.progress = vm__progress_create(o->progress);
  char note[128];
  snprintf(note, sizeof note, "%zu recording(s) to process, %zu rejected, %d worker(s)",
           c.n_jobs, c.disc.n_rejected, o->workers);
  vm__progress_note(c.progress, "start", note);
  if ((rc = run_jobs(&c, err)) != VM_OK) goto out;
  const char *status = c.fatal ? "failed" : c.stopping ? "interrupted" : "completed";
  vm_err serr;
  if (write_summary(&c, status, &serr) != VM_OK && !c.fatal) {
    c.fatal = 1;
    vm_err_set(&c.fatal_err, serr.code, "cannot write summary.json: %s", vm_err_text(&serr));
  }
  json_t *tot = totals_json(&c, status);
  char *tot_s = json_dumps(tot, JSON_COMPACT | JSON_PRESERVE_ORDER);
  audit_event(&c, "run_end", json_pack("{s:I,s:s,s:O}", "run_id", (json_int_t)c.run_id,
              "status", status, "totals", tot));
  vm_err e2;
  if (vm_store_run_end(c.store, c.run_id, status, tot_s, &e2) != VM_OK && !c.fatal) {
    c.fatal = 1;
    c.fatal_err = e2;
  }
  free(tot_s);
  json_decref(tot);
  out->n_inputs = (int)c.n_jobs;
  out->completed = c.counts.completed;
  out->skipped = c.counts.skipped;
  out->failed = c.counts.failed;
  out->rejected = (int)c.disc.n_rejected;
  out->interrupted = (int)(c.n_jobs) - c.counts.completed - c.counts.skipped - c.counts.failed;
  out->audio_s = c.counts.audio_s;
  out->wall_s = vm_time_mono() - c.t_start;
  if (c.fatal) {
    if (err) *err = c.fatal_err;
    rc = c.fatal_err.code ? c.fatal_err.code : VM_EINTERNAL;
  } else if (c.stopping) {
    rc = vm_err_set(err, VM_ECANCELED, "interrupted; run the same command again to finish");
  }
out:
  coord_deinit(&c);
  close_engines(&c);
  return rc;
}
