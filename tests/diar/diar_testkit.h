/* diar_testkit.h — test-only helpers for the VAD/diarization tests:
 * espeak-ng synthesis into a mkdtemp folder, a tiny 16-bit PCM WAV
 * reader, a windowed-sinc resampler (espeak's 22050 Hz → 16 kHz),
 * conversation building with exactly known turn boundaries, white noise
 * at a given SNR, and the scoring (DER with collar and optimal speaker
 * mapping, VAD frame accuracy). Header-only, static functions; included
 * by tests/unit/test_forensic_*.c only.
 *
 * Ground truth: each synthesized utterance is trimmed to its first and
 * last sample above TK_TRIM (-46 dBFS); the turn is exactly that span, placed
 * at a known sample offset. Gaps inside an utterance (between words) are
 * part of the turn, as a human annotator would mark it. */
#ifndef VM_TESTS_DIAR_TESTKIT_H
#define VM_TESTS_DIAR_TESTKIT_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TK_RATE 16000
#define TK_TRIM 0.005f
#define TK_MAX_TURNS 512

typedef struct tk_voice {
  const char *args; /* espeak-ng voice arguments, e.g. "-v ko -p 20 -s 130" */
} tk_voice;

typedef struct tk_sig { /* owned float samples at 16 kHz */
  float *x;
  size_t n;
} tk_sig;

typedef struct tk_ref_turn {
  double start_s, end_s;
  int speaker;
} tk_ref_turn;

typedef struct tk_convo {
  float *mono;       /* (n) sum of the parties */
  float *ch[2];      /* (n) party 0 (and 2, 4...) / party 1 (and 3...) */
  size_t n;
  tk_ref_turn ref[TK_MAX_TURNS];
  size_t n_ref;
  int n_speakers;
} tk_convo;

static char tk_dir_[256];

/* A fresh temp folder for this test process ("" on failure). */
static inline const char *tk_tmpdir(void) {
  if (!tk_dir_[0]) {
    const char *base = getenv("TMPDIR");
    snprintf(tk_dir_, sizeof tk_dir_, "%s/vmdiarXXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tk_dir_)) tk_dir_[0] = 0;
  }
  return tk_dir_;
}

static inline void tk_cleanup(void) {
  if (!tk_dir_[0]) return;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tk_dir_);
  if (system(cmd) != 0) fprintf(stderr, "cleanup of %s failed\n", tk_dir_);
  tk_dir_[0] = 0;
}

static inline uint32_t tk_u32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static inline uint16_t tk_u16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* Reads a 16-bit PCM mono WAV. OUT: *x (malloc), *n, *rate. 0 on success. */
static inline int tk_wav_read(const char *path, float **x, size_t *n, int *rate) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc((size_t)sz);
  int rc = -1;
  if (!b || fread(b, 1, (size_t)sz, f) != (size_t)sz || sz < 12 || memcmp(b, "RIFF", 4) ||
      memcmp(b + 8, "WAVE", 4))
    goto out;
  int ch = 0, bits = 0;
  for (long p = 12; p + 8 <= sz;) {
    uint32_t len = tk_u32(b + p + 4);
    if (!memcmp(b + p, "fmt ", 4) && len >= 16) {
      ch = tk_u16(b + p + 10);
      *rate = (int)tk_u32(b + p + 12);
      bits = tk_u16(b + p + 22);
    } else if (!memcmp(b + p, "data", 4)) {
      if (ch != 1 || bits != 16) goto out;
      if (len > (uint32_t)(sz - p - 8)) len = (uint32_t)(sz - p - 8); /* espeak may leave 0 / huge */
      *n = len / 2;
      *x = malloc((*n + 1) * sizeof(float));
      if (!*x) goto out;
      for (size_t i = 0; i < *n; i++) (*x)[i] = (int16_t)tk_u16(b + p + 8 + 2 * i) / 32768.0f;
      rc = 0;
      goto out;
    }
    p += 8 + len + (len & 1);
  }
out:
  free(b);
  fclose(f);
  return rc;
}

