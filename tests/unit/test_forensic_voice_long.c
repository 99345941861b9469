/* Streamed voice analysis (issue 4): an input of more than an hour,
 * generated block by block by the source callback, in bounded memory;
 * and streamed tracks equal to the whole-array dsp functions (the
 * whole-file Viterbi included) on several signals.
 *
 *   cmake --build build --target test_forensic_voice_long && build/tests/test_forensic_voice_long
 *
 * VM_VOICE_LONG_S sets the long signal's duration (default 3720 s, i.e.
 * 62 min; 300 s in sanitizer or unoptimised builds, where the memory
 * checks are skipped: ASan's allocator does not report through mallinfo2).
 */
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diar/diar_testkit.h"
#include "dsp_formant.h"
#include "dsp_hnr.h"
#include "dsp_intensity.h"
#include "dsp_pitch.h"
#include "dsp_pointprocess.h"
#include "test.h"
#include "vm_alloc.h"
#include "voice_measures.h"
#include "voice_test_util.h"

#define RATE 16000

#if defined(__SANITIZE_ADDRESS__) || !defined(__OPTIMIZE__)
#define SLOW_BUILD 1
#else
#define SLOW_BUILD 0
#endif

/* ---- the long signal: three "speakers" (steady vowels at 100, 125 and
 * 200 Hz, whole periods per second) in turns of 0.6-1.0 s with 0.3-0.45 s
 * pauses, copied from one-second tables, so it costs a memcpy. ---- */
#define N_VOICES 3
static const double voice_f0[N_VOICES] = {100, 125, 200};

typedef struct gen {
  float *table[N_VOICES]; /* (RATE) one second each, periodic */
  size_t n;
  size_t heap_peak;       /* largest heap in use seen from read() */
} gen;

/* Segment k: voice k % 3, voiced then silent (samples). */
static size_t seg_voiced(size_t k) { return (size_t)((0.6 + 0.1 * (double)(k % 5)) * RATE); }
static size_t seg_pause(size_t k) { return (size_t)((0.3 + 0.05 * (double)(k % 4)) * RATE); }

static size_t heap_in_use(void) {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

/* Sample i of the long signal, in blocks; tracks the heap peak. Segments
 * repeat every 60 segments, so position -> segment is a short search. */
static int gen_read(void *user, size_t offset, size_t n, float *buf) {
  gen *g = user;
  if (!SLOW_BUILD) {
    size_t h = heap_in_use();
    if (h > g->heap_peak) g->heap_peak = h;
  }
  static size_t cycle, seg_start[61];
  if (!cycle) {
    for (size_t k = 0; k < 60; k++) seg_start[k + 1] = seg_start[k] + seg_voiced(k) + seg_pause(k);
    cycle = seg_start[60];
  }
  for (size_t j = 0; j < n;) {
    size_t pos = offset + j, c = pos % cycle, k = 0;
    while (seg_start[k + 1] <= c) k++;
    size_t in = c - seg_start[k], left = seg_start[k + 1] - c, m = n - j < left ? n - j : left;
    if (in < seg_voiced(k)) {
      size_t mv = seg_voiced(k) - in < m ? seg_voiced(k) - in : m;
      for (size_t i = 0; i < mv; i++) buf[j + i] = g->table[k % N_VOICES][(pos + i) % RATE];
      m = mv;
    } else {
      memset(buf + j, 0, m * sizeof(float));
    }
    j += m;
  }
  return 0;
}

static int gen_init(gen *g, size_t n) {
  memset(g, 0, sizeof *g);
  g->n = n;
  const double fmt[N_VOICES][3] = {{700, 1220, 2600}, {500, 1500, 2500}, {300, 2300, 3000}};
  float *tmp = malloc(sizeof(float) * 2 * RATE);
  if (!tmp) return -1;
  for (int v = 0; v < N_VOICES; v++) {
    vt_vowel(tmp, 2 * RATE, RATE, voice_f0[v], 0, 0, 0.0005, fmt[v], (uint64_t)(v + 3));
    g->table[v] = malloc(sizeof(float) * RATE);
    if (!g->table[v]) return -1;
    memcpy(g->table[v], tmp + RATE, sizeof(float) * RATE); /* steady state */
  }
  free(tmp);
  return 0;
}

static void gen_free(gen *g) {
  for (int v = 0; v < N_VOICES; v++) free(g->table[v]);
}

/* Ground truth over [0, n): voiced time per voice. */
static void truth(size_t n, double *f0_mean, double *voiced_fraction) {
  double sum = 0, voiced = 0;
  size_t pos = 0;
  for (size_t k = 0; pos < n; k++) {
    size_t v = seg_voiced(k);
    if (pos + v > n) v = n - pos;
    sum += voice_f0[k % N_VOICES] * (double)v, voiced += (double)v;
    pos += seg_voiced(k) + seg_pause(k);
  }
  *f0_mean = sum / voiced;
  *voiced_fraction = voiced / (double)n;
}

static long vm_hwm_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "VmHWM:", 6)) kb = atol(line + 6);
  if (f) fclose(f);
  return kb;
}

