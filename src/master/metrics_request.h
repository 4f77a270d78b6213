/*
 * metrics_request.h - the reader of a request to the metrics listener (metrics_server.c): a
 * strict HTTP/1.x request head, of which only the method and the path matter. It reads bytes
 * from anyone who can reach metrics_bind, so it is small, bounded and fuzzed
 * (tests/fuzz/fuzz_metrics_request.c).
 */
#ifndef ASGID_METRICS_REQUEST_H
#define ASGID_METRICS_REQUEST_H

#include <stddef.h>

/* The longest head read: a scraper's or a probe's head is a few hundred bytes. */
#define METRICS_REQUEST_MAX 4096

typedef enum metrics_route {
  METRICS_ROUTE_NONE,
  METRICS_ROUTE_METRICS, /* /metrics */
  METRICS_ROUTE_HEALTHZ, /* /healthz */
  METRICS_ROUTE_READYZ   /* /readyz */
} metrics_route;

typedef struct metrics_request {
  int status;          /* 0: the head is not complete yet; else what to answer it with */
  metrics_route route; /* with status 200 */
  int head;            /* a HEAD request: no body in the answer */
  const char *rule;    /* with 400 and 431: the rule broken, for the log */
} metrics_request;

/* Reads the len bytes received so far (at most METRICS_REQUEST_MAX). The status is 0 while the
 * head (up to its empty line, CRLF-terminated lines) is incomplete; then 200 for GET or HEAD
 * of a known path (the query is ignored), 404 for another path, 405 for another method on a
 * known path, 400 for a malformed request line (method, one space, target, one space,
 * HTTP/1.0 or HTTP/1.1), 431 when METRICS_REQUEST_MAX bytes hold no complete head. */
metrics_request metrics_request_parse(const char *buf, size_t len);

#endif /* ASGID_METRICS_REQUEST_H */
