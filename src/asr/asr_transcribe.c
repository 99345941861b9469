/* asr_transcribe.c — the transcription engine: long-form seeking and
 * batched chunks over the forward pass and the search.
 *
 * DESIGN: decode_windows() is the one path both modes take: a set of
 * windows (each a chunk of the current encode, all with prompts of one
 * length) goes through the temperature ladder; at each temperature the
 * windows that still need a fallback are decoded together, in groups that
 * fit the state's KV slots (n_seq_max / candidates). A prompt is decoded
 * in two calls, [<|startofprev|> previous..., <|startoftranscript|>] and
 * then [language, task, (no-timestamps)], because the logits at the sot
 * position give the no-speech probability and the language, and the
 * forward computes logits for the last position only.
 *
 * Long-form computes the log-mel of the whole recording once (the
 * reference's global clamp), then slides a 30 s window by `seek`; the last
 * window is padded with zeros in the log-mel domain, as the reference.
 * Batched chunks get the same mel treatment per chunk, so a chunk decoded
 * alone or in a batch gives the same tokens. */
#include "asr_transcribe.h"

#include <math.h>
#include <string.h>

#include "asr_cpu_pool.h"
#include "asr_decode_impl.h"
#include "asr_forward.h"
#include "asr_mel.h"
#include "asr_tokenizer.h"
#include "vm_alloc.h"

struct vm_asr_engine {
  vm_asr_model *own;        /* NULL when borrowed */
  const vm_asr_model *m;
  vm_asr_engine_opts eo;
  vm_asr_state *st;
  vm_asr_mel *mel;
  int n_seq_max, n_tokens_max, V;
  float *mels;              /* (n_batch_max, n_mels, 3000) */
  float *first;             /* (n_seq_max, V) logits after each prompt */
  int32_t *ptok;            /* (n_seq_max, n_tokens_max) prompt pieces */
  int *seq_chunk, *seq_slot;/* (n_seq_max) */
  const int *group_chunk;   /* window -> chunk of the encode, during a search */
  long n_windows;           /* windows encoded so far (statistics, tests) */
  vm_asr_pool *pool;        /* threads for the search's host work: the CPU
                               backend's (idle between steps) or own_pool;
                               NULL with one thread */
  vm_asr_pool *own_pool;
};

vm_asr_engine_opts vm_asr_engine_opts_default(void) {
  vm_asr_engine_opts o = {1, 1, 5, NULL};
  return o;
}

vm_asr_opts vm_asr_opts_default(void) {
  vm_asr_opts o;
  memset(&o, 0, sizeof o);
  o.temperature_inc = 0.2;
  o.condition_on_prev = 1;
  o.hallucination_filter = 1;
  o.halluc_no_speech = 0.3;
  o.halluc_logprob = -0.7;
  o.seed = 1;
  o.dec = vm_asr_decode_opts_default();
  return o;
}

const vm_asr_model *vm_asr_engine_model(const vm_asr_engine *e) { return e->m; }
size_t vm_asr_engine_state_bytes(const vm_asr_engine *e) { return vm_asr_state_bytes(e->st); }

void vm_asr_engine_destroy(vm_asr_engine *e) {
  if (!e) return;
  vm_asr_state_destroy(e->st);
  vm__asr_pool_destroy(e->own_pool);
  vm_asr_mel_destroy(e->mel);
  vm_free(e->mels);
  vm_free(e->first);
  vm_free(e->ptok);
  vm_free(e->seq_chunk);
  vm_free(e->seq_slot);
  vm_asr_model_destroy(e->own);
  vm_free(e);
}

