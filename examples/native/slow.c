/*
 * slow.c - an app that blocks: it sleeps for `ms` milliseconds in its call callback, then
 * answers 200 text/plain "slept N ms\n" with a content-length.
 *
 * Shows what worker_class = thread is for: blocking code (a database driver, a file read, a
 * computation) runs on the worker's thread pool, so one slow request holds one pool thread
 * while the event loop keeps serving other connections. Under worker_class = event the same
 * sleep would run on the event loop thread and stall every connection of the worker, and its
 * heartbeat with them (past `timeout` the master kills the worker): never run this app so.
 *
 * ms comes from the query string, ms=N: a decimal number, default 1000, capped at 60000;
 * anything else is answered with 400.
 *
 * Run:  asgid --app build/examples/slow.so --worker-class thread --threads 8 --bind 127.0.0.1:8000
 *       curl -sS 'http://127.0.0.1:8000/?ms=250'
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include <asgid/asgid.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DEFAULT_MS 1000u
#define MAX_MS 60000u

#define HEADER(name, value) { name, sizeof(name) - 1, value, sizeof(value) - 1 }

/* The server's function table, kept for the callbacks; set once, before any callback runs. */
static const asgid_server_api *server;

typedef enum query_lookup { QUERY_ABSENT, QUERY_FOUND, QUERY_MALFORMED } query_lookup;

/* Looks for key=value among the '&'-separated pairs of a raw query string and parses the
 * value as a decimal number, saturating at max so that no digit string can overflow. The
 * first pair with the key wins. Values are not percent-decoded: a number needs no escaping. */
static query_lookup query_number(const char *query, size_t query_len, const char *key,
                                 unsigned max, unsigned *value) {
  const size_t key_len = strlen(key);
  const char *end = query + query_len;
  const char *pair = query;
  while (pair < end) {
    const char *separator = memchr(pair, '&', (size_t)(end - pair));
    const char *pair_end = separator ? separator : end;
    if ((size_t)(pair_end - pair) > key_len && memcmp(pair, key, key_len) == 0 &&
        pair[key_len] == '=') {
      const char *digit = pair + key_len + 1;
      if (digit == pair_end)
        return QUERY_MALFORMED;
      unsigned number = 0;
      for (; digit < pair_end; digit++) {
        if (*digit < '0' || *digit > '9')
          return QUERY_MALFORMED;
        /* number stays at most max, so this cannot overflow for any max below UINT_MAX / 10. */
        number = number * 10 + (unsigned)(*digit - '0');
        if (number > max)
          number = max;
      }
      *value = number;
      return QUERY_FOUND;
    }
    pair = pair_end + 1;
  }
  return QUERY_ABSENT;
}

/* Sends a complete text/plain response with its content-length. */
static void send_text(asgid_request *req, int status, const char *text) {
  const size_t text_len = strlen(text);
  char content_length[24];
  const int content_length_len = snprintf(content_length, sizeof(content_length), "%zu", text_len);
  const asgid_header headers[] = {
      HEADER("content-type", "text/plain"),
      {"content-length", sizeof("content-length") - 1, content_length, (size_t)content_length_len},
  };
  const asgid_event start = {
      .type = ASGID_HTTP_RESPONSE_START,
      .u.response_start = {.status = status,
                           .headers = headers,
                           .header_count = sizeof(headers) / sizeof(headers[0])},
  };
  const asgid_event body = {
      .type = ASGID_HTTP_RESPONSE_BODY,
      .u.response_body = {.body = (const uint8_t *)text, .body_len = text_len, .more_body = 0},
  };
  if (server->send(req, &start) == ASGID_OK)
    server->send(req, &body);
}

/* Sleeps the whole time even when signals interrupt it: nanosleep leaves what is left in
 * `remaining`, and the loop sleeps again for that. */
static void sleep_ms(unsigned ms) {
  struct timespec remaining = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
  while (nanosleep(&remaining, &remaining) != 0 && errno == EINTR)
    continue;
}

static int slow_call(void *app_data, asgid_request *req, const asgid_scope *scope) {
  if (scope->type != ASGID_SCOPE_HTTP)
    return ASGID_E_UNSUPPORTED;
  unsigned ms = DEFAULT_MS;
  if (query_number(scope->query_string, scope->query_string_len, "ms", MAX_MS, &ms) ==
      QUERY_MALFORMED) {
    send_text(req, 400, "ms must be a decimal number\n");
  } else {
    sleep_ms(ms);
    char text[sizeof("slept 4294967295 ms\n")];
    snprintf(text, sizeof(text), "slept %u ms\n", ms);
    send_text(req, 200, text);
  }
  server->done(req);
  return ASGID_OK;
}

/* slow never calls receive, so the server never delivers an event; the table has no
 * optional slot for on_event, so it gets one that ignores its argument. */
static void slow_on_event(void *app_data, asgid_request *req, const asgid_event *event) {}

static const asgid_app slow_app = {
    .abi_version = ASGID_ABI_VERSION,
    .struct_size = sizeof(asgid_app),
    .name = "slow",
    .app_data = NULL,
    .call = slow_call,
    .on_event = slow_on_event,
    .destroy = NULL,
};

/* Declared before its definition to satisfy -Wmissing-prototypes: asgid.h only names the
 * entry function's type, since the symbol is the app's choice. */
ASGID_EXPORT const asgid_app *asgid_app_entry(const asgid_server_api *api);

ASGID_EXPORT const asgid_app *asgid_app_entry(const asgid_server_api *api) {
  server = api;
  return &slow_app;
}
