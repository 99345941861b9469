/* test_asr_cuda.c — the CUDA backend of the Whisper engine against the CPU
 * backend (the reference, itself checked against numpy by
 * test_asr_forward*).
 *
 * Built two ways from this one file (tests/CMakeLists.txt):
 *  - default build: linked against vm_asr_cuda_emu, the engine with the
 *    CUDA backend compiled against the host emulation (tests/cuda_emu;
 *    VM_CUDA_EMU defined). Checks kernel index maths, cuBLAS argument
 *    conventions, im2col, masking, the forward pass's device-memory
 *    discipline (a host pointer given to an op aborts) and the error
 *    paths (out of memory, failed launch, bad device).
 *  - VM_CUDA=ON: linked against the real backend; runs on GPU 0 and skips
 *    (77) without one.
 *
 * Comparisons, on a random "tiny-random" model (state 64, 2 heads, 2+2
 * layers, 51865 tokens) and 2 chunks: encoder output, logits of a 4-token
 * prompt and a step (vm_asr_state_decode), then KV copies and
 * vm_asr_state_decode_seqs over 4 sequences (one and two tokens), each
 * max|cuda - cpu| / max|cpu| <= 1e-4 (f32 throughout; the products sum in
 * different orders).
 *
 * tools/gpu-check.sh also runs two modes of the same program:
 *   test_asr_cuda --compare MODEL.bin [N_BATCH]   the comparison above
 *   test_asr_cuda --bench MODEL.bin CPU_THREADS CPU_BATCH
 *     times an encode of 8 windows and a decode step (batch 8) on
 *     cuda:0, and the same on the CPU with CPU_BATCH windows.
 *
 *   ctest --test-dir build -R test_asr_cuda --output-on-failure */
#include <time.h>

#include "asr/asr_test_util.h"
#include "asr_forward.h"
#include "asr_mel.h"
#include "asr_model.h"
#include "test.h"
#ifdef VM_CUDA_EMU
#include "vm_cuda_emu.h"
#endif

#define TOL 1e-4

/* max|got - want| / max|want| over n values. */
static double rel_err(const float *got, const float *want, size_t n) {
  double d = 0.0, r = 0.0;
  for (size_t i = 0; i < n; i++) {
    double e = fabs((double)got[i] - (double)want[i]);
    if (!(e <= d)) d = e; /* NaN sticks */
    if (fabs((double)want[i]) > r) r = fabs((double)want[i]);
  }
  return r > 0.0 ? d / r : d;
}

static int check_close(const char *what, const float *got, const float *want, size_t n) {
  double e = rel_err(got, want, n);
  printf("  %-34s rel %.3g\n", what, e);
  ASSERT(e <= TOL);
  return 0;
}

static vm_asr_model *g_tiny;

/* The shared tiny model (written once per run, destroyed by main). */
static vm_asr_model *tiny_model(void) {
  vm_asr_model *m = NULL;
  if (g_tiny) return g_tiny;
  vm_asr_gen_opts o;
  vm_err err;
  asr_test_tiny_opts(&o, VM_ASR_GTYPE_F32, 7);
  char *path = asr_test_model(&o, "cuda_tiny.bin");
  if (path && vm_asr_model_create_from_file(path, &m, &err) != 0) {
    fprintf(stderr, "%s\n", vm_err_text(&err));
    m = NULL;
  }
  vm_free(path);
  return g_tiny = m;
}

/* n_batch chunks of log-mel of different test audio; NULL on failure. */
static float *make_mels(const vm_asr_model *m, int n_batch) {
  const vm_asr_hparams *hp = vm_asr_model_hparams(m);
  size_t per = (size_t)hp->n_mels * VM_ASR_CHUNK_FRAMES;
  float *mels = vm_malloc((size_t)n_batch * per * sizeof(float));
  vm_asr_mel *mel = NULL;
  if (!mels || vm_asr_mel_create(vm_asr_model_mel_filters(m), hp->n_mels, &mel) != 0) goto fail;
  for (int b = 0; b < n_batch; b++) {
    size_t n = (size_t)16000 * (size_t)(4 + 7 * b % 26);
    float *pcm = asr_test_audio(b % 2, n);
    int rc = pcm ? vm_asr_mel_compute(mel, pcm, n, mels + (size_t)b * per, VM_ASR_CHUNK_FRAMES)
                 : VM_ENOMEM;
    vm_free(pcm);
    if (rc != 0) goto fail;
  }
  vm_asr_mel_destroy(mel);
  return mels;
fail:
  vm_asr_mel_destroy(mel);
  vm_free(mels);
  return NULL;
}

/* A state on device; VM_EGPU from a real build without a usable GPU
 * becomes a skip (*skip = 1). */
