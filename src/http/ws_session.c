/* ws_session.c - the WebSocket session: handshake completion, frames, the app's messages,
 * keepalive and the closing handshake. See ws_session.h. */
#include "http/ws_session.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/fields.h"
#include "asgi/scope_websocket.h"
#include "http/date.h"
#include "http/request_scope.h"
#include "http/response.h"
#include "http/target.h"
#include "log/log.h"
#include "websocket/close_code.h"
#include "websocket/frame.h"
#include "websocket/message.h"

/* A message from the client waiting for the app (or held by it until its next receive). */
typedef struct ws_inbound {
  struct ws_inbound *next;
  size_t len;
  int text;
  uint8_t data[];
} ws_inbound;

typedef enum ws_state {
  WS_HANDSHAKE, /* the app has not accepted: the client's bytes wait in the read buffer */
  WS_OPEN,      /* frames both ways */
  WS_CLOSING,   /* the server sent its close frame and waits for the client's */
  WS_DONE       /* the connection ended (or only sends what is queued): only the app is left */
} ws_state;

typedef struct ws_session {
  asgid_request request;   /* the app's handle: a websocket scope */
  http_service *service;
  transport_group *group;
  transport *transport;    /* NULL once the connection is over for the session */
  deferred_work work;      /* deliver events, read frames the app made room for */
  http_head head;          /* the handshake request: the scope's strings live in it, until
                              the app has taken the scope */
  char *scope_storage;
  char *target;            /* the request target, for the access log, once the head is gone */
  size_t target_len;
  /* the scope's client address (a trusted proxy's, forwarded.h, lives in scope_storage):
   * the scope and the access log keep it after the app has taken the scope */
  char client_host[IP_ADDRESS_TEXT_SIZE];
  char **subprotocols;
  ws_handshake *handshake; /* until the 101 is written */
  ws_state state;
  ws_parser parser;
  ws_message message;
  ws_deflate deflate;
  ws_inbound *queue_head, *queue_tail; /* messages the app has not received yet */
  size_t queued;
  ws_inbound *held;        /* the message the app received last: valid until its next receive */
  /* denial: the app's own HTTP response instead of the 101 */
  asgid_header *denial_headers;
  size_t denial_header_count;
  http_response_plan plan;
  int status;              /* what the handshake was answered with, for the access log */
  /* Deadlines, in loop milliseconds (0: not armed). */
  uint64_t handshake_deadline; /* the app accepts (from the request's first byte) */
  uint64_t ping_due;           /* the next keepalive ping */
  uint64_t pong_deadline;      /* the client answers the last ping */
  uint64_t close_deadline;     /* the client answers our close frame */
  /* for the access log */
  access_log_clock started;
  uint64_t messages_in, messages_out, bytes_in, bytes_out;
  uint16_t disconnect_code;    /* what websocket.disconnect says; 0 until the end is known */
  uint8_t disconnect_reason_len;
  char disconnect_reason[WS_CLOSE_REASON_MAX];
  unsigned deflate_on : 1;
  unsigned wants_event : 1;
  unsigned wants_writable : 1;
  unsigned connect_delivered : 1;
  unsigned close_sent : 1;
  unsigned released : 1;       /* the app is finished with the request */
  unsigned logged : 1;
  unsigned counted_open : 1;   /* in service->websockets_open */
} ws_session;

static uint64_t now_ms(const ws_session *ws) { return uv_now(ws->group->loop); }

static const asgid_settings *settings_of(const ws_session *ws) {
  return ws->service->settings;
}

static const ws_limits *limits_of(const ws_session *ws) { return &ws->service->websocket; }

static ws_session *from_work(deferred_work *work) {
  return (ws_session *)((char *)work - offsetof(ws_session, work));
}

static void wake(ws_session *ws) { transport_group_defer(ws->group, &ws->work); }

/* ---------------------------------------------------------------- the end */

static void free_queue(ws_session *ws) {
  for (ws_inbound *m = ws->queue_head, *next; m; m = next) {
    next = m->next;
    free(m);
  }
  ws->queue_head = ws->queue_tail = NULL;
  ws->queued = 0;
  free(ws->held);
  ws->held = NULL;
}

