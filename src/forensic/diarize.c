/* diarize.c — diarization entry point: frames, the stereo path, turns,
 * per-speaker statistics and transcript-segment labels.
 *
 * DESIGN: everything works on 10 ms frames aligned with the VAD's. The
 * speech mask comes from the caller's regions; each speech frame gets one
 * speaker label (single-label diarization), either from channel activity
 * (stereo-channels) or from clustering (diarize_cluster.c). Turns are the
 * maximal runs of one label inside speech; a pause always ends a turn.
 * Statistics and segment labels are computed from the turns only, so they
 * agree with what the JSON shows. Speakers are renumbered in order of
 * first appearance. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diarize_impl.h"
#include "dsp_mfcc.h"
#include "vm_alloc.h"
#include "vm_status.h"

#define STEREO_MIN_SEPARATION 0.6 /* frames with exactly one channel active */
#define STEREO_MIN_SHARE 0.05     /* each channel holds this much of them */
#define STEREO_LEAK_DB 15.0       /* both active but this far apart = leak */
#define MIN_RUN_S 0.25            /* label runs shorter are absorbed */
#define LATCH_S 0.05              /* a turn this close to the last = takeover */
#define MIN_PIECE_S 0.3           /* segment pieces shorter are absorbed */
#define OVL_GAP_S 0.3             /* stereo activity: gaps bridged (= VAD min pause) */
#define OVL_MIN_S 0.1             /* stereo activity: shorter runs dropped */

void vm_diar_opts_default(vm_diar_opts *o) {
  o->n_speakers = 0;
  o->max_speakers = 4;
  o->use_stereo = 1;
  o->bic_lambda = 1.5;
  o->pitch_guard_st = 6.0;
  o->change_lambda = 1.0;
  o->switch_penalty = 25.0;
  o->min_speaker_s = 1.0;
  o->clr_threshold = -0.5;
}

char *vm_diar_speaker_name(int speaker, char *buf, size_t n) {
  snprintf(buf, n, "SPEAKER_%02d", speaker);
  return buf;
}

static void frames_free(vm__diar_frames *f) {
  vm_free(f->feat);
  vm_free(f->speech);
  vm_free(f->region_start);
  vm_free(f->label);
  vm_free(f->overlap);
  vm_free(f->dup_src);
}

#define PITCH_HALF_WIN 30 /* frames each side for the octave-error median */

/* Log-F0 feature (semitones re 100 Hz): voiced frames their own value
 * (folded by an octave when more than 8 semitones from the median of the
 * voiced frames within 0.3 s: octave errors), unvoiced speech frames the last voiced value of
 * their region (the region median before the first); a region without
 * voicing gets the median voiced value of the file. A speaker's pitch register is what we want,
 * not the voicing pattern. f0 is (n_frames) Hz, 0 = unvoiced. */
static int cmp_float(const void *a, const void *b);

/* Median of the voiced log-F0 values in st[a..b) (scratch sorted copy). */
static float region_median(const float *st, size_t a, size_t b, float *tmp) {
  size_t m = 0;
  for (size_t i = a; i < b; i++) if (!isnan(st[i])) tmp[m++] = st[i];
  if (m == 0) return NAN;
  qsort(tmp, m, sizeof(float), cmp_float);
  return tmp[m / 2];
}

static void fill_pitch(vm__diar_frames *f, float *f0, float *tmp) {
  for (size_t t = 0; t < f->n_frames; t++) /* Hz -> semitones re 100 Hz */
    f0[t] = f->speech[t] && f0[t] > 0 ? (float)(12 * log2(f0[t] / 100.0)) : NAN;
  float fallback = region_median(f0, 0, f->n_frames, tmp);
  if (isnan(fallback)) fallback = 0;
  for (size_t t = 0; t < f->n_frames;) {
    if (!f->speech[t]) { f->feat[t * VM__DIAR_DIM + VM__DIAR_N_CEPS] = 0; t++; continue; }
    size_t e = t + 1;
    while (e < f->n_frames && f->speech[e] && !f->region_start[e]) e++;
    float med = region_median(f0, t, e, tmp), cur = isnan(med) ? fallback : med;
    for (size_t i = t; i < e; i++) {
      float v = f0[i];
      if (!isnan(v)) { /* octave errors: fold towards the local median */
        size_t a = i > t + PITCH_HALF_WIN ? i - PITCH_HALF_WIN : t;
        size_t b = i + PITCH_HALF_WIN + 1 < e ? i + PITCH_HALF_WIN + 1 : e;
        med = region_median(f0, a, b, tmp);
        if (v - med > 8) v -= 12;
        else if (med - v > 8) v += 12;
        cur = v;
      }
      f->feat[i * VM__DIAR_DIM + VM__DIAR_N_CEPS] = cur;
    }
    t = e;
  }
}