typedef struct run {
  double f0, vf, seconds_cpu;
  size_t heap_work, track_bytes, buffer_peak, forced;
} run;

static int run_long(double seconds, run *r) {
  gen g;
  ASSERT_EQ(gen_init(&g, (size_t)(seconds * RATE)), 0);
  vm_voice_source src = {g.n, RATE, gen_read, &g};
  size_t base = heap_in_use();
  g.heap_peak = base;
  clock_t c0 = clock();
  vm_voice *v;
  ASSERT_OK(vm_forensic_voice_create_stream(&src, NULL, &v, NULL));
  r->seconds_cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
  vm_voice_summary s;
  vm_forensic_voice_summary_get(v, 0, 0, &s);
  vm_voice_memory m;
  vm_forensic_voice_get_memory(v, &m);
  r->f0 = s.f0_mean_hz.value, r->vf = s.voiced_fraction.value;
  r->track_bytes = m.total_bytes, r->buffer_peak = m.buffer_peak_bytes, r->forced = m.n_pitch_forced;
  r->heap_work = g.heap_peak > base + m.total_bytes ? g.heap_peak - base - m.total_bytes : 0;
  double tf0, tvf;
  truth(g.n, &tf0, &tvf);
  printf("  %.0f s: f0 %.2f (truth %.2f) vf %.3f (truth %.3f) cpu %.1f s (%.0fx) tracks %.2f MB "
         "(%.1f B per 10 ms) working %.2f MB window %.2f MB forced %zu\n",
         seconds, r->f0, tf0, r->vf, tvf, r->seconds_cpu, seconds / r->seconds_cpu,
         (double)m.total_bytes / 1048576.0, (double)m.total_bytes / (seconds * 100.0),
         (double)r->heap_work / 1048576.0, (double)r->buffer_peak / 1048576.0, r->forced);
  ASSERT(vt_close(r->f0, tf0, 0.01, 0));
  ASSERT_NEAR(r->vf, tvf, 0.03);
  ASSERT(s.jitter_local.value < 0.01);
  ASSERT(!isnan(s.hnr_db.value) && s.hnr_db.value > 10);
  ASSERT(!isnan(s.f1_mean_hz.value));
  ASSERT_EQ(r->forced, 0);
  vm_forensic_voice_destroy(v);
  gen_free(&g);
  return 0;
}

/* More than an hour, streamed: ground truth, and memory that does not
 * grow with the duration apart from the compact tracks. */
