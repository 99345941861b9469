/* vad.h — voice activity detection on a 16 kHz mono signal.
 *
 * An energy detector in the speech band (100–3800 Hz, so telephone
 * band-limiting and mains-hum fundamentals do not matter) with thresholds
 * adapted to each file and to the noise around each moment:
 *  - file statistics over the 10 ms frame levels: floor F = 10th
 *    percentile, speech level S = 95th, noise spread = F minus the 2nd
 *    percentile (how much the noise itself fluctuates: near 0 dB for
 *    steady noise or hum, 4–5 dB for babble);
 *  - margin M = max(min_snr_db, 0.3 (S - F), min(2 spread, 9 dB));
 *    a file whose range S - F is under 2 min_snr_db (silence, steady
 *    noise, a tone) has no speech;
 *  - local floor f(t) = 10th percentile of the levels within
 *    +- floor_window_s / 2 (default 16 s window), at most F + (S - F) / 2,
 *    so noise that changes level during the file is followed;
 *  - a frame is speech above f(t) + M (and above abs_floor_db), and stays
 *    speech until it falls 3 dB below that (hysteresis).
 * Decisions are then smoothed: clicks under 30 ms dropped, each region
 * widened by pre_roll_s / hangover_s (weak onsets, word endings), gaps
 * shorter than min_pause_s bridged, regions shorter than min_speech_s
 * dropped.
 *
 * Report: speech time, silence time, speech ratio, and the pauses — every
 * silence between two speech regions, which by construction lasts at least
 * min_pause_s (default 0.3 s; leading and trailing silence are not pauses).
 *
 * Usage:
 *   vm_vad_opts o; vm_vad_opts_default(&o);
 *   vm_vad_result *v; vm_vad_run(x, n, 16000, &o, &v);
 *   for (i < v->n_regions) ... v->regions[i].start_s ...
 *   json_t *j = vm_vad_result_to_json(v);   // the per-file "vad" object
 *   vm_vad_result_destroy(v);
 * Thread-safe: every call uses only its own objects.
 */
#ifndef VM_FORENSIC_VAD_H
#define VM_FORENSIC_VAD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vm_vad_opts {
  double min_pause_s;  /* shorter gaps are bridged; also the pause minimum; 0.3 */
  double min_speech_s; /* shorter regions are dropped; 0.12 */
  double pre_roll_s;   /* region start moved earlier by this; 0.02 */
  double hangover_s;   /* region end moved later by this; 0.06 */
  double min_snr_db;   /* threshold at least this far above the floor; 6 */
  double abs_floor_db; /* frames below this band level are never speech; -60 */
  double floor_window_s; /* local noise floor window; 16 (0 = file floor only) */
} vm_vad_opts;

/* One speech region, [start, end) in samples and seconds. */
typedef struct vm_vad_region {
  size_t start_sample, end_sample;
  double start_s, end_s;
} vm_vad_region;

/* A silence between two speech regions. */
typedef struct vm_vad_pause {
  double start_s, duration_s;
} vm_vad_pause;

typedef struct vm_vad_result {
  int sample_rate_hz;
  size_t n_samples;
  double frame_s;          /* 0.010 */
  size_t n_frames;         /* ceil(n_samples / hop) */
  uint8_t *frame_speech;   /* (n_frames) 1 = speech, after smoothing */
  float *frame_db;         /* (n_frames) speech-band level, dB re full scale */
  vm_vad_region *regions;  /* (n_regions) in time order, disjoint */
  size_t n_regions;
  vm_vad_pause *pauses;    /* (n_pauses) gaps between regions */
  size_t n_pauses;
  double duration_s, speech_s, silence_s, speech_ratio;
  double noise_floor_db, speech_level_db, threshold_db;
  double min_pause_s;      /* copy of the option, for the report */
  /* Added with the local floor; threshold_db above is noise_floor_db +
   * margin_db, the threshold where the local floor equals the file's. */
  float *frame_floor_db;   /* (n_frames) local noise floor f(t), dB */
  double margin_db;        /* M: frame threshold = frame_floor_db + M; INFINITY = no speech */
  double noise_spread_db;  /* 10th minus 2nd percentile of the frame levels */
} vm_vad_result;

/* Fills o with the defaults documented above. */
void vm_vad_opts_default(vm_vad_opts *o);

/* Detects speech in x[0..n) at rate_hz (16000 expected; 8000–48000
 * accepted). opts NULL = defaults. n may be 0. OUT: *out (NULL on
 * failure), freed with vm_vad_result_destroy. Returns VM_OK, VM_EINVAL,
 * VM_ENOMEM. */
int vm_vad_run(const float *x, size_t n, int rate_hz, const vm_vad_opts *opts,
               vm_vad_result **out);
void vm_vad_result_destroy(vm_vad_result *v);

/* The per-file report: {"speech_s", "silence_s", "speech_ratio",
 * "min_pause_s", "noise_floor_db", "threshold_db", "margin_db" (null when
 * the file has no speech range), "noise_spread_db", "n_regions",
 * "regions": [{"start","end"}], "pauses": [{"start","duration"}]}.
 * New reference (caller decrefs); NULL when out of memory. */
json_t *vm_vad_result_to_json(const vm_vad_result *v);

#endif /* VM_FORENSIC_VAD_H */
