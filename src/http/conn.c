/* conn.c - one HTTP/1.1 connection: reading, parsing, deadlines, writing. See conn.h. */
#include "http/conn.h"

#include <stdlib.h>
#include <string.h>

#include "log/log.h"

static uint64_t now_ms(const http_conn *conn) { return uv_now(conn->server->loop); }

static const asgid_settings *settings_of(const http_conn *conn) {
  return conn->server->settings;
}

static void advance(http_conn *conn);
static void update_reading(http_conn *conn);
static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

/* ---------------------------------------------------------------- closing */

static void on_handle_closed(uv_handle_t *handle) {
  http_conn *conn = handle->data;
  if (--conn->open_handles > 0) return;
  http_buffer_free(&conn->out);
  http_buffer_free(&conn->in_flight);
  if (conn->read_buffer) http_server_return_buffer(conn->server, conn->read_buffer);
  http_server_connection_closed(conn->server, conn);
  free(conn);
}

void http_conn_close(http_conn *conn) {
  if (conn->closing) return;
  conn->closing = 1;
  if (conn->ex) {
    http_exchange *ex = conn->ex;
    conn->ex = NULL;
    http_exchange_detach(ex);
  }
  uv_close(&conn->io.handle, on_handle_closed);
  uv_close((uv_handle_t *)&conn->timer, on_handle_closed);
}

/* When a stop leaves an idle connection: a client may be sending its next request right now,
 * so the connection stays for stop_idle_timeout and that request is served (with
 * "connection: close") instead of meeting a closed socket. */
static void set_stop_idle_deadline(http_conn *conn) {
  uint64_t grace = conn->server->settings->stop_idle_timeout;
  if (!grace) {
    http_conn_close(conn);
    return;
  }
  uint64_t deadline = now_ms(conn) + grace;
  if (!conn->idle_deadline || deadline < conn->idle_deadline) conn->idle_deadline = deadline;
  http_conn_arm_timer(conn);
}

/* Between requests the keep-alive deadline runs from when the last response has left: a
 * client still taking a large response is not idle (write_timeout and min_data_rate watch
 * it). Until then, or while the next request's bytes are already here, nothing is set. */
static void start_idle_deadline(http_conn *conn) {
  if (conn->idle_deadline || conn->ex || conn->writing || conn->out.len ||
      conn->close_after_write || conn->lingering || conn->read_end != conn->read_start)
    return;
  conn->idle_deadline = now_ms(conn) + settings_of(conn)->keepalive_timeout;
  if (conn->server->stopping) set_stop_idle_deadline(conn);
}

void http_conn_stop_if_idle(http_conn *conn) {
  if (conn->ex || conn->writing || conn->out.len || conn->close_after_write || conn->lingering)
    return;
  set_stop_idle_deadline(conn);
}

/* ---------------------------------------------------------------- deadlines */

static void on_timer(uv_timer_t *timer);

/* Response bytes the kernel took from the uv_write in progress. */
static size_t write_progress(const http_conn *conn) {
  if (!conn->writing) return 0;
  size_t left = uv_stream_get_write_queue_size(&conn->io.stream);
  return left < conn->write_len ? conn->write_len - left : 0;
}

static int body_too_slow(const http_conn *conn, uint64_t now) {
  const asgid_settings *s = settings_of(conn);
  return http_rate_meter_too_slow(&conn->body_meter, now, 0, s->min_data_rate,
                                  s->min_data_rate_grace);
}

static int send_too_slow(const http_conn *conn, uint64_t now) {
  const asgid_settings *s = settings_of(conn);
  return http_rate_meter_too_slow(&conn->send_meter, now, write_progress(conn),
                                  s->min_data_rate, s->min_data_rate_grace);
}

static uint64_t earliest(uint64_t a, uint64_t b) { return !a || (b && b < a) ? b : a; }

