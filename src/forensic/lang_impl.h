/* lang_impl.h — internals of the language forensics (lang_*.c) shared
 * inside src/forensic only; tests include it to reach the pieces.
 *
 * Data flow: lang_db.c reads data/patterns/ and lang_compile.c turns each
 * pattern text into "variants" (code-point sequences with slots, one per
 * alternative, spelling and ending form). lang_normalize.c turns a segment
 * into a vm__lang_text: NFC, lower-case, spaces and punctuation removed,
 * with token/sentence flags and a map back to the original bytes.
 * lang_match.c finds variants in texts; lang_level.c reads speech level;
 * lang_crosscheck.c compares text cues with voice arousal; lang_stats.c
 * reduces per-segment evidence to score inputs (and bootstraps them);
 * lang_score.c holds the formulas; lang_analyze.c builds the JSON.
 */
#ifndef VM_FORENSIC_LANG_IMPL_H
#define VM_FORENSIC_LANG_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "lang.h"

/* ---- code-point strings ---- */

typedef struct vm__lang_cpstr {
  int32_t *cps; /* (n) */
  size_t n;
} vm__lang_cpstr;

typedef struct vm__lang_cplist {
  vm__lang_cpstr *items; /* (n) */
  size_t n;
} vm__lang_cplist;

void vm__lang_cplist_deinit(vm__lang_cplist *l);

/* ---- normalised text ---- */

enum {
  VM__LANG_F_TOKEN = 1, /* a token (word) starts at this character */
  VM__LANG_F_SENT = 2,  /* a sentence starts at this character */
};

/* A segment as matched: only letters, marks, digits and symbols remain,
 * NFC-composed and lower-cased; spaces and punctuation become flags on the
 * next character. b0/b1 map each character back to the original bytes. */
typedef struct vm__lang_text {
  int32_t *cps;   /* (n) */
  uint32_t *b0;   /* (n) first original byte of the character's cluster */
  uint32_t *b1;   /* (n) one past its last byte */
  uint8_t *flags; /* (n) VM__LANG_F_* */
  size_t n;
  size_t n_tokens;  /* words (tokens) */
  size_t n_exclaim; /* '!' characters seen */
} vm__lang_text;

/* Normalises len bytes of UTF-8 s (invalid bytes are dropped). VM_OK,
 * VM_EINVAL (len over 16 MiB) or VM_ENOMEM. OUT: t (vm__lang_text_deinit). */
int vm__lang_text_init(vm__lang_text *t, const char *s, size_t len);
void vm__lang_text_deinit(vm__lang_text *t);
/* The normalised form of a data string as one code-point string (flags
 * dropped). VM_OK or VM_ENOMEM. OUT: out->cps (vm_free). */
int vm__lang_cpstr_from_utf8(const char *s, vm__lang_cpstr *out);
/* 1 if the token containing character i ends exactly at i (the next
 * character starts a token, or i is last). */
int vm__lang_text_token_end(const vm__lang_text *t, size_t i);

/* ---- database ---- */

#define VM__LANG_SLOT ((int32_t)-1) /* a slot element in a variant */
#define VM__LANG_SLOT_MAX 16        /* characters a slot may cover */
#define VM__LANG_MAX_VARIANTS 64    /* per pattern, after expansion */

enum vm__lang_bound {
  VM__LANG_BOUND_WORD = 0, /* token start .. token end (tail "요" allowed) */
  VM__LANG_BOUND_START,    /* token start, may end inside a token */
  VM__LANG_BOUND_TOKEN,    /* whole tokens only */
  VM__LANG_BOUND_NOUN,     /* token start .. token end or a particle */
  VM__LANG_BOUND_SENTENCE, /* a whole sentence */
  VM__LANG_BOUND_NONE,     /* anywhere */
};

typedef struct vm__lang_type {
  char *id;
  char *label_ko;
  double weight;  /* severity weight 0..1 */
  int emotional;  /* counts toward emotional manipulation */
} vm__lang_type;

typedef struct vm__lang_family {
  char *id;       /* "gaslighting", "threat", ... */
  char *label_ko;
  char *file;     /* data file it came from */
  int finding;    /* 1: matches are findings ("matches" in the JSON) */
  vm__lang_type *types; /* (n_types) */
  size_t n_types;
} vm__lang_family;

typedef struct vm__lang_pattern {
  char *id;       /* "threat.direct.03" or the file's own id */
  char *text;     /* as written in the data file */
  int family, type;
  int bound;      /* enum vm__lang_bound */
  int has_slot;
  int req_family, req_type; /* a context that must be near (-1: none) */
  char *req_text; /* "family.type" as written, resolved after loading */
  size_t n_chars; /* literal characters of the first variant */
} vm__lang_pattern;

