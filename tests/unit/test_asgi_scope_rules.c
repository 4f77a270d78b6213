/*
 * test_asgi_scope_rules.c - the rules of each scope type (src/asgi/scope_http.c,
 * scope_websocket.c, lifespan.c) as an app meets them: through the real server api of a real
 * asgi_request (request.c), whose protocol side is a recording asgi_transport, the seam every
 * protocol layer plugs into. Each test checks what api->send returns and which events reach
 * the transport.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>
#include <uv.h>

#include "asgi/lifespan.h"
#include "asgi/request.h"
#include "asgi/scope_websocket.h"

/* ------------------------------------------------------------------ the recording transport */

typedef struct recorder {
  asgid_event_type sent[32];
  int codes[32]; /* websocket.close: asgi_websocket_close_code */
  int sent_count;
  int wants;
  int released;
} recorder;

static void want_event(void *data) { ((recorder *)data)->wants++; }

static void transport_send(void *data, const asgid_event *event) {
  recorder *r = data;
  assert_true(r->sent_count < 32);
  r->codes[r->sent_count] =
      event->type == ASGID_WEBSOCKET_CLOSE ? asgi_websocket_close_code(event) : 0;
  r->sent[r->sent_count++] = event->type;
}

static void release(void *data) { ((recorder *)data)->released = 1; }

static int wait_writable(void *data) {
  (void)data;
  return 0;
}

static const asgi_transport recording_transport = {.want_event = want_event,
                                                   .send = transport_send,
                                                   .release = release,
                                                   .wait_writable = wait_writable};

/* The app: accepts every scope, and counts the events delivered to it. */
static int delivered;

static int app_call(void *app_data, asgid_request *req, const asgid_scope *scope) {
  (void)app_data;
  (void)req;
  (void)scope;
  return ASGID_OK;
}

static void app_on_event(void *app_data, asgid_request *req, const asgid_event *event) {
  (void)app_data;
  (void)req;
  (void)event;
  delivered++;
}

static const asgid_app test_app = {.abi_version = ASGID_ABI_VERSION,
                                   .struct_size = sizeof(asgid_app),
                                   .name = "rules",
                                   .call = app_call,
                                   .on_event = app_on_event};

/* The `event` worker class: jobs run at once on the loop thread. */
static void run_inline(asgi_context *ctx, asgi_job *job) {
  (void)ctx;
  asgi_job_run(job);
  asgi_job_finished(job);
}

typedef struct fixture {
  uv_loop_t loop;
  asgi_context ctx;
  asgid_request req;
  recorder rec;
  const asgid_server_api *api;
} fixture;

static const char *const offered[] = {"chat.v2", "superchat"};

static int setup(void **state) {
  static fixture f;
  memset(&f, 0, sizeof f);
  delivered = 0;
  if (uv_loop_init(&f.loop) != 0) return -1;
  if (asgi_context_init(&f.ctx, &f.loop, &test_app, run_inline, 0) != 0) return -1;
  f.api = asgi_server_api();
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  asgi_context_close(&f->ctx);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  return uv_loop_close(&f->loop) == 0 ? 0 : -1;
}

static asgid_request *start(fixture *f, asgid_scope_type type) {
  asgi_request_init(&f->req, &f->ctx, &recording_transport, &f->rec);
  if (type == ASGID_SCOPE_WEBSOCKET) {
    asgi_websocket_scope_init(&f->req.scope);
    f->req.scope.subprotocols = offered;
    f->req.scope.subprotocol_count = 2;
  } else {
    f->req.scope.type = type;
  }
  asgi_request_start(&f->req);
  return &f->req;
}

static int send_event(fixture *f, asgid_event event) { return f->api->send(&f->req, &event); }

static asgid_event accept_event(const char *subprotocol, const asgid_header *headers,
                                size_t count) {
  return (asgid_event){.type = ASGID_WEBSOCKET_ACCEPT,
                       .u.websocket_accept = {subprotocol, headers, count}};
}