/* When a transfer the server waits on falls below min_data_rate unless more bytes move. */
static uint64_t rate_deadline(const http_conn *conn) {
  const asgid_settings *s = settings_of(conn);
  uint64_t now = now_ms(conn);
  return earliest(http_rate_meter_deadline(&conn->body_meter, now, 0, s->min_data_rate,
                                           s->min_data_rate_grace),
                  http_rate_meter_deadline(&conn->send_meter, now, write_progress(conn),
                                           s->min_data_rate, s->min_data_rate_grace));
}

void http_conn_arm_timer(http_conn *conn) {
  if (conn->closing) return;
  /* Called a few times per request: most calls find no transfer waiting on the client. */
  int waiting = http_rate_meter_running(&conn->body_meter) ||
                http_rate_meter_running(&conn->send_meter);
  const uint64_t deadlines[] = {conn->header_deadline, conn->body_deadline,
                                conn->drain_deadline,  conn->write_deadline,
                                conn->idle_deadline,   conn->linger_deadline,
                                waiting ? rate_deadline(conn) : 0};
  /* The earliest armed one: 0 (not armed) minus one wraps to the largest value. */
  uint64_t earliest_minus_one = UINT64_MAX;
  for (size_t i = 0; i < sizeof deadlines / sizeof deadlines[0]; i++)
    if (deadlines[i] - 1 < earliest_minus_one) earliest_minus_one = deadlines[i] - 1;
  if (earliest_minus_one == UINT64_MAX) return;
  uint64_t due = earliest_minus_one + 1;
  /* Deadlines mostly move later (every request pushes them): a timer already armed for an
   * earlier time is left alone and re-armed when it fires, which keeps timer operations
   * off the per-request path. */
  if (conn->timer_due && conn->timer_due <= due) return;
  conn->timer_due = due;
  uint64_t now = now_ms(conn);
  uv_timer_start(&conn->timer, on_timer, due > now ? due - now : 0, 0);
}

static int expired(uint64_t deadline, uint64_t now) { return deadline && deadline <= now; }

static void end_drain(http_conn *conn, const char *why);

/* write_timeout is the longest time without progress: a client that takes some bytes within
 * it, however few, gets another write_timeout (min_data_rate bounds how slow it may be). */
static void on_write_deadline(http_conn *conn, uint64_t now) {
  size_t left = uv_stream_get_write_queue_size(&conn->io.stream);
  if (left < conn->write_left) {
    conn->write_left = left;
    conn->write_deadline = now + settings_of(conn)->write_timeout;
    return;
  }
  log_info("closing connection from %s: client took no response byte within write_timeout",
           conn->client_host);
  http_conn_close(conn);
}

static void on_rate_deadline(http_conn *conn, uint64_t now) {
  if (body_too_slow(conn, now)) {
    http_rate_meter_reset(&conn->body_meter);
    if (conn->ex && conn->ex->draining)
      end_drain(conn, "the unread request body arrived slower than min_data_rate");
    else
      http_conn_fail(conn, 408, "request body arrived slower than min_data_rate");
  } else if (send_too_slow(conn, now)) {
    log_info("closing connection from %s: client took the response slower than "
             "min_data_rate", conn->client_host);
    http_conn_close(conn);
  }
}

static void on_timer(uv_timer_t *timer) {
  http_conn *conn = timer->data;
  uint64_t now = now_ms(conn);
  conn->timer_due = 0;
  if (expired(conn->write_deadline, now)) {
    on_write_deadline(conn, now);
  } else if (expired(conn->linger_deadline, now)) {
    http_conn_close(conn);
  } else if (expired(conn->header_deadline, now)) {
    conn->header_deadline = 0;
    if (conn->ex) /* part of a head came */
      http_conn_fail(conn, 408, "request head not received within header_timeout");
    else
      http_conn_close(conn); /* no byte of a request came: nothing to answer */
  } else if (expired(conn->body_deadline, now)) {
    conn->body_deadline = 0;
    if (conn->ex && conn->ex->draining)
      end_drain(conn, "the unread request body stopped for body_timeout");
    else
      http_conn_fail(conn, 408, "request body not received within body_timeout");
  } else if (expired(conn->drain_deadline, now)) {
    end_drain(conn, "the unread request body was not all received within drain_timeout");
  } else if (expired(rate_deadline(conn), now)) {
    on_rate_deadline(conn, now);
  } else if (expired(conn->idle_deadline, now)) {
    conn->idle_deadline = 0;
    http_conn_close(conn);
  }
  http_conn_arm_timer(conn);
}

