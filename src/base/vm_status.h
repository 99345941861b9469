/* vm_status.h — status codes shared by every voiceman module.
 *
 * Every fallible function returns int: 0 (VM_OK) on success or a negative
 * VM_E* code. The codes come from one X-macro table so that the enum,
 * vm_err_name() and vm_strerror() never disagree. Foreign codes (errno,
 * AVERROR, SQLite rc) are translated once, at the module boundary; the
 * precise reason travels in a vm_err message buffer (see below).
 */
#ifndef VM_STATUS_H
#define VM_STATUS_H

#include <stddef.h>

/* X(name, value, message) */
#define VM_STATUS_MAP(X)                                                    \
  X(ENOMEM, -1, "out of memory")                                           \
  X(EINVAL, -2, "invalid argument")                                        \
  X(EIO, -3, "input/output error")                                         \
  X(ENOENT, -4, "no such file or directory")                               \
  X(EACCES, -5, "permission denied")                                       \
  X(ENOSPC, -6, "no space left on device")                                 \
  X(EFORMAT, -7, "not a supported audio file")                             \
  X(EDECODE, -8, "corrupt or truncated audio")                             \
  X(ENOAUDIO, -9, "no audio stream")                                       \
  X(EEMPTY, -10, "empty file")                                             \
  X(EMODEL, -11, "invalid model file")                                     \
  X(EGPU, -12, "GPU error")                                                \
  X(EDB, -13, "checkpoint store error")                                    \
  X(ECANCELED, -14, "operation canceled")                                  \
  X(EBUSY, -15, "resource busy")                                           \
  X(ECHANGED, -16, "content changed")                                      \
  X(EINTERNAL, -17, "internal error")

enum vm_status {
  VM_OK = 0,
#define VM_STATUS_ENUM(name, value, msg) VM_##name = value,
  VM_STATUS_MAP(VM_STATUS_ENUM)
#undef VM_STATUS_ENUM
};

/* "VM_EFORMAT" for VM_EFORMAT; "VM_OK" for 0; "VM_UNKNOWN" otherwise. */
const char *vm_err_name(int status);
/* Human message for a status code; never NULL. */
const char *vm_strerror(int status);

/* Translates an errno value into the closest status code. */
int vm_status_from_errno(int errnum);

/* True for failures that may go away on a later attempt (I/O, memory,
 * disk space), false for failures that the same input will always give
 * (not audio, corrupt, empty). Retries are only spent on the former. */
int vm_status_is_transient(int status);

/* A precise failure reason, filled by the function that failed.
 * Callers own the storage (usually on the stack); messages are truncated
 * to fit. code mirrors the returned status. */
#define VM_ERR_MSG_MAX 512
typedef struct vm_err {
  int code;
  char msg[VM_ERR_MSG_MAX];
} vm_err;

/* Sets err (if not NULL) and returns code, so that callers can write
 * `return vm_err_set(err, VM_EFORMAT, "not an audio file");`. */
int vm_err_set(vm_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Clears err to VM_OK and an empty message. Accepts NULL. */
void vm_err_clear(vm_err *err);
/* err's message, or vm_strerror(code) when the message is empty. */
const char *vm_err_text(const vm_err *err);

/* Always-on assertion for programmer errors: logs file:line and aborts.
 * Never put side effects inside. */
#define VM_ASSERT(cond)                                                     \
  do {                                                                      \
    if (!(cond)) vm__assert_fail(#cond, __FILE__, __LINE__);                \
  } while (0)
void vm__assert_fail(const char *expr, const char *file, int line)
    __attribute__((noreturn));

#endif /* VM_STATUS_H */
