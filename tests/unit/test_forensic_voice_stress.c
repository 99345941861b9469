/* Stress index and escalation zones on synthetic voices whose answer is
 * known: a calm vowel (120 Hz) with a louder (+12 dB), higher (180 Hz,
 * +7 semitones) stretch in the middle; a steady voice; two raised
 * stretches with calm speech between them.
 *
 *   ctest --test-dir build -R test_forensic_voice_stress --output-on-failure
 */
#include <math.h>

#include "test.h"
#include "voice_escalation.h"
#include "voice_stress.h"
#include "voice_test_util.h"

#define RATE 16000

/* Appends `seconds` of vowel at f0_hz, peak amplitude amp, to x at *pos. */
static void add_part(float *x, size_t *pos, double seconds, double f0_hz, double amp, uint64_t seed) {
  const double fmt[3] = {650, 1100, 2500};
  size_t n = (size_t)(seconds * RATE);
  vt_vowel(x + *pos, n, RATE, f0_hz, 0.005, 0.03, 0.002, fmt, seed);
  for (size_t i = 0; i < n; i++) x[*pos + i] *= (float)(amp / 0.5);
  *pos += n;
}

/* parts: (seconds, f0, amplitude) triples. */
static vm_voice *make_voice(const double (*parts)[3], int n_parts, float **out_x) {
  size_t total = 0, pos = 0;
  for (int k = 0; k < n_parts; k++) total += (size_t)(parts[k][0] * RATE);
  float *x = calloc(total, sizeof(float));
  for (int k = 0; k < n_parts; k++) add_part(x, &pos, parts[k][0], parts[k][1], parts[k][2], (uint64_t)k + 3);
  vm_voice *v = NULL;
  if (vm_forensic_voice_create(x, total, RATE, NULL, &v, NULL)) v = NULL;
  *out_x = x;
  return v;
}

static const double raised[3][3] = {{6, 120, 0.125}, {4, 180, 0.5}, {4, 120, 0.125}};

static int test_zone_at_raised_segment(void) {
  float *x;
  vm_voice *v = make_voice(raised, 3, &x);
  ASSERT_NOT_NULL(v);
  vm_escalation_result *r;
  ASSERT_OK(vm_forensic_escalation_create(v, NULL, NULL, 0, NULL, &r));
  printf("  baseline %.1f dB %.1f Hz, %zu zone(s)", r->baseline_intensity_db, r->baseline_f0_hz, r->n_zones);
  if (r->n_zones)
    printf(": %.2f-%.2f s peak %.2f, +%.1f dB, +%.2f st (%.0f %%)", r->zones[0].start_s, r->zones[0].end_s,
           r->zones[0].peak_s, r->zones[0].intensity_rise_db, r->zones[0].f0_rise_st, r->zones[0].f0_rise_percent);
  printf("\n");
  ASSERT_NEAR(r->baseline_f0_hz, 120, 2);
  ASSERT_EQ(r->n_zones, 1);
  const vm_escalation_zone *z = &r->zones[0];
  ASSERT_NEAR(z->start_s, 6.0, 0.5);
  ASSERT_NEAR(z->end_s, 10.0, 0.5);
  ASSERT(z->peak_s > z->start_s && z->peak_s < z->end_s);
  ASSERT_NEAR(z->intensity_rise_db, 12.0, 2.0);
  ASSERT_NEAR(z->f0_rise_st, 12.0 * log2(180.0 / 120.0), 0.5);
  ASSERT_NEAR(z->f0_rise_percent, 50.0, 5.0);
  json_t *j = vm_forensic_escalation_to_json(r);
  ASSERT_NOT_NULL(j);
  json_t *zs = json_object_get(j, "zones");
  ASSERT_EQ(json_array_size(zs), 1);
  ASSERT_NEAR(json_real_value(json_object_get(json_array_get(zs, 0), "start_s")), z->start_s, 1e-12);
  ASSERT_NOT_NULL(json_object_get(json_object_get(j, "thresholds"), "rise_db"));
  json_decref(j);
  vm_forensic_escalation_destroy(r);
  /* restricted to the calm ranges only: nothing raised there */
  double t0[2] = {0, 10.5}, t1[2] = {5.5, 14};
  ASSERT_OK(vm_forensic_escalation_create(v, t0, t1, 2, NULL, &r));
  ASSERT_EQ(r->n_zones, 0);
  vm_forensic_escalation_destroy(r);
  vm_forensic_voice_destroy(v);
  free(x);
  return 0;
}

