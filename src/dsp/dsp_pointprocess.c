/* dsp_pointprocess.c — glottal pulses (Praat "To PointProcess (cc)").
 *
 * DESIGN
 * Follows the published behaviour of Praat's Sound_Pitch_to_PointProcess_cc
 * (see the header); indices use Praat's sample-time convention
 * (sample i at (i + 0.5) / rate). Pulses are appended as found, then
 * sorted and de-duplicated in batches once no later stretch can put a
 * pulse before them, which gives the same set as inserting in order. The correlation search costs O(period) per lag over ~0.45 period
 * of lags, i.e. O(period^2) per pulse: about 0.5 M multiply-adds per
 * voiced second at 16 kHz, cheaper than an FFT at these sizes (window
 * energies come from prefix sums, so only the products cost per lag).
 * The search runs as a stream (vm__pulse_stream, see its comment below):
 * stretches in time order as their pitch frames become final, samples
 * read through an offset (x[i - x0]) from whatever window holds them.
 * vm_dsp_pointprocess_create is that stream run once over the whole
 * array.
 */
#include "dsp_pointprocess.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vm_alloc.h"

typedef struct snd {
  const float *x; /* x[i - x0] is sample i (a window of the signal when streamed) */
  long x0;
  long nx;        /* samples of the whole signal */
  double dx;
  double *q;     /* scratch: prefix sums of x^2 over one search span */
  long q_cap;    /* doubles allocated in q */
} snd;

/* Sample i, and a pointer to it. */
#define SX(s, i) ((s)->x[(i) - (s)->x0])
#define SXP(s, i) ((s)->x + ((i) - (s)->x0))

/* Praat's Sampled index conversions, 0-based. */
static long low_index(const snd *s, double t) { return (long)floor((t - 0.5 * s->dx) / s->dx); }
static long high_index(const snd *s, double t) { return (long)ceil((t - 0.5 * s->dx) / s->dx); }
static long nearest_index(const snd *s, double t) { return (long)floor((t - 0.5 * s->dx) / s->dx + 0.5); }

void vm_dsp_period_limits_init(vm_period_limits *l) {
  l->period_min_s = 0.0001;
  l->period_max_s = 0.02;
  l->period_factor = 1.3;
}

/* Time of the largest |x| in [tmin, tmax], parabolically refined. */
static double find_extremum(const snd *s, double tmin, double tmax) {
  long imin = low_index(s, tmin), imax = high_index(s, tmax);
  if (imin < 0) imin = 0;
  if (imax > s->nx - 1) imax = s->nx - 1;
  long n = imax - imin + 1;
  const float *y = SXP(s, imin);
  double iext; /* 0-based within y */
  if (n <= 0) return 0.5 * (tmin + tmax);
  if (n == 1) iext = 0;
  else if (n == 2) iext = fabs(y[0]) > fabs(y[1]) ? 0 : fabs(y[0]) < fabs(y[1]) ? 1 : 0.5;
  else {
    long jmin = 0, jmax = 0;
    for (long j = 1; j < n; j++) {
      if (y[j] < y[jmin]) jmin = j;
      if (y[j] > y[jmax]) jmax = j;
    }
    if (y[jmin] == y[jmax]) iext = 0.5 * (n - 1);
    else {
      long j = fabs(y[jmin]) > fabs(y[jmax]) ? jmin : jmax;
      if (j == 0 || j == n - 1) iext = (double)j;
      else iext = j + 0.5 * (y[j + 1] - y[j - 1]) / (2.0 * y[j] - y[j - 1] - y[j + 1]);
    }
  }
  return (imin + iext + 0.5) * s->dx;
}

/* sum a[i] b[i] over i < n, four partial sums so that the loop runs at
 * load/multiply throughput rather than add latency. */
