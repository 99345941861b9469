/* vm_fs.h — file-system helpers: atomic writes, directories, temp sweep.
 *
 * Every output voiceman writes goes through vm_fs_write_atomic(): the data
 * is written to a temporary name in the same directory (prefix
 * VM_FS_TEMP_PREFIX), flushed to disk, and renamed over the target, so a
 * crash never leaves a half-written file under the final name. Leftover
 * temporaries from a crash are removed by vm_fs_sweep_temps(). */
#ifndef VM_FS_H
#define VM_FS_H

#include <stddef.h>
#include <stdint.h>

#include "vm_status.h"

#define VM_FS_TEMP_PREFIX ".vmtmp."

/* Creates path and its missing parents (mode 0755). */
int vm_fs_mkdir_p(const char *path, vm_err *err);

/* Writes n bytes to path atomically (temp + fsync + rename + fsync of the
 * directory). Parent directories must exist. On failure the target is
 * untouched and no temporary remains. ENOSPC gives VM_ENOSPC. */
int vm_fs_write_atomic(const char *path, const void *data, size_t n,
                       vm_err *err);

/* Reads a whole file (at most max_bytes, else VM_EINVAL) into a new
 * NUL-terminated buffer. OUT: *out (caller frees with vm_free), *out_n. */
int vm_fs_read_all(const char *path, size_t max_bytes, char **out,
                   size_t *out_n, vm_err *err);

/* Removes files whose names start with VM_FS_TEMP_PREFIX under dir,
 * recursively. OUT: number removed (may be NULL). A missing dir is OK. */
int vm_fs_sweep_temps(const char *dir, int *out_removed);

/* Joins two path parts with one '/'. Returns a new string (vm_free) or
 * NULL when out of memory. */
char *vm_path_join(const char *a, const char *b);

/* Returns 1 if path exists (any type), else 0. */
int vm_fs_exists(const char *path);

#endif /* VM_FS_H */
