/* voice_stream.c — all voice tracks in one pass over a streamed signal.
 *
 * DESIGN
 * Two reads of the source, both in order:
 *   1. level pass: sum, min and max of the samples. Praat scales frame
 *      intensities by the global peak (pitch, harmonicity) and gates
 *      pulses by it, so nothing can be decided before the whole signal
 *      has been seen once; max |x - mean| is max(|max - mean|, |min -
 *      mean|) exactly (rounding is monotone), so three numbers suffice.
 *   2. analysis pass: blocks of VM_VOICE_BLOCK samples are appended to
 *      one sliding window [base, base + len); after each block every
 *      track analyses the frames whose samples have all arrived:
 *        pitch (ac)   frames in order; a fixed-lag Viterbi emits F0 as
 *                     soon as the paths agree (dsp_pitch.h)
 *        harmonicity  cc frames, each final at once
 *        intensity    frames in order
 *        formants     frames whose pitch is final; only voiced ones are
 *                     analysed (as before)
 *        pulses       voiced stretches whose pitch is final
 *      Then the window drops every sample below the lowest one any track
 *      can still read. Pulses and formants trail the pitch decision, so
 *      the window spans that lag (well under a second on speech, at
 *      most max_lag_s) plus the longest voiced stretch still being
 *      walked.
 * Working memory is therefore bounded by the lag and the stretch, not by
 * the duration; what grows with the duration is only the final tracks:
 * F0 float per 10 ms, HNR float per 10 ms, intensity float per 8 ms, F1-F3
 * floats per voiced 6.25 ms formant frame (sparse: formants of unvoiced
 * frames are never read) and 12 bytes per glottal pulse (time double,
 * amplitude float).
 * Every frame is computed by the same code, with the same arithmetic, as
 * the whole-array functions of src/dsp, so the tracks are bit-identical
 * to them whenever the pitch paths converge within max_lag_s (they
 * always do on speech: any unvoiced frame forces convergence).
 */
#include "voice_stream.h"

#include <math.h>
#include <string.h>

#include "vm_alloc.h"

#define VM_VOICE_BLOCK 16384   /* samples read per call of the source */
#define VM_VOICE_MAX_LAG_S 20.0 /* pitch: undecided frames before a forced decision */

/* The sliding window of samples [base, base + len). */
typedef struct window {
  float *x;
  long base, len, cap;
  size_t peak_bytes;
} window;

/* Drops samples below low, then appends up to `want` samples read at
 * base + len. Returns VM_OK, VM_ENOMEM or the source's error. */
static int window_read(window *w, const vm_voice_source *src, long low, long want) {
  VM_ASSERT(low >= w->base); /* every track's low mark only moves forward */
  if (low > w->base) {
    long drop = low - w->base < w->len ? low - w->base : w->len;
    memmove(w->x, w->x + drop, (size_t)(w->len - drop) * sizeof(float));
    w->base += drop, w->len -= drop;
  }
  if (w->len + want > w->cap) {
    long cap = w->cap ? w->cap : 4 * VM_VOICE_BLOCK;
    while (cap < w->len + want) cap *= 2;
    float *nx = vm_realloc(w->x, (size_t)cap * sizeof(float));
    if (!nx) return VM_ENOMEM;
    w->x = nx, w->cap = cap;
    if ((size_t)cap * sizeof(float) > w->peak_bytes) w->peak_bytes = (size_t)cap * sizeof(float);
  }
  int rc = src->read(src->user, (size_t)(w->base + w->len), (size_t)want, w->x + w->len);
  if (rc) return rc;
  w->len += want;
  return VM_OK;
}

typedef struct stream_ctx {
  const vm_voice_source *src;
  const vm_voice_params *vp;
  window w;
  vm__pitch_stream *ps, *hs;
  vm__pulse_stream *pu;
  vm__formant_stream *fs;
  vm__intensity_geom ig;
  int have_ig;
  size_t k_int, k_fmt;
  int pitch_finished, hnr_finished, formants_done;
  vm__voice_tracks t;
} stream_ctx;

static void emit_f0(void *user, size_t i, float f0, float strength) {
  (void)strength;
  ((vm_pitch_track *)user)->f0_hz[i] = f0;
}

