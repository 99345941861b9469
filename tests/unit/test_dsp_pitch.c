/* Pitch tracker: ground truth on synthetic vowels, edge cases, and
 * agreement with Praat ("To Pitch", ac) on synthetic and espeak-ng speech.
 * Praat comparisons skip when praat is not installed. */
#include <math.h>
#include <stdlib.h>

#include "dsp_pitch.h"
#include "test.h"
#include "voice_test_util.h"

#define RATE 16000

/* The reference: Praat's NUM_interpolate_sinc written out plainly (one
 * sin/cos rotation per term), as dsp_pitch.c had it before the fast
 * two-terms-per-division form. */
static double sinc_ref(const double *y1, long size, double x, long max_depth) {
  long midleft = (long)floor(x), midright = midleft + 1;
  if (x == midleft) return y1[midleft];
  if (max_depth > midright - 1) max_depth = midright - 1;
  if (max_depth > size - midleft) max_depth = size - midleft;
  double result = 0.0;
  long left = midright - max_depth, right = midleft + max_depth;
  double a = M_PI * (x - midleft), halfsina = 0.5 * sin(a);
  double aa = a / (x - left + 1.0), daa = M_PI / (x - left + 1.0);
  for (long ix = midleft; ix >= left; ix--) {
    result += y1[ix] * (halfsina / a * (1.0 + cos(aa)));
    a += M_PI, aa += daa, halfsina = -halfsina;
  }
  a = M_PI * (midright - x);
  halfsina = 0.5 * sin(a);
  aa = a / (right - x + 1.0), daa = M_PI / (right - x + 1.0);
  for (long ix = midright; ix <= right; ix++) {
    result += y1[ix] * (halfsina / a * (1.0 + cos(aa)));
    a += M_PI, aa += daa, halfsina = -halfsina;
  }
  return result;
}

/* The fast sinc equals the reference at depths 2..700, odd and even term
 * counts, everywhere in the array. */
static int test_sinc_matches_reference(void) {
  static double y[1501];
  uint64_t seed = 7;
  for (int i = 1; i <= 1500; i++) y[i] = vt_gauss(&seed);
  double worst = 0;
  const long depths[] = {2, 3, 30, 70, 71, 700};
  for (size_t d = 0; d < sizeof depths / sizeof depths[0]; d++)
    for (int k = 0; k < 400; k++) {
      double x = 1.0 + 1499.0 * (k + 0.37) / 400.0 + 1e-3 * (double)d;
      double got = vm__dsp_interpolate_sinc(y, 1500, x, depths[d]);
      double want = sinc_ref(y, 1500, x, depths[d]);
      double err = fabs(got - want) / (1.0 + fabs(want));
      if (err > worst) worst = err;
    }
  printf("  worst relative difference %.3g\n", worst);
  ASSERT(worst < 1e-11);
  return 0;
}

static void stats(const vm_pitch_track *t, double *mean, double *vf) {
  double s = 0;
  size_t nv = 0;
  for (size_t i = 0; i < t->n_frames; i++)
    if (vm_dsp_pitch_is_voiced(t, i)) s += t->f0_hz[i], nv++;
  *mean = nv ? s / (double)nv : NAN;
  *vf = t->n_frames ? (double)nv / (double)t->n_frames : NAN;
}

static int analyse(const float *x, size_t n, int rate, double *mean, double *vf, size_t *nf) {
  vm_pitch_params p;
  vm_dsp_pitch_params_init(&p);
  vm_pitch_track *t;
  vm_err e;
  int rc = vm_dsp_pitch_create(x, n, rate, &p, &t, &e);
  if (rc) return rc;
  stats(t, mean, vf);
  if (nf) *nf = t->n_frames;
  vm_dsp_pitch_destroy(t);
  return 0;
}

static int test_vowel_ground_truth(void) {
  static float x[RATE];
  const double fmt[3] = {700, 1220, 2600}, f0s[] = {90, 140, 220, 330};
  for (int k = 0; k < 4; k++) {
    vt_vowel(x, RATE, RATE, f0s[k], 0.0, 0.0, 0.0, fmt, 7);
    double mean, vf;
    ASSERT_OK(analyse(x, RATE, RATE, &mean, &vf, NULL));
    ASSERT_NEAR(mean, f0s[k], 0.005 * f0s[k]);
    ASSERT(vf > 0.9);
  }
  return 0;
}

