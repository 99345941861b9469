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

/* ---- several time ranges (e.g. one speaker's turns) ----
 * Accumulate each range, then finish: every pair, triple, quintuple and
 * amplitude window lies inside one range, so periods that straddle two
 * ranges never count; means are taken over the union. With one range the
 * results equal vm_dsp_jitter_get / vm_dsp_shimmer_get (which are exactly
 * init + accumulate + finish). Ranges should not overlap (a pulse in two
 * ranges counts twice). */
typedef struct vm_jitter_acc {
  double sum_period_s;   /* valid periods (Praat's isPeriod test) */
  size_t n_periods;
  double sum_abs_s, sum_rap_s, sum_ppq5_s;
  size_t n_pairs, n_triples, n_quintuples; /* valid ones */
} vm_jitter_acc;

typedef struct vm_shimmer_acc {
  double sum_abs, sum_log10;   /* over valid amplitude pairs */
  size_t n_pairs;
  double sum_amp;              /* Praat's mean: all but each range's last amplitude */
  size_t n_amp_mean;
  double sum_apq[3];           /* apq3, apq5, apq11 */
  size_t n_apq[3];
  size_t n_amplitudes;
  int oom;                     /* a scratch allocation failed: results NAN */
} vm_shimmer_acc;

void vm_dsp_jitter_acc_init(vm_jitter_acc *acc);
void vm_dsp_jitter_accumulate(const vm_pointprocess *pp, double t0_s, double t1_s,
                              const vm_voice_quality_params *p, vm_jitter_acc *acc);
/* OUT: *out (NAN where nothing valid was accumulated). */
void vm_dsp_jitter_finish(const vm_jitter_acc *acc, vm_jitter *out);

void vm_dsp_shimmer_acc_init(vm_shimmer_acc *acc);
void vm_dsp_shimmer_accumulate(const vm_pointprocess *pp, double t0_s, double t1_s,
                               const vm_voice_quality_params *p, vm_shimmer_acc *acc);
void vm_dsp_shimmer_finish(const vm_shimmer_acc *acc, vm_shimmer *out);

#endif /* VM_DSP_VOICE_QUALITY_H */
