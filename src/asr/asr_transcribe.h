/* asr_transcribe.h — speech to text with a Whisper model: whole recordings
 * (long-form, seeking through 30 s windows) or many independent chunks at
 * once (batched), into vm_transcript.
 *
 * An engine owns one model (or borrows one), the forward state sized for
 * n_batch_max chunks and max_cand candidates each, and the mel front end.
 * One engine per worker thread; a borrowed model may be shared by engines.
 *
 * Long-form (vm_asr_transcribe_file), as the reference transcribe():
 * the log-mel of the whole recording, a 30 s window at `seek`, decoded with
 * the previous text as prompt (unless condition_on_prev is off, or the last
 * window needed a temperature above 0.5, or it looped), temperature
 * fallback, skipping silent windows, then seek to the last timestamp.
 * Batched (vm_asr_transcribe_chunks): chunks of <= 30 s (e.g. from a VAD),
 * any number of files, encoded n_batch_max at a time in one forward and
 * decoded together; each chunk is decoded once, never with a prompt.
 *
 * Output segments carry start/end (seconds from the start of the file),
 * text (UTF-8; in long-form a character split across segments is carried
 * to the next segment, never cut; chunks are independent, so an unfinished
 * character at a chunk's end is dropped), and the decoder details (tokens,
 * avg_logprob, no_speech_prob, temperature, compression_ratio).
 *
 * Usage:
 *   vm_asr_engine_opts eo = vm_asr_engine_opts_default();
 *   vm_asr_engine *e; vm_err err;
 *   if (vm_asr_engine_create("ggml-base.bin", &eo, &e, &err)) fail(err.msg);
 *   vm_asr_opts o = vm_asr_opts_default();
 *   o.language = "ko";
 *   vm_transcript *t;
 *   vm_asr_transcribe_file(e, pcm, n_samples, &o, &t, &err);  // 16 kHz mono
 *   ...
 *   vm_asr_chunk ch[2] = {{0, 12.5, pcm0, n0}, {1, 0.0, pcm1, n1}};
 *   vm_transcript *outs[2];                                   // one per file
 *   vm_asr_transcribe_chunks(e, ch, 2, &o, 2, outs, &err);
 *   vm_asr_engine_destroy(e);
 */
#ifndef VM_ASR_TRANSCRIBE_H
#define VM_ASR_TRANSCRIBE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "asr_decode.h"
#include "asr_model.h"
#include "transcript.h"
#include "vm_status.h"

/* The most chunks one batched forward takes (engine option n_batch_max). */
#define VM_ASR_BATCH_MAX 64

typedef struct vm_asr_engine_opts {
  int n_threads;    /* >= 1 (default 1) */
  int n_batch_max;  /* chunks per batched forward, 1..VM_ASR_BATCH_MAX (default 1; 8 is a good
                       CPU choice for vm_asr_transcribe_chunks) */
  int max_cand;     /* largest beam_size / best_of that will be asked for
                       (default 5); memory grows with n_batch_max * max_cand */
  const char *device; /* "cpu" (NULL = "cpu"), or "cuda" / "cuda:N" (CUDA device N;
                         VM_EGPU when built without -DVM_CUDA=ON; docs/asr-cuda.md) */
} vm_asr_engine_opts;

vm_asr_engine_opts vm_asr_engine_opts_default(void);

typedef struct vm_asr_opts {
  const char *language;   /* "ko", "en", ...; NULL or "auto": detected from
                             the first window (long-form) or per chunk */
  int translate;          /* 1: <|translate|> (to English) instead of transcribe */
  double temperature;     /* first temperature (default 0) */
  double temperature_inc; /* fallback step (default 0.2, up to 1.0); 0 = none */
  int condition_on_prev;  /* long-form: prompt with the previous text (default 1) */
  int hallucination_filter; /* drop known phrases on silence (default 1) */
  double halluc_no_speech;  /* ... when no_speech_prob >= this (default 0.3) */
  double halluc_logprob;    /* ... or avg_logprob < this (default -0.7) */
  uint64_t seed;          /* sampling at temperature > 0 */
  const atomic_int *cancel; /* if non-NULL and set: stop with VM_ECANCELED
                               (polled before each window / batch) */
  vm_asr_decode_opts dec; /* beams, timestamps, suppression, thresholds */
} vm_asr_opts;

vm_asr_opts vm_asr_opts_default(void);

typedef struct vm_asr_engine vm_asr_engine;

/* Loads the model at path and sets up an engine. OUT: *out (NULL on
 * failure). Returns VM_OK; the model loader's errors (VM_ENOENT, VM_EMODEL
 * with the reason, ...); VM_EINVAL (bad opts); VM_ENOMEM. */
int vm_asr_engine_create(const char *model_path, const vm_asr_engine_opts *opts,
                         vm_asr_engine **out, vm_err *err);
/* The same with a model the caller keeps alive longer than the engine. */
int vm_asr_engine_create_with_model(const vm_asr_model *m, const vm_asr_engine_opts *opts,
                                    vm_asr_engine **out, vm_err *err);
void vm_asr_engine_destroy(vm_asr_engine *e);

/* The engine's model (borrowed, valid while e lives). */
const vm_asr_model *vm_asr_engine_model(const vm_asr_engine *e);
/* Heap bytes of the forward state (not counting the model). */
size_t vm_asr_engine_state_bytes(const vm_asr_engine *e);

/* Transcribes a whole recording (16 kHz mono float). OUT: *out (a new
 * transcript, source "whisper", language set; caller destroys). Returns
 * VM_OK, VM_EINVAL (bad options: beam/best-of above max_cand, unknown
 * language), VM_ECANCELED, VM_ENOMEM. No audio (n_samples 0) gives an
 * empty transcript. */
int vm_asr_transcribe_file(vm_asr_engine *e, const float *pcm, size_t n_samples,
                           const vm_asr_opts *opts, vm_transcript **out, vm_err *err);

/* One independent piece of audio of at most 30 s. */
typedef struct vm_asr_chunk {
  int file;          /* index of the output transcript, 0 <= file < n_files */
  double offset_s;   /* where the chunk starts in its file */
  const float *pcm;  /* 16 kHz mono, borrowed for the call */
  size_t n_samples;  /* <= 480000 */
} vm_asr_chunk;

/* Transcribes chunks in batches of n_batch_max. OUT: outs[0..n_files)
 * (new transcripts, segments sorted by time; all NULL on failure).
 * Returns VM_OK, VM_EINVAL (bad chunk: file index, length, offset), or
 * vm_asr_transcribe_file's errors. */
int vm_asr_transcribe_chunks(vm_asr_engine *e, const vm_asr_chunk *chunks, size_t n_chunks,
                             const vm_asr_opts *opts, int n_files, vm_transcript **outs,
                             vm_err *err);

#endif /* VM_ASR_TRANSCRIBE_H */
