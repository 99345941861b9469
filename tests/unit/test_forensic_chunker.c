/* Chunker properties on many random speech layouts and on real speech:
 *  - every chunk <= max_s, chunks in order and disjoint, offsets exact;
 *  - every speech sample is in exactly one chunk; no chunk is all silence;
 *  - a chunk boundary falls inside a speech region only at a forced cut,
 *    which happens only when a region is longer than the room left, is
 *    flagged (forced / forced_start), and lies on the quietest 10 ms frame
 *    of its search window;
 *  - no chunk spans a pause >= max_gap_s, and no chunk carries more than
 *    pad_s of silence at either end;
 *  - silence gives no chunks.
 *
 * Build & run: cmake --build build --target test_forensic_chunker &&
 *              build/tests/test_forensic_chunker [test_name] */
#include "chunker.h"
#include "diar/diar_testkit.h"
#include "diar/diar_text.h"
#include "test.h"
#include "vad.h"

/* A VAD result made by hand: regions with random lengths and gaps, frame
 * levels -20 dB in speech (with random dips) and -70 dB in pauses. */
typedef struct fake_vad {
  vm_vad_result v;
  vm_vad_region r[64];
} fake_vad;

static uint32_t rnd(uint32_t *s) {
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;
}

static void fake_build(fake_vad *f, uint32_t seed) {
  memset(f, 0, sizeof *f);
  uint32_t s = seed;
  size_t n_reg = 1 + rnd(&s) % 20, pos = (size_t)(rnd(&s) % 300) * 160; /* frame-aligned */
  for (size_t i = 0; i < n_reg; i++) {
    size_t len = (10 + rnd(&s) % (rnd(&s) % 4 == 0 ? 7000 : 1500)) * 160; /* 0.1-70 s */
    f->r[i].start_sample = pos;
    f->r[i].end_sample = pos + len;
    pos += len + (30 + rnd(&s) % 500) * 160; /* pause 0.3-5.3 s */
  }
  f->v.sample_rate_hz = TK_RATE;
  f->v.frame_s = 0.01;
  f->v.n_samples = pos - (rnd(&s) % 20) * 160; /* may end inside the last pause */
  if (f->v.n_samples < f->r[n_reg - 1].end_sample) f->v.n_samples = f->r[n_reg - 1].end_sample;
  f->v.n_frames = (f->v.n_samples + 159) / 160;
  f->v.frame_db = malloc(f->v.n_frames * sizeof(float));
  for (size_t t = 0; t < f->v.n_frames && f->v.frame_db; t++) f->v.frame_db[t] = -70;
  for (size_t i = 0; i < n_reg && f->v.frame_db; i++)
    for (size_t t = f->r[i].start_sample / 160; t < f->r[i].end_sample / 160; t++)
      f->v.frame_db[t] = -20.0f - (float)(rnd(&s) % 1000) * 0.03f;
  for (size_t i = 0; i < n_reg; i++) {
    f->r[i].start_s = (double)f->r[i].start_sample / TK_RATE;
    f->r[i].end_s = (double)f->r[i].end_sample / TK_RATE;
  }
  f->v.regions = f->r;
  f->v.n_regions = n_reg;
}

/* Index of the region containing sample s strictly inside, or -1. */
static long inside(const vm_vad_result *v, size_t s) {
  for (size_t r = 0; r < v->n_regions; r++)
    if (s > v->regions[r].start_sample && s < v->regions[r].end_sample) return (long)r;
  return -1;
}

