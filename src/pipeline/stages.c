/* stages.c — the worker threads: preprocess and analysis.
 *
 * Preprocess (one thread per --workers): SHA-256 of the original; if the
 * store says it was completed with this very content, stop there (skipped);
 * else decode to 16 kHz mono (and the two channels apart, for stereo
 * recordings), measure levels, loudness-normalise, and pass the audio on.
 * Analysis: VAD, diarization and voice measures (analysis.c), then the
 * result JSON, written atomically.
 *
 * Neither stage touches the store or the audit log: results travel back to
 * the coordinator in the job. A job is never lost: every pop ends in
 * exactly one push (to the next stage or to q_done). If a push fails
 * because the queue was closed, the coordinator is already stopping and
 * the job is recorded as canceled from its unresolved state. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "dsp_stats.h"
#include "pipeline_impl.h"
#include "vm_alloc.h"
#include "vm_fs.h"
#include "vm_json.h"
#include "vm_log.h"
#include "vm_time.h"

static void finish(vm_stage_ctx *c, vm_job *j, enum vm_job_outcome o) {
  j->outcome = o;
  if (o != VM_JOB_DONE) vm_audio_deinit(&j->audio);
  if (vm_queue_push(c->q_done, j, 0) != VM_OK)
    VM_WARN("internal: result of %s dropped after shutdown", j->in->display);
}

static int canceled(vm_stage_ctx *c) { return atomic_load(&c->cancel) != 0; }

/* The input must still be the file that was discovered: a file replaced
 * between discovery and hashing is reported, not silently analysed. */
static int hash_input(vm_job *j) {
  uint8_t d[VM_SHA256_LEN];
  double t0 = vm_time_mono();
  int rc = vm_sha256_file(j->in->path, d, &j->hashed_size, &j->err);
  j->t.hash_ms = (vm_time_mono() - t0) * 1e3;
  if (rc != VM_OK) {
    if (rc == VM_EACCES) vm_err_set(&j->err, rc, "permission denied");
    else if (rc == VM_ENOENT) vm_err_set(&j->err, rc, "file vanished before it could be read");
    return rc;
  }
  vm_sha256_hex(d, j->sha256);
  return VM_OK;
}

static void preprocess_one(vm_stage_ctx *c, vm_job *j) {
  vm_err_clear(&j->err);
  if (canceled(c)) return finish(c, j, VM_JOB_CANCELED);
  if (hash_input(j) != VM_OK) return finish(c, j, VM_JOB_FAILED);
  if (j->skip_candidate && !strcmp(j->sha256, j->expect_sha))
    return finish(c, j, VM_JOB_SKIPPED);
  if (j->hashed_size == 0) {
    vm_err_set(&j->err, VM_EEMPTY, "empty file (0 bytes)");
    return finish(c, j, VM_JOB_FAILED);
  }
  vm_audio_opts ao = vm_audio_opts_default();
  ao.max_duration_s = c->opts->max_duration_s;
  ao.keep_channels = 1;
  ao.cancel = &c->cancel;
  double t0 = vm_time_mono();
  int rc = vm_audio_decode_file(j->in->path, &ao, &j->audio, &j->err);
  j->t.decode_ms = (vm_time_mono() - t0) * 1e3;
  if (rc == VM_ECANCELED) return finish(c, j, VM_JOB_CANCELED);
  if (rc != VM_OK) return finish(c, j, VM_JOB_FAILED);
  /* levels of the recording as decoded: clipping must be seen before any
   * gain moves the samples away from full scale */
  t0 = vm_time_mono();
  vm_dsp_level_stats(j->audio.samples, j->audio.n_samples,
                     j->audio.sample_rate_hz, &j->levels);
  j->t.levels_ms = (vm_time_mono() - t0) * 1e3;
  t0 = vm_time_mono();
  rc = vm_audio_normalize(j->audio.samples, j->audio.n_samples,
                          j->audio.sample_rate_hz, NULL, &j->loudness, &j->err);
  if (rc == VM_OK && j->audio.channel[0]) {
    /* the same gain for both channels keeps their balance as recorded */
    float g = (float)pow(10.0, j->loudness.gain_db / 20.0);
    for (int ch = 0; ch < 2; ch++)
      for (size_t i = 0; i < j->audio.n_channel; i++) j->audio.channel[ch][i] *= g;
  }
  j->t.normalize_ms = (vm_time_mono() - t0) * 1e3;
  if (rc != VM_OK) return finish(c, j, VM_JOB_FAILED);
  j->queued_at = vm_time_mono();
  double w = (double)j->audio.n_samples / (double)j->audio.sample_rate_hz;
  if (vm_queue_push(c->q_audio, j, w) != VM_OK) finish(c, j, VM_JOB_CANCELED);
}

