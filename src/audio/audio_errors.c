/* audio_errors.c — AVERROR → VM_* translation, and FFmpeg's log.
 *
 * DESIGN: foreign codes are translated here, once. AVERROR alone is too
 * vague for a forensic report ("Invalid data found when processing input"
 * covers a text file, random bytes and an MP4 cut before its index), so a
 * failed open is classified from three clues: the AVERROR, the first bytes
 * of the input (text? an ISO-BMFF box? a format a content-only probe
 * recognises?) and the last message FFmpeg logged on this thread.
 *
 * FFmpeg logs to stderr by default; a batch tool must not. The callback
 * installed here drops everything below AV_LOG_WARNING, keeps the calling
 * thread's last warning/error in thread-local storage (FFmpeg logs on the
 * thread that calls it; audio decoders run with thread_count = 1) and
 * forwards it to vm_log at debug level.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/log.h>

#include "audio_impl.h"
#include "vm_log.h"

/* ---- FFmpeg log capture ----------------------------------------------- */

#define LAST_MSG_MAX 256
static _Thread_local char tl_last_msg[LAST_MSG_MAX];
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

/* The format attribute tells the compiler fmt is FFmpeg's printf format
 * (so -Wformat-nonliteral accepts the vsnprintf below). */
static void av_log_cb(void *avcl, int level, const char *fmt, va_list vl)
    __attribute__((format(printf, 3, 0)));
static void av_log_cb(void *avcl, int level, const char *fmt, va_list vl) {
  (void)avcl;
  if (level > AV_LOG_WARNING) return;
  char line[LAST_MSG_MAX];
  va_list cp;
  va_copy(cp, vl);
  vsnprintf(line, sizeof line, fmt, cp);
  va_end(cp);
  size_t n = strlen(line);
  while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
    line[--n] = '\0';
  if (!n) return;
  memcpy(tl_last_msg, line, n + 1);
  vm_log(VM_LOG_DEBUG, "ffmpeg: %s", line);
}

static void log_install(void) {
  av_log_set_level(AV_LOG_WARNING);
  av_log_set_callback(av_log_cb);
}

void vm__audio_log_init(void) { pthread_once(&log_once, log_install); }
void vm__audio_log_reset(void) { tl_last_msg[0] = '\0'; }
const char *vm__audio_log_last(void) { return tl_last_msg; }

const char *vm__audio_av_text(int averr, char *buf, size_t cap) {
  if (av_strerror(averr, buf, cap) < 0)
    snprintf(buf, cap, "FFmpeg error %d", averr);
  return buf;
}

/* ---- content sniffing -------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (1..4), 0 if invalid; a sequence
 * cut by the end of the buffer counts as valid. */
static size_t utf8_len(const uint8_t *p, size_t left) {
  size_t len;
  if (p[0] < 0x80) return 1;
  if ((p[0] & 0xE0) == 0xC0 && p[0] >= 0xC2) len = 2;
  else if ((p[0] & 0xF0) == 0xE0) len = 3;
  else if ((p[0] & 0xF8) == 0xF0 && p[0] <= 0xF4) len = 4;
  else return 0;
  for (size_t i = 1; i < len; i++) {
    if (i >= left) return left;
    if ((p[i] & 0xC0) != 0x80) return 0;
  }
  return len;
}

/* Text = valid UTF-8 (ASCII included), no NUL, and at most 1 % control
 * characters other than tab, newline, carriage return and form feed. Audio
 * containers start with binary headers, so this never fires on a real
 * recording; it is only consulted after FFmpeg has refused the input. */
int vm__audio_looks_like_text(const uint8_t *p, size_t n) {
  size_t n_ctrl = 0, i = 0;
  if (n == 0) return 0;
  if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) i = 3; /* BOM */
  while (i < n) {
    uint8_t c = p[i];
    if (c == 0) return 0;
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') ||
        c == 0x7F)
      n_ctrl++;
    size_t len = utf8_len(p + i, n - i);
    if (len == 0) return 0;
    i += len;
  }
  return n_ctrl * 100 <= n;
}

/* ISO base media (MP4/M4A/3GP/MOV): the file opens with a box whose
 * 32-bit size is plausible and whose type is one that starts such files. */
