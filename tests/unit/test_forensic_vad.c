/* VAD and chunker: frame accuracy on espeak-ng conversations with known
 * turns, pauses, silence, and the chunking contract (<= 30 s, cuts only in
 * pauses unless flagged forced, exact offsets).
 *
 * Build & run: cmake --build build --target test_forensic_vad &&
 *              build/tests/test_forensic_vad [test_name] */
#include "chunker.h"
#include "diar/diar_testkit.h"
#include "test.h"
#include "vad.h"

static const tk_voice V_A = {"-v ko -p 20 -s 130"};
static const tk_voice V_B = {"-v en-gb+f2 -p 75 -s 175"};
static const char *TEXT[] = {
  "오늘 오후 세 시까지 계좌로 돈을 보내 주셔야 합니다",
  "I really do not understand why you keep calling me about this",
  "확인해 보니 고객님 명의로 대출이 신청되어 있습니다",
  "Please send me the documents by email and I will check them tonight",
};
static tk_sig g_u[4];
static int g_ready;

static int load(void) {
  if (g_ready) return g_ready > 0 ? 0 : -1;
  g_ready = -1;
  if (system("espeak-ng --version >/dev/null 2>&1") != 0) return -1;
  for (int i = 0; i < 4; i++) {
    g_u[i] = tk_say(i % 2 ? &V_B : &V_A, TEXT[i]);
    if (!g_u[i].x) return -1;
  }
  g_ready = 1;
  return 0;
}

/* n_turns alternating turns with gaps cycling through a fixed list. */
static int build(size_t n_turns, tk_convo *c) {
  static const double gaps[] = {0.8, 0.5, 1.5, 0.6, 3.0, 0.4};
  tk_turn_plan p[TK_MAX_TURNS];
  for (size_t i = 0; i < n_turns; i++) p[i] = (tk_turn_plan){&g_u[i % 4], (int)(i % 2), gaps[i % 6]};
  return tk_convo_build(p, n_turns, 1.0, c);
}

static int test_silence(void) {
  static float x[TK_RATE * 5];
  for (int pass = 0; pass < 2; pass++) {
    if (pass) /* steady low noise is silence too */
      for (size_t i = 0; i < TK_RATE * 5; i++) x[i] = (float)(1e-3 * sin(i * 1.7) * cos(i * 0.31));
    vm_vad_result *v = NULL;
    ASSERT_OK(vm_vad_run(x, TK_RATE * 5, TK_RATE, NULL, &v));
    ASSERT_EQ(v->n_regions, 0);
    ASSERT_EQ(v->n_pauses, 0);
    ASSERT_NEAR(v->speech_s, 0, 1e-12);
    ASSERT_NEAR(v->silence_s, 5.0, 1e-9);
    vm_chunk_plan *p = NULL;
    ASSERT_OK(vm_chunker_plan(v, NULL, &p));
    ASSERT_EQ(p->n_chunks, 0);
    vm_chunk_plan_destroy(p);
    vm_vad_result_destroy(v);
  }
  vm_vad_result *v = NULL; /* empty input */
  ASSERT_OK(vm_vad_run(NULL, 0, TK_RATE, NULL, &v));
  ASSERT_EQ(v->n_regions, 0);
  vm_vad_result_destroy(v);
  ASSERT_EQ(vm_vad_run(x, 10, 100, NULL, &v), VM_EINVAL);
  ASSERT_NULL(v);
  return 0;
}

static int test_frame_accuracy(void) {
  if (load()) TEST_SKIP("espeak-ng not available");
  tk_convo c;
  ASSERT_EQ(build(8, &c), 0);
  static const double snr[] = {INFINITY, 20, 10};
  for (int s = 0; s < 3; s++) {
    float *x = malloc(c.n * sizeof(float));
    ASSERT_NOT_NULL(x);
    memcpy(x, c.mono, c.n * sizeof(float));
    if (isfinite(snr[s])) tk_add_noise(x, c.n, &c, snr[s], 3u + (uint32_t)s);
    vm_vad_result *v = NULL;
    ASSERT_OK(vm_vad_run(x, c.n, TK_RATE, NULL, &v));
    double acc = tk_vad_accuracy(&c, v->frame_speech, v->n_frames);
    printf("  VAD frame accuracy, SNR %4.0f dB: %.2f %% (%zu regions, speech %.1f s, floor %.1f dB)\n",
           snr[s], 100 * acc,
           v->n_regions, v->speech_s, v->noise_floor_db);
    ASSERT_GT(acc * 1000, 970); /* measured 98.2 / 98.6 / 98.5 %; issue target 95 % clean */
    vm_vad_result_destroy(v);
    free(x);
  }
  tk_convo_free(&c);
  return 0;
}

/* Every reference gap becomes a pause with the right start and length. */
static int test_pauses(void) {
  if (load()) TEST_SKIP("espeak-ng not available");
  tk_convo c;
  ASSERT_EQ(build(8, &c), 0);
  vm_vad_result *v = NULL;
  ASSERT_OK(vm_vad_run(c.mono, c.n, TK_RATE, NULL, &v));
  for (size_t i = 0; i < v->n_pauses; i++) ASSERT(v->pauses[i].duration_s >= v->min_pause_s - 1e-9);
  ASSERT_NEAR(v->speech_s + v->silence_s, (double)c.n / TK_RATE, 1e-6);
  for (size_t r = 1; r < c.n_ref; r++) {
    double gs = c.ref[r - 1].end_s, gd = c.ref[r].start_s - gs;
    int found = 0;
    for (size_t i = 0; i < v->n_pauses; i++)
      if (fabs(v->pauses[i].start_s - gs) < 0.1 && fabs(v->pauses[i].duration_s - gd) < 0.15) found = 1;
    if (!found) TEST_FAIL_("gap at %.2f s (%.2f s) not reported as a pause", gs, gd);
  }
  json_t *j = vm_vad_result_to_json(v);
  ASSERT_NOT_NULL(j);
  ASSERT_EQ(json_array_size(json_object_get(j, "pauses")), v->n_pauses);
  ASSERT_NEAR(json_real_value(json_object_get(j, "min_pause_s")), 0.3, 1e-12);
  ASSERT_NOT_NULL(json_object_get(j, "speech_ratio"));
  json_decref(j);
  vm_vad_result_destroy(v);
  tk_convo_free(&c);
  return 0;
}

