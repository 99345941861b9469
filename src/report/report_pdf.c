/* report_pdf.c — prints an HTML report to PDF with headless Chromium.
 *
 * DESIGN
 * The browser is a separate program (Debian package "chromium"); nothing
 * is linked. It is found on PATH ("chromium", then "chromium-browser") or
 * named by $VM_CHROMIUM, and started with posix_spawn in its own process
 * group, with a fresh profile folder under $TMPDIR (so concurrent prints
 * and a user's own browser never share state), no network services, stdout
 * discarded and stderr kept in that folder for the error message. Chromium
 * prints to a file in the profile folder; the result is accepted only if
 * it starts with "%PDF" and is then written to pdf_path atomically. The
 * whole process group is killed after the time limit, and in any case once
 * the browser has exited (it leaves helper processes behind otherwise);
 * the profile folder is removed.
 *
 * The report pages load nothing from the network and carry no script, so
 * running the browser as root with --no-sandbox (Chromium refuses to run
 * as root otherwise) exposes nothing a page could use.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report_html_impl.h"
#include "vm_alloc.h"
#include "vm_fs.h"
#include "vm_time.h"

extern char **environ;

#define PDF_TIMEOUT_S 120.0
#define PDF_MAX_BYTES ((size_t)1 << 30)

/* Full path of the first executable name found on PATH; NULL if none. */
static char *find_on_path(const char *name) {
  if (strchr(name, '/')) return access(name, X_OK) == 0 ? vm_strdup(name) : NULL;
  const char *path = getenv("PATH");
  if (!path) return NULL;
  while (*path) {
    const char *colon = strchr(path, ':');
    size_t len = colon ? (size_t)(colon - path) : strlen(path);
    char *cand = vm_asprintf("%.*s/%s", (int)len, len ? path : ".", name);
    if (cand && access(cand, X_OK) == 0) return cand;
    vm_free(cand);
    if (!colon) break;
    path = colon + 1;
  }
  return NULL;
}

static char *find_browser(void) {
  const char *env = getenv("VM_CHROMIUM");
  if (env && *env) return find_on_path(env);
  char *p = find_on_path("chromium");
  return p ? p : find_on_path("chromium-browser");
}

/* Removes the browser profile folder (depth-first, links not followed). */
static void tree_remove(const char *path, int depth) {
  struct stat st;
  if (lstat(path, &st) != 0) return;
  if (S_ISDIR(st.st_mode) && depth < 32) {
    DIR *d = opendir(path);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
      if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
      char *sub = vm_path_join(path, de->d_name);
      if (sub) tree_remove(sub, depth + 1);
      vm_free(sub);
    }
    if (d) closedir(d);
  }
  remove(path);
}

/* Up to 300 bytes of the end of the browser's stderr, one line. */
static void stderr_tail(const char *dir, char *out, size_t cap) {
  char *path = vm_path_join(dir, "stderr.txt"), *data = NULL;
  size_t n = 0;
  out[0] = '\0';
  if (path && vm_fs_read_all(path, 16u << 20, &data, &n, NULL) == VM_OK) {
    size_t from = n > 300 ? n - 300 : 0, o = 0;
    for (size_t i = from; i < n && o + 1 < cap; i++)
      out[o++] = (data[i] == '\n' || data[i] == '\r') ? ' ' : data[i];
    out[o] = '\0';
  }
  vm_free(data);
  vm_free(path);
}

/* "file://" + the absolute path, percent-encoded. */
static char *file_url(const char *abs) {
  vm__hbuf b;
  vm__hb_init(&b);
  vm__hb_put(&b, "file://");
  vm__hb_url(&b, abs, 1);
  return vm__hb_take(&b, NULL);
}

/* Runs argv, waiting at most PDF_TIMEOUT_S. Returns VM_OK when it exited 0. */
static int run_browser(char *const argv[], const char *dir, vm_err *err) {
  char *errpath = vm_path_join(dir, "stderr.txt");
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  pid_t pid;
  int rc = VM_OK, st = 0;
  if (!errpath) return vm_err_set(err, VM_ENOMEM, "out of memory");
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&at);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&at, 0);
  int e = posix_spawn(&pid, argv[0], &fa, &at, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  if (e) {
    rc = vm_err_set(err, VM_EIO, "pdf: cannot start %s: %s", argv[0], strerror(e));
    goto out;
  }
  /* Exit is detected without reaping (WNOWAIT): while the leader is a
   * zombie its pid, which names the group, cannot be reused, so killing
   * the group afterwards cannot hit anyone else. */
  double t0 = vm_time_mono();
  int timed_out = 0;
  for (;;) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int w = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
    if ((w == 0 && si.si_pid == pid) || (w < 0 && errno != EINTR)) break;
    if (vm_time_mono() - t0 > PDF_TIMEOUT_S) {
      timed_out = 1;
      break;
    }
    vm_time_sleep(0.02);
  }
  kill(-pid, SIGKILL); /* helper processes left in the group, or all on time-out */
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    rc = vm_err_set(err, VM_EIO, "pdf: the browser did not finish within %.0f s", PDF_TIMEOUT_S);
  } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    char tail[320];
    stderr_tail(dir, tail, sizeof tail);
    rc = vm_err_set(err, VM_EIO, "pdf: %s failed (%s %d): %s", argv[0],
                    WIFEXITED(st) ? "exit status" : "signal",
                    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), tail);
  }
