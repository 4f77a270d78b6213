/*
 * log_rate_limit.h - at most one info line a second for a kind of line a client can cause
 * at will (a connection refused for its PROXY header, a trusted proxy passing a client's
 * malformed X-Forwarded-Proto along): the others go to debug level, counted in the next info
 * line, so every one is accounted for and none floods the log.
 */
#ifndef ASGID_LOG_RATE_LIMIT_H
#define ASGID_LOG_RATE_LIMIT_H

#include <stdint.h>

#include "platform/platform.h"

#define LOG_RATE_LIMIT_INTERVAL_MS 1000

/* One kind of line's limit; zeroed: the next line goes out at info. */
typedef struct log_rate_limit {
  uint64_t due;  /* milliseconds of the caller's clock: when an info line may come again */
  uint64_t held; /* lines left to debug level since the last info line */
} log_rate_limit;

/* Writes the line at info level, with " (and N more since the last such line, at debug
 * level)" when some were held back, if the last info line of this limit is
 * LOG_RATE_LIMIT_INTERVAL_MS old; else at debug level. now: milliseconds of a monotonic
 * clock (the loop's). */
void log_rate_limited(log_rate_limit *limit, uint64_t now, const char *fmt, ...)
    PLATFORM_PRINTF(3, 4);

#endif /* ASGID_LOG_RATE_LIMIT_H */
