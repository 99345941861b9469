/* lang_db.c — loading and validating the pattern database (data/patterns).
 *
 * DESIGN: manifest.json names the schema version, the database version
 * and the files: one file per pattern family (same schema for findings,
 * deception markers, hierarchy markers and the cross-check lexicon),
 * endings.json (ending rewrites, spelling alternatives, particles) and
 * speech_level.json. Everything is checked while loading; the first
 * problem fails the whole open with VM_EFORMAT and a message naming the
 * file and the entry, so a broken edit never silently drops patterns.
 * The format is documented in docs/language.md.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <utf8proc.h>

#include "lang_impl.h"
#include "vm_alloc.h"
#include "vm_fs.h"
#include "vm_strmap.h"

#define SCHEMA_VERSION 1
#define MAX_FILE_BYTES (4u << 20)

#ifndef VM_LANG_SOURCE_PATTERNS
#define VM_LANG_SOURCE_PATTERNS "data/patterns"
#endif

typedef struct loader {
  vm_lang_db *db;
  vm_strmap *seen; /* "family\x1fnormalised text" and pattern ids */
  vm_err *err;
} loader;

static const char *BOUND_NAMES[] = {"word", "start", "token", "noun", "sentence", "none"};

static int parse_bound(const char *s) {
  for (int i = 0; i < (int)(sizeof BOUND_NAMES / sizeof *BOUND_NAMES); i++)
    if (strcmp(s, BOUND_NAMES[i]) == 0) return i;
  return -1;
}

static int read_json(const char *dir, const char *file, json_t **out, vm_err *err) {
  *out = NULL;
  char *path = vm_path_join(dir, file);
  if (!path) return vm_err_set(err, VM_ENOMEM, "out of memory");
  int rc = VM_OK;
  if (!vm_fs_exists(path)) {
    rc = vm_err_set(err, VM_ENOENT, "%s: pattern file not found", path);
    goto out;
  }
  json_error_t je;
  *out = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
  if (!*out) {
    rc = vm_err_set(err, VM_EFORMAT, "%s:%d:%d: %s", file, je.line, je.column, je.text);
  } else if (!json_is_object(*out)) {
    rc = vm_err_set(err, VM_EFORMAT, "%s: top level must be an object", file);
  } else {
    json_t *sv = json_object_get(*out, "schema_version");
    if (!json_is_integer(sv) || json_integer_value(sv) != SCHEMA_VERSION)
      rc = vm_err_set(err, VM_EFORMAT, "%s: schema_version must be %d", file, SCHEMA_VERSION);
  }
  if (rc != VM_OK) {
    json_decref(*out);
    *out = NULL;
  }
out:
  vm_free(path);
  return rc;
}

/* Optional string member; VM_EFORMAT if present and not a string. */
static int opt_str(json_t *o, const char *key, const char **out, const char *file,
                   const char *where, vm_err *err) {
  json_t *v = json_object_get(o, key);
  if (!v || json_is_null(v)) return VM_OK;
  if (!json_is_string(v))
    return vm_err_set(err, VM_EFORMAT, "%s: %s: \"%s\" must be a string", file, where, key);
  *out = json_string_value(v);
  return VM_OK;
}

static int opt_bool(json_t *o, const char *key, int *out, const char *file, const char *where,
                    vm_err *err) {
  json_t *v = json_object_get(o, key);
  if (!v) return VM_OK;
  if (!json_is_boolean(v))
    return vm_err_set(err, VM_EFORMAT, "%s: %s: \"%s\" must be true or false", file, where, key);
  *out = json_is_true(v);
  return VM_OK;
}

/* Inherited per-level settings: family → type → pattern. */
typedef struct settings {
  int bound; /* -1: choose by length */
  int endings;
  const char *requires;
} settings;

static int read_settings(json_t *o, settings *s, const char *file, const char *where,
                         vm_err *err) {
  const char *b = NULL;
  int rc = opt_str(o, "boundary", &b, file, where, err);
  if (rc == VM_OK && b) {
    s->bound = parse_bound(b);
    if (s->bound < 0)
      rc = vm_err_set(err, VM_EFORMAT,
                      "%s: %s: unknown boundary \"%s\" (word, start, token, noun, sentence, none)",
                      file, where, b);
  }
  if (rc == VM_OK) rc = opt_bool(o, "endings", &s->endings, file, where, err);
  json_t *r = json_object_get(o, "requires");
  if (rc == VM_OK && r && json_is_null(r)) s->requires = NULL;
  else if (rc == VM_OK) rc = opt_str(o, "requires", &s->requires, file, where, err);
  return rc;
}

