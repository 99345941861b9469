/* diarize_gmm.c — cross-likelihood-ratio (CLR) clustering with a
 * file-level GMM-UBM: the second clustering stage of the mono path.
 *
 * WHY: one full-covariance Gaussian per cluster (the BIC stage) models a
 * speaker *and* what was said. Two clusters holding different sentences
 * of one voice differ by the content, two similar voices by little more,
 * and delta-BIC cannot tell the cases apart: measured on espeak-ng voices,
 * the per-frame likelihood gain of splitting one voice by sentence (0.47
 * nats) exceeds that of splitting two male voices 3 semitones apart
 * (0.33). A GMM gives each phonetic class its own component, so content
 * stops looking like a speaker difference (Reynolds et al. 2000; the CLR
 * stage of Barras et al. 2006 and LIUM, Meignier & Merlin 2010).
 *
 * DESIGN:
 *  - UBM: N_COMP diagonal Gaussians trained by EM on (a subsample of) the
 *    file's speech frames; initialised from evenly spaced frames.
 *  - Each cluster: the UBM with MAP-adapted means (relevance factor
 *    MAP_R), from UBM posteriors restricted to the TOP_C best components
 *    of each frame (computed once; the statistics are additive, so a
 *    merged cluster's model comes from summed statistics).
 *  - CLR(a, b) = (1/Na) log[p(Xa|Mb)/p(Xa|UBM)] + (1/Nb) log[p(Xb|Ma)/p(Xb|UBM)]:
 *    how much better each cluster's speech is explained by the other's
 *    model than by the file average. One voice's model helps on its own
 *    other sentences (CLR > 0, or ~0 where the phonetic content does not
 *    overlap); another voice's model hurts (CLR < 0).
 *  - Agglomerative: merge the pair with the highest CLR while it is above
 *    the threshold (or while there are more than k_max clusters; down to
 *    exactly k_want when the count is given). S[a][b] = sum over frames of
 *    a of log p(x|Mb) - log p(x|UBM) is kept, so a merge costs one pass
 *    over the frames for the new model.
 * Cost: O(n_speech * (N_COMP * D + k * TOP_C * D)) plus EM on at most
 * UBM_MAX_FRAMES frames; memory O(n_frames * TOP_C + k * k). */
#include <math.h>
#include <string.h>

#include "diarize_impl.h"
#include "vm_alloc.h"
#include "vm_status.h"

#define D VM__DIAR_DIM
#define N_COMP 32
#define TOP_C 4
#define MAP_R 32.0
#define EM_ITERS 6
#define UBM_MAX_FRAMES 20000
#define VAR_FLOOR 0.2 /* fraction of the global variance */

struct vm__diar_ubm {
  double w[N_COMP], mu[N_COMP * D], ivar[N_COMP * D], lconst[N_COMP];
  size_t n_frames;
  uint8_t (*top)[TOP_C];  /* (n_frames) best components of each speech frame */
  float (*post)[TOP_C];   /* (n_frames) their posteriors, summing to 1 */
  float *ll_ubm;          /* (n_frames) log p(x|UBM) over the top components */
};

/* log(w_m N(x; mu, diag)) for component m with the given mean. */
static double comp_ll(const vm__diar_ubm *u, int m, const double *mu, const float *x) {
  double q = 0;
  for (int d = 0; d < D; d++) {
    double e = x[d] - mu[d];
    q += e * e * u->ivar[m * D + d];
  }
  return u->lconst[m] - 0.5 * q;
}

static void set_consts(vm__diar_ubm *u) {
  for (int m = 0; m < N_COMP; m++) {
    double ld = 0;
    for (int d = 0; d < D; d++) ld -= log(u->ivar[m * D + d]);
    u->lconst[m] = log(fmax(u->w[m], 1e-10)) - 0.5 * (ld + D * log(2 * M_PI));
  }
}

static double log_sum(const double *v, int n) {
  double mx = -INFINITY, s = 0;
  for (int i = 0; i < n; i++) mx = fmax(mx, v[i]);
  for (int i = 0; i < n; i++) s += exp(v[i] - mx);
  return mx + log(s);
}

