/* audit.c — writer side of the hash-chained evidence log (see audit.h).
 *
 * Does not verify anything (audit_verify.c does) and does not decide what
 * is logged (the pipeline does).
 *
 * DESIGN
 * A handle holds the log's fd (O_RDWR|O_APPEND|O_CREAT, 0644, with an
 * exclusive flock so a second writer gets VM_EBUSY), the seq of the last
 * line and the hex SHA-256 of that line's bytes. vm_audit_open() reads only
 * the tail of the file: it scans backwards in 64 KiB blocks for the last
 * one or two line breaks, so opening a log of 100k lines costs a few
 * preads, not a pass over the file. The first line has seq 1.
 *
 * Append: the event is serialised compactly in insertion order (jansson
 * escapes control characters, so no '\n' can occur inside), '\n' is added
 * and the whole line goes out in ONE write() followed by fdatasync(). The
 * handle's seq/prev advance only after both succeeded.
 *
 * Failures while appending (invariant: the handle's state always describes
 * the last complete line that is in the file):
 *  - write() fails with nothing written (ENOSPC, EFBIG, EIO): error, state
 *    unchanged, the handle stays usable.
 *  - short write (disk full mid-line): error (VM_ENOSPC), state unchanged.
 *    The partial line is cut off again with ftruncate() to the old end,
 *    but only when fstat shows exactly old end + our bytes, so another
 *    writer's data is never cut. If that works the handle stays usable.
 *    Otherwise the torn line stays in the file, the handle is marked
 *    broken (every later append returns VM_EIO) and the next
 *    vm_audit_open() repairs the torn tail as audit.h describes.
 *  - fdatasync() fails: the line is in the file but maybe not on disk; the
 *    handle is marked broken likewise and the next open starts from what
 *    the file really holds.
 *
 * Torn tail at open: the file does not end with '\n'. "\n" and the
 * log_repaired line {"torn_bytes":N} go out in one write, prev = SHA-256
 * of the N torn bytes, seq = (seq of the torn line if it still parses,
 * else of the line before it) + 1. A complete last line that is not an
 * event is refused (VM_EFORMAT): we do not append to a log whose end we
 * cannot interpret; vm_audit_verify says what is wrong with it.
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm_alloc.h" /* vm_calloc, vm_malloc, vm_strdup, vm_free */
#include "vm_log.h"   /* VM_WARN */
#include "vm_sha256.h"
#include "vm_time.h" /* vm_time_unix_ms, vm_time_iso_utc */

#define SCAN_BLOCK (64u * 1024u)
/* Longest line open() will load; real events are a few hundred bytes. */
#define LINE_MAX_BYTES ((uint64_t)16 << 20)
#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

struct vm_audit {
  int fd;             /* the log, O_RDWR|O_APPEND, flock'd; -1 when closed */
  int broken;         /* 1 after a failed write we could not undo */
  int64_t last_seq;   /* seq of the last line; 0 for an empty log */
  uint64_t end_bytes; /* file size as far as this handle knows */
  char prev_hex[VM_SHA256_HEX_LEN + 1]; /* hash of the last line, no '\n' */
  char *path;         /* owned copy, for messages */
};

static int pread_full(int fd, void *buf, size_t n, uint64_t off, vm_err *err) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      int e = r < 0 ? errno : EIO;
      return vm_err_set(err, vm_status_from_errno(e),
                        "cannot read the audit log: %s",
                        r < 0 ? strerror(e) : "file shrank while reading");
    }
    done += (size_t)r;
  }
  return VM_OK;
}

/* OUT: *out_start = offset just after the last '\n' before end (0 if
 * there is none). */
