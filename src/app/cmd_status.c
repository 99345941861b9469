/* cmd_status.c — `voiceman status OUT`: the store's view, read-only (works
 * while a run is going). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "app.h"
#include "device.h"
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
  char **last_gpu = user;
  if (b->gpu_json) {
    vm_free(*last_gpu);
    *last_gpu = vm_strdup(b->gpu_json);
  }
  vm_time_iso_utc(b->start_ms, st);
  printf("  #%-4d %s  %3d files: %3d ok, %2d failed, %2d skipped, %d retries; "
         "%.1f s, %.1f s audio, peak RSS %.0f MB, CPU %.0f%%%s\n",
         b->batch_number, st, b->total, b->successful, b->failed, b->skipped, b->retries,
         b->duration_s, b->audio_s, b->peak_rss_mb, b->cpu_util * 100,
         b->end_ms ? "" : " (open)");
  return 0;
}

/* A string member of o, or "?" (a store written by another version). */
static const char *str(const json_t *o, const char *key) {
  const char *v = json_string_value(json_object_get(o, key));
  return v ? v : "?";
}

/* The transcription stage as the latest batch recorded it (gpu_json). */
static void print_transcription(const char *gpu_json) {
  json_t *g = gpu_json ? json_loads(gpu_json, 0, NULL) : NULL;
  if (!g) return;
  const char *why = json_string_value(json_object_get(g, "cpu_reason"));
  printf("transcription: %s (devices: %s), %lld chunk(s) in %lld round(s), %lld on the CPU, "
         "%lld out-of-memory halving(s), %lld GPU(s) lost%s%s\n",
         str(g, "backend"), str(g, "source"),
         (long long)json_integer_value(json_object_get(g, "chunks")),
         (long long)json_integer_value(json_object_get(g, "rounds")),
         (long long)json_integer_value(json_object_get(g, "cpu_chunks")),
         (long long)json_integer_value(json_object_get(g, "oom_halvings")),
         (long long)json_integer_value(json_object_get(g, "gpus_lost")), why ? "; CPU: " : "",
         why ? why : "");
  size_t i;
  json_t *x;
  json_array_foreach(json_object_get(g, "gpus"), i, x) {
    json_t *ut = json_object_get(x, "util_percent"), *tc = json_object_get(x, "temp_c");
    printf("  GPU %lld %s: %.0f MB total, %.0f MB used, %.0f MB free",
           (long long)json_integer_value(json_object_get(x, "index")),
           str(x, "name"),
           json_number_value(json_object_get(x, "total_mb")),
           json_number_value(json_object_get(x, "used_mb")),
           json_number_value(json_object_get(x, "free_mb")));
    if (json_is_integer(ut)) printf(", %lld%% busy", (long long)json_integer_value(ut));
    if (json_is_integer(tc)) printf(", %lld C", (long long)json_integer_value(tc));
    printf("; engine %.0f MB, %lld batch(es), %lld chunk(s), largest batch %lld of %lld, "
           "%lld restart(s)%s%s\n",
           json_number_value(json_object_get(x, "engine_mb")),
           (long long)json_integer_value(json_object_get(x, "batches")),
           (long long)json_integer_value(json_object_get(x, "chunks")),
           (long long)json_integer_value(json_object_get(x, "max_micro_batch")),
           (long long)json_integer_value(json_object_get(x, "capacity")),
           (long long)json_integer_value(json_object_get(x, "restarts")),
           json_is_true(json_object_get(x, "lost")) ? "; LOST: " : "",
           json_is_true(json_object_get(x, "lost")) ? str(x, "lost_reason") : "");
  }
  json_decref(g);
}

/* This machine's GPUs now (NVML or the CUDA runtime, opened at run time). */
static void print_gpus_now(void) {
  vm_device *dev = NULL;
  vm_err e;
  vm_err_clear(&e);
  if (vm_device_open_real(NULL, &dev, &e) != VM_OK) return;
  int n = vm_device_count(dev);
  if (n == 0) printf("GPUs now: none (%s)\n", e.msg[0] ? e.msg : "no GPU found");
  for (int i = 0; i < n; i++) {
    vm_device_info in;
    if (vm_device_info_get(dev, i, &in, &e) != VM_OK) {
      printf("GPU %d now: %s\n", i, vm_err_text(&e));
      continue;
    }
    printf("GPU %d now: %s, %.0f MB total, %.0f MB used, %.0f MB free", i, in.name,
           (double)in.total_bytes / 1048576.0, (double)in.used_bytes / 1048576.0,
           (double)in.free_bytes / 1048576.0);
    if (in.util_percent >= 0) printf(", %d%% busy", in.util_percent);
    if (in.temp_c >= 0) printf(", %d C", in.temp_c);
    printf(" (%s)\n", vm_device_source_name(vm_device_source_get(dev)));
  }
  vm_device_close(dev);
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
           "their reasons, the batches of the latest run, its transcription stage\n"
           "(CPU or GPUs: memory, utilisation, temperature, batches, out-of-memory\n"
           "halvings, restarts) and this machine's GPUs now. Safe while a run is\n"
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
  char *last_gpu = NULL;
  if (rc == VM_OK) {
    printf("batches of the latest run:\n");
    rc = vm_store_each_batch(s, 0, print_batch, &last_gpu, &err);
  }
  if (rc == VM_OK) {
    print_transcription(last_gpu);
    print_gpus_now();
  }
  vm_free(last_gpu);
  if (rc != VM_OK) fprintf(stderr, "voiceman: %s\n", vm_err_text(&err));
  vm_store_close(s);
  vm_free(path);
  return rc == VM_OK ? VM_EXIT_OK : VM_EXIT_USAGE;
}
