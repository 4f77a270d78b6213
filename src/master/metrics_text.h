/*
 * metrics_text.h - the master's metrics in Prometheus' text exposition format (version 0.0.4),
 * written from a snapshot of what the master knows: its workers' last heartbeats, what the
 * workers that have exited last reported, and its own counts. Pure: the unit tests check the
 * text from snapshots they make.
 */
#ifndef ASGID_METRICS_TEXT_H
#define ASGID_METRICS_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "net/byte_buffer.h"
#include "net/request_stats.h"

/* Why a worker exited, as the metrics tell it. */
typedef enum worker_exit_cause {
  WORKER_EXIT_CRASH,   /* it died unasked (a signal, a nonzero status, a boot failure) */
  WORKER_EXIT_TIMEOUT, /* silent past `timeout`: aborted or terminated as stuck */
  WORKER_EXIT_RETIRE,  /* replaced: max_requests, max_worker_memory, max_worker_lifetime */
  WORKER_EXIT_STOP,    /* asked to stop: a reload, TTOU, WINCH, the master's stop */
  WORKER_EXIT_CAUSES
} worker_exit_cause;

/* Label values of the causes: "crash", "timeout", "retire", "stop". */
extern const char *const worker_exit_cause_names[WORKER_EXIT_CAUSES];

/* Counters that only grow, over the master's life: kept for workers that have exited. */
typedef struct metrics_counters {
  request_stats stats;
  uint64_t bytes_in, bytes_out;
  uint64_t worker_starts;
  uint64_t worker_exits[WORKER_EXIT_CAUSES];
  uint64_t reloads;
} metrics_counters;

/* One worker's own series. */
typedef struct metrics_worker {
  int id;
  uint64_t rss;      /* bytes, from its last heartbeat */
  uint64_t cpu_usec; /* from its last heartbeat */
} metrics_worker;

typedef struct metrics_snapshot {
  metrics_counters counters;   /* exited workers' plus the running ones' last reports */
  uint64_t in_flight, connections, websockets; /* the running workers' last reports */
  int workers_booting, workers_ready, workers_stopping;
  int ready;                   /* what /readyz answers: 1 for 200 */
  uint64_t uptime_ms;
  const metrics_worker *workers;
  size_t worker_count;
  const char *version, *python, *llhttp; /* build info; python NULL: built without */
} metrics_snapshot;

/* Appends the exposition of s to out. Returns 0, or -1 when out of memory. */
int metrics_text_write(byte_buffer *out, const metrics_snapshot *s);

/* The Content-Type of that text. */
#define METRICS_TEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif /* ASGID_METRICS_TEXT_H */
