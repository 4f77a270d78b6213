/* server.c - accepting connections and starting their sessions. See server.h. */
#include "http/server.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "http/h1_session.h"
#include "http/proxy_session.h"
#include "log/log.h"
#include "platform/platform.h"

http_limits http_server_limits(const asgid_settings *settings) {
  return (http_limits){
      .request_line = settings->limit_request_line,
      .field_count = (size_t)settings->limit_request_fields,
      .field_size = settings->limit_request_field_size,
      .chunk_extension = settings->limit_chunk_extension,
      .body_size = settings->max_body_size,
  };
}

static void on_connection_closed(transport_group *group);

/* The master checked forwarded_allow_ips at start (preflight.c); a value a reload brought is
 * checked only here: an entry that is not one is left out (its peers are not trusted) and
 * said so, and the worker serves on. */
static void trust_forwarding_peers(address_match *trusted, const asgid_settings *settings) {
  for (size_t i = 0; i < settings->forwarded_allow_ips.count; i++) {
    char why[160];
    if (address_match_add(trusted, settings->forwarded_allow_ips.items[i], why, sizeof why) != 0)
      log_error("forwarded_allow_ips: %s: left out", why);
  }
}

int http_server_init(http_server *server, uv_loop_t *loop, const asgid_settings *settings,
                     asgi_context *asgi) {
  memset(server, 0, sizeof *server);
  server->loop = loop;
  server->settings = settings;
  server->service.settings = settings;
  server->service.asgi = asgi;
  server->service.limits = http_server_limits(settings);
  server->service.websocket = ws_limits_from_settings(settings);
  server->connection_limit = (size_t)settings->max_connections;
  trust_forwarding_peers(&server->service.forwarded_allow, settings);
  int rc = transport_group_init(&server->transports, loop, settings);
  server->transports.on_connection_closed = on_connection_closed;
  return rc;
}

size_t http_server_connection_count(const http_server *server) {
  return server->transports.connection_count;
}

/* ---------------------------------------------------------------- accepting */

static int accept_one(http_listener *l) {
  int rc;
  transport *t = transport_accept(&l->server->transports, &l->io.stream, l->info, &rc);
  if (!t) return rc;
  int started = l->info->proxy_protocol ? proxy_session_start(&l->server->service, t)
                                        : h1_session_start(&l->server->service, t);
  return started == 0 ? 0 : UV_ENOMEM;
}

/* Parking. A worker at its connection_limit (max_connections, or less under the open-file
 * limit) must leave new connections in the kernel's queue: another worker with room takes
 * them from there, or this one once a connection of its own closes. Declining them in
 * on_connection is too late: libuv has accepted one by then, which would wait for this worker
 * even while another one is idle. libuv cannot stop watching a listening handle otherwise, so
 * the worker closes the handle and keeps a duplicate of its socket, on which it listens again
 * below the limit. */

static void on_connection(uv_stream_t *stream, int status);
static void unpark(http_listener *l);

static int at_limit(const http_server *server) {
  return http_server_connection_count(server) >= server->connection_limit;
}

/* A pause below max_connections (the open-file limit leaves less room, worker/descriptors.c)
 * is worth a line, at most every HTTP_DESCRIPTOR_WARNING_INTERVAL_MS. */
static void note_pause(http_server *server) {
  uint64_t now = uv_now(server->loop);
  if (server->connection_limit >= (size_t)server->settings->max_connections ||
      now < server->descriptor_warning_due_ms)
    return;
  server->descriptor_warning_due_ms = now + HTTP_DESCRIPTOR_WARNING_INTERVAL_MS;
  log_warning("%zu connections open, all the open-file limit leaves room for "
              "(max_connections %ld): new ones wait in the listen queue until one closes",
              http_server_connection_count(server), server->settings->max_connections);
}

/* A handle on l->socket, listening. On failure the worker no longer listens there. */
static int listen_on(http_listener *l) {
  http_server *server = l->server;
  int tcp = l->info->kind == LISTENER_TCP;
  int rc = tcp ? uv_tcp_init(server->loop, &l->io.tcp) : uv_pipe_init(server->loop, &l->io.pipe, 0);
  if (rc != 0) {
    l->state = HTTP_CLOSED;
    return rc;
  }
  l->io.handle.data = l;
  l->state = HTTP_LISTENING;
  rc = tcp ? uv_tcp_open(&l->io.tcp, l->socket) : uv_pipe_open(&l->io.pipe, l->socket);
  /* Windows queues 32 accepts per listener by default: the first worker to listen would take
   * most connections from the others. One at a time spreads them (a no-op elsewhere). */
  if (rc == 0 && tcp) rc = uv_tcp_simultaneous_accepts(&l->io.tcp, 0);
  if (rc == 0) rc = uv_listen(&l->io.stream, (int)server->settings->backlog, on_connection);
  return rc;
}

