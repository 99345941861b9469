/* app.h — the command line. The only module that may exit(). */
#ifndef VM_APP_H
#define VM_APP_H

#define VM_VERSION "0.1.0"

/* Exit codes (documented in --help and docs/cli.md). */
enum {
  VM_EXIT_OK = 0,          /* every file completed (or skipped, unchanged) */
  VM_EXIT_SOME_FAILED = 1, /* some file failed or an input was rejected */
  VM_EXIT_USAGE = 2,       /* bad command line or set-up error */
  VM_EXIT_INTERRUPTED = 130,
};

int vm_cmd_run(int argc, char **argv);
int vm_cmd_status(int argc, char **argv);
int vm_cmd_analyze(int argc, char **argv);
int vm_cmd_verify(int argc, char **argv);
int vm_cmd_transcribe(int argc, char **argv);

/* Parses a non-negative integer option value; prints the error. */
int vm_app_parse_int(const char *opt, const char *s, int min, int max, int *out);
int vm_app_parse_double(const char *opt, const char *s, double min, double max, double *out);

#endif /* VM_APP_H */
