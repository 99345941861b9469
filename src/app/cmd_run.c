/* cmd_run.c — `voiceman run`: options, signals, exit code.
 *
 * Signals: the first SIGINT/SIGTERM asks the pipeline to stop cleanly (the
 * store stays consistent, no partial output); a second SIGINT/SIGTERM
 * ends the process at once with 130 — still safe, because every output is
 * renamed into place whole and SQLite rolls back an unfinished
 * transaction; the next run redoes whatever was in flight. */
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "asr_service.h"
#include "asr_tokenizer.h"
#include "discover.h"
#include "pipeline.h"
#include "report_html.h"
#include "vm_json.h"
#include "vm_log.h"
#include "vm_sys.h"

static atomic_int g_stop;

static void on_signal(int sig) {
  if (atomic_exchange(&g_stop, 1)) {
    static const char msg[] = "\nvoiceman: second interrupt: quitting now\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
    _exit(VM_EXIT_INTERRUPTED);
  }
  (void)sig;
}

static void run_usage(FILE *f) {
  fprintf(f,
      "Usage: voiceman run INPUT... -o OUT [OPTIONS]\n"
      "\n"
      "Processes every recording in INPUT (files, or folders searched\n"
      "recursively for %s) into OUT:\n"
      "OUT/summary.json and OUT/index.html, per file under OUT/files/ a result\n"
      "JSON and an HTML report (plus .txt/.srt/.vtt when there is a\n"
      "transcript), the checkpoint store OUT/voiceman.db and the audit log\n"
      "OUT/audit.jsonl.\n"
      "Running the same command again skips completed, unchanged files and\n"
      "redoes interrupted or failed ones.\n"
      "\n"
      "Options:\n"
      "  -o, --output OUT       output folder (required; created if missing)\n"
      "      --store PATH       checkpoint store (default OUT/voiceman.db)\n"
      "  -w, --workers N        decoding threads (default: one per core, %d here)\n"
      "  -b, --batch-size N     files per batch for statistics (default 10)\n"
      "  -r, --retries N        extra attempts per file in this run for\n"
      "                         transient failures (I/O, memory, disk full;\n"
      "                         default 2). Bad files are not retried.\n"
      "  -f, --force            redo files that are already completed\n"
      "      --max-duration S   fail recordings longer than S seconds (default: no limit)\n"
      "      --queue-seconds S  decoded audio held between stages (default 1800)\n"
      "      --pitch-floor HZ   lowest F0 the voice measures look for (default 75)\n"
      "      --pitch-ceiling HZ highest F0 (default 600)\n"
      "      --speakers N       speakers per recording for diarization\n"
      "                         (default: estimated, 1 to 4)\n"
      "      --transcripts DIR  use transcripts made elsewhere: the transcript of\n"
      "                         INPUT/a/b.m4a is DIR/a/b.srt, .vtt or .json (speakers\n"
      "                         from WebVTT <v> tags or JSON \"speaker\" are kept);\n"
      "                         writes OUT/files/.../b.m4a.txt, .srt and .vtt\n"
      "  -m, --model MODEL      transcribe with this Whisper model (whisper.cpp ggml\n"
      "                         file) where no transcript file is given\n"
      "  -l, --language LANG    spoken language for the model: ko, en, ... or auto\n"
      "                         (default auto: detected per chunk)\n"
      "      --beam-size N      beam search width, 1 = greedy (default 5)\n"
      "  -t, --threads N        threads of the CPU Whisper engine (default: cores)\n"
      "      --device D         where Whisper runs: auto (GPUs if one comes up, else\n"
      "                         the CPU; the default), cuda (GPUs or stop with an\n"
      "                         error), cpu\n"
      "      --devices LIST     GPUs to use, e.g. 0,1 (numbered as nvidia-smi does;\n"
      "                         default: all visible), one engine per GPU\n"
      "      --gpu-mem-fraction F  share of each GPU's free memory the engine may\n"
      "                         take for chunks in flight (default 0.9)\n"
      "      --max-micro-batch N   chunks per GPU forward at most (default 16)\n"
      "      --init-retries N   GPU engine start attempts after the first, with\n"
      "                         back-off (default 2)\n"
      "      --no-model-resident   free the GPU engines after each round of\n"
      "                         transcription (for shared GPUs; slower)\n"
      "      --patterns DIR     Korean pattern database to use instead of the\n"
      "                         built-in one (docs/language.md)\n"
      "      --no-html          do not write the HTML reports and OUT/index.html\n"
      "      --pdf              also print each HTML report to PDF with headless\n"
      "                         Chromium (must be installed)\n"
      "  -q, --quiet            print errors only\n"
      "      --log-json         progress and log as JSON lines on stderr\n"
      "  -h, --help             this help\n"
      "\n"
      "Exit status: 0 all files completed, 1 some failed or were rejected,\n"
      "2 usage or set-up error, 130 interrupted (run again to finish).\n",
      vm_discover_extensions(), vm_sys_ncores());
}

