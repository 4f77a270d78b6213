/*
 * buffer.h - a growable byte buffer for response bytes waiting to be written.
 */
#ifndef ASGID_HTTP_BUFFER_H
#define ASGID_HTTP_BUFFER_H

#include <stddef.h>

typedef struct http_buffer {
  char *data;
  size_t len, cap;
} http_buffer;

/* Appends len bytes. Returns 0, or -1 when out of memory (the buffer is unchanged). */
int http_buffer_append(http_buffer *b, const void *data, size_t len);

/* Appends a NUL-terminated string. */
int http_buffer_append_str(http_buffer *b, const char *s);

/* Appends printf-formatted text. */
int http_buffer_appendf(http_buffer *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Frees the storage. */
void http_buffer_free(http_buffer *b);

#endif /* ASGID_HTTP_BUFFER_H */