static int test_long_streamed(void) {
  const char *e = getenv("VM_VOICE_LONG_S");
  double seconds = e ? atof(e) : SLOW_BUILD ? 300.0 : 3720.0;
  long hwm0 = vm_hwm_kb();
  run shortr, longr;
  if (run_long(120.0, &shortr)) return 1;
  if (run_long(seconds, &longr)) return 1;
  long hwm1 = vm_hwm_kb();
  printf("  VmHWM %ld -> %ld kB\n", hwm0, hwm1);
  if (SLOW_BUILD) return 0;
  /* working memory (heap in use beyond the final tracks) is flat */
  ASSERT_LT(longr.heap_work, 8u << 20);
  ASSERT_LT(longr.heap_work, shortr.heap_work + (2u << 20));
  ASSERT_LT(longr.buffer_peak, 4u << 20);
  /* the tracks: <= 40 bytes per 10 ms on this signal, < 20 MB for the hour */
  ASSERT_LT((double)longr.track_bytes / (seconds * 100.0), 40.0);
  ASSERT_LT(longr.track_bytes + longr.heap_work, 20u << 20);
  if (hwm0 > 0 && hwm1 > 0 && seconds >= 3600) ASSERT_LT(hwm1 - hwm0, 30L * 1024);
  return 0;
}

/* ---- streamed == whole-array functions ---- */

static int voiced_at(void *pitch, double t_s) { return !isnan(vm_dsp_pitch_get_value(pitch, t_s)); }

#define SAME_FLOAT(a, b) (((a) == (b)) || (isnan(a) && isnan(b)))

/* Every track of the voice analysis equals the reference computed on the
 * whole array by the dsp functions (whole-file Viterbi included). */
static int compare_tracks_at(const float *x, size_t n, int rate, const char *what) {
  vm_voice *v;
  ASSERT_OK(vm_forensic_voice_create(x, n, rate, NULL, &v, NULL));
  vm_pitch_params pp;
  vm_dsp_pitch_params_init(&pp);
  vm_pitch_track *p;
  ASSERT_OK(vm_dsp_pitch_create(x, n, rate, &pp, &p, NULL));
  const vm_pitch_track *sp = vm_forensic_voice_get_pitch(v);
  ASSERT_EQ(sp->n_frames, p->n_frames);
  size_t diff = 0, voiced = 0;
  for (size_t i = 0; i < p->n_frames; i++) diff += sp->f0_hz[i] != p->f0_hz[i], voiced += p->f0_hz[i] > 0;
  vm_pointprocess *pu;
  ASSERT_OK(vm_dsp_pointprocess_create(x, n, rate, p, NULL, &pu, NULL));
  const vm_pointprocess *spu = vm_forensic_voice_get_pulses(v);
  vm_hnr_params hp;
  vm_dsp_hnr_params_init(&hp);
  vm_hnr_track *h;
  ASSERT_OK(vm_dsp_hnr_create(x, n, rate, &hp, &h, NULL));
  const vm_hnr_track *sh = vm_forensic_voice_get_hnr(v);
  vm_formant_params fp;
  vm_dsp_formant_params_init(&fp);
  vm_formant_track *f;
  ASSERT_OK(vm_dsp_formant_create_sparse(x, n, rate, &fp, voiced_at, p, &f, NULL));
  const vm_formant_track *sf = vm_forensic_voice_get_formants(v);
  vm_intensity_track *it;
  ASSERT_OK(vm_dsp_intensity_create(x, n, rate, 100.0, 0.0, &it, NULL));
  const vm_intensity_track *sit = vm_forensic_voice_get_intensity(v);
  printf("  %s at %d Hz: %.1f s, %zu pitch frames (%zu voiced), %zu pulses: f0 differs in %zu frames\n", what, rate,
         (double)n / rate, p->n_frames, voiced, pu->n, diff);
  ASSERT_EQ(diff, 0);
  ASSERT_EQ(spu->n, pu->n);
  for (size_t i = 0; i < pu->n; i++) {
    ASSERT(spu->t_s[i] == pu->t_s[i]);
    ASSERT(SAME_FLOAT(spu->amp[i], pu->amp[i]));
  }
  ASSERT_EQ(sh->n_frames, h->n_frames);
  for (size_t i = 0; i < h->n_frames; i++) ASSERT(SAME_FLOAT(sh->hnr_db[i], h->hnr_db[i]));
  ASSERT_EQ(sf->n_frames, f->n_frames);
  for (size_t i = 0; i < f->n_frames; i++)
    for (int k = 1; k <= 3; k++) ASSERT(SAME_FLOAT(vm_dsp_formant_get(sf, i, k), vm_dsp_formant_get(f, i, k)));
  ASSERT_EQ(sit->n_frames, it->n_frames);
  for (size_t i = 0; i < it->n_frames; i++) ASSERT(sit->db[i] == it->db[i]);
  vm_dsp_pitch_destroy(p);
  vm_dsp_pointprocess_destroy(pu);
  vm_dsp_hnr_destroy(h);
  vm_dsp_formant_destroy(f);
  vm_dsp_intensity_destroy(it);
  vm_forensic_voice_destroy(v);
  return 0;
}

