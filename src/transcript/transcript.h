/* transcript.h — a timed, speaker-labelled transcript: the one type that
 * the Whisper engine produces, transcript files are read into, the
 * language forensics read and the report writers print.
 *
 * Usage:
 *   vm_transcript *t = vm_transcript_create();
 *   vm_transcript_add(t, 0.0, 2.5, "안녕하세요", (size_t)-1, "SPEAKER_00", NULL);
 *   ...
 *   vm_transcript_destroy(t);
 *
 *   vm_err err;
 *   if (vm_transcript_load("calls/a.srt", &t, &err) != VM_OK) log(err.msg);
 *
 * Times are seconds from the start of the recording (doubles; end >= start).
 * Text is UTF-8 as given (the loaders replace invalid bytes with U+FFFD and
 * strip markup; no other normalisation: the language module NFC-normalises
 * for matching). A speaker is a label string or NULL when unknown; labels
 * from files (WebVTT <v Name>, JSON "speaker") are kept verbatim.
 *
 * Ownership: the transcript owns every string in it. Segment pointers are
 * invalidated by vm_transcript_add() (the array may move).
 * Thread-safety: none; one thread per transcript.
 */
#ifndef VM_TRANSCRIPT_H
#define VM_TRANSCRIPT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vm_status.h"

/* Decoder details of a segment made by the Whisper engine; for segments
 * read from files every double is NAN (unless a JSON file carries it, as
 * voiceman's and OpenAI's do) and tokens is NULL. */
typedef struct vm_tr_asr {
  double avg_logprob;    /* mean log-probability of the segment's tokens */
  double no_speech_prob; /* of the window the segment came from */
  double temperature;    /* the temperature that produced it */
  double compression_ratio;
  int32_t *tokens;       /* (n_tokens) token ids, owned */
  size_t n_tokens;
} vm_tr_asr;

typedef struct vm_tr_segment {
  double start_s, end_s;
  char *text;    /* UTF-8, NUL-terminated, owned */
  char *speaker; /* owned; NULL when unknown */
  vm_tr_asr asr;
} vm_tr_segment;

typedef struct vm_transcript {
  vm_tr_segment *segments; /* (n_segments) in time order of start_s */
  size_t n_segments;
  size_t cap;
  char *language; /* ISO 639-1 code ("ko") or NULL when unknown; owned */
  char *source;   /* "whisper", "srt", "vtt" or "json"; owned, may be NULL */
} vm_transcript;

/* Output formats (docs/transcripts.md has the details). */
enum vm_tr_format {
  VM_TR_FORMAT_TXT = 0, /* one segment per line: "[start --> end] SPEAKER: text" */
  VM_TR_FORMAT_SRT,     /* speakers as a "[SPEAKER] " prefix of the text */
  VM_TR_FORMAT_VTT,     /* speakers as <v NAME> voice tags; & < > escaped */
  VM_TR_FORMAT_JSON,    /* vm_transcript_to_json(), 2-space indented */
};

/* An empty transcript; NULL when out of memory. */
vm_transcript *vm_transcript_create(void);
void vm_transcript_destroy(vm_transcript *t);

/* Appends a segment, copying text (len bytes, or up to NUL when
 * len == (size_t)-1) and speaker (may be NULL). asr may be NULL (all NAN,
 * no tokens); else it is copied, tokens included. Returns VM_OK,
 * VM_EINVAL (start/end not finite, end < start, NULL text) or VM_ENOMEM. */
int vm_transcript_add(vm_transcript *t, double start_s, double end_s, const char *text,
                      size_t len, const char *speaker, const vm_tr_asr *asr);

/* Sets language or source (copied; NULL clears). VM_OK or VM_ENOMEM. */
int vm_transcript_set_language(vm_transcript *t, const char *language);
int vm_transcript_set_source(vm_transcript *t, const char *source);

/* Sorts segments by start time (stable). Loaders call it. */
void vm_transcript_sort(vm_transcript *t);

