/* test_forensic_lang_db.c — a broken pattern file fails vm_lang_db_open
 * with a clear error naming the file and the entry, never a crash.
 *
 * Each case copies data/patterns into a temporary directory, breaks one
 * file and checks the status and the message.
 *
 *   ctest --test-dir build -R test_forensic_lang_db --output-on-failure
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lang.h"
#include "test.h"
#include "vm_alloc.h"
#include "vm_fs.h"

#define SRC VM_SOURCE_DIR "/data/patterns"

static char g_dir[256];
static int copy_into(const char *dir);

static int copy_all(void) {
  snprintf(g_dir, sizeof g_dir, "/tmp/vm_lang_db_XXXXXX");
  if (!mkdtemp(g_dir)) return -1;
  return copy_into(g_dir);
}

static int copy_into(const char *dir) {
  DIR *d = opendir(SRC);
  if (!d) return -1;
  struct dirent *e;
  int rc = 0;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (!strstr(e->d_name, ".json")) continue;
    char *from = vm_path_join(SRC, e->d_name), *to = vm_path_join(dir, e->d_name);
    char *buf = NULL;
    size_t n = 0;
    vm_err err;
    rc = vm_fs_read_all(from, 1 << 22, &buf, &n, &err) || vm_fs_write_atomic(to, buf, n, &err);
    vm_free(buf);
    vm_free(from);
    vm_free(to);
  }
  closedir(d);
  return rc;
}

static void remove_all(void) {
  DIR *d = opendir(g_dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char *p = vm_path_join(g_dir, e->d_name);
    if (p) unlink(p);
    vm_free(p);
  }
  closedir(d);
  rmdir(g_dir);
}

/* Replaces the first occurrence of from by to in file. */
static int edit(const char *file, const char *from, const char *to) {
  char *path = vm_path_join(g_dir, file), *buf = NULL;
  size_t n = 0;
  vm_err err;
  int rc = vm_fs_read_all(path, 1 << 22, &buf, &n, &err);
  char *at = rc == 0 ? strstr(buf, from) : NULL;
  if (at) {
    char *out = vm_asprintf("%.*s%s%s", (int)(at - buf), buf, to, at + strlen(from));
    rc = out ? vm_fs_write_atomic(path, out, strlen(out), &err) : -1;
    vm_free(out);
  } else {
    rc = -1;
  }
  vm_free(buf);
  vm_free(path);
  return rc;
}

/* Opens g_dir after one edit; checks status and message fragments. */
static int expect_error(const char *file, const char *from, const char *to, int status,
                        const char *msg1, const char *msg2) {
  ASSERT_EQ(copy_all(), 0);
  if (file) ASSERT_EQ(edit(file, from, to), 0);
  vm_lang_db *db = (vm_lang_db *)1;
  vm_err err;
  int rc = vm_lang_db_open(g_dir, &db, &err);
  remove_all();
  ASSERT_EQ(rc, status);
  ASSERT_NULL(db);
  ASSERT_STR_CONTAINS(err.msg, msg1);
  if (msg2) ASSERT_STR_CONTAINS(err.msg, msg2);
  return 0;
}

static int test_copy_opens(void) {
  ASSERT_EQ(copy_all(), 0);
  vm_lang_db *db = NULL;
  vm_err err;
  int rc = vm_lang_db_open(g_dir, &db, &err);
  remove_all();
  ASSERT_OK(rc);
  vm_lang_db_close(db);
  return 0;
}

static int test_unbalanced_paren(void) {
  return expect_error("threat.json", "\"죽일 거야\"", "\"죽일 (거야\"", VM_EFORMAT, "threat.json",
                      "types[0].patterns[1] \"죽일 (거야\": unbalanced '('");
}

static int test_json_syntax(void) {
  return expect_error("coercion.json", "\"types\": [", "\"types\": [,", VM_EFORMAT,
                      "coercion.json:", NULL);
}

static int test_missing_weight(void) {
  return expect_error("gaslighting.json", "\"weight\": 0.80,", "", VM_EFORMAT,
                      "gaslighting.json: types[0] (denial): a finding type needs a \"weight\"", NULL);
}

static int test_weight_range(void) {
  return expect_error("threat.json", "\"weight\": 1.00", "\"weight\": 1.5", VM_EFORMAT,
                      "threat.json: types[0] (direct): weight 1.5 is outside 0..1", NULL);
}

static int test_bad_boundary(void) {
  return expect_error("insult.json", "\"boundary\": \"noun\"", "\"boundary\": \"wordish\"",
                      VM_EFORMAT, "insult.json", "unknown boundary \"wordish\"");
}

