/* transcript_impl.h — helpers shared by the transcript readers and writers
 * (inside the module only; not part of the contract in transcript.h).
 *
 * transcript_text.c: a growable byte buffer, UTF-8 repair, a line reader
 * that knows BOM/LF/CRLF/CR, cue time parsing and formatting, and short
 * previews of bad lines for error messages.
 * transcript_cue.c: cue text (SRT or WebVTT markup) to plain segments.
 */
#ifndef VM_TRANSCRIPT_IMPL_H
#define VM_TRANSCRIPT_IMPL_H

#include <stddef.h>

#include "transcript.h"

/* The file's bytes as UTF-8 (transcript_charset.c): a UTF-16 file (with
 * BOM) is decoded; a file whose non-ASCII bytes are mostly not UTF-8 is
 * converted from CP949/EUC-KR when it converts cleanly. OUT: *out is NULL
 * when buf is to be used as it is (UTF-8, or nothing better known), else
 * the converted text (vm_free); *out_charset names what was assumed
 * ("UTF-8", "UTF-16LE", "UTF-16BE", "CP949"). VM_OK or VM_ENOMEM. */
int vm__tr_to_utf8(const char *buf, size_t len, char **out, size_t *out_len,
                   const char **out_charset);

/* A growable byte buffer. Allocation failures are sticky (oom = 1, later
 * appends do nothing), so a writer checks once, in vm__tr_buf_take(). */
typedef struct vm__tr_buf {
  char *p;    /* (cap) bytes, vm_malloc'd; p[0..n) are the content */
  size_t n;
  size_t cap;
  int oom;
} vm__tr_buf;

void vm__tr_buf_put(vm__tr_buf *b, const char *s, size_t n);
void vm__tr_buf_putc(vm__tr_buf *b, char c);
void vm__tr_buf_printf(vm__tr_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s[0..n) as valid UTF-8: every byte that does not start a valid
 * sequence, and every NUL, becomes U+FFFD. */
void vm__tr_buf_put_utf8(vm__tr_buf *b, const char *s, size_t n);
/* NUL-terminates the content and hands it over (*out, vm_free; *out_len
 * without the NUL; out_len may be NULL). VM_ENOMEM (and the buffer freed)
 * if any append failed. The buffer is empty afterwards. */
int vm__tr_buf_take(vm__tr_buf *b, char **out, size_t *out_len);
void vm__tr_buf_deinit(vm__tr_buf *b);

/* Length (1..4) of the valid UTF-8 sequence at s, or 0 if invalid. NUL
 * counts as valid here (length 1); callers decide about it. */
size_t vm__tr_utf8_seq(const unsigned char *s, size_t n);

/* Lines of a buffer: a UTF-8 BOM at the start of any line is skipped (a
 * file may be several joined with cat); LF, CRLF and a lone CR all end a
 * line. Copy the struct to peek ahead and restore. */
typedef struct vm__tr_lines {
  const char *buf;
  size_t len;
  size_t pos;     /* offset of the next line */
  size_t line_no; /* 1-based number of the line last returned (0: none) */
} vm__tr_lines;

void vm__tr_lines_init(vm__tr_lines *it, const char *buf, size_t len);
/* The next line without its terminator. Returns 1, or 0 at the end. */
int vm__tr_lines_next(vm__tr_lines *it, const char **line, size_t *n);
/* 1 if s[0..n) is only spaces and tabs (or empty). */
int vm__tr_is_blank(const char *s, size_t n);

/* Parses one cue time at s: "H+:MM:SS[.,]fff" or "MM:SS[.,]fff" (hours of
 * any number of digits up to 10, minutes and seconds below 60, 1 to 9
 * fraction digits, fraction optional). Returns 0 with *used bytes read
 * and *out_s, or -1. */
int vm__tr_time_parse(const char *s, size_t n, size_t *used, double *out_s);
/* Parses a timing line "START --> END[ settings]" (spaces optional around
 * the arrow; anything after END must follow a space or tab). 0 or -1;
 * the order of START and END is not checked here. */
int vm__tr_timing_parse(const char *s, size_t n, double *start_s, double *end_s);
/* Formats t (clamped to [0, VM__TR_TIME_MAX_S], rounded to ms) as
 * "HH:MM:SS<sep>mmm" with at least two hour digits. */
#define VM__TR_TIME_MAX_S 3.6e11
#define VM__TR_TIME_LEN 32
void vm__tr_time_format(double t_s, char sep, char out[VM__TR_TIME_LEN]);

/* VM_OK when a cue of start a, end b is in order, else VM_EFORMAT with
 * "line N: cue ends (..) before it starts (..)" (times written with sep). */
int vm__tr_cue_check_order(double a, double b, char sep, size_t line_no, vm_err *err);

/* A printable excerpt of s for error messages: at most ~40 bytes, cut at
 * a UTF-8 boundary, control and invalid bytes as '?', "..." if cut. */
#define VM__TR_PREVIEW_LEN 64
void vm__tr_preview(const char *s, size_t n, char out[VM__TR_PREVIEW_LEN]);

/* A language tag or name as an ISO 639 code: "ko", "KO", "ko-KR",
 * "Korean" -> "ko"; a few common names are known, other 2-3 letter codes
 * pass lower-cased. Returns 1, or 0 when s is none of these. */
#define VM__TR_LANG_LEN 8
int vm__tr_language_norm(const char *s, size_t n, char out[VM__TR_LANG_LEN]);

/* Longest "[LABEL]" speaker prefix of an SRT cue that is read (and that
 * the SRT writer writes). */
#define VM__TR_SRT_LABEL_MAX 128

/* 1 if a speaker label says the speaker is unknown: "?", "Speaker?" or
 * "speaker ?" (case-insensitive), as whisper.cpp --diarize writes when
 * the channels do not tell. Readers store such speakers as NULL. */
int vm__tr_label_unknown(const char *s, size_t n);

/* Adds one cue to t. text is the cue's raw text lines joined by '\n'.
 * VM__TR_MARKUP_VTT: every <...> is a tag and &amp; &lt; &gt; &nbsp;
 * &lrm; &rlm; &#N; &#xH; are decoded. VM__TR_MARKUP_SRT: only the tags
 * SRT players know (<i> <b> <u> <s> <font ...> and their ends, <v Name>)
 * and {\...} overrides are removed; other text stays as it is. In both,
 * <v Name> sets the speaker; when the voice changes after some text, that
 * text becomes a segment of its own with the same times. Lines are
 * trimmed, empty lines dropped, invalid UTF-8 repaired; a cue left with
 * no text adds nothing. Returns VM_OK or VM_ENOMEM. */
enum { VM__TR_MARKUP_SRT = 0, VM__TR_MARKUP_VTT = 1 };
int vm__tr_cue_add(vm_transcript *t, double start_s, double end_s, const char *text,
                   size_t n, int markup);

/* Trims every line of s[0..n) (spaces, tabs, CR, and U+FEFF at its
 * start, which the line reader also drops), drops empty lines, keeps
 * '\n' between the rest; in place, NUL-terminated (s must have room for
 * n + 1 bytes). Returns the new length. */
size_t vm__tr_text_tidy(char *s, size_t n);

#endif /* VM_TRANSCRIPT_IMPL_H */
