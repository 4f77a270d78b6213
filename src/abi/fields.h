/*
 * fields.h - what an HTTP header field may contain (RFC 9110 §5), shared by the checks on
 * requests from clients and on responses from apps.
 */
#ifndef ASGID_ABI_FIELDS_H
#define ASGID_ABI_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "asgid/asgid.h"

/* 1 when name is a non-empty RFC 9110 token. */
int asgi_field_name_valid(const char *name, size_t len);

/* 1 when value holds no control character other than horizontal tab (so no CR, LF, NUL or
 * DEL); obs-text bytes (0x80-0xFF) are allowed. */
int asgi_field_value_valid(const char *value, size_t len);

/* Parses a Content-Length value: 1 to 19 digits and nothing else (RFC 9110 §8.6; 19 digits
 * cannot overflow). Returns 0 with *out set, or -1. */
int asgi_field_parse_length(const char *value, size_t len, uint64_t *out);

/* Bytes needed to copy n headers with asgi_headers_copy: the array and every name and value. */
size_t asgi_headers_size(const asgid_header *headers, size_t n);

/* Copies n headers into dst (asgi_headers_size bytes, suitably aligned): the array first, then
 * the names and values it points to. Returns the copied array (dst). */
asgid_header *asgi_headers_copy(const asgid_header *headers, size_t n, void *dst);

/* ASCII case-insensitive comparison of a field (any case) with a lowercase string of n
 * bytes. */
int asgi_field_equals_n(const char *field, size_t len, const char *lowercase, size_t n);

/* The same with a lowercase string literal (its length known at compile time). */
#define asgi_field_equals(field, len, literal) \
  asgi_field_equals_n((field), (len), "" literal, sizeof(literal) - 1)

#endif /* ASGID_ABI_FIELDS_H */
