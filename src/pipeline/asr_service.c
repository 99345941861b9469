/* asr_service.c — Whisper engines on GPUs or the CPU for the pipeline.
 *
 * DESIGN (docs/gpu.md). A round takes every request waiting, flattens their
 * chunks (chunk k of the round is its own "file" k for the engine, so any
 * subset can be transcribed alone) and runs them:
 *   - GPUs: vm_device_exec_run over the active slots. The engine of a slot
 *     allocated its batch memory when it was created (sized then from the
 *     device's free memory minus the model: vm_device_batch_size), so the
 *     executor runs at the engine's capacity, halving on out-of-memory.
 *     Simulated GPUs (tests) run the CPU engine and allocate each batch's
 *     memory on the simulated device, so the executor re-reads free memory
 *     between micro-batches and the simulation's injected faults land in
 *     the middle of real transcription.
 *   - Out-of-memory in a batch: the executor halves; a real engine (whose
 *     CUDA errors are sticky) is dropped first and re-created, sized from
 *     the free memory then, by the next batch.
 *   - A batch that fails with VM_EGPU (the context is broken) tears the
 *     slot's engine down and brings it up again (create, warm-up, with
 *     retries), then redoes the batch once; if the slot cannot come back it
 *     is lost: the executor hands its chunks to the other GPUs, and what no
 *     GPU could run goes to the CPU engine with --device auto.
 *   - CPU: the CPU engine over all chunks of the round in one call; if that
 *     fails (not canceled), each request is retried alone so that one bad
 *     file fails only itself.
 * Then each request's chunk transcripts are merged in chunk order.
 *
 * LOCKING. s->mu guards the request queue, `running` and the counters read
 * by readings(). A round runs without s->mu. The executor calls batch_fn
 * from one thread per GPU; each touches only its own slot (its engine and
 * counters, read by readings() under slot->mu). The CPU engine has its own
 * mutex (GPU workers may fall back to it at the same time).
 */
#include "asr_service.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "vm_alloc.h"
#include "vm_json.h"
#include "vm_log.h"
#include "vm_sys.h"

#define MIB (1024.0 * 1024.0)
#define MAX_SIM_FAULTS 32

typedef struct engine_box {
  vm_asr_engine *e;
  void *mem;          /* sim: the model's share of device memory */
  size_t mem_bytes;
} engine_box;

typedef struct slot {
  struct vm_asr_service *svc;
  int i_device;
  vm_device_service *up;    /* NULL: not running (non-resident, or lost) */
  int lost;                 /* gave up: no more work on this GPU */
  char lost_reason[160];
  pthread_mutex_t mu;       /* the counters below, for readings() */
  long n_batches, n_chunks, n_restarts;
  int max_batch, cap;
  int64_t engine_bytes;
} slot;

struct vm_asr_service {
  vm_asr_service_config cfg;
  int *devices;             /* copy of cfg.devices */
  vm_asr_model *model;
  vm_device *dev;           /* real or simulated GPUs; NULL in CPU mode */
  int sim;
  slot *slots;
  int n_slots;
  vm_device_model_dims dims;
  int64_t chunk_bytes;      /* one chunk in flight, f32, max_cand beams */
  vm_device_batch_limits limits;
  vm_device_service_config up_cfg;
  /* CPU engine: CPU mode, or fallback */
  vm_asr_engine *cpu;
  pthread_mutex_t cpu_mu;
  char cpu_reason[256];     /* why chunks run on the CPU ("" for none) */
  /* rounds */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct request *queue;
  int running;
  long n_rounds, n_round_chunks, n_oom, n_lost, n_cpu_chunks, n_failed;
};

typedef struct request {
  const vm_asr_chunk *chunks;
  size_t n;
  const vm_asr_opts *o;
  vm_transcript *out;
  int rc;
  vm_err err;
  int done;
  struct request *next;
} request;

typedef struct asr_round {
  vm_asr_service *s;
  const vm_asr_opts *o;     /* the first request's: one run asks with one set */
  vm_asr_chunk *chunks;     /* (n) chunk k has file k */
  vm_transcript **outs;     /* (n) */
  size_t n;
} asr_round;

/* ---- engines ----------------------------------------------------------- */

