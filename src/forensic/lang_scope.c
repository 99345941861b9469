/* lang_scope.c — the score object of one scope (the whole conversation or
 * one speaker's segments) and the per-speaker summary.
 *
 * DESIGN: numbers come from vm__lang_stats_reduce + vm__lang_score_compute
 * over the scope's segments; the lists the original derived from score
 * thresholds (patterns_detected, threat_types, ...) are here the types
 * actually matched in the scope (§16 #24), so every listed indicator has
 * a match behind it in "matches". The 95 % interval of "overall" is the
 * seeded bootstrap of lang_stats.c (null for fewer than 2 segments or
 * when resampling is disabled); every scope uses opts.seed.
 */
#include <math.h>
#include <string.h>

#include "lang_analyze_impl.h"
#include "vm_alloc.h"
#include "vm_json.h"

typedef struct tally {
  int *type_n;    /* (total types) matches per family type */
  size_t *off;    /* (n_families) first type index of each family */
  int *pattern_n; /* (n_patterns) matches per pattern */
  int voice_known;
  int markers;    /* deception markers */
} tally;

static void tally_free(tally *t) {
  vm_free(t->type_n);
  vm_free(t->off);
  vm_free(t->pattern_n);
}

static int tally_scope(const vm__lang_actx *c, const size_t *idx, size_t n, tally *t) {
  const vm_lang_db *db = c->db;
  size_t total = 0;
  memset(t, 0, sizeof *t);
  t->off = vm_calloc(db->n_families + 1, sizeof *t->off);
  if (!t->off) return VM_ENOMEM;
  for (size_t f = 0; f < db->n_families; f++) {
    t->off[f] = total;
    total += db->families[f].n_types;
  }
  t->type_n = vm_calloc(total + 1, sizeof *t->type_n);
  t->pattern_n = vm_calloc(db->n_patterns + 1, sizeof *t->pattern_n);
  if (!t->type_n || !t->pattern_n) return VM_ENOMEM;
  for (size_t k = 0; k < n; k++) {
    size_t i = idx[k];
    t->voice_known |= c->st[i].voice_known;
    for (size_t h = c->hit_first[i]; h < c->hit_first[i + 1]; h++) {
      if (!c->keep[h]) continue;
      const vm__lang_pattern *p = vm__lang_hit_pattern(c, h);
      t->type_n[t->off[p->family] + (size_t)p->type]++;
      t->pattern_n[c->hits.items[h].pattern]++;
      t->markers += p->family == db->fam_deception;
    }
  }
  return VM_OK;
}

/* Appends the ids of matched types of family f ("prefix" + id). */
static void types_into(const vm__lang_actx *c, const tally *t, int f, int only_emotional,
                       int qualified, json_t *arr, int *bad) {
  if (f < 0) return;
  const vm__lang_family *fam = &c->db->families[f];
  for (size_t k = 0; k < fam->n_types && !*bad; k++) {
    if (!t->type_n[t->off[f] + k] || (only_emotional && !fam->types[k].emotional)) continue;
    char *s = qualified ? vm_asprintf("%s.%s", fam->id, fam->types[k].id)
                        : vm_strdup(fam->types[k].id);
    if (!s || json_array_append_new(arr, json_string(s)) != 0) *bad = 1;
    vm_free(s);
  }
}

static json_t *category(const vm__lang_cat *cat, json_t *indicators, int *bad) {
  json_t *o = json_object();
  if (!o || !indicators) {
    json_decref(o);
    json_decref(indicators);
    *bad = 1;
    return NULL;
  }
  if (json_object_set_new(o, "score", json_real(cat->score)) ||
      json_object_set_new(o, "confidence", json_real(cat->confidence)) ||
      json_object_set_new(o, "evidence_count", json_integer(cat->evidence_count)) ||
      json_object_set_new(o, "key_indicators", indicators))
    *bad = 1;
  return o;
}

