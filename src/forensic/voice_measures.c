/* voice_measures.c — tracks once per signal, summaries over any range.
 *
 * DESIGN
 * create() owns five tracks (pitch, pulses, harmonicity, formants,
 * intensity), computed in one streamed pass (voice_stream.c; an array is
 * a source like any other) and kept in compact form; summary_get() only
 * reads them,
 * using a small stack/heap scratch for the median. Range rule: a frame
 * belongs to [t0, t1) when its centre does; pulses follow Praat's
 * getWindowPoints ([t0, t1]). Statistics follow Praat's Pitch queries:
 * sample SD (n - 1), quantile by linear interpolation at q n + 0.5,
 * intensity mean averaged in energy. Formant means use only frames where
 * the pitch track is voiced: formants of silence and fricatives are LPC
 * noise (Praat's plain "Get mean" includes them).
 *
 * JSON keys: duration_s, f0_mean_hz, f0_median_hz, f0_sd_hz, f0_min_hz,
 * f0_max_hz, f0_range_st, voiced_fraction, jitter_local,
 * jitter_local_abs_s, jitter_rap, jitter_ppq5, shimmer_local,
 * shimmer_local_db, shimmer_apq3, shimmer_apq5, shimmer_apq11, hnr_db,
 * f1_mean_hz, f2_mean_hz, f3_mean_hz, f1_sd_hz, f2_sd_hz,
 * formant_stability, intensity_mean_db, intensity_max_db, intensity_sd_db,
 * n_pitch_frames, n_voiced_frames, n_pulses, null_reasons.
 */
#include "voice_measures.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dsp_voice_quality.h"
#include "vm_alloc.h"
#include "vm_json.h"
#include "voice_stream.h"

struct vm_voice {
  double duration_s;
  vm_pitch_track *pitch;
  vm_pointprocess *pulses;
  vm_hnr_track *hnr;
  vm_formant_track *formants;
  vm_intensity_track *intensity;
  size_t n_forced, buffer_peak_bytes;
};

void vm_forensic_voice_params_init(vm_voice_params *p) {
  p->pitch_floor_hz = 75.0;
  p->pitch_ceiling_hz = 600.0;
  p->with_formants = 1;
  p->with_hnr = 1;
}

int vm_forensic_voice_create_stream(const vm_voice_source *src, const vm_voice_params *p,
                                    vm_voice **out, vm_err *err) {
  *out = NULL;
  vm_voice_params dp;
  if (!p) vm_forensic_voice_params_init(&dp), p = &dp;
  if (!src || src->rate_hz <= 0 || (!src->read && src->n_samples))
    return vm_err_set(err, VM_EINVAL, "voice: invalid arguments");
  vm_voice *v = vm_calloc(1, sizeof *v);
  if (!v) return vm_err_set(err, VM_ENOMEM, "voice: out of memory");
  vm__voice_tracks t;
  int rc = vm__voice_stream_run(src, p, &t, err);
  if (rc) {
    vm_free(v);
    return rc;
  }
  v->duration_s = (double)src->n_samples / src->rate_hz;
  v->pitch = t.pitch, v->pulses = t.pulses, v->hnr = t.hnr;
  v->formants = t.formants, v->intensity = t.intensity;
  v->n_forced = t.n_forced, v->buffer_peak_bytes = t.buffer_peak_bytes;
  *out = v;
  return VM_OK;
}

/* The array source of vm_forensic_voice_create. */
static int array_read(void *user, size_t offset, size_t n, float *buf) {
  memcpy(buf, (const float *)user + offset, n * sizeof(float));
  return VM_OK;
}

int vm_forensic_voice_create(const float *x, size_t n, int rate_hz,
                             const vm_voice_params *p, vm_voice **out,
                             vm_err *err) {
  *out = NULL;
  if (rate_hz <= 0 || (!x && n)) return vm_err_set(err, VM_EINVAL, "voice: invalid arguments");
  vm_voice_source src = {n, rate_hz, array_read, (void *)(uintptr_t)x};
  return vm_forensic_voice_create_stream(&src, p, out, err);
}

