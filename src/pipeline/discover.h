/* discover.h — turn the command line's files and folders into the ordered
 * list of recordings to process.
 *
 * Folders are walked recursively; files are kept when their extension
 * (case-insensitive) is one voiceman decodes. The order is deterministic:
 * inputs in command-line order, each folder's entries sorted bytewise.
 * Symbolic links to files are followed; links to folders are not (no
 * loops). The same file reached twice (by two arguments, or a link) is
 * kept once. Anything that is not a regular file, or a named input that
 * does not exist, becomes a rejection with a reason — never fatal.
 * Unreadable regular files are kept: they fail later with "permission
 * denied" like any other bad file. */
#ifndef VM_DISCOVER_H
#define VM_DISCOVER_H

#include <stddef.h>
#include <stdint.h>

#include "vm_status.h"

typedef struct vm_input {
  char *path;       /* absolute, canonical (realpath) */
  char *display;    /* as the user would recognise it: argument-relative */
  char *root_rel;   /* "<root basename>/<path below the root>" */
  int64_t size_bytes;
  int64_t mtime_ns;
} vm_input;

typedef struct vm_rejected {
  char *path;       /* as given or found */
  char *reason;     /* e.g. "not a regular file (a FIFO)" */
} vm_rejected;

typedef struct vm_discovery {
  vm_input *inputs;
  size_t n_inputs;
  vm_rejected *rejected;
  size_t n_rejected;
} vm_discovery;

/* Returns 1 if name ends with a supported extension. */
int vm_discover_is_audio_name(const char *name);
/* The supported extensions, comma-separated, for messages and --help. */
const char *vm_discover_extensions(void);

/* Walks args[0..n_args). OUT: *out (free with vm_discovery_deinit).
 * Fails only on VM_ENOMEM. */
int vm_discover(const char *const *args, size_t n_args, vm_discovery *out,
                vm_err *err);
void vm_discovery_deinit(vm_discovery *d);

#endif /* VM_DISCOVER_H */
