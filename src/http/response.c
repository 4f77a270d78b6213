/* response.c - response serialization. See response.h. */
#include "http/response.h"

#include <string.h>

#include "abi/fields.h"
#include "http/date.h"
#include "http/status.h"


static int status_has_body(int status) {
  return status >= 200 && status != 204 && status != 304;
}

/* Contains the token "close" in a Connection value (a comma-separated list). */
static int connection_says_close(const char *value, size_t len) {
  size_t i = 0;
  while (i < len) {
    while (i < len && (value[i] == ' ' || value[i] == '\t' || value[i] == ',')) i++;
    size_t start = i;
    while (i < len && value[i] != ',' && value[i] != ' ' && value[i] != '\t') i++;
    if (asgi_field_equals(value + start, i - start, "close")) return 1;
  }
  return 0;
}

/* Number formatting without printf: the head is written for every response. */
static int append_number(byte_buffer *out, uint64_t n, unsigned base) {
  char digits[24];
  size_t i = sizeof digits;
  do {
    digits[--i] = "0123456789abcdef"[n % base];
    n /= base;
  } while (n);
  return byte_buffer_append(out, digits + i, sizeof digits - i);
}

static int append_status_line(byte_buffer *out, int status) {
  const char *reason = http_status_reason(status);
  return byte_buffer_append(out, "HTTP/1.1 ", 9) || append_number(out, (uint64_t)status, 10) ||
         byte_buffer_append(out, " ", 1) || byte_buffer_append_str(out, reason) ||
         byte_buffer_append(out, "\r\n", 2);
}

int http_response_write_head(byte_buffer *out, const http_response_input *in,
                             http_response_plan *plan) {
  memset(plan, 0, sizeof *plan);
  plan->keep_alive = in->keep_alive;
  int has_date = 0, has_server = 0;

  if (append_status_line(out, in->status) != 0) return -1;
  for (size_t i = 0; i < in->header_count; i++) {
    const asgid_header *h = &in->headers[i];
    /* Framing and connection management belong to the server. */
    if (asgi_field_equals(h->name, h->name_len, "connection")) {
      if (connection_says_close(h->value, h->value_len)) plan->keep_alive = 0;
      continue;
    }
    if (asgi_field_equals(h->name, h->name_len, "transfer-encoding")) continue;
    if (asgi_field_equals(h->name, h->name_len, "content-length")) {
      if (plan->has_content_length) continue; /* one is enough; asgi checked they agree */
      plan->has_content_length = 1;
      /* validated when the app sent it (asgi/request.c) */
      asgi_field_parse_length(h->value, h->value_len, &plan->content_length);
      if (in->status < 200 || in->status == 204) continue;
    } else if (asgi_field_equals(h->name, h->name_len, "date")) {
      has_date = 1;
    } else if (asgi_field_equals(h->name, h->name_len, "server")) {
      has_server = 1;
    }
    if (byte_buffer_append(out, h->name, h->name_len) != 0 ||
        byte_buffer_append(out, ": ", 2) != 0 ||
        byte_buffer_append(out, h->value, h->value_len) != 0 ||
        byte_buffer_append(out, "\r\n", 2) != 0)
      return -1;
  }
  if (!has_date && (byte_buffer_append(out, "date: ", 6) || byte_buffer_append_str(out, http_date_now()) ||
                    byte_buffer_append(out, "\r\n", 2)))
    return -1;
  if (!has_server && in->server_header && byte_buffer_append_str(out, "server: asgid\r\n") != 0)
    return -1;

  int body_allowed = status_has_body(in->status);
  plan->send_body = body_allowed && !in->request_is_head;
  if (!plan->has_content_length && (body_allowed || in->status == 304)) {
    if (in->body_known && (body_allowed || in->request_is_head)) {
      plan->has_content_length = 1;
      plan->content_length = in->body_length;
      if (byte_buffer_append(out, "content-length: ", 16) || append_number(out, in->body_length, 10) ||
          byte_buffer_append(out, "\r\n", 2))
        return -1;
    } else if (plan->send_body && in->http_minor >= 1) {
      plan->chunked = 1;
      if (byte_buffer_append_str(out, "transfer-encoding: chunked\r\n") != 0) return -1;
    } else if (plan->send_body) {
      plan->keep_alive = 0; /* HTTP/1.0 without a length: the close ends the body */
    }
  } else if (plan->has_content_length && !body_allowed) {
    plan->has_content_length = 0; /* 304 keeps the header for the representation only */
  }
  if (!plan->keep_alive) {
    if (byte_buffer_append_str(out, "connection: close\r\n") != 0) return -1;
  } else if (in->http_minor == 0) {
    if (byte_buffer_append_str(out, "connection: keep-alive\r\n") != 0) return -1;
  }
  return byte_buffer_append(out, "\r\n", 2);
}

int http_response_write_body(byte_buffer *out, const http_response_plan *plan,
                             const void *data, size_t len) {
  if (!plan->send_body || len == 0) return 0;
  if (plan->chunked) {
    if (append_number(out, len, 16) || byte_buffer_append(out, "\r\n", 2) ||
        byte_buffer_append(out, data, len))
      return -1;
    return byte_buffer_append(out, "\r\n", 2);
  }
  return byte_buffer_append(out, data, len);
}

int http_response_write_end(byte_buffer *out, const http_response_plan *plan) {
  if (!plan->send_body || !plan->chunked) return 0;
  return byte_buffer_append(out, "0\r\n\r\n", 5);
}

long http_response_write_error(byte_buffer *out, int status, int server_header) {
  const char *reason = http_status_reason(status);
  size_t body_length = strlen(reason) + 5; /* "503 Service Unavailable\n" */
  int rc = byte_buffer_appendf(out,
                               "HTTP/1.1 %d %s\r\n"
                               "content-type: text/plain; charset=utf-8\r\n"
                               "content-length: %zu\r\n"
                               "connection: close\r\n"
                               "date: %s\r\n"
                               "%s%s"
                               "\r\n"
                               "%d %s\n",
                               status, reason, body_length, http_date_now(),
                               server_header ? "server: asgid\r\n" : "",
                               status == 503   ? "retry-after: " HTTP_RETRY_AFTER_SECONDS "\r\n"
                               : status == 426 ? "sec-websocket-version: 13\r\n"
                                               : "",
                               status, reason);
  return rc == 0 ? (long)body_length : -1;
}
