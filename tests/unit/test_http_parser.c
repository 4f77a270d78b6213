/*
 * test_http_parser.c - the llhttp glue of src/http/parser.c: the request head it builds, the
 * three pauses (head, body span, complete), every request rule of DESIGN §6 with the status
 * it answers, and the limits.
 *
 * The parser is driven the way h1_session.c drives it: feed the unread bytes, advance by what was
 * consumed, look at p.pause / p.error_status, feed again (possibly with nothing) to resume.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/parser.h"

static const http_limits default_limits = {
    .request_line = 8192,
    .field_count = 100,
    .field_size = 8192,
    .chunk_extension = 1024,
    .body_size = 1024 * 1024,
};

/* What driving one request to its end (or its error) observed. */
typedef struct run_result {
  int error_status;
  int saw_head;          /* HTTP_PAUSE_HEAD was reported: the app would have been called */
  int saw_complete;
  char body[4096];       /* the body spans concatenated */
  size_t body_len;
  size_t spans;
  int last_body_more;    /* body_more of the last span */
  int more_before_last;  /* every span but the last said body_more = 1 */
  size_t consumed;       /* bytes consumed until COMPLETE or the error */
} run_result;

/* Feeds data in pieces of at most `step` bytes (0: everything at once), resuming after every
 * pause, until the message completes, an error is reported or the bytes run out. The head is
 * left in *head for the caller to inspect (and free). */
static run_result run_request(const http_limits *limits, const char *data, size_t len,
                              size_t step, http_head *head) {
  run_result r;
  memset(&r, 0, sizeof r);
  r.more_before_last = 1;
  http_parser p;
  http_parser_init(&p, limits);
  memset(head, 0, sizeof *head);
  http_parser_begin(&p, head);
  size_t off = 0;
  /* Bounded: a parser that stops consuming without pausing must fail the test, not hang. */
  for (int guard = 0; guard < 100000; guard++) {
    size_t avail = len - off;
    if (step && avail > step) avail = step;
    size_t n = http_parser_feed(&p, data + off, avail);
    assert_true(n <= avail);
    off += n;
    if (p.error_status) {
      r.error_status = p.error_status;
      assert_non_null(p.error_reason);
      break;
    }
    if (p.pause == HTTP_PAUSE_HEAD) {
      assert_false(r.saw_head); /* once per request */
      r.saw_head = 1;
    } else if (p.pause == HTTP_PAUSE_BODY) {
      assert_true(r.saw_head);
      assert_true(p.body_len > 0); /* the parser never reports empty spans */
      assert_true(r.body_len + p.body_len <= sizeof r.body);
      if (r.spans && !r.last_body_more) r.more_before_last = 0;
      memcpy(r.body + r.body_len, p.body_at, p.body_len);
      r.body_len += p.body_len;
      r.spans++;
      r.last_body_more = p.body_more;
    } else if (p.pause == HTTP_PAUSE_COMPLETE) {
      assert_true(r.saw_head);
      r.saw_complete = 1;
      break;
    } else if (off == len) {
      break; /* consumed everything and wants more */
    }
  }
  r.consumed = off;
  return r;
}

static run_result run_request_str(const http_limits *limits, const char *request,
                                  http_head *head) {
  return run_request(limits, request, strlen(request), 0, head);
}

static run_result run(const char *request, http_head *head) {
  return run_request(&default_limits, request, strlen(request), 0, head);
}

/* Runs a request that must be refused with `status` before the app is called. */
static void expect_head_error_with(const http_limits *limits, const char *request, int status) {
  http_head head;
  run_result r = run_request(limits, request, strlen(request), 0, &head);
  if (r.error_status != status) fail_msg("expected %d, got %d for: %s", status, r.error_status, request);
  assert_false(r.saw_head);
  http_head_free(&head);
}

static void expect_head_error(const char *request, int status) {
  expect_head_error_with(&default_limits, request, status);
}

static void assert_span(const http_head *head, uint32_t offset, uint32_t len, const char *want) {
  assert_int_equal(len, strlen(want));
  assert_memory_equal(head->arena + offset, want, len);
}

static void assert_field(const http_head *head, size_t i, const char *name, const char *value) {
  assert_true(i < head->field_count);
  const http_field *f = &head->fields[i];
  assert_span(head, f->name_offset, f->name_len, name);
  assert_span(head, f->value_offset, f->value_len, value);
}

/* Feeds from *off on until the parser pauses, which must be for `want`. */
static void feed_until(http_parser *p, const char *data, size_t len, size_t *off,
                       http_pause want) {
  *off += http_parser_feed(p, data + *off, len - *off);
  assert_int_equal(p->error_status, 0);
  assert_int_equal(p->pause, want);
}

/* ------------------------------------------------------------------ heads */

static const char simple_get[] =
    "GET /path/x?a=1&b=2 HTTP/1.1\r\n"
    "Host: example.com\r\n"
    "X-Mixed-CASE: Keep This Case\r\n"
    "Accept: */*\r\n"
    "\r\n";

