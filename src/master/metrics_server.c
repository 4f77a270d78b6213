/* metrics_server.c - the master's metrics and health endpoints. See metrics_server.h. */
#include "master/metrics_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "log/log_rate_limit.h"
#include "master/metrics_request.h"
#include "net/byte_buffer.h"
#include "net/stream_handle.h"

/* Connections are limited (metrics_connections): a scraper and a few probes need a handful.
 * Beyond the limit the oldest connection still without a whole head is closed to make room
 * (or, when every one has its answer on the way, the new one is), so that a flood can neither
 * grow the master's memory nor keep a probe out. Each has metrics_timeout, short by default,
 * for its head and again for its answer: scrapers and probes send their head at once and read
 * the answer at once, and a short deadline frees a slot held by a client that does not. */
/* Listen queue of the metrics socket. */
#define BACKLOG 64

typedef struct metrics_connection {
  struct metrics_server *server;
  stream_handle io;
  uv_timer_t timer;
  uv_write_t write;
  uv_shutdown_t shutdown;
  int open_handles;
  int answered;
  size_t len;
  char head[METRICS_REQUEST_MAX];
  byte_buffer answer;
  struct metrics_connection *next;
} metrics_connection;

struct metrics_server {
  master *m;
  stream_handle io;
  listener_set socket; /* the one listening socket, closed with the handle */
  platform_socket fd;  /* that socket, owned by the handle */
  int listening;
  int closing;
  /* A connection that could not get a metrics_connection (out of memory) is accepted into this
   * handle and closed: one never accepted would stop libuv watching the listener. */
  stream_handle refused;
  int refusing;         /* refused is open or closing */
  int refusal_pending;  /* a connection waits for refused to be free */
  size_t connections;
  metrics_connection *first;
  /* Lines any client can cause at will: at most one a second at info. */
  log_rate_limit bad_request_log, eviction_log;
};

static void free_if_done(metrics_server *server) {
  if (server->closing && !server->listening && server->connections == 0 && !server->refusing)
    free(server);
}

static void on_server_closed(uv_handle_t *handle) {
  metrics_server *server = handle->data;
  server->listening = 0;
  free_if_done(server);
}

static void on_connection_closed(uv_handle_t *handle) {
  metrics_connection *c = handle->data;
  if (--c->open_handles > 0) return;
  metrics_server *server = c->server;
  for (metrics_connection **p = &server->first; *p; p = &(*p)->next)
    if (*p == c) {
      *p = c->next;
      break;
    }
  server->connections--;
  byte_buffer_free(&c->answer);
  free(c);
  free_if_done(server);
}

static void close_connection(metrics_connection *c) {
  if (!uv_is_closing(&c->io.handle)) uv_close(&c->io.handle, on_connection_closed);
  if (!uv_is_closing((uv_handle_t *)&c->timer))
    uv_close((uv_handle_t *)&c->timer, on_connection_closed);
}

static void on_timeout(uv_timer_t *timer) { close_connection(timer->data); }

static void on_shutdown(uv_shutdown_t *req, int status) {
  if (status != 0) close_connection(req->data);
}

/* The answer is out: the write side ends, and what the client still sends is read and dropped
 * until it closes (or metrics_timeout): closing with unread bytes would reset the connection
 * and could lose the answer. */
static void on_answer_written(uv_write_t *req, int status) {
  metrics_connection *c = req->data;
  c->shutdown.data = c;
  if (status != 0 || uv_shutdown(&c->shutdown, &c->io.stream, on_shutdown) != 0)
    close_connection(c);
  else
    uv_timer_start(&c->timer, on_timeout, c->server->m->settings->metrics_timeout, 0);
}

/* The phrases of the few statuses this listener sends. http/status.c has the full table, but
 * the master may not include http/ (the layer rule), and these seven do not justify moving
 * it down. */
static const char *reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
  }
  return "Unknown";
}

/* The body and status of a request that reached a route. */
static int route_body(metrics_server *server, metrics_route route, byte_buffer *body,
                      const char **type) {
  *type = "text/plain; charset=utf-8";
  if (route == METRICS_ROUTE_HEALTHZ) return byte_buffer_append_str(body, "ok\n") ? 500 : 200;
  if (route == METRICS_ROUTE_READYZ) {
    int ready = master_is_ready(server->m);
    if (byte_buffer_append_str(body, ready ? "ready\n" : "not ready\n") != 0) return 500;
    return ready ? 200 : 503;
  }
  *type = METRICS_TEXT_CONTENT_TYPE;
  return master_metrics_write(server->m, body) == 0 ? 200 : 500;
}