/* ---------------------------------------------------------------- writing */

static void start_lingering_close(http_conn *conn);

size_t http_conn_queued(const http_conn *conn) { return conn->out.len + conn->in_flight.len; }

size_t http_conn_output_limit(const http_conn *conn) {
  const asgid_settings *s = settings_of(conn);
  return s->write_buffer_limit > s->write_buffer_size ? s->write_buffer_limit
                                                      : s->write_buffer_size;
}

/* An app that waits for the client to catch up may send again once half of
 * write_buffer_size is left. */
static void notify_writable(http_conn *conn) {
  http_exchange *ex = conn->ex;
  if (ex && ex->wants_writable &&
      http_conn_queued(conn) <= settings_of(conn)->write_buffer_size / 2) {
    ex->wants_writable = 0;
    asgi_request_writable(&ex->request);
  }
}

/* Everything handed to the kernel: close if that was the last response. */
static void on_output_drained(http_conn *conn) {
  conn->write_deadline = 0;
  if (conn->close_after_write && !conn->lingering) start_lingering_close(conn);
  if (conn->closing) return;
  start_idle_deadline(conn);
  http_conn_arm_timer(conn);
}

static void on_write(uv_write_t *req, int status) {
  http_conn *conn = req->data;
  free(req);
  conn->writing = 0;
  conn->in_flight.len = 0;
  conn->send_meter.bytes += conn->write_len;
  http_rate_meter_stop(&conn->send_meter, now_ms(conn));
  if (conn->closing) return;
  if (status < 0) {
    http_conn_close(conn);
    return;
  }
  http_conn_flush(conn);
  advance(conn); /* an exchange may have waited for its bytes to leave */
}

static void flush_output(http_conn *conn);

void http_conn_flush(http_conn *conn) {
  flush_output(conn);
  if (!conn->closing) notify_writable(conn);
}

static void flush_output(http_conn *conn) {
  if (conn->closing) return;
  if (conn->ex) http_exchange_write_pending_head(conn->ex);
  if (conn->writing) return;
  if (conn->out.len == 0) {
    on_output_drained(conn);
    return;
  }
  uv_buf_t buf = uv_buf_init(conn->out.data, (unsigned)conn->out.len);
  int written = uv_try_write(&conn->io.stream, &buf, 1);
  if (written == UV_EAGAIN || written == UV_ENOSYS) written = 0;
  if (written < 0) {
    http_conn_close(conn);
    return;
  }
  if ((size_t)written == conn->out.len) {
    conn->out.len = 0;
    on_output_drained(conn);
    return;
  }
  /* The socket is full: the rest goes to a uv_write that owns its own buffer, while new
   * output keeps collecting in `out`. */
  http_buffer tmp = conn->in_flight;
  conn->in_flight = conn->out;
  conn->out = tmp;
  conn->out.len = 0;
  memmove(conn->in_flight.data, conn->in_flight.data + written,
          conn->in_flight.len - (size_t)written);
  conn->in_flight.len -= (size_t)written;
  buf = uv_buf_init(conn->in_flight.data, (unsigned)conn->in_flight.len);
  uv_write_t *req = malloc(sizeof *req);
  if (req) req->data = conn;
  if (!req || uv_write(req, &conn->io.stream, &buf, 1, on_write) != 0) {
    free(req);
    http_conn_close(conn);
    return;
  }
  conn->writing = 1;
  conn->write_len = conn->write_left = conn->in_flight.len;
  conn->write_deadline = now_ms(conn) + settings_of(conn)->write_timeout;
  http_rate_meter_start(&conn->send_meter, now_ms(conn));
  http_conn_arm_timer(conn);
}

