/* vm_status.c — status code names, messages and the vm_err buffer. */
#include "vm_status.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *vm_err_name(int status) {
  switch (status) {
    case VM_OK: return "VM_OK";
#define VM_STATUS_NAME(name, value, msg) \
    case VM_##name: return "VM_" #name;
    VM_STATUS_MAP(VM_STATUS_NAME)
#undef VM_STATUS_NAME
    default: return "VM_UNKNOWN";
  }
}

const char *vm_strerror(int status) {
  switch (status) {
    case VM_OK: return "success";
#define VM_STATUS_MSG(name, value, msg) \
    case VM_##name: return msg;
    VM_STATUS_MAP(VM_STATUS_MSG)
#undef VM_STATUS_MSG
    default: return "unknown error";
  }
}

int vm_status_from_errno(int errnum) {
  switch (errnum) {
    case 0: return VM_OK;
    case ENOMEM: return VM_ENOMEM;
    case EINVAL: return VM_EINVAL;
    case ENOENT: case ENOTDIR: return VM_ENOENT;
    case EACCES: case EPERM: case EROFS: return VM_EACCES;
    case ENOSPC: case EDQUOT: case EFBIG: return VM_ENOSPC;
    case EBUSY: case EWOULDBLOCK: return VM_EBUSY;
    case ECANCELED: return VM_ECANCELED;
    default: return VM_EIO;
  }
}

int vm_status_is_transient(int status) {
  switch (status) {
    case VM_ENOMEM: case VM_EIO: case VM_ENOSPC: case VM_EBUSY:
    case VM_EGPU: case VM_EDB:
      return 1;
    default:
      return 0;
  }
}

int vm_err_set(vm_err *err, int code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return code;
}

void vm_err_clear(vm_err *err) {
  if (!err) return;
  err->code = VM_OK;
  err->msg[0] = '\0';
}

const char *vm_err_text(const vm_err *err) {
  if (!err) return "";
  return err->msg[0] ? err->msg : vm_strerror(err->code);
}

void vm__assert_fail(const char *expr, const char *file, int line) {
  fprintf(stderr, "voiceman: assertion failed: %s (%s:%d)\n", expr, file, line);
  abort();
}
