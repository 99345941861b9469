/* lang_analyze_impl.h — the state of one vm_lang_analyze call, shared by
 * lang_analyze.c (matching, evidence, JSON assembly) and lang_scope.c
 * (scores of a scope: the conversation or one speaker). Internal. */
#ifndef VM_FORENSIC_LANG_ANALYZE_IMPL_H
#define VM_FORENSIC_LANG_ANALYZE_IMPL_H

#include "lang_impl.h"

typedef struct vm__lang_actx {
  const vm_lang_db *db;
  const vm_transcript *t;
  const vm_lang_voice *voice; /* (n) or NULL */
  vm_lang_opts opts;
  size_t n;                   /* segments */
  vm__lang_text *tx;          /* (n) normalised segments */
  vm__lang_hits hits;         /* every match, in segment order */
  size_t *hit_first;          /* (n + 1): segment i owns hits [hit_first[i], hit_first[i+1]) */
  uint8_t *keep;              /* (hits.n): 0 when a required context was missing */
  char **spk_names;           /* (n_spk) owned, valid UTF-8; "unknown" for NULL */
  size_t n_spk;
  size_t *spk;                /* (n) speaker index of each segment */
  vm__lang_segstat *st;       /* (n) evidence per segment */
  json_t *discrepancies;      /* array, owned */
  int dec_type[5];            /* deception type index per category */
  int lex_type[5];            /* lexicon: positive, negative, apology, comfort, intensifier */
  int fam_extortion;          /* -1 when the database has none */
  long cue_hit[3];            /* scratch: threat, apology, comfort hit of a segment */
} vm__lang_actx;

const vm__lang_pattern *vm__lang_hit_pattern(const vm__lang_actx *c, size_t h);
/* Start and end time of hit h, interpolated in its segment by character
 * position (normalised characters, so spaces do not count). */
void vm__lang_hit_times(const vm__lang_actx *c, size_t h, double *t0, double *t1);
/* The hit's original text (the bytes it covers in the segment). */
json_t *vm__lang_hit_text(const vm__lang_actx *c, size_t h);

/* The score object S of the segments idx[0..n) (the conversation or one
 * speaker's). NULL when out of memory. */
json_t *vm__lang_scope_json(const vm__lang_actx *c, const size_t *idx, size_t n);
/* {"<speaker>": {n_segments, words, findings {family: n}, finding_types,
 * hierarchy_markers, first_finding_time}}. NULL when out of memory. */
json_t *vm__lang_speaker_summary_json(const vm__lang_actx *c);

#endif /* VM_FORENSIC_LANG_ANALYZE_IMPL_H */
