/* Voice measures: tracks once, summaries over ranges, reasons for
 * undefined values, JSON keys, and whole-file agreement with Praat on
 * espeak-ng speech (English and Korean, several voices). */
#include <math.h>

#include "test.h"
#include "voice_measures.h"
#include "voice_test_util.h"

#define RATE 16000

static int test_silence_reasons_and_json(void) {
  static float x[RATE];
  vm_voice *v;
  ASSERT_OK(vm_forensic_voice_create(x, RATE, RATE, NULL, &v, NULL));
  vm_voice_summary s;
  vm_forensic_voice_summary_get(v, 0, 0, &s);
  ASSERT(isnan(s.f0_mean_hz.value));
  ASSERT_STR_EQ(s.f0_mean_hz.reason, "no voiced frames");
  ASSERT(isnan(s.hnr_db.value));
  ASSERT(isnan(s.jitter_local.value));
  ASSERT_NEAR(s.voiced_fraction.value, 0, 1e-12);
  json_t *j = vm_forensic_voice_summary_to_json(&s);
  ASSERT_NOT_NULL(j);
  const char *keys[] = {"duration_s", "f0_mean_hz", "f0_median_hz", "f0_sd_hz", "f0_min_hz",
                        "f0_max_hz", "voiced_fraction", "jitter_local", "jitter_rap",
                        "jitter_ppq5", "shimmer_local", "shimmer_apq3", "shimmer_apq5", "hnr_db",
                        "f1_mean_hz", "f2_mean_hz", "f3_mean_hz", "intensity_mean_db",
                        "intensity_max_db"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) ASSERT_NOT_NULL(json_object_get(j, keys[i]));
  ASSERT(json_is_null(json_object_get(j, "hnr_db")));
  ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(j, "null_reasons"), "f0_mean_hz")),
                "no voiced frames");
  json_decref(j);
  vm_forensic_voice_destroy(v);
  ASSERT_OK(vm_forensic_voice_create(x, 500, RATE, NULL, &v, NULL)); /* 31 ms */
  vm_forensic_voice_summary_get(v, 0, 0, &s);
  ASSERT(isnan(s.voiced_fraction.value));
  ASSERT_NOT_NULL(s.voiced_fraction.reason);
  vm_forensic_voice_destroy(v);
  return 0;
}

/* Half silence, half vowel: ranges see only their part. */
static int test_ranges(void) {
  static float x[2 * RATE];
  const double fmt[3] = {700, 1220, 2600};
  vt_vowel(x + RATE, RATE, RATE, 150, 0.01, 0.05, 0.001, fmt, 5);
  vm_voice *v;
  ASSERT_OK(vm_forensic_voice_create(x, 2 * RATE, RATE, NULL, &v, NULL));
  vm_voice_summary all, a, b;
  vm_forensic_voice_summary_get(v, 0, 0, &all);
  vm_forensic_voice_summary_get(v, 0, 0.9, &a);
  vm_forensic_voice_summary_get(v, 1.1, 2.0, &b);
  ASSERT_NEAR(all.voiced_fraction.value, 0.5, 0.05);
  ASSERT(isnan(a.f0_mean_hz.value));
  ASSERT_NEAR(b.f0_mean_hz.value, 150, 1.5);
  ASSERT_NEAR(b.voiced_fraction.value, 1.0, 0.02);
  ASSERT(b.jitter_local.value > 0.005 && b.jitter_local.value < 0.02);
  ASSERT(b.intensity_mean_db.value > a.intensity_mean_db.value + 40);
  ASSERT_NEAR(b.f1_mean_hz.value, 700, 50);
  vm_forensic_voice_destroy(v);
  return 0;
}

/* A voice-like pulse train whose pulses sit exactly at times[] (band-
 * limited impulses through a two-pole tilt and one resonator at 600 Hz). */
static void pulse_voice(float *x, size_t n, const double *times, size_t nt) {
  double *y = calloc(n, sizeof(double));
  for (size_t p = 0; p < nt; p++) {
    double pos = times[p] * RATE;
    long c = (long)floor(pos);
    for (long k = c - 16; k <= c + 16; k++) {
      if (k < 0 || k >= (long)n) continue;
      double d = k - pos, w = 0.5 + 0.5 * cos(M_PI * d / 17.0);
      y[k] += w * (fabs(d) < 1e-9 ? 1.0 : sin(M_PI * d) / (M_PI * d));
    }
  }
  double p1 = exp(-2 * M_PI * 100.0 / RATE), z1 = 0, z2 = 0;
  for (size_t i = 0; i < n; i++) z1 = y[i] + p1 * z1, z2 = z1 + p1 * z2, y[i] = z2;
  double r = exp(-M_PI * 80.0 / RATE), th = 2 * M_PI * 600.0 / RATE, a1 = 2 * r * cos(th), a2 = -r * r;
  double y1 = 0, y2 = 0, peak = 0;
  for (size_t i = 0; i < n; i++) {
    double v = y[i] + a1 * y1 + a2 * y2;
    y2 = y1, y1 = v, y[i] = v;
    if (fabs(v) > peak) peak = fabs(v);
  }
  for (size_t i = 0; i < n; i++) x[i] = (float)(0.5 * y[i] / peak);
  free(y);
}

