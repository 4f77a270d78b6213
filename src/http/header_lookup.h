/*
 * header_lookup.h - finding a header by name among a request's headers (names lowercase, as
 * the parser stores them), for the code that reads the scope's headers: forwarded.c and
 * request_scope.c.
 */
#ifndef ASGID_HTTP_HEADER_LOOKUP_H
#define ASGID_HTTP_HEADER_LOOKUP_H

#include <stddef.h>

#include "asgid/asgid.h"

/* 1 when h is named lowercase. */
int http_header_name_is(const asgid_header *h, const char *lowercase);

/* The first header named lowercase, or NULL. */
asgid_header *http_header_find(const asgid_header *headers, size_t count, const char *lowercase);

#endif /* ASGID_HTTP_HEADER_LOOKUP_H */
