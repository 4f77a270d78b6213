/* transport.c - one connection as bytes: reading, writing, the timer, closing. See
 * transport.h. */
#include "net/transport.h"

#include <stdlib.h>
#include <string.h>

#include "log/log.h"

static uint64_t now_ms(const transport *t) { return uv_now(t->group->loop); }

static const asgid_settings *settings_of(const transport *t) { return t->group->settings; }

static void update_reading(transport *t);
static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);
static void on_timer(uv_timer_t *timer);
static void start_lingering_close(transport *t);

/* ---------------------------------------------------------------- no session */

/* The session of a transport whose session has ended (its output leaving, or lingering):
 * nothing reaches a session any more. */
static void ended_event(void *session) { (void)session; }
static void ended_input(void *session, size_t received) {
  (void)session;
  (void)received;
}
static uint64_t ended_deadline(void *session) {
  (void)session;
  return 0;
}
static void ended_on_deadline(void *session, uint64_t now) {
  (void)session;
  (void)now;
}
static const transport_session_ops ended_ops = {
    .on_input = ended_input,
    .on_peer_eof = ended_event,
    .on_sent = ended_event,
    .before_flush = ended_event,
    .next_deadline = ended_deadline,
    .on_deadline = ended_on_deadline,
    .on_stop = ended_event,
    .on_close = ended_event,
};

/* The session lets go: from here on the transport only finishes its output and closes. */
static void end_session(transport *t) {
  const transport_session_ops *ops = t->ops;
  void *session = t->session;
  t->ops = &ended_ops;
  t->session = NULL;
  ops->on_close(session);
}

/* ---------------------------------------------------------------- starting */

transport *transport_accept(transport_group *group, uv_stream_t *server, const listener *bound,
                            int *error) {
  transport *t = calloc(1, sizeof *t);
  if (!t) {
    *error = UV_ENOMEM;
    return NULL;
  }
  int rc = bound->kind == LISTENER_TCP ? uv_tcp_init(group->loop, &t->io.tcp)
                                       : uv_pipe_init(group->loop, &t->io.pipe, 0);
  if (rc != 0) {
    free(t);
    *error = rc;
    return NULL;
  }
  t->io.handle.data = t;
  rc = uv_accept(server, &t->io.stream);
  if (rc != 0) {
    /* The handle was initialised: it must be closed through the loop before freeing. */
    uv_close(&t->io.handle, (uv_close_cb)free);
    *error = rc;
    return NULL;
  }
  t->group = group;
  t->listener = bound;
  t->ops = &ended_ops;
  t->open_handles = 2;
  uv_timer_init(group->loop, &t->timer);
  t->timer.data = t;
  if (bound->kind == LISTENER_TCP) {
    struct sockaddr_storage addr;
    int len = sizeof addr;
    if (uv_tcp_getpeername(&t->io.tcp, (struct sockaddr *)&addr, &len) == 0) {
      if (addr.ss_family == AF_INET6) {
        uv_ip6_name((struct sockaddr_in6 *)&addr, t->client_host, sizeof t->client_host);
        t->client_port = ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
      } else {
        uv_ip4_name((struct sockaddr_in *)&addr, t->client_host, sizeof t->client_host);
        t->client_port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
      }
    }
    uv_tcp_nodelay(&t->io.tcp, 1);
  } else {
    t->client_host[0] = '\0'; /* a Unix-socket peer has no address */
    t->client_port = -1;
  }
  t->next = group->connections;
  if (group->connections) group->connections->prev = t;
  group->connections = t;
  group->connection_count++;
  return t;
}

void transport_start(transport *t, const transport_session_ops *ops, void *session) {
  t->ops = ops;
  t->session = session;
  t->input_paused = t->input_held = 0;
  transport_settle(t);
  /* Bytes the previous session left unread (a client that sent its first frames right
   * behind an upgrade request) are the new session's: it looks at them from the queue. */
}

