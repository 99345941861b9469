/* diarize.h — who spoke when: speaker turns, labels and talk statistics.
 *
 * Input: the 16 kHz mono signal, its VAD speech regions, optionally the
 * two channels of a stereo recording and optionally transcript segments.
 * Output: turns {start, end, speaker} with speakers numbered 0.. in order
 * of first appearance (SPEAKER_00, SPEAKER_01, ...), the speaker count,
 * the method used, per-speaker statistics and, when segments were given,
 * a speaker label for each segment — split where a segment spans a
 * change of speaker.
 *
 * Methods (docs/diarization.md has the details and citations):
 *  - "stereo-channels": when the two channels carry one party each (most
 *    10 ms speech frames are >= 10 dB louder in one channel, and each
 *    channel dominates a fair share), each frame goes to the louder
 *    channel; frames where both channels are active (each channel's
 *    activity smoothed over syllable gaps) count as overlap, credited to
 *    the party who started talking over the other.
 *  - "bic-ahc-viterbi": single channel. MFCCs (c1..c12), BIC speaker-change
 *    detection inside each speech region (Chen & Gopalakrishnan 1998),
 *    agglomerative clustering of the segments with the BIC merge criterion
 *    while clusters are small, then cross-likelihood-ratio clustering with
 *    a file-level GMM-UBM (stop when the best CLR <= clr_threshold, or at
 *    n_speakers when given), then Viterbi resegmentation with per-speaker
 *    Gaussians. Speech that repeats earlier audio of the file (a loop, a
 *    replay) is found first and counted once (repeated_s).
 *
 * Usage (after VAD and, optionally, transcription):
 *   vm_diar_input in = {.mono = x, .n_samples = n, .sample_rate_hz = 16000,
 *                       .regions = vad->regions, .n_regions = vad->n_regions};
 *   vm_diar_result *d; vm_diarize(&in, NULL, &d);
 *   json_object_set_new(result, "diarization", vm_diar_result_to_json(d));
 *   vm_diar_result_destroy(d);
 * Thread-safe: every call uses only its own objects.
 */
#ifndef VM_FORENSIC_DIARIZE_H
#define VM_FORENSIC_DIARIZE_H

#include <jansson.h>
#include <stddef.h>

#include "vad.h"

#define VM_DIAR_MAX_SPEAKERS 8

/* A time span in seconds (transcript segment). */
typedef struct vm_diar_span {
  double start_s, end_s;
} vm_diar_span;

typedef struct vm_diar_input {
  const float *mono;          /* (n_samples) the analysis signal */
  size_t n_samples;
  int sample_rate_hz;         /* 16000 expected */
  const float *channels[2];   /* (n_samples) each, or both NULL */
  const vm_vad_region *regions; /* (n_regions) speech; borrowed */
  size_t n_regions;
  const vm_diar_span *segments; /* (n_segments) transcript, or NULL */
  size_t n_segments;
} vm_diar_input;

typedef struct vm_diar_opts {
  int n_speakers;      /* 0 = estimate in [1, max_speakers] */
  int max_speakers;    /* 4 (at most VM_DIAR_MAX_SPEAKERS) */
  int use_stereo;      /* 1 = use channel-per-party when it holds */
  double bic_lambda;   /* BIC penalty weight for clustering; 1.5 */
  double pitch_guard_st; /* clusters whose mean F0 differs more never merge; 6 */
  double change_lambda; /* BIC penalty weight for change detection; 1.0 */
  double switch_penalty; /* Viterbi cost (nats) of a change of speaker; 25 */
  double min_speaker_s;  /* a cluster with less speech is merged away; 1.0 */
  double clr_threshold;  /* CLR stage: merge while the best pair's CLR is above; -0.5 */
} vm_diar_opts;

typedef struct vm_diar_turn {
  double start_s, end_s;
  int speaker;                /* 0-based */
} vm_diar_turn;

/* Part of transcript segment `segment` attributed to one speaker. */
typedef struct vm_diar_seg_label {
  size_t segment;             /* index into the input segments */
  double start_s, end_s;
  int speaker;                /* -1 when there is no speech at all */
} vm_diar_seg_label;

typedef struct vm_diar_speaker {
  double talk_s;              /* speech attributed to the speaker */
  double share;               /* talk_s / total talk, 0..1 */
  size_t n_turns;             /* runs of consecutive turns by the speaker */
  size_t n_interruptions;     /* runs begun while/just as another spoke */
  double overlap_s;           /* time talking over another (stereo only) */
  double longest_monologue_s; /* longest run, first start to last end */
} vm_diar_speaker;

typedef struct vm_diar_result {
  const char *method;         /* static string: "stereo-channels", "bic-ahc-viterbi", "none" */
  int n_speakers;
  vm_diar_turn *turns;        /* (n_turns) time order, non-overlapping */
  size_t n_turns;
  vm_diar_speaker *speakers;  /* (n_speakers) */
  vm_diar_seg_label *seg_labels; /* (n_seg_labels) segment order */
  size_t n_seg_labels;
  double stereo_separation;   /* fraction of speech frames >= 10 dB apart (NAN if mono) */
  /* Added with repeat detection: speech (seconds) whose audio repeats
   * earlier audio of the same file — a looped or replayed recording, a
   * message played twice. Counted once for clustering; 0 when none. */
  double repeated_s;
} vm_diar_result;

void vm_diar_opts_default(vm_diar_opts *o);

/* Diarizes. opts NULL = defaults. No regions → zero speakers, no turns.
 * OUT: *out (NULL on failure), freed with vm_diar_result_destroy.
 * Returns VM_OK, VM_EINVAL, VM_ENOMEM. */
int vm_diarize(const vm_diar_input *in, const vm_diar_opts *opts,
               vm_diar_result **out);
void vm_diar_result_destroy(vm_diar_result *d);

/* Writes "SPEAKER_%02d" into buf (>= 16 bytes); returns buf. */
char *vm_diar_speaker_name(int speaker, char *buf, size_t n);

/* The "diarization" object: {"method", "n_speakers", "turns": [{"start",
 * "end", "speaker"}], "speakers": [{"speaker", "talk_time_s", "share",
 * "turns", "interruptions", "overlap_s", "longest_monologue_s"}],
 * "segments": [{"segment", "start", "end", "speaker"}] (only when segments
 * were given), "stereo_separation", "repeated_speech_s"}. New reference; NULL when out of memory. */
json_t *vm_diar_result_to_json(const vm_diar_result *d);

#endif /* VM_FORENSIC_DIARIZE_H */