void vm_forensic_voice_get_memory(const vm_voice *v, vm_voice_memory *out) {
  memset(out, 0, sizeof *out);
  out->pitch_bytes = v->pitch->n_frames * sizeof(float);
  out->pulses_bytes = v->pulses->n * (sizeof(double) + sizeof(float));
  if (v->hnr) out->hnr_bytes = v->hnr->n_frames * sizeof(float);
  if (v->formants) {
    const vm_formant_track *f = v->formants;
    out->formant_bytes = f->n_rows * (size_t)f->n_kept * sizeof(float);
    if (f->has_row) out->formant_bytes += (f->n_frames / 64 + 1) * (sizeof *f->has_row + sizeof *f->row_base);
  }
  out->intensity_bytes = v->intensity->n_frames * sizeof(float);
  out->total_bytes = out->pitch_bytes + out->pulses_bytes + out->hnr_bytes + out->formant_bytes +
                     out->intensity_bytes;
  out->buffer_peak_bytes = v->buffer_peak_bytes;
  out->n_pitch_forced = v->n_forced;
}

void vm_forensic_voice_destroy(vm_voice *v) {
  if (!v) return;
  vm_dsp_pitch_destroy(v->pitch);
  vm_dsp_pointprocess_destroy(v->pulses);
  vm_dsp_hnr_destroy(v->hnr);
  vm_dsp_formant_destroy(v->formants);
  vm_dsp_intensity_destroy(v->intensity);
  vm_free(v);
}

const vm_pitch_track *vm_forensic_voice_get_pitch(const vm_voice *v) { return v->pitch; }
const vm_pointprocess *vm_forensic_voice_get_pulses(const vm_voice *v) { return v->pulses; }
const vm_hnr_track *vm_forensic_voice_get_hnr(const vm_voice *v) { return v->hnr; }
const vm_formant_track *vm_forensic_voice_get_formants(const vm_voice *v) { return v->formants; }
const vm_intensity_track *vm_forensic_voice_get_intensity(const vm_voice *v) { return v->intensity; }

static vm_measure defined(double v) { return (vm_measure){v, NULL}; }
static vm_measure undefined(const char *why) { return (vm_measure){NAN, why}; }
static vm_measure maybe(double v, const char *why) { return isnan(v) ? undefined(why) : defined(v); }

