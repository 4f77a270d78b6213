/* operator_events.c - Windows console events as operator events. See platform.h.
 *
 *   master: Ctrl+C fast stop   Ctrl+Break graceful stop   console closed graceful stop
 *           (Windows ends the process about 5 s later: the workers get what is left)
 *   worker: every console event is swallowed: the workers share the master's console, and
 *           the master decides (it commands them over their channel)
 *
 * Windows has no other signals: reload, log reopening and the number of workers are steered
 * with `asgid --control` over the control pipe. */
#include "platform/platform.h"

#include <windows.h>
#include <stdlib.h>

typedef struct meaning {
  int signum; /* libuv's names of the console events */
  operator_event event;
} meaning;

static const meaning meanings[] = {
    {SIGINT, OPERATOR_STOP_FAST},         /* CTRL_C_EVENT */
    {SIGBREAK, OPERATOR_STOP_GRACEFUL},   /* CTRL_BREAK_EVENT */
    {SIGHUP, OPERATOR_STOP_GRACEFUL},     /* CTRL_CLOSE_EVENT */
};
#define MEANINGS (sizeof meanings / sizeof meanings[0])

struct operator_events {
  uv_signal_t handles[MEANINGS];
  size_t count;
  operator_role role;
  void (*on_event)(void *data, operator_event e);
  void *data;
};

static void on_signal(uv_signal_t *handle, int signum) {
  operator_events *events = handle->data;
  if (events->role == OPERATOR_ROLE_WORKER) return; /* the master decides */
  for (size_t i = 0; i < MEANINGS; i++)
    if (meanings[i].signum == signum) {
      events->on_event(events->data, meanings[i].event);
      return;
    }
}

static void free_when_closed(uv_handle_t *handle) {
  operator_events *events = handle->data;
  if (--events->count == 0) free(events);
}

operator_events *platform_operator_events_start(uv_loop_t *loop, operator_role role,
                                                void (*on_event)(void *data, operator_event e),
                                                void *data) {
  operator_events *events = calloc(1, sizeof *events);
  if (!events) return NULL;
  events->role = role;
  events->on_event = on_event;
  events->data = data;
  int failed = 0;
  for (size_t i = 0; i < MEANINGS; i++) {
    uv_signal_t *handle = &events->handles[events->count++];
    uv_signal_init(loop, handle);
    handle->data = events;
    if (uv_signal_start(handle, on_signal, meanings[i].signum) != 0) failed = 1;
  }
  if (failed) {
    platform_operator_events_close(events);
    return NULL;
  }
  platform_operator_events_defer(0);
  return events;
}

void platform_operator_events_close(operator_events *events) {
  if (!events) return;
  size_t count = events->count;
  for (size_t i = 0; i < count; i++)
    uv_close((uv_handle_t *)&events->handles[i], free_when_closed);
}

/* Console events cannot be held and delivered later: until the handlers are installed they
 * are swallowed (a worker would only have ignored them; Windows' default would end it). */
static BOOL WINAPI swallow(DWORD event) { return TRUE; }

void platform_operator_events_defer(int defer) { SetConsoleCtrlHandler(swallow, defer ? TRUE : FALSE); }
