/* test_asr_decode.c — Whisper's decoding rules and search on hand-built
 * logits (asr_decode.h), with the real multilingual vocabulary.
 *
 * The search is driven by a fake language model that scripts the logits
 * from each hypothesis' history and checks that every step feeds the
 * position the KV cache is at (so beam reordering is checked too).
 *
 *   ctest --test-dir build -R test_asr_decode --output-on-failure */
#include "asr/asr_test_util.h"
#include "asr_cpu_pool.h"
#include "asr_decode.h"
#include "asr_decode_impl.h"
#include "asr_model.h"
#include "asr_tokenizer.h"
#include "test.h"

static vm_asr_model *g_m;

static void model_free(void) { vm_asr_model_destroy(g_m); }

static int model_load(void) {
  if (g_m) return 0;
  vm_asr_gen_opts o;
  asr_test_tiny_opts(&o, VM_ASR_GTYPE_F32, 7);
  o.hp.n_audio_layer = o.hp.n_text_layer = 1;
  char *path = asr_test_model(&o, "dec_vocab.bin");
  vm_err err;
  int rc = path ? vm_asr_model_create_from_file(path, &g_m, &err) : -1;
  vm_free(path);
  if (rc == 0) atexit(model_free);
  return rc;
}

#define V 51865

static float g_logits[V];

static void fill(float v) {
  for (int i = 0; i < V; i++) g_logits[i] = v;
}

static vm_asr_rules *rules_make(int timestamps, int non_speech) {
  vm_asr_decode_opts o = vm_asr_decode_opts_default();
  o.timestamps = timestamps;
  o.suppress_non_speech = non_speech;
  vm_asr_rules *r = NULL;
  vm_err err;
  if (vm_asr_rules_create(g_m, &o, &r, &err) != VM_OK) return NULL;
  return r;
}

static int test_suppress(void) {
  ASSERT_OK(model_load());
  const vm_asr_special *sp = vm_asr_model_special(g_m);
  vm_asr_rules *r = rules_make(0, 0);
  ASSERT_NOT_NULL(r);
  fill(0.0f);
  vm_asr_rules_apply(r, NULL, 0, g_logits);
  ASSERT(isinf(g_logits[sp->eot]));            /* suppress blank: no end first */
  ASSERT(isinf(g_logits[220]));                /* " " */
  ASSERT(isinf(g_logits[sp->sot]) && isinf(g_logits[sp->transcribe]));
  ASSERT(isinf(g_logits[sp->lang_first + 5]) && isinf(g_logits[sp->nospeech]));
  ASSERT(isinf(g_logits[sp->timestamp_begin + 3])); /* timestamps off */
  ASSERT_EQ(g_logits[1000], 0.0f);
  int32_t one = 1000;
  fill(0.0f);
  vm_asr_rules_apply(r, &one, 1, g_logits);
  ASSERT_EQ(g_logits[sp->eot], 0.0f); /* end allowed after the first token */
  ASSERT_EQ(g_logits[220], 0.0f);
  vm_asr_rules_destroy(r);
  return 0;
}