void http_conn_mark_dirty(http_conn *conn) {
  if (conn->on_dirty || conn->closing) return;
  conn->on_dirty = 1;
  conn->dirty_next = conn->server->dirty_head;
  conn->server->dirty_head = conn;
  http_server_schedule_flush(conn->server);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  http_conn *conn = req->data;
  free(req);
  if (status == UV_ECANCELED || conn->closing) return;
  uint64_t linger = settings_of(conn)->linger_timeout;
  if (status < 0 || conn->peer_eof || !linger) {
    http_conn_close(conn);
    return;
  }
  conn->linger_deadline = now_ms(conn) + linger;
  http_conn_arm_timer(conn);
  update_reading(conn);
}

/* The last response is out: send FIN, then read and discard until the client closes. */
static void start_lingering_close(http_conn *conn) {
  conn->lingering = 1;
  conn->header_deadline = conn->body_deadline = conn->drain_deadline = conn->idle_deadline = 0;
  http_rate_meter_reset(&conn->body_meter);
  if (conn->ex) {
    http_exchange *ex = conn->ex;
    conn->ex = NULL;
    http_exchange_detach(ex);
  }
  uv_shutdown_t *req = malloc(sizeof *req);
  if (!req || uv_shutdown(req, &conn->io.stream, on_shutdown) != 0) {
    free(req);
    http_conn_close(conn);
    return;
  }
  req->data = conn;
}

void http_conn_end_after_output(http_conn *conn) {
  if (conn->ex) {
    http_exchange *ex = conn->ex;
    conn->ex = NULL;
    http_exchange_detach(ex);
  }
  conn->close_after_write = 1;
  conn->header_deadline = conn->body_deadline = conn->drain_deadline = conn->idle_deadline = 0;
  http_rate_meter_reset(&conn->body_meter);
  http_conn_mark_dirty(conn);
  update_reading(conn);
}

void http_conn_fail(http_conn *conn, int status, const char *reason) {
  log_info("%d from %s: %s", status, conn->client_host, reason ? reason : "");
  http_exchange *ex = conn->ex;
  /* Once part of a response is out, only the end of the connection can signal the error. */
  if (!ex || (!ex->start_received && !ex->head_written)) {
    long body = http_response_write_error(&conn->out, status, settings_of(conn)->server_header);
    if (ex && body >= 0) http_exchange_log_rejection(ex, status, (uint64_t)body);
  }
  http_conn_end_after_output(conn);
}

/* ---------------------------------------------------------------- unread bodies */

void http_conn_stop_reading_body(http_conn *conn) {
  http_exchange *ex = conn->ex;
  const asgid_settings *s = settings_of(conn);
  int client_waits_for_continue = ex->head.expect_continue && !ex->continue_sent;
  int too_large = ex->head.has_content_length &&
                  ex->head.content_length - conn->parser.body_received > s->drain_limit;
  if (client_waits_for_continue || too_large || !conn->keep_alive) {
    /* Nothing more will be read: the response ends the connection (its head said so). */
    conn->keep_alive = 0;
    ex->body_complete = 1;
    return;
  }
  ex->draining = 1;
  conn->drain_deadline = now_ms(conn) + s->drain_timeout;
}

/* Discarding the unread body failed (too slow, too long): the connection ends once the
 * response is out. A response already out leaves nothing to protect: close now (the server
 * read all the client sent, so the close sends a FIN, not a reset). */
static void end_drain(http_conn *conn, const char *why) {
  log_info("closing connection from %s: %s", conn->client_host, why);
  conn->drain_deadline = 0;
  if (!conn->writing && conn->out.len == 0)
    http_conn_close(conn);
  else
    http_conn_end_after_output(conn);
}

/* ---------------------------------------------------------------- reading */

static int span_outstanding(const http_conn *conn) {
  return conn->ex && conn->ex->span_outstanding;
}

