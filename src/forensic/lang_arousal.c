/* lang_arousal.c — prosodic arousal of each segment against its speaker.
 *
 * DESIGN: the cross-check needs to know whether a segment was spoken in a
 * raised or calmer voice *for that speaker*: a deep calm voice and a high
 * excited one may have the same F0. So each measure is standardised
 * within the speaker by robust statistics (median, 1.4826·MAD, which
 * equals the standard deviation for normal data and ignores a few
 * shouted outliers), F0 on the semitone scale (perceived pitch), and the
 * z-scores of F0 and intensity are averaged. The floors on the spread
 * keep a monotonous speaker's small wobbles from becoming large z values.
 * This is arousal in the prosodic sense only; see docs/language.md.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"
#include "vm_alloc.h"

#define MIN_SEGMENTS 3
#define F0_SPREAD_FLOOR_ST 1.0
#define INTENSITY_SPREAD_FLOOR_DB 2.0

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static const char *label(const vm_tr_segment *s) { return s->speaker ? s->speaker : "unknown"; }

/* z-scores of x (already on a linear scale) for the segments of one
 * speaker; z[i] stays NAN where x is unknown or the speaker has too few. */
static void speaker_z(const vm_transcript *t, const char *spk, const double *x, double floor_,
                      double *scratch, double *z) {
  size_t n = 0;
  for (size_t i = 0; i < t->n_segments; i++)
    if (strcmp(label(&t->segments[i]), spk) == 0 && !isnan(x[i])) scratch[n++] = x[i];
  if (n < MIN_SEGMENTS) return;
  double med = median(scratch, n);
  for (size_t k = 0; k < n; k++) scratch[k] = fabs(scratch[k] - med);
  double spread = fmax(floor_, 1.4826 * median(scratch, n));
  for (size_t i = 0; i < t->n_segments; i++)
    if (strcmp(label(&t->segments[i]), spk) == 0 && !isnan(x[i])) z[i] = (x[i] - med) / spread;
}

int vm_lang_voice_arousal(const vm_transcript *t, const double *f0_mean_hz,
                          const double *intensity_db, vm_lang_voice *out) {
  if (!t || !out) return VM_EINVAL;
  size_t n = t->n_segments;
  if (n == 0) return VM_OK;
  double *st = vm_malloc(n * sizeof *st), *zf = vm_malloc(n * sizeof *zf);
  double *zi = vm_malloc(n * sizeof *zi), *scratch = vm_malloc(n * sizeof *scratch);
  int rc = VM_OK;
  if (!st || !zf || !zi || !scratch) {
    rc = VM_ENOMEM;
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    double f = f0_mean_hz ? f0_mean_hz[i] : NAN;
    st[i] = f > 0.0 ? 12.0 * log2(f / 100.0) : NAN; /* semitones re 100 Hz */
    zf[i] = zi[i] = NAN;
  }
  for (size_t i = 0; i < n; i++) {
    const char *spk = label(&t->segments[i]);
    int first = 1;
    for (size_t k = 0; k < i && first; k++) first = strcmp(label(&t->segments[k]), spk) != 0;
    if (!first) continue; /* each speaker once */
    speaker_z(t, spk, st, F0_SPREAD_FLOOR_ST, scratch, zf);
    if (intensity_db) speaker_z(t, spk, intensity_db, INTENSITY_SPREAD_FLOOR_DB, scratch, zi);
  }
  for (size_t i = 0; i < n; i++) {
    int a = !isnan(zf[i]), b = !isnan(zi[i]);
    out[i].arousal = a && b ? 0.5 * (zf[i] + zi[i]) : a ? zf[i] : b ? zi[i] : NAN;
  }
out:
  vm_free(st);
  vm_free(zf);
  vm_free(zi);
  vm_free(scratch);
  return rc;
}
