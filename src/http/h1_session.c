/* h1_session.c - the HTTP/1.1 session: parsing, the exchange cycle, the HTTP deadlines. See
 * h1_session.h. */
#include "http/h1_session.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "asgi/scope_websocket.h"
#include "http/exchange.h"
#include "http/ws_session.h"
#include "log/log.h"

typedef struct h1_session {
  http_service *service;
  transport *transport;
  http_parser parser;
  http_exchange *ex;         /* the exchange being read or served; NULL while idle */
  deferred_work work;        /* the exchange's state changed: look again (exchange.c wakes it) */
  /* Deadlines, in loop milliseconds (0: not armed); docs/architecture.md has their table. */
  uint64_t header_deadline;  /* the request head is complete */
  uint64_t body_deadline;    /* the next body bytes the app asked for arrive */
  uint64_t drain_deadline;   /* the unread body the server discards is all in */
  uint64_t idle_deadline;    /* the next request begins (keep-alive, or a stop's grace) */
  uint64_t head_began;       /* when header_deadline was armed: the head's first byte */
  /* min_data_rate of the request body, measured while the server waits on the client. */
  rate_meter body_meter;
  unsigned ended : 1;        /* the transport let go of the session (on_close) */
} h1_session;

static uint64_t now_ms(const h1_session *s) { return uv_now(s->transport->group->loop); }

static const asgid_settings *settings_of(const h1_session *s) { return s->service->settings; }

static void advance(h1_session *s);

/* ---------------------------------------------------------------- ending */

static void free_session(deferred_work *work) {
  free((char *)work - offsetof(h1_session, work));
}

/* The session is over (the transport closes, or only sends what is queued and lingers). Its
 * memory goes once nothing can be using it: after its own step returns, or from the
 * deferred-work queue (it may end inside an app callback that one of its functions made). */
static void on_close(void *data) {
  h1_session *s = data;
  if (s->ex) {
    http_exchange *ex = s->ex;
    s->ex = NULL;
    http_exchange_detach(ex);
  }
  s->ended = 1;
  if (s->work.busy) return; /* advance frees it */
  transport_group_cancel(s->transport->group, &s->work);
  s->work.run = free_session;
  transport_group_defer(s->transport->group, &s->work);
}

/* Sends what is already queued, then closes: no further request is read and no further byte
 * of the current exchange is written. */
static void end_after_output(h1_session *s) { transport_end_after_output(s->transport); }

/* Answers a protocol error with status and closes the connection. */
static void fail(h1_session *s, int status, const char *reason) {
  transport *t = s->transport;
  log_info("%d from %s: %s", status, transport_peer_name(t), reason ? reason : "");
  http_exchange *ex = s->ex;
  /* Once part of a response is out, only the end of the connection can signal the error. */
  if (!ex || (!ex->start_received && !ex->head_written)) {
    long body =
        http_response_write_error(transport_output(t), status, settings_of(s)->server_header);
    if (ex && body >= 0) http_exchange_log_rejection(ex, status, (uint64_t)body);
  }
  end_after_output(s);
}

/* When a stop leaves an idle connection: a client may be sending its next request right now,
 * so the connection stays for stop_idle_timeout and that request is served (with
 * "connection: close") instead of meeting a closed socket. */
static void set_stop_idle_deadline(h1_session *s) {
  uint64_t grace = settings_of(s)->stop_idle_timeout;
  if (!grace) {
    transport_close(s->transport);
    return;
  }
  uint64_t deadline = now_ms(s) + grace;
  if (!s->idle_deadline || deadline < s->idle_deadline) s->idle_deadline = deadline;
  transport_arm_timer(s->transport);
}

static int output_pending(const h1_session *s) {
  return s->transport->writing || s->transport->out.len;
}

/* Between requests the keep-alive deadline runs from when the last response has left: a
 * client still taking a large response is not idle (write_timeout and min_data_rate watch
 * it). Until then, or while the next request's bytes are already here, nothing is set. */