static void free_session(ws_session *ws) {
  transport_group_cancel(ws->group, &ws->work);
  free_queue(ws);
  ws_message_reset(&ws->message);
  ws_deflate_free(&ws->deflate);
  free(ws->handshake);
  free(ws->denial_headers);
  free(ws->subprotocols);
  free(ws->scope_storage);
  free(ws->target);
  http_head_free(&ws->head);
  free(ws);
}

static void run_free(deferred_work *work) { free_session(from_work(work)); }

/* Frees the session once nothing can be using it: from the deferred-work queue when its own
 * code may be on the stack (it may end inside an app callback it made). */
static void free_later(ws_session *ws) {
  transport_group_cancel(ws->group, &ws->work);
  ws->work.run = run_free;
  ws->work.busy = 0;
  transport_group_defer(ws->group, &ws->work);
}

/* The app learns how the connection ended (websocket.disconnect, after the messages it has
 * not received yet); the first cause known is the one it gets. An app's own close is not an
 * end until the client answers it (or ws_close_timeout passes). */
static void set_disconnect(ws_session *ws, unsigned code, const uint8_t *reason, size_t len) {
  if (ws->disconnect_code) return;
  ws->disconnect_code = (uint16_t)code;
  if (len > sizeof ws->disconnect_reason) len = sizeof ws->disconnect_reason;
  if (len) memcpy(ws->disconnect_reason, reason, len);
  ws->disconnect_reason_len = (uint8_t)len;
}

static void write_access_log(ws_session *ws) {
  if (ws->logged || !access_log_enabled() || !ws->transport) return;
  ws->logged = 1;
  const char *target = ws->target ? ws->target : ws->head.arena + ws->head.target_offset;
  size_t target_len = ws->target ? ws->target_len : ws->head.target_len;
  const char *path, *query;
  size_t path_len, query_len;
  http_target_split(target, target_len, &path, &path_len, &query, &query_len);
  access_log_entry entry = {
      .remote_addr = ws->request.scope.client.present ? ws->client_host : "-",
      .method = "GET", /* a WebSocket handshake is one (websocket/handshake.c) */
      .method_len = 3,
      .target = target,
      .target_len = target_len,
      .path = path,
      .path_len = path_len,
      .query = query,
      .query_len = query_len,
      .http_version = "1.1",
      .status = ws->status,
      .body_bytes = ws->bytes_out,
      .start_usec = ws->started.wall_usec,
      .duration_usec = access_log_clock_elapsed_usec(&ws->started),
      .websocket = 1,
      .messages_in = ws->messages_in,
      .bytes_in = ws->bytes_in,
      .messages_out = ws->messages_out,
  };
  access_log_write(&entry);
}

/* The transport closes or only finishes its output: the session lets go of it. */
static void on_close(void *data) {
  ws_session *ws = data;
  write_access_log(ws);
  ws->transport = NULL;
  ws->state = WS_DONE;
  if (ws->counted_open) ws->service->websockets_open--;
  ws->counted_open = 0;
  set_disconnect(ws, WS_CLOSE_ABNORMAL, NULL, 0);
  asgi_request_disconnect(&ws->request);
  if (ws->wants_writable) {
    ws->wants_writable = 0;
    asgi_request_writable(&ws->request);
  }
  if (ws->released)
    free_later(ws);
  else
    wake(ws); /* the app may be waiting for the disconnect */
}

/* Sends what is queued, then closes (the server closes TCP first, RFC 6455 §7.1.1). */
static void end_connection(ws_session *ws) {
  if (ws->transport) transport_end_after_output(ws->transport);
}

/* ---------------------------------------------------------------- output */

static void write_bytes(ws_session *ws, const void *data, size_t len) {
  if (byte_buffer_append(transport_output(ws->transport), data, len) != 0) {
    transport_close(ws->transport);
    return;
  }
  transport_mark_dirty(ws->transport);
}

static void write_close_frame(ws_session *ws, unsigned code, const uint8_t *reason, size_t len) {
  uint8_t frame[WS_CONTROL_FRAME_MAX];
  size_t n = ws_frame_close_write(frame, code, reason, len);
  ws->close_sent = 1;
  ws->ping_due = ws->pong_deadline = 0;
  write_bytes(ws, frame, n);
}

/* The server starts the closing handshake (the app closed, the worker stops): the client
 * answers with its close frame within ws_close_timeout. */