static void update_reading(http_conn *conn) {
  if (conn->closing) return;
  int want;
  if (conn->lingering)
    want = 1;
  else if (conn->peer_eof || conn->close_after_write)
    want = 0;
  else
    want = !conn->read_buffer || conn->read_end < HTTP_READ_BUFFER_SIZE ||
           (conn->read_start > 0 && !span_outstanding(conn));
  if (want == (int)conn->reading) return;
  conn->reading = (unsigned)want;
  if (want) {
    uv_read_start(&conn->io.stream, on_alloc, on_read);
  } else {
    uv_read_stop(&conn->io.stream);
  }
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  http_conn *conn = handle->data;
  if (!conn->read_buffer) {
    conn->read_buffer = http_server_take_buffer(conn->server);
    conn->read_start = conn->read_end = 0;
    if (!conn->read_buffer) {
      *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS: the connection closes */
      return;
    }
  }
  if (!span_outstanding(conn)) {
    if (conn->read_start == conn->read_end) {
      conn->read_start = conn->read_end = 0;
    } else if (conn->read_end == HTTP_READ_BUFFER_SIZE && conn->read_start > 0) {
      memmove(conn->read_buffer, conn->read_buffer + conn->read_start,
              conn->read_end - conn->read_start);
      conn->read_end -= conn->read_start;
      conn->read_start = 0;
    }
  }
  *buf = uv_buf_init(conn->read_buffer + conn->read_end,
                     (unsigned)(HTTP_READ_BUFFER_SIZE - conn->read_end));
}

/* Gives the read buffer back to the pool when it holds nothing the connection needs. */
static void release_idle_buffer(http_conn *conn) {
  if (conn->read_buffer && !conn->ex && conn->read_start == conn->read_end) {
    http_server_return_buffer(conn->server, conn->read_buffer);
    conn->read_buffer = NULL;
    conn->read_start = conn->read_end = 0;
  }
}

static void on_peer_eof(http_conn *conn) {
  conn->peer_eof = 1;
  http_exchange *ex = conn->ex;
  if (!ex || !ex->head_complete || !ex->body_complete) {
    /* Between requests, in the middle of a head or of a body: nothing more can come. */
    http_conn_close(conn);
    return;
  }
  /* The request is complete (a client may half-close after sending it): finish the
   * response, then close. An app waiting for more events learns the client left. */
  advance(conn);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  (void)buf;
  http_conn *conn = stream->data;
  if (nread > 0) {
    if (conn->lingering) {
      conn->read_start = conn->read_end = 0; /* discarded */
    } else {
      conn->read_end += (size_t)nread;
      conn->idle_deadline = 0;
      if (http_rate_meter_running(&conn->body_meter)) conn->body_meter.bytes += (size_t)nread;
      if (!conn->ex && !conn->header_deadline)
        conn->header_deadline = now_ms(conn) + settings_of(conn)->header_timeout;
      if (conn->body_deadline)
        conn->body_deadline = now_ms(conn) + settings_of(conn)->body_timeout;
      advance(conn);
    }
  } else if (nread == UV_EOF) {
    if (conn->lingering)
      http_conn_close(conn);
    else
      on_peer_eof(conn);
  } else if (nread < 0) {
    http_conn_close(conn);
  }
  if (!conn->closing) {
    if (!conn->lingering) release_idle_buffer(conn);
    update_reading(conn);
    http_conn_arm_timer(conn);
  }
  http_server_flush_if_overdue(conn->server);
}

/* ---------------------------------------------------------------- the exchange cycle */

static const char *unread(const http_conn *conn) {
  return conn->read_buffer ? conn->read_buffer + conn->read_start : "";
}

static size_t unread_len(const http_conn *conn) { return conn->read_end - conn->read_start; }

static size_t feed(http_conn *conn) {
  size_t consumed = http_parser_feed(&conn->parser, unread(conn), unread_len(conn));
  conn->read_start += consumed;
  return consumed;
}

static void deliver(http_exchange *ex, asgid_event_type type, const char *body, size_t len,
                    int more) {
  asgid_event event;
  memset(&event, 0, sizeof event);
  event.type = type;
  event.u.request.body = (const uint8_t *)body;
  event.u.request.body_len = len;
  event.u.request.more_body = more;
  ex->wants_event = 0;
  asgi_request_deliver(&ex->request, &event);
}