int vm_asr_engine_create_with_model(const vm_asr_model *m, const vm_asr_engine_opts *opts,
                                    vm_asr_engine **out, vm_err *err) {
  const vm_asr_hparams *hp = vm_asr_model_hparams(m);
  int rc;
  *out = NULL;
  if (opts->n_threads < 1 || opts->n_batch_max < 1 || opts->n_batch_max > VM_ASR_BATCH_MAX ||
      opts->max_cand < 1 || opts->max_cand > 16)
    return vm_err_set(err, VM_EINVAL, "bad engine options (threads %d, batch %d 1..%d, "
                      "candidates %d 1..16)", opts->n_threads, opts->n_batch_max,
                      VM_ASR_BATCH_MAX, opts->max_cand);
  vm_asr_engine *e = vm_calloc(1, sizeof *e);
  if (!e) return vm_err_set(err, VM_ENOMEM, "out of memory");
  e->m = m;
  e->eo = *opts;
  e->V = hp->n_vocab;
  e->n_seq_max = opts->n_batch_max * opts->max_cand;
  /* tokens per decoder call: long prompts go in pieces (only the last
   * position's logits are needed, and the state keeps logits for
   * n_batch_max x n_tokens_max positions) */
  e->n_tokens_max = hp->n_text_ctx < 32 ? hp->n_text_ctx : 32;
  vm_asr_state_opts so = {opts->n_threads, opts->n_batch_max, e->n_tokens_max, opts->device,
                          e->n_seq_max};
  if ((rc = vm_asr_state_create(m, &so, &e->st, err)) != VM_OK) goto fail;
  rc = VM_ENOMEM;
  if (vm_asr_mel_create(vm_asr_model_mel_filters(m), hp->n_mels, &e->mel) != VM_OK) goto oom;
  size_t S = (size_t)e->n_seq_max;
  e->mels = vm_malloc((size_t)opts->n_batch_max * (size_t)hp->n_mels * VM_ASR_CHUNK_FRAMES *
                      sizeof(float));
  e->first = vm_malloc(S * (size_t)e->V * sizeof(float));
  e->ptok = vm_malloc(S * (size_t)e->n_tokens_max * sizeof(int32_t));
  e->seq_chunk = vm_malloc(S * sizeof(int));
  e->seq_slot = vm_malloc(S * sizeof(int));
  if (!e->mels || !e->first || !e->ptok || !e->seq_chunk || !e->seq_slot) goto oom;
  /* the search's logit filtering between decoder steps: on the CPU
   * backend's threads (idle then), else on threads of its own */
  e->pool = vm__asr_state_pool(e->st);
  if (!e->pool && opts->n_threads > 1) {
    if (vm__asr_pool_create(opts->n_threads, &e->own_pool) != VM_OK) goto oom;
    e->pool = e->own_pool;
  }
  if (e->pool && vm__asr_pool_n_threads(e->pool) < 2) e->pool = NULL;
  *out = e;
  return VM_OK;
oom:
  rc = vm_err_set(err, VM_ENOMEM, "out of memory for the transcription engine");
fail:
  vm_asr_engine_destroy(e);
  return rc;
}

int vm_asr_engine_create(const char *model_path, const vm_asr_engine_opts *opts,
                         vm_asr_engine **out, vm_err *err) {
  vm_asr_model *m = NULL;
  int rc = vm_asr_model_create_from_file(model_path, &m, err);
  *out = NULL;
  if (rc != VM_OK) return rc;
  if ((rc = vm_asr_engine_create_with_model(m, opts, out, err)) != VM_OK) {
    vm_asr_model_destroy(m);
    return rc;
  }
  (*out)->own = m;
  return VM_OK;
}

/* ---- The language-model interface over the forward state ---------------- */

static int lm_step(void *ctx, int n, const int32_t *tok, const int *win, const int *slot,
                   int n_past, const float **out_logits, vm_err *err) {
  vm_asr_engine *e = ctx;
  for (int i = 0; i < n; i++) e->seq_chunk[i] = e->group_chunk[win[i]];
  int rc = vm_asr_state_decode_seqs(e->st, n, tok, 1, n_past, e->seq_chunk, slot, err);
  *out_logits = vm_asr_state_seq_logits(e->st);
  return rc;
}

