/* cmd_status.c — `voiceman status OUT`: the store's view, read-only (works
 * while a run is going). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "store.h"
#include "vm_alloc.h"
#include "vm_fs.h"
#include "vm_time.h"

static int print_failed(void *user, const char *path, const char *sha256, int attempts,
                        const char *code, const char *text) {
  (void)user;
  (void)sha256;
  printf("  %s\n      %s (%s; %d attempt%s)\n", path, text ? text : "", code ? code : "?",
         attempts, attempts == 1 ? "" : "s");
  return 0;
}

static int print_batch(void *user, const vm_batch_result *b) {
  char st[32];
  (void)user;
  vm_time_iso_utc(b->start_ms, st);
  printf("  #%-4d %s  %3d files: %3d ok, %2d failed, %2d skipped, %d retries; "
         "%.1f s, %.1f s audio, peak RSS %.0f MB, CPU %.0f%%%s\n",
         b->batch_number, st, b->total, b->successful, b->failed, b->skipped, b->retries,
         b->duration_s, b->audio_s, b->peak_rss_mb, b->cpu_util * 100,
         b->end_ms ? "" : " (open)");
  return 0;
}

int vm_cmd_status(int argc, char **argv) {
  static const struct option longopts[] = {
      {"store", required_argument, 0, 's'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  const char *store_path = NULL;
  int ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    if (ch == 's') store_path = optarg;
    else if (ch == 'h') {
      puts("Usage: voiceman status OUT [--store PATH]\n\n"
           "Prints the checkpoint store's counts per state, the failed files with\n"
           "their reasons, and the batches of the latest run. Safe while a run is\n"
           "going. Exit status 0, or 2 if there is no store.");
      return VM_EXIT_OK;
    } else return VM_EXIT_USAGE;
  }
  if (optind != argc - 1) {
    fprintf(stderr, "Usage: voiceman status OUT [--store PATH]\n");
    return VM_EXIT_USAGE;
  }
  char *path = store_path ? vm_strdup(store_path) : vm_path_join(argv[optind], "voiceman.db");
  vm_store *s = NULL;
  vm_err err;
  int64_t counts[VM_FILE_N_STATES] = {0};
  int rc = path ? vm_store_open_readonly(path, &s, &err) : VM_ENOMEM;
  if (rc != VM_OK) {
    fprintf(stderr, "voiceman: no checkpoint store at %s: %s\n", path ? path : "?",
            vm_err_text(&err));
    vm_free(path);
    return VM_EXIT_USAGE;
  }
  if ((rc = vm_store_count_states(s, counts, &err)) == VM_OK) {
    printf("store: %s\n", path);
    printf("files: %lld completed, %lld failed, %lld pending, %lld in progress\n",
           (long long)counts[VM_FILE_COMPLETED], (long long)counts[VM_FILE_FAILED],
           (long long)counts[VM_FILE_PENDING], (long long)counts[VM_FILE_IN_PROGRESS]);
    if (counts[VM_FILE_FAILED]) {
      printf("failed:\n");
      rc = vm_store_each_file(s, VM_FILE_FAILED, print_failed, NULL, &err);
    }
  }
  if (rc == VM_OK) {
    printf("batches of the latest run:\n");
    rc = vm_store_each_batch(s, 0, print_batch, NULL, &err);
  }
  if (rc != VM_OK) fprintf(stderr, "voiceman: %s\n", vm_err_text(&err));
  vm_store_close(s);
  vm_free(path);
  return rc == VM_OK ? VM_EXIT_OK : VM_EXIT_USAGE;
}
