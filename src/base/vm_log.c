/* vm_log.c — level filter and a mutex-protected sink. */
#include "vm_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static enum vm_log_level g_level = VM_LOG_INFO;
static vm_log_sink_fn g_sink;
static void *g_sink_user;

void vm_log_set_level(enum vm_log_level level) {
  pthread_mutex_lock(&g_lock);
  g_level = level;
  pthread_mutex_unlock(&g_lock);
}

enum vm_log_level vm_log_get_level(void) {
  pthread_mutex_lock(&g_lock);
  enum vm_log_level l = g_level;
  pthread_mutex_unlock(&g_lock);
  return l;
}

void vm_log_set_sink(vm_log_sink_fn sink, void *user) {
  pthread_mutex_lock(&g_lock);
  g_sink = sink;
  g_sink_user = user;
  pthread_mutex_unlock(&g_lock);
}

const char *vm_log_level_name(enum vm_log_level level) {
  switch (level) {
    case VM_LOG_DEBUG: return "debug";
    case VM_LOG_INFO: return "info";
    case VM_LOG_WARN: return "warning";
    case VM_LOG_ERROR: return "error";
    default: return "off";
  }
}

void vm_log(enum vm_log_level level, const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  pthread_mutex_lock(&g_lock);
  if (level < g_level || level >= VM_LOG_OFF) {
    pthread_mutex_unlock(&g_lock);
    return;
  }
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (g_sink) {
    g_sink(level, msg, g_sink_user);
  } else {
    fprintf(stderr, "voiceman: %s: %s\n", vm_log_level_name(level), msg);
  }
  pthread_mutex_unlock(&g_lock);
}
