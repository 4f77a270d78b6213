/*
 * byte_buffer.h - a growable byte buffer (output waiting to be written, frames being built).
 */
#ifndef ASGID_NET_BYTE_BUFFER_H
#define ASGID_NET_BYTE_BUFFER_H

#include <stddef.h>

#include "platform/platform.h"

typedef struct byte_buffer {
  char *data;
  size_t len, cap;
} byte_buffer;

/* Appends len bytes. Returns 0, or -1 when out of memory (the buffer is unchanged). */
int byte_buffer_append(byte_buffer *b, const void *data, size_t len);

/* Appends a NUL-terminated string. */
int byte_buffer_append_str(byte_buffer *b, const char *s);

/* Appends printf-formatted text. */
int byte_buffer_appendf(byte_buffer *b, const char *fmt, ...) PLATFORM_PRINTF(2, 3);

/* Frees the storage. */
void byte_buffer_free(byte_buffer *b);

#endif /* ASGID_NET_BYTE_BUFFER_H */
