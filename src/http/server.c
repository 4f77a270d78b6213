/* server.c - accepting connections and what they share. See server.h. */
#include "http/server.h"

#include <stdlib.h>
#include <string.h>

#include "http/conn.h"
#include "log/log.h"
#include "platform/platform.h"

/* Idle connections give their read buffer back; the pool keeps this many for reuse and
 * frees the rest, so a burst does not pin memory forever. */
#define BUFFER_POOL_MAX 256

static void on_pump(uv_idle_t *idle);
static void on_flush_check(uv_check_t *check);
static void flush_dirty(http_server *server);

http_limits http_server_limits(const asgid_settings *settings) {
  return (http_limits){
      .request_line = settings->limit_request_line,
      .field_count = (size_t)settings->limit_request_fields,
      .field_size = settings->limit_request_field_size,
      .chunk_extension = settings->limit_chunk_extension,
      .body_size = settings->max_body_size,
  };
}

int http_server_init(http_server *server, uv_loop_t *loop, const asgid_settings *settings,
                     asgi_context *asgi) {
  memset(server, 0, sizeof *server);
  server->loop = loop;
  server->settings = settings;
  server->asgi = asgi;
  server->limits = http_server_limits(settings);
  server->connection_limit = (size_t)settings->max_connections;
  server->free_buffers = calloc(BUFFER_POOL_MAX, sizeof *server->free_buffers);
  if (!server->free_buffers) return UV_ENOMEM;
  int rc = uv_idle_init(loop, &server->pump_idle);
  if (rc != 0) return rc;
  server->pump_idle.data = server;
  rc = uv_check_init(loop, &server->flush_check);
  if (rc != 0) return rc;
  server->flush_check.data = server;
  return 0;
}

/* ---------------------------------------------------------------- accepting */

static int accept_one(http_listener *l) {
  http_server *server = l->server;
  http_conn *conn = calloc(1, sizeof *conn);
  if (!conn) return UV_ENOMEM;
  int rc = l->info->kind == LISTENER_TCP ? uv_tcp_init(server->loop, &conn->io.tcp)
                                         : uv_pipe_init(server->loop, &conn->io.pipe, 0);
  if (rc != 0) {
    free(conn);
    return rc;
  }
  conn->io.handle.data = conn;
  rc = uv_accept(&l->io.stream, &conn->io.stream);
  if (rc != 0) {
    /* The handle was initialised: it must be closed through the loop before freeing. */
    uv_close(&conn->io.handle, (uv_close_cb)free);
    return rc;
  }
  conn->next = server->connections;
  if (server->connections) server->connections->prev = conn;
  server->connections = conn;
  server->connection_count++;
  http_conn_start(conn, server, l->info);
  return 0;
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
  return server->connection_count >= server->connection_limit;
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
              server->connection_count, server->settings->max_connections);
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

void http_server_connection_closed(http_server *server, http_conn *conn) {
  if (conn->prev)
    conn->prev->next = conn->next;
  else
    server->connections = conn->next;
  if (conn->next) conn->next->prev = conn->prev;
  server->connection_count--;
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
  if (server->stopping && server->connection_count == 0 && server->on_drained)
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
  server->stopping = 1;
  server->on_drained = on_drained;
  close_listeners(server);
  for (http_conn *conn = server->connections, *next; conn; conn = next) {
    next = conn->next;
    http_conn_stop_if_idle(conn);
  }
  if (server->connection_count == 0 && on_drained) on_drained(server);
}

void http_server_abort_all(http_server *server) {
  close_listeners(server);
  for (http_conn *conn = server->connections, *next; conn; conn = next) {
    next = conn->next;
    http_conn_close(conn);
  }
}

void http_server_close(http_server *server) {
  close_listeners(server);
  uv_close((uv_handle_t *)&server->pump_idle, NULL);
  uv_close((uv_handle_t *)&server->flush_check, NULL);
  for (size_t i = 0; i < server->free_buffer_count; i++) free(server->free_buffers[i]);
  server->free_buffer_count = 0;
}

/* ---------------------------------------------------------------- deferred work */

void http_server_schedule_pump(http_server *server, http_exchange *ex) {
  if (ex->in_pump_queue) return;
  ex->in_pump_queue = 1;
  ex->pump_next = server->pump_head;
  server->pump_head = ex;
  uv_idle_start(&server->pump_idle, on_pump);
}

void http_server_unschedule_pump(http_server *server, http_exchange *ex) {
  for (http_exchange **link = &server->pump_head; *link; link = &(*link)->pump_next) {
    if (*link == ex) {
      *link = ex->pump_next;
      break;
    }
  }
  ex->in_pump_queue = 0;
}

static void on_pump(uv_idle_t *idle) {
  http_server *server = idle->data;
  while (server->pump_head) {
    http_exchange *ex = server->pump_head;
    server->pump_head = ex->pump_next;
    ex->in_pump_queue = 0;
    http_exchange_pump(ex);
  }
  flush_dirty(server);
}

void http_server_schedule_flush(http_server *server) {
  if (!uv_is_active((uv_handle_t *)&server->flush_check)) {
    server->dirty_since_ns = uv_hrtime();
    uv_check_start(&server->flush_check, on_flush_check);
  }
  uv_idle_start(&server->pump_idle, on_pump); /* an active idle handle: the poll won't block */
}

void http_server_flush_if_overdue(void *arg) {
  http_server *server = arg;
  if (server->dirty_head && uv_hrtime() - server->dirty_since_ns >= HTTP_FLUSH_DELAY_MAX_NS)
    flush_dirty(server);
}

static void on_flush_check(uv_check_t *check) { flush_dirty(check->data); }

void http_server_run_deferred(void *arg) {
  http_server *server = arg;
  if (uv_is_active((uv_handle_t *)&server->pump_idle)) on_pump(&server->pump_idle);
}

static void flush_dirty(http_server *server) {
  while (server->dirty_head) {
    http_conn *conn = server->dirty_head;
    server->dirty_head = conn->dirty_next;
    conn->on_dirty = 0;
    http_conn_flush(conn);
  }
  uv_check_stop(&server->flush_check);
  if (!server->pump_head) uv_idle_stop(&server->pump_idle);
}

char *http_server_take_buffer(http_server *server) {
  if (server->free_buffer_count) return server->free_buffers[--server->free_buffer_count];
  return malloc(HTTP_READ_BUFFER_SIZE);
}

void http_server_return_buffer(http_server *server, char *buffer) {
  if (server->free_buffer_count < BUFFER_POOL_MAX)
    server->free_buffers[server->free_buffer_count++] = buffer;
  else
    free(buffer);
}
