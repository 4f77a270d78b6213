/*
 * test_http_response.c - response serialization of src/http/response.c: the status line, the
 * headers the app sent and the ones the server owns, the framing plan (Content-Length,
 * chunked, close-delimited, no body), chunk framing and the server's error responses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/byte_buffer.h"
#include "http/response.h"

#define H(name, value) {name, sizeof(name) - 1, value, sizeof(value) - 1}

/* The head as a NUL-terminated string, so the checks can use strstr. */
typedef struct written {
  char text[4096];
  http_response_plan plan;
} written;

static http_response_input input(int status, const asgid_header *headers, size_t count) {
  http_response_input in;
  memset(&in, 0, sizeof in);
  in.status = status;
  in.headers = headers;
  in.header_count = count;
  in.http_minor = 1;
  in.keep_alive = 1;
  return in;
}

static written write_head(const http_response_input *in) {
  written w;
  memset(&w, 0, sizeof w);
  byte_buffer out = {0};
  assert_int_equal(http_response_write_head(&out, in, &w.plan), 0);
  assert_true(out.len < sizeof w.text);
  memcpy(w.text, out.data, out.len);
  byte_buffer_free(&out);
  /* Every head ends with exactly one empty line, and only there. */
  size_t len = strlen(w.text);
  assert_true(len >= 4);
  assert_string_equal(w.text + len - 4, "\r\n\r\n");
  assert_ptr_equal(strstr(w.text, "\r\n\r\n"), w.text + len - 4);
  return w;
}

/* How many lines of the head start with `prefix` (case-sensitive: we write lowercase). */
static int count_lines(const char *head, const char *prefix) {
  int n = 0;
  size_t plen = strlen(prefix);
  for (const char *line = head; *line;) {
    if (strncmp(line, prefix, plen) == 0) n++;
    const char *eol = strstr(line, "\r\n");
    if (!eol) break;
    line = eol + 2;
  }
  return n;
}

static int has_line(const char *head, const char *line) {
  char wanted[256];
  snprintf(wanted, sizeof wanted, "\r\n%s\r\n", line);
  return strstr(head, wanted) != NULL;
}

/* ------------------------------------------------------------------ heads */

static void test_status_line_and_app_headers_in_order(void **state) {
  (void)state;
  static const asgid_header headers[] = {
      H("Content-Type", "text/plain"),
      H("X-B", "2"),
      H("X-A", "1"),
      H("Set-Cookie", "a=1"),
      H("Set-Cookie", "b=2"),
  };
  http_response_input in = input(200, headers, 5);
  in.body_known = 1;
  in.body_length = 5;
  in.server_header = 1;
  written w = write_head(&in);
  assert_memory_equal(w.text, "HTTP/1.1 200 OK\r\n", 17);
  const char *ct = strstr(w.text, "Content-Type: text/plain\r\n");
  const char *xb = strstr(w.text, "X-B: 2\r\n");
  const char *xa = strstr(w.text, "X-A: 1\r\n");
  const char *c1 = strstr(w.text, "Set-Cookie: a=1\r\n");
  const char *c2 = strstr(w.text, "Set-Cookie: b=2\r\n");
  assert_true(ct && xb && xa && c1 && c2);
  assert_true(ct < xb && xb < xa && xa < c1 && c1 < c2); /* the app's order and duplicates */
  assert_true(has_line(w.text, "content-length: 5"));
  assert_true(has_line(w.text, "server: asgid"));
  assert_int_equal(count_lines(w.text, "date: "), 1);
  assert_int_equal(count_lines(w.text, "connection:"), 0); /* 1.1 keep-alive is the default */
  assert_int_equal(w.plan.send_body, 1);
  assert_int_equal(w.plan.has_content_length, 1);
  assert_int_equal(w.plan.content_length, 5);
  assert_int_equal(w.plan.chunked, 0);
  assert_int_equal(w.plan.keep_alive, 1);
}

