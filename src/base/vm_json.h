/* vm_json.h — small helpers over jansson used by every JSON writer.
 *
 * jansson refuses strings that are not valid UTF-8; file names on Linux
 * are bytes. vm_json_string_lossy() keeps valid UTF-8 (Hangul included)
 * and replaces each invalid byte with U+FFFD, so a strange name never
 * breaks an output. */
#ifndef VM_JSON_H
#define VM_JSON_H

#include <jansson.h>

#include "vm_sha256.h"
#include "vm_status.h"

/* A new JSON string from arbitrary bytes (NULL → JSON null). */
json_t *vm_json_string_lossy(const char *s);
/* A JSON real, or null for NaN/infinity (JSON has no such numbers). */
json_t *vm_json_real(double v);
/* Serialises j (2-space indent, keys in insertion order, trailing newline)
 * and writes it with vm_fs_write_atomic(). OUT: out_sha256_hex (may be
 * NULL) receives the SHA-256 of the bytes written. */
int vm_json_write_atomic(const char *path, const json_t *j,
                         char out_sha256_hex[VM_SHA256_HEX_LEN + 1],
                         vm_err *err);
/* Returns 1 if s is valid UTF-8. */
int vm_utf8_valid(const char *s, size_t n);

#endif /* VM_JSON_H */