static char *options_json(const vm_run_opts *o) {
  json_t *in = json_array();
  for (size_t i = 0; i < o->n_inputs; i++) json_array_append_new(in, vm_json_string_lossy(o->inputs[i]));
  json_t *j = json_pack("{s:o,s:o,s:o,s:i,s:i,s:i,s:b,s:f,s:f,s:f,s:f,s:i,s:o,s:o,s:o,s:o,s:i,s:i,s:b,s:b}", "inputs", in, "output",
                        vm_json_string_lossy(o->out_dir), "store",
                        o->store_path ? vm_json_string_lossy(o->store_path) : json_null(),
                        "workers", o->workers, "batch_size", o->batch_size, "retries",
                        o->retries, "force", o->force, "max_duration_s", o->max_duration_s,
                        "queue_seconds", o->queue_seconds, "pitch_floor_hz", o->pitch_floor_hz,
                        "pitch_ceiling_hz", o->pitch_ceiling_hz, "speakers", o->n_speakers,
                        "transcripts", o->transcripts_dir ? vm_json_string_lossy(o->transcripts_dir)
                                                          : json_null(),
                        "model", o->model_path ? vm_json_string_lossy(o->model_path) : json_null(),
                        "language", o->language ? vm_json_string_lossy(o->language) : json_null(),
                        "patterns", o->patterns_dir ? vm_json_string_lossy(o->patterns_dir) : json_null(),
                        "beam_size", o->beam_size, "threads", o->asr_threads, "html", o->html,
                        "pdf", o->pdf);
  static const char *const modes[] = {"auto", "cpu", "cuda"};
  json_t *dev = o->devices ? json_array() : json_null();
  for (int k = 0; k < o->n_devices; k++) json_array_append_new(dev, json_integer(o->devices[k]));
  json_object_set_new(j, "device", json_string(modes[o->device_mode]));
  json_object_set_new(j, "devices", dev);
  json_object_set_new(j, "gpu_mem_fraction", json_real(o->gpu_mem_fraction));
  json_object_set_new(j, "max_micro_batch", json_integer(o->max_micro_batch));
  json_object_set_new(j, "init_retries", json_integer(o->init_retries));
  json_object_set_new(j, "model_resident", json_boolean(o->model_resident));
  char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(j);
  return s;
}

enum { OPT_STORE = 256, OPT_MAXDUR, OPT_QUEUE, OPT_LOGJSON, OPT_FLOOR, OPT_CEIL, OPT_SPK, OPT_TR,
       OPT_PAT, OPT_BEAM, OPT_NOHTML, OPT_PDF, OPT_DEVICE, OPT_DEVICES, OPT_GPUMEM, OPT_MICRO,
       OPT_INITRET, OPT_NORESIDENT };

#define MAX_DEVICES 64
static int g_devices[MAX_DEVICES];

/* "0,1,3" into g_devices (distinct, 0..63). 0 or -1 (message printed). */
static int parse_devices(const char *s, vm_run_opts *o) {
  int n = 0;
  for (const char *p = s; *p;) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p || v < 0 || v >= MAX_DEVICES || (*end && *end != ',') || n >= MAX_DEVICES) {
      fprintf(stderr, "voiceman run: --devices %s: expected GPU numbers like 0,1\n", s);
      return -1;
    }
    for (int k = 0; k < n; k++)
      if (g_devices[k] == (int)v) {
        fprintf(stderr, "voiceman run: --devices %s: GPU %ld named twice\n", s, v);
        return -1;
      }
    g_devices[n++] = (int)v;
    p = *end ? end + 1 : end;
  }
  if (n == 0) {
    fprintf(stderr, "voiceman run: --devices: empty list\n");
    return -1;
  }
  o->devices = g_devices;
  o->n_devices = n;
  return 0;
}

