/* asr_impl.h — definitions shared inside asr/ only: the model's weights
 * and the table of tensors that a Whisper model file must contain.
 *
 * Weight layout: every weight is f32, row-major in ggml's sense: ne[0] is
 * the contiguous (innermost) dimension. A linear layer of torch shape
 * (n_out, n_in) is therefore n_out rows of n_in floats, and y = x W^T + b.
 * Conv kernels are (n_out, n_in, 3), the 3 taps contiguous. */
#ifndef VM_ASR_IMPL_H
#define VM_ASR_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "asr_model.h"

typedef struct vm_asr_attn_w {
  float *q_w, *q_b; /* (n_state, n_state), (n_state) */
  float *k_w;       /* (n_state, n_state); Whisper's key has no bias */
  float *v_w, *v_b;
  float *o_w, *o_b;
} vm_asr_attn_w;

typedef struct vm_asr_layer_w {
  float *attn_ln_w, *attn_ln_b; /* (n_state) */
  vm_asr_attn_w attn;           /* self-attention */
  float *cross_ln_w, *cross_ln_b; /* decoder only, else NULL */
  vm_asr_attn_w cross;            /* decoder only */
  float *mlp_ln_w, *mlp_ln_b;
  float *mlp0_w, *mlp0_b; /* (4 n_state, n_state), (4 n_state) */
  float *mlp2_w, *mlp2_b; /* (n_state, 4 n_state), (n_state) */
} vm_asr_layer_w;

struct vm_asr_model {
  vm_asr_hparams hp;
  vm_asr_special sp;
  float *mel_filters;      /* (n_mels, 201) */
  int32_t n_vocab_stored;  /* token strings in the file */
  uint8_t *vocab_bytes;    /* all token strings back to back */
  uint32_t *vocab_off;     /* (n_vocab_stored + 1) offsets into vocab_bytes */

  float *e_pos;            /* (n_audio_ctx, n_audio_state) */
  float *e_conv1_w, *e_conv1_b; /* (n_audio_state, n_mels, 3), (n_audio_state) */
  float *e_conv2_w, *e_conv2_b; /* (n_audio_state, n_audio_state, 3), (..) */
  vm_asr_layer_w *e_layers;     /* n_audio_layer */
  float *e_ln_w, *e_ln_b;       /* ln_post */

  float *d_pos;            /* (n_text_ctx, n_text_state) */
  float *d_tok;            /* (n_vocab, n_text_state); also the output head */
  vm_asr_layer_w *d_layers;/* n_text_layer */
  float *d_ln_w, *d_ln_b;

  float *weights;          /* owns every weight above */
  size_t n_params;
  size_t n_bytes;
  int32_t n_tensors_of_type[9];
};

/* One tensor a model file must contain. */
typedef struct vm_asr_tdesc {
  char name[64];
  int32_t n_dims;
  int64_t ne[3];  /* ggml order: ne[0] innermost; unused dims 1 */
  float **slot;   /* where the loader stores the tensor (NULL if no model) */
} vm_asr_tdesc;

/* Builds the tensor table for hp. If m is not NULL, m->e_layers and
 * m->d_layers must be allocated and each entry's slot points into m.
 * OUT: *out (vm_free), *out_n. Returns VM_OK or VM_ENOMEM. */
int vm__asr_tensor_table(const vm_asr_hparams *hp, vm_asr_model *m,
                         vm_asr_tdesc **out, size_t *out_n);

/* Checks hyper-parameters against what we support (VM_EMODEL + message). */
int vm__asr_hparams_check(const vm_asr_hparams *hp, vm_err *err);

/* Special tokens for n_vocab (see vm_asr_special). */
void vm__asr_special_init(int32_t n_vocab, vm_asr_special *out);

/* Whisper's mel filter bank (librosa's Slaney-normalised filters, fmin 0,
 * fmax 8 kHz, n_fft 400 at 16 kHz) into out (n_mels, 201). */
void vm__asr_mel_filters_compute(int32_t n_mels, float *out);

#endif /* VM_ASR_IMPL_H */
