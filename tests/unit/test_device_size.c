/* Unit tests for memory sizing: per-chunk bytes from the Whisper
 * dimensions, micro-batch sizes for 8/16/24/80 GB cards and every released
 * model (the table in docs/gpu.md is printed by test_batch_table), clamp
 * rules, and the CPU budget from MemAvailable.
 * Run: build-dev/tests/test_device_size test_batch_table */
#include "device.h"
#include "test.h"

#define GB ((int64_t)1000 * 1000 * 1000)
#define MIB ((int64_t)1 << 20)

static const char *models[] = {"tiny", "base", "small", "medium", "large-v3"};
#define N_MODELS 5

static int test_presets(void) {
  vm_device_model_dims d;
  ASSERT_OK(vm_device_model_dims_preset("large-v3", &d));
  ASSERT_EQ(d.n_mels, 128);
  ASSERT_EQ(d.n_text_layer, 32);
  ASSERT_EQ(d.n_vocab, 51866);
  ASSERT_OK(vm_device_model_dims_preset("tiny", &d));
  ASSERT_EQ(d.n_audio_state, 384);
  ASSERT_EQ(vm_device_model_dims_preset("huge", &d), VM_EINVAL);
  ASSERT_EQ(vm_device_model_dims_preset(NULL, &d), VM_EINVAL);
  return 0;
}

/* Weight bytes match the parameter counts of the released checkpoints
 * within 1 % (the estimate rounds biases and norms). */
static int test_model_bytes(void) {
  const double params_m[N_MODELS] = {37.76, 72.59, 241.73, 763.86, 1543.49};
  for (int k = 0; k < N_MODELS; k++) {
    vm_device_model_dims d;
    ASSERT_OK(vm_device_model_dims_preset(models[k], &d));
    double got = (double)vm_device_model_bytes(&d, VM_DEVICE_PRECISION_F32) /
                 4.0 / 1e6;
    ASSERT_NEAR(got / params_m[k], 1.0, 0.01);
  }
  return 0;
}

/* Chunk bytes follow the formula term by term for a hand-sized model. */
static int test_chunk_formula(void) {
  vm_device_model_dims d = {.n_vocab = 100, .n_audio_ctx = 10,
                            .n_audio_state = 8, .n_audio_head = 2,
                            .n_audio_layer = 3, .n_text_ctx = 6,
                            .n_text_state = 8, .n_text_head = 2,
                            .n_text_layer = 3, .n_mels = 4};
  int64_t p = 2, mel = 4 * 20 * 4;
  int64_t enc = p * 20 * 8 + p * 10 * 10 * 8 + 4 * 2 * 10 * 10; /* 2720 */
  int64_t dec = p * 10 * 6 * 8 + 4 * 2 * 6 * (6 + 10);          /* 1728 */
  ASSERT_LT(dec, enc); /* so the encoder is the peak here */
  int64_t cross = 2 * 3 * 10 * 8 * p, self = 2 * 3 * 6 * 8 * p;
  int64_t logits = 2 * 100 * 4;
  ASSERT_EQ(vm_device_chunk_bytes(&d, VM_DEVICE_PRECISION_F16, 3),
            mel + enc + cross + 3 * (self + logits));
  ASSERT_EQ(vm_device_chunk_bytes(&d, VM_DEVICE_PRECISION_F16, 0),
            vm_device_chunk_bytes(&d, VM_DEVICE_PRECISION_F16, 1));
  return 0;
}

/* Bigger model, more beams or f32 never need less. */
static int test_chunk_monotonic(void) {
  int64_t prev = 0;
  for (int k = 0; k < N_MODELS; k++) {
    vm_device_model_dims d;
    ASSERT_OK(vm_device_model_dims_preset(models[k], &d));
    int64_t b1 = vm_device_chunk_bytes(&d, VM_DEVICE_PRECISION_F16, 1);
    int64_t b5 = vm_device_chunk_bytes(&d, VM_DEVICE_PRECISION_F16, 5);
    int64_t f32 = vm_device_chunk_bytes(&d, VM_DEVICE_PRECISION_F32, 5);
    ASSERT_GT(b1, prev);
    ASSERT_GT(b5, b1);
    ASSERT_GT(f32, b5);
    prev = b1;
  }
  return 0;
}

