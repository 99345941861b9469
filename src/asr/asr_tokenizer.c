/* asr_tokenizer.c — token ids to UTF-8 text, language codes, token names.
 *
 * DESIGN: the model keeps every stored token's bytes back to back with an
 * offset table (asr_model.c). Decoding joins bytes first and validates
 * UTF-8 once over the result (never per token: byte-level BPE splits
 * multi-byte characters, Hangul most of all). The validator follows the
 * Unicode "well-formed UTF-8" table: no overlongs, no surrogates, nothing
 * above U+10FFFF. Not here: encoding text to tokens (not needed yet). */
#include "asr_tokenizer.h"

#include <stdio.h>
#include <string.h>

#include "asr_impl.h"
#include "vm_alloc.h"

static const char *const LANGS[VM_ASR_N_LANGUAGES_MAX] = {
    "en", "zh", "de", "es", "ru", "ko", "fr", "ja", "pt", "tr", "pl", "ca", "nl",
    "ar", "sv", "it", "id", "hi", "fi", "vi", "he", "uk", "el", "ms", "cs", "ro",
    "da", "hu", "ta", "no", "th", "ur", "hr", "bg", "lt", "la", "mi", "ml", "cy",
    "sk", "te", "fa", "lv", "bn", "sr", "az", "sl", "kn", "et", "mk", "br", "eu",
    "is", "hy", "ne", "mn", "bs", "kk", "sq", "sw", "gl", "mr", "pa", "si", "km",
    "sn", "yo", "so", "af", "oc", "ka", "be", "tg", "sd", "gu", "am", "yi", "lo",
    "uz", "fo", "ht", "ps", "tk", "nn", "mt", "sa", "lb", "my", "bo", "tl", "mg",
    "as", "tt", "haw", "ln", "ha", "ba", "jw", "su", "yue"};

int vm_asr_token_is_special(const vm_asr_model *m, int32_t id) { return id >= m->sp.eot; }

const uint8_t *vm_asr_token_bytes(const vm_asr_model *m, int32_t id, size_t *out_len) {
  *out_len = 0;
  if (id < 0 || id >= m->n_vocab_stored || id >= m->sp.eot) return NULL;
  *out_len = m->vocab_off[id + 1] - m->vocab_off[id];
  return m->vocab_bytes + m->vocab_off[id];
}

/* Length of the well-formed UTF-8 sequence at s[0..n), 0 if ill-formed,
 * or -(needed) if it is a well-formed but incomplete prefix. */
static int utf8_seq(const uint8_t *s, size_t n) {
  uint8_t c = s[0];
  int len;
  uint8_t lo = 0x80, hi = 0xbf;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) len = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f; /* no surrogates */
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  for (int i = 1; i < len; i++) {
    if ((size_t)i >= n) return -len;
    uint8_t b = s[i];
    if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf)) return 0;
  }
  return len;
}

size_t vm_asr_utf8_complete_len(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    int l = utf8_seq(s + i, n - i);
    if (l < 0) return i; /* incomplete tail */
    i += l > 0 ? (size_t)l : 1;
  }
  return n;
}

int vm_asr_tokens_to_text(const vm_asr_model *m, const int32_t *ids, size_t n, char **out,
                          size_t *out_len) {
  size_t total = 0, len, o = 0;
  *out = NULL;
  for (size_t i = 0; i < n; i++)
    if (vm_asr_token_bytes(m, ids[i], &len)) total += len;
  uint8_t *raw = vm_malloc(total + 1);
  char *txt = vm_malloc(total * 3 + 1); /* each bad byte may become 3 */
  if (!raw || !txt) {
    vm_free(raw);
    vm_free(txt);
    return VM_ENOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    const uint8_t *b = vm_asr_token_bytes(m, ids[i], &len);
    if (b) memcpy(raw + o, b, len);
    o += b ? len : 0;
  }
  size_t w = 0;
  for (size_t i = 0; i < total;) {
    int l = utf8_seq(raw + i, total - i);
    if (l > 0) {
      memcpy(txt + w, raw + i, (size_t)l);
      w += (size_t)l;
      i += (size_t)l;
    } else { /* U+FFFD for one bad byte */
      memcpy(txt + w, "\xef\xbf\xbd", 3);
      w += 3;
      i += 1;
    }
  }
  txt[w] = '\0';
  vm_free(raw);
  *out = txt;
  if (out_len) *out_len = w;
  return VM_OK;
}

int vm_asr_lang_index(const char *code) {
  for (int i = 0; code && i < VM_ASR_N_LANGUAGES_MAX; i++)
    if (strcmp(LANGS[i], code) == 0) return i;
  return -1;
}

const char *vm_asr_lang_code(int i) {
  return i >= 0 && i < VM_ASR_N_LANGUAGES_MAX ? LANGS[i] : NULL;
}

int32_t vm_asr_token_lang(const vm_asr_model *m, const char *code) {
  int i = vm_asr_lang_index(code);
  if (i < 0 || i >= m->sp.n_languages || !m->sp.multilingual) return -1;
  return m->sp.lang_first + i;
}

void vm_asr_token_name(const vm_asr_model *m, int32_t id, char *buf, size_t cap) {
  const vm_asr_special *s = &m->sp;
  size_t len;
  const uint8_t *b;
  if (cap == 0) return;
  if (id == s->eot) snprintf(buf, cap, "<|endoftext|>");
  else if (id == s->sot) snprintf(buf, cap, "<|startoftranscript|>");
  else if (id >= s->lang_first && id < s->lang_first + s->n_languages)
    snprintf(buf, cap, "<|%s|>", LANGS[id - s->lang_first]);
  else if (id == s->translate) snprintf(buf, cap, "<|translate|>");
  else if (id == s->transcribe) snprintf(buf, cap, "<|transcribe|>");
  else if (id == s->solm) snprintf(buf, cap, "<|startoflm|>");
  else if (id == s->prev) snprintf(buf, cap, "<|startofprev|>");
  else if (id == s->nospeech) snprintf(buf, cap, "<|nospeech|>");
  else if (id == s->notimestamps) snprintf(buf, cap, "<|notimestamps|>");
  else if (id >= s->timestamp_begin && id < m->hp.n_vocab)
    snprintf(buf, cap, "<|%.2f|>", (id - s->timestamp_begin) * 0.02);
  else if ((b = vm_asr_token_bytes(m, id, &len)) != NULL) {
    size_t n = len < cap - 1 ? len : cap - 1;
    memcpy(buf, b, n);
    buf[n] = '\0';
  } else {
    snprintf(buf, cap, "<|unknown %d|>", id);
  }
}
