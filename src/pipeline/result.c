/* result.c — the per-file result JSON (schema voiceman.result/1, see
 * docs/result-schema.md). Built from a finished job; numbers that cannot
 * be computed are null, never a stand-in value. */
#include <math.h>
#include <string.h>

#include "pipeline_impl.h"
#include "vm_json.h"
#include "vm_time.h"

static json_t *input_json(const vm_job *j) {
  char mtime[32];
  vm_time_iso_utc(j->in->mtime_ns / 1000000, mtime);
  const char *slash = strrchr(j->in->path, '/');
  json_t *o = json_object();
  json_object_set_new(o, "path", vm_json_string_lossy(j->in->path));
  json_object_set_new(o, "name", vm_json_string_lossy(slash ? slash + 1 : j->in->path));
  json_object_set_new(o, "size_bytes", json_integer((json_int_t)j->hashed_size));
  json_object_set_new(o, "mtime", json_string(mtime));
  json_object_set_new(o, "sha256", json_string(j->sha256));
  return o;
}

static json_t *audio_json(const vm_job *j) {
  const vm_audio_facts *f = &j->audio.facts;
  json_t *o = json_object();
  json_object_set_new(o, "container", json_string(f->container));
  json_object_set_new(o, "codec", json_string(f->codec));
  json_object_set_new(o, "sample_rate_hz", json_integer(f->native_rate_hz));
  json_object_set_new(o, "channels", json_integer(f->native_channels));
  json_object_set_new(o, "bit_rate", f->bit_rate > 0 ? json_integer(f->bit_rate) : json_null());
  json_object_set_new(o, "duration_s", vm_json_real(f->duration_s));
  json_object_set_new(o, "container_duration_s",
                      f->container_duration_s >= 0 ? vm_json_real(f->container_duration_s)
                                                   : json_null());
  json_object_set_new(o, "audio_streams", json_integer(f->n_audio_streams));
  json_object_set_new(o, "decode_errors", json_integer(f->n_decode_errors));
  json_object_set_new(o, "analysis_sample_rate_hz", json_integer(j->audio.sample_rate_hz));
  json_object_set_new(o, "analysis_samples", json_integer((json_int_t)j->audio.n_samples));
  json_object_set_new(o, "channels_analysed_apart", json_boolean(j->audio.n_channel > 0));
  json_object_set_new(o, "filled_s", vm_json_real(f->filled_s));
  return o;
}

static json_t *levels_json(const vm_job *j) {
  const vm_level_stats *s = &j->levels;
  json_t *o = json_object();
  json_object_set_new(o, "peak_dbfs", vm_json_real(s->peak_dbfs));
  json_object_set_new(o, "rms_dbfs", vm_json_real(s->rms_dbfs));
  json_object_set_new(o, "crest_db", vm_json_real(s->crest_db));
  json_object_set_new(o, "dc_offset", vm_json_real(s->dc_offset));
  json_object_set_new(o, "clipped_fraction", vm_json_real(s->clipped_fraction));
  json_object_set_new(o, "clipped_runs", json_integer((json_int_t)s->n_clipped_runs));
  json_object_set_new(o, "active_fraction", vm_json_real(s->active_fraction));
  json_object_set_new(o, "silent", json_boolean(s->silent));
  json_object_set_new(o, "measured_on", json_string("decoded 16 kHz mono signal, before normalisation"));
  return o;
}

static json_t *loudness_json(const vm_job *j) {
  const vm_loudness *l = &j->loudness;
  vm_norm_opts d = vm_norm_opts_default();
  json_t *o = json_object();
  json_object_set_new(o, "integrated_lufs_before", vm_json_real(l->lufs_before));
  json_object_set_new(o, "integrated_lufs_after", vm_json_real(l->lufs_after));
  json_object_set_new(o, "target_lufs", vm_json_real(d.target_lufs));
  json_object_set_new(o, "gain_db", vm_json_real(l->gain_db));
  json_object_set_new(o, "gain_limited", json_boolean(l->gain_limited));
  json_object_set_new(o, "peak_dbfs_before", vm_json_real(l->peak_dbfs_before));
  json_object_set_new(o, "peak_dbfs_after", vm_json_real(l->peak_dbfs_after));
  json_object_set_new(o, "silent", json_boolean(l->silent));
  return o;
}

static json_t *stage(const char *status, double ms, const char *reason) {
  json_t *o = json_object();
  json_object_set_new(o, "status", json_string(status));
  if (ms >= 0) json_object_set_new(o, "ms", vm_json_real(round(ms * 1000) / 1000));
  if (reason) json_object_set_new(o, "reason", json_string(reason));
  return o;
}