static int test_batch_clamp(void) {
  vm_device_batch_limits lim;
  vm_device_batch_limits_default(&lim);
  ASSERT_NEAR(lim.mem_fraction, 0.9, 1e-12);
  int n;
  ASSERT_OK(vm_device_batch_size(100 * MIB, 10 * MIB, &lim, &n));
  ASSERT_EQ(n, 9); /* floor(100 * 0.9 / 10) */
  ASSERT_OK(vm_device_batch_size(1000 * MIB, 10 * MIB, &lim, &n));
  ASSERT_EQ(n, 16); /* max */
  ASSERT_EQ(vm_device_batch_size(5 * MIB, 10 * MIB, &lim, &n), VM_ENOMEM);
  ASSERT_EQ(n, 1); /* min, flagged as not fitting */
  ASSERT_EQ(vm_device_batch_size(-1, 10 * MIB, &lim, &n), VM_ENOMEM);
  lim.min_batch = 4;
  ASSERT_OK(vm_device_batch_size(25 * MIB, 10 * MIB, &lim, &n));
  ASSERT_EQ(n, 4);
  lim = (vm_device_batch_limits){0.0, 1, 4};
  ASSERT_EQ(vm_device_batch_size(GB, MIB, &lim, &n), VM_EINVAL);
  lim = (vm_device_batch_limits){1.5, 1, 4};
  ASSERT_EQ(vm_device_batch_size(GB, MIB, &lim, &n), VM_EINVAL);
  lim = (vm_device_batch_limits){0.9, 3, 2};
  ASSERT_EQ(vm_device_batch_size(GB, MIB, &lim, &n), VM_EINVAL);
  lim = (vm_device_batch_limits){0.9, 1, 2};
  ASSERT_EQ(vm_device_batch_size(GB, 0, &lim, &n), VM_EINVAL);
  return 0;
}

/* Micro-batch for a card with the f16 model resident, 5 beams, fraction
 * 0.9, no practical cap (max 1024): the table in docs/gpu.md shows what
 * fits; --max-micro-batch (default 16) clamps it further. */
static int batch_for(int64_t card, const char *model, int *out_n,
                     int64_t *out_chunk) {
  vm_device_model_dims d;
  if (vm_device_model_dims_preset(model, &d)) return VM_EINVAL;
  vm_device_batch_limits lim = {0.9, 1, 1024};
  int64_t free_b = card - vm_device_model_bytes(&d, VM_DEVICE_PRECISION_F16);
  *out_chunk = vm_device_chunk_bytes(&d, VM_DEVICE_PRECISION_F16, 5);
  return vm_device_batch_size(free_b, *out_chunk, &lim, out_n);
}

static int test_batch_table(void) {
  const int64_t cards[] = {8 * GB, 16 * GB, 24 * GB, 80 * GB};
  /* expected sizes, rows = models, columns = cards */
  const int expect[N_MODELS][4] = {{76, 152, 229, 766},
                                   {50, 102, 153, 515},
                                   {24, 50, 76, 258},
                                   {10, 23, 36, 128},
                                   {5, 13, 22, 82}};
  printf("| model | weights f16 | chunk (5 beams) | 8 GB | 16 GB | 24 GB | 80 GB |\n");
  for (int k = 0; k < N_MODELS; k++) {
    vm_device_model_dims d;
    ASSERT_OK(vm_device_model_dims_preset(models[k], &d));
    int64_t chunk = 0;
    int n[4];
    for (int c = 0; c < 4; c++)
      ASSERT_OK(batch_for(cards[c], models[k], &n[c], &chunk));
    printf("| %s | %.0f MB | %.0f MB | %d | %d | %d | %d |\n", models[k],
           (double)vm_device_model_bytes(&d, VM_DEVICE_PRECISION_F16) / 1e6,
           (double)chunk / 1e6, n[0], n[1], n[2], n[3]);
    for (int c = 0; c < 4; c++) {
      /* what the batch needs fits in 90 % of what the card has left */
      int64_t free_b =
          cards[c] - vm_device_model_bytes(&d, VM_DEVICE_PRECISION_F16);
      ASSERT_LE((double)n[c] * (double)chunk, 0.9 * (double)free_b);
      if (c > 0) ASSERT_GE(n[c], n[c - 1]);
    }
    for (int c = 0; c < 4; c++) ASSERT_EQ(n[c], expect[k][c]);
  }
  return 0;
}

/* The same function sizes CPU batches against MemAvailable. */
static int test_cpu_budget(void) {
  vm_device_host_info h;
  vm_device_host_get(&h);
  vm_device_model_dims d;
  ASSERT_OK(vm_device_model_dims_preset("tiny", &d));
  int64_t chunk = vm_device_chunk_bytes(&d, VM_DEVICE_PRECISION_F32, 1);
  vm_device_batch_limits lim = {0.5, 1, 1 << 20};
  int n;
  int rc = vm_device_batch_size(h.mem_available_bytes, chunk, &lim, &n);
  ASSERT(rc == VM_OK || rc == VM_ENOMEM);
  ASSERT_LE((double)n * (double)chunk,
            0.5 * (double)h.mem_available_bytes + (double)chunk);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_presets), TEST_ENTRY(test_model_bytes),
          TEST_ENTRY(test_chunk_formula), TEST_ENTRY(test_chunk_monotonic),
          TEST_ENTRY(test_batch_clamp), TEST_ENTRY(test_batch_table),
          TEST_ENTRY(test_cpu_budget))
