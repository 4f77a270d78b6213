/* target.c - request target splitting and percent-decoding. See target.h. */
#include "http/target.h"

#include <stdint.h>
#include <string.h>

void http_target_split(const char *target, size_t len, const char **path, size_t *path_len,
                       const char **query, size_t *query_len) {
  const char *start = target, *end = target + len;
  /* absolute-form: skip "scheme://authority" up to the path */
  const char *scheme_end = len > 3 ? memchr(target, ':', len) : NULL;
  if (target[0] != '/' && scheme_end && end - scheme_end >= 3 && scheme_end[1] == '/' &&
      scheme_end[2] == '/') {
    const char *p = scheme_end + 3;
    while (p < end && *p != '/' && *p != '?') p++;
    start = p;
  }
  const char *question = memchr(start, '?', (size_t)(end - start));
  const char *path_end = question ? question : end;
  if (path_end == start && start != target) { /* "http://host" or "http://host?q": path "/" */
    *path = "/";
    *path_len = 1;
  } else {
    *path = start;
    *path_len = (size_t)(path_end - start);
  }
  *query = question ? question + 1 : end;
  *query_len = question ? (size_t)(end - question - 1) : 0;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

size_t http_percent_decode(const char *in, size_t len, char *out) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    if (in[i] == '%' && i + 2 < len) {
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out[o++] = in[i];
  }
  return o;
}

/* RFC 3986 unreserved / sub-delims, what a reg-name holds besides %XX escapes, as one bit per
 * ASCII character: a Host is checked on every request, a bit test per byte is what it costs. */
#define CHAR_BIT_OF(c) (UINT64_C(1) << ((c) % 64))
#define CHAR_RANGE(lo, hi) (((UINT64_C(1) << ((hi) - (lo) + 1)) - 1) << ((lo) % 64))
static const uint64_t host_chars[2] = {
    /* 0..63 */
    CHAR_BIT_OF('!') | CHAR_BIT_OF('$') | CHAR_RANGE('&', '.') | CHAR_RANGE('0', '9') |
        CHAR_BIT_OF(';') | CHAR_BIT_OF('='),
    /* 64..127 */
    CHAR_RANGE('A', 'Z') | CHAR_BIT_OF('_') | CHAR_RANGE('a', 'z') | CHAR_BIT_OF('~'),
};

static int is_host_char(char c) {
  unsigned char u = (unsigned char)c;
  return u < 128 && (host_chars[u / 64] >> (u % 64) & 1);
}

int http_host_valid(const char *value, size_t len) {
  size_t i = 0;
  if (len && value[0] == '[') {
    /* IP-literal: IPv6 (hex digits, ':' and '.' for an embedded IPv4), IPvFuture, or a zone
     * ("%25" then a reg-name's characters, RFC 6874). */
    for (i = 1; i < len && value[i] != ']'; i++)
      if (!is_host_char(value[i]) && value[i] != ':' && value[i] != '%') return 0;
    if (i == len || i == 1) return 0; /* no ']', or "[]" */
    i++;
  } else {
    for (; i < len && value[i] != ':'; i++) {
      if (value[i] == '%') {
        if (len - i < 3 || hex_value(value[i + 1]) < 0 || hex_value(value[i + 2]) < 0) return 0;
        i += 2;
      } else if (!is_host_char(value[i])) {
        return 0;
      }
    }
  }
  if (i == len) return 1;
  if (value[i] != ':') return 0;
  for (i++; i < len; i++)
    if (value[i] < '0' || value[i] > '9') return 0;
  return 1;
}
