/* limits.c - see limits.h. */
#include "websocket/limits.h"

#include <zlib.h>

ws_limits ws_limits_from_settings(const asgid_settings *s) {
  uint64_t frame = s->ws_max_frame_size;
  if (frame > s->ws_max_message_size) frame = s->ws_max_message_size;
  return (ws_limits){
      .frames = {.max_frame_size = frame,
                 .max_message_size = s->ws_max_message_size,
                 .max_fragments = (uint32_t)s->ws_max_fragments},
      .max_message_size = s->ws_max_message_size,
      .max_queue = (size_t)s->ws_max_queue,
      .ping_interval_ms = s->ws_ping_interval,
      .ping_timeout_ms = s->ws_ping_timeout,
      .handshake_timeout_ms = s->ws_handshake_timeout,
      .close_timeout_ms = s->ws_close_timeout,
      /* zlib's default level (6), as websockets and uvicorn use it. Level 1 would save ~20%
       * CPU for 2 points of compression on small JSON messages (the study); it is
       * not a setting until someone needs it. */
      .deflate = {.enabled = s->ws_per_message_deflate,
                  .window_bits = (int)s->ws_deflate_window_bits,
                  .mem_level = (int)s->ws_deflate_mem_level,
                  .level = Z_DEFAULT_COMPRESSION},
  };
}
