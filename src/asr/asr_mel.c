/* asr_mel.c — Whisper's log-mel spectrogram and its mel filter bank.
 *
 * DESIGN: frames are processed in blocks of BLOCK: window, FFT power
 * (vm_dsp_fft, FFTW), then one sgemm of the filters with the block's power
 * spectra, written straight into the caller's (n_mels, n_frames) output
 * (ldc = n_frames) or, for frames past n_frames that only matter for the
 * global maximum, into scratch. Frames that lie wholly in the 30 s of zero
 * padding are not computed: their value is log10(1e-10) = -10. So memory
 * is O(block) whatever the input length, and a 30 s chunk costs about
 * 3000 FFTs of 400 points plus a (n_mels x 201 x 3000) matrix product.
 *
 * Numerics: power spectra and the filter product in f32 (as the reference
 * front end does with torch.stft in f32); the log in f32. */
#include "asr_mel.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "asr_impl.h"
#include "dsp_fft.h"
#include "vm_alloc.h"

#define BLOCK 256
#define N_BINS (VM_ASR_N_FFT / 2 + 1)

struct vm_asr_mel {
  int n_mels;
  float *filters;  /* (n_mels, 201) */
  float window[VM_ASR_N_FFT];
  float frame[VM_ASR_N_FFT];
  float *power;    /* (BLOCK, 201) */
  float *scratch;  /* (n_mels, BLOCK) */
  vm_dsp_fft *fft;
};

int vm_asr_mel_create(const float *filters, int n_mels, vm_asr_mel **out) {
  *out = NULL;
  if (!filters || (n_mels != 80 && n_mels != 128)) return VM_EINVAL;
  vm_asr_mel *m = vm_calloc(1, sizeof *m);
  if (!m) return VM_ENOMEM;
  m->n_mels = n_mels;
  m->filters = vm_malloc((size_t)n_mels * N_BINS * sizeof(float));
  m->power = vm_malloc((size_t)BLOCK * N_BINS * sizeof(float));
  m->scratch = vm_malloc((size_t)n_mels * BLOCK * sizeof(float));
  if (!m->filters || !m->power || !m->scratch ||
      vm_dsp_fft_create(VM_ASR_N_FFT, &m->fft) != 0) {
    vm_asr_mel_destroy(m);
    return VM_ENOMEM;
  }
  memcpy(m->filters, filters, (size_t)n_mels * N_BINS * sizeof(float));
  for (int i = 0; i < VM_ASR_N_FFT; i++) /* periodic Hann */
    m->window[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * i / VM_ASR_N_FFT));
  *out = m;
  return VM_OK;
}

void vm_asr_mel_destroy(vm_asr_mel *m) {
  if (!m) return;
  vm_dsp_fft_destroy(m->fft);
  vm_free(m->filters);
  vm_free(m->power);
  vm_free(m->scratch);
  vm_free(m);
}

size_t vm_asr_mel_n_frames(size_t n_samples) {
  return (n_samples + VM_ASR_CHUNK_SAMPLES) / VM_ASR_HOP;
}

/* Sample j of the reflect-padded signal (pcm, then zeros, length ls). */
static float sample_at(const float *pcm, size_t n, size_t ls, long j) {
  if (j < 0) j = -j;
  if ((size_t)j >= ls) j = (long)(2 * (ls - 1)) - j;
  return (size_t)j < n ? pcm[j] : 0.0f;
}

static void block_power(vm_asr_mel *m, const float *pcm, size_t n, size_t t0,
                        size_t nb) {
  size_t ls = n + VM_ASR_CHUNK_SAMPLES;
  for (size_t b = 0; b < nb; b++) {
    long start = (long)((t0 + b) * VM_ASR_HOP) - VM_ASR_N_FFT / 2;
    for (int i = 0; i < VM_ASR_N_FFT; i++)
      m->frame[i] = m->window[i] * sample_at(pcm, n, ls, start + i);
    vm_dsp_fft_power(m->fft, m->frame, VM_ASR_N_FFT, m->power + b * N_BINS);
  }
}

/* log10 of max(x, 1e-10) over an (n_mels, nb) block with row stride ld;
 * returns the block's maximum. */