static void start_idle_deadline(h1_session *s) {
  size_t unread;
  transport_unread(s->transport, &unread);
  if (s->idle_deadline || s->ex || output_pending(s) || unread) return;
  s->idle_deadline = now_ms(s) + settings_of(s)->keepalive_timeout;
  if (s->service->stopping) set_stop_idle_deadline(s);
}

static void on_stop(void *data) {
  h1_session *s = data;
  if (s->ex || output_pending(s)) return; /* busy: the response says "connection: close" */
  set_stop_idle_deadline(s);
}

/* ---------------------------------------------------------------- deadlines */

/* A request head begins (or may: at accept, or when the connection stops being idle). */
static void arm_header_deadline(h1_session *s) {
  s->head_began = now_ms(s);
  s->header_deadline = s->head_began + settings_of(s)->header_timeout;
}

static int body_too_slow(const h1_session *s, uint64_t now) {
  const asgid_settings *st = settings_of(s);
  return rate_meter_too_slow(&s->body_meter, now, 0, st->min_data_rate,
                             st->min_data_rate_grace);
}

/* When the request body the server waits for falls below min_data_rate unless more comes. */
static uint64_t body_rate_deadline(const h1_session *s) {
  if (!rate_meter_running(&s->body_meter)) return 0;
  const asgid_settings *st = settings_of(s);
  return rate_meter_deadline(&s->body_meter, now_ms(s), 0, st->min_data_rate,
                             st->min_data_rate_grace);
}

static uint64_t next_deadline(void *data) {
  const h1_session *s = data;
  uint64_t due = deadline_earliest(s->header_deadline, s->body_deadline);
  due = deadline_earliest(due, s->drain_deadline);
  due = deadline_earliest(due, s->idle_deadline);
  return deadline_earliest(due, body_rate_deadline(s));
}

/* Discarding the unread body failed (too slow, too long): the connection ends once the
 * response is out. A response already out leaves nothing to protect: close now (the server
 * read all the client sent, so the close sends a FIN, not a reset). */
static void end_drain(h1_session *s, const char *why) {
  log_info("closing connection from %s: %s", transport_peer_name(s->transport), why);
  s->drain_deadline = 0;
  if (!output_pending(s))
    transport_close(s->transport);
  else
    end_after_output(s);
}

static void on_deadline(void *data, uint64_t now) {
  h1_session *s = data;
  int draining = s->ex && s->ex->draining;
  if (deadline_passed(s->header_deadline, now)) {
    s->header_deadline = 0;
    if (s->ex) /* part of a head came */
      fail(s, 408, "request head not received within header_timeout");
    else
      transport_close(s->transport); /* no byte of a request came: nothing to answer */
  } else if (deadline_passed(s->body_deadline, now)) {
    s->body_deadline = 0;
    if (draining)
      end_drain(s, "the unread request body stopped for body_timeout");
    else
      fail(s, 408, "request body not received within body_timeout");
  } else if (deadline_passed(s->drain_deadline, now)) {
    end_drain(s, "the unread request body was not all received within drain_timeout");
  } else if (deadline_passed(body_rate_deadline(s), now)) {
    if (body_too_slow(s, now)) {
      rate_meter_reset(&s->body_meter);
      if (draining)
        end_drain(s, "the unread request body arrived slower than min_data_rate");
      else
        fail(s, 408, "request body arrived slower than min_data_rate");
    }
  } else if (deadline_passed(s->idle_deadline, now)) {
    s->idle_deadline = 0;
    transport_close(s->transport);
  }
}

/* ---------------------------------------------------------------- output */

static void before_flush(void *data) {
  h1_session *s = data;
  if (s->ex) http_exchange_write_pending_head(s->ex);
}

static void on_sent(void *data) {
  h1_session *s = data;
  start_idle_deadline(s);
  if (!s->ended && s->ex) http_exchange_output_drained(s->ex);
}

/* ---------------------------------------------------------------- unread bodies */

/* The app will read no more of the body: the rest is discarded within drain_limit and
 * drain_timeout, or the response ends the connection. */
