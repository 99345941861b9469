/* asr_decode_search.c — greedy, sampling (best-of) and beam search over
 * many windows at once, as the reference decoder does them.
 *
 * DESIGN: every window has n_cand hypotheses (vm_asr_search_n_cand), each
 * with its own KV slot w * n_cand + j. Each step feeds the last token of
 * every live hypothesis of every unfinished window in ONE lm->step call
 * (so chunks of a batch and the beams of a window share the decoder's
 * matrix products), then applies the logit filters per hypothesis and
 * chooses. Beam search keeps beam_size live beams per window; when the
 * best candidates come from other beams, their KV rows are copied
 * (lm->kv_copy) before the next step. All hypotheses of a step have the
 * same length, hence the same position: one n_past per step.
 *
 * Invariants: a hypothesis of length k has fed tokens 0..k-2 and its KV
 * slot holds positions [0, prompt_len + k - 1); sampled tokens never
 * include end-of-text (which ends the hypothesis). */
#include <math.h>
#include <string.h>

#include "asr_decode.h"
#include "asr_decode_impl.h"
#include "asr_model.h"
#include "vm_alloc.h"

typedef struct hyp {
  int32_t *tok; /* (cap) */
  float *lp;    /* (cap) */
  int n;
  double sum_lp;
  int done;
} hyp;

typedef struct cand {
  int src;        /* source beam */
  int32_t token;
  float lp;
  double score;
} cand;

/* Per-thread buffers for filtering one hypothesis's logits. */
typedef struct scratch {
  float *work, *lprob; /* (V) */
  double *pexp;        /* (V) exp((lprob - max) / T) of a sampled step */
} scratch;

typedef struct search {
  const vm_asr_rules *r;
  const vm_asr_decode_opts *o;
  int n_win, n_cand, V, cap, beam;
  double temp;
  vm_asr_rng *rng;        /* (n_win) one generator per window */
  hyp *h;         /* (n_win * n_cand) live hypotheses */
  hyp *h2;        /* (n_win * n_cand) next beams (beam search) */
  hyp *fin;       /* (n_win * n_cand) finished beams (beam search) */
  int *n_fin;     /* (n_win) */
  int *n_live;    /* (n_win) live beams */
  int *win_done;  /* (n_win) */
  scratch *scr;   /* (n_scr) one per thread of lm->parallel */
  int n_scr;
  cand *cands;    /* (n_win * n_cand * (n_cand + 1)) beam b of window w from
                     (w * n_cand + b) * (n_cand + 1), then compacted per window */
  int *n_top;     /* (n_win * n_cand) candidates found for each beam */
  int *task;      /* (n_win * n_cand) this step's tasks: window * n_cand + j */
  const float **row; /* (n_win * n_cand) each task's logits */
  int32_t eot;
  int32_t *tok;   /* (n_win * n_cand) step inputs */
  int *win, *slot, *src, *dst;
  int first;      /* the step being applied is the first (prompt logits) */
} search;

void vm_asr_rng_seed(vm_asr_rng *g, uint64_t seed) { g->s = seed ? seed : 0x9e3779b97f4a7c15ull; }

