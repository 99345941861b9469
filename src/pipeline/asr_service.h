/* asr_service.h — the transcription stage's engines: one Whisper engine per
 * GPU, or the CPU engine, shared by every analysis worker (internal to the
 * pipeline; design in docs/gpu.md).
 *
 * Analysis workers hand in a file's chunks and wait. Requests that arrive
 * while a round is running wait for the next round; the first of them to
 * find no round running runs it (leader/follower, no extra thread), so a
 * round batches the chunks of every file that was waiting — across files.
 * On GPUs a round goes through the device executor (vm_device_exec_run):
 * one worker per GPU on a shared chunk queue, micro-batches sized by
 * memory, halved on out-of-memory; a GPU whose context breaks is torn
 * down and re-created (the batch in flight is redone) and, if that fails,
 * its chunks go to the other GPUs, or to the CPU engine with --device auto.
 * Engines stay resident across rounds unless --no-model-resident.
 *
 *   vm_asr_service *s;
 *   vm__asr_service_open(&cfg, &s, &err);        // loads the model, starts engines
 *   vm__asr_service_transcribe(s, chunks, n, &opts, &tr, &err);  // any thread
 *   json_t *r = vm__asr_service_readings(s);      // devices, batches, memory
 *   vm__asr_service_close(s);
 */
#ifndef VM_PIPELINE_ASR_SERVICE_H
#define VM_PIPELINE_ASR_SERVICE_H

#include <jansson.h>
#include <stddef.h>

#include "asr_transcribe.h"
#include "vm_status.h"

enum vm_asr_device_mode {
  VM_ASR_DEVICE_AUTO = 0, /* GPUs when they come up, else the CPU */
  VM_ASR_DEVICE_CPU,      /* the CPU engine only */
  VM_ASR_DEVICE_CUDA      /* GPUs or a set-up error */
};

typedef struct vm_asr_service_config {
  const char *model_path;
  enum vm_asr_device_mode mode; /* --device */
  const int *devices;           /* --devices (CUDA ordinals); NULL: all */
  int n_devices;
  double mem_fraction;          /* --gpu-mem-fraction (0.9) */
  int max_micro_batch;          /* --max-micro-batch (16) */
  int init_retries;             /* --init-retries (2) */
  double init_backoff_s;        /* wait before the first retry (0.5) */
  int resident;                 /* 1; 0 = --no-model-resident */
  int n_threads;                /* CPU engine threads */
  int max_cand;                 /* largest beam / best-of asked for */
  const char *sim;              /* tests: simulated GPUs instead of the real
                                   ones ("devices=2,mem_mb=8192,oom=3+7,
                                   gpu_error=5,init_failures=1"; the engine
                                   on them is the CPU one) or NULL */
} vm_asr_service_config;

typedef struct vm_asr_service vm_asr_service;

/* Loads the model and brings the engines up. Returns VM_OK; VM_EGPU with
 * --device cuda when no GPU comes up (reason in err); the model loader's
 * errors; VM_EINVAL (bad config or simulation spec); VM_ENOMEM. */
int vm__asr_service_open(const vm_asr_service_config *cfg, vm_asr_service **out,
                         vm_err *err);
void vm__asr_service_close(vm_asr_service *s);

/* Transcribes one file's chunks (chunks[i].file ignored; offsets are the
 * file's). OUT: *out (new transcript; caller destroys). Thread-safe; blocks
 * until the round holding these chunks ends. Returns VM_OK,
 * VM_ECANCELED, or why a chunk failed (err names it). */
int vm__asr_service_transcribe(vm_asr_service *s, const vm_asr_chunk *chunks, size_t n,
                               const vm_asr_opts *o, vm_transcript **out, vm_err *err);

/* "cuda" (engines on GPUs) or "cpu". */
const char *vm__asr_service_backend(const vm_asr_service *s);

/* The transcription stage's figures now: backend, model bytes, rounds,
 * and per GPU its readings (name, memory, utilisation, temperature), the
 * engine's bytes, batches, chunks, out-of-memory halvings, restarts and
 * its largest micro-batch; why the CPU is used, if it is. New reference. */
json_t *vm__asr_service_readings(vm_asr_service *s);

#endif /* VM_PIPELINE_ASR_SERVICE_H */
