/* lang_analyze.c — vm_lang_analyze: one transcript → the "language" object.
 *
 * DESIGN: one pass per segment normalises the text and matches every
 * family (lang_match.c). Matches whose pattern "requires" a context (a
 * bare conditional such as "만약 ~하면" needs a consequence word) are kept
 * only when a match of that context is in the same segment or in a
 * segment of the same speaker within opts->context_window_s. Each kept
 * match adds its evidence to its segment (vm__lang_segstat); the voice of
 * the segment is compared with its text cues (lang_crosscheck.c). Scores
 * are then computed from the segments of a scope — the conversation or
 * one speaker (lang_scope.c) — and the JSON is assembled here. The object
 * layout is documented in docs/language.md.
 */
#include <math.h>
#include <string.h>

#include "lang_analyze_impl.h"
#include "vm_alloc.h"
#include "vm_json.h"

void vm_lang_opts_init(vm_lang_opts *o) {
  o->seed = 1;
  o->bootstrap_resamples = 1000;
  o->context_window_s = 15.0;
}

static int jset(json_t *o, const char *k, json_t *v, int *bad) {
  if (!v || json_object_set_new(o, k, v) != 0) *bad = 1;
  return *bad;
}

static int japp(json_t *a, json_t *v, int *bad) {
  if (!v || json_array_append_new(a, v) != 0) *bad = 1;
  return *bad;
}

const vm__lang_pattern *vm__lang_hit_pattern(const vm__lang_actx *c, size_t h) {
  return &c->db->patterns[c->hits.items[h].pattern];
}

void vm__lang_hit_times(const vm__lang_actx *c, size_t h, double *t0, double *t1) {
  const vm__lang_hit *hit = &c->hits.items[h];
  const vm_tr_segment *s = &c->t->segments[hit->segment];
  double n = (double)c->tx[hit->segment].n, d = s->end_s - s->start_s;
  *t0 = s->start_s + (n > 0 ? d * (double)hit->c0 / n : 0.0);
  *t1 = s->start_s + (n > 0 ? d * (double)hit->c1 / n : d);
}

json_t *vm__lang_hit_text(const vm__lang_actx *c, size_t h) {
  const vm__lang_hit *hit = &c->hits.items[h];
  const vm__lang_text *t = &c->tx[hit->segment];
  const char *s = c->t->segments[hit->segment].text;
  uint32_t b0 = t->b0[hit->c0], b1 = t->b1[hit->c1 - 1];
  char *x = vm_asprintf("%.*s", (int)(b1 - b0), s + b0);
  json_t *j = x ? vm_json_string_lossy(x) : NULL;
  vm_free(x);
  return j;
}

static int collect_speakers(vm__lang_actx *c) {
  c->spk = vm_calloc(c->n + 1, sizeof *c->spk);
  c->spk_names = vm_calloc(c->n + 1, sizeof *c->spk_names);
  if (!c->spk || !c->spk_names) return VM_ENOMEM;
  for (size_t i = 0; i < c->n; i++) {
    const char *name = c->t->segments[i].speaker ? c->t->segments[i].speaker : "unknown";
    json_t *valid = vm_json_string_lossy(name); /* JSON keys must be UTF-8 */
    if (!valid) return VM_ENOMEM;
    const char *key = json_string_value(valid);
    size_t k = 0;
    while (k < c->n_spk && strcmp(c->spk_names[k], key) != 0) k++;
    if (k == c->n_spk) c->spk_names[c->n_spk++] = vm_strdup(key);
    json_decref(valid);
    if (!c->spk_names[k]) return VM_ENOMEM;
    c->spk[i] = k;
  }
  return VM_OK;
}

static int match_all(vm__lang_actx *c) {
  c->tx = vm_calloc(c->n + 1, sizeof *c->tx);
  c->hit_first = vm_calloc(c->n + 1, sizeof *c->hit_first);
  if (!c->tx || !c->hit_first) return VM_ENOMEM;
  for (size_t i = 0; i < c->n; i++) {
    const char *s = c->t->segments[i].text;
    c->hit_first[i] = c->hits.n;
    int rc = vm__lang_text_init(&c->tx[i], s, strlen(s));
    if (rc == VM_EINVAL) continue; /* a segment over 16 MiB is not matched */
    if (rc != VM_OK) return rc;
    rc = vm__lang_match_text(c->db, &c->tx[i], i, -1, &c->hits);
    if (rc != VM_OK) return rc;
  }
  c->hit_first[c->n] = c->hits.n;
  return VM_OK;
}

