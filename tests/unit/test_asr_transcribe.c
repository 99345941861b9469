/* test_asr_transcribe.c — the transcription engine on random-weight models
 * (vm_asr_model_write_random, "tiny-random" dims, real vocabulary).
 *
 *  - greedy decoding of a 5 s window gives exactly the tokens of the
 *    float64 reference (tests/asr/ref_whisper.py --greedy), which applies
 *    its own implementation of the logit rules;
 *  - chunks decoded in one batched forward give the same tokens as each
 *    chunk alone (greedy and beam search);
 *  - long-form audio (45 s) is decoded window by window with seeking;
 *  - the chunk API places segments at their offsets in the right files and
 *    rejects bad chunks; bad models and options fail with clear codes.
 * The reference comparison skips (77) without python3 + numpy.
 *
 *   ctest --test-dir build -R test_asr_transcribe --output-on-failure */
#include "asr/asr_test_util.h"
#include "asr_decode_impl.h"
#include "asr_mel.h"
#include "asr_model.h"
#include "asr_tokenizer.h"
#include "asr_transcribe.h"
#include "test.h"

static char *g_path;

static void path_free(void) { vm_free(g_path); }

static const char *model_path(void) {
  if (g_path) return g_path;
  vm_asr_gen_opts o;
  asr_test_tiny_opts(&o, VM_ASR_GTYPE_F32, 42);
  g_path = asr_test_model(&o, "tr_f32.bin");
  atexit(path_free);
  return g_path;
}

static vm_asr_opts greedy_opts(int max_tokens) {
  vm_asr_opts o = vm_asr_opts_default();
  o.language = "ko";
  o.dec.beam_size = 1;
  o.dec.max_tokens = max_tokens;
  o.temperature_inc = 0.0;
  return o;
}

static int engine_make(int batch, int cand, vm_asr_engine **out) {
  vm_asr_engine_opts eo = vm_asr_engine_opts_default();
  eo.n_threads = 2;
  eo.n_batch_max = batch;
  eo.max_cand = cand;
  vm_err err;
  int rc = vm_asr_engine_create(model_path(), &eo, out, &err);
  if (rc) fprintf(stderr, "engine: %s\n", vm_err_text(&err));
  return rc;
}

/* Runs the reference's greedy decoding. OUT: toks (n), sum logprob, margin. */
static int ref_greedy(const float *pcm, size_t n, const int32_t *prompt, int n_prompt,
                      int n_max, int n_beam, int32_t *toks, int *out_n, double *sum,
                      double *margin) {
  char pcm_path[512], out_path[512], cmd[4096], pr[1024] = "";
  snprintf(pcm_path, sizeof pcm_path, "%s/asr_test/greedy.f32", VM_BINARY_DIR);
  snprintf(out_path, sizeof out_path, "%s/asr_test/greedy.txt", VM_BINARY_DIR);
  FILE *f = fopen(pcm_path, "wb");
  if (!f) return -1;
  fwrite(pcm, sizeof(float), n, f);
  fclose(f);
  for (int i = 0; i < n_prompt; i++)
    snprintf(pr + strlen(pr), sizeof pr - strlen(pr), "%s%d", i ? "," : "", prompt[i]);
  snprintf(cmd, sizeof cmd, "%s %s %s --audio %s --prompt %s --greedy %d --beam %d --out %s",
           VM_PYTHON_BIN, ASR_TEST_REF, model_path(), pcm_path, pr, n_max, n_beam, out_path);
  if (system(cmd) != 0 || !(f = fopen(out_path, "r"))) return -1;
  char line[8192];
  int k = 0;
  if (!fgets(line, sizeof line, f)) k = -1;
  for (char *p = line; k >= 0 && *p && *p != '\n';) {
    toks[k++] = (int32_t)strtol(p, &p, 10);
    if (*p == ',') p++;
  }
  if (k < 0 || fscanf(f, "%lf %lf", sum, margin) != 2) k = -1;
  fclose(f);
  *out_n = k;
  return k < 0 ? -1 : 0;
}

/* Decodes a 5 s window with n_beam beams (1 = greedy) for up to n_max
 * tokens, after n_prev tokens of previous text (0: none), and compares
 * with the reference. */