/* Windowed-sinc resampling (Hann, 16 zero crossings each side, cut-off
 * at 0.45 of the lower rate). The output sample times fall on
 * to / gcd(from, to) distinct fractional phases, so the taps are computed
 * once per phase (polyphase table; 320 phases for 22050 -> 16000 Hz).
 * OUT: new malloc'ed signal. */
static inline tk_sig tk_resample(const float *x, size_t n, int from, int to) {
  tk_sig s = {0};
  s.n = (size_t)((double)n * to / from);
  s.x = malloc((s.n + 1) * sizeof(float));
  if (!s.x) { s.n = 0; return s; }
  double fc = 0.45 * (to < from ? to : from) / from * 2.0; /* fraction of Nyquist (input) */
  const int half = 16;
  double width = half / fc;
  long w = (long)width, n_taps = 2 * w + 2;
  int g = from, r = to;
  while (r) { int t = g % r; g = r; r = t; }
  size_t n_ph = (size_t)(to / g);
  double *tab = malloc(n_ph * (size_t)n_taps * sizeof(double));
  if (!tab) { free(s.x); s.x = NULL; s.n = 0; return s; }
  for (size_t ph = 0; ph < n_ph; ph++) { /* phase ph: t - floor(t) = ph * from / to mod 1 */
    double frac = (double)((ph * (size_t)from) % (size_t)to) / to;
    for (long j = 0; j < n_taps; j++) {
      double d = frac + (double)(w - j), arg = d * fc; /* k = c - w + j */
      double sinc = fabs(arg) < 1e-9 ? 1.0 : sin(M_PI * arg) / (M_PI * arg);
      tab[ph * (size_t)n_taps + (size_t)j] = fabs(d) > width ? 0.0 : fc * sinc * (0.5 + 0.5 * cos(M_PI * d / width));
    }
  }
  for (size_t i = 0; i < s.n; i++) {
    size_t num = i * (size_t)from;
    long c = (long)(num / (size_t)to);
    const double *tp = tab + (i % n_ph) * (size_t)n_taps;
    double acc = 0;
    for (long j = 0; j < n_taps; j++) {
      long k = c - w + j;
      if (k >= 0 && (size_t)k < n) acc += x[k] * tp[j];
    }
    s.x[i] = (float)acc;
  }
  free(tab);
  return s;
}

/* Synthesizes text with espeak-ng, resamples to 16 kHz and trims the
 * leading/trailing silence. s.x == NULL on failure. */
static inline tk_sig tk_say(const tk_voice *v, const char *text) {
  static int counter;
  tk_sig s = {0};
  char path[400], cmd[1600];
  snprintf(path, sizeof path, "%s/u%d.wav", tk_tmpdir(), counter++);
  snprintf(cmd, sizeof cmd, "espeak-ng %s -w '%s' '%s'", v->args, path, text);
  if (system(cmd) != 0) return s;
  float *x = NULL;
  size_t n = 0;
  int rate = 0;
  if (tk_wav_read(path, &x, &n, &rate) != 0) return s;
  tk_sig r = tk_resample(x, n, rate, TK_RATE);
  free(x);
  size_t a = 0, b = r.n;
  while (a < b && fabsf(r.x[a]) < TK_TRIM) a++;
  while (b > a && fabsf(r.x[b - 1]) < TK_TRIM) b--;
  s.n = b - a;
  s.x = malloc((s.n + 1) * sizeof(float));
  if (s.x) memcpy(s.x, r.x + a, s.n * sizeof(float));
  free(r.x);
  return s;
}

/* One planned turn: which utterance, who says it, the gap before it. */
typedef struct tk_turn_plan {
  const tk_sig *utt;
  int speaker;
  double gap_before_s; /* may be negative: overlap with the previous turn */
} tk_turn_plan;

/* Lays the turns out with lead_s of silence at both ends. Party p goes to
 * channel p % 2. */
