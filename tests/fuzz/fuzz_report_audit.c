/* fuzz_report_audit.c — vm_audit_verify on arbitrary audit.jsonl bytes.
 *
 * The input is written as audit.jsonl into one temporary folder (made once
 * per process under /tmp and reused) and verified with check_inputs = 0,
 * so output paths from the log are resolved against that folder only; the
 * verifier must never read outside it, crash or leak.
 * Build: cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DVM_FUZZ=ON &&
 *        cmake --build build-fuzz --target fuzz_report_audit &&
 *        build-fuzz/tests/fuzz/fuzz_report_audit -max_total_time=60 \
 *          tests/fuzz/corpus/fuzz_report_audit
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "vm_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir_[64];
static char log_[128];

static void dir_remove(void) {
  unlink(log_);
  rmdir(dir_);
}

static void report_sink(void *user, int ok, const char *msg) {
  size_t *n = user;
  *n += strlen(msg) + (size_t)ok; /* touches every byte of the message */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!dir_[0]) {
    snprintf(dir_, sizeof dir_, "/tmp/vm_fuzz_audit_XXXXXX");
    if (!mkdtemp(dir_)) abort();
    snprintf(log_, sizeof log_, "%s/audit.jsonl", dir_);
    vm_log_set_level(VM_LOG_OFF);
    atexit(dir_remove);
  }
  int fd = open(log_, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) abort();
  size_t done = 0;
  while (done < size) {
    ssize_t w = write(fd, data + done, size - done);
    if (w <= 0) abort();
    done += (size_t)w;
  }
  close(fd);
  vm_audit_verify_stats st;
  vm_err err;
  size_t n_chars = 0;
  int rc = vm_audit_verify(dir_, 0, report_sink, &n_chars, &st, &err);
  if (rc != VM_OK) abort(); /* the log exists: it must always be read */
  size_t n_breaks = 0;
  for (size_t i = 0; i < size; i++) n_breaks += data[i] == '\n';
  if (st.n_lines < 0 || (size_t)st.n_lines > n_breaks + 1) abort();
  return 0;
}
