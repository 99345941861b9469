/* voice_test_util.h — helpers shared by the voice-measure tests: a tiny
 * 16-bit WAV writer, synthetic voices with known F0/jitter/shimmer/noise,
 * and a runner for tests/praat/voice_report.praat (headless Praat) that
 * parses its "key=value" lines. Header-only (static functions) so that
 * each test executable stays self-contained. */
#ifndef VM_VOICE_TEST_UTIL_H
#define VM_VOICE_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline int vt_write_wav(const char *path, const float *x, size_t n, int rate) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  uint32_t data = (uint32_t)(n * 2), riff = 36 + data, br = (uint32_t)rate * 2, fmt = 16, sr = (uint32_t)rate;
  uint16_t pcm = 1, ch = 1, align = 2, bits = 16;
  fwrite("RIFF", 1, 4, f), fwrite(&riff, 4, 1, f), fwrite("WAVEfmt ", 1, 8, f);
  fwrite(&fmt, 4, 1, f), fwrite(&pcm, 2, 1, f), fwrite(&ch, 2, 1, f), fwrite(&sr, 4, 1, f);
  fwrite(&br, 4, 1, f), fwrite(&align, 2, 1, f), fwrite(&bits, 2, 1, f);
  fwrite("data", 1, 4, f), fwrite(&data, 4, 1, f);
  for (size_t i = 0; i < n; i++) {
    double v = x[i] * 32767.0;
    int16_t s = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : lrint(v));
    fwrite(&s, 2, 1, f);
  }
  return fclose(f);
}

/* Reads back a 16-bit mono WAV (what espeak-ng and vt_write_wav write). */
static inline float *vt_read_wav(const char *path, size_t *n, int *rate) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc((size_t)sz);
  if (!b || fread(b, 1, (size_t)sz, f) != (size_t)sz) { fclose(f); free(b); return NULL; }
  fclose(f);
  *rate = b[24] | b[25] << 8 | b[26] << 16 | b[27] << 24;
  for (long p = 12; p + 8 <= sz;) {
    uint32_t len = b[p + 4] | b[p + 5] << 8 | b[p + 6] << 16 | (uint32_t)b[p + 7] << 24;
    if (!memcmp(b + p, "data", 4)) {
      if (len > (uint32_t)(sz - p - 8)) len = (uint32_t)(sz - p - 8);
      *n = len / 2;
      float *x = malloc(sizeof(float) * (*n + 1));
      for (size_t i = 0; x && i < *n; i++) x[i] = (int16_t)(b[p + 8 + 2 * i] | b[p + 9 + 2 * i] << 8) / 32768.0f;
      free(b);
      return x;
    }
    p += 8 + (long)len + (len & 1);
  }
  free(b);
  return NULL;
}

/* Deterministic Gaussian noise (xorshift + Box-Muller). */
static inline double vt_gauss(uint64_t *s) {
  double u[2];
  for (int k = 0; k < 2; k++) {
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    u[k] = ((*s >> 11) + 0.5) / 9007199254740992.0;
  }
  return sqrt(-2 * log(u[0])) * cos(2 * M_PI * u[1]);
}

/* Synthetic sustained vowel: glottal pulses (band-limited, fractional
 * positions) with relative period jitter and amplitude shimmer (Gaussian
 * SDs), a -12 dB/oct source tilt, three formant resonators, plus white
 * noise at noise_rms. x must hold n floats. */