static void test_reason_phrases(void **state) {
  (void)state;
  static const struct {
    int status;
    const char *line;
  } cases[] = {
      {201, "HTTP/1.1 201 Created\r\n"},
      {404, "HTTP/1.1 404 Not Found\r\n"},
      {418, "HTTP/1.1 418 Unknown\r\n"}, /* no table entry: still a valid status line */
      {503, "HTTP/1.1 503 Service Unavailable\r\n"},
      {599, "HTTP/1.1 599 Unknown\r\n"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    http_response_input in = input(cases[i].status, NULL, 0);
    in.body_known = 1;
    written w = write_head(&in);
    assert_memory_equal(w.text, cases[i].line, strlen(cases[i].line));
  }
}

static void test_app_framing_headers_dropped(void **state) {
  (void)state;
  static const asgid_header headers[] = {
      H("Connection", "keep-alive, Upgrade"),
      H("Transfer-Encoding", "gzip, chunked"),
      H("TRANSFER-ENCODING", "chunked"),
      H("X-Kept", "yes"),
  };
  http_response_input in = input(200, headers, 4);
  in.body_known = 1;
  in.body_length = 0;
  written w = write_head(&in);
  assert_null(strstr(w.text, "Connection"));
  assert_null(strstr(w.text, "connection"));
  assert_null(strstr(w.text, "Transfer-Encoding"));
  assert_null(strstr(w.text, "TRANSFER-ENCODING"));
  assert_null(strstr(w.text, "transfer-encoding"));
  assert_true(has_line(w.text, "X-Kept: yes"));
  assert_true(has_line(w.text, "content-length: 0"));
  assert_int_equal(w.plan.keep_alive, 1); /* "keep-alive, Upgrade" does not say close */
}

static void test_app_connection_close(void **state) {
  (void)state;
  static const char *const values[] = {"close", "Close", "keep-alive, close", " CLOSE ",
                                       "x,close,y"};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    asgid_header h = {"connection", 10, values[i], strlen(values[i])};
    http_response_input in = input(200, &h, 1);
    in.body_known = 1;
    written w = write_head(&in);
    if (w.plan.keep_alive != 0) fail_msg("\"%s\" did not close", values[i]);
    assert_int_equal(count_lines(w.text, "connection: close"), 1);
    assert_int_equal(count_lines(w.text, "connection:"), 1); /* ours, not the app's */
  }
  /* A token that merely contains "close" is not "close". */
  asgid_header h = H("Connection", "closed, enclose");
  http_response_input in = input(200, &h, 1);
  in.body_known = 1;
  written w = write_head(&in);
  assert_int_equal(w.plan.keep_alive, 1);
  assert_int_equal(count_lines(w.text, "connection:"), 0);
}

static void test_date_added_unless_app_set_one(void **state) {
  (void)state;
  http_response_input in = input(200, NULL, 0);
  in.body_known = 1;
  written w = write_head(&in);
  assert_int_equal(count_lines(w.text, "date: "), 1);
  /* IMF-fixdate: "Sat, 21 Nov 2026 13:25:43 GMT" */
  const char *date = strstr(w.text, "date: ") + 6;
  const char *eol = strstr(date, "\r\n");
  assert_int_equal(eol - date, 29);
  assert_memory_equal(date + 26, "GMT", 3);

  asgid_header h = H("Date", "Tue, 01 Jan 2030 00:00:00 GMT");
  in = input(200, &h, 1);
  in.body_known = 1;
  w = write_head(&in);
  assert_int_equal(count_lines(w.text, "date: "), 0);
  assert_int_equal(count_lines(w.text, "Date: "), 1);
  assert_true(has_line(w.text, "Date: Tue, 01 Jan 2030 00:00:00 GMT"));
}

static void test_server_header(void **state) {
  (void)state;
  http_response_input in = input(200, NULL, 0);
  in.body_known = 1;
  in.server_header = 0;
  written w = write_head(&in);
  assert_int_equal(count_lines(w.text, "server:"), 0);

  in.server_header = 1;
  w = write_head(&in);
  assert_int_equal(count_lines(w.text, "server: asgid"), 1);

  /* The app's own Server header wins; ours is not added as a second one. */
  asgid_header h = H("Server", "custom/1.0");
  in = input(200, &h, 1);
  in.body_known = 1;
  in.server_header = 1;
  w = write_head(&in);
  assert_int_equal(count_lines(w.text, "server:"), 0);
  assert_true(has_line(w.text, "Server: custom/1.0"));
}

/* ------------------------------------------------------------------ framing */

static void test_unknown_length_chunked_on_11(void **state) {
  (void)state;
  http_response_input in = input(200, NULL, 0);
  in.body_known = 0;
  written w = write_head(&in);
  assert_true(has_line(w.text, "transfer-encoding: chunked"));
  assert_int_equal(count_lines(w.text, "content-length"), 0);
  assert_int_equal(w.plan.chunked, 1);
  assert_int_equal(w.plan.has_content_length, 0);
  assert_int_equal(w.plan.send_body, 1);
  assert_int_equal(w.plan.keep_alive, 1);
}

