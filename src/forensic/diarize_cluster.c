/* diarize_cluster.c — single-channel speaker clustering.
 *
 * DESIGN (docs/diarization.md cites the sources):
 *  1. Change detection (Chen & Gopalakrishnan 1998): inside each speech
 *     region, delta-BIC between the 1.5 s windows left and right of every
 *     candidate frame (step 50 ms); local maxima above 0, at least 1 s
 *     apart, become segment boundaries.
 *  2. Agglomerative clustering of the segments (at most MAX_SEGS, see
 *     cap_segments), one full-covariance Gaussian per cluster; merge the
 *     pair with the lowest delta-BIC (lambda = bic_lambda); a pair of two
 *     clusters of BIG_FRAMES or more is left to step 3; stop when the
 *     lowest is > 0 and at most VM__DIAR_MAX_CLR remain.
 *  3. CLR clustering with a GMM-UBM (diarize_gmm.c), which tells another
 *     voice from other words where one Gaussian cannot; it stops at
 *     clr_threshold and max_speakers (or at n_speakers when given).
 *  4. Viterbi resegmentation: one Gaussian per cluster, a switch penalty
 *     per change (halved at the start of a speech region), re-estimation;
 *     clusters left with less than min_speaker_s of speech are dropped,
 *     and the CLR rule of step 3 is applied again to the new clusters.
 * Covariances are shrunk towards the global diagonal covariance with the
 * weight of SHRINK_FRAMES frames, so that short segments (a 0.3 s "yes")
 * still have a finite, comparable log-determinant. Sums are in double. */
#include <math.h>
#include <string.h>

#include "diarize_impl.h"
#include "vm_alloc.h"
#include "vm_status.h"

#define D VM__DIAR_DIM
#define SHRINK_FRAMES 30.0
#define N_CAP 2000.0  /* effective frames for delta-BIC (20 s), see delta_bic */
#define CD_WIN 150    /* change detection: frames per side (1.5 s) */
#define CD_MIN 60     /* smallest side window (0.6 s) */
#define CD_STEP 5     /* candidate step (50 ms) */
#define CD_SEP 100    /* change points at least 1 s apart */
#define N_PARAMS (D + D * (D + 1) / 2)
#define PITCH_MIN_FRAMES 100 /* 1 s */
#define BIG_FRAMES 1000      /* 10 s: from here on the CLR stage decides */
#define MAX_SEGS 400         /* AHC input cap, see cap_segments */

typedef struct gstats {
  double n, s[D], ss[D * D];
} gstats;

typedef struct gauss { /* a ready-to-evaluate Gaussian */
  double mean[D], chol[D * D], logdet;
} gauss;

typedef struct ctx {
  vm__diar_frames *f;
  const vm_diar_opts *o;
  double gvar[D];         /* global per-dimension variance over speech */
  double pitch_guard_st;  /* see delta_bic; copy of the option */
  double shrink;          /* covariance shrinkage weight, frames */
  vm__diar_ubm *ubm;      /* CLR stage model */
  int skip_dup;           /* gs_range leaves out repeated frames (AHC) */
} ctx;

static void gs_add(gstats *g, const float *x) {
  g->n += 1;
  for (int i = 0; i < D; i++) {
    g->s[i] += x[i];
    for (int j = i; j < D; j++) g->ss[i * D + j] += (double)x[i] * x[j];
  }
}

static void gs_sum(gstats *dst, const gstats *a, const gstats *b) {
  dst->n = a->n + b->n;
  for (int i = 0; i < D; i++) dst->s[i] = a->s[i] + b->s[i];
  for (int i = 0; i < D * D; i++) dst->ss[i] = a->ss[i] + b->ss[i];
}

/* In-place Cholesky of the upper-stored symmetric a into lower L (row
 * major, a[i*D+j], j <= i). Returns 0, or -1 if not positive definite. */
static int cholesky(double *a) {
  for (int j = 0; j < D; j++) {
    double s = a[j * D + j];
    for (int k = 0; k < j; k++) s -= a[j * D + k] * a[j * D + k];
    if (s <= 1e-12) return -1;
    a[j * D + j] = sqrt(s);
    for (int i = j + 1; i < D; i++) {
      double t = a[j * D + i]; /* upper element (j,i) == (i,j) */
      for (int k = 0; k < j; k++) t -= a[i * D + k] * a[j * D + k];
      a[i * D + j] = t / a[j * D + j];
    }
  }
  return 0;
}

