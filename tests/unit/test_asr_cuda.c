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
#include <math.h>
#include <time.h>

#include "asr/asr_test_util.h"
#include "asr_backend.h"
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

/* Both sets of kernels of the CUDA backend: the default (decode-step
 * attention in direct kernels, two-pass LayerNorm and softmax) and the
 * simple ones (VM_ASR_CUDA_SIMPLE: attention per item on cuBLAS, one
 * thread per row). */
static int test_cuda_matches_cpu(void) {
  const vm_asr_model *m = tiny_model();
  ASSERT_NOT_NULL(m);
  if (compare_model(m, 2) != 0) return 1;
  printf("  simple kernels (VM_ASR_CUDA_SIMPLE=1):\n");
  setenv("VM_ASR_CUDA_SIMPLE", "1", 1);
  int rc = compare_model(m, 2);
  unsetenv("VM_ASR_CUDA_SIMPLE");
  return rc;
}

/* Uploads n floats into new backend memory. */
static float *be_put(vm_asr_backend_i *be, const float *h, size_t n) {
  float *d = be->mem_alloc(be->ctx, n);
  if (d) be->upload(be->ctx, d, h, n);
  return d;
}

/* Backend ops one by one, CUDA against the CPU, at sizes the tiny model
 * does not reach: LayerNorm rows of 300 (three partials, the last short),
 * attention with 3 and 20 query rows (direct and cuBLAS paths) over 300
 * keys with items swapped (kv_item), causal and not, and copy_items with
 * both index arrays. Default and simple kernels. */
