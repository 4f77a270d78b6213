/*
 * ws_session.h - the WebSocket session (RFC 6455, RFC 7692; ASGI websocket scope 2.5): the
 * protocol a connection runs after the HTTP/1.1 session has seen a valid WebSocket handshake.
 *
 * It owns the app's websocket request from the start: before the app accepts it can still
 * answer in HTTP (403 for a close, the app's own response for a denial), which is why it
 * lives in http/; once accepted it writes the 101 and speaks frames. The codecs are the pure
 * ones of websocket/.
 *
 * Loop thread only.
 */
#ifndef ASGID_HTTP_WS_SESSION_H
#define ASGID_HTTP_WS_SESSION_H

#include <stdint.h>

#include "http/parser.h"
#include "http/service.h"
#include "net/transport.h"
#include "websocket/handshake.h"

/* Takes over transport t from the HTTP/1.1 session: head (moved: the session owns it now) is
 * the handshake request, hs its valid check, began_ms when its first byte came (the
 * handshake deadline counts from there). The unread bytes in t are the client's first
 * frames. Calls the app with the websocket scope. On failure (out of memory) t is closed. */
void ws_session_start(http_service *service, transport *t, http_head *head,
                      const ws_handshake *hs, uint64_t began_ms);

#endif /* ASGID_HTTP_WS_SESSION_H */
