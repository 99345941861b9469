/* voice_measures.h — acoustic voice measures, computed once, summarised
 * over any time range.
 *
 * vm_forensic_voice_create() runs every track once over a whole signal
 * (vm_forensic_voice_create_stream() over a signal read in blocks, for
 * hour-long calls in bounded memory):
 * pitch (Praat ac, floor/ceiling), glottal pulses with their amplitudes,
 * harmonicity (cc), formants (Burg) and intensity. Each summary then reads
 * only the tracks, so the pipeline can summarise the whole file, each
 * speaker (call once per segment and pool, or pass the segment's span) and
 * each segment without recomputation:
 *
 *   vm_voice *v;
 *   vm_forensic_voice_create(pcm, n, 16000, NULL, &v, &err);
 *   vm_voice_summary s;
 *   vm_forensic_voice_summary_get(v, 0, 0, &s);           // whole file
 *   vm_forensic_voice_summary_get(v, 12.3, 17.9, &s);     // one segment
 *   vm_forensic_voice_summary_get_ranges(v, t0s, t1s, n, &s); // a speaker's turns
 *   json_t *j = vm_forensic_voice_summary_to_json(&s);
 *   vm_forensic_voice_destroy(v);
 *
 * An hour-long call without holding it: a source that reads blocks
 * (from a file, a decoder, ...) instead of the array:
 *
 *   static int rd(void *f, size_t off, size_t n, float *buf) { ... }
 *   vm_voice_source src = {n_samples, 16000, rd, file};
 *   vm_forensic_voice_create_stream(&src, NULL, &v, &err);
 *
 * Every measure is a vm_measure: a value, or NAN with a reason ("no voiced
 * frames", "too few glottal pulses", ...). Nothing is silently replaced
 * by a constant. Frames unvoiced for harmonicity never enter the HNR mean.
 *
 * Which rate: all measures work on the 16 kHz analysis signal. Formants
 * resample to 11 kHz internally and need no more than 5.5 kHz of
 * bandwidth; HNR on 16 kHz equals HNR at the native rate within a
 * fraction of a dB for voice (its periodicity lies below 4 kHz). Passing
 * the native-rate decode instead is allowed and changes nothing else.
 *
 * Thread-safety: a vm_voice is immutable after create; summaries may be
 * taken from several threads at once.
 */
#ifndef VM_FORENSIC_VOICE_MEASURES_H
#define VM_FORENSIC_VOICE_MEASURES_H

#include <jansson.h>
#include <stddef.h>

#include "dsp_formant.h"
#include "dsp_hnr.h"
#include "dsp_intensity.h"
#include "dsp_pitch.h"
#include "dsp_pointprocess.h"
#include "vm_status.h"

typedef struct vm_voice_params {
  double pitch_floor_hz;   /* 75 */
  double pitch_ceiling_hz; /* 600 */
  int with_formants;       /* 1; 0 skips the formant track (F values NAN) */
  int with_hnr;            /* 1; 0 skips harmonicity (hnr NAN) */
} vm_voice_params;

void vm_forensic_voice_params_init(vm_voice_params *p);

/* A value or NAN with a static reason string (NULL when value is defined). */
typedef struct vm_measure {
  double value;
  const char *reason;
} vm_measure;

typedef struct vm_voice_summary {
  double t0_s, t1_s, duration_s;     /* the range summarised */
  size_t n_pitch_frames, n_voiced_frames, n_pulses;
  vm_measure voiced_fraction;        /* voiced pitch frames / frames */
  vm_measure f0_mean_hz, f0_median_hz, f0_sd_hz, f0_min_hz, f0_max_hz;
  vm_measure f0_range_st;            /* 12 log2(max/min) */
  vm_measure jitter_local, jitter_local_abs_s, jitter_rap, jitter_ppq5;
  vm_measure shimmer_local, shimmer_local_db, shimmer_apq3, shimmer_apq5, shimmer_apq11;
  vm_measure hnr_db;                 /* mean over harmonicity-voiced frames */
  vm_measure f1_mean_hz, f2_mean_hz, f3_mean_hz; /* over pitch-voiced frames */
  vm_measure f1_sd_hz, f2_sd_hz;
  vm_measure formant_stability;      /* 100 (1 - min(1, 2 mean(CV F1, CV F2))) */
  vm_measure intensity_mean_db;      /* energy mean, dB re 2e-5 (full scale = 1 Pa) */
  vm_measure intensity_max_db;       /* parabolic peak */
  vm_measure intensity_sd_db;
} vm_voice_summary;

typedef struct vm_voice vm_voice;

/* A signal read in blocks, for inputs too long to hold (hours).
 * read(user, offset, n, buf) fills buf with samples [offset, offset + n)
 * and returns 0, or a negative VM_E* code that aborts the analysis. The
 * analysis reads the signal twice, each time from offset 0 upwards in
 * consecutive blocks: a level pass (Praat relates frame intensities to
 * the global peak, so nothing can be decided before the whole signal has
 * been seen once) and the analysis pass. The total length must be known
 * in advance: the frame grids are centred in the signal, as Praat's. */
