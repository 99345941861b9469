/* Unit tests for vm_audio_decode_file / vm_audio_decode_memory on the
 * generated fixtures (tests/fixtures/make_fixtures.sh → VM_FIXTURE_DIR).
 *
 * The reference duration of every good/ file comes from the ffprobe
 * program, run here through popen with the path single-quoted (one fixture
 * name has spaces, parentheses and Hangul).
 *
 *   ctest --test-dir build -R test_audio_decode --output-on-failure
 *   build/tests/test_audio_decode test_bad_files     # one test
 */
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audio.h"
#include "test.h"
#include "vm_alloc.h"
#include "vm_fs.h"

#define GOOD VM_FIXTURE_DIR "/good"
#define BAD VM_FIXTURE_DIR "/bad"

/* ---- helpers ---------------------------------------------------------- */

/* Runs `ffprobe -v error <args> 'path'` and returns the sum of the numbers
 * it prints, one per line (-1 if none). The path goes inside single quotes
 * with every ' written as '\'' so no character of it reaches the shell as
 * syntax. */
static double ffprobe_sum(const char *args, const char *path) {
  char cmd[4096];
  int k = snprintf(cmd, sizeof cmd, "ffprobe -v error %s '", args);
  for (const char *s = path; *s && k < (int)sizeof cmd - 8; s++) {
    if (*s == '\'') {
      memcpy(cmd + k, "'\\''", 4);
      k += 4;
    } else {
      cmd[k++] = *s;
    }
  }
  cmd[k++] = '\'';
  cmd[k] = '\0';
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  double sum = 0, v;
  int n = 0;
  while (fscanf(p, "%lf", &v) == 1) sum += v, n++;
  pclose(p);
  return n ? sum : -1;
}

/* What ffprobe says the duration of path is. */
static double ffprobe_duration(const char *path) {
  return ffprobe_sum("-show_entries format=duration -of csv=p=0", path);
}

/* Where ffprobe says the presentation starts (0 if N/A or negative): an
 * MP3 with LAME gapless info starts after the encoder delay, which the
 * decoder drops but the format duration still counts. */
static double ffprobe_start(const char *path) {
  double t = ffprobe_sum("-show_entries format=start_time -of csv=p=0", path);
  return t > 0 ? t : 0;
}

/* Sum of the audio packet durations, for formats whose format-level
 * duration ffprobe only estimates from the bit rate. */
static double ffprobe_packet_sum(const char *path) {
  return ffprobe_sum("-select_streams a:0 -show_entries packet=duration_time "
                     "-of csv=p=0", path);
}

static const char *ext_of(const char *name) {
  const char *dot = strrchr(name, '.');
  return dot ? dot + 1 : "";
}

/* Codec every good/ container must report (avcodec_get_name names). */
static const char *expected_codec(const char *name) {
  static const char *const map[][2] = {
      {"m4a", "aac"},   {"mp4", "aac"},   {"3gp", "aac"},  {"mp3", "mp3"},
      {"amr", "amr_nb"}, {"flac", "flac"}, {"opus", "opus"}, {"webm", "opus"},
      {"ogg", "vorbis"}, {"wav", "pcm_s16le"}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(ext_of(name), map[i][0]) == 0) return map[i][1];
  return "?";
}

static float peak_of(const float *x, size_t n) {
  float p = 0;
  for (size_t i = 0; i < n; i++) p = fabsf(x[i]) > p ? fabsf(x[i]) : p;
  return p;
}

/* Writes the first n bytes of src to dst. */
static int copy_prefix(const char *src, const char *dst, size_t n) {
  char *buf = NULL;
  size_t len = 0;
  vm_err e;
  int rc = vm_fs_read_all(src, 64u << 20, &buf, &len, &e);
  if (rc) return rc;
  FILE *f = fopen(dst, "wb");
  if (!f) {
    vm_free(buf);
    return VM_EIO;
  }
  size_t m = n < len ? n : len;
  rc = fwrite(buf, 1, m, f) == m ? 0 : VM_EIO;
  fclose(f);
  vm_free(buf);
  return rc;
}