static double dot(const float *a, const float *b, long n) {
  double p0 = 0, p1 = 0, p2 = 0, p3 = 0;
  long i = 0;
  for (; i + 3 < n; i += 4) {
    p0 += (double)a[i] * b[i], p1 += (double)a[i + 1] * b[i + 1];
    p2 += (double)a[i + 2] * b[i + 2], p3 += (double)a[i + 3] * b[i + 3];
  }
  for (; i < n; i++) p0 += (double)a[i] * b[i];
  return (p0 + p1) + (p2 + p3);
}

/* Makes s->q hold at least n doubles; 0 if it cannot. */
static int q_reserve(snd *s, long n) {
  if (n <= s->q_cap) return 1;
  double *q = vm_realloc(s->q, sizeof(double) * (size_t)n);
  if (!q) return 0;
  s->q = q, s->q_cap = n;
  return 1;
}

/* Best correlation of the window around t1 with windows starting in
 * [tmin2, tmax2] (minus half a window). OUT: *tout, *peak. Returns the
 * correlation, -1 if no local maximum was found.
 * As Praat's Sound_findMaximumCorrelation, including its quirk that
 * *peak is the local peak of the window one lag after the best. When
 * every window lies inside the signal (the usual case) the window-1 norm
 * is computed once, the window-2 norms come from prefix sums of x^2 over
 * the search span, and the peak is computed only for the winner: one
 * multiply-add per sample and lag instead of three. */
static double find_max_correlation(snd *s, double t1, double window, double tmin2,
                                   double tmax2, double *tout, double *peak) {
  double best = -1.0, r1 = 0, r2 = 0, r3 = 0, r1b = 0, r3b = 0, ir = 0, half = 0.5 * window;
  long ileft1 = nearest_index(s, t1 - half), iright1 = nearest_index(s, t1 + half);
  long ileft2min = low_index(s, tmin2 - half), ileft2max = high_index(s, tmax2 - half);
  long w = iright1 - ileft1 + 1, span = ileft2max - ileft2min + w;
  int inside = ileft1 >= 0 && iright1 < s->nx && ileft2min >= 0 && ileft2max + w <= s->nx &&
               w > 0 && span > 0 && q_reserve(s, span + 1);
  double norm1 = 0, lpeak_best = 0;
  if (inside) {
    for (long i = ileft1; i <= iright1; i++) norm1 += (double)SX(s, i) * SX(s, i);
    s->q[0] = 0;
    for (long i = 0; i < span; i++) {
      double v = SX(s, ileft2min + i);
      s->q[i + 1] = s->q[i] + v * v;
    }
  }
  *peak = 0.0;
  for (long ileft2 = ileft2min; ileft2 <= ileft2max; ileft2++) {
    double norm2 = 0, prod = 0, lpeak = 0, n1 = norm1;
    if (inside) {
      prod = dot(SXP(s, ileft1), SXP(s, ileft2), w);
      norm2 = s->q[ileft2 - ileft2min + w] - s->q[ileft2 - ileft2min];
    } else {
      n1 = 0;
      for (long i1 = ileft1, i2 = ileft2; i1 <= iright1; i1++, i2++) {
        if (i1 < 0 || i1 >= s->nx || i2 < 0 || i2 >= s->nx) continue;
        double a1 = SX(s, i1), a2 = SX(s, i2);
        n1 += a1 * a1, norm2 += a2 * a2, prod += a1 * a2;
        if (fabs(a2) > lpeak) lpeak = fabs(a2);
      }
    }
    r1 = r2, r2 = r3;
    r3 = prod != 0.0 && n1 * norm2 > 0 ? prod / sqrt(n1 * norm2) : 0.0;
    if (r2 > best && r2 >= r1 && r2 >= r3) {
      r1b = r1, best = r2, r3b = r3, ir = (double)(ileft2 - 1), lpeak_best = lpeak;
      if (inside) { /* the local peak of the current window (ileft2) */
        lpeak_best = 0;
        for (long i = 0; i < w; i++) if (fabsf(SX(s, ileft2 + i)) > lpeak_best) lpeak_best = fabsf(SX(s, ileft2 + i));
      }
    }
  }
  if (best > -1.0) {
    *peak = lpeak_best;
    double d2r = 2 * best - r1b - r3b;
    if (d2r != 0.0) {
      double dr = 0.5 * (r3b - r1b);
      best += 0.5 * dr * dr / d2r;
      ir += dr / d2r;
    }
    *tout = t1 + (ir - ileft1) * s->dx;
  }
  return best;
}

