/* voice_stress.c — stress index against the speaker's own baseline.
 *
 * DESIGN
 * Everything is read from the tracks of one vm_voice through
 * vm_forensic_voice_summary_get, so no track is recomputed: a baseline
 * window and a scored segment are just summaries over time ranges. The
 * baseline keeps per feature the median and 1.4826 MAD over windows
 * (robust to the few raised windows that are what we look for); a segment
 * becomes signed, clipped robust z-scores and one weighted mean. See the
 * header for the formula and docs/acoustics.md for the reasoning.
 */
#include "voice_stress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vm_alloc.h"
#include "vm_json.h"

static const char *const feature_key[VM_STRESS_N_FEATURES] = {
    "f0_level", "f0_variability", "intensity", "jitter", "shimmer", "hnr", "speech_rate"};

/* +1: higher means more aroused; -1: lower does (HNR). */
static const double feature_sign[VM_STRESS_N_FEATURES] = {1, 1, 1, 1, 1, -1, 1};

void vm_forensic_stress_params_init(vm_stress_params *p) {
  static const double w[VM_STRESS_N_FEATURES] = {0.25, 0.10, 0.25, 0.08, 0.08, 0.09, 0.15};
  static const double floor_[VM_STRESS_N_FEATURES] = {0.5, 0.3, 1.5, 0.002, 0.01, 1.0, 0.3};
  p->window_s = 2.0;
  memcpy(p->weight, w, sizeof w);
  memcpy(p->min_scale, floor_, sizeof floor_);
  p->z_clip = 3.0;
  p->full_scale = 2.5;
  p->low_below = 33.0;
  p->high_from = 66.0;
  p->min_windows = 3;
}