static void test_unknown_length_close_delimited_on_10(void **state) {
  (void)state;
  http_response_input in = input(200, NULL, 0);
  in.http_minor = 0;
  in.keep_alive = 1; /* the client asked for keep-alive, but the close must end the body */
  written w = write_head(&in);
  assert_int_equal(count_lines(w.text, "transfer-encoding"), 0);
  assert_int_equal(count_lines(w.text, "content-length"), 0);
  assert_true(has_line(w.text, "connection: close"));
  assert_int_equal(w.plan.chunked, 0);
  assert_int_equal(w.plan.send_body, 1);
  assert_int_equal(w.plan.keep_alive, 0);
}

static void test_http10_keep_alive_announced(void **state) {
  (void)state;
  http_response_input in = input(200, NULL, 0);
  in.http_minor = 0;
  in.keep_alive = 1;
  in.body_known = 1;
  in.body_length = 3;
  written w = write_head(&in);
  assert_true(has_line(w.text, "connection: keep-alive"));
  assert_true(has_line(w.text, "content-length: 3"));
  assert_int_equal(w.plan.keep_alive, 1);

  in.keep_alive = 0;
  w = write_head(&in);
  assert_true(has_line(w.text, "connection: close"));
  assert_int_equal(count_lines(w.text, "connection:"), 1);
}

/* The app's Content-Length frames the body; no second one is added. */
static void test_app_content_length_used(void **state) {
  (void)state;
  static const asgid_header headers[] = {H("Content-Length", "12"), H("content-length", "12")};
  http_response_input in = input(200, headers, 2);
  in.body_known = 0; /* streaming, but the app promised a length */
  written w = write_head(&in);
  assert_int_equal(count_lines(w.text, "Content-Length: 12"), 1);
  assert_int_equal(count_lines(w.text, "content-length"), 0);
  assert_int_equal(count_lines(w.text, "transfer-encoding"), 0);
  assert_int_equal(w.plan.has_content_length, 1);
  assert_int_equal(w.plan.content_length, 12);
  assert_int_equal(w.plan.chunked, 0);
  assert_int_equal(w.plan.send_body, 1);
}

static void test_head_request(void **state) {
  (void)state;
  http_response_input in = input(200, NULL, 0);
  in.request_is_head = 1;
  in.body_known = 1;
  in.body_length = 1234;
  written w = write_head(&in);
  assert_true(has_line(w.text, "content-length: 1234"));
  assert_int_equal(w.plan.send_body, 0);
  assert_int_equal(w.plan.chunked, 0);
  assert_int_equal(w.plan.keep_alive, 1);

  /* Unknown length: neither chunked nor close-delimited, no body follows anyway. */
  in.body_known = 0;
  w = write_head(&in);
  assert_int_equal(count_lines(w.text, "transfer-encoding"), 0);
  assert_int_equal(count_lines(w.text, "content-length"), 0);
  assert_int_equal(w.plan.send_body, 0);
  assert_int_equal(w.plan.keep_alive, 1);

  /* The app's Content-Length for a HEAD is the GET's length: kept. */
  asgid_header h = H("Content-Length", "99");
  in = input(200, &h, 1);
  in.request_is_head = 1;
  w = write_head(&in);
  assert_true(has_line(w.text, "Content-Length: 99"));
  assert_int_equal(w.plan.send_body, 0);
}

static void test_204_no_length_no_body(void **state) {
  (void)state;
  http_response_input in = input(204, NULL, 0);
  in.body_known = 1;
  in.body_length = 0;
  written w = write_head(&in);
  assert_memory_equal(w.text, "HTTP/1.1 204 No Content\r\n", 25);
  assert_int_equal(count_lines(w.text, "content-length"), 0);
  assert_int_equal(count_lines(w.text, "transfer-encoding"), 0);
  assert_int_equal(w.plan.send_body, 0);
  assert_int_equal(w.plan.has_content_length, 0);
  assert_int_equal(w.plan.keep_alive, 1);

  /* An app's Content-Length on a 204 is dropped too (RFC 9110 §8.6: MUST NOT send). */
  asgid_header h = H("Content-Length", "0");
  in = input(204, &h, 1);
  w = write_head(&in);
  assert_int_equal(count_lines(w.text, "Content-Length"), 0);
  assert_int_equal(w.plan.has_content_length, 0);
  assert_int_equal(w.plan.send_body, 0);
}

