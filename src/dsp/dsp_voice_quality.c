/* dsp_voice_quality.c — Praat's jitter and shimmer definitions.
 *
 * DESIGN
 * Each measure is one pass over a window of pulse times (jitter) or of
 * pulse amplitudes (shimmer); the period/amplitude tests follow Praat's
 * VoiceAnalysis so that the numbers agree with Praat's voice report.
 * Amplitudes come precomputed with the pulses (dsp_pointprocess), so any
 * time range is summarised without touching the sound.
 */
#include "dsp_voice_quality.h"

#include <math.h>
#include <string.h>

#include "vm_alloc.h"

void vm_dsp_voice_quality_params_init(vm_voice_quality_params *p) {
  p->period_min_s = 0.0001;
  p->period_max_s = 0.02;
  p->period_factor = 1.3;
  p->amplitude_factor = 1.6;
}

static int period_ok(const vm_voice_quality_params *p, double a) {
  return a >= p->period_min_s && a <= p->period_max_s;
}
static double ratio(double a, double b) { return a > b ? a / b : b / a; }

/* Periods T(k) = t[k+1]-t[k] that pass Praat's isPeriod test (mean period). */
static double mean_period(const double *t, size_t n, const vm_voice_quality_params *p,
                          size_t *count) {
  double sum = 0;
  size_t c = 0;
  for (size_t i = 0; i + 1 < n; i++) {
    double T = t[i + 1] - t[i];
    if (p->period_min_s != p->period_max_s) {
      if (T <= 0 || !period_ok(p, T)) continue;
      double prev = i > 0 ? t[i] - t[i - 1] : NAN, next = i + 2 < n ? t[i + 2] - t[i + 1] : NAN;
      double fp = prev > 0 ? ratio(T, prev) : NAN, fn = next > 0 ? ratio(T, next) : NAN;
      if (!isnan(fp) && !isnan(fn) && fp > p->period_factor && fn > p->period_factor) continue;
    }
    sum += T, c++;
  }
  *count = c;
  return c ? sum / (double)c : NAN;
}

/* Runs of k consecutive periods all valid and neighbour ratios <= factor. */
static int periods_ok(const double *T, int k, const vm_voice_quality_params *p) {
  if (p->period_min_s == p->period_max_s) return 1;
  for (int j = 0; j < k; j++) if (!period_ok(p, T[j])) return 0;
  for (int j = 0; j + 1 < k; j++) if (ratio(T[j], T[j + 1]) > p->period_factor) return 0;
  return 1;
}

void vm_dsp_jitter_acc_init(vm_jitter_acc *acc) { memset(acc, 0, sizeof *acc); }

void vm_dsp_jitter_accumulate(const vm_pointprocess *pp, double t0_s, double t1_s,
                              const vm_voice_quality_params *p, vm_jitter_acc *acc) {
  size_t first, last, n = vm_dsp_pointprocess_window(pp, t0_s, t1_s, &first, &last);
  if (n < 3) return;
  const double *t = pp->t_s + first;
  size_t np_ok;
  double mp = mean_period(t, n, p, &np_ok);
  if (np_ok) acc->sum_period_s += mp * (double)np_ok, acc->n_periods += np_ok;
  for (size_t i = 1; i + 1 < n; i++) {
    double T[2] = {t[i] - t[i - 1], t[i + 1] - t[i]};
    if (periods_ok(T, 2, p)) acc->sum_abs_s += fabs(T[0] - T[1]), acc->n_pairs++;
  }
  for (size_t i = 2; i + 1 < n; i++) {
    double T[3] = {t[i - 1] - t[i - 2], t[i] - t[i - 1], t[i + 1] - t[i]};
    if (periods_ok(T, 3, p)) acc->sum_rap_s += fabs(T[1] - (T[0] + T[1] + T[2]) / 3.0), acc->n_triples++;
  }
  for (size_t i = 5; i < n; i++) {
    double T[5];
    for (int j = 0; j < 5; j++) T[j] = t[i - 4 + j] - t[i - 5 + j];
    if (periods_ok(T, 5, p)) {
      acc->sum_ppq5_s += fabs(T[2] - (T[0] + T[1] + T[2] + T[3] + T[4]) / 5.0);
      acc->n_quintuples++;
    }
  }
}

/* Praat divides by (periods - invalid - 1) for local, (- 2) for rap and
 * (- 4) for ppq5: exactly the number of valid pairs, triples, quintuples. */
void vm_dsp_jitter_finish(const vm_jitter_acc *acc, vm_jitter *out) {
  out->local = out->local_abs_s = out->rap = out->ppq5 = NAN;
  out->n_periods = acc->n_periods;
  double mp = acc->n_periods ? acc->sum_period_s / (double)acc->n_periods : NAN;
  if (acc->n_pairs) {
    out->local_abs_s = acc->sum_abs_s / (double)acc->n_pairs;
    out->local = out->local_abs_s / mp;
  }
  if (acc->n_triples) out->rap = acc->sum_rap_s / (double)acc->n_triples / mp;
  if (acc->n_quintuples) out->ppq5 = acc->sum_ppq5_s / (double)acc->n_quintuples / mp;
}