/* Where the transcript came from, or why there is none. */
static json_t *transcription_stage(const vm_job *j, const vm_run_opts *opts) {
  const char *transcripts_dir = opts->transcripts_dir;
  if (j->transcript && !j->transcript_path) {
    json_t *o = stage("done", j->t.asr_ms, NULL);
    json_object_set_new(o, "source", json_string("whisper"));
    json_object_set_new(o, "model", vm_json_string_lossy(opts->model_path));
    return o;
  }
  if (j->transcript && j->transcript_path) {
    json_t *o = stage("done", -1, NULL);
    json_object_set_new(o, "source", json_string("file"));
    json_object_set_new(o, "path", vm_json_string_lossy(j->transcript_path));
    return o;
  }
  if (transcripts_dir) {
    json_t *o = stage("skipped", -1, "no transcript file for this recording (.srt, .vtt or "
                                     ".json) in the --transcripts folder");
    json_object_set_new(o, "searched", vm_json_string_lossy(transcripts_dir));
    return o;
  }
  if (opts->model_path)
    return stage("skipped", j->t.asr_ms, "no speech found by the voice activity detector");
  return stage("skipped", -1,
               "neither a Whisper model (--model) nor a transcript folder (--transcripts) "
               "was given");
}

static json_t *stages_json(const vm_job *j, const vm_run_opts *opts) {
  json_t *o = json_object();
  json_object_set_new(o, "hash", stage("done", j->t.hash_ms, NULL));
  json_object_set_new(o, "decode", stage("done", j->t.decode_ms, NULL));
  json_object_set_new(o, "levels", stage("done", j->t.levels_ms, NULL));
  json_object_set_new(o, "normalize", stage("done", j->t.normalize_ms, NULL));
  json_object_set_new(o, "vad", stage("done", j->t.vad_ms, NULL));
  json_object_set_new(o, "diarization", stage("done", j->t.diarize_ms, NULL));
  json_object_set_new(o, "voice", stage("done", j->t.voice_ms, NULL));
  json_object_set_new(o, "transcription", transcription_stage(j, opts));
  json_object_set_new(o, "language",
                      j->transcript ? stage("done", j->t.language_ms, NULL)
                                    : stage("skipped", -1, "no transcript"));
  return o;
}

/* What produced this result: program, model and pattern database. */
static json_t *versions_json(const vm_job *j, const vm_stage_ctx *c) {
  json_t *o = json_object();
  json_object_set_new(o, "voiceman", json_string(c->opts->version));
  json_object_set_new(o, "model", j->transcript && !j->transcript_path && c->opts->model_path
                                      ? vm_json_string_lossy(c->opts->model_path)
                                      : json_null());
  json_object_set_new(o, "patterns",
                      c->lang_db ? json_string(vm_lang_db_version(c->lang_db)) : json_null());
  return o;
}

json_t *vm__result_json(const vm_job *j, const vm_analysis *an, json_t *language,
                        const vm_stage_ctx *c) {
  const vm_run_opts *opts = c->opts;
  char now[32];
  vm_time_iso_utc(vm_time_unix_ms(), now);
  json_t *o = json_object();
  if (!o) return NULL;
  json_object_set_new(o, "schema", json_string(VM_RESULT_SCHEMA));
  json_object_set_new(o, "voiceman_version", json_string(opts->version));
  json_object_set_new(o, "run_id", json_integer(j->run_id));
  json_object_set_new(o, "processed_at", json_string(now));
  json_object_set_new(o, "input", input_json(j));
  json_object_set_new(o, "audio", audio_json(j));
  json_object_set_new(o, "levels", levels_json(j));
  json_object_set_new(o, "loudness", loudness_json(j));
  json_object_set_new(o, "speech_free", json_boolean(j->levels.silent || j->loudness.silent));
  json_object_set_new(o, "acoustic", json_incref(an->acoustic));
  json_object_set_new(o, "vad", json_incref(an->vad));
  json_object_set_new(o, "diarization", json_incref(an->diarization));
  json_object_set_new(o, "speakers", json_incref(an->speakers));
  json_object_set_new(o, "segments", json_incref(an->segments));
  json_object_set_new(o, "escalation", json_incref(an->escalation));
  json_object_set_new(o, "contours", json_incref(an->contours));
  json_object_set_new(o, "transcript",
                      j->transcript ? vm_transcript_to_json(j->transcript) : json_null());
  json_object_set_new(o, "language", language ? json_incref(language) : json_null());
  json_object_set_new(o, "versions", versions_json(j, c));
  json_object_set_new(o, "stages", stages_json(j, opts));
  return o;
}
