/*
 * request_stats.h - what a worker counts of the requests it answers, for the master's metrics
 * (master/metrics_text.h): requests by method class and status class, and a histogram of
 * their durations. The protocol layer counts (one call per request, a few additions), the
 * worker sends the counts in its heartbeats (worker/channel_codec.h), the master adds up its
 * workers'. It sits below all three so that they share one definition of the classes and the
 * buckets.
 *
 * Loop thread only.
 */
#ifndef ASGID_NET_REQUEST_STATS_H
#define ASGID_NET_REQUEST_STATS_H

#include <stddef.h>
#include <stdint.h>

/* GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, and every other method as "other": a client
 * cannot make the series grow without bound by inventing methods. */
#define REQUEST_METHOD_CLASSES 8
/* 1xx .. 5xx. */
#define REQUEST_STATUS_CLASSES 5
/* The durations' bucket bounds, Prometheus' default ones (5 ms .. 10 s), then +Inf. */
#define REQUEST_DURATION_BOUNDS 11
#define REQUEST_DURATION_BUCKETS (REQUEST_DURATION_BOUNDS + 1)

/* The method classes' names, as the metrics' label values: "GET" .. "OPTIONS", "other". */
extern const char *const request_method_class_names[REQUEST_METHOD_CLASSES];
/* The upper bounds of the buckets but the last, in microseconds. */
extern const uint64_t request_duration_bounds_usec[REQUEST_DURATION_BOUNDS];

typedef struct request_stats {
  /* requests[method class][status class]: one counter each, so that both can be chosen in
   * one query (rate by method, errors by status) */
  uint64_t requests[REQUEST_METHOD_CLASSES][REQUEST_STATUS_CLASSES];
  uint64_t duration_buckets[REQUEST_DURATION_BUCKETS]; /* per bucket, not cumulative */
  uint64_t duration_sum_usec;
} request_stats;

/* Counts one request answered with `status` after duration_usec. A status outside 100..599
 * (an app's mistake, answered as it asked) counts in the nearest class. */
void request_stats_count(request_stats *s, const char *method, size_t method_len, int status,
                         uint64_t duration_usec);

/* Adds every counter of `from` to `to`. */
void request_stats_add(request_stats *to, const request_stats *from);

/* All requests counted. */
uint64_t request_stats_total(const request_stats *s);

#endif /* ASGID_NET_REQUEST_STATS_H */
