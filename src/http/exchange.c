/* exchange.c - one request and its response: the ASGI scope, the transport the ASGI layer
 * calls, the response framing and the access log. See exchange.h. */
#include "http/exchange.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "abi/fields.h"
#include "http/request_scope.h"
#include "http/target.h"
#include "log/log.h"

static const asgid_settings *settings_of(const http_exchange *ex) {
  return ex->service->settings;
}

/* The session looks at the exchange again from the deferred-work queue; once the connection
 * is gone, the exchange's own work tells a waiting app so. */
static void wake(http_exchange *ex) {
  transport_group_defer(ex->group, ex->wake ? ex->wake : &ex->orphan_work);
}

static int is_head_request(const http_exchange *ex) {
  return ex->head.method_len == 4 && memcmp(ex->head.arena + ex->head.method_offset, "HEAD", 4) == 0;
}

static void free_exchange(http_exchange *ex) {
  transport_group_cancel(ex->group, &ex->orphan_work);
  http_head_free(&ex->head);
  free(ex->scope_storage);
  free(ex->response_headers);
  free(ex);
}

static void run_orphan_work(deferred_work *work);
static const asgi_transport http_exchange_transport;

http_exchange *http_exchange_new(http_service *service, transport *t, const http_parser *parser,
                                 deferred_work *wake_session) {
  http_exchange *ex = calloc(1, sizeof *ex);
  if (!ex) return NULL;
  ex->service = service;
  ex->group = t->group;
  ex->transport = t;
  ex->parser = parser;
  ex->wake = wake_session;
  ex->orphan_work.run = run_orphan_work;
  access_log_clock_start(&ex->started);
  return ex;
}

int http_exchange_begin(http_exchange *ex) {
  http_service *service = ex->service;
  ex->keep_alive = ex->head.keep_alive && service->settings->keepalive_timeout > 0 &&
                   !service->stopping;
  asgi_request_init(&ex->request, service->asgi, &http_exchange_transport, ex);
  ex->scope_storage = http_request_scope_build(&ex->request.scope, &ex->head, ex->transport,
                                               service);
  if (!ex->scope_storage) return -1;
  service->requests_in_progress++; /* until the app releases it (transport_release) */
  log_note_request(ex->request.scope.method, ex->head.method_len,
                   ex->head.arena + ex->head.target_offset, ex->head.target_len);
  asgi_request_start(&ex->request);
  return 0;
}

/* ---------------------------------------------------------------- response */

/* A response that goes out before the request body was read can keep the connection only if
 * the rest of the body will be discarded (h1_session.c: stop_reading_body): the head must not
 * promise another request the server then closes on. A Content-Length rest larger than
 * drain_limit is not discarded; a chunked rest, of unknown size, is, within drain_timeout. */
static int unread_body_allows_keep_alive(const http_exchange *ex) {
  if (ex->body_complete || ex->head.chunked) return 1;
  if (ex->head.expect_continue && !ex->continue_sent) return 0;
  return ex->head.content_length - ex->parser->body_received <= settings_of(ex)->drain_limit;
}

static void write_head(http_exchange *ex, int body_known, uint64_t body_length) {
  transport *t = ex->transport;
  http_response_input in = {
      .status = ex->status,
      .headers = ex->response_headers,
      .header_count = ex->response_header_count,
      .request_is_head = is_head_request(ex),
      .http_minor = ex->head.http_minor,
      .keep_alive = ex->keep_alive && !ex->service->stopping &&
                    unread_body_allows_keep_alive(ex),
      .body_known = body_known,
      .body_length = body_length,
      .server_header = settings_of(ex)->server_header,
  };
  if (http_response_write_head(transport_output(t), &in, &ex->plan) != 0) {
    transport_close(t);
    return;
  }
  ex->keep_alive = (unsigned)ex->plan.keep_alive;
  ex->head_written = 1;
  transport_mark_dirty(t);
}

void http_exchange_write_pending_head(http_exchange *ex) {
  if (ex->start_received && !ex->head_written) write_head(ex, 0, 0);
}

static int keep_response_start(http_exchange *ex, const asgid_event *event) {
  const asgid_header *headers = event->u.response_start.headers;
  size_t count = event->u.response_start.header_count;
  void *storage = malloc(asgi_headers_size(headers, count) + 1);
  if (!storage) return -1;
  ex->response_headers = asgi_headers_copy(headers, count, storage);
  ex->response_header_count = count;
  ex->status = event->u.response_start.status;
  ex->start_received = 1;
  return 0;
}

