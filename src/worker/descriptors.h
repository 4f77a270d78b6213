/*
 * descriptors.h - a worker under the open-file limit (RLIMIT_NOFILE).
 *
 * At the limit, libuv accepts a new connection with a descriptor it holds in reserve and
 * closes it at once: the client is dropped unanswered, and nothing is logged. So a worker
 * stops accepting (connections wait in the listen queue, as at max_connections) before its
 * descriptors run out, keeping a share of them for the app's own files and sockets; and it
 * says so, at most every HTTP_DESCRIPTOR_WARNING_INTERVAL_MS, when it pauses or when the app
 * has used the spare share up and connections are being dropped.
 */
#ifndef ASGID_WORKER_DESCRIPTORS_H
#define ASGID_WORKER_DESCRIPTORS_H

#include <stdint.h>
#include <uv.h>

#include "http/server.h"

/* The connections a process can hold open at once under an open-file limit of `limit`
 * descriptors when `open` are open before any connection: what is left, minus a spare
 * quarter of it (at most 64) for the app. At least 1. The master uses it to warn at start. */
long worker_connection_room(long limit, long open);

typedef struct worker_descriptors {
  uv_timer_t watch;
  http_server *server;
  long limit;
  uint64_t warning_due_ms;
} worker_descriptors;

/* Lowers server->connection_limit to what the open-file limit leaves room for (call it just
 * before accepting, once the app has opened what it opens at startup) and starts watching
 * for the limit, once a second. */
void worker_descriptors_start(worker_descriptors *d, uv_loop_t *loop, http_server *server);

/* Stops watching (closes the timer). */
void worker_descriptors_close(worker_descriptors *d);

#endif /* ASGID_WORKER_DESCRIPTORS_H */