/* ---------------------------------------------------------------- closing */

static void on_handle_closed(uv_handle_t *handle) {
  transport *t = handle->data;
  if (--t->open_handles > 0) return;
  transport_group *group = t->group;
  byte_buffer_free(&t->out);
  byte_buffer_free(&t->in_flight);
  if (t->read_buffer) transport_group_return_buffer(group, t->read_buffer);
  if (t->prev)
    t->prev->next = t->next;
  else
    group->connections = t->next;
  if (t->next) t->next->prev = t->prev;
  group->connection_count--;
  free(t);
  if (group->on_connection_closed) group->on_connection_closed(group);
}

void transport_close(transport *t) {
  if (t->closing) return;
  t->closing = 1;
  end_session(t);
  uv_close(&t->io.handle, on_handle_closed);
  uv_close((uv_handle_t *)&t->timer, on_handle_closed);
}

/* ---------------------------------------------------------------- deadlines */

/* Output bytes the kernel took from the uv_write in progress. */
static size_t write_progress(const transport *t) {
  if (!t->writing) return 0;
  size_t left = uv_stream_get_write_queue_size(&t->io.stream);
  return left < t->write_len ? t->write_len - left : 0;
}

static uint64_t send_rate_deadline(const transport *t) {
  if (!rate_meter_running(&t->send_meter)) return 0;
  const asgid_settings *s = settings_of(t);
  return rate_meter_deadline(&t->send_meter, now_ms(t), write_progress(t), s->min_data_rate,
                             s->min_data_rate_grace);
}

void transport_arm_timer(transport *t) {
  if (t->closing) return;
  const uint64_t deadlines[] = {t->write_deadline, t->linger_deadline, send_rate_deadline(t),
                                t->ops->next_deadline(t->session)};
  /* The earliest armed one: 0 (not armed) minus one wraps to the largest value. */
  uint64_t earliest_minus_one = UINT64_MAX;
  for (size_t i = 0; i < sizeof deadlines / sizeof deadlines[0]; i++)
    if (deadlines[i] - 1 < earliest_minus_one) earliest_minus_one = deadlines[i] - 1;
  if (earliest_minus_one == UINT64_MAX) return;
  uint64_t due = earliest_minus_one + 1;
  /* Deadlines mostly move later (every request pushes them): a timer already armed for an
   * earlier time is left alone and re-armed when it fires, which keeps timer operations
   * off the per-request path. */
  if (t->timer_due && t->timer_due <= due) return;
  t->timer_due = due;
  uint64_t now = now_ms(t);
  uv_timer_start(&t->timer, on_timer, due > now ? due - now : 0, 0);
}

/* write_timeout is the longest time without progress: a client that takes some bytes within
 * it, however few, gets another write_timeout (min_data_rate bounds how slow it may be). */
static void on_write_deadline(transport *t, uint64_t now) {
  size_t left = uv_stream_get_write_queue_size(&t->io.stream);
  if (left < t->write_left) {
    t->write_left = left;
    t->write_deadline = now + settings_of(t)->write_timeout;
    return;
  }
  log_info("closing connection from %s: client took no response byte within write_timeout",
           transport_peer_name(t));
  transport_close(t);
}

static void on_timer(uv_timer_t *timer) {
  transport *t = timer->data;
  uint64_t now = now_ms(t);
  t->timer_due = 0;
  const asgid_settings *s = settings_of(t);
  if (deadline_passed(t->write_deadline, now)) {
    on_write_deadline(t, now);
  } else if (deadline_passed(t->linger_deadline, now)) {
    transport_close(t);
  } else if (deadline_passed(send_rate_deadline(t), now)) {
    if (rate_meter_too_slow(&t->send_meter, now, write_progress(t), s->min_data_rate,
                            s->min_data_rate_grace)) {
      log_info("closing connection from %s: client took the response slower than "
               "min_data_rate", transport_peer_name(t));
      transport_close(t);
    }
  } else if (deadline_passed(t->ops->next_deadline(t->session), now)) {
    t->ops->on_deadline(t->session, now);
  }
  transport_arm_timer(t);
}

