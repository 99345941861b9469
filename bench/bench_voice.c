/* bench_voice.c — speed and memory of the whole set of voice measures
 * (pitch ac, glottal pulses, harmonicity cc, formants, intensity, then the
 * summaries), as audio-seconds analysed per CPU-second on one core.
 *
 *   cmake -S . -B build -DVM_BUILD_BENCH=ON && cmake --build build --target bench_voice
 *   build/bench/bench_voice [--lengths 30,300,1800] [--stream 600,1800,3600,7200] [--repeat 3]
 *
 * Input: espeak-ng speech (English and Korean, four voices, 0.2-0.8 s
 * pauses between utterances) resampled to 16 kHz, tiled to each length.
 * Each length runs in its own forked child, so the peak RSS reported
 * (wait4 ru_maxrss) belongs to that length alone.
 * Array rows: vm_forensic_voice_create on the whole 16 kHz signal; "input"
 * is that float signal, "other" the peak minus the input (tracks and
 * scratch); the peak is taken (VmHWM) before the per-stage speeds, which
 * come from the whole-array dsp functions (the whole-file pitch among
 * them holds its candidate table, ~0.9 MB per audio minute).
 * Stream rows: vm_forensic_voice_create_stream with a source that tiles
 * the utterances on the fly, so no signal is held and the peak RSS is the
 * process (~10 MB of program, libraries and utterances, the "base" row
 * at 1 s) plus the analysis; the tracks' bytes (vm_forensic_voice_get_memory)
 * are given in total, per audio minute and per track, with the largest
 * sample window the analysis held.
 *
 * Napkin math: 300x real time on one core = 3.3 ms of CPU per second of
 * audio = ~200 ns per input sample for all five tracks.
 *
 * Verification: every repeat must give the same tracks (F0 checksum) and
 * a plausible whole-signal summary (F0 mean 60..400 Hz, HNR, F1 and
 * intensity defined); a fast wrong result fails with exit 1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tests/diar/diar_testkit.h"
#include "dsp_formant.h"
#include "dsp_hnr.h"
#include "dsp_intensity.h"
#include "dsp_pitch.h"
#include "dsp_pointprocess.h"
#include "voice_measures.h"

#define N_UTT 8
#define MAX_LENGTHS 8

static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct result {
  int ok;
  double rss_mb;       /* VmHWM before the per-stage timing (its whole-array
                        * reference functions peak higher than the analysis) */
  double audio_s, cpu_median_s, stage_s[6];
  double f0_mean, hnr, f1, int_mean, checksum;
} result;

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Peak RSS of this process so far (VmHWM), MB; -1 if unknown. */
static double hwm_mb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  double mb = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "VmHWM:", 6)) mb = atof(line + 6) / 1024.0;
  if (f) fclose(f);
  return mb;
}

/* The signal: utterances in turn, with pauses, until n samples. */
static float *tile(const tk_sig *u, size_t n) {
  float *x = malloc((n ? n : 1) * sizeof(float));
  if (!x) return NULL;
  size_t pos = 0;
  for (int k = 0; pos < n; k++) {
    const tk_sig *s = &u[k % N_UTT];
    for (size_t i = 0; i < s->n && pos < n; i++) x[pos++] = s->x[i];
    /* pauses written too, so that the whole input is resident and
     * "other" (peak RSS minus input) is what the analysis adds */
    for (size_t e = pos + (size_t)((0.2 + 0.15 * (k % 5)) * TK_RATE); pos < e && pos < n;) x[pos++] = 0.0f;
  }
  return x;
}

/* ---- the same tiling, generated block by block for the stream rows ---- */
#define CYCLE (N_UTT * 5) /* utterance k % 8 and pause k % 5 repeat every 40 */
typedef struct tiler {
  const tk_sig *u;
  size_t start[CYCLE + 1]; /* segment k (utterance + pause) starts here in a cycle */
} tiler;

static void tiler_init(tiler *t, const tk_sig *u) {
  t->u = u, t->start[0] = 0;
  for (int k = 0; k < CYCLE; k++)
    t->start[k + 1] = t->start[k] + u[k % N_UTT].n + (size_t)((0.2 + 0.15 * (k % 5)) * TK_RATE);
}

