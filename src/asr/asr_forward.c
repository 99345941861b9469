/* asr_forward.c — Whisper's encoder and decoder, written once against the
 * backend interface (asr_backend.h).
 *
 * DESIGN: activations are (rows, width) matrices with rows = batch x
 * positions, so every linear layer is one matrix product over all chunks
 * of a batch; only attention and the convolutions work per chunk. All
 * buffers are allocated in vm_asr_state_create() for n_batch_max chunks
 * and n_tokens_max tokens per decode call (nothing is allocated per call).
 * The KV cache holds, per decoder layer and chunk, n_text_ctx rows of
 * keys and values; the cross-attention keys/values are projected once per
 * encode. Shapes (B chunks, T = n_audio_ctx, C = n_state, N tokens, V
 * vocabulary, L decoder layers) are noted at each buffer.
 *
 * Not here: the mel front end (asr_mel.c), token rules and search. */
#include "asr_forward.h"

#include <string.h>

#include "asr_backend.h"
#include "asr_impl.h"
#include "asr_mel.h"
#include "vm_alloc.h"

struct vm_asr_state {
  const vm_asr_model *m;
  vm_asr_backend_i be;
  int n_batch_max, n_tokens_max;
  int n_seq_max;      /* KV cache slots (>= n_batch_max) */
  size_t n_dec_rows;  /* decoder activation rows: max(B*N, n_seq_max) */
  int n_batch;        /* chunks of the last encode (0: none yet) */
  int n_logit_tokens; /* tokens of the last decode */
  /* encoder, B = n_batch_max */
  float *e_x;         /* (B, T, C) residual stream, then the encoder output */
  float *e_h, *e_q, *e_k, *e_v, *e_a; /* (B, T, C) */
  float *e_mlp;       /* (B, T, 4C); also holds conv1's output (B, 2T, C) */
  float *cross_k, *cross_v; /* (L, B, T, C) */
  /* decoder */
  float *kv_k, *kv_v; /* (L, S = n_seq_max, n_text_ctx, C) */
  float *kv_tmp;      /* (S, n_text_ctx, C) scratch of vm_asr_state_kv_copy */
  float *d_x, *d_h, *d_q, *d_k, *d_v, *d_a; /* (B, N, C) */
  float *d_mlp;       /* (B, N, 4C) */
  float *logits;      /* (B, N, V), or (n_seq, V) after decode_seqs */
  size_t n_bytes;
};

static float *alloc_f(vm_asr_state *s, size_t n, int *fail) {
  float *p = vm_malloc(n * sizeof(float));
  if (!p) *fail = 1;
  s->n_bytes += n * sizeof(float);
  return p;
}

/* Offers the backend every matrix a decode step multiplies by (one token:
 * matrix-vector products that stream the weights), so it can keep a
 * faster copy (binary16 on the CPU when exact). */
static int prepare_decoder(vm_asr_state *s) {
  const vm_asr_model *m = s->m;
  const vm_asr_backend_i *be = &s->be;
  int C = m->hp.n_text_state, rc;
  for (int l = 0; l < m->hp.n_text_layer; l++) {
    const vm_asr_layer_w *w = &m->d_layers[l];
    const float *sq[] = {w->attn.q_w, w->attn.k_w, w->attn.v_w, w->attn.o_w, w->cross.q_w,
                         w->cross.o_w};
    for (size_t i = 0; i < sizeof sq / sizeof sq[0]; i++)
      if ((rc = be->prepare(be->ctx, sq[i], C, C)) != 0) return rc;
    if ((rc = be->prepare(be->ctx, w->mlp0_w, 4 * C, C)) != 0 ||
        (rc = be->prepare(be->ctx, w->mlp2_w, C, 4 * C)) != 0)
      return rc;
  }
  return be->prepare(be->ctx, m->d_tok, m->hp.n_vocab, C);
}

