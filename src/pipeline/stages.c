/* stages.c — the worker threads: preprocess and analysis.
 *
 * Preprocess (one thread per --workers): SHA-256 of the original; if the
 * store says it was completed with this very content, stop there (skipped);
 * else decode to 16 kHz mono (and the two channels apart, for stereo
 * recordings), measure levels, loudness-normalise, and pass the audio on.
 * Analysis: the transcript (a file under --transcripts, else the Whisper
 * engine on the voice activity detector's chunks), VAD, diarization and
 * voice measures (analysis*.c), the language forensics, then the outputs
 * (outputs.c): result JSON, transcript views, HTML report, each written
 * atomically.
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

#include "chunker.h"
#include "dsp_stats.h"
#include "report_html.h"
#include "vad.h"
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

/* The transcript file of this input under --transcripts DIR, if any: for
 * the input <root>/a/b.m4a it is DIR/a/b.srt, .vtt or .json. None is not
 * an error (the stage is reported as skipped); a broken one fails the
 * file, so that the analyst fixes it and the rerun picks the file up. */
static int load_transcript(vm_stage_ctx *c, vm_job *j) {
  const char *dir = c->opts->transcripts_dir, *rel = strchr(j->in->root_rel, '/');
  char *path = NULL;
  vm_err e;
  if (!dir) return VM_OK;
  int rc = vm_transcript_find(dir, rel ? rel + 1 : j->in->root_rel, &path);
  if (rc == VM_ENOENT) return VM_OK;
  if (rc != VM_OK) return vm_err_set(&j->err, rc, "out of memory");
  rc = vm_transcript_load(path, &j->transcript, &e);
  if (rc != VM_OK) {
    vm_err_set(&j->err, rc, "transcript %s: %s", path, vm_err_text(&e));
    vm_free(path);
    return rc;
  }
  j->transcript_path = path;
  return VM_OK;
}

/* Speech-to-text with the run's Whisper engines (--model), when no
 * transcript file was found: the voice activity detector's chunks (at
 * most 30 s, cut in pauses) go to the transcription service, which
 * batches them with other files' chunks on the GPUs or the CPU
 * (asr_service.h); chunks are never conditioned on each other, and their
 * timestamps are mapped back to the recording. A
 * recording without speech costs no transcription at all. The voice
 * activity found goes to *out_vad (caller destroys) for the analysis. */
