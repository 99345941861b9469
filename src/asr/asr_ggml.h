/* asr_ggml.h — the ggml element types that Whisper model files use
 * (internal to asr/).
 *
 * DESIGN: whisper.cpp model files store each tensor as one of ggml's
 * element types. We support the four that published Whisper files use:
 * F32, F16, Q8_0 and Q5_0 (type ids as in ggml). Quantised types pack
 * blocks of 32 consecutive elements of a row (ne0 must be a multiple of
 * 32): Q8_0 = f16 scale + 32 x int8 (34 bytes); Q5_0 = f16 scale +
 * 32-bit high-bit mask + 16 bytes of low nibbles (22 bytes), value =
 * (q - 16) * scale. The loader dequantises everything to f32 once; the
 * writer (test models) quantises with the usual round-to-nearest rules.
 * Nothing here allocates. */
#ifndef VM_ASR_GGML_H
#define VM_ASR_GGML_H

#include <stddef.h>
#include <stdint.h>

enum vm_asr_gtype {
  VM_ASR_GTYPE_F32 = 0,
  VM_ASR_GTYPE_F16 = 1,
  VM_ASR_GTYPE_Q5_0 = 6,
  VM_ASR_GTYPE_Q8_0 = 8,
};

#define VM_ASR_QK 32 /* elements per quantised block */

/* 1 if t is one of the supported types above. */
int vm__asr_gtype_supported(int32_t t);
/* "f32", "f16", "q8_0", "q5_0" or "?" */
const char *vm__asr_gtype_name(int32_t t);
/* Bytes per block and elements per block of a supported type. */
size_t vm__asr_gtype_block_bytes(int32_t t);
size_t vm__asr_gtype_block_elems(int32_t t);
/* Bytes of n elements (n a multiple of the block size), or 0 on overflow
 * (callers check n > 0 first). */
size_t vm__asr_gtype_row_bytes(int32_t t, uint64_t n);

float vm__asr_f16_to_f32(uint16_t h);
/* Round-to-nearest-even, saturating to +-inf, NaN kept. */
uint16_t vm__asr_f32_to_f16(float f);

/* Dequantises n elements (a multiple of the block size) of type t from src
 * (unaligned bytes, little-endian) into dst. */
void vm__asr_dequantize(int32_t t, const uint8_t *src, float *dst, size_t n);
/* Quantises n elements of src into dst (vm__asr_gtype_row_bytes(t, n)
 * bytes). F32/F16 are plain conversions. */
void vm__asr_quantize(int32_t t, const float *src, uint8_t *dst, size_t n);

#endif /* VM_ASR_GGML_H */
