/*
 * server.h - the HTTP/1.1 protocol side of one worker: accepting on the listeners, the
 * connections, and what they share (limits, read buffers, the queue of deferred work).
 *
 * Loop thread only.
 */
#ifndef ASGID_HTTP_SERVER_H
#define ASGID_HTTP_SERVER_H

#include <stdint.h>
#include <uv.h>

#include "asgi/request.h"
#include "http/parser.h"
#include "net/listener.h"
#include "platform/platform.h"
#include "settings/settings.h"

typedef struct http_conn http_conn;
typedef struct http_exchange http_exchange;

/* A TCP or Unix stream, seen as whichever libuv type a call needs. */
typedef union http_stream_handle {
  uv_handle_t handle;
  uv_stream_t stream;
  uv_tcp_t tcp;
  uv_pipe_t pipe;
} http_stream_handle;

/* Where a listener is. At its connection_limit (max_connections) a worker parks its listeners (server.c): it closes
 * their handles and keeps the sockets, so that the kernel's queue holds new connections for
 * the other workers, or for this one once a connection of its own closes. */
typedef enum http_listener_state {
  HTTP_LISTENING, /* the handle accepts */
  HTTP_PARKING,   /* the handle is closing; `socket` is a duplicate of its socket */
  HTTP_PARKED,    /* no handle; `socket` waits to be listened on again */
  HTTP_CLOSED     /* stopped for good */
} http_listener_state;

/* One listening socket as the worker sees it. */
typedef struct http_listener {
  http_stream_handle io;
  struct http_server *server;
  const listener *info;
  platform_socket socket; /* under the handle, or parked */
  http_listener_state state;
  int accept_pending; /* connection_limit reached and parking failed: a connection waits */
} http_listener;

typedef struct http_server {
  uv_loop_t *loop;
  const asgid_settings *settings;
  asgi_context *asgi;
  http_limits limits;

  http_listener *listeners;
  size_t listener_count;
  int accepting;

  http_conn *connections; /* every open connection (doubly linked) */
  size_t connection_count;
  /* Connections beyond which accepting pauses: max_connections, or fewer when the worker
   * lowered it to what the open-file limit leaves room for (at the limit, libuv would accept
   * new connections and close them unanswered). */
  size_t connection_limit;
  uint64_t descriptor_warning_due_ms; /* when a pause for descriptors may be logged again */

  /* Exchanges with deferred work (an event to produce for the app): run from an idle
   * handle so that no callback ever runs inside an api call. */
  http_exchange *pump_head;
  uv_idle_t pump_idle;

  /* Connections with response bytes for the kernel. They are handed over once per loop
   * pass, after all of the pass's I/O callbacks (a check handle), not at the end of each
   * callback: the responses to a batch of requests leave together, so a client waiting for
   * several is woken once rather than once per response (uvloop batches its writes alike).
   * A sleeping peer's wake-up is the dearest part of a write: on a VM, handing each response
   * over as it was made cost ~10 us of kernel time per FastAPI request. A pass that runs
   * long (apps that compute for a while) flushes early: no response waits more than
   * HTTP_FLUSH_DELAY_MAX_NS for the rest of its batch. */
  http_conn *dirty_head;
  uv_check_t flush_check;
  uint64_t dirty_since_ns; /* when the oldest output not yet flushed was made (uv_hrtime) */

  /* Read buffers of idle connections are returned here, so idle connections hold none. */
  char **free_buffers;
  size_t free_buffer_count;

  uint64_t requests_served;
  uint64_t requests_in_progress; /* begun, the app not finished yet: limit_concurrency */
  uint64_t max_requests; /* on_max_requests runs when requests_served reaches it; 0: never */
  void (*on_max_requests)(struct http_server *server);
  void (*on_drained)(struct http_server *server); /* all connections closed while stopping */
  int stopping;
} http_server;

/* At most one line per this interval says that connections wait for descriptors. */
#define HTTP_DESCRIPTOR_WARNING_INTERVAL_MS 10000

/* Size of one connection read buffer. Large enough for most request heads in one read;
 * heads and bodies larger than this stream through it. */
#define HTTP_READ_BUFFER_SIZE 16384

/* How long a response made in a loop pass may wait for the pass's other responses before it
 * is handed to the kernel anyway. Batching saves the peer's wake-ups only while they are a
 * fair part of the time; past a millisecond they are not, and latency matters more. */
#define HTTP_FLUSH_DELAY_MAX_NS 1000000u

/* The limits the request parser enforces, from the settings (tests/fuzz drives the parser
 * with the same). */
http_limits http_server_limits(const asgid_settings *settings);

/* Prepares the protocol side of a worker. Returns 0 or a negative libuv error. */
int http_server_init(http_server *server, uv_loop_t *loop, const asgid_settings *settings,
                     asgi_context *asgi);

/* Starts accepting on already-open listening sockets. Returns 0 or a negative libuv error
 * (with the listener's name logged). */
int http_server_listen(http_server *server, const listener_set *listeners);

/* Graceful stop, step one: stop accepting and close idle keep-alive connections; busy ones
 * close when their response is done. on_drained runs when none is left. */
void http_server_stop(http_server *server, void (*on_drained)(http_server *server));

/* Closes every connection at once (fast stop, or graceful_timeout expired). */
void http_server_abort_all(http_server *server);

/* Closes the server's own handles; call after the connections are gone. */
void http_server_close(http_server *server);

/* Runs the deferred work now (the exchanges to move on, the output to flush), as the idle
 * handle would on the next loop pass. For a class that drives libuv from another event
 * loop: it can flush what its app sent without a libuv poll (see apps/python/driver.c).
 * The argument is the http_server. */
void http_server_run_deferred(void *server);

/* Internal to http/: the deferred-work queue and output flushing. */
void http_server_schedule_pump(http_server *server, http_exchange *ex);
void http_server_unschedule_pump(http_server *server, http_exchange *ex);
/* Output is waiting: the flush runs at the end of this loop pass, and the pass's poll does
 * not block first (output made by a timer, or outside the server's callbacks). */
void http_server_schedule_flush(http_server *server);
/* At the end of an I/O callback, or of an app step the class runs outside one: flushes now
 * if output has waited HTTP_FLUSH_DELAY_MAX_NS. The argument is the http_server. */
void http_server_flush_if_overdue(void *server);
char *http_server_take_buffer(http_server *server);
void http_server_return_buffer(http_server *server, char *buffer);
void http_server_connection_closed(http_server *server, http_conn *conn);

#endif /* ASGID_HTTP_SERVER_H */