static int lm_kv_copy(void *ctx, int n, const int *dst, const int *src, int n_pos,
                      vm_err *err) {
  vm_asr_engine *e = ctx;
  return vm_asr_state_kv_copy(e->st, n, dst, src, n_pos, err);
}

/* ---- Windows through the temperature ladder ------------------------------ */

/* What decode_windows needs to know about each window. */
typedef struct win_job {
  int chunk;            /* chunk of the current encode */
  int lang;             /* language index; -1: detect (set on return) */
  vm_asr_result res;    /* the result used (last temperature tried) */
  double no_speech_prob, compression_ratio;
  vm_asr_rng rng;       /* this window's sampling (temperature > 0) */
} win_job;

/* Decodes the prompts of n windows (one sequence each, in slot
 * w * n_cand) and leaves the logits after them in e->first. */
static int decode_prompts(vm_asr_engine *e, const vm_asr_opts *o, win_job **jobs, int n,
                          const int32_t *prev, int n_prev, int n_cand, int first_try,
                          int *out_len, vm_err *err) {
  const vm_asr_special *sp = vm_asr_model_special(e->m);
  int la = (n_prev > 0 ? 1 + n_prev : 0) + 1, lb = 0, rc;
  for (int w = 0; w < n; w++) {
    e->seq_chunk[w] = jobs[w]->chunk;
    e->seq_slot[w] = w * n_cand;
  }
  /* [prev, previous text..., sot] in pieces of at most n_tokens_max */
  for (int off = 0; off < la; off += e->n_tokens_max) {
    int k = la - off < e->n_tokens_max ? la - off : e->n_tokens_max;
    for (int w = 0; w < n; w++)
      for (int i = 0; i < k; i++) {
        int j = off + i;
        e->ptok[(size_t)w * (size_t)k + (size_t)i] =
            j == la - 1 ? sp->sot : j == 0 ? sp->prev : prev[j - 1];
      }
    if ((rc = vm_asr_state_decode_seqs(e->st, n, e->ptok, k, off, e->seq_chunk, e->seq_slot,
                                       err)) != VM_OK)
      return rc;
  }
  const float *lg = vm_asr_state_seq_logits(e->st);
  for (int w = 0; w < n; w++) {
    const float *row = lg + (size_t)w * (size_t)e->V;
    if (first_try) jobs[w]->no_speech_prob = vm_asr_no_speech_prob(e->m, row);
    if (jobs[w]->lang < 0 && sp->multilingual) jobs[w]->lang = vm_asr_lang_detect(e->m, row, NULL);
  }
  int stride = (sp->multilingual ? 2 : 0) + (o->dec.timestamps ? 0 : 1);
  for (int w = 0; w < n; w++) { /* rows of `stride` tokens, back to back */
    int32_t *p = e->ptok + (size_t)w * (size_t)stride;
    lb = 0;
    if (sp->multilingual) {
      p[lb++] = sp->lang_first + (jobs[w]->lang >= 0 ? jobs[w]->lang : 0);
      p[lb++] = o->translate ? sp->translate : sp->transcribe;
    }
    if (!o->dec.timestamps) p[lb++] = sp->notimestamps;
  }
  if (lb > 0 && (rc = vm_asr_state_decode_seqs(e->st, n, e->ptok, lb, la, e->seq_chunk,
                                               e->seq_slot, err)) != VM_OK)
    return rc;
  memcpy(e->first, vm_asr_state_seq_logits(e->st), (size_t)n * (size_t)e->V * sizeof(float));
  *out_len = la + lb;
  return VM_OK;
}

static void lm_parallel(void *ctx, size_t n, void (*fn)(void *, size_t, size_t, int),
                        void *arg) {
  vm_asr_engine *e = ctx;
  vm__asr_pool_run(e->pool, n, 1, fn, arg);
}

static int lm_threads(const vm_asr_engine *e) {
  return e->pool ? vm__asr_pool_n_threads(e->pool) : 1;
}

