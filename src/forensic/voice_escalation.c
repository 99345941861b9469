/* voice_escalation.c — zones of raised intensity and F0.
 *
 * DESIGN
 * Two passes over the window grid, both reading only the pitch and
 * intensity tracks of the vm_voice: (1) per window the voiced level and
 * median F0 (frames outside the ranges are skipped by binary search over
 * the sorted ranges); (2) baseline medians, then a small state machine
 * (outside / inside a zone) with separate open and stay thresholds, so a
 * zone ends when the voice comes back down instead of accumulating for
 * the rest of the call. Memory: three doubles per window (a 1 h call at
 * the default 0.25 s hop is 14 400 windows).
 */
#include "voice_escalation.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vm_alloc.h"
#include "vm_json.h"

void vm_forensic_escalation_params_init(vm_escalation_params *p) {
  p->window_s = 1.0;
  p->hop_s = 0.25;
  p->rise_db = 6.0;
  p->rise_st = 2.0;
  p->fall_fraction = 0.5;
  p->min_duration_s = 2.0;
  p->max_gap_s = 1.0;
  p->min_voiced_s = 0.1;
}

/* 1 if t lies in one of the sorted disjoint ranges [t0, t1). */
static int in_ranges(const double *t0s, const double *t1s, size_t n, double t) {
  size_t lo = 0, hi = n; /* first range with t1 > t */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (t1s[mid] <= t) lo = mid + 1; else hi = mid;
  }
  return lo < n && t >= t0s[lo];
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

