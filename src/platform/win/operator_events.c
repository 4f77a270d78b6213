/* operator_events.c - Windows console events as operator events. See platform.h.
 *
 *   master: Ctrl+C fast stop   Ctrl+Break graceful stop   console closed graceful stop
 *           (Windows ends the process about 5 s later: the workers get what is left)
 *   worker: every console event is swallowed: the workers share the master's console, and
 *           the master decides (it commands them over their channel)
 *
 * Windows has no other signals: reload, log reopening and the number of workers are steered
 * with `asgid --control` over the control pipe. */
#include "platform/operator_signals.h"

#include <windows.h>

/* libuv's names of the console events; a worker watches them too, to swallow them. */
static const operator_signal meanings[] = {
    {SIGINT, OPERATOR_STOP_FAST, 1},       /* CTRL_C_EVENT */
    {SIGBREAK, OPERATOR_STOP_GRACEFUL, 1}, /* CTRL_BREAK_EVENT */
    {SIGHUP, OPERATOR_STOP_GRACEFUL, 1},   /* CTRL_CLOSE_EVENT */
};
#define MEANINGS (sizeof meanings / sizeof meanings[0])

/* The workers share the master's console: the master decides. */
static int heed(operator_role role, int signum) {
  (void)signum;
  return role == OPERATOR_ROLE_MASTER;
}

operator_events *platform_operator_events_start(uv_loop_t *loop, operator_role role,
                                                void (*on_event)(void *data, operator_event e),
                                                void *data) {
  operator_events *events =
      operator_signals_start(loop, role, meanings, MEANINGS, heed, on_event, data);
  if (events) platform_operator_events_defer(0);
  return events;
}

void platform_operator_events_close(operator_events *events) { operator_signals_close(events); }

/* Console events cannot be held and delivered later: until the handlers are installed they
 * are swallowed (a worker would only have ignored them; Windows' default would end it). */
static BOOL WINAPI swallow(DWORD event) { return TRUE; }

void platform_operator_events_defer(int defer) { SetConsoleCtrlHandler(swallow, defer ? TRUE : FALSE); }
