/*
 * hello.c - the smallest useful native asgid app, and the one the benchmarks run.
 *
 * Every HTTP request, whatever its method or path, gets
 *   200, content-type: text/plain; charset=utf-8, content-length: 14, "Hello, world!\n"
 * as one http.response.start and one final http.response.body. The app never asks for the
 * request body: when it calls done without having read it, the server drains it (up to
 * drain_limit) or closes the connection. It declines the lifespan scope, so with
 * lifespan = auto the server runs without one.
 *
 * Everything it sends is static, so a request costs the app no allocation; the server copies
 * headers and body before send returns.
 *
 * Run:  asgid --app build/examples/hello.so --bind 127.0.0.1:8000
 *       curl -i http://127.0.0.1:8000/
 * It never blocks, so it suits worker_class = event (the fastest) as well as thread.
 */
#include <asgid/asgid.h>

#define HEADER(name, value) { name, sizeof(name) - 1, value, sizeof(value) - 1 }

static const char hello_body[] = "Hello, world!\n";

static const asgid_header hello_headers[] = {
    HEADER("content-type", "text/plain; charset=utf-8"),
    HEADER("content-length", "14"),
};

static const asgid_event hello_start = {
    .type = ASGID_HTTP_RESPONSE_START,
    .u.response_start = {.status = 200,
                         .headers = hello_headers,
                         .header_count = sizeof(hello_headers) / sizeof(hello_headers[0])},
};

static const asgid_event hello_body_event = {
    .type = ASGID_HTTP_RESPONSE_BODY,
    .u.response_body = {.body = (const uint8_t *)hello_body,
                        .body_len = sizeof(hello_body) - 1,
                        .more_body = 0},
};

/* The server's function table, kept for the callbacks; set once, before any callback runs. */
static const asgid_server_api *server;

static int hello_call(void *app_data, asgid_request *req, const asgid_scope *scope) {
  if (scope->type != ASGID_SCOPE_HTTP)
    return ASGID_E_UNSUPPORTED;
  /* If the client has already gone, the start fails with ASGID_E_DISCONNECTED and the body
   * would fail too: skip it. done is owed either way. */
  if (server->send(req, &hello_start) == ASGID_OK)
    server->send(req, &hello_body_event);
  server->done(req);
  return ASGID_OK;
}

/* hello never calls receive, so the server never delivers an event; the table has no
 * optional slot for on_event, so it gets one that ignores its argument. */
static void hello_on_event(void *app_data, asgid_request *req, const asgid_event *event) {}

static const asgid_app hello_app = {
    .abi_version = ASGID_ABI_VERSION,
    .struct_size = sizeof(asgid_app),
    .name = "hello",
    .app_data = NULL,
    .call = hello_call,
    .on_event = hello_on_event,
    .destroy = NULL,
};

/* Declared before its definition to satisfy -Wmissing-prototypes: asgid.h only names the
 * entry function's type, since the symbol is the app's choice. */

ASGID_EXPORT const asgid_app *asgid_app_entry(const asgid_server_api *api) {
  server = api;
  return &hello_app;
}