static int tiler_read(void *user, size_t offset, size_t n, float *buf) {
  const tiler *t = user;
  for (size_t j = 0; j < n;) {
    size_t c = (offset + j) % t->start[CYCLE], k = 0;
    while (t->start[k + 1] <= c) k++;
    const tk_sig *s = &t->u[k % N_UTT];
    size_t in = c - t->start[k], m = t->start[k + 1] - c;
    if (m > n - j) m = n - j;
    if (in < s->n) {
      if (m > s->n - in) m = s->n - in;
      memcpy(buf + j, s->x + in, m * sizeof(float));
    } else {
      memset(buf + j, 0, m * sizeof(float));
    }
    j += m;
  }
  return 0;
}

static double track_checksum(const vm_voice *v) {
  const vm_pitch_track *p = vm_forensic_voice_get_pitch(v);
  double s = 0;
  for (size_t i = 0; i < p->n_frames; i++) s += p->f0_hz[i];
  const vm_pointprocess *pp = vm_forensic_voice_get_pulses(v);
  return s + (double)pp->n;
}

static int voiced_at(void *pitch, double t_s) { return !isnan(vm_dsp_pitch_get_value(pitch, t_s)); }

/* Per-stage CPU time on the same signal (same calls as voice_create). */
static void stages(const float *x, size_t n, double *st) {
  vm_pitch_params pp;
  vm_dsp_pitch_params_init(&pp);
  vm_pitch_track *p = NULL;
  vm_pointprocess *pu = NULL;
  vm_hnr_track *h = NULL;
  vm_formant_track *f = NULL;
  vm_intensity_track *it = NULL;
  vm_hnr_params hp;
  vm_dsp_hnr_params_init(&hp);
  vm_formant_params fp;
  vm_dsp_formant_params_init(&fp);
  double t0 = cpu_s();
  vm_dsp_pitch_create(x, n, TK_RATE, &pp, &p, NULL);
  double t1 = cpu_s();
  if (p) vm_dsp_pointprocess_create(x, n, TK_RATE, p, NULL, &pu, NULL);
  double t2 = cpu_s();
  vm_dsp_hnr_create(x, n, TK_RATE, &hp, &h, NULL);
  double t3 = cpu_s();
  if (p) vm_dsp_formant_create_sparse(x, n, TK_RATE, &fp, voiced_at, p, &f, NULL);
  double t4 = cpu_s();
  vm_dsp_intensity_create(x, n, TK_RATE, 100.0, 0.0, &it, NULL);
  double t5 = cpu_s();
  st[0] = t1 - t0, st[1] = t2 - t1, st[2] = t3 - t2, st[3] = t4 - t3, st[4] = t5 - t4;
  vm_dsp_pitch_destroy(p);
  vm_dsp_pointprocess_destroy(pu);
  vm_dsp_hnr_destroy(h);
  vm_dsp_formant_destroy(f);
  vm_dsp_intensity_destroy(it);
}

/* Runs in the child: repeat x (create + whole summary + 5 s summaries). */
static result run_case(const tk_sig *u, double seconds, int repeat) {
  result r = {0};
  size_t n = (size_t)(seconds * TK_RATE);
  float *x = tile(u, n);
  if (!x) return r;
  r.audio_s = (double)n / TK_RATE;
  double times[32];
  if (repeat > 32) repeat = 32;
  r.ok = 1;
  for (int k = 0; k < repeat; k++) {
    double t0 = cpu_s();
    vm_voice *v = NULL;
    if (vm_forensic_voice_create(x, n, TK_RATE, NULL, &v, NULL)) { r.ok = 0; break; }
    vm_voice_summary s;
    for (double a = 0; a < r.audio_s; a += 5.0) vm_forensic_voice_summary_get(v, a, a + 5.0, &s);
    vm_forensic_voice_summary_get(v, 0, 0, &s);
    times[k] = cpu_s() - t0;
    double cs = track_checksum(v);
    if (k > 0 && cs != r.checksum) r.ok = 0;
    r.checksum = cs;
    r.f0_mean = s.f0_mean_hz.value, r.hnr = s.hnr_db.value;
    r.f1 = s.f1_mean_hz.value, r.int_mean = s.intensity_mean_db.value;
    vm_forensic_voice_destroy(v);
  }
  if (!(r.f0_mean > 60 && r.f0_mean < 400) || isnan(r.hnr) || isnan(r.f1) || isnan(r.int_mean))
    r.ok = 0;
  qsort(times, (size_t)repeat, sizeof(double), cmp_d);
  r.cpu_median_s = times[repeat / 2];
  r.rss_mb = hwm_mb();
  stages(x, n, r.stage_s);
  free(x);
  return r;
}

