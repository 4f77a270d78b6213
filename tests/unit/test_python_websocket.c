/*
 * test_python_websocket.c - the Python adapter's websocket scopes end to end on the ASGI side:
 * the real adapter (CPython, the asyncio loop driving libuv, runners, request objects) runs
 * tests/unit/python/websocket_adapter_app.py (on asyncio, or uvloop with ASGID_TEST_UVLOOP=1)
 * for websocket requests whose protocol side is a scripted asgi_transport, the seam the
 * WebSocket session plugs into. The script delivers
 * websocket.connect / .receive / .disconnect when the app asks; the transport records what
 * the app's sends let through. Checked: the scope dict (ASGI 2.5), messages both ways with
 * their type (empty ones too), ClientDisconnected (an OSError) after the client left, the
 * refusals of invalid messages, the denial response, how an app that raises ends (500 before
 * accept, close 1011 after) and what reaches the error log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "apps/python/python.h"
#include "log/log.h"
#include "asgi/request.h"
#include "asgi/scope_websocket.h"
#include "settings/settings.h"
#include "worker/worker_class.h"

/* ------------------------------------------------------------------ scenarios */

#define MAX_RECORDS 12

typedef struct record {
  asgid_event_type type;
  int text;      /* websocket.send */
  int code;      /* websocket.close: its code; denial start: the status */
  int more_body; /* denial body */
  char data[512]; /* message, close reason, denial body, or accept's subprotocol */
  size_t len;
  char header[64]; /* the first header, "name: value" */
} record;

typedef struct scenario {
  const char *path;
  asgid_event script[6]; /* delivered one per receive */
  int script_len;
  /* filled as it runs */
  int delivered;
  record records[MAX_RECORDS];
  int count;
  int released;
  asgi_websocket_phase phase_at_release;
} scenario;

#define TEXT(s) {.type = ASGID_WEBSOCKET_RECEIVE, .u.websocket_message = {(const uint8_t *)s, sizeof s - 1, 1}}
#define BYTES(s) {.type = ASGID_WEBSOCKET_RECEIVE, .u.websocket_message = {(const uint8_t *)s, sizeof s - 1, 0}}
#define CONNECT {.type = ASGID_WEBSOCKET_CONNECT}
#define DISCONNECT(c, r) {.type = ASGID_WEBSOCKET_DISCONNECT, .u.websocket_close = {c, r, sizeof r - 1}}

static scenario scenarios[] = {
    {.path = "/scope", .script = {CONNECT}, .script_len = 1},
    {.path = "/echo",
     .script = {CONNECT, TEXT("h\xc3\xa9llo"), TEXT(""), BYTES(""), BYTES("\x00\xff"),
                DISCONNECT(1001, "gone")},
     .script_len = 6},
    {.path = "/report", .script = {CONNECT}, .script_len = 1},
    {.path = "/raise-before-accept", .script = {CONNECT}, .script_len = 1},
    {.path = "/raise-after-accept", .script = {CONNECT}, .script_len = 1},
    {.path = "/disconnected-escapes", .script = {CONNECT, DISCONNECT(1006, "")}, .script_len = 2},
    {.path = "/invalid", .script = {CONNECT}, .script_len = 1},
    {.path = "/denial", .script = {CONNECT}, .script_len = 1},
    {.path = "/returns", .script = {CONNECT}, .script_len = 1},
};
#define SCENARIO_COUNT (sizeof scenarios / sizeof scenarios[0])

/* ------------------------------------------------------------------ the scripted transport */

static uv_loop_t loop;
static asgi_context ctx;
static asgid_request request;
static uv_timer_t deliver_timer, guard_timer;
static size_t current;
static int timed_out;
static char error_log_path[] = "/tmp/asgid-test-python-websocket-XXXXXX";
static char *error_log; /* what the run wrote to its error log */
static const char *const offered[] = {"chat", "superchat"};
static const asgid_header scope_headers[] = {{"origin", 6, "http://x", 8}};

static void start_scenario(void);

static void finish_all(void) {
  uv_close((uv_handle_t *)&deliver_timer, NULL);
  uv_close((uv_handle_t *)&guard_timer, NULL);
}

static void on_deliver(uv_timer_t *timer) {
  (void)timer;
  scenario *s = &scenarios[current];
  if (s->delivered < s->script_len) asgi_request_deliver(&request, &s->script[s->delivered++]);
}

static void want_event(void *data) {
  (void)data;
  uv_timer_start(&deliver_timer, on_deliver, 0, 0); /* later, never inside receive */
}

static void copy_bytes(record *r, const void *p, size_t len) {
  r->len = len < sizeof r->data ? len : sizeof r->data;
  if (r->len) memcpy(r->data, p, r->len);
}