/* Checks the chunking contract against the VAD regions. */
static int check_plan(const vm_vad_result *v, const vm_chunk_plan *p, double max_s) {
  size_t max_n = (size_t)(max_s * v->sample_rate_hz);
  for (size_t i = 0; i < p->n_chunks; i++) {
    const vm_chunk *c = &p->chunks[i];
    ASSERT(c->end_sample > c->start_sample);
    ASSERT_LE(c->end_sample - c->start_sample, max_n);
    ASSERT(c->offset_s * v->sample_rate_hz == (double)c->start_sample);
    ASSERT_NEAR(vm_chunk_to_file_time(p, c, 1.25), (double)c->start_sample / v->sample_rate_hz + 1.25, 0);
    if (i > 0) ASSERT_LE(p->chunks[i - 1].end_sample, c->start_sample);
    /* a non-forced end never falls inside a region */
    for (size_t r = 0; r < v->n_regions && !c->forced; r++)
      ASSERT(!(c->end_sample > v->regions[r].start_sample && c->end_sample < v->regions[r].end_sample));
  }
  for (size_t r = 0; r < v->n_regions; r++) { /* every speech sample is in a chunk */
    size_t covered = 0;
    for (size_t i = 0; i < p->n_chunks; i++) {
      size_t a = p->chunks[i].start_sample > v->regions[r].start_sample ? p->chunks[i].start_sample : v->regions[r].start_sample;
      size_t b = p->chunks[i].end_sample < v->regions[r].end_sample ? p->chunks[i].end_sample : v->regions[r].end_sample;
      if (b > a) covered += b - a;
    }
    ASSERT_EQ(covered, v->regions[r].end_sample - v->regions[r].start_sample);
  }
  return 0;
}

static int test_chunker_conversation(void) {
  if (load()) TEST_SKIP("espeak-ng not available");
  tk_convo c;
  ASSERT_EQ(build(40, &c), 0);
  vm_vad_result *v = NULL;
  vm_chunk_plan *p = NULL;
  ASSERT_OK(vm_vad_run(c.mono, c.n, TK_RATE, NULL, &v));
  ASSERT_OK(vm_chunker_plan(v, NULL, &p));
  printf("  %.1f s audio, %zu regions -> %zu chunks (%.1f s to transcribe), %zu forced\n",
         (double)c.n / TK_RATE, v->n_regions, p->n_chunks, p->chunked_s, p->n_forced);
  ASSERT_EQ(p->n_forced, 0);
  ASSERT(p->chunked_s < (double)c.n / TK_RATE);
  if (check_plan(v, p, 30.0)) return 1;
  vm_chunk_plan_destroy(p);
  vm_vad_result_destroy(v);
  tk_convo_free(&c);
  return 0;
}

/* A made-up VAD result: one 70 s region, then a 5 s pause, then 2 s. */
static int test_chunker_forced_and_gap(void) {
  vm_vad_result v;
  memset(&v, 0, sizeof v);
  v.sample_rate_hz = TK_RATE;
  v.n_samples = 80 * TK_RATE;
  v.frame_s = 0.01;
  v.n_frames = 8000;
  v.frame_db = calloc(v.n_frames, sizeof(float));
  vm_vad_region r[2] = {{TK_RATE, 71 * TK_RATE, 1, 71}, {76 * TK_RATE, 78 * TK_RATE, 76, 78}};
  v.regions = r;
  v.n_regions = 2;
  ASSERT_NOT_NULL(v.frame_db);
  for (size_t i = 0; i < v.n_frames; i++) v.frame_db[i] = -20;
  v.frame_db[2850] = -50; /* a quiet frame at 28.5 s: the first forced cut */
  vm_chunk_plan *p = NULL;
  ASSERT_OK(vm_chunker_plan(&v, NULL, &p));
  for (size_t i = 0; i < p->n_chunks; i++)
    printf("  chunk %.2f-%.2f s%s\n", p->chunks[i].offset_s, p->chunks[i].offset_s + p->chunks[i].duration_s,
           p->chunks[i].forced ? " forced" : "");
  ASSERT_EQ(p->n_forced, 2);
  ASSERT_EQ(p->chunks[0].end_sample, 2850 * 160);
  ASSERT_EQ(p->chunks[p->n_chunks - 1].first_region, 1);
  if (check_plan(&v, p, 30.0)) return 1;
  vm_chunk_plan_destroy(p);
  vm_chunk_opts o;
  vm_chunk_opts_default(&o);
  o.max_s = 0.5;
  ASSERT_EQ(vm_chunker_plan(&v, &o, &p), VM_EINVAL);
  free(v.frame_db);
  return 0;
}

static int test_cleanup(void) {
  tk_cleanup();
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_silence), TEST_ENTRY(test_frame_accuracy), TEST_ENTRY(test_pauses),
          TEST_ENTRY(test_chunker_conversation), TEST_ENTRY(test_chunker_forced_and_gap),
          TEST_ENTRY(test_cleanup))
