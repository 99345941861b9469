/* dsp_mfcc.h — mel-frequency cepstral coefficients and band energy.
 *
 * Frame i describes the 10 ms (hop) interval [i*hop, (i+1)*hop): its
 * analysis window (25 ms Hamming by default) is centred on that interval
 * and zero-padded past either end of the signal, so frame times line up
 * exactly with the VAD's 10 ms frames and n_frames = ceil(n / hop).
 *
 * Per frame it gives n_ceps cepstra (c0..c_{n_ceps-1}, DCT-II of the log
 * mel energies, HTK-style triangular filters on the mel scale between
 * fmin and fmax) and the band energy in dB (mean-square power of the
 * 'fmin..fmax' band, a full-scale sine = -3 dB). Pre-emphasis (0.97) is
 * applied in the frequency domain to the cepstra only, so the band energy
 * stays a plain level usable by the VAD. The default band (100–3800 Hz)
 * fits telephone speech and ignores mains hum.
 *
 * Not thread-safe on one object; create one per thread.
 */
#ifndef VM_DSP_MFCC_H
#define VM_DSP_MFCC_H

#include <stddef.h>

typedef struct vm_mfcc_opts {
  int sample_rate_hz; /* input rate; 16000 */
  double win_s;       /* analysis window length; 0.025 */
  double hop_s;       /* frame step; 0.010 */
  int n_mels;         /* triangular filters; 24 */
  int n_ceps;         /* cepstra kept, including c0; 13 */
  double fmin_hz;     /* lowest filter edge; 100 */
  double fmax_hz;     /* highest filter edge; 3800 */
  double preemph;     /* pre-emphasis coefficient for the cepstra; 0.97 */
} vm_mfcc_opts;

typedef struct vm_dsp_mfcc vm_dsp_mfcc;

/* Fills o with the defaults above. */
void vm_dsp_mfcc_opts_default(vm_mfcc_opts *o);

/* Creates an extractor (FFT plan, filterbank, DCT table). OUT: *out.
 * Returns VM_OK, VM_EINVAL (bad options), VM_ENOMEM. */
int vm_dsp_mfcc_create(const vm_mfcc_opts *o, vm_dsp_mfcc **out);
/* Destroys m (NULL is fine). */
void vm_dsp_mfcc_destroy(vm_dsp_mfcc *m);

/* Hop length in samples. */
size_t vm_dsp_mfcc_hop(const vm_dsp_mfcc *m);
/* Number of frames for n samples: ceil(n / hop). */
size_t vm_dsp_mfcc_n_frames(const vm_dsp_mfcc *m, size_t n_samples);

/* Computes every frame of x[0..n). OUT: out_ceps (n_frames, n_ceps)
 * row-major, may be NULL; out_band_db (n_frames), may be NULL. The
 * caller sizes both with vm_dsp_mfcc_n_frames(). */
void vm_dsp_mfcc_compute(vm_dsp_mfcc *m, const float *x, size_t n,
                         float *out_ceps, float *out_band_db);

/* Delta (regression) coefficients over +-half_win frames, edges
 * replicated: out[t] = sum_k k (f[t+k] - f[t-k]) / (2 sum_k k^2).
 * feat and out are (n_frames, dim) and must not overlap. */
void vm_dsp_deltas(const float *feat, size_t n_frames, int dim, int half_win,
                   float *out);

#endif /* VM_DSP_MFCC_H */