static int test_edge_cases(void) {
  static float x[RATE];
  double mean, vf;
  size_t nf;
  ASSERT_OK(analyse(x, RATE, RATE, &mean, &vf, &nf)); /* digital silence */
  ASSERT(nf > 90);
  ASSERT_NEAR(vf, 0.0, 1e-12);
  ASSERT(isnan(mean));
  x[RATE / 2] = 0.9f; /* a single click is not voice */
  ASSERT_OK(analyse(x, RATE, RATE, &mean, &vf, &nf));
  ASSERT(vf < 0.05);
  ASSERT_OK(analyse(x, 0, RATE, &mean, &vf, &nf)); /* empty */
  ASSERT_EQ(nf, 0);
  ASSERT_OK(analyse(x, 500, RATE, &mean, &vf, &nf)); /* 31 ms: shorter than a window */
  ASSERT_EQ(nf, 0);
  const double fmt[3] = {500, 1500, 2500};
  vt_vowel(x, RATE, RATE, 150, 0, 0, 0, fmt, 3);
  for (int i = 0; i < RATE; i++) x[i] = x[i] * 3.0f > 0.99f ? 0.99f : x[i] * 3.0f < -0.99f ? -0.99f : x[i] * 3.0f;
  ASSERT_OK(analyse(x, RATE, RATE, &mean, &vf, NULL)); /* heavy clipping */
  ASSERT_NEAR(mean, 150, 1.5);
  vt_vowel(x, RATE, RATE, 150, 0, 0, 0, fmt, 3);
  for (int i = 0; i < RATE; i++) x[i] += 0.3f; /* DC offset */
  ASSERT_OK(analyse(x, RATE, RATE, &mean, &vf, NULL));
  ASSERT_NEAR(mean, 150, 1.5);
  ASSERT(vf > 0.9);
  vt_vowel(x, 3000, RATE, 150, 0, 0, 0, fmt, 3); /* 0.19 s */
  ASSERT_OK(analyse(x, 3000, RATE, &mean, &vf, &nf));
  ASSERT(nf > 0);
  ASSERT_NEAR(mean, 150, 1.5);
  vm_pitch_params p;
  vm_dsp_pitch_params_init(&p);
  p.ceiling_hz = 50; /* below the floor */
  vm_pitch_track *t = (vm_pitch_track *)1;
  ASSERT_EQ(vm_dsp_pitch_create(x, RATE, RATE, &p, &t, NULL), VM_EINVAL);
  ASSERT_NULL(t);
  return 0;
}

/* Narrow-band audio: an 8 kHz vowel upsampled to 16 kHz. */
static int test_telephone_upsampled(void) {
  static float x8[8000], x16[RATE];
  const double fmt[3] = {600, 1100, 2400};
  vt_vowel(x8, 8000, 8000, 120, 0, 0, 0, fmt, 5);
  for (int i = 0; i < RATE; i++) { /* windowed-sinc 2x interpolation */
    double pos = i / 2.0, s = 0;
    for (int k = (int)pos - 24; k <= (int)pos + 24; k++) {
      if (k < 0 || k >= 8000) continue;
      double d = pos - k, w = 0.5 + 0.5 * cos(M_PI * d / 25.0);
      s += x8[k] * w * (fabs(d) < 1e-9 ? 1.0 : sin(M_PI * d) / (M_PI * d));
    }
    x16[i] = (float)s;
  }
  double mean, vf;
  ASSERT_OK(analyse(x16, RATE, RATE, &mean, &vf, NULL));
  ASSERT_NEAR(mean, 120, 1.2);
  ASSERT(vf > 0.9);
  return 0;
}

static int compare_with_praat(const char *wav) {
  size_t n;
  int rate;
  float *x = vt_read_wav(wav, &n, &rate);
  ASSERT_NOT_NULL(x);
  double mean, vf;
  int rc = analyse(x, n, rate, &mean, &vf, NULL);
  free(x);
  ASSERT_OK(rc);
  vt_report r;
  ASSERT_OK(vt_praat("voice_report.praat", wav, 75, 600, &r));
  double pvf = vt_get(&r, "pitch_voiced") / vt_get(&r, "pitch_frames");
  printf("  %s: f0 mean %.3f (praat %.3f), voiced %.3f (praat %.3f)\n", wav, mean,
         vt_get(&r, "f0_mean"), vf, pvf);
  ASSERT(vt_close(mean, vt_get(&r, "f0_mean"), 0.01, 0));
  ASSERT_NEAR(vf, pvf, 0.05);
  return 0;
}

static int test_praat_synthetic(void) {
  if (!vt_have_praat()) TEST_SKIP("praat not installed");
  static float x[RATE];
  const double fmt[3] = {700, 1220, 2600};
  char wav[256];
  snprintf(wav, sizeof wav, "%s/pitch_vowel.wav", vt_tmpdir());
  vt_vowel(x, RATE, RATE, 130, 0.01, 0.05, 0.01, fmt, 11);
  ASSERT_OK(vt_write_wav(wav, x, RATE, RATE));
  int rc = compare_with_praat(wav);
  unlink(wav);
  return rc;
}

static int test_praat_espeak(void) {
  if (!vt_have_praat()) TEST_SKIP("praat not installed");
  if (system("espeak-ng --version >/dev/null 2>&1") != 0) TEST_SKIP("espeak-ng not installed");
  const char *cmds[] = {
      "-v en-us -s 160 'Hello, this is a test call. Please send the report before Friday.'",
      "-v ko -s 150 -p 70 '안녕하세요. 오늘 회의는 세 시에 시작합니다.'",
  };
  for (int i = 0; i < 2; i++) {
    char wav[256], cmd[1024];
    snprintf(wav, sizeof wav, "%s/pitch_es%d.wav", vt_tmpdir(), i);
    snprintf(cmd, sizeof cmd, "espeak-ng -w '%s' %s", wav, cmds[i]);
    ASSERT_EQ(system(cmd), 0);
    int rc = compare_with_praat(wav);
    unlink(wav);
    if (rc) return rc;
  }
  return 0;
}