int vm_asr_state_create(const vm_asr_model *m, const vm_asr_state_opts *o,
                        vm_asr_state **out, vm_err *err) {
  const vm_asr_hparams *hp = &m->hp;
  int fail = 0, rc;
  *out = NULL;
  if (o->n_threads < 1 || o->n_batch_max < 1 || o->n_tokens_max < 1 ||
      o->n_tokens_max > hp->n_text_ctx)
    return vm_err_set(err, VM_EINVAL, "bad state options (threads %d, batch %d, "
                      "tokens %d)", o->n_threads, o->n_batch_max, o->n_tokens_max);
  vm_asr_state *s = vm_calloc(1, sizeof *s);
  if (!s) return vm_err_set(err, VM_ENOMEM, "out of memory");
  s->m = m;
  s->n_batch_max = o->n_batch_max;
  s->n_tokens_max = o->n_tokens_max;
  s->n_seq_max = o->n_seq_max > o->n_batch_max ? o->n_seq_max : o->n_batch_max;
  if ((rc = vm__asr_backend_init(o->device, o->n_threads, &s->be)) != 0) {
    rc = vm_err_set(err, rc, "cannot start the '%s' backend", o->device ? o->device : "cpu");
    goto fail;
  }
  size_t B = (size_t)o->n_batch_max, T = (size_t)hp->n_audio_ctx;
  size_t C = (size_t)hp->n_audio_state, L = (size_t)hp->n_text_layer;
  size_t N = (size_t)o->n_tokens_max, X = (size_t)hp->n_text_ctx, V = (size_t)hp->n_vocab;
  size_t S = (size_t)s->n_seq_max, R = B * N > S ? B * N : S;
  s->n_dec_rows = R;
  float **enc[] = {&s->e_x, &s->e_h, &s->e_q, &s->e_k, &s->e_v, &s->e_a};
  for (size_t i = 0; i < 6; i++) *enc[i] = alloc_f(s, B * T * C, &fail);
  s->e_mlp = alloc_f(s, B * T * 4 * C, &fail);
  s->cross_k = alloc_f(s, L * B * T * C, &fail);
  s->cross_v = alloc_f(s, L * B * T * C, &fail);
  s->kv_k = alloc_f(s, L * S * X * C, &fail);
  s->kv_v = alloc_f(s, L * S * X * C, &fail);
  s->kv_tmp = alloc_f(s, S * X * C, &fail);
  float **dec[] = {&s->d_x, &s->d_h, &s->d_q, &s->d_k, &s->d_v, &s->d_a};
  for (size_t i = 0; i < 6; i++) *dec[i] = alloc_f(s, R * C, &fail);
  s->d_mlp = alloc_f(s, R * 4 * C, &fail);
  s->logits = alloc_f(s, R * V, &fail);
  size_t n_kv = X > T ? X : T, n_q = N > T ? N : T;
  size_t n_cols = 2 * T * 3 * (size_t)hp->n_mels;
  if (T * C * 3 > n_cols) n_cols = T * C * 3;
  if (fail || s->be.reserve(s->be.ctx, n_q, n_kv, n_cols) != 0) {
    rc = vm_err_set(err, VM_ENOMEM, "out of memory for the model state (%zu MB)",
                    s->n_bytes >> 20);
    goto fail;
  }
  if ((rc = prepare_decoder(s)) != 0) {
    rc = vm_err_set(err, rc, "out of memory for the decoder weights");
    goto fail;
  }
  s->n_bytes += s->be.bytes(s->be.ctx);
  *out = s;
  return VM_OK;
fail:
  vm_asr_state_destroy(s);
  return rc;
}

void vm_asr_state_destroy(vm_asr_state *s) {
  if (!s) return;
  if (s->be.destroy) s->be.destroy(s->be.ctx);
  float *bufs[] = {s->e_x, s->e_h, s->e_q, s->e_k, s->e_v, s->e_a, s->e_mlp,
                   s->cross_k, s->cross_v, s->kv_k, s->kv_v, s->kv_tmp, s->d_x, s->d_h,
                   s->d_q, s->d_k, s->d_v, s->d_a, s->d_mlp, s->logits};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) vm_free(bufs[i]);
  vm_free(s);
}

