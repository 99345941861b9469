/* fuzz_asr_model.c — libFuzzer target for the Whisper model loader: any
 * bytes must give VM_OK or an error, never a crash, leak or huge
 * allocation. Corpus: corpus/fuzz_asr_model/ (a small valid f16 model
 * written by vm_make_model and broken variants).
 *
 *   cmake -B build-fuzz -DVM_FUZZ=ON -DCMAKE_C_COMPILER=clang
 *   build-fuzz/tests/fuzz/fuzz_asr_model tests/fuzz/corpus/fuzz_asr_model */
#include <stddef.h>
#include <stdint.h>

#include "asr_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vm_asr_model *m = NULL;
  vm_err err;
  if (vm_asr_model_create_from_memory(data, size, &m, &err) == VM_OK) {
    /* touch what a caller reads */
    volatile size_t b = vm_asr_model_bytes(m);
    (void)b;
    vm_asr_model_destroy(m);
  }
  return 0;
}
