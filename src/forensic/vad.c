/* vad.c — adaptive band-energy VAD with hysteresis and smoothing.
 *
 * DESIGN: one pass computes the 10 ms band levels (dsp_mfcc without
 * cepstra), a 0.1 dB histogram gives the percentiles in O(n) (a 3-hour
 * file has 1e6 frames), then the decision and its smoothing are run-length
 * edits on a byte per frame. Region times are whole frames, so
 * start_sample = frame * hop exactly (the chunker relies on it). */
#include "vad.h"

#include <math.h>
#include <string.h>

#include "dsp_mfcc.h"
#include "vm_alloc.h"
#include "vm_json.h"
#include "vm_status.h"

#define HIST_LO (-130.0)
#define HIST_HI (20.0)
#define HIST_STEP 0.25
#define HIST_N 600
#define FLOOR_P 0.10       /* noise floor percentile */
#define SPREAD_K 2.0       /* margin >= SPREAD_K x noise spread ... */
#define SPREAD_CAP_DB 9.0  /* ... up to this many dB */
#define BLOCK 25           /* local floor evaluated every 0.25 s */
#define HYST_DB 3.0        /* a speech run ends HYST_DB below the threshold */

void vm_vad_opts_default(vm_vad_opts *o) {
  o->min_pause_s = 0.3;
  o->min_speech_s = 0.12;
  o->pre_roll_s = 0.02;
  o->hangover_s = 0.06;
  o->min_snr_db = 6.0;
  o->abs_floor_db = -60.0;
  o->floor_window_s = 16.0;
}

/* p-quantile (0..1) of the n levels counted in hist. */
static double level_percentile(const unsigned *hist, size_t n, double p) {
  size_t want = (size_t)(p * (double)n), acc = 0;
  for (int b = 0; b < HIST_N; b++) {
    acc += hist[b];
    if (acc > want) return HIST_LO + (b + 0.5) * HIST_STEP;
  }
  return HIST_HI;
}

static int level_bin(float db) {
  int b = (int)((db - HIST_LO) / HIST_STEP);
  return b < 0 ? 0 : b >= HIST_N ? HIST_N - 1 : b;
}

/* File-level statistics: floor (10th percentile), speech level (95th),
 * noise spread (10th minus 2nd percentile), and the margin. */
static void file_levels(vm_vad_result *v, const vm_vad_opts *o, const unsigned *h) {
  v->noise_floor_db = level_percentile(h, v->n_frames, FLOOR_P);
  v->speech_level_db = level_percentile(h, v->n_frames, 0.95);
  v->noise_spread_db = v->noise_floor_db - level_percentile(h, v->n_frames, 0.02);
  double range = v->speech_level_db - v->noise_floor_db;
  double margin = fmax(o->min_snr_db, 0.3 * range);
  margin = fmax(margin, fmin(SPREAD_K * v->noise_spread_db, SPREAD_CAP_DB));
  /* No dynamic range (silence, steady noise or tone): nothing is speech. */
  if (range < 2 * o->min_snr_db) margin = INFINITY;
  v->margin_db = margin;
  v->threshold_db = fmax(v->noise_floor_db + margin, o->abs_floor_db);
}

/* Local floor: the FLOOR_P percentile of the levels within +-win frames,
 * evaluated every BLOCK frames from a sliding histogram and linearly
 * interpolated; never above the file floor + half the range (a long
 * stretch without pauses must not lift the floor into the speech). */
static void local_floor(vm_vad_result *v, size_t win, unsigned *h) {
  size_t n = v->n_frames, lo = 0, hi = 0, cnt = 0; /* window [lo, hi) */
  double cap = v->noise_floor_db + 0.5 * (v->speech_level_db - v->noise_floor_db);
  double prev = 0;
  size_t prev_t = 0;
  memset(h, 0, HIST_N * sizeof *h);
  for (size_t t = 0;; t += BLOCK) {
    size_t c = t < n ? t : n - 1;
    size_t a = c > win ? c - win : 0, b = c + win + 1 < n ? c + win + 1 : n;
    for (; hi < b; hi++, cnt++) h[level_bin(v->frame_db[hi])]++;
    for (; lo < a; lo++, cnt--) h[level_bin(v->frame_db[lo])]--;
    double fl = fmin(level_percentile(h, cnt, FLOOR_P), cap);
    v->frame_floor_db[c] = (float)fl;
    for (size_t i = prev_t + 1; t > 0 && i < c; i++) /* interpolate */
      v->frame_floor_db[i] = (float)(prev + (fl - prev) * (double)(i - prev_t) / (double)(c - prev_t));
    prev = fl;
    prev_t = c;
    if (c == n - 1) break;
  }
}

