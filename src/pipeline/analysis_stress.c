/* analysis_stress.c — stress index per segment and speaker, escalation
 * zones per speaker, from the one vm_voice of the file.
 *
 * DESIGN
 * Each speaker group's baseline is built from all of its units (turns or
 * transcript segments, with their articulation rates when a transcript
 * exists) by vm_forensic_stress_baseline_init; each unit is then scored
 * once with vm_forensic_stress_segment_get and the speaker's figures are
 * aggregated here from those scores (the library's speaker_get would
 * score every unit a second time). Escalation runs per group over the
 * group's merged units, or over the whole file when the file has at most
 * one speaker group (no speech, or one voice).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_impl.h"
#include "vm_alloc.h"
#include "vm_json.h"
#include "voice_escalation.h"

static const char *const feature_key[VM_STRESS_N_FEATURES] = {
    "f0_level", "f0_variability", "intensity", "jitter", "shimmer", "hnr", "speech_rate"};

/* Time-weighted aggregate of the scored units of group g. */
static void group_aggregate(vm__an_ctx *c, size_t g, const vm_stress_params *p) {
  vm__an_group *gr = &c->groups[g];
  vm_stress_speaker *s = &gr->speaker;
  double sum = 0, time = 0, high = 0, zs[VM_STRESS_N_FEATURES] = {0}, zt[VM_STRESS_N_FEATURES] = {0};
  memset(s, 0, sizeof *s);
  s->index_max = NAN;
  for (size_t i = 0; i < c->n_units; i++) {
    const vm__an_unit *u = &c->units[i];
    if (u->group != (int)g) continue;
    s->n_segments++;
    double len = u->end_s - u->start_s, x = u->stress.index.value;
    if (isnan(x) || !(len > 0)) continue;
    s->n_scored++;
    sum += x * len, time += len;
    if (x >= p->high_from) high += len;
    if (isnan(s->index_max) || x > s->index_max) s->index_max = x;
    for (int k = 0; k < VM_STRESS_N_FEATURES; k++)
      if (!isnan(u->stress.z[k])) zs[k] += u->stress.z[k] * len, zt[k] += len;
  }
  for (int k = 0; k < VM_STRESS_N_FEATURES; k++) gr->mean_z[k] = zt[k] > 0 ? zs[k] / zt[k] : NAN;
  if (time > 0) {
    double m = sum / time;
    s->index = (vm_measure){m, NULL};
    s->level = m < p->low_below ? "low" : m < p->high_from ? "medium" : "high";
    s->high_fraction = high / time;
  } else {
    s->index = (vm_measure){NAN, s->n_segments ? "no segment could be scored" : "no segment"};
    s->high_fraction = NAN;
  }
}

int vm__analysis_stress(vm__an_ctx *c) {
  vm_stress_params p;
  vm_forensic_stress_params_init(&p);
  size_t n = c->n_units ? c->n_units : 1;
  double *t0 = vm_malloc(n * sizeof *t0), *t1 = vm_malloc(n * sizeof *t1);
  double *rate = vm_malloc(n * sizeof *rate);
  int rc = VM_ENOMEM;
  if (!t0 || !t1 || !rate) goto out;
  for (size_t i = 0; i < c->n_units; i++) {
    vm__an_unit *u = &c->units[i];
    memset(&u->stress, 0, sizeof u->stress);
    u->stress.index = (vm_measure){NAN, "segment has no speaker"};
    u->stress.score = NAN;
    for (int k = 0; k < VM_STRESS_N_FEATURES; k++) u->stress.z[k] = NAN;
  }
  for (size_t g = 0; g < c->n_groups; g++) {
    size_t m = 0;
    for (size_t i = 0; i < c->n_units; i++) {
      if (c->units[i].group != (int)g) continue;
      t0[m] = c->units[i].start_s, t1[m] = c->units[i].end_s, rate[m++] = c->units[i].rate_sps;
    }
    rc = vm_forensic_stress_baseline_init(c->voice, t0, t1, c->transcript ? rate : NULL, m, &p,
                                          &c->groups[g].baseline);
    if (rc) goto out;
    for (size_t i = 0; i < c->n_units; i++) {
      vm__an_unit *u = &c->units[i];
      if (u->group != (int)g) continue;
      double e = u->end_s > u->start_s ? u->end_s : u->start_s + 1e-9; /* never "whole file" */
      vm_forensic_stress_segment_get(c->voice, &c->groups[g].baseline, u->start_s, e,
                                     u->rate_sps, &p, &u->stress);
    }
    group_aggregate(c, g, &p);
  }
  rc = VM_OK;
out:
  vm_free(t0), vm_free(t1), vm_free(rate);
  return rc;
}

