/*
 * proxy_session.h - the first session of a connection on a listener with the proxy_protocol
 * option: it reads the PROXY protocol header (net/proxy_protocol.c) the load balancer sends
 * before the client's bytes, within proxy_protocol_timeout, puts the client address it names
 * into the transport (client_host, client_port: what the scope, the access log and the
 * proxy-header trust decision see), and hands the transport with the bytes behind the header
 * to the HTTP/1.1 session. A connection that does not start with a valid header is closed,
 * with a log line naming the rule it broke (rate-limited).
 *
 * Loop thread only.
 */
#ifndef ASGID_HTTP_PROXY_SESSION_H
#define ASGID_HTTP_PROXY_SESSION_H

#include "http/service.h"
#include "net/transport.h"

/* Starts reading the PROXY header on a freshly accepted transport. Returns 0, or -1 when out
 * of memory (the transport is closed). */
int proxy_session_start(http_service *service, transport *t);

#endif /* ASGID_HTTP_PROXY_SESSION_H */
