/* bench_preprocess.c — preprocessing throughput: voiceman vs spawning ffmpeg.
 *
 * For every recording in DIR, "preprocessing" is what the pipeline's CPU
 * stage does before speech work: SHA-256 of the original
 * (vm_sha256_file), decode to 16 kHz mono float, loudness-normalise.
 *
 *   voiceman  in process: vm_audio_decode_file + vm_audio_normalize.
 *   ffmpeg    the original Python system's way: per file, spawn the ffmpeg
 *             program (posix_spawnp, argv array, no shell) to write a
 *             16 kHz mono s16 WAV to a temp file, read that WAV back
 *             (vm_audio_decode_file), normalise, delete it.
 * Each runs with 1 worker and with all cores (pthreads, files handed out
 * by an atomic index). Wall time is the median of --repeat passes after
 * one warm-up pass (page cache, dynamic loading); the passes of the four
 * cases are interleaved. cpu_s (user + system, ffmpeg children included)
 * beside wall_s shows when other load on the machine stole cores.
 *
 * Napkin math: a 16 kHz float mono minute is 3.84 MB; decoding AAC/MP3/
 * Opus costs a few ms per audio minute, so in-process throughput is in the
 * thousands of audio-seconds per second per core. Spawning ffmpeg costs
 * ~30–60 ms per file (exec, dynamic linking of ~100 libraries, probing)
 * plus a WAV write and read, which dominates for short calls.
 *
 * Verification (a fast wrong answer fails, exit 1): every file must
 * succeed in every case; the SHA-256 and the decoded sample count of each
 * file must be identical between runs (and worker counts) of one method;
 * the total sample count of the ffmpeg method must be within 1 % of
 * voiceman's, not counting the silence voiceman inserts where the decoder
 * drops frames (AMR DTX; the ffmpeg program drops them and shortens the
 * timeline, see audio_decode.c fill_gap).
 *
 *   cmake -S . -B build -DVM_BUILD_BENCH=ON && cmake --build build -t bench_preprocess
 *   build/bench/bench_preprocess build/fixtures/many [--repeat 5] [--threads N]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audio.h"
#include "vm_alloc.h"
#include "vm_sha256.h"
#include "vm_sys.h"
#include "vm_time.h"

extern char **environ;

enum method { M_VOICEMAN = 0, M_FFMPEG = 1 };

/* Per-file outcome of one run. */
typedef struct result {
  int rc;                       /* VM_OK or the failure */
  size_t n_samples;             /* 16 kHz samples after decoding */
  size_t n_filled;              /* of which silence filling timeline gaps */
  uint8_t sha[VM_SHA256_LEN];   /* of the original */
} result;

typedef struct run {
  enum method method;
  char **paths;          /* (n_files,) borrowed */
  int n_files;
  atomic_int next;       /* next file index to claim */
  const char *tmpdir;    /* for the ffmpeg method's WAVs */
  result *res;           /* (n_files,) */
} run;

/* Spawns ffmpeg to convert in → 16 kHz mono s16 WAV at out. Returns 0 when
 * it exited 0. stdin/stdout/stderr go to /dev/null. */