static void start_close(ws_session *ws, unsigned code, const uint8_t *reason, size_t len) {
  if (ws->state != WS_OPEN) return;
  write_close_frame(ws, code, reason, len);
  if (!ws->transport) return;
  ws->state = WS_CLOSING;
  ws->close_deadline = now_ms(ws) + limits_of(ws)->close_timeout_ms;
  transport_arm_timer(ws->transport);
}

/* The client broke a rule: close with the code the rule gives (RFC 6455 §7.1.7). */
static void fail(ws_session *ws, unsigned code, const char *rule) {
  log_info("closing WebSocket from %s with %u: %s", transport_peer_name(ws->transport), code, rule);
  set_disconnect(ws, code, NULL, 0);
  if (!ws->close_sent) write_close_frame(ws, code, NULL, 0);
  end_connection(ws);
}

/* Answers the handshake with an HTTP error (the app closed before accepting, or failed). */
static void refuse(ws_session *ws, int status) {
  ws->status = status;
  http_response_write_error(transport_output(ws->transport), status,
                            settings_of(ws)->server_header);
  transport_mark_dirty(ws->transport);
  set_disconnect(ws, WS_CLOSE_ABNORMAL, NULL, 0);
  end_connection(ws);
}

static int has_server_header(const asgid_header *headers, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (asgi_field_equals(headers[i].name, headers[i].name_len, "server")) return 1;
  return 0;
}

static void accept_handshake(ws_session *ws, const asgid_event *event) {
  const asgid_header *app_headers = event->u.websocket_accept.headers;
  size_t app_count = event->u.websocket_accept.header_count;
  const char *date = http_date_now();
  asgid_header server_headers[2] = {{"date", 4, date, strlen(date)},
                                    {"server", 6, "asgid", 5}};
  size_t server_count =
      settings_of(ws)->server_header && !has_server_header(app_headers, app_count) ? 2 : 1;
  const char *subprotocol = event->u.websocket_accept.subprotocol;
  size_t need = ws_handshake_response(NULL, 0, ws->handshake, subprotocol, server_headers,
                                      server_count, app_headers, app_count);
  char *head = malloc(need);
  if (!head) {
    transport_close(ws->transport);
    return;
  }
  ws_handshake_response(head, need, ws->handshake, subprotocol, server_headers, server_count,
                        app_headers, app_count);
  write_bytes(ws, head, need);
  free(head);
  if (!ws->transport) return;
  ws->status = 101;
  ws->state = WS_OPEN;
  ws->service->websockets_open++;
  ws->counted_open = 1;
  ws_frame_limits frames = limits_of(ws)->frames;
  frames.deflate = ws->handshake->deflate;
  ws_parser_init(&ws->parser, &frames);
  if (ws->handshake->deflate) {
    ws->deflate_on = 1;
    ws_deflate_init(&ws->deflate, &ws->handshake->deflate_params, &limits_of(ws)->deflate);
  }
  free(ws->handshake);
  ws->handshake = NULL;
  ws->handshake_deadline = 0;
  if (limits_of(ws)->ping_interval_ms)
    ws->ping_due = now_ms(ws) + limits_of(ws)->ping_interval_ms;
  transport_pause_input(ws->transport, 0);
  transport_arm_timer(ws->transport);
  wake(ws); /* frames the client sent right behind its handshake */
}

static void send_message(ws_session *ws, const asgid_event *event) {
  transport *t = ws->transport;
  if (ws->state != WS_OPEN) return;
  if (transport_queued(t) >= transport_output_limit(t)) {
    log_error("app sent a WebSocket message while %zu bytes already wait for a client that "
              "does not read (write_buffer_limit; the app should wait until writable): "
              "closing the connection", transport_queued(t));
    transport_close(t);
    return;
  }
  unsigned opcode = event->u.websocket_message.text ? WS_OP_TEXT : WS_OP_BINARY;
  uint8_t header[WS_FRAME_HEADER_MAX];
  size_t header_len, len;
  const uint8_t *payload;
  byte_buffer *out = transport_output(t);
  if (ws_message_frame(ws->deflate_on ? &ws->deflate : NULL, opcode,
                       event->u.websocket_message.data, event->u.websocket_message.len,
                       &ws->service->websocket_scratch, header, &header_len, &payload,
                       &len) != 0 ||
      byte_buffer_append(out, header, header_len) != 0 ||
      (len && byte_buffer_append(out, payload, len) != 0)) {
    transport_close(t);
    return;
  }
  ws->messages_out++;
  ws->bytes_out += event->u.websocket_message.len;
  transport_mark_dirty(t);
}

