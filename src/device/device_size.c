/* device_size.c — how much memory one 30 s chunk needs, and how many fit.
 *
 * The estimate follows the engine's data flow, from the model dimensions,
 * never from a guessed constant. With p = bytes per element (precision),
 * A = n_audio_ctx, Sa = n_audio_state, T = n_text_ctx, St = n_text_state,
 * Ha/Ht heads, Lt = n_text_layer, V = n_vocab, B = beams:
 *   mel        n_mels * 2A * 4                     (f32 input)
 *   encoder    p * 2A * Sa                         (conv1 output)
 *            + p * 10 * A * Sa                     (x, norm, q, k, v, attn, 4*Sa MLP)
 *            + 4 * Ha * A * A                      (f32 attention scores, one layer)
 *   decoder    p * 10 * T * St + 4 * Ht * T * (T + A)   (prefill, self + cross scores)
 *   cross K/V  2 * Lt * A * St * p                 (once per chunk, shared by beams)
 *   self K/V   2 * Lt * T * St * p                 (per beam)
 *   logits     2 * V * 4                           (per beam: logits + log-probs)
 *   chunk = mel + max(encoder, decoder) + cross K/V + B * (self K/V + logits)
 * Encoder and decoder scratch are not alive together, hence the max. Layers
 * run one after another, so activations count one layer; K/V count all.
 */
#include <math.h>
#include <string.h>

#include "device.h"

typedef struct preset {
  const char *name;
  vm_device_model_dims d;
} preset;

/* Published Whisper dimensions (n_vocab, audio ctx/state/head/layer,
 * text ctx/state/head/layer, n_mels). */
static const preset presets[] = {
    {"tiny", {51865, 1500, 384, 6, 4, 448, 384, 6, 4, 80}},
    {"base", {51865, 1500, 512, 8, 6, 448, 512, 8, 6, 80}},
    {"small", {51865, 1500, 768, 12, 12, 448, 768, 12, 12, 80}},
    {"medium", {51865, 1500, 1024, 16, 24, 448, 1024, 16, 24, 80}},
    {"large-v3", {51866, 1500, 1280, 20, 32, 448, 1280, 20, 32, 128}},
    {"large", {51866, 1500, 1280, 20, 32, 448, 1280, 20, 32, 128}},
};

int vm_device_model_dims_preset(const char *name, vm_device_model_dims *out) {
  for (size_t i = 0; name && i < sizeof(presets) / sizeof(presets[0]); i++) {
    if (strcmp(presets[i].name, name) == 0) {
      *out = presets[i].d;
      return VM_OK;
    }
  }
  memset(out, 0, sizeof(*out));
  return VM_EINVAL;
}

int64_t vm_device_model_bytes(const vm_device_model_dims *m,
                              enum vm_device_precision prec) {
  int64_t sa = m->n_audio_state, st = m->n_text_state;
  /* encoder: two convs (kernel 3), positions, per layer attention 4*Sa^2 +
   * MLP 8*Sa^2 + biases and norms ~13*Sa, final norm */
  int64_t enc = (int64_t)m->n_mels * sa * 3 + sa * sa * 3 + 2 * sa +
                (int64_t)m->n_audio_ctx * sa +
                m->n_audio_layer * (12 * sa * sa + 13 * sa) + 2 * sa;
  /* decoder: token embedding, positions, per layer self 4*St^2 + cross
   * 4*St^2 + MLP 8*St^2 + biases and norms ~20*St, final norm */
  int64_t dec = (int64_t)m->n_vocab * st + (int64_t)m->n_text_ctx * st +
                m->n_text_layer * (16 * st * st + 20 * st) + 2 * st;
  return (enc + dec) * (int64_t)prec;
}

int64_t vm_device_chunk_bytes(const vm_device_model_dims *m,
                              enum vm_device_precision prec, int n_beams) {
  int64_t p = (int64_t)prec, a = m->n_audio_ctx, sa = m->n_audio_state;
  int64_t t = m->n_text_ctx, st = m->n_text_state;
  int64_t b = n_beams > 0 ? n_beams : 1;
  int64_t mel = (int64_t)m->n_mels * 2 * a * 4;
  int64_t enc = p * 2 * a * sa + p * 10 * a * sa +
                4 * (int64_t)m->n_audio_head * a * a;
  int64_t dec = p * 10 * t * st + 4 * (int64_t)m->n_text_head * t * (t + a);
  int64_t cross_kv = 2 * (int64_t)m->n_text_layer * a * st * p;
  int64_t self_kv = 2 * (int64_t)m->n_text_layer * t * st * p;
  int64_t logits = 2 * (int64_t)m->n_vocab * 4;
  return mel + (enc > dec ? enc : dec) + cross_kv + b * (self_kv + logits);
}

void vm_device_batch_limits_default(vm_device_batch_limits *out) {
  out->mem_fraction = 0.9;
  out->min_batch = 1;
  out->max_batch = 16;
}

int vm_device_batch_size(int64_t free_bytes, int64_t chunk_bytes,
                         const vm_device_batch_limits *lim, int *out_n) {
  *out_n = 1;
  if (!lim || chunk_bytes <= 0 || !(lim->mem_fraction > 0.0) ||
      lim->mem_fraction > 1.0 || lim->min_batch < 1 ||
      lim->max_batch < lim->min_batch)
    return VM_EINVAL;
  double fit = free_bytes > 0
                   ? floor((double)free_bytes * lim->mem_fraction /
                           (double)chunk_bytes)
                   : 0.0;
  int n = fit > (double)lim->max_batch ? lim->max_batch : (int)fit;
  *out_n = n < lim->min_batch ? lim->min_batch : n;
  return n < 1 ? VM_ENOMEM : VM_OK;
}