static int test_timestamp_rules(void) {
  ASSERT_OK(model_load());
  const vm_asr_special *sp = vm_asr_model_special(g_m);
  int32_t tb = sp->timestamp_begin;
  vm_asr_rules *r = rules_make(1, 0);
  ASSERT_NOT_NULL(r);
  fill(0.0f); /* start: a timestamp <= 1.00 s only */
  vm_asr_rules_apply(r, NULL, 0, g_logits);
  ASSERT(isinf(g_logits[1000]) && isinf(g_logits[sp->eot]));
  ASSERT_EQ(g_logits[tb], 0.0f);
  ASSERT_EQ(g_logits[tb + 50], 0.0f);
  ASSERT(isinf(g_logits[tb + 51]));
  int32_t s1[2] = {tb + 10, 1000}; /* open pair: monotonic, > the last */
  fill(0.0f);
  g_logits[1000] = 10.0f; /* text likely enough not to force a timestamp */
  vm_asr_rules_apply(r, s1, 2, g_logits);
  ASSERT(isinf(g_logits[tb + 10]));
  ASSERT_EQ(g_logits[tb + 11], 0.0f);
  ASSERT_EQ(g_logits[1000], 10.0f);
  int32_t s2[3] = {tb + 10, 1000, tb + 20}; /* closing timestamp: not text */
  fill(0.0f);
  g_logits[sp->eot] = 10.0f;
  vm_asr_rules_apply(r, s2, 3, g_logits);
  ASSERT(isinf(g_logits[1000]));
  ASSERT_EQ(g_logits[sp->eot], 10.0f);
  ASSERT(isinf(g_logits[tb + 19]));
  ASSERT_EQ(g_logits[tb + 20], 0.0f); /* the pair may repeat it */
  int32_t s3[4] = {tb + 10, 1000, tb + 20, tb + 20}; /* a closed pair: text next */
  fill(0.0f);
  g_logits[1000] = 10.0f;
  vm_asr_rules_apply(r, s3, 4, g_logits);
  ASSERT(isinf(g_logits[tb + 25]));
  ASSERT_EQ(g_logits[1000], 10.0f);
  vm_asr_rules_destroy(r);
  return 0;
}

static int test_forced_timestamp(void) {
  ASSERT_OK(model_load());
  int32_t tb = vm_asr_model_special(g_m)->timestamp_begin;
  vm_asr_rules *r = rules_make(1, 0);
  ASSERT_NOT_NULL(r);
  int32_t s[2] = {tb, 1000};
  /* 1500 timestamps at 1.0 (sum e * 1500) beat one text token at 5.0 */
  fill(-20.0f);
  for (int i = tb; i < V; i++) g_logits[i] = 1.0f;
  g_logits[600] = 5.0f;
  vm_asr_rules_apply(r, s, 2, g_logits);
  ASSERT(isinf(g_logits[600]));
  ASSERT_EQ(g_logits[tb + 40], 1.0f);
  /* ... but not a text token at 20.0 */
  fill(-20.0f);
  for (int i = tb; i < V; i++) g_logits[i] = 1.0f;
  g_logits[600] = 20.0f;
  vm_asr_rules_apply(r, s, 2, g_logits);
  ASSERT_EQ(g_logits[600], 20.0f);
  vm_asr_rules_destroy(r);
  return 0;
}

static int token_of(const char *s) {
  for (int32_t id = 0; id < 50257; id++) {
    size_t len;
    const uint8_t *b = vm_asr_token_bytes(g_m, id, &len);
    if (b && len == strlen(s) && memcmp(b, s, len) == 0) return id;
  }
  return -1;
}

static int test_non_speech(void) {
  ASSERT_OK(model_load());
  vm_asr_rules *r = rules_make(1, 1);
  ASSERT_NOT_NULL(r);
  size_t n;
  const int32_t *ns = vm_asr_rules_non_speech(r, &n);
  printf("non-speech tokens: %zu\n", n);
  ASSERT_GE(n, 40);
  ASSERT_LE(n, 120);
  for (size_t i = 0; i < n; i++) {
    ASSERT(ns[i] >= 0 && ns[i] < vm_asr_model_special(g_m)->eot);
    ASSERT(vm_asr_rules_is_suppressed(r, ns[i]));
  }
  const char *must[] = {" -", "(", " (", "[", "♪", " ♪", "<<", "「"};
  for (size_t k = 0; k < sizeof must / sizeof must[0]; k++) {
    int id = token_of(must[k]);
    if (id < 0) continue; /* not a single token in this vocabulary */
    ASSERT(vm_asr_rules_is_suppressed(r, id));
  }
  ASSERT(!vm_asr_rules_is_suppressed(r, token_of(" the")));
  ASSERT(!vm_asr_rules_is_suppressed(r, token_of("!")));
  vm_asr_rules_destroy(r);
  return 0;
}

