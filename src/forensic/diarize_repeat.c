/* diarize_repeat.c — finds speech that repeats earlier audio of the same
 * file (a looped or replayed recording, a voicemail played twice).
 *
 * WHY: the CLR stage (diarize_gmm.c) judges whether two clusters are one
 * voice by how well a model adapted to one explains the other. When a
 * few sentences are repeated many times, the UBM and the adapted models
 * learn those exact sentences, and two sentences of one voice look as far
 * apart as two voices (CLR -0.56 measured, against -0.55 for the closest
 * pair of different voices in the tests), so no threshold separates them.
 * Counting each stretch of audio once — statistics from the first copy
 * only — brings the file back to its real content.
 *
 * DESIGN (in the spirit of Haitsma & Kalker 2002 audio fingerprinting):
 *  - sub-fingerprint of frame t: 13 bits, the signs of c_d(t+1) - c_d(t-1)
 *    for the cepstra c0..c12; key = the bits of frames t, t+4 and t+8
 *    (39 bits), only where those frames are all speech;
 *  - keys sorted; each frame whose key occurred before is a candidate
 *    copy of the previous occurrence (offset o = t - t_prev);
 *  - verification: the mean normalised feature distance
 *    sum_d (x_d(t) - x_d(t-o))^2 / var_d / D over every 4th speech frame
 *    within +-0.5 s must be under R_THR (one voice saying other words
 *    scores about 2, a copy shifted by a fraction of a frame about 0.1);
 *  - a verified anchor is grown forwards and backwards while the running
 *    distance over 20 frames stays under 2 R_THR; runs of at least 0.5 s
 *    are marked: dup_src[t] = t - o.
 * Cost: O(n log n) for the sort plus O(W D) per candidate; a frame
 * already marked is not tested again. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diarize_impl.h"
#include "vm_alloc.h"
#include "vm_status.h"

#define D VM__DIAR_DIM
#define R_SPAN 4      /* key frames t, t + R_SPAN, t + 2 R_SPAN */
#define R_WIN 50      /* verification half window, frames */
#define R_STEP 4      /* verification subsampling */
#define R_THR 0.3     /* normalised distance for "same audio" */
#define R_RUN 20      /* running window while growing */
#define R_MIN_RUN 50  /* shortest marked run, frames */

typedef struct rkey {
  uint64_t key;
  uint32_t t;
} rkey;

static int cmp_rkey(const void *a, const void *b) {
  const rkey *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return (x->t > y->t) - (x->t < y->t);
}

static uint64_t frame_bits(const float *feat, size_t t) {
  uint64_t b = 0;
  for (int d = 0; d < VM__DIAR_N_CEPS; d++)
    b |= (uint64_t)(feat[(t + 1) * D + d] > feat[(t - 1) * D + d]) << d;
  return b;
}

/* Normalised squared distance of frames t and s. */
static double frame_dist(const vm__diar_frames *f, const double *ivar, size_t t, size_t s) {
  const float *a = f->feat + t * D, *b = f->feat + s * D;
  double q = 0;
  for (int d = 0; d < D; d++) {
    double e = (double)a[d] - b[d];
    q += e * e * ivar[d];
  }
  return q / D;
}

/* Mean distance over the speech frames of [t - R_WIN, t + R_WIN] paired
 * with the frames o earlier (every R_STEP-th); INFINITY if too few. */
static double window_dist(const vm__diar_frames *f, const double *ivar, size_t t, size_t o) {
  size_t a = t > o + R_WIN ? t - R_WIN : o, b = t + R_WIN < f->n_frames ? t + R_WIN : f->n_frames;
  double s = 0;
  size_t m = 0;
  for (size_t i = a; i < b; i += R_STEP) {
    if (!f->speech[i] || !f->speech[i - o]) continue;
    s += frame_dist(f, ivar, i, i - o);
    m++;
  }
  return m >= R_WIN / R_STEP ? s / (double)m : INFINITY;
}

/* Grows a verified anchor (t, o) in direction dir (+1 / -1) while the
 * running distance stays low, and returns the frame just past the last
 * frame that itself matched (distance < R_THR): the end (exclusive) for
 * dir = +1, one before the start for dir = -1, as a signed index. The
 * trim keeps the frames after the copy ends (another sentence follows
 * the copy but not the original) out of the run. */
static long grow(const vm__diar_frames *f, const double *ivar, size_t t, size_t o, int dir) {
  double ring[R_RUN] = {0}, sum = 0;
  size_t m = 0;
  long i = (long)t, last_good = (long)t;
  for (;; i += dir) {
    if (i < (long)o || i >= (long)f->n_frames) break;
    size_t u = (size_t)i;
    if (f->speech[u] != f->speech[u - o]) break; /* copies pause together */
    if (!f->speech[u]) continue;
    double dd = frame_dist(f, ivar, u, u - o);
    if (dd < R_THR) last_good = i;
    sum += dd - ring[m % R_RUN];
    ring[m % R_RUN] = dd;
    m++;
    if (m >= R_RUN / 2 && sum / (double)(m < R_RUN ? m : R_RUN) > 2 * R_THR) break;
  }
  return last_good + dir;
}

int vm__diar_find_repeats(vm__diar_frames *f) {
  size_t n = f->n_frames, n_keys = 0, n_dup = 0;
  const double *gvar = f->gvar;
  f->n_dup = 0;
  for (size_t t = 0; t < n; t++) f->dup_src[t] = -1;
  if (n < 2 * R_SPAN + 2 || n > INT32_MAX) return VM_OK; /* dup_src holds int32 */
  double ivar[D];
  for (int d = 0; d < D; d++) ivar[d] = 1.0 / gvar[d];
  rkey *k = vm_malloc(n * sizeof *k);
  if (!k) return VM_ENOMEM;
  for (size_t t = 1; t + 2 * R_SPAN + 1 < n; t++) {
    int ok = 1;
    for (size_t j = t - 1; j <= t + 2 * R_SPAN + 1 && ok; j++) ok = f->speech[j];
    if (!ok) continue;
    uint64_t key = frame_bits(f->feat, t) | frame_bits(f->feat, t + R_SPAN) << 13 |
                   frame_bits(f->feat, t + 2 * R_SPAN) << 26;
    k[n_keys++] = (rkey){key, (uint32_t)t};
  }
  qsort(k, n_keys, sizeof *k, cmp_rkey);
  for (size_t i = 1; i < n_keys; i++) {
    if (k[i].key != k[i - 1].key) continue;
    size_t t = k[i].t, o = t - k[i - 1].t;
    if (f->dup_src[t] >= 0 || o < R_MIN_RUN) continue; /* known, or overlapping itself */
    if (window_dist(f, ivar, t, o) >= R_THR) continue;
    long a = grow(f, ivar, t, o, -1) + 1, b = grow(f, ivar, t, o, +1);
    if (b - a < R_MIN_RUN) continue;
    for (long u = a; u < b; u++)
      if (f->speech[u] && f->dup_src[u] < 0) {
        f->dup_src[u] = (int32_t)((size_t)u - o);
        n_dup++;
      }
  }
  vm_free(k);
  f->n_dup = n_dup;
  return VM_OK;
}