static asgid_event message(const char *data, size_t len, int text) {
  return (asgid_event){.type = ASGID_WEBSOCKET_SEND,
                       .u.websocket_message = {(const uint8_t *)data, len, text}};
}

static asgid_event close_event(int code, const char *reason, size_t len) {
  return (asgid_event){.type = ASGID_WEBSOCKET_CLOSE, .u.websocket_close = {code, reason, len}};
}

static asgid_event denial_start(int status) {
  return (asgid_event){.type = ASGID_WEBSOCKET_HTTP_RESPONSE_START,
                       .u.response_start = {.status = status}};
}

static asgid_event denial_body(int more) {
  return (asgid_event){.type = ASGID_WEBSOCKET_HTTP_RESPONSE_BODY,
                       .u.response_body = {(const uint8_t *)"no", 2, more}};
}

#define HEADER(name, value) {name, sizeof(name) - 1, value, sizeof(value) - 1}

/* ------------------------------------------------------------------ http */

static void test_http_status_and_order(void **state) {
  fixture *f = *state;
  start(f, ASGID_SCOPE_HTTP);
  asgid_event body = {.type = ASGID_HTTP_RESPONSE_BODY};
  assert_int_equal(send_event(f, body), ASGID_E_INVALID); /* before the start */
  /* a 1xx is not a final response; the old docs said 100..999, the code never did */
  assert_int_equal(send_event(f, (asgid_event){.type = ASGID_HTTP_RESPONSE_START,
                                               .u.response_start.status = 199}),
                   ASGID_E_INVALID);
  assert_int_equal(send_event(f, (asgid_event){.type = ASGID_HTTP_RESPONSE_START,
                                               .u.response_start.status = 1000}),
                   ASGID_E_INVALID);
  asgid_header length[] = {HEADER("Content-Length", "2")};
  asgid_event start_event = {.type = ASGID_HTTP_RESPONSE_START,
                             .u.response_start = {200, length, 1}};
  assert_int_equal(send_event(f, start_event), ASGID_OK);
  assert_int_equal(send_event(f, start_event), ASGID_E_INVALID); /* twice */
  asgid_event three = {.type = ASGID_HTTP_RESPONSE_BODY,
                       .u.response_body = {(const uint8_t *)"abc", 3, 0}};
  assert_int_equal(send_event(f, three), ASGID_E_INVALID); /* past the content-length */
  three.u.response_body.body_len = 2;
  assert_int_equal(send_event(f, three), ASGID_OK);
  assert_int_equal(send_event(f, body), ASGID_E_INVALID); /* after the last */
  assert_int_equal(f->rec.sent_count, 2);
  f->api->done(&f->req);
  assert_int_equal(f->rec.released, 1);
}

static void test_http_refuses_other_scopes_events(void **state) {
  fixture *f = *state;
  start(f, ASGID_SCOPE_HTTP);
  assert_int_equal(send_event(f, accept_event(NULL, NULL, 0)), ASGID_E_INVALID);
  assert_int_equal(send_event(f, denial_start(403)), ASGID_E_INVALID);
  assert_int_equal(send_event(f, (asgid_event){.type = ASGID_LIFESPAN_STARTUP_COMPLETE}),
                   ASGID_E_INVALID);
  /* server -> app events are not the app's to send */
  assert_int_equal(send_event(f, (asgid_event){.type = ASGID_HTTP_REQUEST}), ASGID_E_INVALID);
  assert_int_equal(send_event(f, (asgid_event){.type = (asgid_event_type)9}), ASGID_E_INVALID);
  assert_int_equal(f->rec.sent_count, 0);
  f->api->done(&f->req);
}

/* ------------------------------------------------------------------ websocket */

static void test_websocket_scope_constants(void **state) {
  fixture *f = *state;
  asgid_request *req = start(f, ASGID_SCOPE_WEBSOCKET);
  assert_int_equal(req->scope.type, ASGID_SCOPE_WEBSOCKET);
  assert_string_equal(req->scope.type_name, "websocket");
  assert_string_equal(req->scope.spec_version, "2.5");
  assert_string_equal(req->scope.asgi_version, "3.0");
  assert_string_equal(req->scope.http_version, "1.1");
  assert_string_equal(req->scope.scheme, "ws");
  assert_null(req->scope.method);
  assert_int_equal(asgi_websocket_phase_of(req), ASGI_WEBSOCKET_HANDSHAKE);
  f->api->done(req);
}

