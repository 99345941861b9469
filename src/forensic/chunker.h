/* chunker.h — speech regions → transcription chunks of at most 30 s.
 *
 * The Whisper engine takes windows of at most 30 s. The chunker packs
 * consecutive VAD regions into chunks no longer than max_s, cutting only
 * inside pauses: a chunk ends at most pad_s after its last region (and
 * never past the middle of the following pause), and begins at most pad_s
 * before its first region. A pause longer than max_gap_s always ends a
 * chunk, so long silences are never sent to the engine; silent files
 * give no chunks. Only a single region longer than max_s is cut inside
 * speech: at the quietest 10 ms frame of the last 5 s before the limit
 * (in practice a word gap shorter than the VAD's minimum pause); that
 * chunk is flagged `forced` and the next one `forced_start`.
 *
 * Offsets are whole samples: a time t (seconds) inside chunk c maps back
 * to file time c.start_sample / rate + t, exactly (offset_s holds that
 * quotient).
 *
 * Usage:
 *   vm_chunk_plan *p; vm_chunker_plan(vad, NULL, &p);
 *   for (i < p->n_chunks) transcribe(x + p->chunks[i].start_sample,
 *                                    p->chunks[i].end_sample - ...start_sample);
 *   vm_chunk_plan_destroy(p);
 */
#ifndef VM_FORENSIC_CHUNKER_H
#define VM_FORENSIC_CHUNKER_H

#include <stddef.h>

#include "vad.h"

typedef struct vm_chunk_opts {
  double max_s;     /* longest chunk; 30 */
  double pad_s;     /* silence kept around speech; 0.2 */
  double max_gap_s; /* a pause at least this long always ends a chunk; 2.0 */
} vm_chunk_opts;

typedef struct vm_chunk {
  size_t start_sample, end_sample; /* [start, end) in the file */
  double offset_s;                 /* start_sample / rate */
  double duration_s;               /* (end - start) / rate, <= max_s */
  size_t first_region, n_regions;  /* VAD regions (wholly or partly) inside */
  int forced;                      /* 1 = ends with a cut inside speech: no pause fitted */
  int forced_start;                /* 1 = starts at the previous chunk's forced cut */
} vm_chunk;

typedef struct vm_chunk_plan {
  int sample_rate_hz;
  vm_chunk *chunks;  /* (n_chunks) in time order, disjoint */
  size_t n_chunks;
  size_t n_forced;   /* chunks whose end is a forced cut */
  double chunked_s;  /* total duration sent to transcription */
} vm_chunk_plan;

void vm_chunk_opts_default(vm_chunk_opts *o);

/* Plans chunks over vad's regions (opts NULL = defaults). OUT: *out,
 * freed with vm_chunk_plan_destroy; a plan with no chunks when there is no
 * speech. Returns VM_OK, VM_EINVAL (max_s < 1 s), VM_ENOMEM. */
int vm_chunker_plan(const vm_vad_result *vad, const vm_chunk_opts *opts,
                    vm_chunk_plan **out);
void vm_chunk_plan_destroy(vm_chunk_plan *p);

/* Maps a time inside chunk c (seconds from its start) to file time. */
double vm_chunk_to_file_time(const vm_chunk_plan *p, const vm_chunk *c,
                             double t_in_chunk_s);

#endif /* VM_FORENSIC_CHUNKER_H */
