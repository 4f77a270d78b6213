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
#include <unistd.h>

#include "platform/operator_signals.h"

static const operator_signal meanings[] = {
    {SIGTERM, OPERATOR_STOP_GRACEFUL, 1},  {SIGINT, OPERATOR_STOP_FAST, 1},
    {SIGQUIT, OPERATOR_STOP_FAST, 1},      {SIGUSR1, OPERATOR_REOPEN_LOGS, 1},
    {SIGHUP, OPERATOR_RELOAD, 0},          {SIGTTIN, OPERATOR_WORKERS_MORE, 0},
    {SIGTTOU, OPERATOR_WORKERS_FEWER, 0},  {SIGUSR2, OPERATOR_UPGRADE, 0},
    {SIGWINCH, OPERATOR_PAUSE_WORKERS, 0}, {SIGCHLD, OPERATOR_CHILDREN_EXITED, 0},
};
#define MEANINGS (sizeof meanings / sizeof meanings[0])

/* WINCH in the foreground of a terminal is a window resize, not an operator's command. */
static int heed(operator_role role, int signum) {
  (void)role;
  return signum != SIGWINCH ||
         !(isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp());
}

operator_events *platform_operator_events_start(uv_loop_t *loop, operator_role role,
                                                void (*on_event)(void *data, operator_event e),
                                                void *data) {
  operator_events *events =
      operator_signals_start(loop, role, meanings, MEANINGS, heed, on_event, data);
  /* Held since the process started (platform_operator_events_defer): a signal sent meanwhile
   * is delivered now, to these handlers. */
  if (events) platform_operator_events_defer(0);
  return events;
}

void platform_operator_events_close(operator_events *events) { operator_signals_close(events); }

void platform_operator_events_defer(int defer) {
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < MEANINGS; i++)
    if (meanings[i].for_worker) sigaddset(&set, meanings[i].signum);
  sigprocmask(defer ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}
