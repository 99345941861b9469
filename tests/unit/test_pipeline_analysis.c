/* The per-file analysis (src/pipeline/analysis*.c): transcript speaker
 * assignment and splitting on known turns, rate counting, and whole runs
 * of vm_analysis_run on synthetic voices whose answer is known — a calm
 * vowel with a louder, higher stretch (stress, escalation, contours), the
 * same with a transcript, and a two-channel call whose parties change in
 * the middle of a transcript segment (split end to end).
 *
 *   ctest --test-dir build -R test_pipeline_analysis --output-on-failure
 */
#include <math.h>

#include "analysis.h"
#include "analysis_impl.h"
#include "test.h"
#include "voice_test_util.h"

#define RATE 16000

static vm_diar_turn turn(double a, double b, int spk) {
  return (vm_diar_turn){a, b, spk};
}

/* ---- speaker assignment and splitting, on given turns ---- */

static int test_split_at_speaker_change(void) {
  vm_transcript *t = vm_transcript_create();
  ASSERT_NOT_NULL(t);
  /* 10 words over 0.5..5.5 s; the change (gap 3.0..3.4) is split at 3.2:
   * 2.7 s and 2.3 s, so about 54 % of the characters go to the first. */
  ASSERT_OK(vm_transcript_add(t, 0.5, 5.5, "one two three four five six seven eight nine ten",
                              (size_t)-1, NULL, NULL));
  ASSERT_OK(vm_transcript_add(t, 6.0, 7.0, "kept as given", (size_t)-1, "Alice", NULL));
  vm_diar_turn turns[] = {turn(0, 3.0, 0), turn(3.4, 6.5, 1)};
  ASSERT_OK(vm__analysis_transcript_assign(t, turns, 2, NULL));
  ASSERT_EQ(t->n_segments, 3);
  ASSERT_NEAR(t->segments[0].start_s, 0.5, 1e-12);
  ASSERT_NEAR(t->segments[0].end_s, 3.2, 1e-12);
  ASSERT_NEAR(t->segments[1].start_s, 3.2, 1e-12);
  ASSERT_NEAR(t->segments[1].end_s, 5.5, 1e-12);
  ASSERT_STR_EQ(t->segments[0].speaker, "SPEAKER_00");
  ASSERT_STR_EQ(t->segments[1].speaker, "SPEAKER_01");
  /* 48 characters, cut nearest 0.54 * 48 = 25.9: the space at 27 ("six|") */
  ASSERT_STR_EQ(t->segments[0].text, "one two three four five six");
  ASSERT_STR_EQ(t->segments[1].text, "seven eight nine ten");
  ASSERT_STR_EQ(t->segments[2].speaker, "Alice");
  ASSERT_STR_EQ(t->segments[2].text, "kept as given");
  vm_transcript_destroy(t);
  return 0;
}

static int test_split_korean_and_three_speakers(void) {
  vm_transcript *t = vm_transcript_create();
  ASSERT_NOT_NULL(t);
  ASSERT_OK(vm_transcript_add(t, 0, 9, "가나다 라마바 사아자 차카타 파하가 나다라", (size_t)-1, NULL, NULL));
  vm_diar_turn turns[] = {turn(0, 3, 0), turn(3, 6, 1), turn(6, 9, 0)};
  ASSERT_OK(vm__analysis_transcript_assign(t, turns, 3, NULL));
  ASSERT_EQ(t->n_segments, 3);
  ASSERT_STR_EQ(t->segments[0].text, "가나다 라마바");
  ASSERT_STR_EQ(t->segments[1].text, "사아자 차카타");
  ASSERT_STR_EQ(t->segments[2].text, "파하가 나다라");
  ASSERT_STR_EQ(t->segments[1].speaker, "SPEAKER_01");
  ASSERT_STR_EQ(t->segments[2].speaker, "SPEAKER_00");
  ASSERT_NEAR(t->segments[2].start_s, 6, 1e-12);
  vm_transcript_destroy(t);
  return 0;
}

