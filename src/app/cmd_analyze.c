/* cmd_analyze.c — `voiceman analyze FILE`: one file's audio facts, levels,
 * loudness, voice activity, speaker turns and voice measures as JSON on
 * stdout (no model, no store, no output folder). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis.h"
#include "app.h"
#include "audio.h"
#include "dsp_stats.h"
#include "lang.h"
#include "transcript.h"
#include "vm_json.h"
#include "vm_sha256.h"

static json_t *facts_json(const vm_audio *a) {
  const vm_audio_facts *f = &a->facts;
  return json_pack("{s:s,s:s,s:i,s:i,s:I,s:o,s:o,s:i,s:o}", "container", f->container, "codec",
                   f->codec, "sample_rate_hz", f->native_rate_hz, "channels",
                   f->native_channels, "bit_rate", (json_int_t)f->bit_rate, "duration_s",
                   vm_json_real(f->duration_s), "container_duration_s",
                   f->container_duration_s >= 0 ? vm_json_real(f->container_duration_s)
                                                : json_null(),
                   "decode_errors", f->n_decode_errors, "filled_s", vm_json_real(f->filled_s));
}

static json_t *levels_json(const vm_level_stats *s, const vm_loudness *l) {
  return json_pack("{s:o,s:o,s:o,s:o,s:i,s:o,s:b,s:o,s:o,s:b}", "peak_dbfs",
                   vm_json_real(s->peak_dbfs), "rms_dbfs", vm_json_real(s->rms_dbfs),
                   "crest_db", vm_json_real(s->crest_db), "clipped_fraction",
                   vm_json_real(s->clipped_fraction), "clipped_runs", (int)s->n_clipped_runs,
                   "active_fraction", vm_json_real(s->active_fraction), "silent", s->silent,
                   "integrated_lufs", vm_json_real(l->lufs_before), "gain_to_target_db",
                   vm_json_real(l->gain_db), "below_loudness_gate", l->silent);
}

static void usage(FILE *f) {
  fputs("Usage: voiceman analyze FILE [--transcript T] [--patterns DIR] [--pitch-floor HZ]\n"
        "                        [--pitch-ceiling HZ] [--speakers N]\n"
        "\n"
        "Decodes FILE and prints as JSON on stdout: its SHA-256, audio facts, level\n"
        "statistics and loudness (before normalisation), voice activity, speaker\n"
        "turns, and the voice measures (`acoustic`: F0, jitter, shimmer, HNR,\n"
        "formants, intensity, speech ratio, pauses) for the whole file, each\n"
        "speaker and each turn, with stress and escalation zones. Needs no model\n"
        "and writes nothing.\n"
        "  --transcript T      a transcript of FILE made elsewhere (.srt, .vtt or\n"
        "                      .json): its segments get speakers and voice measures,\n"
        "                      and the Korean language forensics run on it\n"
        "  --patterns DIR      pattern database for the language forensics\n"
        "                      (default: the built-in one)\n"
        "  --pitch-floor HZ    lowest F0 looked for (default 75)\n"
        "  --pitch-ceiling HZ  highest F0 (default 600)\n"
        "  --speakers N        number of speakers (default: estimated, 1 to 4)\n"
        "Exit status: 0 on success, 1 if the file cannot be analysed, 2 usage.\n",
        f);
}

static const char *g_transcript, *g_patterns;

static int parse(int argc, char **argv, vm_analysis_opts *ao) {
  static const struct option longopts[] = {{"transcript", required_argument, 0, 't'},
                                           {"patterns", required_argument, 0, 'p'},
                                           {"pitch-floor", required_argument, 0, 'f'},
                                           {"pitch-ceiling", required_argument, 0, 'c'},
                                           {"speakers", required_argument, 0, 's'},
                                           {"help", no_argument, 0, 'h'},
                                           {0, 0, 0, 0}};
  int ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (ch) {
      case 't': g_transcript = optarg; break;
      case 'p': g_patterns = optarg; break;
      case 'f':
        if (vm_app_parse_double("--pitch-floor", optarg, 20, 1000, &ao->pitch_floor_hz)) return -1;
        break;
      case 'c':
        if (vm_app_parse_double("--pitch-ceiling", optarg, 40, 2000, &ao->pitch_ceiling_hz))
          return -1;
        break;
      case 's':
        if (vm_app_parse_int("--speakers", optarg, 1, 8, &ao->n_speakers)) return -1;
        break;
      case 'h': usage(stdout); return 1;
      default: usage(stderr); return -1;
    }
  }
  if (optind != argc - 1 || ao->pitch_ceiling_hz <= ao->pitch_floor_hz) {
    usage(stderr);
    return -1;
  }
  return 0;
}

/* The transcript's language forensics, with each segment's arousal. */
static json_t *language_json(const vm_transcript *t, const vm_analysis *an, vm_lang_db *db,
                             vm_err *err) {
  vm_lang_voice *v = NULL;
  vm_lang_opts o;
  json_t *lang = NULL;
  if (an->seg_arousal && an->n_seg == t->n_segments && t->n_segments) {
    if (!(v = malloc(t->n_segments * sizeof *v))) return NULL;
    for (size_t i = 0; i < t->n_segments; i++)
      v[i] = (vm_lang_voice){an->seg_arousal[i], an->seg_stress[i]};
  }
  vm_lang_opts_init(&o);
  vm_lang_analyze(db, t, v, &o, &lang, err);
  free(v);
  return lang;
}