static int check_ops(int simple) {
  enum { M = 5, N = 300, B = 2, H = 3, D = 16, C = H * D, KV = 300, QM = 20 };
  vm_asr_backend_i be[2];
  vm_err err;
  if (simple) setenv("VM_ASR_CUDA_SIMPLE", "1", 1);
  int rc = vm__asr_backend_init("cuda:0", 1, &be[1], &err);
  unsetenv("VM_ASR_CUDA_SIMPLE");
  if (rc != 0) {
    fprintf(stderr, "%s\n", vm_err_text(&err));
#ifndef VM_CUDA_EMU
    if (rc == VM_EGPU) TEST_SKIP("no usable CUDA device");
#endif
    return 1;
  }
  ASSERT_OK(vm__asr_backend_init("cpu", 2, &be[0], &err));
  size_t nq = (size_t)B * QM * C, nkv = (size_t)B * KV * C;
  float *x = vm_malloc(M * N * sizeof *x), *g = vm_malloc(N * sizeof *g);
  float *q = vm_malloc(nq * sizeof *q), *kv = vm_malloc(2 * nkv * sizeof *kv);
  float *got = vm_malloc(nkv * sizeof *got), *want = vm_malloc(nkv * sizeof *want);
  ASSERT(x && g && q && kv && got && want);
  for (int i = 0; i < M * N; i++) x[i] = 40.0f + 3.0f * sinf(0.37f * (float)i) + (float)(i % 7);
  for (int i = 0; i < N; i++) g[i] = 0.5f + 0.001f * (float)i;
  for (size_t i = 0; i < nq; i++) q[i] = 2.0f * sinf(0.11f * (float)i);
  for (size_t i = 0; i < 2 * nkv; i++) kv[i] = cosf(0.07f * (float)i + 0.3f);
  for (int k = 0; k < 2; k++) {
    ASSERT_OK(be[k].reserve(be[k].ctx, QM, KV, 1));
    float *dx = be_put(&be[k], x, M * N), *dg = be_put(&be[k], g, N);
    float *dy = be[k].mem_alloc(be[k].ctx, M * N);
    ASSERT(dx && dg && dy);
    be[k].layernorm(be[k].ctx, M, N, dx, dg, dg, dy);
    be[k].download(be[k].ctx, k ? got : want, dy, M * N);
    be[k].mem_free(be[k].ctx, dx);
    be[k].mem_free(be[k].ctx, dg);
    be[k].mem_free(be[k].ctx, dy);
  }
  ASSERT_OK(check_close("layernorm, rows of 300", got, want, M * N));
  static const int cases[][2] = {{3, 1}, {3, 0}, {QM, 1}, {QM, 0}};
  static const int swap[B] = {1, 0};
  for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
    int n_q = cases[t][0], causal = cases[t][1];
    for (int k = 0; k < 2; k++) {
      float *dq = be_put(&be[k], q, nq), *dk = be_put(&be[k], kv, nkv);
      float *dv = be_put(&be[k], kv + nkv, nkv), *dout = be[k].mem_alloc(be[k].ctx, nq);
      ASSERT(dq && dk && dv && dout);
      vm_asr_attn_args a = {B, H, D, n_q, KV, dq, C, (size_t)QM * C, dk, dv, C,
                            (size_t)KV * C, dout, C, (size_t)QM * C, causal, KV - n_q - 7, swap};
      be[k].attention(be[k].ctx, &a);
      be[k].download(be[k].ctx, k ? got : want, dout, nq);
      for (int b = 0; b < B; b++) /* rows past n_q were not written */
        memset((k ? got : want) + (size_t)b * QM * C + (size_t)n_q * C, 0,
               (size_t)(QM - n_q) * C * sizeof(float));
      be[k].mem_free(be[k].ctx, dq);
      be[k].mem_free(be[k].ctx, dk);
      be[k].mem_free(be[k].ctx, dv);
      be[k].mem_free(be[k].ctx, dout);
    }
    char what[64];
    snprintf(what, sizeof what, "attention, %d queries%s", n_q, causal ? ", causal" : "");
    ASSERT_OK(check_close(what, got, want, nq));
  }
  /* copy_items: gather blocks 2, 0 of kv into a buffer at items 1, 3 */
  static const int src[2] = {2, 0}, dst[2] = {1, 3};
  for (int k = 0; k < 2; k++) {
    float *dk = be_put(&be[k], kv, nkv), *dd = be_put(&be[k], kv + nkv, nkv);
    ASSERT(dk && dd);
    be[k].copy_items(be[k].ctx, 2, dd, dst, 1000, dk, src, 900, 700);
    be[k].download(be[k].ctx, k ? got : want, dd, nkv);
    be[k].mem_free(be[k].ctx, dk);
    be[k].mem_free(be[k].ctx, dd);
  }
  ASSERT(memcmp(got, want, nkv * sizeof *got) == 0);
  ASSERT(memcmp(want + 1000, kv + 1800, 700 * sizeof *kv) == 0);
  ASSERT_OK(be[1].status(be[1].ctx, &err));
  for (int k = 0; k < 2; k++) be[k].destroy(be[k].ctx);
  vm_free(x);
  vm_free(g);
  vm_free(q);
  vm_free(kv);
  vm_free(got);
  vm_free(want);
  return 0;
}

static int test_cuda_ops(void) {
  int rc = check_ops(0);
  if (rc != 0) return rc;
  printf("  simple kernels (VM_ASR_CUDA_SIMPLE=1):\n");
  return check_ops(1);
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
  /* beam-search steps as the transcriber runs them: B sequences (a beam
   * per window) reordered (kv_copy) and stepped (decode_seqs) */
  int slot[8], src[8], chunk[8];
  for (int b = 0; b < B; b++) slot[b] = b, src[b] = B - 1 - b, chunk[b] = b;
  t0 = now_ms();
  for (int k = 0; k < n_step; k++) {
    for (int b = 0; b < B; b++) tok[b] = 2000 + 11 * k + b;
    if (vm_asr_state_kv_copy(st, B, slot, src, 4 + n_step + k, &err) != 0 ||
        vm_asr_state_decode_seqs(st, B, tok, 1, 4 + n_step + k, chunk, slot, &err) != 0)
      goto fail;
  }
  double beam = (now_ms() - t0) / n_step;
  printf("BENCH %-8s threads %2d: encode %d windows %9.1f ms (%8.1f ms/window); decode step "
         "batch %d %8.2f ms; beam step %8.2f ms; state %zu MB\n", device, n_threads, B, best,
         best / B, B, step, beam, vm_asr_state_bytes(st) >> 20);
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
      TEST_ENTRY(test_cuda_matches_cpu), TEST_ENTRY(test_cuda_ops),
      TEST_ENTRY(test_cuda_device_names),
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
