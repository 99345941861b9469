/* Unit tests for opening the store: create/reopen, schema versions, the
 * run lock across processes, read-only opens, bad files, odd paths, a
 * read-only folder and a full disk.
 *
 * Build and run: cmake --build build --target test_store_open &&
 *   build/tests/test_store_open [test_name]
 * Each test works in its own mkdtemp folder under /tmp and removes it.
 * Lock tests fork: the child reports through its exit status. */
#define _GNU_SOURCE /* unshare, mount: the full-disk test */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"
#include "store_impl.h"
#include "test.h"
#include "vm_log.h"

static int rm_one(const char *p, const struct stat *sb, int flag,
                  struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(p);
}

static int tmp_make(char dir[64]) {
  snprintf(dir, 64, "/tmp/vm_store_open_XXXXXX");
  return mkdtemp(dir) ? 0 : 1;
}

static void tmp_remove(const char *dir) {
  chmod(dir, 0700);
  nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int64_t sql_int(vm_store *s, const char *sql) {
  sqlite3_stmt *st = NULL;
  int64_t v = -1;
  if (sqlite3_prepare_v2(vm__store_db(s), sql, -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

static int raw_exec(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  int rc = sqlite3_open(path, &db);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
  sqlite3_close(db);
  return rc;
}

/* 1 if "<path>.lock" can be flocked right now (nobody holds it). */
static int lock_is_free(const char *path) {
  char lp[600];
  snprintf(lp, sizeof lp, "%s.lock", path);
  int fd = open(lp, O_RDWR);
  if (fd < 0) return 0;
  int ok = flock(fd, LOCK_EX | LOCK_NB) == 0;
  close(fd);
  return ok;
}

static int child_status(pid_t pid) {
  int st = 0;
  if (waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

/* --- tests ----------------------------------------------------------- */

static int test_open_create_reopen(void) {
  char dir[64], path[128], buf[32] = {0};
  vm_store *s = NULL;
  vm_err err = {0};
  int64_t run, id, counts[VM_FILE_N_STATES];
  ASSERT_OK(tmp_make(dir));
  snprintf(path, sizeof path, "%s/new/sub/voiceman.db", dir);
  ASSERT_OK(vm_store_open(path, &s, &err));
  ASSERT_EQ(sql_int(s, "PRAGMA user_version"), VM_STORE_SCHEMA_VERSION);
  ASSERT_EQ(sql_int(s, "PRAGMA foreign_keys"), 1);
  ASSERT_EQ(sql_int(s, "PRAGMA synchronous"), 1); /* NORMAL */
  ASSERT_EQ(sql_int(s, "SELECT journal_mode = 'wal' FROM"
                       " pragma_journal_mode"), 1);
  ASSERT_EQ(sql_int(s, "SELECT count(*) FROM sqlite_schema WHERE name ="
                       " 'files_state'"), 1);
  /* the lock file holds our pid */
  char lp[160];
  snprintf(lp, sizeof lp, "%s.lock", path);
  FILE *fp = fopen(lp, "r");
  ASSERT_NOT_NULL(fp);
  ASSERT(fgets(buf, sizeof buf, fp) != NULL);
  fclose(fp);
  ASSERT_EQ(strtol(buf, NULL, 10), getpid());
  ASSERT_OK(vm_store_run_begin(s, "0.1.0", "{}", &run, &err));
  ASSERT_OK(vm_store_file_register(s, "/in/a", 1, 2, "a", &id, &err));
  vm_store_close(s);
  ASSERT(lock_is_free(path));
  /* reopen: same data, no second migration */
  ASSERT_OK(vm_store_open(path, &s, &err));
  ASSERT_OK(vm_store_count_states(s, counts, &err));
  ASSERT_EQ(counts[VM_FILE_PENDING], 1);
  ASSERT_EQ(sql_int(s, "SELECT count(*) FROM runs"), 1);
  vm_store_close(s);
  vm_store_close(NULL);
  tmp_remove(dir);
  return 0;
}

static int test_schema_newer_refused(void) {
  char dir[64], path[128];
  vm_store *s = NULL;
  vm_err err = {0};
  ASSERT_OK(tmp_make(dir));
  snprintf(path, sizeof path, "%s/voiceman.db", dir);
  ASSERT_OK(vm_store_open(path, &s, &err));
  vm_store_close(s);
  ASSERT_EQ(raw_exec(path, "PRAGMA user_version = 99"), SQLITE_OK);
  s = (vm_store *)1;
  ASSERT_EQ(vm_store_open(path, &s, &err), VM_EDB);
  ASSERT_NULL(s);
  ASSERT_STR_CONTAINS(err.msg, "schema version 99");
  ASSERT_STR_CONTAINS(err.msg, "newer");
  ASSERT(lock_is_free(path)); /* a failed open holds nothing */
  ASSERT_EQ(vm_store_open_readonly(path, &s, &err), VM_EDB);
  ASSERT_STR_CONTAINS(err.msg, "schema version 99");
  tmp_remove(dir);
  return 0;
}

/* Someone else's SQLite file is refused and left untouched. */
static int test_foreign_database_refused(void) {
  char dir[64], path[128];
  vm_store *s = NULL;
  vm_err err = {0};
  ASSERT_OK(tmp_make(dir));
  snprintf(path, sizeof path, "%s/other.db", dir);
  ASSERT_EQ(raw_exec(path, "CREATE TABLE t(x); INSERT INTO t VALUES(1)"),
            SQLITE_OK);
  ASSERT_EQ(vm_store_open(path, &s, &err), VM_EDB);
  ASSERT_STR_CONTAINS(err.msg, "not a voiceman store");
  ASSERT_EQ(raw_exec(path, "SELECT x FROM t"), SQLITE_OK);
  ASSERT_EQ(raw_exec(path, "SELECT * FROM files"), SQLITE_ERROR);
  tmp_remove(dir);
  return 0;
}

static int test_garbage_file(void) {
  char dir[64], path[128], back[4096];
  char junk[4096];
  vm_store *s = NULL;
  vm_err err = {0};
  ASSERT_OK(tmp_make(dir));
  snprintf(path, sizeof path, "%s/voiceman.db", dir);
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = (char)("garbage!"[i % 8]);
  FILE *fp = fopen(path, "wb");
  ASSERT_NOT_NULL(fp);
  ASSERT_EQ(fwrite(junk, 1, sizeof junk, fp), sizeof junk);
  fclose(fp);
  ASSERT_EQ(vm_store_open(path, &s, &err), VM_EDB);
  ASSERT_NULL(s);
  ASSERT_STR_CONTAINS(err.msg, "not a database");
  ASSERT_STR_CONTAINS(err.msg, path);
  ASSERT_EQ(vm_store_open_readonly(path, &s, &err), VM_EDB);
  ASSERT_STR_CONTAINS(err.msg, "not a database");
  /* the file is untouched */
  fp = fopen(path, "rb");
  ASSERT_NOT_NULL(fp);
  ASSERT_EQ(fread(back, 1, sizeof back, fp), sizeof junk);
  fclose(fp);
  ASSERT_EQ(memcmp(back, junk, sizeof junk), 0);
  tmp_remove(dir);
  return 0;
}

/* Child: tries to open path; exit 0 iff the result is what want says
 * (VM_EBUSY naming pid holder, or success). */
static void child_try_open(const char *path, int want, pid_t holder) {
  vm_store *s = NULL;
  vm_err err = {0};
  char needle[64];
  int rc = vm_store_open(path, &s, &err);
  vm_store_close(s);
  if (rc != want) _exit(1);
  if (want == VM_EBUSY) {
    snprintf(needle, sizeof needle, "(pid %ld)", (long)holder);
    if (!strstr(err.msg, needle) ||
        !strstr(err.msg, "another voiceman run is using the store"))
      _exit(2);
  }
  _exit(0);
}

static int test_lock_second_process(void) {
  char dir[64], path[128];
  vm_store *s = NULL, *s2 = NULL;
  vm_err err = {0};
  pid_t pid;
  ASSERT_OK(tmp_make(dir));
  snprintf(path, sizeof path, "%s/voiceman.db", dir);
  ASSERT_OK(vm_store_open(path, &s, &err));
  /* same process, second handle: also refused */
  ASSERT_EQ(vm_store_open(path, &s2, &err), VM_EBUSY);
  ASSERT_NULL(s2);
  pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) child_try_open(path, VM_EBUSY, getppid());
  ASSERT_EQ(child_status(pid), 0);
  vm_store_close(s);
  pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) child_try_open(path, VM_OK, 0);
  ASSERT_EQ(child_status(pid), 0);
  tmp_remove(dir);
  return 0;
}

/* A holder killed with SIGKILL (mid-file) leaves the lock free and an
 * in_progress row that recover puts back. Readonly opens work meanwhile. */
static int test_lock_holder_killed(void) {
  char dir[64], path[128], needle[64], c;
  vm_store *s = NULL, *ro = NULL;
  vm_err err = {0};
  int fds[2];
  int64_t counts[VM_FILE_N_STATES];
  int n_reset = 0;
  ASSERT_OK(tmp_make(dir));
  snprintf(path, sizeof path, "%s/voiceman.db", dir);
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) {
    int64_t run, id;
    close(fds[0]);
    if (vm_store_open(path, &s, &err) != 0 ||
        vm_store_run_begin(s, "t", NULL, &run, &err) != 0 ||
        vm_store_file_register(s, "/in/a", 1, 1, "a", &id, &err) != 0 ||
        vm_store_file_register(s, "/in/b", 1, 1, "b", &id, &err) != 0 ||
        vm_store_file_start(s, id, run, &err) != 0)
      _exit(1);
    if (write(fds[1], "r", 1) != 1) _exit(1);
    for (;;) pause();
  }
  close(fds[1]);
  ASSERT_EQ(read(fds[0], &c, 1), 1);
  close(fds[0]);
  /* Results are checked after the child is killed, so that a failing
   * check never leaves it running. */
  int rc_busy = vm_store_open(path, &s, &err);
  vm_err busy_err = err;
  /* read-only while the other process holds the lock */
  int rc_ro = vm_store_open_readonly(path, &ro, &err);
  if (rc_ro == 0) rc_ro = vm_store_count_states(ro, counts, &err);
  vm_store_close(ro);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  ASSERT_EQ(child_status(pid), 100 + SIGKILL);
  ASSERT_EQ(rc_busy, VM_EBUSY);
  ASSERT_NULL(s);
  snprintf(needle, sizeof needle, "(pid %ld)", (long)pid);
  ASSERT_STR_CONTAINS(busy_err.msg, needle);
  ASSERT_STR_CONTAINS(busy_err.msg, path);
  ASSERT_OK(rc_ro);
  ASSERT_EQ(counts[VM_FILE_PENDING], 1);
  ASSERT_EQ(counts[VM_FILE_IN_PROGRESS], 1);
  ASSERT_OK(vm_store_open(path, &s, &err));
  ASSERT_OK(vm_store_recover(s, &n_reset, &err));
  ASSERT_EQ(n_reset, 1);
  ASSERT_OK(vm_store_count_states(s, counts, &err));
  ASSERT_EQ(counts[VM_FILE_PENDING], 2);
  ASSERT_OK(vm__store_quick_check(s, &err));
  vm_store_close(s);
  tmp_remove(dir);
  return 0;
}

/* A reader sees a live writer's commits and cannot write. */
static int test_readonly_beside_writer(void) {
  char dir[64], path[128];
  vm_store *w = NULL, *ro = NULL;
  vm_err err = {0};
  int64_t run, id, counts[VM_FILE_N_STATES];
  ASSERT_OK(tmp_make(dir));
  snprintf(path, sizeof path, "%s/voiceman.db", dir);
  ASSERT_EQ(vm_store_open_readonly(path, &ro, &err), VM_ENOENT);
  ASSERT_NULL(ro);
  ASSERT_STR_CONTAINS(err.msg, path);
  ASSERT_OK(vm_store_open(path, &w, &err));
  ASSERT_OK(vm_store_run_begin(w, "t", NULL, &run, &err));
  ASSERT_OK(vm_store_file_register(w, "/in/a", 1, 1, "a", &id, &err));
  ASSERT_OK(vm_store_open_readonly(path, &ro, &err));
  ASSERT_OK(vm_store_count_states(ro, counts, &err));
  ASSERT_EQ(counts[VM_FILE_PENDING], 1);
  ASSERT_OK(vm_store_file_start(w, id, run, &err));
  ASSERT_OK(vm_store_count_states(ro, counts, &err));
  ASSERT_EQ(counts[VM_FILE_IN_PROGRESS], 1);
  ASSERT_EQ(vm_store_file_register(ro, "/in/b", 1, 1, "b", &id, &err),
            VM_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "read-only");
  ASSERT_EQ(vm_store_recover(ro, NULL, &err), VM_EINVAL);
  vm_store_close(ro);
  vm_store_close(w);
  /* a reader alone, after the writer closed (no -wal/-shm left) */
  ASSERT_OK(vm_store_open_readonly(path, &ro, &err));
  ASSERT_OK(vm_store_count_states(ro, counts, &err));
  ASSERT_EQ(counts[VM_FILE_IN_PROGRESS], 1);
  vm_store_close(ro);
  tmp_remove(dir);
  return 0;
}

static int test_long_path(void) {
  char dir[64];
  char path[2048];
  vm_store *s = NULL;
  vm_err err = {0};
  int64_t run, id;
  ASSERT_OK(tmp_make(dir));
  /* about 400 bytes: works (SQLite's unix limit is 512 bytes) */
  int n = snprintf(path, sizeof path, "%s", dir);
  while (n < 380)
    n += snprintf(path + n, sizeof path - (size_t)n,
                  "/a-rather-long-folder-name-for-call-recordings");
  snprintf(path + n, sizeof path - (size_t)n, "/voiceman.db");
  ASSERT_GT(strlen(path), 400);
  ASSERT_OK(vm_store_open(path, &s, &err));
  ASSERT_OK(vm_store_run_begin(s, "t", NULL, &run, &err));
  ASSERT_OK(vm_store_file_register(s, path, 1, 1, "x", &id, &err));
  vm_store_close(s);
  ASSERT_OK(vm_store_open(path, &s, &err));
  vm_store_close(s);
  /* about 1500 bytes: a clear refusal, not a crash */
  while (n < 1500)
    n += snprintf(path + n, sizeof path - (size_t)n,
                  "/a-rather-long-folder-name-for-call-recordings");
  snprintf(path + n, sizeof path - (size_t)n, "/voiceman.db");
  ASSERT_EQ(vm_store_open(path, &s, &err), VM_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "too long");
  ASSERT_EQ(vm_store_open_readonly(path, &s, &err), VM_EINVAL);
  tmp_remove(dir);
  return 0;
}

typedef struct path_seen {
  char path[256];
} path_seen;

static int on_path(void *user, const char *path, const char *sha256,
                   int attempts, const char *code, const char *text) {
  snprintf(((path_seen *)user)->path, 256, "%s", path);
  return 0;
}

static int test_hangul_spaces(void) {
  char dir[64], path[256];
  const char *input = "/녹음/2024년 3월/통화 녹음 001.m4a";
  vm_store *s = NULL;
  vm_err err = {0};
  int64_t run, id;
  char **stems;
  size_t n;
  path_seen ps = {{0}};
  ASSERT_OK(tmp_make(dir));
  snprintf(path, sizeof path, "%s/통화 기록 저장소/voiceman 체크포인트.db",
           dir);
  ASSERT_OK(vm_store_open(path, &s, &err));
  ASSERT_OK(vm_store_run_begin(s, "t", NULL, &run, &err));
  ASSERT_OK(vm_store_file_register(s, input, 1, 1, "통화 녹음 001", &id,
                                   &err));
  vm_store_close(s);
  ASSERT_OK(vm_store_open_readonly(path, &s, &err));
  ASSERT_OK(vm_store_each_file(s, VM_FILE_PENDING, on_path, &ps, &err));
  ASSERT_STR_EQ(ps.path, input);
  ASSERT_OK(vm_store_load_stems(s, &stems, &n, &err));
  ASSERT_EQ(n, 1);
  ASSERT_STR_EQ(stems[0], "통화 녹음 001");
  vm_store_strings_free(stems, n);
  vm_store_close(s);
  tmp_remove(dir);
  return 0;
}

/* A folder we may not write: a clear error naming the path. As root,
 * permissions do not apply, so the child drops to "nobody" first. */
static int test_readonly_folder(void) {
  char dir[64], path[128], sub[96];
  vm_store *s = NULL;
  vm_err err = {0};
  ASSERT_OK(tmp_make(dir));
  snprintf(sub, sizeof sub, "%s/ro", dir);
  snprintf(path, sizeof path, "%s/voiceman.db", sub);
  ASSERT_EQ(mkdir(sub, 0755), 0);
  ASSERT_OK(vm_store_open(path, &s, &err)); /* an existing store too */
  vm_store_close(s);
  ASSERT_EQ(chmod(dir, 0755), 0);
  ASSERT_EQ(chmod(sub, 0555), 0);
  ASSERT_EQ(chmod(path, 0444), 0);
  pid_t pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) {
    char other[160];
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
      _exit(3);
    if (vm_store_open(path, &s, &err) != VM_EACCES ||
        !strstr(err.msg, path) || !strstr(err.msg, "ermission denied"))
      _exit(1);
    snprintf(other, sizeof other, "%s/new/voiceman.db", sub);
    if (vm_store_open(other, &s, &err) != VM_EACCES ||
        !strstr(err.msg, "cannot create directory"))
      _exit(2);
    _exit(0);
  }
  int st = child_status(pid);
  if (st == 3) {
    tmp_remove(dir);
    TEST_SKIP("cannot drop root privileges");
  }
  ASSERT_EQ(st, 0);
  ASSERT_EQ(chmod(sub, 0755), 0);
  ASSERT_EQ(chmod(path, 0644), 0);
  ASSERT_OK(vm_store_open(path, &s, &err));
  ASSERT_OK(vm__store_quick_check(s, &err));
  vm_store_close(s);
  tmp_remove(dir);
  return 0;
}

/* Child for the full-disk tests: caps file size (RLIMIT_FSIZE, the only
 * way to run out of space without root or a small file system), registers
 * files until the store refuses, and reports the count and error through
 * the pipe. Exit 0 when it stopped with an error (not a crash). */
static void child_fill(const char *path, off_t cap_bytes, int fd) {
  vm_store *s = NULL;
  vm_err err = {0};
  struct rlimit rl = {(rlim_t)cap_bytes, (rlim_t)cap_bytes};
  char p[1200], pad[1100];
  int n_ok = 0, rc = 0;
  memset(pad, 'x', sizeof pad - 1);
  pad[sizeof pad - 1] = '\0';
  signal(SIGXFSZ, SIG_IGN);
  vm_log_set_level(VM_LOG_OFF);
  if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(3);
  if (vm_store_open(path, &s, &err) != 0) _exit(4);
  for (int i = 0; i < 100000 && rc == 0; i++) {
    int64_t id;
    snprintf(p, sizeof p, "/in/%06d-%s", i, pad);
    rc = vm_store_file_register(s, p, i, i, NULL, &id, &err);
    if (rc == 0) n_ok++;
  }
  vm_store_close(s);
  if (write(fd, &n_ok, sizeof n_ok) != sizeof n_ok) _exit(5);
  if (write(fd, &err, sizeof err) != sizeof err) _exit(5);
  _exit(rc != 0 ? 0 : 6);
}

/* Fills the store in a child capped at cap_bytes per file; checks the
 * error code and that every committed row survives undamaged. */
static int fill_until_full(off_t cap_bytes, int want_code) {
  char dir[64], path[128];
  vm_store *s = NULL;
  vm_err err = {0}, child_err = {0};
  int64_t run, id, counts[VM_FILE_N_STATES];
  int fds[2], n_ok = -1;
  ASSERT_OK(tmp_make(dir));
  snprintf(path, sizeof path, "%s/voiceman.db", dir);
  ASSERT_OK(vm_store_open(path, &s, &err));
  ASSERT_OK(vm_store_run_begin(s, "t", NULL, &run, &err));
  ASSERT_OK(vm_store_file_register(s, "/in/first", 1, 1, "f", &id, &err));
  vm_store_close(s);
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    child_fill(path, cap_bytes, fds[1]);
  }
  close(fds[1]);
  ASSERT_EQ(read(fds[0], &n_ok, sizeof n_ok), sizeof n_ok);
  ASSERT_EQ(read(fds[0], &child_err, sizeof child_err), sizeof child_err);
  close(fds[0]);
  ASSERT_EQ(child_status(pid), 0);
  ASSERT_EQ(child_err.code, want_code);
  ASSERT_STR_CONTAINS(child_err.msg, "cannot register a file");
  ASSERT_STR_CONTAINS(child_err.msg, path);
  ASSERT_GT(n_ok, 3);
  /* every committed row is there, nothing is damaged, and we can write */
  ASSERT_OK(vm_store_open(path, &s, &err));
  ASSERT_OK(vm__store_quick_check(s, &err));
  ASSERT_OK(vm_store_count_states(s, counts, &err));
  ASSERT_EQ(counts[VM_FILE_PENDING], 1 + n_ok);
  ASSERT_OK(vm_store_file_register(s, "/in/after", 1, 1, "after", &id, &err));
  vm_store_close(s);
  tmp_remove(dir);
  return 0;
}

/* Child for test_full_disk: in a private mount namespace, a 256 KiB tmpfs
 * holds the store; registering until it is full must give VM_ENOSPC, and
 * the store must reopen undamaged with every committed row. Exit codes:
 * 0 ok, 77 no tmpfs (not root / no CAP_SYS_ADMIN), others name the step. */
static void child_full_disk(const char *mnt) {
  vm_store *s = NULL;
  vm_err err = {0};
  char path[160], p[1200], pad[1100];
  int64_t run, id, counts[VM_FILE_N_STATES];
  int n_ok = 0, rc = 0;
  vm_log_set_level(VM_LOG_OFF);
  if (unshare(CLONE_NEWNS) != 0 ||
      mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
      mount("tmpfs", mnt, "tmpfs", 0, "size=256k") != 0)
    _exit(77);
  snprintf(path, sizeof path, "%s/voiceman.db", mnt);
  memset(pad, 'x', sizeof pad - 1);
  pad[sizeof pad - 1] = '\0';
  if (vm_store_open(path, &s, &err) != 0 ||
      vm_store_run_begin(s, "t", NULL, &run, &err) != 0)
    _exit(1);
  for (int i = 0; i < 100000 && rc == 0; i++) {
    snprintf(p, sizeof p, "/in/%06d-%s", i, pad);
    rc = vm_store_file_register(s, p, i, i, NULL, &id, &err);
    if (rc == 0) n_ok++;
  }
  vm_store_close(s);
  if (rc != VM_ENOSPC) {
    fprintf(stderr, "child: %s\n", vm_err_text(&err));
    _exit(2);
  }
  if (!strstr(err.msg, "full") || !strstr(err.msg, path)) _exit(3);
  if (n_ok < 5) _exit(4);
  if (vm_store_open(path, &s, &err) != 0) {
    fprintf(stderr, "child reopen: %s\n", vm_err_text(&err));
    _exit(5);
  }
  if (vm__store_quick_check(s, &err) != 0) _exit(6);
  if (vm_store_count_states(s, counts, &err) != 0 ||
      counts[VM_FILE_PENDING] != n_ok)
    _exit(7);
  vm_store_close(s);
  _exit(0);
}

/* A real full disk (a tiny tmpfs). Needs root for the mount; skipped
 * otherwise (test_file_size_limit still covers "error, not damage"). */
static int test_full_disk(void) {
  char dir[64];
  ASSERT_OK(tmp_make(dir));
  pid_t pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) child_full_disk(dir);
  int st = child_status(pid);
  tmp_remove(dir);
  if (st == 77) TEST_SKIP("cannot mount a tmpfs (needs CAP_SYS_ADMIN)");
  ASSERT_EQ(st, 0);
  return 0;
}