static int test_compression_ratio(void) {
  /* values from Python's zlib.compress (the reference's measure) */
  char buf[400];
  for (int i = 0; i < 100; i++) memcpy(buf + 3 * i, "abc", 3);
  ASSERT_NEAR(vm_asr_compression_ratio(buf, 300), 20.0, 1e-12);
  const char *fox = "the quick brown fox jumps over the lazy dog";
  ASSERT_NEAR(vm_asr_compression_ratio(fox, strlen(fox)), 43.0 / 50.0, 1e-12);
  char ko[400] = "";
  for (int i = 0; i < 20; i++) strcat(ko, "안녕하세요 ");
  ASSERT_NEAR(vm_asr_compression_ratio(ko, strlen(ko)), 320.0 / 30.0, 1e-12);
  ASSERT_EQ(vm_asr_compression_ratio("", 0), 0.0);
  return 0;
}

static int test_fallback_rules(void) {
  vm_asr_decode_opts o = vm_asr_decode_opts_default();
  ASSERT(!vm_asr_needs_fallback(&o, 1.5, -0.3, 0.1));
  ASSERT(vm_asr_needs_fallback(&o, 2.5, -0.3, 0.1));  /* repetitive */
  ASSERT(vm_asr_needs_fallback(&o, 1.5, -1.2, 0.1));  /* unlikely */
  ASSERT(!vm_asr_needs_fallback(&o, 1.5, -1.2, 0.7)); /* silence: skip, no fallback */
  ASSERT(vm_asr_needs_fallback(&o, 2.5, -0.5, 0.7));  /* speech that loops */
  ASSERT(vm_asr_window_is_silent(&o, -1.2, 0.7));
  ASSERT(!vm_asr_window_is_silent(&o, -0.5, 0.7)); /* confident text wins */
  ASSERT(!vm_asr_window_is_silent(&o, -1.2, 0.5));
  return 0;
}

static int test_repeat(void) {
  int32_t a[] = {5, 6, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 9};
  int st, per, cnt;
  ASSERT(vm_asr_repeat_find(a, 15, &st, &per, &cnt));
  ASSERT_EQ(st, 2);
  ASSERT_EQ(per, 3);
  ASSERT_EQ(cnt, 4);
  int n = vm_asr_repeat_cut(a, 15);
  int32_t want[] = {5, 6, 1, 2, 3, 9};
  ASSERT_EQ(n, 6);
  ASSERT(memcmp(a, want, sizeof want) == 0);
  int32_t b[] = {1, 2, 3, 1, 2, 3, 1, 2, 3, 4, 4, 4}; /* 3 copies: not a loop */
  ASSERT(!vm_asr_repeat_find(b, 12, &st, &per, &cnt));
  ASSERT_EQ(vm_asr_repeat_cut(b, 12), 12);
  int32_t c[12];
  for (int i = 0; i < 12; i++) c[i] = i < 10 ? 7 : 8; /* one token x 10 */
  ASSERT_EQ(vm_asr_repeat_cut(c, 12), 3);
  ASSERT(c[0] == 7 && c[1] == 8 && c[2] == 8);
  return 0;
}

static int test_hallucination_phrases(void) {
  ASSERT(vm_asr_text_is_hallucination("시청해주셔서 감사합니다."));
  ASSERT(vm_asr_text_is_hallucination(" Thank you for watching!"));
  ASSERT(vm_asr_text_is_hallucination("구독과 좋아요 부탁드려요"));
  ASSERT(vm_asr_text_is_hallucination("감사합니다."));
  ASSERT(!vm_asr_text_is_hallucination("도와주셔서 감사합니다. 내일 뵙겠습니다."));
  ASSERT(!vm_asr_text_is_hallucination("I said thank you to him"));
  ASSERT(!vm_asr_text_is_hallucination(""));
  return 0;
}

/* ---- The search with a scripted language model ---------------------------- */

#define NSLOT 16
#define PROMPT 3

typedef struct fake_lm {
  int32_t hist[NSLOT][64];
  int n[NSLOT];
  int bad; /* a position or copy that did not match the KV state */
  int n_steps;
  float *buf;
  void (*policy)(const int32_t *hist, int n, int win, float *logits);
} fake_lm;

static int fake_step(void *ctx, int n, const int32_t *tok, const int *win, const int *slot,
                     int n_past, const float **out, vm_err *err) {
  fake_lm *f = ctx;
  (void)err;
  f->n_steps++;
  for (int i = 0; i < n; i++) {
    int s = slot[i];
    if (n_past != PROMPT + f->n[s]) f->bad = 1;
    f->hist[s][f->n[s]++] = tok[i];
    f->policy(f->hist[s], f->n[s], win[i], f->buf + (size_t)i * V);
  }
  *out = f->buf;
  return 0;
}