#define SET(o, k, v) do { if (!(o) || json_object_set_new((o), (k), (v))) bad = 1; } while (0)
#define APP(a, v) do { if (!(a) || json_array_append_new((a), (v))) bad = 1; } while (0)

static json_t *deception_json(const vm__lang_score_in *in, const vm__lang_score_out *o,
                              const tally *t, const vm__lang_actx *c, json_t **out_ind) {
  int bad = 0;
  json_t *d = json_object(), *ind = json_array(), *mc = json_object();
  const vm__lang_family *fam = &c->db->families[c->db->fam_deception];
  for (int k = 0; k < 5; k++) {
    int tp = c->dec_type[k];
    SET(mc, fam->types[tp].id, json_integer(t->type_n[t->off[c->db->fam_deception] + (size_t)tp]));
  }
  int hedges = t->type_n[t->off[c->db->fam_deception] + (size_t)c->dec_type[0]];
  int dist = t->type_n[t->off[c->db->fam_deception] + (size_t)c->dec_type[1]];
  if (t->voice_known && in->K < 0.5) APP(ind, json_string("voice-text inconsistency"));
  if (hedges && in->D > 0.3) APP(ind, json_string("hedging language"));
  if (dist && in->D > 0.3) APP(ind, json_string("distancing language"));
  if (o->ediff > 0.3) APP(ind, json_string("emotional incongruence"));
  if (in->S > 0.6) APP(ind, json_string("elevated stress"));
  SET(d, "deception_probability", json_real(o->DP));
  SET(d, "voice_text_consistency", t->voice_known ? json_real(in->K) : json_null());
  SET(d, "emotional_authenticity", vm_json_real(o->emotional_authenticity));
  SET(d, "linguistic_markers_count", json_integer(t->markers));
  SET(d, "marker_score", json_real(in->D));
  SET(d, "marker_counts", mc);
  SET(d, "behavioral_indicators", ind);
  *out_ind = bad ? NULL : json_deep_copy(ind);
  if (bad) {
    json_decref(d);
    return NULL;
  }
  return d;
}

static json_t *gaslighting_json(const vm__lang_actx *c, const tally *t,
                                const vm__lang_score_out *o, json_t **out_types) {
  int bad = 0;
  const vm_lang_db *db = c->db;
  json_t *g = json_object(), *types = json_array(), *tech = json_array(), *rec = json_array();
  types_into(c, t, db->fam_gaslighting, 0, 0, types, &bad);
  int rd = vm__lang_type_find(db, db->fam_gaslighting, "reality_distortion");
  if (rd >= 0 && t->type_n[t->off[db->fam_gaslighting] + (size_t)rd])
    APP(tech, json_string("reality distortion"));
  int emo = 0;
  for (size_t k = 0; k < db->families[db->fam_coercion].n_types; k++)
    if (db->families[db->fam_coercion].types[k].emotional)
      emo += t->type_n[t->off[db->fam_coercion] + k];
  if (emo) APP(tech, json_string("emotional coercion"));
  for (size_t p = 0; p < db->n_patterns; p++)
    if (t->pattern_n[p] >= 2 && db->families[db->patterns[p].family].finding)
      APP(rec, json_string(db->patterns[p].text));
  SET(g, "intensity_score", json_real(o->GI));
  SET(g, "patterns_detected", types);
  SET(g, "manipulation_techniques", tech);
  SET(g, "victim_impact_level", json_string(vm__lang_risk_name(o->victim_impact)));
  SET(g, "recurring_phrases", rec);
  *out_types = bad ? NULL : json_deep_copy(types);
  if (bad) {
    json_decref(g);
    return NULL;
  }
  return g;
}

