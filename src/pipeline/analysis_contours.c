/* analysis_contours.c — F0 and intensity every 10 ms for the report's
 * plots, read from the tracks the voice measures already computed.
 *
 * DESIGN
 * One common grid, t_k = k * 0.01 s for k = 0 .. floor(duration / 0.01),
 * so a plot needs no per-track offsets. F0 is Praat's linear
 * interpolation between pitch frame centres (vm_dsp_pitch_get_value:
 * null where the nearest frame is unvoiced, the nearest value next to an
 * unvoiced frame, as Praat's Pitch_getValueAtTime); intensity (8 ms frames) is linearly interpolated between its
 * two neighbouring frames, null outside the first and last frame centres
 * and where a neighbour is digital silence (Praat's -300 dB). Values are
 * rounded to 0.1 Hz / 0.1 dB: finer digits are below what the tracks
 * resolve for a plot and would triple the size of the JSON.
 */
#include <math.h>

#include "analysis_impl.h"

#define STEP_S 0.01

static json_t *round1(double v) {
  return isfinite(v) ? json_real(round(v * 10.0) / 10.0) : json_null();
}

/* Intensity at t, or NAN. */
static double intensity_at(const vm_intensity_track *it, double t) {
  if (!it || it->n_frames == 0) return NAN;
  double x = (t - it->t0_s) / it->dt_s;
  if (x < 0 || x > (double)(it->n_frames - 1)) return NAN;
  size_t i = (size_t)floor(x);
  if (i + 1 >= it->n_frames) return it->db[it->n_frames - 1] > -300.0 ? it->db[it->n_frames - 1] : NAN;
  double a = it->db[i], b = it->db[i + 1], f = x - (double)i;
  if (a <= -300.0 || b <= -300.0) return NAN;
  return a + f * (b - a);
}

json_t *vm__analysis_contours_json(const vm_voice *v, double duration_s) {
  const vm_pitch_track *pt = vm_forensic_voice_get_pitch(v);
  const vm_intensity_track *it = vm_forensic_voice_get_intensity(v);
  json_t *o = json_object(), *f0 = json_array(), *db = json_array();
  if (!o || !f0 || !db) goto fail;
  size_t n = duration_s > 0 ? (size_t)floor(duration_s / STEP_S + 1e-9) + 1 : 0;
  int bad = 0;
  for (size_t k = 0; k < n && !bad; k++) {
    double t = (double)k * STEP_S;
    bad |= json_array_append_new(f0, round1(pt ? vm_dsp_pitch_get_value(pt, t) : NAN));
    bad |= json_array_append_new(db, round1(intensity_at(it, t)));
  }
  bad |= json_object_set_new(o, "step_s", json_real(STEP_S));
  bad |= json_object_set_new(o, "f0_hz", f0);
  f0 = NULL;
  bad |= json_object_set_new(o, "intensity_db", db);
  db = NULL;
  if (bad) goto fail;
  return o;
fail:
  json_decref(o), json_decref(f0), json_decref(db);
  return NULL;
}