static int line_start_find(int fd, uint64_t end, uint64_t *out_start,
                           vm_err *err) {
  int rc = VM_OK;
  char *buf = vm_malloc(SCAN_BLOCK);
  uint64_t pos = end;
  *out_start = 0;
  if (!buf) return vm_err_set(err, VM_ENOMEM, "out of memory");
  while (pos > 0) {
    size_t n = pos < SCAN_BLOCK ? (size_t)pos : SCAN_BLOCK;
    rc = pread_full(fd, buf, n, pos - n, err);
    if (rc < 0) goto out;
    for (size_t i = n; i > 0; i--) {
      if (buf[i - 1] == '\n') {
        *out_start = pos - n + i;
        goto out;
      }
    }
    pos -= n;
  }
out:
  vm_free(buf);
  return rc;
}

/* Loads bytes [start, end) into a new NUL-terminated buffer (vm_free). */
static int range_read(int fd, uint64_t start, uint64_t end, char **out,
                      vm_err *err) {
  *out = NULL;
  if (end - start > LINE_MAX_BYTES)
    return vm_err_set(err, VM_EFORMAT,
                      "the last line of the audit log is longer than %" PRIu64
                      " bytes",
                      LINE_MAX_BYTES);
  size_t n = (size_t)(end - start);
  char *buf = vm_malloc(n + 1);
  if (!buf) return vm_err_set(err, VM_ENOMEM, "out of memory");
  int rc = pread_full(fd, buf, n, start, err);
  if (rc < 0) {
    vm_free(buf);
    return rc;
  }
  buf[n] = '\0';
  *out = buf;
  return VM_OK;
}

/* 1 and *out_seq when the n bytes at line are an event with a seq in
 * [0, INT64_MAX), else 0. */
static int line_seq_parse(const char *line, size_t n, int64_t *out_seq) {
  json_error_t je;
  json_t *j = json_loadb(line, n, JSON_REJECT_DUPLICATES, &je);
  json_t *seq = json_is_object(j) ? json_object_get(j, "seq") : NULL;
  int ok = json_is_integer(seq) && json_integer_value(seq) >= 0 &&
           json_integer_value(seq) < INT64_MAX;
  if (ok) *out_seq = (int64_t)json_integer_value(seq);
  json_decref(j);
  return ok;
}

/* Reads the seq of the complete line that ends at byte end (its '\n'). */
static int line_before_seq(vm_audit *a, uint64_t end, int64_t *out_seq,
                           vm_err *err) {
  uint64_t start = 0;
  char *line = NULL;
  int rc = line_start_find(a->fd, end, &start, err);
  if (rc < 0) goto out;
  rc = range_read(a->fd, start, end, &line, err);
  if (rc < 0) goto out;
  if (!line_seq_parse(line, (size_t)(end - start), out_seq))
    rc = vm_err_set(err, VM_EFORMAT,
                    "audit log %s: the line before the torn last line is not "
                    "an event; run verify",
                    a->path);
out:
  vm_free(line);
  return rc;
}

/* Sets last_seq/prev_hex from the file's tail. OUT: *out_torn = number of
 * bytes after the last '\n' (0 when the file ends with '\n'). */
static int tail_load(vm_audit *a, uint64_t size, uint64_t *out_torn,
                     vm_err *err) {
  int rc = VM_OK;
  char *line = NULL, last = 0;
  uint64_t start = 0, end;
  *out_torn = 0;
  a->last_seq = 0;
  memset(a->prev_hex, '0', VM_SHA256_HEX_LEN);
  a->prev_hex[VM_SHA256_HEX_LEN] = '\0';
  if (size == 0) return VM_OK;
  rc = pread_full(a->fd, &last, 1, size - 1, err);
  if (rc < 0) goto out;
  end = last == '\n' ? size - 1 : size;
  rc = line_start_find(a->fd, end, &start, err);
  if (rc < 0) goto out;
  rc = range_read(a->fd, start, end, &line, err);
  if (rc < 0) goto out;
  size_t n = (size_t)(end - start);
  vm_sha256_buf_hex(line, n, a->prev_hex);
  if (line_seq_parse(line, n, &a->last_seq)) {
    if (last != '\n') *out_torn = n;
  } else if (last != '\n') {
    *out_torn = n;
    if (start > 0) rc = line_before_seq(a, start - 1, &a->last_seq, err);
  } else {
    rc = vm_err_set(err, VM_EFORMAT,
                    "audit log %s: the last line is not an event; run verify",
                    a->path);
  }
out:
  vm_free(line);
  return rc;
}