/* Shrunk covariance of g into cov (upper triangle filled), mean into mu. */
static void gs_cov(const ctx *c, const gstats *g, double *mu, double *cov) {
  double n = g->n > 0 ? g->n : 1;
  for (int i = 0; i < D; i++) mu[i] = g->s[i] / n;
  for (int i = 0; i < D; i++)
    for (int j = i; j < D; j++) {
      double v = g->ss[i * D + j] - n * mu[i] * mu[j]; /* n * cov */
      if (i == j) v += c->shrink * c->gvar[i];
      cov[i * D + j] = v / (n + c->shrink);
    }
}

static double gs_logdet(const ctx *c, const gstats *g) {
  double mu[D], cov[D * D];
  gs_cov(c, g, mu, cov);
  if (cholesky(cov) != 0) return 0; /* cannot happen with shrinkage > 0 */
  double ld = 0;
  for (int i = 0; i < D; i++) ld += 2 * log(cov[i * D + i]);
  return ld;
}

/* delta-BIC of modelling a and b by one Gaussian versus two; < 0 means
 * "same speaker". */
static double delta_bic(const ctx *c, const gstats *a, const gstats *b,
                        double lambda) {
  gstats ab;
  gs_sum(&ab, a, b);
  double l = 0.5 * (ab.n * gs_logdet(c, &ab) - a->n * gs_logdet(c, a) -
                    b->n * gs_logdet(c, b));
  /* Effective sample size cap: the likelihood term grows with the number
   * of frames and the penalty only with its log, so on long files the
   * content differences inside one speaker's speech would outgrow the
   * penalty. Larger pairs are judged as if they held N_CAP frames. */
  double w = ab.n > N_CAP ? N_CAP / ab.n : 1.0;
  double dbic = w * l - lambda * 0.5 * N_PARAMS * log(fmin(ab.n, N_CAP));
  /* Pitch guard: two clusters of at least PITCH_MIN_FRAMES whose mean
   * log-F0 differs by more than PITCH_GUARD_ST semitones are different
   * voices whatever the cepstra say (male/female, child/adult). */
  if (dbic < 0 && a->n >= PITCH_MIN_FRAMES && b->n >= PITCH_MIN_FRAMES) {
    double ma = a->s[D - 1] / a->n, mb = b->s[D - 1] / b->n;
    double va = fmax(a->ss[D * D - 1] / a->n - ma * ma, 0);
    double vb = fmax(b->ss[D * D - 1] / b->n - mb * mb, 0);
    double diff = fabs(ma - mb);
    /* a cluster mixing two voices has a wide pitch spread: no guard */
    if (diff > c->pitch_guard_st && diff > 2.0 * sqrt(0.5 * (va + vb))) dbic = fabs(dbic) + 1;
  }
  return dbic;
}

/* Statistics of the speech frames in [a, b) (a span may cross pauses
 * once cap_segments has joined neighbours). */
static void gs_range(const ctx *c, size_t a, size_t b, gstats *g) {
  memset(g, 0, sizeof *g);
  for (size_t t = a; t < b; t++)
    if (c->f->speech[t] && !(c->skip_dup && c->f->dup_src[t] >= 0)) gs_add(g, c->f->feat + t * D);
}

/* Change points inside region [a, b) into cuts (ascending). Returns
 * the count. score is scratch of (b - a) / CD_STEP + 1 doubles. */
static size_t detect_changes(const ctx *c, size_t a, size_t b, double *score,
                             size_t *cuts, size_t max_cuts) {
  if (b - a < 2 * CD_MIN) return 0;
  size_t n_c = 0;
  for (size_t t = a + CD_MIN; t + CD_MIN <= b; t += CD_STEP) {
    gstats l, r;
    size_t l0 = t - a > CD_WIN ? t - CD_WIN : a, r1 = b - t > CD_WIN ? t + CD_WIN : b;
    gs_range(c, l0, t, &l);
    gs_range(c, t, r1, &r);
    score[n_c++] = delta_bic(c, &l, &r, c->o->change_lambda);
  }
  size_t n_cuts = 0;
  for (;;) { /* greedy: best remaining peak, suppress its neighbourhood */
    size_t best = 0;
    double bv = 0;
    for (size_t i = 0; i < n_c; i++)
      if (score[i] > bv) { bv = score[i]; best = i; }
    if (bv <= 0 || n_cuts == max_cuts) break;
    cuts[n_cuts++] = a + CD_MIN + best * CD_STEP;
    for (size_t i = 0; i < n_c; i++)
      if ((i > best ? i - best : best - i) * CD_STEP < CD_SEP) score[i] = 0;
  }
  for (size_t i = 1; i < n_cuts; i++) /* insertion sort, few items */
    for (size_t j = i; j > 0 && cuts[j] < cuts[j - 1]; j--) {
      size_t t = cuts[j]; cuts[j] = cuts[j - 1]; cuts[j - 1] = t;
    }
  return n_cuts;
}

