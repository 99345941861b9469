/* asr_cpu_attn.c — multi-head attention for the CPU backend.
 *
 * DESIGN: the work is cut into tasks of (batch item, head, block of up to
 * VM_ASR_ATTN_QBLK query rows), spread over the pool; each thread has its
 * own score rows, so a task runs Q K^T, the softmax and P V while its
 * scores are still in cache (no n_q x n_kv matrix is ever written to
 * memory, unlike the textbook three-pass form). Blocks of several rows use
 * single-threaded OpenBLAS sgemm for both products; a block of one to
 * three rows (decode steps) uses dot products and axpy directly, which
 * avoids OpenBLAS packing a whole K or V slice for one row.
 *
 * Causal masking: row i of a block may see keys j <= q_pos0 + i; the
 * products run over the block's widest row and the softmax of each row
 * covers only its visible keys, the rest set to zero. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "asr_cpu_impl.h"
#include "vm_status.h"

typedef struct attn_job {
  vm_asr_cpu *c;
  const vm_asr_attn_args *a;
  int n_qb;    /* query blocks per head */
  float scale; /* 1 / sqrt(d_head) */
} attn_job;

/* Rows visible to query row i (absolute index within the item). */
static int visible(const vm_asr_attn_args *a, int i) {
  if (!a->causal) return a->n_kv;
  int lim = a->q_pos0 + i + 1;
  return lim < a->n_kv ? lim : a->n_kv;
}

/* One query row against its keys with dot products (decode steps). */
static void attn_row(const attn_job *j, const float *q, const float *k, const float *v,
                     float *o, int n, float *s) {
  const vm_asr_kern *kn = j->c->k;
  const vm_asr_attn_args *a = j->a;
  kn->attn_scores(n, a->d_head, q, k, a->kv_ld, j->scale, s);
  kn->softmax(n, s);
  kn->attn_mix(n, a->d_head, s, v, a->kv_ld, o);
}

static void attn_block(const attn_job *j, const float *q, const float *k, const float *v,
                       float *o, int i0, int rows, float *s) {
  const vm_asr_kern *kn = j->c->k;
  const vm_asr_attn_args *a = j->a;
  int d = a->d_head, w = visible(a, i0 + rows - 1); /* widest row of the block */
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, w, d, j->scale, q, (int)a->q_ld,
              k, (int)a->kv_ld, 0.0f, s, w);
  for (int r = 0; r < rows; r++) {
    float *sr = s + (size_t)r * (size_t)w;
    int n = visible(a, i0 + r);
    kn->softmax(n, sr);
    if (n < w) memset(sr + n, 0, (size_t)(w - n) * sizeof(float));
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, d, w, 1.0f, s, w, v,
              (int)a->kv_ld, 0.0f, o, (int)a->o_ld);
}

static void attn_tasks(void *arg, size_t t0, size_t t1, int ith) {
  const attn_job *j = arg;
  const vm_asr_attn_args *a = j->a;
  float *s = j->c->scores + (size_t)ith * VM_ASR_ATTN_QBLK * j->c->n_kv_max;
  for (size_t t = t0; t < t1; t++) {
    int qb = (int)(t % (size_t)j->n_qb), h = (int)(t / (size_t)j->n_qb % (size_t)a->n_head);
    size_t b = t / ((size_t)j->n_qb * (size_t)a->n_head);
    int i0 = qb * VM_ASR_ATTN_QBLK;
    int rows = a->n_q - i0 < VM_ASR_ATTN_QBLK ? a->n_q - i0 : VM_ASR_ATTN_QBLK;
    size_t hd = (size_t)h * (size_t)a->d_head;
    const float *q = a->q + b * a->q_bstride + (size_t)i0 * a->q_ld + hd;
    size_t kv = (a->kv_item ? (size_t)a->kv_item[b] : b) * a->kv_bstride + hd;
    const float *k = a->k + kv;
    const float *v = a->v + kv;
    float *o = a->out + b * a->o_bstride + (size_t)i0 * a->o_ld + hd;
    if (rows < 4) {
      for (int r = 0; r < rows; r++)
        attn_row(j, q + (size_t)r * a->q_ld, k, v, o + (size_t)r * a->o_ld,
                 visible(a, i0 + r), s);
    } else {
      attn_block(j, q, k, v, o, i0, rows, s);
    }
  }
}

void vm__asr_cpu_attention(void *ctx, const vm_asr_attn_args *a) {
  vm_asr_cpu *c = ctx;
  VM_ASSERT((size_t)a->n_kv <= c->n_kv_max);
  attn_job j = {c, a, (a->n_q + VM_ASR_ATTN_QBLK - 1) / VM_ASR_ATTN_QBLK, 0.0f};
  j.scale = 1.0f / sqrtf((float)a->d_head);
  size_t n_tasks = (size_t)a->n_batch * (size_t)a->n_head * (size_t)j.n_qb;
  vm__asr_pool_run(c->pool, n_tasks, 1, attn_tasks, &j);
}
