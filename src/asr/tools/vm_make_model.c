/* vm_make_model.c — writes a Whisper model with seeded random weights in
 * whisper.cpp's ggml format, for tests and benchmarks (no real model can
 * be downloaded on our machines).
 *
 *   vm_make_model OUT.bin [--preset NAME] [--type f32|f16|q8_0|q5_0]
 *                 [--seed N] [--vocab FILE.tiktoken] [--n-vocab-stored N]
 *                 [--state N] [--heads N] [--audio-layers N]
 *                 [--text-layers N] [--audio-ctx N] [--text-ctx N]
 *                 [--mels N] [--n-vocab N]
 *
 * Presets: tiny-random (state 64, 2 heads, 2+2 layers; the default),
 * tiny, base, small, medium, large-v3, large-v3-turbo (the official
 * dims). Options after --preset override it. Without --vocab a synthetic
 * vocabulary of --n-vocab-stored tokens (default 1000) is written.
 * Exit status 0 on success, 1 on error, 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asr_ggml.h"
#include "asr_model.h"

typedef struct preset {
  const char *name;
  int32_t state, heads, a_layers, t_layers, mels, vocab;
} preset;

static const preset PRESETS[] = {
    {"tiny-random", 64, 2, 2, 2, 80, 51865},  {"tiny", 384, 6, 4, 4, 80, 51865},
    {"base", 512, 8, 6, 6, 80, 51865},        {"small", 768, 12, 12, 12, 80, 51865},
    {"medium", 1024, 16, 24, 24, 80, 51865},  {"large-v3", 1280, 20, 32, 32, 128, 51866},
    {"large-v3-turbo", 1280, 20, 32, 4, 128, 51866},
};

static void set_preset(vm_asr_gen_opts *o, const preset *p) {
  vm_asr_hparams *h = &o->hp;
  h->n_vocab = p->vocab;
  h->n_audio_state = h->n_text_state = p->state;
  h->n_audio_head = h->n_text_head = p->heads;
  h->n_audio_layer = p->a_layers;
  h->n_text_layer = p->t_layers;
  h->n_mels = p->mels;
}

static int usage(void) {
  fprintf(stderr, "usage: vm_make_model OUT.bin [--preset NAME] [--type f32|f16|q8_0|q5_0] "
                  "[--seed N] [--vocab FILE] [--n-vocab-stored N] [--state N] [--heads N] "
                  "[--audio-layers N] [--text-layers N] [--audio-ctx N] [--text-ctx N] "
                  "[--mels N] [--n-vocab N]\n");
  return 2;
}

static int parse_type(const char *s, int32_t *out) {
  static const struct { const char *n; int32_t t; } T[] = {
      {"f32", VM_ASR_GTYPE_F32}, {"f16", VM_ASR_GTYPE_F16},
      {"q8_0", VM_ASR_GTYPE_Q8_0}, {"q5_0", VM_ASR_GTYPE_Q5_0}};
  for (size_t i = 0; i < sizeof T / sizeof T[0]; i++)
    if (strcmp(s, T[i].n) == 0) {
      *out = T[i].t;
      return 0;
    }
  return -1;
}

static int parse_args(int argc, char **argv, vm_asr_gen_opts *o) {
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) return -1;
    i++;
    long n = strtol(v, NULL, 10);
    int32_t n32 = (int32_t)n;
    if (strcmp(a, "--preset") == 0) {
      size_t k = 0, np = sizeof PRESETS / sizeof PRESETS[0];
      while (k < np && strcmp(PRESETS[k].name, v) != 0) k++;
      if (k == np) return -1;
      set_preset(o, &PRESETS[k]);
    } else if (strcmp(a, "--type") == 0) {
      if (parse_type(v, &o->wtype) != 0) return -1;
    } else if (strcmp(a, "--seed") == 0) o->seed = strtoull(v, NULL, 10);
    else if (strcmp(a, "--vocab") == 0) o->vocab_path = v;
    else if (strcmp(a, "--n-vocab-stored") == 0) o->n_vocab_stored = n32;
    else if (strcmp(a, "--state") == 0) o->hp.n_audio_state = o->hp.n_text_state = n32;
    else if (strcmp(a, "--heads") == 0) o->hp.n_audio_head = o->hp.n_text_head = n32;
    else if (strcmp(a, "--audio-layers") == 0) o->hp.n_audio_layer = n32;
    else if (strcmp(a, "--text-layers") == 0) o->hp.n_text_layer = n32;
    else if (strcmp(a, "--audio-ctx") == 0) o->hp.n_audio_ctx = n32;
    else if (strcmp(a, "--text-ctx") == 0) o->hp.n_text_ctx = n32;
    else if (strcmp(a, "--mels") == 0) o->hp.n_mels = n32;
    else if (strcmp(a, "--n-vocab") == 0) o->hp.n_vocab = n32;
    else return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  vm_asr_gen_opts o;
  memset(&o, 0, sizeof o);
  set_preset(&o, &PRESETS[0]);
  o.hp.n_audio_ctx = 1500;
  o.hp.n_text_ctx = 448;
  o.wtype = VM_ASR_GTYPE_F16;
  o.seed = 1;
  o.n_vocab_stored = 1000;
  if (argc < 2 || argv[1][0] == '-' || parse_args(argc, argv, &o) != 0) return usage();
  vm_err err;
  vm_err_clear(&err);
  if (vm_asr_model_write_random(&o, argv[1], &err) != 0) {
    fprintf(stderr, "vm_make_model: %s\n", vm_err_text(&err));
    return 1;
  }
  printf("%s: n_vocab %d, state %d, heads %d, layers %d+%d, ctx %d/%d, mels %d, %s\n",
         argv[1], o.hp.n_vocab, o.hp.n_audio_state, o.hp.n_audio_head, o.hp.n_audio_layer,
         o.hp.n_text_layer, o.hp.n_audio_ctx, o.hp.n_text_ctx, o.hp.n_mels,
         vm__asr_gtype_name(o.wtype));
  return 0;
}
