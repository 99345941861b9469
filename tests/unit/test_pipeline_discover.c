/* Unit tests for input discovery: recursion, extension filter, sorted
 * order, de-duplication, symlinks, rejections, root-relative names. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "discover.h"
#include "test.h"
#include "vm_alloc.h"
#include "vm_fs.h"

static char g_root[256];

static void touch(const char *rel) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", g_root, rel);
  FILE *f = fopen(p, "w");
  if (f) {
    fputs("x", f);
    fclose(f);
  }
}

static int make_tree(void) {
  char tmpl[] = "/tmp/vm-disc-XXXXXX";
  ASSERT_NOT_NULL(mkdtemp(tmpl));
  snprintf(g_root, sizeof g_root, "%s/calls", tmpl);
  char p[512];
  ASSERT_OK(vm_fs_mkdir_p(g_root, NULL));
  snprintf(p, sizeof p, "%s/b/deeper", g_root);
  ASSERT_OK(vm_fs_mkdir_p(p, NULL));
  snprintf(p, sizeof p, "%s/a", g_root);
  ASSERT_OK(vm_fs_mkdir_p(p, NULL));
  touch("z.M4A");        /* upper-case extension counts */
  touch("b/deeper/c.amr");
  touch("b/a.mp3");
  touch("a/x.wav");
  touch("a/notes.txt");  /* ignored */
  touch("a/통화 녹음.m4a");
  snprintf(p, sizeof p, "%s/a/link.ogg", g_root);
  char t[512];
  snprintf(t, sizeof t, "%s/b/a.mp3", g_root);
  ASSERT_EQ(symlink(t, p), 0);              /* same file twice: kept once */
  snprintf(p, sizeof p, "%s/loop", g_root);
  ASSERT_EQ(symlink(g_root, p), 0);         /* folder link: not followed */
  snprintf(p, sizeof p, "%s/a/fifo.mp3", g_root);
  ASSERT_EQ(mkfifo(p, 0644), 0);            /* not a regular file */
  return 0;
}

static int test_walk_order_and_filters(void) {
  ASSERT_OK(make_tree());
  const char *args[] = {g_root};
  vm_discovery d;
  ASSERT_OK(vm_discover(args, 1, &d, NULL));
  /* Sorted bytewise per folder. a/link.ogg and b/a.mp3 are the same file;
   * a/ is walked first, so the link is kept and b/a.mp3 dropped. */
  ASSERT_EQ(d.n_inputs, 5);
  ASSERT_STR_EQ(d.inputs[0].root_rel, "calls/a/link.ogg");
  ASSERT_STR_EQ(d.inputs[1].root_rel, "calls/a/x.wav");
  ASSERT_STR_EQ(d.inputs[2].root_rel, "calls/a/통화 녹음.m4a");
  ASSERT_STR_EQ(d.inputs[3].root_rel, "calls/b/deeper/c.amr");
  ASSERT_STR_EQ(d.inputs[4].root_rel, "calls/z.M4A");
  for (size_t i = 0; i < d.n_inputs; i++) {
    ASSERT_EQ(d.inputs[i].path[0], '/');
    ASSERT_EQ(d.inputs[i].size_bytes, 1);
    ASSERT_GT(d.inputs[i].mtime_ns, 0);
  }
  ASSERT_EQ(d.n_rejected, 1);
  ASSERT_STR_CONTAINS(d.rejected[0].path, "fifo.mp3");
  ASSERT_STR_CONTAINS(d.rejected[0].reason, "FIFO");
  vm_discovery_deinit(&d);
  return 0;
}

static int test_named_inputs(void) {
  char file[512], missing[512];
  snprintf(file, sizeof file, "%s/a/notes.txt", g_root);   /* named: taken */
  snprintf(missing, sizeof missing, "%s/nope.m4a", g_root);
  const char *args[] = {file, missing, g_root};
  vm_discovery d;
  ASSERT_OK(vm_discover(args, 3, &d, NULL));
  ASSERT_EQ(d.n_inputs, 6);
  ASSERT_STR_EQ(d.inputs[0].root_rel, "notes.txt");
  ASSERT_STR_EQ(d.inputs[0].display, file);
  ASSERT_EQ(d.n_rejected, 2);
  ASSERT_STR_EQ(d.rejected[0].path, missing);
  ASSERT_STR_CONTAINS(d.rejected[0].reason, "no such file");
  vm_discovery_deinit(&d);
  return 0;
}

static int test_extensions(void) {
  ASSERT(vm_discover_is_audio_name("a.m4a"));
  ASSERT(vm_discover_is_audio_name("b.OPUS"));
  ASSERT(vm_discover_is_audio_name("c.3gp"));
  ASSERT(!vm_discover_is_audio_name("m4a"));
  ASSERT(!vm_discover_is_audio_name(".m4a"));
  ASSERT(!vm_discover_is_audio_name("a.m4a.txt"));
  ASSERT(!vm_discover_is_audio_name("noext"));
  return 0;
}

static int test_out_of_memory(void) {
  const char *args[] = {g_root};
  vm_discovery d;
  vm_err err;
  int saw_enomem = 0;
  for (long k = 0; k < 60; k++) {
    vm_alloc_fail_after(k);
    int rc = vm_discover(args, 1, &d, &err);
    vm_alloc_fail_after(-1);
    if (rc == VM_OK) {
      vm_discovery_deinit(&d);
    } else {
      ASSERT_EQ(rc, VM_ENOMEM);
      ASSERT_NULL(d.inputs);
      saw_enomem = 1;
    }
  }
  ASSERT(saw_enomem);
  return 0;
}

TEST_MAIN(TEST_ENTRY(test_walk_order_and_filters), TEST_ENTRY(test_named_inputs),
          TEST_ENTRY(test_extensions), TEST_ENTRY(test_out_of_memory))
