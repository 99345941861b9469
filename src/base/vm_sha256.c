/* vm_sha256.c — streaming SHA-256 with OpenSSL's EVP interface. */
#include "vm_sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#include "vm_alloc.h"

#define READ_CHUNK (1u << 20)

int vm_sha256_file(const char *path, uint8_t out[VM_SHA256_LEN],
                   uint64_t *out_size, vm_err *err) {
  int rc = VM_OK;
  uint64_t total = 0;
  unsigned char *buf = NULL;
  EVP_MD_CTX *ctx = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    return vm_err_set(err, vm_status_from_errno(e), "cannot open: %s",
                      strerror(e));
  }
  buf = vm_malloc(READ_CHUNK);
  ctx = EVP_MD_CTX_new();
  if (!buf || !ctx) {
    rc = vm_err_set(err, VM_ENOMEM, "out of memory while hashing");
    goto out;
  }
  if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
    rc = vm_err_set(err, VM_EINTERNAL, "SHA-256 initialisation failed");
    goto out;
  }
  for (;;) {
    ssize_t n = read(fd, buf, READ_CHUNK);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      rc = vm_err_set(err, vm_status_from_errno(e),
                      "read error after %llu bytes: %s",
                      (unsigned long long)total, strerror(e));
      goto out;
    }
    if (n == 0) break;
    EVP_DigestUpdate(ctx, buf, (size_t)n);
    total += (uint64_t)n;
  }
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, out, &len);
  if (out_size) *out_size = total;
out:
  EVP_MD_CTX_free(ctx);
  vm_free(buf);
  close(fd);
  return rc;
}

void vm_sha256_buf(const void *data, size_t n, uint8_t out[VM_SHA256_LEN]) {
  unsigned int len = 0;
  EVP_Digest(data, n, out, &len, EVP_sha256(), NULL);
}

void vm_sha256_hex(const uint8_t digest[VM_SHA256_LEN],
                   char out[VM_SHA256_HEX_LEN + 1]) {
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < VM_SHA256_LEN; i++) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 15];
  }
  out[VM_SHA256_HEX_LEN] = '\0';
}

void vm_sha256_buf_hex(const void *data, size_t n,
                       char out[VM_SHA256_HEX_LEN + 1]) {
  uint8_t d[VM_SHA256_LEN];
  vm_sha256_buf(data, n, d);
  vm_sha256_hex(d, out);
}
