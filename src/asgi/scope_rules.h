/*
 * scope_rules.h - the rules of each scope type, one file per type: scope_http.c,
 * scope_websocket.c and, for the lifespan, lifespan.c. request.c calls them; nothing else
 * does. They run with the request's lock held (threaded worker classes), on any thread.
 *
 * request.c has already checked an app event against the event table (a known type, going
 * app -> server, of the request's scope type); the rules check it against the request's state.
 */
#ifndef ASGID_ASGI_SCOPE_RULES_H
#define ASGID_ASGI_SCOPE_RULES_H

#include "asgi/request.h"

typedef struct asgi_scope_rules {
  /* An app event: ASGID_OK when it is valid in req's state (its effect recorded), else
   * ASGID_E_INVALID or ASGID_E_DISCONNECTED, with *rule naming what is wrong. */
  int (*send)(asgid_request *req, const asgid_event *event, const char **rule);
  /* A server event about to reach the app (NULL when delivery changes nothing). */
  void (*delivering)(asgid_request *req, const asgid_event *event);
} asgi_scope_rules;

extern const asgi_scope_rules asgi_http_rules;      /* scope_http.c */
extern const asgi_scope_rules asgi_websocket_rules; /* scope_websocket.c */
extern const asgi_scope_rules asgi_lifespan_rules;  /* lifespan.c */

/* scope_http.c, shared with the websocket denial response (the same HTTP response rules). */
/* http.response.start: the status and headers as RFC 9110 allows them on the wire; the
 * Content-Length they declare (UINT64_MAX when none) in *content_length. */
int asgi_http_check_response_start(const asgid_event *event, uint64_t *content_length,
                                   const char **rule);
/* A response body event after the start: records it (response_complete on the last). */
int asgi_http_accept_body(asgid_request *req, const asgid_event *event, const char **rule);

#endif /* ASGID_ASGI_SCOPE_RULES_H */
