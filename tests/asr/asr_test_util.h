/* tests/asr/asr_test_util.h — helpers shared by the asr unit tests:
 * generating random-weight test models in the build folder, test audio,
 * and running the Python reference (tests/asr/ref_whisper.py). */
#ifndef VM_ASR_TEST_UTIL_H
#define VM_ASR_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "asr_ggml.h"
#include "asr_model.h"
#include "vm_alloc.h"
#include "vm_fs.h"

#define ASR_TEST_VOCAB VM_SOURCE_DIR "/tests/fixtures/whisper/multilingual.tiktoken"
#define ASR_TEST_REF VM_SOURCE_DIR "/tests/asr/ref_whisper.py"
#ifndef VM_PYTHON_BIN
#define VM_PYTHON_BIN "/usr/bin/python3"
#endif

/* The "tiny-random" dims: state 64, 2 heads, 2+2 layers, real vocab size. */
static inline void asr_test_tiny_opts(vm_asr_gen_opts *o, int32_t wtype, uint64_t seed) {
  memset(o, 0, sizeof *o);
  o->hp.n_vocab = 51865;
  o->hp.n_audio_ctx = 1500;
  o->hp.n_audio_state = o->hp.n_text_state = 64;
  o->hp.n_audio_head = o->hp.n_text_head = 2;
  o->hp.n_audio_layer = o->hp.n_text_layer = 2;
  o->hp.n_text_ctx = 448;
  o->hp.n_mels = 80;
  o->wtype = wtype;
  o->seed = seed;
  o->vocab_path = ASR_TEST_VOCAB;
}

/* Writes the model for o to VM_BINARY_DIR/asr_test/<name> (once per run of
 * the test; the file is regenerated each time so it matches the code).
 * Returns a new path (vm_free) or NULL. */
static inline char *asr_test_model(const vm_asr_gen_opts *o, const char *name) {
  (void)vm_fs_mkdir_p(VM_BINARY_DIR "/asr_test", NULL);
  char *path = vm_asprintf("%s/asr_test/%s", VM_BINARY_DIR, name);
  vm_err err;
  if (!path) return NULL;
  if (vm_asr_model_write_random(o, path, &err) != 0) {
    fprintf(stderr, "cannot write %s: %s\n", path, vm_err_text(&err));
    vm_free(path);
    return NULL;
  }
  return path;
}

/* Deterministic test audio: kind 0 = 440 Hz + 1.1 kHz tones with a little
 * noise, kind 1 = a chirp 100 Hz..4 kHz with an amplitude envelope. */
static inline float *asr_test_audio(int kind, size_t n) {
  float *x = vm_malloc(n * sizeof *x);
  uint32_t s = 12345u + (uint32_t)kind;
  for (size_t i = 0; x && i < n; i++) {
    double t = (double)i / 16000.0;
    s = s * 1664525u + 1013904223u;
    double noise = ((double)(s >> 8) / 16777216.0 - 0.5) * 0.02;
    if (kind == 0)
      x[i] = (float)(0.3 * sin(2 * M_PI * 440 * t) + 0.1 * sin(2 * M_PI * 1100 * t) + noise);
    else
      x[i] = (float)(0.5 * sin(2 * M_PI * (100 * t + 40 * t * t)) * (0.5 + 0.5 * sin(t)) +
                     noise);
  }
  return x;
}

static inline int asr_test_have_numpy(void) {
  return system(VM_PYTHON_BIN " -c 'import numpy' >/dev/null 2>&1") == 0;
}

/* Reads a block of ref_whisper.py's output: int64 count, float64 data. */
static inline double *asr_test_read_block(FILE *f, size_t *out_n) {
  int64_t n = 0;
  if (fread(&n, 8, 1, f) != 1 || n < 0) return NULL;
  double *d = vm_malloc((size_t)n * sizeof *d + 8);
  if (d && fread(d, 8, (size_t)n, f) != (size_t)n) {
    vm_free(d);
    return NULL;
  }
  *out_n = (size_t)n;
  return d;
}

/* The reference's view of one chunk: mel, encoder output and the logits
 * of every token position. */
typedef struct asr_test_ref {
  double *mel, *enc, *logits;
  size_t n_mel, n_enc, n_logits;
} asr_test_ref;

static inline void asr_test_ref_free(asr_test_ref *r) {
  vm_free(r->mel);
  vm_free(r->enc);
  vm_free(r->logits);
}

/* Runs tests/asr/ref_whisper.py on model with pcm (n samples, written to
 * VM_BINARY_DIR/asr_test/<tag>.f32) and the token prompt tok[0..n_tok).
 * OUT: *r (asr_test_ref_free). Returns 0, or -1 on any failure. */
static inline int asr_test_run_ref(const char *model, const float *pcm, size_t n,
                                   const int32_t *tok, int n_tok, const char *tag,
                                   asr_test_ref *r) {
  char pcm_path[512], out_path[512], cmd[2048], toks[256] = "";
  snprintf(pcm_path, sizeof pcm_path, "%s/asr_test/%s.f32", VM_BINARY_DIR, tag);
  snprintf(out_path, sizeof out_path, "%s/asr_test/%s.ref", VM_BINARY_DIR, tag);
  FILE *f = fopen(pcm_path, "wb");
  if (!f) return -1;
  fwrite(pcm, sizeof(float), n, f);
  fclose(f);
  for (int i = 0; i < n_tok; i++)
    snprintf(toks + strlen(toks), sizeof toks - strlen(toks), "%s%d", i ? "," : "", tok[i]);
  snprintf(cmd, sizeof cmd, "%s %s %s --audio %s --tokens %s --out %s", VM_PYTHON_BIN,
           ASR_TEST_REF, model, pcm_path, toks, out_path);
  if (system(cmd) != 0) return -1;
  if (!(f = fopen(out_path, "rb"))) return -1;
  r->mel = asr_test_read_block(f, &r->n_mel);
  r->enc = asr_test_read_block(f, &r->n_enc);
  r->logits = asr_test_read_block(f, &r->n_logits);
  fclose(f);
  return r->mel && r->enc && r->logits ? 0 : -1;
}

/* max |a - b| / max |b| */
static inline double asr_test_rel_err(const float *a, const double *b, size_t n,
                                      double *out_max_abs) {
  double md = 0.0, mb = 0.0;
  for (size_t i = 0; i < n; i++) {
    md = fmax(md, fabs((double)a[i] - b[i]));
    mb = fmax(mb, fabs(b[i]));
  }
  if (out_max_abs) *out_max_abs = md;
  return mb > 0.0 ? md / mb : md;
}

#endif /* VM_ASR_TEST_UTIL_H */