static void check_simple_get(const http_head *head) {
  assert_span(head, head->method_offset, head->method_len, "GET");
  assert_span(head, head->target_offset, head->target_len, "/path/x?a=1&b=2");
  assert_int_equal(head->field_count, 3);
  assert_field(head, 0, "host", "example.com");
  assert_field(head, 1, "x-mixed-case", "Keep This Case"); /* names lowercased, values not */
  assert_field(head, 2, "accept", "*/*");
  assert_int_equal(head->http_minor, 1);
  assert_int_equal(head->keep_alive, 1);
  assert_int_equal(head->chunked, 0);
  assert_int_equal(head->has_content_length, 0);
  assert_int_equal(head->expect_continue, 0);
}

static void test_simple_get(void **state) {
  (void)state;
  http_parser p;
  http_head head;
  memset(&head, 0, sizeof head);
  http_parser_init(&p, &default_limits);
  http_parser_begin(&p, &head);
  size_t len = strlen(simple_get);
  size_t n = http_parser_feed(&p, simple_get, len);
  assert_int_equal(p.error_status, 0);
  assert_int_equal(p.pause, HTTP_PAUSE_HEAD);
  assert_true(n <= len);
  check_simple_get(&head);
  /* No body: resuming (with whatever is left, even nothing) completes the message. */
  size_t n2 = http_parser_feed(&p, simple_get + n, len - n);
  assert_int_equal(p.error_status, 0);
  assert_int_equal(p.pause, HTTP_PAUSE_COMPLETE);
  assert_int_equal(n + n2, len);

  size_t vlen = 0;
  const char *v = http_head_field(&head, "accept", &vlen);
  assert_non_null(v);
  assert_int_equal(vlen, 3);
  assert_memory_equal(v, "*/*", 3);
  assert_null(http_head_field(&head, "missing", &vlen));
  http_head_free(&head);
  assert_null(head.arena);
  assert_null(head.fields);
}

/* A head arriving one byte per read builds the same head as one read. */
static void test_head_byte_by_byte(void **state) {
  (void)state;
  http_head head;
  run_result r = run_request(&default_limits, simple_get, strlen(simple_get), 1, &head);
  assert_int_equal(r.error_status, 0);
  assert_true(r.saw_head);
  assert_true(r.saw_complete);
  assert_int_equal(r.consumed, strlen(simple_get));
  check_simple_get(&head);
  http_head_free(&head);
}

/* Many fields split at every possible point: the arena grows (realloc) while offsets stay
 * valid. */
static void test_many_fields_split(void **state) {
  (void)state;
  char request[4096];
  size_t len = (size_t)snprintf(request, sizeof request, "POST /upload HTTP/1.1\r\nHost: h\r\n");
  for (int i = 0; i < 40; i++)
    len += (size_t)snprintf(request + len, sizeof request - len,
                            "X-Field-%02d: value-number-%02d-padding-padding\r\n", i, i);
  len += (size_t)snprintf(request + len, sizeof request - len, "\r\n");
  for (size_t step = 1; step <= 7; step += 3) {
    http_head head;
    run_result r = run_request(&default_limits, request, len, step, &head);
    assert_int_equal(r.error_status, 0);
    assert_true(r.saw_complete);
    assert_int_equal(head.field_count, 41);
    assert_span(&head, head.method_offset, head.method_len, "POST");
    assert_span(&head, head.target_offset, head.target_len, "/upload");
    assert_field(&head, 0, "host", "h");
    assert_field(&head, 17, "x-field-16", "value-number-16-padding-padding");
    assert_field(&head, 40, "x-field-39", "value-number-39-padding-padding");
    http_head_free(&head);
  }
}

static void test_empty_value_then_field(void **state) {
  (void)state;
  http_head head;
  run_result r = run("GET / HTTP/1.1\r\nX-Empty:\r\nHost: h\r\nX-Also-Empty: \r\n\r\n", &head);
  assert_int_equal(r.error_status, 0);
  assert_int_equal(head.field_count, 3);
  assert_field(&head, 0, "x-empty", "");
  assert_field(&head, 1, "host", "h");
  assert_field(&head, 2, "x-also-empty", "");
  http_head_free(&head);
}

static void test_trailing_whitespace_trimmed(void **state) {
  (void)state;
  http_head head;
  run_result r = run("GET / HTTP/1.1\r\nHost: h \t \r\nX-A:   inner  space\t\r\n\r\n", &head);
  assert_int_equal(r.error_status, 0);
  assert_field(&head, 0, "host", "h");
  assert_field(&head, 1, "x-a", "inner  space"); /* leading OWS dropped, inner kept */
  http_head_free(&head);
}

