/* operator_signals.c - what every platform's operator events share: the events' names in
 * logs, and the signal watchers of operator_signals.h. */
#include "platform/operator_signals.h"

#include <stdlib.h>

struct operator_events {
  const operator_signal *table;
  size_t count;
  operator_role role;
  int (*heed)(operator_role role, int signum);
  void (*on_event)(void *data, operator_event e);
  void *data;
  size_t open; /* watchers not yet closed */
  uv_signal_t handles[];
};

static void on_signal(uv_signal_t *handle, int signum) {
  operator_events *events = handle->data;
  if (events->heed && !events->heed(events->role, signum)) return;
  for (size_t i = 0; i < events->count; i++)
    if (events->table[i].signum == signum) {
      events->on_event(events->data, events->table[i].event);
      return;
    }
}

static void free_when_closed(uv_handle_t *handle) {
  operator_events *events = handle->data;
  if (--events->open == 0) free(events);
}

operator_events *operator_signals_start(uv_loop_t *loop, operator_role role,
                                        const operator_signal *table, size_t count,
                                        int (*heed)(operator_role role, int signum),
                                        void (*on_event)(void *data, operator_event e),
                                        void *data) {
  operator_events *events = calloc(1, sizeof *events + count * sizeof events->handles[0]);
  if (!events) return NULL;
  *events = (operator_events){.table = table, .count = count, .role = role, .heed = heed,
                              .on_event = on_event, .data = data};
  int failed = 0;
  for (size_t i = 0; i < count; i++) {
    if (role == OPERATOR_ROLE_WORKER && !table[i].for_worker) continue;
    uv_signal_t *handle = &events->handles[events->open++];
    uv_signal_init(loop, handle);
    handle->data = events;
    if (uv_signal_start(handle, on_signal, table[i].signum) != 0) failed = 1;
  }
  if (failed) {
    operator_signals_close(events);
    return NULL;
  }
  return events;
}

void operator_signals_close(operator_events *events) {
  if (!events) return;
  size_t open = events->open;
  if (open == 0) free(events);
  for (size_t i = 0; i < open; i++)
    uv_close((uv_handle_t *)&events->handles[i], free_when_closed);
}

const char *operator_event_name(operator_event e) {
  switch (e) {
    case OPERATOR_STOP_GRACEFUL: return "stop (graceful)";
    case OPERATOR_STOP_FAST: return "stop (fast)";
    case OPERATOR_RELOAD: return "reload";
    case OPERATOR_REOPEN_LOGS: return "reopen logs";
    case OPERATOR_WORKERS_MORE: return "one worker more";
    case OPERATOR_WORKERS_FEWER: return "one worker less";
    case OPERATOR_UPGRADE: return "upgrade";
    case OPERATOR_PAUSE_WORKERS: return "pause the workers";
    case OPERATOR_CHILDREN_EXITED: return "children exited";
  }
  return "?";
}