static void emit_hnr(void *user, size_t i, float f0, float strength) {
  ((vm_hnr_track *)user)->hnr_db[i] = vm__dsp_hnr_db(f0, strength);
}

/* Pushes every frame of ps whose span has arrived; finishes at the end. */
static int advance_pitch(vm__pitch_stream *ps, const window *w, long end, long n, int *finished) {
  size_t nf, i;
  double t0, dt, ceil_hz;
  vm__dsp_pitch_stream_geometry(ps, &nf, &t0, &dt, &ceil_hz);
  while ((i = vm__dsp_pitch_stream_next(ps)) < nf) {
    long lo, hi;
    vm__dsp_pitch_stream_span(ps, i, &lo, &hi);
    if (hi > end) break;
    int rc = vm__dsp_pitch_stream_push(ps, w->x, w->base);
    if (rc) return rc;
  }
  if (end == n && !*finished) vm__dsp_pitch_stream_finish(ps), *finished = 1;
  return VM_OK;
}

/* Lowest sample the next frame of ps reads (n when all are pushed). */
static long pitch_low(const vm__pitch_stream *ps, long n) {
  size_t nf, i = vm__dsp_pitch_stream_next(ps);
  double t0, dt, c;
  vm__dsp_pitch_stream_geometry(ps, &nf, &t0, &dt, &c);
  if (i >= nf) return n;
  long lo, hi;
  vm__dsp_pitch_stream_span(ps, i, &lo, &hi);
  return lo;
}

/* Formant frame k may be decided once the pitch frames around its centre
 * (the two that vm_dsp_pitch_get_value reads) are final. */
static int pitch_final_at(const vm_pitch_track *p, size_t n_final, double t) {
  if (n_final >= p->n_frames) return 1;
  double i = floor((t - p->t0_s) / p->dt_s) + 2.0;
  return i <= (double)n_final;
}

static int advance_formants(stream_ctx *c, long end) {
  size_t nf, n_final = vm__dsp_pitch_stream_n_final(c->ps);
  double t0, dt;
  vm__dsp_formant_stream_geometry(c->fs, &nf, &t0, &dt);
  vm_formant_track *t = c->t.formants;
  for (; c->k_fmt < nf; c->k_fmt++) {
    double tt = t0 + (double)c->k_fmt * dt;
    if (!pitch_final_at(c->t.pitch, n_final, tt)) break;
    /* formants only where summaries read them: pitch-voiced frames */
    if (isnan(vm_dsp_pitch_get_value(c->t.pitch, tt))) continue;
    long lo, hi;
    vm__dsp_formant_stream_span(c->fs, c->k_fmt, &lo, &hi);
    if (hi > end) break;
    float *row = vm__dsp_formant_track_add_row(t, c->k_fmt);
    if (!row) return VM_ENOMEM;
    vm__dsp_formant_stream_frame(c->fs, c->w.x, c->w.base, c->k_fmt, t->n_kept, row, NULL);
  }
  if (c->k_fmt == nf && !c->formants_done) vm__dsp_formant_track_shrink(t), c->formants_done = 1;
  return VM_OK;
}

static int advance(stream_ctx *c, long n) {
  long end = c->w.base + c->w.len;
  int rc = advance_pitch(c->ps, &c->w, end, n, &c->pitch_finished);
  if (!rc && c->hs) rc = advance_pitch(c->hs, &c->w, end, n, &c->hnr_finished);
  if (rc) return rc;
  for (; c->k_int < c->ig.n_frames; c->k_int++) {
    long lo, hi;
    vm__dsp_intensity_frame_span(&c->ig, c->k_int, &lo, &hi);
    if (hi > end) break;
    c->t.intensity->db[c->k_int] = vm__dsp_intensity_frame(&c->ig, c->w.x, c->w.base, c->k_int);
  }
  if (c->fs && (rc = advance_formants(c, end))) return rc;
  return vm__dsp_pulse_stream_run(c->pu, c->t.pitch, vm__dsp_pitch_stream_n_final(c->ps), c->w.x,
                                  c->w.base, end);
}

