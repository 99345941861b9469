/* transcript_load.c — transcript files: reading one by its extension, and
 * finding the one that belongs to a recording.
 *
 * The lookup rule is the one users are told (docs/transcripts.md): the
 * transcript of the input "a/b.m4a" under DIR is DIR/a/b.srt, DIR/a/b.vtt
 * or DIR/a/b.json, the first that exists as a regular file, with the
 * upper-case extensions tried after the lower-case ones.
 */
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "transcript_impl.h"
#include "vm_alloc.h"
#include "vm_fs.h"

#define TRANSCRIPT_MAX_BYTES ((size_t)64 << 20)

/* The extension of path's last component (after its last '.', not a
 * leading one), or NULL. */
static const char *ext_of(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char *dot = strrchr(base, '.');
  return dot && dot != base ? dot + 1 : NULL;
}

int vm_transcript_load(const char *path, vm_transcript **out, vm_err *err) {
  int (*parse)(const char *, size_t, vm_transcript **, vm_err *) = NULL;
  const char *ext = ext_of(path);
  char *buf = NULL;
  size_t n = 0;
  *out = NULL;
  vm_err_clear(err);
  if (ext && strcasecmp(ext, "srt") == 0) parse = vm_transcript_parse_srt;
  else if (ext && strcasecmp(ext, "vtt") == 0) parse = vm_transcript_parse_vtt;
  else if (ext && strcasecmp(ext, "json") == 0) parse = vm_transcript_parse_json;
  if (!parse)
    return vm_err_set(err, VM_EFORMAT,
                      "%s: not a transcript file name (expected .srt, .vtt or .json)", path);
  int rc = vm_fs_read_all(path, TRANSCRIPT_MAX_BYTES, &buf, &n, err);
  if (rc == VM_EINVAL)
    return vm_err_set(err, VM_EFORMAT, "%s is larger than 64 MiB; not a transcript", path);
  if (rc != VM_OK) return rc;
  rc = parse(buf, n, out, err);
  vm_free(buf);
  return rc;
}

static int is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int vm_transcript_find(const char *dir, const char *rel_path, char **out_path) {
  static const char *const exts[] = {"srt", "vtt", "json", "SRT", "VTT", "JSON"};
  *out_path = NULL;
  const char *ext = ext_of(rel_path);
  size_t stem = ext ? (size_t)(ext - 1 - rel_path) : strlen(rel_path);
  char *joined = vm_path_join(dir, "");
  if (!joined) return VM_ENOMEM;
  size_t dn = strlen(joined);
  while (rel_path[0] == '/' && stem > 0) rel_path++, stem--; /* joined ends in '/' */
  char *p = vm_malloc(dn + stem + 6);
  if (!p) {
    vm_free(joined);
    return VM_ENOMEM;
  }
  memcpy(p, joined, dn);
  memcpy(p + dn, rel_path, stem);
  vm_free(joined);
  for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
    p[dn + stem] = '.';
    strcpy(p + dn + stem + 1, exts[i]);
    if (is_file(p)) {
      *out_path = p;
      return VM_OK;
    }
  }
  vm_free(p);
  return VM_ENOENT;
}
