/* bench_asr.c — Whisper CPU engine timings on random-weight models of the
 * official dims, for docs/asr-performance.md.
 *
 *   bench_asr DIMS [THREADS] [TYPE] [WINDOWS] [STEPS]
 *     DIMS    tiny-random | tiny | base | small | medium | large-v3
 *     THREADS backend threads (default 2)
 *     TYPE    f16 (default) | f32 | q8_0 | q5_0: the weight type in the file
 *     WINDOWS 30 s windows of the long input (default 10 = 5 min)
 *     STEPS   decode steps per window after the prompt (default 100)
 * The model is written once to /tmp/bench_asr_<dims>_<type>.bin.
 *
 * What one "window" costs here (the unit of a real transcription): log-mel
 * of its 30 s, one encode (batch 1), a 4-token prompt (sot, language,
 * task, no-timestamps) decoded at once, then STEPS single-token steps with
 * the KV cache (positions 4 .. 4+STEPS-1; tokens are fixed ids, no
 * sampling or search). A 30 s input is one window; a 5 min input is
 * WINDOWS windows of mel + encode + prompt + steps, plus the mel of the
 * whole 5 min computed at once (as the pipeline does) and cut into
 * windows. Printed, one line each: mel of 30 s, encoder per window,
 * prompt, ms per decoded token (median of all steps; first and last
 * window's mean too, the KV cache grows), the 30 s and 5 min totals with
 * their real-time factor (wall time / audio time: < 1 is faster than real
 * time), model and state bytes, and peak RSS (getrusage) of the process;
 * "cpu" is process CPU time (all threads) per window encode and per step,
 * the figure to trust for a one-thread run on a busy machine.
 *
 * Verification: the logits of every step must be finite, and the checksum
 * of the last logits is printed (it depends on the weights and inputs
 * only, not on the thread count: compare runs).
 * Napkin math (FLOP per window, encoder): 2 x 12 C^2 x 1500 per layer for
 * the linear layers + 4 x 1500^2 x C per layer for attention + the conv
 * stem; tiny ~37 GFLOP, base ~80 GFLOP. A decode step streams every
 * decoder weight and the n_vocab x C token embedding once: tiny 56 MB
 * (f16), base 100 MB, small 240 MB, large-v3 1.6 GB. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "asr_forward.h"
#include "asr_ggml.h"
#include "asr_mel.h"
#include "asr_model.h"
#include "vm_alloc.h"

typedef struct dims {
  const char *name;
  int32_t n_vocab, state, head, layer, mels;
} dims;

static const dims DIMS[] = {
    {"tiny-random", 51865, 64, 2, 2, 80}, {"tiny", 51865, 384, 6, 4, 80},
    {"base", 51865, 512, 8, 6, 80},       {"small", 51865, 768, 12, 12, 80},
    {"medium", 51865, 1024, 16, 24, 80},  {"large-v3", 51866, 1280, 20, 32, 128}};

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* CPU time of the whole process (all threads), ms: on a busy machine the
 * wall time of a one-thread run is inflated, its CPU time much less. */
static double cpu_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_d);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int load_model(const dims *d, const char *type, vm_asr_model **m) {
  vm_asr_gen_opts o;
  memset(&o, 0, sizeof o);
  o.hp = (vm_asr_hparams){d->n_vocab, 1500, d->state, d->head, d->layer, 448,
                          d->state,   d->head, d->layer, d->mels, 0};
  o.wtype = strcmp(type, "f32") == 0    ? VM_ASR_GTYPE_F32
            : strcmp(type, "q8_0") == 0 ? VM_ASR_GTYPE_Q8_0
            : strcmp(type, "q5_0") == 0 ? VM_ASR_GTYPE_Q5_0
                                        : VM_ASR_GTYPE_F16;
  o.seed = 1;
  o.n_vocab_stored = 1000;
  char path[256];
  snprintf(path, sizeof path, "/tmp/bench_asr_%s_%s.bin", d->name, type);
  vm_err err;
  if (vm_asr_model_create_from_file(path, m, &err) == 0) return 0;
  fprintf(stderr, "bench_asr: writing %s\n", path);
  if (vm_asr_model_write_random(&o, path, &err) != 0 ||
      vm_asr_model_create_from_file(path, m, &err) != 0) {
    fprintf(stderr, "bench_asr: %s\n", vm_err_text(&err));
    return 1;
  }
  return 0;
}

