/*
 * transport.h - one client connection as bytes: the socket, the pooled read buffer, output
 * with backpressure, the deadline timer and the lingering close. It knows no protocol: a
 * *session* (HTTP/1.1, WebSocket; later TLS and HTTP/2, see docs/architecture.md) runs on it
 * through a small table of functions, and may hand the transport over to another session
 * (an HTTP/1.1 upgrade to WebSocket) with its unread bytes and its deadlines.
 *
 *   session --transport_*-->  transport  --ops->on_*-->  session
 *
 * The session calls down; the transport calls back only through the table, never from
 * inside a transport_* call the session made (except on_close, from transport_close).
 *
 * A worker's transports share a transport_group: the read buffer pool, the list of open
 * connections, the batch of output flushed once per loop pass and the deferred-work queue.
 *
 * Loop thread only.
 */
#ifndef ASGID_NET_TRANSPORT_H
#define ASGID_NET_TRANSPORT_H

#include <stdint.h>
#include <uv.h>

#include "net/byte_buffer.h"
#include "net/listener.h"
#include "net/rate_meter.h"
#include "net/stream_handle.h"
#include "settings/settings.h"

typedef struct transport transport;
typedef struct transport_group transport_group;

/* What a session provides to the transport that carries it. Every member is required. */
typedef struct transport_session_ops {
  /* received bytes arrived (transport_unread shows all unread input), or, with received 0,
   * output left and a session that waited for that may go on. The session consumes what it
   * parsed with transport_consume. */
  void (*on_input)(void *session, size_t received);
  /* The client sent its last byte (half-close): no more input will come. */
  void (*on_peer_eof)(void *session);
  /* Queued output went to the kernel (some or all of it): an app waiting to send may be
   * told it can, and a session whose output has all left may start its idle clock. */
  void (*on_sent)(void *session);
  /* Queued output is about to be handed to the kernel: a session that holds back part of its
   * output (a response head waiting for its first body) writes it now. */
  void (*before_flush)(void *session);
  /* The session's earliest deadline in loop milliseconds, or 0 for none. */
  uint64_t (*next_deadline)(void *session);
  /* A deadline of the session passed (now is the loop time). */
  void (*on_deadline)(void *session, uint64_t now);
  /* The worker is stopping gracefully: finish what is in progress, then end. */
  void (*on_stop)(void *session);
  /* The transport is closing: the session lets go of it (transport_* must not be called
   * again) and frees itself, or hands what the app still holds to the deferred queue. */
  void (*on_close)(void *session);
} transport_session_ops;

/* Work to run from the loop's deferred-work queue: an idle handle, so that nothing the queue
 * runs is ever inside an API call an app made. Embedded in the object it belongs to. */
typedef struct deferred_work {
  void (*run)(struct deferred_work *work);
  struct deferred_work *next;
  unsigned queued : 1;
  unsigned busy : 1; /* its owner is processing now and sees every change: no need to queue */
} deferred_work;

struct transport {
  stream_handle io;
  uv_timer_t timer;
  transport_group *group;
  const listener *listener;
  const transport_session_ops *ops;
  void *session;
  transport *prev, *next;    /* group->connections */
  transport *dirty_next;
  char *read_buffer;         /* from the group's pool; NULL while empty */
  size_t read_start, read_end;
  byte_buffer out;           /* output not yet handed to the kernel */
  byte_buffer in_flight;     /* bytes owned by the uv_write in progress (writing == 1); its
                                request is allocated only then: most output leaves in one
                                uv_try_write, and idle connections should stay small */
  /* Deadlines of the transport itself, in loop milliseconds (0: not armed). */
  uint64_t write_deadline;   /* the client takes some of the pending output */
  uint64_t linger_deadline;  /* the client closes after the last output */
  uint64_t timer_due;        /* when the timer is armed for; 0 = not armed */
  rate_meter send_meter;     /* min_data_rate of the output, while the server waits on it */
  size_t write_len;          /* bytes of the uv_write in progress when it began */
  size_t write_left;         /* of those, still in libuv's queue at the last progress check */
  unsigned on_dirty : 1;
  unsigned reading : 1;
  unsigned writing : 1;
  unsigned peer_eof : 1;
  unsigned input_paused : 1; /* the session reads nothing now (its app is behind) */
  unsigned input_held : 1;   /* the session holds a span of the read buffer: no compaction */
  unsigned close_after_write : 1;
  unsigned lingering : 1;    /* output done, write side shut: discard input until EOF */
  unsigned closing : 1;
  unsigned open_handles : 2;
  char client_host[46];      /* numeric; "" when the peer has no address (a Unix socket) */
  int client_port;
};

/* The loop, settings and shared state of a worker's transports. */
struct transport_group {
  uv_loop_t *loop;
  const asgid_settings *settings;
  transport *connections; /* every open connection (doubly linked) */
  size_t connection_count;
  /* Called when a connection is gone (its memory freed): accepting may resume. */
  void (*on_connection_closed)(transport_group *group);

  /* Deferred work, run from an idle handle. */
  deferred_work *deferred_head, *deferred_tail;
  uv_idle_t deferred_idle;