static void transport_send(void *data, const asgid_event *event) {
  (void)data;
  scenario *s = &scenarios[current];
  if (s->count == MAX_RECORDS) return;
  record *r = &s->records[s->count++];
  r->type = event->type;
  const asgid_header *h = NULL;
  switch (event->type) {
    case ASGID_WEBSOCKET_ACCEPT:
      if (event->u.websocket_accept.subprotocol)
        copy_bytes(r, event->u.websocket_accept.subprotocol,
                   strlen(event->u.websocket_accept.subprotocol));
      if (event->u.websocket_accept.header_count) h = event->u.websocket_accept.headers;
      break;
    case ASGID_WEBSOCKET_SEND:
      r->text = event->u.websocket_message.text;
      copy_bytes(r, event->u.websocket_message.data, event->u.websocket_message.len);
      break;
    case ASGID_WEBSOCKET_CLOSE:
      r->code = asgi_websocket_close_code(event);
      copy_bytes(r, event->u.websocket_close.reason, event->u.websocket_close.reason_len);
      break;
    case ASGID_WEBSOCKET_HTTP_RESPONSE_START:
      r->code = event->u.response_start.status;
      if (event->u.response_start.header_count) h = event->u.response_start.headers;
      break;
    case ASGID_WEBSOCKET_HTTP_RESPONSE_BODY:
      r->more_body = event->u.response_body.more_body;
      copy_bytes(r, event->u.response_body.body, event->u.response_body.body_len);
      break;
    default:
      break;
  }
  if (h)
    snprintf(r->header, sizeof r->header, "%.*s: %.*s", (int)h->name_len, h->name,
             (int)h->value_len, h->value);
}

static void release(void *data) {
  (void)data;
  scenario *s = &scenarios[current];
  s->released = 1;
  s->phase_at_release = asgi_websocket_phase_of(&request);
  current++;
  if (current < SCENARIO_COUNT)
    start_scenario();
  else
    finish_all();
}

static int wait_writable(void *data) {
  (void)data;
  return 0;
}

static const asgi_transport scripted = {.want_event = want_event,
                                        .send = transport_send,
                                        .release = release,
                                        .wait_writable = wait_writable};

static void start_scenario(void) {
  scenario *s = &scenarios[current];
  asgi_request_init(&request, &ctx, &scripted, NULL);
  asgid_scope *scope = &request.scope;
  asgi_websocket_scope_init(scope);
  scope->path = scope->raw_path = s->path;
  scope->path_len = scope->raw_path_len = strlen(s->path);
  scope->query_string = "a=1";
  scope->query_string_len = 3;
  scope->root_path = "";
  scope->headers = scope_headers;
  scope->header_count = 1;
  scope->client = (asgid_address){1, "127.0.0.1", 5555};
  scope->server = (asgid_address){1, "127.0.0.1", 8000};
  scope->subprotocols = offered;
  scope->subprotocol_count = 2;
  asgi_request_start(&request);
}

static void on_guard(uv_timer_t *timer) {
  (void)timer;
  timed_out = 1; /* a scenario hangs: stop, and fail below */
  if (!uv_is_closing((uv_handle_t *)&deliver_timer)) finish_all();
}

static void no_deferred_work(void *arg) { (void)arg; }