/* EM on the frames listed in idx; starts from evenly spaced frames. */
static void ubm_train(vm__diar_ubm *u, const float *feat, const size_t *idx, size_t n,
                      const double *gvar) {
  double acc_n[N_COMP], acc_s[N_COMP * D], acc_ss[N_COMP * D], lp[N_COMP];
  for (int m = 0; m < N_COMP; m++) {
    u->w[m] = 1.0 / N_COMP;
    const float *x = feat + idx[(size_t)(((double)m + 0.5) * (double)n / N_COMP)] * D;
    for (int d = 0; d < D; d++) {
      u->mu[m * D + d] = x[d];
      u->ivar[m * D + d] = 1.0 / gvar[d];
    }
  }
  set_consts(u);
  for (int it = 0; it < EM_ITERS; it++) {
    memset(acc_n, 0, sizeof acc_n);
    memset(acc_s, 0, sizeof acc_s);
    memset(acc_ss, 0, sizeof acc_ss);
    for (size_t i = 0; i < n; i++) {
      const float *x = feat + idx[i] * D;
      for (int m = 0; m < N_COMP; m++) lp[m] = comp_ll(u, m, u->mu + m * D, x);
      double tot = log_sum(lp, N_COMP);
      for (int m = 0; m < N_COMP; m++) {
        double g = exp(lp[m] - tot);
        if (g < 1e-6) continue;
        acc_n[m] += g;
        for (int d = 0; d < D; d++) {
          acc_s[m * D + d] += g * x[d];
          acc_ss[m * D + d] += g * x[d] * x[d];
        }
      }
    }
    for (int m = 0; m < N_COMP; m++) {
      if (acc_n[m] < 2 * D) continue; /* starved: keep the old component */
      u->w[m] = acc_n[m] / (double)n;
      for (int d = 0; d < D; d++) {
        double mu = acc_s[m * D + d] / acc_n[m];
        double var = acc_ss[m * D + d] / acc_n[m] - mu * mu;
        u->mu[m * D + d] = mu;
        u->ivar[m * D + d] = 1.0 / fmax(var, VAR_FLOOR * gvar[d]);
      }
    }
    set_consts(u);
  }
}

/* Top components, posteriors and UBM log-likelihood of every speech frame. */
static void ubm_score(vm__diar_ubm *u, const vm__diar_frames *f) {
  double lp[N_COMP];
  for (size_t t = 0; t < f->n_frames; t++) {
    if (!f->speech[t]) continue;
    const float *x = f->feat + t * D;
    for (int m = 0; m < N_COMP; m++) lp[m] = comp_ll(u, m, u->mu + m * D, x);
    int best[TOP_C];
    double bv[TOP_C];
    for (int c = 0; c < TOP_C; c++) {
      int bm = 0;
      for (int m = 1; m < N_COMP; m++) if (lp[m] > lp[bm]) bm = m;
      best[c] = bm;
      bv[c] = lp[bm];
      lp[bm] = -INFINITY;
    }
    double tot = log_sum(bv, TOP_C);
    for (int c = 0; c < TOP_C; c++) {
      u->top[t][c] = (uint8_t)best[c];
      u->post[t][c] = (float)exp(bv[c] - tot);
    }
    u->ll_ubm[t] = (float)tot;
  }
}

int vm__diar_ubm_create(const vm__diar_frames *f, const double *gvar, vm__diar_ubm **out) {
  *out = NULL;
  size_t n_sp = 0;
  for (size_t t = 0; t < f->n_frames; t++) n_sp += f->speech[t] && f->dup_src[t] < 0;
  if (n_sp < N_COMP) return VM_EINVAL;
  size_t step = n_sp > UBM_MAX_FRAMES ? (n_sp + UBM_MAX_FRAMES - 1) / UBM_MAX_FRAMES : 1;
  vm__diar_ubm *u = vm_calloc(1, sizeof *u);
  size_t *idx = vm_malloc((n_sp / step + 1) * sizeof *idx);
  if (!u || !idx) goto nomem;
  u->n_frames = f->n_frames;
  u->top = vm_malloc((f->n_frames + 1) * sizeof *u->top);
  u->post = vm_malloc((f->n_frames + 1) * sizeof *u->post);
  u->ll_ubm = vm_malloc((f->n_frames + 1) * sizeof *u->ll_ubm);
  if (!u->top || !u->post || !u->ll_ubm) goto nomem;
  size_t n = 0, k = 0;
  for (size_t t = 0; t < f->n_frames; t++)
    if (f->speech[t] && f->dup_src[t] < 0 && k++ % step == 0) idx[n++] = t;
  ubm_train(u, f->feat, idx, n, gvar);
  ubm_score(u, f);
  vm_free(idx);
  *out = u;
  return VM_OK;
nomem:
  vm_free(idx);
  vm__diar_ubm_destroy(u);
  return VM_ENOMEM;
}

