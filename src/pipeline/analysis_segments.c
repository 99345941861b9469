/* analysis_segments.c — the rows of segments[] and speakers[]: units
 * (turns or transcript segments), speaker groups, rates, JSON.
 *
 * DESIGN
 * Units are built once (analysis_impl.h); every summary reads the voice
 * tracks through vm_forensic_voice_summary_get(_ranges), so nothing is
 * recomputed per row. Rates (only with a transcript): the tokens are
 * Hangul syllables for Korean transcripts and words otherwise; the
 * speech rate divides by the segment's time (pauses included), the
 * articulation rate by the VAD speech inside the segment (pauses of
 * >= 0.3 s excluded, as the VAD defines them). Korean rates are in
 * syllables/s, other languages in words/min. The stress index receives
 * the articulation rate in tokens per second.
 */
#include <math.h>
#include <string.h>

#include "analysis_impl.h"
#include "vm_alloc.h"
#include "vm_json.h"

/* Less VAD speech than this in a segment leaves its articulation rate
 * undefined: a few syllables over a sliver of detected speech would give
 * absurd rates. */
#define MIN_RATE_SPEECH_S 0.3

static int group_add(vm__an_ctx *c, const char *name, int diar_speaker) {
  vm__an_group *g = vm_realloc(c->groups, (c->n_groups + 1) * sizeof *g);
  if (!g) return -1;
  c->groups = g;
  g = &c->groups[c->n_groups];
  memset(g, 0, sizeof *g);
  g->name = vm_strdup(name);
  g->diar_speaker = diar_speaker;
  if (!g->name) return -1;
  return (int)c->n_groups++;
}

/* Group of a transcript label, added when new; -1 for NULL, -2 on ENOMEM. */
static int group_of(vm__an_ctx *c, const char *label) {
  if (!label) return -1;
  for (size_t g = 0; g < c->n_groups; g++)
    if (strcmp(c->groups[g].name, label) == 0) return (int)g;
  int g = group_add(c, label, -1);
  return g < 0 ? -2 : g;
}

static void unit_text_set(vm__an_ctx *c, vm__an_unit *u, const char *text) {
  size_t syl, words;
  vm__analysis_text_count(text, &syl, &words);
  u->text = text;
  u->n_tokens = (double)(c->korean ? syl : words);
  u->rate_sps = u->n_tokens > 0 && u->speech_s >= MIN_RATE_SPEECH_S ? u->n_tokens / u->speech_s : NAN;
}

int vm__analysis_units_build(vm__an_ctx *c) {
  const vm_diar_result *d = c->diar;
  const vm_transcript *t = c->transcript;
  size_t n = t ? t->n_segments : d->n_turns;
  c->units = vm_calloc(n ? n : 1, sizeof *c->units);
  if (!c->units) return VM_ENOMEM;
  c->n_units = n;
  for (int k = 0; k < d->n_speakers; k++) {
    char name[32];
    if (group_add(c, vm_diar_speaker_name(k, name, sizeof name), k) < 0) return VM_ENOMEM;
  }
  if (t) c->korean = vm__analysis_transcript_is_korean(t);
  for (size_t i = 0; i < n; i++) {
    vm__an_unit *u = &c->units[i];
    u->n_tokens = u->rate_sps = NAN;
    if (t) {
      u->start_s = t->segments[i].start_s, u->end_s = t->segments[i].end_s;
      if ((u->group = group_of(c, t->segments[i].speaker)) == -2) return VM_ENOMEM;
    } else {
      u->start_s = d->turns[i].start_s, u->end_s = d->turns[i].end_s;
      u->group = d->turns[i].speaker;
    }
    u->speech_s = vm__analysis_speech_in(c->vad, u->start_s, u->end_s);
    if (t) unit_text_set(c, u, t->segments[i].text);
  }
  return VM_OK;
}

