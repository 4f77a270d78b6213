/*
 * buffer.h - a growable byte buffer with a ceiling, for a message being assembled or
 * inflated and for a compressed message being sent. It never grows past the ceiling its
 * caller gives, so a peer's size limit bounds the memory it can make the server allocate.
 */
#ifndef ASGID_WEBSOCKET_BUFFER_H
#define ASGID_WEBSOCKET_BUFFER_H

#include <stddef.h>
#include <stdint.h>

typedef struct ws_buffer {
  uint8_t *data;
  size_t len, cap;
} ws_buffer;

/* Makes room for at least `want` more bytes (doubling, from 1 KiB), but never more capacity
 * than `ceiling` in all (0: no ceiling). Returns the free room now (which may be less than
 * `want` at the ceiling, 0 when it is reached), or (size_t)-1 when memory ran out. */
size_t ws_buffer_reserve(ws_buffer *b, size_t want, size_t ceiling);

/* Appends bytes; returns 0, or -1 when memory ran out or `ceiling` would be passed. */
int ws_buffer_append(ws_buffer *b, const void *data, size_t len, size_t ceiling);

/* Releases the memory (a buffer is idle between messages: it holds nothing). */
void ws_buffer_free(ws_buffer *b);

#endif /* ASGID_WEBSOCKET_BUFFER_H */