/* 1 if segment j is near enough to i to give a match its context. */
static int near(const vm__lang_actx *c, size_t i, size_t j) {
  if (i == j) return 1;
  if (c->spk[i] != c->spk[j]) return 0;
  const vm_tr_segment *a = &c->t->segments[i], *b = &c->t->segments[j];
  double gap = fmax(0.0, fmax(b->start_s - a->end_s, a->start_s - b->end_s));
  return gap <= c->opts.context_window_s;
}

static int filter_requires(vm__lang_actx *c) {
  c->keep = vm_calloc(c->hits.n + 1, 1);
  if (!c->keep) return VM_ENOMEM;
  for (size_t h = 0; h < c->hits.n; h++) {
    const vm__lang_pattern *p = vm__lang_hit_pattern(c, h);
    c->keep[h] = 1;
    if (p->req_family < 0) continue;
    c->keep[h] = 0;
    size_t seg = c->hits.items[h].segment;
    for (size_t g = 0; g < c->hits.n && !c->keep[h]; g++) {
      const vm__lang_pattern *q = vm__lang_hit_pattern(c, g);
      if (q->family == p->req_family && q->type == p->req_type &&
          near(c, seg, c->hits.items[g].segment))
        c->keep[h] = 1;
    }
  }
  return VM_OK;
}

/* Evidence of one kept hit into its segment's stats and cues. */
static void add_evidence(vm__lang_actx *c, size_t h, vm__lang_cues *cue, int *n_int) {
  const vm_lang_db *db = c->db;
  const vm__lang_pattern *p = vm__lang_hit_pattern(c, h);
  const vm__lang_type *ty = &db->families[p->family].types[p->type];
  vm__lang_segstat *s = &c->st[c->hits.items[h].segment];
  double wc = ty->weight * c->hits.items[h].confidence;
  int f = p->family, slot = -1;
  if (f == db->fam_gaslighting) slot = 0;
  else if (f == db->fam_threat || f == c->fam_extortion) slot = 1;
  else if (f == db->fam_coercion) slot = 2;
  if (slot >= 0) {
    s->wc[slot] += wc;
    s->n[slot]++;
  }
  if (slot >= 1) {
    cue->threat_or_coercion = 1;
    if (c->cue_hit[0] < 0) c->cue_hit[0] = (long)h;
  }
  if (ty->emotional && db->families[f].finding) {
    s->emo_wc += wc;
    s->n_emo++;
  }
  if (f == db->fam_deception) {
    for (int k = 0; k < 5; k++)
      if (p->type == c->dec_type[k]) s->dec[k]++;
  } else if (f == db->fam_lexicon) {
    if (p->type == c->lex_type[0]) s->pos++;
    if (p->type == c->lex_type[1]) s->neg++;
    if (p->type == c->lex_type[2] && !cue->remorse++) c->cue_hit[1] = (long)h;
    if (p->type == c->lex_type[3] && !cue->comfort++) c->cue_hit[2] = (long)h;
    if (p->type == c->lex_type[4]) (*n_int)++;
  }
}