typedef int (*vm_voice_read_fn)(void *user, size_t offset, size_t n, float *buf);
typedef struct vm_voice_source {
  size_t n_samples;      /* total length */
  int rate_hz;
  vm_voice_read_fn read;
  void *user;            /* passed to read */
} vm_voice_source;

/* Computes all tracks of the streamed signal src. Working memory does not
 * grow with the duration (a sliding window of samples plus the frames in
 * flight; see voice_stream.c); the tracks kept for the summaries take
 * about 40 bytes per 10 ms of speech (vm_forensic_voice_get_memory).
 * p may be NULL (defaults). OUT: *out, owned by the caller
 * (vm_forensic_voice_destroy); NULL on failure. Returns VM_OK, VM_EINVAL,
 * VM_ENOMEM, or the source's error code. */
int vm_forensic_voice_create_stream(const vm_voice_source *src, const vm_voice_params *p,
                                    vm_voice **out, vm_err *err);

/* Computes all tracks of x (n samples at rate_hz; any n, including 0):
 * vm_forensic_voice_create_stream over x. p may be NULL (defaults). OUT:
 * *out, owned by the caller (vm_forensic_voice_destroy); NULL on failure.
 * Returns VM_OK, VM_EINVAL, VM_ENOMEM. */
int vm_forensic_voice_create(const float *x, size_t n, int rate_hz,
                             const vm_voice_params *p, vm_voice **out,
                             vm_err *err);

/* Bytes held by each track (what grows with the duration) and how the
 * analysis went. */
typedef struct vm_voice_memory {
  size_t pitch_bytes, pulses_bytes, hnr_bytes, formant_bytes, intensity_bytes;
  size_t total_bytes;        /* the five above */
  size_t buffer_peak_bytes;  /* largest sample window the analysis held */
  size_t n_pitch_forced;     /* pitch frames decided without path convergence (0 on speech) */
} vm_voice_memory;
/* OUT: *out. */
void vm_forensic_voice_get_memory(const vm_voice *v, vm_voice_memory *out);
void vm_forensic_voice_destroy(vm_voice *v);

/* Summary over [t0_s, t1_s) (pulses: [t0, t1]); t1_s <= t0_s means the
 * whole signal. OUT: *out. Thread-safe. */
void vm_forensic_voice_summary_get(const vm_voice *v, double t0_s, double t1_s,
                                   vm_voice_summary *out);

/* One summary over the union of several time ranges, e.g. all turns of
 * one speaker: t0s[k]..t1s[k] for k < n (any order; ranges are clipped
 * to the signal, empty or NAN ones ignored, overlapping or touching ones
 * merged, so no frame or pulse counts twice). Frame statistics pool the
 * frames of all ranges; jitter and shimmer pool the periods of each range
 * but never a period pair (or triple, ...) that straddles two ranges.
 * out->t0_s/t1_s are the first start and last end, out->duration_s the
 * total covered time; n == 0 gives a summary whose measures are all
 * undefined ("no time range"). OUT: *out. Returns VM_OK, VM_EINVAL (n > 0
 * with a NULL array) or VM_ENOMEM. Thread-safe. */
int vm_forensic_voice_summary_get_ranges(const vm_voice *v, const double *t0s,
                                         const double *t1s, size_t n,
                                         vm_voice_summary *out);

/* The tracks, borrowed, valid until vm_forensic_voice_destroy(v). HNR and
 * formants are NULL when skipped by the params. For plots: F0 every 10
 * ms, intensity every 8 ms. Compact forms: the pitch track has f0_hz only
 * (strength and intensity NULL); the formant track keeps F1-F3 (n_kept 3,
 * no bandwidths), analysed only where the pitch track is voiced (the only
 * frames a summary reads); elsewhere they hold no formants (NAN). */
const vm_pitch_track *vm_forensic_voice_get_pitch(const vm_voice *v);
const vm_pointprocess *vm_forensic_voice_get_pulses(const vm_voice *v);
const vm_hnr_track *vm_forensic_voice_get_hnr(const vm_voice *v);
const vm_formant_track *vm_forensic_voice_get_formants(const vm_voice *v);
const vm_intensity_track *vm_forensic_voice_get_intensity(const vm_voice *v);

/* A new JSON object with the summary's keys (duration_s, f0_mean_hz, ...,
 * intensity_max_db; see docs in the .c); an undefined value is null and
 * its reason goes into "null_reasons": {key: reason}. NULL on ENOMEM. */
json_t *vm_forensic_voice_summary_to_json(const vm_voice_summary *s);

#endif /* VM_FORENSIC_VOICE_MEASURES_H */