static int cpu_engine(vm_asr_service *s, vm_err *err) {
  if (s->cpu) return VM_OK;
  vm_asr_engine_opts eo = vm_asr_engine_opts_default();
  eo.n_threads = s->cfg.n_threads > 0 ? s->cfg.n_threads : vm_sys_ncores();
  eo.max_cand = s->cfg.max_cand;
  vm_device_batch_limits lim = s->limits;
  lim.max_batch = lim.max_batch < 4 ? lim.max_batch : 4; /* more gains nothing on a CPU */
  int64_t avail = vm_sys_mem_available_bytes();
  vm_device_batch_size(avail > 0 ? avail : (int64_t)1 << 30, s->chunk_bytes, &lim,
                       &eo.n_batch_max);
  return vm_asr_engine_create_with_model(s->model, &eo, &s->cpu, err);
}

static void box_destroy(vm_asr_service *s, engine_box *b, int i_device) {
  if (!b) return;
  vm_asr_engine_destroy(b->e);
  if (b->mem) vm_device_mem_free(s->dev, i_device, b->mem, b->mem_bytes);
  vm_free(b);
}

/* Host threads of one GPU engine: the run's --threads (or the cores)
 * shared among the GPUs, 1 to 8 (a step has a few dozen filter tasks at
 * most). */
static int host_threads(const vm_asr_service *s) {
  int t = s->cfg.n_threads > 0 ? s->cfg.n_threads : vm_sys_ncores();
  t /= s->n_slots > 0 ? s->n_slots : 1;
  return t < 1 ? 1 : t > 8 ? 8 : t;
}

/* Create: the engine on GPU i with as many chunks per forward as fit in
 * the free memory after the model (halving if the allocation fails). */
static int eng_create(void *user, vm_device *dev, int i, void **out, vm_err *err) {
  slot *sl = user;
  vm_asr_service *s = sl->svc;
  engine_box *b = vm_calloc(1, sizeof *b);
  vm_device_info info;
  int rc, n = 1;
  if (!b) return vm_err_set(err, VM_ENOMEM, "out of memory");
  if ((rc = vm_device_info_get(dev, i, &info, err)) != VM_OK) goto fail;
  int64_t model = (int64_t)vm_asr_model_bytes(s->model);
  vm_device_batch_size(info.free_bytes - model, s->chunk_bytes, &s->limits, &n);
  if (n > VM_ASR_BATCH_MAX) n = VM_ASR_BATCH_MAX;
  if (s->sim) {
    b->mem_bytes = (size_t)model;
    if ((rc = vm_device_mem_alloc(dev, i, b->mem_bytes, &b->mem, err)) != VM_OK) goto fail;
  }
  char name[32];
  snprintf(name, sizeof name, "cuda:%d", i);
  for (;;) {
    vm_asr_engine_opts eo = vm_asr_engine_opts_default();
    /* the GPU runs the model; these host threads filter each step's
     * logits (the search's tasks), the cores shared among the GPUs */
    eo.n_threads = host_threads(s);
    eo.n_batch_max = n;
    eo.max_cand = s->cfg.max_cand;
    eo.device = s->sim ? "cpu" : name;
    rc = vm_asr_engine_create_with_model(s->model, &eo, &b->e, err);
    if (rc != VM_ENOMEM || n == 1) break;
    n /= 2;
  }
  if (rc != VM_OK) goto fail;
  pthread_mutex_lock(&sl->mu);
  sl->cap = n; /* chunks per forward: the engine's n_batch_max */
  /* CUDA: the state's bytes include its copy of the weights on the GPU */
  sl->engine_bytes = (int64_t)vm_asr_engine_state_bytes(b->e);
  pthread_mutex_unlock(&sl->mu);
  *out = b;
  return VM_OK;
fail:
  box_destroy(s, b, i);
  return rc;
}

/* Warm-up: one second of a generated vowel-like tone, greedy, a few
 * tokens; proves the engine runs before any file depends on it. */
static int eng_warmup(void *user, void *engine, vm_err *err) {
  (void)user;
  engine_box *b = engine;
  enum { N = 16000 };
  float *pcm = vm_malloc(N * sizeof *pcm);
  if (!pcm) return vm_err_set(err, VM_ENOMEM, "out of memory");
  for (int k = 0; k < N; k++)
    pcm[k] = 0.05f * (float)(sin(2 * M_PI * 140.0 * k / 16000.0) +
                             0.5 * sin(2 * M_PI * 280.0 * k / 16000.0));
  vm_asr_chunk ch = {0, 0.0, pcm, N};
  vm_asr_opts o = vm_asr_opts_default();
  o.language = "en";
  o.temperature_inc = 0;
  o.dec.beam_size = 1;
  o.dec.max_tokens = 4;
  vm_transcript *t = NULL;
  int rc = vm_asr_transcribe_chunks(b->e, &ch, 1, &o, 1, &t, err);
  vm_transcript_destroy(t);
  vm_free(pcm);
  return rc;
}

