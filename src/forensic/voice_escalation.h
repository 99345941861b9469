/* voice_escalation.h — escalation zones: stretches where a speaker's
 * voice is both louder and higher than their own baseline.
 *
 * Method (docs/acoustics.md): the speaker's time ranges (or the whole
 * file) are scanned with window_s windows every hop_s. Each window that
 * holds at least min_voiced_s of voiced pitch frames gets
 *   level = energy mean of the intensity frames where the pitch track is
 *           voiced (dB), and
 *   f0    = median F0 of its voiced frames, in semitones re 100 Hz;
 * only frames inside the ranges count. The baseline is the median level
 * and the median f0 over all such windows. A zone opens at a window whose
 * level is >= rise_db (6 dB) AND whose f0 is >= rise_st (2 semitones,
 * about 12 %) above the baseline; it stays open while both stay above
 * fall_fraction (half) of those rises, bridging windows without voice for
 * at most max_gap_s; it closes as soon as the voice comes back down (the
 * original system's accumulators only reset on a joint drop and merged
 * most of a long call into one zone). Zones shorter than min_duration_s
 * (2 s) are dropped. A zone runs from half a hop before its first window
 * centre to half a hop after its last; its peak is the window with the
 * largest rise (in units of the thresholds, summed over both cues).
 *
 * Thread-safety: pure functions over an immutable vm_voice.
 */
#ifndef VM_FORENSIC_VOICE_ESCALATION_H
#define VM_FORENSIC_VOICE_ESCALATION_H

#include <jansson.h>
#include <stddef.h>

#include "voice_measures.h"

typedef struct vm_escalation_params {
  double window_s;       /* 1.0 */
  double hop_s;          /* 0.25 */
  double rise_db;        /* 6.0: intensity rise that opens a zone */
  double rise_st;        /* 2.0: F0 rise (semitones) that opens a zone */
  double fall_fraction;  /* 0.5: the zone ends below this share of both rises */
  double min_duration_s; /* 2.0 */
  double max_gap_s;      /* 1.0: unvoiced windows bridged inside a zone */
  double min_voiced_s;   /* 0.1: voiced time a window needs */
} vm_escalation_params;

void vm_forensic_escalation_params_init(vm_escalation_params *p);

typedef struct vm_escalation_zone {
  double start_s, end_s, peak_s;
  double intensity_rise_db;     /* mean over the zone's voiced windows */
  double intensity_rise_max_db;
  double f0_rise_st;            /* mean, semitones */
  double f0_rise_max_st;
  double f0_rise_percent;       /* the mean rise as a percentage of baseline F0 */
} vm_escalation_zone;

typedef struct vm_escalation_result {
  double baseline_intensity_db; /* NAN when no window had voice */
  double baseline_f0_hz;
  size_t n_windows, n_voiced_windows;
  vm_escalation_zone *zones;    /* (n_zones) in time order */
  size_t n_zones;
  const char *null_reason;      /* why the baseline is undefined, else NULL */
  vm_escalation_params params;  /* the thresholds used, for the report */
} vm_escalation_result;

/* Finds the zones of v within ranges t0s[k]..t1s[k] (k < n; n == 0 means
 * the whole signal; ranges must be sorted and disjoint, as a speaker's
 * turns are). p may be NULL (defaults). OUT: *out, owned by the caller
 * (vm_forensic_escalation_destroy); NULL on failure. Returns VM_OK,
 * VM_EINVAL or VM_ENOMEM. */
int vm_forensic_escalation_create(const vm_voice *v, const double *t0s,
                                  const double *t1s, size_t n,
                                  const vm_escalation_params *p,
                                  vm_escalation_result **out);
void vm_forensic_escalation_destroy(vm_escalation_result *r);

/* {"baseline": {"intensity_db", "f0_hz"}, "thresholds": {...},
 * "n_windows", "zones": [{"start_s", "end_s", "duration_s", "peak_s",
 * "intensity_rise_db", "intensity_rise_max_db", "f0_rise_st",
 * "f0_rise_max_st", "f0_rise_percent"}]} plus "null_reason" when the
 * baseline is undefined. New reference; NULL on ENOMEM. */
json_t *vm_forensic_escalation_to_json(const vm_escalation_result *r);

#endif /* VM_FORENSIC_VOICE_ESCALATION_H */