typedef struct sresult {
  int ok;
  double audio_s, cpu_s, f0_mean, hnr, f1, checksum;
  vm_voice_memory mem;
} sresult;

/* Runs in the child: one streamed analysis of `seconds` of tiled speech. */
static sresult run_stream(const tk_sig *u, double seconds) {
  sresult r = {0};
  tiler t;
  tiler_init(&t, u);
  vm_voice_source src = {(size_t)(seconds * TK_RATE), TK_RATE, tiler_read, &t};
  r.audio_s = (double)src.n_samples / TK_RATE;
  double t0 = cpu_s();
  vm_voice *v = NULL;
  if (vm_forensic_voice_create_stream(&src, NULL, &v, NULL)) return r;
  vm_voice_summary s;
  vm_forensic_voice_summary_get(v, 0, 0, &s);
  r.cpu_s = cpu_s() - t0;
  r.f0_mean = s.f0_mean_hz.value, r.hnr = s.hnr_db.value, r.f1 = s.f1_mean_hz.value;
  r.checksum = track_checksum(v);
  vm_forensic_voice_get_memory(v, &r.mem);
  r.ok = seconds < 10 || (r.f0_mean > 60 && r.f0_mean < 400 && !isnan(r.hnr) && !isnan(r.f1));
  vm_forensic_voice_destroy(v);
  return r;
}

/* Forks run_stream for each length; prints one row each. */
static int bench_stream(const tk_sig *u, const double *lengths, int n) {
  printf("# streamed (vm_forensic_voice_create_stream, source tiles on the fly; no signal held)\n");
  printf("%-8s %8s %7s | %7s %8s %8s %8s | %6s %6s %6s %6s %6s | %6s\n", "audio_s", "cpu_s", "x_rt",
         "rss_MB", "track_MB", "KB/min", "B/10ms", "pitch", "pulses", "hnr", "formnt", "intens",
         "win_MB");
  int fail = 0;
  for (int i = 0; i < n; i++) {
    int fd[2];
    if (pipe(fd)) return 2;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return 2;
    if (pid == 0) {
      close(fd[0]);
      sresult r = run_stream(u, lengths[i]);
      ssize_t w = write(fd[1], &r, sizeof r);
      _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fd[1]);
    sresult r = {0};
    ssize_t got = read(fd[0], &r, sizeof r);
    close(fd[0]);
    int status = 0;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    if (got != (ssize_t)sizeof r || !r.ok || status != 0) {
      printf("%-8.0f FAILED (f0 %.1f hnr %.1f F1 %.0f)\n", lengths[i], r.f0_mean, r.hnr, r.f1);
      fail = 1;
      continue;
    }
    const vm_voice_memory *m = &r.mem;
    double min = r.audio_s / 60.0, kb = 1024.0 * min; /* KB per audio minute */
    printf("%-8.0f %8.3f %7.1f | %7.1f %8.2f %8.1f %8.1f | %6.1f %6.1f %6.1f %6.1f %6.1f | %6.2f\n",
           r.audio_s, r.cpu_s, r.audio_s / r.cpu_s, (double)ru.ru_maxrss / 1024.0,
           (double)m->total_bytes / 1048576.0, (double)m->total_bytes / kb,
           (double)m->total_bytes / (r.audio_s * 100.0), (double)m->pitch_bytes / kb,
           (double)m->pulses_bytes / kb, (double)m->hnr_bytes / kb, (double)m->formant_bytes / kb,
           (double)m->intensity_bytes / kb, (double)m->buffer_peak_bytes / 1048576.0);
    printf("         verify: f0 mean %.2f Hz, HNR %.2f dB, F1 %.0f Hz, checksum %.1f, forced pitch frames %zu\n",
           r.f0_mean, r.hnr, r.f1, r.checksum, m->n_pitch_forced);
  }
  return fail;
}