static int compare_tracks(const float *x, size_t n, const char *what) {
  return compare_tracks_at(x, n, RATE, what);
}

static int test_stream_equals_array_synthetic(void) {
  /* short edge cases: empty, shorter than a window, silence, one vowel */
  static float x[3 * RATE];
  ASSERT_EQ(compare_tracks(x, 0, "empty"), 0);
  ASSERT_EQ(compare_tracks(x, 500, "silence 31 ms"), 0);
  ASSERT_EQ(compare_tracks(x, RATE, "silence 1 s"), 0);
  const double fmt[3] = {700, 1220, 2600};
  vt_vowel(x + RATE, RATE, RATE, 150, 0.01, 0.05, 0.001, fmt, 5);
  ASSERT_EQ(compare_tracks(x, 3 * RATE, "vowel between silences"), 0);
  vt_vowel(x, 3 * RATE, RATE, 95, 0.02, 0.08, 0.02, fmt, 7); /* noisy, voiced throughout */
  ASSERT_EQ(compare_tracks(x, 3 * RATE, "noisy 3 s vowel"), 0);
  /* other rates: telephone, the formant rate itself (no resampling), CD */
  const int rates[3] = {8000, 11000, 44100};
  for (int r = 0; r < 3; r++) {
    size_t m = (size_t)(4 * rates[r]);
    float *z = calloc(m, sizeof(float));
    ASSERT_NOT_NULL(z);
    vt_vowel(z + rates[r], 2 * (size_t)rates[r], rates[r], 130, 0.01, 0.05, 0.002, fmt, 9);
    ASSERT_EQ(compare_tracks_at(z, m, rates[r], "vowel between silences"), 0);
    free(z);
  }
  /* generated turns (three voices, pauses), 3 minutes */
  gen g;
  ASSERT_EQ(gen_init(&g, 180 * RATE), 0);
  float *y = malloc(sizeof(float) * g.n);
  ASSERT_NOT_NULL(y);
  gen_read(&g, 0, g.n, y);
  ASSERT_EQ(compare_tracks(y, g.n, "three-voice turns"), 0);
  free(y);
  gen_free(&g);
  return 0;
}

/* A long multi-speaker signal: espeak-ng speech of four voices in turns,
 * with noise-free pauses, tiled to 10 minutes. */
static int test_stream_equals_array_speech(void) {
  if (system("espeak-ng --version >/dev/null 2>&1") != 0) TEST_SKIP("espeak-ng not installed");
  static const tk_voice voices[4] = {{"-v en-us -s 160"}, {"-v en-gb -s 150 -p 70"},
                                     {"-v ko -s 150"}, {"-v ko -s 140 -p 30"}};
  static const char *text[4] = {
      "Hello, this is a test call. Please send the report before Friday.",
      "I will call you back tomorrow morning about the contract.",
      "안녕하세요. 오늘 회의는 세 시에 시작합니다. 자료를 미리 보내 주세요.",
      "지금 당장 돈을 보내지 않으면 큰일 날 줄 알아. 내 말 똑바로 들어.",
  };
  tk_sig u[4];
  for (int i = 0; i < 4; i++) {
    u[i] = tk_say(&voices[i], text[i]);
    ASSERT_NOT_NULL(u[i].x);
  }
  tk_cleanup();
  size_t n = (size_t)(SLOW_BUILD ? 60 : 600) * RATE, pos = 0;
  float *x = calloc(n, sizeof(float));
  ASSERT_NOT_NULL(x);
  for (int k = 0; pos < n; k++) {
    const tk_sig *s = &u[k % 4];
    for (size_t i = 0; i < s->n && pos < n; i++) x[pos++] = s->x[i];
    pos += (size_t)((0.2 + 0.15 * (k % 5)) * RATE);
  }
  int rc = compare_tracks(x, n, "espeak-ng turns");
  free(x);
  for (int i = 0; i < 4; i++) free(u[i].x);
  return rc;
}