static int transcribe(vm_stage_ctx *c, vm_job *j, vm_vad_result **out_vad) {
  vm_vad_result *vad = NULL;
  vm_chunk_plan *plan = NULL;
  vm_asr_chunk *ch = NULL;
  vm_transcript *tr = NULL;
  int rc;
  if (!c->asr || j->transcript) return VM_OK;
  double t0 = vm_time_mono();
  if ((rc = vm_vad_run(j->audio.samples, j->audio.n_samples, j->audio.sample_rate_hz, NULL,
                       &vad)) != VM_OK ||
      (rc = vm_chunker_plan(vad, NULL, &plan)) != VM_OK) {
    vm_err_set(&j->err, rc, "voice activity detection before transcription failed");
    goto out;
  }
  if (plan->n_chunks == 0) goto out;
  if (!(ch = vm_calloc(plan->n_chunks, sizeof *ch))) {
    rc = vm_err_set(&j->err, VM_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < plan->n_chunks; i++) {
    const vm_chunk *k = &plan->chunks[i];
    ch[i] = (vm_asr_chunk){0, k->offset_s, j->audio.samples + k->start_sample,
                           k->end_sample - k->start_sample};
  }
  vm_asr_opts o = vm_asr_opts_default();
  o.language = c->opts->language;
  o.cancel = &c->cancel;
  o.dec.beam_size = c->opts->beam_size > 0 ? c->opts->beam_size : o.dec.beam_size;
  vm_err e;
  rc = vm__asr_service_transcribe(c->asr, ch, plan->n_chunks, &o, &tr, &e);
  if (rc == VM_OK) j->transcript = tr;
  else if (rc != VM_ECANCELED) vm_err_set(&j->err, rc, "transcription: %s", vm_err_text(&e));
out:
  j->t.asr_ms = (vm_time_mono() - t0) * 1e3;
  vm_free(ch);
  vm_chunk_plan_destroy(plan);
  if (rc == VM_OK) *out_vad = vad;
  else vm_vad_result_destroy(vad);
  return rc;
}

/* Language forensics over the (diarized) transcript, with each segment's
 * prosodic arousal and stress index from the voice analysis. */
static int analyse_language(vm_stage_ctx *c, vm_job *j, const vm_analysis *an,
                            json_t **out) {
  vm_lang_voice *v = NULL;
  vm_lang_opts o;
  vm_err e;
  *out = NULL;
  if (!j->transcript || !c->lang_db) return VM_OK;
  double t0 = vm_time_mono();
  size_t n = j->transcript->n_segments;
  if (an->seg_arousal && an->n_seg == n && n > 0) {
    if (!(v = vm_malloc(n * sizeof *v))) return vm_err_set(&j->err, VM_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) v[i] = (vm_lang_voice){an->seg_arousal[i], an->seg_stress[i]};
  }
  vm_lang_opts_init(&o);
  int rc = vm_lang_analyze(c->lang_db, j->transcript, v, &o, out, &e);
  if (rc != VM_OK) vm_err_set(&j->err, rc, "language analysis: %s", vm_err_text(&e));
  vm_free(v);
  j->t.language_ms = (vm_time_mono() - t0) * 1e3;
  return rc;
}

/* OUT/<stem>.html from the result (and .pdf with --pdf); written last so
 * that it can list the hashes of the other outputs. A PDF that cannot be
 * printed is a warning, not a failed file: the HTML is the report. */
static int write_report(vm_stage_ctx *c, vm_job *j, const json_t *res) {
  char *html = NULL;
  size_t n = 0;
  vm_err e;
  double t0 = vm_time_mono();
  vm_report_ctx rc_ = {c->opts->version, j->output_sha, j->outputs, NULL};
  int rc = vm_report_html_render(res, &rc_, &html, &n, &e);
  if (rc != VM_OK) return vm_err_set(&j->err, rc, "report: %s", vm_err_text(&e));
  rc = vm__output_write_bytes(c, j, "html", "html", html, n);
  vm_free(html);
  if (rc == VM_OK && c->opts->pdf) {
    char *hrel = vm_asprintf("%s.html", j->stem), *prel = vm_asprintf("%s.pdf", j->stem);
    char *hp = hrel ? vm_path_join(c->out_dir, hrel) : NULL;
    char *pp = prel ? vm_path_join(c->out_dir, prel) : NULL;
    uint8_t d[VM_SHA256_LEN];
    char sha[VM_SHA256_HEX_LEN + 1];
    if (hp && pp && vm_report_pdf_print(hp, pp, &e) == VM_OK &&
        vm_sha256_file(pp, d, NULL, &e) == VM_OK) {
      vm_sha256_hex(d, sha);
      json_object_set_new(j->outputs, "pdf", json_string(prel));
      json_object_set_new(j->output_sha, "pdf", json_string(sha));
    } else {
      VM_WARN("%s: no PDF: %s", j->in->display, vm_err_text(&e));
    }
    vm_free(hrel);
    vm_free(prel);
    vm_free(hp);
    vm_free(pp);
  }
  j->t.report_ms = (vm_time_mono() - t0) * 1e3;
  return rc;
}

/* Writes the result JSON, the transcript views and the report; records
 * them in j->outputs and j->output_sha. */
static int write_outputs(vm_stage_ctx *c, vm_job *j, const vm_analysis *an, json_t *lang) {
  json_t *res = vm__result_json(j, an, lang, c);
  if (!res) return vm_err_set(&j->err, VM_ENOMEM, "out of memory building the result");
  int rc = vm__output_write_json(c, j, "json", res);
  if (rc == VM_OK) rc = vm__output_write_transcripts(c, j);
  if (rc == VM_OK && c->opts->html) {
    rc = write_report(c, j, res);
    if (rc == VM_OK) j->index_slim = vm_report_index_slim(res); /* NULL: read back */
  }
  json_decref(res);
  return rc;
}

/* The samples are no longer needed once analysed: release them before
 * writing, keeping the facts the result reports. */
static void release_audio(vm_job *j) {
  vm_audio_facts facts = j->audio.facts;
  size_t n = j->audio.n_samples;
  int rate = j->audio.sample_rate_hz, stereo = j->audio.channel[0] != NULL;
  vm_audio_deinit(&j->audio);
  j->audio.facts = facts;
  j->audio.n_samples = n;
  j->audio.n_channel = stereo ? n : 0;
  j->audio.sample_rate_hz = rate;
}

static void analyse_one(vm_stage_ctx *c, vm_job *j) {
  vm_analysis an;
  vm_analysis_opts ao;
  vm_vad_result *vad = NULL;
  json_t *lang = NULL;
  j->t.wait_ms = (vm_time_mono() - j->queued_at) * 1e3;
  if (canceled(c)) return finish(c, j, VM_JOB_CANCELED);
  if (load_transcript(c, j) != VM_OK) return finish(c, j, VM_JOB_FAILED);
  int rc = transcribe(c, j, &vad);
  if (rc == VM_ECANCELED) return finish(c, j, VM_JOB_CANCELED);
  if (rc != VM_OK) return finish(c, j, VM_JOB_FAILED);
  vm_analysis_opts_default(&ao);
  if (c->opts->pitch_floor_hz > 0) ao.pitch_floor_hz = c->opts->pitch_floor_hz;
  if (c->opts->pitch_ceiling_hz > 0) ao.pitch_ceiling_hz = c->opts->pitch_ceiling_hz;
  ao.n_speakers = c->opts->n_speakers;
  ao.transcript = j->transcript;
  ao.vad = vad;
  rc = vm_analysis_run(j->audio.samples, j->audio.n_samples, j->audio.sample_rate_hz,
                       j->audio.channel[0], j->audio.channel[1], &ao, &an, &j->err);
  vm_vad_result_destroy(vad);
  j->t.vad_ms = an.vad_ms;
  j->t.diarize_ms = an.diarize_ms;
  j->t.voice_ms = an.voice_ms;
  release_audio(j);
  if (rc != VM_OK) return finish(c, j, VM_JOB_FAILED);
  if (!j->outputs) j->outputs = json_object();
  if (!j->output_sha) j->output_sha = json_object();
  rc = analyse_language(c, j, &an, &lang);
  double t0 = vm_time_mono();
  if (rc == VM_OK)
    rc = j->outputs && j->output_sha ? write_outputs(c, j, &an, lang)
                                     : vm_err_set(&j->err, VM_ENOMEM, "out of memory");
  j->t.write_ms = (vm_time_mono() - t0) * 1e3 - j->t.report_ms;
  json_decref(lang);
  vm_analysis_deinit(&an);
  finish(c, j, rc == VM_OK ? VM_JOB_DONE : VM_JOB_FAILED);
}

void *vm__stage_analysis_main(void *arg) {
  vm_stage_ctx *c = arg;
  void *item;
  while (vm_queue_pop(c->q_audio, &item, NULL) == VM_OK) analyse_one(c, item);
  return NULL;
}
