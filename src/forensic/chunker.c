/* chunker.c — greedy packing of VAD regions into <= max_s chunks.
 *
 * DESIGN: each region gets an extended span [lo, hi): padded by pad_s on
 * both sides but clipped to the file and to the middle of the pauses on
 * either side, so extended spans never overlap. Greedy: from the current
 * start, take regions while their extended end stays within start + max;
 * a region that does not fit alone is cut (the only place speech is cut).
 * All arithmetic is in samples, so offsets are exact. */
#include "chunker.h"

#include <math.h>

#include "vm_alloc.h"
#include "vm_status.h"

void vm_chunk_opts_default(vm_chunk_opts *o) {
  o->max_s = 30.0;
  o->pad_s = 0.2;
  o->max_gap_s = 2.0;
}

typedef struct planner {
  const vm_vad_result *v;
  size_t pad, max, max_gap, hop; /* samples */
  vm_chunk_plan *p;
  size_t cap;
} planner;

static size_t ext_lo(const planner *pl, size_t i) {
  const vm_vad_region *r = pl->v->regions;
  size_t lo = r[i].start_sample > pl->pad ? r[i].start_sample - pl->pad : 0;
  if (i > 0) {
    size_t mid = r[i - 1].end_sample + (r[i].start_sample - r[i - 1].end_sample) / 2;
    if (lo < mid) lo = mid;
  }
  return lo;
}

static size_t ext_hi(const planner *pl, size_t i) {
  const vm_vad_region *r = pl->v->regions;
  size_t hi = r[i].end_sample + pl->pad;
  if (hi > pl->v->n_samples) hi = pl->v->n_samples;
  if (i + 1 < pl->v->n_regions) {
    size_t mid = r[i].end_sample + (r[i + 1].start_sample - r[i].end_sample) / 2;
    if (hi > mid) hi = mid;
  }
  return hi;
}

static int emit(planner *pl, size_t a, size_t b, size_t first, size_t n_reg,
                int forced) {
  vm_chunk_plan *p = pl->p;
  if (p->n_chunks == pl->cap) {
    size_t cap = pl->cap ? 2 * pl->cap : 16;
    vm_chunk *c = vm_realloc(p->chunks, cap * sizeof *c);
    if (!c) return VM_ENOMEM;
    p->chunks = c;
    pl->cap = cap;
  }
  vm_chunk *c = &p->chunks[p->n_chunks++];
  c->start_sample = a;
  c->end_sample = b;
  c->offset_s = (double)a / p->sample_rate_hz;
  c->duration_s = (double)(b - a) / p->sample_rate_hz;
  c->first_region = first;
  c->n_regions = n_reg;
  c->forced = forced;
  c->forced_start = p->n_chunks > 1 && p->chunks[p->n_chunks - 2].forced &&
                    p->chunks[p->n_chunks - 2].end_sample == a;
  p->n_forced += (size_t)forced;
  p->chunked_s += c->duration_s;
  return VM_OK;
}

/* A cut inside speech: the quietest frame boundary in the last 5 s
 * (at least 1 s after cur) before limit. */
static size_t forced_cut(const planner *pl, size_t cur, size_t limit) {
  const vm_vad_result *v = pl->v;
  size_t rate = (size_t)v->sample_rate_hz;
  size_t lo = limit > 5 * rate ? limit - 5 * rate : 0;
  if (lo < cur + rate) lo = cur + rate;
  size_t best = limit - limit % pl->hop;
  float best_db = INFINITY;
  for (size_t s = (lo + pl->hop - 1) / pl->hop * pl->hop; s + pl->hop <= limit; s += pl->hop) {
    size_t f = s / pl->hop;
    if (f < v->n_frames && v->frame_db[f] < best_db) {
      best_db = v->frame_db[f];
      best = s; /* cut at the start of the quietest frame */
    }
  }
  return best > cur ? best : limit;
}

static int plan_all(planner *pl) {
  const vm_vad_result *v = pl->v;
  size_t n = v->n_regions, i = 0, cur = n ? ext_lo(pl, 0) : 0;
  int rc = VM_OK;
  while (i < n && rc == VM_OK) {
    size_t limit = cur + pl->max, j = i;
    while (j < n && ext_hi(pl, j) <= limit &&
           (j == i || v->regions[j].start_sample - v->regions[j - 1].end_sample < pl->max_gap))
      j++;
    if (j > i) { /* regions i..j-1 fit */
      rc = emit(pl, cur, ext_hi(pl, j - 1), i, j - i, 0);
      i = j;
    } else if (v->regions[i].end_sample <= limit) { /* fits without its pad */
      rc = emit(pl, cur, limit, i, 1, 0);
      i++;
    } else { /* one region longer than max: cut inside speech */
      size_t cut = forced_cut(pl, cur, limit);
      rc = emit(pl, cur, cut, i, 1, 1);
      cur = cut;
      continue;
    }
    if (i < n) cur = ext_lo(pl, i);
  }
  return rc;
}

int vm_chunker_plan(const vm_vad_result *vad, const vm_chunk_opts *opts,
                    vm_chunk_plan **out) {
  *out = NULL;
  vm_chunk_opts o;
  if (opts) o = *opts; else vm_chunk_opts_default(&o);
  if (!vad || o.max_s < 1.0 || o.pad_s < 0 || o.max_gap_s <= 0) return VM_EINVAL;
  vm_chunk_plan *p = vm_calloc(1, sizeof *p);
  if (!p) return VM_ENOMEM;
  p->sample_rate_hz = vad->sample_rate_hz;
  double rate = vad->sample_rate_hz;
  planner pl = {
    .v = vad,
    .pad = (size_t)llround(o.pad_s * rate),
    .max = (size_t)floor(o.max_s * rate),
    .max_gap = (size_t)llround(o.max_gap_s * rate),
    .hop = (size_t)llround(vad->frame_s * rate),
    .p = p,
  };
  int rc = plan_all(&pl);
  if (rc) {
    vm_chunk_plan_destroy(p);
    return rc;
  }
  *out = p;
  return VM_OK;
}

void vm_chunk_plan_destroy(vm_chunk_plan *p) {
  if (!p) return;
  vm_free(p->chunks);
  vm_free(p);
}

double vm_chunk_to_file_time(const vm_chunk_plan *p, const vm_chunk *c,
                             double t_in_chunk_s) {
  return (double)c->start_sample / p->sample_rate_hz + t_in_chunk_s;
}