static void test_http10_keep_alive(void **state) {
  (void)state;
  http_head head;
  run_result r = run("GET / HTTP/1.0\r\n\r\n", &head); /* no Host needed in 1.0 */
  assert_int_equal(r.error_status, 0);
  assert_int_equal(head.http_minor, 0);
  assert_int_equal(head.keep_alive, 0);
  http_head_free(&head);

  r = run("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &head);
  assert_int_equal(r.error_status, 0);
  assert_int_equal(head.keep_alive, 1);
  http_head_free(&head);

  r = run("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", &head);
  assert_int_equal(r.error_status, 0);
  assert_int_equal(head.http_minor, 1);
  assert_int_equal(head.keep_alive, 0);
  http_head_free(&head);
}

static void test_expect_continue(void **state) {
  (void)state;
  http_head head;
  run_result r = run_request_str(&default_limits, "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n"
                             "Content-Length: 2\r\n\r\nok", &head);
  assert_int_equal(r.error_status, 0);
  assert_int_equal(head.expect_continue, 1);
  http_head_free(&head);

  /* HTTP/1.0 clients do not wait for 100 Continue (RFC 9110 §10.1.1). */
  r = run("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n", &head);
  assert_int_equal(r.error_status, 0);
  assert_int_equal(head.expect_continue, 0);
  http_head_free(&head);

  r = run("POST / HTTP/1.1\r\nHost: h\r\nExpect: something-else\r\n\r\n", &head);
  assert_int_equal(r.error_status, 0);
  assert_int_equal(head.expect_continue, 0);
  http_head_free(&head);
}

/* ------------------------------------------------------------------ DESIGN §6 rules */

static void test_reject_obs_fold(void **state) {
  (void)state;
  expect_head_error("GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n\r\n", 400);
  expect_head_error("GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n\ttwo\r\n\r\n", 400);
}

static void test_reject_bare_lf_and_cr(void **state) {
  (void)state;
  expect_head_error("GET / HTTP/1.1\nHost: h\r\n\r\n", 400);
  expect_head_error("GET / HTTP/1.1\r\nHost: h\n\r\n", 400);
  expect_head_error("GET / HTTP/1.1\r\nHost: h\r\n\n", 400);
  expect_head_error("GET / HTTP/1.1\rHost: h\r\n\r\n", 400);
  expect_head_error("GET / HTTP/1.1\r\nHost: h\rX-A: b\r\n\r\n", 400);
  expect_head_error("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n", 400);
}

static void test_reject_bad_names(void **state) {
  (void)state;
  expect_head_error("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400);      /* space before colon */
  expect_head_error("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400);     /* tab before colon */
  expect_head_error("GET / HTTP/1.1\r\nHost: h\r\n: empty\r\n\r\n", 400);
  expect_head_error("GET / HTTP/1.1\r\nHost: h\r\nX(A): b\r\n\r\n", 400);
  expect_head_error("GET / HTTP/1.1\r\nHost: h\r\nX\"A: b\r\n\r\n", 400);
  expect_head_error("GET / HTTP/1.1\r\nHost: h\r\nX\x01" "A: b\r\n\r\n", 400);
  expect_head_error("GET / HTTP/1.1\r\nHost: h\r\nX\xc3\xa9: b\r\n\r\n", 400);
  expect_head_error("GET / HTTP/1.1\r\nHost: h\r\nno-colon\r\n\r\n", 400);
}

static void test_reject_control_in_value(void **state) {
  (void)state;
  expect_head_error("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x01" "b\r\n\r\n", 400);
  expect_head_error("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x7f" "b\r\n\r\n", 400);
  expect_head_error("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x1b" "b\r\n\r\n", 400);
  /* NUL cannot be in a C string literal request; feed it with an explicit length. */
  static const char with_nul[] = "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\n\r\n";
  http_head head;
  run_result r = run_request(&default_limits, with_nul, sizeof with_nul - 1, 0, &head);
  assert_int_equal(r.error_status, 400);
  assert_false(r.saw_head);
  http_head_free(&head);
}

/* HTAB inside a value and obs-text are allowed (RFC 9110 §5.5). */
static void test_value_tab_and_obs_text_allowed(void **state) {
  (void)state;
  http_head head;
  run_result r = run("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\tb \xe9\xff\r\n\r\n", &head);
  assert_int_equal(r.error_status, 0);
  assert_field(&head, 1, "x-a", "a\tb \xe9\xff");
  http_head_free(&head);
}

static void test_reject_bad_content_length(void **state) {
  (void)state;
  expect_head_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n", 400);
  expect_head_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400);
  expect_head_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n", 400);
  expect_head_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n", 400);
  expect_head_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1,1\r\n\r\n", 400);
  expect_head_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n", 400);
  expect_head_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n", 400);
  expect_head_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1.0\r\n\r\n", 400);
  /* Overflowing 64 bits must not wrap around to a small length. */
  expect_head_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551617\r\n\r\n",
                    400);
  expect_head_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                    400);
}

static void test_reject_two_content_lengths(void **state) {
  (void)state;
  expect_head_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
                    400);
  expect_head_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                    400);
}

static void test_reject_content_length_with_transfer_encoding(void **state) {
  (void)state;
  expect_head_error(
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
  expect_head_error(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400);
}

static void test_reject_transfer_encoding_in_http10(void **state) {
  (void)state;
  expect_head_error("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
}

static void test_reject_chunked_twice_or_not_last(void **state) {
  (void)state;
  expect_head_error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
                    400);
  expect_head_error(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
      400);
  expect_head_error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400);
  expect_head_error(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
      400);
  expect_head_error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n\r\n", 400);
}

static void test_unknown_transfer_coding_501(void **state) {
  (void)state;
  expect_head_error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
  expect_head_error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n", 501);
}

static void test_transfer_encoding_case_and_spacing(void **state) {
  (void)state;
  http_head head;
  run_result r = run("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:  CHUNKED \r\n\r\n0\r\n\r\n",
                     &head);
  assert_int_equal(r.error_status, 0);
  assert_true(r.saw_complete);
  assert_int_equal(head.chunked, 1);
  http_head_free(&head);
}

