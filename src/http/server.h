/*
 * server.h - the protocol side of one worker: accepting on the listeners and starting an
 * HTTP/1.1 session on each connection; stopping.
 *
 * Loop thread only.
 */
#ifndef ASGID_HTTP_SERVER_H
#define ASGID_HTTP_SERVER_H

#include <stdint.h>
#include <uv.h>

#include "http/service.h"
#include "net/listener.h"
#include "net/transport.h"
#include "platform/platform.h"
#include "settings/settings.h"

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
  stream_handle io;
  struct http_server *server;
  const listener *info;
  platform_socket socket; /* under the handle, or parked */
  http_listener_state state;
  int accept_pending; /* connection_limit reached and parking failed: a connection waits */
} http_listener;

typedef struct http_server {
  uv_loop_t *loop;
  const asgid_settings *settings;
  http_service service;      /* what the HTTP sessions and exchanges share */
  transport_group transports; /* the open connections and what they share */

  http_listener *listeners;
  size_t listener_count;
  int accepting;

  /* Connections beyond which accepting pauses: max_connections, or fewer when the worker
   * lowered it to what the open-file limit leaves room for (at the limit, libuv would accept
   * new connections and close them unanswered). */
  size_t connection_limit;
  uint64_t descriptor_warning_due_ms; /* when a pause for descriptors may be logged again */

  void (*on_drained)(struct http_server *server); /* all connections closed while stopping */
} http_server;

/* At most one line per this interval says that connections wait for descriptors. */
#define HTTP_DESCRIPTOR_WARNING_INTERVAL_MS 10000

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
 * handle would on the next loop pass. For a class that drives libuv from another event loop:
 * it can flush what its app sent without a libuv poll (see apps/python/driver.c). The
 * argument is the http_server. */
void http_server_run_deferred(void *server);

/* At the end of an app step a class runs outside the loop's callbacks: flushes now if output
 * has waited TRANSPORT_FLUSH_DELAY_MAX_NS. The argument is the http_server. */
void http_server_flush_if_overdue(void *server);

/* Open connections. */
size_t http_server_connection_count(const http_server *server);

#endif /* ASGID_HTTP_SERVER_H */