void vm__diar_ubm_destroy(vm__diar_ubm *u) {
  if (!u) return;
  vm_free(u->top);
  vm_free(u->post);
  vm_free(u->ll_ubm);
  vm_free(u);
}

/* Per-cluster sufficient statistics for MAP: occupancy and first order. */
typedef struct clr_stats {
  double n[N_COMP], s[N_COMP * D];
  double frames;
} clr_stats;

/* MAP-adapted means of one cluster into mu (N_COMP * D). */
static void map_means(const vm__diar_ubm *u, const clr_stats *c, double *mu) {
  for (int m = 0; m < N_COMP; m++) {
    double a = c->n[m] / (c->n[m] + MAP_R);
    for (int d = 0; d < D; d++) {
      double xm = c->n[m] > 0 ? c->s[m * D + d] / c->n[m] : 0;
      mu[m * D + d] = a * xm + (1 - a) * u->mu[m * D + d];
    }
  }
}

/* log p(x_t | model with means mu) - log p(x_t | UBM), top components. */
static double frame_gain(const vm__diar_ubm *u, const double *mu, const float *x, size_t t) {
  double lp[TOP_C];
  for (int c = 0; c < TOP_C; c++) {
    int m = u->top[t][c];
    lp[c] = comp_ll(u, m, mu + m * D, x);
  }
  return log_sum(lp, TOP_C) - u->ll_ubm[t];
}

/* Column j of S: for every cluster a, the summed gain of a's frames under
 * model j. */
static void score_column(const vm__diar_ubm *u, const vm__diar_frames *f, const double *mu,
                         int j, int k, double *S) {
  for (int a = 0; a < k; a++) S[a * VM__DIAR_MAX_CLR + j] = 0;
  for (size_t t = 0; t < f->n_frames; t++) {
    int a = f->label[t];
    if (!f->speech[t] || a < 0 || a >= k || f->dup_src[t] >= 0) continue;
    S[a * VM__DIAR_MAX_CLR + j] += frame_gain(u, mu, f->feat + t * D, t);
  }
}

/* Pitch guard shared with the BIC stage: mean and variance of log F0. */
static int pitch_apart(const double *p, int a, int b, double guard_st) {
  double na = p[a * 3], nb = p[b * 3];
  if (na < 100 || nb < 100) return 0;
  double ma = p[a * 3 + 1] / na, mb = p[b * 3 + 1] / nb;
  double va = fmax(p[a * 3 + 2] / na - ma * ma, 0), vb = fmax(p[b * 3 + 2] / nb - mb * mb, 0);
  double diff = fabs(ma - mb);
  return diff > guard_st && diff > 2.0 * sqrt(0.5 * (va + vb));
}

/* Must-link for repeated audio: while some cluster a holds more frames
 * that copy frames of one other cluster b than frames of its own (not
 * copies), and those are most of its copies (or a has no frames of its
 * own at all, so the CLR could not judge it), a joins b. Relabels
 * f->label; map[a] = b for joined clusters. Returns the number joined. */
static int join_copies(vm__diar_frames *f, int k, int *map) {
  int joined = 0;
  for (;;) {
    double own[VM__DIAR_MAX_CLR] = {0}, copies[VM__DIAR_MAX_CLR] = {0};
    double link[VM__DIAR_MAX_CLR][VM__DIAR_MAX_CLR];
    memset(link, 0, sizeof link);
    for (size_t t = 0; t < f->n_frames; t++) {
      int a = f->label[t];
      if (!f->speech[t] || a < 0 || a >= k) continue;
      int32_t s = f->dup_src[t];
      int b = s >= 0 && f->speech[s] ? f->label[s] : -1;
      if (s < 0) own[a] += 1;
      else copies[a] += 1;
      if (s >= 0 && b >= 0 && b < k && b != a) link[a][b] += 1;
    }
    int ba = -1, bb = -1;
    double bv = 0;
    for (int a = 0; a < k; a++)
      for (int b = 0; b < k; b++)
        if (map[a] == a && map[b] == b && link[a][b] > own[a] &&
            (link[a][b] > 0.5 * copies[a] || own[a] == 0) && link[a][b] > bv) {
          bv = link[a][b];
          ba = a;
          bb = b;
        }
    if (ba < 0) return joined;
    map[ba] = bb;
    for (int j = 0; j < k; j++) if (map[j] == ba) map[j] = bb;
    for (size_t t = 0; t < f->n_frames; t++)
      if (f->speech[t] && f->label[t] == ba) f->label[t] = bb;
    joined++;
  }
}