out:
  vm_free(errpath);
  return rc;
}

/* Reads the printed file, checks it is a PDF and writes it to pdf_path. */
static int keep_pdf(const char *tmp_pdf, const char *dir, const char *pdf_path, vm_err *err) {
  char *data = NULL;
  size_t n = 0;
  int rc = vm_fs_read_all(tmp_pdf, PDF_MAX_BYTES, &data, &n, NULL);
  if (rc != VM_OK || n < 5 || memcmp(data, "%PDF", 4) != 0) {
    char tail[320];
    stderr_tail(dir, tail, sizeof tail);
    rc = vm_err_set(err, VM_EIO, "pdf: the browser produced no PDF: %s", tail);
    goto out;
  }
  rc = vm_fs_write_atomic(pdf_path, data, n, err);
out:
  vm_free(data);
  return rc;
}

#define NO_BROWSER_MSG                                                                  \
  "pdf: headless Chromium not found (install the Debian package \"chromium\", or set " \
  "VM_CHROMIUM)"

int vm_report_pdf_available(vm_err *err) {
  char *browser = find_browser();
  int rc = browser ? VM_OK : vm_err_set(err, VM_ENOENT, NO_BROWSER_MSG);
  vm_free(browser);
  return rc;
}

int vm_report_pdf_print(const char *html_path, const char *pdf_path, vm_err *err) {
  char abs[PATH_MAX], dir[PATH_MAX];
  char *browser = NULL, *url = NULL, *a_profile = NULL, *a_crash = NULL, *a_pdf = NULL,
       *tmp_pdf = NULL;
  int rc, have_dir = 0;
  if (!html_path || !pdf_path) return vm_err_set(err, VM_EINVAL, "pdf: no input or output path");
  browser = find_browser();
  if (!browser) {
    rc = vm_err_set(err, VM_ENOENT, NO_BROWSER_MSG);
    goto out;
  }
  if (!realpath(html_path, abs)) {
    rc = vm_err_set(err, vm_status_from_errno(errno), "pdf: %s: %s", html_path, strerror(errno));
    goto out;
  }
  const char *tmpdir = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/vmpdf.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
  if (!mkdtemp(dir)) {
    rc = vm_err_set(err, vm_status_from_errno(errno), "pdf: temporary folder: %s", strerror(errno));
    goto out;
  }
  have_dir = 1;
  url = file_url(abs);
  tmp_pdf = vm_path_join(dir, "out.pdf");
  a_profile = vm_asprintf("--user-data-dir=%s", dir);
  a_crash = vm_asprintf("--crash-dumps-dir=%s", dir);
  a_pdf = tmp_pdf ? vm_asprintf("--print-to-pdf=%s", tmp_pdf) : NULL;
  if (!url || !tmp_pdf || !a_profile || !a_crash || !a_pdf) {
    rc = vm_err_set(err, VM_ENOMEM, "out of memory");
    goto out;
  }
  char *argv[] = {browser, "--headless", "--disable-gpu", "--no-first-run",
                  "--no-default-browser-check", "--disable-extensions", "--disable-sync",
                  "--disable-background-networking", "--disable-dev-shm-usage",
                  "--no-pdf-header-footer", a_profile, a_crash, a_pdf,
                  geteuid() == 0 ? "--no-sandbox" : url, geteuid() == 0 ? url : NULL, NULL};
  rc = run_browser(argv, dir, err);
  if (rc == VM_OK) rc = keep_pdf(tmp_pdf, dir, pdf_path, err);
out:
  if (have_dir) tree_remove(dir, 0);
  vm_free(browser);
  vm_free(url);
  vm_free(tmp_pdf);
  vm_free(a_profile);
  vm_free(a_crash);
  vm_free(a_pdf);
  return rc;
}