/* websocket.http.response.*: the app's own answer to the handshake. The head waits for the
 * first body, as an HTTP response's does, so a single body gets a Content-Length. */
static void deny(ws_session *ws, const asgid_event *event) {
  transport *t = ws->transport;
  if (event->type == ASGID_WEBSOCKET_HTTP_RESPONSE_START) {
    const asgid_header *headers = event->u.response_start.headers;
    size_t count = event->u.response_start.header_count;
    ws->denial_headers = malloc(asgi_headers_size(headers, count) + 1);
    if (!ws->denial_headers) {
      transport_close(t);
      return;
    }
    asgi_headers_copy(headers, count, ws->denial_headers);
    ws->denial_header_count = count;
    ws->status = event->u.response_start.status;
    return;
  }
  const uint8_t *body = event->u.response_body.body;
  size_t len = event->u.response_body.body_len;
  int more = event->u.response_body.more_body;
  if (ws->denial_headers) {
    http_response_input in = {
        .status = ws->status,
        .headers = ws->denial_headers,
        .header_count = ws->denial_header_count,
        .http_minor = 1,
        .keep_alive = 0,
        .body_known = !more,
        .body_length = len,
        .server_header = settings_of(ws)->server_header,
    };
    int rc = http_response_write_head(transport_output(t), &in, &ws->plan);
    free(ws->denial_headers);
    ws->denial_headers = NULL;
    if (rc != 0) {
      transport_close(t);
      return;
    }
  }
  if (http_response_write_body(transport_output(t), &ws->plan, body, len) != 0) {
    transport_close(t);
    return;
  }
  ws->bytes_out += len;
  transport_mark_dirty(t);
  if (more) return;
  http_response_write_end(transport_output(t), &ws->plan);
  set_disconnect(ws, WS_CLOSE_ABNORMAL, NULL, 0);
  end_connection(ws);
}

/* ---------------------------------------------------------------- the app's calls */

static void transport_want_event(void *data) {
  ws_session *ws = data;
  free(ws->held); /* the app's last message is valid until this receive */
  ws->held = NULL;
  ws->wants_event = 1;
  wake(ws);
}

static void transport_send(void *data, const asgid_event *event) {
  ws_session *ws = data;
  if (!ws->transport || ws->state == WS_DONE) return; /* the client has gone */
  switch (event->type) {
    case ASGID_WEBSOCKET_ACCEPT:
      accept_handshake(ws, event);
      break;
    case ASGID_WEBSOCKET_SEND:
      send_message(ws, event);
      break;
    case ASGID_WEBSOCKET_CLOSE:
      if (ws->state == WS_HANDSHAKE) {
        refuse(ws, 403);
      } else {
        const uint8_t *reason = (const uint8_t *)event->u.websocket_close.reason;
        size_t len = event->u.websocket_close.reason_len;
        start_close(ws, (unsigned)asgi_websocket_close_code(event), reason, len);
      }
      break;
    case ASGID_WEBSOCKET_HTTP_RESPONSE_START:
    case ASGID_WEBSOCKET_HTTP_RESPONSE_BODY:
      deny(ws, event);
      break;
    default:
      break;
  }
}

static void transport_release(void *data) {
  ws_session *ws = data;
  ws->released = 1;
  ws->service->requests_in_progress--;
  free_queue(ws);
  if (ws->transport) {
    switch (asgi_websocket_phase_of(&ws->request)) {
      case ASGI_WEBSOCKET_HANDSHAKE: /* the app ended without accepting */
        refuse(ws, 403);
        break;
      case ASGI_WEBSOCKET_DENYING: /* its denial response is incomplete */
        log_error("app finished a WebSocket denial response before its end: closing the "
                  "connection");
        transport_close(ws->transport);
        break;
      case ASGI_WEBSOCKET_OPEN: /* the app returned without closing: close 1000 */
        start_close(ws, WS_CLOSE_NORMAL, NULL, 0);
        break;
      case ASGI_WEBSOCKET_FINISHED:
        break;
    }
  }
  if (!ws->transport) free_later(ws);
}