/* ---- good files ----------------------------------------------------------- */

static int check_good(const char *name) {
  char path[1024];
  vm_audio a;
  vm_err e;
  snprintf(path, sizeof path, "%s/%s", GOOD, name);
  double declared = ffprobe_duration(path), start = ffprobe_start(path);
  /* AMR: ffprobe's format duration is file size / bit rate, wrong when the
   * encoder used DTX (4.3 kb/s silence frames); the packets give the real
   * length, and the decoder keeps DTX frames on the timeline. */
  double want = strcmp(ext_of(name), "amr") == 0 ? ffprobe_packet_sum(path)
                                                 : declared - start;
  ASSERT(want > 0 && declared > 0);
  int rc = vm_audio_decode_file(path, NULL, &a, &e);
  if (rc) fprintf(stderr, "%s: %s\n", name, e.msg);
  ASSERT_OK(rc);
  fprintf(stderr, "%-34s %-10s %6d Hz %d ch %8.4f s (ffprobe %8.4f) peak %.3f\n",
          name, a.facts.codec, a.facts.native_rate_hz, a.facts.native_channels,
          a.facts.duration_s, want, (double)peak_of(a.samples, a.n_samples));
  ASSERT_NEAR(a.facts.duration_s, want, want * 0.01);
  ASSERT_NEAR(a.facts.container_duration_s, declared, declared * 0.001);
  ASSERT_EQ(a.sample_rate_hz, 16000);
  ASSERT_NEAR((double)a.n_samples / 16000.0, a.facts.duration_s,
              a.facts.duration_s * 0.01 + 0.002);
  ASSERT_STR_EQ(a.facts.codec, expected_codec(name));
  ASSERT_EQ(a.facts.n_audio_streams, 1);
  if (strcmp(ext_of(name), "amr") == 0) {
    /* FFmpeg's amrnb rejects the DTX frames; each left 20 ms of silence */
    ASSERT_GT(a.facts.n_decode_errors, 0);
    ASSERT_NEAR(a.facts.filled_s, a.facts.n_decode_errors * 0.020, 0.001);
  } else {
    ASSERT_EQ(a.facts.n_decode_errors, 0);
    ASSERT_NEAR(a.facts.filled_s, 0, 0);
  }
  ASSERT(a.facts.native_channels >= 1);
  ASSERT_NULL(a.native);
  float peak = peak_of(a.samples, a.n_samples);
  ASSERT(peak <= 1.05f); /* lossy codecs may overshoot full scale a little */
  if (strstr(name, "silent"))
    ASSERT(peak < 1e-3f);
  else
    ASSERT(peak > 0.05f);
  vm_audio_deinit(&a);
  ASSERT_NULL(a.samples);
  return 0;
}

static int test_good_files(void) {
  DIR *d = opendir(GOOD);
  struct dirent *de;
  int n = 0, rc = 0;
  ASSERT_NOT_NULL(d);
  while (rc == 0 && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.') continue;
    rc = check_good(de->d_name);
    n++;
  }
  closedir(d);
  ASSERT_EQ(rc, 0);
  ASSERT_GE(n, 13);
  return 0;
}