/* Loads --transcript and the pattern database; prints the error. */
static int load_text_inputs(vm_transcript **t, vm_lang_db **db) {
  vm_err err;
  if (!g_transcript) return 0;
  if (vm_transcript_load(g_transcript, t, &err) != VM_OK) {
    fprintf(stderr, "voiceman: transcript %s: %s\n", g_transcript, vm_err_text(&err));
    return -1;
  }
  if (vm_lang_db_open(g_patterns, db, &err) != VM_OK) {
    fprintf(stderr, "voiceman: pattern database: %s\n", vm_err_text(&err));
    return -2;
  }
  return 0;
}

int vm_cmd_analyze(int argc, char **argv) {
  vm_analysis_opts ao;
  vm_analysis_opts_default(&ao);
  int p = parse(argc, argv, &ao);
  if (p) return p > 0 ? VM_EXIT_OK : VM_EXIT_USAGE;
  const char *path = argv[optind];
  vm_transcript *tr = NULL;
  vm_lang_db *db = NULL;
  int lt = load_text_inputs(&tr, &db);
  if (lt) {
    vm_transcript_destroy(tr);
    return lt == -1 ? VM_EXIT_SOME_FAILED : VM_EXIT_USAGE;
  }
  ao.transcript = tr;
  vm_err err;
  uint8_t d[VM_SHA256_LEN];
  char hex[VM_SHA256_HEX_LEN + 1];
  uint64_t size = 0;
  vm_audio a = {0};
  vm_audio_opts opts = vm_audio_opts_default();
  opts.keep_channels = 1;
  if (vm_sha256_file(path, d, &size, &err) != VM_OK ||
      vm_audio_decode_file(path, &opts, &a, &err) != VM_OK) {
    fprintf(stderr, "voiceman: %s: %s\n", path, vm_err_text(&err));
    vm_transcript_destroy(tr);
    vm_lang_db_close(db);
    return VM_EXIT_SOME_FAILED;
  }
  vm_sha256_hex(d, hex);
  vm_level_stats lv;
  vm_loudness l;
  vm_analysis an;
  json_t *o = NULL;
  vm_dsp_level_stats(a.samples, a.n_samples, a.sample_rate_hz, &lv);
  int rc = vm_audio_normalize(a.samples, a.n_samples, a.sample_rate_hz, NULL, &l, &err);
  if (rc == VM_OK && a.channel[0]) {
    float g = (float)pow(10.0, l.gain_db / 20.0);
    for (int c = 0; c < 2; c++)
      for (size_t i = 0; i < a.n_channel; i++) a.channel[c][i] *= g;
  }
  if (rc == VM_OK)
    rc = vm_analysis_run(a.samples, a.n_samples, a.sample_rate_hz, a.channel[0], a.channel[1],
                         &ao, &an, &err);
  if (rc == VM_OK) {
    o = json_pack("{s:o,s:s,s:I,s:o,s:o,s:O,s:O,s:O,s:O,s:O}", "input",
                  vm_json_string_lossy(path), "sha256", hex, "size_bytes", (json_int_t)size,
                  "audio", facts_json(&a), "levels", levels_json(&lv, &l), "acoustic",
                  an.acoustic, "vad", an.vad, "diarization", an.diarization, "speakers",
                  an.speakers, "segments", an.segments);
    json_object_set(o, "escalation", an.escalation);
    if (tr) {
      json_t *lang = language_json(tr, &an, db, &err);
      json_object_set_new(o, "transcript", vm_transcript_to_json(tr));
      if (!lang) rc = err.code ? err.code : VM_ENOMEM;
      json_object_set_new(o, "language", lang);
    }
    if (rc != VM_OK) {
      json_decref(o);
      o = NULL;
    }
    vm_analysis_deinit(&an);
  }
  vm_audio_deinit(&a);
  vm_transcript_destroy(tr);
  vm_lang_db_close(db);
  if (!o) {
    fprintf(stderr, "voiceman: %s: %s\n", path, rc ? vm_err_text(&err) : "out of memory");
    return VM_EXIT_SOME_FAILED;
  }
  char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
  json_decref(o);
  if (s) puts(s);
  free(s);
  return s ? VM_EXIT_OK : VM_EXIT_SOME_FAILED;
}