static int test_no_split_without_space_or_for_slivers(void) {
  vm_transcript *t = vm_transcript_create();
  ASSERT_NOT_NULL(t);
  /* one word across a change: cannot be cut, goes to the longer overlap */
  ASSERT_OK(vm_transcript_add(t, 1.0, 4.0, "supercalifragilistic", (size_t)-1, NULL, NULL));
  /* overlaps speaker 0 by only 0.2 s: no piece under 0.3 s */
  ASSERT_OK(vm_transcript_add(t, 4.8, 8.0, "a b c d e f", (size_t)-1, NULL, NULL));
  /* nowhere near a turn: no speaker rather than a guess */
  ASSERT_OK(vm_transcript_add(t, 20.0, 21.0, "far away", (size_t)-1, NULL, NULL));
  /* within 1 s of a turn, overlapping none */
  ASSERT_OK(vm_transcript_add(t, 10.5, 11.0, "near", (size_t)-1, NULL, NULL));
  vm_diar_turn turns[] = {turn(0, 1.5, 0), turn(1.5, 5.0, 1), turn(5.0, 10.0, 0)};
  ASSERT_OK(vm__analysis_transcript_assign(t, turns, 3, NULL));
  ASSERT_EQ(t->n_segments, 4);
  ASSERT_STR_EQ(t->segments[0].speaker, "SPEAKER_01");
  ASSERT_STR_EQ(t->segments[0].text, "supercalifragilistic");
  ASSERT_NEAR(t->segments[0].end_s, 4.0, 1e-12);
  ASSERT_STR_EQ(t->segments[1].speaker, "SPEAKER_00");
  ASSERT_STR_EQ(t->segments[1].text, "a b c d e f");
  /* sorted by start: "near" (10.5 s) before "far away" (20 s) */
  ASSERT_STR_EQ(t->segments[2].text, "near");
  ASSERT_STR_EQ(t->segments[2].speaker, "SPEAKER_00");
  ASSERT_STR_EQ(t->segments[3].text, "far away");
  ASSERT_NULL(t->segments[3].speaker);
  /* no turns at all: nothing assigned, nothing split */
  vm_transcript *u = vm_transcript_create();
  ASSERT_OK(vm_transcript_add(u, 0, 1, "x y", (size_t)-1, NULL, NULL));
  ASSERT_OK(vm__analysis_transcript_assign(u, NULL, 0, NULL));
  ASSERT_EQ(u->n_segments, 1);
  ASSERT_NULL(u->segments[0].speaker);
  vm_transcript_destroy(u);
  vm_transcript_destroy(t);
  return 0;
}

static int test_split_keeps_time_order(void) {
  vm_transcript *t = vm_transcript_create();
  ASSERT_NOT_NULL(t);
  vm_tr_asr asr = {.avg_logprob = -0.25, .no_speech_prob = 0.01, .temperature = 0,
                   .compression_ratio = 1.2, .tokens = (int32_t[]){1, 2, 3}, .n_tokens = 3};
  ASSERT_OK(vm_transcript_add(t, 0, 10, "a b c d", (size_t)-1, NULL, &asr));
  ASSERT_OK(vm_transcript_add(t, 3, 4, "x", (size_t)-1, NULL, &asr));
  vm_diar_turn turns[] = {turn(0, 5, 0), turn(5, 10, 1)};
  ASSERT_OK(vm__analysis_transcript_assign(t, turns, 2, NULL));
  ASSERT_EQ(t->n_segments, 3);
  ASSERT_NEAR(t->segments[0].start_s, 0, 1e-12);
  ASSERT_NEAR(t->segments[1].start_s, 3, 1e-12);
  ASSERT_NEAR(t->segments[2].start_s, 5, 1e-12);
  ASSERT_STR_EQ(t->segments[0].text, "a b");
  ASSERT_STR_EQ(t->segments[1].text, "x");
  ASSERT_STR_EQ(t->segments[2].text, "c d");
  /* split pieces keep the decoder figures, not the whole segment's tokens */
  ASSERT_NEAR(t->segments[2].asr.avg_logprob, -0.25, 1e-12);
  ASSERT_EQ(t->segments[2].asr.n_tokens, 0);
  ASSERT_EQ(t->segments[1].asr.n_tokens, 3); /* an unsplit segment keeps them */
  vm_transcript_destroy(t);
  return 0;
}

/* Random turns and transcripts: the invariants of the split rule. */
static uint64_t rnd(uint64_t *s) {
  *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
  return *s;
}