size_t vm_asr_state_bytes(const vm_asr_state *s) { return s->n_bytes; }
const float *vm_asr_state_encoder_output(const vm_asr_state *s) { return s->e_x; }
const float *vm_asr_state_logits(const vm_asr_state *s) { return s->logits; }

/* x += mlp(ln(x)) over rows (rows, C); h (rows, C), mid (rows, 4C) scratch. */
static void mlp_block(vm_asr_state *s, const vm_asr_layer_w *w, int rows, int C,
                      float *x, float *h, float *mid) {
  const vm_asr_backend_i *be = &s->be;
  be->layernorm(be->ctx, rows, C, x, w->mlp_ln_w, w->mlp_ln_b, h);
  be->linear(be->ctx, rows, 4 * C, C, h, w->mlp0_w, w->mlp0_b, mid);
  be->gelu(be->ctx, (size_t)rows * 4 * (size_t)C, mid);
  be->linear(be->ctx, rows, C, 4 * C, mid, w->mlp2_w, w->mlp2_b, h);
  be->add(be->ctx, (size_t)rows * (size_t)C, x, h);
}

/* Self-attention sublayer of an encoder block over B chunks of T rows. */
static void enc_attn(vm_asr_state *s, const vm_asr_layer_w *w, int B, int T, int C) {
  const vm_asr_backend_i *be = &s->be;
  int rows = B * T, H = s->m->hp.n_audio_head;
  be->layernorm(be->ctx, rows, C, s->e_x, w->attn_ln_w, w->attn_ln_b, s->e_h);
  be->linear(be->ctx, rows, C, C, s->e_h, w->attn.q_w, w->attn.q_b, s->e_q);
  be->linear(be->ctx, rows, C, C, s->e_h, w->attn.k_w, NULL, s->e_k);
  be->linear(be->ctx, rows, C, C, s->e_h, w->attn.v_w, w->attn.v_b, s->e_v);
  size_t ld = (size_t)C, bs = (size_t)T * (size_t)C;
  vm_asr_attn_args a = {B, H, C / H, T, T, s->e_q, ld, bs, s->e_k, s->e_v, ld, bs,
                        s->e_a, ld, bs, 0, 0};
  be->attention(be->ctx, &a);
  be->linear(be->ctx, rows, C, C, s->e_a, w->attn.o_w, w->attn.o_b, s->e_h);
  be->add(be->ctx, (size_t)rows * (size_t)C, s->e_x, s->e_h);
}

/* The conv stem for chunk b: mel (n_mels, 3000) -> e_x rows (T, C). */
static void enc_stem(vm_asr_state *s, const float *mel, int b) {
  const vm_asr_model *m = s->m;
  const vm_asr_backend_i *be = &s->be;
  int T = m->hp.n_audio_ctx, C = m->hp.n_audio_state;
  float *c1 = s->e_mlp; /* (2T, C) */
  vm_asr_conv_args a1 = {m->hp.n_mels, 2 * T, C, 1, mel, VM_ASR_CHUNK_FRAMES, 1,
                         m->e_conv1_w, m->e_conv1_b, c1};
  be->conv1d(be->ctx, &a1);
  be->gelu(be->ctx, (size_t)(2 * T) * (size_t)C, c1);
  float *x = s->e_x + (size_t)b * (size_t)T * (size_t)C;
  vm_asr_conv_args a2 = {C, 2 * T, C, 2, c1, 1, (size_t)C, m->e_conv2_w, m->e_conv2_b, x};
  be->conv1d(be->ctx, &a2);
  be->gelu(be->ctx, (size_t)T * (size_t)C, x);
  be->add(be->ctx, (size_t)T * (size_t)C, x, m->e_pos);
}