/* RLIMIT_FSIZE: write() fails with EFBIG (SQLite retries a short write,
 * so the limit never looks like a full disk); SQLite reports an I/O
 * error: still a clear error, still no damage. */
static int test_file_size_limit(void) {
  return fill_until_full(32 + 60 * (24 + 4096) + 24 + 2048, VM_EDB);
}

static int test_bad_arguments(void) {
  vm_store *s = (vm_store *)1;
  vm_err err = {0};
  ASSERT_EQ(vm_store_open("", &s, &err), VM_EINVAL);
  ASSERT_NULL(s);
  /* a folder where the file should be */
  char dir[64], sub[96];
  ASSERT_OK(tmp_make(dir));
  snprintf(sub, sizeof sub, "%s/folder.db", dir);
  ASSERT_EQ(mkdir(sub, 0755), 0);
  ASSERT_NE(vm_store_open(sub, &s, &err), 0);
  ASSERT_NULL(s);
  ASSERT(strlen(err.msg) > 0);
  tmp_remove(dir);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_open_create_reopen),
          TEST_ENTRY(test_schema_newer_refused),
          TEST_ENTRY(test_foreign_database_refused),
          TEST_ENTRY(test_garbage_file),
          TEST_ENTRY(test_lock_second_process),
          TEST_ENTRY(test_lock_holder_killed),
          TEST_ENTRY(test_readonly_beside_writer),
          TEST_ENTRY(test_long_path),
          TEST_ENTRY(test_hangul_spaces),
          TEST_ENTRY(test_readonly_folder),
          TEST_ENTRY(test_full_disk),
          TEST_ENTRY(test_file_size_limit),
          TEST_ENTRY(test_bad_arguments))
