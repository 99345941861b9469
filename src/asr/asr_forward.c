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
 * Memory: every activation and cache is backend memory (mem_alloc), and
 * the ops get the backend's copy of each weight (a mirror of the model's
 * weight table, filled by weight() at creation: the model's own pointers
 * on the CPU, device copies on CUDA). Host data crosses in three named
 * places only: the mel of each chunk (uploaded), the token + position
 * embeddings (gathered on the host, uploaded), and the results (logits
 * downloaded after each decode, the encoder output on request). With a
 * host-memory backend (CPU) none of these copies happens: the gather
 * writes the activations directly and the getters return the buffers.
 * A backend failure (CUDA) is sticky; every entry point ends by asking
 * the backend's status, so it surfaces as VM_ENOMEM or VM_EGPU there.
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
  vm_asr_model *w;    /* m's weight table with the backend's copies (NULL:
                         not built); only weight pointers and hp are set */
  vm_asr_backend_i be;
  int n_batch_max, n_tokens_max;
  int n_seq_max;      /* KV cache slots (>= n_batch_max) */
  size_t n_dec_rows;  /* decoder activation rows: max(B*N, n_seq_max) */
  int n_batch;        /* chunks of the last encode (0: none yet) */
  int n_logit_tokens; /* tokens of the last decode */
  /* backend memory; encoder, B = n_batch_max */
  float *e_x;         /* (B, T, C) residual stream, then the encoder output */
  float *e_h, *e_q, *e_k, *e_v, *e_a; /* (B, T, C) */
  float *e_mlp;       /* (B, T, 4C); also holds conv1's output (B, 2T, C) */
  float *e_mel;       /* (n_mels, 3000) one uploaded chunk (NULL on host_mem) */
  float *cross_k, *cross_v; /* (L, B, T, C) */
  /* decoder */
  float *kv_k, *kv_v; /* (L, S = n_seq_max, n_text_ctx, C) */
  float *kv_tmp;      /* (S, n_text_ctx, C) scratch of vm_asr_state_kv_copy */
  float *d_x, *d_h, *d_q, *d_k, *d_v, *d_a; /* (B, N, C) */
  float *d_mlp;       /* (B, N, 4C) */
  float *logits;      /* (B, N, V), or (n_seq, V) after decode_seqs */
  /* host memory (all NULL on a host_mem backend) */
  float *stage;       /* (R, C) embeddings gathered for upload */
  float *logits_host; /* (R, V) downloaded logits */
  float *enc_host;    /* (B, T, C) downloaded encoder output */
  int enc_host_valid; /* enc_host holds the last encode's output */
  const float *logits_view; /* what the logits getters return */
  size_t n_bytes;     /* host bytes of the state; + be.bytes() at creation */
};

static float *alloc_dev(vm_asr_state *s, size_t n, int *fail) {
  float *p = s->be.mem_alloc(s->be.ctx, n);
  if (!p) *fail = 1;
  return p;
}

static float *alloc_host(vm_asr_state *s, size_t n, int *fail) {
  float *p = vm_malloc(n * sizeof(float));
  if (!p) *fail = 1;
  s->n_bytes += n * sizeof(float);
  return p;
}

/* The backend's sticky status at the end of an entry point: VM_OK, or its
 * VM_ENOMEM / VM_EGPU with the backend's message in err. */
static int be_check(vm_asr_state *s, vm_err *err) {
  return s->be.status(s->be.ctx, err);
}

/* Fills s->w: the model's weight table with every pointer replaced by the
 * backend's copy (uploads every weight to a device once). Returns VM_OK
 * or VM_ENOMEM. */
