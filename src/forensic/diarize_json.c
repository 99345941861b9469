/* diarize_json.c — the "diarization" object of the per-file result.
 *
 * Times are seconds (JSON reals, 3 decimals are enough but we keep full
 * precision); speakers appear as "SPEAKER_00"... so that the text and
 * HTML reports can print them verbatim. */
#include "diarize.h"
#include "vm_json.h"

/* Sets k (new reference v) and clears *ok on any failure. */
static void put(json_t *o, const char *k, json_t *v, int *ok) {
  if (!v || json_object_set_new(o, k, v)) *ok = 0;
}

static json_t *speaker_json(int spk) {
  char name[32];
  return spk < 0 ? json_null() : json_string(vm_diar_speaker_name(spk, name, sizeof name));
}

static json_t *turns_json(const vm_diar_result *d, int *ok) {
  json_t *a = json_array();
  if (!a) { *ok = 0; return NULL; }
  for (size_t i = 0; *ok && i < d->n_turns; i++) {
    json_t *t = json_object();
    if (!t) { *ok = 0; break; }
    put(t, "start", vm_json_real(d->turns[i].start_s), ok);
    put(t, "end", vm_json_real(d->turns[i].end_s), ok);
    put(t, "speaker", speaker_json(d->turns[i].speaker), ok);
    if (json_array_append_new(a, t)) *ok = 0;
  }
  return a;
}

static json_t *speakers_json(const vm_diar_result *d, int *ok) {
  json_t *a = json_array();
  if (!a) { *ok = 0; return NULL; }
  for (int k = 0; *ok && k < d->n_speakers; k++) {
    const vm_diar_speaker *s = &d->speakers[k];
    json_t *o = json_object();
    if (!o) { *ok = 0; break; }
    put(o, "speaker", speaker_json(k), ok);
    put(o, "talk_time_s", vm_json_real(s->talk_s), ok);
    put(o, "share", vm_json_real(s->share), ok);
    put(o, "turns", json_integer((json_int_t)s->n_turns), ok);
    put(o, "interruptions", json_integer((json_int_t)s->n_interruptions), ok);
    put(o, "overlap_s", vm_json_real(s->overlap_s), ok);
    put(o, "longest_monologue_s", vm_json_real(s->longest_monologue_s), ok);
    if (json_array_append_new(a, o)) *ok = 0;
  }
  return a;
}

static json_t *segments_json(const vm_diar_result *d, int *ok) {
  json_t *a = json_array();
  if (!a) { *ok = 0; return NULL; }
  for (size_t i = 0; *ok && i < d->n_seg_labels; i++) {
    const vm_diar_seg_label *p = &d->seg_labels[i];
    json_t *o = json_object();
    if (!o) { *ok = 0; break; }
    put(o, "segment", json_integer((json_int_t)p->segment), ok);
    put(o, "start", vm_json_real(p->start_s), ok);
    put(o, "end", vm_json_real(p->end_s), ok);
    put(o, "speaker", speaker_json(p->speaker), ok);
    if (json_array_append_new(a, o)) *ok = 0;
  }
  return a;
}

json_t *vm_diar_result_to_json(const vm_diar_result *d) {
  int ok = 1;
  json_t *j = json_object();
  if (!j) return NULL;
  put(j, "method", json_string(d->method), &ok);
  put(j, "n_speakers", json_integer(d->n_speakers), &ok);
  put(j, "turns", turns_json(d, &ok), &ok);
  put(j, "speakers", speakers_json(d, &ok), &ok);
  if (d->seg_labels) put(j, "segments", segments_json(d, &ok), &ok);
  put(j, "stereo_separation", vm_json_real(d->stereo_separation), &ok);
  put(j, "repeated_speech_s", vm_json_real(d->repeated_s), &ok);
  if (!ok) {
    json_decref(j);
    return NULL;
  }
  return j;
}