static int test_native_stereo_downmix(void) {
  /* The stereo WAV is the mono voice on both channels: the downmix must be
   * the average (L + R) / 2 of the raw PCM, not +3 dB louder. */
  const char *path = GOOD "/ko1_stereo44k.wav";
  vm_audio_opts o = vm_audio_opts_default();
  vm_audio a;
  vm_err e;
  char *raw = NULL;
  size_t n_raw = 0;
  o.keep_native = 1;
  ASSERT_OK(vm_audio_decode_file(path, &o, &a, &e));
  ASSERT_EQ(a.facts.native_rate_hz, 44100);
  ASSERT_EQ(a.facts.native_channels, 2);
  ASSERT_STR_EQ(a.facts.container, "wav");
  ASSERT_NOT_NULL(a.native);
  ASSERT_OK(vm_fs_read_all(path, 8u << 20, &raw, &n_raw, &e));
  const char *data = NULL;
  for (size_t i = 12; i + 8 <= n_raw; i++)
    if (memcmp(raw + i, "data", 4) == 0) { data = raw + i + 8; break; }
  ASSERT_NOT_NULL(data);
  size_t n_frames = (n_raw - (size_t)(data - raw)) / 4;
  ASSERT_EQ(a.n_native, n_frames);
  double max_diff = 0;
  for (size_t i = 0; i < n_frames; i++) {
    int16_t lr[2];
    memcpy(lr, data + 4 * i, 4);
    double want = ((double)lr[0] + lr[1]) / 2.0 / 32768.0;
    double diff = fabs(want - a.native[i]);
    if (diff > max_diff) max_diff = diff;
  }
  ASSERT(max_diff < 1e-6);
  ASSERT_NEAR((double)a.n_samples, n_frames * 16000.0 / 44100.0, 16);
  vm_free(raw);
  vm_audio_deinit(&a);
  return 0;
}

/* keep_channels: one party per channel comes back apart, at 16 kHz, and
 * the mono signal is their average; a mono file gives no channels. */
static int test_keep_channels(void) {
  vm_audio_opts o = vm_audio_opts_default();
  vm_audio a;
  vm_err e;
  o.keep_channels = 1;
  ASSERT_OK(vm_audio_decode_file(GOOD "/split_stereo.wav", &o, &a, &e));
  ASSERT_NOT_NULL(a.channel[0]);
  ASSERT_NOT_NULL(a.channel[1]);
  ASSERT_EQ(a.n_channel, a.n_samples);
  double max_avg_err = 0, e0 = 0, e1 = 0, ediff = 0;
  for (size_t i = 0; i < a.n_samples; i++) {
    double l = a.channel[0][i], r = a.channel[1][i];
    double d = fabs((l + r) / 2 - a.samples[i]);
    if (d > max_avg_err) max_avg_err = d;
    e0 += l * l;
    e1 += r * r;
    ediff += (l - r) * (l - r);
  }
  ASSERT(max_avg_err < 1e-4);
  ASSERT(e0 > 1 && e1 > 1);                 /* both parties speak */
  ASSERT(ediff > 0.5 * (e0 + e1) * 0.5);    /* and they differ */
  vm_audio_deinit(&a);
  ASSERT_OK(vm_audio_decode_file(GOOD "/ko1.m4a", &o, &a, &e));
  ASSERT_NULL(a.channel[0]);
  ASSERT_EQ(a.n_channel, 0);
  vm_audio_deinit(&a);
  return 0;
}

/* ---- bad files ------------------------------------------------------------- */

static int check_bad(const char *path, int want_rc, const char *want_msg) {
  vm_audio a;
  vm_err e;
  int rc = vm_audio_decode_file(path, NULL, &a, &e);
  fprintf(stderr, "%s: %s (%s)\n", path, e.msg, vm_err_name(rc));
  ASSERT_EQ(rc, want_rc);
  ASSERT_EQ(e.code, want_rc);
  ASSERT_STR_CONTAINS(e.msg, want_msg);
  ASSERT_NULL(a.samples);
  ASSERT_EQ(a.n_samples, 0);
  return 0;
}