static double median_of(double *x, size_t n) {
  qsort(x, n, sizeof(double), cmp_double);
  return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

typedef struct scan {
  const vm_voice *v;
  const double *t0s, *t1s;
  size_t nr;
  const vm_escalation_params *p;
  double *buf;   /* (buf_cap) F0 values of one window */
  size_t buf_cap;
} scan;

/* Level (dB) and median F0 (semitones re 100 Hz) of [w0, w0 + window);
 * NAN, NAN when the window has too little voice. */
static void window_measure(const scan *s, double w0, double *out_db, double *out_st) {
  const vm_pitch_track *pt = vm_forensic_voice_get_pitch(s->v);
  const vm_intensity_track *it = vm_forensic_voice_get_intensity(s->v);
  double w1 = w0 + s->p->window_s;
  *out_db = *out_st = NAN;
  size_t nv = 0;
  if (pt->n_frames) {
    double a = ceil((w0 - pt->t0_s) / pt->dt_s), b = ceil((w1 - pt->t0_s) / pt->dt_s);
    size_t ia = a < 0 ? 0 : (size_t)a, ib = b < 0 ? 0 : (size_t)b;
    if (ib > pt->n_frames) ib = pt->n_frames;
    for (size_t i = ia; i < ib && nv < s->buf_cap; i++) {
      double t = pt->t0_s + (double)i * pt->dt_s;
      if (!vm_dsp_pitch_is_voiced(pt, i) || !in_ranges(s->t0s, s->t1s, s->nr, t)) continue;
      s->buf[nv++] = 12.0 * log2(pt->f0_hz[i] / 100.0);
    }
  }
  if (nv == 0 || (double)nv * pt->dt_s < s->p->min_voiced_s) return;
  double e = 0;
  size_t ne = 0;
  if (it->n_frames) {
    double a = ceil((w0 - it->t0_s) / it->dt_s), b = ceil((w1 - it->t0_s) / it->dt_s);
    size_t ia = a < 0 ? 0 : (size_t)a, ib = b < 0 ? 0 : (size_t)b;
    if (ib > it->n_frames) ib = it->n_frames;
    for (size_t i = ia; i < ib; i++) {
      double t = it->t0_s + (double)i * it->dt_s;
      if (!in_ranges(s->t0s, s->t1s, s->nr, t) || isnan(vm_dsp_pitch_get_value(pt, t))) continue;
      e += pow(10.0, 0.1 * it->db[i]), ne++;
    }
  }
  if (ne == 0) return;
  *out_db = 10.0 * log10(e / (double)ne);
  *out_st = median_of(s->buf, nv);
}

/* Appends a zone; 0 on ENOMEM. */
static int zone_push(vm_escalation_result *r, size_t *cap, const vm_escalation_zone *z) {
  if (r->n_zones == *cap) {
    size_t nc = *cap ? 2 * *cap : 8;
    vm_escalation_zone *nz = vm_realloc(r->zones, nc * sizeof *nz);
    if (!nz) return 0;
    r->zones = nz, *cap = nc;
  }
  r->zones[r->n_zones++] = *z;
  return 1;
}

/* The state machine over windows [0, nw) with centres c[], rises d_db[],
 * d_st[] (NAN = no voice). */
static int find_zones(vm_escalation_result *r, const double *c, const double *d_db,
                      const double *d_st, size_t nw) {
  const vm_escalation_params *p = &r->params;
  size_t cap = 0, first = 0, last = 0, peak = 0, n_in = 0;
  int in = 0;
  double sum_db = 0, sum_st = 0, max_db = 0, max_st = 0, best = -INFINITY;
  for (size_t i = 0; i <= nw; i++) {
    int voiced = i < nw && !isnan(d_db[i]);
    int open = voiced && d_db[i] >= p->rise_db && d_st[i] >= p->rise_st;
    int stay = voiced && d_db[i] >= p->fall_fraction * p->rise_db &&
               d_st[i] >= p->fall_fraction * p->rise_st;
    int gap_ok = i < nw && !voiced && c[i] - c[last] <= p->max_gap_s;
    if (in && !stay && !gap_ok) { /* the voice came back down (or the end) */
      vm_escalation_zone z = {c[first] - 0.5 * p->hop_s, c[last] + 0.5 * p->hop_s, c[peak],
                              sum_db / (double)n_in, max_db, sum_st / (double)n_in, max_st, 0};
      z.f0_rise_percent = 100.0 * (pow(2.0, z.f0_rise_st / 12.0) - 1.0);
      if (z.end_s - z.start_s >= p->min_duration_s && !zone_push(r, &cap, &z)) return VM_ENOMEM;
      in = 0;
    }
    if (!in && open) {
      in = 1, first = i, n_in = 0, sum_db = sum_st = 0, max_db = max_st = 0, best = -INFINITY;
    }
    if (in && stay) {
      last = i, n_in++;
      sum_db += d_db[i], sum_st += d_st[i];
      if (d_db[i] > max_db) max_db = d_db[i];
      if (d_st[i] > max_st) max_st = d_st[i];
      double rise = d_db[i] / p->rise_db + d_st[i] / p->rise_st;
      if (rise > best) best = rise, peak = i;
    }
  }
  return VM_OK;
}

int vm_forensic_escalation_create(const vm_voice *v, const double *t0s,
                                  const double *t1s, size_t n,
                                  const vm_escalation_params *p,
                                  vm_escalation_result **out) {
  *out = NULL;
  vm_escalation_params dp;
  if (!p) vm_forensic_escalation_params_init(&dp), p = &dp;
  if (!v || (n && (!t0s || !t1s)) || !(p->window_s > 0) || !(p->hop_s > 0)) return VM_EINVAL;
  const vm_pitch_track *pt = vm_forensic_voice_get_pitch(v);
  double whole0 = 0, whole1 = pt->duration_s;
  if (n == 0) t0s = &whole0, t1s = &whole1, n = 1;
  vm_escalation_result *r = vm_calloc(1, sizeof *r);
  if (!r) return VM_ENOMEM;
  r->params = *p;
  r->baseline_intensity_db = r->baseline_f0_hz = NAN;
  double span0 = t0s[0], span1 = t1s[n - 1];
  size_t nw = span1 - span0 > p->window_s ? (size_t)floor((span1 - span0 - p->window_s) / p->hop_s) + 1 : 1;
  scan s = {v, t0s, t1s, n, p, NULL, (size_t)ceil(p->window_s / (pt->dt_s > 0 ? pt->dt_s : 0.01)) + 2};
  double *c = vm_malloc(sizeof(double) * nw), *d_db = vm_malloc(sizeof(double) * nw);
  double *d_st = vm_malloc(sizeof(double) * nw), *tmp = vm_malloc(sizeof(double) * nw);
  s.buf = vm_malloc(sizeof(double) * s.buf_cap);
  int rc = VM_ENOMEM;
  if (!c || !d_db || !d_st || !tmp || !s.buf) goto out;
  r->n_windows = nw;
  for (size_t i = 0; i < nw; i++) {
    double w0 = span0 + (double)i * p->hop_s;
    c[i] = w0 + 0.5 * p->window_s;
    window_measure(&s, w0, &d_db[i], &d_st[i]);
  }
  size_t m = 0; /* baseline: medians over voiced windows */
  for (size_t i = 0; i < nw; i++) if (!isnan(d_db[i])) tmp[m++] = d_db[i];
  r->n_voiced_windows = m;
  rc = VM_OK;
  if (m == 0) { r->null_reason = "no window with enough voiced speech"; goto out; }
  double base_db = median_of(tmp, m);
  m = 0;
  for (size_t i = 0; i < nw; i++) if (!isnan(d_st[i])) tmp[m++] = d_st[i];
  double base_st = median_of(tmp, m);
  r->baseline_intensity_db = base_db;
  r->baseline_f0_hz = 100.0 * pow(2.0, base_st / 12.0);
  for (size_t i = 0; i < nw; i++) d_db[i] -= base_db, d_st[i] -= base_st;
  rc = find_zones(r, c, d_db, d_st, nw);
out:
  vm_free(c), vm_free(d_db), vm_free(d_st), vm_free(tmp), vm_free(s.buf);
  if (rc) vm_forensic_escalation_destroy(r);
  else *out = r;
  return rc;
}

void vm_forensic_escalation_destroy(vm_escalation_result *r) {
  if (!r) return;
  vm_free(r->zones);
  vm_free(r);
}

static json_t *zone_json(const vm_escalation_zone *z) {
  json_t *j = json_object();
  if (!j) return NULL;
  int bad = json_object_set_new(j, "start_s", json_real(z->start_s));
  bad |= json_object_set_new(j, "end_s", json_real(z->end_s));
  bad |= json_object_set_new(j, "duration_s", json_real(z->end_s - z->start_s));
  bad |= json_object_set_new(j, "peak_s", json_real(z->peak_s));
  bad |= json_object_set_new(j, "intensity_rise_db", vm_json_real(z->intensity_rise_db));
  bad |= json_object_set_new(j, "intensity_rise_max_db", vm_json_real(z->intensity_rise_max_db));
  bad |= json_object_set_new(j, "f0_rise_st", vm_json_real(z->f0_rise_st));
  bad |= json_object_set_new(j, "f0_rise_max_st", vm_json_real(z->f0_rise_max_st));
  bad |= json_object_set_new(j, "f0_rise_percent", vm_json_real(z->f0_rise_percent));
  if (bad) { json_decref(j); return NULL; }
  return j;
}

json_t *vm_forensic_escalation_to_json(const vm_escalation_result *r) {
  json_t *j = json_object(), *b = json_object(), *th = json_object(), *zs = json_array();
  if (!j || !b || !th || !zs) goto fail;
  int bad = json_object_set_new(b, "intensity_db", vm_json_real(r->baseline_intensity_db));
  bad |= json_object_set_new(b, "f0_hz", vm_json_real(r->baseline_f0_hz));
  const vm_escalation_params *p = &r->params;
  bad |= json_object_set_new(th, "window_s", json_real(p->window_s));
  bad |= json_object_set_new(th, "hop_s", json_real(p->hop_s));
  bad |= json_object_set_new(th, "rise_db", json_real(p->rise_db));
  bad |= json_object_set_new(th, "rise_st", json_real(p->rise_st));
  bad |= json_object_set_new(th, "fall_fraction", json_real(p->fall_fraction));
  bad |= json_object_set_new(th, "min_duration_s", json_real(p->min_duration_s));
  bad |= json_object_set_new(th, "max_gap_s", json_real(p->max_gap_s));
  for (size_t i = 0; i < r->n_zones; i++) {
    json_t *z = zone_json(&r->zones[i]);
    bad |= !z || json_array_append_new(zs, z);
  }
  bad |= json_object_set_new(j, "baseline", b);
  b = NULL;
  bad |= json_object_set_new(j, "thresholds", th);
  th = NULL;
  bad |= json_object_set_new(j, "n_windows", json_integer((json_int_t)r->n_windows));
  bad |= json_object_set_new(j, "zones", zs);
  zs = NULL;
  if (r->null_reason) bad |= json_object_set_new(j, "null_reason", json_string(r->null_reason));
  if (bad) goto fail;
  return j;
fail:
  json_decref(j), json_decref(b), json_decref(th), json_decref(zs);
  return NULL;
}
