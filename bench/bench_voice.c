/* bench_voice.c — speed and memory of the whole set of voice measures
 * (pitch ac, glottal pulses, harmonicity cc, formants, intensity, then the
 * summaries), as audio-seconds analysed per CPU-second on one core.
 *
 *   cmake -S . -B build -DVM_BUILD_BENCH=ON && cmake --build build --target bench_voice
 *   build/bench/bench_voice [--lengths 30,300,1800] [--repeat 3]
 *
 * Input: espeak-ng speech (English and Korean, four voices, 0.2-0.8 s
 * pauses between utterances) resampled to 16 kHz, tiled to each length.
 * Each length runs in its own forked child, so the peak RSS reported
 * (wait4 ru_maxrss) belongs to that length alone; "input" is the 16 kHz
 * float signal itself, "other" the peak minus the input (tracks and
 * scratch).
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
  double audio_s, cpu_median_s, stage_s[6];
  double f0_mean, hnr, f1, int_mean, checksum;
} result;

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The signal: utterances in turn, with pauses, until n samples. */
static float *tile(const tk_sig *u, size_t n) {
  float *x = calloc(n ? n : 1, sizeof(float));
  if (!x) return NULL;
  size_t pos = 0;
  for (int k = 0; pos < n; k++) {
    const tk_sig *s = &u[k % N_UTT];
    for (size_t i = 0; i < s->n && pos < n; i++) x[pos++] = s->x[i];
    pos += (size_t)((0.2 + 0.15 * (k % 5)) * TK_RATE);
  }
  return x;
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
  stages(x, n, r.stage_s);
  free(x);
  return r;
}

int main(int argc, char **argv) {
  double lengths[MAX_LENGTHS] = {30, 300, 1800};
  int n_lengths = 3, repeat = 3;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--lengths") && i + 1 < argc) {
      n_lengths = 0;
      for (char *tok = strtok(argv[++i], ","); tok && n_lengths < MAX_LENGTHS; tok = strtok(NULL, ","))
        lengths[n_lengths++] = atof(tok);
    } else {
      fprintf(stderr, "usage: %s [--lengths 30,300,1800] [--repeat 3]\n", argv[0]);
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
    double rss = (double)ru.ru_maxrss / 1024.0, in = r.audio_s * TK_RATE * 4 / 1048576.0;
    double a = r.audio_s;
    printf("%-8.0f %9.3f %9.1f %9.3f | %6.0fx %6.0fx %6.0fx %6.0fx %6.0fx | %8.1f %8.1f %8.1f\n", a,
           r.cpu_median_s, a / r.cpu_median_s, 1000 * r.cpu_median_s / a, a / r.stage_s[0],
           a / r.stage_s[1], a / r.stage_s[2], a / r.stage_s[3], a / r.stage_s[4], rss, in, rss - in);
    printf("         verify: f0 mean %.2f Hz, HNR %.2f dB, F1 %.0f Hz, intensity %.2f dB, checksum %.1f\n",
           r.f0_mean, r.hnr, r.f1, r.int_mean, r.checksum);
  }
  for (int i = 0; i < N_UTT; i++) free(u[i].x);
  return fail;
}