static void answer(metrics_connection *c, const metrics_request *request) {
  c->answered = 1;
  /* The write deadline: a client that never reads a large answer gives its slot back. */
  uv_timer_start(&c->timer, on_timeout, c->server->m->settings->metrics_timeout, 0);
  byte_buffer body = {0};
  const char *type = "text/plain; charset=utf-8";
  int status = request->status;
  if (status == 200) {
    status = route_body(c->server, request->route, &body, &type);
  } else {
    byte_buffer_appendf(&body, "%d %s\n", status, reason_phrase(status));
  }
  int failed = byte_buffer_appendf(&c->answer,
                                   "HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %zu\r\n"
                                   "%scache-control: no-store\r\nconnection: close\r\n\r\n",
                                   status, reason_phrase(status), type, body.len,
                                   status == 405 ? "allow: GET, HEAD\r\n" : "");
  if (!request->head && !failed) failed = byte_buffer_append(&c->answer, body.data, body.len);
  byte_buffer_free(&body);
  uv_buf_t buf = uv_buf_init(c->answer.data, (unsigned)c->answer.len);
  c->write.data = c;
  if (failed || uv_write(&c->write, &c->io.stream, &buf, 1, on_answer_written) != 0)
    close_connection(c);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  metrics_connection *c = handle->data;
  if (c->answered) c->len = 0; /* what follows the head is dropped */
  *buf = uv_buf_init(c->head + c->len, (unsigned)(sizeof c->head - c->len));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  (void)buf;
  metrics_connection *c = stream->data;
  if (nread == 0) return;
  if (nread < 0 || c->answered) {
    if (nread < 0) close_connection(c); /* gone, or done after its answer */
    return;
  }
  c->len += (size_t)nread;
  metrics_request request = metrics_request_parse(c->head, c->len);
  if (request.status == 0) return;
  if (request.rule)
    log_rate_limited(&c->server->bad_request_log, uv_now(stream->loop),
                     "metrics listener: %d: %s", request.status, request.rule);
  answer(c, &request);
}

static int stream_init(metrics_server *server, stream_handle *io) {
  uv_loop_t *loop = &server->m->loop;
  return server->socket.items[0].kind == LISTENER_TCP ? uv_tcp_init(loop, &io->tcp)
                                                       : uv_pipe_init(loop, &io->pipe, 0);
}

static void on_connection(uv_stream_t *stream, int status);

static void on_refused_closed(uv_handle_t *handle) {
  metrics_server *server = handle->data;
  server->refusing = 0;
  if (server->refusal_pending && !server->closing) {
    server->refusal_pending = 0;
    on_connection(&server->io.stream, 0); /* accepts the connection that waited */
  }
  free_if_done(server);
}

static void refuse(metrics_server *server) {
  if (server->refusing) {
    server->refusal_pending = 1; /* libuv stops watching until it is accepted */
    return;
  }
  if (stream_init(server, &server->refused) != 0) return;
  server->refusing = 1;
  server->refused.handle.data = server;
  (void)uv_accept(&server->io.stream, &server->refused.stream);
  uv_close(&server->refused.handle, on_refused_closed);
}

/* Makes room for a new connection: closes the oldest that has not sent a whole head (the
 * list is newest first). Returns 0 if there was none to close. */
static int evict_oldest_without_head(metrics_server *server) {
  metrics_connection *oldest = NULL;
  for (metrics_connection *c = server->first; c; c = c->next)
    if (!c->answered && !uv_is_closing(&c->io.handle)) oldest = c;
  if (!oldest) return 0;
  log_rate_limited(&server->eviction_log, uv_now(&server->m->loop),
                   "metrics listener: full: closed the oldest connection without a whole head");
  close_connection(oldest);
  return 1;
}

/* Connections that still hold a slot (those closing are gone by the next loop iteration). */
static size_t open_connections(const metrics_server *server) {
  size_t n = 0;
  for (const metrics_connection *c = server->first; c; c = c->next)
    if (!uv_is_closing(&c->io.handle)) n++;
  return n;
}