static int transport_wait_writable(void *data) {
  ws_session *ws = data;
  if (!ws->transport) return 0; /* the next send says the client has gone */
  if (transport_queued(ws->transport) < settings_of(ws)->write_buffer_size) return 0;
  ws->wants_writable = 1;
  return 1;
}

/* The app has the scope: what only the scope needed goes, so that an idle WebSocket keeps no
 * copy of its handshake (the offered subprotocols stay: an accept is checked against them). */
static void transport_scope_taken(void *data) {
  ws_session *ws = data;
  if (access_log_enabled() && ws->head.arena) {
    ws->target = malloc(ws->head.target_len ? ws->head.target_len : 1);
    if (!ws->target) return; /* keep the head: the log line needs it */
    memcpy(ws->target, ws->head.arena + ws->head.target_offset, ws->head.target_len);
    ws->target_len = ws->head.target_len;
  }
  asgid_scope *scope = &ws->request.scope;
  scope->path = scope->raw_path = scope->query_string = scope->root_path = "";
  scope->path_len = scope->raw_path_len = scope->query_string_len = scope->root_path_len = 0;
  scope->headers = NULL;
  scope->header_count = 0;
  free(ws->scope_storage);
  ws->scope_storage = NULL;
  http_head_free(&ws->head);
}

static const asgi_transport ws_asgi_transport = {
    .want_event = transport_want_event,
    .send = transport_send,
    .release = transport_release,
    .wait_writable = transport_wait_writable,
    .scope_taken = transport_scope_taken,
};

/* ---------------------------------------------------------------- events for the app */

static void deliver(ws_session *ws, const asgid_event *event) {
  ws->wants_event = 0;
  asgi_request_deliver(&ws->request, event);
}

/* Produces the event the app waits for, if there is one: connect first, then the messages
 * in order, then (after every buffered message) the disconnect. Returns 1 when it delivered a
 * connect or a message (an app that runs inline may have asked for the next already). */
static int deliver_next(ws_session *ws) {
  if (!ws->wants_event) return 0;
  asgid_event event;
  memset(&event, 0, sizeof event);
  if (!ws->connect_delivered) {
    ws->connect_delivered = 1;
    event.type = ASGID_WEBSOCKET_CONNECT;
    deliver(ws, &event);
    return 1;
  }
  if (ws->queue_head) {
    ws_inbound *m = ws->queue_head;
    ws->queue_head = m->next;
    if (!ws->queue_head) ws->queue_tail = NULL;
    ws->queued--;
    ws->held = m;
    event.type = ASGID_WEBSOCKET_RECEIVE;
    event.u.websocket_message.data = m->data;
    event.u.websocket_message.len = m->len;
    event.u.websocket_message.text = m->text;
    deliver(ws, &event);
    return 1;
  }
  if (ws->disconnect_code) { /* the end is known (and is said again if asked again) */
    event.type = ASGID_WEBSOCKET_DISCONNECT;
    event.u.websocket_close.code = ws->disconnect_code;
    event.u.websocket_close.reason = ws->disconnect_reason;
    event.u.websocket_close.reason_len = ws->disconnect_reason_len;
    deliver(ws, &event);
  }
  return 0;
}

/* ---------------------------------------------------------------- frames from the client */

static int enqueue(ws_session *ws, const uint8_t *data, size_t len, int text) {
  ws_inbound *m = malloc(sizeof *m + len);
  if (!m) return -1;
  m->next = NULL;
  m->len = len;
  m->text = text;
  if (len) memcpy(m->data, data, len);
  if (ws->queue_tail)
    ws->queue_tail->next = m;
  else
    ws->queue_head = m;
  ws->queue_tail = m;
  ws->queued++;
  ws->messages_in++;
  ws->bytes_in += len;
  return 0;
}

static void on_control(ws_session *ws, const ws_parse_result *r) {
  switch (r->opcode) {
    case WS_OP_PING:
      if (!ws->close_sent) {
        uint8_t frame[WS_CONTROL_FRAME_MAX];
        write_bytes(ws, frame, ws_frame_control_write(frame, WS_OP_PONG, r->data, r->len));
      }
      break;
    case WS_OP_PONG:
      ws->pong_deadline = 0;
      break;
    case WS_OP_CLOSE:
      /* The client's close: answer it (unless ours went first), and the handshake is done. */
      set_disconnect(ws, r->close_code, r->data, r->len);
      if (!ws->close_sent)
        write_close_frame(ws, r->close_code, r->data,
                          r->close_code == WS_CLOSE_NO_STATUS ? 0 : r->len);
      end_connection(ws);
      break;
  }
}

