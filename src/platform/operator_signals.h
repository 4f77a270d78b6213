/*
 * operator_signals.h - what posix/ and win/ operator_events.c share (internal to platform/):
 * libuv signal watchers, for POSIX signals or for the console events libuv names as signals on
 * Windows, turned into operator events by each platform's table.
 */
#ifndef ASGID_PLATFORM_OPERATOR_SIGNALS_H
#define ASGID_PLATFORM_OPERATOR_SIGNALS_H

#include "platform/platform.h"

typedef struct operator_signal {
  int signum;
  operator_event event;
  int for_worker; /* a worker watches it too */
} operator_signal;

/* Watches the table's signals (a worker only those for_worker) and calls on_event with the
 * event of each that arrives, unless heed (NULL: heed all) says it means nothing now. Returns
 * NULL when a watcher cannot be started. */
operator_events *operator_signals_start(uv_loop_t *loop, operator_role role,
                                        const operator_signal *table, size_t count,
                                        int (*heed)(operator_role role, int signum),
                                        void (*on_event)(void *data, operator_event e),
                                        void *data);

/* Stops the watchers and frees them once closed. */
void operator_signals_close(operator_events *events);

#endif /* ASGID_PLATFORM_OPERATOR_SIGNALS_H */
