/* Edge cases of the per-file analysis (issue 4): silence, a single click,
 * clipping, DC offset, 8 kHz telephone audio upsampled, very short input,
 * invalid input — every value sensible or null with a reason, never a
 * crash — and the peak memory of the analysis against file length.
 *
 *   ctest --test-dir build -R test_pipeline_analysis_edge --output-on-failure
 *   VM_TEST_MEMORY_MINUTES="10 60" build/tests/test_pipeline_analysis_edge test_memory_per_minute
 */
#include <math.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis.h"
#include "test.h"
#include "voice_measures.h"
#include "voice_test_util.h"

#define RATE 16000

static const double fmt_a[3] = {650, 1100, 2500};

/* Plausible range of each measure (inclusive); a null needs a reason. */
static const struct { const char *key; double lo, hi; } ranges[] = {
    {"f0_mean_hz", 75, 600}, {"f0_median_hz", 75, 600}, {"f0_sd_hz", 0, 300},
    {"f0_min_hz", 75, 600}, {"f0_max_hz", 75, 600}, {"f0_range_st", 0, 36},
    {"voiced_fraction", 0, 1}, {"jitter_local", 0, 0.5}, {"jitter_rap", 0, 0.5},
    {"jitter_ppq5", 0, 0.5}, {"shimmer_local", 0, 2}, {"shimmer_apq3", 0, 2},
    {"shimmer_apq5", 0, 2}, {"hnr_db", -30, 100}, {"f1_mean_hz", 50, 5500},
    {"f2_mean_hz", 50, 5500}, {"f3_mean_hz", 50, 5500}, {"intensity_mean_db", -400, 100},
    {"intensity_max_db", -400, 100}, {"stress_index", 0, 100}, {"speech_rate", 0, 1000},
    {"articulation_rate", 0, 1000},
};

/* Every listed key of o: a number in range, or null with a reason. */
static int check_object(const json_t *o, const char *where) {
  const json_t *why = json_object_get(o, "null_reasons");
  for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
    const json_t *v = json_object_get(o, ranges[i].key);
    if (!v) continue;
    if (json_is_null(v)) {
      const char *r = json_string_value(json_object_get(why, ranges[i].key));
      if (!r || !r[0]) TEST_FAIL_("%s: %s is null without a reason", where, ranges[i].key);
      continue;
    }
    double x = json_number_value(v);
    if (!json_is_number(v) || !(x >= ranges[i].lo && x <= ranges[i].hi))
      TEST_FAIL_("%s: %s = %g outside [%g, %g]", where, ranges[i].key, x, ranges[i].lo, ranges[i].hi);
  }
  return 0;
}

/* Runs the analysis and checks every object of the result. */
static int run_checked(const float *x, size_t n, vm_analysis *a) {
  vm_err err;
  int rc = vm_analysis_run(x, n, RATE, NULL, NULL, NULL, a, &err);
  if (rc) TEST_FAIL_("vm_analysis_run: %s", err.msg);
  if (!a->vad || !a->diarization || !a->acoustic || !a->speakers || !a->segments ||
      !a->escalation || !a->contours)
    TEST_FAIL_("an analysis object is missing");
  if (check_object(a->acoustic, "acoustic")) return 1;
  for (size_t i = 0; i < json_array_size(a->speakers); i++)
    if (check_object(json_object_get(json_array_get(a->speakers, i), "acoustic"), "speaker")) return 1;
  for (size_t i = 0; i < json_array_size(a->segments); i++)
    if (check_object(json_array_get(a->segments, i), "segment")) return 1;
  double dur = json_number_value(json_object_get(a->acoustic, "duration_s"));
  ASSERT_NEAR(dur, (double)n / RATE, 1e-9);
  size_t want = n ? (size_t)floor((double)n / RATE / 0.01 + 1e-9) + 1 : 0;
  ASSERT_EQ(json_array_size(json_object_get(a->contours, "f0_hz")), want);
  ASSERT_EQ(json_array_size(json_object_get(a->contours, "intensity_db")), want);
  return 0;
}