static void on_connection(uv_stream_t *stream, int status) {
  metrics_server *server = stream->data;
  if (status != 0) {
    log_warning("metrics listener: accepting a connection failed: %s", uv_strerror(status));
    return;
  }
  metrics_connection *c = calloc(1, sizeof *c);
  if (!c || stream_init(server, &c->io) != 0) {
    free(c);
    log_error("metrics listener: out of memory for a connection");
    refuse(server);
    return;
  }
  uv_loop_t *loop = &server->m->loop;
  uv_timer_init(loop, &c->timer);
  c->server = server;
  c->io.handle.data = c->timer.data = c;
  c->open_handles = 2;
  int full = (long)open_connections(server) >= server->m->settings->metrics_connections &&
             !evict_oldest_without_head(server);
  c->next = server->first;
  server->first = c;
  server->connections++;
  if (uv_accept(stream, &c->io.stream) != 0 || full ||
      uv_read_start(&c->io.stream, on_alloc, on_read) != 0) {
    close_connection(c);
    return;
  }
  uv_timer_start(&c->timer, on_timeout, server->m->settings->metrics_timeout, 0);
}

platform_socket metrics_server_inherited(void) {
  const char *text = getenv(METRICS_INHERIT_ENV);
  platform_socket s = text && *text ? (platform_socket)strtol(text, NULL, 10)
                                    : PLATFORM_INVALID_SOCKET;
  uv_os_unsetenv(METRICS_INHERIT_ENV); /* not for the workers or their children */
  return s;
}

platform_socket metrics_server_socket(const metrics_server *server) { return server->fd; }

metrics_server *metrics_server_start(master *m, const char *bind, platform_socket offered,
                                     char *why, size_t why_size) {
  metrics_server *server = calloc(1, sizeof *server);
  listener *l = calloc(1, sizeof *l);
  if (!server || !l) {
    free(server);
    free(l);
    if (offered != PLATFORM_INVALID_SOCKET) platform_close_socket(offered);
    snprintf(why, why_size, "metrics_bind %s: out of memory", bind);
    return NULL;
  }
  server->m = m;
  l->socket = PLATFORM_INVALID_SOCKET;
  server->socket.items = l;
  server->socket.count = 1;
  char err[512];
  /* SO_REUSEPORT only as the app's listeners have it: a master started by USR2 gets the old
   * one's socket instead. */
  if (listener_open_address(l, bind, BACKLOG, (int)m->settings->reuse_port, offered, err,
                            sizeof err) != 0) {
    snprintf(why, why_size, "metrics_bind %s: %s", bind, err);
    listener_set_close(&server->socket, 0);
    free(server);
    return NULL;
  }
  int tcp = l->kind == LISTENER_TCP;
  int rc = tcp ? uv_tcp_init(&m->loop, &server->io.tcp)
               : uv_pipe_init(&m->loop, &server->io.pipe, 0);
  if (rc != 0) {
    snprintf(why, why_size, "metrics_bind %s: %s", bind, uv_strerror(rc));
    listener_set_close(&server->socket, 1);
    free(server);
    return NULL;
  }
  server->io.handle.data = server;
  server->listening = 1;
  server->fd = l->socket;
  rc = tcp ? uv_tcp_open(&server->io.tcp, l->socket) : uv_pipe_open(&server->io.pipe, l->socket);
  if (rc == 0) l->socket = PLATFORM_INVALID_SOCKET; /* the handle owns it now */
  if (rc == 0) rc = uv_listen(&server->io.stream, BACKLOG, on_connection);
  if (rc != 0) {
    snprintf(why, why_size, "metrics_bind %s: %s", bind, uv_strerror(rc));
    metrics_server_close(server, 1);
    return NULL;
  }
  log_info("metrics and health on %s%s (/metrics, /healthz, /readyz)",
           tcp ? "http://" : "unix:", l->name);
  return server;
}

void metrics_server_close(metrics_server *server, int remove_unix_file) {
  if (!server) return;
  server->closing = 1;
  uv_close(&server->io.handle, on_server_closed);
  server->refusal_pending = 0;
  listener_set_close(&server->socket, remove_unix_file);
  for (metrics_connection *c = server->first; c; c = c->next) close_connection(c);
}