static void eng_destroy(void *user, void *engine) {
  slot *sl = user;
  box_destroy(sl->svc, engine, sl->i_device);
  pthread_mutex_lock(&sl->mu);
  sl->engine_bytes = 0;
  pthread_mutex_unlock(&sl->mu);
}

static const vm_device_engine_ops g_ops = {eng_create, eng_warmup, eng_destroy};

/* The slot gives up for the rest of the run. */
static void slot_lose(slot *sl, const vm_err *why) {
  pthread_mutex_lock(&sl->mu);
  sl->lost = 1;
  snprintf(sl->lost_reason, sizeof sl->lost_reason, "%s", vm_err_text(why));
  pthread_mutex_unlock(&sl->mu);
  vm_log(VM_LOG_WARN, "GPU %d: %s", sl->i_device, vm_err_text(why));
}

/* Brings slot's engine up (create, warm-up, retries). VM_OK, or the slot
 * is lost with the reason. */
static int slot_up(slot *sl) {
  vm_asr_service *s = sl->svc;
  vm_err e;
  vm_err_clear(&e);
  if (sl->up || sl->lost) return sl->lost ? VM_EGPU : VM_OK;
  vm_device_service_config c = s->up_cfg;
  c.mode = VM_DEVICE_MODE_CUDA; /* the fallback decision is ours, per round */
  int rc = vm_device_service_open(s->dev, sl->i_device, &c, &g_ops, sl, &sl->up, &e);
  if (rc != VM_OK) {
    sl->up = NULL;
    slot_lose(sl, &e);
  }
  return rc;
}

static void slot_down(slot *sl) {
  vm_device_service_close(sl->up);
  sl->up = NULL;
}

/* ---- one micro-batch ------------------------------------------------------ */

static slot *slot_of(vm_asr_service *s, int i_device) {
  for (int k = 0; k < s->n_slots; k++)
    if (s->slots[k].i_device == i_device) return &s->slots[k];
  return NULL;
}

static int cap_fn(void *user, int i_device) {
  slot *sl = slot_of(((asr_round *)user)->s, i_device);
  if (!sl) return 1;
  pthread_mutex_lock(&sl->mu);
  int cap = sl->cap > 0 ? sl->cap : 1;
  pthread_mutex_unlock(&sl->mu);
  return cap;
}

/* Chunks [first, first + n) of the round on the slot's engine. */
static int run_on_slot(asr_round *r, slot *sl, int first, int n, vm_err *err) {
  vm_asr_service *s = r->s;
  engine_box *b = vm_device_service_engine_get(sl->up);
  vm_asr_chunk local[VM_ASR_BATCH_MAX];
  void *mem = NULL;
  size_t bytes = (size_t)n * (size_t)s->chunk_bytes;
  int rc;
  if (n > VM_ASR_BATCH_MAX) return vm_err_set(err, VM_ENOMEM, "batch of %d chunks", n);
  if (s->sim && (rc = vm_device_mem_alloc(s->dev, sl->i_device, bytes, &mem, err)) != VM_OK)
    return rc;
  for (int k = 0; k < n; k++) {
    local[k] = r->chunks[first + k];
    local[k].file = k;
  }
  rc = vm_asr_transcribe_chunks(b->e, local, (size_t)n, r->o, n, r->outs + first, err);
  if (mem) vm_device_mem_free(s->dev, sl->i_device, mem, bytes);
  return rc;
}

static int batch_fn(void *user, vm_device *dev, int i_device, int first, int n, vm_err *err) {
  (void)dev;
  asr_round *r = user;
  slot *sl = slot_of(r->s, i_device);
  if (!sl) return vm_err_set(err, VM_EINTERNAL, "GPU %d has no engine", i_device);
  int rc = slot_up(sl);
  if (rc != VM_OK) return vm_err_set(err, VM_EGPU, "GPU %d: %s", i_device, sl->lost_reason);
  rc = run_on_slot(r, sl, first, n, err);
  if (rc == VM_EGPU) { /* broken context: re-create the engine, redo once */
    vm_log(VM_LOG_WARN, "GPU %d: %s; re-creating its engine", i_device, vm_err_text(err));
    slot_down(sl);
    pthread_mutex_lock(&sl->mu);
    sl->n_restarts++;
    pthread_mutex_unlock(&sl->mu);
    vm_err_clear(err);
    if ((rc = slot_up(sl)) != VM_OK)
      return vm_err_set(err, VM_EGPU, "GPU %d: %s", i_device, sl->lost_reason);
    rc = run_on_slot(r, sl, first, n, err);
    if (rc == VM_EGPU) {
      slot_down(sl);
      slot_lose(sl, err);
    }
  }
  if (rc == VM_ENOMEM && !r->s->sim) {
    /* a CUDA engine's error is sticky: the halved retry gets a new engine,
     * sized from the free memory then (the next slot_up) */
    slot_down(sl);
  }
  if (rc == VM_OK) {
    pthread_mutex_lock(&sl->mu);
    sl->n_batches++;
    sl->n_chunks += n;
    if (n > sl->max_batch) sl->max_batch = n;
    pthread_mutex_unlock(&sl->mu);
  }
  return rc;
}