static double num(const json_t *o, const char *key) {
  const json_t *v = json_object_get(o, key);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *reason(const json_t *o, const char *key) {
  return json_string_value(json_object_get(json_object_get(o, "null_reasons"), key));
}

/* 1 s pause, 4 s vowel, 1 s pause: the test voice at f0 (peak 0.5). */
static float *voice_signal(double f0, size_t *n) {
  *n = 6 * RATE;
  float *x = calloc(*n, sizeof *x);
  if (x) vt_vowel(x + RATE, 4 * RATE, RATE, f0, 0.005, 0.03, 0.002, fmt_a, 9);
  return x;
}

static int test_silence(void) {
  static float x[3 * RATE];
  vm_analysis a;
  if (run_checked(x, 3 * RATE, &a)) return 1;
  ASSERT(json_is_null(json_object_get(a.acoustic, "f0_mean_hz")));
  ASSERT_STR_EQ(reason(a.acoustic, "f0_mean_hz"), "no voiced frames");
  ASSERT_NEAR(num(a.acoustic, "speech_ratio"), 0, 1e-12);
  ASSERT_EQ(json_integer_value(json_object_get(a.diarization, "n_speakers")), 0);
  ASSERT_EQ(json_array_size(a.segments), 0);
  ASSERT_EQ(json_array_size(a.speakers), 0);
  ASSERT_EQ(json_array_size(json_object_get(a.escalation, "zones")), 0);
  json_t *b = json_array_get(json_object_get(a.escalation, "speakers"), 0);
  ASSERT(json_is_null(json_object_get(b, "f0_hz")));
  ASSERT_NOT_NULL(json_string_value(json_object_get(b, "null_reason")));
  json_t *f0 = json_object_get(a.contours, "f0_hz"), *db = json_object_get(a.contours, "intensity_db");
  for (size_t i = 0; i < json_array_size(f0); i++) {
    ASSERT(json_is_null(json_array_get(f0, i)));
    ASSERT(json_is_null(json_array_get(db, i))); /* digital silence has no level */
  }
  vm_analysis_deinit(&a);
  return 0;
}

static int test_single_click(void) {
  static float x[3 * RATE];
  memset(x, 0, sizeof x);
  x[RATE + RATE / 2] = 1.0f;
  vm_analysis a;
  if (run_checked(x, 3 * RATE, &a)) return 1;
  double vf = num(a.acoustic, "voiced_fraction");
  printf("  click: voiced fraction %.3f, speech %.2f s, jitter %s\n", vf, num(a.acoustic, "speech_s"),
         reason(a.acoustic, "jitter_local") ? reason(a.acoustic, "jitter_local") : "defined");
  ASSERT(vf <= 0.05);
  ASSERT(json_is_null(json_object_get(a.acoustic, "jitter_local")));
  ASSERT_EQ(json_array_size(json_object_get(a.escalation, "zones")), 0);
  vm_analysis_deinit(&a);
  return 0;
}

static int test_clipping_and_dc_offset(void) {
  size_t n;
  float *x = voice_signal(150, &n);
  ASSERT_NOT_NULL(x);
  vm_analysis ref, a;
  if (run_checked(x, n, &ref)) return 1;
  double f0 = num(ref.acoustic, "f0_mean_hz"), db = num(ref.acoustic, "intensity_mean_db");
  ASSERT_NEAR(f0, 150, 1.5);
  /* clipped: 8x gain, flat tops at full scale */
  float *y = malloc(n * sizeof *y);
  ASSERT_NOT_NULL(y);
  for (size_t i = 0; i < n; i++) y[i] = fmaxf(-1.0f, fminf(1.0f, 8.0f * x[i]));
  if (run_checked(y, n, &a)) return 1;
  printf("  clipped: f0 %.2f Hz (clean %.2f), hnr %.1f dB (clean %.1f)\n", num(a.acoustic, "f0_mean_hz"),
         f0, num(a.acoustic, "hnr_db"), num(ref.acoustic, "hnr_db"));
  ASSERT_NEAR(num(a.acoustic, "f0_mean_hz"), 150, 1.5);
  ASSERT_NEAR(num(a.acoustic, "voiced_fraction"), num(ref.acoustic, "voiced_fraction"), 0.05);
  vm_analysis_deinit(&a);
  /* DC offset of 0.25 full scale: F0 and intensity (mean removed per
   * window, as Praat) unchanged; the VAD's speech band ignores DC */
  for (size_t i = 0; i < n; i++) y[i] = x[i] + 0.25f;
  if (run_checked(y, n, &a)) return 1;
  printf("  dc: f0 %.2f Hz, intensity %.2f dB (clean %.2f), speech %.2f s (clean %.2f)\n",
         num(a.acoustic, "f0_mean_hz"), num(a.acoustic, "intensity_mean_db"), db,
         num(a.acoustic, "speech_s"), num(ref.acoustic, "speech_s"));
  ASSERT_NEAR(num(a.acoustic, "f0_mean_hz"), f0, 0.5);
  ASSERT_NEAR(num(a.acoustic, "intensity_mean_db"), db, 1.0);
  ASSERT_NEAR(num(a.acoustic, "speech_s"), num(ref.acoustic, "speech_s"), 0.1);
  vm_analysis_deinit(&a);
  vm_analysis_deinit(&ref);
  free(x), free(y);
  return 0;
}

/* 8 kHz telephone voice (300 Hz high-pass), upsampled x2 with a
 * Hann-windowed sinc (cut-off 4 kHz): nothing above 4 kHz. */
static int test_telephone_upsampled(void) {
  size_t n8 = 6 * 8000, n = 2 * n8;
  float *x8 = calloc(n8, sizeof *x8), *x = calloc(n, sizeof *x);
  ASSERT(x8 && x);
  vt_vowel(x8 + 8000, 4 * 8000, 8000, 130, 0.005, 0.03, 0.002, fmt_a, 4);
  double a1 = exp(-2 * M_PI * 300.0 / 8000), px = 0, py = 0;
  for (size_t i = 0; i < n8; i++) { /* one-pole high-pass */
    double y = a1 * (py + x8[i] - px);
    px = x8[i], py = y, x8[i] = (float)y;
  }
  for (size_t i = 0; i < n; i++) {
    double t = (double)i / 2.0, s = 0;
    long c = (long)floor(t);
    for (long k = c - 32; k <= c + 32; k++) {
      if (k < 0 || k >= (long)n8) continue;
      double d = t - (double)k, w = 0.5 + 0.5 * cos(M_PI * d / 33.0);
      s += x8[k] * w * (fabs(d) < 1e-12 ? 1.0 : sin(M_PI * d) / (M_PI * d));
    }
    x[i] = (float)s;
  }
  vm_analysis a;
  if (run_checked(x, n, &a)) return 1;
  printf("  telephone: f0 %.2f Hz, vf %.2f, F1 %.0f F2 %.0f Hz, hnr %.1f dB, speech %.2f s\n",
         num(a.acoustic, "f0_mean_hz"), num(a.acoustic, "voiced_fraction"),
         num(a.acoustic, "f1_mean_hz"), num(a.acoustic, "f2_mean_hz"), num(a.acoustic, "hnr_db"),
         num(a.acoustic, "speech_s"));
  ASSERT_NEAR(num(a.acoustic, "f0_mean_hz"), 130, 1.3);
  ASSERT_NEAR(num(a.acoustic, "speech_s"), 4.0, 0.3);
  ASSERT_NEAR(num(a.acoustic, "f1_mean_hz"), 650, 100);
  ASSERT_NEAR(num(a.acoustic, "f2_mean_hz"), 1100, 110);
  ASSERT(num(a.acoustic, "hnr_db") > 5);
  vm_analysis_deinit(&a);
  free(x8), free(x);
  return 0;
}

static int test_very_short(void) {
  static const size_t lens[] = {0, 1, 100, 800, 1600, 3000};
  float *x = calloc(3200, sizeof *x);
  ASSERT_NOT_NULL(x);
  vt_vowel(x, 3200, RATE, 200, 0.005, 0.03, 0.002, fmt_a, 2);
  for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
    vm_analysis a;
    if (run_checked(x, lens[k], &a)) return 1;
    printf("  %4zu samples: f0 %s%.1f, jitter %s, stress segments %zu\n", lens[k],
           reason(a.acoustic, "f0_mean_hz") ? "null: " : "", num(a.acoustic, "f0_mean_hz"),
           reason(a.acoustic, "jitter_local") ? reason(a.acoustic, "jitter_local") : "defined",
           json_array_size(a.segments));
    if (lens[k] <= 100) ASSERT_STR_EQ(reason(a.acoustic, "f0_mean_hz"), "range shorter than one pitch window");
    if (lens[k] >= 800) ASSERT_NEAR(num(a.acoustic, "f0_mean_hz"), 200, 4);
    vm_analysis_deinit(&a);
  }
  free(x);
  return 0;
}

