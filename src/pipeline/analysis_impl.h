/* analysis_impl.h — shared inside the analysis files only (analysis.c,
 * analysis_segments.c, analysis_stress.c, analysis_transcript.c,
 * analysis_contours.c) and by their unit tests.
 *
 * The analysis works on "units": the rows of segments[]. A unit is a
 * diarization turn, or a transcript segment after speaker assignment and
 * splitting. Units belong to speaker groups: the diarization speakers
 * first (group k = SPEAKER_k), then any other speaker label the
 * transcript carries (labels from transcript files are kept verbatim). */
#ifndef VM_ANALYSIS_IMPL_H
#define VM_ANALYSIS_IMPL_H

#include "analysis.h"
#include "diarize.h"
#include "vad.h"
#include "voice_measures.h"
#include "voice_stress.h"

typedef struct vm__an_unit {
  double start_s, end_s;
  int group;            /* speaker group, -1 when the unit has no speaker */
  const char *text;     /* borrowed transcript text; NULL for turns */
  double n_tokens;      /* Hangul syllables or words of text; NAN without text */
  double speech_s;      /* VAD speech inside [start_s, end_s) */
  double rate_sps;      /* tokens per second of speech (articulation rate), NAN if undefined */
  vm_stress_result stress; /* filled by vm__analysis_stress */
} vm__an_unit;

typedef struct vm__an_group {
  char *name;           /* owned label: "SPEAKER_00" or the transcript's */
  int diar_speaker;     /* index into the diarization speakers, -1 if none */
  vm_stress_baseline baseline;
  vm_stress_speaker speaker; /* time-weighted stress over the group's units */
  double mean_z[VM_STRESS_N_FEATURES]; /* time-weighted mean z over scored units */
} vm__an_group;

typedef struct vm__an_ctx {
  const vm_voice *voice;
  const vm_vad_result *vad;
  const vm_diar_result *diar;
  const vm_transcript *transcript; /* NULL: units are the turns */
  int korean;           /* rate unit: 1 Hangul syllables, 0 words */
  vm__an_unit *units;   /* (n_units) in time order of start */
  size_t n_units;
  vm__an_group *groups; /* (n_groups) */
  size_t n_groups;
} vm__an_ctx;

/* ---- analysis_transcript.c ---- */

/* Minimum length of a piece when a segment is split at speaker changes;
 * shorter pieces are absorbed by their longer neighbour. */
#define VM__AN_MIN_PIECE_S 0.3
/* A segment that overlaps no turn takes the nearest turn's speaker when
 * that turn is at most this far away, else it keeps no speaker. */
#define VM__AN_NEAREST_MAX_S 1.0

/* Gives every segment of t without a speaker the speaker of the turns
 * (turns: time order, disjoint, speakers numbered 0..), splitting it where
 * it spans a change of speaker (rule in docs/acoustics.md §6); the text is
 * shared by the VAD speech of each piece (vad may be NULL: by duration).
 * Segments that have a speaker are left as they are; segments end sorted
 * by start. Segment pointers of t are invalidated. On failure t is
 * unchanged. Returns VM_OK or VM_ENOMEM. */
int vm__analysis_transcript_assign(vm_transcript *t, const vm_diar_turn *turns,
                                   size_t n_turns, const vm_vad_result *vad);

/* Counts Hangul syllables (U+AC00–U+D7A3) and words (runs of
 * non-space characters holding a letter or digit) in UTF-8 text. */
void vm__analysis_text_count(const char *text, size_t *out_syllables, size_t *out_words);

/* 1 when rates of t are counted in Hangul syllables: language "ko", or no
 * language and at least as many Hangul syllables as words overall. */
int vm__analysis_transcript_is_korean(const vm_transcript *t);

/* Seconds of VAD speech inside [t0, t1). */
double vm__analysis_speech_in(const vm_vad_result *vad, double t0, double t1);

/* ---- analysis_segments.c ---- */

/* Builds ctx->units and ctx->groups from the turns or the transcript.
 * Returns VM_OK or VM_ENOMEM. */
int vm__analysis_units_build(vm__an_ctx *ctx);
void vm__analysis_units_free(vm__an_ctx *ctx);
/* The segments[] array and the speakers[] array. NULL on ENOMEM. */
json_t *vm__analysis_segments_json(const vm__an_ctx *ctx);
json_t *vm__analysis_speakers_json(const vm__an_ctx *ctx, const json_t *diar);
/* Rate keys (speech_rate, articulation_rate, rate_unit, n_syllables or
 * n_words; null with a reason in null_reasons) over units of group g
 * (g == -2: all units; no transcript: null "no transcript") into o. */
int vm__analysis_rates_set(const vm__an_ctx *ctx, int g, json_t *o);

/* ---- analysis_stress.c ---- */

/* Baselines per group, stress of every unit and every group. */
int vm__analysis_stress(vm__an_ctx *ctx);
/* {"index","level","index_max","high_fraction","n_segments","n_scored",
 * "features": {z per feature}, "baseline": {...}} of group g. */
json_t *vm__analysis_stress_json(const vm__an_ctx *ctx, size_t g);
/* The top-level escalation object (zones per speaker group, or of the
 * whole file when there is at most one group). NULL on ENOMEM. */
json_t *vm__analysis_escalation_json(const vm__an_ctx *ctx);

/* ---- analysis_contours.c ---- */

/* {"step_s": 0.01, "f0_hz": [...], "intensity_db": [...]}: values at
 * t = k * 0.01 s for k = 0 .. floor(duration / 0.01), rounded to 0.1,
 * null where unvoiced or undefined. NULL on ENOMEM. */
json_t *vm__analysis_contours_json(const vm_voice *v, double duration_s);

#endif /* VM_ANALYSIS_IMPL_H */