/* "family\x1f<variant as UTF-8, slots as ~>"; NULL when out of memory. */
static char *variant_key(const char *family, const vm__lang_variant *v) {
  size_t fl = strlen(family), n = fl + 1;
  char *k = vm_malloc(fl + 2 + 4 * v->n);
  if (!k) return NULL;
  memcpy(k, family, fl);
  k[fl] = 0x1f;
  for (size_t i = 0; i < v->n; i++) {
    if (v->cps[i] == VM__LANG_SLOT) k[n++] = '~';
    else n += (size_t)utf8proc_encode_char(v->cps[i], (utf8proc_uint8_t *)k + n);
  }
  k[n] = '\0';
  return k;
}

static int add_pattern(loader *L, int fam, int type, json_t *pj, size_t ip, settings s,
                       const char *file, const char *where) {
  vm_lang_db *db = L->db;
  const char *text = NULL, *id = NULL;
  int rc = VM_OK;
  if (json_is_string(pj)) {
    text = json_string_value(pj);
  } else if (json_is_object(pj)) {
    if ((rc = opt_str(pj, "text", &text, file, where, L->err)) != VM_OK) return rc;
    if ((rc = opt_str(pj, "id", &id, file, where, L->err)) != VM_OK) return rc;
    if ((rc = read_settings(pj, &s, file, where, L->err)) != VM_OK) return rc;
  }
  if (!text || !*text)
    return vm_err_set(L->err, VM_EFORMAT, "%s: %s: a pattern must be a non-empty string or "
                      "an object with \"text\"", file, where);
  if (db->n_patterns == db->cap_patterns) {
    size_t nc = db->cap_patterns ? 2 * db->cap_patterns : 256;
    vm__lang_pattern *p = vm_realloc(db->patterns, nc * sizeof *p);
    if (!p) return vm_err_set(L->err, VM_ENOMEM, "out of memory");
    db->patterns = p;
    db->cap_patterns = nc;
  }
  vm__lang_pattern *p = &db->patterns[db->n_patterns];
  memset(p, 0, sizeof *p);
  p->family = fam;
  p->type = type;
  p->req_family = p->req_type = -1;
  p->text = vm_strdup(text);
  p->id = id ? vm_strdup(id)
             : vm_asprintf("%s.%s.%02zu", db->families[fam].id, db->families[fam].types[type].id,
                           ip + 1);
  p->req_text = s.requires ? vm_strdup(s.requires) : NULL;
  db->n_patterns++;
  if (!p->text || !p->id || (s.requires && !p->req_text))
    return vm_err_set(L->err, VM_ENOMEM, "out of memory");
  char why[160] = "";
  rc = vm__lang_pattern_compile(db, db->n_patterns - 1, text, s.endings, why, sizeof why);
  if (rc == VM_ENOMEM) return vm_err_set(L->err, rc, "out of memory");
  if (rc != VM_OK)
    return vm_err_set(L->err, rc, "%s: %s \"%s\": %s", file, where, text, why);
  /* bound: short patterns must be whole tokens ("어" never inside 먹어) */
  p->bound = s.bound >= 0 ? s.bound : (p->n_chars <= 2 ? VM__LANG_BOUND_TOKEN : VM__LANG_BOUND_WORD);
  /* duplicates: same id anywhere, same normalised text within the family */
  const vm__lang_variant *v0 = &db->variants[db->n_variants - 1];
  for (size_t k = db->n_variants; k > 0 && db->variants[k - 1].pattern == db->n_patterns - 1; k--)
    v0 = &db->variants[k - 1];
  char *key = variant_key(db->families[fam].id, v0);
  char *idkey = vm_asprintf("\x1e%s", p->id);
  void *dummy;
  if (!key || !idkey) rc = vm_err_set(L->err, VM_ENOMEM, "out of memory");
  else if (vm_strmap_get(L->seen, idkey, &dummy))
    rc = vm_err_set(L->err, VM_EFORMAT, "%s: %s: duplicate pattern id \"%s\"", file, where, p->id);
  else if (vm_strmap_get(L->seen, key, &dummy))
    rc = vm_err_set(L->err, VM_EFORMAT, "%s: %s: duplicate pattern \"%s\" in family %s", file,
                    where, text, db->families[fam].id);
  if (rc == VM_OK && (vm_strmap_put(L->seen, key, NULL) || vm_strmap_put(L->seen, idkey, NULL)))
    rc = vm_err_set(L->err, VM_ENOMEM, "out of memory");
  vm_free(key);
  vm_free(idkey);
  return rc;
}

