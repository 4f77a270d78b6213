/* operator_events.c - POSIX signals as operator events, with gunicorn's meanings. See
 * platform.h.
 *
 *   master: TERM graceful stop   INT, QUIT fast stop   HUP reload   TTIN, TTOU one worker
 *           more, less   USR1 reopen log files   USR2 upgrade   WINCH pause the workers
 *           (not in a foreground terminal, which sends it on every resize)   CHLD reap
 *   worker: TERM graceful stop   INT, QUIT fast stop   USR1 reopen log files
 *
 * The master never signals its workers (it commands them over their channel); a worker hears
 * what someone else sends it: an operator, or a service manager stopping the process group. */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "platform/platform.h"

typedef struct meaning {
  int signum;
  operator_event event;
  int for_worker;
} meaning;

static const meaning meanings[] = {
    {SIGTERM, OPERATOR_STOP_GRACEFUL, 1},  {SIGINT, OPERATOR_STOP_FAST, 1},
    {SIGQUIT, OPERATOR_STOP_FAST, 1},      {SIGUSR1, OPERATOR_REOPEN_LOGS, 1},
    {SIGHUP, OPERATOR_RELOAD, 0},          {SIGTTIN, OPERATOR_WORKERS_MORE, 0},
    {SIGTTOU, OPERATOR_WORKERS_FEWER, 0},  {SIGUSR2, OPERATOR_UPGRADE, 0},
    {SIGWINCH, OPERATOR_PAUSE_WORKERS, 0}, {SIGCHLD, OPERATOR_CHILDREN_EXITED, 0},
};
#define MEANINGS (sizeof meanings / sizeof meanings[0])

struct operator_events {
  uv_signal_t handles[MEANINGS];
  size_t count;
  void (*on_event)(void *data, operator_event e);
  void *data;
};

static int in_foreground_terminal(void) {
  return isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
}

static void on_signal(uv_signal_t *handle, int signum) {
  operator_events *events = handle->data;
  for (size_t i = 0; i < MEANINGS; i++) {
    if (meanings[i].signum != signum) continue;
    if (signum == SIGWINCH && in_foreground_terminal()) return; /* a window resize */
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
  events->on_event = on_event;
  events->data = data;
  int failed = 0;
  for (size_t i = 0; i < MEANINGS; i++) {
    if (role == OPERATOR_ROLE_WORKER && !meanings[i].for_worker) continue;
    uv_signal_t *handle = &events->handles[events->count++];
    uv_signal_init(loop, handle);
    handle->data = events;
    if (uv_signal_start(handle, on_signal, meanings[i].signum) != 0) failed = 1;
  }
  if (failed) {
    platform_operator_events_close(events);
    return NULL;
  }
  /* Held since the process started (platform_operator_events_defer): a signal sent meanwhile
   * is delivered now, to these handlers. */
  platform_operator_events_defer(0);
  return events;
}

void platform_operator_events_close(operator_events *events) {
  if (!events) return;
  size_t count = events->count;
  for (size_t i = 0; i < count; i++)
    uv_close((uv_handle_t *)&events->handles[i], free_when_closed);
}

void platform_operator_events_defer(int defer) {
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < MEANINGS; i++)
    if (meanings[i].for_worker) sigaddset(&set, meanings[i].signum);
  sigprocmask(defer ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}