static int check_reference(int n_beam, int n_max, int audio_kind, int n_prev) {
  if (!asr_test_have_numpy()) TEST_SKIP("no python3 with numpy");
  ASSERT_NOT_NULL(model_path());
  vm_asr_engine *e = NULL;
  ASSERT_OK(engine_make(1, n_beam, &e));
  const vm_asr_special *sp = vm_asr_model_special(vm_asr_engine_model(e));
  size_t n = 16000 * 5;
  float *pcm = asr_test_audio(audio_kind, n);
  vm_asr_opts o = greedy_opts(n_max);
  o.dec.beam_size = n_beam;
  int32_t prev[48];
  for (int i = 0; i < n_prev && i < 48; i++) prev[i] = 1000 + 37 * i; /* any text tokens */
  vm_asr_chunk ch = {0, 0.0, pcm, n};
  vm_asr_result res;
  double nsp;
  int lang;
  vm_err err;
  ASSERT_OK(vm__asr_engine_decode(e, &ch, 1, prev, n_prev, &o, &res, &nsp, &lang, &err));
  int32_t prompt[64], ref[64];
  int n_ref, np = 0;
  if (n_prev > 0) prompt[np++] = sp->prev;
  for (int i = 0; i < n_prev; i++) prompt[np++] = prev[i];
  prompt[np++] = sp->sot;
  prompt[np++] = sp->lang_first + 5;
  prompt[np++] = sp->transcribe;
  double sum, margin;
  ASSERT_OK(ref_greedy(pcm, n, prompt, np, n_max, n_beam, ref, &n_ref, &sum, &margin));
  printf("beam %d: engine %d tokens, reference %d; sum logprob %.6f vs %.6f; smallest "
         "margin %.3g\n", n_beam, res.n_tokens, n_ref, res.sum_logprob, sum, margin);
  ASSERT_GE(res.n_tokens, 2);
  for (int i = 0; i < res.n_tokens; i++) printf("%d%s", res.tokens[i], i + 1 < res.n_tokens ? "," : "\n");
  ASSERT_EQ(res.n_tokens, n_ref);
  for (int i = 0; i < n_ref; i++) ASSERT_EQ(res.tokens[i], ref[i]);
  ASSERT_NEAR(res.sum_logprob, sum, 1e-3 * fabs(sum) + 1e-4);
  ASSERT_EQ(lang, 5);
  ASSERT(nsp >= 0.0 && nsp <= 1.0);
  vm_asr_result_deinit(&res);
  vm_free(pcm);
  vm_asr_engine_destroy(e);
  return 0;
}

static int test_greedy_matches_reference(void) { return check_reference(1, 24, 0, 0); }
static int test_beam_matches_reference(void) { return check_reference(3, 12, 1, 0); }
/* 40 tokens of previous text: the prompt is decoded in two pieces */
static int test_prompt_matches_reference(void) { return check_reference(1, 16, 1, 40); }

/* The same 3 chunks decoded in one batch and one by one. */
static int batch_vs_single(int beam) {
  ASSERT_NOT_NULL(model_path());
  vm_asr_engine *eb = NULL, *e1 = NULL;
  ASSERT_OK(engine_make(3, beam, &eb));
  ASSERT_OK(engine_make(1, beam, &e1));
  size_t len[3] = {16000 * 5, 16000 * 12, 16000 * 30};
  float *pcm[3] = {asr_test_audio(0, len[0]), asr_test_audio(1, len[1]),
                   asr_test_audio(1, len[2])};
  vm_asr_chunk ch[3] = {{0, 0, pcm[0], len[0]}, {0, 5, pcm[1], len[1]}, {1, 0, pcm[2], len[2]}};
  vm_asr_opts o = greedy_opts(20);
  o.language = NULL; /* detected per chunk, in the batch too */
  o.dec.beam_size = beam;
  vm_asr_result rb[3], r1;
  double nsp_b[3], nsp1;
  int lang_b[3], lang1;
  vm_err err;
  ASSERT_OK(vm__asr_engine_decode(eb, ch, 3, NULL, 0, &o, rb, nsp_b, lang_b, &err));
  ASSERT_EQ(vm__asr_engine_n_windows(eb), 3);
  for (int c = 0; c < 3; c++) {
    ASSERT_OK(vm__asr_engine_decode(e1, &ch[c], 1, NULL, 0, &o, &r1, &nsp1, &lang1, &err));
    printf("beam %d chunk %d: %d tokens (batched %d), lang %d\n", beam, c, r1.n_tokens,
           rb[c].n_tokens, lang1);
    ASSERT_EQ(lang_b[c], lang1);
    ASSERT_NEAR(nsp_b[c], nsp1, 1e-5);
    ASSERT_EQ(rb[c].n_tokens, r1.n_tokens);
    for (int i = 0; i < r1.n_tokens; i++)
      if (rb[c].tokens[i] != r1.tokens[i]) printf("chunk %d differs at %d: lp %g vs %g\n", c, i, rb[c].logprobs[i], r1.logprobs[i]);
    for (int i = 0; i < r1.n_tokens; i++) ASSERT_EQ(rb[c].tokens[i], r1.tokens[i]);
    ASSERT_NEAR(rb[c].avg_logprob, r1.avg_logprob, 1e-4);
    vm_asr_result_deinit(&r1);
    vm_asr_result_deinit(&rb[c]);
  }
  for (int c = 0; c < 3; c++) vm_free(pcm[c]);
  vm_asr_engine_destroy(eb);
  vm_asr_engine_destroy(e1);
  return 0;
}

