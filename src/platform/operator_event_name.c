/* operator_event_name.c - the names of operator events in logs, the same on every platform.
 * See platform.h. */
#include "platform/platform.h"

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
