/*
 * target.h - the request target (RFC 9112 §3.2) split into what an ASGI scope needs.
 */
#ifndef ASGID_HTTP_TARGET_H
#define ASGID_HTTP_TARGET_H

#include <stddef.h>

/* Splits a target into its path and query (the bytes after '?', without it). The
 * absolute-form "http://host/p?q" yields "/p" and "q"; an authority-form or "*" target is
 * its own path. Pointers point into target. */
void http_target_split(const char *target, size_t len, const char **path, size_t *path_len,
                       const char **query, size_t *query_len);

/* 1 when a Host field value is a valid uri-host[:port] (RFC 9112 §3.2, RFC 3986 §3.2.2): an
 * IP literal in brackets, or a reg-name / IPv4 address of unreserved characters, sub-delims
 * and %XX escapes, optionally followed by ':' and digits. An empty value is valid (a request
 * whose target has no authority). */
int http_host_valid(const char *value, size_t len);

/* Percent-decodes in into out (room for len bytes; the result is never longer). Invalid
 * escapes are kept as they are. Returns the decoded length. */
size_t http_percent_decode(const char *in, size_t len, char *out);

#endif /* ASGID_HTTP_TARGET_H */
