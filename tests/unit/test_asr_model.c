/* test_asr_model.c — loading whisper.cpp ggml model files: a valid small
 * generated model, every kind of malformed variant (each must give
 * VM_EMODEL with a precise message and never crash), the special-token
 * layouts of the three vocabulary sizes, the ggml element types, and
 * allocation failures.
 *
 *   ctest --test-dir build -R test_asr_model --output-on-failure */
#include "asr/asr_test_util.h"
#include "asr_ggml.h"
#include "asr_impl.h"
#include "asr_tokenizer.h"
#include "test.h"
#include "vm_alloc.h"

/* A small model: 8-wide, 1+1 layers, 8 audio positions, 300 tokens. */
static uint8_t *small_model(int32_t wtype, size_t *out_n) {
  vm_asr_gen_opts o;
  asr_test_tiny_opts(&o, wtype, 7);
  o.hp.n_audio_ctx = 8;
  o.hp.n_text_ctx = 8;
  o.hp.n_audio_state = o.hp.n_text_state = wtype == VM_ASR_GTYPE_F16 ? 8 : 32;
  o.hp.n_audio_layer = o.hp.n_text_layer = 1;
  o.vocab_path = NULL;
  o.n_vocab_stored = 300;
  char name[64];
  snprintf(name, sizeof name, "small_%d.bin", wtype);
  char *path = asr_test_model(&o, name);
  char *data = NULL;
  if (!path || vm_fs_read_all(path, 64u << 20, &data, out_n, NULL) != 0) data = NULL;
  vm_free(path);
  return (uint8_t *)data;
}