static int check_split_case(uint64_t *seed) {
  static const char *words[] = {"a", "bb", "ccc", "가나", "다라마", "hello", "세", "x1"};
  vm_diar_turn turns[12];
  size_t nt = rnd(seed) % 12;
  double t = 0;
  for (size_t i = 0; i < nt; i++) {
    t += (double)(rnd(seed) % 100) / 100.0;
    double len = 0.05 + (double)(rnd(seed) % 300) / 100.0;
    turns[i] = turn(t, t + len, (int)(rnd(seed) % 3));
    t += len;
  }
  vm_transcript *tr = vm_transcript_create();
  char text[8][256];
  double s0[8], e0[8];
  int labelled[8];
  size_t ns = 1 + rnd(seed) % 7;
  double at = 0;
  for (size_t i = 0; i < ns; i++) {
    size_t nw = rnd(seed) % 9, pos = 0;
    text[i][0] = 0;
    for (size_t w = 0; w < nw; w++)
      pos += (size_t)snprintf(text[i] + pos, sizeof text[i] - pos, "%s%s", w ? " " : "",
                              words[rnd(seed) % 8]);
    s0[i] = at, e0[i] = at + (double)(rnd(seed) % 600) / 100.0, at = e0[i] + 0.01 + (double)(rnd(seed) % 50) / 100.0;
    labelled[i] = rnd(seed) % 5 == 0;
    ASSERT_OK(vm_transcript_add(tr, s0[i], e0[i], text[i], (size_t)-1, labelled[i] ? "Lab" : NULL, NULL));
  }
  ASSERT_OK(vm__analysis_transcript_assign(tr, turns, nt, NULL));
  size_t j = 0;
  for (size_t i = 0; i < ns; i++) { /* the pieces of segment i follow in order */
    char joined[512] = "";
    size_t first = j, len = 0;
    for (; j < tr->n_segments && tr->segments[j].start_s >= s0[i] - 1e-12 &&
           tr->segments[j].end_s <= e0[i] + 1e-12; j++) {
      if (j > first) {
        ASSERT_NEAR(tr->segments[j].start_s, tr->segments[j - 1].end_s, 1e-12);
        ASSERT(strcmp(tr->segments[j].speaker, tr->segments[j - 1].speaker) != 0);
        len += (size_t)snprintf(joined + len, sizeof joined - len, " ");
      }
      if (j > first || (j + 1 < tr->n_segments && tr->segments[j + 1].end_s <= e0[i] + 1e-12))
        ASSERT(tr->segments[j].end_s - tr->segments[j].start_s >= VM__AN_MIN_PIECE_S - 1e-9);
      len += (size_t)snprintf(joined + len, sizeof joined - len, "%s", tr->segments[j].text);
    }
    ASSERT(j > first);
    ASSERT_NEAR(tr->segments[first].start_s, s0[i], 1e-12);
    ASSERT_NEAR(tr->segments[j - 1].end_s, e0[i], 1e-12);
    ASSERT_STR_EQ(joined, text[i]);
    if (labelled[i]) ASSERT(j == first + 1 && !strcmp(tr->segments[first].speaker, "Lab"));
  }
  ASSERT_EQ(j, tr->n_segments);
  vm_transcript_destroy(tr);
  return 0;
}

static int test_split_random_invariants(void) {
  uint64_t seed = 88172645463325252ull;
  for (int k = 0; k < 2000; k++)
    if (check_split_case(&seed)) TEST_FAIL_("case %d", k);
  return 0;
}

static int test_text_count(void) {
  size_t syl, words;
  vm__analysis_text_count("안녕하세요 여러분, 반갑습니다!", &syl, &words);
  ASSERT_EQ(syl, 13);
  ASSERT_EQ(words, 3);
  vm__analysis_text_count("Hello, world!  -- 42 ...", &syl, &words);
  ASSERT_EQ(syl, 0);
  ASSERT_EQ(words, 3);
  vm__analysis_text_count("", &syl, &words);
  ASSERT_EQ(syl + words, 0);
  vm__analysis_text_count("\xff\xfe broken", &syl, &words); /* invalid UTF-8 is no word */
  ASSERT_EQ(words, 1);
  vm_transcript *t = vm_transcript_create();
  ASSERT_OK(vm_transcript_add(t, 0, 1, "네 OK 그래요", (size_t)-1, NULL, NULL));
  ASSERT_EQ(vm__analysis_transcript_is_korean(t), 1);
  ASSERT_OK(vm_transcript_set_language(t, "en"));
  ASSERT_EQ(vm__analysis_transcript_is_korean(t), 0);
  vm_transcript_destroy(t);
  return 0;
}