static int mirror_weights(vm_asr_state *s) {
  const vm_asr_model *m = s->m;
  size_t na = (size_t)m->hp.n_audio_layer, nt = (size_t)m->hp.n_text_layer;
  vm_asr_tdesc *tab = NULL;
  size_t n_tab = 0;
  vm_asr_model *w = vm_calloc(1, sizeof *w);
  if (!w) return VM_ENOMEM;
  s->w = w;
  w->hp = m->hp;
  w->e_layers = vm_malloc((na ? na : 1) * sizeof *w->e_layers);
  w->d_layers = vm_malloc((nt ? nt : 1) * sizeof *w->d_layers);
  if (!w->e_layers || !w->d_layers) return VM_ENOMEM;
  /* the table's slots point into w; give them the host pointers first */
  memcpy(w->e_layers, m->e_layers, na * sizeof *w->e_layers);
  memcpy(w->d_layers, m->d_layers, nt * sizeof *w->d_layers);
  w->e_pos = m->e_pos;
  w->e_conv1_w = m->e_conv1_w, w->e_conv1_b = m->e_conv1_b;
  w->e_conv2_w = m->e_conv2_w, w->e_conv2_b = m->e_conv2_b;
  w->e_ln_w = m->e_ln_w, w->e_ln_b = m->e_ln_b;
  w->d_pos = m->d_pos, w->d_tok = m->d_tok;
  w->d_ln_w = m->d_ln_w, w->d_ln_b = m->d_ln_b;
  int rc = vm__asr_tensor_table(&m->hp, w, &tab, &n_tab);
  for (size_t i = 0; rc == VM_OK && i < n_tab; i++) {
    size_t n = (size_t)tab[i].ne[0] * (size_t)tab[i].ne[1] * (size_t)tab[i].ne[2];
    float *d = s->be.weight(s->be.ctx, *tab[i].slot, n);
    if (!d) rc = VM_ENOMEM;
    *tab[i].slot = d;
  }
  vm_free(tab);
  return rc;
}

/* Offers the backend every matrix a decode step multiplies by (one token:
 * matrix-vector products that stream the weights), so it can keep a
 * faster copy (binary16 on the CPU when exact). */
static int prepare_decoder(vm_asr_state *s) {
  const vm_asr_model *m = s->w;
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

/* Allocates every buffer of the state (struct comment); sets *fail on any
 * failure. */
static void alloc_buffers(vm_asr_state *s, int *fail) {
  const vm_asr_hparams *hp = &s->m->hp;
  size_t B = (size_t)s->n_batch_max, T = (size_t)hp->n_audio_ctx;
  size_t C = (size_t)hp->n_audio_state, L = (size_t)hp->n_text_layer;
  size_t N = (size_t)s->n_tokens_max, X = (size_t)hp->n_text_ctx, V = (size_t)hp->n_vocab;
  size_t S = (size_t)s->n_seq_max, R = B * N > S ? B * N : S;
  s->n_dec_rows = R;
  float **enc[] = {&s->e_x, &s->e_h, &s->e_q, &s->e_k, &s->e_v, &s->e_a};
  for (size_t i = 0; i < 6; i++) *enc[i] = alloc_dev(s, B * T * C, fail);
  s->e_mlp = alloc_dev(s, B * T * 4 * C, fail);
  s->cross_k = alloc_dev(s, L * B * T * C, fail);
  s->cross_v = alloc_dev(s, L * B * T * C, fail);
  s->kv_k = alloc_dev(s, L * S * X * C, fail);
  s->kv_v = alloc_dev(s, L * S * X * C, fail);
  s->kv_tmp = alloc_dev(s, S * X * C, fail);
  float **dec[] = {&s->d_x, &s->d_h, &s->d_q, &s->d_k, &s->d_v, &s->d_a};
  for (size_t i = 0; i < 6; i++) *dec[i] = alloc_dev(s, R * C, fail);
  s->d_mlp = alloc_dev(s, R * 4 * C, fail);
  s->logits = alloc_dev(s, R * V, fail);
  s->logits_view = s->logits;
  if (s->be.host_mem || *fail) return;
  s->e_mel = alloc_dev(s, (size_t)hp->n_mels * VM_ASR_CHUNK_FRAMES, fail);
  s->stage = alloc_host(s, R * C, fail);
  s->logits_host = alloc_host(s, R * V, fail);
  s->enc_host = alloc_host(s, B * T * C, fail);
  s->logits_view = s->logits_host;
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
  if ((rc = vm__asr_backend_init(o->device, o->n_threads, &s->be, err)) != 0) goto fail;
  if ((rc = mirror_weights(s)) != 0) {
    if ((rc = be_check(s, err)) == VM_OK)
      rc = vm_err_set(err, VM_ENOMEM, "out of memory for the model weights");
    goto fail;
  }
  alloc_buffers(s, &fail);
  size_t T = (size_t)hp->n_audio_ctx, C = (size_t)hp->n_audio_state;
  size_t N = (size_t)o->n_tokens_max, X = (size_t)hp->n_text_ctx;
  size_t n_kv = X > T ? X : T, n_q = N > T ? N : T;
  size_t n_cols = 2 * T * 3 * (size_t)hp->n_mels;
  if (T * C * 3 > n_cols) n_cols = T * C * 3;
  if (fail || s->be.reserve(s->be.ctx, n_q, n_kv, n_cols) != 0) {
    if ((rc = be_check(s, err)) == VM_OK)
      rc = vm_err_set(err, VM_ENOMEM, "out of memory for the model state (%zu MB)",
                      (s->n_bytes + s->be.bytes(s->be.ctx)) >> 20);
    goto fail;
  }
  if ((rc = prepare_decoder(s)) != 0) {
    rc = vm_err_set(err, rc, "out of memory for the decoder weights");
    goto fail;
  }
  if ((rc = be_check(s, err)) != VM_OK) goto fail;
  s->n_bytes += s->be.bytes(s->be.ctx);
  *out = s;
  return VM_OK;
fail:
  vm_asr_state_destroy(s);
  return rc;
}

void vm_asr_state_destroy(vm_asr_state *s) {
  if (!s) return;
  if (s->be.mem_free) {
    float *bufs[] = {s->e_x, s->e_h, s->e_q, s->e_k, s->e_v, s->e_a, s->e_mlp, s->e_mel,
                     s->cross_k, s->cross_v, s->kv_k, s->kv_v, s->kv_tmp, s->d_x, s->d_h,
                     s->d_q, s->d_k, s->d_v, s->d_a, s->d_mlp, s->logits};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) s->be.mem_free(s->be.ctx, bufs[i]);
  }
  if (s->be.destroy) s->be.destroy(s->be.ctx);
  vm_free(s->stage);
  vm_free(s->logits_host);
  vm_free(s->enc_host);
  if (s->w) {
    vm_free(s->w->e_layers);
    vm_free(s->w->d_layers);
    vm_free(s->w);
  }
  vm_free(s);
}