/* Ten minutes of silence between two vowels: no track holds the samples
 * of the silence (the window stays small), and the tracks are unchanged. */
static int test_long_silence_window(void) {
  size_t n = (size_t)(604 * RATE);
  float *x = calloc(n, sizeof(float));
  ASSERT_NOT_NULL(x);
  const double fmt[3] = {500, 1500, 2500};
  vt_vowel(x, 2 * RATE, RATE, 120, 0.01, 0.05, 0.001, fmt, 21);
  vt_vowel(x + n - 2 * RATE, 2 * RATE, RATE, 180, 0.01, 0.05, 0.001, fmt, 22);
  vm_voice *v;
  ASSERT_OK(vm_forensic_voice_create(x, n, RATE, NULL, &v, NULL));
  vm_voice_memory m;
  vm_forensic_voice_get_memory(v, &m);
  printf("  window %.2f MB for 604 s with 600 s of silence\n", (double)m.buffer_peak_bytes / 1048576.0);
  ASSERT_LT(m.buffer_peak_bytes, 1u << 20);
  vm_forensic_voice_destroy(v);
  int rc = compare_tracks(x, n, "vowel, 600 s silence, vowel");
  free(x);
  return rc;
}

/* A source that fails part-way: its error comes back, nothing leaks. */
static int failing_read(void *user, size_t offset, size_t n, float *buf) {
  (void)user;
  if (offset + n > 3 * RATE) return VM_EIO;
  memset(buf, 0, n * sizeof(float));
  return 0;
}

static int test_source_error_and_enomem(void) {
  vm_voice_source src = {10 * RATE, RATE, failing_read, NULL};
  vm_voice *v = (vm_voice *)&src;
  vm_err e;
  ASSERT_EQ(vm_forensic_voice_create_stream(&src, NULL, &v, &e), VM_EIO);
  ASSERT_NULL(v);
  /* every allocation of a create failing in turn: VM_ENOMEM, no leak
   * (the sanitizer build checks), then success */
  static float x[2 * RATE];
  const double fmt[3] = {700, 1220, 2600};
  vt_vowel(x + RATE / 2, RATE, RATE, 150, 0.01, 0.05, 0.001, fmt, 5);
  int ok = 0;
  for (long k = 0; k < 400 && !ok; k++) {
    vm_alloc_fail_after(k);
    int rc = vm_forensic_voice_create(x, 2 * RATE, RATE, NULL, &v, NULL);
    vm_alloc_fail_after(-1);
    if (rc == VM_OK) {
      ok = 1;
      vm_voice_summary s;
      vm_forensic_voice_summary_get(v, 0, 0, &s);
      ASSERT_NEAR(s.f0_mean_hz.value, 150, 2);
      vm_forensic_voice_destroy(v);
    } else {
      ASSERT_EQ(rc, VM_ENOMEM);
      ASSERT_NULL(v);
    }
  }
  ASSERT(ok);
  return 0;
}

/* The long test runs first, so that VmHWM measures it alone. */
TEST_MAIN(TEST_ENTRY(test_long_streamed), TEST_ENTRY(test_stream_equals_array_synthetic),
          TEST_ENTRY(test_stream_equals_array_speech), TEST_ENTRY(test_source_error_and_enomem),
          TEST_ENTRY(test_long_silence_window))
