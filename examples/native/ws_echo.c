/*
 * ws_echo.c - a native WebSocket app: every message comes back as it came (text as text,
 * bytes as bytes, empty ones too), and a client's close ends it.
 *
 * It shows the websocket side of the ABI: the app sets ASGID_CAP_WEBSOCKET in its table (an
 * app without it never gets a websocket scope), accepts on websocket.connect (offering the
 * client's first subprotocol back, if any), and keeps one receive outstanding. Each received
 * message is sent straight back: the server copies it before send returns, so nothing is
 * allocated per message. A message of exactly "close" makes the app close with 4000 "bye",
 * to show an app-chosen close code.
 *
 * Plain HTTP requests get 426 (Upgrade Required), since the app only speaks WebSocket.
 *
 * Run:  asgid --app build/examples/ws_echo.so --bind 127.0.0.1:8000
 *       python3 -m websockets ws://127.0.0.1:8000/
 * It never blocks, so it suits worker_class = event as well as thread.
 */
#include <asgid/asgid.h>
#include <string.h>

#define HEADER(name, value) { name, sizeof(name) - 1, value, sizeof(value) - 1 }

static const asgid_server_api *server;

static const asgid_header upgrade_headers[] = {
    HEADER("content-type", "text/plain; charset=utf-8"),
    HEADER("upgrade", "websocket"),
    HEADER("connection", "upgrade"),
};

static void answer_http(asgid_request *req) {
  static const char body[] = "this app speaks WebSocket only\n";
  const asgid_event start = {
      .type = ASGID_HTTP_RESPONSE_START,
      .u.response_start = {.status = 426,
                           .headers = upgrade_headers,
                           .header_count = sizeof upgrade_headers / sizeof upgrade_headers[0]}};
  const asgid_event end = {.type = ASGID_HTTP_RESPONSE_BODY,
                           .u.response_body = {.body = (const uint8_t *)body,
                                               .body_len = sizeof body - 1}};
  if (server->send(req, &start) == ASGID_OK) server->send(req, &end);
  server->done(req);
}

static int ws_echo_call(void *app_data, asgid_request *req, const asgid_scope *scope) {
  (void)app_data;
  if (scope->type == ASGID_SCOPE_HTTP) {
    answer_http(req);
    return ASGID_OK;
  }
  if (scope->type != ASGID_SCOPE_WEBSOCKET) return ASGID_E_UNSUPPORTED;
  if (scope->subprotocol_count) {
    /* Accepting before websocket.connect is allowed; here it is done while the scope (and so
     * the offered name) is valid: the server copies it before send returns. */
    const asgid_event accept = {.type = ASGID_WEBSOCKET_ACCEPT,
                                .u.websocket_accept = {.subprotocol = scope->subprotocols[0]}};
    if (server->send(req, &accept) != ASGID_OK) {
      server->done(req);
      return ASGID_OK;
    }
    server->set_request_data(req, (void *)1); /* accepted */
  }
  server->receive(req); /* websocket.connect comes first */
  return ASGID_OK;
}

static void ws_echo_on_event(void *app_data, asgid_request *req, const asgid_event *event) {
  (void)app_data;
  switch (event->type) {
    case ASGID_WEBSOCKET_CONNECT: {
      if (!server->request_data(req)) {
        const asgid_event accept = {.type = ASGID_WEBSOCKET_ACCEPT};
        if (server->send(req, &accept) != ASGID_OK) {
          server->done(req);
          return;
        }
      }
      server->receive(req);
      return;
    }
    case ASGID_WEBSOCKET_RECEIVE: {
      const uint8_t *data = event->u.websocket_message.data;
      size_t len = event->u.websocket_message.len;
      if (event->u.websocket_message.text && len == 5 && memcmp(data, "close", 5) == 0) {
        const asgid_event close = {.type = ASGID_WEBSOCKET_CLOSE,
                                   .u.websocket_close = {.code = 4000, .reason = "bye",
                                                         .reason_len = 3}};
        server->send(req, &close);
        server->receive(req); /* the disconnect follows the client's answer */
        return;
      }
      asgid_event echo = {.type = ASGID_WEBSOCKET_SEND};
      echo.u.websocket_message = event->u.websocket_message;
      /* ASGID_E_DISCONNECTED: the client has gone; its disconnect is the next event. */
      server->send(req, &echo);
      server->receive(req);
      return;
    }
    case ASGID_WEBSOCKET_DISCONNECT:
    default:
      server->done(req);
      return;
  }
}

static const asgid_app ws_echo_app = {
    .abi_version = ASGID_ABI_VERSION,
    .struct_size = sizeof(asgid_app),
    .name = "ws_echo",
    .call = ws_echo_call,
    .on_event = ws_echo_on_event,
    .capabilities = ASGID_CAP_WEBSOCKET,
};

ASGID_EXPORT const asgid_app *asgid_app_entry(const asgid_server_api *api) {
  server = api;
  return &ws_echo_app;
}
