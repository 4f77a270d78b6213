/*
 * win_app.c - the native app (a DLL) the Windows integration tests run in asgid.exe's workers.
 *
 *   /whoami      "pid=<Windows process id>\nimage=<the process's image path, UTF-8>\n", the
 *                image path as the kernel knows it (QueryFullProcessImageNameW), not as the
 *                command line claims it
 *   /sleep?ms=N  sleeps N ms (default 1000) on the calling thread, then answers "slept"
 *   /hang        never returns: the worker's loop stalls (worker_class = event)
 *   anything else  "hello\n"
 */
#include <asgid/asgid.h>

#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER(name, value) { name, sizeof(name) - 1, value, sizeof(value) - 1 }

static const asgid_server_api *server;

static void send_text(asgid_request *req, const char *text) {
  char length[24];
  snprintf(length, sizeof length, "%u", (unsigned)strlen(text));
  const asgid_header headers[] = {
      HEADER("content-type", "text/plain; charset=utf-8"),
      {"content-length", 14, length, strlen(length)},
  };
  asgid_event start = {.type = ASGID_HTTP_RESPONSE_START};
  start.u.response_start.status = 200;
  start.u.response_start.headers = headers;
  start.u.response_start.header_count = 2;
  asgid_event body = {.type = ASGID_HTTP_RESPONSE_BODY};
  body.u.response_body.body = (const uint8_t *)text;
  body.u.response_body.body_len = strlen(text);
  if (server->send(req, &start) == ASGID_OK) server->send(req, &body);
  server->done(req);
}

static int path_is(const asgid_scope *s, const char *path) {
  return s->path_len == strlen(path) && memcmp(s->path, path, s->path_len) == 0;
}

static void whoami(asgid_request *req) {
  wchar_t image[32768];
  DWORD len = sizeof image / sizeof image[0];
  char utf8[3 * 32768 + 1] = "?";
  if (QueryFullProcessImageNameW(GetCurrentProcess(), 0, image, &len))
    WideCharToMultiByte(CP_UTF8, 0, image, (int)len + 1, utf8, sizeof utf8, NULL, NULL);
  static char text[sizeof utf8 + 64];
  snprintf(text, sizeof text, "pid=%lu\nimage=%s\n", (unsigned long)GetCurrentProcessId(), utf8);
  send_text(req, text);
}

static int win_call(void *app_data, asgid_request *req, const asgid_scope *scope) {
  if (scope->type != ASGID_SCOPE_HTTP) return ASGID_E_UNSUPPORTED;
  if (path_is(scope, "/whoami")) {
    whoami(req);
  } else if (path_is(scope, "/sleep")) {
    const char *ms = strstr(scope->query_string, "ms=");
    Sleep(ms ? (DWORD)strtoul(ms + 3, NULL, 10) : 1000);
    send_text(req, "slept\n");
  } else if (path_is(scope, "/hang")) {
    for (;;) Sleep(INFINITE);
  } else {
    send_text(req, "hello\n");
  }
  return ASGID_OK;
}

static void win_on_event(void *app_data, asgid_request *req, const asgid_event *event) {}

static const asgid_app win_app = {
    .abi_version = ASGID_ABI_VERSION,
    .struct_size = sizeof(asgid_app),
    .name = "win_app",
    .call = win_call,
    .on_event = win_on_event,
};

ASGID_EXPORT const asgid_app *asgid_app_entry(const asgid_server_api *api);

ASGID_EXPORT const asgid_app *asgid_app_entry(const asgid_server_api *api) {
  server = api;
  return &win_app;
}