int main(int argc, char **argv) {
  double lengths[MAX_LENGTHS] = {30, 300, 1800}, slengths[MAX_LENGTHS] = {1, 600, 1800, 3600, 7200};
  int n_lengths = 3, n_slengths = 5, repeat = 3;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
    else if ((!strcmp(argv[i], "--lengths") || !strcmp(argv[i], "--stream")) && i + 1 < argc) {
      int stream = !strcmp(argv[i], "--stream"), *nl = stream ? &n_slengths : &n_lengths;
      double *l = stream ? slengths : lengths;
      *nl = 0;
      for (char *tok = strtok(argv[++i], ","); tok && *nl < MAX_LENGTHS; tok = strtok(NULL, ","))
        if (atof(tok) > 0) l[(*nl)++] = atof(tok);
    } else {
      fprintf(stderr, "usage: %s [--lengths 30,300,1800] [--stream 1,600,1800,3600,7200] [--repeat 3]\n"
              "  (a list of 0 skips that part)\n", argv[0]);
      return 2;
    }
  }
  if (repeat < 1) repeat = 1;
  static const tk_voice v[4] = {{"-v en-us -s 160"}, {"-v en-gb -s 150 -p 70"},
                                {"-v ko -s 150"}, {"-v ko -s 140 -p 30"}};
  static const char *text[N_UTT] = {
      "Hello, this is a test call. Please send the report before Friday.",
      "I will call you back tomorrow morning about the contract.",
      "안녕하세요. 오늘 회의는 세 시에 시작합니다. 자료를 미리 보내 주세요.",
      "지금 당장 돈을 보내지 않으면 큰일 날 줄 알아. 내 말 똑바로 들어.",
      "We never agreed to that price, and you know it very well.",
      "The account number was changed last week without my permission.",
      "고객님 명의로 된 계좌가 범죄에 사용된 정황이 있어서 연락드렸습니다.",
      "그럴 리가 없어요. 저는 그런 계좌를 만든 적이 없습니다.",
  };
  tk_sig u[N_UTT];
  for (int i = 0; i < N_UTT; i++) {
    u[i] = tk_say(&v[i % 4], text[i]);
    if (!u[i].x) { fprintf(stderr, "espeak-ng failed\n"); return 2; }
  }
  tk_cleanup();
  printf("# bench_voice: all voice measures, 1 thread, median of %d; espeak-ng speech at 16 kHz\n", repeat);
  printf("%-8s %9s %9s %9s | %7s %7s %7s %7s %7s | %8s %8s %8s\n", "audio_s", "cpu_s", "x_rt",
         "ms/audio_s", "pitch", "pulses", "hnr", "formant", "intens", "rss_MB", "input_MB", "other_MB");
  int fail = 0;
  for (int i = 0; i < n_lengths; i++) {
    int fd[2];
    if (pipe(fd)) return 2;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return 2;
    if (pid == 0) {
      close(fd[0]);
      result r = run_case(u, lengths[i], repeat);
      ssize_t w = write(fd[1], &r, sizeof r);
      _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fd[1]);
    result r = {0};
    ssize_t got = read(fd[0], &r, sizeof r);
    close(fd[0]);
    int status = 0;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    if (got != (ssize_t)sizeof r || !r.ok || status != 0) {
      printf("%-8.0f FAILED (f0 %.1f hnr %.1f F1 %.0f int %.1f)\n", lengths[i], r.f0_mean, r.hnr,
             r.f1, r.int_mean);
      fail = 1;
      continue;
    }
    double rss = r.rss_mb > 0 ? r.rss_mb : (double)ru.ru_maxrss / 1024.0;
    double in = r.audio_s * TK_RATE * 4 / 1048576.0;
    double a = r.audio_s;
    printf("%-8.0f %9.3f %9.1f %9.3f | %6.0fx %6.0fx %6.0fx %6.0fx %6.0fx | %8.1f %8.1f %8.1f\n", a,
           r.cpu_median_s, a / r.cpu_median_s, 1000 * r.cpu_median_s / a, a / r.stage_s[0],
           a / r.stage_s[1], a / r.stage_s[2], a / r.stage_s[3], a / r.stage_s[4], rss, in, rss - in);
    printf("         verify: f0 mean %.2f Hz, HNR %.2f dB, F1 %.0f Hz, intensity %.2f dB, checksum %.1f\n",
           r.f0_mean, r.hnr, r.f1, r.int_mean, r.checksum);
  }
  if (n_slengths) fail |= bench_stream(u, slengths, n_slengths);
  for (int i = 0; i < N_UTT; i++) free(u[i].x);
  return fail;
}