int vm_asr_state_encode(vm_asr_state *s, const float *mel, int n_batch, vm_err *err) {
  const vm_asr_model *m = s->m;
  const vm_asr_backend_i *be = &s->be;
  int T = m->hp.n_audio_ctx, C = m->hp.n_audio_state, rows = n_batch * T;
  if (n_batch < 1 || n_batch > s->n_batch_max || !mel)
    return vm_err_set(err, VM_EINVAL, "bad batch size %d (1..%d)", n_batch, s->n_batch_max);
  for (int b = 0; b < n_batch; b++)
    enc_stem(s, mel + (size_t)b * (size_t)m->hp.n_mels * VM_ASR_CHUNK_FRAMES, b);
  for (int l = 0; l < m->hp.n_audio_layer; l++) {
    enc_attn(s, &m->e_layers[l], n_batch, T, C);
    mlp_block(s, &m->e_layers[l], rows, C, s->e_x, s->e_h, s->e_mlp);
  }
  be->layernorm(be->ctx, rows, C, s->e_x, m->e_ln_w, m->e_ln_b, s->e_x);
  /* Cross-attention keys/values of every decoder layer, once per chunk. */
  size_t lstride = (size_t)s->n_batch_max * (size_t)T * (size_t)C;
  for (int l = 0; l < m->hp.n_text_layer; l++) {
    const vm_asr_attn_w *w = &m->d_layers[l].cross;
    be->linear(be->ctx, rows, C, C, s->e_x, w->k_w, NULL, s->cross_k + (size_t)l * lstride);
    be->linear(be->ctx, rows, C, C, s->e_x, w->v_w, w->v_b, s->cross_v + (size_t)l * lstride);
  }
  s->n_batch = n_batch;
  s->n_logit_tokens = 0;
  return VM_OK;
}

/* Masked self-attention of decoder layer l with the KV cache. */
static void dec_self_attn(vm_asr_state *s, int l, int B, int N, int n_past) {
  const vm_asr_model *m = s->m;
  const vm_asr_backend_i *be = &s->be;
  const vm_asr_layer_w *w = &m->d_layers[l];
  int C = m->hp.n_text_state, H = m->hp.n_text_head, rows = B * N;
  size_t X = (size_t)m->hp.n_text_ctx, cs = (size_t)C;
  be->layernorm(be->ctx, rows, C, s->d_x, w->attn_ln_w, w->attn_ln_b, s->d_h);
  be->linear(be->ctx, rows, C, C, s->d_h, w->attn.q_w, w->attn.q_b, s->d_q);
  be->linear(be->ctx, rows, C, C, s->d_h, w->attn.k_w, NULL, s->d_k);
  be->linear(be->ctx, rows, C, C, s->d_h, w->attn.v_w, w->attn.v_b, s->d_v);
  float *kc = s->kv_k + (size_t)l * (size_t)s->n_seq_max * X * cs;
  float *vc = s->kv_v + (size_t)l * (size_t)s->n_seq_max * X * cs;
  for (int b = 0; b < B; b++) { /* append this call's keys/values */
    size_t dst = ((size_t)b * X + (size_t)n_past) * cs, src = (size_t)b * (size_t)N * cs;
    memcpy(kc + dst, s->d_k + src, (size_t)N * cs * sizeof(float));
    memcpy(vc + dst, s->d_v + src, (size_t)N * cs * sizeof(float));
  }
  vm_asr_attn_args a = {B, H, C / H, N, n_past + N, s->d_q, cs, (size_t)N * cs, kc, vc,
                        cs, X * cs, s->d_a, cs, (size_t)N * cs, 1, n_past};
  be->attention(be->ctx, &a);
  be->linear(be->ctx, rows, C, C, s->d_a, w->attn.o_w, w->attn.o_b, s->d_h);
  be->add(be->ctx, (size_t)rows * cs, s->d_x, s->d_h);
}