/* Next voiced stretch of the pitch track at or after time `after`, using
 * only frames [0, n_avail) (final ones). Returns 1 (found: [*tl, *tr]),
 * 0 (no more stretches), -1 (a stretch has started but not ended among
 * the final frames) or -2 (no voiced final frame from `after` on).
 * With n_avail = n_frames, exactly the whole-track search. */
static int voiced_interval_after(const vm_pitch_track *p, size_t n_avail, double after,
                                 double *tl, double *tr) {
  long nf = (long)p->n_frames, na = (long)n_avail;
  long il = (long)ceil((after - p->t0_s) / p->dt_s);
  if (il >= nf) return 0;
  if (il < 0) il = 0;
  while (il < na && !vm_dsp_pitch_is_voiced(p, (size_t)il)) il++;
  if (il >= nf) return 0;
  if (il >= na) return -2;
  long ir = il;
  while (ir < na && vm_dsp_pitch_is_voiced(p, (size_t)ir)) ir++;
  /* the walk reads F0 up to the frame after the stretch (interpolation) */
  if (na < nf && ir + 1 >= na) return -1;
  ir--;
  *tl = p->t0_s + il * p->dt_s - 0.5 * p->dt_s;
  *tr = p->t0_s + ir * p->dt_s + 0.5 * p->dt_s;
  if (*tl >= p->duration_s - 0.5 * p->dt_s) return 0;
  if (*tl < 0) *tl = 0;
  if (*tr > p->duration_s) *tr = p->duration_s;
  return 1;
}

typedef struct pulse_buf {
  double *t;
  size_t n, cap;
  int oom;
} pulse_buf;

static void pulse_add(pulse_buf *b, double t) {
  if (b->n == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 256;
    double *nt = vm_realloc(b->t, cap * sizeof(double));
    if (!nt) { b->oom = 1; return; }
    b->t = nt, b->cap = cap;
  }
  b->t[b->n++] = t;
}