/* Reads the head of the next request. Returns 1 when the exchange can go on. */
static int read_head(http_conn *conn) {
  http_exchange *ex = conn->ex;
  if (!ex) {
    if (unread_len(conn) == 0) return 0;
    ex = calloc(1, sizeof *ex);
    if (!ex) {
      http_conn_close(conn);
      return 0;
    }
    ex->conn = conn;
    ex->server = conn->server;
    if (access_log_enabled()) {
      uv_timeval64_t tv;
      uv_gettimeofday(&tv);
      ex->start_wall_usec = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
      ex->start_ns = uv_hrtime();
    }
    conn->ex = ex;
    /* Each exchange is measured on its own, and gets its own grace period. */
    http_rate_meter_reset(&conn->body_meter);
    http_rate_meter_reset(&conn->send_meter);
    http_parser_begin(&conn->parser, &ex->head);
    if (!conn->header_deadline)
      conn->header_deadline = now_ms(conn) + settings_of(conn)->header_timeout;
  }
  feed(conn);
  if (conn->parser.error_status) {
    http_conn_fail(conn, conn->parser.error_status, conn->parser.error_reason);
    return 0;
  }
  if (conn->parser.pause != HTTP_PAUSE_HEAD) return 0; /* more bytes needed */
  conn->header_deadline = 0;
  http_server *server = conn->server;
  if (server->settings->limit_concurrency &&
      server->requests_in_progress >= (uint64_t)server->settings->limit_concurrency) {
    /* Refused before the app: head_complete stays 0, so the exchange is freed with the
     * connection's side (no app holds it). */
    http_conn_fail(conn, 503, "limit_concurrency reached: the app has as many requests as "
                              "it may have in progress in this worker");
    return 0;
  }
  ex->head_complete = 1;
  if (http_exchange_begin(ex) != 0) {
    ex->head_complete = 0; /* the app never got it */
    http_conn_fail(conn, 500, "out of memory");
    return 0;
  }
  return 1;
}

/* The server waits for body bytes from the client, or stops waiting: body_timeout counts the
 * gaps while it waits, min_data_rate the bytes over the time waited. */
static void wait_for_body(http_conn *conn) {
  if (!conn->body_deadline)
    conn->body_deadline = now_ms(conn) + settings_of(conn)->body_timeout;
  http_rate_meter_start(&conn->body_meter, now_ms(conn));
}

static void stop_waiting_for_body(http_conn *conn) {
  conn->body_deadline = 0;
  http_rate_meter_stop(&conn->body_meter, now_ms(conn));
}

/* An app that ignores wait_writable and answers each body event with output (an echo) is
 * paced by its client through this: past write_buffer_limit of queued output no body event
 * is made until the client has taken all but half of write_buffer_size. */
static int output_holds_body(http_conn *conn) {
  http_exchange *ex = conn->ex;
  size_t queued = http_conn_queued(conn);
  ex->body_held = ex->body_held ? queued > settings_of(conn)->write_buffer_size / 2
                                : queued >= http_conn_output_limit(conn);
  return ex->body_held;
}

/* Parses body bytes while the app wants them (or discards them once the app is done).
 * Returns 1 when something changed and the cycle should look again. */
static int read_body(http_conn *conn) {
  http_exchange *ex = conn->ex;
  if (ex->span_outstanding) {
    if (!ex->wants_event && !ex->draining) return 0; /* the app still holds the last span */
    ex->span_outstanding = 0;
  }
  if ((!ex->wants_event && !ex->draining) || (!ex->draining && output_holds_body(conn))) {
    stop_waiting_for_body(conn);
    return 0; /* flow control: nothing is read for an app that does not ask */
  }
  if (ex->wants_event && ex->head.expect_continue && !ex->continue_sent) {
    ex->continue_sent = 1;
    if (!ex->start_received)
      http_buffer_append_str(&conn->out, HTTP_RESPONSE_CONTINUE);
    http_conn_mark_dirty(conn);
  }
  feed(conn);
  if (conn->parser.error_status) {
    http_conn_fail(conn, conn->parser.error_status, conn->parser.error_reason);
    return 0;
  }
  switch (conn->parser.pause) {
    case HTTP_PAUSE_BODY:
      stop_waiting_for_body(conn);
      if (ex->draining) return 1; /* discarded */
      ex->span_outstanding = 1;
      if (!conn->parser.body_more) ex->final_body_delivered = 1;
      deliver(ex, ASGID_HTTP_REQUEST, conn->parser.body_at, conn->parser.body_len,
              conn->parser.body_more);
      return 1;
    case HTTP_PAUSE_COMPLETE:
      stop_waiting_for_body(conn);
      conn->drain_deadline = 0;
      ex->body_complete = 1;
      if (ex->wants_event && !ex->final_body_delivered) {
        ex->final_body_delivered = 1;
        deliver(ex, ASGID_HTTP_REQUEST, "", 0, 0);
      }
      return 1;
    default: /* more bytes needed */
      wait_for_body(conn);
      return 0;
  }
}