/* ---------------------------------------------------------------- writing */

byte_buffer *transport_output(transport *t) { return &t->out; }

const char *transport_peer_name(const transport *t) {
  return t->client_host[0] ? t->client_host : "unix";
}

size_t transport_queued(const transport *t) { return t->out.len + t->in_flight.len; }

size_t transport_output_limit(const transport *t) {
  const asgid_settings *s = settings_of(t);
  return s->write_buffer_limit > s->write_buffer_size ? s->write_buffer_limit
                                                      : s->write_buffer_size;
}

/* Everything handed to the kernel: close if that was the last output. */
static void on_output_drained(transport *t) {
  t->write_deadline = 0;
  if (t->close_after_write && !t->lingering) start_lingering_close(t);
}

static void flush_output(transport *t);

static void on_write(uv_write_t *req, int status) {
  transport *t = req->data;
  free(req);
  t->writing = 0;
  t->in_flight.len = 0;
  t->send_meter.bytes += t->write_len;
  rate_meter_stop(&t->send_meter, now_ms(t));
  if (status == 0) t->group->bytes_sent += t->write_len;
  if (t->closing) return;
  if (status < 0) {
    transport_close(t);
    return;
  }
  transport_flush(t);
  /* A session may have waited for its output to leave before going on. */
  if (!t->closing) t->ops->on_input(t->session, 0);
  transport_settle(t);
}

void transport_flush(transport *t) {
  flush_output(t);
  if (!t->closing) {
    t->ops->on_sent(t->session);
    transport_arm_timer(t);
  }
}

static void flush_output(transport *t) {
  if (t->closing) return;
  t->ops->before_flush(t->session);
  if (t->writing || t->closing) return;
  if (t->out.len == 0) {
    on_output_drained(t);
    return;
  }
  uv_buf_t buf = uv_buf_init(t->out.data, (unsigned)t->out.len);
  int written = uv_try_write(&t->io.stream, &buf, 1);
  if (written == UV_EAGAIN || written == UV_ENOSYS) written = 0;
  if (written < 0) {
    transport_close(t);
    return;
  }
  t->group->bytes_sent += (size_t)written;
  if ((size_t)written == t->out.len) {
    t->out.len = 0;
    on_output_drained(t);
    return;
  }
  /* The socket is full: the rest goes to a uv_write that owns its own buffer, while new
   * output keeps collecting in `out`. */
  byte_buffer tmp = t->in_flight;
  t->in_flight = t->out;
  t->out = tmp;
  t->out.len = 0;
  memmove(t->in_flight.data, t->in_flight.data + written, t->in_flight.len - (size_t)written);
  t->in_flight.len -= (size_t)written;
  buf = uv_buf_init(t->in_flight.data, (unsigned)t->in_flight.len);
  uv_write_t *req = malloc(sizeof *req);
  if (req) req->data = t;
  if (!req || uv_write(req, &t->io.stream, &buf, 1, on_write) != 0) {
    free(req);
    transport_close(t);
    return;
  }
  t->writing = 1;
  t->write_len = t->write_left = t->in_flight.len;
  t->write_deadline = now_ms(t) + settings_of(t)->write_timeout;
  rate_meter_start(&t->send_meter, now_ms(t));
}

void transport_mark_dirty(transport *t) {
  if (t->on_dirty || t->closing) return;
  transport_group *group = t->group;
  t->on_dirty = 1;
  t->dirty_next = group->dirty_head;
  group->dirty_head = t;
  transport_group_schedule_flush(group);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  transport *t = req->data;
  free(req);
  if (status == UV_ECANCELED || t->closing) return;
  uint64_t linger = settings_of(t)->linger_timeout;
  if (status < 0 || t->peer_eof || !linger) {
    transport_close(t);
    return;
  }
  t->linger_deadline = now_ms(t) + linger;
  transport_arm_timer(t);
  update_reading(t);
}