static float block_log(float *x, int n_mels, size_t nb, size_t ld) {
  float mx = -INFINITY;
  for (int r = 0; r < n_mels; r++)
    for (size_t c = 0; c < nb; c++) {
      float v = log10f(fmaxf(x[(size_t)r * ld + c], 1e-10f));
      x[(size_t)r * ld + c] = v;
      mx = fmaxf(mx, v);
    }
  return mx;
}

int vm_asr_mel_compute(vm_asr_mel *m, const float *pcm, size_t n_samples, float *out,
                       size_t n_frames) {
  size_t n_total = vm_asr_mel_n_frames(n_samples);
  if (n_frames > n_total || (n_samples > 0 && !pcm)) return VM_EINVAL;
  /* Frames from n_active on see only zeros. */
  size_t n_active = (n_samples + VM_ASR_N_FFT / 2 + VM_ASR_HOP - 1) / VM_ASR_HOP;
  if (n_active > n_total) n_active = n_total;
  float mx = n_active < n_total ? -10.0f : -INFINITY;
  for (size_t t0 = 0; t0 < n_active; t0 += BLOCK) {
    size_t nb = n_active - t0 < BLOCK ? n_active - t0 : BLOCK;
    block_power(m, pcm, n_samples, t0, nb);
    /* Frames [t0, t0+nb) that are output go into out, the rest to scratch. */
    size_t n_out = t0 < n_frames ? (n_frames - t0 < nb ? n_frames - t0 : nb) : 0;
    if (n_out > 0) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m->n_mels, (int)n_out, N_BINS,
                  1.0f, m->filters, N_BINS, m->power, N_BINS, 0.0f, out + t0,
                  (int)n_frames);
      mx = fmaxf(mx, block_log(out + t0, m->n_mels, n_out, n_frames));
    }
    if (nb > n_out) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m->n_mels, (int)(nb - n_out),
                  N_BINS, 1.0f, m->filters, N_BINS, m->power + n_out * N_BINS, N_BINS,
                  0.0f, m->scratch, BLOCK);
      mx = fmaxf(mx, block_log(m->scratch, m->n_mels, nb - n_out, BLOCK));
    }
  }
  float floor_v = mx - 8.0f;
  for (int r = 0; r < m->n_mels; r++)
    for (size_t c = 0; c < n_frames; c++) {
      float v = c < n_active ? out[(size_t)r * n_frames + c] : -10.0f;
      out[(size_t)r * n_frames + c] = (fmaxf(v, floor_v) + 4.0f) / 4.0f;
    }
  return VM_OK;
}

/* ---- filter bank ------------------------------------------------------ */

/* Slaney's mel scale (librosa htk=False): linear below 1 kHz, log above. */
static double hz_to_mel(double f) {
  const double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, logstep = log(6.4) / 27.0;
  return f < min_log_hz ? f / f_sp
                        : min_log_hz / f_sp + log(f / min_log_hz) / logstep;
}

static double mel_to_hz(double mel) {
  const double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, logstep = log(6.4) / 27.0;
  const double min_log_mel = min_log_hz / f_sp;
  return mel < min_log_mel ? f_sp * mel : min_log_hz * exp(logstep * (mel - min_log_mel));
}

void vm__asr_mel_filters_compute(int32_t n_mels, float *out) {
  double pts[130]; /* n_mels + 2 band edges, n_mels <= 128 */
  VM_ASSERT(n_mels > 0 && n_mels <= 128);
  double lo = hz_to_mel(0.0), hi = hz_to_mel(VM_ASR_SAMPLE_RATE / 2.0);
  for (int i = 0; i < n_mels + 2; i++)
    pts[i] = mel_to_hz(lo + (hi - lo) * i / (n_mels + 1));
  for (int i = 0; i < n_mels; i++) {
    double enorm = 2.0 / (pts[i + 2] - pts[i]); /* Slaney area normalisation */
    for (int k = 0; k < N_BINS; k++) {
      double f = (double)k * VM_ASR_SAMPLE_RATE / VM_ASR_N_FFT;
      double lower = (f - pts[i]) / (pts[i + 1] - pts[i]);
      double upper = (pts[i + 2] - f) / (pts[i + 2] - pts[i + 1]);
      double w = fmin(lower, upper);
      out[i * N_BINS + k] = (float)(w > 0.0 ? w * enorm : 0.0);
    }
  }
}