/* Cross-attention of decoder layer l over the encoder output. */
static void dec_cross_attn(vm_asr_state *s, int l, int B, int N) {
  const vm_asr_model *m = s->m;
  const vm_asr_backend_i *be = &s->be;
  const vm_asr_layer_w *w = &m->d_layers[l];
  int C = m->hp.n_text_state, H = m->hp.n_text_head, T = m->hp.n_audio_ctx, rows = B * N;
  size_t cs = (size_t)C, lstride = (size_t)s->n_batch_max * (size_t)T * cs;
  be->layernorm(be->ctx, rows, C, s->d_x, w->cross_ln_w, w->cross_ln_b, s->d_h);
  be->linear(be->ctx, rows, C, C, s->d_h, w->cross.q_w, w->cross.q_b, s->d_q);
  vm_asr_attn_args a = {B, H, C / H, N, T, s->d_q, cs, (size_t)N * cs,
                        s->cross_k + (size_t)l * lstride, s->cross_v + (size_t)l * lstride,
                        cs, (size_t)T * cs, s->d_a, cs, (size_t)N * cs, 0, 0};
  be->attention(be->ctx, &a);
  be->linear(be->ctx, rows, C, C, s->d_a, w->cross.o_w, w->cross.o_b, s->d_h);
  be->add(be->ctx, (size_t)rows * cs, s->d_x, s->d_h);
}

int vm_asr_state_decode(vm_asr_state *s, const int32_t *tokens, int n_tokens, int n_past,
                        vm_err *err) {
  const vm_asr_model *m = s->m;
  const vm_asr_backend_i *be = &s->be;
  int B = s->n_batch, N = n_tokens, C = m->hp.n_text_state, rows = B * N;
  if (B == 0) return vm_err_set(err, VM_EINVAL, "decode before encode");
  if (N < 1 || N > s->n_tokens_max || n_past < 0 || n_past + N > m->hp.n_text_ctx)
    return vm_err_set(err, VM_EINVAL, "bad decode range: %d tokens at position %d "
                      "(at most %d tokens, context %d)", N, n_past, s->n_tokens_max,
                      m->hp.n_text_ctx);
  for (int i = 0; i < rows; i++)
    if (tokens[i] < 0 || tokens[i] >= m->hp.n_vocab)
      return vm_err_set(err, VM_EINVAL, "token %d out of range", tokens[i]);
  for (int b = 0; b < B; b++)
    for (int i = 0; i < N; i++) {
      float *x = s->d_x + ((size_t)b * (size_t)N + (size_t)i) * (size_t)C;
      const float *te = m->d_tok + (size_t)tokens[b * N + i] * (size_t)C;
      const float *pe = m->d_pos + (size_t)(n_past + i) * (size_t)C;
      for (int c = 0; c < C; c++) x[c] = te[c] + pe[c];
    }
  for (int l = 0; l < m->hp.n_text_layer; l++) {
    dec_self_attn(s, l, B, N, n_past);
    dec_cross_attn(s, l, B, N);
    mlp_block(s, &m->d_layers[l], rows, C, s->d_x, s->d_h, s->d_mlp);
  }
  be->layernorm(be->ctx, rows, C, s->d_x, m->d_ln_w, m->d_ln_b, s->d_h);
  be->linear(be->ctx, rows, m->hp.n_vocab, C, s->d_h, m->d_tok, NULL, s->logits);
  s->n_logit_tokens = N;
  return VM_OK;
}

/* ---- Sequences (beams, batched decoding) --------------------------------
 * Same maths as vm_asr_state_decode, but each sequence names its KV slot
 * and its chunk, so attention runs per sequence (n_batch 1) while every
 * linear layer still runs once over all rows. */

/* Masked self-attention of layer l for n sequences of N rows each;
 * sequence i uses KV slot slot[i] (slot NULL: slot i). */