static void test_reject_host_rules(void **state) {
  (void)state;
  expect_head_error("GET / HTTP/1.1\r\n\r\n", 400);
  expect_head_error("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
  expect_head_error("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400);
  /* HTTP/1.0 may omit Host, but two are still ambiguous. */
  expect_head_error("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400);
}

static void test_reject_other_versions(void **state) {
  (void)state;
  /* Major 2 reaches our check (505); other majors are refused by llhttp itself (400). Either
   * way the request is refused before the app sees it. */
  http_head head;
  run_result r = run("GET / HTTP/2.0\r\nHost: h\r\n\r\n", &head);
  assert_true(r.error_status == 505 || r.error_status == 400);
  assert_false(r.saw_head);
  http_head_free(&head);
  expect_head_error("GET / HTTP/3.0\r\nHost: h\r\n\r\n", 400);
  expect_head_error("GET / HTTP/1.1x\r\nHost: h\r\n\r\n", 400);
  expect_head_error("GET / HTTPS/1.1\r\nHost: h\r\n\r\n", 400);
}

/* Runs `request` fed whole and in pieces of 1 to 7 bytes: each must end in `status` before
 * the app is called, without more bytes (a client waiting for an answer gets one). */
static void expect_error_at_every_split(const char *request, int status) {
  for (size_t step = 0; step < 8; step++) {
    http_head head;
    run_result r = run_request(&default_limits, request, strlen(request), step, &head);
    if (r.error_status != status)
      fail_msg("expected %d, got %d for \"%s\" fed %zu bytes at a time", status, r.error_status,
               request, step);
    assert_false(r.saw_head);
    http_head_free(&head);
  }
}

static void test_http09_request_line_refused_at_once(void **state) {
  (void)state;
  /* "GET /" and a line end, and nothing more: the client waits for a response. */
  expect_error_at_every_split("GET /\r\n", 400);
  expect_error_at_every_split("GET /long/path?q=1\n", 400);
  expect_error_at_every_split("GET /\r\n\r\n", 400);
}

static void test_reject_bad_request_line(void **state) {
  (void)state;
  expect_head_error("GET / x HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expect_head_error("GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expect_head_error("G@T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

/* RFC 9112 §3: one space between the parts; llhttp skips several, the glue refuses them
 * (a server must not autocorrect a request line it reads differently from a proxy). */
static void test_request_line_single_spaces(void **state) {
  (void)state;
  expect_error_at_every_split("GET  /x HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expect_error_at_every_split("GET /x  HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expect_error_at_every_split("GET   /x   HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  /* Single spaces, fed in every split, pass; so does a second request after the first. */
  static const char two[] = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
  for (size_t step = 0; step < 8; step++) {
    http_head head;
    run_result r = run_request(&default_limits, two, strlen(two), step, &head);
    assert_int_equal(r.error_status, 0);
    assert_true(r.saw_complete);
    assert_span(&head, head.target_offset, head.target_len, "/x");
    http_head_free(&head);
  }
}

static void test_host_values(void **state) {
  (void)state;
  static const char *const valid[] = {"example.com", "example.com:8080", "a", "1.2.3.4:80",
                                      "[::1]", "[::1]:8000", "[fe80::1%25eth0]", "xn--bcher-kva.example",
                                      "a%20b", "h:", "", "sub_domain.example"};
  static const char *const invalid[] = {"a b", "a:8x", "[::1", "[]", "a/b", "a@b", "a%2",
                                        "a%zz", "[::1]x", "a:80:80", "a\"b", "[::1 ]"};
  char request[256];
  for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
    snprintf(request, sizeof request, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", valid[i]);
    http_head head;
    run_result r = run(request, &head);
    if (r.error_status) fail_msg("Host \"%s\" refused with %d", valid[i], r.error_status);
    http_head_free(&head);
  }
  for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
    snprintf(request, sizeof request, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", invalid[i]);
    expect_head_error(request, 400);
  }
}

static void test_asterisk_form_only_with_options(void **state) {
  (void)state;
  http_head head;
  run_result r = run("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", &head);
  assert_int_equal(r.error_status, 0);
  assert_true(r.saw_head);
  http_head_free(&head);
  expect_head_error("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expect_head_error("POST * HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", 400);
}

static void test_connect_refused(void **state) {
  (void)state;
  expect_head_error("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501);
}

static void test_http2_preface_refused(void **state) {
  (void)state;
  expect_head_error("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505);
}

/* The head says whether a proxy's forwarding header came (http/forwarded.h reads them only
 * then); a name that merely starts like one does not count. */
static int forwarding_flag(const char *field) {
  char request[256];
  snprintf(request, sizeof request, "GET / HTTP/1.1\r\nHost: a\r\n%s\r\n\r\n", field);
  size_t len = strlen(request), off = 0;
  http_parser p;
  http_head head = {0};
  http_parser_init(&p, &default_limits);
  http_parser_begin(&p, &head);
  feed_until(&p, request, len, &off, HTTP_PAUSE_HEAD);
  int flag = head.forwarding;
  http_head_free(&head);
  return flag;
}

static void test_forwarding_headers_are_flagged(void **state) {
  (void)state;
  assert_true(forwarding_flag("X-Forwarded-For: 1.2.3.4"));
  assert_true(forwarding_flag("x-forwarded-proto: https"));
  assert_true(forwarding_flag("X-Forwarded-Host: a"));
  assert_true(forwarding_flag("X-FORWARDED-PORT: 443"));
  assert_true(forwarding_flag("Forwarded: for=1.2.3.4"));
  assert_false(forwarding_flag("X-Forwarded-Fox: 1"));
  assert_false(forwarding_flag("X-Forwarded-Path: /"));
  assert_false(forwarding_flag("X-Real-IP: 1.2.3.4"));
  assert_false(forwarding_flag("Transfer-Encoding: chunked"));
}

/* No protocol is switched to: an Upgrade request is an ordinary request, and the bytes after
 * it are the next request, not another protocol's (RFC 9110 §7.8 lets the server ignore it). */
static void test_upgrade_is_ignored(void **state) {
  (void)state;
  static const char two[] =
      "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
      "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
  size_t len = sizeof two - 1, off = 0;
  http_parser p;
  http_head first = {0}, second = {0};
  http_parser_init(&p, &default_limits);
  http_parser_begin(&p, &first);
  feed_until(&p, two, len, &off, HTTP_PAUSE_HEAD);
  feed_until(&p, two, len, &off, HTTP_PAUSE_COMPLETE);
  http_parser_begin(&p, &second);
  feed_until(&p, two, len, &off, HTTP_PAUSE_HEAD);
  assert_span(&second, second.target_offset, second.target_len, "/next");
  feed_until(&p, two, len, &off, HTTP_PAUSE_COMPLETE);
  assert_int_equal(off, len);
  http_head_free(&first);
  http_head_free(&second);
}

/* Log lines name the rule broken, not llhttp's wording. */
static void test_error_reasons_name_the_rule(void **state) {
  (void)state;
  http_head head;
  run_result r = run("GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", &head);
  assert_int_equal(r.error_status, 400);
  http_head_free(&head);
  http_parser p;
  http_parser_init(&p, &default_limits);
  memset(&head, 0, sizeof head);
  http_parser_begin(&p, &head);
  static const char bad[] = "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n";
  http_parser_feed(&p, bad, sizeof bad - 1);
  assert_int_equal(p.error_status, 400);
  assert_non_null(strstr(p.error_reason, "RFC 9112"));
  http_head_free(&head);
}

/* ------------------------------------------------------------------ chunked framing */

static void test_reject_bad_chunk_size(void **state) {
  (void)state;
  static const char *const bodies[] = {
      "g\r\nabc\r\n0\r\n\r\n",    /* not hex */
      "-1\r\nabc\r\n0\r\n\r\n",   /* sign */
      "0x3\r\nabc\r\n0\r\n\r\n",  /* prefix */
      " 3\r\nabc\r\n0\r\n\r\n",   /* leading space */
      "\r\nabc\r\n0\r\n\r\n",     /* empty */
      "fffffffffffffffffffff\r\n", /* overflows 64 bits */
  };
  for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
    char request[256];
    snprintf(request, sizeof request,
             "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n%s", bodies[i]);
    http_head head;
    run_result r = run(request, &head);
    if (r.error_status != 400) fail_msg("chunk body %zu: got %d", i, r.error_status);
    assert_true(r.saw_head); /* the head itself was valid */
    assert_false(r.saw_complete);
    http_head_free(&head);
  }
}

static void test_reject_chunk_without_crlf(void **state) {
  (void)state;
  static const char *const bodies[] = {
      "3\r\nabcX\r\n0\r\n\r\n",  /* data longer than the size */
      "3\r\nabc\n0\r\n\r\n",     /* bare LF after data */
      "3\r\nabc0\r\n\r\n",       /* nothing after data */
      "3\nabc\r\n0\r\n\r\n",     /* bare LF after size */
      "0\r\n\r\r\n",
  };
  for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
    char request[256];
    snprintf(request, sizeof request,
             "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n%s", bodies[i]);
    http_head head;
    run_result r = run(request, &head);
    if (r.error_status != 400) fail_msg("chunk body %zu: got %d", i, r.error_status);
    assert_false(r.saw_complete);
    http_head_free(&head);
  }
}

static void test_chunked_body_spans(void **state) {
  (void)state;
  static const char request[] =
      "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n"
      "1;name=value\r\n \r\n"
      "A\r\n0123456789\r\n"
      "0\r\n\r\n";
  for (size_t step = 0; step <= 3; step++) {
    http_head head;
    run_result r = run_request(&default_limits, request, sizeof request - 1, step, &head);
    assert_int_equal(r.error_status, 0);
    assert_true(r.saw_complete);
    assert_int_equal(head.chunked, 1);
    assert_int_equal(head.has_content_length, 0);
    assert_int_equal(r.body_len, 16);
    assert_memory_equal(r.body, "hello 0123456789", 16);
    /* A chunked body's end is only known from the last chunk: every span says more. */
    assert_int_equal(r.last_body_more, 1);
    assert_int_equal(r.consumed, sizeof request - 1);
    http_head_free(&head);
  }
}

static void test_chunked_empty_body(void **state) {
  (void)state;
  http_head head;
  run_result r =
      run("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", &head);
  assert_int_equal(r.error_status, 0);
  assert_true(r.saw_complete);
  assert_int_equal(r.spans, 0);
  http_head_free(&head);
}

/* Trailer fields come after the app was handed the head, whose scope points into
 * head->arena (exchange.c build_scope). The head must therefore not change after
 * HTTP_PAUSE_HEAD: appending trailers to it can move the arena under the running app. */
static void test_trailers_do_not_change_the_head(void **state) {
  (void)state;
  char request[2048];
  int len = snprintf(request, sizeof request,
                     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "3\r\nabc\r\n0\r\nX-Trailer: %0500d\r\nX-Trailer-2: %0500d\r\n\r\n",
                     0, 0);
  http_parser p;
  http_head head;
  memset(&head, 0, sizeof head);
  http_parser_init(&p, &default_limits);
  http_parser_begin(&p, &head);
  size_t off = http_parser_feed(&p, request, (size_t)len);
  assert_int_equal(p.pause, HTTP_PAUSE_HEAD);
  const char *arena_at_head = head.arena;
  size_t fields_at_head = head.field_count;
  size_t arena_len_at_head = head.arena_len;
  for (int guard = 0; guard < 10 && p.pause != HTTP_PAUSE_COMPLETE && !p.error_status; guard++)
    off += http_parser_feed(&p, request + off, (size_t)len - off);
  int status = p.error_status;
  http_pause pause = p.pause;
  size_t fields_after = head.field_count, arena_len_after = head.arena_len;
  int arena_moved = head.arena != arena_at_head;
  http_head_free(&head); /* before asserting, so a failure does not also leak */
  assert_int_equal(status, 0);
  assert_int_equal(pause, HTTP_PAUSE_COMPLETE);
  assert_int_equal(fields_after, fields_at_head);
  assert_int_equal(arena_len_after, arena_len_at_head);
  assert_false(arena_moved);
}

/* ------------------------------------------------------------------ Content-Length bodies */

static void test_content_length_body_spans(void **state) {
  (void)state;
  static const char request[] =
      "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789";
  for (size_t step = 0; step <= 4; step++) {
    http_head head;
    run_result r = run_request(&default_limits, request, sizeof request - 1, step, &head);
    assert_int_equal(r.error_status, 0);
    assert_true(r.saw_complete);
    assert_int_equal(head.has_content_length, 1);
    assert_int_equal(head.content_length, 10);
    assert_int_equal(r.body_len, 10);
    assert_memory_equal(r.body, "0123456789", 10);
    assert_int_equal(r.last_body_more, 0); /* the last span knows it is the last */
    assert_int_equal(r.more_before_last, 1);
    if (step == 0) assert_int_equal(r.spans, 1);
    if (step == 1) assert_true(r.spans >= 10);
    http_head_free(&head);
  }
}

/* The body span is reported with the exact bytes, and body_more = 1 while some is missing. */
static void test_content_length_partial(void **state) {
  (void)state;
  static const char request[] = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nabc";
  http_parser p;
  http_head head;
  memset(&head, 0, sizeof head);
  http_parser_init(&p, &default_limits);
  http_parser_begin(&p, &head);
  size_t len = sizeof request - 1;
  size_t off = http_parser_feed(&p, request, len);
  assert_int_equal(p.pause, HTTP_PAUSE_HEAD);
  off += http_parser_feed(&p, request + off, len - off);
  assert_int_equal(p.pause, HTTP_PAUSE_BODY);
  assert_int_equal(p.body_len, 3);
  assert_memory_equal(p.body_at, "abc", 3);
  assert_int_equal(p.body_more, 1);
  assert_int_equal(p.body_received, 3);
  /* Resuming with nothing left: wants more, no empty span. */
  off += http_parser_feed(&p, request + off, len - off);
  assert_int_equal(off, len);
  assert_int_equal(p.pause, HTTP_PAUSE_NONE);
  assert_int_equal(p.error_status, 0);
  static const char rest[] = "def";
  size_t n = http_parser_feed(&p, rest, 3);
  assert_int_equal(p.pause, HTTP_PAUSE_BODY);
  assert_int_equal(p.body_len, 3);
  assert_memory_equal(p.body_at, "def", 3);
  assert_int_equal(p.body_more, 0);
  n += http_parser_feed(&p, rest + n, 3 - n);
  assert_int_equal(n, 3);
  assert_int_equal(p.pause, HTTP_PAUSE_COMPLETE);
  http_head_free(&head);
}

static void test_content_length_zero(void **state) {
  (void)state;
  http_head head;
  run_result r = run("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", &head);
  assert_int_equal(r.error_status, 0);
  assert_true(r.saw_complete);
  assert_int_equal(r.spans, 0);
  assert_int_equal(head.has_content_length, 1);
  assert_int_equal(head.content_length, 0);
  http_head_free(&head);
}

/* ------------------------------------------------------------------ limits */

static void test_limit_request_line(void **state) {
  (void)state;
  http_limits limits = default_limits;
  limits.request_line = 32;
  char request[256];
  char target[64];
  memset(target, 'a', sizeof target - 1);
  target[0] = '/';
  target[sizeof target - 1] = '\0';
  snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", target);
  expect_head_error_with(&limits, request, 414);
  /* The method and the version count too: the target alone (26) is under the limit, but
   * "DELETE" + target + "1.1" is 35. */
  expect_head_error_with(&limits, "DELETE /2345678901234567890123456 HTTP/1.1\r\nHost: h\r\n\r\n",
                         414);
  /* Just under the limit is fine: "GET" + "/1234567890123456789012" + "1.1" = 29. */
  http_head head;
  snprintf(request, sizeof request, "GET /1234567890123456789012 HTTP/1.1\r\nHost: h\r\n\r\n");
  run_result r = run_request(&limits, request, strlen(request), 0, &head);
  assert_int_equal(r.error_status, 0);
  http_head_free(&head);
  /* The limit holds when the target arrives in many reads. */
  snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", target);
  r = run_request(&limits, request, strlen(request), 2, &head);
  assert_int_equal(r.error_status, 414);
  http_head_free(&head);
}

static void test_limit_field_count(void **state) {
  (void)state;
  http_limits limits = default_limits;
  limits.field_count = 4;
  http_head head;
  run_result r =
      run_request_str(&limits, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", &head);
  assert_int_equal(r.error_status, 0);
  assert_int_equal(head.field_count, 4);
  http_head_free(&head);
  expect_head_error_with(&limits, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
                         431);
  /* Empty values still count as fields. */
  expect_head_error_with(&limits, "GET / HTTP/1.1\r\nHost: h\r\nA:\r\nB:\r\nC:\r\nD:\r\n\r\n", 431);
}

static void test_limit_field_size(void **state) {
  (void)state;
  http_limits limits = default_limits;
  limits.field_size = 16;
  http_head head;
  /* name + value = 16: allowed */
  run_result r = run_request_str(&limits, "GET / HTTP/1.1\r\nHost: h\r\nX-Abcd: 0123456789\r\n\r\n", &head);
  assert_int_equal(r.error_status, 0);
  http_head_free(&head);
  expect_head_error_with(&limits, "GET / HTTP/1.1\r\nHost: h\r\nX-Abcd: 01234567890\r\n\r\n", 431);
  expect_head_error_with(&limits, "GET / HTTP/1.1\r\nHost: h\r\nX-Very-Long-Name-Here: 1\r\n\r\n",
                         431);
  /* Split across reads, the size still adds up. */
  static const char split[] = "GET / HTTP/1.1\r\nHost: h\r\nX-Abcd: 0123456789ABCDEF\r\n\r\n";
  r = run_request(&limits, split, sizeof split - 1, 3, &head);
  assert_int_equal(r.error_status, 431);
  assert_false(r.saw_head);
  http_head_free(&head);
}

static void test_limit_chunk_extension(void **state) {
  (void)state;
  http_limits limits = default_limits;
  limits.chunk_extension = 16;
  http_head head;
  static const char small[] =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "1;a=b\r\nx\r\n0\r\n\r\n";
  run_result r = run_request(&limits, small, sizeof small - 1, 0, &head);
  assert_int_equal(r.error_status, 0);
  assert_true(r.saw_complete);
  http_head_free(&head);
  /* Extensions spread over many chunks add up: 4 * 6 bytes > 16. */
  static const char many[] =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "1;abc=de\r\nx\r\n1;abc=de\r\nx\r\n1;abc=de\r\nx\r\n1;abc=de\r\nx\r\n0\r\n\r\n";
  r = run_request(&limits, many, sizeof many - 1, 0, &head);
  assert_int_equal(r.error_status, 400);
  assert_false(r.saw_complete);
  http_head_free(&head);
  static const char one_long[] =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "1;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nx\r\n0\r\n\r\n";
  r = run_request(&limits, one_long, sizeof one_long - 1, 1, &head);
  assert_int_equal(r.error_status, 400);
  http_head_free(&head);
}

static void test_limit_body_content_length(void **state) {
  (void)state;
  http_limits limits = default_limits;
  limits.body_size = 10;
  /* Refused at the head, before the app is called or any body byte read. */
  expect_head_error_with(&limits, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", 413);
  http_head head;
  run_result r = run_request_str(&limits, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789", &head);
  assert_int_equal(r.error_status, 0);
  assert_true(r.saw_complete);
  http_head_free(&head);
  /* body_size 0 means no limit. */
  limits.body_size = 0;
  r = run_request_str(&limits, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999\r\n\r\n", &head);
  assert_int_equal(r.error_status, 0);
  assert_true(r.saw_head);
  http_head_free(&head);
}

static void test_limit_body_chunked(void **state) {
  (void)state;
  http_limits limits = default_limits;
  limits.body_size = 10;
  http_head head;
  static const char fits[] =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n";
  run_result r = run_request(&limits, fits, sizeof fits - 1, 0, &head);
  assert_int_equal(r.error_status, 0);
  assert_true(r.saw_complete);
  assert_int_equal(r.body_len, 10);
  http_head_free(&head);
  static const char over[] =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\n01234\r\n6\r\n56789a\r\n0\r\n\r\n";
  r = run_request(&limits, over, sizeof over - 1, 0, &head);
  assert_int_equal(r.error_status, 413);
  assert_true(r.saw_head); /* a chunked body's size is only known while reading it */
  assert_false(r.saw_complete);
  assert_true(r.body_len <= 10); /* nothing past the limit was delivered */
  http_head_free(&head);
}

/* ------------------------------------------------------------------ pipelining */

static void test_pipelined_requests(void **state) {
  (void)state;
  static const char two[] =
      "POST /first HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
      "GET /second?q HTTP/1.1\r\nHost: b\r\nX-Second: yes\r\n\r\n";
  size_t len = sizeof two - 1, off = 0;
  http_parser p;
  http_head first = {0}, second = {0};
  http_parser_init(&p, &default_limits);
  http_parser_begin(&p, &first);
  feed_until(&p, two, len, &off, HTTP_PAUSE_HEAD);
  feed_until(&p, two, len, &off, HTTP_PAUSE_BODY);
  assert_memory_equal(p.body_at, "abc", 3);
  assert_int_equal(p.body_more, 0);
  feed_until(&p, two, len, &off, HTTP_PAUSE_COMPLETE);
  /* The first message ends exactly after its body: the second is untouched. */
  assert_memory_equal(two + off, "GET /second", 11);

  http_parser_begin(&p, &second);
  feed_until(&p, two, len, &off, HTTP_PAUSE_HEAD);
  assert_span(&second, second.method_offset, second.method_len, "GET");
  assert_span(&second, second.target_offset, second.target_len, "/second?q");
  assert_int_equal(second.field_count, 2);
  assert_field(&second, 0, "host", "b");
  assert_field(&second, 1, "x-second", "yes");
  assert_int_equal(second.has_content_length, 0);
  assert_int_equal(p.body_received, 0);
  feed_until(&p, two, len, &off, HTTP_PAUSE_COMPLETE);
  assert_int_equal(off, len);
  /* The first head is intact (the connection may still be logging it). */
  assert_span(&first, first.target_offset, first.target_len, "/first");
  http_head_free(&first);
  http_head_free(&second);
}

/* Per-request counters restart with each request: two requests each under the limits pass
 * even when together they would exceed them. */
static void test_pipelined_limits_reset(void **state) {
  (void)state;
  http_limits limits = default_limits;
  limits.request_line = 24;
  limits.chunk_extension = 8;
  limits.body_size = 4;
  static const char two[] =
      "POST /aaaaaaaaa HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4;abcde\r\nwxyz\r\n0\r\n\r\n"
      "POST /bbbbbbbbb HTTP/1.1\r\nHost: b\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4;abcde\r\nwxyz\r\n0\r\n\r\n";
  size_t len = sizeof two - 1, off = 0;
  http_parser p;
  http_parser_init(&p, &limits);
  for (int request = 0; request < 2; request++) {
    http_head head;
    memset(&head, 0, sizeof head);
    http_parser_begin(&p, &head);
    int guard = 0;
    do {
      off += http_parser_feed(&p, two + off, len - off);
      assert_int_equal(p.error_status, 0);
    } while (p.pause != HTTP_PAUSE_COMPLETE && ++guard < 20);
    assert_int_equal(p.pause, HTTP_PAUSE_COMPLETE);
    http_head_free(&head);
  }
  assert_int_equal(off, len);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_simple_get),
      cmocka_unit_test(test_head_byte_by_byte),
      cmocka_unit_test(test_many_fields_split),
      cmocka_unit_test(test_empty_value_then_field),
      cmocka_unit_test(test_trailing_whitespace_trimmed),
      cmocka_unit_test(test_http10_keep_alive),
      cmocka_unit_test(test_expect_continue),
      cmocka_unit_test(test_reject_obs_fold),
      cmocka_unit_test(test_reject_bare_lf_and_cr),
      cmocka_unit_test(test_reject_bad_names),
      cmocka_unit_test(test_reject_control_in_value),
      cmocka_unit_test(test_value_tab_and_obs_text_allowed),
      cmocka_unit_test(test_reject_bad_content_length),
      cmocka_unit_test(test_reject_two_content_lengths),
      cmocka_unit_test(test_reject_content_length_with_transfer_encoding),
      cmocka_unit_test(test_reject_transfer_encoding_in_http10),
      cmocka_unit_test(test_reject_chunked_twice_or_not_last),
      cmocka_unit_test(test_unknown_transfer_coding_501),
      cmocka_unit_test(test_transfer_encoding_case_and_spacing),
      cmocka_unit_test(test_reject_host_rules),
      cmocka_unit_test(test_reject_other_versions),
      cmocka_unit_test(test_reject_bad_request_line),
      cmocka_unit_test(test_http09_request_line_refused_at_once),
      cmocka_unit_test(test_request_line_single_spaces),
      cmocka_unit_test(test_host_values),
      cmocka_unit_test(test_asterisk_form_only_with_options),
      cmocka_unit_test(test_connect_refused),
      cmocka_unit_test(test_http2_preface_refused),
      cmocka_unit_test(test_upgrade_is_ignored),
      cmocka_unit_test(test_forwarding_headers_are_flagged),
      cmocka_unit_test(test_error_reasons_name_the_rule),
      cmocka_unit_test(test_reject_bad_chunk_size),
      cmocka_unit_test(test_reject_chunk_without_crlf),
      cmocka_unit_test(test_chunked_body_spans),
      cmocka_unit_test(test_chunked_empty_body),
      cmocka_unit_test(test_trailers_do_not_change_the_head),
      cmocka_unit_test(test_content_length_body_spans),
      cmocka_unit_test(test_content_length_partial),
      cmocka_unit_test(test_content_length_zero),
      cmocka_unit_test(test_limit_request_line),
      cmocka_unit_test(test_limit_field_count),
      cmocka_unit_test(test_limit_field_size),
      cmocka_unit_test(test_limit_chunk_extension),
      cmocka_unit_test(test_limit_body_content_length),
      cmocka_unit_test(test_limit_body_chunked),
      cmocka_unit_test(test_pipelined_requests),
      cmocka_unit_test(test_pipelined_limits_reset),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