void *vm__stage_preprocess_main(void *arg) {
  vm_stage_ctx *c = arg;
  void *item;
  while (vm_queue_pop(c->q_jobs, &item, NULL) == VM_OK) preprocess_one(c, item);
  return NULL;
}

/* Writes OUT/<stem>.json; records it in j->outputs. */
static int write_result(vm_stage_ctx *c, vm_job *j, const vm_analysis *an) {
  int rc = VM_OK;
  char *rel = vm_asprintf("%s.json", j->stem);
  char *path = rel ? vm_path_join(c->out_dir, rel) : NULL;
  char *dir = path ? vm_strdup(path) : NULL;
  json_t *res = NULL;
  if (!dir) {
    rc = vm_err_set(&j->err, VM_ENOMEM, "out of memory");
    goto out;
  }
  *strrchr(dir, '/') = '\0';
  if ((rc = vm_fs_mkdir_p(dir, &j->err)) != VM_OK) goto out;
  res = vm__result_json(j, an, c->opts->version);
  if (!res) {
    rc = vm_err_set(&j->err, VM_ENOMEM, "out of memory building the result");
    goto out;
  }
  if ((rc = vm_json_write_atomic(path, res, j->json_sha, &j->err)) != VM_OK)
    goto out;
  json_object_set_new(j->outputs, "json", json_string(rel));
out:
  json_decref(res);
  vm_free(dir);
  vm_free(path);
  vm_free(rel);
  return rc;
}

static void analyse_one(vm_stage_ctx *c, vm_job *j) {
  vm_analysis an;
  vm_analysis_opts ao;
  j->t.wait_ms = (vm_time_mono() - j->queued_at) * 1e3;
  if (canceled(c)) return finish(c, j, VM_JOB_CANCELED);
  vm_analysis_opts_default(&ao);
  if (c->opts->pitch_floor_hz > 0) ao.pitch_floor_hz = c->opts->pitch_floor_hz;
  if (c->opts->pitch_ceiling_hz > 0) ao.pitch_ceiling_hz = c->opts->pitch_ceiling_hz;
  ao.n_speakers = c->opts->n_speakers;
  int rc = vm_analysis_run(j->audio.samples, j->audio.n_samples, j->audio.sample_rate_hz,
                           j->audio.channel[0], j->audio.channel[1], &ao, &an, &j->err);
  j->t.vad_ms = an.vad_ms;
  j->t.diarize_ms = an.diarize_ms;
  j->t.voice_ms = an.voice_ms;
  /* the samples are no longer needed: release them before writing */
  vm_audio_facts facts = j->audio.facts;
  size_t n = j->audio.n_samples;
  int rate = j->audio.sample_rate_hz, stereo = j->audio.channel[0] != NULL;
  vm_audio_deinit(&j->audio);
  j->audio.facts = facts;
  j->audio.n_samples = n;
  j->audio.n_channel = stereo ? n : 0;
  j->audio.sample_rate_hz = rate;
  if (rc != VM_OK) return finish(c, j, VM_JOB_FAILED);
  if (!j->outputs) j->outputs = json_object();
  double t0 = vm_time_mono();
  rc = j->outputs ? write_result(c, j, &an)
                  : vm_err_set(&j->err, VM_ENOMEM, "out of memory");
  j->t.write_ms = (vm_time_mono() - t0) * 1e3;
  vm_analysis_deinit(&an);
  finish(c, j, rc == VM_OK ? VM_JOB_DONE : VM_JOB_FAILED);
}

void *vm__stage_analysis_main(void *arg) {
  vm_stage_ctx *c = arg;
  void *item;
  while (vm_queue_pop(c->q_audio, &item, NULL) == VM_OK) analyse_one(c, item);
  return NULL;
}