static void put32(uint8_t *p, int32_t v) { memcpy(p, &v, 4); } /* little-endian host */
static int32_t get32(const uint8_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* Offset of the first tensor record. */
static size_t first_tensor(const uint8_t *d) {
  int32_t n_mels = get32(d + 40);
  size_t off = 48 + 8 + (size_t)n_mels * 201 * 4;
  int32_t n_tok = get32(d + off);
  off += 4;
  for (int32_t i = 0; i < n_tok; i++) off += 4 + (size_t)get32(d + off);
  return off;
}

/* Offset of the record of tensor `name`, or 0. */
static size_t find_tensor(const uint8_t *d, size_t n, const char *name) {
  for (size_t off = first_tensor(d); off < n;) {
    int32_t nd = get32(d + off), nl = get32(d + off + 4), t = get32(d + off + 8);
    const uint8_t *nm = d + off + 12 + 4 * (size_t)nd;
    size_t nel = 1;
    for (int i = 0; i < nd; i++) nel *= (size_t)get32(d + off + 12 + 4 * (size_t)i);
    if ((size_t)nl == strlen(name) && memcmp(nm, name, (size_t)nl) == 0) return off;
    off += 12 + 4 * (size_t)nd + (size_t)nl + vm__asr_gtype_row_bytes(t, nel);
  }
  return 0;
}

/* Loads d (a modified copy) and expects VM_EMODEL with `needle` in the
 * message. */
static int expect_bad(const uint8_t *d, size_t n, const char *needle) {
  vm_asr_model *m = (vm_asr_model *)1;
  vm_err err;
  int rc = vm_asr_model_create_from_memory(d, n, &m, &err);
  if (rc != VM_EMODEL || m != NULL || !strstr(err.msg, needle))
    TEST_FAIL_("expected VM_EMODEL with \"%s\", got %s: %s", needle, vm_err_name(rc),
               err.msg);
  return 0;
}

static int test_valid_model(void) {
  size_t n;
  uint8_t *d = small_model(VM_ASR_GTYPE_F16, &n);
  ASSERT_NOT_NULL(d);
  vm_asr_model *m;
  vm_err err;
  ASSERT_OK(vm_asr_model_create_from_memory(d, n, &m, &err));
  const vm_asr_hparams *hp = vm_asr_model_hparams(m);
  ASSERT_EQ(hp->n_vocab, 51865);
  ASSERT_EQ(hp->n_audio_state, 8);
  ASSERT_EQ(hp->ftype, 1);
  ASSERT_EQ(vm_asr_model_n_vocab_stored(m), 300);
  /* params: token embedding dominates; check the exact count */
  size_t C = 8, per_enc = 4 * C + 4 * C * C + 3 * C + 8 * C * C + 5 * C;
  size_t per_dec = per_enc + 2 * C + 4 * C * C + 3 * C;
  size_t expect = 8 * C + 3 * 80 * C + C + 3 * C * C + C + per_enc + 2 * C + 8 * C +
                  51865 * C + per_dec + 2 * C;
  ASSERT_EQ(vm_asr_model_n_params(m), expect);
  ASSERT_GE(vm_asr_model_bytes(m), expect * 4);
  ASSERT_GT(vm_asr_model_n_tensors_of_type(m, VM_ASR_GTYPE_F16), 0);
  ASSERT_GT(vm_asr_model_n_tensors_of_type(m, VM_ASR_GTYPE_F32), 0);
  vm_asr_model_destroy(m);
  vm_free(d);
  return 0;
}

static int test_quantised_models(void) {
  int32_t types[2] = {VM_ASR_GTYPE_Q8_0, VM_ASR_GTYPE_Q5_0};
  for (int i = 0; i < 2; i++) {
    size_t n;
    uint8_t *d = small_model(types[i], &n);
    ASSERT_NOT_NULL(d);
    vm_asr_model *m;
    vm_err err;
    ASSERT_OK(vm_asr_model_create_from_memory(d, n, &m, &err));
    ASSERT_GT(vm_asr_model_n_tensors_of_type(m, types[i]), 0);
    ASSERT_GT(vm_asr_model_n_tensors_of_type(m, VM_ASR_GTYPE_F16), 0); /* conv kernels */
    ASSERT_EQ(vm_asr_model_hparams(m)->ftype, types[i] == VM_ASR_GTYPE_Q8_0 ? 2007 : 2008);
    vm_asr_model_destroy(m);
    vm_free(d);
  }
  return 0;
}

static int test_truncated(void) {
  size_t n;
  uint8_t *d = small_model(VM_ASR_GTYPE_F16, &n);
  ASSERT_NOT_NULL(d);
  ASSERT_OK(expect_bad(d, 0, "truncated"));
  for (size_t k = 1; k < n; k += (k < 300 ? 1 : 997))
    if (expect_bad(d, k, "") != 0) TEST_FAIL_("prefix of %zu bytes", k);
  ASSERT_OK(expect_bad(d, n - 1, "truncated"));
  ASSERT_OK(expect_bad(d, first_tensor(d), "no tensors"));
  ASSERT_OK(expect_bad(d, find_tensor(d, n, "decoder.ln.weight"), "is missing"));
  vm_free(d);
  return 0;
}

static int test_bad_header(void) {
  size_t n;
  uint8_t *d = small_model(VM_ASR_GTYPE_F16, &n), *c = vm_malloc(n + 16);
  ASSERT(d && c);
  struct { size_t off; int32_t v; const char *msg; } cases[] = {
      {0, 0x12345678, "magic"},      {4, 51000, "n_vocab"},
      {40, 81, "n_mels"},            {16, 3, "does not divide"},
      {8, 0, "n_audio_ctx"},
      {8, 3000, "n_audio_ctx"},      {28, 16, "n_audio_state"},
      {36, -1, "n_text_layer"},      {44, -5, "ftype"},
      {48, 81, "mel filters"},       {52, 200, "mel filters"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    memcpy(c, d, n);
    put32(c + cases[i].off, cases[i].v);
    if (expect_bad(c, n, cases[i].msg) != 0) TEST_FAIL_("case %zu", i);
  }
  memcpy(c, d, n); /* dims far beyond what the file holds: no huge allocation */
  put32(c + 12, 4096);
  put32(c + 28, 4096);
  ASSERT_OK(expect_bad(c, n, "too short"));
  memcpy(c, d, n);
  memcpy(c, "GGUF", 4);
  ASSERT_OK(expect_bad(c, n, "GGUF"));
  /* a NaN in the mel filters */
  memcpy(c, d, n);
  put32(c + 56 + 4 * 10, 0x7fc00000);
  ASSERT_OK(expect_bad(c, n, "mel filter"));
  vm_free(c);
  vm_free(d);
  return 0;
}

static int test_bad_vocab(void) {
  size_t n;
  uint8_t *d = small_model(VM_ASR_GTYPE_F16, &n), *c = vm_malloc(n);
  ASSERT(d && c);
  size_t voff = 48 + 8 + 80 * 201 * 4;
  memcpy(c, d, n);
  put32(c + voff, 60000);
  ASSERT_OK(expect_bad(c, n, "more than n_vocab"));
  memcpy(c, d, n);
  put32(c + voff, -1);
  ASSERT_OK(expect_bad(c, n, "more than n_vocab"));
  memcpy(c, d, n);
  put32(c + voff + 4, -3);
  ASSERT_OK(expect_bad(c, n, "token 0 has length"));
  memcpy(c, d, n);
  put32(c + voff + 4, 5000);
  ASSERT_OK(expect_bad(c, n, "token 0 has length"));
  memcpy(c, d, n);
  put32(c + voff + 4, 0x7fffffff);
  ASSERT_OK(expect_bad(c, n, "token 0 has length"));
  vm_free(c);
  vm_free(d);
  return 0;
}

static int test_bad_tensors(void) {
  size_t n;
  uint8_t *d = small_model(VM_ASR_GTYPE_F16, &n), *c = vm_malloc(n + 8);
  ASSERT(d && c);
  size_t t0 = first_tensor(d);
  size_t qb = find_tensor(d, n, "encoder.blocks.0.attn.value.bias");
  size_t kw = find_tensor(d, n, "encoder.blocks.0.attn.key.weight");
  size_t lnb = find_tensor(d, n, "decoder.ln.bias");
  ASSERT(t0 && qb && kw && lnb);
  struct { size_t off; int32_t v; const char *msg; } cases[] = {
      {t0, 0, "dimensions"},          {t0, 4, "dimensions"},
      {t0 + 4, 0, "name of"},         {t0 + 4, 100, "name of"},
      {t0 + 4, -7, "name of"},        {t0 + 8, 2, "unsupported type"},
      {t0 + 8, 99, "unsupported type"}, {t0 + 12, 9, "has shape"},
      {t0 + 16, 1501, "has shape"},   {kw + 8, VM_ASR_GTYPE_Q8_0, "multiple of 32"},
      {kw + 8, VM_ASR_GTYPE_F32, ""},  {lnb + 8, VM_ASR_GTYPE_F16, "decoder.ln.bias"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    memcpy(c, d, n);
    put32(c + cases[i].off, cases[i].v);
    if (expect_bad(c, n, cases[i].msg) != 0) TEST_FAIL_("case %zu", i);
  }
  /* unknown name, duplicate name */
  memcpy(c, d, n);
  c[t0 + 12 + 8 + 2] = 'X';
  ASSERT_OK(expect_bad(c, n, "unknown tensor"));
  memcpy(c, d, n);
  memcpy(c + qb + 12 + 4 + strlen("encoder.blocks.0.attn."), "query", 5);
  ASSERT_OK(expect_bad(c, n, "appears twice"));
  /* a NaN weight (decoder.ln.bias is f32, the last tensor) */
  memcpy(c, d, n);
  put32(c + n - 4, 0x7f800000);
  ASSERT_OK(expect_bad(c, n, "non-finite"));
  /* trailing bytes */
  memcpy(c, d, n);
  memset(c + n, 0, 8);
  ASSERT_OK(expect_bad(c, n + 8, "unexpected bytes"));
  vm_free(c);
  vm_free(d);
  return 0;
}

static int test_files(void) {
  vm_asr_model *m;
  vm_err err;
  ASSERT_EQ(vm_asr_model_create_from_file("/nonexistent/ggml.bin", &m, &err), VM_ENOENT);
  ASSERT_NULL(m);
  ASSERT_EQ(vm_asr_model_create_from_file("/", &m, &err), VM_EMODEL);
  ASSERT_EQ(vm_asr_model_create_from_file(VM_SOURCE_DIR "/CMakeLists.txt", &m, &err),
            VM_EMODEL);
  ASSERT_STR_CONTAINS(err.msg, "not a whisper.cpp ggml model");
  ASSERT_STR_CONTAINS(err.msg, "CMakeLists.txt");
  return 0;
}

static int test_special_tokens(void) {
  vm_asr_special s;
  vm__asr_special_init(51864, &s); /* English-only */
  ASSERT_EQ(s.eot, 50256);
  ASSERT_EQ(s.sot, 50257);
  ASSERT_EQ(s.multilingual, 0);
  ASSERT_EQ(s.translate, 50357);
  ASSERT_EQ(s.transcribe, 50358);
  ASSERT_EQ(s.notimestamps, 50362);
  ASSERT_EQ(s.timestamp_begin, 50363);
  ASSERT_EQ(51864 - s.timestamp_begin, 1501); /* 0.00 .. 30.00 s */
  vm__asr_special_init(51865, &s);
  ASSERT_EQ(s.eot, 50257);
  ASSERT_EQ(s.sot, 50258);
  ASSERT_EQ(s.lang_first, 50259);
  ASSERT_EQ(s.n_languages, 99);
  ASSERT_EQ(s.translate, 50358);
  ASSERT_EQ(s.transcribe, 50359);
  ASSERT_EQ(s.solm, 50360);
  ASSERT_EQ(s.prev, 50361);
  ASSERT_EQ(s.nospeech, 50362);
  ASSERT_EQ(s.notimestamps, 50363);
  ASSERT_EQ(s.timestamp_begin, 50364);
  vm__asr_special_init(51866, &s); /* large-v3: + <|yue|> */
  ASSERT_EQ(s.n_languages, 100);
  ASSERT_EQ(s.translate, 50359);
  ASSERT_EQ(s.transcribe, 50360);
  ASSERT_EQ(s.notimestamps, 50364);
  ASSERT_EQ(s.timestamp_begin, 50365);
  ASSERT_EQ(51866 - s.timestamp_begin, 1501);
  ASSERT_EQ(vm_asr_lang_index("ko"), 5);
  ASSERT_EQ(vm_asr_lang_index("yue"), 99);
  ASSERT_EQ(vm_asr_lang_index("xx"), -1);
  return 0;
}

static int test_ggml_types(void) {
  /* every finite half survives f16 -> f32 -> f16 */
  for (uint32_t h = 0; h < 65536; h++) {
    float f = vm__asr_f16_to_f32((uint16_t)h);
    if (isnan(f)) continue;
    if (vm__asr_f32_to_f16(f) != h) TEST_FAIL_("half 0x%04x", h);
  }
  ASSERT_EQ(vm__asr_f32_to_f16(1.0f), 0x3c00);
  ASSERT_EQ(vm__asr_f32_to_f16(65520.0f), 0x7c00); /* rounds to inf */
  ASSERT_EQ(vm__asr_f32_to_f16(1.0f + 1.0f / 2048.0f), 0x3c00); /* ties to even */
  float x[64], y[64];
  uint8_t q[64 * 4];
  for (int i = 0; i < 64; i++) x[i] = sinf((float)i * 0.7f) * (i < 32 ? 1.0f : 0.01f);
  vm__asr_quantize(VM_ASR_GTYPE_Q8_0, x, q, 64);
  vm__asr_dequantize(VM_ASR_GTYPE_Q8_0, q, y, 64);
  /* q8_0: half a step of amax/127; q5_0: up to one step of amax/16 (the
   * value opposite the block's extreme clamps from 16 to 15) */
  for (int i = 0; i < 64; i++) ASSERT_NEAR(y[i], x[i], (i < 32 ? 1.0 : 0.01) / 127.0 * 0.51 + 1e-6);
  vm__asr_quantize(VM_ASR_GTYPE_Q5_0, x, q, 64);
  vm__asr_dequantize(VM_ASR_GTYPE_Q5_0, q, y, 64);
  for (int i = 0; i < 64; i++) ASSERT_NEAR(y[i], x[i], (i < 32 ? 1.0 : 0.01) / 16.0 + 1e-6);
  ASSERT_EQ(vm__asr_gtype_row_bytes(VM_ASR_GTYPE_Q8_0, 64), 68);
  ASSERT_EQ(vm__asr_gtype_row_bytes(VM_ASR_GTYPE_Q5_0, 64), 44);
  return 0;
}

static int test_alloc_failures(void) {
  size_t n;
  uint8_t *d = small_model(VM_ASR_GTYPE_F16, &n);
  ASSERT_NOT_NULL(d);
  int ok = 0;
  for (long k = 0; k < 40 && !ok; k++) {
    vm_asr_model *m;
    vm_err err;
    vm_alloc_fail_after(k);
    int rc = vm_asr_model_create_from_memory(d, n, &m, &err);
    vm_alloc_fail_after(-1);
    if (rc == VM_OK) {
      ok = 1;
      vm_asr_model_destroy(m);
    } else {
      ASSERT_EQ(rc, VM_ENOMEM);
      ASSERT_NULL(m);
    }
  }
  ASSERT(ok);
  vm_free(d);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_valid_model), TEST_ENTRY(test_quantised_models),
          TEST_ENTRY(test_truncated), TEST_ENTRY(test_bad_header), TEST_ENTRY(test_bad_vocab),
          TEST_ENTRY(test_bad_tensors), TEST_ENTRY(test_files), TEST_ENTRY(test_special_tokens),
          TEST_ENTRY(test_ggml_types), TEST_ENTRY(test_alloc_failures))