/* ---- streamed pitch (vm__dsp_pitch_stream) against vm_dsp_pitch_create ---- */

typedef struct emitted {
  float *f0;
  size_t n_emits;
} emitted;

static void emit_into(void *user, size_t i, float f0, float strength) {
  (void)strength;
  emitted *e = user;
  e->f0[i] = f0, e->n_emits++;
}

/* Streams x frame by frame (the whole array as the window) with the given
 * lag; *out_diff = frames that differ from the whole-file track. */
static int stream_vs_whole(const float *x, size_t n, double lag_s, size_t *out_diff,
                           size_t *out_forced, size_t *out_voiced) {
  vm_pitch_params p;
  vm_dsp_pitch_params_init(&p);
  vm_pitch_track *t;
  ASSERT_OK(vm_dsp_pitch_create(x, n, RATE, &p, &t, NULL));
  double sum = 0, peak = 0;
  for (size_t i = 0; i < n; i++) sum += x[i];
  double mean = sum / (double)n;
  for (size_t i = 0; i < n; i++) peak = fmax(peak, fabs(x[i] - mean));
  emitted e = {calloc(t->n_frames + 1, sizeof(float)), 0};
  vm__pitch_stream *s;
  ASSERT_OK(vm__dsp_pitch_stream_create(&p, RATE, n, peak, lag_s, emit_into, &e, &s));
  size_t nf;
  double t0, dt, c;
  vm__dsp_pitch_stream_geometry(s, &nf, &t0, &dt, &c);
  ASSERT_EQ(nf, t->n_frames);
  ASSERT_NEAR(t0, t->t0_s, 0);
  while (vm__dsp_pitch_stream_next(s) < nf) {
    ASSERT_OK(vm__dsp_pitch_stream_push(s, x, 0));
    ASSERT(vm__dsp_pitch_stream_n_final(s) <= vm__dsp_pitch_stream_next(s));
  }
  vm__dsp_pitch_stream_finish(s);
  ASSERT_EQ(e.n_emits, nf); /* every frame exactly once */
  ASSERT_EQ(vm__dsp_pitch_stream_n_final(s), nf);
  *out_diff = 0, *out_voiced = 0;
  for (size_t i = 0; i < nf; i++) *out_diff += e.f0[i] != t->f0_hz[i], *out_voiced += t->f0_hz[i] > 0;
  *out_forced = vm__dsp_pitch_stream_n_forced(s);
  vm__dsp_pitch_stream_destroy(s);
  vm_dsp_pitch_destroy(t);
  free(e.f0);
  return 0;
}

/* A 20 s lag gives exactly the whole-file path; the shortest lag (2
 * frames) forces decisions wherever the paths take longer to meet (on
 * this octave-ambiguous signal) and may differ only in a few of them. */
static int test_stream_fixed_lag(void) {
  size_t n = 8 * RATE;
  float *x = calloc(n, sizeof(float)), *y = calloc(n, sizeof(float));
  const double fa[3] = {700, 1220, 2600}, fb[3] = {300, 2300, 3000};
  vt_vowel(x + RATE, 6 * RATE, RATE, 110, 0.03, 0.1, 0.01, fa, 11);
  vt_vowel(y + RATE, 6 * RATE, RATE, 220, 0.03, 0.1, 0.01, fb, 12);
  for (size_t i = 0; i < n; i++) x[i] = 0.6f * x[i] + 0.5f * y[i]; /* two voices an octave apart */
  size_t diff, forced, voiced;
  ASSERT_EQ(stream_vs_whole(x, n, 20.0, &diff, &forced, &voiced), 0);
  printf("  20 s lag: %zu voiced frames, %zu differ, %zu forced\n", voiced, diff, forced);
  ASSERT_EQ(diff, 0);
  ASSERT_EQ(forced, 0);
  ASSERT_EQ(stream_vs_whole(x, n, 0.0, &diff, &forced, &voiced), 0);
  printf("  2-frame lag: %zu voiced frames, %zu differ, %zu forced\n", voiced, diff, forced);
  ASSERT(forced > 0); /* the forced decision is exercised */
  ASSERT(diff <= forced);
  ASSERT(diff * 20 <= voiced);
  free(x), free(y);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_sinc_matches_reference), TEST_ENTRY(test_vowel_ground_truth), TEST_ENTRY(test_edge_cases),
          TEST_ENTRY(test_telephone_upsampled), TEST_ENTRY(test_praat_synthetic),
          TEST_ENTRY(test_praat_espeak), TEST_ENTRY(test_stream_fixed_lag))