/* One temperature for n windows (a group that fits the KV slots). */
static int decode_group(vm_asr_engine *e, const vm_asr_opts *o, const vm_asr_rules *r,
                        win_job **jobs, int n, const int32_t *prev, int n_prev, double temp,
                        int first_try, vm_err *err) {
  int n_cand = vm_asr_search_n_cand(&o->dec, temp), plen, rc;
  int group_chunk[VM_ASR_BATCH_MAX];
  vm_asr_rng rngs[VM_ASR_BATCH_MAX];
  vm_asr_result res[VM_ASR_BATCH_MAX];
  vm_asr_lm_i lm = {e, lm_step, lm_kv_copy, e->pool ? lm_parallel : NULL, lm_threads(e)};
  if ((rc = decode_prompts(e, o, jobs, n, prev, n_prev, n_cand, first_try, &plen, err)) != 0)
    return rc;
  for (int w = 0; w < n; w++) {
    group_chunk[w] = jobs[w]->chunk;
    rngs[w] = jobs[w]->rng;
  }
  e->group_chunk = group_chunk;
  rc = vm_asr_search_run(r, &o->dec, &lm, n, e->first, plen, vm_asr_model_hparams(e->m)->n_text_ctx,
                         temp, rngs, res, err);
  e->group_chunk = NULL;
  for (int w = 0; w < n; w++) jobs[w]->rng = rngs[w];
  if (rc != VM_OK) return rc;
  for (int w = 0; w < n; w++) { /* the jobs own the results from here */
    vm_asr_result_deinit(&jobs[w]->res);
    jobs[w]->res = res[w];
  }
  for (int w = 0; w < n; w++) {
    char *text = NULL;
    size_t len = 0;
    if (vm__asr_result_text(e->m, &res[w], &text, &len) != VM_OK)
      return vm_err_set(err, VM_ENOMEM, "out of memory");
    jobs[w]->compression_ratio = vm_asr_compression_ratio(text, len);
    vm_free(text);
  }
  return VM_OK;
}

/* The temperature ladder over n windows: those that need a fallback are
 * decoded again, together, at the next temperature. */
static int decode_windows(vm_asr_engine *e, const vm_asr_opts *o, const vm_asr_rules *r,
                          win_job *jobs, int n, const int32_t *prev, int n_prev,
                          vm_err *err) {
  win_job *left[VM_ASR_BATCH_MAX];
  int n_left = n, rc;
  for (int w = 0; w < n; w++) left[w] = &jobs[w];
  double t = o->temperature, inc = o->temperature_inc;
  for (int first = 1; n_left > 0; first = 0, t += inc) {
    int n_cand = vm_asr_search_n_cand(&o->dec, t), gmax = e->n_seq_max / n_cand;
    for (int g = 0; g < n_left; g += gmax) {
      int gn = n_left - g < gmax ? n_left - g : gmax;
      if ((rc = decode_group(e, o, r, left + g, gn, prev, n_prev, t, first, err)) != 0)
        return rc;
    }
    int keep = 0;
    int more = inc > 0.0 && t + inc <= 1.0 + 1e-6;
    for (int w = 0; w < n_left; w++)
      if (more && vm_asr_needs_fallback(&o->dec, left[w]->compression_ratio,
                                        left[w]->res.avg_logprob, left[w]->no_speech_prob))
        left[keep++] = left[w];
    n_left = keep;
  }
  return VM_OK;
}

/* ---- Shared set-up --------------------------------------------------------- */

int vm__asr_opts_max_cand(const vm_asr_opts *o) {
  int n = o->temperature <= 0.0 ? o->dec.beam_size : 1;
  if ((o->temperature > 0.0 || o->temperature_inc > 0.0) && o->dec.best_of > n)
    n = o->dec.best_of;
  return n;
}

