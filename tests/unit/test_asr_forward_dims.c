/* test_asr_forward_dims.c — the Whisper forward pass at the real `tiny`
 * (384 state, 6 heads, 4+4 layers) and `base` (512, 8, 6+6) dimensions,
 * against the independent float64 reference (tests/asr/ref_whisper.py),
 * with f16 (tiny) and q5_0-quantised (base) weights as whisper.cpp files
 * carry them. test_asr_forward covers every weight type at small custom
 * dims; this one checks that nothing depends on those small sizes (head
 * split, block sizes of the kernels, KV strides at n_state 384 and 512).
 *
 * One 20 s chunk; a 4-token prompt then 2 single steps with the KV cache.
 * The reference dequantises the same file, so the weights are the same
 * numbers on both sides; the bound for f16/quantised weights is a
 * relative error of 1e-2, the engine is held to 1e-4 (it measures f32
 * arithmetic only). Skips (77) without Debian's python3 + numpy. */
#include "asr/asr_test_util.h"
#include "asr_forward.h"
#include "asr_mel.h"
#include "asr_model.h"
#include "test.h"

#define N_TOK 6

static int check_dims(int state, int heads, int layers, int32_t wtype, const char *name) {
  vm_asr_gen_opts o;
  asr_test_tiny_opts(&o, wtype, 7);
  o.hp.n_audio_state = o.hp.n_text_state = state;
  o.hp.n_audio_head = o.hp.n_text_head = heads;
  o.hp.n_audio_layer = o.hp.n_text_layer = layers;
  char *path = asr_test_model(&o, name);
  ASSERT_NOT_NULL(path);
  vm_asr_model *m = NULL;
  vm_asr_mel *mel = NULL;
  vm_asr_state *st = NULL;
  vm_err err;
  ASSERT_OK(vm_asr_model_create_from_file(path, &m, &err));
  const vm_asr_hparams *hp = vm_asr_model_hparams(m);
  const vm_asr_special *sp = vm_asr_model_special(m);
  size_t n_audio = 16000 * 20, per_chunk = (size_t)hp->n_mels * VM_ASR_CHUNK_FRAMES;
  float *mels = vm_malloc(per_chunk * sizeof(float)), *pcm = asr_test_audio(1, n_audio);
  size_t V = (size_t)hp->n_vocab;
  float *logits = vm_malloc(N_TOK * V * sizeof(float));
  ASSERT(mels && pcm && logits);
  ASSERT_OK(vm_asr_mel_create(vm_asr_model_mel_filters(m), hp->n_mels, &mel));
  ASSERT_OK(vm_asr_mel_compute(mel, pcm, n_audio, mels, VM_ASR_CHUNK_FRAMES));
  vm_asr_state_opts so = {2, 1, 4, "cpu", 0};
  ASSERT_OK(vm_asr_state_create(m, &so, &st, &err));
  ASSERT_OK(vm_asr_state_encode(st, mels, 1, &err));
  int32_t tok[N_TOK] = {sp->sot, sp->lang_first + 5, sp->transcribe, sp->notimestamps, 1000,
                        31};
  ASSERT_OK(vm_asr_state_decode(st, tok, 4, 0, &err));
  memcpy(logits, vm_asr_state_logits(st), 4 * V * sizeof(float));
  for (int k = 4; k < N_TOK; k++) {
    ASSERT_OK(vm_asr_state_decode(st, &tok[k], 1, k, &err));
    memcpy(logits + (size_t)k * V, vm_asr_state_logits(st), V * sizeof(float));
  }
  size_t n_enc = (size_t)hp->n_audio_ctx * (size_t)hp->n_audio_state;
  asr_test_ref r = {0};
  double enc_abs, log_abs;
  ASSERT_OK(asr_test_run_ref(path, pcm, n_audio, tok, N_TOK, name, &r));
  ASSERT_EQ(r.n_enc, n_enc);
  ASSERT_EQ(r.n_logits, N_TOK * V);
  double enc_rel = asr_test_rel_err(vm_asr_state_encoder_output(st), r.enc, n_enc, &enc_abs);
  double log_rel = asr_test_rel_err(logits, r.logits, N_TOK * V, &log_abs);
  printf("%s: encoder max-abs %.3g rel %.3g; logits max-abs %.3g rel %.3g\n", name, enc_abs,
         enc_rel, log_abs, log_rel);
  ASSERT(enc_rel <= 1e-4);
  ASSERT(log_rel <= 1e-4);
  asr_test_ref_free(&r);
  vm_free(logits);
  vm_free(mels);
  vm_free(pcm);
  vm_asr_state_destroy(st);
  vm_asr_mel_destroy(mel);
  vm_asr_model_destroy(m);
  vm_free(path);
  return 0;
}

static int test_tiny_dims_f16(void) {
  if (!asr_test_have_numpy()) TEST_SKIP("no python3 with numpy");
  return check_dims(384, 6, 4, VM_ASR_GTYPE_F16, "dims_tiny_f16.bin");
}

static int test_base_dims_q5_0(void) {
  if (!asr_test_have_numpy()) TEST_SKIP("no python3 with numpy");
  return check_dims(512, 8, 6, VM_ASR_GTYPE_Q5_0, "dims_base_q5_0.bin");
}

TEST_MAIN(TEST_ENTRY(test_tiny_dims_f16), TEST_ENTRY(test_base_dims_q5_0))