/* Walks one voiced stretch [tl, tr] both ways from its middle. */
static void walk_stretch(snd *s, const vm_pitch_track *p, double tl, double tr,
                         double gpeak, double *added_right, pulse_buf *b) {
  double tmid = 0.5 * (tl + tr), f0mid = vm_dsp_pitch_get_value(p, tmid), peak;
  if (isnan(f0mid)) return;
  double tmax = find_extremum(s, tmid - 0.5 / f0mid, tmid + 0.5 / f0mid);
  pulse_add(b, tmax);
  double tsave = tmax;
  for (;;) {
    double f0 = vm_dsp_pitch_get_value(p, tmax);
    if (isnan(f0)) break;
    double corr = find_max_correlation(s, tmax, 1.0 / f0, tmax - 1.25 / f0, tmax - 0.8 / f0, &tmax, &peak);
    if (corr == -1) tmax -= 1.0 / f0;
    if (tmax < tl) {
      if (corr > 0.7 && peak > 0.023333 * gpeak && tmax - *added_right > 0.8 / f0) pulse_add(b, tmax);
      break;
    }
    if (corr > 0.3 && (peak == 0.0 || peak > 0.01 * gpeak) && tmax - *added_right > 0.8 / f0)
      pulse_add(b, tmax);
  }
  tmax = tsave;
  for (;;) {
    double f0 = vm_dsp_pitch_get_value(p, tmax);
    if (isnan(f0)) break;
    double corr = find_max_correlation(s, tmax, 1.0 / f0, tmax + 0.8 / f0, tmax + 1.25 / f0, &tmax, &peak);
    if (corr == -1) tmax += 1.0 / f0;
    if (tmax > tr) {
      if (corr > 0.7 && peak > 0.023333 * gpeak) pulse_add(b, tmax), *added_right = tmax;
      break;
    }
    if (corr > 0.3 && (peak == 0.0 || peak > 0.01 * gpeak)) pulse_add(b, tmax), *added_right = tmax;
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Praat's Hann-windowed RMS around tmid (widths left/right). */
static double hann_rms(const snd *s, double tmid, double wl, double wr) {
  long imin = high_index(s, tmid - wl), imax = low_index(s, tmid + wr);
  if (imin < 0) imin = 0;
  if (imax > s->nx - 1) imax = s->nx - 1;
  if (imax - imin + 1 < 3) return NAN;
  double ss = 0, ww = 0;
  for (long i = imin; i <= imax; i++) {
    double t = (i + 0.5) * s->dx, width = t < tmid ? wl : wr;
    double w = 0.5 + 0.5 * cos(M_PI * (t - tmid) / width), v = SX(s, i) * w;
    ss += v * v, ww += w * w;
  }
  return sqrt(ss / ww);
}

/* Amplitude of pulse i of pp (its neighbours final). */
static double pulse_amplitude(const snd *s, const vm_period_limits *l, const vm_pointprocess *pp,
                              size_t i) {
  if (i == 0 || i + 1 >= pp->n) return NAN;
  double p1 = pp->t_s[i] - pp->t_s[i - 1], p2 = pp->t_s[i + 1] - pp->t_s[i];
  double f = p1 > p2 ? p1 / p2 : p2 / p1;
  if (l->period_min_s == l->period_max_s ||
      (p1 >= l->period_min_s && p1 <= l->period_max_s && p2 >= l->period_min_s &&
       p2 <= l->period_max_s && f <= l->period_factor)) {
    double a = hann_rms(s, pp->t_s[i], 0.2 * p1, 0.2 * p2);
    if (a > 0) return a;
  }
  return NAN;
}

/* ------------------------------------------------------------- streamed
 * Stretches are walked in time order as soon as their pitch frames are
 * final and their samples have arrived. Found pulses wait in `pending`
 * (unsorted: a walk goes left, then right) until no later stretch can
 * put a pulse before them: every pulse of a stretch starting at tl lies
 * after tl - 1.25 / f0 - 2 samples > tl - 2 / floor. They are then
 * sorted, de-duplicated and appended to the final list, which is
 * therefore the whole-signal sorted set; a pulse's amplitude follows once
 * its right neighbour is final. */
struct vm__pulse_stream {
  snd s;
  vm_period_limits lim;
  double gpeak, floor_hz, after, added_right;
  pulse_buf pending;
  vm_pointprocess pp;  /* final pulses; pp.n of them, amplitudes for [0, n_amp) */
  size_t cap, n_amp;
  int done, oom;
};

int vm__dsp_pulse_stream_create(size_t n, int rate_hz, double floor_hz, double gpeak,
                                const vm_period_limits *lim, vm__pulse_stream **out) {
  *out = NULL;
  if (rate_hz <= 0 || !(floor_hz > 0)) return VM_EINVAL;
  vm__pulse_stream *p = vm_calloc(1, sizeof *p);
  if (!p) return VM_ENOMEM;
  p->s.nx = (long)n, p->s.dx = 1.0 / rate_hz;
  if (lim) p->lim = *lim;
  else vm_dsp_period_limits_init(&p->lim);
  p->gpeak = gpeak, p->floor_hz = floor_hz, p->after = 0.0, p->added_right = -1e300;
  *out = p;
  return VM_OK;
}

void vm__dsp_pulse_stream_destroy(vm__pulse_stream *p) {
  if (!p) return;
  vm_free(p->s.q);
  vm_free(p->pending.t);
  vm_free(p->pp.t_s);
  vm_free(p->pp.amp);
  vm_free(p);
}

/* Appends pending pulses before `limit` to the final list (all of them
 * when limit is INFINITY). */
static void settle(vm__pulse_stream *p, double limit) {
  pulse_buf *b = &p->pending;
  if (!b->n) return;
  qsort(b->t, b->n, sizeof(double), cmp_double);
  size_t k = 0, dur_n = (size_t)p->s.nx;
  double dur = (double)dur_n * p->s.dx;
  for (; k < b->n && b->t[k] < limit; k++) {
    double t = b->t[k];
    if (!(t >= 0 && t <= dur) || (p->pp.n && t == p->pp.t_s[p->pp.n - 1])) continue;
    if (p->pp.n == p->cap) {
      size_t cap = p->cap + p->cap / 8 + 1024; /* large blocks are remapped, not copied */
      double *nt = vm_realloc(p->pp.t_s, cap * sizeof(double));
      if (nt) p->pp.t_s = nt;
      float *na = nt ? vm_realloc(p->pp.amp, cap * sizeof(float)) : NULL;
      if (!nt || !na) { p->oom = 1; return; }
      p->pp.amp = na, p->cap = cap;
    }
    p->pp.t_s[p->pp.n] = t, p->pp.amp[p->pp.n] = NAN;
    p->pp.n++;
  }
  memmove(b->t, b->t + k, (b->n - k) * sizeof(double));
  b->n -= k;
}

/* Amplitudes of final pulses whose right neighbour is final too. */
static void settle_amplitudes(vm__pulse_stream *p, int all) {
  size_t end = all ? p->pp.n : (p->pp.n ? p->pp.n - 1 : 0);
  for (; p->n_amp < end; p->n_amp++)
    p->pp.amp[p->n_amp] = (float)pulse_amplitude(&p->s, &p->lim, &p->pp, p->n_amp);
}

/* No pulse can come before `limit` any more: settles the pulses before
 * it, their amplitudes, and the last one's too if no later pulse can be
 * within period_max of it (its amplitude is then undefined whatever
 * comes), so that no sample before `limit` needs to be kept. */
static void settle_before(vm__pulse_stream *p, double limit) {
  settle(p, limit);
  settle_amplitudes(p, 0);
  size_t n = p->pp.n;
  if (n && p->n_amp == n - 1 && p->lim.period_min_s != p->lim.period_max_s &&
      p->pp.t_s[n - 1] + p->lim.period_max_s < limit)
    p->pp.amp[n - 1] = NAN, p->n_amp = n;
}

/* Samples a walk may read beyond its stretch, each side. */
static double walk_margin_s(const vm__pulse_stream *p) { return 3.0 / p->floor_hz + 0.01; }

long vm__dsp_pulse_stream_low(const vm__pulse_stream *p, const vm_pitch_track *pitch) {
  double t = p->after - pitch->dt_s - walk_margin_s(p);
  if (p->n_amp < p->pp.n && p->n_amp > 0 && p->pp.t_s[p->n_amp - 1] < t) t = p->pp.t_s[p->n_amp - 1];
  if (p->pending.n) {
    for (size_t i = 0; i < p->pending.n; i++) if (p->pending.t[i] - 0.02 < t) t = p->pending.t[i] - 0.02;
  }
  long i = low_index(&p->s, t) - 2;
  return i < 0 ? 0 : i > p->s.nx ? p->s.nx : i;
}

int vm__dsp_pulse_stream_run(vm__pulse_stream *p, const vm_pitch_track *pitch, size_t n_final,
                             const float *xb, long x0, long x_end) {
  p->s.x = xb, p->s.x0 = x0;
  double tl, tr;
  while (!p->done && !p->oom && !p->pending.oom) {
    int r = voiced_interval_after(pitch, n_final, p->after, &tl, &tr);
    if (r == -2) { /* silence so far: move on, so that no sample before it is held */
      double t_last = pitch->t0_s + (double)(n_final - 1) * pitch->dt_s;
      if (n_final > 0 && t_last > p->after) p->after = t_last;
      settle_before(p, p->after - pitch->dt_s - 2.0 / p->floor_hz);
      break;
    }
    if (r < 0) break;
    if (r == 0) { p->done = 1; break; }
    long need = high_index(&p->s, tr + walk_margin_s(p)) + 2;
    if (need > p->s.nx) need = p->s.nx;
    if (need > x_end) break;
    settle(p, tl - 2.0 / p->floor_hz);
    settle_amplitudes(p, 0);
    walk_stretch(&p->s, pitch, tl, tr, p->gpeak, &p->added_right, &p->pending);
    p->after = tr;
  }
  p->s.x = NULL;
  return p->oom || p->pending.oom ? VM_ENOMEM : VM_OK;
}

int vm__dsp_pulse_stream_finish(vm__pulse_stream *p, const float *xb, long x0,
                                vm_pointprocess **out) {
  *out = NULL;
  p->s.x = xb, p->s.x0 = x0;
  settle(p, INFINITY);
  settle_amplitudes(p, 1);
  p->s.x = NULL;
  vm_pointprocess *pp = vm_calloc(1, sizeof *pp);
  if (p->oom || p->pending.oom || !pp) { vm_free(pp); return VM_ENOMEM; }
  size_t m = p->pp.n ? p->pp.n : 1; /* give back the growth slack */
  double *t = vm_realloc(p->pp.t_s, m * sizeof(double));
  if (t) p->pp.t_s = t;
  float *a = vm_realloc(p->pp.amp, m * sizeof(float));
  if (a) p->pp.amp = a;
  if (!p->pp.t_s || !p->pp.amp) { vm_free(pp); return VM_ENOMEM; }
  *pp = p->pp;
  memset(&p->pp, 0, sizeof p->pp);
  p->cap = p->n_amp = 0;
  *out = pp;
  return VM_OK;
}

int vm_dsp_pointprocess_create(const float *x, size_t n, int rate_hz,
                               const vm_pitch_track *pitch,
                               const vm_period_limits *lim,
                               vm_pointprocess **out, vm_err *err) {
  *out = NULL;
  if ((!x && n) || rate_hz <= 0 || !pitch)
    return vm_err_set(err, VM_EINVAL, "pointprocess: invalid arguments");
  double gpeak = 0.0;
  for (size_t i = 0; i < n; i++) if (fabs(x[i]) > gpeak) gpeak = fabs(x[i]);
  /* The floor only sets how long found pulses wait before they are
   * sorted in (2 / floor) and how far beyond a stretch a walk may read;
   * 10 Hz is safe for any pitch floor >= 10 Hz. */
  vm__pulse_stream *p = NULL;
  int rc = vm__dsp_pulse_stream_create(n, rate_hz, 10.0, gpeak, lim, &p);
  if (!rc) rc = vm__dsp_pulse_stream_run(p, pitch, pitch->n_frames, x, 0, (long)n);
  if (!rc) rc = vm__dsp_pulse_stream_finish(p, x, 0, out);
  vm__dsp_pulse_stream_destroy(p);
  if (rc == VM_EINVAL) return vm_err_set(err, rc, "pointprocess: invalid arguments");
  if (rc) return vm_err_set(err, VM_ENOMEM, "pointprocess: out of memory");
  return VM_OK;
}

void vm_dsp_pointprocess_destroy(vm_pointprocess *pp) {
  if (!pp) return;
  vm_free(pp->t_s);
  vm_free(pp->amp);
  vm_free(pp);
}

size_t vm_dsp_pointprocess_window(const vm_pointprocess *pp, double t0_s,
                                  double t1_s, size_t *first, size_t *last) {
  size_t lo = 0, hi = pp->n; /* first index with t >= t0 */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (pp->t_s[mid] < t0_s) lo = mid + 1; else hi = mid;
  }
  size_t a = lo;
  lo = 0, hi = pp->n; /* first index with t > t1 */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (pp->t_s[mid] <= t1_s) lo = mid + 1; else hi = mid;
  }
  *first = a;
  *last = lo - 1; /* may wrap when lo == 0; count below handles it */
  return lo > a ? lo - a : 0;
}