static int test_speech_in(void) {
  vm_vad_region r[2] = {{0, 0, 1.0, 2.0}, {0, 0, 3.0, 5.0}};
  vm_vad_result v = {.regions = r, .n_regions = 2};
  ASSERT_NEAR(vm__analysis_speech_in(&v, 0, 10), 3.0, 1e-12);
  ASSERT_NEAR(vm__analysis_speech_in(&v, 1.5, 3.5), 1.0, 1e-12);
  ASSERT_NEAR(vm__analysis_speech_in(&v, 2.0, 3.0), 0.0, 1e-12);
  ASSERT_NEAR(vm__analysis_speech_in(&v, 4.0, 4.5), 0.5, 1e-12);
  return 0;
}

/* ---- whole runs on synthetic voices ---- */

/* parts: (seconds, f0 Hz or 0 for a pause, amplitude) triples, mixed into
 * x at *pos; pauses hold faint noise so the VAD sees a floor. */
static void add_parts(float *x, size_t *pos, const double (*parts)[3], int n, uint64_t seed) {
  const double fmt[3] = {650, 1100, 2500};
  for (int k = 0; k < n; k++) {
    size_t m = (size_t)(parts[k][0] * RATE);
    if (parts[k][1] > 0) {
      vt_vowel(x + *pos, m, RATE, parts[k][1], 0.005, 0.03, 0.002, fmt, seed + (uint64_t)k);
      for (size_t i = 0; i < m; i++) x[*pos + i] *= (float)(parts[k][2] / 0.5);
    } else {
      uint64_t s = seed + 99;
      for (size_t i = 0; i < m; i++) x[*pos + i] = (float)(0.0005 * vt_gauss(&s));
    }
    *pos += m;
  }
}

static size_t parts_len(const double (*parts)[3], int n) {
  size_t m = 0;
  for (int k = 0; k < n; k++) m += (size_t)(parts[k][0] * RATE);
  return m;
}

/* calm 120 Hz, raised 180 Hz +12 dB (6.5..10.5 s), calm; pauses between */
static const double raised[][3] = {{0.5, 0, 0}, {6, 120, 0.125}, {0.5, 0, 0}, {4, 180, 0.5},
                                   {0.5, 0, 0}, {5, 120, 0.125}, {0.5, 0, 0}};
#define N_RAISED ((int)(sizeof raised / sizeof raised[0]))

static float *raised_signal(size_t *n) {
  *n = parts_len(raised, N_RAISED);
  float *x = calloc(*n, sizeof *x);
  size_t pos = 0;
  if (x) add_parts(x, &pos, raised, N_RAISED, 7);
  return x;
}