static int test_batched_equals_single_greedy(void) { return batch_vs_single(1); }
static int test_batched_equals_single_beam(void) { return batch_vs_single(3); }

/* The temperature ladder on a real decode: always "too repetitive" walks
 * 0, 0.2 ... 1.0 and keeps the last; never failing stays at 0. */
static int test_fallback_ladder(void) {
  ASSERT_NOT_NULL(model_path());
  vm_asr_engine *e = NULL;
  ASSERT_OK(engine_make(2, 2, &e));
  size_t n = 16000 * 4;
  float *pcm = asr_test_audio(0, n);
  vm_asr_chunk ch[2] = {{0, 0, pcm, n}, {0, 4, pcm, n / 2}};
  vm_asr_opts o = greedy_opts(8);
  o.temperature_inc = 0.2;
  o.dec.best_of = 2;
  o.dec.no_speech_thold = 1.0;
  o.dec.compression_ratio_thold = -1.0; /* every window "fails" */
  vm_asr_result res[2];
  double nsp[2];
  int lang[2];
  vm_err err;
  ASSERT_OK(vm__asr_engine_decode(e, ch, 2, NULL, 0, &o, res, nsp, lang, &err));
  for (int c = 0; c < 2; c++) {
    ASSERT_NEAR(res[c].temperature, 1.0, 1e-9);
    ASSERT_GE(res[c].n_tokens, 1);
    vm_asr_result_deinit(&res[c]);
  }
  o.dec.compression_ratio_thold = 1e9;
  o.dec.logprob_thold = -1e9; /* nothing fails */
  ASSERT_OK(vm__asr_engine_decode(e, ch, 2, NULL, 0, &o, res, nsp, lang, &err));
  for (int c = 0; c < 2; c++) {
    ASSERT_EQ(res[c].temperature, 0.0);
    vm_asr_result_deinit(&res[c]);
  }
  vm_free(pcm);
  vm_asr_engine_destroy(e);
  return 0;
}

static int check_transcript(const vm_transcript *t, double t_max) {
  for (size_t i = 0; i < t->n_segments; i++) {
    const vm_tr_segment *s = &t->segments[i];
    ASSERT(s->start_s >= 0.0 && s->end_s >= s->start_s && s->end_s <= t_max + 1e-9);
    if (i) ASSERT(s->start_s >= t->segments[i - 1].start_s);
    ASSERT(s->text[0] != '\0');
    ASSERT(s->asr.tokens && s->asr.n_tokens > 0);
    ASSERT(s->asr.temperature >= 0.0 && s->asr.temperature <= 1.0);
    ASSERT(s->asr.no_speech_prob >= 0.0 && s->asr.no_speech_prob <= 1.0);
    ASSERT(s->asr.avg_logprob <= 0.0);
    ASSERT(s->asr.compression_ratio >= 0.0);
  }
  return 0;
}

static int test_longform_seek(void) {
  ASSERT_NOT_NULL(model_path());
  vm_asr_engine *e = NULL;
  ASSERT_OK(engine_make(1, 2, &e));
  size_t n = 16000 * 45;
  float *pcm = asr_test_audio(1, n);
  vm_asr_opts o = vm_asr_opts_default();
  o.dec.beam_size = 2;
  o.dec.best_of = 2;
  o.dec.max_tokens = 16;
  o.dec.no_speech_thold = 1.0; /* a random model is never "silent" */
  vm_transcript *t = NULL;
  vm_err err;
  ASSERT_OK(vm_asr_transcribe_file(e, pcm, n, &o, &t, &err));
  long nw = vm__asr_engine_n_windows(e);
  printf("45 s: %ld windows, %zu segments, language %s\n", nw, t->n_segments,
         t->language ? t->language : "?");
  ASSERT_GE(nw, 2);   /* 45 s needs at least two 30 s windows */
  ASSERT_LE(nw, 200); /* and every window moves forward */
  ASSERT_NOT_NULL(t->language);
  ASSERT_STR_EQ(t->source, "whisper");
  if (check_transcript(t, 45.0)) return 1;
  vm_transcript_destroy(t);
  /* no audio: an empty transcript */
  ASSERT_OK(vm_asr_transcribe_file(e, pcm, 0, &o, &t, &err));
  ASSERT_EQ(t->n_segments, 0);
  vm_transcript_destroy(t);
  vm_free(pcm);
  vm_asr_engine_destroy(e);
  return 0;
}