static int opts_check(const vm_asr_engine *e, const vm_asr_opts *o, int *out_lang,
                      vm_err *err) {
  const vm_asr_special *sp = vm_asr_model_special(e->m);
  int n_cand = vm__asr_opts_max_cand(o);
  *out_lang = -1;
  if (n_cand > e->eo.max_cand)
    return vm_err_set(err, VM_EINVAL, "beam size / best-of %d is above the engine's %d",
                      n_cand, e->eo.max_cand);
  if (!(o->temperature >= 0.0 && o->temperature <= 1.0) || !(o->temperature_inc >= 0.0))
    return vm_err_set(err, VM_EINVAL, "temperature must be in 0..1");
  if (o->language && *o->language && strcmp(o->language, "auto") != 0) {
    if (!sp->multilingual) {
      if (strcmp(o->language, "en") != 0)
        return vm_err_set(err, VM_EINVAL, "this model is English-only (language '%s')",
                          o->language);
    } else if ((*out_lang = vm_asr_token_lang(e->m, o->language) - sp->lang_first) < 0) {
      return vm_err_set(err, VM_EINVAL, "unknown language '%s' for this model", o->language);
    }
  }
  return VM_OK;
}

static int lang_set(vm_transcript *t, const vm_asr_model *m, int lang) {
  const char *code = vm_asr_model_special(m)->multilingual ? vm_asr_lang_code(lang) : "en";
  return code ? vm_transcript_set_language(t, code) : VM_OK;
}

/* Mel of frames [seek, seek + n) of all (n_mels, n_total) into out
 * (n_mels, 3000), zeros after n. */
static void window_mel(const float *all, size_t n_total, int n_mels, size_t seek, size_t n,
                       float *out) {
  for (int b = 0; b < n_mels; b++) {
    float *row = out + (size_t)b * VM_ASR_CHUNK_FRAMES;
    memcpy(row, all + (size_t)b * n_total + seek, n * sizeof(float));
    memset(row + n, 0, (VM_ASR_CHUNK_FRAMES - n) * sizeof(float));
  }
}

/* ---- Long-form ------------------------------------------------------------ */

typedef struct file_run {
  vm_asr_engine *e;
  const vm_asr_opts *o;
  vm_asr_rules *r;
  float *mel_all;       /* (n_mels, n_total) */
  size_t n_total, n_content; /* frames: all, and those of the audio */
  vm__asr_tokvec all;   /* tokens of the kept segments (the prompt source) */
  size_t prompt_from;   /* prompt reset point in all */
  vm__asr_carry carry;
  vm_asr_rng rng;
  int lang;
} file_run;

/* One window at seek. OUT: *out_seek (frames to advance). */
static int file_window(file_run *f, vm_transcript *t, size_t seek, int *out_seek,
                       vm_err *err) {
  vm_asr_engine *e = f->e;
  const vm_asr_opts *o = f->o;
  int n_mels = vm_asr_model_hparams(e->m)->n_mels, rc, looped = 0;
  size_t n = f->n_content - seek < VM_ASR_CHUNK_FRAMES ? f->n_content - seek : VM_ASR_CHUNK_FRAMES;
  window_mel(f->mel_all, f->n_total, n_mels, seek, n, e->mels);
  if ((rc = vm_asr_state_encode(e->st, e->mels, 1, err)) != VM_OK) return rc;
  e->n_windows++;
  int half = vm_asr_model_hparams(e->m)->n_text_ctx / 2;
  size_t max_prev = half > 1 ? (size_t)(half - 1) : 0; /* the reference's n_ctx // 2 - 1 */
  size_t n_prev = o->condition_on_prev ? f->all.n - f->prompt_from : 0;
  if (n_prev > max_prev) n_prev = max_prev;
  win_job job = {0, f->lang, {0}, 0.0, 0.0, f->rng};
  rc = decode_windows(e, o, f->r, &job, 1, f->all.v + f->all.n - n_prev, (int)n_prev, err);
  f->rng = job.rng;
  if (rc == VM_OK && f->lang < 0) {
    f->lang = job.lang;
    rc = lang_set(t, e->m, f->lang);
  }
  *out_seek = (int)n;
  if (rc != VM_OK || vm_asr_window_is_silent(&o->dec, job.res.avg_logprob, job.no_speech_prob))
    goto out;
  vm__asr_window w = {(double)seek * 0.01, (int)n, job.no_speech_prob, job.compression_ratio,
                      o->dec.timestamps, 0};
  vm__asr_guard g = {o->hallucination_filter, o->halluc_no_speech, o->halluc_logprob};
  if ((rc = vm__asr_window_segments(e->m, &g, &w, &job.res, &f->carry, t, &f->all, out_seek,
                                    &looped)) != VM_OK) {
    rc = vm_err_set(err, rc, "out of memory for the transcript");
    goto out;
  }
  if (!o->condition_on_prev || job.res.temperature > 0.5 || looped) f->prompt_from = f->all.n;
out:
  vm_asr_result_deinit(&job.res);
  return rc;
}

