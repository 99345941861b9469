/* fuzz_audio_decode.c — libFuzzer entry for vm_audio_decode_memory.
 *
 * Feeds arbitrary bytes through the whole decode path (probe, demux,
 * decode, resample) from memory via the custom AVIO. max_duration_s keeps
 * each input cheap and bounds memory; every outcome except a crash, a leak
 * or undefined behaviour is fine. Without VM_FUZZ the same file links with
 * replay_main.c and CTest replays corpus/fuzz_audio_decode/.
 *
 *   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DVM_FUZZ=ON
 *   cmake --build build-fuzz --target fuzz_audio_decode
 *   ./build-fuzz/tests/fuzz/fuzz_audio_decode -max_total_time=60 \
 *       tests/fuzz/corpus/fuzz_audio_decode
 */
#include <stddef.h>
#include <stdint.h>

#include "audio.h"
#include "vm_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vm_audio_opts o = vm_audio_opts_default();
  vm_audio a;
  vm_err e;
  o.max_duration_s = 5;
  o.keep_native = size & 1; /* exercise both resamplers on half the inputs */
  vm_log_set_level(VM_LOG_OFF);
  if (vm_audio_decode_memory(data, size, "fuzz", &o, &a, &e) == VM_OK) {
    vm_loudness l;
    vm_audio_normalize(a.samples, a.n_samples, a.sample_rate_hz, NULL, &l, &e);
    vm_audio_deinit(&a);
  }
  return 0;
}
