/* log_rate_limit.c - one info line a second for a kind of line. See log_rate_limit.h. */
#include "log/log_rate_limit.h"

#include <stdarg.h>
#include <stdio.h>

#include "log/log.h"

void log_rate_limited(log_rate_limit *limit, uint64_t now, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (now < limit->due) {
    limit->held++;
    log_vwrite(LOG_LEVEL_DEBUG, fmt, ap);
    va_end(ap);
    return;
  }
  if (limit->held) {
    char line[LOG_ERROR_LINE_MAX];
    vsnprintf(line, sizeof line, fmt, ap);
    log_info("%s (and %llu more since the last such line, at debug level)", line,
             (unsigned long long)limit->held);
  } else {
    log_vwrite(LOG_LEVEL_INFO, fmt, ap);
  }
  va_end(ap);
  limit->due = now + LOG_RATE_LIMIT_INTERVAL_MS;
  limit->held = 0;
}
