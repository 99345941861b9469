/* asr_mel.h — Whisper's log-mel spectrogram.
 *
 * Exactly the reference front end: 16 kHz mono, the audio followed by 30 s
 * of zeros, reflect-padded by n_fft/2 at both ends (torch.stft center),
 * periodic Hann window of 400, hop 160, power spectrum, the model's mel
 * filters, log10 of max(x, 1e-10), clamped from below at (global max - 8),
 * then (x + 4) / 4. The last STFT frame is dropped, as the reference does.
 * A 30 s window is 3000 frames.
 *
 * One vm_asr_mel per thread (it owns an FFT plan and scratch).
 *
 * Usage:
 *   vm_asr_mel *mel; vm_asr_mel_create(filters, 80, &mel);
 *   float *out = malloc(80 * 3000 * sizeof(float));   // (n_mels, 3000)
 *   vm_asr_mel_compute(mel, pcm, n_samples, out, 3000);
 *   vm_asr_mel_destroy(mel);
 */
#ifndef VM_ASR_MEL_H
#define VM_ASR_MEL_H

#include <stddef.h>

#include "vm_status.h"

#define VM_ASR_SAMPLE_RATE 16000
#define VM_ASR_N_FFT 400
#define VM_ASR_HOP 160
#define VM_ASR_CHUNK_SAMPLES 480000 /* 30 s */
#define VM_ASR_CHUNK_FRAMES 3000

typedef struct vm_asr_mel vm_asr_mel;

/* filters: (n_mels, 201) row-major (copied). n_mels 80 or 128. OUT: *out.
 * Returns VM_OK, VM_EINVAL, VM_ENOMEM. */
int vm_asr_mel_create(const float *filters, int n_mels, vm_asr_mel **out);
void vm_asr_mel_destroy(vm_asr_mel *m);

/* Frames of the whole padded input: (n_samples + 480000) / 160. */
size_t vm_asr_mel_n_frames(size_t n_samples);

/* Log-mel of pcm[0..n_samples) (16 kHz) padded with 30 s of zeros. The
 * clamp uses the maximum over all vm_asr_mel_n_frames(n_samples) frames;
 * the first n_frames (<= that) are written to out, (n_mels, n_frames)
 * row-major. Returns VM_OK, VM_EINVAL (n_frames too large), VM_ENOMEM. */
int vm_asr_mel_compute(vm_asr_mel *m, const float *pcm, size_t n_samples, float *out,
                       size_t n_frames);

#endif /* VM_ASR_MEL_H */