/* Runs every scenario through the adapter; the tests below read what they recorded. */
static int run_scenarios(void **state) {
  (void)state;
  const char *source_dir = getenv("ASGID_SOURCE_DIR");
  if (!source_dir) {
    fprintf(stderr, "ASGID_SOURCE_DIR is not set: run this test with ctest\n");
    return -1;
  }
  asgid_settings settings;
  if (asgid_settings_init_defaults(&settings) != 0) return -1;
  int log_fd = mkstemp(error_log_path);
  if (log_fd < 0) return -1;
  close(log_fd);
  char ini[4096];
  snprintf(ini, sizeof ini,
           "[app]\napp = websocket_adapter_app:app\napp_dir = %s/tests/unit/python\n"
           "[log]\nerror_log = %s\n",
           source_dir, error_log_path);
  if (asgid_settings_apply_ini(&settings, ini, "test", ASGID_SOURCE_FILE, stderr) != 0) return -1;
  if (log_open(&settings) != 0) return -1;
  if (uv_loop_init(&loop) != 0) return -1;
  char err[1024] = "";
  /* ctest runs it twice: on asyncio, and with ASGID_TEST_UVLOOP=1 on uvloop */
  int use_uvloop = getenv("ASGID_TEST_UVLOOP") != NULL;
  const asgid_app *app =
      python_app_load(&settings, asgi_server_api(), use_uvloop, err, sizeof err);
  if (!app) {
    fprintf(stderr, "cannot load the app: %s\n", err);
    return -1;
  }
  if (!asgi_app_handles_websocket(app)) {
    fprintf(stderr, "the Python adapter does not declare ASGID_CAP_WEBSOCKET\n");
    return -1;
  }
  if (asgi_context_init(&ctx, &loop, app, worker_class_dispatch_inline, 0) != 0)
    return -1;
  uv_timer_init(&loop, &deliver_timer);
  uv_timer_init(&loop, &guard_timer);
  uv_timer_start(&guard_timer, on_guard, 20000, 0);
  start_scenario();
  python_loop_run(&loop, no_deferred_work, no_deferred_work, NULL);
  asgi_context_close(&ctx);
  uv_run(&loop, UV_RUN_DEFAULT);
  python_app_unload();
  uv_loop_close(&loop);
  log_close();
  asgid_settings_free(&settings);
  FILE *f = fopen(error_log_path, "r");
  size_t size = 0;
  FILE *text = open_memstream(&error_log, &size);
  char chunk[4096];
  size_t got;
  while (f && (got = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, got, text);
  fclose(text);
  if (f) fclose(f);
  unlink(error_log_path);
  return 0;
}

static int free_log(void **state) {
  (void)state;
  free(error_log);
  return 0;
}

/* ------------------------------------------------------------------ what the app did */

static scenario *find(const char *path) {
  assert_false(timed_out);
  for (size_t i = 0; i < SCENARIO_COUNT; i++)
    if (strcmp(scenarios[i].path, path) == 0) {
      assert_true(scenarios[i].released);
      return &scenarios[i];
    }
  fail_msg("no scenario %s", path);
  return NULL;
}

static void assert_record(const record *r, asgid_event_type type, const char *data,
                          size_t len) {
  assert_int_equal(r->type, type);
  assert_int_equal(r->len, len);
  assert_memory_equal(r->data, data, len);
}

#define ASSERT_TEXT(r, s) \
  do { assert_record((r), ASGID_WEBSOCKET_SEND, s, sizeof s - 1); assert_int_equal((r)->text, 1); } while (0)
#define ASSERT_BYTES(r, s) \
  do { assert_record((r), ASGID_WEBSOCKET_SEND, s, sizeof s - 1); assert_int_equal((r)->text, 0); } while (0)

static void test_scope_dict(void **state) {
  (void)state;
  scenario *s = find("/scope");
  assert_int_equal(s->count, 3);
  assert_record(&s->records[0], ASGID_WEBSOCKET_ACCEPT, "superchat", 9);
  assert_string_equal(s->records[0].header, "x-app: 1");
  ASSERT_TEXT(&s->records[1],
              "{\"asgi\": {\"spec_version\": \"2.5\", \"version\": \"3.0\"}, "
              "\"client\": [\"127.0.0.1\", 5555], "
              "\"extensions\": {\"websocket.http.response\": {}}, "
              "\"headers\": [[\"origin\", \"http://x\"]], \"http_version\": \"1.1\", "
              "\"no_method\": true, \"path\": \"/scope\", \"query_string\": \"a=1\", "
              "\"raw_path\": \"/scope\", \"root_path\": \"\", \"scheme\": \"ws\", "
              "\"server\": [\"127.0.0.1\", 8000], \"state\": \"dict\", "
              "\"subprotocols\": [\"chat\", \"superchat\"], \"type\": \"websocket\"}");
  assert_record(&s->records[2], ASGID_WEBSOCKET_CLOSE, "done", 4);
  assert_int_equal(s->records[2].code, 4000);
  assert_int_equal(s->phase_at_release, ASGI_WEBSOCKET_FINISHED);
}

/* Messages keep their type both ways, empty ones included. */
static void test_echo_keeps_types_and_empty_messages(void **state) {
  (void)state;
  scenario *s = find("/echo");
  assert_int_equal(s->count, 5);
  assert_int_equal(s->records[0].type, ASGID_WEBSOCKET_ACCEPT);
  assert_int_equal(s->records[0].len, 0); /* no subprotocol */
  ASSERT_TEXT(&s->records[1], "h\xc3\xa9llo");
  ASSERT_TEXT(&s->records[2], "");
  ASSERT_BYTES(&s->records[3], "");
  ASSERT_BYTES(&s->records[4], "\x00\xff");
  assert_int_equal(s->delivered, 6);
}

/* What the echo app saw: websocket.connect first, the disconnect's code and reason, and
 * ClientDisconnected (an OSError) from send and close after it. */
static void test_after_disconnect_send_raises_client_disconnected(void **state) {
  (void)state;
  scenario *s = find("/report");
  assert_int_equal(s->count, 2);
  ASSERT_TEXT(&s->records[1],
              "{\"close_raised\": \"ClientDisconnected\", \"disconnect\": [1001, \"gone\"], "
              "\"first\": \"websocket.connect\", \"raised\": [\"ClientDisconnected\", true]}");
  /* it returned without closing: the server owes the client a close 1000 */
  assert_int_equal(s->phase_at_release, ASGI_WEBSOCKET_OPEN);
}

static void test_raise_before_accept_is_500(void **state) {
  (void)state;
  scenario *s = find("/raise-before-accept");
  assert_int_equal(s->count, 2);
  assert_int_equal(s->records[0].type, ASGID_WEBSOCKET_HTTP_RESPONSE_START);
  assert_int_equal(s->records[0].code, 500);
  assert_string_equal(s->records[0].header, "content-type: text/plain; charset=utf-8");
  assert_record(&s->records[1], ASGID_WEBSOCKET_HTTP_RESPONSE_BODY,
                "500 Internal Server Error\n", 26);
  assert_int_equal(s->records[1].more_body, 0);
  assert_int_equal(s->phase_at_release, ASGI_WEBSOCKET_FINISHED);
}

static void test_raise_after_accept_is_1011(void **state) {
  (void)state;
  scenario *s = find("/raise-after-accept");
  assert_int_equal(s->count, 2);
  assert_int_equal(s->records[0].type, ASGID_WEBSOCKET_ACCEPT);
  assert_int_equal(s->records[1].type, ASGID_WEBSOCKET_CLOSE);
  assert_int_equal(s->records[1].code, 1011);
}

/* ClientDisconnected escaping the app after the client left: nothing more is sent. */
static void test_client_disconnected_escaping(void **state) {
  (void)state;
  scenario *s = find("/disconnected-escapes");
  assert_int_equal(s->count, 1);
  assert_int_equal(s->records[0].type, ASGID_WEBSOCKET_ACCEPT);
  assert_int_equal(s->delivered, 2);
}

static void test_invalid_messages_raise(void **state) {
  (void)state;
  scenario *s = find("/invalid");
  assert_int_equal(s->count, 3);
  assert_int_equal(s->records[0].type, ASGID_WEBSOCKET_ACCEPT);
  ASSERT_TEXT(&s->records[1], "RuntimeError,RuntimeError,RuntimeError,ok,ValueError,ValueError,"
                              "RuntimeError,RuntimeError,RuntimeError");
  assert_int_equal(s->records[2].type, ASGID_WEBSOCKET_CLOSE);
  assert_int_equal(s->records[2].code, 1000);
}

static void test_denial_response(void **state) {
  (void)state;
  scenario *s = find("/denial");
  assert_int_equal(s->count, 3);
  assert_int_equal(s->records[0].type, ASGID_WEBSOCKET_HTTP_RESPONSE_START);
  assert_int_equal(s->records[0].code, 403);
  assert_string_equal(s->records[0].header, "content-type: text/plain");
  assert_record(&s->records[1], ASGID_WEBSOCKET_HTTP_RESPONSE_BODY, "no", 2);
  assert_int_equal(s->records[1].more_body, 1);
  assert_record(&s->records[2], ASGID_WEBSOCKET_HTTP_RESPONSE_BODY, "!", 1);
  assert_int_equal(s->records[2].more_body, 0);
  assert_int_equal(s->phase_at_release, ASGI_WEBSOCKET_FINISHED);
}

static void test_return_after_accept_leaves_it_open(void **state) {
  (void)state;
  scenario *s = find("/returns");
  assert_int_equal(s->count, 1);
  assert_int_equal(s->phase_at_release, ASGI_WEBSOCKET_OPEN);
}

/* Exceptions are logged with the scope they ended, but not ClientDisconnected escaping the
 * app (ASGI 2.4: the server must not log it as an error). */
static void test_error_log(void **state) {
  (void)state;
  assert_non_null(strstr(error_log, "Exception in ASGI application (WebSocket /raise-before-accept)"));
  assert_non_null(strstr(error_log, "ValueError: after accept"));
  assert_null(strstr(error_log, "ClientDisconnected"));
  assert_null(strstr(error_log, "/disconnected-escapes"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scope_dict),
      cmocka_unit_test(test_echo_keeps_types_and_empty_messages),
      cmocka_unit_test(test_after_disconnect_send_raises_client_disconnected),
      cmocka_unit_test(test_raise_before_accept_is_500),
      cmocka_unit_test(test_raise_after_accept_is_1011),
      cmocka_unit_test(test_client_disconnected_escaping),
      cmocka_unit_test(test_invalid_messages_raise),
      cmocka_unit_test(test_denial_response),
      cmocka_unit_test(test_return_after_accept_leaves_it_open),
      cmocka_unit_test(test_error_log),
  };
  return cmocka_run_group_tests(tests, run_scenarios, free_log);
}