/* Many apps accept before they receive websocket.connect: no receive is needed first. */
static void test_websocket_accept_before_connect_then_messages(void **state) {
  fixture *f = *state;
  asgid_request *req = start(f, ASGID_SCOPE_WEBSOCKET);
  assert_int_equal(send_event(f, message("hi", 2, 1)), ASGID_E_INVALID); /* before accept */
  assert_int_equal(send_event(f, accept_event(NULL, NULL, 0)), ASGID_OK);
  assert_int_equal(asgi_websocket_phase_of(req), ASGI_WEBSOCKET_OPEN);
  assert_int_equal(send_event(f, accept_event(NULL, NULL, 0)), ASGID_E_INVALID); /* twice */
  assert_int_equal(send_event(f, message("h\xc3\xa9", 3, 1)), ASGID_OK);
  assert_int_equal(send_event(f, message("", 0, 1)), ASGID_OK);  /* empty text */
  assert_int_equal(send_event(f, message(NULL, 0, 0)), ASGID_OK); /* empty bytes */
  assert_int_equal(send_event(f, message("\xff\xfe", 2, 0)), ASGID_OK); /* bytes: any */
  assert_int_equal(send_event(f, message("\xff\xfe", 2, 1)), ASGID_E_INVALID);
  assert_int_equal(send_event(f, message("\xc3", 1, 1)), ASGID_E_INVALID); /* cut short */
  assert_int_equal(send_event(f, message("\xed\xa0\x80", 3, 1)), ASGID_E_INVALID); /* surrogate */
  assert_int_equal(send_event(f, message(NULL, 4, 0)), ASGID_E_INVALID);
  assert_int_equal(send_event(f, denial_start(403)), ASGID_E_INVALID); /* after accept */
  assert_int_equal(f->rec.sent_count, 5);
  assert_int_equal(f->rec.sent[0], ASGID_WEBSOCKET_ACCEPT);
  assert_int_equal(f->rec.sent[4], ASGID_WEBSOCKET_SEND);
  f->api->done(req);
  assert_int_equal(asgi_websocket_phase_of(req), ASGI_WEBSOCKET_OPEN); /* the server closes 1000 */
}

static void test_websocket_accept_subprotocol_and_headers(void **state) {
  fixture *f = *state;
  start(f, ASGID_SCOPE_WEBSOCKET);
  assert_int_equal(send_event(f, accept_event("chat", NULL, 0)), ASGID_E_INVALID);
  assert_int_equal(send_event(f, accept_event("Superchat", NULL, 0)), ASGID_E_INVALID);
  asgid_header protocol[] = {HEADER("Sec-WebSocket-Protocol", "chat.v2")};
  asgid_header extensions[] = {HEADER("sec-websocket-extensions", "permessage-deflate")};
  asgid_header upgrade[] = {HEADER("Upgrade", "websocket")};
  asgid_header connection[] = {HEADER("connection", "upgrade")};
  asgid_header bad_value[] = {HEADER("x-a", "1\r\nx-b: 2")};
  asgid_header bad_name[] = {HEADER("x a", "1")};
  assert_int_equal(send_event(f, accept_event("superchat", protocol, 1)), ASGID_E_INVALID);
  assert_int_equal(send_event(f, accept_event(NULL, extensions, 1)), ASGID_E_INVALID);
  assert_int_equal(send_event(f, accept_event(NULL, upgrade, 1)), ASGID_E_INVALID);
  assert_int_equal(send_event(f, accept_event(NULL, connection, 1)), ASGID_E_INVALID);
  assert_int_equal(send_event(f, accept_event(NULL, bad_value, 1)), ASGID_E_INVALID);
  assert_int_equal(send_event(f, accept_event(NULL, bad_name, 1)), ASGID_E_INVALID);
  assert_int_equal(send_event(f, accept_event(NULL, NULL, 1)), ASGID_E_INVALID);
  assert_int_equal(f->rec.sent_count, 0);
  asgid_header fine[] = {HEADER("set-cookie", "a=1"), HEADER("x-sec-websocket", "ok"),
                         HEADER("upgrade-insecure-requests", "1")};
  assert_int_equal(send_event(f, accept_event("superchat", fine, 3)), ASGID_OK);
  assert_int_equal(f->rec.sent_count, 1);
  f->api->done(&f->req);
}

