/* diarize_pitch.c — a small F0 track used as one clustering feature.
 *
 * DESIGN: autocorrelation pitch in the spirit of Boersma (1993): a 32 ms
 * Hann window, autocorrelation through the FFT, divided by the window's
 * own autocorrelation so that long lags are not penalised; the best peak
 * between 70 and 400 Hz counts as voiced above 0.5 normalised
 * correlation; a peak at half the lag that is nearly as strong wins
 * (octave-error guard). Only speech frames are analysed. This is a
 * diarization feature, not the Praat-compatible pitch of dsp_pitch.c. */
#include <math.h>
#include <string.h>

#include "diarize_impl.h"
#include "dsp_fft.h"
#include "vm_alloc.h"
#include "vm_status.h"

#define P_WIN 512
#define P_NFFT 1024
#define P_FMIN 60.0
#define P_FMAX 500.0
#define P_VOICED 0.5

int vm__diar_pitch(const float *x, size_t n, int rate_hz, const vm__diar_frames *f,
                   float *out_f0) {
  vm_dsp_fft *fft = NULL;
  float *frame = vm_malloc(P_WIN * sizeof(float));
  float *win = vm_malloc(P_WIN * sizeof(float));
  float *r = vm_malloc((P_NFFT / 2 + 1) * sizeof(float));
  float *rw = vm_malloc((P_NFFT / 2 + 1) * sizeof(float));
  int rc = VM_ENOMEM;
  if (!frame || !win || !r || !rw) goto out;
  if ((rc = vm_dsp_fft_create(P_NFFT, &fft))) goto out;
  for (int i = 0; i < P_WIN; i++) win[i] = (float)(0.5 - 0.5 * cos(2 * M_PI * (i + 0.5) / P_WIN));
  vm_dsp_fft_autocorr(fft, win, P_WIN, rw);
  size_t hop = (size_t)lround(f->frame_s * rate_hz);
  int lag_lo = (int)floor(rate_hz / P_FMAX), lag_hi = (int)ceil(rate_hz / P_FMIN);
  if (lag_hi > P_WIN / 2) lag_hi = P_WIN / 2;
  for (size_t t = 0; t < f->n_frames; t++) {
    out_f0[t] = 0;
    if (!f->speech[t]) continue;
    long start = (long)(t * hop + hop / 2) - P_WIN / 2;
    for (int i = 0; i < P_WIN; i++) {
      long s = start + i;
      frame[i] = (s >= 0 && (size_t)s < n ? x[s] : 0.0f) * win[i];
    }
    vm_dsp_fft_autocorr(fft, frame, P_WIN, r);
    if (r[0] <= 1e-9f) continue;
    int best = 0;
    float bv = 0;
    for (int l = lag_lo; l <= lag_hi; l++) {
      float v = r[l] / (r[0] * rw[l] / rw[0]);
      if (v > bv && r[l] >= r[l - 1] && r[l] >= r[l + 1]) { bv = v; best = l; }
    }
    if (best == 0 || bv < P_VOICED) continue;
    int half = best / 2;
    if (half >= lag_lo) {
      float vh = 0;
      for (int l = half - 1; l <= half + 1; l++) vh = fmaxf(vh, r[l] / (r[0] * rw[l] / rw[0]));
      if (vh > 0.9f * bv) best = half;
    }
    /* parabolic interpolation of the peak */
    double a = r[best - 1], b = r[best], c = r[best + 1], den = a - 2 * b + c;
    double lag = best + (den < 0 ? 0.5 * (a - c) / den : 0);
    out_f0[t] = (float)(rate_hz / lag);
  }
  rc = VM_OK;
out:
  vm_dsp_fft_destroy(fft);
  vm_free(frame);
  vm_free(win);
  vm_free(r);
  vm_free(rw);
  return rc;
}