static int fake_copy(void *ctx, int n, const int *dst, const int *src, int n_pos, vm_err *err) {
  fake_lm *f = ctx;
  int32_t tmp[NSLOT][64];
  int tn[NSLOT];
  (void)err;
  for (int i = 0; i < n; i++) {
    if (n_pos != PROMPT + f->n[src[i]]) f->bad = 1;
    memcpy(tmp[i], f->hist[src[i]], sizeof tmp[i]);
    tn[i] = f->n[src[i]];
  }
  for (int i = 0; i < n; i++) {
    memcpy(f->hist[dst[i]], tmp[i], sizeof tmp[i]);
    f->n[dst[i]] = tn[i];
  }
  return 0;
}

/* Window 0 wants `script0`, window 1 `script1` (then end of text). */
static int32_t g_script[2][8];
static int g_script_n[2];

static void script_policy(const int32_t *hist, int n, int win, float *lg) {
  (void)hist;
  for (int i = 0; i < V; i++) lg[i] = -10.0f;
  lg[n < g_script_n[win] ? g_script[win][n] : 50257] = 10.0f;
}

/* A 0.6 / B 0.4; after A ten tokens at 0.1; after A x or after B: end
 * (all other tokens at -30, so the log-softmax is about the log p given). */
static void beam_policy(const int32_t *hist, int n, int win, float *lg) {
  (void)win;
  for (int i = 0; i < V; i++) lg[i] = -30.0f;
  if (n == 0) {
    lg[1000] = logf(0.6f);
    lg[2000] = logf(0.4f);
  } else if (n == 1 && hist[0] == 1000) {
    for (int i = 0; i < 10; i++) lg[3000 + i] = logf(0.1f);
  } else {
    lg[50257] = 0.0f;
  }
}

/* When set, run_search hands the search this pool (lm->parallel). */
static vm_asr_pool *g_pool;

static void pool_parallel(void *ctx, size_t n, void (*fn)(void *, size_t, size_t, int),
                          void *arg) {
  (void)ctx;
  vm__asr_pool_run(g_pool, n, 1, fn, arg);
}

static int run_search(fake_lm *f, vm_asr_decode_opts *o, int n_win, double temp,
                      uint64_t seed, vm_asr_result *res) {
  vm_asr_rules *r = NULL;
  vm_err err;
  vm_asr_rng rngs[64];
  for (int w = 0; w < n_win && w < 64; w++) vm_asr_rng_seed(&rngs[w], seed + (uint64_t)w);
  if (vm_asr_rules_create(g_m, o, &r, &err) != VM_OK) return -1;
  memset(f->n, 0, sizeof f->n);
  f->bad = 0;
  f->n_steps = 0;
  float *first = vm_malloc((size_t)n_win * V * sizeof(float));
  for (int w = 0; w < n_win; w++) f->policy(NULL, 0, w, first + (size_t)w * V);
  vm_asr_lm_i lm = {f, fake_step, fake_copy, g_pool ? pool_parallel : NULL,
                    g_pool ? vm__asr_pool_n_threads(g_pool) : 1};
  int rc = vm_asr_search_run(r, o, &lm, n_win, first, PROMPT, 448, temp, rngs, res, &err);
  vm_free(first);
  vm_asr_rules_destroy(r);
  return rc;
}

