/*
 * scope_websocket.h - the websocket scope (ASGI 2.5 with the websocket.http.response denial
 * extension): what the protocol layer (the WebSocket session) needs besides request.h.
 *
 * The session builds a request as the HTTP exchange does (asgi_request_init, then the scope:
 * asgi_websocket_scope_init and the request's path, headers, addresses and the offered
 * subprotocols), and asgi_request_start. From then on:
 *   - server -> app: on transport->want_event it delivers, one per want, with
 *     asgi_request_deliver: websocket.connect first, then websocket.receive messages in order
 *     (data valid until the app's next receive or done), then exactly one
 *     websocket.disconnect {code, reason}. When the connection ends it calls
 *     asgi_request_disconnect (sends fail from then on; delivering the disconnect does the
 *     same).
 *   - app -> server: transport->send gets only events these rules let through: accept, send,
 *     close (asgi_websocket_close_code gives its code), and the denial's
 *     websocket.http.response.start / .body (as u.response_start / u.response_body).
 *   - the end: at transport->release, asgi_websocket_phase says what the server still owes.
 */
#ifndef ASGID_ASGI_SCOPE_WEBSOCKET_H
#define ASGID_ASGI_SCOPE_WEBSOCKET_H

#include "asgi/request.h"

/* Where the app's side of a websocket scope stands. */
typedef enum asgi_websocket_phase {
  ASGI_WEBSOCKET_HANDSHAKE, /* neither accepted nor refused. At release: 403 */
  ASGI_WEBSOCKET_DENYING,   /* a denial response started, its body unfinished. At release: the
                               connection is closed (the response is incomplete) */
  ASGI_WEBSOCKET_OPEN,      /* accepted. At release: close 1000 */
  ASGI_WEBSOCKET_FINISHED   /* the app closed (before accept: refused, 403) or its denial
                               response is complete. At release: nothing more */
} asgi_websocket_phase;

/* 1 when the app's table asks for websocket scopes: ASGID_CAP_WEBSOCKET, in a table recent
 * enough to have `capabilities` (an older app never sees a websocket scope). */
int asgi_app_handles_websocket(const asgid_app *app);

/* Sets the constant members of a websocket scope (type, type_name, spec_version "2.5",
 * http_version "1.1", method NULL), after asgi_request_init and the connection's members:
 * scheme "ws", or "wss" when they say "https" (a TLS-terminating proxy's X-Forwarded-Proto). */
void asgi_websocket_scope_init(asgid_scope *scope);

/* The code a websocket.close that passed the rules closes with (the app's 0 is 1000). */
int asgi_websocket_close_code(const asgid_event *event);

/* The app's side of req, a websocket scope. Loop thread; exact once the app is done (at
 * transport->release). */
asgi_websocket_phase asgi_websocket_phase_of(const asgid_request *req);

#endif /* ASGID_ASGI_SCOPE_WEBSOCKET_H */
