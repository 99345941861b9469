/* cmd_transcribe.c — `voiceman transcribe FILE --model MODEL`: one
 * recording to text with a Whisper model, printed on stdout (txt, json,
 * srt or vtt). Decodes the audio with the audio module (16 kHz mono), runs
 * the long-form transcription (asr_transcribe.h) and writes the transcript
 * with the transcript module's writers. No store, no output folder. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "asr_model.h"
#include "asr_transcribe.h"
#include "audio.h"
#include "transcript.h"
#include "vm_alloc.h"

typedef struct tr_args {
  const char *model, *input;
  enum vm_tr_format fmt;
  int n_threads;
  int no_fallback;
  vm_asr_opts o;
} tr_args;

static void usage(FILE *f) {
  fputs("Usage: voiceman transcribe FILE --model MODEL [OPTIONS]\n"
        "\n"
        "Transcribes FILE (any audio FFmpeg reads) with a whisper.cpp model file\n"
        "(ggml-*.bin) and prints the transcript on stdout.\n"
        "  --model MODEL          the model file (required)\n"
        "  --format F             txt (default), json, srt or vtt\n"
        "  --threads N            CPU threads (default 2)\n"
        "  --language L           ko, en, ... or auto (default: auto, detected)\n"
        "  --translate            translate to English instead of transcribing\n"
        "  --beam-size N          beams at temperature 0; 1 = greedy (default 5)\n"
        "  --best-of N            samples at temperature > 0 (default 5)\n"
        "  --temperature T        first temperature, 0..1 (default 0)\n"
        "  --no-fallback          no temperature fallback (0.2 steps up to 1.0)\n"
        "  --no-timestamps        one segment per 30 s window, no timestamp tokens\n"
        "  --suppress-non-speech  never emit the reference's non-speech symbols\n"
        "  --no-context           do not prompt with the previous window's text\n"
        "  --max-tokens N         sampled tokens per 30 s window (default 224)\n"
        "  --no-hallucination-filter  keep phrases Whisper invents on silence\n"
        "Exit status: 0 on success, 1 if the file or model cannot be used, 2 usage.\n",
        f);
}

enum { O_MODEL = 256, O_FORMAT, O_THREADS, O_LANG, O_BEAM, O_BEST, O_TEMP, O_NOFB, O_NOTS,
       O_NONSPEECH, O_NOCTX, O_MAXTOK, O_TRANSLATE, O_NOHALLUC };

static int parse_format(const char *s, enum vm_tr_format *out) {
  static const char *const names[] = {"txt", "srt", "vtt", "json"};
  static const enum vm_tr_format fmts[] = {VM_TR_FORMAT_TXT, VM_TR_FORMAT_SRT,
                                           VM_TR_FORMAT_VTT, VM_TR_FORMAT_JSON};
  for (size_t i = 0; i < 4; i++)
    if (strcmp(s, names[i]) == 0) {
      *out = fmts[i];
      return 0;
    }
  fprintf(stderr, "voiceman: --format needs txt, json, srt or vtt (got '%s')\n", s);
  return -1;
}

static int parse_opt(int ch, tr_args *a) {
  vm_asr_decode_opts *d = &a->o.dec;
  switch (ch) {
    case O_MODEL: a->model = optarg; return 0;
    case O_FORMAT: return parse_format(optarg, &a->fmt);
    case O_THREADS: return vm_app_parse_int("--threads", optarg, 1, 256, &a->n_threads);
    case O_LANG: a->o.language = optarg; return 0;
    case O_BEAM: return vm_app_parse_int("--beam-size", optarg, 1, 16, &d->beam_size);
    case O_BEST: return vm_app_parse_int("--best-of", optarg, 1, 16, &d->best_of);
    case O_TEMP: return vm_app_parse_double("--temperature", optarg, 0, 1, &a->o.temperature);
    case O_NOFB: a->no_fallback = 1; return 0;
    case O_NOTS: d->timestamps = 0; return 0;
    case O_NONSPEECH: d->suppress_non_speech = 1; return 0;
    case O_NOCTX: a->o.condition_on_prev = 0; return 0;
    case O_MAXTOK: return vm_app_parse_int("--max-tokens", optarg, 1, 224, &d->max_tokens);
    case O_TRANSLATE: a->o.translate = 1; return 0;
    case O_NOHALLUC: a->o.hallucination_filter = 0; return 0;
    default: return -1;
  }
}

/* 0: run; 1: --help printed; -1: usage error (printed). */
static int parse(int argc, char **argv, tr_args *a) {
  static const struct option lo[] = {
      {"model", required_argument, 0, O_MODEL}, {"format", required_argument, 0, O_FORMAT},
      {"threads", required_argument, 0, O_THREADS}, {"language", required_argument, 0, O_LANG},
      {"beam-size", required_argument, 0, O_BEAM}, {"best-of", required_argument, 0, O_BEST},
      {"temperature", required_argument, 0, O_TEMP}, {"no-fallback", no_argument, 0, O_NOFB},
      {"no-timestamps", no_argument, 0, O_NOTS},
      {"suppress-non-speech", no_argument, 0, O_NONSPEECH},
      {"no-context", no_argument, 0, O_NOCTX}, {"max-tokens", required_argument, 0, O_MAXTOK},
      {"translate", no_argument, 0, O_TRANSLATE},
      {"no-hallucination-filter", no_argument, 0, O_NOHALLUC},
      {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  int ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
    if (ch == 'h') {
      usage(stdout);
      return 1;
    }
    if (parse_opt(ch, a) != 0) {
      if (ch == '?' || ch == ':') usage(stderr);
      return -1;
    }
  }
  if (optind != argc - 1 || !a->model) {
    fprintf(stderr, "voiceman: transcribe needs one FILE and --model MODEL\n");
    usage(stderr);
    return -1;
  }
  a->input = argv[optind];
  if (a->no_fallback) a->o.temperature_inc = 0.0;
  return 0;
}

int vm_cmd_transcribe(int argc, char **argv) {
  tr_args a;
  memset(&a, 0, sizeof a);
  a.fmt = VM_TR_FORMAT_TXT;
  a.n_threads = 2;
  a.o = vm_asr_opts_default();
  int p = parse(argc, argv, &a);
  if (p) return p > 0 ? VM_EXIT_OK : VM_EXIT_USAGE;
  vm_err err;
  vm_asr_engine *e = NULL;
  vm_transcript *t = NULL;
  vm_audio au = {0};
  char *text = NULL;
  size_t len = 0;
  int rc = VM_EXIT_SOME_FAILED;
  vm_asr_engine_opts eo = vm_asr_engine_opts_default();
  eo.n_threads = a.n_threads;
  eo.max_cand = a.o.dec.beam_size > a.o.dec.best_of ? a.o.dec.beam_size : a.o.dec.best_of;
  if (vm_asr_engine_create(a.model, &eo, &e, &err) != VM_OK) {
    fprintf(stderr, "voiceman: model %s: %s\n", a.model, vm_err_text(&err));
    goto out;
  }
  vm_audio_opts ao = vm_audio_opts_default();
  if (vm_audio_decode_file(a.input, &ao, &au, &err) != VM_OK ||
      vm_asr_transcribe_file(e, au.samples, au.n_samples, &a.o, &t, &err) != VM_OK) {
    fprintf(stderr, "voiceman: %s: %s\n", a.input, vm_err_text(&err));
    goto out;
  }
  if (vm_transcript_write(t, a.fmt, &text, &len) != VM_OK) {
    fprintf(stderr, "voiceman: out of memory\n");
    goto out;
  }
  if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
    fprintf(stderr, "voiceman: cannot write the transcript to stdout\n");
    goto out;
  }
  rc = VM_EXIT_OK;
out:
  vm_free(text);
  vm_transcript_destroy(t);
  vm_audio_deinit(&au);
  vm_asr_engine_destroy(e);
  return rc;
}
