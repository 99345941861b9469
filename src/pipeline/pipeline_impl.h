/* pipeline_impl.h — shared inside the pipeline module only.
 *
 * A vm_job is one input's trip through the pipeline. The coordinator owns
 * every job; a worker holds a job only between popping it from a queue
 * and pushing it to the next, and writes only the result fields. */
#ifndef VM_PIPELINE_IMPL_H
#define VM_PIPELINE_IMPL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "analysis.h"
#include "audio.h"
#include "discover.h"
#include "dsp_stats.h"
#include "asr_service.h"
#include "asr_transcribe.h"
#include "lang.h"
#include "pipeline.h"
#include "transcript.h"
#include "vm_queue.h"
#include "vm_sha256.h"

enum vm_job_outcome {
  VM_JOB_NONE = 0,
  VM_JOB_DONE,      /* processed, outputs written */
  VM_JOB_SKIPPED,   /* unchanged since a completed run: nothing redone */
  VM_JOB_FAILED,    /* err says why */
  VM_JOB_CANCELED,  /* stopped by an interrupt: back to pending */
};

/* Stage timings in milliseconds. */
typedef struct vm_job_times {
  double hash_ms, decode_ms, normalize_ms, levels_ms;
  double asr_ms, vad_ms, diarize_ms, voice_ms, language_ms, report_ms, write_ms, wait_ms;
} vm_job_times;

typedef struct vm_job {
  /* set by the coordinator before dispatch */
  const vm_input *in;
  size_t index;              /* position in the run's input list */
  int batch;                 /* 0-based batch */
  int64_t file_id;           /* store row */
  char *stem;                /* output stem relative to OUT ("files/..") */
  int skip_candidate;        /* completed earlier with same size and mtime */
  char expect_sha[VM_SHA256_HEX_LEN + 1];
  char *prev_outputs_json;   /* outputs of the earlier completion */
  int attempts;              /* attempts in this run */
  int64_t run_id;
  double queued_at;          /* vm_time_mono() when pushed to q_audio */

  /* written by workers */
  enum vm_job_outcome outcome;
  vm_err err;
  char sha256[VM_SHA256_HEX_LEN + 1];
  uint64_t hashed_size;
  vm_audio audio;            /* freed by the analysis stage */
  vm_loudness loudness;
  vm_level_stats levels;
  vm_job_times t;
  json_t *outputs;           /* kind → path relative to OUT (owned) */
  json_t *output_sha;        /* kind → SHA-256 hex of that output (owned) */
  vm_transcript *transcript; /* from a transcript file or the engine; owned */
  char *transcript_path;     /* the transcript file read, or NULL (owned) */
  json_t *index_slim;        /* what OUT/index.html shows of the result (owned) */

  /* coordinator bookkeeping */
  int resolved;
} vm_job;

/* What the worker threads share. */
typedef struct vm_stage_ctx {
  const vm_run_opts *opts;
  const char *out_dir;
  vm_queue *q_jobs, *q_audio, *q_done;
  atomic_int cancel;         /* set by the coordinator on stop */
  vm_lang_db *lang_db;       /* pattern database, read-only, shared */
  vm_asr_service *asr;       /* Whisper engines (--model) or NULL */
} vm_stage_ctx;

/* Thread bodies (arg: vm_stage_ctx *). */
void *vm__stage_preprocess_main(void *arg);
void *vm__stage_analysis_main(void *arg);

/* Builds the per-file result JSON (new reference); an is the job's
 * analysis (its objects are borrowed). */
json_t *vm__result_json(const vm_job *job, const vm_analysis *an, json_t *language,
                        const vm_stage_ctx *c);

/* outputs.c: write OUT/<stem>.<ext> atomically and record it under kind
 * in j->outputs and its SHA-256 in j->output_sha. On failure j->err says
 * why. */
int vm__output_write_bytes(vm_stage_ctx *c, vm_job *j, const char *kind, const char *ext,
                           const void *data, size_t n);
int vm__output_write_json(vm_stage_ctx *c, vm_job *j, const char *kind, const json_t *doc);
/* .txt, .srt and .vtt of j->transcript (nothing when there is none). */
int vm__output_write_transcripts(vm_stage_ctx *c, vm_job *j);

#endif /* VM_PIPELINE_IMPL_H */
