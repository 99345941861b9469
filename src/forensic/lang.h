/* lang.h — Korean language forensics: pattern database, matching, speech
 * level, hierarchy markers, text–voice cross-check and the risk scores.
 *
 * Usage:
 *   vm_lang_db *db;
 *   vm_err err;
 *   if (vm_lang_db_open(NULL, &db, &err) != VM_OK) fail(err.msg);  // built-in data
 *   vm_lang_opts o;
 *   vm_lang_opts_init(&o);                 // seed 1, 1000 bootstrap resamples
 *   json_t *lang;
 *   if (vm_lang_analyze(db, transcript, voice_or_NULL, &o, &lang, &err) == VM_OK) {
 *     json_object_set_new(result, "language", lang);
 *   }
 *   vm_lang_db_close(db);
 *
 * What it does: every segment of the transcript is NFC-normalised and
 * matched, spacing- and punctuation-insensitively and with word-boundary
 * rules, against the pattern database in data/patterns/ (see
 * docs/language.md for the format and every rule). Each finding carries its
 * segment, speaker, and start/end time interpolated inside the segment by
 * character position. Scores follow the original system's formulas
 * (docs/language.md "Scores") per conversation and per speaker, with a
 * seeded percentile-bootstrap 95 % interval over segments for "overall".
 *
 * What it does not do: no speech recognition, no acoustic measurement. The
 * caller supplies per-segment voice arousal and stress (vm_lang_voice);
 * "emotion" here means prosodic arousal relative to the speaker's own
 * baseline, not the output of a neural emotion model.
 *
 * Thread-safety: a vm_lang_db is immutable after open and may be shared by
 * any number of threads calling vm_lang_analyze at once.
 */
#ifndef VM_FORENSIC_LANG_H
#define VM_FORENSIC_LANG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "transcript.h"
#include "vm_status.h"

typedef struct vm_lang_db vm_lang_db;

/* Opens and validates a pattern directory (manifest.json plus the files it
 * lists). dir NULL means the built-in data, looked for in this order:
 *   1. <directory of the running executable>/../share/voiceman/patterns
 *      (the installed layout: `cmake --install` puts data/patterns there);
 *   2. VM_LANG_SOURCE_PATTERNS (the source tree's data/patterns, compiled in).
 * A broken file fails with VM_EFORMAT and err->msg naming the file and the
 * entry (e.g. "threat.json: types[1].patterns[3] \"...\": unbalanced '('").
 * A missing directory or file is VM_ENOENT. OUT: *out (vm_lang_db_close);
 * NULL on failure. */
int vm_lang_db_open(const char *dir, vm_lang_db **out, vm_err *err);
void vm_lang_db_close(vm_lang_db *db);
/* The manifest's database_version, e.g. "ko-1.1.0"; valid while db is open. */
const char *vm_lang_db_version(const vm_lang_db *db);
/* The directory the database was read from; valid while db is open. */
const char *vm_lang_db_dir(const vm_lang_db *db);
/* Number of base patterns (before variant expansion) and of compiled
 * variants; for tests and logs. */
size_t vm_lang_db_pattern_count(const vm_lang_db *db);
size_t vm_lang_db_variant_count(const vm_lang_db *db);

/* Voice measures of one transcript segment, NAN when unknown.
 * arousal: signed z-like score of the segment's prosody (F0, intensity)
 *   against the same speaker's baseline; > 0 raised, < 0 calmer.
 * stress_index: 0–100 as in voice_stress.h. */
typedef struct vm_lang_voice {
  double arousal;
  double stress_index;
} vm_lang_voice;

/* Fills out[i].arousal (i < t->n_segments) from per-segment voice
 * summaries: f0_mean_hz and intensity_db (mean F0 and mean intensity of
 * each segment, NAN when unknown; either array may be NULL). For each
 * speaker (NULL speakers pooled as "unknown") the baseline is the median
 * of that speaker's segments and the spread 1.4826·MAD (floored at 1
 * semitone for F0 and 2 dB for intensity); F0 is compared in semitones.
 * arousal = mean of the available z-scores (F0, intensity); NAN when the
 * speaker has fewer than 3 segments with that measure or the segment has
 * neither. stress_index is not touched. Returns VM_OK, VM_EINVAL (NULL t
 * or out) or VM_ENOMEM. */
int vm_lang_voice_arousal(const vm_transcript *t, const double *f0_mean_hz,
                          const double *intensity_db, vm_lang_voice *out);

typedef struct vm_lang_opts {
  uint64_t seed;          /* bootstrap seed (1) */
  int bootstrap_resamples; /* 1000; 0 disables the interval (null) */
  double context_window_s; /* 15: how far a "requires" context may be */
} vm_lang_opts;

void vm_lang_opts_init(vm_lang_opts *o);

/* Analyses t (voice: (t->n_segments) records or NULL) and builds the
 * "language" object documented in docs/language.md. Segments with a NULL
 * speaker are grouped under "unknown". An empty transcript gives a valid
 * object with no matches and minimal scores.
 * Returns VM_OK, VM_EINVAL (NULL db/t/out) or VM_ENOMEM.
 * OUT: *out_language (caller json_decref's). */
int vm_lang_analyze(const vm_lang_db *db, const vm_transcript *t,
                    const vm_lang_voice *voice, const vm_lang_opts *opts,
                    json_t **out_language, vm_err *err);

#endif /* VM_FORENSIC_LANG_H */