typedef struct win_times {
  double mel, enc, prompt, steps; /* ms */
  double cpu_enc, cpu_steps;      /* process CPU ms */
} win_times;

/* One window: encode mel (n_mels, 3000), prompt, n_steps steps. Step
 * times go to step_ms[0..n_steps). Returns 0, or 1 on a failure. */
static int run_window(vm_asr_state *st, const vm_asr_model *m, const float *mel, int n_steps,
                      double *step_ms, win_times *t, double *checksum) {
  const vm_asr_special *sp = vm_asr_model_special(m);
  int32_t n_vocab = vm_asr_model_hparams(m)->n_vocab;
  int32_t prompt[4] = {sp->sot, sp->lang_first, sp->transcribe, sp->notimestamps};
  vm_err err;
  double c0 = cpu_ms(), t0 = now_ms();
  if (vm_asr_state_encode(st, mel, 1, &err) != 0) goto fail;
  double t1 = now_ms();
  t->cpu_enc += cpu_ms() - c0;
  if (vm_asr_state_decode(st, prompt, 4, 0, &err) != 0) goto fail;
  double t2 = now_ms();
  t->enc += t1 - t0;
  t->prompt += t2 - t1;
  double c1 = cpu_ms();
  for (int i = 0; i < n_steps; i++) {
    int32_t tok = 1000 + (i * 37) % 20000;
    double a = now_ms();
    if (vm_asr_state_decode(st, &tok, 1, 4 + i, &err) != 0) goto fail;
    step_ms[i] = now_ms() - a;
    t->steps += step_ms[i];
    const float *lg = vm_asr_state_logits(st);
    double s = 0.0;
    for (int32_t v = 0; v < n_vocab; v++) s += lg[v];
    if (!isfinite(s)) {
      fprintf(stderr, "bench_asr: non-finite logits at step %d\n", i);
      return 1;
    }
    *checksum = s;
  }
  t->cpu_steps += cpu_ms() - c1;
  return 0;
fail:
  fprintf(stderr, "bench_asr: %s\n", vm_err_text(&err));
  return 1;
}

/* Fills pcm with a deterministic speech-like signal (two modulated tones). */
static void make_audio(float *pcm, size_t n) {
  for (size_t i = 0; i < n; i++)
    pcm[i] = 0.3f * sinf((float)i * 0.07f) * sinf((float)i * 1e-4f) +
             0.05f * sinf((float)i * 0.31f);
}

/* Mel of the whole input at once, cut into windows (n_win, n_mels, 3000). */
static double mel_windows(vm_asr_mel *mel, int n_mels, const float *pcm, size_t n_pcm,
                          int n_win, float *full, float *win) {
  size_t nf = vm_asr_mel_n_frames(n_pcm);
  double t0 = now_ms();
  vm_asr_mel_compute(mel, pcm, n_pcm, full, nf);
  for (int w = 0; w < n_win; w++)
    for (int c = 0; c < n_mels; c++)
      memcpy(win + ((size_t)w * (size_t)n_mels + (size_t)c) * VM_ASR_CHUNK_FRAMES,
             full + (size_t)c * nf + (size_t)w * VM_ASR_CHUNK_FRAMES,
             VM_ASR_CHUNK_FRAMES * sizeof(float));
  return now_ms() - t0;
}

