/* transcript_charset.c — the character set of a transcript file.
 *
 * DESIGN: transcripts reach analysts in three encodings: UTF-8 (with or
 * without BOM), UTF-16 with a BOM (Windows "Unicode" saves), and, for
 * Korean, CP949/EUC-KR (older subtitle tools and editors). Read as UTF-8,
 * a CP949 file turns every Hangul syllable into U+FFFD, and the language
 * analysis would then silently find nothing, so it is recognised and
 * converted instead:
 *   - a UTF-16 BOM: decoded here (lone surrogates become U+FFFD);
 *   - no BOM, and at least half of the non-ASCII bytes are not valid
 *     UTF-8: converted with iconv from CP949 (a superset of EUC-KR) if the
 *     whole file converts without error; otherwise left to the UTF-8
 *     repair (U+FFFD) of the readers.
 * A UTF-8 file with a few corrupt bytes stays UTF-8 (its ratio is low).
 */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>

#include "transcript_impl.h"
#include "vm_alloc.h"

static void put_cp(vm__tr_buf *b, uint32_t cp) {
  char u[4];
  size_t n;
  if (cp < 0x80) {
    u[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  vm__tr_buf_put(b, u, n);
}

/* UTF-16 (after its BOM) to UTF-8; an odd last byte is dropped. */
static void utf16_decode(vm__tr_buf *b, const unsigned char *s, size_t n, int big) {
  for (size_t i = 0; i + 1 < n; i += 2) {
    uint32_t u = big ? (uint32_t)(s[i] << 8 | s[i + 1]) : (uint32_t)(s[i + 1] << 8 | s[i]);
    if (u >= 0xD800 && u <= 0xDBFF && i + 3 < n) {
      uint32_t v = big ? (uint32_t)(s[i + 2] << 8 | s[i + 3]) : (uint32_t)(s[i + 3] << 8 | s[i + 2]);
      if (v >= 0xDC00 && v <= 0xDFFF) {
        put_cp(b, 0x10000 + ((u - 0xD800) << 10) + (v - 0xDC00));
        i += 2;
        continue;
      }
    }
    put_cp(b, (u >= 0xD800 && u <= 0xDFFF) || u == 0 ? 0xFFFD : u);
  }
}

/* 1 if at least half of the non-ASCII bytes are not valid UTF-8. */
static int mostly_not_utf8(const unsigned char *s, size_t n) {
  size_t bad = 0, high = 0;
  for (size_t i = 0; i < n;) {
    if (s[i] < 0x80) {
      i++;
      continue;
    }
    size_t l = vm__tr_utf8_seq(s + i, n - i);
    if (l) {
      high += l;
      i += l;
    } else {
      high++;
      bad++;
      i++;
    }
  }
  return bad > 0 && bad * 2 >= high;
}

/* CP949 to UTF-8 with iconv: VM_OK, 1 if s is not CP949 (or iconv lacks
 * it), or VM_ENOMEM. */
static int cp949_decode(vm__tr_buf *b, const char *s, size_t n) {
  iconv_t cd = iconv_open("UTF-8", "CP949");
  if (cd == (iconv_t)-1) return 1;
  char *in = (char *)(uintptr_t)s; /* iconv's prototype is not const */
  size_t left = n;
  int rc = 0;
  while (left > 0) {
    char chunk[4096], *o = chunk;
    size_t room = sizeof chunk;
    size_t r = iconv(cd, &in, &left, &o, &room);
    vm__tr_buf_put(b, chunk, (size_t)(o - chunk));
    if (r == (size_t)-1 && errno != E2BIG) {
      rc = 1; /* EILSEQ, EINVAL: not CP949 */
      break;
    }
    if (b->oom) {
      rc = VM_ENOMEM;
      break;
    }
  }
  iconv_close(cd);
  return rc;
}

int vm__tr_to_utf8(const char *buf, size_t len, char **out, size_t *out_len,
                   const char **out_charset) {
  const unsigned char *s = (const unsigned char *)buf;
  vm__tr_buf b = {0};
  *out = NULL;
  *out_len = 0;
  *out_charset = "UTF-8";
  if (len >= 2 && ((s[0] == 0xFF && s[1] == 0xFE) || (s[0] == 0xFE && s[1] == 0xFF))) {
    int big = s[0] == 0xFE;
    *out_charset = big ? "UTF-16BE" : "UTF-16LE";
    utf16_decode(&b, s + 2, len - 2, big);
    return vm__tr_buf_take(&b, out, out_len);
  }
  if (!mostly_not_utf8(s, len)) return VM_OK;
  int rc = cp949_decode(&b, buf, len);
  if (rc == VM_OK) {
    *out_charset = "CP949";
    return vm__tr_buf_take(&b, out, out_len);
  }
  vm__tr_buf_deinit(&b);
  return rc == VM_ENOMEM ? VM_ENOMEM : VM_OK;
}