double vm_asr_rng_uniform(vm_asr_rng *g) {
  g->s ^= g->s >> 12;
  g->s ^= g->s << 25;
  g->s ^= g->s >> 27;
  return (double)((g->s * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
}

int vm_asr_search_n_cand(const vm_asr_decode_opts *o, double temperature) {
  if (temperature > 0.0) return o->best_of;
  return o->beam_size;
}

void vm_asr_result_deinit(vm_asr_result *r) {
  if (!r) return;
  vm_free(r->tokens);
  vm_free(r->logprobs);
  memset(r, 0, sizeof *r);
}

static int hyps_alloc(hyp *h, int n, int cap) {
  for (int i = 0; i < n; i++) {
    h[i].tok = vm_malloc((size_t)cap * sizeof(int32_t));
    h[i].lp = vm_malloc((size_t)cap * sizeof(float));
    if (!h[i].tok || !h[i].lp) return VM_ENOMEM;
  }
  return VM_OK;
}

static void hyps_free(hyp *h, int n) {
  for (int i = 0; h && i < n; i++) {
    vm_free(h[i].tok);
    vm_free(h[i].lp);
  }
  vm_free(h);
}

static void search_free(search *s) {
  int n = s->n_win * s->n_cand;
  hyps_free(s->h, n);
  hyps_free(s->h2, n);
  hyps_free(s->fin, n);
  for (int i = 0; s->scr && i < s->n_scr; i++) {
    vm_free(s->scr[i].work);
    vm_free(s->scr[i].lprob);
    vm_free(s->scr[i].pexp);
  }
  void *p[] = {s->n_fin, s->n_live, s->win_done, s->scr, s->cands, s->n_top, s->task,
               (void *)s->row, s->tok, s->win, s->slot, s->src, s->dst};
  for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) vm_free(p[i]);
}

static int search_init(search *s) {
  size_t n = (size_t)s->n_win * (size_t)s->n_cand;
  s->h = vm_calloc(n, sizeof(hyp));
  s->h2 = vm_calloc(n, sizeof(hyp));
  s->fin = vm_calloc(n, sizeof(hyp));
  s->n_fin = vm_calloc((size_t)s->n_win, sizeof(int));
  s->n_live = vm_calloc((size_t)s->n_win, sizeof(int));
  s->win_done = vm_calloc((size_t)s->n_win, sizeof(int));
  s->scr = vm_calloc((size_t)s->n_scr, sizeof(scratch));
  for (int i = 0; s->scr && i < s->n_scr; i++) {
    scratch *c = &s->scr[i];
    c->work = vm_malloc((size_t)s->V * sizeof(float));
    c->lprob = vm_malloc((size_t)s->V * sizeof(float));
    c->pexp = s->temp > 0.0 ? vm_malloc((size_t)s->V * sizeof(double)) : NULL;
    if (!c->work || !c->lprob || (s->temp > 0.0 && !c->pexp)) return VM_ENOMEM;
  }
  s->cands = vm_malloc(n * (size_t)(s->n_cand + 1) * sizeof(cand));
  s->n_top = vm_malloc(n * sizeof(int));
  s->task = vm_malloc(n * sizeof(int));
  s->row = vm_malloc(n * sizeof(const float *));
  s->tok = vm_malloc(n * sizeof(int32_t));
  s->win = vm_malloc(n * sizeof(int));
  s->slot = vm_malloc(n * sizeof(int));
  s->src = vm_malloc(n * sizeof(int));
  s->dst = vm_malloc(n * sizeof(int));
  if (!s->h || !s->h2 || !s->fin || !s->n_fin || !s->n_live || !s->win_done || !s->scr ||
      !s->cands || !s->n_top || !s->task || !s->row || !s->tok || !s->win || !s->slot ||
      !s->src || !s->dst)
    return VM_ENOMEM;
  if (hyps_alloc(s->h, (int)n, s->cap) || (s->beam && (hyps_alloc(s->h2, (int)n, s->cap) ||
                                                       hyps_alloc(s->fin, (int)n, s->cap))))
    return VM_ENOMEM;
  for (int w = 0; w < s->n_win; w++) s->n_live[w] = s->n_cand;
  return VM_OK;
}

/* Filters logits for h into c->work and c->lprob (log-softmax). */
static void filter(const search *s, scratch *c, const hyp *h, const float *logits) {
  memcpy(c->work, logits, (size_t)s->V * sizeof(float));
  vm_asr_rules_apply(s->r, h->tok, h->n, c->work);
  vm_asr_log_softmax(c->work, s->V, c->lprob);
}

/* Greedy or sampled choice for h (of window w) from its logits. */
static void choose(search *s, scratch *c, int w, hyp *h, const float *logits) {
  int32_t eot = s->eot;
  filter(s, c, h, logits);
  int32_t next = -1;
  if (s->temp <= 0.0) {
    float best = -INFINITY;
    for (int32_t i = 0; i < s->V; i++)
      if (c->work[i] > best) best = c->work[i], next = i;
  } else { /* p ~ exp(logprob / T), normalised on the fly */
    double sum = 0.0, u;
    float mx = -INFINITY;
    for (int32_t i = 0; i < s->V; i++) mx = c->lprob[i] > mx ? c->lprob[i] : mx;
    for (int32_t i = 0; i < s->V; i++)
      sum += c->pexp[i] = exp((double)(c->lprob[i] - mx) / s->temp);
    u = vm_asr_rng_uniform(&s->rng[w]) * sum;
    for (int32_t i = 0; i < s->V && next < 0; i++) {
      u -= c->pexp[i];
      if (u < 0.0 && c->lprob[i] > -INFINITY) next = i;
    }
    for (int32_t i = s->V - 1; next < 0 && i >= 0; i--) /* rounding at the end */
      if (c->lprob[i] > -INFINITY) next = i;
  }
  if (next < 0) next = eot; /* everything suppressed: end the window */
  double lp = c->lprob[next] > -INFINITY ? c->lprob[next] : 0.0;
  h->sum_lp += lp;
  if (next == eot) {
    h->done = 1;
    return;
  }
  h->lp[h->n] = (float)lp;
  h->tok[h->n++] = next;
}

static void hyp_copy(hyp *d, const hyp *src) {
  memcpy(d->tok, src->tok, (size_t)src->n * sizeof(int32_t));
  memcpy(d->lp, src->lp, (size_t)src->n * sizeof(float));
  d->n = src->n;
  d->sum_lp = src->sum_lp;
  d->done = src->done;
}

int vm__asr_top_k(const float *x, int32_t n, int k, int32_t *top) {
  int n_top = 0;
  for (int32_t i = 0; i < n && k > 0; i++) {
    float v = x[i];
    /* a later id enters only when strictly larger: ties keep the lower */
    if (v == -INFINITY || (n_top == k && v <= x[top[k - 1]])) continue;
    int j = n_top < k ? n_top++ : k - 1;
    while (j > 0 && x[top[j - 1]] < v) top[j] = top[j - 1], j--;
    top[j] = i;
  }
  return n_top;
}

static void cand_sort(cand *c, int n) { /* stable, score descending */
  for (int i = 1; i < n; i++) {
    cand x = c[i];
    int j = i - 1;
    while (j >= 0 && c[j].score < x.score) c[j + 1] = c[j], j--;
    c[j + 1] = x;
  }
}

/* The top B+1 candidates of beam b of window w from its logits, into the
 * beam's own part of s->cands (one task of a step). */
static void beam_cands(search *s, scratch *c, int w, int b, const float *logits) {
  int B = s->n_cand, k = w * B + b;
  const hyp *beam = &s->h[k];
  int32_t top[65]; /* B <= 64 */
  filter(s, c, beam, logits);
  int n_top = vm__asr_top_k(c->lprob, s->V, B + 1, top);
  cand *out = s->cands + (size_t)k * (size_t)(B + 1);
  for (int i = 0; i < n_top; i++) {
    cand x = {b, top[i], c->lprob[top[i]], beam->sum_lp + c->lprob[top[i]]};
    out[i] = x;
  }
  s->n_top[k] = n_top;
}

/* Window w's candidates from its n_beams beams, in beam order, compacted
 * to the start of its part of s->cands and sorted (stable). Returns the
 * count. */
static int beam_gather(search *s, int w, int n_beams) {
  int B = s->n_cand, n_c = 0;
  cand *all = s->cands + (size_t)w * (size_t)B * (size_t)(B + 1);
  for (int b = 0; b < n_beams; b++) {
    const cand *from = all + (size_t)b * (size_t)(B + 1);
    for (int i = 0; i < s->n_top[w * B + b]; i++) all[n_c++] = from[i];
  }
  cand_sort(all, n_c);
  return n_c;
}

/* One beam-search update of window w; returns the number of new beams
 * whose KV must come from another slot (written to s->src/s->dst from
 * *n_copy on). */
static void beam_update(search *s, int w, int n_c, int32_t eot, int *n_copy) {
  int B = s->n_cand, saved = 0;
  hyp *beams = s->h + w * B, *next = s->h2 + w * B, *fin = s->fin + w * B;
  const cand *all = s->cands + (size_t)w * (size_t)B * (size_t)(B + 1);
  for (int i = 0; i < n_c && saved < B; i++) {
    const cand *c = &all[i];
    hyp *d = c->token == eot ? (s->n_fin[w] < B ? &fin[s->n_fin[w]++] : NULL) : &next[saved];
    if (!d) continue; /* the finished list is full */
    hyp_copy(d, &beams[c->src]);
    d->sum_lp = c->score;
    if (c->token == eot) {
      d->done = 1;
      continue;
    }
    d->lp[d->n] = c->lp;
    d->tok[d->n++] = c->token;
    if (c->src != saved) {
      s->dst[*n_copy] = w * B + saved;
      s->src[*n_copy] = w * B + c->src;
      (*n_copy)++;
    }
    saved++;
  }
  for (int b = 0; b < saved; b++) hyp_copy(&beams[b], &next[b]);
  s->n_live[w] = saved;
  if (s->n_fin[w] >= B || saved == 0) s->win_done[w] = 1;
}

/* Candidates of window w still decoding: fills step inputs from *n on. */
static void live_inputs(search *s, int w, int *n) {
  for (int j = 0; j < (s->beam ? s->n_live[w] : s->n_cand); j++) {
    hyp *h = &s->h[w * s->n_cand + j];
    if (h->done || h->n == 0) continue;
    s->tok[*n] = h->tok[h->n - 1];
    s->win[*n] = w;
    s->slot[*n] = w * s->n_cand + j;
    (*n)++;
  }
}

/* Tasks [t0, t1) of a step on thread ith: a beam's candidates (beam
 * search), or every hypothesis of a window in order (greedy and sampling:
 * a window's draws come from its generator in a fixed order). Tasks touch
 * only their own window's hypotheses, generator and candidates. */
static void step_tasks(void *arg, size_t t0, size_t t1, int ith) {
  search *s = arg;
  scratch *c = &s->scr[ith];
  for (size_t t = t0; t < t1; t++) {
    int k = s->task[t], w = k / s->n_cand;
    if (s->beam) {
      beam_cands(s, c, w, k % s->n_cand, s->row[k]);
      continue;
    }
    const float *const *rows = s->row + (size_t)k; /* the window's rows, in order */
    for (int j = 0, r = 0; j < s->n_cand; j++) {
      hyp *h = &s->h[k + j];
      if (!h->done && (s->first || h->n > 0)) choose(s, c, w, h, rows[r++]);
    }
  }
}

/* Applies step logits (rows in live_inputs order) to every live
 * hypothesis: the filtering and choices as tasks (on lm->parallel's
 * threads when there is one), then the beams' updates in window order. */
static int step_apply(search *s, const vm_asr_lm_i *lm, const float *logits, int first,
                      int *n_copy) {
  int row = 0, n_task = 0;
  size_t V = (size_t)s->V;
  s->first = first;
  for (int w = 0; w < s->n_win; w++) {
    if (s->win_done[w]) continue;
    int k = w * s->n_cand;
    if (s->beam) { /* a task per live beam, its row at its own index */
      for (int b = 0; b < (first ? 1 : s->n_live[w]); b++) {
        s->task[n_task++] = k + b;
        s->row[k + b] = first ? logits + (size_t)w * V : logits + (size_t)row++ * V;
      }
      continue;
    }
    s->task[n_task++] = k; /* a task per window, its rows from index k on */
    for (int j = 0, r = 0; j < s->n_cand; j++) {
      const hyp *h = &s->h[k + j];
      if (!h->done && (first || h->n > 0))
        s->row[k + r++] = first ? logits + (size_t)w * V : logits + (size_t)row++ * V;
    }
  }
  if (n_task < 2 || !lm->parallel)
    step_tasks(s, 0, (size_t)n_task, 0);
  else
    lm->parallel(lm->ctx, (size_t)n_task, step_tasks, s);
  for (int w = 0; w < s->n_win; w++) {
    if (s->win_done[w]) continue;
    if (s->beam) {
      beam_update(s, w, beam_gather(s, w, first ? 1 : s->n_live[w]), s->eot, n_copy);
      continue;
    }
    int all_done = 1;
    for (int j = 0; j < s->n_cand; j++) all_done &= s->h[w * s->n_cand + j].done;
    if (all_done) s->win_done[w] = 1;
  }
  return VM_OK;
}

/* The best finished candidate of window w into out (score = sum / len). */
static int finalize(search *s, int w, vm_asr_result *out) {
  int B = s->n_cand;
  hyp *pool = s->h + w * B;
  int n_pool = B;
  if (s->beam) { /* not enough finished: the live beams, best first */
    for (int k = 0; s->n_fin[w] < B && k < s->n_live[w]; k++) {
      int best = -1;
      for (int b = 0; b < s->n_live[w]; b++)
        if (!s->h[w * B + b].done && (best < 0 || s->h[w * B + b].sum_lp > s->h[w * B + best].sum_lp))
          best = b;
      if (best < 0) break;
      s->h[w * B + best].done = 1;
      hyp_copy(&s->fin[w * B + s->n_fin[w]++], &s->h[w * B + best]);
    }
    pool = s->fin + w * B;
    n_pool = s->n_fin[w];
  }
  int best = 0;
  double best_score = -INFINITY;
  for (int i = 0; i < n_pool; i++) {
    double sc = pool[i].sum_lp / (pool[i].n > 0 ? pool[i].n : 1);
    if (sc > best_score) best_score = sc, best = i;
  }
  const hyp *h = &pool[best];
  out->tokens = vm_malloc((size_t)(h->n + 1) * sizeof(int32_t));
  out->logprobs = vm_malloc((size_t)(h->n + 1) * sizeof(float));
  if (!out->tokens || !out->logprobs) return VM_ENOMEM;
  memcpy(out->tokens, h->tok, (size_t)h->n * sizeof(int32_t));
  memcpy(out->logprobs, h->lp, (size_t)h->n * sizeof(float));
  out->n_tokens = h->n;
  out->sum_logprob = h->sum_lp;
  out->avg_logprob = h->sum_lp / (h->n + 1);
  out->temperature = s->temp;
  return VM_OK;
}

static int search_loop(search *s, const vm_asr_lm_i *lm, const float *first_logits,
                       int prompt_len, int max_len, vm_err *err) {
  int n_copy = 0, rc;
  step_apply(s, lm, first_logits, 1, &n_copy);
  if (s->n_cand > 1 && !s->beam) { /* samples share the prompt's KV */
    for (int w = 0; w < s->n_win; w++)
      for (int j = 1; j < s->n_cand; j++) {
        s->dst[n_copy] = w * s->n_cand + j;
        s->src[n_copy++] = w * s->n_cand;
      }
  }
  for (int len = 1; len < max_len; len++) {
    if (n_copy && (rc = lm->kv_copy(lm->ctx, n_copy, s->dst, s->src, prompt_len + len - 1,
                                    err)) != 0)
      return rc;
    n_copy = 0;
    int n = 0;
    for (int w = 0; w < s->n_win; w++)
      if (!s->win_done[w]) live_inputs(s, w, &n);
    if (n == 0) break;
    const float *logits;
    if ((rc = lm->step(lm->ctx, n, s->tok, s->win, s->slot, prompt_len + len - 1, &logits,
                       err)) != 0)
      return rc;
    step_apply(s, lm, logits, 0, &n_copy);
  }
  return VM_OK;
}

int vm_asr_search_run(const vm_asr_rules *r, const vm_asr_decode_opts *opts,
                      const vm_asr_lm_i *lm, int n_win, const float *first_logits,
                      int prompt_len, int n_text_ctx, double temperature, vm_asr_rng *rngs,
                      vm_asr_result *out, vm_err *err) {
  search s = {0};
  int rc;
  for (int w = 0; w < n_win; w++) memset(&out[w], 0, sizeof out[w]);
  s.r = r;
  s.o = opts;
  s.n_win = n_win;
  s.n_cand = vm_asr_search_n_cand(opts, temperature);
  s.beam = temperature <= 0.0 && s.n_cand > 1;
  s.V = vm__asr_rules_n_vocab(r);
  s.temp = temperature;
  s.rng = rngs;
  s.eot = vm__asr_rules_eot(r);
  s.n_scr = lm->parallel && lm->n_threads > 1 ? lm->n_threads : 1;
  int max_len = opts->max_tokens < n_text_ctx - prompt_len ? opts->max_tokens
                                                            : n_text_ctx - prompt_len;
  if (n_win < 1 || max_len < 1 || (s.beam && s.n_cand > 64))
    return vm_err_set(err, VM_EINVAL, "nothing to decode (%d windows, prompt %d of %d)",
                      n_win, prompt_len, n_text_ctx);
  s.cap = max_len + 1;
  if ((rc = search_init(&s)) != 0) {
    rc = vm_err_set(err, rc, "out of memory for the search");
    goto out;
  }
  if ((rc = search_loop(&s, lm, first_logits, prompt_len, max_len, err)) != 0) goto out;
  for (int w = 0; w < n_win; w++)
    if ((rc = finalize(&s, w, &out[w])) != 0) {
      rc = vm_err_set(err, rc, "out of memory for the results");
      goto out;
    }
out:
  search_free(&s);
  if (rc)
    for (int w = 0; w < n_win; w++) vm_asr_result_deinit(&out[w]);
  return rc;
}
