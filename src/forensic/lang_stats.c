/* lang_stats.c — per-segment evidence → formula inputs, and the bootstrap.
 *
 * DESIGN: every piece of evidence the scores use is attached to the
 * segment it came from (vm__lang_segstat), so a score can be computed for
 * any multiset of segments: the whole conversation, one speaker's turns,
 * or a bootstrap resample. Reduction (what the original computed on the
 * whole transcript text):
 *   G, T, C = min(1, Σ weight·confidence / 5) over the matches (threat
 *             includes extortion findings), nG, nT, nC their counts;
 *   E       = the same over matches of types marked "emotional";
 *   D       = vm__lang_deception_score of the summed marker counts;
 *   K       = 0.95 without discrepancies, else max(0.1, 1 − min(0.9,
 *             0.3·Σ severity·confidence)), when any voice is known; with no
 *             voice at all K = 1 in the formulas (no evidence of
 *             inconsistency) and 0.5 as a confidence (unknown);
 *   s       = (pos − neg)/(pos + neg) − (0.3G + 0.4T + 0.3C), clamped;
 *   S       = mean stress index / 100 of segments with a known index;
 *             stress risk low < 33 ≤ medium ≤ 66 < high (unknown when none).
 * Bootstrap: B resamples of the n segments with replacement, scored in
 * full, percentile interval (2.5 %, 97.5 %, linear interpolation between
 * order statistics). splitmix64 makes it reproducible for a seed on every
 * platform.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lang_impl.h"
#include "vm_alloc.h"

void vm__lang_stats_reduce(const vm__lang_segstat *st, const size_t *idx, size_t n,
                           vm__lang_score_in *in) {
  double wc[3] = {0, 0, 0}, emo = 0, disc = 0, stress = 0;
  int cnt[3] = {0, 0, 0}, dec[5] = {0, 0, 0, 0, 0}, words = 0, pos = 0, neg = 0;
  int n_emo = 0, n_disc = 0, n_stress = 0, voice = 0;
  for (size_t k = 0; k < n; k++) {
    const vm__lang_segstat *s = &st[idx[k]];
    for (int f = 0; f < 3; f++) {
      wc[f] += s->wc[f];
      cnt[f] += s->n[f];
    }
    for (int c = 0; c < 5; c++) dec[c] += s->dec[c];
    emo += s->emo_wc;
    n_emo += s->n_emo;
    words += s->words;
    pos += s->pos;
    neg += s->neg;
    disc += s->disc_w;
    n_disc += s->n_disc;
    voice += s->voice_known;
    if (!isnan(s->stress)) {
      stress += s->stress;
      n_stress++;
    }
  }
  memset(in, 0, sizeof *in);
  in->G = fmin(1.0, wc[0] / 5.0);
  in->T = fmin(1.0, wc[1] / 5.0);
  in->C = fmin(1.0, wc[2] / 5.0);
  in->nG = cnt[0];
  in->nT = cnt[1];
  in->nC = cnt[2];
  in->E = fmin(1.0, emo / 5.0);
  in->nE = n_emo;
  in->D = vm__lang_deception_score(dec, words);
  if (voice > 0) {
    in->K = n_disc ? fmax(0.1, 1.0 - fmin(0.9, 0.3 * disc)) : 0.95;
    in->K_conf = in->K;
  } else {
    in->K = 1.0;
    in->K_conf = 0.5;
  }
  double crime = 0.3 * in->G + 0.4 * in->T + 0.3 * in->C;
  double s = (pos + neg) > 0 ? (double)(pos - neg) / (pos + neg) - crime : -crime;
  in->s = s < -1.0 ? -1.0 : s > 1.0 ? 1.0 : s;
  in->V = NAN;
  if (n_stress > 0) {
    double mean = stress / n_stress;
    in->S = fmin(1.0, fmax(0.0, mean / 100.0));
    in->stress_risk = mean < 33.0 ? 0 : mean > 66.0 ? 2 : 1;
  } else {
    in->S = 0.0;
    in->stress_risk = -1;
  }
  in->stress_indicator = in->stress_risk == 2;
}

static uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double percentile(const double *v, int n, double p) {
  double h = (n - 1) * p;
  int lo = (int)floor(h);
  if (lo >= n - 1) return v[n - 1];
  return v[lo] + (h - lo) * (v[lo + 1] - v[lo]);
}

int vm__lang_bootstrap_ci(const vm__lang_segstat *st, const size_t *idx, size_t n, int B,
                          uint64_t seed, double out_ci[2]) {
  if (n < 2 || B < 1) return VM_EINVAL;
  size_t *draw = vm_malloc(n * sizeof *draw);
  double *val = vm_malloc((size_t)B * sizeof *val);
  int rc = VM_OK;
  if (!draw || !val) {
    rc = VM_ENOMEM;
    goto out;
  }
  uint64_t state = seed;
  for (int b = 0; b < B; b++) {
    for (size_t k = 0; k < n; k++) {
      /* top 53 bits → [0,1) → index; bias below 2^-40 for any real n */
      double u = (double)(splitmix64(&state) >> 11) * 0x1.0p-53;
      draw[k] = idx[(size_t)(u * (double)n)];
    }
    vm__lang_score_in in;
    vm__lang_score_out o;
    vm__lang_stats_reduce(st, draw, n, &in);
    vm__lang_score_compute(&in, &o);
    val[b] = o.overall;
  }
  qsort(val, (size_t)B, sizeof *val, cmp_double);
  out_ci[0] = percentile(val, B, 0.025);
  out_ci[1] = percentile(val, B, 0.975);
out:
  vm_free(draw);
  vm_free(val);
  return rc;
}