static void test_websocket_subprotocol_none_offered(void **state) {
  fixture *f = *state;
  start(f, ASGID_SCOPE_WEBSOCKET);
  f->req.scope.subprotocol_count = 0;
  assert_int_equal(send_event(f, accept_event("chat.v2", NULL, 0)), ASGID_E_INVALID);
  assert_int_equal(send_event(f, accept_event(NULL, NULL, 0)), ASGID_OK);
  f->api->done(&f->req);
}

static void test_websocket_close_codes_and_reasons(void **state) {
  fixture *f = *state;
  start(f, ASGID_SCOPE_WEBSOCKET);
  assert_int_equal(send_event(f, accept_event(NULL, NULL, 0)), ASGID_OK);
  static const int refused[] = {-1, 1, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
    if (send_event(f, close_event(refused[i], NULL, 0)) != ASGID_E_INVALID)
      fail_msg("close code %d accepted", refused[i]);
  char reason[125];
  memset(reason, 'r', sizeof reason);
  assert_int_equal(send_event(f, close_event(4000, reason, 124)), ASGID_E_INVALID);
  assert_int_equal(send_event(f, close_event(4000, "\xc3", 1)), ASGID_E_INVALID);
  assert_int_equal(send_event(f, close_event(4000, NULL, 3)), ASGID_E_INVALID);
  assert_int_equal(f->rec.sent_count, 1);
  assert_int_equal(send_event(f, close_event(4999, reason, 123)), ASGID_OK);
  assert_int_equal(f->rec.sent[1], ASGID_WEBSOCKET_CLOSE);
  assert_int_equal(f->rec.codes[1], 4999);
  assert_int_equal(asgi_websocket_phase_of(&f->req), ASGI_WEBSOCKET_FINISHED);
  f->api->done(&f->req);
}

static void test_websocket_close_code_zero_means_1000(void **state) {
  fixture *f = *state;
  start(f, ASGID_SCOPE_WEBSOCKET);
  assert_int_equal(send_event(f, accept_event(NULL, NULL, 0)), ASGID_OK);
  assert_int_equal(send_event(f, close_event(0, NULL, 0)), ASGID_OK);
  assert_int_equal(f->rec.codes[1], 1000);
  f->api->done(&f->req);
}

/* Every accepted code is sent: the registered ones and the application range. */
static void test_websocket_close_codes_accepted(void **state) {
  fixture *f = *state;
  static const int accepted[] = {1000, 1001, 1002, 1003, 1007, 1008, 1011, 1012, 1013,
                                 1014, 3000, 4999};
  for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
    memset(&f->rec, 0, sizeof f->rec);
    start(f, ASGID_SCOPE_WEBSOCKET);
    assert_int_equal(send_event(f, accept_event(NULL, NULL, 0)), ASGID_OK);
    if (send_event(f, close_event(accepted[i], "bye", 3)) != ASGID_OK)
      fail_msg("close code %d refused", accepted[i]);
    f->api->done(&f->req);
  }
}

/* After the app's close, and after the client left, every send says the connection is gone. */
static void test_websocket_after_close_is_disconnected(void **state) {
  fixture *f = *state;
  start(f, ASGID_SCOPE_WEBSOCKET);
  assert_int_equal(send_event(f, accept_event(NULL, NULL, 0)), ASGID_OK);
  assert_int_equal(send_event(f, close_event(1000, NULL, 0)), ASGID_OK);
  assert_int_equal(send_event(f, message("x", 1, 1)), ASGID_E_DISCONNECTED);
  assert_int_equal(send_event(f, close_event(1000, NULL, 0)), ASGID_E_DISCONNECTED);
  assert_int_equal(send_event(f, accept_event(NULL, NULL, 0)), ASGID_E_DISCONNECTED);
  assert_int_equal(f->rec.sent_count, 2);
  f->api->done(&f->req);
}

