/*
 * exchange.h - one HTTP/1.1 request and its response, as the ASGI layer sees it: the scope,
 * the asgi_transport the app's calls arrive through, the response framing and the access
 * log line.
 *
 * The HTTP/1.1 session (h1_session.c) creates exchanges and drives them; an exchange calls
 * only down: the connection's transport for output, the ASGI layer, the logs. When an app
 * call changes what the session should do next (it asks for an event, finishes a response,
 * is released), the exchange queues the session's deferred work (`wake`) rather than calling
 * the session. An exchange may outlive its connection while the app still holds it.
 *
 * Loop thread only.
 */
#ifndef ASGID_HTTP_EXCHANGE_H
#define ASGID_HTTP_EXCHANGE_H

#include <stdint.h>

#include "asgi/request.h"
#include "http/parser.h"
#include "http/response.h"
#include "http/service.h"
#include "log/log.h"
#include "net/transport.h"

typedef struct http_exchange {
  asgid_request request;    /* the ASGI side; the app's handle */
  http_service *service;
  transport_group *group;
  transport *transport;     /* NULL once the connection is gone or done with the exchange */
  const http_parser *parser; /* the session's, for the body read so far; NULL likewise */
  deferred_work *wake;      /* the session's deferred work; NULL likewise */
  deferred_work orphan_work; /* once detached: tells an app that waits that the client left */
  http_head head;
  char *scope_storage;      /* scope strings and header array */
  access_log_clock started; /* for the access log: when the request began */
  unsigned head_complete : 1;
  unsigned wants_event : 1;        /* the app called receive and waits */
  unsigned body_complete : 1;      /* the whole request body was parsed */
  unsigned final_body_delivered : 1;
  unsigned span_outstanding : 1;   /* the app holds a body span inside the read buffer */
  unsigned continue_sent : 1;
  unsigned draining : 1;           /* the app is done with the body: discard the rest */
  unsigned body_held : 1;          /* no body reaches the app until queued output drains */
  unsigned start_received : 1;
  unsigned head_written : 1;
  unsigned response_complete : 1;
  unsigned released : 1;           /* the app is finished with the request */
  unsigned wants_writable : 1;     /* the app waits for queued output to drain */
  unsigned keep_alive : 1;         /* another request may follow on the connection */
  /* response */
  int status;
  asgid_header *response_headers;  /* copy kept until the head is written and logged */
  size_t response_header_count;
  http_response_plan plan;
  uint64_t body_bytes_written;
} http_exchange;

/* A new exchange for the request whose first bytes arrived on t; wake is the session's
 * deferred work. NULL when out of memory. */
http_exchange *http_exchange_new(http_service *service, transport *t, const http_parser *parser,
                                 deferred_work *wake);

/* The head is complete: builds the scope and calls the app. Returns 0, or -1 when out of
 * memory (the app never saw it). */
int http_exchange_begin(http_exchange *ex);

/* Delivers the event the app asked for (http.request or http.disconnect). */
void http_exchange_deliver(http_exchange *ex, asgid_event_type type, const char *body,
                           size_t len, int more);

/* The connection is gone or done with the exchange; frees it when the app is finished too. */
void http_exchange_detach(http_exchange *ex);

/* The response is complete and the request fully read: logs it and frees it. */
void http_exchange_finish(http_exchange *ex);

/* The server answered the request itself (an error, status, body_bytes long): it is counted
 * (service->stats) and the access log gets its line. */
void http_exchange_log_rejection(http_exchange *ex, int status, uint64_t body_bytes);

/* Writes the deferred response head, if any (no body known yet). */
void http_exchange_write_pending_head(http_exchange *ex);

/* An app that waits until it may send again is told so when its queued output has drained
 * to half of write_buffer_size. */
void http_exchange_output_drained(http_exchange *ex);

#endif /* ASGID_HTTP_EXCHANGE_H */
