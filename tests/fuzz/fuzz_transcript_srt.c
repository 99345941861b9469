/* fuzz_transcript_srt.c — vm_transcript_parse_srt on arbitrary bytes, then
 * every writer and a parse of what they wrote (transcript_fuzz_check.h).
 * Build: CC=clang cmake -S . -B build-tr-fuzz -DVM_FUZZ=ON &&
 *        cmake --build build-tr-fuzz --target fuzz_transcript_srt &&
 *        build-tr-fuzz/tests/fuzz/fuzz_transcript_srt -max_total_time=60 \
 *          -dict=tests/fuzz/fuzz_transcript.dict tests/fuzz/corpus/fuzz_transcript_srt
 */
#include <stddef.h>
#include <stdint.h>

#include "transcript_fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return tr_fuzz_one(vm_transcript_parse_srt, data, size);
}