static double num(const json_t *o, const char *key) {
  const json_t *v = json_object_get(o, key);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

static int test_stress_escalation_contours(void) {
  size_t n;
  float *x = raised_signal(&n);
  ASSERT_NOT_NULL(x);
  vm_analysis_opts o;
  vm_analysis_opts_default(&o);
  o.n_speakers = 1; /* the raised stretch is 7 st higher: keep it one voice */
  vm_analysis a;
  vm_err err;
  ASSERT_OK(vm_analysis_run(x, n, RATE, NULL, NULL, &o, &a, &err));
  ASSERT_NULL(a.seg_stress);
  ASSERT_EQ(a.n_seg, 0);
  /* escalation: one speaker → whole file; one zone over the raised part */
  ASSERT_STR_EQ(json_string_value(json_object_get(a.escalation, "scope")), "file");
  json_t *zones = json_object_get(a.escalation, "zones");
  ASSERT_EQ(json_array_size(zones), 1);
  json_t *z = json_array_get(zones, 0);
  printf("  zone %.2f-%.2f s, +%.1f dB, +%.2f st (%.0f %%), speaker %s\n", num(z, "start"),
         num(z, "end"), num(z, "intensity_rise_db"), num(z, "f0_rise_st"),
         num(z, "f0_rise_percent"), json_string_value(json_object_get(z, "speaker")));
  ASSERT_NEAR(num(z, "start"), 7.0, 0.6);
  ASSERT_NEAR(num(z, "end"), 11.0, 0.6);
  ASSERT_NEAR(num(z, "f0_rise_st"), 12.0 * log2(180.0 / 120.0), 0.6);
  ASSERT_NEAR(num(z, "intensity_rise_db"), 12.0, 2.5);
  ASSERT_STR_EQ(json_string_value(json_object_get(z, "speaker")), "SPEAKER_00");
  json_t *base = json_array_get(json_object_get(a.escalation, "speakers"), 0);
  ASSERT_NEAR(num(base, "f0_hz"), 120, 3);
  /* stress: the raised turn is high, the calm ones low */
  size_t n_seg = json_array_size(a.segments), n_high = 0, n_low = 0;
  ASSERT_GE(n_seg, 3);
  for (size_t i = 0; i < n_seg; i++) {
    json_t *s = json_array_get(a.segments, i);
    double mid = 0.5 * (num(s, "start") + num(s, "end")), idx = num(s, "stress_index");
    printf("  turn %.2f-%.2f stress %.1f %s\n", num(s, "start"), num(s, "end"), idx,
           json_string_value(json_object_get(s, "stress_level")));
    ASSERT(!isnan(idx));
    if (mid > 7.0 && mid < 11.0) {
      ASSERT(idx >= 50);
      n_high += idx >= 66;
    } else {
      n_low += idx < 33;
    }
  }
  ASSERT_GE(n_high, 1);
  ASSERT_GE(n_low, 2);
  json_t *st = json_object_get(json_array_get(a.speakers, 0), "stress");
  ASSERT_NOT_NULL(st);
  ASSERT(num(st, "index") > 5 && num(st, "index") < 66);
  ASSERT(num(json_object_get(st, "features"), "f0_level") > 0);
  ASSERT(json_is_null(json_object_get(json_object_get(st, "features"), "speech_rate")));
  ASSERT_NOT_NULL(json_object_get(json_object_get(st, "baseline"), "median"));
  /* no transcript: rates null with a reason */
  ASSERT(json_is_null(json_object_get(a.acoustic, "speech_rate")));
  ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(a.acoustic, "null_reasons"),
                                                  "speech_rate")), "no transcript");
  /* contours: every 10 ms, 0.1 resolution, null in the pauses */
  ASSERT_NEAR(num(a.contours, "step_s"), 0.01, 1e-12);
  json_t *f0 = json_object_get(a.contours, "f0_hz"), *db = json_object_get(a.contours, "intensity_db");
  size_t want = (size_t)floor((double)n / RATE / 0.01 + 1e-9) + 1;
  ASSERT_EQ(json_array_size(f0), want);
  ASSERT_EQ(json_array_size(db), want);
  ASSERT(json_is_null(json_array_get(f0, 20)));           /* 0.2 s: pause */
  ASSERT_NEAR(json_number_value(json_array_get(f0, 300)), 120, 2); /* 3.0 s */
  ASSERT_NEAR(json_number_value(json_array_get(f0, 900)), 180, 3); /* 9.0 s */
  double d_calm = json_number_value(json_array_get(db, 300)), d_loud = json_number_value(json_array_get(db, 900));
  ASSERT_NEAR(d_loud - d_calm, 12, 2);
  for (size_t i = 0; i < want; i++) {
    double v = json_is_number(json_array_get(f0, i)) ? json_number_value(json_array_get(f0, i)) : 0;
    ASSERT_NEAR(v * 10, round(v * 10), 1e-6);
  }
  vm_analysis_deinit(&a);
  free(x);
  return 0;
}