static int test_bad_files(void) {
  static const struct { const char *name; int rc; const char *msg; } cases[] = {
      {"empty.m4a", VM_EEMPTY, "empty file (0 bytes)"},
      {"random.m4a", VM_EFORMAT, "not an audio file (unrecognised format)"},
      {"text.wav", VM_EFORMAT, "not an audio file (looks like text)"},
      {"truncated.m4a", VM_EDECODE, "truncated AAC stream at "},
      {"video_only.mp4", VM_ENOAUDIO, "no audio stream (the file has 1 video stream)"},
  };
  DIR *d = opendir(BAD);
  struct dirent *de;
  int n = 0;
  ASSERT_NOT_NULL(d);
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.') continue;
    size_t i = 0;
    while (i < sizeof cases / sizeof cases[0] && strcmp(cases[i].name, de->d_name))
      i++;
    if (i == sizeof cases / sizeof cases[0]) {
      closedir(d);
      TEST_FAIL_("bad/%s has no expected outcome in this test", de->d_name);
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", BAD, de->d_name);
    if (check_bad(path, cases[i].rc, cases[i].msg)) {
      closedir(d);
      return 1;
    }
    n++;
  }
  closedir(d);
  ASSERT_EQ(n, (int)(sizeof cases / sizeof cases[0]));
  return 0;
}

static int test_truncated_position(void) {
  /* Cut at 55 % of 7.08 s: the reported position must be well inside. */
  vm_audio a;
  vm_err e;
  ASSERT_EQ(vm_audio_decode_file(BAD "/truncated.m4a", NULL, &a, &e), VM_EDECODE);
  const char *at = strstr(e.msg, " at ");
  ASSERT_NOT_NULL(at);
  double t = atof(at + 4);
  ASSERT(t > 2.0 && t < 6.0);
  return 0;
}

static int test_missing_and_dir(void) {
  ASSERT_EQ(check_bad(VM_FIXTURE_DIR "/no/such/file.m4a", VM_ENOENT, "no such file"), 0);
  ASSERT_EQ(check_bad(GOOD, VM_EINVAL, "directory"), 0);
  return 0;
}

static int test_moov_missing(void) {
  /* ko2.mp4 keeps its index at the end (no +faststart): its first half has
   * audio data but no 'moov'. */
  char tmp[] = "/tmp/vm_audio_moov_XXXXXX";
  int fd = mkstemp(tmp);
  ASSERT(fd >= 0);
  close(fd);
  struct stat st;
  ASSERT_EQ(stat(GOOD "/ko2.mp4", &st), 0);
  ASSERT_OK(copy_prefix(GOOD "/ko2.mp4", tmp, (size_t)st.st_size / 2));
  int r = check_bad(tmp, VM_EDECODE, "'moov' atom missing");
  unlink(tmp);
  ASSERT_EQ(r, 0);
  return 0;
}

/* Decodes path as uid/gid nobody in a child; returns the child's status
 * code (0 when the expected EACCES came back). */
static int decode_as_nobody(const char *path) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
    if (access(path, R_OK) == 0) _exit(4);
    _exit(check_bad(path, VM_EACCES, "permission denied") ? 1 : 0);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

static int test_unreadable(void) {
  char dir[] = "/tmp/vm_audio_acc_XXXXXX";
  char path[128];
  int rc = 0;
  ASSERT_NOT_NULL(mkdtemp(dir));
  ASSERT_EQ(chmod(dir, 0755), 0);
  snprintf(path, sizeof path, "%s/locked.m4a", dir);
  ASSERT_OK(copy_prefix(GOOD "/ko1.m4a", path, SIZE_MAX));
  ASSERT_EQ(chmod(path, 0), 0);
  if (geteuid() != 0) {
    if (access(path, R_OK) == 0) {
      rc = TEST_SKIP_CODE; /* some capability lets us read it anyway */
    } else {
      rc = check_bad(path, VM_EACCES, "permission denied");
    }
  } else {
    /* root reads mode-000 files: drop to nobody in a child instead. */
    rc = decode_as_nobody(path);
    if (rc == 3 || rc == 4) rc = TEST_SKIP_CODE; /* cannot drop privileges */
  }
  unlink(path);
  rmdir(dir);
  if (rc == TEST_SKIP_CODE) TEST_SKIP("cannot make a file unreadable here");
  ASSERT_EQ(rc, 0);
  return 0;
}

/* ---- memory, cancel, limits -------------------------------------------------- */