/* Parses the client's frames while the app has room for messages (ws_max_queue). */
static void read_frames(ws_session *ws) {
  const ws_limits *limits = limits_of(ws);
  while (ws->transport && (ws->state == WS_OPEN || ws->state == WS_CLOSING) &&
         ws->queued < limits->max_queue) {
    size_t len;
    uint8_t *data = (uint8_t *)transport_unread(ws->transport, &len);
    if (!len) break;
    ws_parse_result r;
    size_t used = ws_parser_feed(&ws->parser, data, len, &r);
    const char *rule = NULL;
    int code = 0;
    switch (r.event) {
      case WS_PARSE_MORE:
        transport_consume(ws->transport, used);
        break;
      case WS_PARSE_DATA:
        code = ws_message_add(&ws->message, ws->deflate_on ? &ws->deflate : NULL,
                              limits->max_message_size, &r, &rule);
        if (!code && ws->message.complete) {
          /* After our close, the client's data is read but no longer delivered. */
          if (ws->state == WS_OPEN &&
              enqueue(ws, ws->message.data, ws->message.len,
                      ws->message.opcode == WS_OP_TEXT) != 0) {
            code = WS_CLOSE_INTERNAL_ERROR;
            rule = "out of memory for a message";
          }
          ws_message_reset(&ws->message);
        }
        transport_consume(ws->transport, used);
        if (code) {
          fail(ws, (unsigned)code, rule);
          return;
        }
        break;
      case WS_PARSE_CONTROL:
        transport_consume(ws->transport, used);
        on_control(ws, &r);
        break;
      case WS_PARSE_ERROR:
        fail(ws, r.close_code, r.rule);
        return;
    }
  }
  /* Flow control: an app that does not receive stops the reading, and so the client. */
  if (ws->transport)
    transport_pause_input(ws->transport,
                          ws->state == WS_HANDSHAKE || ws->queued >= limits->max_queue);
}

/* Everything the session can do now: read frames the app has room for, and answer the app's
 * receive. Calls from the app only set state and wake it. The transport settles after the
 * callback that led here. */
static void step(ws_session *ws) {
  if (ws->work.busy) return;
  ws->work.busy = 1;
  do
    read_frames(ws); /* a message the app took may have made room */
  while (deliver_next(ws));
  ws->work.busy = 0;
}

/* From the deferred-work queue, outside the transport's callbacks: settle here. */
static void run_work(deferred_work *work) {
  ws_session *ws = from_work(work);
  transport *t = ws->transport;
  step(ws);
  if (t) transport_settle(t);
}

/* ---------------------------------------------------------------- the transport's calls */

static void on_input(void *data, size_t received) {
  (void)received;
  step(data);
}

static void on_peer_eof(void *data) {
  ws_session *ws = data;
  /* The client left without the closing handshake. */
  transport_close(ws->transport);
}

static void on_sent(void *data) {
  ws_session *ws = data;
  if (ws->wants_writable &&
      transport_queued(ws->transport) <= settings_of(ws)->write_buffer_size / 2) {
    ws->wants_writable = 0;
    asgi_request_writable(&ws->request);
  }
}

static void before_flush(void *data) { (void)data; }

static uint64_t next_deadline(void *data) {
  const ws_session *ws = data;
  uint64_t due = deadline_earliest(ws->handshake_deadline, ws->ping_due);
  due = deadline_earliest(due, ws->pong_deadline);
  return deadline_earliest(due, ws->close_deadline);
}

