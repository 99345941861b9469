/* audio_impl.h — shared inside src/audio only; never include elsewhere.
 *
 * The decoder (audio_decode.c) reads bytes through a vm__audio_src (a file
 * descriptor or a borrowed memory buffer, see audio_io.c) and turns every
 * FFmpeg failure into a VM_* code with a human reason through the helpers
 * of audio_errors.c, which also own the process-wide FFmpeg log callback.
 */
#ifndef VM_AUDIO_IMPL_H
#define VM_AUDIO_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <libavformat/avformat.h>

#include "audio.h"

/* ---- byte source (audio_io.c) ---------------------------------------- */

/* Where the container bytes come from. Exactly one of fd >= 0 or data is
 * used. The source never writes and never opens anything else. */
typedef struct vm__audio_src {
  int fd;                /* read-only descriptor (owned by the opener), or -1 */
  const uint8_t *data;   /* borrowed buffer when fd < 0 */
  int64_t size;          /* total bytes */
  int64_t pos;           /* current read offset, bytes */
  int read_errno;        /* errno of the last failed read(2), 0 if none */
} vm__audio_src;

/* Opens path read-only into src after checking that it is a non-empty
 * regular file. Returns VM_ENOENT, VM_EACCES, VM_EEMPTY, VM_EINVAL (not a
 * regular file) or VM_EIO with the reason in err. On success the caller
 * closes src->fd. */
int vm__audio_src_open_file(vm__audio_src *src, const char *path, vm_err *err);

/* Copies up to cap bytes from the start of src into buf without moving
 * the read offset. OUT: returns the number of bytes copied (0 on error). */
size_t vm__audio_src_peek(const vm__audio_src *src, uint8_t *buf, size_t cap);

/* Creates an AVIOContext reading from src (borrowed; must outlive it).
 * Free with vm__audio_avio_free. NULL when out of memory. */
AVIOContext *vm__audio_avio_create(vm__audio_src *src);
void vm__audio_avio_free(AVIOContext **pb);

/* io_open callback that refuses every nested open (playlists, external
 * MP4 data references, ...): the decoder reads the one file it was given. */
int vm__audio_io_open_refuse(AVFormatContext *s, AVIOContext **pb,
                             const char *url, int flags,
                             AVDictionary **options);

/* ---- errors and FFmpeg logging (audio_errors.c) ---------------------- */

/* Installs (once per process) the FFmpeg log callback: nothing reaches
 * stderr directly; warnings go to vm_log at debug level and the last one
 * of the calling thread is kept for failure reasons. Thread-safe. */
void vm__audio_log_init(void);
/* Forgets the calling thread's last FFmpeg message. */
void vm__audio_log_reset(void);
/* The calling thread's last FFmpeg warning/error ("" if none); valid until
 * the next FFmpeg call on this thread. */
const char *vm__audio_log_last(void);

/* Text of an AVERROR code (av_strerror), into buf. */
const char *vm__audio_av_text(int averr, char *buf, size_t cap);

/* Heuristics on the first bytes of a file, used only after FFmpeg failed. */
int vm__audio_looks_like_text(const uint8_t *p, size_t n);
int vm__audio_looks_like_mp4(const uint8_t *p, size_t n);

/* Translates a failure of avformat_open_input / avformat_find_stream_info
 * into a VM_* code with a specific reason. hdr/n_hdr are the first bytes of
 * the input; src tells whether the underlying read(2) failed. */
int vm__audio_err_open(int averr, const uint8_t *hdr, size_t n_hdr,
                       const vm__audio_src *src, const char *name,
                       vm_err *err);

/* Translates any other AVERROR (decoder open, resampler, read errors)
 * with what the decoder was doing in `doing`, e.g. "decoding AAC". */
int vm__audio_err_av(int averr, const char *doing, vm_err *err);

#endif /* VM_AUDIO_IMPL_H */