static inline void vt_vowel(float *x, size_t n, int rate, double f0, double jitter, double shimmer,
                     double noise_rms, const double fmt[3], uint64_t seed) {
  double *y = calloc(n, sizeof(double));
  uint64_t s = seed ? seed : 1;
  for (double t = 0.01; t < (double)n / rate - 0.01;) {
    double a = 1.0 + shimmer * vt_gauss(&s), pos = t * rate;
    long c = (long)floor(pos);
    for (long k = c - 16; k <= c + 16; k++) { /* Hann-windowed sinc impulse */
      if (k < 0 || k >= (long)n) continue;
      double d = k - pos, w = 0.5 + 0.5 * cos(M_PI * d / 17.0);
      y[k] += a * w * (fabs(d) < 1e-9 ? 1.0 : sin(M_PI * d) / (M_PI * d));
    }
    t += (1.0 + jitter * vt_gauss(&s)) / f0;
  }
  double p1 = exp(-2 * M_PI * 100.0 / rate); /* two-pole source tilt */
  double z1 = 0, z2 = 0;
  for (size_t i = 0; i < n; i++) z1 = y[i] + p1 * z1, z2 = z1 + p1 * z2, y[i] = z2 * (1 - p1) * (1 - p1);
  const double bw[3] = {80, 100, 150};
  for (int k = 0; k < 3; k++) {
    double r = exp(-M_PI * bw[k] / rate), th = 2 * M_PI * fmt[k] / rate;
    double a1 = 2 * r * cos(th), a2 = -r * r, g = 1 - a1 - a2, y1 = 0, y2 = 0;
    for (size_t i = 0; i < n; i++) {
      double v = g * y[i] + a1 * y1 + a2 * y2;
      y2 = y1, y1 = v, y[i] = v;
    }
  }
  double peak = 0;
  for (size_t i = 0; i < n; i++) if (fabs(y[i]) > peak) peak = fabs(y[i]);
  for (size_t i = 0; i < n; i++) x[i] = (float)(0.5 * y[i] / peak + noise_rms * vt_gauss(&s));
  free(y);
}

/* ---- Praat ---- */

static inline int vt_have_praat(void) { return system("praat --version >/dev/null 2>&1") == 0; }

#define VT_MAX_KEYS 48
typedef struct vt_report {
  int n;
  char key[VT_MAX_KEYS][32];
  double val[VT_MAX_KEYS];
} vt_report;

/* Runs tests/praat/<script> on wav; 0 on success. */
static inline int vt_praat(const char *script, const char *wav, double floor_hz, double ceil_hz, vt_report *r) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "praat --run '%s/tests/praat/%s' '%s' %g %g 2>&1", VM_SOURCE_DIR, script,
           wav, floor_hz, ceil_hz);
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  char line[512];
  r->n = 0;
  while (fgets(line, sizeof line, p)) {
    char *eq = strchr(line, '=');
    if (!eq || r->n >= VT_MAX_KEYS) continue;
    *eq = 0;
    size_t kl = strlen(line) < sizeof r->key[0] - 1 ? strlen(line) : sizeof r->key[0] - 1;
    memcpy(r->key[r->n], line, kl);
    r->key[r->n][kl] = 0;
    r->val[r->n] = strstr(eq + 1, "undefined") ? NAN : atof(eq + 1);
    r->n++;
  }
  return pclose(p) == 0 ? 0 : -1;
}

static inline double vt_get(const vt_report *r, const char *key) {
  for (int i = 0; i < r->n; i++) if (!strcmp(r->key[i], key)) return r->val[i];
  return NAN;
}

/* A fresh temporary folder (caller removes files; folder kept small). */
static char vt_dir_[64];
static inline void vt_rmdir_(void) { rmdir(vt_dir_); }
static inline const char *vt_tmpdir(void) {
  if (!vt_dir_[0]) {
    snprintf(vt_dir_, sizeof vt_dir_, "/tmp/vm_voice_XXXXXX");
    if (!mkdtemp(vt_dir_)) return "/tmp";
    atexit(vt_rmdir_);
  }
  return vt_dir_;
}

/* |a - b| <= rel * |b| or <= abs_tol */
static inline int vt_close(double a, double b, double rel, double abs_tol) {
  return fabs(a - b) <= rel * fabs(b) || fabs(a - b) <= abs_tol;
}

#endif /* VM_VOICE_TEST_UTIL_H */