size_t vm_asr_state_bytes(const vm_asr_state *s) { return s->n_bytes; }
struct vm_asr_pool *vm__asr_state_pool(const vm_asr_state *s) { return s->be.pool; }

/* The host copy is made on the first call after an encode (a const getter
 * that fills a cache: the state is used by one thread, see the header). */
const float *vm_asr_state_encoder_output(const vm_asr_state *cs) {
  vm_asr_state *s = (vm_asr_state *)(uintptr_t)cs;
  const vm_asr_hparams *hp = &s->m->hp;
  if (s->be.host_mem) return s->e_x;
  if (!s->enc_host_valid && s->n_batch > 0) {
    size_t n = (size_t)s->n_batch * (size_t)hp->n_audio_ctx * (size_t)hp->n_audio_state;
    s->be.download(s->be.ctx, s->enc_host, s->e_x, n);
    if (s->be.status(s->be.ctx, NULL) != VM_OK) return NULL;
    s->enc_host_valid = 1;
  }
  return s->enc_host;
}

const float *vm_asr_state_logits(const vm_asr_state *s) { return s->logits_view; }

/* Makes the first n_rows rows of logits readable on the host (a download
 * unless the backend's memory is host memory) and reports the backend's
 * status. */
static int logits_finish(vm_asr_state *s, size_t n_rows, vm_err *err) {
  if (!s->be.host_mem)
    s->be.download(s->be.ctx, s->logits_host, s->logits, n_rows * (size_t)s->m->hp.n_vocab);
  return be_check(s, err);
}

/* Writes token + position embeddings of rows (rows, C) into the decoder's
 * input: row r has token tokens[r] at position n_past + r % N. Gathered on
 * the host from the model's own tables, then uploaded (written in place on
 * a host_mem backend). */