int vm_asr_transcribe_file(vm_asr_engine *e, const float *pcm, size_t n_samples,
                           const vm_asr_opts *o, vm_transcript **out, vm_err *err) {
  file_run f;
  int rc, n_mels = vm_asr_model_hparams(e->m)->n_mels;
  memset(&f, 0, sizeof f);
  *out = NULL;
  if ((rc = opts_check(e, o, &f.lang, err)) != VM_OK) return rc;
  vm_transcript *t = vm_transcript_create();
  f.e = e;
  f.o = o;
  vm_asr_rng_seed(&f.rng, o->seed);
  f.n_total = vm_asr_mel_n_frames(n_samples);
  f.n_content = f.n_total - VM_ASR_CHUNK_FRAMES;
  f.mel_all = vm_malloc((size_t)n_mels * f.n_total * sizeof(float));
  if (!t || !f.mel_all || vm_transcript_set_source(t, "whisper") != VM_OK ||
      (f.lang >= 0 && lang_set(t, e->m, f.lang) != VM_OK)) {
    rc = vm_err_set(err, VM_ENOMEM, "out of memory for %zu s of log-mel", n_samples / 16000);
    goto out;
  }
  if ((rc = vm_asr_rules_create(e->m, &o->dec, &f.r, err)) != VM_OK) goto out;
  if ((rc = vm_asr_mel_compute(e->mel, pcm, n_samples, f.mel_all, f.n_total)) != VM_OK) {
    rc = vm_err_set(err, rc, "log-mel failed");
    goto out;
  }
  for (size_t seek = 0; seek < f.n_content;) {
    int adv = 0;
    if (o->cancel && atomic_load(o->cancel)) {
      rc = vm_err_set(err, VM_ECANCELED, "transcription canceled at %.2f s", (double)seek * 0.01);
      goto out;
    }
    if ((rc = file_window(&f, t, seek, &adv, err)) != VM_OK) goto out;
    seek += (size_t)adv;
  }
  *out = t;
  t = NULL;
out:
  vm_transcript_destroy(t);
  vm_asr_rules_destroy(f.r);
  vm_free(f.mel_all);
  vm__asr_tokvec_deinit(&f.all);
  return rc;
}

/* ---- Batched chunks ------------------------------------------------------- */

/* A chunk's own sampling sequence, from the seed and where the chunk lies
 * in its file: the same chunk samples the same way in any batch. */
static vm_asr_rng chunk_rng(uint64_t seed, const vm_asr_chunk *c) {
  uint64_t h = seed ^ 0x9e3779b97f4a7c15ull;
  uint64_t parts[2] = {(uint64_t)llround(c->offset_s * 16000.0), (uint64_t)c->n_samples};
  for (int k = 0; k < 2; k++) {
    h ^= parts[k] + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xbf58476d1ce4e5b9ull;
  }
  vm_asr_rng g;
  vm_asr_rng_seed(&g, h);
  return g;
}

/* Encodes chunks[0..n) and decodes them as windows without a prompt
 * into jobs[0..n) (results to deinit, also on failure). */