void vm__analysis_units_free(vm__an_ctx *c) {
  for (size_t g = 0; g < c->n_groups; g++) vm_free(c->groups[g].name);
  vm_free(c->groups);
  vm_free(c->units);
  c->groups = NULL, c->units = NULL;
  c->n_groups = c->n_units = 0;
}

/* Adds reason under key in o's "null_reasons" (created when missing). */
static int reason_set(json_t *o, const char *key, const char *reason) {
  json_t *r = json_object_get(o, "null_reasons");
  if (!r) {
    r = json_object();
    if (!r || json_object_set_new(o, "null_reasons", r)) return -1;
  }
  return json_object_set_new(r, key, json_string(reason));
}

static int real_set(json_t *o, const char *key, double v, const char *reason) {
  int bad = json_object_set_new(o, key, vm_json_real(v));
  if (!isfinite(v)) bad |= reason_set(o, key, reason);
  return bad;
}

int vm__analysis_rates_set(const vm__an_ctx *c, int g, json_t *o) {
  double tokens = 0, dur = 0, speech = 0;
  size_t n = 0;
  for (size_t i = 0; c->transcript && i < c->n_units; i++) {
    const vm__an_unit *u = &c->units[i];
    if (g != -2 && u->group != g) continue;
    tokens += u->n_tokens, dur += u->end_s - u->start_s, speech += u->speech_s, n++;
  }
  double per = c->korean ? 1.0 : 60.0; /* syllables/s or words/min */
  const char *why_sr = !c->transcript ? "no transcript" : n == 0 ? "no transcript segment"
                       : tokens == 0 ? (c->korean ? "no Hangul syllable in the text" : "no word in the text")
                                     : "segment of zero length";
  const char *why_ar = tokens > 0 && dur > 0 ? "less than 0.3 s of VAD speech in the segments" : why_sr;
  double sr = tokens > 0 && dur > 0 ? per * tokens / dur : NAN;
  double ar = tokens > 0 && speech >= MIN_RATE_SPEECH_S ? per * tokens / speech : NAN;
  int bad = real_set(o, "speech_rate", sr, why_sr);
  bad |= real_set(o, "articulation_rate", ar, why_ar);
  bad |= json_object_set_new(o, "rate_unit", json_string(c->korean ? "syllables/s" : "words/min"));
  if (c->transcript)
    bad |= json_object_set_new(o, c->korean ? "n_syllables" : "n_words", json_integer((json_int_t)tokens));
  return bad ? VM_ENOMEM : VM_OK;
}

static const char *group_name(const vm__an_ctx *c, int g) {
  return g >= 0 ? c->groups[g].name : NULL;
}

/* One row of segments[]: times, speaker, text, main measures, rates, stress. */
static json_t *unit_json(const vm__an_ctx *c, const vm__an_unit *u) {
  vm_voice_summary s;
  vm_forensic_voice_summary_get(c->voice, u->start_s, u->end_s > u->start_s ? u->end_s : u->start_s + 1e-9, &s);
  json_t *o = json_object();
  if (!o) return NULL;
  int bad = json_object_set_new(o, "start", json_real(u->start_s));
  bad |= json_object_set_new(o, "end", json_real(u->end_s));
  const char *spk = group_name(c, u->group);
  bad |= json_object_set_new(o, "speaker", spk ? vm_json_string_lossy(spk) : json_null());
  if (u->text) bad |= json_object_set_new(o, "text", vm_json_string_lossy(u->text));
  const struct { const char *key; const vm_measure *m; } f[] = {
      {"voiced_fraction", &s.voiced_fraction}, {"f0_mean_hz", &s.f0_mean_hz},
      {"f0_sd_hz", &s.f0_sd_hz}, {"jitter_local", &s.jitter_local},
      {"shimmer_local", &s.shimmer_local}, {"hnr_db", &s.hnr_db},
      {"intensity_mean_db", &s.intensity_mean_db}};
  for (size_t k = 0; k < sizeof f / sizeof f[0]; k++)
    bad |= real_set(o, f[k].key, f[k].m->value, f[k].m->reason ? f[k].m->reason : "undefined");
  if (c->transcript) {
    double per = c->korean ? 1.0 : 60.0, dur = u->end_s - u->start_s;
    const char *why = u->n_tokens > 0 ? "segment of zero length"
                      : c->korean ? "no Hangul syllable in the text" : "no word in the text";
    bad |= real_set(o, "speech_rate", u->n_tokens > 0 && dur > 0 ? per * u->n_tokens / dur : NAN, why);
    bad |= real_set(o, "articulation_rate", per * u->rate_sps,
                    u->n_tokens > 0 ? "less than 0.3 s of VAD speech in the segment" : why);
    bad |= json_object_set_new(o, c->korean ? "n_syllables" : "n_words", json_integer((json_int_t)u->n_tokens));
    bad |= json_object_set_new(o, "speech_s", json_real(u->speech_s));
  }
  const char *why = u->group < 0 ? "segment has no speaker" : u->stress.index.reason;
  bad |= real_set(o, "stress_index", u->group < 0 ? NAN : u->stress.index.value, why ? why : "undefined");
  bad |= json_object_set_new(o, "stress_level", u->group >= 0 && u->stress.level
                                                    ? json_string(u->stress.level) : json_null());
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}

