/*
 * h1_session.h - the HTTP/1.1 session: the protocol that runs on a connection's transport
 * from its first byte. It parses requests with llhttp and serves one exchange at a time:
 * pipelined requests wait in the read buffer (the parser stays paused) until the current
 * response is complete, so responses are always in order. It owns the HTTP deadlines (head,
 * body, unread body, keep-alive idle) and the request body's min_data_rate.
 *
 * Loop thread only.
 */
#ifndef ASGID_HTTP_H1_SESSION_H
#define ASGID_HTTP_H1_SESSION_H

#include "http/service.h"
#include "net/transport.h"

/* Starts serving HTTP/1.1 on a freshly accepted transport, or on one whose PROXY header was
 * read (its unread bytes are the first request's). Returns 0, or -1 when out of memory (the
 * transport is closed). */
int h1_session_start(http_service *service, transport *t);

#endif /* ASGID_HTTP_H1_SESSION_H */
