/* byte_buffer.c - growable byte buffer. See byte_buffer.h. */
#include "net/byte_buffer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(byte_buffer *b, size_t extra) {
  if (b->len + extra <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 512;
  while (cap < b->len + extra) cap *= 2;
  char *grown = realloc(b->data, cap);
  if (!grown) return -1;
  b->data = grown;
  b->cap = cap;
  return 0;
}

int byte_buffer_append(byte_buffer *b, const void *data, size_t len) {
  if (reserve(b, len) != 0) return -1;
  if (len) memcpy(b->data + b->len, data, len);
  b->len += len;
  return 0;
}

int byte_buffer_append_str(byte_buffer *b, const char *s) {
  return byte_buffer_append(b, s, strlen(s));
}

int byte_buffer_appendf(byte_buffer *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || reserve(b, (size_t)n + 1) != 0) return -1;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}

void byte_buffer_free(byte_buffer *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