json_t *vm__analysis_stress_json(const vm__an_ctx *c, size_t g) {
  const vm__an_group *gr = &c->groups[g];
  json_t *o = vm_forensic_stress_speaker_to_json(&gr->speaker), *f = json_object();
  json_t *b = vm_forensic_stress_baseline_to_json(&gr->baseline);
  if (!o || !f || !b) goto fail;
  int bad = 0;
  for (int k = 0; k < VM_STRESS_N_FEATURES; k++)
    bad |= json_object_set_new(f, feature_key[k], vm_json_real(gr->mean_z[k]));
  bad |= json_object_set_new(o, "features", f);
  f = NULL;
  bad |= json_object_set_new(o, "baseline", b);
  b = NULL;
  if (bad) goto fail;
  return o;
fail:
  json_decref(o), json_decref(f), json_decref(b);
  return NULL;
}

static int cmp_range(const void *x, const void *y) {
  const double *a = x, *b = y;
  return a[0] < b[0] ? -1 : a[0] > b[0];
}

/* The units of group g as sorted, disjoint ranges (r: pairs t0, t1;
 * merged where they overlap or touch). Returns the count. */
static size_t group_ranges(const vm__an_ctx *c, int g, double *r) {
  size_t m = 0;
  for (size_t i = 0; i < c->n_units; i++) {
    const vm__an_unit *u = &c->units[i];
    if (u->group != g || !(u->end_s > u->start_s)) continue;
    r[2 * m] = u->start_s, r[2 * m + 1] = u->end_s, m++;
  }
  qsort(r, m, 2 * sizeof *r, cmp_range);
  size_t w = 0;
  for (size_t i = 0; i < m; i++) {
    if (w && r[2 * i] <= r[2 * w - 1]) {
      if (r[2 * i + 1] > r[2 * w - 1]) r[2 * w - 1] = r[2 * i + 1];
    } else {
      r[2 * w] = r[2 * i], r[2 * w + 1] = r[2 * i + 1], w++;
    }
  }
  return w;
}

