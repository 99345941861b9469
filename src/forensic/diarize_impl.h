/* diarize_impl.h — shared inside the diarization files only.
 *
 * diarize.c extracts frames and features, runs the stereo path, and turns
 * frame labels into turns, statistics and segment labels; diarize_cluster.c
 * holds the single-channel clustering (BIC change detection, AHC, Viterbi
 * resegmentation); diarize_json.c the serialiser. */
#ifndef VM_FORENSIC_DIARIZE_IMPL_H
#define VM_FORENSIC_DIARIZE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "diarize.h"

/* Feature dimension for clustering: MFCC c1..c12 (c0, the level, is left
 * out so that loudness differences do not split a speaker) and log F0
 * (held over unvoiced frames, see diarize.c). */
#define VM__DIAR_N_CEPS 13
#define VM__DIAR_DIM 14

typedef struct vm__diar_frames {
  size_t n_frames;    /* 10 ms frames in the file */
  double frame_s;     /* 0.010 */
  float *feat;        /* (n_frames, VM__DIAR_DIM), mean-normalised over speech */
  uint8_t *speech;    /* (n_frames) 1 inside a speech region */
  uint8_t *region_start; /* (n_frames) 1 on the first frame of a region */
  int *label;         /* (n_frames) speaker, -1 outside speech */
  uint8_t *overlap;   /* (n_frames) 1 = both parties active (stereo path) */
  int32_t *dup_src;   /* (n_frames) earlier frame whose audio this speech frame
                       * repeats (diarize_repeat.c), -1 = not a repeat */
  size_t n_dup;       /* speech frames with dup_src >= 0 */
  double gvar[VM__DIAR_DIM]; /* per-dimension variance of the speech features */
} vm__diar_frames;

/* Clusters the speech frames of f into speakers and writes f->label.
 * OUT: *out_n_speakers (labels are 0..n-1, not yet in order of
 * appearance). Returns VM_OK or VM_ENOMEM. */
int vm__diar_cluster_mono(vm__diar_frames *f, const vm_diar_opts *o,
                          int *out_n_speakers);

/* F0 in Hz of every speech frame of f (0 = unvoiced or not speech) into
 * out_f0 (n_frames). x is the mono signal. Returns VM_OK or VM_ENOMEM. */
int vm__diar_pitch(const float *x, size_t n, int rate_hz,
                   const vm__diar_frames *f, float *out_f0);

/* Marks in f->dup_src the speech frames that repeat earlier audio of the
 * file (looped or replayed recordings) and sets f->n_dup; uses f->gvar.
 * Returns VM_OK or VM_ENOMEM. */
int vm__diar_find_repeats(vm__diar_frames *f);

/* Most clusters the CLR stage takes (the BIC stage stops at this many). */
#define VM__DIAR_MAX_CLR 16

/* File-level GMM-UBM for the CLR stage (diarize_gmm.c). */
typedef struct vm__diar_ubm vm__diar_ubm;

/* Trains the UBM on the speech frames of f that are not repeats (gvar: global per-dimension
 * variance, for initialisation and flooring) and scores every speech
 * frame. f->feat and f->speech must not change while *out lives.
 * OUT: *out (NULL on failure). Returns VM_OK, VM_EINVAL (fewer speech
 * frames than components), VM_ENOMEM. */
int vm__diar_ubm_create(const vm__diar_frames *f, const double *gvar, vm__diar_ubm **out);
void vm__diar_ubm_destroy(vm__diar_ubm *u);

/* Agglomerates the clusters 0..k-1 of f->label (k <= VM__DIAR_MAX_CLR)
 * by cross-likelihood ratio, counting repeated frames (f->dup_src) once:
 * first a cluster that holds more copies of another cluster's audio than
 * audio of its own joins that cluster (same recording, same speaker);
 * then, with k_want > 0 down to exactly k_want,
 * otherwise while the best CLR exceeds thr or more than k_max remain;
 * pairs kept apart by the pitch guard (guard_st semitones) are merged
 * last. Relabels f->label to 0..*out_k-1. Returns VM_OK, VM_EINVAL,
 * VM_ENOMEM. */
int vm__diar_clr_merge(const vm__diar_ubm *u, vm__diar_frames *f, int k, int k_want,
                       int k_max, double thr, double guard_st, int *out_k);

#endif /* VM_FORENSIC_DIARIZE_IMPL_H */
