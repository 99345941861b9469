/* cmd_verify.c — `voiceman verify OUT`: audit chain and hashes. */
#include <getopt.h>
#include <stdio.h>

#include "app.h"
#include "audit.h"

static void report(void *user, int ok, const char *msg) {
  int verbose = *(int *)user;
  if (!ok) printf("PROBLEM  %s\n", msg);
  else if (verbose) printf("ok       %s\n", msg);
}

int vm_cmd_verify(int argc, char **argv) {
  static const struct option longopts[] = {{"no-inputs", no_argument, 0, 'n'},
                                           {"verbose", no_argument, 0, 'v'},
                                           {"help", no_argument, 0, 'h'},
                                           {0, 0, 0, 0}};
  int check_inputs = 1, verbose = 0, ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
    if (ch == 'n') check_inputs = 0;
    else if (ch == 'v') verbose = 1;
    else if (ch == 'h') {
      puts("Usage: voiceman verify OUT [--no-inputs] [--verbose]\n\n"
           "Re-checks OUT/audit.jsonl: every line's link to the one before it,\n"
           "then the SHA-256 of every output it recorded and (unless --no-inputs)\n"
           "of every original recording. Prints each problem found.\n"
           "Exit status: 0 everything matches, 1 something changed or is missing,\n"
           "2 no audit log or a usage error.");
      return VM_EXIT_OK;
    } else return VM_EXIT_USAGE;
  }
  if (optind != argc - 1) {
    fprintf(stderr, "Usage: voiceman verify OUT [--no-inputs] [--verbose]\n");
    return VM_EXIT_USAGE;
  }
  vm_audit_verify_stats st = {0};
  vm_err err;
  int rc = vm_audit_verify(argv[optind], check_inputs, report, &verbose, &st, &err);
  if (rc != VM_OK) {
    fprintf(stderr, "voiceman: %s\n", vm_err_text(&err));
    return VM_EXIT_USAGE;
  }
  long long problems = st.n_chain_errors + st.n_outputs_changed + st.n_outputs_missing +
                       st.n_inputs_changed + st.n_inputs_missing;
  printf("%lld log lines; chain %s; outputs: %lld ok, %lld changed, %lld missing; "
         "originals: %lld ok, %lld changed, %lld missing%s\n",
         (long long)st.n_lines, st.n_chain_errors ? "BROKEN" : "intact",
         (long long)st.n_outputs_ok, (long long)st.n_outputs_changed,
         (long long)st.n_outputs_missing, (long long)st.n_inputs_ok,
         (long long)st.n_inputs_changed, (long long)st.n_inputs_missing,
         check_inputs ? "" : " (not checked)");
  return problems ? VM_EXIT_SOME_FAILED : VM_EXIT_OK;
}