static int add_discrepancy(vm__lang_actx *c, size_t i, const vm__lang_disc *d) {
  int bad = 0;
  const vm_tr_segment *s = &c->t->segments[i];
  json_t *o = json_object();
  if (!o) return VM_ENOMEM;
  long cue = -1;
  if (strstr(d->rule, "threat") || strstr(d->rule, "intense_text_calm")) cue = c->cue_hit[0];
  if (strstr(d->rule, "apology")) cue = c->cue_hit[1];
  if (strstr(d->rule, "comfort")) cue = c->cue_hit[2];
  jset(o, "segment", json_integer((json_int_t)i), &bad);
  jset(o, "speaker", s->speaker ? vm_json_string_lossy(s->speaker) : json_null(), &bad);
  jset(o, "start", json_real(s->start_s), &bad);
  jset(o, "end", json_real(s->end_s), &bad);
  jset(o, "rule", json_string(d->rule), &bad);
  jset(o, "severity", json_string(vm__lang_severity_name(d->severity)), &bad);
  jset(o, "confidence", json_real(d->confidence), &bad);
  jset(o, "description_ko", json_string(d->description_ko), &bad);
  jset(o, "text_cue", cue >= 0 ? vm__lang_hit_text(c, (size_t)cue) : vm_json_string_lossy(s->text),
       &bad);
  jset(o, "voice_arousal", vm_json_real(c->voice[i].arousal), &bad);
  jset(o, "stress_index", vm_json_real(c->voice[i].stress_index), &bad);
  if (bad || json_array_append_new(c->discrepancies, o) != 0) {
    if (bad) json_decref(o);
    return VM_ENOMEM;
  }
  return VM_OK;
}

static int segment_stats(vm__lang_actx *c) {
  c->st = vm_calloc(c->n + 1, sizeof *c->st);
  c->discrepancies = json_array();
  if (!c->st || !c->discrepancies) return VM_ENOMEM;
  for (size_t i = 0; i < c->n; i++) {
    vm__lang_segstat *s = &c->st[i];
    vm__lang_cues cue = {0};
    int n_int = 0;
    c->cue_hit[0] = c->cue_hit[1] = c->cue_hit[2] = -1;
    for (size_t h = c->hit_first[i]; h < c->hit_first[i + 1]; h++)
      if (c->keep[h]) add_evidence(c, h, &cue, &n_int);
    s->words = (int)c->tx[i].n_tokens;
    s->stress = c->voice ? c->voice[i].stress_index : NAN;
    s->voice_known = c->voice && (!isnan(c->voice[i].arousal) || !isnan(s->stress));
    double tok = c->tx[i].n_tokens ? (double)c->tx[i].n_tokens : 1.0;
    cue.intensity = fmin(0.2, 0.2 * (double)c->tx[i].n_exclaim / tok) +
                    0.3 * fmin(1.0, s->wc[1] / 5.0) + 0.2 * fmin(1.0, s->wc[2] / 5.0) +
                    fmin(0.3, 0.1 * n_int);
    if (!c->voice) continue;
    vm__lang_disc d[4];
    size_t nd = vm__lang_crosscheck(&cue, &c->voice[i], d);
    for (size_t k = 0; k < nd; k++) {
      s->disc_w += vm__lang_severity_weight(d[k].severity) * d[k].confidence;
      s->n_disc++;
      int rc = add_discrepancy(c, i, &d[k]);
      if (rc != VM_OK) return rc;
    }
  }
  return VM_OK;
}

