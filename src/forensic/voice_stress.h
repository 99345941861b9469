/* voice_stress.h — vocal stress (prosodic arousal) index 0-100, relative
 * to the speaker's own baseline.
 *
 * "Stress" here is prosodic arousal measured from the voice: how far a
 * segment's pitch, loudness, voice quality and speaking rate lie from the
 * same speaker's typical values. It is not a neural emotion model and not
 * a lie detector; it says "this stretch is raised for this voice".
 *
 * Method (docs/acoustics.md has the full rationale):
 *  1. Baseline: the speaker's speech (the ranges the caller passes, e.g.
 *     all of their turns) is cut into windows of about window_s of audio;
 *     each window gets seven features from vm_forensic_voice_summary_get:
 *     F0 level (median, semitones re 100 Hz), F0 variability (SD in
 *     semitones), jitter (local), shimmer (local), HNR (dB), intensity
 *     (mean dB) and speech rate (syllables/s, only when the caller gives
 *     it). Per feature the baseline is the median over windows and the
 *     scale 1.4826 x MAD (a robust SD), never below a floor (0.5 st,
 *     0.3 st, 0.002, 0.01, 1 dB, 1.5 dB, 0.3 syll/s) so a very steady
 *     voice does not turn measurement noise into stress.
 *  2. A segment's features give robust z-scores z = (x - median) / scale,
 *     signed so that positive means "more aroused" (HNR counts negative:
 *     a rougher voice), clipped to [-3, 3].
 *  3. score = weighted mean of the available z (weights F0 level 0.25,
 *     intensity 0.25, rate 0.15, F0 variability 0.10, HNR 0.09, jitter
 *     0.08, shimmer 0.08; renormalised over the features that exist).
 *     index = 100 x clamp(score / 2.5, 0, 1); level low < 33 <= medium
 *     < 66 <= high.
 * A feature is used only if the baseline has at least 3 windows with it
 * and the segment has it; with no usable feature the index is NAN with a
 * reason. The original's fixed 4 x 25 % of absolute thresholds (shimmer /
 * 15 %, HNR / 40 dB, ...) scored a breathy voice or a noisy telephone
 * line as "stressed" all the time and ignored pitch and loudness; a
 * baseline per speaker cancels voice and channel.
 *
 * Thread-safety: pure functions over an immutable vm_voice.
 */
#ifndef VM_FORENSIC_VOICE_STRESS_H
#define VM_FORENSIC_VOICE_STRESS_H

#include <jansson.h>
#include <stddef.h>

#include "voice_measures.h"

enum vm_stress_feature {
  VM_STRESS_F0_LEVEL = 0, /* median F0, semitones re 100 Hz */
  VM_STRESS_F0_VAR,       /* F0 SD, semitones */
  VM_STRESS_INTENSITY,    /* mean intensity, dB */
  VM_STRESS_JITTER,       /* jitter local (fraction) */
  VM_STRESS_SHIMMER,      /* shimmer local (fraction) */
  VM_STRESS_HNR,          /* HNR dB (counts negative: lower = more aroused) */
  VM_STRESS_RATE,         /* syllables per second, when given */
  VM_STRESS_N_FEATURES
};

typedef struct vm_stress_params {
  double window_s;                        /* baseline window length, 2.0 s */
  double weight[VM_STRESS_N_FEATURES];    /* see the header comment */
  double min_scale[VM_STRESS_N_FEATURES]; /* robust-SD floors */
  double z_clip;                          /* 3 */
  double full_scale;                      /* score giving index 100: 2.5 */
  double low_below, high_from;            /* 33, 66 */
  size_t min_windows;                     /* baseline windows per feature: 3 */
} vm_stress_params;

void vm_forensic_stress_params_init(vm_stress_params *p);

/* A speaker's baseline: per feature the median and robust scale over
 * windows (NAN where fewer than min_windows windows had the feature). */
typedef struct vm_stress_baseline {
  double median[VM_STRESS_N_FEATURES];
  double scale[VM_STRESS_N_FEATURES];
  size_t n_windows[VM_STRESS_N_FEATURES];
  size_t n_windows_total;
  double speech_s;                        /* total baseline time */
} vm_stress_baseline;

/* Builds the baseline from ranges t0s[k]..t1s[k] (k < n) of v.
 * rates_sps may be NULL; else rates_sps[k] is the speech rate of range k
 * (syllables/s, NAN if unknown). p may be NULL (defaults). OUT: *out.
 * Returns VM_OK, VM_EINVAL or VM_ENOMEM. */
int vm_forensic_stress_baseline_init(const vm_voice *v, const double *t0s,
                                     const double *t1s, const double *rates_sps,
                                     size_t n, const vm_stress_params *p,
                                     vm_stress_baseline *out);

typedef struct vm_stress_result {
  double t0_s, t1_s;
  vm_measure index;                    /* 0..100, or NAN with a reason */
  const char *level;                   /* "low", "medium", "high"; NULL if NAN */
  double score;                        /* weighted mean robust z */
  double z[VM_STRESS_N_FEATURES];      /* signed, clipped; NAN = not used */
  int n_features;                      /* features used */
} vm_stress_result;

/* Stress of the segment [t0_s, t1_s) against baseline b; rate_sps is its
 * speech rate or NAN. p may be NULL. OUT: *out. */
void vm_forensic_stress_segment_get(const vm_voice *v, const vm_stress_baseline *b,
                                    double t0_s, double t1_s, double rate_sps,
                                    const vm_stress_params *p, vm_stress_result *out);

/* Per speaker: every segment (t0s[k]..t1s[k], rates_sps may be NULL)
 * scored against b; the speaker's index is the time-weighted mean of the
 * defined segment indices. */
typedef struct vm_stress_speaker {
  vm_measure index;        /* time-weighted mean segment index */
  const char *level;       /* level of that mean; NULL if NAN */
  double index_max;        /* NAN if no segment was scored */
  double high_fraction;    /* share of scored time at "high" */
  size_t n_segments, n_scored;
} vm_stress_speaker;

void vm_forensic_stress_speaker_get(const vm_voice *v, const vm_stress_baseline *b,
                                    const double *t0s, const double *t1s,
                                    const double *rates_sps, size_t n,
                                    const vm_stress_params *p, vm_stress_speaker *out);

/* JSON: {"t0_s","t1_s","index","level","score","components":{f0_level,
 * f0_variability, intensity, jitter, shimmer, hnr, speech_rate}} with
 * null for unused components and "null_reason" when index is null.
 * New reference; NULL on ENOMEM. */
json_t *vm_forensic_stress_result_to_json(const vm_stress_result *r);
/* {"index","level","index_max","high_fraction","n_segments","n_scored"}
 * plus "null_reason" when index is null. */
json_t *vm_forensic_stress_speaker_to_json(const vm_stress_speaker *s);
/* {"windows", "speech_s", "median": {...}, "scale": {...}} per feature. */
json_t *vm_forensic_stress_baseline_to_json(const vm_stress_baseline *b);

#endif /* VM_FORENSIC_VOICE_STRESS_H */
