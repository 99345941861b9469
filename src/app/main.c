/* main.c — `voiceman COMMAND ...`: dispatch to the subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

static void usage(FILE *f) {
  fputs(
      "voiceman " VM_VERSION " — forensic analysis of recorded conversations\n"
      "\n"
      "Usage: voiceman COMMAND [OPTIONS]\n"
      "\n"
      "Commands:\n"
      "  run INPUT... -o OUT   process recordings (files or folders) into OUT,\n"
      "                        resuming where an earlier run stopped\n"
      "  status OUT            what the checkpoint store of OUT says\n"
      "  analyze FILE          one file's facts, levels, voice measures, speakers (and\n"
      "                        with --transcript, language findings) as JSON\n"
      "  verify OUT            re-check the audit log's hash chain and every\n"
      "                        output's and original's SHA-256\n"
      "  transcribe FILE --model MODEL\n"
      "                        speech to text with a Whisper model, on stdout\n"
      "\n"
      "Run `voiceman COMMAND --help` for a command's options.\n"
      "  --version             print the version\n"
      "  --help                print this help\n",
      f);
}

int main(int argc, char **argv) {
  /* GPU numbers as nvidia-smi and NVML count them (by PCI bus), not the
   * CUDA runtime's fastest-first order, so --devices 1 is the same card
   * everywhere; before anything could start CUDA. A user's setting wins. */
  setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID", 0);
  if (argc < 2) {
    usage(stderr);
    return VM_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
    printf("voiceman %s\n", VM_VERSION);
    return VM_EXIT_OK;
  }
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    usage(stdout);
    return VM_EXIT_OK;
  }
  if (!strcmp(cmd, "run")) return vm_cmd_run(argc - 1, argv + 1);
  if (!strcmp(cmd, "status")) return vm_cmd_status(argc - 1, argv + 1);
  if (!strcmp(cmd, "analyze")) return vm_cmd_analyze(argc - 1, argv + 1);
  if (!strcmp(cmd, "verify")) return vm_cmd_verify(argc - 1, argv + 1);
  if (!strcmp(cmd, "transcribe")) return vm_cmd_transcribe(argc - 1, argv + 1);
  fprintf(stderr, "voiceman: unknown command '%s'\n\n", cmd);
  usage(stderr);
  return VM_EXIT_USAGE;
}

int vm_app_parse_int(const char *opt, const char *s, int min, int max, int *out) {
  char *end = NULL;
  long v = s ? strtol(s, &end, 10) : 0;
  if (!s || !*s || *end || v < min || v > max) {
    fprintf(stderr, "voiceman: %s needs a whole number from %d to %d (got '%s')\n", opt, min,
            max, s ? s : "");
    return -1;
  }
  *out = (int)v;
  return 0;
}

int vm_app_parse_double(const char *opt, const char *s, double min, double max, double *out) {
  char *end = NULL;
  double v = s ? strtod(s, &end) : 0;
  if (!s || !*s || *end || !(v >= min) || !(v <= max)) {
    fprintf(stderr, "voiceman: %s needs a number from %g to %g (got '%s')\n", opt, min, max,
            s ? s : "");
    return -1;
  }
  *out = v;
  return 0;
}
