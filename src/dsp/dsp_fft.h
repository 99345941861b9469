/* dsp_fft.h — real-input FFT over FFTW3 (single precision).
 *
 * A vm_dsp_fft holds one FFTW plan for one transform length plus its own
 * aligned input/output buffers. Planning is not thread-safe in FFTW, so
 * vm_dsp_fft_create() and vm_dsp_fft_destroy() serialise on one global
 * mutex; executing is thread-safe across *different* objects (FFTW's
 * new-array execute on per-object buffers), so give each worker thread its
 * own vm_dsp_fft. Plans use FFTW_ESTIMATE: no timing runs, deterministic,
 * microseconds to create.
 *
 * Usage:
 *   vm_dsp_fft *f; vm_dsp_fft_create(512, &f);
 *   vm_dsp_fft_power(f, frame, 400, power);   // power[0..256]
 *   vm_dsp_fft_destroy(f);
 */
#ifndef VM_DSP_FFT_H
#define VM_DSP_FFT_H

#include <stddef.h>

typedef struct vm_dsp_fft vm_dsp_fft;

/* Creates a real FFT of length n (>= 2, even). OUT: *out (NULL on
 * failure). Returns VM_OK, VM_EINVAL, VM_ENOMEM. Thread-safe. */
int vm_dsp_fft_create(size_t n, vm_dsp_fft **out);
/* Destroys f (NULL is fine). Thread-safe. */
void vm_dsp_fft_destroy(vm_dsp_fft *f);
/* FFTW's planner (every fftwf_plan_* and fftwf_destroy_plan call, in any
 * voiceman file) is not thread-safe: hold this one process-wide lock
 * around such calls. vm_dsp_fft_create/destroy take it themselves. */
void vm_dsp_fftw_planner_lock(void);
void vm_dsp_fftw_planner_unlock(void);

/* Transform length n. */
size_t vm_dsp_fft_size(const vm_dsp_fft *f);

/* Power spectrum |X[k]|^2, k = 0..n/2, of in[0..n_in) zero-padded to n
 * (n_in <= n). out_power holds n/2+1 floats. Not thread-safe on the same
 * f. */
void vm_dsp_fft_power(vm_dsp_fft *f, const float *in, size_t n_in,
                      float *out_power);

/* Autocorrelation r[lag], lag = 0..n/2, of in[0..n_in) zero-padded to n
 * (Wiener–Khinchin: power spectrum, then a second transform). It is the
 * linear (not circular) autocorrelation for lags < n - n_in + 1, so use
 * n >= 2 n_in. out_r holds n/2+1 floats. Not thread-safe on the same f. */
void vm_dsp_fft_autocorr(vm_dsp_fft *f, const float *in, size_t n_in,
                         float *out_r);

#endif /* VM_DSP_FFT_H */