/* ---- rounds --------------------------------------------------------------- */

/* Chunks [k in idx] on the CPU engine (fallback or CPU mode). */
static int run_on_cpu(asr_round *r, const size_t *idx, size_t n, vm_err *err) {
  vm_asr_service *s = r->s;
  vm_asr_chunk *local = vm_malloc((n ? n : 1) * sizeof *local);
  vm_transcript **outs = vm_malloc((n ? n : 1) * sizeof *outs);
  int rc = local && outs ? VM_OK : vm_err_set(err, VM_ENOMEM, "out of memory");
  for (size_t k = 0; rc == VM_OK && k < n; k++) {
    local[k] = r->chunks[idx[k]];
    local[k].file = (int)k;
  }
  pthread_mutex_lock(&s->cpu_mu);
  if (rc == VM_OK) rc = cpu_engine(s, err);
  if (rc == VM_OK && n > 0)
    rc = vm_asr_transcribe_chunks(s->cpu, local, n, r->o, (int)n, outs, err);
  pthread_mutex_unlock(&s->cpu_mu);
  for (size_t k = 0; rc == VM_OK && k < n; k++) r->outs[idx[k]] = outs[k];
  if (rc == VM_OK) {
    pthread_mutex_lock(&s->mu);
    s->n_cpu_chunks += (long)n;
    pthread_mutex_unlock(&s->mu);
  }
  vm_free(local);
  vm_free(outs);
  return rc;
}

/* One request's chunk transcripts, in chunk order, into one transcript. */
static int merge(asr_round *r, size_t first, size_t n, vm_transcript **out) {
  vm_transcript *t = vm_transcript_create();
  int rc = t && vm_transcript_set_source(t, "whisper") == VM_OK ? VM_OK : VM_ENOMEM;
  for (size_t k = first; rc == VM_OK && k < first + n; k++) {
    const vm_transcript *c = r->outs[k];
    if (!c) continue;
    if (!t->language && c->language) rc = vm_transcript_set_language(t, c->language);
    for (size_t i = 0; rc == VM_OK && i < c->n_segments; i++) {
      const vm_tr_segment *g = &c->segments[i];
      rc = vm_transcript_add(t, g->start_s, g->end_s, g->text, (size_t)-1, g->speaker, &g->asr);
    }
  }
  if (rc != VM_OK) {
    vm_transcript_destroy(t);
    return VM_ENOMEM;
  }
  vm_transcript_sort(t);
  *out = t;
  return VM_OK;
}

static void fail_request(request *q, int rc, const vm_err *e) {
  if (q->rc != VM_OK) return;
  q->rc = rc;
  q->err = *e;
}

/* GPUs: the executor over the active slots; chunks no GPU could run go to
 * the CPU with --device auto. Per-chunk outcome in st[k] (VM_OK or why). */