typedef struct seg { size_t a, b; int cluster; } seg;

/* Speech regions split at change points. OUT: *out_segs, *out_n. */
static int segment(const ctx *c, seg **out_segs, size_t *out_n) {
  vm__diar_frames *f = c->f;
  size_t cap = 64, n = 0, longest = 0;
  for (size_t t = 0; t < f->n_frames;) {
    if (!f->speech[t]) { t++; continue; }
    size_t e = t + 1;
    while (e < f->n_frames && f->speech[e] && !f->region_start[e]) e++;
    if (e - t > longest) longest = e - t;
    t = e;
  }
  seg *s = vm_malloc(cap * sizeof *s);
  double *score = vm_malloc((longest / CD_STEP + 2) * sizeof *score);
  size_t *cuts = vm_malloc((longest / CD_SEP + 2) * sizeof *cuts);
  int rc = VM_ENOMEM;
  if (!s || !score || !cuts) goto out;
  for (size_t t = 0; t < f->n_frames;) {
    if (!f->speech[t]) { t++; continue; }
    size_t e = t + 1;
    while (e < f->n_frames && f->speech[e] && !f->region_start[e]) e++;
    size_t nc = detect_changes(c, t, e, score, cuts, longest / CD_SEP + 2);
    for (size_t k = 0; k <= nc; k++) {
      if (n == cap) {
        seg *g = vm_realloc(s, 2 * cap * sizeof *s);
        if (!g) goto out;
        s = g;
        cap *= 2;
      }
      s[n].a = k == 0 ? t : cuts[k - 1];
      s[n].b = k == nc ? e : cuts[k];
      s[n].cluster = (int)n;
      n++;
    }
    t = e;
  }
  rc = VM_OK;
out:
  vm_free(score);
  vm_free(cuts);
  if (rc) { vm_free(s); s = NULL; n = 0; }
  *out_segs = s;
  *out_n = n;
  return rc;
}

/* Bounds the AHC cost (O(n^2) memory, O(n^3) time in the segment count)
 * on long files: while more than MAX_SEGS segments remain, the pair of
 * neighbours in time with the lowest delta-BIC is joined into one span
 * (neighbours are mostly the same speaker: turns outlast segments).
 * O(n) per join with cached neighbour distances, O(n^2) at worst in all,
 * only for files above MAX_SEGS segments. Returns the new count. */
static size_t cap_segments(const ctx *c, seg *s, size_t n, double *nd, gstats *g) {
  if (n <= MAX_SEGS) return n;
  for (size_t i = 0; i < n; i++) gs_range(c, s[i].a, s[i].b, &g[i]);
  for (size_t i = 0; i + 1 < n; i++) nd[i] = delta_bic(c, &g[i], &g[i + 1], c->o->bic_lambda);
  while (n > MAX_SEGS) {
    size_t bi = 0;
    for (size_t i = 1; i + 1 < n; i++) if (nd[i] < nd[bi]) bi = i;
    s[bi].b = s[bi + 1].b;
    gs_sum(&g[bi], &g[bi], &g[bi + 1]);
    memmove(&s[bi + 1], &s[bi + 2], (n - bi - 2) * sizeof *s);
    memmove(&g[bi + 1], &g[bi + 2], (n - bi - 2) * sizeof *g);
    memmove(&nd[bi + 1], &nd[bi + 2], (n - bi - 2) * sizeof *nd);
    n--;
    if (bi > 0) nd[bi - 1] = delta_bic(c, &g[bi - 1], &g[bi], c->o->bic_lambda);
    if (bi + 1 < n) nd[bi] = delta_bic(c, &g[bi], &g[bi + 1], c->o->bic_lambda);
  }
  for (size_t i = 0; i < n; i++) s[i].cluster = (int)i;
  return n;
}

/* Lowest-distance pair of active clusters. With block set and a UBM,
 * pairs of two clusters of at least BIG_FRAMES are skipped: the CLR
 * stage judges those. Returns the distance (INFINITY: no pair). */