static int same_from_memory(const char *path) {
  char *buf = NULL;
  size_t n = 0;
  vm_audio a, b;
  vm_err e;
  ASSERT_OK(vm_fs_read_all(path, 64u << 20, &buf, &n, &e));
  ASSERT_OK(vm_audio_decode_file(path, NULL, &a, &e));
  ASSERT_OK(vm_audio_decode_memory(buf, n, path, NULL, &b, &e));
  ASSERT_EQ(a.n_samples, b.n_samples);
  ASSERT(a.n_samples > 16000);
  ASSERT_EQ(memcmp(a.samples, b.samples, a.n_samples * sizeof(float)), 0);
  ASSERT_STR_EQ(a.facts.codec, b.facts.codec);
  ASSERT_NEAR(a.facts.duration_s, b.facts.duration_s, 1e-12);
  vm_audio_deinit(&a);
  vm_audio_deinit(&b);
  vm_free(buf);
  return 0;
}

static int test_memory_matches_file(void) {
  ASSERT_EQ(same_from_memory(GOOD "/ko1.m4a"), 0);
  ASSERT_EQ(same_from_memory(GOOD "/en1.mp3"), 0);
  ASSERT_EQ(same_from_memory(GOOD "/ko2.opus"), 0);
  /* memory errors are the same as file errors */
  vm_audio a;
  vm_err e;
  ASSERT_EQ(vm_audio_decode_memory("x", 0, "m", NULL, &a, &e), VM_EEMPTY);
  static const char text[] = "This is a plain text file,\nnot a WAV.\n";
  ASSERT_EQ(vm_audio_decode_memory(text, sizeof text - 1, "t.wav", NULL, &a, &e),
            VM_EFORMAT);
  ASSERT_STR_CONTAINS(e.msg, "looks like text");
  return 0;
}

static int test_cancel(void) {
  atomic_int flag = 1;
  vm_audio_opts o = vm_audio_opts_default();
  vm_audio a;
  vm_err e;
  o.cancel = &flag;
  ASSERT_EQ(vm_audio_decode_file(GOOD "/ko1.m4a", &o, &a, &e), VM_ECANCELED);
  ASSERT_NULL(a.samples);
  atomic_store(&flag, 0);
  ASSERT_OK(vm_audio_decode_file(GOOD "/ko1.m4a", &o, &a, &e));
  vm_audio_deinit(&a);
  return 0;
}

static int test_max_duration(void) {
  vm_audio_opts o = vm_audio_opts_default();
  vm_audio a;
  vm_err e;
  o.max_duration_s = 2;
  ASSERT_EQ(vm_audio_decode_file(GOOD "/ko1.m4a", &o, &a, &e), VM_EINVAL);
  ASSERT_STR_CONTAINS(e.msg, "longer than");
  ASSERT_NULL(a.samples);
  o.max_duration_s = 10;
  ASSERT_OK(vm_audio_decode_file(GOOD "/ko1.m4a", &o, &a, &e));
  vm_audio_deinit(&a);
  o.sample_rate_hz = 8000;
  ASSERT_OK(vm_audio_decode_file(GOOD "/en1.flac", &o, &a, &e));
  ASSERT_EQ(a.sample_rate_hz, 8000);
  ASSERT_NEAR((double)a.n_samples / 8000.0, a.facts.duration_s, 0.01);
  vm_audio_deinit(&a);
  o.sample_rate_hz = 0;
  ASSERT_EQ(vm_audio_decode_file(GOOD "/en1.flac", &o, &a, &e), VM_EINVAL);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_good_files), TEST_ENTRY(test_native_stereo_downmix),
          TEST_ENTRY(test_keep_channels),
          TEST_ENTRY(test_bad_files), TEST_ENTRY(test_truncated_position),
          TEST_ENTRY(test_missing_and_dir), TEST_ENTRY(test_moov_missing),
          TEST_ENTRY(test_unreadable), TEST_ENTRY(test_memory_matches_file),
          TEST_ENTRY(test_cancel), TEST_ENTRY(test_max_duration))