/* Serialises the next event. OUT: *out (vm_free) = prefix + line + '\n',
 * *out_n its length, *out_line_n the line's length without prefix/'\n'. */
static int line_build(const vm_audit *a, const char *prefix, const char *event,
                      const json_t *fields, char **out, size_t *out_n,
                      size_t *out_line_n, vm_err *err) {
  static const char *const fixed[] = {"seq", "time", "event", "prev"};
  int rc = VM_OK;
  json_t *ev = NULL, *copy = NULL;
  char ts[32];
  *out = NULL;
  if (fields && !json_is_object(fields))
    return vm_err_set(err, VM_EINVAL, "audit fields must be a JSON object");
  for (size_t i = 0; fields && i < sizeof fixed / sizeof fixed[0]; i++)
    if (json_object_get(fields, fixed[i]))
      return vm_err_set(err, VM_EINVAL, "audit field \"%s\" is reserved",
                        fixed[i]);
  vm_time_iso_utc(vm_time_unix_ms(), ts);
  ev = json_object();
  if (!ev || json_object_set_new(ev, "seq", json_integer(a->last_seq + 1)) ||
      json_object_set_new(ev, "time", json_string(ts))) {
    rc = vm_err_set(err, VM_ENOMEM, "out of memory");
    goto out;
  }
  json_t *ev_name = json_string(event); /* NULL when not UTF-8 */
  if (!ev_name) {
    rc = vm_err_set(err, VM_EINVAL, "audit event name is not UTF-8");
    goto out;
  }
  if (json_object_set_new(ev, "event", ev_name) ||
      json_object_set_new(ev, "prev", json_string(a->prev_hex))) {
    rc = vm_err_set(err, VM_ENOMEM, "out of memory");
    goto out;
  }
  if (fields && (!(copy = json_deep_copy(fields)) ||
                 json_object_update(ev, copy) != 0)) {
    rc = vm_err_set(err, VM_ENOMEM, "out of memory");
    goto out;
  }
  size_t pre = strlen(prefix);
  size_t n = json_dumpb(ev, NULL, 0, DUMP_FLAGS);
  char *buf = n ? vm_malloc(pre + n + 1) : NULL;
  if (!buf || json_dumpb(ev, buf + pre, n, DUMP_FLAGS) != n) {
    vm_free(buf);
    rc = vm_err_set(err, n ? VM_ENOMEM : VM_EINVAL,
                    "cannot serialise audit event %s", event);
    goto out;
  }
  memcpy(buf, prefix, pre);
  buf[pre + n] = '\n';
  *out = buf;
  *out_n = pre + n + 1;
  *out_line_n = n;
out:
  json_decref(copy);
  json_decref(ev);
  return rc;
}

/* After a short write of `written` bytes: cut them off if the file is
 * exactly as we left it plus those bytes, else mark the handle broken. */
static void write_undo(vm_audit *a, uint64_t written) {
  struct stat st;
  if (fstat(a->fd, &st) == 0 && (uint64_t)st.st_size == a->end_bytes + written &&
      ftruncate(a->fd, (off_t)a->end_bytes) == 0)
    return;
  a->broken = 1;
  VM_WARN("audit log %s: a torn line remains; it is repaired on the next open",
          a->path);
}