static void test_websocket_after_client_left_is_disconnected(void **state) {
  fixture *f = *state;
  start(f, ASGID_SCOPE_WEBSOCKET);
  assert_int_equal(send_event(f, accept_event(NULL, NULL, 0)), ASGID_OK);
  assert_int_equal(f->api->receive(&f->req), ASGID_OK);
  assert_int_equal(f->rec.wants, 1);
  asgid_event disconnect = {.type = ASGID_WEBSOCKET_DISCONNECT,
                            .u.websocket_close = {.code = 1006}};
  asgi_request_deliver(&f->req, &disconnect);
  assert_int_equal(delivered, 1);
  /* the session did not call asgi_request_disconnect: the delivery itself is enough */
  assert_int_equal(send_event(f, message("x", 1, 0)), ASGID_E_DISCONNECTED);
  /* still a programming error, not a disconnect: */
  assert_int_equal(send_event(f, denial_start(500)), ASGID_E_INVALID);
  assert_int_equal(send_event(f, close_event(1000, NULL, 0)), ASGID_E_DISCONNECTED);
  assert_int_equal(f->rec.sent_count, 1);
  f->api->done(&f->req);
}

static void test_websocket_client_left_before_accept(void **state) {
  fixture *f = *state;
  start(f, ASGID_SCOPE_WEBSOCKET);
  asgi_request_disconnect(&f->req);
  assert_int_equal(send_event(f, accept_event(NULL, NULL, 0)), ASGID_E_DISCONNECTED);
  assert_int_equal(f->rec.sent_count, 0);
  f->api->done(&f->req);
}

/* websocket.close before accept refuses the handshake (the session answers 403). */
static void test_websocket_close_before_accept(void **state) {
  fixture *f = *state;
  start(f, ASGID_SCOPE_WEBSOCKET);
  assert_int_equal(send_event(f, close_event(1008, NULL, 0)), ASGID_OK);
  assert_int_equal(asgi_websocket_phase_of(&f->req), ASGI_WEBSOCKET_FINISHED);
  assert_int_equal(send_event(f, accept_event(NULL, NULL, 0)), ASGID_E_DISCONNECTED);
  assert_int_equal(f->rec.sent_count, 1);
  f->api->done(&f->req);
}

static void test_websocket_denial_response(void **state) {
  fixture *f = *state;
  start(f, ASGID_SCOPE_WEBSOCKET);
  assert_int_equal(send_event(f, denial_body(0)), ASGID_E_INVALID); /* before its start */
  assert_int_equal(send_event(f, denial_start(101)), ASGID_E_INVALID);
  assert_int_equal(send_event(f, denial_start(403)), ASGID_OK);
  assert_int_equal(asgi_websocket_phase_of(&f->req), ASGI_WEBSOCKET_DENYING);
  assert_int_equal(send_event(f, denial_start(403)), ASGID_E_INVALID);
  assert_int_equal(send_event(f, accept_event(NULL, NULL, 0)), ASGID_E_INVALID);
  assert_int_equal(send_event(f, close_event(1000, NULL, 0)), ASGID_E_INVALID);
  assert_int_equal(send_event(f, (asgid_event){.type = ASGID_HTTP_RESPONSE_BODY}),
                   ASGID_E_INVALID); /* the http event, not the denial's */
  assert_int_equal(send_event(f, denial_body(1)), ASGID_OK);
  assert_int_equal(send_event(f, denial_body(0)), ASGID_OK);
  assert_int_equal(asgi_websocket_phase_of(&f->req), ASGI_WEBSOCKET_FINISHED);
  assert_int_equal(send_event(f, denial_body(0)), ASGID_E_DISCONNECTED);
  assert_int_equal(f->rec.sent_count, 3);
  f->api->done(&f->req);
}

