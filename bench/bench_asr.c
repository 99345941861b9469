/* bench_asr.c — Whisper CPU engine timings on random-weight models of the
 * official dims: log-mel of 30 s, encoder (one 30 s chunk, and a batch of
 * 2), and one decoder step (KV cache, 1 token after a 4-token prompt).
 * Prints one line per case: name, threads, median ms, throughput. The
 * output is verified: logits must be finite (a checksum is printed).
 *
 *   bench_asr [tiny-random|tiny|base|small] [threads] [f16|f32|q8_0]
 * The model is written to /tmp/bench_asr_<dims>.bin (random weights).
 * Napkin math: the encoder costs about 2 * params_enc * 1500 FLOP plus
 * attention 4 * 1500^2 * C per layer; tiny ~ 2.2 GFLOP, base ~ 6.5 GFLOP. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asr_forward.h"
#include "asr_ggml.h"
#include "asr_mel.h"
#include "asr_model.h"
#include "vm_alloc.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_d);
  return v[n / 2];
}

int main(int argc, char **argv) {
  const char *dims = argc > 1 ? argv[1] : "tiny-random";
  int threads = argc > 2 ? atoi(argv[2]) : 2;
  const char *type = argc > 3 ? argv[3] : "f16";
  struct { const char *n; int32_t st, hd, ly; } P[] = {
      {"tiny-random", 64, 2, 2}, {"tiny", 384, 6, 4}, {"base", 512, 8, 6}, {"small", 768, 12, 12}};
  int k = 0;
  while (k < 4 && strcmp(P[k].n, dims) != 0) k++;
  if (k == 4 || threads < 1) {
    fprintf(stderr, "usage: bench_asr [tiny-random|tiny|base|small] [threads] [f16|f32|q8_0]\n");
    return 2;
  }
  vm_asr_gen_opts o;
  memset(&o, 0, sizeof o);
  o.hp = (vm_asr_hparams){51865, 1500, P[k].st, P[k].hd, P[k].ly, 448, P[k].st, P[k].hd, P[k].ly, 80, 0};
  o.wtype = strcmp(type, "f32") == 0 ? VM_ASR_GTYPE_F32
            : strcmp(type, "q8_0") == 0 ? VM_ASR_GTYPE_Q8_0 : VM_ASR_GTYPE_F16;
  o.seed = 1;
  o.n_vocab_stored = 1000;
  char path[256];
  snprintf(path, sizeof path, "/tmp/bench_asr_%s_%s.bin", dims, type);
  vm_err err;
  vm_asr_model *m = NULL;
  vm_asr_mel *mel = NULL;
  vm_asr_state *st = NULL;
  if (vm_asr_model_create_from_file(path, &m, &err) != 0) {
    if (vm_asr_model_write_random(&o, path, &err) != 0 ||
        vm_asr_model_create_from_file(path, &m, &err) != 0) {
      fprintf(stderr, "bench_asr: %s\n", vm_err_text(&err));
      return 1;
    }
  }
  size_t n_pcm = VM_ASR_CHUNK_SAMPLES, per = 80 * VM_ASR_CHUNK_FRAMES;
  float *pcm = vm_malloc(n_pcm * sizeof *pcm), *mels = vm_malloc(2 * per * sizeof *mels);
  for (size_t i = 0; i < n_pcm; i++) pcm[i] = 0.3f * sinf((float)i * 0.07f) * sinf((float)i * 1e-4f);
  vm_asr_mel_create(vm_asr_model_mel_filters(m), 80, &mel);
  vm_asr_state_opts so = {threads, 2, 4, "cpu"};
  if (vm_asr_state_create(m, &so, &st, &err) != 0) {
    fprintf(stderr, "bench_asr: %s\n", vm_err_text(&err));
    return 1;
  }
  double t[5];
  for (int r = 0; r < 5; r++) {
    double t0 = now_ms();
    vm_asr_mel_compute(mel, pcm, n_pcm, mels, VM_ASR_CHUNK_FRAMES);
    t[r] = now_ms() - t0;
  }
  memcpy(mels + per, mels, per * sizeof *mels);
  printf("%-12s %-5s thr %d  mel 30 s          %8.2f ms\n", dims, type, threads, median(t, 5));
  for (int b = 1; b <= 2; b++) {
    for (int r = 0; r < 3; r++) {
      double t0 = now_ms();
      vm_asr_state_encode(st, mels, b, &err);
      t[r] = now_ms() - t0;
    }
    double ms = median(t, 3);
    printf("%-12s %-5s thr %d  encode batch %d    %8.2f ms  (%.1f x real time)\n", dims, type,
           threads, b, ms, 30000.0 * b / ms);
  }
  vm_asr_state_encode(st, mels, 1, &err);
  int32_t prompt[4] = {50258, 50264, 50359, 50363};
  vm_asr_state_decode(st, prompt, 4, 0, &err);
  double ts[20], sum = 0.0;
  for (int i = 0; i < 20; i++) {
    int32_t tok = 1000 + i;
    double t0 = now_ms();
    vm_asr_state_decode(st, &tok, 1, 4 + i, &err);
    ts[i] = now_ms() - t0;
  }
  const float *lg = vm_asr_state_logits(st);
  for (int i = 0; i < 51865; i++) sum += lg[i];
  if (!isfinite(sum)) {
    fprintf(stderr, "bench_asr: non-finite logits\n");
    return 1;
  }
  printf("%-12s %-5s thr %d  decode step       %8.2f ms  (checksum %.6g, model %zu MB)\n",
         dims, type, threads, median(ts, 20), sum, vm_asr_model_bytes(m) >> 20);
  vm_asr_state_destroy(st);
  vm_asr_mel_destroy(mel);
  vm_asr_model_destroy(m);
  vm_free(pcm);
  vm_free(mels);
  return 0;
}