/* Parsers of a whole file's bytes (need not be NUL-terminated). They
 * accept what common tools write (SRT with or without BOM, CRLF, comma or
 * dot decimals; WebVTT with headers, NOTE/STYLE/REGION blocks, cue
 * settings, <v Name> voice tags; JSON as written by voiceman, by
 * whisper.cpp's -oj and by OpenAI/WhisperX: a top-level array or an object
 * with "segments" (or "transcription"), each with start/end in seconds (or
 * "offsets" in ms), "text", and optional "speaker"). UTF-8, UTF-16 with
 * BOM and CP949/EUC-KR files are read (invalid UTF-8 becomes U+FFFD).
 * Hours may exceed 99; cues may overlap or come out of order (the result
 * is sorted); markup is stripped; lines are trimmed and cues with no text
 * skipped. SRT speakers come from "[SPEAKER_00] ", "Name: " or
 * "(speaker 0) " prefixes only when every cue has one; "?" labels mean
 * unknown (docs/transcripts.md). source is set to "srt", "vtt" or "json".
 * A malformed input fails with VM_EFORMAT and err->msg names the line (or
 * JSON line/column, or segment index) and what was wrong, e.g. "line 6:
 * cue ends (00:00:04,500) before it starts (00:00:05,000)"; an input with
 * no cue carrying text is VM_EEMPTY; VM_ENOMEM. On failure *out is NULL.
 * OUT: *out (caller destroys). */
int vm_transcript_parse_srt(const char *buf, size_t len, vm_transcript **out, vm_err *err);
int vm_transcript_parse_vtt(const char *buf, size_t len, vm_transcript **out, vm_err *err);
int vm_transcript_parse_json(const char *buf, size_t len, vm_transcript **out, vm_err *err);

/* Reads a transcript file, choosing the parser by extension (.srt, .vtt,
 * .json; case-insensitive; another extension is VM_EFORMAT). Files over
 * 64 MiB are refused (VM_EFORMAT). Errors: VM_ENOENT, VM_EACCES, VM_EIO,
 * VM_EFORMAT, VM_EEMPTY, VM_ENOMEM. Messages of read errors name the
 * path; those of parse errors do not (callers add it). */
int vm_transcript_load(const char *path, vm_transcript **out, vm_err *err);

/* Finds the transcript of an input in dir: for rel_path "a/b.m4a" the
 * first regular file of dir/a/b.srt, dir/a/b.vtt, dir/a/b.json (then the
 * same with upper-case extensions). Only the last extension is replaced;
 * a rel_path without one gets it appended. OUT: *out_path (vm_malloc'd;
 * caller frees with vm_free). Returns VM_OK, VM_ENOENT (none) or
 * VM_ENOMEM. */
int vm_transcript_find(const char *dir, const char *rel_path, char **out_path);

/* Writes t in fmt to a vm_malloc'd NUL-terminated buffer (*out, caller
 * frees with vm_free; *out_len without the NUL, may be NULL). Output is
 * valid UTF-8 (bad bytes become U+FFFD) and reads back with the parsers
 * above to the same segments, times to the ms (SRT: unless a text holds
 * markup such as "<i>", which SRT cannot escape). Times are clamped to
 * [0, 3.6e11 s]. Returns VM_OK, VM_EINVAL (NULL t, unknown fmt) or
 * VM_ENOMEM (*out NULL). */
int vm_transcript_write(const vm_transcript *t, enum vm_tr_format fmt, char **out,
                        size_t *out_len);

/* The transcript as the result JSON's "transcript" object:
 * {"source", "language", "segments": [{"id", "start", "end", "speaker",
 * "text", "avg_logprob", "no_speech_prob", "temperature"}]} (numbers that
 * are NAN become null). NULL when out of memory. */
json_t *vm_transcript_to_json(const vm_transcript *t);

#endif /* VM_TRANSCRIPT_H */