static int test_duplicate_pattern(void) {
  /* spacing-insensitive: "그런적 없어" duplicates "그런 적 없어" */
  return expect_error("gaslighting.json", "\"내가 언제 그랬어\"", "\"그런적 없어\"", VM_EFORMAT,
                      "gaslighting.json: types[0].patterns[1]", "duplicate pattern");
}

static int test_slot_at_end(void) {
  return expect_error("threat.json", "\"만약 ~하면\"", "\"만약 ~\"", VM_EFORMAT,
                      "threat.json: types[1].patterns[0]", "may not begin or end");
}

static int test_unknown_requires(void) {
  return expect_error("threat.json", "\"lexicon.consequence\"", "\"lexicon.nothing\"", VM_EFORMAT,
                      "threat.json", "\"requires\": \"lexicon.nothing\"");
}

static int test_missing_file(void) {
  return expect_error("manifest.json", "\"fraud.json\"", "\"fraud2.json\"", VM_ENOENT,
                      "fraud2.json: pattern file not found", NULL);
}

static int test_schema_version(void) {
  return expect_error("deception.json", "\"schema_version\": 1", "\"schema_version\": 2",
                      VM_EFORMAT, "deception.json: schema_version must be 1", NULL);
}

static int test_family_twice(void) {
  return expect_error("manifest.json", "\"lexicon.json\"", "\"fraud.json\"", VM_EFORMAT,
                      "family \"fraud\" defined twice", NULL);
}

static int test_required_family(void) {
  return expect_error("manifest.json", ",\n    \"lexicon.json\"", "", VM_EFORMAT,
                      "manifest.json: no file defines family \"lexicon\"", NULL);
}

static int test_missing_dir(void) {
  vm_lang_db *db = NULL;
  vm_err err;
  ASSERT_EQ(vm_lang_db_open("/nonexistent/patterns", &db, &err), VM_ENOENT);
  ASSERT_NULL(db);
  ASSERT_STR_CONTAINS(err.msg, "/nonexistent/patterns/manifest.json");
  return 0;
}

/* Prints the directory the built-in database is read from (run by
 * test_installed_layout from a copy of this executable). */
static int test_print_dir(void) {
  vm_lang_db *db = NULL;
  vm_err err;
  ASSERT_OK(vm_lang_db_open(NULL, &db, &err));
  printf("DIR=%s\n", vm_lang_db_dir(db));
  vm_lang_db_close(db);
  return 0;
}

/* <prefix>/bin/<this test> finds <prefix>/share/voiceman/patterns. */
static int test_installed_layout(void) {
  char pre[] = "/tmp/vm_lang_inst_XXXXXX";
  ASSERT_NOT_NULL(mkdtemp(pre));
  char *bin = vm_asprintf("%s/bin", pre), *share = vm_asprintf("%s/share/voiceman/patterns", pre);
  char *exe = vm_asprintf("%s/bin/t", pre), *out = vm_asprintf("%s/out.txt", pre);
  vm_err err;
  ASSERT_OK(vm_fs_mkdir_p(bin, &err));
  ASSERT_OK(vm_fs_mkdir_p(share, &err));
  ASSERT_EQ(copy_into(share), 0);
  char *cmd = vm_asprintf("cp /proc/%d/exe %s && %s test_print_dir > %s", (int)getpid(), exe,
                          exe, out);
  int rc = system(cmd);
  char *text = NULL;
  size_t n = 0;
  int rr = vm_fs_read_all(out, 1 << 16, &text, &n, &err);
  char *want = vm_asprintf("DIR=%s/bin/../share/voiceman/patterns", pre);
  char *rm = vm_asprintf("rm -rf %s", pre);
  int ok = rc == 0 && rr == 0 && strstr(text, want) != NULL;
  if (!ok) fprintf(stderr, "rc %d, output: %s\n", rc, text ? text : "(none)");
  if (system(rm) != 0) fprintf(stderr, "could not remove %s\n", pre);
  vm_free(text);
  vm_free(want);
  vm_free(rm);
  vm_free(cmd);
  vm_free(bin);
  vm_free(share);
  vm_free(exe);
  vm_free(out);
  ASSERT(ok);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_print_dir), TEST_ENTRY(test_installed_layout),
          TEST_ENTRY(test_copy_opens), TEST_ENTRY(test_unbalanced_paren),
          TEST_ENTRY(test_json_syntax), TEST_ENTRY(test_missing_weight),
          TEST_ENTRY(test_weight_range), TEST_ENTRY(test_bad_boundary),
          TEST_ENTRY(test_duplicate_pattern), TEST_ENTRY(test_slot_at_end),
          TEST_ENTRY(test_unknown_requires), TEST_ENTRY(test_missing_file),
          TEST_ENTRY(test_schema_version), TEST_ENTRY(test_family_twice),
          TEST_ENTRY(test_required_family),
          TEST_ENTRY(test_missing_dir))
