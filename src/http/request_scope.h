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
#include "net/transport.h"
#include "settings/settings.h"

/* Fills scope from head (which must outlive the scope) and the connection t, as an http
 * scope. Returns the storage the scope's strings and header array live in (free it with the
 * scope), or NULL when out of memory. */
char *http_request_scope_build(asgid_scope *scope, const http_head *head, const transport *t,
                               const asgid_settings *settings);

#endif /* ASGID_HTTP_REQUEST_SCOPE_H */
