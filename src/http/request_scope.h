/*
 * request_scope.h - the ASGI connection scope of a request head: what an http scope and a
 * websocket scope share (path, query, headers, addresses). The scope type's own fields are
 * set by its session.
 *
 * Loop thread only.
 */
#ifndef ASGID_HTTP_REQUEST_SCOPE_H
#define ASGID_HTTP_REQUEST_SCOPE_H

#include "asgid/asgid.h"
#include "http/parser.h"
#include "http/service.h"
#include "net/transport.h"

/* Fills scope from head (which must outlive the scope) and the connection t, as an http
 * scope: root_path from the settings, and what a trusted proxy's forwarding headers say
 * (forwarded.h) in place of the peer's address, the scheme and the Host header (a malformed
 * one logged through service's limit). Returns the storage the scope's strings and header
 * array live in (free it with the scope), or NULL when out of memory. */
char *http_request_scope_build(asgid_scope *scope, const http_head *head, const transport *t,
                               http_service *service);

#endif /* ASGID_HTTP_REQUEST_SCOPE_H */