/* The lowest sample any track can still read. */
static long low_mark(const stream_ctx *c, long n) {
  long low = pitch_low(c->ps, n), v;
  if (c->hs && (v = pitch_low(c->hs, n)) < low) low = v;
  if (c->k_int < c->ig.n_frames) {
    long hi;
    vm__dsp_intensity_frame_span(&c->ig, c->k_int, &v, &hi);
    if (v < low) low = v;
  }
  if (c->fs) {
    size_t nf;
    double t0, dt;
    vm__dsp_formant_stream_geometry(c->fs, &nf, &t0, &dt);
    long hi;
    if (c->k_fmt < nf) {
      vm__dsp_formant_stream_span(c->fs, c->k_fmt, &v, &hi);
      if (v < low) low = v;
    }
  }
  if ((v = vm__dsp_pulse_stream_low(c->pu, c->t.pitch)) < low) low = v;
  return low;
}

/* Level pass: sum, min, max of all samples. */
static int level_pass(const vm_voice_source *src, float *buf, double *sum, float *mn, float *mx) {
  double s = 0.0;
  float lo = INFINITY, hi = -INFINITY; /* NAN samples are skipped, as by the dsp peaks */
  for (size_t off = 0; off < src->n_samples; off += VM_VOICE_BLOCK) {
    size_t m = src->n_samples - off < VM_VOICE_BLOCK ? src->n_samples - off : VM_VOICE_BLOCK;
    int rc = src->read(src->user, off, m, buf);
    if (rc) return rc;
    for (size_t i = 0; i < m; i++) {
      s += buf[i];
      if (buf[i] < lo) lo = buf[i];
      if (buf[i] > hi) hi = buf[i];
    }
  }
  *sum = s, *mn = lo, *mx = hi;
  return VM_OK;
}

static void tracks_free(vm__voice_tracks *t) {
  vm_dsp_pitch_destroy(t->pitch);
  vm_dsp_pointprocess_destroy(t->pulses);
  vm_dsp_hnr_destroy(t->hnr);
  vm_dsp_formant_destroy(t->formants);
  vm_dsp_intensity_destroy(t->intensity);
  memset(t, 0, sizeof *t);
}

/* Creates the streams and the (n_frames-long, compact) tracks. */
static int setup(stream_ctx *c, double peak_mean, double peak_abs) {
  const vm_voice_source *src = c->src;
  size_t n = src->n_samples, nf;
  double t0, dt, ceil_hz;
  vm_pitch_params pp;
  vm_dsp_pitch_params_init(&pp);
  pp.floor_hz = c->vp->pitch_floor_hz, pp.ceiling_hz = c->vp->pitch_ceiling_hz;
  vm_pitch_track *pt = c->t.pitch = vm_calloc(1, sizeof *pt);
  if (!pt) return VM_ENOMEM;
  int rc = vm__dsp_pitch_stream_create(&pp, src->rate_hz, n, peak_mean, VM_VOICE_MAX_LAG_S,
                                       emit_f0, pt, &c->ps);
  if (rc) return rc;
  vm__dsp_pitch_stream_geometry(c->ps, &nf, &t0, &dt, &ceil_hz);
  pt->n_frames = nf, pt->t0_s = t0, pt->dt_s = dt, pt->ceiling_hz = ceil_hz;
  pt->duration_s = (double)n / src->rate_hz;
  if (!(pt->f0_hz = vm_calloc(nf ? nf : 1, sizeof(float)))) return VM_ENOMEM;
  if ((rc = vm__dsp_pulse_stream_create(n, src->rate_hz, pp.floor_hz, peak_abs, NULL, &c->pu)))
    return rc;
  if (c->vp->with_hnr) {
    vm_hnr_params hp;
    vm_dsp_hnr_params_init(&hp);
    if (!(hp.min_pitch_hz < 0.5 * src->rate_hz)) return VM_EINVAL;
    vm_pitch_params cp;
    vm__dsp_hnr_pitch_params(&hp, src->rate_hz, &cp);
    vm_hnr_track *h = c->t.hnr = vm_calloc(1, sizeof *h);
    if (!h) return VM_ENOMEM;
    if ((rc = vm__dsp_pitch_stream_create(&cp, src->rate_hz, n, peak_mean, 0.0, emit_hnr, h,
                                          &c->hs)))
      return rc;
    vm__dsp_pitch_stream_geometry(c->hs, &h->n_frames, &h->t0_s, &h->dt_s, &ceil_hz);
    if (!(h->hnr_db = vm_malloc(sizeof(float) * (h->n_frames ? h->n_frames : 1)))) return VM_ENOMEM;
  }
  if (c->vp->with_formants) {
    vm_formant_params fp;
    vm_dsp_formant_params_init(&fp);
    if ((rc = vm__dsp_formant_stream_create(&fp, n, src->rate_hz, &c->fs))) return rc;
    vm__dsp_formant_stream_geometry(c->fs, &nf, &t0, &dt);
    if ((rc = vm__dsp_formant_track_alloc_sparse(nf, 3, &c->t.formants))) return rc;
    c->t.formants->t0_s = t0, c->t.formants->dt_s = dt;
  }
  if ((rc = vm__dsp_intensity_geom_init(&c->ig, n, src->rate_hz, 100.0, 0.0))) return rc;
  c->have_ig = 1;
  vm_intensity_track *it = c->t.intensity = vm_calloc(1, sizeof *it);
  if (!it) return VM_ENOMEM;
  it->n_frames = c->ig.n_frames, it->t0_s = c->ig.t0_s, it->dt_s = c->ig.dt_s;
  if (!(it->db = vm_malloc(sizeof(float) * (it->n_frames ? it->n_frames : 1)))) return VM_ENOMEM;
  return VM_OK;
}