static int state_on(const vm_asr_model *m, const char *device, int n_threads, int n_batch,
                    int n_seq, vm_asr_state **out, int *skip) {
  vm_asr_state_opts o = {n_threads, n_batch, 4, device, n_seq};
  vm_err err;
  int rc = vm_asr_state_create(m, &o, out, &err);
  if (rc != 0) {
    fprintf(stderr, "%s: %s\n", device, vm_err_text(&err));
#ifndef VM_CUDA_EMU
    if (rc == VM_EGPU && skip) *skip = 1;
#endif
  }
  return rc;
}

/* Runs the same calls on both states, comparing every result. */
static int compare_states(const vm_asr_model *m, vm_asr_state *cpu, vm_asr_state *gpu,
                          const float *mels, int B) {
  const vm_asr_hparams *hp = vm_asr_model_hparams(m);
  const vm_asr_special *sp = vm_asr_model_special(m);
  size_t V = (size_t)hp->n_vocab, S = 2 * (size_t)B;
  vm_err err;
  vm_asr_state *st[2] = {cpu, gpu};
  float *want = vm_malloc(S * 2 * V * sizeof(float));
  int32_t tok[64];
  int slot[32], src[32], chunk[32];
  ASSERT(want && B <= 16);
  for (int i = 0; i < 2; i++) ASSERT_OK(vm_asr_state_encode(st[i], mels, B, &err));
  size_t n_enc = (size_t)B * (size_t)hp->n_audio_ctx * (size_t)hp->n_audio_state;
  const float *enc = vm_asr_state_encoder_output(gpu);
  ASSERT_NOT_NULL(enc);
  ASSERT_OK(check_close("encoder output", enc, vm_asr_state_encoder_output(cpu), n_enc));
  /* a 4-token prompt per chunk, then one step (vm_asr_state_decode) */
  for (int b = 0; b < B; b++) {
    int32_t p[4] = {sp->sot, sp->lang_first + b % 7, sp->transcribe, sp->notimestamps};
    memcpy(tok + 4 * b, p, sizeof p);
  }
  for (int i = 0; i < 2; i++) ASSERT_OK(vm_asr_state_decode(st[i], tok, 4, 0, &err));
  memcpy(want, vm_asr_state_logits(cpu), (size_t)B * 4 * V * sizeof(float));
  ASSERT_OK(check_close("logits, prompt", vm_asr_state_logits(gpu), want, (size_t)B * 4 * V));
  for (int b = 0; b < B; b++) tok[b] = 1000 + 37 * b;
  for (int i = 0; i < 2; i++) ASSERT_OK(vm_asr_state_decode(st[i], tok, 1, 4, &err));
  memcpy(want, vm_asr_state_logits(cpu), (size_t)B * V * sizeof(float));
  ASSERT_OK(check_close("logits, step", vm_asr_state_logits(gpu), want, (size_t)B * V));
  /* beams: copy slots 0..B-1 to B..2B-1, then 2B sequences one step */
  for (int i = 0; i < B; i++) slot[i] = B + i, src[i] = i;
  for (int i = 0; i < 2; i++) ASSERT_OK(vm_asr_state_kv_copy(st[i], B, slot, src, 5, &err));
  for (int i = 0; i < (int)S; i++) tok[i] = 220 + 101 * i, chunk[i] = i % B;
  for (int i = 0; i < 2; i++)
    ASSERT_OK(vm_asr_state_decode_seqs(st[i], (int)S, tok, 1, 5, chunk, NULL, &err));
  memcpy(want, vm_asr_state_seq_logits(cpu), S * V * sizeof(float));
  ASSERT_OK(check_close("seq logits, after KV copy", vm_asr_state_seq_logits(gpu), want, S * V));
  /* reorder every slot (reversed), then 2 tokens per sequence, slots
   * named, chunks shifted */
  for (int i = 0; i < (int)S; i++) slot[i] = i, src[i] = (int)S - 1 - i;
  for (int i = 0; i < 2; i++)
    ASSERT_OK(vm_asr_state_kv_copy(st[i], (int)S, slot, src, 6, &err));
  for (int i = 0; i < (int)S; i++) {
    tok[2 * i] = 300 + 7 * i, tok[2 * i + 1] = 40000 + 3 * i;
    chunk[i] = (i + 1) % B, slot[i] = ((int)S - 1 + i) % (int)S;
  }
  for (int i = 0; i < 2; i++)
    ASSERT_OK(vm_asr_state_decode_seqs(st[i], (int)S, tok, 2, 6, chunk, slot, &err));
  memcpy(want, vm_asr_state_seq_logits(cpu), S * V * sizeof(float));
  ASSERT_OK(check_close("seq logits, 2 tokens, reordered", vm_asr_state_seq_logits(gpu), want,
                        S * V));
  vm_free(want);
  return 0;
}