static int test_search_greedy_timestamps(void) {
  ASSERT_OK(model_load());
  int32_t tb = vm_asr_model_special(g_m)->timestamp_begin;
  int32_t s0[] = {tb, 1000, 1001, tb + 30, tb + 30, 1002, tb + 60};
  int32_t s1[] = {tb + 5, 2000, tb + 100};
  memcpy(g_script[0], s0, sizeof s0);
  memcpy(g_script[1], s1, sizeof s1);
  g_script_n[0] = 7;
  g_script_n[1] = 3;
  fake_lm f = {.policy = script_policy, .buf = vm_malloc((size_t)NSLOT * V * sizeof(float))};
  vm_asr_decode_opts o = vm_asr_decode_opts_default();
  o.beam_size = 1;
  vm_asr_result res[2];
  ASSERT_OK(run_search(&f, &o, 2, 0.0, 1, res));
  ASSERT_EQ(f.bad, 0);
  ASSERT_EQ(res[0].n_tokens, 7);
  ASSERT(memcmp(res[0].tokens, s0, sizeof s0) == 0);
  ASSERT_EQ(res[1].n_tokens, 3);
  ASSERT(memcmp(res[1].tokens, s1, sizeof s1) == 0);
  ASSERT(res[0].avg_logprob < 0.0 && res[0].avg_logprob > -0.01);
  /* both windows were stepped together: 7 steps for the longer one */
  ASSERT_EQ(f.n_steps, 7);
  /* max_tokens cuts the window */
  o.max_tokens = 4;
  vm_asr_result_deinit(&res[0]);
  vm_asr_result_deinit(&res[1]);
  ASSERT_OK(run_search(&f, &o, 1, 0.0, 1, res));
  ASSERT_EQ(res[0].n_tokens, 4);
  vm_asr_result_deinit(&res[0]);
  vm_free(f.buf);
  return 0;
}

static int test_search_beam_vs_greedy(void) {
  ASSERT_OK(model_load());
  fake_lm f = {.policy = beam_policy, .buf = vm_malloc((size_t)NSLOT * V * sizeof(float))};
  vm_asr_decode_opts o = vm_asr_decode_opts_default();
  o.timestamps = 0;
  vm_asr_result res[2];
  o.beam_size = 1; /* greedy takes the likelier first token, then pays for it */
  ASSERT_OK(run_search(&f, &o, 1, 0.0, 1, res));
  ASSERT_EQ(res[0].n_tokens, 2);
  ASSERT_EQ(res[0].tokens[0], 1000);
  ASSERT_NEAR(res[0].sum_logprob, log(0.6) + log(0.1), 1e-4);
  vm_asr_result_deinit(&res[0]);
  o.beam_size = 5; /* beam search finds B, end (score -0.92 > -1.41) */
  ASSERT_OK(run_search(&f, &o, 2, 0.0, 1, res));
  ASSERT_EQ(f.bad, 0);
  for (int w = 0; w < 2; w++) {
    ASSERT_EQ(res[w].n_tokens, 1);
    ASSERT_EQ(res[w].tokens[0], 2000);
    ASSERT_NEAR(res[w].sum_logprob, log(0.4), 1e-4);
    ASSERT_NEAR(res[w].avg_logprob, log(0.4) / 2, 1e-4);
    vm_asr_result_deinit(&res[w]);
  }
  vm_free(f.buf);
  return 0;
}

/* The beams' candidate selection: largest first, lower id first among
 * equal values, -inf never, fewer when fewer are finite; against a
 * selection by repeated scans (the reference's order). */
static int test_top_k(void) {
  float x[300];
  int32_t top[8], want[8];
  uint64_t g = 12345;
  for (int trial = 0; trial < 200; trial++) {
    int n = 1 + trial % 300, k = 1 + trial % 8;
    for (int i = 0; i < n; i++) {
      g = g * 6364136223846793005ull + 1442695040888963407ull;
      int r = (int)(g >> 59); /* 0..31: few distinct values, many ties */
      x[i] = r < 6 ? -INFINITY : (float)(r % 7) - 3.0f;
    }
    int m = 0;
    for (; m < k; m++) { /* repeated scans: the largest not taken, lowest id */
      int32_t best = -1;
      for (int32_t i = 0; i < n; i++) {
        if (x[i] == -INFINITY || (best >= 0 && x[i] <= x[best])) continue;
        int taken = 0;
        for (int c = 0; c < m; c++) taken |= want[c] == i;
        if (!taken) best = i;
      }
      if (best < 0) break;
      want[m] = best;
    }
    ASSERT_EQ(vm__asr_top_k(x, n, k, top), m);
    ASSERT(memcmp(top, want, (size_t)m * sizeof *top) == 0);
  }
  float ties[5] = {1, 1, 1, 1, 1};
  ASSERT_EQ(vm__asr_top_k(ties, 5, 3, top), 3);
  ASSERT(top[0] == 0 && top[1] == 1 && top[2] == 2);
  float none[2] = {-INFINITY, -INFINITY};
  ASSERT_EQ(vm__asr_top_k(none, 2, 3, top), 0);
  return 0;
}