static int load_type(loader *L, int fam, size_t it, json_t *tj, settings s, const char *file) {
  vm__lang_family *f = &L->db->families[fam];
  vm__lang_type *t = &f->types[it];
  char where[96];
  snprintf(where, sizeof where, "types[%zu]", it);
  if (!json_is_object(tj))
    return vm_err_set(L->err, VM_EFORMAT, "%s: %s: must be an object", file, where);
  const char *id = NULL, *label = NULL;
  int rc = opt_str(tj, "id", &id, file, where, L->err);
  if (rc == VM_OK) rc = opt_str(tj, "label_ko", &label, file, where, L->err);
  if (rc == VM_OK) rc = opt_bool(tj, "emotional", &t->emotional, file, where, L->err);
  if (rc == VM_OK) rc = read_settings(tj, &s, file, where, L->err);
  if (rc != VM_OK) return rc;
  if (!id || !*id) return vm_err_set(L->err, VM_EFORMAT, "%s: %s: missing \"id\"", file, where);
  snprintf(where, sizeof where, "types[%zu] (%s)", it, id);
  json_t *w = json_object_get(tj, "weight");
  if (w && !json_is_number(w))
    return vm_err_set(L->err, VM_EFORMAT, "%s: %s: \"weight\" must be a number", file, where);
  t->weight = w ? json_number_value(w) : 0.0;
  if (f->finding && !w)
    return vm_err_set(L->err, VM_EFORMAT, "%s: %s: a finding type needs a \"weight\"", file, where);
  if (!(t->weight >= 0.0 && t->weight <= 1.0))
    return vm_err_set(L->err, VM_EFORMAT, "%s: %s: weight %g is outside 0..1", file, where, t->weight);
  for (size_t k = 0; k < it; k++)
    if (strcmp(f->types[k].id, id) == 0)
      return vm_err_set(L->err, VM_EFORMAT, "%s: %s: duplicate type id", file, where);
  t->id = vm_strdup(id);
  t->label_ko = vm_strdup(label ? label : id);
  if (!t->id || !t->label_ko) return vm_err_set(L->err, VM_ENOMEM, "out of memory");
  json_t *pats = json_object_get(tj, "patterns");
  if (!json_is_array(pats) || json_array_size(pats) == 0)
    return vm_err_set(L->err, VM_EFORMAT, "%s: %s: \"patterns\" must be a non-empty array", file,
                      where);
  for (size_t ip = 0; ip < json_array_size(pats); ip++) {
    char pw[128];
    snprintf(pw, sizeof pw, "types[%zu].patterns[%zu]", it, ip);
    rc = add_pattern(L, fam, (int)it, json_array_get(pats, ip), ip, s, file, pw);
    if (rc != VM_OK) return rc;
  }
  return VM_OK;
}

static int load_family(loader *L, const char *file) {
  vm_lang_db *db = L->db;
  json_t *j;
  int rc = read_json(db->dir, file, &j, L->err);
  if (rc != VM_OK) return rc;
  const char *id = NULL, *label = NULL;
  int finding = 0;
  settings s = {-1, 0, NULL};
  rc = opt_str(j, "family", &id, file, "top level", L->err);
  if (rc == VM_OK) rc = opt_str(j, "label_ko", &label, file, "top level", L->err);
  if (rc == VM_OK) rc = opt_bool(j, "finding", &finding, file, "top level", L->err);
  if (rc == VM_OK) rc = read_settings(j, &s, file, "top level", L->err);
  json_t *types = json_object_get(j, "types");
  if (rc == VM_OK && (!id || !*id))
    rc = vm_err_set(L->err, VM_EFORMAT, "%s: missing \"family\"", file);
  if (rc == VM_OK && vm__lang_family_find(db, id) >= 0)
    rc = vm_err_set(L->err, VM_EFORMAT, "%s: family \"%s\" defined twice", file, id);
  if (rc == VM_OK && (!json_is_array(types) || json_array_size(types) == 0))
    rc = vm_err_set(L->err, VM_EFORMAT, "%s: \"types\" must be a non-empty array", file);
  if (rc != VM_OK) goto out;
  vm__lang_family *fs = vm_realloc(db->families, (db->n_families + 1) * sizeof *fs);
  if (!fs) {
    rc = vm_err_set(L->err, VM_ENOMEM, "out of memory");
    goto out;
  }
  db->families = fs;
  vm__lang_family *f = &fs[db->n_families++];
  memset(f, 0, sizeof *f);
  f->id = vm_strdup(id);
  f->label_ko = vm_strdup(label ? label : id);
  f->file = vm_strdup(file);
  f->finding = finding;
  f->types = vm_calloc(json_array_size(types), sizeof *f->types);
  if (!f->id || !f->label_ko || !f->file || !f->types) {
    rc = vm_err_set(L->err, VM_ENOMEM, "out of memory");
    goto out;
  }
  int fam = (int)db->n_families - 1;
  for (size_t it = 0; it < json_array_size(types) && rc == VM_OK; it++) {
    f->n_types = it + 1;
    rc = load_type(L, fam, it, json_array_get(types, it), s, file);
  }
out:
  json_decref(j);
  return rc;
}