void vm_dsp_jitter_get(const vm_pointprocess *pp, double t0_s, double t1_s,
                       const vm_voice_quality_params *p, vm_jitter *out) {
  vm_jitter_acc acc;
  vm_dsp_jitter_acc_init(&acc);
  vm_dsp_jitter_accumulate(pp, t0_s, t1_s, p, &acc);
  vm_dsp_jitter_finish(&acc, out);
}

/* apq over a window of width w (odd) of the amplitude list a/ta:
 * adds the deviations to *num and the windows counted to *cnt. */
static void shimmer_apq(const double *ta, const double *a, size_t m, int w,
                        const vm_voice_quality_params *p, double *num, size_t *cnt) {
  int h = w / 2;
  for (size_t i = (size_t)h; i + (size_t)h < m; i++) {
    int ok = 1;
    double avg = 0;
    for (int j = -h; j < h && ok; j++) {
      double T = ta[i + j + 1] - ta[i + j];
      if (p->period_min_s != p->period_max_s && !period_ok(p, T)) ok = 0;
      if (ratio(a[i + j], a[i + j + 1]) > p->amplitude_factor) ok = 0;
    }
    if (!ok) continue;
    for (int j = -h; j <= h; j++) avg += a[i + j];
    *num += fabs(a[i] - avg / w);
    (*cnt)++;
  }
}

void vm_dsp_shimmer_acc_init(vm_shimmer_acc *acc) { memset(acc, 0, sizeof *acc); }

void vm_dsp_shimmer_accumulate(const vm_pointprocess *pp, double t0_s, double t1_s,
                               const vm_voice_quality_params *p, vm_shimmer_acc *acc) {
  size_t first, last, n = vm_dsp_pointprocess_window(pp, t0_s, t1_s, &first, &last);
  if (n < 3) return;
  /* Interior pulses of the window that carry an amplitude: the list (ta, a). */
  size_t m = 0;
  for (size_t i = first + 1; i < last; i++) if (!isnan(pp->amp[i])) m++;
  acc->n_amplitudes += m;
  if (m < 2) return;
  double stack_t[512], stack_a[512];
  double *ta = stack_t, *a = stack_a;
  double *heap = NULL;
  if (m > 512) {
    heap = vm_malloc(sizeof(double) * 2 * m);
    if (!heap) { acc->oom = 1; return; }
    ta = heap, a = heap + m;
  }
  m = 0;
  for (size_t i = first + 1; i < last; i++)
    if (!isnan(pp->amp[i])) ta[m] = pp->t_s[i], a[m] = pp->amp[i], m++;
  for (size_t i = 1; i < m; i++) {
    double T = ta[i] - ta[i - 1];
    if (p->period_min_s != p->period_max_s && !period_ok(p, T)) continue;
    if (ratio(a[i - 1], a[i]) > p->amplitude_factor) continue;
    acc->sum_abs += fabs(a[i - 1] - a[i]);
    acc->sum_log10 += fabs(log10(a[i - 1] / a[i]));
    acc->n_pairs++;
  }
  for (size_t i = 0; i + 1 < m; i++) acc->sum_amp += a[i];
  acc->n_amp_mean += m - 1;
  shimmer_apq(ta, a, m, 3, p, &acc->sum_apq[0], &acc->n_apq[0]);
  shimmer_apq(ta, a, m, 5, p, &acc->sum_apq[1], &acc->n_apq[1]);
  shimmer_apq(ta, a, m, 11, p, &acc->sum_apq[2], &acc->n_apq[2]);
  vm_free(heap);
}

/* The mean amplitude is Praat's: over all but the last amplitude of each
 * range. */
void vm_dsp_shimmer_finish(const vm_shimmer_acc *acc, vm_shimmer *out) {
  out->local = out->local_db = out->apq3 = out->apq5 = out->apq11 = NAN;
  out->n_amplitudes = acc->n_amplitudes;
  if (acc->oom || acc->n_amp_mean == 0) return;
  double den = acc->sum_amp / (double)acc->n_amp_mean;
  if (!(den > 0)) return;
  if (acc->n_pairs) {
    out->local = acc->sum_abs / (double)acc->n_pairs / den;
    out->local_db = 20.0 * acc->sum_log10 / (double)acc->n_pairs;
  }
  double *apq[3] = {&out->apq3, &out->apq5, &out->apq11};
  for (int k = 0; k < 3; k++)
    if (acc->n_apq[k]) *apq[k] = acc->sum_apq[k] / (double)acc->n_apq[k] / den;
}

void vm_dsp_shimmer_get(const vm_pointprocess *pp, double t0_s, double t1_s,
                        const vm_voice_quality_params *p, vm_shimmer *out) {
  vm_shimmer_acc acc;
  vm_dsp_shimmer_acc_init(&acc);
  vm_dsp_shimmer_accumulate(pp, t0_s, t1_s, p, &acc);
  vm_dsp_shimmer_finish(&acc, out);
}