/* Appends prefix + event line in one write + fdatasync (see DESIGN). */
static int line_append(vm_audit *a, const char *prefix, const char *event,
                       const json_t *fields, vm_err *err) {
  int rc = VM_OK;
  char *buf = NULL;
  size_t n = 0, line_n = 0;
  if (a->broken)
    return vm_err_set(err, VM_EIO,
                      "audit log %s: an earlier write failed; reopen the log",
                      a->path);
  rc = line_build(a, prefix, event, fields, &buf, &n, &line_n, err);
  if (rc < 0) goto out;
  ssize_t w;
  do {
    w = write(a->fd, buf, n);
  } while (w < 0 && errno == EINTR);
  if (w != (ssize_t)n) {
    int e = w < 0 ? errno : ENOSPC;
    rc = vm_err_set(err, vm_status_from_errno(e),
                    "audit log %s: write failed after %zd of %zu bytes: %s",
                    a->path, w < 0 ? (ssize_t)0 : w, n, strerror(e));
    if (w > 0) write_undo(a, (uint64_t)w);
    goto out;
  }
  if (fdatasync(a->fd) != 0) {
    int e = errno;
    a->broken = 1;
    rc = vm_err_set(err, VM_EIO, "audit log %s: fdatasync failed: %s",
                    a->path, strerror(e));
    goto out;
  }
  size_t pre = n - line_n - 1;
  vm_sha256_buf_hex(buf + pre, line_n, a->prev_hex);
  a->last_seq++;
  a->end_bytes += n;
out:
  vm_free(buf);
  return rc;
}

void vm_audit_close(vm_audit *a) {
  if (!a) return;
  if (a->fd >= 0) close(a->fd); /* also drops the flock */
  vm_free(a->path);
  vm_free(a);
}

/* Repairs a torn tail of torn_bytes bytes (see DESIGN). */
static int tail_repair(vm_audit *a, uint64_t torn_bytes, vm_err *err) {
  json_t *f = json_pack("{s:I}", "torn_bytes", (json_int_t)torn_bytes);
  if (!f) return vm_err_set(err, VM_ENOMEM, "out of memory");
  int rc = line_append(a, "\n", "log_repaired", f, err);
  json_decref(f);
  if (rc == VM_OK)
    VM_WARN("audit log %s: the last line was torn (%" PRIu64
            " bytes); logged log_repaired",
            a->path, torn_bytes);
  return rc;
}

int vm_audit_open(const char *path, vm_audit **out, vm_err *err) {
  int rc = VM_OK;
  vm_audit *a = NULL;
  struct stat st;
  uint64_t torn = 0;
  if (!out) return vm_err_set(err, VM_EINVAL, "vm_audit_open: out is NULL");
  *out = NULL;
  if (!path) return vm_err_set(err, VM_EINVAL, "vm_audit_open: path is NULL");
  if ((a = vm_calloc(1, sizeof *a)) != NULL) a->fd = -1;
  if (!a || !(a->path = vm_strdup(path))) {
    rc = vm_err_set(err, VM_ENOMEM, "out of memory");
    goto out;
  }
  a->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (a->fd < 0) {
    int e = errno;
    rc = vm_err_set(err, vm_status_from_errno(e), "cannot open %s: %s", path,
                    strerror(e));
    goto out;
  }
  if (flock(a->fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    rc = vm_err_set(err, e == EWOULDBLOCK ? VM_EBUSY : vm_status_from_errno(e),
                    "audit log %s is held by another writer: %s", path,
                    strerror(e));
    goto out;
  }
  if (fstat(a->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = vm_err_set(err, VM_EINVAL, "%s is not a regular file", path);
    goto out;
  }
  a->end_bytes = (uint64_t)st.st_size;
  rc = tail_load(a, a->end_bytes, &torn, err);
  if (rc < 0) goto out;
  if (torn > 0) { /* a non-empty file that does not end with '\n' */
    rc = tail_repair(a, torn, err);
    if (rc < 0) goto out;
  }
  *out = a;
  a = NULL;
out:
  vm_audit_close(a);
  return rc;
}

int vm_audit_append(vm_audit *a, const char *event, const json_t *fields,
                    vm_err *err) {
  if (!a || !event || !*event)
    return vm_err_set(err, VM_EINVAL, "vm_audit_append: bad arguments");
  return line_append(a, "", event, fields, err);
}
