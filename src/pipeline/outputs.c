/* outputs.c — the files one recording produces under OUT/files/.
 *
 * <stem>.json always; <stem>.txt, .srt and .vtt when the file has a
 * transcript (speaker-labelled, from the transcript after diarization has
 * split and labelled it). Every file is written atomically (temporary name,
 * fsync, rename) and its SHA-256 goes into j->output_sha, so the
 * coordinator can log it in the audit trail and `voiceman verify` can
 * re-check it. The JSON is written first: it is the evidence record, the
 * others are views of it. */
#include <string.h>

#include "pipeline_impl.h"
#include "vm_alloc.h"
#include "vm_fs.h"
#include "vm_json.h"
#include "vm_sha256.h"

/* OUT/<stem>.<ext>: returns the relative name (malloc'd) and, through
 * *out_path, the full path; makes the folder. */
static char *output_path(vm_stage_ctx *c, vm_job *j, const char *ext, char **out_path) {
  char *rel = vm_asprintf("%s.%s", j->stem, ext);
  char *path = rel ? vm_path_join(c->out_dir, rel) : NULL;
  if (!path) {
    vm_free(rel);
    vm_err_set(&j->err, VM_ENOMEM, "out of memory");
    return NULL;
  }
  char *slash = strrchr(path, '/');
  *slash = '\0';
  int rc = vm_fs_mkdir_p(path, &j->err);
  *slash = '/';
  if (rc != VM_OK) {
    vm_free(rel);
    vm_free(path);
    return NULL;
  }
  *out_path = path;
  return rel;
}

static int record(vm_job *j, const char *kind, char *rel, const char *sha) {
  if (json_object_set_new(j->outputs, kind, json_string(rel)) ||
      json_object_set_new(j->output_sha, kind, json_string(sha))) {
    vm_free(rel);
    return vm_err_set(&j->err, VM_ENOMEM, "out of memory");
  }
  vm_free(rel);
  return VM_OK;
}

int vm__output_write_bytes(vm_stage_ctx *c, vm_job *j, const char *kind, const char *ext,
                           const void *data, size_t n) {
  char *path = NULL, sha[VM_SHA256_HEX_LEN + 1];
  char *rel = output_path(c, j, ext, &path);
  if (!rel) return j->err.code;
  vm_sha256_buf_hex(data, n, sha);
  int rc = vm_fs_write_atomic(path, data, n, &j->err);
  vm_free(path);
  if (rc != VM_OK) {
    vm_free(rel);
    return rc;
  }
  return record(j, kind, rel, sha);
}

int vm__output_write_json(vm_stage_ctx *c, vm_job *j, const char *kind, const json_t *doc) {
  char *path = NULL, sha[VM_SHA256_HEX_LEN + 1];
  char *rel = output_path(c, j, "json", &path);
  if (!rel) return j->err.code;
  int rc = vm_json_write_atomic(path, doc, sha, &j->err);
  vm_free(path);
  if (rc != VM_OK) {
    vm_free(rel);
    return rc;
  }
  return record(j, kind, rel, sha);
}

/* The transcript as .txt, .srt and .vtt. */
int vm__output_write_transcripts(vm_stage_ctx *c, vm_job *j) {
  static const struct {
    const char *ext;
    enum vm_tr_format fmt;
  } views[] = {{"txt", VM_TR_FORMAT_TXT}, {"srt", VM_TR_FORMAT_SRT}, {"vtt", VM_TR_FORMAT_VTT}};
  if (!j->transcript) return VM_OK;
  for (size_t i = 0; i < sizeof views / sizeof views[0]; i++) {
    char *buf = NULL;
    size_t n = 0;
    if (vm_transcript_write(j->transcript, views[i].fmt, &buf, &n) != VM_OK)
      return vm_err_set(&j->err, VM_ENOMEM, "out of memory writing the transcript");
    int rc = vm__output_write_bytes(c, j, views[i].ext, views[i].ext, buf, n);
    vm_free(buf);
    if (rc != VM_OK) return rc;
  }
  return VM_OK;
}