static void stop_reading_body(h1_session *s) {
  http_exchange *ex = s->ex;
  const asgid_settings *st = settings_of(s);
  int client_waits_for_continue = ex->head.expect_continue && !ex->continue_sent;
  int too_large = ex->head.has_content_length &&
                  ex->head.content_length - s->parser.body_received > st->drain_limit;
  if (client_waits_for_continue || too_large || !ex->keep_alive) {
    /* Nothing more will be read: the response ends the connection (its head said so). */
    ex->keep_alive = 0;
    ex->body_complete = 1;
    return;
  }
  ex->draining = 1;
  s->drain_deadline = now_ms(s) + st->drain_timeout;
}

/* ---------------------------------------------------------------- reading */

static size_t feed(h1_session *s) {
  size_t len;
  const char *bytes = transport_unread(s->transport, &len);
  size_t consumed = http_parser_feed(&s->parser, bytes, len);
  transport_consume(s->transport, consumed);
  return consumed;
}

static void hold_span(h1_session *s, int held) {
  s->ex->span_outstanding = (unsigned)held;
  transport_hold_input(s->transport, held);
}

/* A request with an Upgrade field, for an app that takes websocket scopes. A valid WebSocket
 * handshake hands the transport to a WebSocket session (with the bytes behind the request,
 * and the time its head began, which the handshake deadline counts from); an invalid one is
 * refused. Returns 1 when the request was either; 0 when it is plain HTTP (it asks for another
 * protocol, or does not qualify: a POST with a body is served as HTTP, RFC 9110 §7.8). */
static int upgrade_to_websocket(h1_session *s) {
  http_exchange *ex = s->ex;
  http_head *head = &ex->head;
  asgid_header *headers = malloc((head->field_count ? head->field_count : 1) * sizeof *headers);
  if (!headers) {
    fail(s, 500, "out of memory");
    return 1;
  }
  for (size_t i = 0; i < head->field_count; i++) {
    const http_field *f = &head->fields[i];
    headers[i] = (asgid_header){head->arena + f->name_offset, f->name_len,
                                head->arena + f->value_offset, f->value_len};
  }
  ws_handshake_request request = {
      .method = head->arena + head->method_offset,
      .method_len = head->method_len,
      .http_minor = head->http_minor,
      .has_body = head->chunked || (head->has_content_length && head->content_length > 0),
      .headers = headers,
      .header_count = head->field_count,
  };
  ws_handshake hs;
  ws_handshake_check(&request, &s->service->websocket.deflate, &hs);
  free(headers);
  switch (hs.upgrade) {
    case WS_UPGRADE_NONE:
      if (hs.rule)
        log_debug("serving an Upgrade: websocket request from %s as HTTP: %s",
                  transport_peer_name(s->transport), hs.rule);
      return 0;
    case WS_UPGRADE_REFUSED:
      fail(s, hs.status, hs.rule);
      return 1;
    case WS_UPGRADE_VALID:
      break;
  }
  transport *t = s->transport;
  uint64_t began = s->head_began;
  http_head moved = *head;
  memset(head, 0, sizeof *head);
  s->ex = NULL;
  http_exchange_detach(ex); /* never begun: freed */
  /* The HTTP/1.1 session ends here; the transport goes on with the WebSocket session. */
  transport_group_cancel(t->group, &s->work);
  s->ended = 1;
  ws_session_start(s->service, t, &moved, &hs, began);
  return 1;
}