int main(int argc, char **argv) {
  const char *dn = argc > 1 ? argv[1] : "tiny-random";
  int threads = argc > 2 ? atoi(argv[2]) : 2;
  const char *type = argc > 3 ? argv[3] : "f16";
  int n_win = argc > 4 ? atoi(argv[4]) : 10, n_steps = argc > 5 ? atoi(argv[5]) : 100;
  size_t k = 0, n_dims = sizeof DIMS / sizeof DIMS[0];
  while (k < n_dims && strcmp(DIMS[k].name, dn) != 0) k++;
  if (k == n_dims || threads < 1 || n_win < 1 || n_steps < 1 || n_steps > 440) {
    fprintf(stderr, "usage: bench_asr DIMS [THREADS] [f16|f32|q8_0|q5_0] [WINDOWS] [STEPS]\n"
                    "  DIMS: tiny-random tiny base small medium large-v3\n");
    return 2;
  }
  const dims *d = &DIMS[k];
  vm_asr_model *m = NULL;
  if (load_model(d, type, &m) != 0) return 1;
  vm_err err;
  vm_asr_mel *mel = NULL;
  vm_asr_state *st = NULL;
  size_t n_pcm = (size_t)n_win * VM_ASR_CHUNK_SAMPLES, per = (size_t)d->mels * VM_ASR_CHUNK_FRAMES;
  float *pcm = vm_malloc(n_pcm * sizeof *pcm);
  float *full = vm_malloc((size_t)d->mels * vm_asr_mel_n_frames(n_pcm) * sizeof *full);
  float *wins = vm_malloc((size_t)n_win * per * sizeof *wins);
  double *step_ms = vm_malloc((size_t)n_win * (size_t)n_steps * sizeof *step_ms);
  int rc = 1;
  if (!pcm || !full || !wins || !step_ms) goto out;
  make_audio(pcm, n_pcm);
  if (vm_asr_mel_create(vm_asr_model_mel_filters(m), d->mels, &mel) != 0) goto out;
  vm_asr_state_opts so = {threads, 1, 4, "cpu", 0};
  double tc0 = now_ms();
  if (vm_asr_state_create(m, &so, &st, &err) != 0) {
    fprintf(stderr, "bench_asr: %s\n", vm_err_text(&err));
    goto out;
  }
  double t_create = now_ms() - tc0;
  /* 30 s input: its own mel, one window (after one warm-up window). */
  win_times w30 = {0}, wl = {0}, wfirst = {0};
  double cks = 0.0;
  w30.mel = mel_windows(mel, d->mels, pcm, VM_ASR_CHUNK_SAMPLES, 1, full, wins);
  if (run_window(st, m, wins, n_steps, step_ms, &wfirst, &cks) != 0) goto out;
  if (run_window(st, m, wins, n_steps, step_ms, &w30, &cks) != 0) goto out;
  /* long input */
  wl.mel = mel_windows(mel, d->mels, pcm, n_pcm, n_win, full, wins);
  double t_first = 0.0, t_last = 0.0;
  for (int w = 0; w < n_win; w++) {
    double *sm = step_ms + (size_t)w * (size_t)n_steps;
    if (run_window(st, m, wins + (size_t)w * per, n_steps, sm, &wl, &cks) != 0) goto out;
    for (int i = 0; i < n_steps; i++) {
      if (i < n_steps / 10 + 1) t_first += sm[i];
      if (i >= n_steps - n_steps / 10 - 1) t_last += sm[i];
    }
  }
  int n_edge = n_steps / 10 + 1;
  double med = median(step_ms, n_win * n_steps);
  double tot30 = w30.mel + w30.enc + w30.prompt + w30.steps;
  double totl = wl.mel + wl.enc + wl.prompt + wl.steps;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  const char *no_simd = getenv("VM_ASR_NO_SIMD"), *no_f16 = getenv("VM_ASR_NO_F16");
  const char *kern = no_simd && strcmp(no_simd, "1") == 0  ? "portable"
                     : no_f16 && strcmp(no_f16, "1") == 0 ? "no-f16"
                                                           : "best";
  printf("%-8s %-4s thr %d kern %-8s | mel30 %7.1f ms | enc %8.1f ms | prompt %6.1f ms | "
         "tok %6.2f ms (first %.2f last %.2f) | cpu enc %.0f tok %.2f ms | 30s %8.1f ms RTF %.4f | %ds %9.1f ms RTF %.4f "
         "(mel %.0f enc %.0f dec %.0f) | model %zu MB state %zu MB RSS %ld MB | create %.0f ms"
         " | steps %d | checksum %.9g\n",
         d->name, type, threads, kern, w30.mel, wl.enc / n_win, wl.prompt / n_win, med,
         t_first / (n_win * n_edge), t_last / (n_win * n_edge), wl.cpu_enc / n_win,
         wl.cpu_steps / (n_win * n_steps), tot30, tot30 / 30000.0,
         n_win * 30, totl, totl / (n_win * 30000.0), wl.mel, wl.enc, wl.prompt + wl.steps,
         vm_asr_model_bytes(m) >> 20, vm_asr_state_bytes(st) >> 20, ru.ru_maxrss >> 10,
         t_create, n_steps, cks);
  rc = 0;
out:
  vm_asr_state_destroy(st);
  vm_asr_mel_destroy(mel);
  vm_asr_model_destroy(m);
  vm_free(pcm);
  vm_free(full);
  vm_free(wins);
  vm_free(step_ms);
  return rc;
}
