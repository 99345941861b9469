/* asr_ggml.c — conversions between f32 and the ggml element types that
 * Whisper model files use (F32, F16, Q8_0, Q5_0).
 *
 * DESIGN: pure functions over byte buffers; every multi-byte value is read
 * and written little-endian byte by byte, so the code neither depends on
 * the host's byte order nor on the alignment of mmapped data. The block
 * layouts are ggml's (see asr_ggml.h). Not here: any file parsing. */
#include "asr_ggml.h"

#include <math.h>
#include <string.h>

int vm__asr_gtype_supported(int32_t t) {
  return t == VM_ASR_GTYPE_F32 || t == VM_ASR_GTYPE_F16 ||
         t == VM_ASR_GTYPE_Q8_0 || t == VM_ASR_GTYPE_Q5_0;
}

const char *vm__asr_gtype_name(int32_t t) {
  switch (t) {
    case VM_ASR_GTYPE_F32: return "f32";
    case VM_ASR_GTYPE_F16: return "f16";
    case VM_ASR_GTYPE_Q8_0: return "q8_0";
    case VM_ASR_GTYPE_Q5_0: return "q5_0";
    default: return "?";
  }
}

size_t vm__asr_gtype_block_bytes(int32_t t) {
  switch (t) {
    case VM_ASR_GTYPE_F32: return 4;
    case VM_ASR_GTYPE_F16: return 2;
    case VM_ASR_GTYPE_Q8_0: return 2 + VM_ASR_QK;          /* 34 */
    case VM_ASR_GTYPE_Q5_0: return 2 + 4 + VM_ASR_QK / 2;  /* 22 */
    default: return 0;
  }
}

size_t vm__asr_gtype_block_elems(int32_t t) {
  return (t == VM_ASR_GTYPE_Q8_0 || t == VM_ASR_GTYPE_Q5_0) ? VM_ASR_QK : 1;
}

size_t vm__asr_gtype_row_bytes(int32_t t, uint64_t n) {
  size_t be = vm__asr_gtype_block_elems(t), bb = vm__asr_gtype_block_bytes(t);
  if (be == 0 || bb == 0) return 0;
  uint64_t blocks = n / be;
  if (blocks > SIZE_MAX / bb) return 0;
  return (size_t)blocks * bb;
}

float vm__asr_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, bits;
  if (exp == 0) {
    /* zero or subnormal: value = man * 2^-24 */
    float v = ldexpf((float)man, -24);
    return (h & 0x8000u) ? -v : v;
  }
  if (exp == 31) bits = sign | 0x7f800000u | (man << 13);
  else bits = sign | ((exp + 112u) << 23) | (man << 13);
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

uint16_t vm__asr_f32_to_f16(float f) {
  uint32_t x;
  memcpy(&x, &f, sizeof x);
  uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
  uint32_t exp = (x >> 23) & 0xffu, man = x & 0x7fffffu;
  if (exp == 255) /* inf or NaN (keep a NaN a NaN) */
    return (uint16_t)(sign | 0x7c00u | (man ? 0x200u : 0u));
  int e = (int)exp - 127 + 15;
  if (e >= 31) return (uint16_t)(sign | 0x7c00u);
  if (e <= 0) {
    if (e < -10) return sign;
    man |= 0x800000u;
    unsigned shift = (unsigned)(14 - e);
    uint32_t half = man >> shift, rem = man & ((1u << shift) - 1u);
    uint32_t mid = 1u << (shift - 1u);
    if (rem > mid || (rem == mid && (half & 1u))) half++;
    return (uint16_t)(sign | half);
  }
  uint32_t half = ((uint32_t)e << 10) | (man >> 13), rem = man & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) half++; /* may carry into exp: fine */
  return (uint16_t)(sign | half);
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}
static void wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v & 0xffu);
  p[1] = (uint8_t)(v >> 8);
}

