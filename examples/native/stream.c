/*
 * stream.c - a response sent in parts: "part 1\n" ... "part N\n", each its own
 * http.response.body with more_body = 1, then an empty final body.
 *
 * Shows a streamed response whose length is not known up front: the start carries no
 * content-length, so HTTP/1.1 clients get it chunked (and HTTP/1.0 clients get it ended by
 * the connection closing). It also shows reading a query parameter: query_string is raw
 * bytes with a length, not a C string to hand to strtol.
 *
 * N comes from the query string, parts=N: a decimal number, default 5, capped at 1000;
 * anything else is answered with 400.
 *
 * Run:  asgid --app build/examples/stream.so --bind 127.0.0.1:8000
 *       curl -sS 'http://127.0.0.1:8000/?parts=3'
 * It never blocks, so it suits worker_class = event as well as thread.
 */
#include <asgid/asgid.h>

#include <stdio.h>
#include <string.h>

#define DEFAULT_PARTS 5u
#define MAX_PARTS 1000u

#define HEADER(name, value) { name, sizeof(name) - 1, value, sizeof(value) - 1 }

/* The server's function table, kept for the callbacks; set once, before any callback runs. */
static const asgid_server_api *server;

#include "example_util.h"

/* Sends the whole streamed response. Stops at the first failed send: after
 * ASGID_E_DISCONNECTED every later send would fail the same way. */
static void send_parts(asgid_request *req, unsigned parts) {
  static const asgid_header headers[] = {HEADER("content-type", "text/plain")};
  const asgid_event start = {
      .type = ASGID_HTTP_RESPONSE_START,
      .u.response_start = {.status = 200,
                           .headers = headers,
                           .header_count = sizeof(headers) / sizeof(headers[0])},
  };
  if (server->send(req, &start) != ASGID_OK)
    return;
  for (unsigned part = 1; part <= parts; part++) {
    char line[sizeof("part 4294967295\n")];
    const int line_len = snprintf(line, sizeof(line), "part %u\n", part);
    /* send copies the body before returning, so one stack buffer serves every part. */
    const asgid_event body = {
        .type = ASGID_HTTP_RESPONSE_BODY,
        .u.response_body = {.body = (const uint8_t *)line,
                            .body_len = (size_t)line_len,
                            .more_body = 1},
    };
    if (server->send(req, &body) != ASGID_OK)
      return;
  }
  const asgid_event end = {
      .type = ASGID_HTTP_RESPONSE_BODY,
      .u.response_body = {.body = NULL, .body_len = 0, .more_body = 0},
  };
  server->send(req, &end);
}

static int stream_call(void *app_data, asgid_request *req, const asgid_scope *scope) {
  if (scope->type != ASGID_SCOPE_HTTP)
    return ASGID_E_UNSUPPORTED;
  unsigned parts = DEFAULT_PARTS;
  if (query_number(scope->query_string, scope->query_string_len, "parts", MAX_PARTS, &parts) ==
      QUERY_MALFORMED)
    send_text(req, 400, "parts must be a decimal number\n");
  else
    send_parts(req, parts);
  server->done(req);
  return ASGID_OK;
}

/* stream never calls receive, so the server never delivers an event; the table has no
 * optional slot for on_event, so it gets one that ignores its argument. */
static void stream_on_event(void *app_data, asgid_request *req, const asgid_event *event) {}

static const asgid_app stream_app = {
    .abi_version = ASGID_ABI_VERSION,
    .struct_size = sizeof(asgid_app),
    .name = "stream",
    .app_data = NULL,
    .call = stream_call,
    .on_event = stream_on_event,
    .destroy = NULL,
};

/* Declared before its definition to satisfy -Wmissing-prototypes: asgid.h only names the
 * entry function's type, since the symbol is the app's choice. */

ASGID_EXPORT const asgid_app *asgid_app_entry(const asgid_server_api *api) {
  server = api;
  return &stream_app;
}