static void round_gpu(asr_round *r, int *st, vm_err *errs) {
  vm_asr_service *s = r->s;
  int ids[64], n_ids = 0;
  for (int k = 0; k < s->n_slots && n_ids < 64; k++)
    if (slot_up(&s->slots[k]) == VM_OK) ids[n_ids++] = s->slots[k].i_device;
  vm_device_chunk_result *res = vm_calloc(r->n, sizeof *res);
  size_t *to_cpu = vm_calloc(r->n, sizeof *to_cpu);
  size_t n_cpu = 0;
  vm_err e;
  vm_err_clear(&e);
  if (!res || !to_cpu) {
    vm_err_set(&e, VM_ENOMEM, "out of memory");
    for (size_t k = 0; k < r->n; k++) st[k] = VM_ENOMEM, errs[k] = e;
    goto out;
  }
  if (n_ids > 0) {
    vm_device_exec_config c = {.n_chunks = (int)r->n, .chunk_bytes = s->chunk_bytes,
                               .limits = s->limits, .fn = batch_fn, .user = r,
                               .cap = cap_fn, .preallocated = !s->sim};
    vm_device_exec_stats es;
    if (vm_device_exec_run(s->dev, ids, n_ids, &c, res, &es, &e) != VM_OK) {
      for (size_t k = 0; k < r->n; k++) res[k].status = e.code ? e.code : VM_EINTERNAL,
                                       snprintf(res[k].reason, sizeof res[k].reason, "%s",
                                                vm_err_text(&e));
    }
    pthread_mutex_lock(&s->mu);
    s->n_oom += es.n_oom;
    s->n_lost += es.n_lost;
    pthread_mutex_unlock(&s->mu);
  } else {
    for (size_t k = 0; k < r->n; k++) {
      res[k].status = VM_EGPU;
      snprintf(res[k].reason, sizeof res[k].reason, "no GPU left: %.140s",
               s->n_slots ? s->slots[0].lost_reason : "none");
    }
  }
  for (size_t k = 0; k < r->n; k++) {
    st[k] = res[k].status;
    vm_err_clear(&errs[k]);
    if (st[k] != VM_OK) vm_err_set(&errs[k], st[k], "%s", res[k].reason);
    if (st[k] == VM_EGPU && s->cfg.mode == VM_ASR_DEVICE_AUTO) to_cpu[n_cpu++] = k;
  }
  if (n_cpu > 0) {
    pthread_mutex_lock(&s->mu);
    if (!s->cpu_reason[0])
      snprintf(s->cpu_reason, sizeof s->cpu_reason, "fallback after GPU loss: %s",
               vm_err_text(&errs[to_cpu[0]]));
    pthread_mutex_unlock(&s->mu);
    vm_log(VM_LOG_WARN, "%zu chunk(s) no GPU could run go to the CPU engine", n_cpu);
    int rc = run_on_cpu(r, to_cpu, n_cpu, &e);
    for (size_t k = 0; k < n_cpu; k++) {
      st[to_cpu[k]] = rc;
      if (rc != VM_OK) errs[to_cpu[k]] = e;
    }
  }
out:
  vm_free(res);
  vm_free(to_cpu);
}

static void run_round(vm_asr_service *s, request *list) {
  size_t n = 0;
  for (request *q = list; q; q = q->next) n += q->n;
  asr_round r = {s, list->o, vm_calloc(n ? n : 1, sizeof *r.chunks),
             vm_calloc(n ? n : 1, sizeof *r.outs), n};
  int *st = vm_calloc(n ? n : 1, sizeof *st);
  vm_err *errs = vm_calloc(n ? n : 1, sizeof *errs);
  vm_err e;
  if (!r.chunks || !r.outs || !st || !errs) {
    vm_err_set(&e, VM_ENOMEM, "out of memory");
    for (request *q = list; q; q = q->next) fail_request(q, VM_ENOMEM, &e);
    goto out;
  }
  size_t k = 0;
  for (request *q = list; q; q = q->next)
    for (size_t i = 0; i < q->n; i++, k++) r.chunks[k] = q->chunks[i], r.chunks[k].file = (int)k;
  if (s->n_slots > 0) {
    round_gpu(&r, st, errs);
  } else { /* CPU: the whole round at once; on failure each request alone */
    size_t *all = vm_malloc((n ? n : 1) * sizeof *all);
    int rc = all ? VM_OK : VM_ENOMEM;
    for (size_t i = 0; all && i < n; i++) all[i] = i;
    vm_err_clear(&e);
    if (rc == VM_OK) rc = run_on_cpu(&r, all, n, &e);
    if (rc != VM_OK && rc != VM_ECANCELED && list->next) {
      size_t first = 0;
      for (request *q = list; q; q = q->next) {
        vm_err qe;
        vm_err_clear(&qe);
        int qrc = run_on_cpu(&r, all + first, q->n, &qe);
        for (size_t i = first; i < first + q->n; i++) st[i] = qrc, errs[i] = qe;
        first += q->n;
      }
    } else {
      for (size_t i = 0; i < n; i++) st[i] = rc, errs[i] = e;
    }
    vm_free(all);
  }
  long n_failed = 0;
  k = 0;
  for (request *q = list; q; q = q->next) {
    for (size_t i = 0; i < q->n; i++)
      if (st[k + i] != VM_OK) {
        fail_request(q, st[k + i], &errs[k + i]);
        n_failed++;
      }
    if (q->rc == VM_OK && merge(&r, k, q->n, &q->out) != VM_OK) {
      vm_err_set(&e, VM_ENOMEM, "out of memory");
      fail_request(q, VM_ENOMEM, &e);
    }
    k += q->n;
  }
  pthread_mutex_lock(&s->mu);
  s->n_rounds++;
  s->n_round_chunks += (long)n;
  s->n_failed += n_failed;
  pthread_mutex_unlock(&s->mu);
  if (!s->cfg.resident)
    for (int i = 0; i < s->n_slots; i++) slot_down(&s->slots[i]);
out:
  for (size_t i = 0; r.outs && i < n; i++) vm_transcript_destroy(r.outs[i]);
  vm_free(r.chunks);
  vm_free(r.outs);
  vm_free(st);
  vm_free(errs);
}