static int test_transcript_rates_and_scores(void) {
  size_t n;
  float *x = raised_signal(&n);
  ASSERT_NOT_NULL(x);
  vm_transcript *t = vm_transcript_create();
  ASSERT_NOT_NULL(t);
  /* 18 syllables over the first calm part (0.5..6.5 s of speech) */
  ASSERT_OK(vm_transcript_add(t, 0.5, 6.5, "가나다라마바 사아자차카타 파하가나다라", (size_t)-1, NULL, NULL));
  ASSERT_OK(vm_transcript_add(t, 7.0, 11.0, "가나다라마바사아자차카타파하가나다라마바사아", (size_t)-1, NULL, NULL));
  ASSERT_OK(vm_transcript_add(t, 11.5, 16.5, "가나다 라마바 사아자", (size_t)-1, "Bob", NULL));
  ASSERT_OK(vm_transcript_add(t, 16.6, 16.9, "...", (size_t)-1, NULL, NULL));
  vm_analysis_opts o;
  vm_analysis_opts_default(&o);
  o.n_speakers = 1;
  o.transcript = t;
  vm_analysis a;
  vm_err err;
  ASSERT_OK(vm_analysis_run(x, n, RATE, NULL, NULL, &o, &a, &err));
  ASSERT_EQ(t->n_segments, 4);
  ASSERT_EQ(json_array_size(a.segments), 4);
  ASSERT_EQ(a.n_seg, 4);
  json_t *s0 = json_array_get(a.segments, 0), *s1 = json_array_get(a.segments, 1);
  ASSERT_STR_EQ(json_string_value(json_object_get(s0, "speaker")), "SPEAKER_00");
  ASSERT_STR_EQ(json_string_value(json_object_get(s0, "text")), t->segments[0].text);
  ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(a.segments, 2), "speaker")), "Bob");
  /* speech rate: 18 syllables / 6 s; articulation: over the VAD speech */
  printf("  rates: %.2f, %.2f syll/s; speech %.2f s; stress %.1f / %.1f, arousal %.2f / %.2f\n",
         num(s0, "speech_rate"), num(s0, "articulation_rate"), num(s0, "speech_s"),
         a.seg_stress[0], a.seg_stress[1], a.seg_arousal[0], a.seg_arousal[1]);
  ASSERT_NEAR(num(s0, "speech_rate"), 18.0 / 6.0, 1e-9);
  ASSERT(num(s0, "speech_s") > 5.5 && num(s0, "speech_s") <= 6.0);
  ASSERT_NEAR(num(s0, "articulation_rate"), 18.0 / num(s0, "speech_s"), 1e-9);
  ASSERT(json_is_null(json_object_get(json_array_get(a.segments, 3), "speech_rate")));
  /* the raised, faster segment: high stress, positive arousal */
  ASSERT(a.seg_stress[1] >= 50 && a.seg_arousal[1] > 1.0);
  ASSERT(a.seg_stress[0] < a.seg_stress[1]);
  ASSERT_NEAR(num(s1, "stress_index"), a.seg_stress[1], 1e-9);
  /* speakers: SPEAKER_00 from diarization, then Bob from the transcript */
  ASSERT_EQ(json_array_size(a.speakers), 2);
  json_t *bob = json_array_get(a.speakers, 1);
  ASSERT_STR_EQ(json_string_value(json_object_get(bob, "source")), "transcript");
  ASSERT_NEAR(num(bob, "speech_rate"), 9.0 / 5.0, 1e-9);
  ASSERT_EQ(json_integer_value(json_object_get(bob, "n_syllables")), 9);
  ASSERT_STR_EQ(json_string_value(json_object_get(a.acoustic, "rate_unit")), "syllables/s");
  ASSERT_EQ(json_integer_value(json_object_get(a.acoustic, "n_syllables")), 18 + 22 + 9);
  json_t *f = json_object_get(json_object_get(json_array_get(a.speakers, 0), "stress"), "features");
  ASSERT(!json_is_null(json_object_get(f, "f0_level")));
  /* two speaker groups → escalation per speaker */
  ASSERT_STR_EQ(json_string_value(json_object_get(a.escalation, "scope")), "speakers");
  ASSERT_EQ(json_array_size(json_object_get(a.escalation, "speakers")), 2);
  vm_analysis_deinit(&a);
  vm_transcript_destroy(t);
  free(x);
  return 0;
}

/* Two parties, one per channel: A (110 Hz) 0.5..5 s, B (220 Hz)
 * 5.3..10 s; one transcript segment 2..8 s spans the change. */
