/* asr_backend.c — picks a backend by device name. The only file that
 * knows which backends exist: the CPU one always, the CUDA one when
 * VM_USE_CUDA is defined (CMake option VM_CUDA, or the host emulation
 * library of the CUDA test). */
#include "asr_backend.h"

#include <stdlib.h>
#include <string.h>

/* "cuda" -> 0, "cuda:N" -> N; -1 if name is not a CUDA device name. */
static int cuda_ordinal(const char *name) {
  if (strncmp(name, "cuda", 4) != 0) return -1;
  if (name[4] == '\0') return 0;
  if (name[4] != ':' || name[5] < '0' || name[5] > '9') return -1;
  char *end = NULL;
  long v = strtol(name + 5, &end, 10);
  if (*end != '\0' || v > 1024) return -1;
  return (int)v;
}

int vm__asr_backend_init(const char *device, int n_threads, vm_asr_backend_i *out,
                         vm_err *err) {
  memset(out, 0, sizeof *out);
  if (!device || strcmp(device, "cpu") == 0) {
    int rc = vm__asr_backend_cpu_init(n_threads, out);
    return rc ? vm_err_set(err, rc, "cannot start the CPU backend") : VM_OK;
  }
  int ordinal = cuda_ordinal(device);
  if (ordinal < 0)
    return vm_err_set(err, VM_EINVAL, "unknown device '%s' (cpu, cuda or cuda:N)", device);
#ifdef VM_USE_CUDA
  return vm__asr_backend_cuda_init(ordinal, out, err);
#else
  return vm_err_set(err, VM_EGPU, "this voiceman was built without CUDA (configure with "
                    "-DVM_CUDA=ON)");
#endif
}
