/* test_asr_mel.c — Whisper's log-mel front end against the float64
 * reference (tests/asr/ref_whisper.py: numpy FFT, np.pad reflect), and
 * our Slaney filter bank against Whisper's published mel_filters.npz.
 *
 * Tolerances: mel max |diff| <= 2e-4 (f32 FFT and filter product against
 * float64; values lie in about [-1.5, 1.5]); filters max |diff| <= 1e-6.
 * Skips (77) without python3 + numpy.
 *
 *   ctest --test-dir build -R test_asr_mel --output-on-failure */
#include "asr/asr_test_util.h"
#include "asr_mel.h"
#include "asr_model.h"
#include "test.h"

static char *mel_model(int n_mels) {
  vm_asr_gen_opts o;
  asr_test_tiny_opts(&o, VM_ASR_GTYPE_F16, 3);
  o.hp.n_audio_ctx = 8;
  o.hp.n_text_ctx = 8;
  o.hp.n_audio_state = o.hp.n_text_state = 8;
  o.hp.n_audio_layer = o.hp.n_text_layer = 1;
  o.hp.n_mels = n_mels;
  o.hp.n_vocab = n_mels == 128 ? 51866 : 51865;
  o.vocab_path = NULL;
  o.n_vocab_stored = 256;
  char name[32];
  snprintf(name, sizeof name, "mel_%d.bin", n_mels);
  return asr_test_model(&o, name);
}

static int compare(const char *model, int n_mels, const float *pcm, size_t n, const char *tag) {
  vm_asr_model *m;
  vm_asr_mel *mel;
  vm_err err;
  ASSERT_OK(vm_asr_model_create_from_file(model, &m, &err));
  ASSERT_OK(vm_asr_mel_create(vm_asr_model_mel_filters(m), n_mels, &mel));
  size_t nf = VM_ASR_CHUNK_FRAMES, total = (size_t)n_mels * nf;
  float *out = vm_malloc(total * sizeof *out);
  ASSERT_NOT_NULL(out);
  ASSERT_OK(vm_asr_mel_compute(mel, pcm, n, out, nf));
  char pcm_path[512], out_path[512], cmd[2048];
  snprintf(pcm_path, sizeof pcm_path, "%s/asr_test/mel_%s.f32", VM_BINARY_DIR, tag);
  snprintf(out_path, sizeof out_path, "%s/asr_test/mel_%s.ref", VM_BINARY_DIR, tag);
  FILE *f = fopen(pcm_path, "wb");
  ASSERT_NOT_NULL(f);
  if (n) fwrite(pcm, sizeof(float), n, f);
  fclose(f);
  snprintf(cmd, sizeof cmd, "%s %s %s --audio %s --out %s", VM_PYTHON_BIN, ASR_TEST_REF,
           model, pcm_path, out_path);
  ASSERT_EQ(system(cmd), 0);
  f = fopen(out_path, "rb");
  ASSERT_NOT_NULL(f);
  size_t nr = 0;
  double *ref = asr_test_read_block(f, &nr);
  fclose(f);
  ASSERT_NOT_NULL(ref);
  ASSERT_EQ(nr, total);
  double mad;
  asr_test_rel_err(out, ref, total, &mad);
  printf("mel %s (%d bins, %zu samples): max-abs %.3g\n", tag, n_mels, n, mad);
  ASSERT(mad <= 2e-4);
  vm_free(ref);
  vm_free(out);
  vm_asr_mel_destroy(mel);
  vm_asr_model_destroy(m);
  return 0;
}

static int test_mel_signals(void) {
  if (!asr_test_have_numpy()) TEST_SKIP("no python3 with numpy");
  char *model = mel_model(80);
  ASSERT_NOT_NULL(model);
  size_t lens[4] = {16000 * 3 / 10, 16000 * 7, VM_ASR_CHUNK_SAMPLES, 16000 * 45};
  const char *tags[4] = {"short", "7s", "30s", "45s"};
  for (int i = 0; i < 4; i++) {
    float *x = asr_test_audio(i & 1, lens[i]);
    ASSERT_NOT_NULL(x);
    if (i == 3) /* loudest part after 30 s: the clamp must use the global max */
      for (size_t k = 16000 * 35; k < 16000 * 36; k++) x[k] *= 20.0f;
    int rc = compare(model, 80, x, lens[i], tags[i]);
    vm_free(x);
    if (rc) return rc;
  }
  vm_free(model);
  return 0;
}

static int test_mel_silence_128(void) {
  if (!asr_test_have_numpy()) TEST_SKIP("no python3 with numpy");
  char *model = mel_model(128);
  ASSERT_NOT_NULL(model);
  float *z = vm_calloc(16000, sizeof *z);
  float *x = asr_test_audio(1, 16000 * 10);
  ASSERT(z && x);
  ASSERT_OK(compare(model, 128, z, 16000, "silence"));
  ASSERT_OK(compare(model, 128, x, 16000 * 10, "chirp128"));
  ASSERT_OK(compare(model, 128, NULL, 0, "empty"));
  vm_free(z);
  vm_free(x);
  vm_free(model);
  return 0;
}

static int test_mel_filters(void) {
  if (!asr_test_have_numpy()) TEST_SKIP("no python3 with numpy");
  int mels[2] = {80, 128};
  for (int i = 0; i < 2; i++) {
    char *model = mel_model(mels[i]), cmd[2048], buf[64] = "";
    ASSERT_NOT_NULL(model);
    snprintf(cmd, sizeof cmd, "%s %s %s --check-filters %s/tests/fixtures/whisper/mel_filters.npz",
             VM_PYTHON_BIN, ASR_TEST_REF, model, VM_SOURCE_DIR);
    FILE *p = popen(cmd, "r");
    ASSERT_NOT_NULL(p);
    ASSERT_NOT_NULL(fgets(buf, sizeof buf, p));
    ASSERT_EQ(pclose(p), 0);
    double d = atof(buf);
    printf("mel filters %d: max-abs diff to mel_filters.npz %.3g\n", mels[i], d);
    ASSERT(d <= 1e-6);
    vm_free(model);
  }
  return 0;
}

static int test_mel_api(void) {
  float f[80 * 201] = {0};
  vm_asr_mel *m;
  ASSERT_EQ(vm_asr_mel_create(f, 81, &m), VM_EINVAL);
  ASSERT_NULL(m);
  ASSERT_OK(vm_asr_mel_create(f, 80, &m));
  ASSERT_EQ(vm_asr_mel_n_frames(0), 3000);
  ASSERT_EQ(vm_asr_mel_n_frames(160), 3001);
  float *out = vm_malloc(80 * 3001 * sizeof *out);
  ASSERT_NOT_NULL(out);
  ASSERT_EQ(vm_asr_mel_compute(m, NULL, 0, out, 3001), VM_EINVAL);
  ASSERT_OK(vm_asr_mel_compute(m, NULL, 0, out, 3000));
  for (size_t i = 0; i < 80 * 3000; i++) ASSERT_NEAR(out[i], -1.5, 1e-6); /* log10(1e-10) */
  vm_free(out);
  vm_asr_mel_destroy(m);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_mel_api), TEST_ENTRY(test_mel_signals),
          TEST_ENTRY(test_mel_silence_128), TEST_ENTRY(test_mel_filters))