static void on_deadline(void *data, uint64_t now) {
  ws_session *ws = data;
  const ws_limits *limits = limits_of(ws);
  if (deadline_passed(ws->handshake_deadline, now)) {
    ws->handshake_deadline = 0;
    log_info("503 from %s: the app did not accept the WebSocket within ws_handshake_timeout",
             transport_peer_name(ws->transport));
    refuse(ws, 503);
  } else if (deadline_passed(ws->close_deadline, now)) {
    ws->close_deadline = 0;
    log_info("closing WebSocket from %s: no close frame in answer within ws_close_timeout",
             transport_peer_name(ws->transport));
    transport_close(ws->transport);
  } else if (deadline_passed(ws->pong_deadline, now)) {
    ws->pong_deadline = 0;
    fail(ws, WS_CLOSE_INTERNAL_ERROR, "keepalive ping not answered within ws_ping_timeout");
  } else if (deadline_passed(ws->ping_due, now)) {
    static const uint8_t payload[] = "asgid";
    uint8_t frame[WS_CONTROL_FRAME_MAX];
    write_bytes(ws, frame, ws_frame_control_write(frame, WS_OP_PING, payload, 5));
    ws->ping_due = now + limits->ping_interval_ms;
    if (limits->ping_timeout_ms && !ws->pong_deadline)
      ws->pong_deadline = now + limits->ping_timeout_ms;
  }
}

/* A graceful stop: close 1012 (Service Restart: the server comes back), and the app learns
 * of it at once, after the messages it has not received yet. */
static void on_stop(void *data) {
  ws_session *ws = data;
  if (ws->state == WS_HANDSHAKE) {
    transport_close(ws->transport);
    return;
  }
  set_disconnect(ws, WS_CLOSE_SERVICE_RESTART, NULL, 0);
  start_close(ws, WS_CLOSE_SERVICE_RESTART, NULL, 0);
  asgi_request_disconnect(&ws->request);
  wake(ws);
}

static const transport_session_ops ws_ops = {
    .on_input = on_input,
    .on_peer_eof = on_peer_eof,
    .on_sent = on_sent,
    .before_flush = before_flush,
    .next_deadline = next_deadline,
    .on_deadline = on_deadline,
    .on_stop = on_stop,
    .on_close = on_close,
};

/* ---------------------------------------------------------------- start */

static ws_handshake_request handshake_request(const ws_session *ws) {
  return (ws_handshake_request){
      .method = ws->head.arena + ws->head.method_offset,
      .method_len = ws->head.method_len,
      .http_minor = ws->head.http_minor,
      .headers = ws->request.scope.headers,
      .header_count = ws->request.scope.header_count,
  };
}

void ws_session_start(http_service *service, transport *t, http_head *head,
                      const ws_handshake *hs, uint64_t began_ms) {
  ws_session *ws = calloc(1, sizeof *ws);
  if (ws) ws->handshake = malloc(sizeof *ws->handshake);
  if (!ws || !ws->handshake) {
    free(ws);
    http_head_free(head);
    transport_close(t);
    return;
  }
  ws->service = service;
  ws->group = t->group;
  ws->transport = t;
  ws->work.run = run_work;
  ws->head = *head;
  memset(head, 0, sizeof *head);
  *ws->handshake = *hs;
  ws->status = 499; /* until the handshake is answered: nginx's "the client left first" */
  access_log_clock_start(&ws->started);
  asgi_request_init(&ws->request, service->asgi, &ws_asgi_transport, ws);
  asgid_scope *scope = &ws->request.scope;
  ws->scope_storage = http_request_scope_build(scope, &ws->head, t, service);
  if (ws->scope_storage && scope->client.present) {
    snprintf(ws->client_host, sizeof ws->client_host, "%s", scope->client.host);
    scope->client.host = ws->client_host;
  }
  asgi_websocket_scope_init(scope);
  ws_handshake_request req = handshake_request(ws);
  size_t count = 0;
  if (!ws->scope_storage || ws_handshake_subprotocols(&req, &ws->subprotocols, &count) != 0) {
    transport_start(t, &ws_ops, ws);
    http_response_write_error(transport_output(t), 500, service->settings->server_header);
    transport_mark_dirty(t);
    ws->released = 1; /* no app holds it */
    end_connection(ws);
    return;
  }
  scope->subprotocols = (const char *const *)ws->subprotocols;
  scope->subprotocol_count = count;
  ws->handshake_deadline = began_ms + limits_of(ws)->handshake_timeout_ms;
  service->requests_in_progress++; /* until the app releases it */
  log_note_request("GET", 3, ws->head.arena + ws->head.target_offset, ws->head.target_len);
  transport_start(t, &ws_ops, ws);
  transport_pause_input(t, 1); /* frames wait until the app accepts */
  asgi_request_start(&ws->request);
}
