/* vm_sys.c — /proc readers and getrusage. */
#include "vm_sys.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int64_t read_kb_field(const char *file, const char *key) {
  FILE *f = fopen(file, "r");
  char line[256];
  size_t klen = strlen(key);
  int64_t v = 0;
  if (!f) return 0;
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, key, klen) && line[klen] == ':') {
      long long kb = 0;
      if (sscanf(line + klen + 1, "%lld", &kb) == 1) v = (int64_t)kb * 1024;
      break;
    }
  }
  fclose(f);
  return v;
}

int64_t vm_sys_rss_bytes(void) {
  return read_kb_field("/proc/self/status", "VmRSS");
}

int64_t vm_sys_peak_rss_bytes(void) {
  return read_kb_field("/proc/self/status", "VmHWM");
}

double vm_sys_cpu_seconds(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

int vm_sys_ncores(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

int64_t vm_sys_mem_available_bytes(void) {
  return read_kb_field("/proc/meminfo", "MemAvailable");
}