int vm__voice_stream_run(const vm_voice_source *src, const vm_voice_params *p,
                         vm__voice_tracks *out, vm_err *err) {
  memset(out, 0, sizeof *out);
  stream_ctx c;
  memset(&c, 0, sizeof c);
  c.src = src, c.vp = p;
  long n = (long)src->n_samples;
  double sum = 0.0;
  float mn = 0.0f, mx = 0.0f;
  float *block = vm_malloc(sizeof(float) * VM_VOICE_BLOCK);
  int rc = block ? level_pass(src, block, &sum, &mn, &mx) : VM_ENOMEM;
  vm_free(block);
  if (rc) goto out;
  /* the peaks the whole-array code finds, max |x - mean| and max |x|:
   * both are reached at the smallest or the largest sample (rounding is
   * monotone); none (0) for an empty, all-NAN or NAN-mean signal */
  double mean = n ? sum / (double)n : 0.0;
  int any = mn <= mx;
  double peak_mean = any ? fmax(fabs((double)mx - mean), fabs((double)mn - mean)) : 0.0;
  double peak_abs = any ? fmax(fabs((double)mx), fabs((double)mn)) : 0.0;
  if (isnan(peak_mean)) peak_mean = 0.0;
  if ((rc = setup(&c, peak_mean, peak_abs))) goto out;
  for (;;) {
    long end = c.w.base + c.w.len;
    long want = n - end < VM_VOICE_BLOCK ? n - end : VM_VOICE_BLOCK;
    if (want > 0 && (rc = window_read(&c.w, src, low_mark(&c, n), want))) goto out;
    if ((rc = advance(&c, n))) goto out;
    if (c.w.base + c.w.len >= n) break;
  }
  rc = vm__dsp_pulse_stream_finish(c.pu, c.w.x, c.w.base, &c.t.pulses);
  if (rc) goto out;
  c.t.n_forced = vm__dsp_pitch_stream_n_forced(c.ps);
  c.t.buffer_peak_bytes = c.w.peak_bytes;
  *out = c.t;
  memset(&c.t, 0, sizeof c.t);
out:
  vm__dsp_pitch_stream_destroy(c.ps);
  vm__dsp_pitch_stream_destroy(c.hs);
  vm__dsp_pulse_stream_destroy(c.pu);
  vm__dsp_formant_stream_destroy(c.fs);
  if (c.have_ig) vm__dsp_intensity_geom_deinit(&c.ig);
  vm_free(c.w.x);
  tracks_free(&c.t);
  if (rc == VM_ENOMEM) return vm_err_set(err, rc, "voice: out of memory");
  if (rc == VM_EINVAL) return vm_err_set(err, rc, "voice: invalid parameters");
  if (rc) return vm_err_set(err, rc, "voice: reading the signal failed");
  return VM_OK;
}
