/*
 * utf8_reference.h - an independent reading of UTF-8 for tests (decode the code point, then
 * check its range), against which asgid's own UTF-8 handling is checked: by the fuzz target
 * fuzz_log_json and by the unit test test_log_json.
 */
#ifndef ASGID_TESTS_UTF8_REFERENCE_H
#define ASGID_TESTS_UTF8_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The length of the valid UTF-8 sequence at s, 0 when invalid; *code its code point. */
static inline size_t utf8_at(const unsigned char *s, size_t len, uint32_t *code) {
  size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
           : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
  if (n == 0 || n > len)
    return 0;
  uint32_t c = n == 1 ? s[0] : (uint32_t)(s[0] & (0x7f >> n));
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    c = (c << 6) | (s[i] & 0x3f);
  }
  static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < least[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
    return 0;
  *code = c;
  return n;
}

static inline bool utf8_valid(const unsigned char *s, size_t len) {
  for (size_t i = 0; i < len;) {
    uint32_t code;
    size_t n = utf8_at(s + i, len - i, &code);
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

#endif /* ASGID_TESTS_UTF8_REFERENCE_H */
