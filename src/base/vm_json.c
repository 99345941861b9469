/* vm_json.c — lossy UTF-8 strings, finite reals, atomic JSON files. */
#include "vm_json.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vm_alloc.h"
#include "vm_fs.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t len;
  uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
  else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
  else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
  else return 0;
  if (n < len) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
    return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return len;
}

int vm_utf8_valid(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    size_t l = utf8_seq(p + i, n - i);
    if (!l || (l == 1 && p[i] == 0)) return 0;
    i += l;
  }
  return 1;
}

json_t *vm_json_string_lossy(const char *s) {
  if (!s) return json_null();
  size_t n = strlen(s);
  if (vm_utf8_valid(s, n)) return json_stringn(s, n);
  char *buf = vm_malloc(n * 3 + 1);
  if (!buf) return NULL;
  size_t o = 0, i = 0;
  const unsigned char *p = (const unsigned char *)s;
  while (i < n) {
    size_t l = utf8_seq(p + i, n - i);
    if (l) {
      memcpy(buf + o, p + i, l);
      o += l;
      i += l;
    } else {
      memcpy(buf + o, "\xEF\xBF\xBD", 3);
      o += 3;
      i++;
    }
  }
  json_t *j = json_stringn(buf, o);
  vm_free(buf);
  return j;
}

json_t *vm_json_real(double v) {
  return isfinite(v) ? json_real(v) : json_null();
}

int vm_json_write_atomic(const char *path, const json_t *j,
                         char out_sha256_hex[VM_SHA256_HEX_LEN + 1],
                         vm_err *err) {
  char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                 JSON_REAL_PRECISION(10));
  if (!text) return vm_err_set(err, VM_ENOMEM, "cannot serialise %s", path);
  size_t n = strlen(text);
  char *buf = realloc(text, n + 2); /* jansson allocates with malloc */
  if (!buf) {
    free(text);
    return vm_err_set(err, VM_ENOMEM, "cannot serialise %s", path);
  }
  buf[n] = '\n';
  buf[n + 1] = '\0';
  int rc = vm_fs_write_atomic(path, buf, n + 1, err);
  if (rc == VM_OK && out_sha256_hex) vm_sha256_buf_hex(buf, n + 1, out_sha256_hex);
  free(buf);
  return rc;
}
