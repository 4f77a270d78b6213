/*
 * response.h - serializing responses: the head with the framing the server decides
 * (Content-Length, chunked, or close-delimited for HTTP/1.0), chunk framing, and the
 * server's own error responses.
 *
 * Header names and values were validated when the app sent them (asgi/request.c); here they
 * are only written.
 */
#ifndef ASGID_HTTP_RESPONSE_H
#define ASGID_HTTP_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#include "asgid/asgid.h"
#include "net/byte_buffer.h"

/* What the head writer needs to know about the request and the response so far. */
typedef struct http_response_input {
  int status;
  const asgid_header *headers;
  size_t header_count;
  int request_is_head;
  int http_minor;
  int keep_alive;          /* the connection may serve another request */
  int body_known;          /* the whole body is known: body_length bytes */
  uint64_t body_length;
  int server_header;       /* add "server: asgid" when the app sent none */
} http_response_input;

/* The framing chosen for the body. */
typedef struct http_response_plan {
  int send_body;           /* 0 for HEAD, 1xx, 204, 304: body bytes are dropped */
  int chunked;
  int has_content_length;  /* the body must be exactly content_length bytes */
  uint64_t content_length;
  int keep_alive;          /* may have dropped to 0 (close-delimited body, app asked close) */
} http_response_plan;

/* Appends the status line and headers. Returns 0, or -1 when out of memory. */
int http_response_write_head(byte_buffer *out, const http_response_input *in,
                             http_response_plan *plan);

/* Appends body bytes framed as the plan says (nothing when the body is not sent). */
int http_response_write_body(byte_buffer *out, const http_response_plan *plan,
                             const void *data, size_t len);

/* Appends the end of a chunked body ("0\r\n\r\n"); nothing for other framings. */
int http_response_write_end(byte_buffer *out, const http_response_plan *plan);

/* Appends a complete plain-text error response that closes the connection; a 503 (the server
 * is busy) says when to retry, a 426 (a WebSocket version other than 13) which version to
 * use. Returns the length of its body, or -1 when out of memory. */
long http_response_write_error(byte_buffer *out, int status, int server_header);

/* Retry-After of the server's own 503: a second lets a burst pass without making clients
 * wait long. */
#define HTTP_RETRY_AFTER_SECONDS "1"

/* The interim response to "Expect: 100-continue". */
#define HTTP_RESPONSE_CONTINUE "HTTP/1.1 100 Continue\r\n\r\n"

#endif /* ASGID_HTTP_RESPONSE_H */