static int set_threshold(vm_vad_result *v, const vm_vad_opts *o) {
  unsigned *h = vm_calloc(HIST_N, sizeof *h);
  if (!h) return VM_ENOMEM;
  for (size_t i = 0; i < v->n_frames; i++) h[level_bin(v->frame_db[i])]++;
  file_levels(v, o, h);
  if (v->n_frames > 0) {
    size_t win = (size_t)lround(o->floor_window_s / (2 * v->frame_s));
    if (o->floor_window_s > 0) local_floor(v, win, h);
    else
      for (size_t i = 0; i < v->n_frames; i++) v->frame_floor_db[i] = (float)v->noise_floor_db;
  }
  vm_free(h);
  return VM_OK;
}

/* Sets runs of value `val` shorter than min_len frames to !val (interior
 * runs only when interior_only). */
static void drop_short_runs(uint8_t *s, size_t n, uint8_t val, size_t min_len,
                            int interior_only) {
  size_t i = 0;
  while (i < n) {
    if (s[i] != val) { i++; continue; }
    size_t j = i;
    while (j < n && s[j] == val) j++;
    int interior = i > 0 && j < n;
    if (j - i < min_len && (interior || !interior_only)) memset(s + i, !val, j - i);
    i = j;
  }
}

static void decide_frames(vm_vad_result *v, const vm_vad_opts *o) {
  size_t n = v->n_frames;
  uint8_t *s = v->frame_speech;
  int on = 0;
  for (size_t i = 0; i < n; i++) {
    double db = v->frame_db[i];
    double th = fmax(v->frame_floor_db[i] + v->margin_db, o->abs_floor_db);
    on = on ? db > th - HYST_DB : db > th;
    s[i] = (uint8_t)on;
  }
  size_t pre = (size_t)lround(o->pre_roll_s / v->frame_s);
  size_t post = (size_t)lround(o->hangover_s / v->frame_s);
  drop_short_runs(s, n, 1, (size_t)lround(0.03 / v->frame_s), 0); /* clicks */
  /* widen every run by pre/post frames */
  for (size_t i = 0; i < n;) {
    if (!s[i]) { i++; continue; }
    size_t j = i;
    while (j < n && s[j]) j++;
    size_t a = i > pre ? i - pre : 0, b = j + post < n ? j + post : n;
    memset(s + a, 1, b - a);
    i = b; /* frames set by the widening are not widened again */
  }
  drop_short_runs(s, n, 0, (size_t)lround(o->min_pause_s / v->frame_s), 1);
  drop_short_runs(s, n, 1, (size_t)lround(o->min_speech_s / v->frame_s), 0);
}

static int collect_regions(vm_vad_result *v, size_t hop) {
  size_t n = v->n_frames, cap = 0;
  for (size_t i = 0; i < n; i++) cap += v->frame_speech[i] && (i == 0 || !v->frame_speech[i - 1]);
  v->regions = vm_calloc(cap ? cap : 1, sizeof *v->regions);
  v->pauses = vm_calloc(cap ? cap : 1, sizeof *v->pauses);
  if (!v->regions || !v->pauses) return VM_ENOMEM;
  double speech = 0;
  for (size_t i = 0; i < n;) {
    if (!v->frame_speech[i]) { i++; continue; }
    size_t j = i;
    while (j < n && v->frame_speech[j]) j++;
    vm_vad_region *r = &v->regions[v->n_regions++];
    r->start_sample = i * hop;
    r->end_sample = j * hop < v->n_samples ? j * hop : v->n_samples;
    r->start_s = (double)r->start_sample / v->sample_rate_hz;
    r->end_s = (double)r->end_sample / v->sample_rate_hz;
    speech += r->end_s - r->start_s;
    if (v->n_regions > 1) {
      vm_vad_pause *p = &v->pauses[v->n_pauses++];
      p->start_s = v->regions[v->n_regions - 2].end_s;
      p->duration_s = r->start_s - p->start_s;
    }
    i = j;
  }
  v->speech_s = speech;
  v->silence_s = v->duration_s - speech;
  v->speech_ratio = v->duration_s > 0 ? speech / v->duration_s : 0;
  return VM_OK;
}

