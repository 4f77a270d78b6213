/*
 * service.h - what the HTTP side of one worker shares across its connections and requests:
 * the settings, the ASGI context, the parser and WebSocket limits, and the request counters.
 *
 * Loop thread only.
 */
#ifndef ASGID_HTTP_SERVICE_H
#define ASGID_HTTP_SERVICE_H

#include <stdint.h>

#include "asgi/request.h"
#include "http/parser.h"
#include "log/log_rate_limit.h"
#include "net/address_match.h"
#include "net/request_stats.h"
#include "settings/settings.h"
#include "websocket/buffer.h"
#include "websocket/limits.h"

typedef struct http_service {
  const asgid_settings *settings;
  asgi_context *asgi;
  http_limits limits;
  uint64_t requests_served;
  request_stats stats;   /* answered requests (served or refused) by class and duration */
  uint64_t websockets_open;
  uint64_t requests_in_progress; /* begun, the app not finished yet: limit_concurrency */
  uint64_t max_requests; /* on_max_requests runs when requests_served reaches it; 0: never */
  void (*on_max_requests)(struct http_service *service);
  int stopping;          /* a graceful stop began: no connection is kept alive */
  ws_limits websocket;   /* the [websocket] settings */
  ws_buffer websocket_scratch; /* a compressed message being framed (one loop: one at a time) */
  address_match forwarded_allow; /* forwarded_allow_ips: the proxies whose headers count */
  /* Lines a client can cause at will, at most one at info a second (log/log_rate_limit.h):
   * a connection refused on a proxy_protocol listener (a balancer that sends no header, the
   * option turned on before the balancer's, would otherwise write a line per connection);
   * a trusted proxy's header ignored (nginx passes a client's X-Forwarded-Proto along). */
  log_rate_limit proxy_refusal_log;
  log_rate_limit forwarded_rule_log;
} http_service;

#endif /* ASGID_HTTP_SERVICE_H */
