/* exchange.c - one request and its response: the ASGI scope, the transport the ASGI layer
 * calls, the response framing and the access log. See conn.h. */
#include <stdlib.h>
#include <string.h>

#include "asgi/fields.h"
#include "http/conn.h"
#include "http/target.h"
#include "log/log.h"

static const asgid_settings *settings_of(const http_exchange *ex) {
  return ex->conn->server->settings;
}

static int is_head_request(const http_exchange *ex) {
  return ex->head.method_len == 4 && memcmp(ex->head.arena + ex->head.method_offset, "HEAD", 4) == 0;
}

static void free_exchange(http_exchange *ex) {
  if (ex->in_pump_queue) http_server_unschedule_pump(ex->server, ex);
  http_head_free(&ex->head);
  free(ex->scope_storage);
  free(ex->response_headers);
  free(ex);
}

/* ---------------------------------------------------------------- scope */

/* Copies len bytes to *cursor as a NUL-terminated string and advances the cursor. */
static const char *put_string(char **cursor, const char *bytes, size_t len) {
  char *start = *cursor;
  if (len) memcpy(start, bytes, len);
  start[len] = '\0';
  *cursor += len + 1;
  return start;
}

static int build_scope(http_exchange *ex) {
  http_conn *conn = ex->conn;
  const http_head *head = &ex->head;
  const char *target = head->arena + head->target_offset;
  const char *path, *query;
  size_t path_len, query_len;
  http_target_split(target, head->target_len, &path, &path_len, &query, &query_len);

  size_t headers_size = head->field_count * sizeof(asgid_header);
  size_t size = headers_size + (head->method_len + 1) + 2 * (path_len + 1) + (query_len + 1);
  ex->scope_storage = malloc(size);
  if (!ex->scope_storage) return -1;
  asgid_header *headers = (asgid_header *)ex->scope_storage;
  for (size_t i = 0; i < head->field_count; i++) {
    const http_field *f = &head->fields[i];
    headers[i] = (asgid_header){head->arena + f->name_offset, f->name_len,
                                head->arena + f->value_offset, f->value_len};
  }
  char *cursor = ex->scope_storage + headers_size;

  asgid_scope *scope = &ex->request.scope;
  scope->type = ASGID_SCOPE_HTTP;
  scope->type_name = "http";
  scope->http_version = head->http_minor ? "1.1" : "1.0";
  scope->scheme = "http";
  scope->method = put_string(&cursor, head->arena + head->method_offset, head->method_len);
  scope->raw_path = put_string(&cursor, path, path_len);
  scope->raw_path_len = path_len;
  char *decoded = cursor;
  scope->path_len = http_percent_decode(path, path_len, decoded);
  decoded[scope->path_len] = '\0';
  scope->path = decoded;
  cursor += path_len + 1;
  scope->query_string = put_string(&cursor, query, query_len);
  scope->query_string_len = query_len;
  scope->root_path = settings_of(ex)->root_path;
  scope->root_path_len = strlen(scope->root_path);
  scope->headers = headers;
  scope->header_count = head->field_count;
  if (conn->listener->kind == LISTENER_TCP) {
    scope->client = (asgid_address){1, conn->client_host, conn->client_port};
    scope->server = (asgid_address){1, conn->listener->host, conn->listener->port};
  } else {
    scope->client = (asgid_address){0, NULL, 0};
    scope->server = (asgid_address){1, conn->listener->host, -1};
  }
  return 0;
}

int http_exchange_begin(http_exchange *ex) {
  http_conn *conn = ex->conn;
  http_server *server = conn->server;
  conn->keep_alive = ex->head.keep_alive && server->settings->keepalive_timeout > 0 &&
                     !server->stopping;
  asgi_request_init(&ex->request, server->asgi, &http_exchange_transport, ex);
  if (build_scope(ex) != 0) return -1;
  server->requests_in_progress++; /* until the app releases it (transport_release) */
  log_note_request(ex->request.scope.method, ex->head.method_len,
                   ex->head.arena + ex->head.target_offset, ex->head.target_len);
  asgi_request_start(&ex->request);
  return 0;
}

/* ---------------------------------------------------------------- response */

/* A response that goes out before the request body was read can keep the connection only if
 * the rest of the body will be discarded (http_conn_stop_reading_body): the head must not
 * promise another request the server then closes on. A Content-Length rest larger than
 * drain_limit is not discarded; a chunked rest, of unknown size, is, within drain_timeout. */
static int unread_body_allows_keep_alive(const http_exchange *ex) {
  if (ex->body_complete || ex->head.chunked) return 1;
  if (ex->head.expect_continue && !ex->continue_sent) return 0;
  return ex->head.content_length - ex->conn->parser.body_received <=
         settings_of(ex)->drain_limit;
}