static void seq_self_attn(vm_asr_state *s, int l, int n, int N, int n_past, const int *slot) {
  const vm_asr_model *m = s->m;
  const vm_asr_backend_i *be = &s->be;
  const vm_asr_layer_w *w = &m->d_layers[l];
  int C = m->hp.n_text_state, H = m->hp.n_text_head, rows = n * N;
  size_t X = (size_t)m->hp.n_text_ctx, cs = (size_t)C, blk = (size_t)N * cs;
  be->layernorm(be->ctx, rows, C, s->d_x, w->attn_ln_w, w->attn_ln_b, s->d_h);
  be->linear(be->ctx, rows, C, C, s->d_h, w->attn.q_w, w->attn.q_b, s->d_q);
  be->linear(be->ctx, rows, C, C, s->d_h, w->attn.k_w, NULL, s->d_k);
  be->linear(be->ctx, rows, C, C, s->d_h, w->attn.v_w, w->attn.v_b, s->d_v);
  float *kc = s->kv_k + (size_t)l * (size_t)s->n_seq_max * X * cs;
  float *vc = s->kv_v + (size_t)l * (size_t)s->n_seq_max * X * cs;
  for (int i = 0; i < n; i++) {
    size_t base = (size_t)(slot ? slot[i] : i) * X * cs, src = (size_t)i * blk;
    memcpy(kc + base + (size_t)n_past * cs, s->d_k + src, blk * sizeof(float));
    memcpy(vc + base + (size_t)n_past * cs, s->d_v + src, blk * sizeof(float));
    vm_asr_attn_args a = {1, H, C / H, N, n_past + N, s->d_q + src, cs, blk, kc + base,
                          vc + base, cs, X * cs, s->d_a + src, cs, blk, 1, n_past};
    be->attention(be->ctx, &a);
  }
  be->linear(be->ctx, rows, C, C, s->d_a, w->attn.o_w, w->attn.o_b, s->d_h);
  be->add(be->ctx, (size_t)rows * cs, s->d_x, s->d_h);
}

/* Cross-attention of layer l; sequence i attends to chunk[i]. */
static void seq_cross_attn(vm_asr_state *s, int l, int n, int N, const int *chunk) {
  const vm_asr_model *m = s->m;
  const vm_asr_backend_i *be = &s->be;
  const vm_asr_layer_w *w = &m->d_layers[l];
  int C = m->hp.n_text_state, H = m->hp.n_text_head, T = m->hp.n_audio_ctx, rows = n * N;
  size_t cs = (size_t)C, blk = (size_t)N * cs, tc = (size_t)T * cs;
  size_t lstride = (size_t)s->n_batch_max * tc;
  be->layernorm(be->ctx, rows, C, s->d_x, w->cross_ln_w, w->cross_ln_b, s->d_h);
  be->linear(be->ctx, rows, C, C, s->d_h, w->cross.q_w, w->cross.q_b, s->d_q);
  for (int i = 0; i < n; i++) {
    size_t src = (size_t)i * blk, kv = (size_t)l * lstride + (size_t)chunk[i] * tc;
    vm_asr_attn_args a = {1, H, C / H, N, T, s->d_q + src, cs, blk, s->cross_k + kv,
                          s->cross_v + kv, cs, tc, s->d_a + src, cs, blk, 0, 0};
    be->attention(be->ctx, &a);
  }
  be->linear(be->ctx, rows, C, C, s->d_a, w->cross.o_w, w->cross.o_b, s->d_h);
  be->add(be->ctx, (size_t)rows * cs, s->d_x, s->d_h);
}

static int seq_args_check(const vm_asr_state *s, int n_seq, int n_tokens, int n_past,
                          const int *chunk, const int *slot, vm_err *err) {
  const vm_asr_hparams *hp = &s->m->hp;
  if (s->n_batch == 0) return vm_err_set(err, VM_EINVAL, "decode before encode");
  if (n_seq < 1 || n_seq > s->n_seq_max || n_tokens < 1 || n_tokens > s->n_tokens_max ||
      (size_t)n_seq * (size_t)n_tokens > s->n_dec_rows || n_past < 0 ||
      n_past + n_tokens > hp->n_text_ctx)
    return vm_err_set(err, VM_EINVAL, "bad decode: %d sequences (at most %d) of %d tokens "
                      "at position %d (context %d)", n_seq, s->n_seq_max, n_tokens, n_past,
                      hp->n_text_ctx);
  for (int i = 0; i < n_seq; i++) {
    int sl = slot ? slot[i] : i;
    if (!chunk || chunk[i] < 0 || chunk[i] >= s->n_batch)
      return vm_err_set(err, VM_EINVAL, "sequence %d: bad chunk index", i);
    if (sl < 0 || sl >= s->n_seq_max)
      return vm_err_set(err, VM_EINVAL, "sequence %d: bad KV slot %d", i, sl);
    for (int j = 0; j < i; j++)
      if ((slot ? slot[j] : j) == sl)
        return vm_err_set(err, VM_EINVAL, "KV slot %d used twice", sl);
  }
  return VM_OK;
}