typedef struct vm__lang_variant {
  int32_t *cps; /* (n) literal code points or VM__LANG_SLOT */
  size_t n;
  size_t pattern;
} vm__lang_variant;

typedef struct vm__lang_rule {
  vm__lang_cpstr from, to;
} vm__lang_rule;

struct vm_lang_db {
  char *dir;
  char *version;
  int schema_version;
  vm__lang_family *families; /* (n_families) */
  size_t n_families;
  vm__lang_pattern *patterns; /* (n_patterns) */
  size_t n_patterns, cap_patterns;
  vm__lang_variant *variants; /* (n_variants) */
  size_t n_variants, cap_variants;
  /* endings.json */
  vm__lang_rule *endings; /* ending rewrites applied to a pattern's end */
  size_t n_endings;
  vm__lang_rule *spellings; /* spelling alternatives anywhere */
  size_t n_spellings;
  vm__lang_cplist particles;  /* tails allowed after a NOUN match */
  vm__lang_cplist word_tails; /* tails allowed after a WORD match */
  /* speech_level.json */
  vm__lang_cplist formal_endings, informal_endings, level_exceptions;
  vm__lang_cplist formal_tokens, informal_tokens;
  /* well-known families (-1 when absent) */
  int fam_gaslighting, fam_threat, fam_coercion, fam_deception;
  int fam_hierarchy, fam_lexicon;
};

/* Compiles one pattern text into variants appended to db (lang_compile.c).
 * endings: apply db->endings to the end. On a syntax error returns
 * VM_EFORMAT with a reason in why (no file/entry; the caller adds them). */
int vm__lang_pattern_compile(vm_lang_db *db, size_t pattern, const char *text,
                             int endings, char *why, size_t why_len);
/* Index of family id / type id, or -1. */
int vm__lang_family_find(const vm_lang_db *db, const char *id);
int vm__lang_type_find(const vm_lang_db *db, int family, const char *id);

/* ---- matching ---- */

typedef struct vm__lang_hit {
  size_t pattern;
  size_t segment;
  size_t c0, c1;     /* normalised character range [c0, c1) */
  double confidence; /* 0..1 */
} vm__lang_hit;

typedef struct vm__lang_hits {
  vm__lang_hit *items; /* (n) */
  size_t n, cap;
} vm__lang_hits;

void vm__lang_hits_deinit(vm__lang_hits *h);
/* Appends every match in t (segment index seg) of the patterns of family
 * (or of all families when family < 0). Within one family a match
 * contained in another is dropped, as is a repeat of the same pattern
 * overlapping an earlier one. VM_OK or VM_ENOMEM. */
int vm__lang_match_text(const vm_lang_db *db, const vm__lang_text *t, size_t seg,
                        int family, vm__lang_hits *out);

/* ---- speech level ---- */

enum vm__lang_level {
  VM__LANG_LEVEL_UNKNOWN = 0,
  VM__LANG_LEVEL_FORMAL,
  VM__LANG_LEVEL_INFORMAL,
  VM__LANG_LEVEL_MIXED,
};

/* Counts sentences of t ending formally (존댓말) and informally (반말).
 * OUT: *out_formal, *out_informal. Returns the segment's level. */
int vm__lang_level_classify(const vm_lang_db *db, const vm__lang_text *t,
                            int *out_formal, int *out_informal);
const char *vm__lang_level_name(int level);

/* ---- scores ---- */

enum { VM__LANG_CAT_GASLIGHTING, VM__LANG_CAT_THREAT, VM__LANG_CAT_COERCION,
       VM__LANG_CAT_DECEPTION, VM__LANG_CAT_EMOTIONAL, VM__LANG_N_CATS };
enum { VM__LANG_RISK_MINIMAL, VM__LANG_RISK_LOW, VM__LANG_RISK_MODERATE,
       VM__LANG_RISK_HIGH, VM__LANG_RISK_CRITICAL };
enum { VM__LANG_FLAG_HIGH_RISK = 1, VM__LANG_FLAG_GASLIGHTING = 2,
       VM__LANG_FLAG_THREAT = 4, VM__LANG_FLAG_DECEPTION = 8,
       VM__LANG_FLAG_HIGH_STRESS = 16 };

/* The formula inputs (§6.7 of the original). */
typedef struct vm__lang_score_in {
  double G, T, C, D;   /* family scores 0..1 */
  int nG, nT, nC;      /* match counts */
  double E;            /* emotional-manipulation evidence 0..1 */
  int nE;
  double K;            /* text–voice consistency used in the formulas */
  double K_conf;       /* consistency used as a confidence (= K originally) */
  double s;            /* text sentiment -1..1 */
  double V;            /* voice valence 0..1 (NAN: not measured) */
  double S;            /* voice stress level 0..1 */
  int stress_risk;     /* -1 unknown, 0 low, 1 medium, 2 high */
  int stress_indicator;
} vm__lang_score_in;

