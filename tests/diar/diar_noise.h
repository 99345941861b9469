/* diar_noise.h — test-only degradations for the VAD/diarization tests:
 * babble-like noise, mains hum, and a telephone channel (300–3400 Hz at
 * 8 kHz, G.711 mu-law, back to 16 kHz). Header-only, static functions;
 * included by tests/unit/test_forensic_*.c and bench/ only.
 *
 * Levels follow tk_add_noise: the noise is scaled to snr_db below the
 * mean power of the reference speech (the turns of the conversation), so
 * "10 dB" means the same thing for every kind of noise. */
#ifndef VM_TESTS_DIAR_NOISE_H
#define VM_TESTS_DIAR_NOISE_H

#include "diar_testkit.h"

/* Mean power of the reference speech of c in x (the turns' samples). */
static inline double tk_speech_power(const float *x, size_t n, const tk_convo *c) {
  double p = 0;
  size_t m = 0;
  for (size_t r = 0; r < c->n_ref; r++)
    for (size_t i = (size_t)(c->ref[r].start_s * TK_RATE); i < (size_t)(c->ref[r].end_s * TK_RATE) && i < n; i++) {
      p += (double)x[i] * x[i];
      m++;
    }
  return m ? p / (double)m : 1e-4;
}

/* Adds noise[0..n) scaled so that its mean power is snr_db below the
 * reference speech power of c (measured on the clean c->mono). */
static inline void tk_mix_at_snr(float *x, size_t n, const tk_convo *c, const float *noise, double snr_db) {
  double pn = 0;
  for (size_t i = 0; i < n; i++) pn += (double)noise[i] * noise[i];
  pn = n ? pn / (double)n : 0;
  if (pn <= 0) return;
  double g = sqrt(tk_speech_power(c->mono, n, c) / pow(10.0, snr_db / 10.0) / pn);
  for (size_t i = 0; i < n; i++) x[i] += (float)(g * noise[i]);
}

/* Mains hum: fundamental f0_hz (50 or 60) and its first 12 harmonics
 * with amplitudes 1/k (a rectified-mains buzz reaches well into the
 * speech band), fixed phases. */
static inline void tk_add_hum(float *x, size_t n, const tk_convo *c, double f0_hz, double snr_db) {
  float *h = calloc(n ? n : 1, sizeof(float));
  if (!h) return;
  for (int k = 1; k <= 13; k++) {
    double w = 2 * M_PI * f0_hz * k / TK_RATE, ph = 0.7 * k;
    for (size_t i = 0; i < n; i++) h[i] += (float)(sin(w * (double)i + ph) / k);
  }
  tk_mix_at_snr(x, n, c, h, snr_db);
  free(h);
}

/* Babble: n_talk streams, each a loop of the given utterances starting
 * at a different utterance and time offset, summed (several talkers at
 * once, as in a cafeteria). utt[0..n_utt) should come from several
 * voices. */
static inline void tk_add_babble(float *x, size_t n, const tk_convo *c, const tk_sig *utt,
                                 size_t n_utt, int n_talk, double snr_db) {
  float *b = calloc(n ? n : 1, sizeof(float));
  if (!b || n_utt == 0) { free(b); return; }
  for (int s = 0; s < n_talk; s++) {
    size_t pos = (size_t)(s * 0.37 * TK_RATE), u = (size_t)s * 3 % n_utt;
    while (pos < n) {
      const tk_sig *g = &utt[u];
      for (size_t k = 0; k < g->n && pos + k < n; k++) b[pos + k] += g->x[k];
      pos += g->n + (size_t)(0.15 * TK_RATE);
      u = (u + 1 + (size_t)s) % n_utt;
    }
  }
  tk_mix_at_snr(x, n, c, b, snr_db);
  free(b);
}

/* One biquad section (direct form I), applied in place. */
static inline void tk_biquad(float *x, size_t n, const double b[3], const double a[3]) {
  double x1 = 0, x2 = 0, y1 = 0, y2 = 0;
  for (size_t i = 0; i < n; i++) {
    double y = (b[0] * x[i] + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2) / a[0];
    x2 = x1; x1 = x[i]; y2 = y1; y1 = y;
    x[i] = (float)y;
  }
}

/* RBJ cookbook high-pass (hp = 1) or low-pass (hp = 0), Q = 0.7071. */
static inline void tk_filter(float *x, size_t n, int rate, double fc, int hp) {
  double w = 2 * M_PI * fc / rate, al = sin(w) / (2 * 0.7071), cw = cos(w);
  double b[3], a[3] = {1 + al, -2 * cw, 1 - al};
  if (hp) { b[0] = (1 + cw) / 2; b[1] = -(1 + cw); b[2] = (1 + cw) / 2; }
  else { b[0] = (1 - cw) / 2; b[1] = 1 - cw; b[2] = (1 - cw) / 2; }
  tk_biquad(x, n, b, a);
}

/* G.711 mu-law encode + decode of one sample in [-1, 1] (the continuous
 * companding law quantised to 8 bits). */
static inline float tk_mulaw(float v) {
  const double mu = 255.0;
  double s = v < 0 ? -1 : 1, a = fmin(fabs((double)v), 1.0);
  double y = log1p(mu * a) / log1p(mu);
  y = round(y * 127.0) / 127.0;
  return (float)(s * (pow(1 + mu, y) - 1) / mu);
}

/* Telephone channel: 300–3400 Hz (two 2nd-order sections each side),
 * resampled to 8 kHz, mu-law, and back to 16 kHz. Returns a new signal
 * of n samples (x unchanged); .x NULL on failure. */
static inline tk_sig tk_telephone(const float *x, size_t n) {
  tk_sig out = {0};
  float *t = malloc((n + 1) * sizeof(float));
  if (!t) return out;
  memcpy(t, x, n * sizeof(float));
  for (int k = 0; k < 2; k++) {
    tk_filter(t, n, TK_RATE, 300.0, 1);
    tk_filter(t, n, TK_RATE, 3400.0, 0);
  }
  tk_sig nb = tk_resample(t, n, TK_RATE, 8000);
  free(t);
  if (!nb.x) return out;
  for (size_t i = 0; i < nb.n; i++) nb.x[i] = tk_mulaw(nb.x[i]);
  tk_sig wb = tk_resample(nb.x, nb.n, 8000, TK_RATE);
  free(nb.x);
  if (!wb.x) return out;
  out.x = calloc(n + 1, sizeof(float));
  if (out.x) {
    memcpy(out.x, wb.x, (wb.n < n ? wb.n : n) * sizeof(float));
    out.n = n;
  }
  free(wb.x);
  return out;
}

#endif /* VM_TESTS_DIAR_NOISE_H */