static inline int tk_convo_build(const tk_turn_plan *plan, size_t n_turns, double lead_s, tk_convo *c) {
  memset(c, 0, sizeof *c);
  size_t pos = (size_t)(lead_s * TK_RATE), total = pos;
  for (size_t i = 0; i < n_turns; i++) {
    if (i > 0) total = (size_t)((double)total + plan[i].gap_before_s * TK_RATE);
    total += plan[i].utt->n;
  }
  c->n = total + (size_t)(lead_s * TK_RATE);
  c->mono = calloc(c->n, sizeof(float));
  c->ch[0] = calloc(c->n, sizeof(float));
  c->ch[1] = calloc(c->n, sizeof(float));
  if (!c->mono || !c->ch[0] || !c->ch[1] || n_turns > TK_MAX_TURNS) return -1;
  for (size_t i = 0; i < n_turns; i++) {
    if (i > 0) pos = (size_t)((double)pos + plan[i].gap_before_s * TK_RATE);
    const tk_sig *u = plan[i].utt;
    float *ch = c->ch[plan[i].speaker % 2];
    for (size_t k = 0; k < u->n; k++) {
      ch[pos + k] += u->x[k];
      c->mono[pos + k] += u->x[k];
    }
    c->ref[c->n_ref++] = (tk_ref_turn){(double)pos / TK_RATE, (double)(pos + u->n) / TK_RATE,
                                       plan[i].speaker};
    if (plan[i].speaker + 1 > c->n_speakers) c->n_speakers = plan[i].speaker + 1;
    pos += u->n;
  }
  return 0;
}

/* out = src repeated as a whole (copies 0.5 s apart) to about total_s
 * (at least one copy; at most TK_MAX_TURNS turns): a replayed or looped
 * recording. Free out with tk_convo_free. 0 on success. */
static inline int tk_tile(const tk_convo *src, double total_s, tk_convo *out) {
  size_t gap = TK_RATE / 2, copies = (size_t)(total_s * TK_RATE / (double)(src->n + gap));
  if (copies < 1) copies = 1;
  if (copies * src->n_ref > TK_MAX_TURNS) copies = TK_MAX_TURNS / (src->n_ref ? src->n_ref : 1);
  memset(out, 0, sizeof *out);
  out->n = copies * (src->n + gap);
  out->mono = calloc(out->n, sizeof(float));
  out->ch[0] = calloc(out->n, sizeof(float));
  out->ch[1] = calloc(out->n, sizeof(float));
  if (!out->mono || !out->ch[0] || !out->ch[1]) return -1;
  for (size_t k = 0; k < copies; k++) {
    size_t off = k * (src->n + gap);
    memcpy(out->mono + off, src->mono, src->n * sizeof(float));
    memcpy(out->ch[0] + off, src->ch[0], src->n * sizeof(float));
    memcpy(out->ch[1] + off, src->ch[1], src->n * sizeof(float));
    for (size_t r = 0; r < src->n_ref; r++) {
      tk_ref_turn t = src->ref[r];
      t.start_s += (double)off / TK_RATE;
      t.end_s += (double)off / TK_RATE;
      out->ref[out->n_ref++] = t;
    }
  }
  out->n_speakers = src->n_speakers;
  return 0;
}

static inline void tk_convo_free(tk_convo *c) {
  free(c->mono);
  free(c->ch[0]);
  free(c->ch[1]);
  memset(c, 0, sizeof *c);
}

/* Adds white Gaussian noise at snr_db relative to the mean power of the
 * reference speech of x, deterministically (seeded LCG + Box-Muller). */
