/*
 * link.h - a worker's channel to its master.
 *
 * The worker sends the messages of worker_message.h: "ready RSS" once it accepts, a heartbeat
 * every heartbeat interval (a worker silent past `timeout` is killed by the master), and
 * "retire" when max_requests is reached (the master starts a replacement first). RSS is the
 * worker's resident memory in bytes, for max_worker_memory: in "ready", the size of a fresh
 * worker. When the channel closes, the master is gone and the worker stops gracefully.
 */
#ifndef ASGID_WORKER_LINK_H
#define ASGID_WORKER_LINK_H

#include <stdint.h>
#include <uv.h>

#include "worker/worker_message.h"

typedef struct worker_link {
  uv_pipe_t pipe;
  uv_timer_t heartbeat;
  uint64_t (*requests)(void *data);
  uint64_t (*connections)(void *data);
  void (*on_master_gone)(void *data);
  void *data;
  int open;
} worker_link;

/* Opens the channel on fd (ipc: it was created as a libuv IPC pipe) and starts heartbeats
 * every interval_ms. Returns 0 or a negative libuv error. */
int worker_link_open(worker_link *link, uv_loop_t *loop, int fd, int ipc, uint64_t interval_ms);

/* Sends one message. */
void worker_link_send(worker_link *link, const worker_message *m);

/* Sends "ready RSS": the worker accepts. */
void worker_link_ready(worker_link *link);

/* Stops heartbeats and closes the channel. */
void worker_link_close(worker_link *link);

#endif /* ASGID_WORKER_LINK_H */
