/* vm_fs.c — atomic writes via temp file + rename; recursive mkdir/sweep. */
#include "vm_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm_alloc.h"

static atomic_uint g_tmp_counter;

char *vm_path_join(const char *a, const char *b) {
  size_t na = strlen(a);
  while (na > 1 && a[na - 1] == '/') na--;
  while (*b == '/') b++;
  if (na == 0) return vm_strdup(b);
  return vm_asprintf("%.*s%s%s", (int)na, a, a[na - 1] == '/' ? "" : "/", b);
}

int vm_fs_exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

int vm_fs_mkdir_p(const char *path, vm_err *err) {
  char *p = vm_strdup(path);
  int rc = VM_OK;
  if (!p) return vm_err_set(err, VM_ENOMEM, "out of memory");
  for (char *s = p + 1;; s++) {
    if (*s == '/' || *s == '\0') {
      char c = *s;
      *s = '\0';
      if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        int e = errno;
        rc = vm_err_set(err, vm_status_from_errno(e),
                        "cannot create directory %s: %s", p, strerror(e));
        break;
      }
      *s = c;
      if (c == '\0') break;
    }
  }
  if (rc == VM_OK) {
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
      rc = vm_err_set(err, VM_EIO, "%s exists and is not a directory", path);
  }
  vm_free(p);
  return rc;
}

static int write_all(int fd, const char *data, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    data += w;
    n -= (size_t)w;
  }
  return 0;
}

static void fsync_parent(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir = slash ? vm_asprintf("%.*s", (int)(slash - path), path)
                    : vm_strdup(".");
  if (!dir) return;
  int fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  vm_free(dir);
}

int vm_fs_write_atomic(const char *path, const void *data, size_t n,
                       vm_err *err) {
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  int dlen = slash ? (int)(slash - path + 1) : 0;
  unsigned c = atomic_fetch_add(&g_tmp_counter, 1u);
  char *tmp = vm_asprintf("%.*s" VM_FS_TEMP_PREFIX "%s.%ld.%u", dlen, path,
                          base, (long)getpid(), c);
  int rc = VM_OK, fd = -1;
  if (!tmp) return vm_err_set(err, VM_ENOMEM, "out of memory");
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    int e = errno;
    rc = vm_err_set(err, vm_status_from_errno(e), "cannot write %s: %s", path,
                    strerror(e));
    goto out;
  }
  if (write_all(fd, data, n) != 0 || fsync(fd) != 0) {
    int e = errno;
    rc = vm_err_set(err, vm_status_from_errno(e), "cannot write %s: %s", path,
                    strerror(e));
    goto out;
  }
  if (close(fd) != 0) {
    int e = errno;
    fd = -1;
    rc = vm_err_set(err, vm_status_from_errno(e), "cannot write %s: %s", path,
                    strerror(e));
    goto out;
  }
  fd = -1;
  if (rename(tmp, path) != 0) {
    int e = errno;
    rc = vm_err_set(err, vm_status_from_errno(e), "cannot rename into %s: %s",
                    path, strerror(e));
    goto out;
  }
  fsync_parent(path);
out:
  if (fd >= 0) close(fd);
  if (rc != VM_OK) unlink(tmp);
  vm_free(tmp);
  return rc;
}

int vm_fs_read_all(const char *path, size_t max_bytes, char **out,
                   size_t *out_n, vm_err *err) {
  int rc = VM_OK;
  char *buf = NULL;
  size_t cap = 0, len = 0;
  *out = NULL;
  if (out_n) *out_n = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    return vm_err_set(err, vm_status_from_errno(e), "cannot open %s: %s",
                      path, strerror(e));
  }
  for (;;) {
    if (len + 4096 + 1 > cap) {
      size_t ncap = cap ? cap * 2 : 65536;
      char *nb = vm_realloc(buf, ncap);
      if (!nb) {
        rc = vm_err_set(err, VM_ENOMEM, "out of memory reading %s", path);
        goto out;
      }
      buf = nb;
      cap = ncap;
    }
    ssize_t r = read(fd, buf + len, cap - len - 1);
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      rc = vm_err_set(err, vm_status_from_errno(e), "cannot read %s: %s",
                      path, strerror(e));
      goto out;
    }
    if (r == 0) break;
    len += (size_t)r;
    if (len > max_bytes) {
      rc = vm_err_set(err, VM_EINVAL, "%s is larger than %zu bytes", path,
                      max_bytes);
      goto out;
    }
  }
  if (!buf && !(buf = vm_malloc(1))) {
    rc = vm_err_set(err, VM_ENOMEM, "out of memory");
    goto out;
  }
  buf[len] = '\0';
  *out = buf;
  buf = NULL;
  if (out_n) *out_n = len;
out:
  vm_free(buf);
  close(fd);
  return rc;
}

int vm_fs_sweep_temps(const char *dir, int *out_removed) {
  int removed = 0;
  DIR *d = opendir(dir);
  if (!d) {
    if (out_removed) *out_removed = 0;
    return errno == ENOENT ? VM_OK : vm_status_from_errno(errno);
  }
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    char *p = vm_path_join(dir, de->d_name);
    if (!p) break;
    struct stat st;
    if (lstat(p, &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        int n = 0;
        vm_fs_sweep_temps(p, &n);
        removed += n;
      } else if (!strncmp(de->d_name, VM_FS_TEMP_PREFIX,
                          strlen(VM_FS_TEMP_PREFIX))) {
        if (unlink(p) == 0) removed++;
      }
    }
    vm_free(p);
  }
  closedir(d);
  if (out_removed) *out_removed = removed;
  return VM_OK;
}