/* The last output is out: send FIN, then read and discard until the client closes. */
static void start_lingering_close(transport *t) {
  t->lingering = 1;
  uv_shutdown_t *req = malloc(sizeof *req);
  if (!req || uv_shutdown(req, &t->io.stream, on_shutdown) != 0) {
    free(req);
    transport_close(t);
    return;
  }
  req->data = t;
}

void transport_end_after_output(transport *t) {
  if (t->closing || t->close_after_write) return;
  t->close_after_write = 1;
  end_session(t);
  transport_mark_dirty(t);
  update_reading(t);
}

/* ---------------------------------------------------------------- reading */

char *transport_unread(transport *t, size_t *len) {
  static char nothing[1];
  *len = t->read_end - t->read_start;
  return t->read_buffer ? t->read_buffer + t->read_start : nothing;
}

void transport_consume(transport *t, size_t n) { t->read_start += n; }

void transport_hold_input(transport *t, int held) { t->input_held = (unsigned)held; }

void transport_pause_input(transport *t, int paused) { t->input_paused = (unsigned)paused; }

static void update_reading(transport *t) {
  if (t->closing) return;
  int want;
  if (t->lingering)
    want = 1;
  else if (t->peer_eof || t->close_after_write || t->input_paused)
    want = 0;
  else
    want = !t->read_buffer || t->read_end < TRANSPORT_READ_BUFFER_SIZE ||
           (t->read_start > 0 && !t->input_held);
  if (want == (int)t->reading) return;
  t->reading = (unsigned)want;
  if (want)
    uv_read_start(&t->io.stream, on_alloc, on_read);
  else
    uv_read_stop(&t->io.stream);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  transport *t = handle->data;
  if (!t->read_buffer) {
    t->read_buffer = transport_group_take_buffer(t->group);
    t->read_start = t->read_end = 0;
    if (!t->read_buffer) {
      *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS: the connection closes */
      return;
    }
  }
  if (!t->input_held) {
    if (t->read_start == t->read_end) {
      t->read_start = t->read_end = 0;
    } else if (t->read_end == TRANSPORT_READ_BUFFER_SIZE && t->read_start > 0) {
      memmove(t->read_buffer, t->read_buffer + t->read_start, t->read_end - t->read_start);
      t->read_end -= t->read_start;
      t->read_start = 0;
    }
  }
  *buf = uv_buf_init(t->read_buffer + t->read_end,
                     (unsigned)(TRANSPORT_READ_BUFFER_SIZE - t->read_end));
}

/* Gives the read buffer back to the pool when it holds nothing the session needs, so idle
 * connections hold none. */
static void release_idle_buffer(transport *t) {
  if (t->read_buffer && !t->input_held && t->read_start == t->read_end) {
    transport_group_return_buffer(t->group, t->read_buffer);
    t->read_buffer = NULL;
    t->read_start = t->read_end = 0;
  }
}

void transport_settle(transport *t) {
  if (t->closing) return;
  if (!t->lingering) release_idle_buffer(t);
  update_reading(t);
  transport_arm_timer(t);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  (void)buf;
  transport *t = stream->data;
  if (nread > 0) {
    t->group->bytes_received += (size_t)nread;
    if (t->lingering) {
      t->read_start = t->read_end = 0; /* discarded */
    } else {
      t->read_end += (size_t)nread;
      t->ops->on_input(t->session, (size_t)nread);
    }
  } else if (nread == UV_EOF) {
    if (t->lingering) {
      transport_close(t);
    } else {
      t->peer_eof = 1;
      t->ops->on_peer_eof(t->session);
    }
  } else if (nread < 0) {
    transport_close(t);
  }
  transport_settle(t);
  transport_group_flush_if_overdue(t->group);
}