static void embed_tokens(vm_asr_state *s, const int32_t *tokens, int rows, int N, int n_past) {
  const vm_asr_model *m = s->m;
  size_t C = (size_t)m->hp.n_text_state;
  float *dst = s->be.host_mem ? s->d_x : s->stage;
  for (int r = 0; r < rows; r++) {
    float *x = dst + (size_t)r * C;
    const float *te = m->d_tok + (size_t)tokens[r] * C;
    const float *pe = m->d_pos + (size_t)(n_past + r % N) * C;
    for (size_t c = 0; c < C; c++) x[c] = te[c] + pe[c];
  }
  if (!s->be.host_mem) s->be.upload(s->be.ctx, s->d_x, s->stage, (size_t)rows * C);
}

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
                        s->e_a, ld, bs, 0, 0, NULL};
  be->attention(be->ctx, &a);
  be->linear(be->ctx, rows, C, C, s->e_a, w->attn.o_w, w->attn.o_b, s->e_h);
  be->add(be->ctx, (size_t)rows * (size_t)C, s->e_x, s->e_h);
}

/* The conv stem for chunk b: mel (n_mels, 3000) -> e_x rows (T, C). */
static void enc_stem(vm_asr_state *s, const float *mel, int b) {
  const vm_asr_model *m = s->w;
  const vm_asr_backend_i *be = &s->be;
  int T = m->hp.n_audio_ctx, C = m->hp.n_audio_state;
  float *c1 = s->e_mlp; /* (2T, C) */
  if (!be->host_mem) {
    be->upload(be->ctx, s->e_mel, mel, (size_t)m->hp.n_mels * VM_ASR_CHUNK_FRAMES);
    mel = s->e_mel;
  }
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
  const vm_asr_model *m = s->w;
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
  s->enc_host_valid = 0;
  return be_check(s, err);
}

/* Masked self-attention of decoder layer l with the KV cache. */
static void dec_self_attn(vm_asr_state *s, int l, int B, int N, int n_past) {
  const vm_asr_model *m = s->w;
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
  size_t blk = (size_t)N * cs; /* append this call's keys/values */
  be->copy_items(be->ctx, B, kc + (size_t)n_past * cs, NULL, X * cs, s->d_k, NULL, blk, blk);
  be->copy_items(be->ctx, B, vc + (size_t)n_past * cs, NULL, X * cs, s->d_v, NULL, blk, blk);
  vm_asr_attn_args a = {B, H, C / H, N, n_past + N, s->d_q, cs, blk, kc, vc,
                        cs, X * cs, s->d_a, cs, blk, 1, n_past, NULL};
  be->attention(be->ctx, &a);
  be->linear(be->ctx, rows, C, C, s->d_a, w->attn.o_w, w->attn.o_b, s->d_h);
  be->add(be->ctx, (size_t)rows * cs, s->d_x, s->d_h);
}

/* Cross-attention of decoder layer l over the encoder output. */
static void dec_cross_attn(vm_asr_state *s, int l, int B, int N) {
  const vm_asr_model *m = s->w;
  const vm_asr_backend_i *be = &s->be;
  const vm_asr_layer_w *w = &m->d_layers[l];
  int C = m->hp.n_text_state, H = m->hp.n_text_head, T = m->hp.n_audio_ctx, rows = B * N;
  size_t cs = (size_t)C, lstride = (size_t)s->n_batch_max * (size_t)T * cs;
  be->layernorm(be->ctx, rows, C, s->d_x, w->cross_ln_w, w->cross_ln_b, s->d_h);
  be->linear(be->ctx, rows, C, C, s->d_h, w->cross.q_w, w->cross.q_b, s->d_q);
  vm_asr_attn_args a = {B, H, C / H, N, T, s->d_q, cs, (size_t)N * cs,
                        s->cross_k + (size_t)l * lstride, s->cross_v + (size_t)l * lstride,
                        cs, (size_t)T * cs, s->d_a, cs, (size_t)N * cs, 0, 0, NULL};
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
  embed_tokens(s, tokens, rows, N, n_past);
  const vm_asr_model *w = s->w;
  for (int l = 0; l < m->hp.n_text_layer; l++) {
    dec_self_attn(s, l, B, N, n_past);
    dec_cross_attn(s, l, B, N);
    mlp_block(s, &w->d_layers[l], rows, C, s->d_x, s->d_h, s->d_mlp);
  }
  be->layernorm(be->ctx, rows, C, s->d_x, w->d_ln_w, w->d_ln_b, s->d_h);
  be->linear(be->ctx, rows, m->hp.n_vocab, C, s->d_h, w->d_tok, NULL, s->logits);
  s->n_logit_tokens = N;
  return logits_finish(s, (size_t)rows, err);
}