void vm__asr_dequantize(int32_t t, const uint8_t *src, float *dst, size_t n) {
  switch (t) {
    case VM_ASR_GTYPE_F32:
      for (size_t i = 0; i < n; i++) {
        uint32_t b = rd32(src + 4 * i);
        memcpy(&dst[i], &b, 4);
      }
      break;
    case VM_ASR_GTYPE_F16:
      for (size_t i = 0; i < n; i++) dst[i] = vm__asr_f16_to_f32(rd16(src + 2 * i));
      break;
    case VM_ASR_GTYPE_Q8_0:
      for (size_t b = 0; b < n / VM_ASR_QK; b++, src += 34, dst += VM_ASR_QK) {
        float d = vm__asr_f16_to_f32(rd16(src));
        for (int j = 0; j < VM_ASR_QK; j++) dst[j] = (float)(int8_t)src[2 + j] * d;
      }
      break;
    case VM_ASR_GTYPE_Q5_0:
      for (size_t b = 0; b < n / VM_ASR_QK; b++, src += 22, dst += VM_ASR_QK) {
        float d = vm__asr_f16_to_f32(rd16(src));
        uint32_t qh = rd32(src + 2);
        const uint8_t *qs = src + 6;
        for (int j = 0; j < 16; j++) {
          int lo = (qs[j] & 0x0f) | (int)(((qh >> j) & 1u) << 4);
          int hi = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
          dst[j] = (float)(lo - 16) * d;
          dst[j + 16] = (float)(hi - 16) * d;
        }
      }
      break;
    default:
      break;
  }
}

static void quantize_q8_0(const float *x, uint8_t *y, size_t n) {
  for (size_t b = 0; b < n / VM_ASR_QK; b++, x += VM_ASR_QK, y += 34) {
    float amax = 0.0f;
    for (int j = 0; j < VM_ASR_QK; j++) amax = fmaxf(amax, fabsf(x[j]));
    float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    wr16(y, vm__asr_f32_to_f16(d));
    for (int j = 0; j < VM_ASR_QK; j++) y[2 + j] = (uint8_t)(int8_t)roundf(x[j] * id);
  }
}

static void quantize_q5_0(const float *x, uint8_t *y, size_t n) {
  for (size_t b = 0; b < n / VM_ASR_QK; b++, x += VM_ASR_QK, y += 22) {
    float amax = 0.0f, max = 0.0f; /* max: the signed value of largest |x| */
    for (int j = 0; j < VM_ASR_QK; j++) {
      if (fabsf(x[j]) > amax) {
        amax = fabsf(x[j]);
        max = x[j];
      }
    }
    float d = max / -16.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    wr16(y, vm__asr_f32_to_f16(d));
    uint32_t qh = 0;
    for (int j = 0; j < 16; j++) {
      int q0 = (int)(x[j] * id + 16.5f), q1 = (int)(x[j + 16] * id + 16.5f);
      q0 = q0 < 0 ? 0 : (q0 > 31 ? 31 : q0);
      q1 = q1 < 0 ? 0 : (q1 > 31 ? 31 : q1);
      y[6 + j] = (uint8_t)((q0 & 0x0f) | ((q1 & 0x0f) << 4));
      qh |= (uint32_t)((q0 >> 4) & 1) << j;
      qh |= (uint32_t)((q1 >> 4) & 1) << (j + 16);
    }
    for (int k = 0; k < 4; k++) y[2 + k] = (uint8_t)((qh >> (8 * k)) & 0xffu);
  }
}

void vm__asr_quantize(int32_t t, const float *src, uint8_t *dst, size_t n) {
  switch (t) {
    case VM_ASR_GTYPE_F32:
      for (size_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, &src[i], 4);
        for (int k = 0; k < 4; k++) dst[4 * i + (size_t)k] = (uint8_t)(b >> (8 * k));
      }
      break;
    case VM_ASR_GTYPE_F16:
      for (size_t i = 0; i < n; i++) wr16(dst + 2 * i, vm__asr_f32_to_f16(src[i]));
      break;
    case VM_ASR_GTYPE_Q8_0: quantize_q8_0(src, dst, n); break;
    case VM_ASR_GTYPE_Q5_0: quantize_q5_0(src, dst, n); break;
    default: break;
  }
}