json_t *vm__analysis_segments_json(const vm__an_ctx *c) {
  json_t *a = json_array();
  for (size_t i = 0; a && i < c->n_units; i++) {
    json_t *o = unit_json(c, &c->units[i]);
    if (!o || json_array_append_new(a, o)) {
      json_decref(a);
      return NULL;
    }
  }
  return a;
}

/* One speaker group: diarization figures (or the transcript's talk time),
 * acoustic over the group's units, rates, stress. */
static json_t *group_json(const vm__an_ctx *c, size_t g, const json_t *figures, double *t0,
                          double *t1) {
  const vm__an_group *gr = &c->groups[g];
  size_t n = 0;
  double talk = 0;
  for (size_t i = 0; i < c->n_units; i++) {
    if (c->units[i].group != (int)g) continue;
    t0[n] = c->units[i].start_s, t1[n++] = c->units[i].end_s;
    talk += c->units[i].end_s - c->units[i].start_s;
  }
  vm_voice_summary s;
  if (vm_forensic_voice_summary_get_ranges(c->voice, t0, t1, n, &s) != VM_OK) return NULL;
  json_t *o = gr->diar_speaker >= 0 ? json_deep_copy(json_array_get(figures, (size_t)gr->diar_speaker)) : NULL;
  if (!json_is_object(o)) {
    json_decref(o);
    o = json_pack("{s:o,s:s,s:o,s:I}", "speaker", vm_json_string_lossy(gr->name), "source",
                  "transcript", "talk_time_s", json_real(talk), "segments", (json_int_t)n);
    if (!o) return NULL;
  }
  json_t *ac = vm_forensic_voice_summary_to_json(&s), *st = vm__analysis_stress_json(c, g);
  int bad = !ac || json_object_set_new(o, "acoustic", ac);
  bad |= !st || json_object_set_new(o, "stress", st);
  bad |= vm__analysis_rates_set(c, (int)g, o) != VM_OK;
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}

json_t *vm__analysis_speakers_json(const vm__an_ctx *c, const json_t *diar) {
  json_t *a = json_array();
  double *t0 = vm_malloc((c->n_units ? c->n_units : 1) * sizeof *t0);
  double *t1 = vm_malloc((c->n_units ? c->n_units : 1) * sizeof *t1);
  const json_t *figures = json_object_get(diar, "speakers");
  if (!a || !t0 || !t1) goto fail;
  for (size_t g = 0; g < c->n_groups; g++) {
    json_t *o = group_json(c, g, figures, t0, t1);
    if (!o || json_array_append_new(a, o)) goto fail;
  }
  vm_free(t0), vm_free(t1);
  return a;
fail:
  json_decref(a);
  vm_free(t0), vm_free(t1);
  return NULL;
}