static int test_steady_voice_no_zone(void) {
  static const double steady[1][3] = {{14, 140, 0.3}};
  float *x;
  vm_voice *v = make_voice(steady, 1, &x);
  ASSERT_NOT_NULL(v);
  vm_escalation_result *r;
  ASSERT_OK(vm_forensic_escalation_create(v, NULL, NULL, 0, NULL, &r));
  ASSERT_EQ(r->n_zones, 0);
  ASSERT_NEAR(r->baseline_f0_hz, 140, 2);
  vm_forensic_escalation_destroy(r);
  /* silence: no baseline, a reason, no zone */
  static float z[2 * RATE];
  vm_voice *vs;
  ASSERT_OK(vm_forensic_voice_create(z, 2 * RATE, RATE, NULL, &vs, NULL));
  ASSERT_OK(vm_forensic_escalation_create(vs, NULL, NULL, 0, NULL, &r));
  ASSERT_EQ(r->n_zones, 0);
  ASSERT(isnan(r->baseline_intensity_db));
  ASSERT_NOT_NULL(r->null_reason);
  json_t *j = vm_forensic_escalation_to_json(r);
  ASSERT(json_is_null(json_object_get(json_object_get(j, "baseline"), "f0_hz")));
  json_decref(j);
  vm_forensic_escalation_destroy(r);
  vm_forensic_voice_destroy(vs);
  vm_forensic_voice_destroy(v);
  free(x);
  return 0;
}

/* The original summed rises until a joint drop and merged these into one
 * long zone; ours closes each when the voice comes back down. */
static int test_two_zones_voice_comes_down(void) {
  static const double parts[5][3] = {
      {5, 120, 0.125}, {3, 170, 0.45}, {3.5, 120, 0.125}, {3, 175, 0.5}, {4, 120, 0.125}};
  float *x;
  vm_voice *v = make_voice(parts, 5, &x);
  ASSERT_NOT_NULL(v);
  vm_escalation_result *r;
  ASSERT_OK(vm_forensic_escalation_create(v, NULL, NULL, 0, NULL, &r));
  ASSERT_EQ(r->n_zones, 2);
  ASSERT_NEAR(r->zones[0].start_s, 5.0, 0.5);
  ASSERT_NEAR(r->zones[0].end_s, 8.0, 0.5);
  ASSERT_NEAR(r->zones[1].start_s, 11.5, 0.5);
  ASSERT_NEAR(r->zones[1].end_s, 14.5, 0.5);
  vm_forensic_escalation_destroy(r);
  vm_forensic_voice_destroy(v);
  free(x);
  return 0;
}