static void write_head(http_exchange *ex, int body_known, uint64_t body_length) {
  http_conn *conn = ex->conn;
  http_response_input in = {
      .status = ex->status,
      .headers = ex->response_headers,
      .header_count = ex->response_header_count,
      .request_is_head = is_head_request(ex),
      .http_minor = ex->head.http_minor,
      .keep_alive = conn->keep_alive && !conn->server->stopping &&
                    unread_body_allows_keep_alive(ex),
      .body_known = body_known,
      .body_length = body_length,
      .server_header = settings_of(ex)->server_header,
  };
  if (http_response_write_head(&conn->out, &in, &ex->plan) != 0) {
    http_conn_close(conn);
    return;
  }
  conn->keep_alive = (unsigned)ex->plan.keep_alive;
  ex->head_written = 1;
  http_conn_mark_dirty(conn);
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
  http_conn *conn = ex->conn;
  const uint8_t *body = event->u.response_body.body;
  size_t len = event->u.response_body.body_len;
  int more = event->u.response_body.more_body;
  /* The head waits for the first body: a body that is also the last gets a Content-Length
   * and goes out with the head in one write. */
  if (http_conn_queued(conn) >= http_conn_output_limit(conn)) {
    log_error("app sent more response while %zu bytes already wait for a client that does not "
              "read (write_buffer_limit; the app should wait until writable): closing the "
              "connection", http_conn_queued(conn));
    http_conn_close(conn);
    return;
  }
  if (!ex->head_written) write_head(ex, !more, len);
  if (conn->closing) return;
  if (http_response_write_body(&conn->out, &ex->plan, body, len) != 0) {
    http_conn_close(conn);
    return;
  }
  ex->body_bytes_written += len;
  http_conn_mark_dirty(conn);
  if (more) return;
  if (ex->plan.has_content_length && ex->body_bytes_written < ex->plan.content_length &&
      ex->plan.send_body) {
    log_error("app ended a response after %llu of %llu bytes declared by content-length: "
              "closing the connection",
              (unsigned long long)ex->body_bytes_written,
              (unsigned long long)ex->plan.content_length);
    http_conn_close(conn);
    return;
  }
  http_response_write_end(&conn->out, &ex->plan);
  ex->response_complete = 1;
  http_conn_kick(conn);
}

static void transport_send(void *data, const asgid_event *event) {
  http_exchange *ex = data;
  if (!ex->conn || ex->conn->closing) return; /* the client has gone */
  if (event->type == ASGID_HTTP_RESPONSE_START) {
    if (keep_response_start(ex, event) != 0) http_conn_close(ex->conn);
    else http_conn_mark_dirty(ex->conn);
  } else if (event->type == ASGID_HTTP_RESPONSE_BODY) {
    response_body(ex, event);
  }
}

static void transport_want_event(void *data) {
  http_exchange *ex = data;
  ex->wants_event = 1;
  if (ex->conn)
    http_conn_kick(ex->conn);
  else
    http_server_schedule_pump(ex->server, ex);
}

static void transport_release(void *data) {
  http_exchange *ex = data;
  ex->released = 1;
  ex->server->requests_in_progress--;
  http_conn *conn = ex->conn;
  if (!conn) {
    free_exchange(ex);
    return;
  }
  if (!ex->start_received) {
    log_error("app finished %s %.*s without a response: 500", ex->request.scope.method,
              (int)ex->request.scope.raw_path_len, ex->request.scope.raw_path);
    ex->status = 500;
    ex->head_written = ex->start_received = ex->response_complete = 1;
    conn->keep_alive = 0;
    http_response_write_error(&conn->out, 500, settings_of(ex)->server_header);
    http_conn_mark_dirty(conn);
  } else if (!ex->response_complete) {
    log_error("app finished %s %.*s with an incomplete response: closing the connection",
              ex->request.scope.method, (int)ex->request.scope.raw_path_len,
              ex->request.scope.raw_path);
    http_conn_end_after_output(conn); /* detaches and frees the exchange */
    return;
  }
  if (!ex->body_complete) http_conn_stop_reading_body(conn);
  http_conn_kick(conn);
}

static int transport_wait_writable(void *data) {
  http_exchange *ex = data;
  if (!ex->conn || ex->conn->closing) return 0; /* the next send says the client has gone */
  if (http_conn_queued(ex->conn) < settings_of(ex)->write_buffer_size) return 0;
  ex->wants_writable = 1;
  return 1;
}

const asgi_transport http_exchange_transport = {
    .want_event = transport_want_event,
    .send = transport_send,
    .release = transport_release,
    .wait_writable = transport_wait_writable,
};

/* ---------------------------------------------------------------- end of an exchange */

void http_exchange_detach(http_exchange *ex) {
  ex->conn = NULL;
  if (!ex->head_complete || ex->released) {
    free_exchange(ex);
    return;
  }
  /* The app still runs: it learns of the disconnect on its next send or receive. */
  asgi_request_disconnect(&ex->request);
  if (ex->wants_event) http_server_schedule_pump(ex->server, ex);
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

static void write_access_log(const http_exchange *ex) {
  const asgid_scope *scope = &ex->request.scope;
  access_log_header *request_headers = log_headers(scope->headers, scope->header_count);
  access_log_header *response_headers =
      log_headers(ex->response_headers, ex->response_header_count);
  access_log_entry entry = {
      .remote_addr = ex->conn->client_host,
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
      .start_usec = ex->start_wall_usec,
      .duration_usec = (uv_hrtime() - ex->start_ns) / 1000,
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
  if (!access_log_enabled()) return;
  const http_head *head = &ex->head;
  const char *target = head->method_len ? head->arena + head->target_offset : "";
  size_t target_len = head->method_len ? head->target_len : 0;
  const char *path, *query;
  size_t path_len, query_len;
  http_target_split(target, target_len, &path, &path_len, &query, &query_len);
  const llhttp_t *parser = &ex->conn->parser.llhttp;
  access_log_entry entry = {
      .remote_addr = ex->conn->client_host,
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
      .start_usec = ex->start_wall_usec,
      .duration_usec = (uv_hrtime() - ex->start_ns) / 1000,
  };
  access_log_write(&entry);
}

void http_exchange_finish(http_exchange *ex) {
  http_server *server = ex->server;
  server->requests_served++;
  if (server->max_requests && server->requests_served == server->max_requests &&
      server->on_max_requests)
    server->on_max_requests(server);
  if (access_log_enabled()) write_access_log(ex);
  ex->conn = NULL;
  free_exchange(ex);
}