static void response_body(http_exchange *ex, const asgid_event *event) {
  transport *t = ex->transport;
  const uint8_t *body = event->u.response_body.body;
  size_t len = event->u.response_body.body_len;
  int more = event->u.response_body.more_body;
  /* The head waits for the first body: a body that is also the last gets a Content-Length
   * and goes out with the head in one write. */
  if (transport_queued(t) >= transport_output_limit(t)) {
    log_error("app sent more response while %zu bytes already wait for a client that does not "
              "read (write_buffer_limit; the app should wait until writable): closing the "
              "connection", transport_queued(t));
    transport_close(t);
    return;
  }
  if (!ex->head_written) write_head(ex, !more, len);
  if (!ex->transport) return; /* closed */
  if (http_response_write_body(transport_output(t), &ex->plan, body, len) != 0) {
    transport_close(t);
    return;
  }
  ex->body_bytes_written += len;
  transport_mark_dirty(t);
  if (more) return;
  if (ex->plan.has_content_length && ex->body_bytes_written < ex->plan.content_length &&
      ex->plan.send_body) {
    log_error("app ended a response after %llu of %llu bytes declared by content-length: "
              "closing the connection",
              (unsigned long long)ex->body_bytes_written,
              (unsigned long long)ex->plan.content_length);
    transport_close(t);
    return;
  }
  http_response_write_end(transport_output(t), &ex->plan);
  ex->response_complete = 1;
  wake(ex);
}

static void transport_send(void *data, const asgid_event *event) {
  http_exchange *ex = data;
  if (!ex->transport) return; /* the client has gone */
  if (event->type == ASGID_HTTP_RESPONSE_START) {
    if (keep_response_start(ex, event) != 0) transport_close(ex->transport);
    else transport_mark_dirty(ex->transport);
  } else if (event->type == ASGID_HTTP_RESPONSE_BODY) {
    response_body(ex, event);
  }
}

static void transport_want_event(void *data) {
  http_exchange *ex = data;
  ex->wants_event = 1;
  wake(ex);
}

static void transport_release(void *data) {
  http_exchange *ex = data;
  ex->released = 1;
  ex->service->requests_in_progress--;
  transport *t = ex->transport;
  if (!t) {
    free_exchange(ex);
    return;
  }
  if (!ex->start_received) {
    log_error("app finished %s %.*s without a response: 500", ex->request.scope.method,
              (int)ex->request.scope.raw_path_len, ex->request.scope.raw_path);
    ex->status = 500;
    ex->head_written = ex->start_received = ex->response_complete = 1;
    ex->keep_alive = 0;
    http_response_write_error(transport_output(t), 500, settings_of(ex)->server_header);
    transport_mark_dirty(t);
  } else if (!ex->response_complete) {
    log_error("app finished %s %.*s with an incomplete response: closing the connection",
              ex->request.scope.method, (int)ex->request.scope.raw_path_len,
              ex->request.scope.raw_path);
    transport_end_after_output(t); /* the session detaches the exchange, which is freed */
    return;
  }
  wake(ex); /* the session discards the body the app left unread, and moves on */
}

static int transport_wait_writable(void *data) {
  http_exchange *ex = data;
  if (!ex->transport) return 0; /* the next send says the client has gone */
  if (transport_queued(ex->transport) < settings_of(ex)->write_buffer_size) return 0;
  ex->wants_writable = 1;
  return 1;
}

static const asgi_transport http_exchange_transport = {
    .want_event = transport_want_event,
    .send = transport_send,
    .release = transport_release,
    .wait_writable = transport_wait_writable,
};

/* ---------------------------------------------------------------- end of an exchange */

void http_exchange_detach(http_exchange *ex) {
  ex->transport = NULL;
  ex->parser = NULL;
  ex->wake = NULL;
  if (!ex->head_complete || ex->released) {
    free_exchange(ex);
    return;
  }
  /* The app still runs: it learns of the disconnect on its next send or receive. */
  asgi_request_disconnect(&ex->request);
  if (ex->wants_event) wake(ex);
  if (ex->wants_writable) {
    ex->wants_writable = 0;
    asgi_request_writable(&ex->request);
  }
}

/* Copies n headers into the access log's form (the same fields). Returns NULL when out of
 * memory, which only costs the {header}i / {header}o atoms of this line. */