static int chunk_decode(vm_asr_engine *e, const vm_asr_opts *o, const vm_asr_rules *r,
                        const vm_asr_chunk *ch, int n, int lang, const int32_t *prev,
                        int n_prev, uint64_t seed, win_job *jobs, vm_err *err) {
  int n_mels = vm_asr_model_hparams(e->m)->n_mels, rc = VM_OK;
  size_t per = (size_t)n_mels * VM_ASR_CHUNK_FRAMES;
  memset(jobs, 0, (size_t)n * sizeof *jobs);
  for (int c = 0; c < n; c++) { /* the chunk's own log-mel, as in long-form */
    float *mel = e->mels + (size_t)c * per;
    if ((rc = vm_asr_mel_compute(e->mel, ch[c].pcm, ch[c].n_samples, mel,
                                 VM_ASR_CHUNK_FRAMES)) != VM_OK)
      return vm_err_set(err, rc, "log-mel failed");
    size_t n_content = ch[c].n_samples / VM_ASR_HOP;
    for (int b = 0; b < n_mels; b++)
      memset(mel + (size_t)b * VM_ASR_CHUNK_FRAMES + n_content, 0,
             (VM_ASR_CHUNK_FRAMES - n_content) * sizeof(float));
    jobs[c].chunk = c;
    jobs[c].lang = lang;
    jobs[c].rng = chunk_rng(seed, &ch[c]);
  }
  if ((rc = vm_asr_state_encode(e->st, e->mels, n, err)) != VM_OK) return rc;
  e->n_windows += n;
  return decode_windows(e, o, r, jobs, n, prev, n_prev, err);
}

/* chunk_decode, then the segments of each chunk into its file's transcript. */
static int chunk_batch(vm_asr_engine *e, const vm_asr_opts *o, const vm_asr_rules *r,
                       const vm_asr_chunk *ch, int n, int lang, uint64_t seed,
                       vm_transcript **outs, vm_err *err) {
  win_job jobs[VM_ASR_BATCH_MAX];
  int rc = chunk_decode(e, o, r, ch, n, lang, NULL, 0, seed, jobs, err);
  if (rc != VM_OK) goto out;
  vm__asr_guard g = {o->hallucination_filter, o->halluc_no_speech, o->halluc_logprob};
  for (int c = 0; c < n && rc == VM_OK; c++) {
    vm_transcript *t = outs[ch[c].file];
    if (!t->language && (rc = lang_set(t, e->m, jobs[c].lang)) != VM_OK) break;
    if (vm_asr_window_is_silent(&o->dec, jobs[c].res.avg_logprob, jobs[c].no_speech_prob))
      continue;
    vm__asr_window w = {ch[c].offset_s, (int)(ch[c].n_samples / VM_ASR_HOP),
                        jobs[c].no_speech_prob, jobs[c].compression_ratio, o->dec.timestamps, 1};
    int seek, looped;
    vm__asr_carry carry = {{0}, 0}; /* chunks are independent: no carry between them */
    rc = vm__asr_window_segments(e->m, &g, &w, &jobs[c].res, &carry, t, NULL, &seek, &looped);
  }
  if (rc != VM_OK) rc = vm_err_set(err, rc, "out of memory for the transcript");
out:
  for (int c = 0; c < n; c++) vm_asr_result_deinit(&jobs[c].res);
  return rc;
}

