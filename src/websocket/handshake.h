/*
 * handshake.h - the server's side of the WebSocket opening handshake (RFC 6455 §4.2): is a
 * request a WebSocket handshake at all, is it a valid one, what the 101 response says.
 *
 * Two questions, kept apart:
 *   - Is it an upgrade ATTEMPT that qualifies as a WebSocket handshake? That needs
 *     "Upgrade: websocket" and "Connection: upgrade" (tokens, any case, inside lists, across
 *     lines) on a GET of HTTP/1.1 without a body. A request that fails this is plain HTTP,
 *     served as any other (a POST with a body and "Upgrade: websocket" gets its body framed
 *     and the next request parsed as HTTP): WS_UPGRADE_NONE.
 *   - Is the attempt VALID? Sec-WebSocket-Version 13 (else 426 with Sec-WebSocket-Version:
 *     13), one Sec-WebSocket-Key decoding to 16 bytes, subprotocols that are tokens,
 *     well-formed extension offers (else 400): WS_UPGRADE_VALID or WS_UPGRADE_REFUSED.
 * The HTTP parser already enforced one Host on HTTP/1.1 and the header syntax.
 */
#ifndef ASGID_WEBSOCKET_HANDSHAKE_H
#define ASGID_WEBSOCKET_HANDSHAKE_H

#include <stddef.h>

#include "asgid/asgid.h"
#include "websocket/deflate.h"

/* The request, as the HTTP/1 session parsed it. */
typedef struct ws_handshake_request {
  const char *method;
  size_t method_len;
  int http_minor;               /* 1 for HTTP/1.1 */
  int has_body;                 /* Content-Length above 0, or chunked */
  const asgid_header *headers;  /* names lowercase, values trimmed */
  size_t header_count;
} ws_handshake_request;

typedef enum ws_upgrade {
  WS_UPGRADE_NONE,    /* not a WebSocket handshake: serve it as plain HTTP */
  WS_UPGRADE_VALID,   /* a valid handshake: run the app with a websocket scope */
  WS_UPGRADE_REFUSED  /* a WebSocket handshake that breaks a rule: answer `status` and close */
} ws_upgrade;

/* Sec-WebSocket-Accept's length: base64 of a 20-byte SHA-1. */
#define WS_ACCEPT_LEN 28

typedef struct ws_handshake {
  ws_upgrade upgrade;
  /* REFUSED: 400, or 426 (the response must then carry "Sec-WebSocket-Version: 13"), or 500
   * when libcrypto failed. */
  int status;
  /* REFUSED, and NONE when the request asked for WebSocket but does not qualify (method,
   * version, body, Connection): the rule, for a log line; NULL for plain requests. */
  const char *rule;
  char accept[WS_ACCEPT_LEN + 1]; /* VALID: Sec-WebSocket-Accept, NUL-terminated */
  int deflate;                    /* VALID: permessage-deflate was agreed */
  ws_deflate_params deflate_params;
  char extensions[WS_DEFLATE_RESPONSE_MAX]; /* VALID and deflate: the response's
                                               Sec-WebSocket-Extensions value */
} ws_handshake;

/* Examines a request. `deflate` is the server's permessage-deflate configuration. */
void ws_handshake_check(const ws_handshake_request *req, const ws_deflate_config *deflate,
                        ws_handshake *hs);

/* The subprotocols the client offers (every Sec-WebSocket-Protocol field, split on commas,
 * trimmed, in order), for the scope: one allocation holding `count` pointers to
 * NUL-terminated strings and the strings; free() releases it. *list is NULL when none is
 * offered. Returns 0, or -1 when memory ran out. Call it on a VALID handshake (whose
 * subprotocols were checked). */
int ws_handshake_subprotocols(const ws_handshake_request *req, char ***list, size_t *count);

/* Writes the 101 response head of a VALID handshake into out[0..cap): Upgrade, Connection,
 * Sec-WebSocket-Accept, Sec-WebSocket-Protocol when `subprotocol` is not NULL (the app's
 * choice, checked against the offer by the caller), Sec-WebSocket-Extensions when deflate was
 * agreed, then `server_headers` (e.g. Date, Server) and the app's `app_headers`, then the
 * blank line. Returns the length of the head; when that exceeds cap, nothing useful was
 * written: call again with that much room. */
size_t ws_handshake_response(char *out, size_t cap, const ws_handshake *hs,
                             const char *subprotocol, const asgid_header *server_headers,
                             size_t server_header_count, const asgid_header *app_headers,
                             size_t app_header_count);

#endif /* ASGID_WEBSOCKET_HANDSHAKE_H */