int vm_asr_state_decode_seqs(vm_asr_state *s, int n_seq, const int32_t *tokens, int n_tokens,
                             int n_past, const int *seq_chunk, const int *seq_slot,
                             vm_err *err) {
  const vm_asr_model *m = s->m;
  const vm_asr_backend_i *be = &s->be;
  int N = n_tokens, C = m->hp.n_text_state, rows = n_seq * N, rc;
  if ((rc = seq_args_check(s, n_seq, n_tokens, n_past, seq_chunk, seq_slot, err)) != 0)
    return rc;
  for (int i = 0; i < rows; i++)
    if (tokens[i] < 0 || tokens[i] >= m->hp.n_vocab)
      return vm_err_set(err, VM_EINVAL, "token %d out of range", tokens[i]);
  for (int r = 0; r < rows; r++) {
    float *x = s->d_x + (size_t)r * (size_t)C;
    const float *te = m->d_tok + (size_t)tokens[r] * (size_t)C;
    const float *pe = m->d_pos + (size_t)(n_past + r % N) * (size_t)C;
    for (int c = 0; c < C; c++) x[c] = te[c] + pe[c];
  }
  for (int l = 0; l < m->hp.n_text_layer; l++) {
    seq_self_attn(s, l, n_seq, N, n_past, seq_slot);
    seq_cross_attn(s, l, n_seq, N, seq_chunk);
    mlp_block(s, &m->d_layers[l], rows, C, s->d_x, s->d_h, s->d_mlp);
  }
  for (int i = 0; i < n_seq; i++) /* the last row of each sequence only */
    be->layernorm(be->ctx, 1, C, s->d_x + ((size_t)i * (size_t)N + (size_t)(N - 1)) * (size_t)C,
                  m->d_ln_w, m->d_ln_b, s->d_h + (size_t)i * (size_t)C);
  be->linear(be->ctx, n_seq, m->hp.n_vocab, C, s->d_h, m->d_tok, NULL, s->logits);
  s->n_logit_tokens = 1;
  return VM_OK;
}

const float *vm_asr_state_seq_logits(const vm_asr_state *s) { return s->logits; }

int vm_asr_state_kv_copy(vm_asr_state *s, int n, const int *dst_slot, const int *src_slot,
                         int n_pos, vm_err *err) {
  const vm_asr_hparams *hp = &s->m->hp;
  size_t X = (size_t)hp->n_text_ctx, cs = (size_t)hp->n_text_state;
  if (n < 0 || n > s->n_seq_max || n_pos < 0 || n_pos > hp->n_text_ctx)
    return vm_err_set(err, VM_EINVAL, "bad KV copy (%d slots, %d positions)", n, n_pos);
  for (int i = 0; i < n; i++)
    if (dst_slot[i] < 0 || dst_slot[i] >= s->n_seq_max || src_slot[i] < 0 ||
        src_slot[i] >= s->n_seq_max)
      return vm_err_set(err, VM_EINVAL, "bad KV slot in copy %d", i);
  size_t blk = (size_t)n_pos * cs;
  float *caches[2] = {s->kv_k, s->kv_v};
  for (int l = 0; l < hp->n_text_layer; l++)
    for (int c = 0; c < 2; c++) {
      float *kc = caches[c] + (size_t)l * (size_t)s->n_seq_max * X * cs;
      for (int i = 0; i < n; i++) /* gather every source first */
        memcpy(s->kv_tmp + (size_t)i * blk, kc + (size_t)src_slot[i] * X * cs,
               blk * sizeof(float));
      for (int i = 0; i < n; i++)
        memcpy(kc + (size_t)dst_slot[i] * X * cs, s->kv_tmp + (size_t)i * blk,
               blk * sizeof(float));
    }
  return VM_OK;
}