static double best_pair(const ctx *c, const gstats *g, const double *dist, const int *parent,
                        size_t n, int block, size_t *out_i, size_t *out_j) {
  double bv = INFINITY;
  block = block && c->ubm;
  for (size_t i = 0; i < n; i++) {
    if (parent[i] != -1) continue;
    int big_i = block && g[i].n >= BIG_FRAMES;
    for (size_t j = i + 1; j < n; j++)
      if (parent[j] == -1 && dist[i * n + j] < bv && !(big_i && g[j].n >= BIG_FRAMES)) {
        bv = dist[i * n + j];
        *out_i = i;
        *out_j = j;
      }
  }
  return bv;
}

/* Agglomerative clustering of the *io_n segs (first capped to MAX_SEGS,
 * which rewrites segs and *io_n); writes segs[].cluster as 0..K-1.
 * OUT: *out_k. */
static int ahc(const ctx *c, seg *segs, size_t *io_n, int *out_k) {
  size_t n = *io_n;
  int rc = VM_ENOMEM;
  gstats *g = vm_calloc(n, sizeof *g);
  size_t n_dist = n <= MAX_SEGS ? n * n : MAX_SEGS * MAX_SEGS; /* after the cap */
  double *dist = vm_malloc((n_dist > n ? n_dist : n) * sizeof *dist);
  int *parent = vm_malloc(n * sizeof *parent);
  if (!g || !dist || !parent) goto out;
  n = cap_segments(c, segs, n, dist, g); /* dist: scratch of n doubles here */
  *io_n = n;
  for (size_t i = 0; i < n; i++) {
    gs_range(c, segs[i].a, segs[i].b, &g[i]);
    parent[i] = -1; /* -1 = active root */
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      dist[i * n + j] = delta_bic(c, &g[i], &g[j], c->o->bic_lambda);
  size_t k = n;
  /* with a UBM the CLR stage finishes the job from up to VM__DIAR_MAX_CLR */
  int target = c->o->n_speakers, kmax = c->ubm ? VM__DIAR_MAX_CLR : c->o->max_speakers;
  while (k > 1) {
    size_t bi = 0, bj = 0;
    double bv = best_pair(c, g, dist, parent, n, 1, &bi, &bj);
    if (target > 0 && (int)k <= target) break;
    if (bv > 0 && (int)k <= kmax && (target == 0 || c->ubm)) break;
    if (bv > 0 || bv == INFINITY) bv = best_pair(c, g, dist, parent, n, 0, &bi, &bj);
    gs_sum(&g[bi], &g[bi], &g[bj]);
    parent[bj] = (int)bi;
    k--;
    for (size_t j = 0; j < n; j++) {
      if (parent[j] != -1 || j == bi) continue;
      double d = delta_bic(c, &g[bi], &g[j], c->o->bic_lambda);
      if (j < bi) dist[j * n + bi] = d; else dist[bi * n + j] = d;
    }
  }
  int next = 0;
  for (size_t i = 0; i < n; i++) { /* compact root ids; roots precede children */
    size_t r = i;
    while (parent[r] != -1) r = (size_t)parent[r];
    if (r == i) segs[i].cluster = next++;
    else segs[i].cluster = -1 - (int)r; /* resolved below */
  }
  for (size_t i = 0; i < n; i++)
    if (segs[i].cluster < 0) segs[i].cluster = segs[(size_t)(-1 - segs[i].cluster)].cluster;
  *out_k = next;
  rc = VM_OK;
out:
  vm_free(g);
  vm_free(dist);
  vm_free(parent);
  return rc;
}

static void gauss_fit(const ctx *c, const gstats *g, gauss *m) {
  gs_cov(c, g, m->mean, m->chol);
  if (cholesky(m->chol) != 0) { /* not reachable with shrinkage; keep sane */
    memset(m->chol, 0, sizeof m->chol);
    for (int i = 0; i < D; i++) m->chol[i * D + i] = 1;
  }
  m->logdet = 0;
  for (int i = 0; i < D; i++) m->logdet += 2 * log(m->chol[i * D + i]);
}

/* log N(x; m) up to a constant shared by all models. */
static double gauss_ll(const gauss *m, const float *x) {
  double y[D], q = 0;
  for (int i = 0; i < D; i++) { /* forward substitution L y = x - mu */
    double t = x[i] - m->mean[i];
    for (int k = 0; k < i; k++) t -= m->chol[i * D + k] * y[k];
    y[i] = t / m->chol[i * D + i];
    q += y[i] * y[i];
  }
  return -0.5 * (m->logdet + q);
}

/* Viterbi over the speech frames with k Gaussians; rewrites f->label.
 * bp is (n_frames * k) scratch bytes. */
static void viterbi(const ctx *c, const gauss *m, int k, uint8_t *bp) {
  vm__diar_frames *f = c->f;
  double score[VM_DIAR_MAX_SPEAKERS], next[VM_DIAR_MAX_SPEAKERS];
  size_t last = (size_t)-1;
  for (size_t t = 0; t < f->n_frames; t++) {
    if (!f->speech[t]) continue;
    const float *x = f->feat + t * D;
    double pen = f->region_start[t] ? 0.5 * c->o->switch_penalty : c->o->switch_penalty;
    double best_prev = -INFINITY;
    int best_j = 0;
    for (int j = 0; j < k && last != (size_t)-1; j++)
      if (score[j] > best_prev) { best_prev = score[j]; best_j = j; }
    for (int j = 0; j < k; j++) {
      double ll = gauss_ll(&m[j], x);
      if (last == (size_t)-1) { next[j] = ll; bp[t * (size_t)k + j] = (uint8_t)j; continue; }
      int from = j;
      double v = score[j];
      if (best_prev - pen > v) { v = best_prev - pen; from = best_j; }
      next[j] = v + ll;
      bp[t * (size_t)k + j] = (uint8_t)from;
    }
    memcpy(score, next, sizeof(double) * (size_t)k);
    last = t;
  }
  if (last == (size_t)-1) return;
  int s = 0;
  for (int j = 1; j < k; j++) if (score[j] > score[s]) s = j;
  for (size_t t = last + 1; t-- > 0;) {
    if (!f->speech[t]) continue;
    f->label[t] = s;
    s = bp[t * (size_t)k + s];
  }
}

static void label_stats(const ctx *c, int k, gstats *g) {
  memset(g, 0, sizeof(gstats) * (size_t)k);
  const vm__diar_frames *f = c->f;
  for (size_t t = 0; t < f->n_frames; t++)
    if (f->speech[t] && f->label[t] >= 0 && f->label[t] < k)
      gs_add(&g[f->label[t]], f->feat + t * D);
}

/* Renumbers labels through map (old -> new, -1 = drop to new label 0 for
 * now; the next Viterbi pass reassigns every frame). */
static void relabel(vm__diar_frames *f, const int *map) {
  for (size_t t = 0; t < f->n_frames; t++)
    if (f->speech[t] && f->label[t] >= 0) {
      int m = map[f->label[t]];
      f->label[t] = m < 0 ? 0 : m;
    }
}

/* Drops empty clusters and, when estimating, those under min_speaker_s.
 * Returns the new count (>= 1). */
static int prune(const ctx *c, const gstats *g, int k) {
  int map[VM_DIAR_MAX_SPEAKERS], nk = 0;
  double min_n = c->o->n_speakers > 0 ? 1 : c->o->min_speaker_s / c->f->frame_s;
  int biggest = 0;
  for (int j = 1; j < k; j++) if (g[j].n > g[biggest].n) biggest = j;
  for (int j = 0; j < k; j++) map[j] = (g[j].n >= min_n || j == biggest) ? nk++ : -1;
  if (nk != k) relabel(c->f, map);
  return nk;
}

/* CLR stage on the current labels (estimating only). Returns the new
 * count, or a negative VM_E* code. */
static int merge_clr(const ctx *c, int k) {
  int nk = k;
  if (!c->ubm) return k;
  int rc = vm__diar_clr_merge(c->ubm, c->f, k, c->o->n_speakers, c->o->max_speakers,
                              c->o->clr_threshold, c->pitch_guard_st, &nk);
  return rc ? rc : nk;
}

static int resegment(const ctx *c, int k) {
  gstats g[VM_DIAR_MAX_SPEAKERS];
  gauss m[VM_DIAR_MAX_SPEAKERS];
  uint8_t *bp = vm_malloc(c->f->n_frames * (size_t)VM_DIAR_MAX_SPEAKERS);
  if (!bp) return VM_ENOMEM;
  for (int round = 0; round < 8; round++) {
    label_stats(c, k, g);
    int nk = prune(c, g, k);
    if (nk == k && round >= 2 && c->o->n_speakers == 0) nk = merge_clr(c, k);
    if (nk < 0) { k = nk; break; }
    if (nk == k && round >= 3) break;
    if (nk != k) {
      k = nk;
      label_stats(c, k, g);
    }
    for (int j = 0; j < k; j++) gauss_fit(c, &g[j], &m[j]);
    viterbi(c, m, k, bp);
  }
  vm_free(bp);
  return k;
}

/* Repeated audio (diarize_repeat.c) is clustered once: segments whose
 * speech is mostly copies of earlier audio move to pas[] (the rest stay
 * at the front of s[]); returns the number left in s[]. */
static size_t split_repeats(const vm__diar_frames *f, seg *s, size_t n, seg *pas, size_t *n_pas) {
  size_t n_act = 0;
  *n_pas = 0;
  for (size_t i = 0; i < n; i++) {
    size_t sp = 0, orig = 0;
    for (size_t t = s[i].a; t < s[i].b; t++) {
      sp += f->speech[t];
      orig += f->speech[t] && f->dup_src[t] < 0;
    }
    if (orig * 2 >= sp) s[n_act++] = s[i];
    else pas[(*n_pas)++] = s[i];
  }
  if (n_act == 0) { /* cannot happen (the first copy is original); keep all */
    memcpy(s, pas, n * sizeof *s);
    *n_pas = 0;
    return n;
  }
  return n_act;
}

/* Labels the frames of the set-aside segments (time order): a copied
 * frame takes the label of the frame it copies, the others the label
 * most of the segment's copied frames took. */
static void label_repeats(vm__diar_frames *f, const seg *pas, size_t n_pas, int k) {
  for (size_t i = 0; i < n_pas; i++) {
    size_t votes[VM__DIAR_MAX_CLR] = {0};
    for (size_t t = pas[i].a; t < pas[i].b; t++) {
      int32_t src = f->dup_src[t];
      int l = f->speech[t] && src >= 0 ? f->label[src] : -1;
      f->label[t] = l;
      if (l >= 0 && l < k && l < VM__DIAR_MAX_CLR) votes[l]++;
    }
    int best = 0;
    for (int j = 1; j < k && j < VM__DIAR_MAX_CLR; j++) if (votes[j] > votes[best]) best = j;
    for (size_t t = pas[i].a; t < pas[i].b; t++)
      if (f->label[t] < 0) f->label[t] = best;
  }
}

int vm__diar_cluster_mono(vm__diar_frames *f, const vm_diar_opts *o,
                          int *out_n_speakers) {
  ctx c = {.f = f, .o = o, .pitch_guard_st = o->pitch_guard_st, .shrink = SHRINK_FRAMES};
  *out_n_speakers = 0;
  gstats all;
  memset(&all, 0, sizeof all);
  for (size_t t = 0; t < f->n_frames; t++) {
    f->label[t] = -1;
    if (f->speech[t]) gs_add(&all, f->feat + t * D);
  }
  if (all.n < 1) return VM_OK;
  memcpy(c.gvar, f->gvar, sizeof c.gvar); /* set with the features (diarize.c) */
  seg *segs = NULL, *pas = NULL;
  size_t n_segs = 0, n_pas = 0;
  int k = 0;
  int rc = vm__diar_ubm_create(f, c.gvar, &c.ubm);
  if (rc == VM_EINVAL) rc = VM_OK; /* too little speech for a UBM: BIC decides */
  if (rc || (rc = segment(&c, &segs, &n_segs))) goto out;
  if (f->n_dup > 0) {
    if (!(pas = vm_malloc(n_segs * sizeof *pas))) { rc = VM_ENOMEM; goto out; }
    n_segs = split_repeats(f, segs, n_segs, pas, &n_pas);
  }
  c.skip_dup = 1;
  if ((rc = ahc(&c, segs, &n_segs, &k))) goto out;
  c.skip_dup = 0;
  for (size_t i = 0; i < n_segs; i++)
    for (size_t t = segs[i].a; t < segs[i].b; t++) f->label[t] = segs[i].cluster;
  label_repeats(f, pas, n_pas, k);
  if ((k = merge_clr(&c, k)) < 0) { rc = k; goto out; }
  k = resegment(&c, k);
  if (k < 0) { rc = k; goto out; }
  *out_n_speakers = k;
out:
  vm__diar_ubm_destroy(c.ubm);
  vm_free(segs);
  vm_free(pas);
  return rc;
}
