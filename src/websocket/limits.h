/*
 * limits.h - the [websocket] settings, as the codecs and the WebSocket session use them.
 * Read once per worker (settings change only with new workers, on HUP).
 */
#ifndef ASGID_WEBSOCKET_LIMITS_H
#define ASGID_WEBSOCKET_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "settings/settings.h"
#include "websocket/deflate.h"
#include "websocket/frame.h"

typedef struct ws_limits {
  /* For ws_parser_init; set .deflate per connection from its handshake. The frame limit is
   * never above the message limit (a larger frame could only fail later). */
  ws_frame_limits frames;
  uint64_t max_message_size;     /* for ws_message_add: the size after inflation */
  size_t max_queue;              /* inbound messages waiting for the app before reading stops */
  uint64_t ping_interval_ms;     /* 0: no pings */
  uint64_t ping_timeout_ms;      /* 0: no pong deadline */
  uint64_t handshake_timeout_ms; /* upgrade request + the app's accept */
  uint64_t close_timeout_ms;     /* wait for the client's close frame */
  ws_deflate_config deflate;     /* for ws_handshake_check and ws_deflate_init */
} ws_limits;

ws_limits ws_limits_from_settings(const asgid_settings *settings);

#endif /* ASGID_WEBSOCKET_LIMITS_H */