static void on_parked(uv_handle_t *handle) {
  http_listener *l = handle->data;
  if (!l->server->accepting) { /* stopped meanwhile */
    platform_close_socket(l->socket);
    l->state = HTTP_CLOSED;
    return;
  }
  l->state = HTTP_PARKED;
  if (!at_limit(l->server)) unpark(l);
}

static void park_listeners(http_server *server) {
  for (size_t i = 0; i < server->listener_count; i++) {
    http_listener *l = &server->listeners[i];
    if (l->state != HTTP_LISTENING) continue;
    platform_socket copy = platform_dup_socket(l->socket);
    if (copy == PLATFORM_INVALID_SOCKET) continue; /* on_connection declines at the limit */
    l->socket = copy;
    l->state = HTTP_PARKING;
    uv_close(&l->io.handle, on_parked); /* closes the original */
  }
}

static void unpark(http_listener *l) {
  int rc = listen_on(l);
  if (rc == 0) return;
  log_error("listen on %s again after max_connections: %s; this worker no longer accepts "
            "there", l->info->name, uv_strerror(rc));
  if (l->state == HTTP_LISTENING) {
    uv_close(&l->io.handle, NULL); /* closes the socket if the handle took it */
    l->state = HTTP_CLOSED;
  }
}

static void on_connection(uv_stream_t *stream, int status) {
  http_listener *l = stream->data;
  http_server *server = l->server;
  if (status < 0) {
    log_warning("accept on %s: %s", l->info->name, uv_strerror(status));
    return;
  }
  if (!server->accepting) return;
  if (at_limit(server)) {
    /* Parking failed (no descriptor for the duplicate): leaving the connection unaccepted
     * makes libuv stop watching this listener until uv_accept is called again, when a
     * connection closes. */
    l->accept_pending = 1;
    note_pause(server);
    return;
  }
  int rc = accept_one(l);
  if (rc != 0 && rc != UV_EAGAIN) log_warning("accept on %s: %s", l->info->name, uv_strerror(rc));
  if (at_limit(server)) {
    park_listeners(server);
    note_pause(server);
  }
}

int http_server_listen(http_server *server, const listener_set *listeners) {
  server->listeners = calloc(listeners->count ? listeners->count : 1, sizeof *server->listeners);
  if (!server->listeners) return UV_ENOMEM;
  server->accepting = 1;
  for (size_t i = 0; i < listeners->count; i++) {
    http_listener *l = &server->listeners[i];
    l->server = server;
    l->info = &listeners->items[i];
    l->socket = l->info->socket;
    server->listener_count++;
    int rc = listen_on(l);
    if (rc != 0) {
      log_error("listen on %s: %s", l->info->name, uv_strerror(rc));
      return rc;
    }
  }
  return 0;
}

/* A connection is gone: one that waits may be accepted, parked listeners listen again. */
static void on_connection_closed(transport_group *group) {
  http_server *server =
      (http_server *)((char *)group - offsetof(http_server, transports));
  for (size_t i = 0; i < server->listener_count && server->accepting; i++) {
    http_listener *l = &server->listeners[i];
    if (l->accept_pending) {
      l->accept_pending = 0;
      accept_one(l);
      break;
    }
  }
  for (size_t i = 0; i < server->listener_count && server->accepting && !at_limit(server); i++)
    if (server->listeners[i].state == HTTP_PARKED) unpark(&server->listeners[i]);
  if (server->service.stopping && http_server_connection_count(server) == 0 &&
      server->on_drained)
    server->on_drained(server);
}

/* ---------------------------------------------------------------- stopping */

static void close_listeners(http_server *server) {
  if (!server->accepting) return;
  server->accepting = 0;
  for (size_t i = 0; i < server->listener_count; i++) {
    http_listener *l = &server->listeners[i];
    if (l->state == HTTP_LISTENING) uv_close(&l->io.handle, NULL);
    if (l->state == HTTP_PARKED) platform_close_socket(l->socket);
    if (l->state != HTTP_PARKING) l->state = HTTP_CLOSED; /* else on_parked closes it */
  }
}

void http_server_stop(http_server *server, void (*on_drained)(http_server *server)) {
  server->service.stopping = 1;
  server->on_drained = on_drained;
  close_listeners(server);
  transport_group_stop_all(&server->transports);
  if (http_server_connection_count(server) == 0 && on_drained) on_drained(server);
}

void http_server_abort_all(http_server *server) {
  close_listeners(server);
  transport_group_close_all(&server->transports);
}

void http_server_close(http_server *server) {
  close_listeners(server);
  transport_group_close(&server->transports);
  ws_buffer_free(&server->service.websocket_scratch);
  address_match_free(&server->service.forwarded_allow);
}

void http_server_run_deferred(void *server) {
  transport_group_run_deferred(&((http_server *)server)->transports);
}

void http_server_flush_if_overdue(void *server) {
  transport_group_flush_if_overdue(&((http_server *)server)->transports);
}