/* A JSON array of strings → normalised code-point strings. */
static int read_list(json_t *o, const char *key, vm__lang_cplist *out, const char *file,
                     vm_err *err) {
  json_t *a = json_object_get(o, key);
  if (!json_is_array(a))
    return vm_err_set(err, VM_EFORMAT, "%s: \"%s\" must be an array of strings", file, key);
  out->items = vm_calloc(json_array_size(a) + 1, sizeof *out->items);
  if (!out->items) return vm_err_set(err, VM_ENOMEM, "out of memory");
  for (size_t i = 0; i < json_array_size(a); i++) {
    json_t *v = json_array_get(a, i);
    if (!json_is_string(v))
      return vm_err_set(err, VM_EFORMAT, "%s: %s[%zu]: must be a string", file, key, i);
    if (vm__lang_cpstr_from_utf8(json_string_value(v), &out->items[out->n]) != VM_OK)
      return vm_err_set(err, VM_ENOMEM, "out of memory");
    if (out->items[out->n++].n == 0)
      return vm_err_set(err, VM_EFORMAT, "%s: %s[%zu]: no letters", file, key, i);
  }
  return VM_OK;
}

/* [["from", "to"], ...] → rules; "to" may be empty for endings. */
static int read_rules(json_t *o, const char *key, vm__lang_rule **out, size_t *n,
                      const char *file, vm_err *err) {
  json_t *a = json_object_get(o, key);
  if (!json_is_array(a))
    return vm_err_set(err, VM_EFORMAT, "%s: \"%s\" must be an array of [from, to] pairs", file, key);
  *out = vm_calloc(json_array_size(a) + 1, sizeof **out);
  if (!*out) return vm_err_set(err, VM_ENOMEM, "out of memory");
  for (size_t i = 0; i < json_array_size(a); i++) {
    json_t *p = json_array_get(a, i);
    json_t *f = json_array_get(p, 0), *t = json_array_get(p, 1);
    if (!json_is_array(p) || json_array_size(p) != 2 || !json_is_string(f) || !json_is_string(t))
      return vm_err_set(err, VM_EFORMAT, "%s: %s[%zu]: must be [\"from\", \"to\"]", file, key, i);
    vm__lang_rule *r = &(*out)[(*n)++];
    if (vm__lang_cpstr_from_utf8(json_string_value(f), &r->from) != VM_OK ||
        vm__lang_cpstr_from_utf8(json_string_value(t), &r->to) != VM_OK)
      return vm_err_set(err, VM_ENOMEM, "out of memory");
    if (r->from.n == 0)
      return vm_err_set(err, VM_EFORMAT, "%s: %s[%zu]: empty \"from\"", file, key, i);
  }
  return VM_OK;
}

static int load_aux(vm_lang_db *db, const char *endings, const char *level, vm_err *err) {
  json_t *j = NULL;
  int rc = read_json(db->dir, endings, &j, err);
  if (rc == VM_OK) rc = read_rules(j, "ending_rules", &db->endings, &db->n_endings, endings, err);
  if (rc == VM_OK) rc = read_rules(j, "spellings", &db->spellings, &db->n_spellings, endings, err);
  if (rc == VM_OK) rc = read_list(j, "particles", &db->particles, endings, err);
  if (rc == VM_OK) rc = read_list(j, "word_tails", &db->word_tails, endings, err);
  json_decref(j);
  if (rc != VM_OK) return rc;
  rc = read_json(db->dir, level, &j, err);
  if (rc == VM_OK) rc = read_list(j, "formal_endings", &db->formal_endings, level, err);
  if (rc == VM_OK) rc = read_list(j, "informal_endings", &db->informal_endings, level, err);
  if (rc == VM_OK) rc = read_list(j, "exceptions", &db->level_exceptions, level, err);
  if (rc == VM_OK) rc = read_list(j, "formal_tokens", &db->formal_tokens, level, err);
  if (rc == VM_OK) rc = read_list(j, "informal_tokens", &db->informal_tokens, level, err);
  json_decref(j);
  return rc;
}