static void test_websocket_denial_content_length(void **state) {
  fixture *f = *state;
  start(f, ASGID_SCOPE_WEBSOCKET);
  asgid_header length[] = {HEADER("content-length", "1")};
  asgid_event start_event = {.type = ASGID_WEBSOCKET_HTTP_RESPONSE_START,
                             .u.response_start = {403, length, 1}};
  assert_int_equal(send_event(f, start_event), ASGID_OK);
  assert_int_equal(send_event(f, denial_body(0)), ASGID_E_INVALID); /* 2 bytes > 1 */
  f->api->done(&f->req);
  assert_int_equal(asgi_websocket_phase_of(&f->req), ASGI_WEBSOCKET_DENYING);
}

static void test_app_capability(void **state) {
  (void)state;
  asgid_app app = test_app;
  assert_false(asgi_app_handles_websocket(&app));
  app.capabilities = ASGID_CAP_WEBSOCKET;
  assert_true(asgi_app_handles_websocket(&app));
  /* an app built before `capabilities` existed: whatever lies past its table is not read */
  app.struct_size = offsetof(asgid_app, capabilities);
  assert_false(asgi_app_handles_websocket(&app));
}

/* ------------------------------------------------------------------ lifespan */

static void test_lifespan_answers_follow_events(void **state) {
  fixture *f = *state;
  start(f, ASGID_SCOPE_LIFESPAN);
  asgid_event complete = {.type = ASGID_LIFESPAN_STARTUP_COMPLETE};
  asgid_event shutdown_complete = {.type = ASGID_LIFESPAN_SHUTDOWN_COMPLETE};
  int state_value = 1;
  assert_int_equal(send_event(f, complete), ASGID_E_INVALID); /* nothing to answer yet */
  assert_int_equal(f->api->set_state(&f->req, &state_value), ASGID_E_INVALID);
  assert_int_equal(f->api->receive(&f->req), ASGID_OK);
  asgid_event startup = {.type = ASGID_LIFESPAN_STARTUP};
  asgi_request_deliver(&f->req, &startup);
  assert_int_equal(f->api->set_state(&f->req, &state_value), ASGID_OK);
  assert_int_equal(send_event(f, shutdown_complete), ASGID_E_INVALID);
  assert_int_equal(send_event(f, complete), ASGID_OK);
  assert_int_equal(send_event(f, complete), ASGID_E_INVALID); /* answered once */
  assert_int_equal(f->api->set_state(&f->req, &state_value), ASGID_E_INVALID);
  assert_int_equal(f->api->receive(&f->req), ASGID_OK);
  asgid_event shutdown = {.type = ASGID_LIFESPAN_SHUTDOWN};
  asgi_request_deliver(&f->req, &shutdown);
  assert_int_equal(send_event(f, (asgid_event){.type = ASGID_LIFESPAN_SHUTDOWN_FAILED}),
                   ASGID_OK);
  assert_int_equal(f->rec.sent_count, 2);
  f->api->done(&f->req);
  assert_int_equal(send_event(f, complete), ASGID_E_INVALID); /* after done */
}

int main(void) {
#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
  const struct CMUnitTest tests[] = {
      TEST(test_http_status_and_order),
      TEST(test_http_refuses_other_scopes_events),
      TEST(test_websocket_scope_constants),
      TEST(test_websocket_accept_before_connect_then_messages),
      TEST(test_websocket_accept_subprotocol_and_headers),
      TEST(test_websocket_subprotocol_none_offered),
      TEST(test_websocket_close_codes_and_reasons),
      TEST(test_websocket_close_code_zero_means_1000),
      TEST(test_websocket_close_codes_accepted),
      TEST(test_websocket_after_close_is_disconnected),
      TEST(test_websocket_after_client_left_is_disconnected),
      TEST(test_websocket_client_left_before_accept),
      TEST(test_websocket_close_before_accept),
      TEST(test_websocket_denial_response),
      TEST(test_websocket_denial_content_length),
      cmocka_unit_test(test_app_capability),
      TEST(test_lifespan_answers_follow_events),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
