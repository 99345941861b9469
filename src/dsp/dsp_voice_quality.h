/* dsp_voice_quality.h — jitter and shimmer from glottal pulses.
 *
 * Praat's definitions (PointProcess "Get jitter (...)" and
 * PointProcess & Sound "Get shimmer (...)"), over the pulses with
 * t0 <= t <= t1 of a vm_pointprocess:
 *   jitter local     mean |T(i) - T(i-1)| / mean T          (fraction)
 *   jitter local_abs mean |T(i) - T(i-1)|                   (seconds)
 *   jitter rap       mean |T(i) - mean(T(i-1..i+1))| / mean T
 *   jitter ppq5      mean |T(i) - mean(T(i-2..i+2))| / mean T
 *   shimmer local    mean |A(i) - A(i-1)| / mean A          (fraction)
 *   shimmer local_db mean |20 log10(A(i)/A(i-1))|           (dB)
 *   shimmer apq3/5/11  mean |A(i) - mean of 3/5/11 around| / mean A
 * A period T counts only if it lies in [period_min, period_max] and its
 * neighbour differs by at most period_factor; amplitude pairs only if
 * their ratio is at most amplitude_factor (Praat: 0.0001 s, 0.02 s, 1.3,
 * 1.6). Values are fractions, as Praat reports them (0.01 = 1 %); a
 * measure that cannot be computed (too few periods) is NAN.
 *
 * Thread-safety: pure functions.
 */
#ifndef VM_DSP_VOICE_QUALITY_H
#define VM_DSP_VOICE_QUALITY_H

#include "dsp_pointprocess.h"

typedef struct vm_voice_quality_params {
  double period_min_s;     /* 0.0001 */
  double period_max_s;     /* 0.02 */
  double period_factor;    /* 1.3 */
  double amplitude_factor; /* 1.6 */
} vm_voice_quality_params;

void vm_dsp_voice_quality_params_init(vm_voice_quality_params *p);

typedef struct vm_jitter {
  double local, local_abs_s, rap, ppq5;
  size_t n_periods; /* periods that passed the limits */
} vm_jitter;

typedef struct vm_shimmer {
  double local, local_db, apq3, apq5, apq11;
  size_t n_amplitudes; /* pulses with an amplitude in the range */
} vm_shimmer;

/* Jitter of the pulses in [t0_s, t1_s]. OUT: *out. */
void vm_dsp_jitter_get(const vm_pointprocess *pp, double t0_s, double t1_s,
                       const vm_voice_quality_params *p, vm_jitter *out);
/* Shimmer of the pulses in [t0_s, t1_s], from the amplitudes stored in pp
 * (computed with the same period limits). OUT: *out. */
void vm_dsp_shimmer_get(const vm_pointprocess *pp, double t0_s, double t1_s,
                        const vm_voice_quality_params *p, vm_shimmer *out);

#endif /* VM_DSP_VOICE_QUALITY_H */