static int check_plan(const vm_vad_result *v, const vm_chunk_plan *p, const vm_chunk_opts *o) {
  size_t max_n = (size_t)floor(o->max_s * v->sample_rate_hz), pad = (size_t)llround(o->pad_s * TK_RATE);
  size_t gap_n = (size_t)llround(o->max_gap_s * TK_RATE), n_forced = 0;
  for (size_t i = 0; i < p->n_chunks; i++) {
    const vm_chunk *c = &p->chunks[i];
    ASSERT(c->end_sample > c->start_sample);
    ASSERT_LE(c->end_sample - c->start_sample, max_n);
    ASSERT_LE(c->end_sample, v->n_samples);
    ASSERT(c->offset_s == (double)c->start_sample / v->sample_rate_hz); /* the sample is exact */
    ASSERT(vm_chunk_to_file_time(p, c, 2.5) == (double)c->start_sample / v->sample_rate_hz + 2.5);
    if (i > 0) ASSERT_LE(p->chunks[i - 1].end_sample, c->start_sample);
    n_forced += (size_t)c->forced;
    /* boundaries inside speech only at flagged forced cuts */
    long re = inside(v, c->end_sample), rs = inside(v, c->start_sample);
    if (re >= 0) ASSERT(c->forced);
    if (c->forced) ASSERT(re >= 0);
    if (rs >= 0) ASSERT(c->forced_start && i > 0 && p->chunks[i - 1].end_sample == c->start_sample);
    /* speech inside, no long pause spanned, limited silence at the ends */
    size_t first_sp = SIZE_MAX, last_sp = 0;
    for (size_t r = 0; r < v->n_regions; r++) {
      size_t a = v->regions[r].start_sample > c->start_sample ? v->regions[r].start_sample : c->start_sample;
      size_t b = v->regions[r].end_sample < c->end_sample ? v->regions[r].end_sample : c->end_sample;
      if (b <= a) continue;
      if (first_sp != SIZE_MAX) ASSERT_LT(a - last_sp, gap_n);
      if (first_sp == SIZE_MAX) first_sp = a;
      last_sp = b;
    }
    ASSERT(first_sp != SIZE_MAX);
    ASSERT_LE(first_sp - c->start_sample, pad);
    ASSERT_LE(c->end_sample - last_sp, pad);
  }
  ASSERT_EQ(n_forced, p->n_forced);
  for (size_t r = 0; r < v->n_regions; r++) { /* every speech sample in one chunk */
    size_t covered = 0;
    for (size_t i = 0; i < p->n_chunks; i++) {
      size_t a = p->chunks[i].start_sample > v->regions[r].start_sample ? p->chunks[i].start_sample : v->regions[r].start_sample;
      size_t b = p->chunks[i].end_sample < v->regions[r].end_sample ? p->chunks[i].end_sample : v->regions[r].end_sample;
      if (b > a) covered += b - a;
    }
    ASSERT_EQ(covered, v->regions[r].end_sample - v->regions[r].start_sample);
    /* a region that fits in one chunk is never cut */
    if (v->regions[r].end_sample - v->regions[r].start_sample + 2 * pad <= max_n / 2)
      for (size_t i = 0; i < p->n_chunks; i++) ASSERT(inside(v, p->chunks[i].end_sample) != (long)r);
  }
  return 0;
}

/* A forced cut lies on the quietest frame of the 5 s before the limit. */
static int check_forced_quietest(const vm_vad_result *v, const vm_chunk_plan *p, double max_s) {
  for (size_t i = 0; i < p->n_chunks; i++) {
    const vm_chunk *c = &p->chunks[i];
    if (!c->forced) continue;
    size_t limit = c->start_sample + (size_t)floor(max_s * TK_RATE);
    size_t lo = limit > 5 * TK_RATE ? limit - 5 * TK_RATE : 0;
    if (lo < c->start_sample + TK_RATE) lo = c->start_sample + TK_RATE;
    float cut_db = v->frame_db[c->end_sample / 160];
    ASSERT_EQ(c->end_sample % 160, 0);
    for (size_t f = (lo + 159) / 160; (f + 1) * 160 <= limit; f++) ASSERT(v->frame_db[f] >= cut_db);
  }
  return 0;
}