static int test_stress_higher_when_raised(void) {
  float *x;
  vm_voice *v = make_voice(raised, 3, &x);
  ASSERT_NOT_NULL(v);
  double b0 = 0, b1 = 14;
  vm_stress_baseline b;
  ASSERT_OK(vm_forensic_stress_baseline_init(v, &b0, &b1, NULL, 1, NULL, &b));
  ASSERT_EQ(b.n_windows_total, 7);
  ASSERT_NEAR(b.median[VM_STRESS_F0_LEVEL], 12.0 * log2(1.2), 0.3);
  ASSERT(isnan(b.median[VM_STRESS_RATE])); /* no rate given */
  double t0[3] = {0, 6, 10}, t1[3] = {6, 10, 14};
  vm_stress_result calm, loud, calm2;
  vm_forensic_stress_segment_get(v, &b, t0[0], t1[0], NAN, NULL, &calm);
  vm_forensic_stress_segment_get(v, &b, t0[1], t1[1], NAN, NULL, &loud);
  vm_forensic_stress_segment_get(v, &b, t0[2], t1[2], NAN, NULL, &calm2);
  printf("  stress calm %.1f (%s), raised %.1f (%s), calm %.1f; raised z: f0 %.2f int %.2f hnr %.2f\n",
         calm.index.value, calm.level, loud.index.value, loud.level, calm2.index.value,
         loud.z[VM_STRESS_F0_LEVEL], loud.z[VM_STRESS_INTENSITY], loud.z[VM_STRESS_HNR]);
  ASSERT(calm.index.value < 33);
  ASSERT(calm2.index.value < 33);
  ASSERT(loud.index.value > calm.index.value + 30);
  ASSERT_STR_EQ(loud.level, "high");
  ASSERT_EQ(loud.n_features, 6);
  ASSERT(isnan(loud.z[VM_STRESS_RATE]));
  /* speech rate, when given, counts */
  double rates[3] = {4.0, 4.2, 3.9};
  vm_stress_baseline br;
  ASSERT_OK(vm_forensic_stress_baseline_init(v, t0, t1, rates, 3, NULL, &br));
  vm_stress_result fast;
  vm_forensic_stress_segment_get(v, &br, 6, 10, 6.5, NULL, &fast);
  ASSERT_EQ(fast.n_features, 7);
  ASSERT_NEAR(fast.z[VM_STRESS_RATE], 3.0, 1e-9);
  /* per speaker: time-weighted mean of the segments */
  vm_stress_speaker sp;
  vm_forensic_stress_speaker_get(v, &b, t0, t1, NULL, 3, NULL, &sp);
  double want = (calm.index.value * 6 + loud.index.value * 4 + calm2.index.value * 4) / 14;
  ASSERT_NEAR(sp.index.value, want, 1e-9);
  ASSERT_NEAR(sp.index_max, loud.index.value, 1e-12);
  ASSERT_NEAR(sp.high_fraction, 4.0 / 14.0, 1e-9);
  json_t *j = vm_forensic_stress_result_to_json(&loud);
  ASSERT_NOT_NULL(j);
  ASSERT_STR_EQ(json_string_value(json_object_get(j, "level")), "high");
  ASSERT(json_is_null(json_object_get(json_object_get(j, "components"), "speech_rate")));
  json_decref(j);
  j = vm_forensic_stress_speaker_to_json(&sp);
  ASSERT_NOT_NULL(json_object_get(j, "high_fraction"));
  json_decref(j);
  j = vm_forensic_stress_baseline_to_json(&b);
  ASSERT_EQ(json_integer_value(json_object_get(j, "windows")), 7);
  json_decref(j);
  vm_forensic_voice_destroy(v);
  free(x);
  return 0;
}

/* Undefined, with a reason: silence, and a baseline that is too short. */
static int test_stress_reasons(void) {
  float *x;
  vm_voice *v = make_voice(raised, 3, &x);
  ASSERT_NOT_NULL(v);
  double b0 = 0, b1 = 3; /* two windows < min_windows */
  vm_stress_baseline b;
  ASSERT_OK(vm_forensic_stress_baseline_init(v, &b0, &b1, NULL, 1, NULL, &b));
  vm_stress_result r;
  vm_forensic_stress_segment_get(v, &b, 6, 10, NAN, NULL, &r);
  ASSERT(isnan(r.index.value));
  ASSERT_NOT_NULL(r.index.reason);
  ASSERT_NULL(r.level);
  json_t *j = vm_forensic_stress_result_to_json(&r);
  ASSERT(json_is_null(json_object_get(j, "index")));
  ASSERT_NOT_NULL(json_object_get(j, "null_reason"));
  json_decref(j);
  vm_forensic_voice_destroy(v);
  free(x);
  static float z[3 * RATE];
  ASSERT_OK(vm_forensic_voice_create(z, 3 * RATE, RATE, NULL, &v, NULL));
  b1 = 3;
  ASSERT_OK(vm_forensic_stress_baseline_init(v, &b0, &b1, NULL, 1, NULL, &b));
  vm_forensic_stress_segment_get(v, &b, 0, 3, NAN, NULL, &r);
  ASSERT(isnan(r.index.value));
  vm_stress_speaker sp;
  vm_forensic_stress_speaker_get(v, &b, &b0, &b1, NULL, 1, NULL, &sp);
  ASSERT(isnan(sp.index.value));
  ASSERT_STR_EQ(sp.index.reason, "no segment could be scored");
  vm_forensic_voice_destroy(v);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_zone_at_raised_segment), TEST_ENTRY(test_steady_voice_no_zone),
          TEST_ENTRY(test_two_zones_voice_comes_down), TEST_ENTRY(test_stress_higher_when_raised),
          TEST_ENTRY(test_stress_reasons))