int vm__asr_service_transcribe(vm_asr_service *s, const vm_asr_chunk *chunks, size_t n,
                               const vm_asr_opts *o, vm_transcript **out, vm_err *err) {
  request rq = {chunks, n, o, NULL, VM_OK, {0}, 0, NULL};
  *out = NULL;
  pthread_mutex_lock(&s->mu);
  request **tail = &s->queue;
  while (*tail) tail = &(*tail)->next;
  *tail = &rq;
  while (!rq.done) {
    if (s->running) {
      pthread_cond_wait(&s->cv, &s->mu);
      continue;
    }
    request *list = s->queue;
    s->queue = NULL;
    s->running = 1;
    pthread_mutex_unlock(&s->mu);
    run_round(s, list);
    pthread_mutex_lock(&s->mu);
    for (request *q = list; q;) {
      request *next = q->next;
      q->done = 1;
      q = next;
    }
    s->running = 0;
    pthread_cond_broadcast(&s->cv);
  }
  pthread_mutex_unlock(&s->mu);
  if (rq.rc != VM_OK) {
    if (err) *err = rq.err;
    return rq.rc;
  }
  *out = rq.out;
  return VM_OK;
}

/* ---- set-up --------------------------------------------------------------- */

/* "devices=2,mem_mb=8192,oom=3+7,gpu_error=5,init_failures=1" */
static int parse_sim(const char *spec, vm_device_sim_config *c, long *oom, long *gerr,
                     vm_err *err) {
  memset(c, 0, sizeof *c);
  c->n_devices = 1;
  c->total_bytes = (int64_t)8192 << 20;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", spec);
  for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(kv, '='), *end;
    if (!eq) return vm_err_set(err, VM_EINVAL, "VM_DEVICE_SIM: '%s' is not key=value", kv);
    *eq = 0;
    const char *v = eq + 1;
    if (!strcmp(kv, "devices") || !strcmp(kv, "mem_mb") || !strcmp(kv, "init_failures")) {
      long x = strtol(v, &end, 10);
      if (end == v || *end || x < 0 || x > (1L << 24))
        return vm_err_set(err, VM_EINVAL, "VM_DEVICE_SIM: bad %s '%s'", kv, v);
      if (!strcmp(kv, "devices")) c->n_devices = (int)x;
      else if (!strcmp(kv, "mem_mb")) c->total_bytes = (int64_t)x << 20;
      else c->n_init_failures = (int)x;
    } else if (!strcmp(kv, "oom") || !strcmp(kv, "gpu_error")) {
      long *at = !strcmp(kv, "oom") ? oom : gerr;
      int *n_at = !strcmp(kv, "oom") ? &c->n_oom_at_calls : &c->n_gpu_error_at_calls;
      for (const char *p = v; *p && *n_at < MAX_SIM_FAULTS; p = *end ? end + 1 : end) {
        at[(*n_at)++] = strtol(p, &end, 10);
        if (end == p || (*end && *end != '+'))
          return vm_err_set(err, VM_EINVAL, "VM_DEVICE_SIM: bad %s list", kv);
      }
    } else {
      return vm_err_set(err, VM_EINVAL, "VM_DEVICE_SIM: unknown key '%s'", kv);
    }
  }
  c->oom_at_calls = oom;
  c->gpu_error_at_calls = gerr;
  c->name = "simulated GPU";
  return VM_OK;
}

static int open_devices(vm_asr_service *s, const char *sim, vm_err *err) {
  vm_err e;
  vm_err_clear(&e);
  int rc;
  if (sim) {
    static long oom[MAX_SIM_FAULTS], gerr[MAX_SIM_FAULTS];
    vm_device_sim_config c;
    if ((rc = parse_sim(sim, &c, oom, gerr, err)) != VM_OK) return rc;
    s->sim = 1;
    return vm_device_open_sim(&c, &s->dev, err);
  }
  if ((rc = vm_device_open_real(NULL, &s->dev, &e)) != VM_OK)
    return vm_err_set(err, rc, "%s", vm_err_text(&e));
  if (vm_device_count(s->dev) == 0) {
    snprintf(s->cpu_reason, sizeof s->cpu_reason, "no GPU: %.200s",
             e.msg[0] ? e.msg : "none found");
    return VM_OK;
  }
#ifndef VM_USE_CUDA
  snprintf(s->cpu_reason, sizeof s->cpu_reason,
           "%d GPU(s) found, but this voiceman was built without CUDA "
           "(configure with -DVM_CUDA=ON)", vm_device_count(s->dev));
  vm_device_close(s->dev);
  s->dev = NULL;
#endif
  return VM_OK;
}