/* Speech mask from regions, MFCC features mean-normalised over speech. */
static int frames_init(const vm_diar_input *in, vm_dsp_mfcc *m,
                       vm__diar_frames *f) {
  size_t nf = vm_dsp_mfcc_n_frames(m, in->n_samples), hop = vm_dsp_mfcc_hop(m);
  f->n_frames = nf;
  f->frame_s = (double)hop / in->sample_rate_hz;
  f->speech = vm_calloc(nf + 1, 1);
  f->region_start = vm_calloc(nf + 1, 1);
  f->overlap = vm_calloc(nf + 1, 1);
  f->label = vm_malloc((nf + 1) * sizeof(int));
  f->dup_src = vm_malloc((nf + 1) * sizeof(int32_t));
  f->feat = vm_malloc((nf + 1) * VM__DIAR_DIM * sizeof(float));
  float *ceps = vm_malloc((nf + 1) * 13 * sizeof(float)); /* >= 2 (nf + 1) */
  int rc = VM_ENOMEM;
  if (!f->speech || !f->region_start || !f->overlap || !f->label || !f->feat || !ceps ||
      !f->dup_src)
    goto out;
  for (size_t r = 0; r < in->n_regions; r++) {
    size_t a = in->regions[r].start_sample / hop;
    size_t b = (in->regions[r].end_sample + hop - 1) / hop;
    if (b > nf) b = nf;
    if (a >= b) continue;
    memset(f->speech + a, 1, b - a);
    f->region_start[a] = 1;
  }
  for (size_t t = 0; t < nf; t++) {
    f->label[t] = -1;
    f->dup_src[t] = -1;
  }
  vm_dsp_mfcc_compute(m, in->mono, in->n_samples, ceps, NULL);
  for (size_t t = 0; t < nf; t++)
    for (int d = 0; d < VM__DIAR_N_CEPS; d++) f->feat[t * VM__DIAR_DIM + d] = ceps[t * 13 + d];
  /* the ceps buffer (13 floats a frame) is reused for the F0 track */
  if ((rc = vm__diar_pitch(in->mono, in->n_samples, in->sample_rate_hz, f, ceps))) goto out;
  rc = VM_ENOMEM;
  fill_pitch(f, ceps, ceps + nf + 1);
  double mean[VM__DIAR_DIM] = {0}, n_sp = 0;
  for (size_t t = 0; t < nf; t++) {
    if (!f->speech[t]) continue;
    n_sp++;
    for (int d = 0; d < VM__DIAR_DIM; d++) mean[d] += f->feat[t * VM__DIAR_DIM + d];
  }
  for (int d = 0; d < VM__DIAR_DIM && n_sp > 0; d++) mean[d] /= n_sp;
  double var[VM__DIAR_DIM] = {0};
  for (size_t t = 0; t < nf; t++)
    for (int d = 0; d < VM__DIAR_DIM; d++) {
      float *x = &f->feat[t * VM__DIAR_DIM + d];
      *x -= (float)mean[d];
      if (f->speech[t]) var[d] += (double)*x * *x;
    }
  for (int d = 0; d < VM__DIAR_DIM; d++) f->gvar[d] = fmax(n_sp > 0 ? var[d] / n_sp : 0, 1e-6);
  rc = vm__diar_find_repeats(f);
out:
  vm_free(ceps);
  return rc;
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* Activity threshold of one channel (same rule as the VAD). */
static float channel_threshold(const float *db, size_t n, float *scratch) {
  memcpy(scratch, db, n * sizeof(float));
  qsort(scratch, n, sizeof(float), cmp_float);
  float floor_db = scratch[n / 10], level = scratch[n * 95 / 100];
  float range = level - floor_db;
  return fmaxf(floor_db + fmaxf(6.0f, 0.3f * range), -60.0f);
}

/* Absorbs label runs shorter than MIN_RUN_S into the preceding run of the
 * same speech stretch (or the following one at its start). */
static void absorb_short_runs(vm__diar_frames *f) {
  size_t min_run = (size_t)lround(MIN_RUN_S / f->frame_s);
  for (size_t t = 0; t < f->n_frames;) {
    if (!f->speech[t]) { t++; continue; }
    size_t e = t + 1;
    while (e < f->n_frames && f->speech[e] && !f->region_start[e] &&
           f->label[e] == f->label[t]) e++;
    int prev_ok = t > 0 && f->speech[t - 1] && !f->region_start[t];
    int next_ok = e < f->n_frames && f->speech[e] && !f->region_start[e];
    if (e - t < min_run && (prev_ok || next_ok)) {
      int l = prev_ok ? f->label[t - 1] : f->label[e];
      for (size_t i = t; i < e; i++) f->label[i] = l;
    }
    t = e;
  }
}

/* Smooths one channel's activity a[0..n) like the VAD: gaps shorter than
 * OVL_GAP_S inside it are bridged (syllable and word gaps), then runs
 * shorter than OVL_MIN_S dropped. */
static void smooth_activity(uint8_t *a, size_t n, double frame_s) {
  size_t gap = (size_t)lround(OVL_GAP_S / frame_s), min_run = (size_t)lround(OVL_MIN_S / frame_s);
  for (int pass = 0; pass < 2; pass++) {
    uint8_t val = pass == 0 ? 0 : 1;
    size_t lim = pass == 0 ? gap : min_run;
    for (size_t i = 0; i < n;) {
      if (a[i] != val) { i++; continue; }
      size_t j = i;
      while (j < n && a[j] == val) j++;
      if (j - i < lim && (val || (i > 0 && j < n))) memset(a + i, !val, j - i);
      i = j;
    }
  }
}

/* Labels speech frames by channel activity when the channels carry one
 * party each. OUT: *out_used (1 = labels written), *out_sep. Overlap
 * frames: both channels active after each channel's activity is
 * smoothed (smooth_activity), so a party's syllable gaps do not cut one
 * episode of talking over the other into many. */
static int stereo_try(const vm_diar_input *in, vm_dsp_mfcc *m,
                      vm__diar_frames *f, int *out_used, double *out_sep) {
  size_t nf = f->n_frames;
  *out_used = 0;
  *out_sep = NAN;
  float *db0 = vm_malloc((nf + 1) * sizeof(float));
  float *db1 = vm_malloc((nf + 1) * sizeof(float));
  float *tmp = vm_malloc((nf + 1) * sizeof(float));
  uint8_t *act = vm_calloc(2 * (nf + 1), 1); /* (2, nf + 1) channel activity */
  int rc = VM_ENOMEM;
  if (!db0 || !db1 || !tmp || !act) goto out;
  rc = VM_OK;
  if (nf == 0) goto out;
  vm_dsp_mfcc_compute(m, in->channels[0], in->n_samples, NULL, db0);
  vm_dsp_mfcc_compute(m, in->channels[1], in->n_samples, NULL, db1);
  float th0 = channel_threshold(db0, nf, tmp), th1 = channel_threshold(db1, nf, tmp);
  size_t n_any = 0, n_only[2] = {0, 0};
  for (size_t t = 0; t < nf; t++) {
    if (!f->speech[t]) continue;
    int a0 = db0[t] > th0, a1 = db1[t] > th1;
    float diff = db0[t] - db1[t];
    if (a0 && a1 && fabsf(diff) >= STEREO_LEAK_DB) { a0 = diff > 0; a1 = !a0; }
    n_any += a0 || a1;
    if (a0 != a1) n_only[a1]++;
    act[t] = (uint8_t)a0;
    act[nf + 1 + t] = (uint8_t)a1;
    if (a0 != a1) f->label[t] = a1;
    else f->label[t] = (db0[t] - th0) >= (db1[t] - th1) ? 0 : 1;
  }
  size_t n_sep = n_only[0] + n_only[1];
  *out_sep = n_any ? (double)n_sep / (double)n_any : 0;
  if (*out_sep >= STEREO_MIN_SEPARATION &&
      n_only[0] >= STEREO_MIN_SHARE * (double)n_sep &&
      n_only[1] >= STEREO_MIN_SHARE * (double)n_sep) {
    absorb_short_runs(f);
    smooth_activity(act, nf, f->frame_s);
    smooth_activity(act + nf + 1, nf, f->frame_s);
    for (size_t t = 0; t < nf; t++) f->overlap[t] = (uint8_t)(f->speech[t] && act[t] && act[nf + 1 + t]);
    *out_used = 1;
  } else {
    for (size_t t = 0; t < nf; t++) { f->label[t] = -1; f->overlap[t] = 0; }
  }
out:
  vm_free(db0);
  vm_free(db1);
  vm_free(tmp);
  vm_free(act);
  return rc;
}

/* Renumbers labels by first appearance; returns the number used. */
static int order_labels(vm__diar_frames *f, int k) {
  int map[VM_DIAR_MAX_SPEAKERS], next = 0;
  for (int j = 0; j < VM_DIAR_MAX_SPEAKERS; j++) map[j] = -1;
  for (size_t t = 0; t < f->n_frames; t++) {
    int l = f->label[t];
    if (l < 0 || l >= k) continue;
    if (map[l] < 0) map[l] = next++;
    f->label[t] = map[l];
  }
  return next;
}

static int build_turns(const vm__diar_frames *f, double dur_s, vm_diar_result *d) {
  size_t cap = 16;
  d->turns = vm_malloc(cap * sizeof *d->turns);
  if (!d->turns) return VM_ENOMEM;
  for (size_t t = 0; t < f->n_frames;) {
    if (!f->speech[t] || f->label[t] < 0) { t++; continue; }
    size_t e = t + 1;
    while (e < f->n_frames && f->speech[e] && !f->region_start[e] && f->label[e] == f->label[t]) e++;
    if (d->n_turns == cap) {
      vm_diar_turn *g = vm_realloc(d->turns, 2 * cap * sizeof *g);
      if (!g) return VM_ENOMEM;
      d->turns = g;
      cap *= 2;
    }
    vm_diar_turn *u = &d->turns[d->n_turns++];
    u->start_s = (double)t * f->frame_s;
    u->end_s = fmin((double)e * f->frame_s, dur_s);
    u->speaker = f->label[t];
    t = e;
  }
  return VM_OK;
}

/* Overlap episodes (stereo): the party not active just before an episode
 * is the one who interrupted. */
static void overlap_stats(const vm__diar_frames *f, vm_diar_result *d) {
  for (size_t t = 0; t < f->n_frames;) {
    if (!f->overlap[t]) { t++; continue; }
    size_t e = t;
    while (e < f->n_frames && f->overlap[e]) e++;
    int before = t > 0 && f->speech[t - 1] ? f->label[t - 1] : f->label[t];
    int who = before >= 0 && d->n_speakers == 2 ? 1 - before : -1;
    if (who >= 0) {
      d->speakers[who].n_interruptions++;
      d->speakers[who].overlap_s += (double)(e - t) * f->frame_s;
      /* the overlapped frames are labelled with one party; credit the other */
      for (size_t i = t; i < e; i++)
        d->speakers[1 - f->label[i]].talk_s += f->frame_s;
    }
    t = e;
  }
}

static int speaker_stats(const vm__diar_frames *f, int stereo, vm_diar_result *d) {
  if (d->n_speakers == 0) return VM_OK;
  d->speakers = vm_calloc((size_t)d->n_speakers, sizeof *d->speakers);
  if (!d->speakers) return VM_ENOMEM;
  for (size_t i = 0; i < d->n_turns;) {
    const vm_diar_turn *u = &d->turns[i];
    vm_diar_speaker *s = &d->speakers[u->speaker];
    size_t j = i;
    while (j < d->n_turns && d->turns[j].speaker == u->speaker) {
      s->talk_s += d->turns[j].end_s - d->turns[j].start_s;
      j++;
    }
    s->n_turns++;
    s->longest_monologue_s = fmax(s->longest_monologue_s, d->turns[j - 1].end_s - u->start_s);
    if (!stereo && i > 0 && u->start_s - d->turns[i - 1].end_s < LATCH_S) s->n_interruptions++;
    i = j;
  }
  if (stereo) overlap_stats(f, d);
  double total = 0;
  for (int k = 0; k < d->n_speakers; k++) total += d->speakers[k].talk_s;
  for (int k = 0; k < d->n_speakers; k++)
    d->speakers[k].share = total > 0 ? d->speakers[k].talk_s / total : 0;
  return VM_OK;
}

/* Appends one piece; merges with the previous piece of the same segment
 * and speaker. */
static int piece_push(vm_diar_result *d, size_t *cap, size_t seg, double a,
                      double b, int spk) {
  vm_diar_seg_label *last = d->n_seg_labels ? &d->seg_labels[d->n_seg_labels - 1] : NULL;
  if (last && last->segment == seg && last->speaker == spk) {
    last->end_s = b;
    return VM_OK;
  }
  if (d->n_seg_labels == *cap) {
    size_t nc = *cap ? 2 * *cap : 16;
    vm_diar_seg_label *g = vm_realloc(d->seg_labels, nc * sizeof *g);
    if (!g) return VM_ENOMEM;
    d->seg_labels = g;
    *cap = nc;
  }
  d->seg_labels[d->n_seg_labels++] = (vm_diar_seg_label){seg, a, b, spk};
  return VM_OK;
}

/* Speaker of the turn nearest to time t (-1 without turns). */
static int nearest_speaker(const vm_diar_result *d, double t) {
  int best = -1;
  double bd = INFINITY;
  for (size_t i = 0; i < d->n_turns; i++) {
    const vm_diar_turn *u = &d->turns[i];
    double dist = t < u->start_s ? u->start_s - t : t > u->end_s ? t - u->end_s : 0;
    if (dist < bd) { bd = dist; best = u->speaker; }
  }
  return best;
}

/* Labels one segment: the turns it overlaps, gaps split at their middle,
 * pieces under MIN_PIECE_S absorbed by the previous (or next) piece. */
static int label_segment(vm_diar_result *d, size_t *cap, size_t si, double s, double e) {
  size_t first = d->n_seg_labels;
  double cur = s;
  int rc = VM_OK;
  for (size_t i = 0; i < d->n_turns && rc == VM_OK; i++) {
    const vm_diar_turn *u = &d->turns[i];
    if (u->end_s <= s || u->start_s >= e) continue;
    double a = fmax(u->start_s, s);
    if (d->n_seg_labels > first) { /* split the gap before this turn */
      double mid = 0.5 * (cur + a);
      d->seg_labels[d->n_seg_labels - 1].end_s = mid;
      a = mid;
    } else {
      a = s;
    }
    cur = fmin(u->end_s, e);
    rc = piece_push(d, cap, si, a, cur, u->speaker);
  }
  if (rc) return rc;
  if (d->n_seg_labels == first) return piece_push(d, cap, si, s, e, nearest_speaker(d, 0.5 * (s + e)));
  d->seg_labels[d->n_seg_labels - 1].end_s = e;
  for (size_t i = first; i < d->n_seg_labels && d->n_seg_labels - first > 1;) {
    vm_diar_seg_label *p = &d->seg_labels[i];
    if (p->end_s - p->start_s >= MIN_PIECE_S) { i++; continue; }
    size_t into = i > first ? i - 1 : i + 1;
    if (into < i) d->seg_labels[into].end_s = p->end_s;
    else d->seg_labels[into].start_s = p->start_s;
    memmove(p, p + 1, (d->n_seg_labels - i - 1) * sizeof *p);
    d->n_seg_labels--;
    /* neighbours may now share a speaker: merge them */
    if (into < i && i < d->n_seg_labels && d->seg_labels[i].speaker == d->seg_labels[into].speaker) {
      d->seg_labels[into].end_s = d->seg_labels[i].end_s;
      memmove(&d->seg_labels[i], &d->seg_labels[i + 1], (d->n_seg_labels - i - 1) * sizeof *p);
      d->n_seg_labels--;
    }
    i = first;
  }
  return VM_OK;
}

static int label_segments(const vm_diar_input *in, vm_diar_result *d) {
  size_t cap = 0;
  for (size_t i = 0; i < in->n_segments; i++) {
    double s = in->segments[i].start_s, e = in->segments[i].end_s;
    if (!(e >= s)) return VM_EINVAL;
    int rc = label_segment(d, &cap, i, s, e);
    if (rc) return rc;
  }
  return VM_OK;
}

static int check_input(const vm_diar_input *in, const vm_diar_opts *o) {
  if (!in || (!in->mono && in->n_samples) || in->sample_rate_hz < 8000 ||
      in->sample_rate_hz > 48000 || (!in->regions && in->n_regions) ||
      (!in->segments && in->n_segments) ||
      (!in->channels[0]) != (!in->channels[1]))
    return VM_EINVAL;
  if (o->max_speakers < 1 || o->max_speakers > VM_DIAR_MAX_SPEAKERS ||
      o->n_speakers < 0 || o->n_speakers > VM_DIAR_MAX_SPEAKERS)
    return VM_EINVAL;
  for (size_t r = 0; r < in->n_regions; r++)
    if (in->regions[r].end_sample < in->regions[r].start_sample ||
        in->regions[r].end_sample > in->n_samples)
      return VM_EINVAL;
  return VM_OK;
}

int vm_diarize(const vm_diar_input *in, const vm_diar_opts *opts,
               vm_diar_result **out) {
  *out = NULL;
  vm_diar_opts o;
  if (opts) o = *opts; else vm_diar_opts_default(&o);
  int rc = check_input(in, &o);
  if (rc) return rc;
  vm_mfcc_opts mo;
  vm_dsp_mfcc_opts_default(&mo);
  mo.sample_rate_hz = in->sample_rate_hz;
  vm_dsp_mfcc *m = NULL;
  vm__diar_frames f;
  memset(&f, 0, sizeof f);
  vm_diar_result *d = vm_calloc(1, sizeof *d);
  if (!d) return VM_ENOMEM;
  d->method = "none";
  d->stereo_separation = NAN;
  if ((rc = vm_dsp_mfcc_create(&mo, &m)) || (rc = frames_init(in, m, &f))) goto fail;
  int used = 0, k = 0;
  if (in->channels[0] && o.use_stereo && (o.n_speakers == 0 || o.n_speakers == 2)) {
    if ((rc = stereo_try(in, m, &f, &used, &d->stereo_separation))) goto fail;
    if (used) { k = 2; d->method = "stereo-channels"; }
  }
  if (!used) {
    if ((rc = vm__diar_cluster_mono(&f, &o, &k))) goto fail;
    absorb_short_runs(&f);
    if (k > 0) d->method = "bic-ahc-viterbi";
  }
  d->n_speakers = order_labels(&f, k);
  d->repeated_s = (double)f.n_dup * f.frame_s;
  if ((rc = build_turns(&f, (double)in->n_samples / in->sample_rate_hz, d)) ||
      (rc = speaker_stats(&f, used, d)) || (rc = label_segments(in, d)))
    goto fail;
  frames_free(&f);
  vm_dsp_mfcc_destroy(m);
  *out = d;
  return VM_OK;
fail:
  frames_free(&f);
  vm_dsp_mfcc_destroy(m);
  vm_diar_result_destroy(d);
  return rc;
}

void vm_diar_result_destroy(vm_diar_result *d) {
  if (!d) return;
  vm_free(d->turns);
  vm_free(d->speakers);
  vm_free(d->seg_labels);
  vm_free(d);
}