static int parse(int argc, char **argv, vm_run_opts *o) {
  static const struct option longopts[] = {
      {"output", required_argument, 0, 'o'}, {"store", required_argument, 0, OPT_STORE},
      {"workers", required_argument, 0, 'w'}, {"batch-size", required_argument, 0, 'b'},
      {"retries", required_argument, 0, 'r'}, {"force", no_argument, 0, 'f'},
      {"max-duration", required_argument, 0, OPT_MAXDUR},
      {"queue-seconds", required_argument, 0, OPT_QUEUE}, {"quiet", no_argument, 0, 'q'},
      {"log-json", no_argument, 0, OPT_LOGJSON}, {"pitch-floor", required_argument, 0, OPT_FLOOR},
      {"pitch-ceiling", required_argument, 0, OPT_CEIL},
      {"speakers", required_argument, 0, OPT_SPK},
      {"transcripts", required_argument, 0, OPT_TR}, {"model", required_argument, 0, 'm'},
      {"language", required_argument, 0, 'l'}, {"beam-size", required_argument, 0, OPT_BEAM},
      {"threads", required_argument, 0, 't'}, {"patterns", required_argument, 0, OPT_PAT},
      {"no-html", no_argument, 0, OPT_NOHTML}, {"pdf", no_argument, 0, OPT_PDF},
      {"device", required_argument, 0, OPT_DEVICE}, {"devices", required_argument, 0, OPT_DEVICES},
      {"gpu-mem-fraction", required_argument, 0, OPT_GPUMEM},
      {"max-micro-batch", required_argument, 0, OPT_MICRO},
      {"init-retries", required_argument, 0, OPT_INITRET},
      {"no-model-resident", no_argument, 0, OPT_NORESIDENT},
      {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  int ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "o:w:b:r:fqhm:l:t:", longopts, NULL)) != -1) {
    switch (ch) {
      case 'o': o->out_dir = optarg; break;
      case OPT_STORE: o->store_path = optarg; break;
      case 'w': if (vm_app_parse_int("--workers", optarg, 1, 256, &o->workers)) return -1; break;
      case 'b': if (vm_app_parse_int("--batch-size", optarg, 1, 100000, &o->batch_size)) return -1; break;
      case 'r': if (vm_app_parse_int("--retries", optarg, 0, 100, &o->retries)) return -1; break;
      case 'f': o->force = 1; break;
      case OPT_MAXDUR:
        if (vm_app_parse_double("--max-duration", optarg, 0.001, 1e7, &o->max_duration_s)) return -1;
        break;
      case OPT_QUEUE:
        if (vm_app_parse_double("--queue-seconds", optarg, 1, 1e6, &o->queue_seconds)) return -1;
        break;
      case OPT_FLOOR:
        if (vm_app_parse_double("--pitch-floor", optarg, 20, 1000, &o->pitch_floor_hz)) return -1;
        break;
      case OPT_CEIL:
        if (vm_app_parse_double("--pitch-ceiling", optarg, 40, 2000, &o->pitch_ceiling_hz)) return -1;
        break;
      case OPT_SPK:
        if (vm_app_parse_int("--speakers", optarg, 1, 8, &o->n_speakers)) return -1;
        break;
      case OPT_TR: o->transcripts_dir = optarg; break;
      case 'm': o->model_path = optarg; break;
      case 'l': o->language = strcmp(optarg, "auto") ? optarg : NULL; break;
      case OPT_BEAM: if (vm_app_parse_int("--beam-size", optarg, 1, 16, &o->beam_size)) return -1; break;
      case 't': if (vm_app_parse_int("--threads", optarg, 1, 256, &o->asr_threads)) return -1; break;
      case OPT_PAT: o->patterns_dir = optarg; break;
      case OPT_NOHTML: o->html = 0; break;
      case OPT_PDF: o->pdf = 1; break;
      case OPT_DEVICE:
        if (!strcmp(optarg, "auto")) o->device_mode = VM_ASR_DEVICE_AUTO;
        else if (!strcmp(optarg, "cpu")) o->device_mode = VM_ASR_DEVICE_CPU;
        else if (!strcmp(optarg, "cuda")) o->device_mode = VM_ASR_DEVICE_CUDA;
        else {
          fprintf(stderr, "voiceman run: --device %s: expected auto, cuda or cpu\n", optarg);
          return -1;
        }
        break;
      case OPT_DEVICES: if (parse_devices(optarg, o)) return -1; break;
      case OPT_GPUMEM:
        if (vm_app_parse_double("--gpu-mem-fraction", optarg, 0.05, 1.0, &o->gpu_mem_fraction))
          return -1;
        break;
      case OPT_MICRO:
        if (vm_app_parse_int("--max-micro-batch", optarg, 1, VM_ASR_BATCH_MAX, &o->max_micro_batch))
          return -1;
        break;
      case OPT_INITRET:
        if (vm_app_parse_int("--init-retries", optarg, 0, 20, &o->init_retries)) return -1;
        break;
      case OPT_NORESIDENT: o->model_resident = 0; break;
      case 'q': o->progress = VM_PROGRESS_QUIET; break;
      case OPT_LOGJSON: o->progress = VM_PROGRESS_JSON; break;
      case 'h': run_usage(stdout); return 1;
      default: run_usage(stderr); return -1;
    }
  }
  if (o->pitch_ceiling_hz <= o->pitch_floor_hz) {
    fprintf(stderr, "voiceman run: --pitch-ceiling (%g Hz) must be above --pitch-floor (%g Hz)\n",
            o->pitch_ceiling_hz, o->pitch_floor_hz);
    return -1;
  }
  struct stat st;
  if (o->transcripts_dir && (stat(o->transcripts_dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
    fprintf(stderr, "voiceman run: --transcripts %s: not a readable folder\n", o->transcripts_dir);
    return -1;
  }
  if (o->language && vm_asr_lang_index(o->language) < 0) {
    fprintf(stderr, "voiceman run: --language %s: not a Whisper language code (ko, en, ja, "
            "... or auto)\n", o->language);
    return -1;
  }
  if (o->pdf && !o->html) {
    fprintf(stderr, "voiceman run: --pdf prints the HTML reports: it cannot go with --no-html\n");
    return -1;
  }
  vm_err e;
  if (o->pdf && vm_report_pdf_available(&e) != VM_OK) {
    fprintf(stderr, "voiceman run: --pdf: %s\n", vm_err_text(&e));
    return -1;
  }
  o->inputs = (const char *const *)(argv + optind);
  o->n_inputs = (size_t)(argc - optind);
  if (o->n_inputs == 0 || !o->out_dir) {
    fprintf(stderr, "voiceman run: %s\n\n", !o->out_dir ? "-o OUT is required" : "no INPUT given");
    run_usage(stderr);
    return -1;
  }
  return 0;
}

int vm_cmd_run(int argc, char **argv) {
  vm_run_opts o;
  memset(&o, 0, sizeof o);
  o.batch_size = 10;
  o.retries = 2;
  o.queue_seconds = 1800;
  o.workers = vm_sys_ncores();
  o.pitch_floor_hz = 75;
  o.pitch_ceiling_hz = 600;
  o.beam_size = 5;
  o.asr_threads = vm_sys_ncores();
  o.device_mode = VM_ASR_DEVICE_AUTO;
  o.gpu_mem_fraction = 0.9;
  o.max_micro_batch = 16;
  o.init_retries = 2;
  o.model_resident = 1;
  o.device_sim = getenv("VM_DEVICE_SIM"); /* tests: simulated GPUs (docs/gpu.md) */
  o.html = 1;
  o.version = VM_VERSION;
  int p = parse(argc, argv, &o);
  if (p != 0) return p > 0 ? VM_EXIT_OK : VM_EXIT_USAGE;
  char *oj = options_json(&o);
  o.options_json = oj;
  o.stop = &g_stop;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  vm_run_totals t;
  vm_err err;
  vm_err_clear(&err);
  int rc = vm_pipeline_run(&o, &t, &err);
  free(oj);
  if (rc == VM_ECANCELED) {
    fprintf(stderr, "voiceman: %s (%d completed, %d failed, %d left)\n", vm_err_text(&err),
            t.completed, t.failed, t.interrupted);
    return VM_EXIT_INTERRUPTED;
  }
  if (rc != VM_OK) {
    fprintf(stderr, "voiceman: %s\n", vm_err_text(&err));
    return VM_EXIT_USAGE;
  }
  if (o.progress != VM_PROGRESS_QUIET && o.progress != VM_PROGRESS_JSON)
    fprintf(stderr,
            "voiceman: %d file(s): %d completed, %d skipped (unchanged), %d failed, "
            "%d rejected; %.1f s of audio in %.1f s\n",
            t.n_inputs, t.completed, t.skipped, t.failed, t.rejected, t.audio_s, t.wall_s);
  return (t.failed || t.rejected) ? VM_EXIT_SOME_FAILED : VM_EXIT_OK;
}
