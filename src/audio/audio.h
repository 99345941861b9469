/* audio.h — decode any recording to 16 kHz mono float, and normalise it.
 *
 * The audio module owns every FFmpeg object (libavformat, libavcodec,
 * libswresample) and libebur128; no AV* type leaves it. It reads the
 * original file and never writes anything: no temporary WAV, no child
 * process. Errors come back as VM_* codes with a precise, human reason in
 * the vm_err buffer, e.g. "empty file (0 bytes)", "not an audio file (looks
 * like text)", "no audio stream (the file has 1 video stream)", "truncated
 * AAC stream at 3.20 s", "permission denied".
 *
 * Usage:
 *   vm_audio a;
 *   vm_audio_opts o = vm_audio_opts_default();
 *   if (vm_audio_decode_file(path, &o, &a, &err) == VM_OK) {
 *     vm_loudness l;
 *     vm_audio_normalize(a.samples, a.n_samples, a.sample_rate_hz, NULL, &l, &err);
 *     ...
 *     vm_audio_deinit(&a);
 *   }
 *
 * Thread-safety: every function may run concurrently on different data.
 */
#ifndef VM_AUDIO_H
#define VM_AUDIO_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "vm_status.h"

/* Facts about the original recording. */
typedef struct vm_audio_facts {
  char container[64];          /* demuxer short name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" */
  char codec[32];              /* codec of the chosen stream (avcodec_get_name:
                                  "aac", "mp3", "amr_nb", "opus", ...) */
  int native_rate_hz;          /* sample rate of the stream */
  int native_channels;         /* channel count of the stream */
  int64_t bit_rate;            /* bits/s from the container or stream, 0 if unknown */
  double duration_s;           /* decoded duration: samples decoded / native
                                  rate, gap fill included */
  double container_duration_s; /* duration the container declares, or -1 */
  int n_audio_streams;         /* audio streams in the file (the best one is used) */
  int n_decode_errors;         /* packets that failed to decode and were skipped */
  double filled_s;             /* seconds of silence inserted where frames
                                  were missing from the timeline (AMR DTX
                                  comfort-noise frames, skipped packets), so
                                  output times match recording times */
} vm_audio_facts;

typedef struct vm_audio_opts {
  int sample_rate_hz;           /* output rate, default 16000 */
  int keep_native;              /* also keep a mono copy at the native rate */
  int keep_channels;            /* also keep channels 0 and 1 apart (at
                                   sample_rate_hz) when the stream has two
                                   or more: one party per channel in many
                                   call recordings */
  double max_duration_s;        /* refuse longer recordings (VM_EINVAL), 0 = no
                                   limit (the default) */
  const atomic_int *cancel;     /* if non-NULL and set, stop with VM_ECANCELED
                                   (polled between packets) */
} vm_audio_opts;

/* Decoded audio. samples is owned by the struct (free with vm_audio_deinit). */
typedef struct vm_audio {
  float *samples;       /* (n_samples,) mono, [-1, 1], at sample_rate_hz */
  size_t n_samples;
  int sample_rate_hz;
  float *native;        /* (n_native,) mono at facts.native_rate_hz, or NULL */
  size_t n_native;
  float *channel[2];    /* (n_channel,) channels 0 and 1 alone at
                           sample_rate_hz, or NULL (keep_channels off, or a
                           mono stream); n_channel == n_samples */
  size_t n_channel;
  vm_audio_facts facts;
} vm_audio;

vm_audio_opts vm_audio_opts_default(void);

/* Decodes the best audio stream of path, downmixes to mono and resamples
 * to opts->sample_rate_hz (opts may be NULL for defaults). On success *out
 * owns its buffers; on failure *out is zeroed and owns nothing. Decoding
 * stops with VM_EDECODE if the stream breaks off before the duration the
 * container declares ("truncated <CODEC> stream at <T> s"): decoded < 98 %
 * of declared and more than 0.5 s short, unless the declared duration is
 * only a bit-rate estimate (see audio_decode.c). Frames the decoder drops
 * inside the stream (AMR DTX, bad packets) become silence of the same
 * length (facts.filled_s), so output times are recording times.
 * Errors: VM_ENOENT, VM_EACCES, VM_EEMPTY, VM_EFORMAT (not audio, text,
 * unsupported codec), VM_ENOAUDIO, VM_EDECODE (corrupt, truncated),
 * VM_EINVAL (bad opts, longer than max_duration_s), VM_ECANCELED,
 * VM_ENOMEM, VM_EIO. Reads the file only; opens nothing else. */
int vm_audio_decode_file(const char *path, const vm_audio_opts *opts,
                         vm_audio *out, vm_err *err);

/* Same as vm_audio_decode_file, from a buffer in memory (custom AVIO);
 * name is used in messages only. The buffer is borrowed for the call. */
int vm_audio_decode_memory(const void *data, size_t n, const char *name,
                           const vm_audio_opts *opts, vm_audio *out,
                           vm_err *err);

/* Frees a's buffers and zeroes it. Accepts a zeroed struct. */
void vm_audio_deinit(vm_audio *a);

/* Loudness normalisation (libebur128, ITU-R BS.1770 / EBU R128). */
typedef struct vm_norm_opts {
  double target_lufs;   /* default -23 LUFS (EBU R128) */
  double max_gain_db;   /* default +30 dB: never amplify noise further */
  double peak_ceiling_dbfs; /* default -1 dBFS: gain is lowered to keep the
                               sample peak under it (no clipping) */
} vm_norm_opts;

typedef struct vm_loudness {
  double lufs_before;   /* integrated loudness of the input; NAN if silent */
  double lufs_after;    /* after the gain; NAN if silent */
  double gain_db;       /* gain applied (0 when silent) */
  double peak_dbfs_before;  /* sample peak, dBFS; -INFINITY for digital silence */
  double peak_dbfs_after;
  int silent;           /* nothing above the -70 LUFS absolute gate: no gain */
  int gain_limited;     /* the gain was capped by max_gain_db or the peak ceiling */
} vm_loudness;

vm_norm_opts vm_norm_opts_default(void);

/* Measures x (mono, rate_hz) and scales it in place towards
 * opts->target_lufs (opts may be NULL). Silence-safe: a silent or
 * too-short signal is left unchanged with out->silent = 1. */
int vm_audio_normalize(float *x, size_t n, int rate_hz,
                       const vm_norm_opts *opts, vm_loudness *out,
                       vm_err *err);

#endif /* VM_AUDIO_H */
