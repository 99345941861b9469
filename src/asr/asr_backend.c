/* asr_backend.c — picks a backend by device name. The only file that
 * knows which backends exist (a CUDA one will be added here under
 * VM_USE_CUDA). */
#include "asr_backend.h"

#include <string.h>

#include "vm_status.h"

int vm__asr_backend_init(const char *device, int n_threads, vm_asr_backend_i *out) {
  memset(out, 0, sizeof *out);
  if (!device || strcmp(device, "cpu") == 0)
    return vm__asr_backend_cpu_init(n_threads, out);
  return VM_EINVAL;
}
