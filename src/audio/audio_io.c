/* audio_io.c — the bytes FFmpeg reads: a read-only file or a memory buffer.
 *
 * DESIGN: the decoder never lets libavformat open anything by name. A file
 * is opened here with open(O_RDONLY) — so ENOENT/EACCES come straight from
 * errno, precise and untranslated by FFmpeg — and handed to libavformat
 * through a custom AVIOContext; a memory buffer goes through the same
 * callbacks. Nested opens (playlists, MP4 external data references) are
 * refused by vm__audio_io_open_refuse, so decoding a recording can never
 * read another file or a URL, and nothing is ever written.
 *
 * Not here: demuxing, decoding, error wording (audio_errors.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavformat/avio.h>
#include <libavutil/error.h>
#include <libavutil/mem.h>

#include "audio_impl.h"

/* AVIO buffer size: large enough that one read(2) moves a useful amount,
 * small enough to stay in cache. */
#define AVIO_BUF_BYTES (64 * 1024)

int vm__audio_src_open_file(vm__audio_src *src, const char *path,
                            vm_err *err) {
  struct stat st;
  int fd = -1, rc = VM_OK;

  memset(src, 0, sizeof *src);
  src->fd = -1;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT || e == ENOTDIR)
      rc = vm_err_set(err, VM_ENOENT, "no such file");
    else if (e == EACCES || e == EPERM)
      rc = vm_err_set(err, VM_EACCES, "permission denied");
    else
      rc = vm_err_set(err, vm_status_from_errno(e), "cannot open: %s",
                      strerror(e));
    goto out;
  }
  if (fstat(fd, &st) != 0) {
    rc = vm_err_set(err, VM_EIO, "cannot stat: %s", strerror(errno));
    goto out;
  }
  if (S_ISDIR(st.st_mode)) {
    rc = vm_err_set(err, VM_EINVAL, "is a directory, not a recording");
    goto out;
  }
  if (!S_ISREG(st.st_mode)) {
    rc = vm_err_set(err, VM_EINVAL, "not a regular file");
    goto out;
  }
  if (st.st_size == 0) {
    rc = vm_err_set(err, VM_EEMPTY, "empty file (0 bytes)");
    goto out;
  }
  src->fd = fd;
  src->size = (int64_t)st.st_size;
  fd = -1; /* now owned by src */
out:
  if (fd >= 0) close(fd);
  return rc;
}

size_t vm__audio_src_peek(const vm__audio_src *src, uint8_t *buf,
                          size_t cap) {
  size_t n = cap;
  if (src->size >= 0 && (uint64_t)src->size < n) n = (size_t)src->size;
  if (src->fd < 0) {
    if (n) memcpy(buf, src->data, n);
    return n;
  }
  ssize_t got = pread(src->fd, buf, n, 0);
  return got > 0 ? (size_t)got : 0;
}

static int src_read(void *opaque, uint8_t *buf, int cap) {
  vm__audio_src *src = opaque;
  if (cap <= 0) return 0;
  if (src->pos >= src->size) return AVERROR_EOF;
  int64_t left = src->size - src->pos;
  size_t n = (size_t)(left < cap ? left : cap);
  if (src->fd < 0) {
    memcpy(buf, src->data + src->pos, n);
  } else {
    ssize_t got;
    do {
      got = pread(src->fd, buf, n, (off_t)src->pos);
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
      src->read_errno = errno;
      return AVERROR(errno);
    }
    if (got == 0) return AVERROR_EOF; /* file shrank under us */
    n = (size_t)got;
  }
  src->pos += (int64_t)n;
  return (int)n;
}

static int64_t src_seek(void *opaque, int64_t offset, int whence) {
  vm__audio_src *src = opaque;
  int64_t to;
  switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE: return src->size;
    case SEEK_SET: to = offset; break;
    case SEEK_CUR: to = src->pos + offset; break;
    case SEEK_END: to = src->size + offset; break;
    default: return AVERROR(EINVAL);
  }
  if (to < 0) return AVERROR(EINVAL);
  /* Seeking past the end is allowed (reads then give EOF), as with lseek. */
  src->pos = to;
  return to;
}

AVIOContext *vm__audio_avio_create(vm__audio_src *src) {
  unsigned char *buf = av_malloc(AVIO_BUF_BYTES);
  if (!buf) return NULL;
  AVIOContext *pb = avio_alloc_context(buf, AVIO_BUF_BYTES, 0, src,
                                       src_read, NULL, src_seek);
  if (!pb) av_free(buf);
  return pb;
}

void vm__audio_avio_free(AVIOContext **pb) {
  if (!pb || !*pb) return;
  /* avio may have replaced the buffer: free the one it holds now. */
  av_freep(&(*pb)->buffer);
  avio_context_free(pb);
}

int vm__audio_io_open_refuse(AVFormatContext *s, AVIOContext **pb,
                             const char *url, int flags,
                             AVDictionary **options) {
  (void)s, (void)url, (void)flags, (void)options;
  *pb = NULL;
  return AVERROR(EPERM);
}