typedef struct vm__lang_cat {
  double score;      /* 0..100 */
  double confidence; /* 0..1 */
  int evidence_count;
} vm__lang_cat;

typedef struct vm__lang_score_out {
  vm__lang_cat cat[VM__LANG_N_CATS];
  double overall; /* 0..100 */
  int risk;       /* VM__LANG_RISK_* */
  double confidence;
  double GI;      /* gaslighting intensity 0..100 */
  int victim_impact;
  double DP;      /* deception probability 0..1 */
  double ediff;   /* |sentiment01 - valence| (0 when valence unknown) */
  double emotional_authenticity; /* NAN when valence unknown */
  double TS;      /* threat score 0..100 (stress-amplified) */
  int threat_level;
  const char *immediacy, *specificity;
  double credibility;
  unsigned flags; /* VM__LANG_FLAG_* */
} vm__lang_score_out;

void vm__lang_score_compute(const vm__lang_score_in *in, vm__lang_score_out *out);
int vm__lang_risk_level(double score_0_100);
const char *vm__lang_risk_name(int risk);
const char *vm__lang_risk_name_ko(int risk);
const char *vm__lang_cat_name(int cat);
/* Rounds half away from zero to one decimal as printed in the summary. */
double vm__lang_round1(double x);
/* The Korean summary sentence; OUT: buf. */
void vm__lang_summary_ko(const vm__lang_score_out *o, char *buf, size_t len);
/* Appends the Korean recommendation lines (static strings) to out (up to
 * max); returns how many. */
size_t vm__lang_recommendations_ko(const vm__lang_score_out *o, const char **out,
                                   size_t max);
/* Deception probability from marker counts (fixed §16 #22 baseline).
 * counts: hedging, distancing, negative_emotion, exclusive, cognitive. */
double vm__lang_deception_score(const int counts[5], int words);

/* ---- per-segment evidence and its reduction ---- */

typedef struct vm__lang_segstat {
  double wc[3];     /* Σ weight·confidence: gaslighting, threat, coercion */
  int n[3];         /* their match counts */
  double emo_wc;    /* Σ weight·confidence of "emotional" types */
  int n_emo;
  int dec[5];       /* deception marker counts per category */
  int words;
  int pos, neg;     /* sentiment keywords */
  double disc_w;    /* Σ severity weight·confidence of discrepancies */
  int n_disc;
  double stress;    /* stress_index 0..100 or NAN */
  int voice_known;  /* arousal or stress known */
} vm__lang_segstat;

/* Score inputs from the segments idx[0..n) of st (indices may repeat, as
 * in a bootstrap resample). OUT: in. */
void vm__lang_stats_reduce(const vm__lang_segstat *st, const size_t *idx, size_t n,
                           vm__lang_score_in *in);
/* Percentile-bootstrap 95 % interval of "overall" over the segments idx:
 * B resamples of n segments with replacement (splitmix64 seeded by seed),
 * each scored in full; the 2.5th and 97.5th percentiles by linear
 * interpolation. Returns VM_OK, VM_EINVAL (n < 2 or B < 1) or VM_ENOMEM. */
int vm__lang_bootstrap_ci(const vm__lang_segstat *st, const size_t *idx, size_t n,
                          int B, uint64_t seed, double out_ci[2]);

/* ---- text–voice cross-check ---- */

enum { VM__LANG_SEV_LOW, VM__LANG_SEV_MEDIUM, VM__LANG_SEV_HIGH,
       VM__LANG_SEV_CRITICAL };

/* Text cues of one segment (from its matches). */
typedef struct vm__lang_cues {
  int threat_or_coercion; /* a threat/coercion/extortion finding */
  double intensity;       /* 0..1 */
  int remorse, comfort;   /* apology / comforting words present */
} vm__lang_cues;

typedef struct vm__lang_disc {
  const char *rule;
  const char *description_ko;
  int severity;       /* VM__LANG_SEV_* */
  double confidence;
} vm__lang_disc;

/* Applies the cross-check rules to one segment; at most one discrepancy
 * per rule group. Returns how many were written to out (max 4). */
size_t vm__lang_crosscheck(const vm__lang_cues *c, const vm_lang_voice *v,
                           vm__lang_disc out[4]);
double vm__lang_severity_weight(int severity);
const char *vm__lang_severity_name(int severity);
/* Prosodic arousal z-score mapped to 0..1 (logistic). */
double vm__lang_arousal01(double z);

#endif /* VM_FORENSIC_LANG_IMPL_H */