/* Families and types the analysis relies on must exist. */
static int check_required(vm_lang_db *db, vm_err *err) {
  static const char *const need[][7] = {
      {"gaslighting", NULL},
      {"threat", NULL},
      {"coercion", NULL},
      {"deception", "hedging", "distancing", "negative_emotion", "exclusive",
       "cognitive_complexity", NULL},
      {"hierarchy", "family", "job", "social", NULL},
      {"lexicon", "positive", "negative", "apology", "comfort", "intensifier", "consequence"},
  };
  int *slots[] = {&db->fam_gaslighting, &db->fam_threat, &db->fam_coercion,
                  &db->fam_deception, &db->fam_hierarchy, &db->fam_lexicon};
  for (size_t i = 0; i < sizeof need / sizeof *need; i++) {
    int f = vm__lang_family_find(db, need[i][0]);
    if (f < 0)
      return vm_err_set(err, VM_EFORMAT, "manifest.json: no file defines family \"%s\"", need[i][0]);
    *slots[i] = f;
    for (size_t k = 1; k < 7 && need[i][k]; k++)
      if (vm__lang_type_find(db, f, need[i][k]) < 0)
        return vm_err_set(err, VM_EFORMAT, "%s: family %s lacks type \"%s\"",
                          db->families[f].file, need[i][0], need[i][k]);
  }
  for (size_t i = 0; i < db->n_patterns; i++) { /* resolve "requires" */
    vm__lang_pattern *p = &db->patterns[i];
    if (!p->req_text) continue;
    const char *dot = strchr(p->req_text, '.');
    char fam[64];
    snprintf(fam, sizeof fam, "%.*s", dot ? (int)(dot - p->req_text) : 0, p->req_text);
    p->req_family = dot ? vm__lang_family_find(db, fam) : -1;
    p->req_type = p->req_family >= 0 ? vm__lang_type_find(db, p->req_family, dot + 1) : -1;
    if (p->req_type < 0)
      return vm_err_set(err, VM_EFORMAT, "%s: pattern %s: \"requires\": \"%s\" is not a "
                        "family.type", db->families[p->family].file, p->id, p->req_text);
  }
  return VM_OK;
}

static int load_manifest(vm_lang_db *db, vm_err *err) {
  json_t *m = NULL;
  vm_strmap *seen = NULL;
  int rc = read_json(db->dir, "manifest.json", &m, err);
  if (rc != VM_OK) return rc;
  const char *ver = NULL, *endings = NULL, *level = NULL;
  json_t *files = json_object_get(m, "files");
  rc = opt_str(m, "database_version", &ver, "manifest.json", "top level", err);
  if (rc == VM_OK) rc = opt_str(m, "endings", &endings, "manifest.json", "top level", err);
  if (rc == VM_OK) rc = opt_str(m, "speech_level", &level, "manifest.json", "top level", err);
  if (rc == VM_OK && (!ver || !endings || !level || !json_is_array(files)))
    rc = vm_err_set(err, VM_EFORMAT, "manifest.json: needs \"database_version\", \"files\", "
                    "\"endings\" and \"speech_level\"");
  if (rc == VM_OK && !(db->version = vm_strdup(ver))) rc = vm_err_set(err, VM_ENOMEM, "out of memory");
  if (rc == VM_OK) rc = load_aux(db, endings, level, err);
  if (rc == VM_OK && vm_strmap_create(&seen) != VM_OK) rc = vm_err_set(err, VM_ENOMEM, "out of memory");
  loader L = {db, seen, err};
  for (size_t i = 0; rc == VM_OK && i < json_array_size(files); i++) {
    json_t *f = json_array_get(files, i);
    if (!json_is_string(f) || strchr(json_string_value(f), '/'))
      rc = vm_err_set(err, VM_EFORMAT, "manifest.json: files[%zu]: must be a file name", i);
    else
      rc = load_family(&L, json_string_value(f));
  }
  if (rc == VM_OK) rc = check_required(db, err);
  vm_strmap_destroy(seen);
  json_decref(m);
  return rc;
}