static inline void tk_add_noise(float *x, size_t n, const tk_convo *c, double snr_db, uint32_t seed) {
  double p = 0;
  size_t m = 0;
  for (size_t r = 0; r < c->n_ref; r++)
    for (size_t i = (size_t)(c->ref[r].start_s * TK_RATE); i < (size_t)(c->ref[r].end_s * TK_RATE) && i < n; i++) {
      p += (double)c->mono[i] * c->mono[i];
      m++;
    }
  double sigma = sqrt((m ? p / (double)m : 1e-4) / pow(10.0, snr_db / 10.0));
  uint64_t st = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i += 2) {
    st = st * 6364136223846793005ull + 1442695040888963407ull;
    double u1 = ((st >> 11) + 1.0) / 9007199254740994.0;
    st = st * 6364136223846793005ull + 1442695040888963407ull;
    double u2 = (st >> 11) / 9007199254740992.0;
    double r = sqrt(-2 * log(u1));
    x[i] += (float)(sigma * r * cos(2 * M_PI * u2));
    if (i + 1 < n) x[i + 1] += (float)(sigma * r * sin(2 * M_PI * u2));
  }
}

/* Speaker of reference frame t (10 ms, judged at its centre), -1 = none. */
static inline int tk_ref_at(const tk_convo *c, double t) {
  for (size_t r = 0; r < c->n_ref; r++)
    if (t >= c->ref[r].start_s && t < c->ref[r].end_s) return c->ref[r].speaker;
  return -1;
}

/* Fraction of 10 ms frames where speech[] agrees with the reference. */
static inline double tk_vad_accuracy(const tk_convo *c, const uint8_t *speech, size_t n_frames) {
  size_t ok = 0;
  for (size_t t = 0; t < n_frames; t++) ok += (tk_ref_at(c, (t + 0.5) * 0.01) >= 0) == (speech[t] != 0);
  return n_frames ? (double)ok / (double)n_frames : 1.0;
}

typedef struct tk_hyp_turn {
  double start_s, end_s;
  int speaker;
} tk_hyp_turn;

/* Diarization error rate on 10 ms frames: (missed + false alarm +
 * confusion) / scored reference speech, excluding frames within collar_s
 * of any reference turn boundary, with the speaker mapping (reference →
 * hypothesis, one-to-one) that minimises confusion (brute force over all
 * injective maps; <= 4 reference and <= 8 hypothesis speakers). */
static inline double tk_der(const tk_convo *c, const tk_hyp_turn *hyp, size_t n_hyp, double collar_s) {
  enum { R = 4, H = 8 };
  double cnt[R][H + 1];
  memset(cnt, 0, sizeof cnt);
  double total = 0, miss = 0, fa = 0;
  double dur = (double)c->n / TK_RATE;
  for (double t = 0.005; t < dur; t += 0.01) {
    int near = 0;
    for (size_t r = 0; r < c->n_ref && !near; r++)
      near = fabs(t - c->ref[r].start_s) < collar_s || fabs(t - c->ref[r].end_s) < collar_s;
    if (near) continue;
    int rs = tk_ref_at(c, t), hs = -1;
    for (size_t h = 0; h < n_hyp; h++)
      if (t >= hyp[h].start_s && t < hyp[h].end_s) { hs = hyp[h].speaker; break; }
    if (rs >= 0) total++;
    if (rs >= 0 && hs < 0) miss++;
    if (rs < 0 && hs >= 0) fa++;
    if (rs >= 0 && hs >= 0 && rs < R && hs < H) cnt[rs][hs]++;
  }
  /* best one-to-one map by brute force over hypothesis choices */
  double best = 0;
  int nr = c->n_speakers < R ? c->n_speakers : R;
  int choice[R] = {0};
  for (;;) {
    int dup = 0;
    for (int i = 0; i < nr; i++)
      for (int j = i + 1; j < nr; j++) dup |= choice[i] == choice[j];
    if (!dup) {
      double m = 0;
      for (int i = 0; i < nr; i++) m += cnt[i][choice[i]];
      if (m > best) best = m;
    }
    int i = 0;
    while (i < nr && ++choice[i] == H) choice[i++] = 0;
    if (i == nr) break;
  }
  double both = 0;
  for (int i = 0; i < R; i++)
    for (int j = 0; j < H; j++) both += cnt[i][j];
  double conf = both - best;
  return total > 0 ? (miss + fa + conf) / total : 0;
}

#endif /* VM_TESTS_DIAR_TESTKIT_H */
