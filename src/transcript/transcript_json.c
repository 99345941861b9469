/* transcript_json.c — JSON transcript reader.
 *
 * DESIGN: the forms other tools write differ mostly in where the segment
 * array is and how a segment gives its times, so the reader finds the
 * array first and then reads each segment field by field:
 *   voiceman      {"language", "segments": [{"start", "end", "speaker",
 *                 "text", "avg_logprob", ...}]}, alone or as the
 *                 "transcript" member of a result JSON;
 *   whisper.cpp   -oj: {"result": {"language"}, "transcription":
 *                 [{"offsets": {"from": ms, "to": ms}, "timestamps":
 *                 {"from": "00:00:01,000", ...}, "text", "speaker"?}]};
 *   OpenAI, WhisperX  {"language", "segments": [{"start", "end", "text",
 *                 "speaker"?}]}, language maybe a name ("korean");
 *   a top-level array of such segments.
 * Times are seconds (numbers, or "HH:MM:SS.mmm" strings), "offsets" are
 * milliseconds. A speaker may be a string or an integer; "", "?" (what
 * whisper.cpp --diarize writes when unsure) and null mean unknown. Text is
 * tidied like cue text: each line trimmed (Whisper puts a space in front),
 * empty lines dropped; segments left empty are skipped. Whisper's
 * avg_logprob, no_speech_prob, temperature and compression_ratio are kept
 * when present.
 *
 * jansson refuses invalid UTF-8, so the bytes are repaired (U+FFFD) first.
 * Structural errors name the segment by its index in the array.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "transcript_impl.h"
#include "vm_alloc.h"

/* A time member of o: seconds (number or time string) times scale.
 * Returns 1 found, 0 absent, -1 present but not a time. */
static int time_get(const json_t *o, const char *key, double scale, double *out_s) {
  const json_t *v = json_object_get(o, key);
  size_t used;
  if (!v || json_is_null(v)) return 0;
  if (json_is_number(v)) {
    *out_s = json_number_value(v) * scale;
  } else if (json_is_string(v)) {
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (vm__tr_time_parse(s, n, &used, out_s) != 0 || used != n) return -1;
  } else {
    return -1;
  }
  return isfinite(*out_s) && *out_s >= 0.0 ? 1 : -1;
}

/* The segment's times from start/end, offsets (ms) or timestamps. */
static int seg_times(const json_t *seg, size_t i, double *a, double *b, vm_err *err) {
  int ra = time_get(seg, "start", 1.0, a), rb = time_get(seg, "end", 1.0, b);
  const json_t *sub = NULL;
  if (ra == 0 && rb == 0) {
    double scale = 1e-3;
    sub = json_object_get(seg, "offsets");
    if (!json_is_object(sub)) {
      sub = json_object_get(seg, "timestamps");
      scale = 1.0;
    }
    if (json_is_object(sub)) {
      ra = time_get(sub, "from", scale, a);
      rb = time_get(sub, "to", scale, b);
    }
  }
  const char *what = sub ? "\"from\"/\"to\"" : "\"start\"/\"end\"";
  if (ra == 0 && rb == 0)
    return vm_err_set(err, VM_EFORMAT,
                      "segment %zu: no times (expected \"start\"/\"end\" in seconds or "
                      "\"offsets\": {\"from\", \"to\"} in ms)",
                      i);
  if (ra == 0 || rb == 0)
    return vm_err_set(err, VM_EFORMAT, "segment %zu: \"%s\" is missing", i,
                      ra == 0 ? (sub ? "from" : "start") : (sub ? "to" : "end"));
  if (ra < 0 || rb < 0)
    return vm_err_set(err, VM_EFORMAT,
                      "segment %zu: %s must be non-negative numbers or \"HH:MM:SS.mmm\"", i,
                      what);
  if (*b < *a)
    return vm_err_set(err, VM_EFORMAT, "segment %zu: ends (%.3f s) before it starts (%.3f s)",
                      i, *b, *a);
  return VM_OK;
}

/* The speaker: a copy (vm_free) in *out or NULL when unknown. */
static int seg_speaker(const json_t *seg, size_t i, char **out, vm_err *err) {
  const json_t *v = json_object_get(seg, "speaker");
  char num[32];
  const char *s = NULL;
  *out = NULL;
  if (!v || json_is_null(v)) return VM_OK;
  if (json_is_string(v)) {
    s = json_string_value(v);
  } else if (json_is_integer(v)) {
    snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
    s = num;
  } else {
    return vm_err_set(err, VM_EFORMAT, "segment %zu: \"speaker\" must be a string", i);
  }
  size_t a = 0, z = strlen(s);
  while (a < z && (s[a] == ' ' || s[a] == '\t')) a++;
  while (z > a && (s[z - 1] == ' ' || s[z - 1] == '\t')) z--;
  if (z == a || vm__tr_label_unknown(s + a, z - a)) return VM_OK;
  if (!(*out = vm_malloc(z - a + 1))) return vm_err_set(err, VM_ENOMEM, "out of memory");
  memcpy(*out, s + a, z - a);
  (*out)[z - a] = '\0';
  return VM_OK;
}