static json_t *threat_json(const vm__lang_actx *c, const tally *t, const vm__lang_score_out *o,
                           json_t **out_types) {
  int bad = 0;
  json_t *th = json_object(), *types = json_array();
  types_into(c, t, c->db->fam_threat, 0, 0, types, &bad);
  types_into(c, t, c->fam_extortion, 0, 1, types, &bad);
  SET(th, "threat_score", json_real(o->TS));
  SET(th, "threat_level", json_string(vm__lang_risk_name(o->threat_level)));
  SET(th, "threat_types", types);
  SET(th, "immediacy", json_string(o->immediacy));
  SET(th, "specificity", json_string(o->specificity));
  SET(th, "credibility_score", json_real(o->credibility));
  *out_types = bad ? NULL : json_deep_copy(types);
  if (bad) {
    json_decref(th);
    return NULL;
  }
  return th;
}

static json_t *flags_json(const vm__lang_actx *c, const tally *t, unsigned f) {
  int bad = 0;
  json_t *a = json_array();
  static const char *const names[] = {"HIGH_RISK_DETECTED", "GASLIGHTING_PATTERN",
                                      "THREAT_DETECTED", "DECEPTION_INDICATOR", "HIGH_STRESS"};
  for (int k = 0; k < 5; k++)
    if (f & (1u << k)) APP(a, json_string(names[k]));
  static const char *const extra[][2] = {{"insult", "INSULT_DETECTED"},
                                         {"extortion", "EXTORTION_DETECTED"},
                                         {"fraud", "FRAUD_INDICATOR"}};
  for (int k = 0; k < 3; k++) {
    int fam = vm__lang_family_find(c->db, extra[k][0]);
    int any = 0;
    for (size_t i = 0; fam >= 0 && i < c->db->families[fam].n_types; i++)
      any += t->type_n[t->off[fam] + i];
    if (any) APP(a, json_string(extra[k][1]));
  }
  if (bad) {
    json_decref(a);
    return NULL;
  }
  return a;
}