static json_t *zone_json(const vm_escalation_zone *z, const char *speaker) {
  json_t *o = json_object();
  if (!o) return NULL;
  int bad = json_object_set_new(o, "speaker", speaker ? vm_json_string_lossy(speaker) : json_null());
  bad |= json_object_set_new(o, "start", json_real(z->start_s));
  bad |= json_object_set_new(o, "end", json_real(z->end_s));
  bad |= json_object_set_new(o, "duration", json_real(z->end_s - z->start_s));
  bad |= json_object_set_new(o, "peak", json_real(z->peak_s));
  bad |= json_object_set_new(o, "intensity_rise_db", vm_json_real(z->intensity_rise_db));
  bad |= json_object_set_new(o, "intensity_rise_max_db", vm_json_real(z->intensity_rise_max_db));
  bad |= json_object_set_new(o, "f0_rise_st", vm_json_real(z->f0_rise_st));
  bad |= json_object_set_new(o, "f0_rise_max_st", vm_json_real(z->f0_rise_max_st));
  bad |= json_object_set_new(o, "f0_rise_percent", vm_json_real(z->f0_rise_percent));
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* Appends r's zones (speaker-labelled) to zones and its baseline to bases. */
static int escalation_add(const vm_escalation_result *r, const char *speaker, json_t *zones,
                          json_t *bases) {
  json_t *b = json_object();
  if (!b || json_array_append_new(bases, b)) return VM_ENOMEM;
  int bad = json_object_set_new(b, "speaker", speaker ? vm_json_string_lossy(speaker) : json_null());
  bad |= json_object_set_new(b, "intensity_db", vm_json_real(r->baseline_intensity_db));
  bad |= json_object_set_new(b, "f0_hz", vm_json_real(r->baseline_f0_hz));
  bad |= json_object_set_new(b, "n_windows", json_integer((json_int_t)r->n_windows));
  bad |= json_object_set_new(b, "n_voiced_windows", json_integer((json_int_t)r->n_voiced_windows));
  bad |= json_object_set_new(b, "n_zones", json_integer((json_int_t)r->n_zones));
  if (r->null_reason) bad |= json_object_set_new(b, "null_reason", json_string(r->null_reason));
  for (size_t i = 0; i < r->n_zones; i++) {
    json_t *z = zone_json(&r->zones[i], speaker);
    bad |= !z || json_array_append_new(zones, z);
  }
  return bad ? VM_ENOMEM : VM_OK;
}

static int cmp_zone(const void *x, const void *y) {
  double a = json_real_value(json_object_get(*(json_t *const *)x, "start"));
  double b = json_real_value(json_object_get(*(json_t *const *)y, "start"));
  return a < b ? -1 : a > b;
}

/* Sorts the zones array by start (zones of different speakers interleave). */
static int zones_sort(json_t *zones) {
  size_t n = json_array_size(zones);
  json_t **z = vm_malloc((n ? n : 1) * sizeof *z);
  if (!z) return VM_ENOMEM;
  for (size_t i = 0; i < n; i++) z[i] = json_incref(json_array_get(zones, i));
  qsort(z, n, sizeof *z, cmp_zone);
  json_array_clear(zones);
  int bad = 0;
  for (size_t i = 0; i < n; i++) bad |= json_array_append_new(zones, z[i]);
  vm_free(z);
  return bad ? VM_ENOMEM : VM_OK;
}

static json_t *thresholds_json(const vm_escalation_params *p) {
  return json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "window_s", p->window_s, "hop_s",
                   p->hop_s, "rise_db", p->rise_db, "rise_st", p->rise_st, "fall_fraction",
                   p->fall_fraction, "min_duration_s", p->min_duration_s, "max_gap_s",
                   p->max_gap_s, "min_voiced_s", p->min_voiced_s);
}

json_t *vm__analysis_escalation_json(const vm__an_ctx *c) {
  vm_escalation_params p;
  vm_forensic_escalation_params_init(&p);
  int per_speaker = c->n_groups > 1;
  json_t *o = json_object(), *zones = json_array(), *bases = json_array();
  double *r = vm_malloc(2 * (c->n_units ? c->n_units : 1) * sizeof *r);
  double *t0 = vm_malloc((c->n_units ? c->n_units : 1) * sizeof *t0);
  double *t1 = vm_malloc((c->n_units ? c->n_units : 1) * sizeof *t1);
  int rc = VM_ENOMEM;
  if (!o || !zones || !bases || !r || !t0 || !t1) goto out;
  rc = VM_OK;
  for (size_t g = 0; g < (per_speaker ? c->n_groups : 1) && rc == VM_OK; g++) {
    vm_escalation_result *e = NULL;
    size_t m = per_speaker ? group_ranges(c, (int)g, r) : 0;
    for (size_t i = 0; i < m; i++) t0[i] = r[2 * i], t1[i] = r[2 * i + 1];
    if (per_speaker && m == 0) continue; /* a transcript label with only empty segments */
    rc = vm_forensic_escalation_create(c->voice, t0, t1, m, &p, &e);
    if (rc == VM_OK) rc = escalation_add(e, c->n_groups ? c->groups[g].name : NULL, zones, bases);
    vm_forensic_escalation_destroy(e);
  }
  if (rc == VM_OK) rc = zones_sort(zones);
  if (rc) goto out;
  int bad = json_object_set_new(o, "scope", json_string(per_speaker ? "speakers" : "file"));
  bad |= json_object_set_new(o, "zones", zones);
  zones = NULL;
  bad |= json_object_set_new(o, "speakers", bases);
  bases = NULL;
  bad |= json_object_set_new(o, "thresholds", thresholds_json(&p));
  if (bad) rc = VM_ENOMEM;
out:
  vm_free(r), vm_free(t0), vm_free(t1);
  json_decref(zones), json_decref(bases);
  if (rc) {
    json_decref(o);
    return NULL;
  }
  return o;
}