int vm_asr_transcribe_chunks(vm_asr_engine *e, const vm_asr_chunk *chunks, size_t n_chunks,
                             const vm_asr_opts *o, int n_files, vm_transcript **outs,
                             vm_err *err) {
  int lang, rc;
  vm_asr_rules *r = NULL;
  for (int f = 0; f < n_files; f++) outs[f] = NULL;
  if ((rc = opts_check(e, o, &lang, err)) != VM_OK) return rc;
  if (n_files < 1) return vm_err_set(err, VM_EINVAL, "no output files");
  for (size_t c = 0; c < n_chunks; c++)
    if (chunks[c].file < 0 || chunks[c].file >= n_files || !chunks[c].pcm ||
        chunks[c].n_samples == 0 || chunks[c].n_samples > VM_ASR_CHUNK_SAMPLES ||
        !(chunks[c].offset_s >= 0.0) || !isfinite(chunks[c].offset_s))
      return vm_err_set(err, VM_EINVAL, "chunk %zu: bad file index %d, length %zu samples "
                        "(1..480000) or offset %g s", c, chunks[c].file, chunks[c].n_samples,
                        chunks[c].offset_s);
  rc = VM_OK;
  for (int f = 0; f < n_files && rc == VM_OK; f++) {
    if (!(outs[f] = vm_transcript_create()) || vm_transcript_set_source(outs[f], "whisper") ||
        (lang >= 0 && lang_set(outs[f], e->m, lang)))
      rc = VM_ENOMEM;
  }
  if (rc != VM_OK) {
    rc = vm_err_set(err, rc, "out of memory");
    goto out;
  }
  if ((rc = vm_asr_rules_create(e->m, &o->dec, &r, err)) != VM_OK) goto out;
  for (size_t c = 0; c < n_chunks; c += (size_t)e->eo.n_batch_max) {
    int n = n_chunks - c < (size_t)e->eo.n_batch_max ? (int)(n_chunks - c) : e->eo.n_batch_max;
    if (o->cancel && atomic_load(o->cancel)) {
      rc = vm_err_set(err, VM_ECANCELED, "transcription canceled at chunk %zu", c);
      goto out;
    }
    if ((rc = chunk_batch(e, o, r, chunks + c, n, lang, o->seed, outs, err)) != VM_OK)
      goto out;
  }
  for (int f = 0; f < n_files; f++) vm_transcript_sort(outs[f]);
out:
  if (rc != VM_OK)
    for (int f = 0; f < n_files; f++) {
      vm_transcript_destroy(outs[f]);
      outs[f] = NULL;
    }
  vm_asr_rules_destroy(r);
  return rc;
}

/* ---- Internal (tests, diagnostics) ------------------------------------- */

int vm__asr_engine_decode(vm_asr_engine *e, const vm_asr_chunk *ch, int n,
                          const int32_t *prev, int n_prev, const vm_asr_opts *o,
                          vm_asr_result *out, double *out_nsp, int *out_lang, vm_err *err) {
  win_job jobs[VM_ASR_BATCH_MAX];
  vm_asr_rules *r = NULL;
  int lang, rc;
  if (n < 1 || n > e->eo.n_batch_max)
    return vm_err_set(err, VM_EINVAL, "%d chunks (1..%d)", n, e->eo.n_batch_max);
  for (int c = 0; c < n; c++)
    if (!ch[c].pcm || ch[c].n_samples == 0 || ch[c].n_samples > VM_ASR_CHUNK_SAMPLES)
      return vm_err_set(err, VM_EINVAL, "chunk %d: bad length", c);
  if (n_prev < 0 || n_prev > vm_asr_model_hparams(e->m)->n_text_ctx / 2 - 1)
    return vm_err_set(err, VM_EINVAL, "%d prompt tokens", n_prev);
  if ((rc = opts_check(e, o, &lang, err)) != VM_OK) return rc;
  if ((rc = vm_asr_rules_create(e->m, &o->dec, &r, err)) != VM_OK) return rc;
  rc = chunk_decode(e, o, r, ch, n, lang, prev, n_prev, o->seed, jobs, err);
  for (int c = 0; c < n; c++) {
    if (rc == VM_OK) {
      out[c] = jobs[c].res;
      out_nsp[c] = jobs[c].no_speech_prob;
      out_lang[c] = jobs[c].lang;
    } else {
      vm_asr_result_deinit(&jobs[c].res);
    }
  }
  vm_asr_rules_destroy(r);
  return rc;
}

long vm__asr_engine_n_windows(const vm_asr_engine *e) { return e->n_windows; }
