/* dsp_stats.h — level statistics of a mono signal.
 *
 * Peak, RMS, crest factor, DC offset, clipping and a silence test, from
 * one pass over the samples. Used by the pipeline's audio-statistics stage
 * on the 16 kHz analysis signal. */
#ifndef VM_DSP_STATS_H
#define VM_DSP_STATS_H

#include <stddef.h>

typedef struct vm_level_stats {
  double peak;              /* max |x| (linear, full scale = 1) */
  double peak_dbfs;         /* 20 log10(peak); -INFINITY for digital silence */
  double rms_dbfs;          /* 20 log10(rms); -INFINITY for digital silence */
  double crest_db;          /* peak_dbfs - rms_dbfs; NAN for silence */
  double dc_offset;         /* mean sample value */
  double clipped_fraction;  /* samples with |x| >= clip_level, 0..1 */
  size_t n_clipped_runs;    /* runs of >= 3 consecutive clipped samples */
  double active_fraction;   /* 20 ms frames whose RMS is above -50 dBFS */
  int silent;               /* no 20 ms frame above -60 dBFS */
} vm_level_stats;

/* Clipping threshold (linear): samples at or above this magnitude count. */
#define VM_CLIP_LEVEL 0.999

/* Computes stats of x (n samples at rate_hz). n may be 0 (→ silent). */
void vm_dsp_level_stats(const float *x, size_t n, int rate_hz,
                        vm_level_stats *out);

#endif /* VM_DSP_STATS_H */
