/* Unit tests for base helpers: SHA-256 (FIPS 180-2 vectors), atomic
 * writes and temp sweep, lossy UTF-8 JSON strings, the string map,
 * status names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "vm_alloc.h"
#include "vm_fs.h"
#include "vm_json.h"
#include "vm_sha256.h"
#include "vm_strmap.h"

static int test_sha256_vectors(void) {
  char hex[65];
  vm_sha256_buf_hex("abc", 3, hex);
  ASSERT_STR_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  vm_sha256_buf_hex("", 0, hex);
  ASSERT_STR_EQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  /* a file of one million 'a' (FIPS 180-2 long vector) */
  char path[] = "/tmp/vm-sha-XXXXXX";
  int fd = mkstemp(path);
  ASSERT(fd >= 0);
  char *buf = malloc(1000000);
  memset(buf, 'a', 1000000);
  ASSERT_EQ(write(fd, buf, 1000000), 1000000);
  close(fd);
  free(buf);
  uint8_t d[32];
  uint64_t n = 0;
  ASSERT_OK(vm_sha256_file(path, d, &n, NULL));
  vm_sha256_hex(d, hex);
  ASSERT_STR_EQ(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  ASSERT_EQ(n, 1000000);
  unlink(path);
  vm_err err;
  ASSERT_EQ(vm_sha256_file("/nonexistent/x", d, NULL, &err), VM_ENOENT);
  ASSERT_STR_CONTAINS(err.msg, "No such file");
  return 0;
}

static int test_atomic_write_and_sweep(void) {
  char dir[] = "/tmp/vm-fs-XXXXXX";
  ASSERT_NOT_NULL(mkdtemp(dir));
  char *sub = vm_path_join(dir, "a/b/c");
  ASSERT_OK(vm_fs_mkdir_p(sub, NULL));
  char *f = vm_path_join(sub, "out.json");
  ASSERT_OK(vm_fs_write_atomic(f, "one", 3, NULL));
  ASSERT_OK(vm_fs_write_atomic(f, "second", 6, NULL));
  char *text = NULL;
  size_t n = 0;
  ASSERT_OK(vm_fs_read_all(f, 100, &text, &n, NULL));
  ASSERT_STR_EQ(text, "second");
  ASSERT_EQ(n, 6);
  vm_free(text);
  ASSERT_EQ(vm_fs_read_all(f, 3, &text, &n, NULL), VM_EINVAL);
  /* leftovers of a crash are swept, real files are not */
  char *t1 = vm_path_join(sub, VM_FS_TEMP_PREFIX "out.json.1.2");
  char *t2 = vm_path_join(dir, VM_FS_TEMP_PREFIX "x");
  ASSERT_OK(vm_fs_write_atomic(t1, "x", 1, NULL));
  ASSERT_OK(vm_fs_write_atomic(t2, "x", 1, NULL));
  int removed = 0;
  ASSERT_OK(vm_fs_sweep_temps(dir, &removed));
  ASSERT_EQ(removed, 2);
  ASSERT(vm_fs_exists(f));
  ASSERT(!vm_fs_exists(t1));
  /* a file in the way of a folder is a clear error */
  char *blocked = vm_path_join(f, "x");
  vm_err err;
  ASSERT_NE(vm_fs_mkdir_p(blocked, &err), VM_OK);
  /* writing into a missing folder fails and leaves nothing */
  char *nodir = vm_path_join(dir, "missing/out.json");
  ASSERT_EQ(vm_fs_write_atomic(nodir, "x", 1, &err), VM_ENOENT);
  ASSERT_STR_CONTAINS(err.msg, "missing/out.json");
  vm_free(sub); vm_free(f); vm_free(t1); vm_free(t2); vm_free(blocked); vm_free(nodir);
  return 0;
}

static int test_json_lossy(void) {
  json_t *j = vm_json_string_lossy("통화 녹음.m4a");
  ASSERT_STR_EQ(json_string_value(j), "통화 녹음.m4a");
  json_decref(j);
  j = vm_json_string_lossy("bad\xff\xfe.m4a");
  ASSERT_NOT_NULL(j);
  ASSERT_STR_EQ(json_string_value(j), "bad\xEF\xBF\xBD\xEF\xBF\xBD.m4a");
  json_decref(j);
  ASSERT(!vm_utf8_valid("\xC0\xAF", 2));         /* overlong */
  ASSERT(!vm_utf8_valid("\xED\xA0\x80", 3));     /* surrogate */
  ASSERT(vm_utf8_valid("\xF0\x9F\x98\x80", 4));  /* U+1F600 */
  j = vm_json_real(0.0 / 0.0);
  ASSERT(json_is_null(j));
  json_decref(j);
  return 0;
}

static int test_strmap(void) {
  vm_strmap *m;
  ASSERT_OK(vm_strmap_create(&m));
  char key[32];
  for (int i = 0; i < 5000; i++) {
    snprintf(key, sizeof key, "/calls/%d.m4a", i);
    ASSERT_OK(vm_strmap_put(m, key, (void *)(size_t)(i + 1)));
  }
  ASSERT_OK(vm_strmap_put(m, "/calls/7.m4a", (void *)99));
  ASSERT_EQ(vm_strmap_count(m), 5000);
  void *v;
  ASSERT(vm_strmap_get(m, "/calls/4999.m4a", &v));
  ASSERT_EQ((size_t)v, 5000);
  ASSERT(vm_strmap_get(m, "/calls/7.m4a", &v));
  ASSERT_EQ((size_t)v, 99);
  ASSERT(!vm_strmap_get(m, "/calls/5000.m4a", NULL));
  vm_strmap_destroy(m);
  return 0;
}

static int test_status_names(void) {
  ASSERT_STR_EQ(vm_err_name(VM_EFORMAT), "VM_EFORMAT");
  ASSERT_STR_EQ(vm_strerror(VM_ENOSPC), "no space left on device");
  ASSERT_STR_EQ(vm_err_name(-999), "VM_UNKNOWN");
  ASSERT(vm_status_is_transient(VM_ENOSPC));
  ASSERT(!vm_status_is_transient(VM_EDECODE));
  ASSERT(!vm_status_is_transient(VM_EACCES));
  vm_err e;
  ASSERT_EQ(vm_err_set(&e, VM_EIO, "x %d", 3), VM_EIO);
  ASSERT_STR_EQ(vm_err_text(&e), "x 3");
  vm_err_clear(&e);
  ASSERT_STR_EQ(vm_err_text(&e), "success");
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_sha256_vectors), TEST_ENTRY(test_atomic_write_and_sweep),
          TEST_ENTRY(test_json_lossy), TEST_ENTRY(test_strmap), TEST_ENTRY(test_status_names))
