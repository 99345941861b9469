/* pipeline.h — `voiceman run`: the batch job from inputs to outputs.
 *
 * vm_pipeline_run() discovers the inputs, consults the checkpoint store,
 * and drives three kinds of thread (design: docs/design.md):
 *
 *   coordinator (the caller's thread) ── q_jobs ──► preprocess workers
 *     (hash, decode, resample, normalise) ── q_audio (bounded by audio
 *     seconds) ──► analysis workers (transcript from a file or the Whisper
 *     engine, VAD, diarization, voice measures, language forensics,
 *     outputs) ── q_done ──►
 *   coordinator (store, audit log, batches, progress, summary.json,
 *   index.html)
 *
 * Only the coordinator touches the store and the audit log. Every output is
 * written atomically; a file is "completed" in the store only after all its
 * outputs are in place, so a crash at any moment leaves either a completed
 * file with its outputs or a file that the next run redoes.
 */
#ifndef VM_PIPELINE_H
#define VM_PIPELINE_H

#include <stdatomic.h>
#include <stddef.h>

#include "vm_status.h"

#define VM_RESULT_SCHEMA "voiceman.result/1"
#define VM_SUMMARY_SCHEMA "voiceman.summary/1"

enum vm_progress_mode {
  VM_PROGRESS_AUTO = 0,  /* a live line on a terminal, else lines per file */
  VM_PROGRESS_LINES,     /* one log line per file */
  VM_PROGRESS_JSON,      /* one JSON object per event on stderr */
  VM_PROGRESS_QUIET,     /* errors only */
};

typedef struct vm_run_opts {
  const char *const *inputs;  /* files and folders */
  size_t n_inputs;
  const char *out_dir;        /* created if missing */
  const char *store_path;     /* NULL: <out_dir>/voiceman.db */
  int workers;                /* preprocess threads; 0 = one per core */
  int batch_size;             /* files per batch (statistics unit), > 0 */
  int retries;                /* extra attempts per file per run for
                                 transient failures */
  int force;                  /* redo completed files */
  double queue_seconds;       /* audio seconds held between stages */
  double max_duration_s;      /* refuse longer recordings; 0 = no limit */
  double pitch_floor_hz;      /* voice measures: pitch range (Praat's */
  double pitch_ceiling_hz;    /*   defaults 75 and 600 Hz) */
  int n_speakers;             /* diarization: 0 = estimate */
  const char *transcripts_dir;/* transcripts made elsewhere (SRT/VTT/JSON),
                                 by input path below its root; or NULL */
  const char *patterns_dir;   /* language pattern database; NULL = built in */
  const char *model_path;     /* Whisper model (ggml .bin) or NULL: no
                                 speech-to-text (a transcript file wins) */
  const char *language;       /* Whisper language ("ko", ...; NULL = detect) */
  int beam_size;              /* 1 = greedy; default 5 */
  int asr_threads;            /* threads of the CPU Whisper engine */
  int device_mode;            /* enum vm_asr_device_mode: --device auto (0),
                                 cpu, cuda */
  const int *devices;         /* --devices: CUDA ordinals; NULL = all */
  int n_devices;
  double gpu_mem_fraction;    /* share of a GPU's free memory to use (0.9) */
  int max_micro_batch;        /* chunks per GPU forward at most (16) */
  int init_retries;           /* GPU engine start attempts after the first (2) */
  int model_resident;         /* 1: keep engines between rounds; 0 frees them */
  const char *device_sim;     /* tests: simulated GPUs (VM_DEVICE_SIM) or NULL */
  int html;                   /* write the HTML report per file and index.html */
  int pdf;                    /* also print each report to PDF (Chromium) */
  enum vm_progress_mode progress;
  atomic_int *stop;           /* set asynchronously to stop cleanly */
  const char *version;        /* voiceman version string */
  const char *options_json;   /* the run's options, recorded verbatim */
} vm_run_opts;

typedef struct vm_run_totals {
  int n_inputs;      /* recordings discovered */
  int completed;     /* processed in this run */
  int skipped;       /* completed earlier and unchanged */
  int failed;
  int rejected;      /* inputs that are not regular files */
  int interrupted;   /* left pending by a stop */
  double audio_s;    /* seconds of audio processed in this run */
  double wall_s;
} vm_run_totals;

/* Runs the job. Returns VM_OK when the run went through (individual files
 * may have failed: see *out), VM_ECANCELED when stopped through opts->stop
 * (state saved; a rerun continues), or a set-up error (store locked or
 * unwritable, output folder unusable) with the reason in err. */
int vm_pipeline_run(const vm_run_opts *opts, vm_run_totals *out, vm_err *err);

#endif /* VM_PIPELINE_H */
