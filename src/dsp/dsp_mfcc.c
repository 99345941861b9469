/* dsp_mfcc.c — MFCC and band energy, one FFT per 10 ms frame.
 *
 * DESIGN: the filterbank is stored sparsely (first bin and weights per
 * filter) and the DCT as a dense (n_ceps, n_mels) table, both built once
 * at create time; compute() allocates nothing. Log mel energies are
 * floored at 1e-10 (-100 dB) so that digital silence gives finite
 * cepstra. */
#include "dsp_mfcc.h"

#include <math.h>
#include <string.h>

#include "dsp_fft.h"
#include "vm_alloc.h"
#include "vm_status.h"

#define PI_D 3.14159265358979323846

struct vm_dsp_mfcc {
  vm_mfcc_opts o;
  size_t win, hop, nfft, nbin; /* samples; nbin = nfft/2+1 */
  vm_dsp_fft *fft;
  float *window;    /* (win) Hamming */
  float *frame;     /* (win) scratch */
  float *power;     /* (nbin) scratch */
  float *emph;      /* (nbin) |1 - a e^{-jw}|^2 */
  float *melw;      /* (n_mels, nbin) dense filter weights, mostly zero */
  int *mel_lo;      /* (n_mels) first non-zero bin */
  int *mel_hi;      /* (n_mels) one past the last non-zero bin */
  float *dct;       /* (n_ceps, n_mels) */
  float *logmel;    /* (n_mels) scratch */
  int band_lo, band_hi; /* bins of the energy band [lo, hi) */
  double energy_scale;  /* turns sum|X|^2 into mean-square power */
};

void vm_dsp_mfcc_opts_default(vm_mfcc_opts *o) {
  o->sample_rate_hz = 16000;
  o->win_s = 0.025;
  o->hop_s = 0.010;
  o->n_mels = 24;
  o->n_ceps = 13;
  o->fmin_hz = 100;
  o->fmax_hz = 3800;
  o->preemph = 0.97;
}

static double hz_to_mel(double f) { return 2595.0 * log10(1.0 + f / 700.0); }
static double mel_to_hz(double m) { return 700.0 * (pow(10.0, m / 2595.0) - 1.0); }

static void build_tables(vm_dsp_mfcc *m) {
  const vm_mfcc_opts *o = &m->o;
  double wsum2 = 0;
  for (size_t i = 0; i < m->win; i++) {
    m->window[i] = (float)(0.54 - 0.46 * cos(2 * PI_D * (double)i / (double)(m->win - 1)));
    wsum2 += (double)m->window[i] * m->window[i];
  }
  m->energy_scale = 2.0 / ((double)m->nfft * wsum2);
  double bin_hz = (double)o->sample_rate_hz / (double)m->nfft;
  for (size_t k = 0; k < m->nbin; k++) {
    double w = 2 * PI_D * (double)k / (double)m->nfft;
    m->emph[k] = (float)(1 + o->preemph * o->preemph - 2 * o->preemph * cos(w));
  }
  m->band_lo = (int)ceil(o->fmin_hz / bin_hz);
  m->band_hi = (int)floor(o->fmax_hz / bin_hz) + 1;
  double mlo = hz_to_mel(o->fmin_hz), mhi = hz_to_mel(o->fmax_hz);
  for (int j = 0; j < o->n_mels; j++) {
    double f0 = mel_to_hz(mlo + (mhi - mlo) * j / (o->n_mels + 1));
    double f1 = mel_to_hz(mlo + (mhi - mlo) * (j + 1) / (o->n_mels + 1));
    double f2 = mel_to_hz(mlo + (mhi - mlo) * (j + 2) / (o->n_mels + 1));
    float *w = m->melw + (size_t)j * m->nbin;
    int lo = -1, hi = 0;
    for (size_t k = 0; k < m->nbin; k++) {
      double f = (double)k * bin_hz, v = 0;
      if (f > f0 && f < f1) v = (f - f0) / (f1 - f0);
      else if (f >= f1 && f < f2) v = (f2 - f) / (f2 - f1);
      w[k] = (float)v;
      if (v > 0) {
        if (lo < 0) lo = (int)k;
        hi = (int)k + 1;
      }
    }
    m->mel_lo[j] = lo < 0 ? 0 : lo;
    m->mel_hi[j] = hi;
  }
  for (int c = 0; c < o->n_ceps; c++)
    for (int j = 0; j < o->n_mels; j++)
      m->dct[c * o->n_mels + j] = (float)(sqrt(2.0 / o->n_mels) *
          cos(PI_D * c * (j + 0.5) / o->n_mels));
}

