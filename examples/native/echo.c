/*
 * echo.c - streams the request body back as the response body, chunk by chunk.
 *
 * Shows the receive loop: api->receive asks for the next http.request event, which arrives
 * later in on_event; each chunk is sent straight back as an http.response.body with
 * more_body = 1, and the empty final body ends the response. The response has no
 * content-length (its size is not known when it starts), so HTTP/1.1 clients get it
 * chunked. Because the app asks for one chunk at a time, a body of any size passes through
 * without the app holding more than one chunk.
 *
 * Run:  asgid --app build/examples/echo.so --worker-class event --bind 127.0.0.1:8000
 *       curl -sS --data-binary @some-file http://127.0.0.1:8000/ | cmp - some-file
 * It never blocks, so it suits worker_class = event as well as thread.
 *
 * No per-request state is needed: every decision depends only on the event at hand.
 */
#include <asgid/asgid.h>

#define HEADER(name, value) { name, sizeof(name) - 1, value, sizeof(value) - 1 }

static const asgid_header echo_headers[] = {
    HEADER("content-type", "application/octet-stream"),
};

static const asgid_event echo_start = {
    .type = ASGID_HTTP_RESPONSE_START,
    .u.response_start = {.status = 200,
                         .headers = echo_headers,
                         .header_count = sizeof(echo_headers) / sizeof(echo_headers[0])},
};

static const asgid_event echo_end = {
    .type = ASGID_HTTP_RESPONSE_BODY,
    .u.response_body = {.body = NULL, .body_len = 0, .more_body = 0},
};

/* The server's function table, kept for the callbacks; set once, before any callback runs. */
static const asgid_server_api *server;

/* Asks for the next body chunk. A receive that fails delivers no event, so nothing would ever
 * finish the request: finish it here instead. */
static void echo_receive_next(asgid_request *req) {
  if (server->receive(req) != ASGID_OK)
    server->done(req);
}

static int echo_call(void *app_data, asgid_request *req, const asgid_scope *scope) {
  if (scope->type != ASGID_SCOPE_HTTP)
    return ASGID_E_UNSUPPORTED;
  /* Starting before reading anything is allowed (ASGI sets no order between the two) and
   * lets the client see the status while it is still uploading. */
  if (server->send(req, &echo_start) != ASGID_OK) {
    server->done(req);
    return ASGID_OK;
  }
  echo_receive_next(req);
  return ASGID_OK;
}

static void echo_on_event(void *app_data, asgid_request *req, const asgid_event *event) {
  if (event->type != ASGID_HTTP_REQUEST) {
    /* http.disconnect: the client has gone mid-body; nothing more can be sent. */
    server->done(req);
    return;
  }
  if (event->u.request.body_len > 0) {
    /* The event's body is the server's, valid only during this callback; send copies it. */
    const asgid_event chunk = {
        .type = ASGID_HTTP_RESPONSE_BODY,
        .u.response_body = {.body = event->u.request.body,
                            .body_len = event->u.request.body_len,
                            .more_body = 1},
    };
    /* ASGID_E_DISCONNECTED: nobody is left to read the rest, so stop reading it. */
    if (server->send(req, &chunk) != ASGID_OK) {
      server->done(req);
      return;
    }
  }
  if (event->u.request.more_body) {
    echo_receive_next(req);
    return;
  }
  server->send(req, &echo_end);
  server->done(req);
}

static const asgid_app echo_app = {
    .abi_version = ASGID_ABI_VERSION,
    .struct_size = sizeof(asgid_app),
    .name = "echo",
    .app_data = NULL,
    .call = echo_call,
    .on_event = echo_on_event,
    .destroy = NULL,
};

/* Declared before its definition to satisfy -Wmissing-prototypes: asgid.h only names the
 * entry function's type, since the symbol is the app's choice. */

ASGID_EXPORT const asgid_app *asgid_app_entry(const asgid_server_api *api) {
  server = api;
  return &echo_app;
}
