/* dsp_pointprocess.h — glottal pulses from a sound and its pitch track.
 *
 * Praat's "To PointProcess (cc)" (Sound & Pitch), which "To PointProcess
 * (periodic, cc)" runs after a default pitch analysis: in every voiced
 * stretch of the pitch track, start at the largest absolute extremum near
 * the middle, then walk left and right one period at a time, placing each
 * next pulse where a one-period window correlates best with the window
 * around the previous pulse (search 0.8..1.25 periods away; parabolic
 * refinement). Pulses need correlation > 0.3 and a local peak above 1 % of
 * the global peak (0.7 and 2.33 % beyond the voiced stretch).
 *
 * Each pulse also carries the amplitude that Praat's shimmer uses: the
 * Hann-windowed RMS over 0.2 of the neighbouring periods on each side, or
 * NAN where the pulse has no valid period on both sides (period outside
 * [period_min, period_max] or neighbouring periods differing by more than
 * period_factor). Precomputing it lets shimmer be summarised over any time
 * range without the sound (see dsp_voice_quality.h).
 *
 * Thread-safety: reentrant.
 */
#ifndef VM_DSP_POINTPROCESS_H
#define VM_DSP_POINTPROCESS_H

#include <stddef.h>

#include "dsp_pitch.h"
#include "vm_status.h"

typedef struct vm_pointprocess {
  size_t n;          /* number of pulses */
  double *t_s;       /* (n) pulse times, strictly increasing */
  float *amp;        /* (n) shimmer amplitude per pulse, NAN if none (float:
                      * 12 bytes per pulse; shimmer is a ratio of amplitudes
                      * and moves by ~1e-7 relative) */
} vm_pointprocess;

/* Period limits used for the per-pulse amplitudes (Praat's voice-report
 * defaults: 0.0001 s, 0.02 s, factor 1.3). */
typedef struct vm_period_limits {
  double period_min_s;
  double period_max_s;
  double period_factor;
} vm_period_limits;
void vm_dsp_period_limits_init(vm_period_limits *l);

/* Finds pulses in x (n samples at rate_hz) guided by pitch (which must
 * come from the same signal). lim may be NULL (defaults). OUT: *out,
 * owned by the caller (vm_dsp_pointprocess_destroy); NULL on failure.
 * Returns VM_OK, VM_EINVAL or VM_ENOMEM. */
int vm_dsp_pointprocess_create(const float *x, size_t n, int rate_hz,
                               const vm_pitch_track *pitch,
                               const vm_period_limits *lim,
                               vm_pointprocess **out, vm_err *err);
void vm_dsp_pointprocess_destroy(vm_pointprocess *pp);

/* Index range [*first, *last] of pulses with t0 <= t <= t1 (Praat's
 * getWindowPoints). Returns the count (0: *first > *last). */
size_t vm_dsp_pointprocess_window(const vm_pointprocess *pp, double t0_s,
                                  double t1_s, size_t *first, size_t *last);

/* ---- module-internal: streamed pulses (forensic/voice_stream.c) ----
 * vm_dsp_pointprocess_create is create + run over everything + finish.
 * The pitch track is read up to n_final frames (those already final);
 * stretches are walked in time order once their frames are final and
 * the samples up to x_end have arrived. The result equals the whole-signal
 * analysis. Memory: the final pulses plus the pulses of the last stretch
 * or two. */
typedef struct vm__pulse_stream vm__pulse_stream;
/* n: samples of the whole signal; floor_hz: the pitch floor (bounds how
 * far a walk reads beyond its stretch); gpeak: max |x| over the whole
 * signal. lim may be NULL (defaults). Returns VM_OK, VM_EINVAL, VM_ENOMEM. */
int vm__dsp_pulse_stream_create(size_t n, int rate_hz, double floor_hz, double gpeak,
                                const vm_period_limits *lim, vm__pulse_stream **out);
void vm__dsp_pulse_stream_destroy(vm__pulse_stream *p);
/* Walks what it can: xb[i - x0] is sample i for i in [low, x_end), with
 * low = vm__dsp_pulse_stream_low() before the call. Returns VM_OK or
 * VM_ENOMEM. */
int vm__dsp_pulse_stream_run(vm__pulse_stream *p, const vm_pitch_track *pitch, size_t n_final,
                             const float *xb, long x0, long x_end);
/* The lowest sample any later run or finish can read. */
long vm__dsp_pulse_stream_low(const vm__pulse_stream *p, const vm_pitch_track *pitch);
/* After the last run (all frames final, all samples given): OUT: *out,
 * owned by the caller (vm_dsp_pointprocess_destroy). Returns VM_OK or
 * VM_ENOMEM. */
int vm__dsp_pulse_stream_finish(vm__pulse_stream *p, const float *xb, long x0,
                                vm_pointprocess **out);

#endif /* VM_DSP_POINTPROCESS_H */