/* The slots of the GPUs asked for (all visible when none was named). */
static int open_slots(vm_asr_service *s, vm_err *err) {
  int n_vis = s->dev ? vm_device_count(s->dev) : 0;
  int n = s->cfg.n_devices > 0 ? s->cfg.n_devices : n_vis;
  if (n_vis == 0 || n == 0) return VM_OK;
  for (int k = 0; k < s->cfg.n_devices; k++)
    if (s->devices[k] < 0 || s->devices[k] >= n_vis)
      return vm_err_set(err, VM_EINVAL, "--devices: no GPU %d (%d visible)", s->devices[k],
                        n_vis);
  if (!(s->slots = vm_calloc((size_t)n, sizeof *s->slots)))
    return vm_err_set(err, VM_ENOMEM, "out of memory");
  s->n_slots = n;
  int n_up = 0;
  for (int k = 0; k < n; k++) {
    slot *sl = &s->slots[k];
    sl->svc = s;
    sl->i_device = s->cfg.n_devices > 0 ? s->devices[k] : k;
    pthread_mutex_init(&sl->mu, NULL);
    if (slot_up(sl) == VM_OK) n_up++;
  }
  if (n_up > 0) {
    if (!s->cfg.resident)
      for (int k = 0; k < n; k++) slot_down(&s->slots[k]);
    return VM_OK;
  }
  char why[200];
  snprintf(why, sizeof why, "%s", s->slots[0].lost_reason);
  for (int k = 0; k < n; k++) pthread_mutex_destroy(&s->slots[k].mu);
  vm_free(s->slots);
  s->slots = NULL;
  s->n_slots = 0;
  if (s->cfg.mode == VM_ASR_DEVICE_CUDA)
    return vm_err_set(err, VM_EGPU, "--device cuda: no GPU came up: %s", why);
  snprintf(s->cpu_reason, sizeof s->cpu_reason, "no GPU came up: %s", why);
  return VM_OK;
}

int vm__asr_service_open(const vm_asr_service_config *cfg, vm_asr_service **out,
                         vm_err *err) {
  *out = NULL;
  if (!cfg->model_path || cfg->n_devices < 0 || (cfg->n_devices && !cfg->devices) ||
      !(cfg->mem_fraction > 0 && cfg->mem_fraction <= 1) || cfg->max_micro_batch < 1 ||
      cfg->init_retries < 0)
    return vm_err_set(err, VM_EINVAL, "bad transcription service options");
  vm_asr_service *s = vm_calloc(1, sizeof *s);
  if (!s) return vm_err_set(err, VM_ENOMEM, "out of memory");
  s->cfg = *cfg;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  pthread_mutex_init(&s->cpu_mu, NULL);
  int rc = VM_OK;
  if (cfg->n_devices > 0 && !(s->devices = vm_malloc((size_t)cfg->n_devices * sizeof(int))))
    rc = vm_err_set(err, VM_ENOMEM, "out of memory");
  if (rc == VM_OK) {
    if (s->devices) memcpy(s->devices, cfg->devices, (size_t)cfg->n_devices * sizeof(int));
    s->cfg.devices = s->devices;
    s->cfg.sim = NULL; /* read once, below */
    rc = vm_asr_model_create_from_file(cfg->model_path, &s->model, err);
  }
  if (rc != VM_OK) goto fail;
  const vm_asr_hparams *hp = vm_asr_model_hparams(s->model);
  s->dims = (vm_device_model_dims){hp->n_vocab, hp->n_audio_ctx, hp->n_audio_state,
                                   hp->n_audio_head, hp->n_audio_layer, hp->n_text_ctx,
                                   hp->n_text_state, hp->n_text_head, hp->n_text_layer,
                                   hp->n_mels};
  s->chunk_bytes = vm_device_chunk_bytes(&s->dims, VM_DEVICE_PRECISION_F32,
                                         cfg->max_cand > 0 ? cfg->max_cand : 1);
  vm_device_batch_limits_default(&s->limits);
  s->limits.mem_fraction = cfg->mem_fraction;
  s->limits.max_batch = cfg->max_micro_batch < VM_ASR_BATCH_MAX ? cfg->max_micro_batch
                                                                : VM_ASR_BATCH_MAX;
  s->up_cfg = (vm_device_service_config){VM_DEVICE_MODE_CUDA, cfg->init_retries,
                                         cfg->init_backoff_s};
  if (cfg->mode == VM_ASR_DEVICE_CPU) {
    snprintf(s->cpu_reason, sizeof s->cpu_reason, "--device cpu");
  } else {
    rc = open_devices(s, cfg->sim, err);
    if (rc == VM_OK) rc = open_slots(s, err);
    if (rc != VM_OK) goto fail;
    if (s->n_slots == 0 && cfg->mode == VM_ASR_DEVICE_CUDA) {
      rc = vm_err_set(err, VM_EGPU, "--device cuda: %s", s->cpu_reason);
      goto fail;
    }
  }
  if (s->n_slots == 0) {
    vm_err e;
    if ((rc = cpu_engine(s, &e)) != VM_OK) {
      rc = vm_err_set(err, rc, "%s", vm_err_text(&e));
      goto fail;
    }
  }
  *out = s;
  return VM_OK;
fail:
  vm__asr_service_close(s);
  return rc;
}