static int test_search_sampling(void) {
  ASSERT_OK(model_load());
  fake_lm f = {.policy = beam_policy, .buf = vm_malloc((size_t)NSLOT * V * sizeof(float))};
  vm_asr_decode_opts o = vm_asr_decode_opts_default();
  o.timestamps = 0;
  o.best_of = 1;
  vm_asr_result res[1];
  int n_a = 0, n = 300;
  for (int k = 0; k < n; k++) {
    ASSERT_OK(run_search(&f, &o, 1, 1.0, (uint64_t)k + 1, res));
    n_a += res[0].tokens[0] == 1000;
    ASSERT_EQ(res[0].temperature, 1.0);
    vm_asr_result_deinit(&res[0]);
  }
  printf("sampled A %d / %d (p 0.6)\n", n_a, n);
  ASSERT(n_a > 0.5 * n && n_a < 0.7 * n);
  /* best of 5: the normalised-score ranking prefers B, end */
  o.best_of = 5;
  ASSERT_OK(run_search(&f, &o, 1, 1.0, 3, res));
  ASSERT_EQ(f.bad, 0);
  ASSERT_EQ(res[0].tokens[0], 2000);
  vm_asr_result_deinit(&res[0]);
  vm_free(f.buf);
  return 0;
}

/* The search's filtering on several threads (lm->parallel) gives the same
 * results as on one: beams (3 windows x 5), best-of-5 sampling (each
 * window its own generator) and greedy over 12 windows. */
static int test_search_parallel_same(void) {
  ASSERT_OK(model_load());
  fake_lm f = {.policy = beam_policy, .buf = vm_malloc((size_t)NSLOT * V * sizeof(float))};
  vm_asr_decode_opts o = vm_asr_decode_opts_default();
  o.timestamps = 0;
  static const struct { int beam, best_of, n_win; double temp; } cases[] = {
      {5, 5, 3, 0.0}, {5, 5, 3, 1.0}, {1, 1, 12, 0.0}, {1, 1, 12, 0.7}};
  vm_asr_result one[12], many[12];
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    o.beam_size = cases[c].beam;
    o.best_of = cases[c].best_of;
    int n = cases[c].n_win;
    g_pool = NULL;
    ASSERT_OK(run_search(&f, &o, n, cases[c].temp, 9, one));
    ASSERT_OK(vm__asr_pool_create(3, &g_pool));
    int rc = run_search(&f, &o, n, cases[c].temp, 9, many);
    vm__asr_pool_destroy(g_pool);
    g_pool = NULL;
    ASSERT_OK(rc);
    ASSERT_EQ(f.bad, 0);
    for (int w = 0; w < n; w++) {
      ASSERT_EQ(one[w].n_tokens, many[w].n_tokens);
      ASSERT(memcmp(one[w].tokens, many[w].tokens, (size_t)one[w].n_tokens * 4) == 0);
      ASSERT(one[w].sum_logprob == many[w].sum_logprob);
      vm_asr_result_deinit(&one[w]);
      vm_asr_result_deinit(&many[w]);
    }
  }
  vm_free(f.buf);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_suppress), TEST_ENTRY(test_timestamp_rules), TEST_ENTRY(test_top_k),
          TEST_ENTRY(test_search_parallel_same),
          TEST_ENTRY(test_forced_timestamp), TEST_ENTRY(test_non_speech),
          TEST_ENTRY(test_compression_ratio), TEST_ENTRY(test_fallback_rules),
          TEST_ENTRY(test_repeat), TEST_ENTRY(test_hallucination_phrases),
          TEST_ENTRY(test_search_greedy_timestamps), TEST_ENTRY(test_search_beam_vs_greedy),
          TEST_ENTRY(test_search_sampling))
