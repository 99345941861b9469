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
  double *amp;       /* (n) shimmer amplitude per pulse, NAN if none */
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

#endif /* VM_DSP_POINTPROCESS_H */