void vm__asr_service_close(vm_asr_service *s) {
  if (!s) return;
  for (int k = 0; k < s->n_slots; k++) {
    slot_down(&s->slots[k]);
    pthread_mutex_destroy(&s->slots[k].mu);
  }
  vm_free(s->slots);
  vm_asr_engine_destroy(s->cpu);
  vm_device_close(s->dev);
  vm_asr_model_destroy(s->model);
  vm_free(s->devices);
  pthread_mutex_destroy(&s->cpu_mu);
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->mu);
  vm_free(s);
}

const char *vm__asr_service_backend(const vm_asr_service *s) {
  return s->n_slots > 0 ? "cuda" : "cpu";
}

json_t *vm__asr_service_readings(vm_asr_service *s) {
  json_t *gpus = json_array();
  for (int k = 0; k < s->n_slots; k++) {
    slot *sl = &s->slots[k];
    vm_device_info info;
    vm_err e;
    int ok = vm_device_info_get(s->dev, sl->i_device, &info, &e) == VM_OK;
    pthread_mutex_lock(&sl->mu);
    json_t *g = json_pack("{s:i,s:s,s:o,s:o,s:o,s:o,s:o,s:f,s:I,s:I,s:I,s:i,s:i,s:b,s:o}",
        "index", sl->i_device, "name", ok ? info.name : "?",
        "total_mb", ok ? vm_json_real((double)info.total_bytes / MIB) : json_null(),
        "used_mb", ok ? vm_json_real((double)info.used_bytes / MIB) : json_null(),
        "free_mb", ok ? vm_json_real((double)info.free_bytes / MIB) : json_null(),
        "util_percent", ok && info.util_percent >= 0 ? json_integer(info.util_percent) : json_null(),
        "temp_c", ok && info.temp_c >= 0 ? json_integer(info.temp_c) : json_null(),
        "engine_mb", (double)sl->engine_bytes / MIB, "batches", (json_int_t)sl->n_batches,
        "chunks", (json_int_t)sl->n_chunks, "restarts", (json_int_t)sl->n_restarts,
        "max_micro_batch", sl->max_batch, "capacity", sl->cap, "lost", sl->lost,
        "lost_reason", sl->lost ? json_string(sl->lost_reason) : json_null());
    pthread_mutex_unlock(&sl->mu);
    json_array_append_new(gpus, g);
  }
  pthread_mutex_lock(&s->mu);
  json_t *o = json_pack("{s:s,s:s,s:f,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o}", "backend",
      vm__asr_service_backend(s), "source",
      s->dev ? vm_device_source_name(vm_device_source_get(s->dev)) : "none",
      "model_mb", (double)vm_asr_model_bytes(s->model) / MIB,
      "chunk_mb", (double)s->chunk_bytes / MIB, "rounds", (json_int_t)s->n_rounds,
      "chunks", (json_int_t)s->n_round_chunks, "oom_halvings", (json_int_t)s->n_oom,
      "gpus_lost", (json_int_t)s->n_lost, "cpu_chunks", (json_int_t)s->n_cpu_chunks,
      "failed_chunks", (json_int_t)s->n_failed,
      "cpu_reason", s->cpu_reason[0] ? json_string(s->cpu_reason) : json_null(), "gpus", gpus);
  pthread_mutex_unlock(&s->mu);
  return o;
}