static int test_chunks_api(void) {
  ASSERT_NOT_NULL(model_path());
  vm_asr_engine *e = NULL;
  ASSERT_OK(engine_make(2, 1, &e));
  size_t n = 16000 * 8;
  float *pcm = asr_test_audio(0, n);
  vm_asr_chunk ch[3] = {{1, 100.0, pcm, n}, {0, 3.0, pcm, n}, {1, 20.0, pcm, n}};
  vm_asr_opts o = greedy_opts(16);
  o.dec.no_speech_thold = 1.0;
  vm_transcript *outs[2];
  vm_err err;
  int crc = vm_asr_transcribe_chunks(e, ch, 3, &o, 2, outs, &err);
  if (crc) printf("chunks: %s\n", vm_err_text(&err));
  ASSERT_OK(crc);
  ASSERT_EQ(vm__asr_engine_n_windows(e), 3);
  printf("file 0: %zu segments, file 1: %zu\n", outs[0]->n_segments, outs[1]->n_segments);
  for (size_t i = 0; i < outs[0]->n_segments; i++) {
    ASSERT(outs[0]->segments[i].start_s >= 3.0);
    ASSERT(outs[0]->segments[i].end_s <= 11.0 + 1e-9);
  }
  for (size_t i = 0; i < outs[1]->n_segments; i++) {
    double s0 = outs[1]->segments[i].start_s;
    ASSERT((s0 >= 20.0 && s0 <= 28.0) || (s0 >= 100.0 && s0 <= 108.0));
  }
  if (check_transcript(outs[1], 108.0)) return 1;
  ASSERT_STR_EQ(outs[0]->language, "ko");
  for (int f = 0; f < 2; f++) vm_transcript_destroy(outs[f]);
  /* bad chunks */
  vm_asr_chunk bad_file = {2, 0.0, pcm, n};
  ASSERT_EQ(vm_asr_transcribe_chunks(e, &bad_file, 1, &o, 2, outs, &err), VM_EINVAL);
  ASSERT_NULL(outs[0]);
  vm_asr_chunk too_long = {0, 0.0, pcm, VM_ASR_CHUNK_SAMPLES + 1};
  ASSERT_EQ(vm_asr_transcribe_chunks(e, &too_long, 1, &o, 1, outs, &err), VM_EINVAL);
  vm_asr_chunk neg = {0, -1.0, pcm, n};
  ASSERT_EQ(vm_asr_transcribe_chunks(e, &neg, 1, &o, 1, outs, &err), VM_EINVAL);
  vm_free(pcm);
  vm_asr_engine_destroy(e);
  return 0;
}

