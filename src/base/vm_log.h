/* vm_log.h — the one logging entry point for library code.
 *
 * Library code never prints to stdout; it logs through vm_log(), which
 * writes "voiceman: <level>: <message>\n" to stderr by default. The
 * application may lower or raise the level or install its own sink (for
 * --quiet, --log-json, or to keep a progress line intact). Thread-safe.
 */
#ifndef VM_LOG_H
#define VM_LOG_H

enum vm_log_level {
  VM_LOG_DEBUG = 0,
  VM_LOG_INFO = 1,
  VM_LOG_WARN = 2,
  VM_LOG_ERROR = 3,
  VM_LOG_OFF = 4,
};

/* Receives each message at or above the current level; msg has no
 * trailing newline. Called with the log lock held: must not call vm_log. */
typedef void (*vm_log_sink_fn)(enum vm_log_level level, const char *msg,
                               void *user);

void vm_log_set_level(enum vm_log_level level);
enum vm_log_level vm_log_get_level(void);
/* Installs sink (NULL restores the stderr sink). */
void vm_log_set_sink(vm_log_sink_fn sink, void *user);
const char *vm_log_level_name(enum vm_log_level level);

void vm_log(enum vm_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define VM_DEBUG(...) vm_log(VM_LOG_DEBUG, __VA_ARGS__)
#define VM_INFO(...) vm_log(VM_LOG_INFO, __VA_ARGS__)
#define VM_WARN(...) vm_log(VM_LOG_WARN, __VA_ARGS__)
#define VM_ERROR(...) vm_log(VM_LOG_ERROR, __VA_ARGS__)

#endif /* VM_LOG_H */
