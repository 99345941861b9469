/* test_asr_forward_seqs.c — the sequence API of the forward pass
 * (vm_asr_state_decode_seqs, vm_asr_state_kv_copy) against the batch API
 * (vm_asr_state_decode), which test_asr_forward checks against the
 * float64 reference.
 *
 * Two chunks are encoded; sequences are mapped to chunks and KV slots in a
 * scrambled order; the last-position logits must equal the batch decode's
 * (same maths, per-sequence attention) to 1e-5 relative; a KV copy between
 * slots followed by a step must equal decoding the copied history.
 *
 *   ctest --test-dir build -R test_asr_forward_seqs --output-on-failure */
#include "asr/asr_test_util.h"
#include "asr_forward.h"
#include "asr_mel.h"
#include "asr_model.h"
#include "test.h"

static double rel_diff(const float *a, const float *b, size_t n) {
  double md = 0.0, mb = 0.0;
  for (size_t i = 0; i < n; i++) {
    md = fmax(md, fabs((double)a[i] - (double)b[i]));
    mb = fmax(mb, fabs((double)b[i]));
  }
  return mb > 0 ? md / mb : md;
}

static int test_seqs_match_batch(void) {
  vm_asr_gen_opts go;
  asr_test_tiny_opts(&go, VM_ASR_GTYPE_F32, 5);
  char *path = asr_test_model(&go, "seqs_f32.bin");
  ASSERT_NOT_NULL(path);
  vm_asr_model *m = NULL;
  vm_asr_mel *mel = NULL;
  vm_asr_state *st = NULL;
  vm_err err;
  ASSERT_OK(vm_asr_model_create_from_file(path, &m, &err));
  const vm_asr_hparams *hp = vm_asr_model_hparams(m);
  const vm_asr_special *sp = vm_asr_model_special(m);
  size_t per = (size_t)hp->n_mels * VM_ASR_CHUNK_FRAMES, V = (size_t)hp->n_vocab;
  size_t n_audio = 16000 * 6;
  float *pcm[2] = {asr_test_audio(0, n_audio), asr_test_audio(1, n_audio)};
  float *mels = vm_malloc(2 * per * sizeof(float));
  ASSERT_OK(vm_asr_mel_create(vm_asr_model_mel_filters(m), hp->n_mels, &mel));
  for (int b = 0; b < 2; b++)
    ASSERT_OK(vm_asr_mel_compute(mel, pcm[b], n_audio, mels + (size_t)b * per,
                                 VM_ASR_CHUNK_FRAMES));
  vm_asr_state_opts so = {2, 2, 4, "cpu", 5};
  ASSERT_OK(vm_asr_state_create(m, &so, &st, &err));
  ASSERT_OK(vm_asr_state_encode(st, mels, 2, &err));
  /* reference: batch decode of a 3-token prompt then one step, per chunk */
  int32_t prompt[6] = {sp->sot, sp->lang_first + 5, sp->transcribe,
                       sp->sot, sp->lang_first, sp->transcribe};
  int32_t step[2] = {1000, 2000};
  ASSERT_OK(vm_asr_state_decode(st, prompt, 3, 0, &err));
  float *want_p = vm_malloc(2 * V * sizeof(float)), *want_s = vm_malloc(2 * V * sizeof(float));
  for (int b = 0; b < 2; b++)
    memcpy(want_p + (size_t)b * V, vm_asr_state_logits(st) + ((size_t)b * 3 + 2) * V,
           V * sizeof(float));
  ASSERT_OK(vm_asr_state_decode(st, step, 1, 3, &err));
  memcpy(want_s, vm_asr_state_logits(st), 2 * V * sizeof(float));
  /* sequences: chunk 1 in slot 4, chunk 0 in slot 2 */
  int chunk[2] = {1, 0}, slot[2] = {4, 2};
  int32_t sp_tok[6] = {prompt[3], prompt[4], prompt[5], prompt[0], prompt[1], prompt[2]};
  ASSERT_OK(vm_asr_state_decode_seqs(st, 2, sp_tok, 3, 0, chunk, slot, &err));
  const float *got = vm_asr_state_seq_logits(st);
  double d1 = rel_diff(got, want_p + V, V), d0 = rel_diff(got + V, want_p, V);
  printf("prompt logits: rel diff %.3g %.3g\n", d1, d0);
  ASSERT(d1 <= 1e-5 && d0 <= 1e-5);
  /* copy slot 2 (chunk 0's history) to slots 0 and 3, then step all three */
  int dst[2] = {0, 3}, src[2] = {2, 2};
  ASSERT_OK(vm_asr_state_kv_copy(st, 2, dst, src, 3, &err));
  int chunk3[3] = {0, 0, 1}, slot3[3] = {3, 0, 4};
  int32_t tok3[3] = {1000, 1000, 2000};
  ASSERT_OK(vm_asr_state_decode_seqs(st, 3, tok3, 1, 3, chunk3, slot3, &err));
  got = vm_asr_state_seq_logits(st);
  double s0 = rel_diff(got, want_s, V), s1 = rel_diff(got + V, want_s, V);
  double s2 = rel_diff(got + 2 * V, want_s + V, V);
  printf("step logits after KV copy: rel diff %.3g %.3g %.3g\n", s0, s1, s2);
  ASSERT(s0 <= 1e-5 && s1 <= 1e-5 && s2 <= 1e-5);
  /* bad arguments */
  int dup[2] = {1, 1};
  ASSERT_EQ(vm_asr_state_decode_seqs(st, 2, step, 1, 3, chunk, dup, &err), VM_EINVAL);
  int far[2] = {0, 2};
  ASSERT_EQ(vm_asr_state_decode_seqs(st, 2, step, 1, 3, far, slot, &err), VM_EINVAL);
  ASSERT_EQ(vm_asr_state_decode_seqs(st, 6, step, 1, 3, chunk, NULL, &err), VM_EINVAL);
  int bad_slot[1] = {5};
  ASSERT_EQ(vm_asr_state_kv_copy(st, 1, bad_slot, src, 3, &err), VM_EINVAL);
  vm_free(want_p);
  vm_free(want_s);
  vm_free(mels);
  vm_free(pcm[0]);
  vm_free(pcm[1]);
  vm_asr_state_destroy(st);
  vm_asr_mel_destroy(mel);
  vm_asr_model_destroy(m);
  vm_free(path);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_seqs_match_batch))