/* ---- Sequences (beams, batched decoding) --------------------------------
 * Same maths as vm_asr_state_decode, but each sequence names its KV slot
 * and its chunk: the attention calls take them as kv_item (one call for
 * all sequences), and every linear layer runs once over all rows. */

/* Masked self-attention of layer l for n sequences of N rows each;
 * sequence i uses KV slot slot[i] (slot NULL: slot i). */
static void seq_self_attn(vm_asr_state *s, int l, int n, int N, int n_past, const int *slot) {
  const vm_asr_model *m = s->w;
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
  be->copy_items(be->ctx, n, kc + (size_t)n_past * cs, slot, X * cs, s->d_k, NULL, blk, blk);
  be->copy_items(be->ctx, n, vc + (size_t)n_past * cs, slot, X * cs, s->d_v, NULL, blk, blk);
  vm_asr_attn_args a = {n, H, C / H, N, n_past + N, s->d_q, cs, blk, kc, vc, cs, X * cs,
                        s->d_a, cs, blk, 1, n_past, slot};
  be->attention(be->ctx, &a);
  be->linear(be->ctx, rows, C, C, s->d_a, w->attn.o_w, w->attn.o_b, s->d_h);
  be->add(be->ctx, (size_t)rows * cs, s->d_x, s->d_h);
}

/* Cross-attention of layer l; sequence i attends to chunk[i]. */
static void seq_cross_attn(vm_asr_state *s, int l, int n, int N, const int *chunk) {
  const vm_asr_model *m = s->w;
  const vm_asr_backend_i *be = &s->be;
  const vm_asr_layer_w *w = &m->d_layers[l];
  int C = m->hp.n_text_state, H = m->hp.n_text_head, T = m->hp.n_audio_ctx, rows = n * N;
  size_t cs = (size_t)C, blk = (size_t)N * cs, tc = (size_t)T * cs;
  size_t lstride = (size_t)s->n_batch_max * tc;
  be->layernorm(be->ctx, rows, C, s->d_x, w->cross_ln_w, w->cross_ln_b, s->d_h);
  be->linear(be->ctx, rows, C, C, s->d_h, w->cross.q_w, w->cross.q_b, s->d_q);
  vm_asr_attn_args a = {n, H, C / H, N, T, s->d_q, cs, blk, s->cross_k + (size_t)l * lstride,
                        s->cross_v + (size_t)l * lstride, cs, tc, s->d_a, cs, blk, 0, 0, chunk};
  be->attention(be->ctx, &a);
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
  embed_tokens(s, tokens, rows, N, n_past);
  const vm_asr_model *w = s->w;
  for (int l = 0; l < m->hp.n_text_layer; l++) {
    seq_self_attn(s, l, n_seq, N, n_past, seq_slot);
    seq_cross_attn(s, l, n_seq, N, seq_chunk);
    mlp_block(s, &w->d_layers[l], rows, C, s->d_x, s->d_h, s->d_mlp);
  }
  for (int i = 0; i < n_seq; i++) /* the last row of each sequence only */
    be->layernorm(be->ctx, 1, C, s->d_x + ((size_t)i * (size_t)N + (size_t)(N - 1)) * (size_t)C,
                  w->d_ln_w, w->d_ln_b, s->d_h + (size_t)i * (size_t)C);
  be->linear(be->ctx, n_seq, m->hp.n_vocab, C, s->d_h, w->d_tok, NULL, s->logits);
  s->n_logit_tokens = 1;
  return logits_finish(s, (size_t)n_seq, err);
}

const float *vm_asr_state_seq_logits(const vm_asr_state *s) { return s->logits_view; }

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
      /* gather every source first (a slot may be both source and target) */
      s->be.copy_items(s->be.ctx, n, s->kv_tmp, NULL, blk, kc, src_slot, X * cs, blk);
      s->be.copy_items(s->be.ctx, n, kc, dst_slot, X * cs, s->kv_tmp, NULL, blk, blk);
    }
  return be_check(s, err);
}
