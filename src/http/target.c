/* target.c - request target splitting and percent-decoding. See target.h. */
#include "http/target.h"

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