/* The comparison on model m with B chunks. */
static int compare_model(const vm_asr_model *m, int B) {
  vm_asr_state *cpu = NULL, *gpu = NULL;
  float *mels = make_mels(m, B);
  int skip = 0, rc = 1;
  ASSERT_NOT_NULL(mels);
  if (state_on(m, "cuda:0", 1, B, 2 * B, &gpu, &skip) != 0) {
    vm_free(mels);
    if (skip) TEST_SKIP("no usable CUDA device");
    return 1;
  }
  if (state_on(m, "cpu", 2, B, 2 * B, &cpu, NULL) == 0) {
    printf("  state bytes: cpu %zu, cuda %zu\n", vm_asr_state_bytes(cpu),
           vm_asr_state_bytes(gpu));
    rc = compare_states(m, cpu, gpu, mels, B);
  }
  vm_asr_state_destroy(cpu);
  vm_asr_state_destroy(gpu);
  vm_free(mels);
  return rc;
}

static int test_cuda_matches_cpu(void) {
  const vm_asr_model *m = tiny_model();
  ASSERT_NOT_NULL(m);
  return compare_model(m, 2);
}

/* Device names: "cuda" is cuda:0; unknown ordinals are VM_EGPU with a
 * message; malformed names are VM_EINVAL. */
static int test_cuda_device_names(void) {
  const vm_asr_model *m = tiny_model();
  vm_asr_state *st = NULL;
  vm_err err;
  int skip = 0;
  ASSERT_NOT_NULL(m);
  if (state_on(m, "cuda", 1, 1, 0, &st, &skip) != 0) {
    if (skip) TEST_SKIP("no usable CUDA device");
    return 1;
  }
  ASSERT(vm_asr_state_bytes(st) > 0);
  vm_asr_state_destroy(st);
  vm_asr_state_opts o = {1, 1, 4, "cuda:999", 0};
  ASSERT_EQ(vm_asr_state_create(m, &o, &st, &err), VM_EGPU);
  ASSERT_NULL(st);
  printf("  cuda:999: %s\n", vm_err_text(&err));
  const char *bad[] = {"cuda:", "cuda:x", "cuda0", "cuda:-1", "gpu"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    o.device = bad[i];
    ASSERT_EQ(vm_asr_state_create(m, &o, &st, &err), VM_EINVAL);
    ASSERT_NULL(st);
  }
  return 0;
}

/* Out of device memory at creation is VM_ENOMEM, leaving nothing behind:
 * an absurd batch everywhere; with the emulation also a memory cap that
 * fails the weights and one that fails the buffers after them. */
static int test_cuda_out_of_memory(void) {
  const vm_asr_model *m = tiny_model();
  vm_asr_state *st = NULL;
  vm_err err;
  int skip = 0;
  ASSERT_NOT_NULL(m);
  if (state_on(m, "cuda:0", 1, 1, 0, &st, &skip) != 0) {
    if (skip) TEST_SKIP("no usable CUDA device");
    return 1;
  }
  vm_asr_state_destroy(st);
  vm_asr_state_opts o = {1, 1 << 20, 4, "cuda:0", 0};
  ASSERT_EQ(vm_asr_state_create(m, &o, &st, &err), VM_ENOMEM);
  ASSERT_NULL(st);
  printf("  batch 2^20: %s\n", vm_err_text(&err));
#ifdef VM_CUDA_EMU
  const char *caps[] = {"1000000", "16000000"}; /* weights are 13.6 MB */
  o.n_batch_max = 2;
  for (int i = 0; i < 2; i++) {
    ASSERT_EQ(vm_cuda_emu_bytes_in_use(), 0);
    setenv("VM_CUDA_EMU_MEM_BYTES", caps[i], 1);
    int rc = vm_asr_state_create(m, &o, &st, &err);
    unsetenv("VM_CUDA_EMU_MEM_BYTES");
    printf("  cap %s bytes: %s\n", caps[i], vm_err_text(&err));
    ASSERT_EQ(rc, VM_ENOMEM);
    ASSERT_NULL(st);
    ASSERT(strstr(vm_err_text(&err), "out of memory") != NULL);
    ASSERT_EQ(vm_cuda_emu_bytes_in_use(), 0);
  }
#endif
  return 0;
}

#ifdef VM_CUDA_EMU
/* A kernel that fails makes encode VM_EGPU with CUDA's text, and the
 * failure sticks: the next decode fails the same way. */
