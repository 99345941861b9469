/* vm_sha256.h — SHA-256 of files and buffers (OpenSSL EVP underneath).
 *
 * Files are opened read-only and never modified. */
#ifndef VM_SHA256_H
#define VM_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "vm_status.h"

#define VM_SHA256_LEN 32
#define VM_SHA256_HEX_LEN 64

/* Hashes the whole file at path. OUT: digest, and the number of bytes
 * read in *out_size (may be NULL). Returns VM_OK, VM_ENOENT, VM_EACCES,
 * VM_EIO (with the reason in err). */
int vm_sha256_file(const char *path, uint8_t out[VM_SHA256_LEN],
                   uint64_t *out_size, vm_err *err);
/* Hashes n bytes at data. */
void vm_sha256_buf(const void *data, size_t n, uint8_t out[VM_SHA256_LEN]);
/* Lower-case hex, NUL-terminated (65 bytes). */
void vm_sha256_hex(const uint8_t digest[VM_SHA256_LEN],
                   char out[VM_SHA256_HEX_LEN + 1]);
/* Convenience: hex digest of a buffer. */
void vm_sha256_buf_hex(const void *data, size_t n,
                       char out[VM_SHA256_HEX_LEN + 1]);

#endif /* VM_SHA256_H */