static int test_invalid_input(void) {
  vm_analysis a;
  vm_err err;
  ASSERT_EQ(vm_analysis_run(NULL, 10, RATE, NULL, NULL, NULL, &a, &err), VM_EINVAL);
  ASSERT_EQ(vm_analysis_run(NULL, 0, 0, NULL, NULL, NULL, &a, &err), VM_EINVAL);
  float x[4000] = {0};
  x[2100] = NAN;
  ASSERT_EQ(vm_analysis_run(x, 4000, RATE, NULL, NULL, NULL, &a, &err), VM_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "0.131");
  ASSERT_NULL(a.acoustic);
  x[2100] = INFINITY;
  ASSERT_EQ(vm_analysis_run(x, 4000, RATE, NULL, NULL, NULL, &a, &err), VM_EINVAL);
  return 0;
}

/* ---- memory against file length ---- */

/* A `minutes`-long call: a 10 s pattern (two voices, pauses) repeated. */
static float *long_signal(double minutes, size_t *n) {
  size_t np = 10 * RATE;
  *n = (size_t)(minutes * 60 * RATE);
  float *x = calloc(*n, sizeof *x);
  if (!x) return NULL;
  vt_vowel(x + RATE / 2, 4 * RATE, RATE, 120, 0.005, 0.03, 0.002, fmt_a, 3);
  const double fmt_b[3] = {400, 2000, 2800};
  vt_vowel(x + 5 * RATE + RATE / 2, 4 * RATE, RATE, 210, 0.005, 0.03, 0.002, fmt_b, 5);
  for (size_t i = np; i < *n; i++) x[i] = x[i - np];
  return x;
}