static json_t *match_json(const vm__lang_actx *c, size_t h) {
  const vm__lang_pattern *p = vm__lang_hit_pattern(c, h);
  const vm__lang_family *f = &c->db->families[p->family];
  const vm__lang_hit *hit = &c->hits.items[h];
  double t0, t1;
  vm__lang_hit_times(c, h, &t0, &t1);
  int bad = 0;
  json_t *o = json_object();
  if (!o) return NULL;
  jset(o, "id", json_string(p->id), &bad);
  jset(o, "type", json_string(f->id), &bad);
  jset(o, "subtype", json_string(f->types[p->type].id), &bad);
  jset(o, "label_ko", json_string(f->types[p->type].label_ko), &bad);
  jset(o, "type_label_ko", json_string(f->label_ko), &bad);
  jset(o, "segment", json_integer((json_int_t)hit->segment), &bad);
  const char *spk = c->t->segments[hit->segment].speaker;
  jset(o, "speaker", spk ? vm_json_string_lossy(spk) : json_null(), &bad);
  jset(o, "start", json_real(t0), &bad);
  jset(o, "end", json_real(t1), &bad);
  jset(o, "text", vm__lang_hit_text(c, h), &bad);
  jset(o, "pattern", json_string(p->text), &bad);
  jset(o, "weight", json_real(f->types[p->type].weight), &bad);
  jset(o, "confidence", json_real(hit->confidence), &bad);
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* "matches" (findings), "deception_markers" and "hierarchy". */
static int hits_json(const vm__lang_actx *c, json_t *out) {
  int bad = 0;
  json_t *m = json_array(), *d = json_array(), *hi = json_array();
  jset(out, "matches", m, &bad);
  jset(out, "deception_markers", d, &bad);
  jset(out, "hierarchy", hi, &bad);
  for (size_t h = 0; h < c->hits.n && !bad; h++) {
    if (!c->keep[h]) continue;
    const vm__lang_pattern *p = vm__lang_hit_pattern(c, h);
    if (c->db->families[p->family].finding) japp(m, match_json(c, h), &bad);
    else if (p->family == c->db->fam_deception) japp(d, match_json(c, h), &bad);
    else if (p->family == c->db->fam_hierarchy) {
      json_t *o = json_object();
      double t0, t1;
      size_t seg = c->hits.items[h].segment;
      vm__lang_hit_times(c, h, &t0, &t1);
      if (!o || japp(hi, o, &bad)) break;
      jset(o, "segment", json_integer((json_int_t)seg), &bad);
      const char *spk = c->t->segments[seg].speaker;
      jset(o, "speaker", spk ? vm_json_string_lossy(spk) : json_null(), &bad);
      jset(o, "start", json_real(t0), &bad);
      jset(o, "marker", vm__lang_hit_text(c, h), &bad);
      jset(o, "kind", json_string(c->db->families[p->family].types[p->type].id), &bad);
    }
  }
  return bad ? VM_ENOMEM : VM_OK;
}

static int level_json(vm__lang_actx *c, json_t *out) {
  int bad = 0;
  json_t *sl = json_object(), *sp = json_object();
  jset(out, "speech_level", sl, &bad);
  jset(sl, "speakers", sp, &bad);
  for (size_t k = 0; k < c->n_spk && !bad; k++) {
    int f = 0, inf = 0, last = VM__LANG_LEVEL_UNKNOWN;
    json_t *o = json_object(), *shifts = json_array();
    jset(sp, c->spk_names[k], o, &bad);
    for (size_t i = 0; i < c->n && !bad; i++) {
      if (c->spk[i] != k) continue;
      int sf, si, lv = vm__lang_level_classify(c->db, &c->tx[i], &sf, &si);
      f += sf;
      inf += si;
      if (lv != VM__LANG_LEVEL_FORMAL && lv != VM__LANG_LEVEL_INFORMAL) continue;
      if (last != VM__LANG_LEVEL_UNKNOWN && lv != last) {
        json_t *s = json_object();
        if (japp(shifts, s, &bad)) break;
        jset(s, "time", json_real(c->t->segments[i].start_s), &bad);
        jset(s, "segment", json_integer((json_int_t)i), &bad);
        jset(s, "from", json_string(vm__lang_level_name(last)), &bad);
        jset(s, "to", json_string(vm__lang_level_name(lv)), &bad);
      }
      last = lv;
    }
    const char *dom = "unknown";
    if (f + inf > 0)
      dom = f > 0.7 * (f + inf) ? "formal" : inf > 0.7 * (f + inf) ? "informal" : "mixed";
    jset(o, "formal", json_integer(f), &bad);
    jset(o, "informal", json_integer(inf), &bad);
    jset(o, "dominant", json_string(dom), &bad);
    jset(o, "shifts", shifts, &bad);
  }
  return bad ? VM_ENOMEM : VM_OK;
}

static int scores_json(vm__lang_actx *c, json_t *out) {
  int bad = 0;
  json_t *sc = json_object(), *sp = json_object();
  size_t *idx = vm_malloc((c->n + 1) * sizeof *idx);
  jset(out, "scores", sc, &bad);
  if (!idx || bad) {
    vm_free(idx);
    return VM_ENOMEM;
  }
  for (size_t i = 0; i < c->n; i++) idx[i] = i;
  jset(sc, "conversation", vm__lang_scope_json(c, idx, c->n), &bad);
  jset(sc, "speakers", sp, &bad);
  for (size_t k = 0; k < c->n_spk && !bad; k++) {
    size_t m = 0;
    for (size_t i = 0; i < c->n; i++)
      if (c->spk[i] == k) idx[m++] = i;
    jset(sp, c->spk_names[k], vm__lang_scope_json(c, idx, m), &bad);
  }
  vm_free(idx);
  return bad ? VM_ENOMEM : VM_OK;
}

static int build(vm__lang_actx *c, json_t *out) {
  int bad = 0, rc;
  jset(out, "patterns_version", json_string(c->db->version), &bad);
  jset(out, "n_segments", json_integer((json_int_t)c->n), &bad);
  if (bad) return VM_ENOMEM;
  if ((rc = hits_json(c, out)) != VM_OK) return rc;
  if ((rc = level_json(c, out)) != VM_OK) return rc;
  jset(out, "discrepancies", json_incref(c->discrepancies), &bad);
  if ((rc = scores_json(c, out)) != VM_OK) return rc;
  jset(out, "speaker_summary", vm__lang_speaker_summary_json(c), &bad);
  json_t *bs = json_object();
  jset(out, "bootstrap", bs, &bad);
  jset(bs, "resamples", json_integer(c->opts.bootstrap_resamples), &bad);
  jset(bs, "seed", json_integer((json_int_t)c->opts.seed), &bad);
  jset(bs, "method", json_string("percentile, segments resampled with replacement"), &bad);
  jset(out, "voice_measure", json_string(c->voice ? "prosodic arousal relative to the speaker's "
                                                    "baseline (not a neural emotion model)"
                                                  : "none supplied"), &bad);
  return bad ? VM_ENOMEM : VM_OK;
}

static void actx_deinit(vm__lang_actx *c) {
  for (size_t i = 0; c->tx && i < c->n; i++) vm__lang_text_deinit(&c->tx[i]);
  vm_free(c->tx);
  vm__lang_hits_deinit(&c->hits);
  vm_free(c->hit_first);
  vm_free(c->keep);
  vm_free(c->spk);
  for (size_t k = 0; c->spk_names && k < c->n_spk; k++) vm_free(c->spk_names[k]);
  vm_free(c->spk_names);
  vm_free(c->st);
  json_decref(c->discrepancies);
}

static void find_types(vm__lang_actx *c) {
  static const char *const dec[5] = {"hedging", "distancing", "negative_emotion", "exclusive",
                                     "cognitive_complexity"};
  static const char *const lex[5] = {"positive", "negative", "apology", "comfort", "intensifier"};
  for (int k = 0; k < 5; k++) {
    c->dec_type[k] = vm__lang_type_find(c->db, c->db->fam_deception, dec[k]);
    c->lex_type[k] = vm__lang_type_find(c->db, c->db->fam_lexicon, lex[k]);
  }
  c->fam_extortion = vm__lang_family_find(c->db, "extortion");
}

int vm_lang_analyze(const vm_lang_db *db, const vm_transcript *t, const vm_lang_voice *voice,
                    const vm_lang_opts *opts, json_t **out_language, vm_err *err) {
  vm_err_clear(err);
  if (out_language) *out_language = NULL;
  if (!db || !t || !out_language)
    return vm_err_set(err, VM_EINVAL, "vm_lang_analyze: NULL database, transcript or output");
  vm__lang_actx c;
  memset(&c, 0, sizeof c);
  c.db = db;
  c.t = t;
  c.n = t->n_segments;
  c.voice = c.n ? voice : NULL;
  if (opts) c.opts = *opts;
  else vm_lang_opts_init(&c.opts);
  find_types(&c);
  json_t *out = json_object();
  int rc = out ? VM_OK : VM_ENOMEM;
  if (rc == VM_OK) rc = collect_speakers(&c);
  if (rc == VM_OK) rc = match_all(&c);
  if (rc == VM_OK) rc = filter_requires(&c);
  if (rc == VM_OK) rc = segment_stats(&c);
  if (rc == VM_OK) rc = build(&c, out);
  actx_deinit(&c);
  if (rc != VM_OK) {
    json_decref(out);
    return vm_err_set(err, rc, "language analysis: %s", vm_strerror(rc));
  }
  *out_language = out;
  return VM_OK;
}
