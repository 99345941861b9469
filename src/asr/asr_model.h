/* asr_model.h — Whisper model files (whisper.cpp's "ggml" format).
 *
 * Reads the model files that whisper.cpp users already have
 * (ggml-tiny.bin ... ggml-large-v3-turbo.bin, English-only .en models):
 * the hyper-parameters, the mel filter bank, the vocabulary (token byte
 * strings) and every tensor, validated against the shapes that the
 * hyper-parameters imply. See docs/model-format.md for the layout.
 *
 * Weights: F32, F16, Q8_0 and Q5_0 tensors are all dequantised to f32 on
 * load (one allocation); the file itself is mapped only while loading.
 * So a model takes about 4 bytes per parameter in memory (tiny 150 MB,
 * base 290 MB, large-v3 6.2 GB); vm_asr_model_bytes() reports it.
 *
 * A model is read-only after creation and may be shared by any number of
 * threads (each with its own vm_asr_state, see asr_forward.h).
 *
 * Usage:
 *   vm_asr_model *m; vm_err err;
 *   if (vm_asr_model_create_from_file("ggml-base.bin", &m, &err) != 0)
 *     log(vm_err_text(&err));
 *   const vm_asr_hparams *hp = vm_asr_model_hparams(m);
 *   ...
 *   vm_asr_model_destroy(m);
 */
#ifndef VM_ASR_MODEL_H
#define VM_ASR_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "vm_status.h"

#define VM_ASR_GGML_MAGIC 0x67676d6cu /* "ggml", as a little-endian u32 */
#define VM_ASR_N_FFT_BINS 201         /* n_fft 400 / 2 + 1 */

/* The hyper-parameters, in file order. */
typedef struct vm_asr_hparams {
  int32_t n_vocab;       /* 51864 (.en), 51865 (multilingual), 51866 (v3) */
  int32_t n_audio_ctx;   /* encoder positions, 1500 = 30 s (<= 1500) */
  int32_t n_audio_state; /* encoder width */
  int32_t n_audio_head;
  int32_t n_audio_layer;
  int32_t n_text_ctx;    /* decoder positions, 448 */
  int32_t n_text_state;  /* decoder width */
  int32_t n_text_head;
  int32_t n_text_layer;
  int32_t n_mels;        /* 80, or 128 for large-v3 */
  int32_t ftype;         /* file type as written (mod 1000: 0 f32, 1 f16,
                            7 q8_0, 8 q5_0); informative only */
} vm_asr_hparams;

/* Special-token ids, computed from n_vocab as Whisper does. English-only
 * models (51864) have eot 50256 and sot 50257; multilingual ones shift
 * both by one and have n_vocab - 51765 - 1 language tokens after sot. */
typedef struct vm_asr_special {
  int32_t eot;          /* <|endoftext|> */
  int32_t sot;          /* <|startoftranscript|> */
  int32_t lang_first;   /* <|en|>: language i is lang_first + i */
  int32_t n_languages;  /* 99, or 100 for large-v3 */
  int32_t translate;
  int32_t transcribe;
  int32_t solm;         /* <|startoflm|> */
  int32_t prev;         /* <|startofprev|> */
  int32_t nospeech;     /* <|nospeech|> (a.k.a. nocaptions) */
  int32_t notimestamps;
  int32_t timestamp_begin; /* <|0.00|>; timestamp i is +i (0.02 s steps) */
  int32_t multilingual; /* 1 if n_vocab >= 51865 */
} vm_asr_special;

typedef struct vm_asr_model vm_asr_model;

/* Reads a model file (mmapped while loading, then unmapped). OUT: *out
 * (NULL on failure). Returns VM_OK; VM_ENOENT/VM_EACCES/VM_EIO when the
 * file cannot be read; VM_EMODEL with a precise message in err for
 * anything malformed, truncated or unsupported; VM_ENOMEM. */
int vm_asr_model_create_from_file(const char *path, vm_asr_model **out,
                                  vm_err *err);
/* The same from n bytes at data (borrowed for the call only). */
int vm_asr_model_create_from_memory(const void *data, size_t n,
                                    vm_asr_model **out, vm_err *err);
/* Frees m (NULL is fine). */
void vm_asr_model_destroy(vm_asr_model *m);

/* Borrowed pointers below stay valid until m is destroyed. */
const vm_asr_hparams *vm_asr_model_hparams(const vm_asr_model *m);
const vm_asr_special *vm_asr_model_special(const vm_asr_model *m);
/* The mel filter bank, (n_mels, VM_ASR_N_FFT_BINS) row-major. */
const float *vm_asr_model_mel_filters(const vm_asr_model *m);
/* Heap bytes the loaded model takes (weights, vocabulary, filters). */
size_t vm_asr_model_bytes(const vm_asr_model *m);
/* Number of weights (parameters). */
size_t vm_asr_model_n_params(const vm_asr_model *m);
/* Number of tensors of each ggml type in the file (index: type id 0..8). */
int32_t vm_asr_model_n_tensors_of_type(const vm_asr_model *m, int32_t type);
/* Number of token strings stored in the file (the rest are special). */
int32_t vm_asr_model_n_vocab_stored(const vm_asr_model *m);

/* ---- Writing test models (random weights, real file format) ---------- */

/* Options of vm_asr_model_write_random(). */
typedef struct vm_asr_gen_opts {
  vm_asr_hparams hp;     /* ftype is derived from wtype */
  int32_t wtype;         /* VM_ASR_GTYPE_{F32,F16,Q8_0,Q5_0} (asr_ggml.h
                            ids 0, 1, 8, 6) of the 2-D weights; as in
                            whisper.cpp files, 1-D tensors, conv biases and
                            positional embeddings stay f32, conv kernels
                            f16 when quantised, and a weight whose rows are
                            not a multiple of 32 stays f16 */
  uint64_t seed;         /* same seed, same file */
  const char *vocab_path;/* a .tiktoken file, or NULL for a synthetic
                            vocabulary of n_vocab_stored tokens */
  int32_t n_vocab_stored;/* synthetic vocabulary size (ignored with
                            vocab_path); <= n_vocab */
} vm_asr_gen_opts;

/* Writes a model with seeded random weights (normal, scaled 1/sqrt(fan-in);
 * LayerNorm gains near 1; the encoder positions are Whisper's sinusoids;
 * the mel filters are Whisper's Slaney filters) to path. Returns VM_OK,
 * VM_EINVAL for impossible dimensions, VM_EIO, VM_ENOMEM. Not atomic:
 * a failed write leaves a partial file, which the loader rejects. */
int vm_asr_model_write_random(const vm_asr_gen_opts *opts, const char *path,
                              vm_err *err);

#endif /* VM_ASR_MODEL_H */
