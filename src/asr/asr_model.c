/* asr_model.c — loading and validating whisper.cpp ggml model files.
 *
 * DESIGN: the whole file is mapped (or given in memory) and parsed with a
 * bounds-checked cursor: every read names what it reads, so a truncated or
 * corrupt file fails with VM_EMODEL and a message like "truncated at byte
 * 1234 reading tensor 'decoder.ln.bias'". The hyper-parameters fix the
 * exact set of tensors and their shapes (vm__asr_tensor_table); each
 * tensor in the file must be one of them, appear once, have that shape
 * and a supported type, and all must be present. Before the weight buffer
 * is allocated its size is checked against the bytes left in the file, so
 * absurd hyper-parameters cannot make us allocate gigabytes. Weights are
 * dequantised to f32 into one allocation; the mapping is dropped after
 * loading.
 *
 * Not here: writing models (asr_model_write.c), token text
 * (asr_tokenizer.c), any maths on the weights. */
#include "asr_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asr_ggml.h"
#include "vm_alloc.h"

#define MAX_STATE 8192
#define MAX_LAYERS 256
#define MAX_TEXT_CTX 4096
#define MAX_TOKEN_BYTES 1024

typedef struct cursor {
  const uint8_t *p;
  size_t n, off;
  vm_err *err;
} cursor;

static int cur_bytes(cursor *c, size_t n, const uint8_t **out, const char *what) {
  if (n > c->n - c->off)
    return vm_err_set(c->err, VM_EMODEL,
                      "model file truncated at byte %zu reading %s (%zu bytes "
                      "needed, %zu left)", c->off, what, n, c->n - c->off);
  *out = c->p + c->off;
  c->off += n;
  return 0;
}