static void test_1xx_no_body(void **state) {
  (void)state;
  http_response_input in = input(103, NULL, 0);
  written w = write_head(&in);
  assert_memory_equal(w.text, "HTTP/1.1 103 Early Hints\r\n", 26);
  assert_int_equal(count_lines(w.text, "transfer-encoding"), 0);
  assert_int_equal(count_lines(w.text, "content-length"), 0);
  assert_int_equal(w.plan.send_body, 0);
}

static void test_304_keeps_app_length_but_no_body(void **state) {
  (void)state;
  asgid_header h = H("Content-Length", "500");
  http_response_input in = input(304, &h, 1);
  written w = write_head(&in);
  assert_memory_equal(w.text, "HTTP/1.1 304 Not Modified\r\n", 27);
  assert_true(has_line(w.text, "Content-Length: 500"));
  assert_int_equal(count_lines(w.text, "transfer-encoding"), 0);
  assert_int_equal(w.plan.send_body, 0);
  assert_int_equal(w.plan.has_content_length, 0);
  assert_int_equal(w.plan.chunked, 0);
  assert_int_equal(w.plan.keep_alive, 1);

  /* Without the app's header, none is invented from the (empty) body. */
  in = input(304, NULL, 0);
  in.body_known = 1;
  in.body_length = 0;
  w = write_head(&in);
  assert_int_equal(count_lines(w.text, "content-length"), 0);
  assert_int_equal(w.plan.send_body, 0);
  assert_int_equal(w.plan.keep_alive, 1);
}

/* ------------------------------------------------------------------ bodies */

static void test_body_chunk_framing(void **state) {
  (void)state;
  http_response_input in = input(200, NULL, 0);
  written w = write_head(&in);
  assert_int_equal(w.plan.chunked, 1);
  byte_buffer out = {0};
  assert_int_equal(http_response_write_body(&out, &w.plan, "hello", 5), 0);
  char big[300];
  memset(big, 'x', sizeof big);
  assert_int_equal(http_response_write_body(&out, &w.plan, big, sizeof big), 0);
  /* An empty write must not emit "0\r\n\r\n", which would end the body early. */
  assert_int_equal(http_response_write_body(&out, &w.plan, "", 0), 0);
  assert_int_equal(http_response_write_end(&out, &w.plan), 0);
  char expected[400];
  size_t n = (size_t)snprintf(expected, sizeof expected, "5\r\nhello\r\n12c\r\n");
  memcpy(expected + n, big, sizeof big);
  n += sizeof big;
  memcpy(expected + n, "\r\n0\r\n\r\n", 7);
  n += 7;
  assert_int_equal(out.len, n);
  assert_memory_equal(out.data, expected, n);
  byte_buffer_free(&out);
}

static void test_body_content_length_raw(void **state) {
  (void)state;
  http_response_input in = input(200, NULL, 0);
  in.body_known = 1;
  in.body_length = 8;
  written w = write_head(&in);
  byte_buffer out = {0};
  assert_int_equal(http_response_write_body(&out, &w.plan, "abcd", 4), 0);
  assert_int_equal(http_response_write_body(&out, &w.plan, "efgh", 4), 0);
  assert_int_equal(http_response_write_end(&out, &w.plan), 0);
  assert_int_equal(out.len, 8);
  assert_memory_equal(out.data, "abcdefgh", 8);
  byte_buffer_free(&out);
}

static void test_body_dropped_when_not_sent(void **state) {
  (void)state;
  static const int statuses[] = {204, 304, 100};
  for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
    http_response_input in = input(statuses[i], NULL, 0);
    written w = write_head(&in);
    byte_buffer out = {0};
    assert_int_equal(http_response_write_body(&out, &w.plan, "data", 4), 0);
    assert_int_equal(http_response_write_end(&out, &w.plan), 0);
    assert_int_equal(out.len, 0);
    byte_buffer_free(&out);
  }
  /* HEAD with an unknown length would otherwise have been chunked. */
  http_response_input in = input(200, NULL, 0);
  in.request_is_head = 1;
  written w = write_head(&in);
  byte_buffer out = {0};
  assert_int_equal(http_response_write_body(&out, &w.plan, "data", 4), 0);
  assert_int_equal(http_response_write_end(&out, &w.plan), 0);
  assert_int_equal(out.len, 0);
  byte_buffer_free(&out);
}