static access_log_header *log_headers(const asgid_header *headers, size_t n) {
  access_log_header *copy = malloc((n ? n : 1) * sizeof *copy);
  if (!copy) return NULL;
  for (size_t i = 0; i < n; i++)
    copy[i] = (access_log_header){headers[i].name, headers[i].name_len, headers[i].value,
                                  headers[i].value_len};
  return copy;
}

static void write_access_log(const http_exchange *ex, uint64_t duration_usec) {
  const asgid_scope *scope = &ex->request.scope;
  access_log_header *request_headers = log_headers(scope->headers, scope->header_count);
  access_log_header *response_headers =
      log_headers(ex->response_headers, ex->response_header_count);
  access_log_entry entry = {
      /* the client the app was told of: a trusted proxy's client, as uvicorn logs it */
      .remote_addr = scope->client.present ? scope->client.host : "-",
      .method = scope->method,
      .method_len = ex->head.method_len,
      .target = ex->head.arena + ex->head.target_offset,
      .target_len = ex->head.target_len,
      .path = scope->raw_path,
      .path_len = scope->raw_path_len,
      .query = scope->query_string,
      .query_len = scope->query_string_len,
      .http_version = scope->http_version,
      .status = ex->status,
      .body_bytes = ex->body_bytes_written,
      .start_usec = ex->started.wall_usec,
      .duration_usec = duration_usec,
      .request_headers = request_headers,
      .request_header_count = request_headers ? scope->header_count : 0,
      .response_headers = response_headers,
      .response_header_count = response_headers ? ex->response_header_count : 0,
  };
  access_log_write(&entry);
  free(request_headers);
  free(response_headers);
}

void http_exchange_log_rejection(http_exchange *ex, int status, uint64_t body_bytes) {
  const http_head *head = &ex->head;
  uint64_t duration_usec = access_log_clock_elapsed_usec(&ex->started);
  const char *method = head->method_len ? head->arena + head->method_offset : "";
  request_stats_count(&ex->service->stats, method, head->method_len, status, duration_usec);
  if (!access_log_enabled()) return;
  const char *target = head->method_len ? head->arena + head->target_offset : "";
  size_t target_len = head->method_len ? head->target_len : 0;
  const char *path, *query;
  size_t path_len, query_len;
  http_target_split(target, target_len, &path, &path_len, &query, &query_len);
  const llhttp_t *parser = &ex->parser->llhttp;
  access_log_entry entry = {
      .remote_addr = ex->transport->client_host[0] ? ex->transport->client_host : "-",
      .method = head->method_len ? head->arena + head->method_offset : "-",
      .method_len = head->method_len ? head->method_len : 1,
      .target = target,
      .target_len = target_len,
      .path = path,
      .path_len = path_len,
      .query = query,
      .query_len = query_len,
      .http_version = parser->http_major == 1 && parser->http_minor == 0 ? "1.0" : "1.1",
      .status = status,
      .body_bytes = body_bytes,
      .start_usec = ex->started.wall_usec,
      .duration_usec = duration_usec,
  };
  access_log_write(&entry);
}

void http_exchange_finish(http_exchange *ex) {
  http_service *service = ex->service;
  service->requests_served++;
  uint64_t duration_usec = access_log_clock_elapsed_usec(&ex->started);
  request_stats_count(&service->stats, ex->request.scope.method, ex->head.method_len, ex->status,
                      duration_usec);
  if (service->max_requests && service->requests_served == service->max_requests &&
      service->on_max_requests)
    service->on_max_requests(service);
  if (access_log_enabled()) write_access_log(ex, duration_usec);
  free_exchange(ex);
}

void http_exchange_deliver(http_exchange *ex, asgid_event_type type, const char *body,
                           size_t len, int more) {
  asgid_event event;
  memset(&event, 0, sizeof event);
  event.type = type;
  event.u.request.body = (const uint8_t *)body;
  event.u.request.body_len = len;
  event.u.request.more_body = more;
  ex->wants_event = 0;
  asgi_request_deliver(&ex->request, &event);
}

/* Once the connection is gone, all the app can still learn is that. */
static void run_orphan_work(deferred_work *work) {
  http_exchange *ex = (http_exchange *)((char *)work - offsetof(http_exchange, orphan_work));
  if (ex->wants_event) http_exchange_deliver(ex, ASGID_HTTP_DISCONNECT, NULL, 0, 0);
}

void http_exchange_output_drained(http_exchange *ex) {
  if (ex->wants_writable &&
      transport_queued(ex->transport) <= settings_of(ex)->write_buffer_size / 2) {
    ex->wants_writable = 0;
    asgi_request_writable(&ex->request);
  }
}
