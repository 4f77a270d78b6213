/*
 * link.h - a worker's channel to its master (the messages of channel_codec.h).
 *
 * The worker sends READY once it accepts, a HEARTBEAT every heartbeat interval (a worker
 * silent past `timeout` is stuck: see stall_watch.h) and a last one as it closes the channel
 * to exit (its final counts, for the metrics), and RETIRE when max_requests is reached
 * (the master starts a replacement first). The master commands it: STOP (graceful or fast),
 * REOPEN_LOGS, DIAGNOSE. When the channel closes, or carries a frame that is not a valid
 * command, the master is gone (or cannot be trusted) and the worker stops gracefully.
 */
#ifndef ASGID_WORKER_LINK_H
#define ASGID_WORKER_LINK_H

#include <stdint.h>
#include <uv.h>

#include "worker/channel_codec.h"
#include "worker/stall_watch.h"

typedef struct worker_link {
  uv_pipe_t pipe;
  uv_timer_t heartbeat;
  uv_timer_t begin;     /* starts reading once the loop runs */
  channel_reader commands;
  stall_watch *watch;  /* told of each heartbeat: the loop is alive (NULL: none) */
  /* Fills a heartbeat's counts (requests, connections, the metrics' counters); link.c adds
   * the resident memory and the CPU time. */
  void (*report)(void *data, channel_message *heartbeat);
  void (*on_command)(void *data, const channel_message *command);
  void (*on_master_gone)(void *data, const char *why);
  void *data;
  int open;    /* the channel */
  int beating; /* the timers: until worker_link_close, the channel closed or not */
} worker_link;

/* Opens the channel on fd (ipc: it was created as a libuv IPC pipe) and starts heartbeats
 * every interval_ms. received[0..received_len) are bytes of the channel read before (see
 * worker_bootstrap): their commands come first, from the loop once it runs. Returns 0 or a
 * negative libuv error. */
int worker_link_open(worker_link *link, uv_loop_t *loop, int fd, int ipc, uint64_t interval_ms,
                     const uint8_t *received, size_t received_len);

/* Sends one message. */
void worker_link_send(worker_link *link, const channel_message *m);

/* Sends READY with the worker's resident memory: the worker accepts. */
void worker_link_ready(worker_link *link);

/* Sends a last heartbeat (the final counts, for the metrics), stops heartbeats and closes the
 * channel. Until then the heartbeat timer tells the stall watch that the loop lives, even
 * after the channel closed (the master gone: the worker drains). */
void worker_link_close(worker_link *link);

#endif /* ASGID_WORKER_LINK_H */