static void test_write_end_close_delimited(void **state) {
  (void)state;
  http_response_input in = input(200, NULL, 0);
  in.http_minor = 0;
  written w = write_head(&in);
  byte_buffer out = {0};
  assert_int_equal(http_response_write_body(&out, &w.plan, "raw", 3), 0);
  assert_int_equal(http_response_write_end(&out, &w.plan), 0);
  assert_int_equal(out.len, 3);
  assert_memory_equal(out.data, "raw", 3);
  byte_buffer_free(&out);
}

/* ------------------------------------------------------------------ errors */

static void check_error_response(int status, int server_header, const char *status_line) {
  byte_buffer out = {0};
  long body_length = http_response_write_error(&out, status, server_header);
  char text[1024];
  assert_true(out.len < sizeof text);
  memcpy(text, out.data, out.len);
  text[out.len] = '\0';
  byte_buffer_free(&out);

  assert_memory_equal(text, status_line, strlen(status_line));
  assert_true(has_line(text, "connection: close"));
  assert_int_equal(count_lines(text, "server: asgid"), server_header ? 1 : 0);
  assert_int_equal(count_lines(text, "date: "), 1);
  const char *end = strstr(text, "\r\n\r\n");
  assert_non_null(end);
  const char *body = end + 4;
  const char *cl = strstr(text, "\r\ncontent-length: ");
  assert_non_null(cl);
  assert_true(cl < end);
  unsigned long declared = strtoul(cl + 18, NULL, 10);
  assert_int_equal(declared, strlen(body));
  assert_int_equal(body_length, (long)strlen(body)); /* for the access log */
  /* A busy server says when to come back; no other error does. */
  assert_int_equal(count_lines(text, "retry-after: 1"), status == 503 ? 1 : 0);
  /* The body names the status. */
  char code[8];
  snprintf(code, sizeof code, "%d ", status);
  assert_memory_equal(body, code, strlen(code));
}

static void test_error_responses(void **state) {
  (void)state;
  check_error_response(400, 1, "HTTP/1.1 400 Bad Request\r\n");
  check_error_response(413, 0, "HTTP/1.1 413 Content Too Large\r\n");
  check_error_response(414, 1, "HTTP/1.1 414 URI Too Long\r\n");
  check_error_response(431, 1, "HTTP/1.1 431 Request Header Fields Too Large\r\n");
  check_error_response(501, 0, "HTTP/1.1 501 Not Implemented\r\n");
  check_error_response(505, 1, "HTTP/1.1 505 HTTP Version Not Supported\r\n");
  check_error_response(408, 1, "HTTP/1.1 408 Request Timeout\r\n");
  check_error_response(500, 1, "HTTP/1.1 500 Internal Server Error\r\n");
  check_error_response(503, 1, "HTTP/1.1 503 Service Unavailable\r\n");
}

static void test_continue_constant(void **state) {
  (void)state;
  assert_string_equal(HTTP_RESPONSE_CONTINUE, "HTTP/1.1 100 Continue\r\n\r\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_status_line_and_app_headers_in_order),
      cmocka_unit_test(test_reason_phrases),
      cmocka_unit_test(test_app_framing_headers_dropped),
      cmocka_unit_test(test_app_connection_close),
      cmocka_unit_test(test_date_added_unless_app_set_one),
      cmocka_unit_test(test_server_header),
      cmocka_unit_test(test_unknown_length_chunked_on_11),
      cmocka_unit_test(test_unknown_length_close_delimited_on_10),
      cmocka_unit_test(test_http10_keep_alive_announced),
      cmocka_unit_test(test_app_content_length_used),
      cmocka_unit_test(test_head_request),
      cmocka_unit_test(test_204_no_length_no_body),
      cmocka_unit_test(test_1xx_no_body),
      cmocka_unit_test(test_304_keeps_app_length_but_no_body),
      cmocka_unit_test(test_body_chunk_framing),
      cmocka_unit_test(test_body_content_length_raw),
      cmocka_unit_test(test_body_dropped_when_not_sent),
      cmocka_unit_test(test_write_end_close_delimited),
      cmocka_unit_test(test_error_responses),
      cmocka_unit_test(test_continue_constant),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
