/* dsp_fft.c — FFTW3f real-to-complex wrapper.
 *
 * DESIGN: each object owns fftwf_malloc'ed buffers and one plan made on
 * them, so execution needs no locking and no alignment checks. Only
 * fftwf_plan_* and fftwf_destroy_plan touch FFTW's global planner state;
 * both run under g_plan_lock (FFTW documents that only fftwf_execute* is
 * thread-safe). */
#include "dsp_fft.h"

#include <fftw3.h>
#include <pthread.h>
#include <string.h>

#include "vm_alloc.h"
#include "vm_status.h"

/* Guards every call into FFTW's planner (create and destroy). */
static pthread_mutex_t g_plan_lock = PTHREAD_MUTEX_INITIALIZER;

void vm_dsp_fftw_planner_lock(void) { pthread_mutex_lock(&g_plan_lock); }
void vm_dsp_fftw_planner_unlock(void) { pthread_mutex_unlock(&g_plan_lock); }

struct vm_dsp_fft {
  size_t n;             /* transform length */
  float *in;            /* (n) fftwf_malloc'ed input */
  fftwf_complex *out;   /* (n/2+1) fftwf_malloc'ed output */
  fftwf_plan plan;      /* r2c plan on in -> out */
};

int vm_dsp_fft_create(size_t n, vm_dsp_fft **out) {
  *out = NULL;
  if (n < 2 || (n & 1) || n > (1u << 24)) return VM_EINVAL;
  vm_dsp_fft *f = vm_calloc(1, sizeof *f);
  if (!f) return VM_ENOMEM;
  f->n = n;
  pthread_mutex_lock(&g_plan_lock);
  f->in = fftwf_malloc(sizeof(float) * n);
  f->out = fftwf_malloc(sizeof(fftwf_complex) * (n / 2 + 1));
  if (f->in && f->out)
    f->plan = fftwf_plan_dft_r2c_1d((int)n, f->in, f->out, FFTW_ESTIMATE);
  pthread_mutex_unlock(&g_plan_lock);
  if (!f->plan) {
    vm_dsp_fft_destroy(f);
    return VM_ENOMEM;
  }
  *out = f;
  return VM_OK;
}

void vm_dsp_fft_destroy(vm_dsp_fft *f) {
  if (!f) return;
  pthread_mutex_lock(&g_plan_lock);
  if (f->plan) fftwf_destroy_plan(f->plan);
  fftwf_free(f->in);
  fftwf_free(f->out);
  pthread_mutex_unlock(&g_plan_lock);
  vm_free(f);
}

size_t vm_dsp_fft_size(const vm_dsp_fft *f) { return f->n; }

void vm_dsp_fft_power(vm_dsp_fft *f, const float *in, size_t n_in,
                      float *out_power) {
  VM_ASSERT(n_in <= f->n);
  memcpy(f->in, in, n_in * sizeof(float));
  if (n_in < f->n) memset(f->in + n_in, 0, (f->n - n_in) * sizeof(float));
  fftwf_execute(f->plan);
  for (size_t k = 0; k <= f->n / 2; k++) {
    float re = f->out[k][0], im = f->out[k][1];
    out_power[k] = re * re + im * im;
  }
}

void vm_dsp_fft_autocorr(vm_dsp_fft *f, const float *in, size_t n_in,
                         float *out_r) {
  size_t n = f->n, h = n / 2;
  vm_dsp_fft_power(f, in, n_in, out_r); /* out_r[k] = |X[k]|^2, k <= n/2 */
  /* The power spectrum is real and even: its forward transform is n times
   * the autocorrelation, real-valued. Extend it to n points in place. */
  for (size_t k = 0; k <= h; k++) f->in[k] = out_r[k];
  for (size_t k = h + 1; k < n; k++) f->in[k] = out_r[n - k];
  fftwf_execute(f->plan);
  for (size_t k = 0; k <= h; k++) out_r[k] = f->out[k][0] / (float)n;
}