  /* Connections with output for the kernel. They are handed over once per loop pass, after
   * all of the pass's I/O callbacks (a check handle), not at the end of each callback: the
   * responses to a batch of requests leave together, so a client waiting for several is
   * woken once rather than once per response (uvloop batches its writes alike). A sleeping
   * peer's wake-up is the dearest part of a write: on a VM, handing each response over as it
   * was made cost ~10 us of kernel time per FastAPI request. A pass that runs long (apps that
   * compute for a while) flushes early: no output waits more than TRANSPORT_FLUSH_DELAY_MAX_NS
   * for the rest of its batch. */
  transport *dirty_head;
  uv_check_t flush_check;
  uint64_t dirty_since_ns; /* when the oldest output not yet flushed was made (uv_hrtime) */

  /* Read buffers of idle connections come back here, so idle connections hold none. */
  char **free_buffers;
  size_t free_buffer_count;

  /* Bytes read from and handed to the kernel over all connections so far (the metrics). */
  uint64_t bytes_received, bytes_sent;
};

/* Size of one connection read buffer. Large enough for most request heads in one read;
 * heads and bodies larger than this stream through it. */
#define TRANSPORT_READ_BUFFER_SIZE 16384

/* How long output made in a loop pass may wait for the pass's other output before it is
 * handed to the kernel anyway. Batching saves the peer's wake-ups only while they are a fair
 * part of the time; past a millisecond they are not, and latency matters more. */
#define TRANSPORT_FLUSH_DELAY_MAX_NS 1000000u

/* ---------------------------------------------------------------- the group */

/* Returns 0 or a negative libuv error. */
int transport_group_init(transport_group *group, uv_loop_t *loop,
                         const asgid_settings *settings);

/* Closes the group's handles and frees its buffers; call after the connections are gone. */
void transport_group_close(transport_group *group);

/* Queues work for the deferred-work queue (once, and not while its owner is busy; again
 * after it ran). */
void transport_group_defer(transport_group *group, deferred_work *work);

/* Takes work off the queue before it ran (its owner is being freed). */
void transport_group_cancel(transport_group *group, deferred_work *work);

/* Runs the deferred work now, and flushes, as the idle handle would on the next pass. For a
 * worker class that drives libuv from another event loop (apps/python/driver.c). */
void transport_group_run_deferred(transport_group *group);

/* At the end of an I/O callback, or of an app step a class runs outside one: flushes now if
 * output has waited TRANSPORT_FLUSH_DELAY_MAX_NS. */
void transport_group_flush_if_overdue(transport_group *group);

/* ---------------------------------------------------------------- one connection */

/* Accepts a connection from a listening stream into a new transport of the group. Returns
 * the transport (reading not started: transport_start does that) or NULL with *error set. */
transport *transport_accept(transport_group *group, uv_stream_t *server, const listener *bound,
                            int *error);

/* Hands the transport to a session (the first one, or the next after an upgrade: the unread
 * input and the deadlines of the transport stay) and lets input flow to it. */
void transport_start(transport *t, const transport_session_ops *ops, void *session);

/* Input not yet consumed: the bytes and their length. The session may rewrite them in place
 * (a WebSocket frame is unmasked where it lies). */
char *transport_unread(transport *t, size_t *len);

/* The session has parsed n bytes of the unread input. */
void transport_consume(transport *t, size_t n);

/* The session keeps pointers into the unread input (a body span the app holds): the buffer
 * is not compacted until it lets go. */
void transport_hold_input(transport *t, int held);

/* The session wants no input now (its app has not asked for more), or wants it again. */
void transport_pause_input(transport *t, int paused);

/* The output buffer, to append bytes to; then transport_mark_dirty. */
byte_buffer *transport_output(transport *t);

/* Output queued and not yet taken by the kernel. */
size_t transport_queued(const transport *t);

/* The peer for a log line: its address, or "unix" for a peer with none (client_host ""). */
const char *transport_peer_name(const transport *t);

/* write_buffer_limit (at least write_buffer_size): the most output a client may have queued. */
size_t transport_output_limit(const transport *t);

/* Output is waiting: it is handed to the kernel at the end of this loop pass. */
void transport_mark_dirty(transport *t);

/* Deadlines are loop milliseconds, 0 meaning "not armed". The earlier of two (either may be
 * unarmed), and whether one has passed. */
static inline uint64_t deadline_earliest(uint64_t a, uint64_t b) {
  return !a || (b && b < a) ? b : a;
}
static inline int deadline_passed(uint64_t deadline, uint64_t now) {
  return deadline && deadline <= now;
}

/* Recomputes the timer after the session changed a deadline. */
void transport_arm_timer(transport *t);

/* Sends what is queued, then shuts the write side and waits (linger_timeout) for the client
 * to close, discarding its input; no more input reaches the session. */
void transport_end_after_output(transport *t);

/* Closes now. The session's on_close runs first. */
void transport_close(transport *t);

/* After on_input, on_peer_eof or an app step outside the loop's own callbacks: stops or
 * resumes reading, returns an empty buffer to the pool, re-arms the timer. */
void transport_settle(transport *t);

/* Internal to net/: the flush batch and the read buffer pool. */
void transport_flush(transport *t);
void transport_group_schedule_flush(transport_group *group);
char *transport_group_take_buffer(transport_group *group);
void transport_group_return_buffer(transport_group *group, char *buffer);

/* Tells every connection's session that the worker stops (on_stop). */
void transport_group_stop_all(transport_group *group);

/* Closes every connection now. */
void transport_group_close_all(transport_group *group);

#endif /* ASGID_NET_TRANSPORT_H */