/* Reads the head of the next request. Returns 1 when the exchange can go on. */
static int read_head(h1_session *s) {
  http_exchange *ex = s->ex;
  if (!ex) {
    size_t unread;
    transport_unread(s->transport, &unread);
    if (unread == 0) return 0;
    ex = http_exchange_new(s->service, s->transport, &s->parser, &s->work);
    if (!ex) {
      transport_close(s->transport);
      return 0;
    }
    s->ex = ex;
    /* Each exchange is measured on its own, and gets its own grace period. */
    rate_meter_reset(&s->body_meter);
    rate_meter_reset(&s->transport->send_meter);
    http_parser_begin(&s->parser, &ex->head);
    if (!s->header_deadline) arm_header_deadline(s);
  }
  feed(s);
  if (s->parser.error_status) {
    fail(s, s->parser.error_status, s->parser.error_reason);
    return 0;
  }
  if (s->parser.pause != HTTP_PAUSE_HEAD) return 0; /* more bytes needed */
  s->header_deadline = 0;
  http_service *service = s->service;
  if (service->settings->limit_concurrency &&
      service->requests_in_progress >= (uint64_t)service->settings->limit_concurrency) {
    /* Refused before the app: head_complete stays 0, so the exchange is freed with the
     * connection's side (no app holds it). */
    fail(s, 503, "limit_concurrency reached: the app has as many requests as it may have in "
                 "progress in this worker");
    return 0;
  }
  if (ex->head.upgrade && asgi_app_handles_websocket(service->asgi->app) &&
      upgrade_to_websocket(s))
    return 0;
  ex->head_complete = 1;
  if (http_exchange_begin(ex) != 0) {
    ex->head_complete = 0; /* the app never got it */
    fail(s, 500, "out of memory");
    return 0;
  }
  return 1;
}

/* The server waits for body bytes from the client, or stops waiting: body_timeout counts the
 * gaps while it waits, min_data_rate the bytes over the time waited. */
static void wait_for_body(h1_session *s) {
  if (!s->body_deadline) s->body_deadline = now_ms(s) + settings_of(s)->body_timeout;
  rate_meter_start(&s->body_meter, now_ms(s));
}

static void stop_waiting_for_body(h1_session *s) {
  s->body_deadline = 0;
  rate_meter_stop(&s->body_meter, now_ms(s));
}

/* An app that ignores wait_writable and answers each body event with output (an echo) is
 * paced by its client through this: past write_buffer_limit of queued output no body event
 * is made until the client has taken all but half of write_buffer_size. */
static int output_holds_body(h1_session *s) {
  http_exchange *ex = s->ex;
  size_t queued = transport_queued(s->transport);
  ex->body_held = ex->body_held ? queued > settings_of(s)->write_buffer_size / 2
                                : queued >= transport_output_limit(s->transport);
  return ex->body_held;
}

/* Parses body bytes while the app wants them (or discards them once the app is done).
 * Returns 1 when something changed and the cycle should look again. */
static int read_body(h1_session *s) {
  http_exchange *ex = s->ex;
  if (ex->released && !ex->draining) {
    stop_reading_body(s);
    if (ex->body_complete) return 1;
  }
  if (ex->span_outstanding) {
    if (!ex->wants_event && !ex->draining) return 0; /* the app still holds the last span */
    hold_span(s, 0);
  }
  if ((!ex->wants_event && !ex->draining) || (!ex->draining && output_holds_body(s))) {
    stop_waiting_for_body(s);
    return 0; /* flow control: nothing is read for an app that does not ask */
  }
  if (ex->wants_event && ex->head.expect_continue && !ex->continue_sent) {
    ex->continue_sent = 1;
    if (!ex->start_received)
      byte_buffer_append_str(transport_output(s->transport), HTTP_RESPONSE_CONTINUE);
    transport_mark_dirty(s->transport);
  }
  feed(s);
  if (s->parser.error_status) {
    fail(s, s->parser.error_status, s->parser.error_reason);
    return 0;
  }
  switch (s->parser.pause) {
    case HTTP_PAUSE_BODY:
      stop_waiting_for_body(s);
      if (ex->draining) return 1; /* discarded */
      hold_span(s, 1);
      if (!s->parser.body_more) ex->final_body_delivered = 1;
      http_exchange_deliver(ex, ASGID_HTTP_REQUEST, s->parser.body_at, s->parser.body_len,
                            s->parser.body_more);
      return 1;
    case HTTP_PAUSE_COMPLETE:
      stop_waiting_for_body(s);
      s->drain_deadline = 0;
      ex->body_complete = 1;
      if (ex->wants_event && !ex->final_body_delivered) {
        ex->final_body_delivered = 1;
        http_exchange_deliver(ex, ASGID_HTTP_REQUEST, "", 0, 0);
      }
      return 1;
    default: /* more bytes needed */
      wait_for_body(s);
      return 0;
  }
}