static int test_stereo_split_end_to_end(void) {
  static const double a_parts[][3] = {{0.5, 0, 0}, {4.5, 110, 0.4}, {5.5, 0, 0}};
  static const double b_parts[][3] = {{5.3, 0, 0}, {4.7, 220, 0.4}, {0.5, 0, 0}};
  size_t n = parts_len(a_parts, 3), pos = 0;
  ASSERT_EQ(n, parts_len(b_parts, 3));
  float *ch0 = calloc(n, sizeof *ch0), *ch1 = calloc(n, sizeof *ch1), *mono = calloc(n, sizeof *mono);
  ASSERT(ch0 && ch1 && mono);
  add_parts(ch0, &pos, a_parts, 3, 11);
  pos = 0;
  add_parts(ch1, &pos, b_parts, 3, 21);
  for (size_t i = 0; i < n; i++) mono[i] = 0.5f * (ch0[i] + ch1[i]);
  vm_transcript *t = vm_transcript_create();
  ASSERT_OK(vm_transcript_add(t, 2.0, 8.0, "alpha beta gamma delta epsilon zeta eta theta iota kappa",
                              (size_t)-1, NULL, NULL));
  vm_analysis_opts o;
  vm_analysis_opts_default(&o);
  o.transcript = t;
  vm_analysis a;
  vm_err err;
  ASSERT_OK(vm_analysis_run(mono, n, RATE, ch0, ch1, &o, &a, &err));
  ASSERT_STR_EQ(json_string_value(json_object_get(a.diarization, "method")), "stereo-channels");
  ASSERT_EQ(t->n_segments, 2);
  printf("  split: [%.2f %.2f] %s \"%s\" | [%.2f %.2f] %s \"%s\"\n", t->segments[0].start_s,
         t->segments[0].end_s, t->segments[0].speaker, t->segments[0].text, t->segments[1].start_s,
         t->segments[1].end_s, t->segments[1].speaker, t->segments[1].text);
  ASSERT_NEAR(t->segments[0].end_s, 5.15, 0.2);
  ASSERT_STR_EQ(t->segments[0].speaker, "SPEAKER_00");
  ASSERT_STR_EQ(t->segments[1].speaker, "SPEAKER_01");
  ASSERT_STR_EQ(t->segments[0].text, "alpha beta gamma delta epsilon");
  ASSERT_STR_EQ(t->segments[1].text, "zeta eta theta iota kappa");
  ASSERT_EQ(a.n_seg, 2);
  ASSERT_STR_EQ(json_string_value(json_object_get(a.escalation, "scope")), "speakers");
  json_t *eb = json_object_get(a.escalation, "speakers");
  ASSERT_EQ(json_array_size(eb), 2);
  ASSERT_NEAR(num(json_array_get(eb, 1), "f0_hz"), 220, 5);
  json_t *s1 = json_array_get(a.segments, 1);
  ASSERT_STR_EQ(json_string_value(json_object_get(s1, "speaker")), "SPEAKER_01");
  ASSERT_NEAR(num(s1, "f0_mean_hz"), 220, 4);
  ASSERT_STR_EQ(json_string_value(json_object_get(a.acoustic, "rate_unit")), "words/min");
  ASSERT_NEAR(num(json_array_get(a.segments, 0), "speech_rate"), 60.0 * 5 / (t->segments[0].end_s - 2.0), 1e-9);
  vm_analysis_deinit(&a);
  vm_transcript_destroy(t);
  free(ch0), free(ch1), free(mono);
  return 0;
}

/* x (n at rate) to 16 kHz: Hann-windowed sinc, cut-off at the lower
 * Nyquist. OUT: *out_n. Caller frees. */
static float *to_16k(const float *x, size_t n, int rate, size_t *out_n) {
  double step = (double)rate / RATE, r = fmin(1.0, 1.0 / step);
  size_t m = (size_t)floor((double)n / step);
  float *y = calloc(m ? m : 1, sizeof *y);
  for (size_t j = 0; y && j < m; j++) {
    double t = (double)j * step, s = 0;
    long c = (long)floor(t);
    for (long k = c - 40; k <= c + 40; k++) {
      if (k < 0 || k >= (long)n) continue;
      double d = t - (double)k, w = 0.5 + 0.5 * cos(M_PI * d / 41.0), a = M_PI * r * d;
      s += x[k] * w * r * (fabs(a) < 1e-12 ? 1.0 : sin(a) / a);
    }
    y[j] = (float)s;
  }
  *out_n = m;
  return y;
}

/* espeak-ng Korean (fixtures ko1 then ko2, one per channel, 0.5 s apart)
 * under one transcript segment: split at the sentence boundary, Korean
 * rates in a human range. */