static int test_bad_model_and_options(void) {
  vm_asr_engine_opts eo = vm_asr_engine_opts_default();
  vm_asr_engine *e = NULL;
  vm_err err;
  ASSERT_EQ(vm_asr_engine_create("/nonexistent/ggml.bin", &eo, &e, &err), VM_ENOENT);
  ASSERT_NULL(e);
  char bad[512];
  snprintf(bad, sizeof bad, "%s/asr_test/not_a_model.bin", VM_BINARY_DIR);
  (void)vm_fs_mkdir_p(VM_BINARY_DIR "/asr_test", NULL);
  FILE *f = fopen(bad, "wb");
  ASSERT_NOT_NULL(f);
  fputs("this is not a whisper model, just some text\n", f);
  fclose(f);
  ASSERT_EQ(vm_asr_engine_create(bad, &eo, &e, &err), VM_EMODEL);
  printf("bad model: %s\n", vm_err_text(&err));
  ASSERT_NULL(e);
  ASSERT_OK(engine_make(1, 2, &e));
  size_t n = 16000;
  float *pcm = asr_test_audio(0, n);
  vm_transcript *t = NULL;
  vm_asr_opts o = vm_asr_opts_default(); /* beam 5 > the engine's 2 */
  ASSERT_EQ(vm_asr_transcribe_file(e, pcm, n, &o, &t, &err), VM_EINVAL);
  ASSERT_STR_CONTAINS(vm_err_text(&err), "beam");
  o = greedy_opts(8);
  o.language = "xx";
  ASSERT_EQ(vm_asr_transcribe_file(e, pcm, n, &o, &t, &err), VM_EINVAL);
  ASSERT_STR_CONTAINS(vm_err_text(&err), "xx");
  ASSERT_NULL(t);
  atomic_int stop = 1; /* canceled before the first window / batch */
  o = greedy_opts(8);
  o.cancel = &stop;
  ASSERT_EQ(vm_asr_transcribe_file(e, pcm, n, &o, &t, &err), VM_ECANCELED);
  ASSERT_NULL(t);
  vm_transcript *outs[1];
  vm_asr_chunk ch = {0, 0.0, pcm, n};
  ASSERT_EQ(vm_asr_transcribe_chunks(e, &ch, 1, &o, 1, outs, &err), VM_ECANCELED);
  ASSERT_NULL(outs[0]);
  vm_free(pcm);
  vm_asr_engine_destroy(e);
  return 0;
}

/* Every allocation of a transcription failing in turn: VM_ENOMEM (or
 * success once the failure point is past the end), never a crash or leak. */
static int test_out_of_memory(void) {
  vm_asr_gen_opts go; /* a small encoder (64 positions) keeps 200 runs cheap */
  asr_test_tiny_opts(&go, VM_ASR_GTYPE_F32, 11);
  go.hp.n_audio_ctx = 64;
  go.hp.n_audio_layer = go.hp.n_text_layer = 1;
  char *small = asr_test_model(&go, "tr_small.bin");
  ASSERT_NOT_NULL(small);
  vm_asr_engine_opts eo = vm_asr_engine_opts_default();
  eo.n_batch_max = 2;
  eo.max_cand = 2;
  vm_asr_engine *e = NULL;
  vm_err cerr;
  ASSERT_OK(vm_asr_engine_create(small, &eo, &e, &cerr));
  vm_free(small);
  size_t n = 16000 * 2;
  float *pcm = asr_test_audio(0, n);
  vm_asr_opts o = greedy_opts(6);
  o.dec.beam_size = 2;
  o.dec.best_of = 2;
  o.temperature_inc = 0.5;
  o.dec.compression_ratio_thold = -1.0; /* walk the ladder too */
  vm_asr_chunk ch[2] = {{0, 0, pcm, n}, {1, 3, pcm, n / 2}};
  int done = 0, n_fail = 0;
  for (long k = 0; k < 5000 && !done; k++) {
    vm_transcript *t = NULL, *outs[2] = {NULL, NULL};
    vm_err err;
    vm_alloc_fail_after(k);
    int rc1 = vm_asr_transcribe_file(e, pcm, n, &o, &t, &err);
    vm_alloc_fail_after(k);
    int rc2 = vm_asr_transcribe_chunks(e, ch, 2, &o, 2, outs, &err);
    vm_alloc_fail_after(-1);
    ASSERT(rc1 == VM_OK || rc1 == VM_ENOMEM);
    ASSERT(rc2 == VM_OK || rc2 == VM_ENOMEM);
    ASSERT((rc1 == VM_OK) == (t != NULL));
    ASSERT((rc2 == VM_OK) == (outs[0] != NULL && outs[1] != NULL));
    n_fail += (rc1 != VM_OK) + (rc2 != VM_OK);
    done = rc1 == VM_OK && rc2 == VM_OK;
    vm_transcript_destroy(t);
    vm_transcript_destroy(outs[0]);
    vm_transcript_destroy(outs[1]);
  }
  printf("%d injected failures handled\n", n_fail);
  ASSERT(done);
  ASSERT_GT(n_fail, 20);
  vm_free(pcm);
  vm_asr_engine_destroy(e);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_greedy_matches_reference), TEST_ENTRY(test_beam_matches_reference),
          TEST_ENTRY(test_prompt_matches_reference), TEST_ENTRY(test_fallback_ladder),
          TEST_ENTRY(test_batched_equals_single_greedy),
          TEST_ENTRY(test_batched_equals_single_beam), TEST_ENTRY(test_longform_seek),
          TEST_ENTRY(test_chunks_api), TEST_ENTRY(test_bad_model_and_options),
          TEST_ENTRY(test_out_of_memory))
