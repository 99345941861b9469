/* test_asr_forward.c — the Whisper forward pass against the independent
 * float64 reference (tests/asr/ref_whisper.py) on generated models.
 *
 * For f32, f16 and q8_0 files of the "tiny-random" dims (state 64, 2
 * heads, 2+2 layers, real vocabulary) and two different chunks of audio
 * encoded as one batch of 2, compares:
 *   mel            max |diff| <= 2e-4 (values are in about [-1.5, 1.5])
 *   encoder output max |diff| / max |ref| <= 1e-4
 *   logits         max |diff| / max |ref| <= 1e-4, for 6 positions decoded
 *                  as a 4-token prompt and then 2 single steps (KV cache).
 * The reference dequantises the same file itself, so the weights are the
 * same numbers on both sides and the tolerance is the same for every type
 * (it measures f32 arithmetic, not quantisation).
 * Skips (77) when Debian's python3 with numpy is missing.
 *
 *   ctest --test-dir build -R test_asr_forward --output-on-failure */
#include "asr/asr_test_util.h"
#include "asr_forward.h"
#include "asr_mel.h"
#include "asr_model.h"
#include "test.h"

#define N_TOK 6

static int check_type(int32_t wtype, const char *name) {
  vm_asr_gen_opts o;
  asr_test_tiny_opts(&o, wtype, 42);
  char *path = asr_test_model(&o, name);
  ASSERT_NOT_NULL(path);
  vm_asr_model *m = NULL;
  vm_asr_mel *mel = NULL;
  vm_asr_state *st = NULL;
  vm_err err;
  ASSERT_OK(vm_asr_model_create_from_file(path, &m, &err));
  const vm_asr_hparams *hp = vm_asr_model_hparams(m);
  const vm_asr_special *sp = vm_asr_model_special(m);
  size_t n_audio[2] = {16000 * 5, 16000 * 12};
  size_t per_chunk = (size_t)hp->n_mels * VM_ASR_CHUNK_FRAMES;
  float *mels = vm_malloc(2 * per_chunk * sizeof(float));
  float *pcm[2] = {asr_test_audio(0, n_audio[0]), asr_test_audio(1, n_audio[1])};
  ASSERT(mels && pcm[0] && pcm[1]);
  ASSERT_OK(vm_asr_mel_create(vm_asr_model_mel_filters(m), hp->n_mels, &mel));
  for (int b = 0; b < 2; b++)
    ASSERT_OK(vm_asr_mel_compute(mel, pcm[b], n_audio[b], mels + (size_t)b * per_chunk,
                                 VM_ASR_CHUNK_FRAMES));
  vm_asr_state_opts so = {2, 2, 4, "cpu", 0};
  ASSERT_OK(vm_asr_state_create(m, &so, &st, &err));
  ASSERT_OK(vm_asr_state_encode(st, mels, 2, &err));
  /* prompt per chunk: sot, <|ko|> / <|en|>, transcribe, notimestamps; then 2 steps */
  int32_t tok[2][N_TOK] = {
      {sp->sot, sp->lang_first + 5, sp->transcribe, sp->notimestamps, 1000, 31},
      {sp->sot, sp->lang_first, sp->transcribe, sp->notimestamps, 220, 50000}};
  size_t V = (size_t)hp->n_vocab;
  float *logits = vm_malloc(2 * N_TOK * V * sizeof(float));
  ASSERT_NOT_NULL(logits);
  int32_t prompt[8] = {tok[0][0], tok[0][1], tok[0][2], tok[0][3],
                       tok[1][0], tok[1][1], tok[1][2], tok[1][3]};
  ASSERT_OK(vm_asr_state_decode(st, prompt, 4, 0, &err));
  for (int b = 0; b < 2; b++)
    memcpy(logits + (size_t)b * N_TOK * V, vm_asr_state_logits(st) + (size_t)b * 4 * V,
           4 * V * sizeof(float));
  for (int k = 4; k < N_TOK; k++) {
    int32_t step[2] = {tok[0][k], tok[1][k]};
    ASSERT_OK(vm_asr_state_decode(st, step, 1, k, &err));
    for (int b = 0; b < 2; b++)
      memcpy(logits + ((size_t)b * N_TOK + (size_t)k) * V,
             vm_asr_state_logits(st) + (size_t)b * V, V * sizeof(float));
  }
  const float *enc = vm_asr_state_encoder_output(st);
  size_t n_enc = (size_t)hp->n_audio_ctx * (size_t)hp->n_audio_state;
  for (int b = 0; b < 2; b++) {
    asr_test_ref r = {0};
    char tag[64];
    snprintf(tag, sizeof tag, "%s_%d", name, b);
    ASSERT_OK(asr_test_run_ref(path, pcm[b], n_audio[b], tok[b], N_TOK, tag, &r));
    ASSERT_EQ(r.n_mel, per_chunk);
    ASSERT_EQ(r.n_enc, n_enc);
    ASSERT_EQ(r.n_logits, N_TOK * V);
    double mel_abs, enc_abs, log_abs;
    asr_test_rel_err(mels + (size_t)b * per_chunk, r.mel, per_chunk, &mel_abs);
    double enc_rel = asr_test_rel_err(enc + (size_t)b * n_enc, r.enc, n_enc, &enc_abs);
    double log_rel = asr_test_rel_err(logits + (size_t)b * N_TOK * V, r.logits, N_TOK * V,
                                      &log_abs);
    printf("%s chunk %d: mel max-abs %.3g; encoder max-abs %.3g rel %.3g; logits "
           "max-abs %.3g rel %.3g\n", name, b, mel_abs, enc_abs, enc_rel, log_abs, log_rel);
    asr_test_ref_free(&r);
    ASSERT(mel_abs <= 2e-4);
    ASSERT(enc_rel <= 1e-4);
    ASSERT(log_rel <= 1e-4);
  }
  vm_free(logits);
  vm_free(mels);
  vm_free(pcm[0]);
  vm_free(pcm[1]);
  vm_asr_state_destroy(st);
  vm_asr_mel_destroy(mel);
  vm_asr_model_destroy(m);
  vm_free(path);
  return 0;
}

static int test_forward_f32(void) {
  if (!asr_test_have_numpy()) TEST_SKIP("no python3 with numpy");
  return check_type(VM_ASR_GTYPE_F32, "fwd_f32.bin");
}
static int test_forward_f16(void) {
  if (!asr_test_have_numpy()) TEST_SKIP("no python3 with numpy");
  return check_type(VM_ASR_GTYPE_F16, "fwd_f16.bin");
}
static int test_forward_q8_0(void) {
  if (!asr_test_have_numpy()) TEST_SKIP("no python3 with numpy");
  return check_type(VM_ASR_GTYPE_Q8_0, "fwd_q8_0.bin");
}
static int test_forward_q5_0(void) {
  if (!asr_test_have_numpy()) TEST_SKIP("no python3 with numpy");
  return check_type(VM_ASR_GTYPE_Q5_0, "fwd_q5_0.bin");
}

TEST_MAIN(TEST_ENTRY(test_forward_f32), TEST_ENTRY(test_forward_f16),
          TEST_ENTRY(test_forward_q8_0), TEST_ENTRY(test_forward_q5_0))
