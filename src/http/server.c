/* server.c - accepting connections and what they share. See server.h. */
#include "http/server.h"

#include <stdlib.h>
#include <string.h>

#include "http/conn.h"
#include "log/log.h"

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

static void on_connection(uv_stream_t *stream, int status) {
  http_listener *l = stream->data;
  http_server *server = l->server;
  if (status < 0) {
    log_warning("accept on %s: %s", l->info->name, uv_strerror(status));
    return;
  }
  if (!server->accepting) return;
  if (server->connection_count >= server->connection_limit) {
    /* Leaving the connection unaccepted makes libuv stop watching this listener until
     * uv_accept is called again, when a connection closes: the kernel queue holds the rest. */
    l->accept_pending = 1;
    uint64_t now = uv_now(server->loop);
    if (server->connection_limit < (size_t)server->settings->max_connections &&
        now >= server->descriptor_warning_due_ms) {
      server->descriptor_warning_due_ms = now + HTTP_DESCRIPTOR_WARNING_INTERVAL_MS;
      log_warning("%zu connections open, all the open-file limit leaves room for "
                  "(max_connections %ld): new ones wait in the listen queue until one closes",
                  server->connection_count, server->settings->max_connections);
    }
    return;
  }
  int rc = accept_one(l);
  if (rc != 0 && rc != UV_EAGAIN) log_warning("accept on %s: %s", l->info->name, uv_strerror(rc));
}

int http_server_listen(http_server *server, const listener_set *listeners) {
  server->listeners = calloc(listeners->count ? listeners->count : 1, sizeof *server->listeners);
  if (!server->listeners) return UV_ENOMEM;
  for (size_t i = 0; i < listeners->count; i++) {
    http_listener *l = &server->listeners[i];
    const listener *info = &listeners->items[i];
    l->server = server;
    l->info = info;
    int rc;
    if (info->kind == LISTENER_TCP) {
      rc = uv_tcp_init(server->loop, &l->io.tcp);
      if (rc == 0) rc = uv_tcp_open(&l->io.tcp, info->socket);
    } else {
      rc = uv_pipe_init(server->loop, &l->io.pipe, 0);
      if (rc == 0) rc = uv_pipe_open(&l->io.pipe, info->socket);
    }
    l->io.handle.data = l;
    server->listener_count++;
    if (rc == 0) rc = uv_listen(&l->io.stream, (int)server->settings->backlog, on_connection);
    if (rc != 0) {
      log_error("listen on %s: %s", info->name, uv_strerror(rc));
      return rc;
    }
  }
  server->accepting = 1;
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
  if (server->stopping && server->connection_count == 0 && server->on_drained)
    server->on_drained(server);
}

/* ---------------------------------------------------------------- stopping */

static void close_listeners(http_server *server) {
  if (!server->accepting) return;
  server->accepting = 0;
  for (size_t i = 0; i < server->listener_count; i++)
    if (!uv_is_closing(&server->listeners[i].io.handle))
      uv_close(&server->listeners[i].io.handle, NULL);
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