static int spawn_ffmpeg(const char *in, const char *out) {
  char *argv[] = {"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
                  "-y", "-i", (char *)(uintptr_t)in, "-vn", "-ac", "1",
                  "-ar", "16000", "-c:a", "pcm_s16le", "-f", "wav",
                  (char *)(uintptr_t)out, NULL};
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int status = 0, rc;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  rc = posix_spawnp(&pid, "ffmpeg", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void process_one(run *r, int i, int worker) {
  result *res = &r->res[i];
  vm_audio a;
  vm_loudness l;
  vm_err e;
  char wav[512];

  res->rc = vm_sha256_file(r->paths[i], res->sha, NULL, &e);
  if (res->rc) return;
  if (r->method == M_VOICEMAN) {
    res->rc = vm_audio_decode_file(r->paths[i], NULL, &a, &e);
  } else {
    snprintf(wav, sizeof wav, "%s/w%d.wav", r->tmpdir, worker);
    if (spawn_ffmpeg(r->paths[i], wav) != 0) {
      res->rc = VM_EIO;
      return;
    }
    res->rc = vm_audio_decode_file(wav, NULL, &a, &e);
    unlink(wav);
  }
  if (res->rc) return;
  res->rc = vm_audio_normalize(a.samples, a.n_samples, a.sample_rate_hz, NULL,
                               &l, &e);
  res->n_samples = a.n_samples;
  res->n_filled = (size_t)llround(a.facts.filled_s * a.sample_rate_hz);
  vm_audio_deinit(&a);
}

typedef struct worker_arg {
  run *r;
  int id;
} worker_arg;

static void *worker_main(void *p) {
  worker_arg *w = p;
  int i;
  while ((i = atomic_fetch_add(&w->r->next, 1)) < w->r->n_files)
    process_one(w->r, i, w->id);
  return NULL;
}

/* One pass over every file with n_threads workers. OUT: wall seconds. */
static double run_once(run *r, int n_threads) {
  pthread_t th[64];
  worker_arg args[64];
  atomic_store(&r->next, 0);
  double t0 = vm_time_mono();
  for (int t = 0; t < n_threads; t++) {
    args[t] = (worker_arg){r, t};
    pthread_create(&th[t], NULL, worker_main, &args[t]);
  }
  for (int t = 0; t < n_threads; t++) pthread_join(th[t], NULL);
  return vm_time_mono() - t0;
}

/* CPU seconds (user + system) of this process and its waited-for
 * children (the ffmpeg processes). */
static double cpu_seconds(void) {
  struct rusage self, kids;
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &kids);
  return (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec +
                  kids.ru_utime.tv_sec + kids.ru_stime.tv_sec) +
         (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec +
                  kids.ru_utime.tv_usec + kids.ru_stime.tv_usec) * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Regular files of dir, sorted. OUT: *out_paths (vm_free each and it). */
static int list_files(const char *dir, char ***out_paths) {
  DIR *d = opendir(dir);
  struct dirent *de;
  char **paths = NULL;
  int n = 0, cap = 0;
  if (!d) return -1;
  while ((de = readdir(d)) != NULL) {
    struct stat st;
    char *p = vm_asprintf("%s/%s", dir, de->d_name);
    if (!p || de->d_name[0] == '.' || stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
      vm_free(p);
      continue;
    }
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **q = vm_realloc(paths, (size_t)cap * sizeof *q);
      if (!q) break;
      paths = q;
    }
    paths[n++] = p;
  }
  closedir(d);
  if (n) qsort(paths, (size_t)n, sizeof *paths, cmp_str);
  *out_paths = paths;
  return n;
}

typedef struct bench_case {
  const char *name;
  enum method method;
  int n_threads;
  double wall_s;        /* median */
  double cpu_s;         /* mean CPU seconds per run, children included */
  size_t n_samples;     /* total of the last run */
  size_t n_filled;      /* total gap-fill samples of the last run */
  result *res;          /* (n_files,) last run */
  run r;                /* the work list and per-file results */
  result *first;        /* (n_files,) results of the warm-up pass */
  double walls[64];     /* wall seconds of each timed pass */
  int n_walls;
} bench_case;

/* Prepares c and runs its warm-up pass, whose per-file results become the
 * reference every timed run must reproduce. Returns 0 or 1 (no memory). */
static int case_start(bench_case *c, char **paths, int n_files,
                      const char *tmpdir) {
  c->r = (run){.method = c->method, .paths = paths, .n_files = n_files,
               .tmpdir = tmpdir};
  c->first = vm_calloc((size_t)n_files, sizeof *c->first);
  c->r.res = vm_calloc((size_t)n_files, sizeof *c->r.res);
  if (!c->first || !c->r.res) return 1;
  run_once(&c->r, c->n_threads);
  memcpy(c->first, c->r.res, (size_t)n_files * sizeof *c->first);
  return 0;
}

/* One timed pass of c. Returns the number of files that failed or differ
 * from the warm-up. */
static int case_step(bench_case *c) {
  int bad = 0;
  double cpu0 = cpu_seconds();
  c->walls[c->n_walls++] = run_once(&c->r, c->n_threads);
  c->cpu_s += cpu_seconds() - cpu0;
  for (int i = 0; i < c->r.n_files; i++) {
    const result *x = &c->r.res[i], *y = &c->first[i];
    if (x->rc || x->n_samples != y->n_samples ||
        memcmp(x->sha, y->sha, VM_SHA256_LEN) != 0) {
      fprintf(stderr, "%s: %s: rc %s, %zu vs %zu samples\n", c->name,
              c->r.paths[i], vm_err_name(x->rc), x->n_samples, y->n_samples);
      bad++;
    }
  }
  return bad;
}

/* Median wall time, mean CPU time and totals of c's last pass. */
static void case_finish(bench_case *c) {
  qsort(c->walls, (size_t)c->n_walls, sizeof c->walls[0], cmp_double);
  c->wall_s = c->walls[c->n_walls / 2];
  c->cpu_s /= c->n_walls;
  c->n_samples = c->n_filled = 0;
  for (int i = 0; i < c->r.n_files; i++) {
    c->n_samples += c->r.res[i].n_samples;
    c->n_filled += c->r.res[i].n_filled;
  }
  c->res = c->r.res;
  vm_free(c->first);
  c->first = NULL;
}

int main(int argc, char **argv) {
  const char *dir = NULL;
  int repeat = 3, n_threads = vm_sys_ncores(), bad = 0;
  char tmpdir[] = "/tmp/vm_bench_XXXXXX";
  char **paths = NULL;

  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) n_threads = atoi(argv[++i]);
    else dir = argv[i];
  }
  if (!dir || repeat < 1 || repeat > 64 || n_threads < 1 || n_threads > 64) {
    fprintf(stderr, "usage: bench_preprocess DIR [--repeat R] [--threads N]\n");
    return 2;
  }
  int n_files = list_files(dir, &paths);
  if (n_files <= 0 || !mkdtemp(tmpdir)) {
    fprintf(stderr, "bench_preprocess: no files in %s (or no temp dir)\n", dir);
    return 2;
  }
  bench_case cases[] = {
      {.name = "voiceman x1", .method = M_VOICEMAN, .n_threads = 1},
      {.name = "voiceman xN", .method = M_VOICEMAN, .n_threads = n_threads},
      {.name = "ffmpeg-spawn x1", .method = M_FFMPEG, .n_threads = 1},
      {.name = "ffmpeg-spawn xN", .method = M_FFMPEG, .n_threads = n_threads},
  };
  const int n_cases = (int)(sizeof cases / sizeof cases[0]);
  /* Passes are interleaved (case 1..4, then again) so that load from other
   * processes on a shared machine falls on every case alike. */
  for (int c = 0; c < n_cases; c++)
    bad += case_start(&cases[c], paths, n_files, tmpdir);
  for (int k = 0; k < repeat && !bad; k++)
    for (int c = 0; c < n_cases; c++) bad += case_step(&cases[c]);
  if (bad) {
    rmdir(tmpdir);
    fprintf(stderr, "verify: FAIL\n");
    return 1;
  }
  for (int c = 0; c < n_cases; c++) case_finish(&cases[c]);
  rmdir(tmpdir);
  /* 1 worker and N workers of one method must agree file by file. */
  for (int c = 0; c < n_cases; c += 2)
    for (int i = 0; i < n_files; i++)
      if (cases[c].res[i].n_samples != cases[c + 1].res[i].n_samples) {
        fprintf(stderr, "%s vs %s differ on %s\n", cases[c].name,
                cases[c + 1].name, paths[i]);
        bad++;
      }

  double audio_s = (double)cases[0].n_samples / 16000.0;
  double base = audio_s / cases[2].wall_s; /* the original: ffmpeg, 1 file at a time */
  printf("# %d files, %.1f s of audio, %d threads for xN, median of %d runs\n",
         n_files, audio_s, n_threads, repeat);
  printf("%-17s %6s %9s %9s %8s %11s %10s\n", "case", "files", "audio_s",
         "wall_s", "cpu_s", "audio_s/s", "vs_ffmpeg1");
  for (int c = 0; c < n_cases; c++) {
    double tput = audio_s / cases[c].wall_s;
    printf("%-17s %6d %9.1f %9.3f %8.3f %11.1f %9.2fx\n", cases[c].name,
           n_files, audio_s, cases[c].wall_s, cases[c].cpu_s, tput, tput / base);
  }
  printf("scaling voiceman   xN/x1: %.2fx on %d threads\n",
         cases[0].wall_s / cases[1].wall_s, n_threads);
  printf("scaling ffmpeg     xN/x1: %.2fx on %d threads\n",
         cases[2].wall_s / cases[3].wall_s, n_threads);
  printf("voiceman vs ffmpeg, same threads: x1 %.2fx, xN %.2fx\n",
         cases[2].wall_s / cases[0].wall_s, cases[3].wall_s / cases[1].wall_s);
  /* The ffmpeg program drops the frames its decoder rejects (AMR DTX), so
   * compare decoded audio without voiceman's gap-fill silence. */
  double vm_decoded = (double)(cases[0].n_samples - cases[0].n_filled);
  double drift = fabs((double)cases[2].n_samples - vm_decoded) / vm_decoded;
  printf("verify: samples voiceman %zu (of which %.1f s gap fill), ffmpeg %zu "
         "(%.3f%% apart without the fill): %s\n",
         cases[0].n_samples, (double)cases[0].n_filled / 16000.0,
         cases[2].n_samples, 100 * drift, drift <= 0.01 && !bad ? "ok" : "FAIL");
  if (drift > 0.01) bad++;
  for (int c = 0; c < n_cases; c++) vm_free(cases[c].res);
  for (int i = 0; i < n_files; i++) vm_free(paths[i]);
  vm_free(paths);
  return bad ? 1 : 0;
}
