/*
 * example_util.h - small helpers the example apps share (a header of static functions, so
 * each example stays one self-contained shared library).
 *
 * Include after asgid.h; the including file defines `server`, the server's function table,
 * and the HEADER(name, value) macro.
 */
#ifndef ASGID_EXAMPLE_UTIL_H
#define ASGID_EXAMPLE_UTIL_H

#include <stdio.h>
#include <string.h>

typedef enum query_lookup { QUERY_ABSENT, QUERY_FOUND, QUERY_MALFORMED } query_lookup;

/* Looks for key=value among the '&'-separated pairs of a raw query string and parses the
 * value as a decimal number, saturating at max so that no digit string can overflow. The
 * first pair with the key wins. Values are not percent-decoded: a number needs no escaping. */
static inline query_lookup query_number(const char *query, size_t query_len, const char *key,
                                 unsigned max, unsigned *value) {
  const size_t key_len = strlen(key);
  const char *end = query + query_len;
  const char *pair = query;
  while (pair < end) {
    const char *separator = memchr(pair, '&', (size_t)(end - pair));
    const char *pair_end = separator ? separator : end;
    if ((size_t)(pair_end - pair) > key_len && memcmp(pair, key, key_len) == 0 &&
        pair[key_len] == '=') {
      const char *digit = pair + key_len + 1;
      if (digit == pair_end)
        return QUERY_MALFORMED;
      unsigned number = 0;
      for (; digit < pair_end; digit++) {
        if (*digit < '0' || *digit > '9')
          return QUERY_MALFORMED;
        /* number stays at most max, so this cannot overflow for any max below UINT_MAX / 10. */
        number = number * 10 + (unsigned)(*digit - '0');
        if (number > max)
          number = max;
      }
      *value = number;
      return QUERY_FOUND;
    }
    pair = pair_end + 1;
  }
  return QUERY_ABSENT;
}

/* Sends a complete text/plain response with its content-length. */
static inline void send_text(asgid_request *req, int status, const char *text) {
  const size_t text_len = strlen(text);
  char content_length[24];
  const int content_length_len = snprintf(content_length, sizeof(content_length), "%zu", text_len);
  const asgid_header headers[] = {
      HEADER("content-type", "text/plain"),
      {"content-length", sizeof("content-length") - 1, content_length, (size_t)content_length_len},
  };
  const asgid_event start = {
      .type = ASGID_HTTP_RESPONSE_START,
      .u.response_start = {.status = status,
                           .headers = headers,
                           .header_count = sizeof(headers) / sizeof(headers[0])},
  };
  const asgid_event body = {
      .type = ASGID_HTTP_RESPONSE_BODY,
      .u.response_body = {.body = (const uint8_t *)text, .body_len = text_len, .more_body = 0},
  };
  if (server->send(req, &start) == ASGID_OK)
    server->send(req, &body);
}

#endif /* ASGID_EXAMPLE_UTIL_H */
