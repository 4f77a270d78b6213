/*
 * header_list.h - reading the HTTP header fields of a WebSocket handshake: tokens, and
 * comma-separated lists that may be split across several lines of the same field (RFC 9110
 * §5.3, §5.6.1): "Connection: keep-alive, Upgrade" and "Sec-WebSocket-Protocol: a" plus
 * "Sec-WebSocket-Protocol: b, c" list the same way as one line would.
 */
#ifndef ASGID_WEBSOCKET_HEADER_LIST_H
#define ASGID_WEBSOCKET_HEADER_LIST_H

#include <stddef.h>

#include "asgid/asgid.h"

/* 1 when `c` may appear in a token (RFC 9110 §5.6.2 tchar). */
int ws_is_tchar(unsigned char c);

/* 1 when s[0..len) is a token: one or more tchars. */
int ws_is_token(const char *s, size_t len);

/* 1 when s[0..len) equals the NUL-terminated lowercase `lower`, ignoring ASCII case. */
int ws_equal_nocase(const char *s, size_t len, const char *lower);

/* Walks the elements of the comma-separated lists of every field named `name` (lowercase,
 * as the fields' names are), in order, each trimmed of spaces and tabs; empty elements (which
 * the list rule allows) are skipped. */
typedef struct ws_list {
  const asgid_header *headers;
  size_t count;
  const char *name;
  size_t index;  /* the field being read */
  size_t offset; /* in its value */
} ws_list;

void ws_list_init(ws_list *l, const asgid_header *headers, size_t count, const char *name);

/* Sets the next element; returns 1, or 0 when there are no more. */
int ws_list_next(ws_list *l, const char **item, size_t *len);

/* 1 when one element of the `name` lists equals `lower`, ignoring ASCII case. */
int ws_list_has(const asgid_header *headers, size_t count, const char *name, const char *lower);

/* How many fields are named `name`; *value and *len are set to the last one's. */
size_t ws_field(const asgid_header *headers, size_t count, const char *name, const char **value,
                size_t *len);

#endif /* ASGID_WEBSOCKET_HEADER_LIST_H */