/* The built-in directory: installed share dir next to the executable,
 * else the source tree. Returns a new string or NULL (out of memory). */
static char *default_dir(void) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) {
      *slash = '\0';
      char *cand = vm_asprintf("%s/../share/voiceman/patterns", exe);
      char *man = cand ? vm_path_join(cand, "manifest.json") : NULL;
      int ok = man && vm_fs_exists(man);
      vm_free(man);
      if (ok || !cand) return cand;
      vm_free(cand);
    }
  }
  return vm_strdup(VM_LANG_SOURCE_PATTERNS);
}

int vm_lang_db_open(const char *dir, vm_lang_db **out, vm_err *err) {
  vm_err_clear(err);
  if (!out) return vm_err_set(err, VM_EINVAL, "vm_lang_db_open: NULL out");
  *out = NULL;
  vm_lang_db *db = vm_calloc(1, sizeof *db);
  if (!db) return vm_err_set(err, VM_ENOMEM, "out of memory");
  db->fam_gaslighting = db->fam_threat = db->fam_coercion = -1;
  db->fam_deception = db->fam_hierarchy = db->fam_lexicon = -1;
  db->schema_version = SCHEMA_VERSION;
  db->dir = dir ? vm_strdup(dir) : default_dir();
  int rc = db->dir ? load_manifest(db, err) : vm_err_set(err, VM_ENOMEM, "out of memory");
  if (rc != VM_OK) {
    vm_lang_db_close(db);
    return rc;
  }
  *out = db;
  return VM_OK;
}

void vm_lang_db_close(vm_lang_db *db) {
  if (!db) return;
  for (size_t i = 0; i < db->n_families; i++) {
    vm__lang_family *f = &db->families[i];
    for (size_t k = 0; k < f->n_types; k++) {
      vm_free(f->types[k].id);
      vm_free(f->types[k].label_ko);
    }
    vm_free(f->types);
    vm_free(f->id);
    vm_free(f->label_ko);
    vm_free(f->file);
  }
  vm_free(db->families);
  for (size_t i = 0; i < db->n_patterns; i++) {
    vm_free(db->patterns[i].id);
    vm_free(db->patterns[i].text);
    vm_free(db->patterns[i].req_text);
  }
  vm_free(db->patterns);
  for (size_t i = 0; i < db->n_variants; i++) vm_free(db->variants[i].cps);
  vm_free(db->variants);
  vm__lang_rule *rs[2] = {db->endings, db->spellings};
  size_t ns[2] = {db->n_endings, db->n_spellings};
  for (int k = 0; k < 2; k++) {
    for (size_t i = 0; rs[k] && i < ns[k]; i++) {
      vm_free(rs[k][i].from.cps);
      vm_free(rs[k][i].to.cps);
    }
    vm_free(rs[k]);
  }
  vm__lang_cplist *ls[] = {&db->particles, &db->word_tails, &db->formal_endings,
                           &db->informal_endings, &db->level_exceptions, &db->formal_tokens,
                           &db->informal_tokens};
  for (size_t i = 0; i < sizeof ls / sizeof *ls; i++) vm__lang_cplist_deinit(ls[i]);
  vm_free(db->dir);
  vm_free(db->version);
  vm_free(db);
}

const char *vm_lang_db_version(const vm_lang_db *db) { return db ? db->version : NULL; }
const char *vm_lang_db_dir(const vm_lang_db *db) { return db ? db->dir : NULL; }
size_t vm_lang_db_pattern_count(const vm_lang_db *db) { return db ? db->n_patterns : 0; }
size_t vm_lang_db_variant_count(const vm_lang_db *db) { return db ? db->n_variants : 0; }

int vm__lang_family_find(const vm_lang_db *db, const char *id) {
  for (size_t i = 0; i < db->n_families; i++)
    if (strcmp(db->families[i].id, id) == 0) return (int)i;
  return -1;
}

int vm__lang_type_find(const vm_lang_db *db, int family, const char *id) {
  if (family < 0 || (size_t)family >= db->n_families) return -1;
  const vm__lang_family *f = &db->families[family];
  for (size_t i = 0; i < f->n_types; i++)
    if (strcmp(f->types[i].id, id) == 0) return (int)i;
  return -1;
}