static double maxrss_mb(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)u.ru_maxrss / 1024.0;
}

/* In a child (so each measurement starts from a fresh high-water mark):
 * peak RSS growth of the voice tracks alone and of the whole analysis,
 * beyond the signal itself. Writes MB to fd. */
static void measure_child(double minutes, int fd) {
  size_t n;
  double r[4] = {NAN, NAN, NAN, NAN};
  float *x = long_signal(minutes, &n);
  if (x) {
    double m0 = maxrss_mb();
    vm_voice *v = NULL;
    if (vm_forensic_voice_create(x, n, RATE, NULL, &v, NULL) == VM_OK) {
      r[0] = maxrss_mb() - m0;
      vm_forensic_voice_destroy(v);
    }
    vm_analysis a;
    vm_err err;
    if (vm_analysis_run(x, n, RATE, NULL, NULL, NULL, &a, &err) == VM_OK) {
      r[1] = maxrss_mb() - m0;
      r[2] = (double)json_array_size(json_object_get(a.contours, "f0_hz"));
      r[3] = a.voice_ms;
      vm_analysis_deinit(&a);
    }
  }
  if (write(fd, r, sizeof r) != (ssize_t)sizeof r) _exit(2);
  _exit(0);
}

static int measure(double minutes, double out[4]) {
  int p[2];
  ASSERT_OK(pipe(p));
  fflush(stdout);
  pid_t pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) measure_child(minutes, p[1]);
  close(p[1]);
  ssize_t got = read(p[0], out, 4 * sizeof *out);
  close(p[0]);
  int st;
  waitpid(pid, &st, 0);
  ASSERT_EQ(got, (ssize_t)(4 * sizeof *out));
  ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  return 0;
}

/* Peak growth per audio minute must not rise with length (the cost is
 * linear, documented in docs/acoustics.md §5) and stays under the
 * accepted bounds: one more minute of audio costs under 2 MB (tracks) and
 * 3 MB (whole analysis) beyond the 3.84 MB/min input itself. */
static int test_memory_per_minute(void) {
#if defined(__SANITIZE_ADDRESS__)
  TEST_SKIP("peak RSS is meaningless under AddressSanitizer (redzones, quarantine)");
#endif
  const char *env = getenv("VM_TEST_MEMORY_MINUTES");
  double mins[2] = {2, 8};
  if (env && sscanf(env, "%lf %lf", &mins[0], &mins[1]) != 2) TEST_SKIP("bad VM_TEST_MEMORY_MINUTES");
  double r[2][4];
  for (int k = 0; k < 2; k++) {
    if (measure(mins[k], r[k])) return 1;
    printf("  %5.1f min: voice tracks +%.1f MB (%.2f MB/min), whole analysis +%.1f MB (%.2f MB/min), "
           "voice %.0f ms (%.0fx real time), %.0f contour points\n", mins[k], r[k][0],
           r[k][0] / mins[k], r[k][1], r[k][1] / mins[k], r[k][3], mins[k] * 60e3 / r[k][3], r[k][2]);
    ASSERT(r[k][0] / mins[k] < 4.0);
    ASSERT(r[k][1] / mins[k] < 5.0);
  }
  /* the marginal cost of one more minute (fixed set-up costs cancel) */
  double slope_tracks = (r[1][0] - r[0][0]) / (mins[1] - mins[0]);
  double slope_all = (r[1][1] - r[0][1]) / (mins[1] - mins[0]);
  printf("  marginal: voice tracks %.2f MB/min, whole analysis %.2f MB/min\n", slope_tracks,
         slope_all);
  ASSERT(slope_tracks < 2.0);
  ASSERT(slope_all < 3.0);
  /* linear, not worse: per-minute growth of the long file within 30 % of the short one's */
  ASSERT(r[1][1] / mins[1] < 1.3 * r[0][1] / mins[0] + 0.5);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_silence), TEST_ENTRY(test_single_click),
          TEST_ENTRY(test_clipping_and_dc_offset), TEST_ENTRY(test_telephone_upsampled),
          TEST_ENTRY(test_very_short), TEST_ENTRY(test_invalid_input),
          TEST_ENTRY(test_memory_per_minute))