static double num_or_nan(const json_t *seg, const char *key) {
  const json_t *v = json_object_get(seg, key);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

static int seg_add(vm_transcript *t, const json_t *seg, size_t i, vm_err *err) {
  double a, b;
  char *speaker = NULL;
  vm__tr_buf text = {0};
  if (!json_is_object(seg)) return vm_err_set(err, VM_EFORMAT, "segment %zu: not an object", i);
  int rc = seg_times(seg, i, &a, &b, err);
  if (rc != VM_OK) return rc;
  const json_t *tx = json_object_get(seg, "text");
  if (!json_is_string(tx))
    return vm_err_set(err, VM_EFORMAT, "segment %zu: no \"text\" string", i);
  /* Tidied like SRT and WebVTT cue text: lines trimmed, empty ones gone. */
  vm__tr_buf_put(&text, json_string_value(tx), json_string_length(tx));
  vm__tr_buf_putc(&text, '\0');
  if (text.oom) return vm_err_set(err, VM_ENOMEM, "out of memory");
  size_t n = vm__tr_text_tidy(text.p, text.n - 1);
  if (n > 0 && (rc = seg_speaker(seg, i, &speaker, err)) == VM_OK) {
    vm_tr_asr asr = {.avg_logprob = num_or_nan(seg, "avg_logprob"),
                     .no_speech_prob = num_or_nan(seg, "no_speech_prob"),
                     .temperature = num_or_nan(seg, "temperature"),
                     .compression_ratio = num_or_nan(seg, "compression_ratio")};
    rc = vm_transcript_add(t, a, b, text.p, n, speaker, &asr);
    if (rc != VM_OK) rc = vm_err_set(err, rc, "out of memory");
  }
  vm_free(speaker);
  vm__tr_buf_deinit(&text);
  return rc;
}

/* The segment array of root and the language, by the forms above. */
static const json_t *segments_find(const json_t *root, const json_t **lang) {
  *lang = NULL;
  if (json_is_array(root)) return root;
  const json_t *tr = json_object_get(root, "transcript");
  if (json_is_object(tr) && json_is_array(json_object_get(tr, "segments"))) root = tr;
  *lang = json_object_get(root, "language");
  if (!json_is_string(*lang)) *lang = json_object_get(json_object_get(root, "result"), "language");
  const json_t *a = json_object_get(root, "segments");
  return json_is_array(a) ? a : json_object_get(root, "transcription");
}

static int transcript_from_json(vm_transcript *t, const json_t *root, vm_err *err) {
  const json_t *lang, *segs = segments_find(root, &lang);
  if (!json_is_array(segs))
    return vm_err_set(err, VM_EFORMAT,
                      "no \"segments\" or \"transcription\" array (expected voiceman, "
                      "whisper.cpp -oj, OpenAI or WhisperX JSON, or an array of segments)");
  char code[VM__TR_LANG_LEN];
  if (json_is_string(lang) &&
      vm__tr_language_norm(json_string_value(lang), json_string_length(lang), code) &&
      vm_transcript_set_language(t, code) != VM_OK)
    return vm_err_set(err, VM_ENOMEM, "out of memory");
  for (size_t i = 0; i < json_array_size(segs); i++) {
    int rc = seg_add(t, json_array_get(segs, i), i, err);
    if (rc != VM_OK) return rc;
  }
  if (t->n_segments == 0) return vm_err_set(err, VM_EEMPTY, "no segment with text");
  return VM_OK;
}

int vm_transcript_parse_json(const char *buf, size_t len, vm_transcript **out, vm_err *err) {
  int rc = VM_OK;
  json_t *root = NULL;
  vm__tr_buf clean = {0};
  char *text = NULL, *conv = NULL;
  size_t n = 0, conv_n = 0;
  const char *charset;
  vm_transcript *t = vm_transcript_create();
  *out = NULL;
  vm_err_clear(err);
  if (!t || vm__tr_to_utf8(buf, len, &conv, &conv_n, &charset) != VM_OK) {
    vm_transcript_destroy(t);
    return vm_err_set(err, VM_ENOMEM, "out of memory");
  }
  if (conv) {
    buf = conv;
    len = conv_n;
  }
  if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) buf += 3, len -= 3;
  size_t k = 0;
  while (k < len && (buf[k] == ' ' || buf[k] == '\t' || buf[k] == '\n' || buf[k] == '\r')) k++;
  if (k == len) {
    rc = vm_err_set(err, VM_EEMPTY, "empty file");
    goto out;
  }
  vm__tr_buf_put_utf8(&clean, buf, len);
  if (vm__tr_buf_take(&clean, &text, &n) != VM_OK) {
    rc = vm_err_set(err, VM_ENOMEM, "out of memory");
    goto out;
  }
  json_error_t jerr;
  root = json_loadb(text, n, 0, &jerr);
  if (!root) {
    rc = vm_err_set(err, VM_EFORMAT, "JSON line %d column %d: %s", jerr.line, jerr.column,
                    jerr.text);
    goto out;
  }
  if ((rc = transcript_from_json(t, root, err)) != VM_OK) goto out;
  if (vm_transcript_set_source(t, "json") != VM_OK) {
    rc = vm_err_set(err, VM_ENOMEM, "out of memory");
    goto out;
  }
  vm_transcript_sort(t);
  *out = t;
  t = NULL;
out:
  json_decref(root);
  vm_free(text);
  vm_free(conv);
  vm_transcript_destroy(t);
  return rc;
}