static int cur_i32(cursor *c, int32_t *out, const char *what) {
  const uint8_t *b = NULL;
  int rc = cur_bytes(c, 4, &b, what);
  if (rc) return rc;
  uint32_t u = (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
               ((uint32_t)b[3] << 24);
  memcpy(out, &u, 4);
  return 0;
}

void vm__asr_special_init(int32_t n_vocab, vm_asr_special *s) {
  memset(s, 0, sizeof *s);
  s->multilingual = n_vocab >= 51865;
  s->eot = 50256 + s->multilingual;
  s->sot = 50257 + s->multilingual;
  s->lang_first = s->sot + 1;
  s->n_languages = n_vocab - 51765 - s->multilingual;
  s->translate = s->lang_first + s->n_languages;
  s->transcribe = s->translate + 1;
  s->solm = s->translate + 2;
  s->prev = s->translate + 3;
  s->nospeech = s->translate + 4;
  s->notimestamps = s->translate + 5;
  s->timestamp_begin = s->translate + 6;
}

/* ---- tensor table ---------------------------------------------------- */

typedef struct table {
  vm_asr_tdesc *t;
  size_t n, cap;
} table;

static void add(table *tb, float **slot, int32_t n_dims, int64_t ne0, int64_t ne1,
                int64_t ne2, const char *name) {
  VM_ASSERT(tb->n < tb->cap && strlen(name) < sizeof tb->t[0].name);
  vm_asr_tdesc *d = &tb->t[tb->n++];
  memcpy(d->name, name, strlen(name) + 1);
  d->n_dims = n_dims;
  d->ne[0] = ne0;
  d->ne[1] = ne1;
  d->ne[2] = ne2;
  d->slot = slot;
}

#define SLOT(m, field) ((m) ? &(field) : NULL)

/* Adds "<pre><suffix>" (pre is e.g. "decoder.blocks.3.cross_attn"). */
static void add_sfx(table *tb, float **slot, int32_t n_dims, int64_t ne0, int64_t ne1,
                    const char *pre, const char *suffix) {
  char f[128];
  snprintf(f, sizeof f, "%s%s", pre, suffix);
  add(tb, slot, n_dims, ne0, ne1, 1, f);
}

static void add_attn(table *tb, vm_asr_attn_w *a, int has, const char *pre, int64_t n) {
  add_sfx(tb, has ? &a->q_w : NULL, 2, n, n, pre, ".query.weight");
  add_sfx(tb, has ? &a->q_b : NULL, 1, n, 1, pre, ".query.bias");
  add_sfx(tb, has ? &a->k_w : NULL, 2, n, n, pre, ".key.weight");
  add_sfx(tb, has ? &a->v_w : NULL, 2, n, n, pre, ".value.weight");
  add_sfx(tb, has ? &a->v_b : NULL, 1, n, 1, pre, ".value.bias");
  add_sfx(tb, has ? &a->o_w : NULL, 2, n, n, pre, ".out.weight");
  add_sfx(tb, has ? &a->o_b : NULL, 1, n, 1, pre, ".out.bias");
}

static void add_block(table *tb, vm_asr_layer_w *L, const char *side, int il,
                      int64_t n, int cross) {
  char pre[64], sub[96];
  int has = L != NULL;
  vm_asr_layer_w absent; /* the table lists the names of a layer the model */
  if (!L) L = &absent;   /* does not keep; its slots are never written */
  snprintf(pre, sizeof pre, "%s.blocks.%d", side, il);
  add_sfx(tb, has ? &L->attn_ln_w : NULL, 1, n, 1, pre, ".attn_ln.weight");
  add_sfx(tb, has ? &L->attn_ln_b : NULL, 1, n, 1, pre, ".attn_ln.bias");
  snprintf(sub, sizeof sub, "%s.attn", pre);
  add_attn(tb, &L->attn, has, sub, n);
  if (cross) {
    add_sfx(tb, has ? &L->cross_ln_w : NULL, 1, n, 1, pre, ".cross_attn_ln.weight");
    add_sfx(tb, has ? &L->cross_ln_b : NULL, 1, n, 1, pre, ".cross_attn_ln.bias");
    snprintf(sub, sizeof sub, "%s.cross_attn", pre);
    add_attn(tb, &L->cross, has, sub, n);
  }
  add_sfx(tb, has ? &L->mlp_ln_w : NULL, 1, n, 1, pre, ".mlp_ln.weight");
  add_sfx(tb, has ? &L->mlp_ln_b : NULL, 1, n, 1, pre, ".mlp_ln.bias");
  add_sfx(tb, has ? &L->mlp0_w : NULL, 2, n, 4 * n, pre, ".mlp.0.weight");
  add_sfx(tb, has ? &L->mlp0_b : NULL, 1, 4 * n, 1, pre, ".mlp.0.bias");
  add_sfx(tb, has ? &L->mlp2_w : NULL, 2, 4 * n, n, pre, ".mlp.2.weight");
  add_sfx(tb, has ? &L->mlp2_b : NULL, 1, n, 1, pre, ".mlp.2.bias");
}

int vm__asr_tensor_table(const vm_asr_hparams *hp, vm_asr_model *m,
                         vm_asr_tdesc **out, size_t *out_n) {
  table tb = {0};
  tb.cap = 8 + (size_t)hp->n_audio_layer * 15 + 6 + (size_t)hp->n_text_layer * 24;
  tb.t = vm_calloc(tb.cap, sizeof *tb.t);
  if (!tb.t) return VM_ENOMEM;
  int64_t na = hp->n_audio_state, nt = hp->n_text_state;
  add(&tb, SLOT(m, m->e_pos), 2, na, hp->n_audio_ctx, 1, "encoder.positional_embedding");
  add(&tb, SLOT(m, m->e_conv1_w), 3, 3, hp->n_mels, na, "encoder.conv1.weight");
  add(&tb, SLOT(m, m->e_conv1_b), 2, 1, na, 1, "encoder.conv1.bias");
  add(&tb, SLOT(m, m->e_conv2_w), 3, 3, na, na, "encoder.conv2.weight");
  add(&tb, SLOT(m, m->e_conv2_b), 2, 1, na, 1, "encoder.conv2.bias");
  for (int i = 0; i < hp->n_audio_layer; i++)
    add_block(&tb, m ? &m->e_layers[i] : NULL, "encoder", i, na, 0);
  add(&tb, SLOT(m, m->e_ln_w), 1, na, 1, 1, "encoder.ln_post.weight");
  add(&tb, SLOT(m, m->e_ln_b), 1, na, 1, 1, "encoder.ln_post.bias");
  add(&tb, SLOT(m, m->d_pos), 2, nt, hp->n_text_ctx, 1, "decoder.positional_embedding");
  add(&tb, SLOT(m, m->d_tok), 2, nt, hp->n_vocab, 1, "decoder.token_embedding.weight");
  for (int i = 0; i < hp->n_text_layer; i++)
    add_block(&tb, m ? &m->d_layers[i] : NULL, "decoder", i, nt, 1);
  add(&tb, SLOT(m, m->d_ln_w), 1, nt, 1, 1, "decoder.ln.weight");
  add(&tb, SLOT(m, m->d_ln_b), 1, nt, 1, 1, "decoder.ln.bias");
  *out = tb.t;
  *out_n = tb.n;
  return VM_OK;
}

/* ---- loading --------------------------------------------------------- */

int vm__asr_hparams_check(const vm_asr_hparams *hp, vm_err *err) {
  if (hp->n_vocab < 51864 || hp->n_vocab > 51866)
    return vm_err_set(err, VM_EMODEL, "unsupported n_vocab %d (expected 51864, "
                      "51865 or 51866)", hp->n_vocab);
  if (hp->n_mels != 80 && hp->n_mels != 128)
    return vm_err_set(err, VM_EMODEL, "unsupported n_mels %d (80 or 128)", hp->n_mels);
  if (hp->n_audio_ctx < 1 || hp->n_audio_ctx > 1500)
    return vm_err_set(err, VM_EMODEL, "bad n_audio_ctx %d (1..1500)", hp->n_audio_ctx);
  if (hp->n_text_ctx < 1 || hp->n_text_ctx > MAX_TEXT_CTX)
    return vm_err_set(err, VM_EMODEL, "bad n_text_ctx %d", hp->n_text_ctx);
  const int32_t st[2] = {hp->n_audio_state, hp->n_text_state};
  const int32_t hd[2] = {hp->n_audio_head, hp->n_text_head};
  const int32_t ly[2] = {hp->n_audio_layer, hp->n_text_layer};
  for (int i = 0; i < 2; i++) {
    const char *side = i ? "text" : "audio";
    if (st[i] < 1 || st[i] > MAX_STATE)
      return vm_err_set(err, VM_EMODEL, "bad n_%s_state %d", side, st[i]);
    if (hd[i] < 1 || hd[i] > st[i] || st[i] % hd[i] != 0)
      return vm_err_set(err, VM_EMODEL, "n_%s_head %d does not divide n_%s_state %d",
                        side, hd[i], side, st[i]);
    if (ly[i] < 1 || ly[i] > MAX_LAYERS)
      return vm_err_set(err, VM_EMODEL, "bad n_%s_layer %d", side, ly[i]);
  }
  if (hp->n_audio_state != hp->n_text_state)
    return vm_err_set(err, VM_EMODEL, "n_audio_state %d != n_text_state %d (the "
                      "decoder attends to the encoder output)", hp->n_audio_state,
                      hp->n_text_state);
  if (hp->ftype < 0)
    return vm_err_set(err, VM_EMODEL, "bad ftype %d", hp->ftype);
  return VM_OK;
}

static int read_header(cursor *c, vm_asr_model *m) {
  vm_asr_hparams *hp = &m->hp;
  int32_t magic, *f[11] = {&hp->n_vocab,     &hp->n_audio_ctx,  &hp->n_audio_state,
                           &hp->n_audio_head, &hp->n_audio_layer, &hp->n_text_ctx,
                           &hp->n_text_state, &hp->n_text_head,  &hp->n_text_layer,
                           &hp->n_mels,       &hp->ftype};
  static const char *names[11] = {"n_vocab", "n_audio_ctx", "n_audio_state",
      "n_audio_head", "n_audio_layer", "n_text_ctx", "n_text_state",
      "n_text_head", "n_text_layer", "n_mels", "ftype"};
  int rc = cur_i32(c, &magic, "magic");
  if (rc) return rc;
  if ((uint32_t)magic != VM_ASR_GGML_MAGIC) {
    if (memcmp(c->p, "GGUF", 4) == 0)
      return vm_err_set(c->err, VM_EMODEL, "GGUF files are not supported; use a "
                        "whisper.cpp ggml-*.bin model");
    return vm_err_set(c->err, VM_EMODEL, "not a whisper.cpp ggml model (magic "
                      "0x%08x, expected 0x%08x)", (uint32_t)magic, VM_ASR_GGML_MAGIC);
  }
  for (int i = 0; i < 11; i++)
    if ((rc = cur_i32(c, f[i], names[i])) != 0) return rc;
  if ((rc = vm__asr_hparams_check(hp, c->err)) != 0) return rc;
  vm__asr_special_init(hp->n_vocab, &m->sp);
  return VM_OK;
}

static int read_filters(cursor *c, vm_asr_model *m) {
  int32_t n_mel, n_fft;
  const uint8_t *b = NULL;
  int rc;
  if ((rc = cur_i32(c, &n_mel, "mel filter rows")) != 0) return rc;
  if ((rc = cur_i32(c, &n_fft, "mel filter columns")) != 0) return rc;
  if (n_mel != m->hp.n_mels || n_fft != VM_ASR_N_FFT_BINS)
    return vm_err_set(c->err, VM_EMODEL, "mel filters are %dx%d, expected %dx%d",
                      n_mel, n_fft, m->hp.n_mels, VM_ASR_N_FFT_BINS);
  size_t n = (size_t)n_mel * (size_t)n_fft;
  if ((rc = cur_bytes(c, n * 4, &b, "mel filters")) != 0) return rc;
  m->mel_filters = vm_malloc(n * sizeof(float));
  if (!m->mel_filters) return vm_err_set(c->err, VM_ENOMEM, "out of memory");
  vm__asr_dequantize(VM_ASR_GTYPE_F32, b, m->mel_filters, n);
  for (size_t i = 0; i < n; i++)
    if (!isfinite(m->mel_filters[i]) || m->mel_filters[i] < 0.0f)
      return vm_err_set(c->err, VM_EMODEL, "mel filter value %zu is negative or not "
                        "finite", i);
  m->n_bytes += n * sizeof(float);
  return VM_OK;
}

static int read_vocab(cursor *c, vm_asr_model *m) {
  int32_t n;
  int rc = cur_i32(c, &n, "vocabulary size");
  if (rc) return rc;
  if (n < 0 || n > m->hp.n_vocab)
    return vm_err_set(c->err, VM_EMODEL, "vocabulary holds %d tokens, more than "
                      "n_vocab %d", n, m->hp.n_vocab);
  /* First pass: validate lengths and total size; second: copy. */
  size_t start = c->off, total = 0;
  for (int32_t i = 0; i < n; i++) {
    int32_t len;
    const uint8_t *b = NULL;
    char what[48];
    snprintf(what, sizeof what, "token %d", i);
    if ((rc = cur_i32(c, &len, what)) != 0) return rc;
    if (len < 0 || len > MAX_TOKEN_BYTES)
      return vm_err_set(c->err, VM_EMODEL, "token %d has length %d (0..%d)", i, len,
                        MAX_TOKEN_BYTES);
    if ((rc = cur_bytes(c, (size_t)len, &b, what)) != 0) return rc;
    total += (size_t)len;
  }
  m->n_vocab_stored = n;
  m->vocab_bytes = vm_malloc(total ? total : 1);
  m->vocab_off = vm_malloc(((size_t)n + 1) * sizeof(uint32_t));
  if (!m->vocab_bytes || !m->vocab_off)
    return vm_err_set(c->err, VM_ENOMEM, "out of memory");
  size_t off = start, pos = 0;
  for (int32_t i = 0; i < n; i++) {
    const uint8_t *b = c->p + off;
    size_t len = (size_t)b[0] | ((size_t)b[1] << 8);  /* len <= 1024 */
    memcpy(m->vocab_bytes + pos, b + 4, len);
    m->vocab_off[i] = (uint32_t)pos;
    pos += len;
    off += 4 + len;
  }
  m->vocab_off[n] = (uint32_t)pos;
  m->n_bytes += total + ((size_t)n + 1) * sizeof(uint32_t);
  return VM_OK;
}

static size_t tdesc_nelem(const vm_asr_tdesc *d) {
  return (size_t)d->ne[0] * (size_t)d->ne[1] * (size_t)d->ne[2];
}

/* Allocates the weight buffer and points every slot into it. The sizes
 * are bounded by vm__asr_hparams_check (< 2^40 floats), so no overflow here. */
static int alloc_weights(cursor *c, vm_asr_model *m, const vm_asr_tdesc *t,
                         size_t n_t) {
  size_t total = 0;
  for (size_t i = 0; i < n_t; i++) total += tdesc_nelem(&t[i]);
  /* The densest type we accept (q5_0) takes 22 bytes per 32 weights. */
  size_t left = c->n - c->off;
  if (total / 32 * 22 > left)
    return vm_err_set(c->err, VM_EMODEL, "model file too short: the hyper-parameters "
                      "need %zu weights (at least %zu bytes), only %zu bytes left",
                      total, total / 32 * 22, left);
  if (total > SIZE_MAX / sizeof(float))
    return vm_err_set(c->err, VM_EMODEL, "model too large");
  m->weights = vm_malloc(total * sizeof(float));
  if (!m->weights)
    return vm_err_set(c->err, VM_ENOMEM, "out of memory for %zu weights", total);
  m->n_params = total;
  m->n_bytes += total * sizeof(float);
  return VM_OK;
}

static int find_tensor(const vm_asr_tdesc *t, size_t n_t, const uint8_t *name,
                       size_t len, size_t hint) {
  for (size_t k = 0; k < n_t; k++) {
    size_t i = (hint + k) % n_t;
    if (strlen(t[i].name) == len && memcmp(t[i].name, name, len) == 0) return (int)i;
  }
  return -1;
}

static void name_copy(char *dst, size_t cap, const uint8_t *name, size_t len) {
  size_t n = len < cap - 1 ? len : cap - 1;
  for (size_t i = 0; i < n; i++)
    dst[i] = (name[i] >= 0x20 && name[i] < 0x7f) ? (char)name[i] : '?';
  dst[n] = '\0';
}

/* Reads one tensor record and dequantises it into its slot. */
static int read_tensor(cursor *c, vm_asr_model *m, const vm_asr_tdesc *t, size_t n_t,
                       const size_t *offs, size_t *hint) {
  int32_t n_dims, name_len, type, ne[3] = {1, 1, 1};
  const uint8_t *name = NULL, *data = NULL;
  char nm[64];
  int rc;
  size_t at = c->off;
  if ((rc = cur_i32(c, &n_dims, "tensor header")) != 0 ||
      (rc = cur_i32(c, &name_len, "tensor header")) != 0 ||
      (rc = cur_i32(c, &type, "tensor header")) != 0)
    return rc;
  if (n_dims < 1 || n_dims > 3)
    return vm_err_set(c->err, VM_EMODEL, "tensor at byte %zu has %d dimensions (1..3)",
                      at, n_dims);
  if (name_len < 1 || name_len > 63)
    return vm_err_set(c->err, VM_EMODEL, "tensor at byte %zu has a name of %d bytes "
                      "(1..63)", at, name_len);
  for (int i = 0; i < n_dims; i++)
    if ((rc = cur_i32(c, &ne[i], "tensor dimensions")) != 0) return rc;
  if ((rc = cur_bytes(c, (size_t)name_len, &name, "tensor name")) != 0) return rc;
  name_copy(nm, sizeof nm, name, (size_t)name_len);
  int k = find_tensor(t, n_t, name, (size_t)name_len, *hint);
  if (k < 0) return vm_err_set(c->err, VM_EMODEL, "unknown tensor '%s'", nm);
  const vm_asr_tdesc *d = &t[k];
  *hint = (size_t)k + 1;
  if (*d->slot)
    return vm_err_set(c->err, VM_EMODEL, "tensor '%s' appears twice", nm);
  if (ne[0] != d->ne[0] || ne[1] != d->ne[1] || ne[2] != d->ne[2])
    return vm_err_set(c->err, VM_EMODEL, "tensor '%s' has shape [%d, %d, %d], "
                      "expected [%lld, %lld, %lld] from the hyper-parameters", nm,
                      ne[0], ne[1], ne[2], (long long)d->ne[0], (long long)d->ne[1],
                      (long long)d->ne[2]);
  if (!vm__asr_gtype_supported(type))
    return vm_err_set(c->err, VM_EMODEL, "tensor '%s' has unsupported type %d "
                      "(supported: f32, f16, q8_0, q5_0)", nm, type);
  if (vm__asr_gtype_block_elems(type) > 1 && ne[0] % VM_ASR_QK != 0)
    return vm_err_set(c->err, VM_EMODEL, "tensor '%s' is %s but its rows (%d) are "
                      "not a multiple of %d", nm, vm__asr_gtype_name(type), ne[0],
                      VM_ASR_QK);
  size_t nel = tdesc_nelem(d), nb = vm__asr_gtype_row_bytes(type, nel);
  char what[96];
  snprintf(what, sizeof what, "data of tensor '%s'", nm);
  if ((rc = cur_bytes(c, nb, &data, what)) != 0) return rc;
  float *dst = m->weights + offs[k];
  vm__asr_dequantize(type, data, dst, nel);
  for (size_t i = 0; i < nel; i++)
    if (!isfinite(dst[i]))
      return vm_err_set(c->err, VM_EMODEL, "tensor '%s' holds a non-finite value at "
                        "element %zu", nm, i);
  *d->slot = dst;
  m->n_tensors_of_type[type]++;
  return VM_OK;
}

static int read_tensors(cursor *c, vm_asr_model *m) {
  vm_asr_tdesc *t = NULL;
  size_t n_t = 0, *offs = NULL, hint = 0;
  int rc;
  m->e_layers = vm_calloc((size_t)m->hp.n_audio_layer, sizeof *m->e_layers);
  m->d_layers = vm_calloc((size_t)m->hp.n_text_layer, sizeof *m->d_layers);
  if (!m->e_layers || !m->d_layers) {
    rc = vm_err_set(c->err, VM_ENOMEM, "out of memory");
    goto out;
  }
  if ((rc = vm__asr_tensor_table(&m->hp, m, &t, &n_t)) != 0) {
    rc = vm_err_set(c->err, rc, "out of memory");
    goto out;
  }
  if ((rc = alloc_weights(c, m, t, n_t)) != 0) goto out;
  offs = vm_malloc(n_t * sizeof *offs);
  if (!offs) {
    rc = vm_err_set(c->err, VM_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0, o = 0; i < n_t; i++) {
    offs[i] = o;
    o += tdesc_nelem(&t[i]);
  }
  for (size_t i = 0; i < n_t; i++) {
    if (c->off == c->n) {
      size_t k = 0;
      while (k < n_t && *t[k].slot) k++;
      VM_ASSERT(k < n_t);
      rc = vm_err_set(c->err, VM_EMODEL, "model file ends after %zu of %zu tensors; "
                      "tensor '%s' is missing", i, n_t, t[k].name);
      goto out;
    }
    if ((rc = read_tensor(c, m, t, n_t, offs, &hint)) != 0) goto out;
  }
  if (c->off != c->n) {
    rc = vm_err_set(c->err, VM_EMODEL, "%zu unexpected bytes after the last tensor "
                    "(byte %zu)", c->n - c->off, c->off);
    goto out;
  }
  m->n_bytes += (size_t)(m->hp.n_audio_layer + m->hp.n_text_layer) *
                sizeof(vm_asr_layer_w);
out:
  vm_free(offs);
  vm_free(t);
  return rc;
}

int vm_asr_model_create_from_memory(const void *data, size_t n, vm_asr_model **out,
                                    vm_err *err) {
  cursor c = {data, n, 0, err};
  vm_asr_model *m = NULL;
  int rc;
  *out = NULL;
  vm_err_clear(err);
  m = vm_calloc(1, sizeof *m);
  if (!m) return vm_err_set(err, VM_ENOMEM, "out of memory");
  m->n_bytes = sizeof *m;
  if ((rc = read_header(&c, m)) != 0 || (rc = read_filters(&c, m)) != 0 ||
      (rc = read_vocab(&c, m)) != 0)
    goto fail;
  if (c.off == c.n) {
    rc = vm_err_set(err, VM_EMODEL, "model file holds no tensors (truncated after "
                    "the vocabulary, byte %zu)", c.off);
    goto fail;
  }
  if ((rc = read_tensors(&c, m)) != 0) goto fail;
  *out = m;
  return VM_OK;
fail:
  vm_asr_model_destroy(m);
  return rc;
}

int vm_asr_model_create_from_file(const char *path, vm_asr_model **out, vm_err *err) {
  int fd = -1, rc;
  void *map = MAP_FAILED;
  struct stat st;
  size_t n = 0;
  *out = NULL;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) != 0) {
    int e = errno;
    rc = vm_err_set(err, vm_status_from_errno(e), "cannot open model '%s': %s", path,
                    strerror(e));
    goto out;
  }
  if (!S_ISREG(st.st_mode) || st.st_size <= 0) {
    rc = vm_err_set(err, VM_EMODEL, "model '%s' is %s", path,
                    S_ISREG(st.st_mode) ? "empty" : "not a regular file");
    goto out;
  }
  n = (size_t)st.st_size;
  map = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) {
    int e = errno;
    rc = vm_err_set(err, e == ENOMEM ? VM_ENOMEM : VM_EIO, "cannot map model '%s': %s",
                    path, strerror(e));
    goto out;
  }
  (void)madvise(map, n, MADV_SEQUENTIAL);
  rc = vm_asr_model_create_from_memory(map, n, out, err);
  if (rc != 0 && err) {
    vm_err tmp = *err; /* prefix the path */
    vm_err_set(err, rc, "%s: %s", path, tmp.msg);
  }
out:
  if (map != MAP_FAILED) munmap(map, n);
  if (fd >= 0) close(fd);
  return rc;
}

void vm_asr_model_destroy(vm_asr_model *m) {
  if (!m) return;
  vm_free(m->mel_filters);
  vm_free(m->vocab_bytes);
  vm_free(m->vocab_off);
  vm_free(m->e_layers);
  vm_free(m->d_layers);
  vm_free(m->weights);
  vm_free(m);
}

const vm_asr_hparams *vm_asr_model_hparams(const vm_asr_model *m) { return &m->hp; }
const vm_asr_special *vm_asr_model_special(const vm_asr_model *m) { return &m->sp; }
const float *vm_asr_model_mel_filters(const vm_asr_model *m) { return m->mel_filters; }
size_t vm_asr_model_bytes(const vm_asr_model *m) { return m->n_bytes; }
size_t vm_asr_model_n_params(const vm_asr_model *m) { return m->n_params; }
int32_t vm_asr_model_n_vocab_stored(const vm_asr_model *m) { return m->n_vocab_stored; }
int32_t vm_asr_model_n_tensors_of_type(const vm_asr_model *m, int32_t type) {
  return (type >= 0 && type < 9) ? m->n_tensors_of_type[type] : 0;
}