/* Everything the connection can do now without waiting: read heads, feed bodies to the app,
 * finish exchanges and start the next pipelined one. Transport calls from the app only set
 * state and come back here, so no app callback ever runs inside an api call. */
static void step(http_conn *conn) {
  while (!conn->closing && !conn->close_after_write && !conn->lingering) {
    http_exchange *ex = conn->ex;
    if (!ex || !ex->head_complete) {
      if (!read_head(conn)) return;
      continue;
    }
    if (!ex->body_complete) {
      if (!read_body(conn)) return;
      continue;
    }
    if (ex->wants_event && (ex->response_complete || conn->peer_eof)) {
      /* ASGI: after the body, receive() answers http.disconnect once the response is done
       * or the client has gone. */
      deliver(ex, ASGID_HTTP_DISCONNECT, NULL, 0, 0);
      continue;
    }
    if (!ex->response_complete || !ex->released) return;
    http_exchange_finish(ex);
    conn->ex = NULL;
    if (!conn->keep_alive || conn->peer_eof) {
      conn->close_after_write = 1;
      http_conn_mark_dirty(conn);
      return;
    }
    start_idle_deadline(conn);
  }
}

static void advance(http_conn *conn) {
  if (conn->closing || conn->in_step) return;
  conn->in_step = 1;
  step(conn);
  conn->in_step = 0;
  if (!conn->closing) {
    /* An exchange that finished here (an app answering later than its on_read) leaves the
     * connection idle: its read buffer goes back to the pool too. */
    if (!conn->lingering) release_idle_buffer(conn);
    update_reading(conn);
    http_conn_arm_timer(conn);
  }
}

void http_exchange_pump(http_exchange *ex) {
  if (ex->conn) {
    advance(ex->conn);
    return;
  }
  /* The connection is gone: all the app can still learn is that. */
  if (ex->wants_event) deliver(ex, ASGID_HTTP_DISCONNECT, NULL, 0, 0);
}

void http_conn_kick(http_conn *conn) {
  if (!conn->in_step && conn->ex) http_server_schedule_pump(conn->server, conn->ex);
}

void http_conn_start(http_conn *conn, http_server *server, const listener *bound) {
  conn->server = server;
  conn->listener = bound;
  conn->io.handle.data = conn;
  conn->open_handles = 2;
  uv_timer_init(server->loop, &conn->timer);
  conn->timer.data = conn;
  http_parser_init(&conn->parser, &server->limits);
  if (bound->kind == LISTENER_TCP) {
    struct sockaddr_storage addr;
    int len = sizeof addr;
    if (uv_tcp_getpeername(&conn->io.tcp, (struct sockaddr *)&addr, &len) == 0) {
      if (addr.ss_family == AF_INET6) {
        uv_ip6_name((struct sockaddr_in6 *)&addr, conn->client_host, sizeof conn->client_host);
        conn->client_port = ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
      } else {
        uv_ip4_name((struct sockaddr_in *)&addr, conn->client_host, sizeof conn->client_host);
        conn->client_port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
      }
    }
    uv_tcp_nodelay(&conn->io.tcp, 1);
  } else {
    strcpy(conn->client_host, "-");
    conn->client_port = -1;
  }
  conn->header_deadline = now_ms(conn) + server->settings->header_timeout;
  http_conn_arm_timer(conn);
  update_reading(conn);
}