/* ---------------------------------------------------------------- the exchange cycle */

/* Everything the session can do now without waiting: read heads, feed bodies to the app,
 * finish exchanges and start the next pipelined one. App calls only set state and wake the
 * session, so no app callback ever runs inside an api call. */
static void step(h1_session *s) {
  while (!s->ended) {
    http_exchange *ex = s->ex;
    if (!ex || !ex->head_complete) {
      if (!read_head(s)) return;
      continue;
    }
    if (!ex->body_complete) {
      if (!read_body(s)) return;
      continue;
    }
    if (ex->wants_event && (ex->response_complete || s->transport->peer_eof)) {
      /* ASGI: after the body, receive() answers http.disconnect once the response is done
       * or the client has gone. */
      http_exchange_deliver(ex, ASGID_HTTP_DISCONNECT, NULL, 0, 0);
      continue;
    }
    if (!ex->response_complete || !ex->released) return;
    int keep_alive = ex->keep_alive;
    s->ex = NULL;
    http_exchange_finish(ex);
    if (!keep_alive || s->transport->peer_eof) {
      end_after_output(s);
      return;
    }
    start_idle_deadline(s);
  }
}

/* Runs the cycle; the session may end inside it (then it is freed here, once nothing of it
 * is in use any more). The transport settles (reading, buffer, timer) after the callback
 * that led here: once, not per session step. */
static void advance(h1_session *s) {
  if (s->work.busy) return;
  transport *t = s->transport;
  s->work.busy = 1;
  step(s);
  s->work.busy = 0;
  if (s->ended) {
    transport_group_cancel(t->group, &s->work);
    free(s);
  }
}

/* From the deferred-work queue, outside the transport's callbacks: settle here. */
static void run_work(deferred_work *work) {
  h1_session *s = (h1_session *)((char *)work - offsetof(h1_session, work));
  transport *t = s->transport;
  advance(s);
  transport_settle(t);
}

static void on_input(void *data, size_t received) {
  h1_session *s = data;
  if (received) {
    s->idle_deadline = 0;
    if (rate_meter_running(&s->body_meter)) s->body_meter.bytes += received;
    if (!s->ex && !s->header_deadline) arm_header_deadline(s);
    if (s->body_deadline) s->body_deadline = now_ms(s) + settings_of(s)->body_timeout;
  }
  advance(s);
}

static void on_peer_eof(void *data) {
  h1_session *s = data;
  http_exchange *ex = s->ex;
  if (!ex || !ex->head_complete || !ex->body_complete) {
    /* Between requests, in the middle of a head or of a body: nothing more can come. */
    transport_close(s->transport);
    return;
  }
  /* The request is complete (a client may half-close after sending it): finish the
   * response, then close. An app waiting for more events learns the client left. */
  advance(s);
}

static const transport_session_ops h1_ops = {
    .on_input = on_input,
    .on_peer_eof = on_peer_eof,
    .on_sent = on_sent,
    .before_flush = before_flush,
    .next_deadline = next_deadline,
    .on_deadline = on_deadline,
    .on_stop = on_stop,
    .on_close = on_close,
};

int h1_session_start(http_service *service, transport *t) {
  h1_session *s = calloc(1, sizeof *s);
  if (!s) {
    transport_close(t);
    return -1;
  }
  s->service = service;
  s->transport = t;
  s->work.run = run_work;
  http_parser_init(&s->parser, &service->limits);
  arm_header_deadline(s);
  transport_start(t, &h1_ops, s);
  /* A session before this one (the PROXY header's) may have read the first request's bytes
   * behind its own: no read will announce them again. */
  size_t unread;
  transport_unread(t, &unread);
  if (unread) on_input(s, unread);
  return 0;
}
