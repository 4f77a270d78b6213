/*
 * test_metrics_request.c - src/master/metrics_request.c: the metrics listener's reader of a
 * request head. A head is decided only once complete; the routes, the methods, the query;
 * every malformation has its status and a rule for the log; a head that does not fit is 431.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "master/metrics_request.h"

static metrics_request parse(const char *text) { return metrics_request_parse(text, strlen(text)); }

static void test_routes_and_methods(void **state) {
  (void)state;
  metrics_request r = parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  assert_int_equal(r.status, 200);
  assert_int_equal(r.route, METRICS_ROUTE_METRICS);
  assert_false(r.head);
  r = parse("HEAD /healthz HTTP/1.0\r\n\r\n");
  assert_int_equal(r.status, 200);
  assert_int_equal(r.route, METRICS_ROUTE_HEALTHZ);
  assert_true(r.head);
  r = parse("GET /readyz?verbose=1 HTTP/1.1\r\n\r\n");
  assert_int_equal(r.status, 200);
  assert_int_equal(r.route, METRICS_ROUTE_READYZ);
  assert_int_equal(parse("POST /metrics HTTP/1.1\r\n\r\n").status, 405);
  assert_int_equal(parse("GET /metrics/ HTTP/1.1\r\n\r\n").status, 404);
  assert_int_equal(parse("GET / HTTP/1.1\r\n\r\n").status, 404);
  assert_int_equal(parse("DELETE /nothing HTTP/1.1\r\n\r\n").status, 404);
  assert_null(parse("GET /metrics HTTP/1.1\r\n\r\n").rule);
  /* HEAD is known before the route: its 404 goes without a body. */
  r = parse("HEAD /nothing HTTP/1.1\r\n\r\n");
  assert_int_equal(r.status, 404);
  assert_true(r.head);
  assert_false(parse("GET /nothing HTTP/1.1\r\n\r\n").head);
}

static void test_undecided_until_the_head_is_complete(void **state) {
  (void)state;
  const char *head = "GET /metrics HTTP/1.1\r\nUser-Agent: Prometheus\r\n\r\n";
  for (size_t len = 0; len < strlen(head); len++)
    assert_int_equal(metrics_request_parse(head, len).status, 0);
  assert_int_equal(metrics_request_parse(head, strlen(head)).status, 200);
  assert_int_equal(parse("GET /metrics HTTP/1.1\n\n").status, 0); /* bare LF never ends it */
}

static void test_malformed_request_lines(void **state) {
  (void)state;
  const char *bad[] = {
      "\r\n\r\n",
      " GET /metrics HTTP/1.1\r\n\r\n",
      "GET  /metrics HTTP/1.1\r\n\r\n",
      "GET /metrics  HTTP/1.1\r\n\r\n",
      "GET /metrics HTTP/2.0\r\n\r\n",
      "GET /metrics HTTP/1.1 \r\n\r\n",
      "GET /metrics\r\n\r\n",
      "get /metrics HTTP/1.1\r\n\r\n",
      "GET /met\x01rics HTTP/1.1\r\n\r\n",
      "GET\t/metrics HTTP/1.1\r\n\r\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    metrics_request r = parse(bad[i]);
    assert_int_equal(r.status, 400);
    assert_non_null(r.rule);
  }
}

static void test_a_head_too_long(void **state) {
  (void)state;
  static char head[METRICS_REQUEST_MAX];
  memcpy(head, "GET /metrics HTTP/1.1\r\nX: ", 26);
  memset(head + 26, 'a', sizeof head - 26);
  assert_int_equal(metrics_request_parse(head, sizeof head - 1).status, 0);
  metrics_request r = metrics_request_parse(head, sizeof head);
  assert_int_equal(r.status, 431);
  assert_non_null(r.rule);
  /* a complete head that fills the buffer exactly is read */
  memcpy(head + sizeof head - 4, "\r\n\r\n", 4);
  assert_int_equal(metrics_request_parse(head, sizeof head).status, 200);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_routes_and_methods),
      cmocka_unit_test(test_undecided_until_the_head_is_complete),
      cmocka_unit_test(test_malformed_request_lines),
      cmocka_unit_test(test_a_head_too_long),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