int vm__audio_looks_like_mp4(const uint8_t *p, size_t n) {
  static const char *const types[] = {"ftyp", "moov", "mdat", "free",
                                      "skip", "wide", "pnot", "styp"};
  if (n < 8) return 0;
  uint32_t size = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                  (uint32_t)p[2] << 8 | p[3];
  if (size != 1 && size != 0 && size < 8) return 0;
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (memcmp(p + 4, types[i], 4) == 0) return 1;
  return 0;
}

/* Content-only probe (no file name, so no extension bonus): the long name
 * of a format that clearly recognises the bytes, or NULL. */
static const char *probe_content(const uint8_t *hdr, size_t n_hdr) {
  uint8_t buf[4096 + AVPROBE_PADDING_SIZE];
  if (n_hdr > 4096) n_hdr = 4096;
  memcpy(buf, hdr, n_hdr);
  memset(buf + n_hdr, 0, AVPROBE_PADDING_SIZE);
  AVProbeData pd = {.filename = "", .buf = buf, .buf_size = (int)n_hdr};
  int score = 0;
  const AVInputFormat *f = av_probe_input_format3(&pd, 1, &score);
  if (!f || score < AVPROBE_SCORE_MAX / 2) return NULL;
  return f->long_name ? f->long_name : f->name;
}

/* ---- translation -------------------------------------------------------- */

/* AVERRORs that mean the same everywhere. Returns 0 if averr is not one. */
static int err_common(int averr, const char *doing, vm_err *err) {
  char t[128];
  if (averr == AVERROR(ENOMEM))
    return vm_err_set(err, VM_ENOMEM, "out of memory while %s", doing);
  if (averr == AVERROR_EXIT)
    return vm_err_set(err, VM_ECANCELED, "canceled");
  if (averr == AVERROR(EIO) || averr == AVERROR(EISDIR) ||
      averr == AVERROR(ENXIO))
    return vm_err_set(err, VM_EIO, "read error while %s: %s", doing,
                      vm__audio_av_text(averr, t, sizeof t));
  if (averr == AVERROR_DECODER_NOT_FOUND)
    return vm_err_set(err, VM_EFORMAT, "unsupported audio codec");
  if (averr == AVERROR_PATCHWELCOME)
    return vm_err_set(err, VM_EFORMAT,
                      "unsupported feature of the audio format (%s)",
                      vm__audio_log_last()[0] ? vm__audio_log_last()
                                              : "not implemented in FFmpeg");
  return 0;
}

int vm__audio_err_open(int averr, const uint8_t *hdr, size_t n_hdr,
                       const vm__audio_src *src, const char *name,
                       vm_err *err) {
  const char *last = vm__audio_log_last();
  const char *fmt;
  int rc;
  (void)name;

  if (src->read_errno)
    return vm_err_set(err, vm_status_from_errno(src->read_errno),
                      "read error: %s", strerror(src->read_errno));
  if ((rc = err_common(averr, "opening the file", err)) != 0) return rc;
  if (vm__audio_looks_like_text(hdr, n_hdr))
    return vm_err_set(err, VM_EFORMAT, "not an audio file (looks like text)");
  if (vm__audio_looks_like_mp4(hdr, n_hdr)) {
    if (strstr(last, "moov atom not found"))
      return vm_err_set(err, VM_EDECODE,
                        "truncated or incomplete MP4/M4A file (no index: "
                        "'moov' atom missing)");
    return vm_err_set(err, VM_EDECODE, "damaged MP4/M4A file (%s)",
                      last[0] ? last : "unreadable header");
  }
  if ((fmt = probe_content(hdr, n_hdr)) != NULL)
    return vm_err_set(err, VM_EDECODE, "damaged %s file (%s)", fmt,
                      last[0] ? last : "unreadable header");
  return vm_err_set(err, VM_EFORMAT, "not an audio file (unrecognised format)");
}

int vm__audio_err_av(int averr, const char *doing, vm_err *err) {
  char t[128];
  int rc = err_common(averr, doing, err);
  if (rc) return rc;
  const char *last = vm__audio_log_last();
  return vm_err_set(err, VM_EDECODE, "error while %s: %s%s%s", doing,
                    vm__audio_av_text(averr, t, sizeof t),
                    last[0] ? "; " : "", last);
}
