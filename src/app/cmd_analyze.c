/* cmd_analyze.c — `voiceman analyze FILE`: one file's audio facts, level
 * statistics and loudness as JSON on stdout (no model, no store). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "audio.h"
#include "dsp_stats.h"
#include "vm_json.h"
#include "vm_sha256.h"

static json_t *facts_json(const vm_audio *a) {
  const vm_audio_facts *f = &a->facts;
  return json_pack("{s:s,s:s,s:i,s:i,s:I,s:o,s:o,s:i}", "container", f->container, "codec",
                   f->codec, "sample_rate_hz", f->native_rate_hz, "channels",
                   f->native_channels, "bit_rate", (json_int_t)f->bit_rate, "duration_s",
                   vm_json_real(f->duration_s), "container_duration_s",
                   f->container_duration_s >= 0 ? vm_json_real(f->container_duration_s)
                                                : json_null(),
                   "decode_errors", f->n_decode_errors);
}

static json_t *levels_json(const vm_level_stats *s, const vm_loudness *l) {
  return json_pack("{s:o,s:o,s:o,s:o,s:o,s:b,s:o,s:o,s:o}", "peak_dbfs",
                   vm_json_real(s->peak_dbfs), "rms_dbfs", vm_json_real(s->rms_dbfs),
                   "crest_db", vm_json_real(s->crest_db), "clipped_fraction",
                   vm_json_real(s->clipped_fraction), "active_fraction",
                   vm_json_real(s->active_fraction), "silent", s->silent,
                   "integrated_lufs", vm_json_real(l->lufs_before), "gain_to_target_db",
                   vm_json_real(l->gain_db), "true_silence", json_boolean(l->silent));
}

int vm_cmd_analyze(int argc, char **argv) {
  static const struct option longopts[] = {{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  int ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    if (ch == 'h') {
      puts("Usage: voiceman analyze FILE\n\n"
           "Decodes FILE and prints its SHA-256, audio facts, level statistics and\n"
           "loudness (measured before normalisation) as JSON on stdout.\n"
           "Exit status: 0 on success, 1 if the file cannot be analysed, 2 usage.");
      return VM_EXIT_OK;
    }
    return VM_EXIT_USAGE;
  }
  if (optind != argc - 1) {
    fprintf(stderr, "Usage: voiceman analyze FILE\n");
    return VM_EXIT_USAGE;
  }
  const char *path = argv[optind];
  vm_err err;
  uint8_t d[VM_SHA256_LEN];
  char hex[VM_SHA256_HEX_LEN + 1];
  uint64_t size = 0;
  vm_audio a = {0};
  if (vm_sha256_file(path, d, &size, &err) != VM_OK ||
      vm_audio_decode_file(path, NULL, &a, &err) != VM_OK) {
    fprintf(stderr, "voiceman: %s: %s\n", path, vm_err_text(&err));
    return VM_EXIT_SOME_FAILED;
  }
  vm_sha256_hex(d, hex);
  vm_level_stats lv;
  vm_loudness l;
  vm_dsp_level_stats(a.samples, a.n_samples, a.sample_rate_hz, &lv);
  int rc = vm_audio_normalize(a.samples, a.n_samples, a.sample_rate_hz, NULL, &l, &err);
  json_t *o = NULL;
  if (rc == VM_OK)
    o = json_pack("{s:o,s:s,s:I,s:o,s:o}", "input", vm_json_string_lossy(path), "sha256", hex,
                  "size_bytes", (json_int_t)size, "audio", facts_json(&a), "levels",
                  levels_json(&lv, &l));
  vm_audio_deinit(&a);
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