static int test_cuda_launch_failure(void) {
  const vm_asr_model *m = tiny_model();
  vm_asr_state *st = NULL;
  vm_err err;
  ASSERT_NOT_NULL(m);
  float *mels = make_mels(m, 1);
  ASSERT_NOT_NULL(mels);
  ASSERT_OK(state_on(m, "cuda:0", 1, 1, 0, &st, NULL));
  char at[32];
  snprintf(at, sizeof at, "%ld", vm_cuda_emu_launch_count() + 5);
  setenv("VM_CUDA_EMU_FAIL_LAUNCH", at, 1);
  int rc = vm_asr_state_encode(st, mels, 1, &err);
  unsetenv("VM_CUDA_EMU_FAIL_LAUNCH");
  printf("  encode: %s\n", vm_err_text(&err));
  ASSERT_EQ(rc, VM_EGPU);
  ASSERT(strstr(vm_err_text(&err), "unspecified launch failure") != NULL);
  int32_t t = 50258;
  ASSERT_EQ(vm_asr_state_decode(st, &t, 1, 0, &err), VM_EGPU);
  vm_asr_state_destroy(st);
  vm_free(mels);
  return 0;
}
#endif

/* ---- gpu-check modes ------------------------------------------------------ */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Times one encode of B windows (best of n_rep after a warm-up) and the
 * mean of n_step decode steps (batch B, after a 4-token prompt). */
static int bench_one(const vm_asr_model *m, const char *device, int n_threads, int B,
                     const float *mels, int n_rep, int n_step) {
  vm_asr_state *st = NULL;
  vm_err err;
  int32_t tok[64] = {0};
  if (state_on(m, device, n_threads, B, 0, &st, NULL) != 0) return 1;
  double best = 1e30, t0;
  for (int r = 0; r < n_rep + 1; r++) {
    t0 = now_ms();
    if (vm_asr_state_encode(st, mels, B, &err) != 0) goto fail;
    if (r > 0 || n_rep == 0) best = now_ms() - t0 < best ? now_ms() - t0 : best;
    if (n_rep == 0) break;
  }
  for (int i = 0; i < 4 * B; i++) tok[i] = 50258 + i % 4;
  if (vm_asr_state_decode(st, tok, 4, 0, &err) != 0) goto fail;
  t0 = now_ms();
  for (int k = 0; k < n_step; k++) {
    for (int b = 0; b < B; b++) tok[b] = 1000 + 13 * k + b;
    if (vm_asr_state_decode(st, tok, 1, 4 + k, &err) != 0) goto fail;
  }
  double step = (now_ms() - t0) / n_step;
  printf("BENCH %-8s threads %2d: encode %d windows %9.1f ms (%8.1f ms/window); decode step "
         "batch %d %8.2f ms; state %zu MB\n", device, n_threads, B, best, best / B, B, step,
         vm_asr_state_bytes(st) >> 20);
  vm_asr_state_destroy(st);
  return 0;
fail:
  fprintf(stderr, "%s: %s\n", device, vm_err_text(&err));
  vm_asr_state_destroy(st);
  return 1;
}

static int run_mode(int argc, char **argv) {
  vm_asr_model *m = NULL;
  vm_err err;
  int rc = 2;
  if (argc < 3) goto usage;
  if (vm_asr_model_create_from_file(argv[2], &m, &err) != 0) {
    fprintf(stderr, "%s: %s\n", argv[2], vm_err_text(&err));
    return 1;
  }
  if (strcmp(argv[1], "--compare") == 0) {
    int B = argc > 3 ? atoi(argv[3]) : 2;
    printf("compare %s, %d chunks\n", argv[2], B);
    rc = B >= 1 && B <= 16 ? compare_model(m, B) : 2;
    printf("%s compare %s\n", rc == 0 ? "PASS" : rc == 77 ? "SKIP" : "FAIL", argv[2]);
  } else if (strcmp(argv[1], "--bench") == 0 && argc >= 5) {
    int n_threads = atoi(argv[3]), cpu_batch = atoi(argv[4]);
    float *mels = make_mels(m, 8);
    rc = !mels || n_threads < 1 || cpu_batch < 1 || cpu_batch > 8 ||
         bench_one(m, "cuda:0", 1, 8, mels, 3, 20) != 0 ||
         bench_one(m, "cpu", n_threads, cpu_batch, mels, 0, 3) != 0;
    vm_free(mels);
  }
  vm_asr_model_destroy(m);
  if (rc != 2) return rc;
usage:
  fprintf(stderr, "usage: test_asr_cuda [TEST] | --compare MODEL [N_BATCH] | --bench MODEL "
                  "CPU_THREADS CPU_BATCH\n");
  return 2;
}

int main(int argc, char **argv) {
  static const test_entry tests[] = {
      TEST_ENTRY(test_cuda_matches_cpu), TEST_ENTRY(test_cuda_device_names),
      TEST_ENTRY(test_cuda_out_of_memory),
#ifdef VM_CUDA_EMU
      TEST_ENTRY(test_cuda_launch_failure),
#endif
      {NULL, NULL}};
  if (argc > 1 && strncmp(argv[1], "--", 2) == 0) return run_mode(argc, argv);
  int rc = test_run_all(tests, argc, argv);
  vm_asr_model_destroy(g_tiny);
  return rc;
}
