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

#include "example_util.h"

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

ASGID_EXPORT const asgid_app *asgid_app_entry(const asgid_server_api *api) {
  server = api;
  return &slow_app;
}