int vm__diar_clr_merge(const vm__diar_ubm *u, vm__diar_frames *f, int k, int k_want,
                       int k_max, double thr, double guard_st, int *out_k) {
  *out_k = k;
  if (k <= 1 || k > VM__DIAR_MAX_CLR) return k > VM__DIAR_MAX_CLR ? VM_EINVAL : VM_OK;
  clr_stats *cs = vm_calloc((size_t)k, sizeof *cs);
  double *mu = vm_malloc(N_COMP * D * sizeof *mu);
  double *S = vm_calloc(VM__DIAR_MAX_CLR * VM__DIAR_MAX_CLR, sizeof *S);
  double *p = vm_calloc((size_t)k * 3, sizeof *p); /* n, sum, sumsq of log F0 */
  int map[VM__DIAR_MAX_CLR], rc = VM_ENOMEM;
  if (!cs || !mu || !S || !p) goto out;
  for (int j = 0; j < k; j++) map[j] = j;
  int alive = k - join_copies(f, k, map);
  for (size_t t = 0; t < f->n_frames; t++) {
    int a = f->label[t];
    if (!f->speech[t] || a < 0 || a >= k || f->dup_src[t] >= 0) continue;
    const float *x = f->feat + t * D;
    cs[a].frames += 1;
    for (int c = 0; c < TOP_C; c++) {
      int m = u->top[t][c];
      double g = u->post[t][c];
      cs[a].n[m] += g;
      for (int d = 0; d < D; d++) cs[a].s[m * D + d] += g * x[d];
    }
    p[a * 3] += 1;
    p[a * 3 + 1] += x[D - 1];
    p[a * 3 + 2] += (double)x[D - 1] * x[D - 1];
  }
  for (int j = 0; j < k; j++) {
    if (map[j] != j) continue;
    map_means(u, &cs[j], mu);
    score_column(u, f, mu, j, k, S);
  }
  for (;;) { /* ids stay 0..k-1; merged ones are marked by map[j] != j */
    int bi = -1, bj = -1;
    double bv = -INFINITY;
    for (int a = 0; a < k; a++)
      for (int b = a + 1; b < k && map[a] == a; b++) {
        if (map[b] != b || cs[a].frames < 1 || cs[b].frames < 1) continue;
        double clr = S[a * VM__DIAR_MAX_CLR + b] / cs[a].frames +
                     S[b * VM__DIAR_MAX_CLR + a] / cs[b].frames;
        if (k_want == 0 && pitch_apart(p, a, b, guard_st)) clr = fmin(clr, thr - 1);
        if (clr > bv) { bv = clr; bi = a; bj = b; }
      }
    if (bi < 0) break;
    if (k_want > 0 ? alive <= k_want : (bv <= thr && alive <= k_max)) break;
    /* bj joins bi: statistics add; rows add; column bi is rescored */
    for (int m = 0; m < N_COMP; m++) cs[bi].n[m] += cs[bj].n[m];
    for (int i = 0; i < N_COMP * D; i++) cs[bi].s[i] += cs[bj].s[i];
    cs[bi].frames += cs[bj].frames;
    for (int i = 0; i < 3; i++) p[bi * 3 + i] += p[bj * 3 + i];
    for (int b = 0; b < k; b++) S[bi * VM__DIAR_MAX_CLR + b] += S[bj * VM__DIAR_MAX_CLR + b];
    map[bj] = bi;
    for (size_t t = 0; t < f->n_frames; t++)
      if (f->speech[t] && f->label[t] == bj) f->label[t] = bi;
    map_means(u, &cs[bi], mu);
    score_column(u, f, mu, bi, k, S);
    alive--;
  }
  int next = 0, ren[VM__DIAR_MAX_CLR];
  for (int j = 0; j < k; j++) ren[j] = map[j] == j ? next++ : -1;
  for (size_t t = 0; t < f->n_frames; t++)
    if (f->speech[t] && f->label[t] >= 0 && f->label[t] < k) f->label[t] = ren[f->label[t]];
  *out_k = next;
  rc = VM_OK;
out:
  vm_free(cs);
  vm_free(mu);
  vm_free(S);
  vm_free(p);
  return rc;
}