#define FIELD_EQ(a, b, f) ASSERT((isnan((a).f.value) && isnan((b).f.value)) || (a).f.value == (b).f.value)

/* Several ranges: one range equals summary_get; overlapping ranges merge;
 * pooled frame statistics; no period pair across two ranges. */
static int test_summary_ranges(void) {
  /* exactly periodic 100 Hz until 1.0 s, then exactly periodic 120 Hz */
  static float x[2 * RATE];
  static double times[400];
  size_t nt = 0;
  for (double t = 0.01; t < 1.0; t += 0.01) times[nt++] = t;
  for (double t = times[nt - 1] + 1.0 / 120; t < 1.99; t += 1.0 / 120) times[nt++] = t;
  pulse_voice(x, 2 * RATE, times, nt);
  vm_voice *v;
  ASSERT_OK(vm_forensic_voice_create(x, 2 * RATE, RATE, NULL, &v, NULL));
  vm_voice_summary one, r1, whole, a, b, u, e;
  double t0 = 0.1, t1 = 0.9;
  vm_forensic_voice_summary_get(v, t0, t1, &one);
  ASSERT_OK(vm_forensic_voice_summary_get_ranges(v, &t0, &t1, 1, &r1));
  FIELD_EQ(one, r1, f0_mean_hz); FIELD_EQ(one, r1, f0_median_hz); FIELD_EQ(one, r1, jitter_local);
  FIELD_EQ(one, r1, jitter_ppq5); FIELD_EQ(one, r1, shimmer_apq11); FIELD_EQ(one, r1, hnr_db);
  FIELD_EQ(one, r1, f1_mean_hz); FIELD_EQ(one, r1, intensity_mean_db); FIELD_EQ(one, r1, intensity_max_db);
  ASSERT_EQ(one.n_pulses, r1.n_pulses);
  /* overlapping, unsorted ranges = their union */
  double o0[2] = {0.5, 0.1}, o1[2] = {0.9, 0.6};
  ASSERT_OK(vm_forensic_voice_summary_get_ranges(v, o0, o1, 2, &u));
  FIELD_EQ(one, u, f0_mean_hz); FIELD_EQ(one, u, jitter_local); FIELD_EQ(one, u, shimmer_local);
  ASSERT_EQ(one.n_voiced_frames, u.n_voiced_frames);
  ASSERT_NEAR(u.duration_s, 0.8, 1e-12);
  /* two turns on either side of the pitch step */
  double s0[2] = {1.05, 0.1}, s1[2] = {1.9, 0.95};
  vm_forensic_voice_summary_get(v, 0.1, 0.95, &a);
  vm_forensic_voice_summary_get(v, 1.05, 1.9, &b);
  vm_forensic_voice_summary_get(v, 0.1, 1.9, &whole);
  ASSERT_OK(vm_forensic_voice_summary_get_ranges(v, s0, s1, 2, &u));
  printf("  jitter abs: turn a %.3g s, turn b %.3g s, both turns %.3g s, whole span %.3g s\n",
         a.jitter_local_abs_s.value, b.jitter_local_abs_s.value, u.jitter_local_abs_s.value,
         whole.jitter_local_abs_s.value);
  ASSERT_EQ(u.n_voiced_frames, a.n_voiced_frames + b.n_voiced_frames);
  ASSERT_EQ(u.n_pulses, a.n_pulses + b.n_pulses);
  double pooled = (a.f0_mean_hz.value * (double)a.n_voiced_frames + b.f0_mean_hz.value * (double)b.n_voiced_frames) /
                  (double)(a.n_voiced_frames + b.n_voiced_frames);
  ASSERT_NEAR(u.f0_mean_hz.value, pooled, 1e-9);
  ASSERT(u.f0_min_hz.value < 101 && u.f0_max_hz.value > 119);
  ASSERT_NEAR(u.duration_s, 1.7, 1e-12);
  /* each turn is exactly periodic; only a pair across the step has a
   * 1.7 ms period jump: it must be in the whole span and not in the turns */
  ASSERT(u.jitter_local_abs_s.value <= fmax(a.jitter_local_abs_s.value, b.jitter_local_abs_s.value) + 1e-12);
  ASSERT(u.jitter_local_abs_s.value >= fmin(a.jitter_local_abs_s.value, b.jitter_local_abs_s.value) - 1e-12);
  ASSERT(whole.jitter_local_abs_s.value > 3 * u.jitter_local_abs_s.value);
  ASSERT(u.jitter_local.value < 0.001);
  /* no ranges */
  ASSERT_OK(vm_forensic_voice_summary_get_ranges(v, NULL, NULL, 0, &e));
  ASSERT(isnan(e.f0_mean_hz.value));
  ASSERT_STR_EQ(e.f0_mean_hz.reason, "no time range");
  ASSERT(isnan(e.intensity_mean_db.value));
  vm_forensic_voice_destroy(v);
  return 0;
}