/* The seven features of [t0, t1) (NAN where undefined). */
static void features_get(const vm_voice *v, double t0, double t1, double rate_sps,
                         double f[VM_STRESS_N_FEATURES]) {
  vm_voice_summary s;
  vm_forensic_voice_summary_get(v, t0, t1, &s);
  double med = s.f0_median_hz.value, mean = s.f0_mean_hz.value;
  f[VM_STRESS_F0_LEVEL] = med > 0 ? 12.0 * log2(med / 100.0) : NAN;
  /* SD in Hz to semitones at the mean (first order: d st = 12/ln2 df/f) */
  f[VM_STRESS_F0_VAR] = mean > 0 ? 12.0 / M_LN2 * s.f0_sd_hz.value / mean : NAN;
  f[VM_STRESS_INTENSITY] = s.intensity_mean_db.value;
  f[VM_STRESS_JITTER] = s.jitter_local.value;
  f[VM_STRESS_SHIMMER] = s.shimmer_local.value;
  f[VM_STRESS_HNR] = s.hnr_db.value;
  f[VM_STRESS_RATE] = rate_sps > 0 ? rate_sps : NAN;
  /* a window without voice has no meaningful loudness for arousal */
  if (isnan(f[VM_STRESS_F0_LEVEL])) f[VM_STRESS_INTENSITY] = NAN;
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

/* Median of x[0..n) (sorts x). */
static double median_sorted(double *x, size_t n) {
  qsort(x, n, sizeof(double), cmp_double);
  return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

int vm_forensic_stress_baseline_init(const vm_voice *v, const double *t0s,
                                     const double *t1s, const double *rates_sps,
                                     size_t n, const vm_stress_params *p,
                                     vm_stress_baseline *out) {
  vm_stress_params dp;
  if (!p) vm_forensic_stress_params_init(&dp), p = &dp;
  memset(out, 0, sizeof *out);
  for (int k = 0; k < VM_STRESS_N_FEATURES; k++) out->median[k] = out->scale[k] = NAN;
  if (!v || (n && (!t0s || !t1s)) || !(p->window_s > 0)) return VM_EINVAL;
  /* windows: each range in equal parts of about window_s (at least one) */
  size_t n_win = 0;
  for (size_t i = 0; i < n; i++) {
    double len = t1s[i] - t0s[i];
    if (len > 0) n_win += len < p->window_s ? 1 : (size_t)floor(len / p->window_s + 0.5);
  }
  double *vals = vm_malloc(sizeof(double) * VM_STRESS_N_FEATURES * (n_win ? n_win : 1));
  if (!vals) return VM_ENOMEM;
  size_t w = 0;
  for (size_t i = 0; i < n; i++) {
    double len = t1s[i] - t0s[i];
    if (!(len > 0)) continue;
    size_t parts = len < p->window_s ? 1 : (size_t)floor(len / p->window_s + 0.5);
    out->speech_s += len;
    for (size_t j = 0; j < parts; j++, w++) {
      double a = t0s[i] + len * (double)j / (double)parts, b = t0s[i] + len * (double)(j + 1) / (double)parts;
      features_get(v, a, b, rates_sps ? rates_sps[i] : NAN, vals + w * VM_STRESS_N_FEATURES);
    }
  }
  out->n_windows_total = w;
  double *col = vm_malloc(sizeof(double) * (w ? w : 1));
  if (!col) { vm_free(vals); return VM_ENOMEM; }
  for (int k = 0; k < VM_STRESS_N_FEATURES; k++) {
    size_t m = 0;
    for (size_t i = 0; i < w; i++) {
      double x = vals[i * VM_STRESS_N_FEATURES + (size_t)k];
      if (!isnan(x)) col[m++] = x;
    }
    out->n_windows[k] = m;
    if (m < p->min_windows || m == 0) continue;
    double med = median_sorted(col, m);
    for (size_t i = 0; i < m; i++) col[i] = fabs(col[i] - med);
    double mad = median_sorted(col, m);
    out->median[k] = med;
    out->scale[k] = fmax(1.4826 * mad, p->min_scale[k]);
  }
  vm_free(col);
  vm_free(vals);
  return VM_OK;
}

static const char *level_of(const vm_stress_params *p, double index) {
  return index < p->low_below ? "low" : index < p->high_from ? "medium" : "high";
}

void vm_forensic_stress_segment_get(const vm_voice *v, const vm_stress_baseline *b,
                                    double t0_s, double t1_s, double rate_sps,
                                    const vm_stress_params *p, vm_stress_result *out) {
  vm_stress_params dp;
  if (!p) vm_forensic_stress_params_init(&dp), p = &dp;
  memset(out, 0, sizeof *out);
  out->t0_s = t0_s, out->t1_s = t1_s;
  double f[VM_STRESS_N_FEATURES], sw = 0, s = 0;
  features_get(v, t0_s, t1_s, rate_sps, f);
  int have_base = 0;
  for (int k = 0; k < VM_STRESS_N_FEATURES; k++) {
    out->z[k] = NAN;
    if (isnan(b->median[k])) continue;
    have_base = 1;
    if (isnan(f[k]) || !(p->weight[k] > 0)) continue;
    double z = feature_sign[k] * (f[k] - b->median[k]) / b->scale[k];
    z = fmax(-p->z_clip, fmin(p->z_clip, z));
    out->z[k] = z;
    s += p->weight[k] * z, sw += p->weight[k];
    out->n_features++;
  }
  if (out->n_features == 0) {
    out->score = NAN;
    out->index = (vm_measure){NAN, !have_base ? "baseline too short (fewer than min_windows voiced windows)"
                                   : isnan(f[VM_STRESS_F0_LEVEL]) ? "no voiced frames in the segment"
                                                                  : "no feature shared with the baseline"};
    return;
  }
  out->score = s / sw;
  double idx = 100.0 * fmin(1.0, fmax(0.0, out->score) / p->full_scale);
  out->index = (vm_measure){idx, NULL};
  out->level = level_of(p, idx);
}

void vm_forensic_stress_speaker_get(const vm_voice *v, const vm_stress_baseline *b,
                                    const double *t0s, const double *t1s,
                                    const double *rates_sps, size_t n,
                                    const vm_stress_params *p, vm_stress_speaker *out) {
  vm_stress_params dp;
  if (!p) vm_forensic_stress_params_init(&dp), p = &dp;
  memset(out, 0, sizeof *out);
  out->n_segments = n;
  out->index_max = NAN;
  double sum = 0, time = 0, high = 0;
  for (size_t i = 0; i < n; i++) {
    vm_stress_result r;
    vm_forensic_stress_segment_get(v, b, t0s[i], t1s[i], rates_sps ? rates_sps[i] : NAN, p, &r);
    double len = t1s[i] - t0s[i];
    if (isnan(r.index.value) || !(len > 0)) continue;
    out->n_scored++;
    sum += r.index.value * len, time += len;
    if (r.index.value >= p->high_from) high += len;
    if (isnan(out->index_max) || r.index.value > out->index_max) out->index_max = r.index.value;
  }
  if (time > 0) {
    out->index = (vm_measure){sum / time, NULL};
    out->level = level_of(p, out->index.value);
    out->high_fraction = high / time;
  } else {
    out->index = (vm_measure){NAN, "no segment could be scored"};
    out->high_fraction = NAN;
  }
}

json_t *vm_forensic_stress_result_to_json(const vm_stress_result *r) {
  json_t *j = json_object(), *c = json_object();
  if (!j || !c) goto fail;
  int bad = json_object_set_new(j, "t0_s", json_real(r->t0_s));
  bad |= json_object_set_new(j, "t1_s", json_real(r->t1_s));
  bad |= json_object_set_new(j, "index", vm_json_real(r->index.value));
  bad |= json_object_set_new(j, "level", r->level ? json_string(r->level) : json_null());
  bad |= json_object_set_new(j, "score", vm_json_real(r->score));
  for (int k = 0; k < VM_STRESS_N_FEATURES; k++)
    bad |= json_object_set_new(c, feature_key[k], vm_json_real(r->z[k]));
  bad |= json_object_set_new(j, "components", c);
  c = NULL;
  if (isnan(r->index.value) && r->index.reason)
    bad |= json_object_set_new(j, "null_reason", json_string(r->index.reason));
  if (bad) goto fail;
  return j;
fail:
  json_decref(j);
  json_decref(c);
  return NULL;
}

json_t *vm_forensic_stress_speaker_to_json(const vm_stress_speaker *s) {
  json_t *j = json_object();
  if (!j) return NULL;
  int bad = json_object_set_new(j, "index", vm_json_real(s->index.value));
  bad |= json_object_set_new(j, "level", s->level ? json_string(s->level) : json_null());
  bad |= json_object_set_new(j, "index_max", vm_json_real(s->index_max));
  bad |= json_object_set_new(j, "high_fraction", vm_json_real(s->high_fraction));
  bad |= json_object_set_new(j, "n_segments", json_integer((json_int_t)s->n_segments));
  bad |= json_object_set_new(j, "n_scored", json_integer((json_int_t)s->n_scored));
  if (isnan(s->index.value) && s->index.reason)
    bad |= json_object_set_new(j, "null_reason", json_string(s->index.reason));
  if (bad) { json_decref(j); return NULL; }
  return j;
}

json_t *vm_forensic_stress_baseline_to_json(const vm_stress_baseline *b) {
  json_t *j = json_object(), *m = json_object(), *s = json_object();
  if (!j || !m || !s) goto fail;
  int bad = json_object_set_new(j, "windows", json_integer((json_int_t)b->n_windows_total));
  bad |= json_object_set_new(j, "speech_s", json_real(b->speech_s));
  for (int k = 0; k < VM_STRESS_N_FEATURES; k++) {
    bad |= json_object_set_new(m, feature_key[k], vm_json_real(b->median[k]));
    bad |= json_object_set_new(s, feature_key[k], vm_json_real(b->scale[k]));
  }
  bad |= json_object_set_new(j, "median", m);
  m = NULL;
  bad |= json_object_set_new(j, "scale", s);
  s = NULL;
  if (bad) goto fail;
  return j;
fail:
  json_decref(j);
  json_decref(m);
  json_decref(s);
  return NULL;
}
