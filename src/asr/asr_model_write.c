/* asr_model_write.c — writes Whisper models with random weights in the
 * whisper.cpp ggml file format, for tests and benchmarks.
 *
 * DESIGN: no real model can be downloaded on our machines, so the test
 * suite generates models of any dimensions (tiny custom ones, or the
 * official presets' dims) with a seeded generator and compares our engine
 * with an independent reference on them. The file is written exactly as
 * whisper.cpp's converter and quantiser lay it out (see
 * docs/model-format.md), including which tensors stay f32/f16 in f16 and
 * quantised files, so the loader is exercised on realistic files. Tensors
 * are generated and written one at a time (a large-v3-sized file needs
 * only one tensor in memory). Not here: reading (asr_model.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asr_ggml.h"
#include "asr_impl.h"
#include "vm_alloc.h"
#include "vm_fs.h"

typedef struct rng {
  uint64_t s[4];
  int has_spare;
  double spare;
} rng;

static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng *r) { /* xoshiro256** */
  uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return res;
}

static double rng_uniform(rng *r) { /* (0, 1) */
  return ((double)(rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double rng_normal(rng *r) { /* Box-Muller */
  if (r->has_spare) {
    r->has_spare = 0;
    return r->spare;
  }
  double u = rng_uniform(r), v = rng_uniform(r), rad = sqrt(-2.0 * log(u));
  r->spare = rad * sin(2.0 * M_PI * v);
  r->has_spare = 1;
  return rad * cos(2.0 * M_PI * v);
}

static int put_i32(FILE *f, int32_t v) {
  uint8_t b[4];
  uint32_t u;
  memcpy(&u, &v, 4);
  for (int k = 0; k < 4; k++) b[k] = (uint8_t)(u >> (8 * k));
  return fwrite(b, 1, 4, f) == 4 ? 0 : -1;
}

/* ---- vocabulary ------------------------------------------------------ */

typedef struct vocab {
  int32_t n;
  uint8_t **tok;
  int32_t *len;
} vocab;

static void vocab_free(vocab *v) {
  for (int32_t i = 0; v->tok && i < v->n; i++) vm_free(v->tok[i]);
  vm_free(v->tok);
  vm_free(v->len);
}

static int b64val(int ch) {
  if (ch >= 'A' && ch <= 'Z') return ch - 'A';
  if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9') return ch - '0' + 52;
  if (ch == '+') return 62;
  if (ch == '/') return 63;
  return -1;
}

/* Decodes base64 s[0..n) into out (capacity >= 3n/4). Returns bytes or -1. */
static int b64decode(const char *s, size_t n, uint8_t *out) {
  uint32_t acc = 0;
  int bits = 0, o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '=') break;
    int v = b64val((unsigned char)s[i]);
    if (v < 0) return -1;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (uint8_t)((acc >> bits) & 0xffu);
    }
  }
  return o;
}

/* Parses a .tiktoken file: one "base64 rank" line per token, ranks 0.. */
static int vocab_read_tiktoken(const char *path, int32_t n_max, vocab *v, vm_err *err) {
  char *txt = NULL;
  size_t n = 0;
  int rc = vm_fs_read_all(path, 64u << 20, &txt, &n, err);
  if (rc) return rc;
  int32_t lines = 0;
  for (size_t i = 0; i < n; i++) lines += txt[i] == '\n';
  lines += 1;
  v->tok = vm_calloc((size_t)lines, sizeof *v->tok);
  v->len = vm_calloc((size_t)lines, sizeof *v->len);
  if (!v->tok || !v->len) {
    rc = vm_err_set(err, VM_ENOMEM, "out of memory");
    goto out;
  }
  for (char *line = txt, *end; line < txt + n && *line; line = end + 1) {
    end = strchr(line, '\n');
    if (!end) end = txt + n;
    char *sp = memchr(line, ' ', (size_t)(end - line));
    if (line == end) continue;
    long rank = sp ? strtol(sp + 1, NULL, 10) : -1;
    if (!sp || rank != v->n || v->n >= n_max) {
      rc = vm_err_set(err, VM_EINVAL, "%s: bad line for token %d (or more than %d "
                      "tokens)", path, v->n, n_max);
      goto out;
    }
    size_t blen = (size_t)(sp - line);
    v->tok[v->n] = vm_malloc(blen + 1);
    if (!v->tok[v->n]) {
      rc = vm_err_set(err, VM_ENOMEM, "out of memory");
      goto out;
    }
    int len = b64decode(line, blen, v->tok[v->n]);
    if (len < 0) {
      rc = vm_err_set(err, VM_EINVAL, "%s: bad base64 for token %d", path, v->n);
      goto out;
    }
    v->len[v->n++] = len;
  }
out:
  vm_free(txt);
  return rc;
}