int vm_dsp_mfcc_create(const vm_mfcc_opts *o, vm_dsp_mfcc **out) {
  *out = NULL;
  if (!o || o->sample_rate_hz < 4000 || o->win_s <= 0 || o->hop_s <= 0 ||
      o->n_mels < 2 || o->n_ceps < 1 || o->n_ceps > o->n_mels ||
      o->fmin_hz < 0 || o->fmax_hz <= o->fmin_hz ||
      o->fmax_hz > o->sample_rate_hz / 2.0)
    return VM_EINVAL;
  int rc = VM_ENOMEM;
  vm_dsp_mfcc *m = vm_calloc(1, sizeof *m);
  if (!m) return VM_ENOMEM;
  m->o = *o;
  m->win = (size_t)lround(o->win_s * o->sample_rate_hz);
  m->hop = (size_t)lround(o->hop_s * o->sample_rate_hz);
  if (m->win < 2 || m->hop < 1) {
    rc = VM_EINVAL;
    goto fail;
  }
  for (m->nfft = 2; m->nfft < m->win; m->nfft *= 2) {}
  m->nbin = m->nfft / 2 + 1;
  rc = vm_dsp_fft_create(m->nfft, &m->fft);
  if (rc) goto fail;
  rc = VM_ENOMEM;
  m->window = vm_malloc(m->win * sizeof(float));
  m->frame = vm_malloc(m->win * sizeof(float));
  m->power = vm_malloc(m->nbin * sizeof(float));
  m->emph = vm_malloc(m->nbin * sizeof(float));
  m->melw = vm_malloc((size_t)o->n_mels * m->nbin * sizeof(float));
  m->mel_lo = vm_malloc((size_t)o->n_mels * sizeof(int));
  m->mel_hi = vm_malloc((size_t)o->n_mels * sizeof(int));
  m->dct = vm_malloc((size_t)o->n_ceps * o->n_mels * sizeof(float));
  m->logmel = vm_malloc((size_t)o->n_mels * sizeof(float));
  if (!m->window || !m->frame || !m->power || !m->emph || !m->melw ||
      !m->mel_lo || !m->mel_hi || !m->dct || !m->logmel)
    goto fail;
  build_tables(m);
  *out = m;
  return VM_OK;
fail:
  vm_dsp_mfcc_destroy(m);
  return rc;
}

void vm_dsp_mfcc_destroy(vm_dsp_mfcc *m) {
  if (!m) return;
  vm_dsp_fft_destroy(m->fft);
  vm_free(m->window);
  vm_free(m->frame);
  vm_free(m->power);
  vm_free(m->emph);
  vm_free(m->melw);
  vm_free(m->mel_lo);
  vm_free(m->mel_hi);
  vm_free(m->dct);
  vm_free(m->logmel);
  vm_free(m);
}

size_t vm_dsp_mfcc_hop(const vm_dsp_mfcc *m) { return m->hop; }

size_t vm_dsp_mfcc_n_frames(const vm_dsp_mfcc *m, size_t n_samples) {
  return (n_samples + m->hop - 1) / m->hop;
}

/* Copies the windowed frame centred on hop interval i into m->frame. */
static void load_frame(vm_dsp_mfcc *m, const float *x, size_t n, size_t i) {
  long start = (long)(i * m->hop + m->hop / 2) - (long)(m->win / 2);
  for (size_t j = 0; j < m->win; j++) {
    long s = start + (long)j;
    float v = (s >= 0 && (size_t)s < n) ? x[s] : 0.0f;
    m->frame[j] = v * m->window[j];
  }
}

void vm_dsp_mfcc_compute(vm_dsp_mfcc *m, const float *x, size_t n,
                         float *out_ceps, float *out_band_db) {
  size_t nf = vm_dsp_mfcc_n_frames(m, n);
  int nm = m->o.n_mels, nc = m->o.n_ceps;
  for (size_t i = 0; i < nf; i++) {
    load_frame(m, x, n, i);
    vm_dsp_fft_power(m->fft, m->frame, m->win, m->power);
    if (out_band_db) {
      double e = 0;
      for (int k = m->band_lo; k < m->band_hi && k < (int)m->nbin; k++) e += m->power[k];
      out_band_db[i] = (float)(10.0 * log10(e * m->energy_scale + 1e-12));
    }
    if (!out_ceps) continue;
    for (int j = 0; j < nm; j++) {
      const float *w = m->melw + (size_t)j * m->nbin;
      double e = 0;
      for (int k = m->mel_lo[j]; k < m->mel_hi[j]; k++)
        e += (double)w[k] * m->power[k] * m->emph[k];
      m->logmel[j] = (float)log(e * m->energy_scale + 1e-10);
    }
    float *c = out_ceps + i * (size_t)nc;
    for (int k = 0; k < nc; k++) {
      const float *d = m->dct + (size_t)k * nm;
      float s = 0;
      for (int j = 0; j < nm; j++) s += d[j] * m->logmel[j];
      c[k] = s;
    }
  }
}

void vm_dsp_deltas(const float *feat, size_t n_frames, int dim, int half_win,
                   float *out) {
  double norm = 0;
  for (int k = 1; k <= half_win; k++) norm += 2.0 * k * k;
  for (size_t t = 0; t < n_frames; t++) {
    for (int d = 0; d < dim; d++) {
      double s = 0;
      for (int k = 1; k <= half_win; k++) {
        size_t tp = t + (size_t)k < n_frames ? t + (size_t)k : n_frames - 1;
        size_t tm = t >= (size_t)k ? t - (size_t)k : 0;
        s += k * ((double)feat[tp * dim + d] - feat[tm * dim + d]);
      }
      out[t * (size_t)dim + d] = norm > 0 ? (float)(s / norm) : 0.0f;
    }
  }
}
