/*
 * deflate.h - permessage-deflate (RFC 7692): negotiating it from the client's offers, and
 * the zlib streams that compress the server's messages and inflate the client's.
 *
 * Negotiation follows the server tables of the python websockets library
 * (extensions/permessage_deflate.py): the configured server window caps what the client may
 * ask of our compressor; the client's window is named in the response only when the client
 * offered client_max_window_bits. Window 8 is never used to compress (zlib refuses raw
 * deflate with 8 bits): an offer that demands it is declined (RFC 7692 §7.1.2.1 lets a server
 * decline what it cannot honour), and the setting's floor is 9.
 *
 * Memory: zlib's state is allocated on first use (the first compressed message each way),
 * not at the handshake, so a connection that never exchanges a compressed message costs
 * nothing here. With no context takeover, a stream is freed after each message. zlib costs
 * about (1 << (window + 2)) + (1 << (memLevel + 9)) to compress and (1 << window) + 7 KiB to
 * inflate: 12/5 holds ~49 KiB per connection with both directions in use, zlib's 15/8 ~300
 * KiB (tests/unit/test_ws_deflate.c measures it).
 */
#ifndef ASGID_WEBSOCKET_DEFLATE_H
#define ASGID_WEBSOCKET_DEFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "asgid/asgid.h"
#include "websocket/buffer.h"

/* The server's side of the negotiation (the settings: websocket/limits.h). */
typedef struct ws_deflate_config {
  int enabled;                    /* offer-accepting at all */
  int window_bits;                /* 9..15: our compressor's window at most, and the client's
                                     when it lets us choose */
  int mem_level;                  /* 1..9: zlib's memLevel for our compressor */
  int level;                      /* zlib's compression level, 0..9 or -1 (zlib's default) */
  int server_no_context_takeover; /* always reset our compressor between messages */
  int client_no_context_takeover; /* ask the client to reset its compressor */
} ws_deflate_config;

/* What was agreed for one connection. */
typedef struct ws_deflate_params {
  uint8_t server_no_context_takeover; /* we reset our compressor after each message */
  uint8_t client_no_context_takeover; /* the client resets its compressor: so may our inflater */
  uint8_t server_window_bits;         /* our compressor's window, 9..15 */
  uint8_t client_window_bits;         /* the client's compressor's window, 8..15 */
} ws_deflate_params;

/* The longest Sec-WebSocket-Extensions response value, with its NUL. */
#define WS_DEFLATE_RESPONSE_MAX 160

/* Reads every Sec-WebSocket-Extensions field of the request (offers separated by commas,
 * across lines; parameters after semicolons, with or without values, values as tokens or
 * quoted strings) and accepts the first permessage-deflate offer it can honour. An offer with
 * an unknown parameter, a duplicate one or a bad value is declined, and the next one tried.
 * Returns 1 with *params and `response` (the response field's value) set; 0 when no offer was
 * accepted (or cfg->enabled is 0): no compression; -1 when a field does not follow the
 * grammar of RFC 6455 §9.1, with *rule (the handshake answers 400). */
int ws_deflate_negotiate(const ws_deflate_config *cfg, const asgid_header *headers,
                         size_t header_count, ws_deflate_params *params,
                         char response[WS_DEFLATE_RESPONSE_MAX], const char **rule);

struct z_stream_s;

/* One connection's compression state. */
typedef struct ws_deflate {
  ws_deflate_params params;
  int mem_level, level;
  struct z_stream_s *inflater; /* NULL until a compressed message arrives */
  struct z_stream_s *deflater; /* NULL until a message is compressed */
  int inflate_ended;           /* the client's stream ended (a final block): reset at the end
                                  of the message */
  size_t zlib_bytes;           /* memory zlib holds for this connection now */
} ws_deflate;

/* Prepares the state for a connection whose handshake agreed on `params`; allocates nothing. */
void ws_deflate_init(ws_deflate *d, const ws_deflate_params *params, const ws_deflate_config *cfg);

/* Inflates the next span of a compressed message, appending to `out`, which never grows past
 * `limit` bytes (0: no limit): the output is produced in pieces no larger than the room left,
 * so a compression bomb stops at the limit, having allocated no more. `end` says the span
 * ends the message (the 00 00 ff ff tail of RFC 7692 §7.2.2 is added). Returns 0, or the code
 * to close with: 1009 past the limit, 1007 data that is not deflate, 1011 out of memory, with
 * *rule. */
int ws_inflate(ws_deflate *d, const uint8_t *in, size_t len, int end, ws_buffer *out,
               uint64_t limit, const char **rule);

/* Compresses one whole message into `out` (replacing what it held): the payload of a frame
 * with RSV1 set (Z_SYNC_FLUSH, the 00 00 ff ff tail removed). Returns 0, or -1 when memory ran
 * out. */
int ws_deflate_message(ws_deflate *d, const uint8_t *in, size_t len, ws_buffer *out);

/* Releases the zlib streams (the connection ends). */
void ws_deflate_free(ws_deflate *d);

#endif /* ASGID_WEBSOCKET_DEFLATE_H */