static int compare(const char *wav) {
  size_t n;
  int rate;
  float *x = vt_read_wav(wav, &n, &rate);
  ASSERT_NOT_NULL(x);
  vm_voice *v;
  int rc = vm_forensic_voice_create(x, n, rate, NULL, &v, NULL);
  free(x);
  ASSERT_OK(rc);
  vm_voice_summary s;
  vm_forensic_voice_summary_get(v, 0, 0, &s);
  vm_forensic_voice_destroy(v);
  vt_report r;
  ASSERT_OK(vt_praat("voice_report.praat", wav, 75, 600, &r));
  double pvf = vt_get(&r, "pitch_voiced") / vt_get(&r, "pitch_frames");
  printf("  %s: f0 %.2f/%.2f vf %.3f/%.3f jit %.5f/%.5f shim %.4f/%.4f hnr %.2f/%.2f\n"
         "    F1 %.0f/%.0f F2 %.0f/%.0f int %.2f/%.2f max %.2f/%.2f\n",
         wav, s.f0_mean_hz.value, vt_get(&r, "f0_mean"), s.voiced_fraction.value, pvf,
         s.jitter_local.value, vt_get(&r, "jitter_local"), s.shimmer_local.value,
         vt_get(&r, "shimmer_local"), s.hnr_db.value, vt_get(&r, "hnr_mean"), s.f1_mean_hz.value,
         vt_get(&r, "f1_voiced_mean"), s.f2_mean_hz.value, vt_get(&r, "f2_voiced_mean"),
         s.intensity_mean_db.value, vt_get(&r, "intensity_mean"), s.intensity_max_db.value,
         vt_get(&r, "intensity_max"));
  ASSERT(vt_close(s.f0_mean_hz.value, vt_get(&r, "f0_mean"), 0.01, 0));
  ASSERT(vt_close(s.f0_median_hz.value, vt_get(&r, "f0_median"), 0.01, 0));
  ASSERT_NEAR(s.voiced_fraction.value, pvf, 0.05);
  ASSERT(vt_close(s.jitter_local.value, vt_get(&r, "jitter_local"), 0.10, 0.002));
  ASSERT(vt_close(s.shimmer_local.value, vt_get(&r, "shimmer_local"), 0.10, 0.002));
  ASSERT_NEAR(s.hnr_db.value, vt_get(&r, "hnr_mean"), 1.0);
  /* F1 on speech: within 0.7 % on all four files since the 11 kHz samples
   * lie on Praat's resampling grid (the low Korean voice was 6.8 % off). */
  ASSERT(vt_close(s.f1_mean_hz.value, vt_get(&r, "f1_voiced_mean"), 0.05, 0));
  ASSERT(vt_close(s.f2_mean_hz.value, vt_get(&r, "f2_voiced_mean"), 0.05, 0));
  ASSERT_NEAR(s.intensity_mean_db.value, vt_get(&r, "intensity_mean"), 0.5);
  ASSERT_NEAR(s.intensity_max_db.value, vt_get(&r, "intensity_max"), 0.5);
  return 0;
}

static int test_praat_espeak(void) {
  if (!vt_have_praat()) TEST_SKIP("praat not installed");
  if (system("espeak-ng --version >/dev/null 2>&1") != 0) TEST_SKIP("espeak-ng not installed");
  const char *args[] = {
      "-v en-us -s 160 'Hello, this is a test call. Please send the report before Friday.'",
      "-v en-gb -s 150 -p 70 'I will call you back tomorrow morning about the contract.'",
      "-v ko -s 150 '안녕하세요. 오늘 회의는 세 시에 시작합니다. 자료를 미리 보내 주세요.'",
      "-v ko -s 140 -p 30 '지금 당장 돈을 보내지 않으면 큰일 날 줄 알아. 내 말 똑바로 들어.'",
  };
  char wav[256], cmd[1024];
  snprintf(wav, sizeof wav, "%s/speech.wav", vt_tmpdir());
  for (int k = 0; k < 4; k++) {
    snprintf(cmd, sizeof cmd, "espeak-ng -w '%s' %s", wav, args[k]);
    ASSERT_EQ(system(cmd), 0);
    int rc = compare(wav);
    unlink(wav);
    if (rc) return rc;
  }
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_silence_reasons_and_json), TEST_ENTRY(test_ranges),
          TEST_ENTRY(test_summary_ranges),
          TEST_ENTRY(test_praat_espeak))