static json_t *inputs_json(const vm__lang_score_in *in) {
  int bad = 0;
  json_t *o = json_object();
  SET(o, "G", json_real(in->G));
  SET(o, "T", json_real(in->T));
  SET(o, "C", json_real(in->C));
  SET(o, "D", json_real(in->D));
  SET(o, "E", json_real(in->E));
  SET(o, "K", json_real(in->K));
  SET(o, "sentiment", json_real(in->s));
  SET(o, "stress_level", json_real(in->S));
  static const char *const sr[] = {"low", "medium", "high"};
  SET(o, "stress_risk", in->stress_risk >= 0 ? json_string(sr[in->stress_risk]) : json_null());
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static json_t *categories_json(const vm__lang_actx *c, const tally *t,
                               const vm__lang_score_out *o, json_t *gas_types,
                               json_t *threat_types, json_t *dec_ind) {
  int bad = 0;
  json_t *cats = json_object(), *co = json_array(), *em = json_array();
  types_into(c, t, c->db->fam_coercion, 0, 0, co, &bad);
  for (size_t f = 0; f < c->db->n_families; f++)
    if (c->db->families[f].finding) types_into(c, t, (int)f, 1, 1, em, &bad);
  json_t *ind[VM__LANG_N_CATS] = {gas_types, threat_types, co, dec_ind, em};
  for (int k = 0; k < VM__LANG_N_CATS; k++) {
    json_t *cat = category(&o->cat[k], ind[k], &bad);
    SET(cats, vm__lang_cat_name(k), cat);
  }
  if (bad) {
    json_decref(cats);
    return NULL;
  }
  return cats;
}

json_t *vm__lang_scope_json(const vm__lang_actx *c, const size_t *idx, size_t n) {
  vm__lang_score_in in;
  vm__lang_score_out o;
  tally t;
  int bad = tally_scope(c, idx, n, &t) != VM_OK;
  json_t *s = json_object(), *gas_types = NULL, *threat_types = NULL, *dec_ind = NULL;
  if (bad || !s) goto fail;
  vm__lang_stats_reduce(c->st, idx, n, &in);
  vm__lang_score_compute(&in, &o);
  SET(s, "overall", json_real(o.overall));
  double ci[2];
  int B = c->opts.bootstrap_resamples;
  if (B > 0 && n >= 2) {
    if (vm__lang_bootstrap_ci(c->st, idx, n, B, c->opts.seed, ci) != VM_OK) goto fail;
    SET(s, "overall_ci95", json_pack("[ff]", ci[0], ci[1]));
  } else {
    SET(s, "overall_ci95", json_null());
  }
  SET(s, "risk_level", json_string(vm__lang_risk_name(o.risk)));
  SET(s, "risk_level_ko", json_string(vm__lang_risk_name_ko(o.risk)));
  SET(s, "confidence", json_real(o.confidence));
  SET(s, "n_segments", json_integer((json_int_t)n));
  SET(s, "gaslighting", gaslighting_json(c, &t, &o, &gas_types));
  SET(s, "threat_assessment", threat_json(c, &t, &o, &threat_types));
  SET(s, "deception_analysis", deception_json(&in, &o, &t, c, &dec_ind));
  SET(s, "categories", categories_json(c, &t, &o, gas_types, threat_types, dec_ind));
  SET(s, "inputs", inputs_json(&in));
  SET(s, "flags", flags_json(c, &t, o.flags));
  char sum[512];
  vm__lang_summary_ko(&o, sum, sizeof sum);
  SET(s, "summary_ko", json_string(sum));
  const char *rec[8];
  size_t nr = vm__lang_recommendations_ko(&o, rec, 8);
  json_t *ra = json_array();
  for (size_t k = 0; k < nr; k++) APP(ra, json_string(rec[k]));
  SET(s, "recommendations_ko", ra);
  if (bad) goto fail;
  tally_free(&t);
  return s;
fail:
  tally_free(&t);
  json_decref(s);
  return NULL;
}

json_t *vm__lang_speaker_summary_json(const vm__lang_actx *c) {
  int bad = 0;
  json_t *out = json_object();
  for (size_t k = 0; k < c->n_spk && !bad; k++) {
    json_t *o = json_object(), *fi = json_object(), *types = json_array(), *hm = json_array();
    SET(out, c->spk_names[k], o);
    int nseg = 0, words = 0;
    double first = NAN;
    for (size_t i = 0; i < c->n; i++) {
      if (c->spk[i] != k) continue;
      nseg++;
      words += c->st[i].words;
      for (size_t h = c->hit_first[i]; h < c->hit_first[i + 1] && !bad; h++) {
        if (!c->keep[h]) continue;
        const vm__lang_pattern *p = vm__lang_hit_pattern(c, h);
        const vm__lang_family *f = &c->db->families[p->family];
        if (p->family == c->db->fam_hierarchy) APP(hm, vm__lang_hit_text(c, h));
        if (!f->finding) continue;
        json_t *cur = json_object_get(fi, f->id);
        SET(fi, f->id, json_integer(cur ? json_integer_value(cur) + 1 : 1));
        char *q = vm_asprintf("%s.%s", f->id, f->types[p->type].id);
        int seen = 0;
        for (size_t a = 0; q && a < json_array_size(types); a++)
          seen |= strcmp(json_string_value(json_array_get(types, a)), q) == 0;
        if (!q) bad = 1;
        else if (!seen) APP(types, json_string(q));
        vm_free(q);
        double t0, t1;
        vm__lang_hit_times(c, h, &t0, &t1);
        if (isnan(first) || t0 < first) first = t0;
      }
    }
    SET(o, "n_segments", json_integer(nseg));
    SET(o, "words", json_integer(words));
    SET(o, "findings", fi);
    SET(o, "finding_types", types);
    SET(o, "hierarchy_markers", hm);
    SET(o, "first_finding_time", vm_json_real(first));
  }
  if (bad) {
    json_decref(out);
    return NULL;
  }
  return out;
}
