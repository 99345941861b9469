/* voice_stream.h — the voice tracks computed from a streamed signal
 * (module-internal; the public entry is vm_forensic_voice_create_stream
 * in voice_measures.h). */
#ifndef VM_FORENSIC_VOICE_STREAM_H
#define VM_FORENSIC_VOICE_STREAM_H

#include "voice_measures.h"

/* The tracks a vm_voice owns, in their compact final form. */
typedef struct vm__voice_tracks {
  vm_pitch_track *pitch;         /* f0 only (strength, intensity NULL) */
  vm_pointprocess *pulses;
  vm_hnr_track *hnr;             /* NULL without harmonicity */
  vm_formant_track *formants;    /* F1-F3, no bandwidths; NULL without formants */
  vm_intensity_track *intensity;
  size_t n_forced;               /* pitch frames decided without convergence */
  size_t buffer_peak_bytes;      /* largest sample window held */
} vm__voice_tracks;

/* Runs every track over src in one pass (after a level pass). OUT: *out
 * (tracks owned by the caller; all NULL on failure). Returns VM_OK,
 * VM_EINVAL, VM_ENOMEM or the source's error. */
int vm__voice_stream_run(const vm_voice_source *src, const vm_voice_params *p,
                         vm__voice_tracks *out, vm_err *err);

#endif /* VM_FORENSIC_VOICE_STREAM_H */