static int test_espeak_korean_call(void) {
  char p1[512], p2[512];
  snprintf(p1, sizeof p1, "%s/src/ko1.wav", VM_FIXTURE_DIR);
  snprintf(p2, sizeof p2, "%s/src/ko2.wav", VM_FIXTURE_DIR);
  size_t n1 = 0, n2 = 0, m1 = 0, m2 = 0;
  int r1 = 0, r2 = 0;
  float *w1 = vt_read_wav(p1, &n1, &r1), *w2 = vt_read_wav(p2, &n2, &r2);
  if (!w1 || !w2) {
    free(w1), free(w2);
    TEST_SKIP("fixtures %s, %s not generated", p1, p2);
  }
  float *a = to_16k(w1, n1, r1, &m1), *b = to_16k(w2, n2, r2, &m2);
  size_t gap = RATE / 2, n = m1 + gap + m2;
  float *ch0 = calloc(n, sizeof *ch0), *ch1 = calloc(n, sizeof *ch1), *mono = calloc(n, sizeof *mono);
  ASSERT(a && b && ch0 && ch1 && mono);
  uint64_t seed = 5;
  for (size_t i = 0; i < n; i++) {
    ch0[i] = (float)(0.0003 * vt_gauss(&seed)) + (i < m1 ? a[i] : 0.0f);
    ch1[i] = (float)(0.0003 * vt_gauss(&seed)) + (i >= m1 + gap ? b[i - m1 - gap] : 0.0f);
    mono[i] = 0.5f * (ch0[i] + ch1[i]);
  }
  static const char *ko1 = "안녕하세요. 오늘 회의는 세 시에 시작합니다. 자료를 미리 보내 주세요.";
  static const char *ko2 = "지금 당장 돈을 보내지 않으면 큰일 날 줄 알아. 내 말 똑바로 들어.";
  char both[512];
  snprintf(both, sizeof both, "%s %s", ko1, ko2);
  vm_transcript *t = vm_transcript_create();
  ASSERT_OK(vm_transcript_add(t, 0.0, (double)n / RATE, both, (size_t)-1, NULL, NULL));
  vm_analysis_opts o;
  vm_analysis_opts_default(&o);
  o.transcript = t;
  vm_analysis an;
  vm_err err;
  ASSERT_OK(vm_analysis_run(mono, n, RATE, ch0, ch1, &o, &an, &err));
  ASSERT_EQ(t->n_segments, 2);
  json_t *s0 = json_array_get(an.segments, 0), *s1 = json_array_get(an.segments, 1);
  printf("  [%.2f %.2f] %s: %.2f syll/s, articulation %.2f; [%.2f %.2f] %s: %.2f, %.2f; "
         "stress %.0f / %.0f\n", t->segments[0].start_s, t->segments[0].end_s,
         t->segments[0].speaker, num(s0, "speech_rate"), num(s0, "articulation_rate"),
         t->segments[1].start_s, t->segments[1].end_s, t->segments[1].speaker,
         num(s1, "speech_rate"), num(s1, "articulation_rate"), an.seg_stress[0], an.seg_stress[1]);
  ASSERT_STR_EQ(t->segments[0].text, ko1);
  ASSERT_STR_EQ(t->segments[1].text, ko2);
  ASSERT_STR_EQ(t->segments[0].speaker, "SPEAKER_00");
  ASSERT_STR_EQ(t->segments[1].speaker, "SPEAKER_01");
  /* the cut lies in the silence between the two parties' turns */
  json_t *turns = json_object_get(an.diarization, "turns");
  double end0 = -1, start1 = -1;
  for (size_t i = 0; i < json_array_size(turns); i++) {
    json_t *u = json_array_get(turns, i);
    const char *spk = json_string_value(json_object_get(u, "speaker"));
    if (!strcmp(spk, "SPEAKER_00")) end0 = fmax(end0, num(u, "end"));
    if (!strcmp(spk, "SPEAKER_01") && start1 < 0) start1 = num(u, "start");
  }
  ASSERT_NEAR(t->segments[0].end_s, 0.5 * (end0 + start1), 1e-9);
  ASSERT(end0 > (double)m1 / RATE - 1.0 && start1 < (double)(m1 + gap) / RATE + 1.0);
  ASSERT_EQ(json_integer_value(json_object_get(s0, "n_syllables")), 28);
  ASSERT_EQ(json_integer_value(json_object_get(s1, "n_syllables")), 25);
  ASSERT_EQ(json_integer_value(json_object_get(an.acoustic, "n_syllables")), 28 + 25);
  for (int k = 0; k < 2; k++) {
    json_t *s = json_array_get(an.segments, (size_t)k);
    ASSERT(num(s, "articulation_rate") >= 3.0 && num(s, "articulation_rate") <= 9.0);
    ASSERT(num(s, "speech_rate") <= num(s, "articulation_rate"));
  }
  vm_analysis_deinit(&an);
  vm_transcript_destroy(t);
  free(w1), free(w2), free(a), free(b), free(ch0), free(ch1), free(mono);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_split_at_speaker_change), TEST_ENTRY(test_split_korean_and_three_speakers),
          TEST_ENTRY(test_no_split_without_space_or_for_slivers),
          TEST_ENTRY(test_split_keeps_time_order), TEST_ENTRY(test_split_random_invariants),
          TEST_ENTRY(test_text_count),
          TEST_ENTRY(test_speech_in), TEST_ENTRY(test_stress_escalation_contours),
          TEST_ENTRY(test_transcript_rates_and_scores), TEST_ENTRY(test_stereo_split_end_to_end),
          TEST_ENTRY(test_espeak_korean_call))