/* 256 single-byte tokens, then random lowercase words of 2..6 letters. */
static int vocab_synthetic(int32_t n, rng *r, vocab *v) {
  v->tok = vm_calloc((size_t)n + 1, sizeof *v->tok);
  v->len = vm_calloc((size_t)n + 1, sizeof *v->len);
  if (!v->tok || !v->len) return VM_ENOMEM;
  for (int32_t i = 0; i < n; i++, v->n++) {
    int32_t len = i < 256 ? 1 : 2 + (int32_t)(rng_next(r) % 5);
    v->tok[i] = vm_malloc((size_t)len);
    if (!v->tok[i]) return VM_ENOMEM;
    for (int32_t k = 0; k < len; k++)
      v->tok[i][k] = i < 256 ? (uint8_t)i : (uint8_t)('a' + rng_next(r) % 26);
    v->len[i] = len;
  }
  return VM_OK;
}

/* ---- tensors --------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Fills x with the values of tensor d (see vm_asr_model_write_random). */
static void tensor_values(const vm_asr_tdesc *d, rng *r, float *x, size_t n) {
  if (strcmp(d->name, "encoder.positional_embedding") == 0) {
    /* Whisper's sinusoids(length, channels): [sin | cos] of t * exp(-k c) */
    int64_t ch = d->ne[0], half = ch / 2, len = d->ne[1];
    double inc = log(10000.0) / (double)(half - 1);
    for (int64_t t = 0; t < len; t++)
      for (int64_t k = 0; k < half; k++) {
        double a = (double)t * exp(-inc * (double)k);
        x[t * ch + k] = (float)sin(a);
        x[t * ch + half + k] = (float)cos(a);
      }
    return;
  }
  double scale, mean = 0.0;
  if (ends_with(d->name, "ln.weight") || ends_with(d->name, "ln_post.weight")) {
    mean = 1.0;
    scale = 0.1;
  } else if (ends_with(d->name, ".bias")) {
    scale = 0.1;
  } else if (ends_with(d->name, "embedding") || ends_with(d->name, "embedding.weight")) {
    scale = 0.5;
  } else { /* a weight: 1/sqrt(fan-in), fan-in = ne0 * (3 taps for conv) */
    double fan_in = (double)d->ne[0] * (d->n_dims == 3 ? (double)d->ne[1] : 1.0);
    scale = 1.0 / sqrt(fan_in);
  }
  for (size_t i = 0; i < n; i++) x[i] = (float)(mean + scale * rng_normal(r));
}

/* The type a tensor gets in a file of weight type wt, as whisper.cpp's
 * converter (f16) and quantiser (q*) choose it. */
static int32_t tensor_type(const vm_asr_tdesc *d, int32_t wt) {
  int keep_f32 = d->n_dims < 2 || ends_with(d->name, "positional_embedding") ||
                 ends_with(d->name, "conv1.bias") || ends_with(d->name, "conv2.bias");
  if (wt == VM_ASR_GTYPE_F32 || keep_f32) return VM_ASR_GTYPE_F32;
  if (wt == VM_ASR_GTYPE_F16 || d->n_dims != 2 || d->ne[0] % VM_ASR_QK != 0)
    return VM_ASR_GTYPE_F16;
  return wt;
}

static int write_tensor(FILE *f, const vm_asr_tdesc *d, int32_t type, rng *r,
                        vm_err *err) {
  size_t n = (size_t)d->ne[0] * (size_t)d->ne[1] * (size_t)d->ne[2];
  size_t nb = vm__asr_gtype_row_bytes(type, n);
  float *x = vm_malloc(n * sizeof *x);
  uint8_t *q = vm_malloc(nb);
  int rc = VM_OK, bad = 0;
  if (!x || !q) {
    rc = vm_err_set(err, VM_ENOMEM, "out of memory for tensor '%s'", d->name);
    goto out;
  }
  tensor_values(d, r, x, n);
  vm__asr_quantize(type, x, q, n);
  bad |= put_i32(f, d->n_dims) | put_i32(f, (int32_t)strlen(d->name)) | put_i32(f, type);
  for (int i = 0; i < d->n_dims; i++) bad |= put_i32(f, (int32_t)d->ne[i]);
  bad |= fwrite(d->name, 1, strlen(d->name), f) != strlen(d->name);
  bad |= fwrite(q, 1, nb, f) != nb;
  if (bad) rc = vm_err_set(err, VM_EIO, "write error in tensor '%s'", d->name);
out:
  vm_free(x);
  vm_free(q);
  return rc;
}