int vm_vad_run(const float *x, size_t n, int rate_hz, const vm_vad_opts *opts,
               vm_vad_result **out) {
  *out = NULL;
  vm_vad_opts o;
  if (opts) o = *opts; else vm_vad_opts_default(&o);
  if ((!x && n) || rate_hz < 8000 || rate_hz > 48000 || o.min_pause_s < 0 ||
      o.min_speech_s < 0 || o.floor_window_s < 0)
    return VM_EINVAL;
  vm_mfcc_opts mo;
  vm_dsp_mfcc_opts_default(&mo);
  mo.sample_rate_hz = rate_hz;
  vm_dsp_mfcc *m = NULL;
  int rc = VM_ENOMEM;
  vm_vad_result *v = vm_calloc(1, sizeof *v);
  if (!v) return VM_ENOMEM;
  rc = vm_dsp_mfcc_create(&mo, &m);
  if (rc) goto fail;
  rc = VM_ENOMEM;
  v->sample_rate_hz = rate_hz;
  v->n_samples = n;
  v->frame_s = mo.hop_s;
  v->min_pause_s = o.min_pause_s;
  v->duration_s = (double)n / rate_hz;
  v->n_frames = vm_dsp_mfcc_n_frames(m, n);
  v->frame_speech = vm_calloc(v->n_frames ? v->n_frames : 1, 1);
  v->frame_db = vm_calloc(v->n_frames ? v->n_frames : 1, sizeof(float));
  v->frame_floor_db = vm_calloc(v->n_frames ? v->n_frames : 1, sizeof(float));
  if (!v->frame_speech || !v->frame_db || !v->frame_floor_db) goto fail;
  vm_dsp_mfcc_compute(m, x, n, NULL, v->frame_db);
  if ((rc = set_threshold(v, &o))) goto fail;
  decide_frames(v, &o);
  rc = collect_regions(v, vm_dsp_mfcc_hop(m));
  if (rc) goto fail;
  vm_dsp_mfcc_destroy(m);
  *out = v;
  return VM_OK;
fail:
  vm_dsp_mfcc_destroy(m);
  vm_vad_result_destroy(v);
  return rc;
}

void vm_vad_result_destroy(vm_vad_result *v) {
  if (!v) return;
  vm_free(v->frame_speech);
  vm_free(v->frame_db);
  vm_free(v->frame_floor_db);
  vm_free(v->regions);
  vm_free(v->pauses);
  vm_free(v);
}

/* json_object_set_new that remembers a failure in *ok. */
static void put(json_t *o, const char *k, json_t *v, int *ok) {
  if (!v || json_object_set_new(o, k, v)) *ok = 0;
}

json_t *vm_vad_result_to_json(const vm_vad_result *v) {
  json_t *j = json_object(), *regs = json_array(), *ps = json_array();
  int ok = j && regs && ps;
  for (size_t i = 0; ok && i < v->n_regions; i++) {
    json_t *r = json_object();
    if (!r) { ok = 0; break; }
    put(r, "start", vm_json_real(v->regions[i].start_s), &ok);
    put(r, "end", vm_json_real(v->regions[i].end_s), &ok);
    if (json_array_append_new(regs, r)) ok = 0;
  }
  for (size_t i = 0; ok && i < v->n_pauses; i++) {
    json_t *p = json_object();
    if (!p) { ok = 0; break; }
    put(p, "start", vm_json_real(v->pauses[i].start_s), &ok);
    put(p, "duration", vm_json_real(v->pauses[i].duration_s), &ok);
    if (json_array_append_new(ps, p)) ok = 0;
  }
  if (ok) {
    put(j, "speech_s", vm_json_real(v->speech_s), &ok);
    put(j, "silence_s", vm_json_real(v->silence_s), &ok);
    put(j, "speech_ratio", vm_json_real(v->speech_ratio), &ok);
    put(j, "min_pause_s", vm_json_real(v->min_pause_s), &ok);
    put(j, "noise_floor_db", vm_json_real(v->noise_floor_db), &ok);
    put(j, "threshold_db", vm_json_real(v->threshold_db), &ok);
    put(j, "margin_db", vm_json_real(v->margin_db), &ok);
    put(j, "noise_spread_db", vm_json_real(v->noise_spread_db), &ok);
    put(j, "n_regions", json_integer((json_int_t)v->n_regions), &ok);
    put(j, "n_pauses", json_integer((json_int_t)v->n_pauses), &ok);
    put(j, "regions", regs, &ok);
    regs = NULL;
    put(j, "pauses", ps, &ok);
    ps = NULL;
  }
  json_decref(regs);
  json_decref(ps);
  if (!ok) {
    json_decref(j);
    return NULL;
  }
  return j;
}