static int test_random_layouts(void) {
  static const double maxes[] = {30.0, 30.0, 10.0, 5.0};
  size_t n_chunks = 0, n_forced = 0;
  for (uint32_t seed = 1; seed <= 400; seed++) {
    fake_vad f;
    fake_build(&f, seed);
    ASSERT_NOT_NULL(f.v.frame_db);
    vm_chunk_opts o;
    vm_chunk_opts_default(&o);
    o.max_s = maxes[seed % 4];
    if (seed % 3 == 0) o.pad_s = 0;
    vm_chunk_plan *p = NULL;
    ASSERT_OK(vm_chunker_plan(&f.v, &o, &p));
    if (check_plan(&f.v, p, &o) || check_forced_quietest(&f.v, p, o.max_s)) {
      fprintf(stderr, "seed %u (max %.0f s, pad %.1f s)\n", seed, o.max_s, o.pad_s);
      return 1;
    }
    n_chunks += p->n_chunks;
    n_forced += p->n_forced;
    vm_chunk_plan_destroy(p);
    free(f.v.frame_db);
  }
  printf("  400 random layouts: %zu chunks, %zu forced cuts, all properties hold\n", n_chunks, n_forced);
  ASSERT_GT(n_forced, 10); /* the layouts do exercise forced cuts */
  return 0;
}

static int test_silence_no_chunks(void) {
  vm_vad_result v;
  memset(&v, 0, sizeof v);
  v.sample_rate_hz = TK_RATE;
  v.n_samples = 60 * TK_RATE;
  v.frame_s = 0.01;
  vm_chunk_plan *p = NULL;
  ASSERT_OK(vm_chunker_plan(&v, NULL, &p)); /* no regions at all */
  ASSERT_EQ(p->n_chunks, 0);
  ASSERT_NEAR(p->chunked_s, 0, 0);
  vm_chunk_plan_destroy(p);
  ASSERT_EQ(vm_chunker_plan(NULL, NULL, &p), VM_EINVAL);
  ASSERT_NULL(p);
  return 0;
}

/* Real speech with no pause for over 30 s (sentences 0.1 s apart, bridged
 * by the VAD into one region): the cut is forced, flagged, and falls in a
 * quiet frame (a word gap), far below the speech level. */
static int test_forced_cut_real_speech(void) {
  if (system("espeak-ng --version >/dev/null 2>&1") != 0) TEST_SKIP("espeak-ng not available");
  static const tk_voice v = {"-v en-us -p 40 -s 150"};
  tk_sig u[12];
  tk_turn_plan pl[12];
  char t[400];
  for (int i = 0; i < 12; i++) {
    u[i] = tk_say(&v, tk_text_en(i + 7, t, sizeof t));
    ASSERT_NOT_NULL(u[i].x);
    pl[i] = (tk_turn_plan){&u[i], 0, 0.1};
  }
  tk_convo c;
  ASSERT_EQ(tk_convo_build(pl, 12, 1.0, &c), 0);
  vm_vad_result *vad = NULL;
  vm_chunk_plan *p = NULL;
  ASSERT_OK(vm_vad_run(c.mono, c.n, TK_RATE, NULL, &vad));
  ASSERT_OK(vm_chunker_plan(vad, NULL, &p));
  printf("  %.1f s of speech, %zu region(s), %zu chunks, %zu forced\n", (double)c.n / TK_RATE,
         vad->n_regions, p->n_chunks, p->n_forced);
  ASSERT_GT(p->n_forced, 0);
  vm_chunk_opts o;
  vm_chunk_opts_default(&o);
  if (check_plan(vad, p, &o) || check_forced_quietest(vad, p, o.max_s)) return 1;
  for (size_t i = 0; i < p->n_chunks; i++) {
    if (!p->chunks[i].forced) continue;
    float cut = vad->frame_db[p->chunks[i].end_sample / 160];
    printf("  forced cut at %.2f s: %.1f dB (speech level %.1f dB)\n",
           (double)p->chunks[i].end_sample / TK_RATE, cut, vad->speech_level_db);
    ASSERT_LT(cut, vad->speech_level_db - 20);
    ASSERT(p->chunks[i + 1].forced_start);
  }
  vm_chunk_plan_destroy(p);
  vm_vad_result_destroy(vad);
  tk_convo_free(&c);
  for (int i = 0; i < 12; i++) free(u[i].x);
  return 0;
}

static int test_cleanup(void) {
  tk_cleanup();
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_random_layouts), TEST_ENTRY(test_silence_no_chunks),
          TEST_ENTRY(test_forced_cut_real_speech), TEST_ENTRY(test_cleanup))