/* Frames [*a, *b) of a track whose centres lie in [t0, t1). */
static void frame_range(size_t nf, double f0, double dt, double t0, double t1, size_t *a, size_t *b) {
  double lo = ceil((t0 - f0) / dt), hi = ceil((t1 - f0) / dt);
  if (lo < 0) lo = 0;
  if (hi < 0) hi = 0;
  *a = lo > (double)nf ? nf : (size_t)lo;
  *b = hi > (double)nf ? nf : (size_t)hi;
  if (*b < *a) *b = *a;
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

/* A time range [t0, t1) of a summary; ranges passed to the summarisers
 * are sorted and disjoint (not even touching). */
typedef struct span {
  double t0, t1;
} span;

/* Why a summary over no frames is undefined. */
static const char *why_empty(size_t n_spans) {
  return n_spans ? "range shorter than one pitch window" : "no time range";
}

static void summarise_pitch(const vm_voice *v, const span *r, size_t nr, vm_voice_summary *s) {
  const vm_pitch_track *p = v->pitch;
  double sum = 0, mn = INFINITY, mx = -INFINITY;
  size_t nv = 0, nframes = 0;
  for (size_t k = 0; k < nr; k++) {
    size_t a, b;
    frame_range(p->n_frames, p->t0_s, p->dt_s, r[k].t0, r[k].t1, &a, &b);
    nframes += b - a;
    for (size_t i = a; i < b; i++) {
      if (!vm_dsp_pitch_is_voiced(p, i)) continue;
      double f = p->f0_hz[i];
      sum += f, nv++;
      if (f < mn) mn = f;
      if (f > mx) mx = f;
    }
  }
  s->n_pitch_frames = nframes;
  s->n_voiced_frames = nv;
  const char *why = nframes == 0 ? why_empty(nr) : "no voiced frames";
  s->voiced_fraction = nframes ? defined((double)nv / (double)nframes) : undefined(why);
  if (nv == 0) {
    s->f0_mean_hz = s->f0_median_hz = s->f0_sd_hz = s->f0_min_hz = s->f0_max_hz = s->f0_range_st = undefined(why);
    return;
  }
  double mean = sum / (double)nv, ss = 0;
  double stack[2048], *buf = nv <= 2048 ? stack : vm_malloc(sizeof(double) * nv);
  size_t n = 0;
  for (size_t k = 0; k < nr; k++) {
    size_t a, b;
    frame_range(p->n_frames, p->t0_s, p->dt_s, r[k].t0, r[k].t1, &a, &b);
    for (size_t i = a; i < b; i++) {
      if (!vm_dsp_pitch_is_voiced(p, i)) continue;
      double d = p->f0_hz[i] - mean;
      ss += d * d;
      if (buf) buf[n++] = p->f0_hz[i];
    }
  }
  s->f0_mean_hz = defined(mean);
  s->f0_sd_hz = nv > 1 ? defined(sqrt(ss / (double)(nv - 1))) : undefined("one voiced frame");
  s->f0_min_hz = defined(mn), s->f0_max_hz = defined(mx);
  s->f0_range_st = defined(12.0 * log2(mx / mn));
  if (!buf) { s->f0_median_hz = undefined("out of memory"); return; }
  qsort(buf, nv, sizeof(double), cmp_double);
  double place = 0.5 * (double)nv + 0.5; /* Praat's NUMquantile, 1-based */
  long left = (long)floor(place);
  if (nv == 1) s->f0_median_hz = defined(buf[0]);
  else {
    if (left < 1) left = 1;
    if (left >= (long)nv) left = (long)nv - 1;
    s->f0_median_hz = defined(buf[left - 1] + (place - left) * (buf[left] - buf[left - 1]));
  }
  if (buf != stack) vm_free(buf);
}

/* Jitter and shimmer accumulate range by range (dsp_voice_quality.h), so
 * no period pair that straddles two ranges counts. */
static void summarise_pulses(const vm_voice *v, const span *r, size_t nr, vm_voice_summary *s) {
  vm_voice_quality_params q;
  vm_dsp_voice_quality_params_init(&q);
  vm_jitter_acc ja;
  vm_shimmer_acc sa;
  vm_dsp_jitter_acc_init(&ja);
  vm_dsp_shimmer_acc_init(&sa);
  size_t n_pulses = 0, most = 0;
  for (size_t k = 0; k < nr; k++) {
    size_t first, last, n = vm_dsp_pointprocess_window(v->pulses, r[k].t0, r[k].t1, &first, &last);
    n_pulses += n;
    if (n > most) most = n;
    vm_dsp_jitter_accumulate(v->pulses, r[k].t0, r[k].t1, &q, &ja);
    vm_dsp_shimmer_accumulate(v->pulses, r[k].t0, r[k].t1, &q, &sa);
  }
  vm_jitter j;
  vm_shimmer sh;
  vm_dsp_jitter_finish(&ja, &j);
  vm_dsp_shimmer_finish(&sa, &sh);
  s->n_pulses = n_pulses;
  const char *why = most < 3 ? "too few glottal pulses" : "too few regular periods";
  if (sa.oom) why = "out of memory";
  s->jitter_local = maybe(j.local, why);
  s->jitter_local_abs_s = maybe(j.local_abs_s, why);
  s->jitter_rap = maybe(j.rap, why);
  s->jitter_ppq5 = maybe(j.ppq5, why);
  s->shimmer_local = maybe(sh.local, why);
  s->shimmer_local_db = maybe(sh.local_db, why);
  s->shimmer_apq3 = maybe(sh.apq3, why);
  s->shimmer_apq5 = maybe(sh.apq5, why);
  s->shimmer_apq11 = maybe(sh.apq11, why);
}

static void summarise_hnr(const vm_voice *v, const span *r, size_t nr, vm_voice_summary *s) {
  if (!v->hnr) { s->hnr_db = undefined("not computed"); return; }
  size_t n = 0;
  double sum = 0;
  for (size_t k = 0; k < nr; k++) {
    size_t a, b;
    frame_range(v->hnr->n_frames, v->hnr->t0_s, v->hnr->dt_s, r[k].t0, r[k].t1, &a, &b);
    for (size_t i = a; i < b; i++)
      if (!isnan(v->hnr->hnr_db[i])) sum += v->hnr->hnr_db[i], n++;
  }
  s->hnr_db = n ? defined(sum / (double)n) : undefined("no periodic frames");
}

static void summarise_formants(const vm_voice *v, const span *r, size_t nr, vm_voice_summary *s) {
  const vm_formant_track *f = v->formants;
  if (!f) {
    s->f1_mean_hz = s->f2_mean_hz = s->f3_mean_hz = s->f1_sd_hz = s->f2_sd_hz =
        s->formant_stability = undefined("not computed");
    return;
  }
  double sum[3] = {0}, sum2[3] = {0};
  size_t cnt[3] = {0};
  for (size_t q = 0; q < nr; q++) {
    size_t a, b;
    frame_range(f->n_frames, f->t0_s, f->dt_s, r[q].t0, r[q].t1, &a, &b);
    for (size_t i = a; i < b; i++) {
      if (isnan(vm_dsp_pitch_get_value(v->pitch, f->t0_s + (double)i * f->dt_s))) continue;
      for (int k = 0; k < 3; k++) {
        double x = vm_dsp_formant_get(f, i, k + 1);
        if (!isnan(x)) sum[k] += x, sum2[k] += x * x, cnt[k]++;
      }
    }
  }
  vm_measure *means[3] = {&s->f1_mean_hz, &s->f2_mean_hz, &s->f3_mean_hz};
  double sd[2] = {NAN, NAN};
  for (int k = 0; k < 3; k++) {
    *means[k] = cnt[k] ? defined(sum[k] / (double)cnt[k]) : undefined("no voiced frames with this formant");
    if (k < 2 && cnt[k] > 1) {
      double m = sum[k] / (double)cnt[k], var = (sum2[k] - (double)cnt[k] * m * m) / (double)(cnt[k] - 1);
      sd[k] = sqrt(var > 0 ? var : 0);
    }
  }
  s->f1_sd_hz = maybe(sd[0], "fewer than two voiced frames with F1");
  s->f2_sd_hz = maybe(sd[1], "fewer than two voiced frames with F2");
  if (isnan(sd[0]) || isnan(sd[1])) {
    s->formant_stability = undefined("fewer than two voiced frames with F1 and F2");
  } else {
    double cv = 0.5 * (sd[0] / s->f1_mean_hz.value + sd[1] / s->f2_mean_hz.value);
    s->formant_stability = defined(100.0 * (1.0 - fmin(1.0, 2.0 * cv)));
  }
}

/* Parabolic peak of frames [a, b) of the intensity track (Praat's
 * "Parabolic" maximum, neighbours taken inside the range only). */
static double intensity_peak(const vm_intensity_track *it, size_t a, size_t b) {
  size_t im = a;
  for (size_t i = a; i < b; i++) if (it->db[i] > it->db[im]) im = i;
  double mx = it->db[im];
  if (im > a && im + 1 < b) {
    double l = it->db[im - 1], r = it->db[im + 1], d2 = 2 * mx - l - r;
    if (d2 > 0) mx += 0.125 * (r - l) * (r - l) / d2;
  }
  return mx;
}

static void summarise_intensity(const vm_voice *v, const span *r, size_t nr, vm_voice_summary *s) {
  const vm_intensity_track *it = v->intensity;
  double e = 0, sum = 0, sum2 = 0, mx = -INFINITY;
  size_t n = 0, ns = 0;
  for (size_t k = 0; k < nr; k++) {
    size_t a, b;
    frame_range(it->n_frames, it->t0_s, it->dt_s, r[k].t0, r[k].t1, &a, &b);
    if (b == a) continue;
    for (size_t i = a; i < b; i++) {
      double d = it->db[i];
      e += pow(10.0, 0.1 * d);
      if (d > -300.0) sum += d, sum2 += d * d, ns++; /* SD skips digital silence */
    }
    n += b - a;
    double pk = intensity_peak(it, a, b);
    if (pk > mx) mx = pk;
  }
  if (n == 0) {
    s->intensity_mean_db = s->intensity_max_db = s->intensity_sd_db =
        undefined(nr ? "range shorter than one intensity window" : "no time range");
    return;
  }
  s->intensity_mean_db = defined(10.0 * log10(e / (double)n));
  s->intensity_max_db = defined(mx);
  double m = ns ? sum / (double)ns : 0, var = ns > 1 ? (sum2 - (double)ns * m * m) / (double)(ns - 1) : 0;
  s->intensity_sd_db = ns > 1 ? defined(sqrt(var > 0 ? var : 0)) : undefined("fewer than two non-silent frames");
}

static void summarise(const vm_voice *v, const span *r, size_t nr, vm_voice_summary *out) {
  memset(out, 0, sizeof *out);
  if (nr) out->t0_s = r[0].t0, out->t1_s = r[nr - 1].t1;
  for (size_t k = 0; k < nr; k++) out->duration_s += r[k].t1 - r[k].t0;
  summarise_pitch(v, r, nr, out);
  summarise_pulses(v, r, nr, out);
  summarise_hnr(v, r, nr, out);
  summarise_formants(v, r, nr, out);
  summarise_intensity(v, r, nr, out);
}

void vm_forensic_voice_summary_get(const vm_voice *v, double t0_s, double t1_s,
                                   vm_voice_summary *out) {
  if (t1_s <= t0_s) t0_s = 0.0, t1_s = v->duration_s;
  span r = {t0_s, t1_s};
  summarise(v, &r, 1, out);
}

static int cmp_span(const void *x, const void *y) {
  const span *a = x, *b = y;
  return a->t0 < b->t0 ? -1 : a->t0 > b->t0 ? 1 : (a->t1 > b->t1) - (a->t1 < b->t1);
}

int vm_forensic_voice_summary_get_ranges(const vm_voice *v, const double *t0s,
                                         const double *t1s, size_t n,
                                         vm_voice_summary *out) {
  memset(out, 0, sizeof *out);
  if (n && (!t0s || !t1s)) return VM_EINVAL;
  span *r = vm_malloc(sizeof(span) * (n ? n : 1));
  if (!r) return VM_ENOMEM;
  size_t nr = 0;
  for (size_t k = 0; k < n; k++) {
    double a = t0s[k] < 0 ? 0 : t0s[k], b = t1s[k] > v->duration_s ? v->duration_s : t1s[k];
    if (b > a) r[nr++] = (span){a, b}; /* NAN or empty ranges drop out here */
  }
  qsort(r, nr, sizeof(span), cmp_span);
  size_t m = 0; /* merge overlapping and touching ranges */
  for (size_t k = 0; k < nr; k++) {
    if (m && r[k].t0 <= r[m - 1].t1) {
      if (r[k].t1 > r[m - 1].t1) r[m - 1].t1 = r[k].t1;
    } else {
      r[m++] = r[k];
    }
  }
  summarise(v, r, m, out);
  vm_free(r);
  return VM_OK;
}

json_t *vm_forensic_voice_summary_to_json(const vm_voice_summary *s) {
  const struct { const char *key; const vm_measure *m; } f[] = {
      {"f0_mean_hz", &s->f0_mean_hz}, {"f0_median_hz", &s->f0_median_hz},
      {"f0_sd_hz", &s->f0_sd_hz}, {"f0_min_hz", &s->f0_min_hz},
      {"f0_max_hz", &s->f0_max_hz}, {"f0_range_st", &s->f0_range_st},
      {"voiced_fraction", &s->voiced_fraction}, {"jitter_local", &s->jitter_local},
      {"jitter_local_abs_s", &s->jitter_local_abs_s}, {"jitter_rap", &s->jitter_rap},
      {"jitter_ppq5", &s->jitter_ppq5}, {"shimmer_local", &s->shimmer_local},
      {"shimmer_local_db", &s->shimmer_local_db}, {"shimmer_apq3", &s->shimmer_apq3},
      {"shimmer_apq5", &s->shimmer_apq5}, {"shimmer_apq11", &s->shimmer_apq11},
      {"hnr_db", &s->hnr_db}, {"f1_mean_hz", &s->f1_mean_hz},
      {"f2_mean_hz", &s->f2_mean_hz}, {"f3_mean_hz", &s->f3_mean_hz},
      {"f1_sd_hz", &s->f1_sd_hz}, {"f2_sd_hz", &s->f2_sd_hz},
      {"formant_stability", &s->formant_stability},
      {"intensity_mean_db", &s->intensity_mean_db},
      {"intensity_max_db", &s->intensity_max_db}, {"intensity_sd_db", &s->intensity_sd_db},
  };
  json_t *j = json_object(), *why = json_object();
  if (!j || !why) goto fail;
  int bad = json_object_set_new(j, "duration_s", json_real(s->duration_s));
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    bad |= json_object_set_new(j, f[i].key, vm_json_real(f[i].m->value));
    if (isnan(f[i].m->value) && f[i].m->reason)
      bad |= json_object_set_new(why, f[i].key, json_string(f[i].m->reason));
  }
  bad |= json_object_set_new(j, "n_pitch_frames", json_integer((json_int_t)s->n_pitch_frames));
  bad |= json_object_set_new(j, "n_voiced_frames", json_integer((json_int_t)s->n_voiced_frames));
  bad |= json_object_set_new(j, "n_pulses", json_integer((json_int_t)s->n_pulses));
  bad |= json_object_set_new(j, "null_reasons", why);
  why = NULL;
  if (bad) goto fail;
  return j;
fail:
  json_decref(j);
  json_decref(why);
  return NULL;
}