static int write_head(FILE *f, const vm_asr_hparams *hp, const vocab *v) {
  int bad = put_i32(f, (int32_t)VM_ASR_GGML_MAGIC);
  const int32_t *h = &hp->n_vocab;
  for (int i = 0; i < 11; i++) bad |= put_i32(f, h[i]);
  size_t nf = (size_t)hp->n_mels * VM_ASR_N_FFT_BINS;
  float *filt = vm_malloc(nf * sizeof *filt);
  uint8_t *fb = vm_malloc(nf * 4);
  if (!filt || !fb) {
    vm_free(filt);
    vm_free(fb);
    return VM_ENOMEM;
  }
  vm__asr_mel_filters_compute(hp->n_mels, filt);
  vm__asr_quantize(VM_ASR_GTYPE_F32, filt, fb, nf);
  bad |= put_i32(f, hp->n_mels) | put_i32(f, VM_ASR_N_FFT_BINS);
  bad |= fwrite(fb, 1, nf * 4, f) != nf * 4;
  vm_free(filt);
  vm_free(fb);
  bad |= put_i32(f, v->n);
  for (int32_t i = 0; i < v->n; i++) {
    bad |= put_i32(f, v->len[i]);
    bad |= fwrite(v->tok[i], 1, (size_t)v->len[i], f) != (size_t)v->len[i];
  }
  return bad ? VM_EIO : VM_OK;
}

int vm_asr_model_write_random(const vm_asr_gen_opts *o, const char *path, vm_err *err) {
  vm_asr_hparams hp = o->hp;
  vocab v = {0};
  rng r = {{0}, 0, 0.0};
  vm_asr_tdesc *t = NULL;
  size_t n_t = 0;
  FILE *f = NULL;
  int rc;
  uint64_t seed = o->seed;
  for (int i = 0; i < 4; i++) r.s[i] = splitmix(&seed);
  static const int32_t ftypes[9] = {0, 1, 0, 0, 0, 0, 2008, 0, 2007};
  if (!vm__asr_gtype_supported(o->wtype))
    return vm_err_set(err, VM_EINVAL, "unsupported weight type %d", o->wtype);
  hp.ftype = ftypes[o->wtype];
  if (vm__asr_hparams_check(&hp, err) != 0) {
    if (err) err->code = VM_EINVAL; /* keep the message */
    return VM_EINVAL;
  }
  if (hp.n_audio_state % 2 != 0 || hp.n_audio_state < 4)
    return vm_err_set(err, VM_EINVAL, "n_audio_state must be even and >= 4");
  if (o->vocab_path)
    rc = vocab_read_tiktoken(o->vocab_path, hp.n_vocab, &v, err);
  else if (o->n_vocab_stored < 0 || o->n_vocab_stored > hp.n_vocab)
    rc = vm_err_set(err, VM_EINVAL, "bad synthetic vocabulary size %d", o->n_vocab_stored);
  else if ((rc = vocab_synthetic(o->n_vocab_stored, &r, &v)) != 0)
    rc = vm_err_set(err, rc, "out of memory");
  if (rc) goto out;
  if ((rc = vm__asr_tensor_table(&hp, NULL, &t, &n_t)) != 0) {
    rc = vm_err_set(err, rc, "out of memory");
    goto out;
  }
  f = fopen(path, "wb");
  if (!f) {
    rc = vm_err_set(err, VM_EIO, "cannot create '%s'", path);
    goto out;
  }
  if ((rc = write_head(f, &hp, &v)) != 0) {
    rc = vm_err_set(err, rc, "cannot write '%s'", path);
    goto out;
  }
  for (size_t i = 0; i < n_t && rc == 0; i++)
    rc = write_tensor(f, &t[i], tensor_type(&t[i], o->wtype), &r, err);
out:
  if (f && fclose(f) != 0 && rc == 0) rc = vm_err_set(err, VM_EIO, "cannot write '%s'", path);
  vm_free(t);
  vocab_free(&v);
  return rc;
}
