/* buffer.c - see buffer.h. */
#include "websocket/buffer.h"

#include <stdlib.h>
#include <string.h>

size_t ws_buffer_reserve(ws_buffer *b, size_t want, size_t ceiling) {
  if (ceiling == 0) ceiling = SIZE_MAX;
  if (b->cap - b->len >= want || b->cap >= ceiling) return b->cap - b->len;
  size_t cap = b->cap ? b->cap : 1024;
  while (cap - b->len < want && cap < ceiling) cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
  if (cap > ceiling) cap = ceiling;
  uint8_t *data = realloc(b->data, cap);
  if (!data) return (size_t)-1;
  b->data = data;
  b->cap = cap;
  return cap - b->len;
}

int ws_buffer_append(ws_buffer *b, const void *data, size_t len, size_t ceiling) {
  if (len == 0) return 0;
  if (ceiling && (len > ceiling || b->len > ceiling - len)) return -1;
  size_t room = ws_buffer_reserve(b, len, ceiling);
  if (room == (size_t)-1 || room < len) return -1;
  memcpy(b->data + b->len, data, len);
  b->len += len;
  return 0;
}

void ws_buffer_free(ws_buffer *b) {
  free(b->data);
  *b = (ws_buffer){0};
}
