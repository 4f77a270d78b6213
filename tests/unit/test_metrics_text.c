/*
 * test_metrics_text.c - src/master/metrics_text.c and src/net/request_stats.c: what a worker
 * counts per request, and the Prometheus text the master writes of it. Requests land in their
 * method and status classes and in the right duration bucket; the histogram's buckets are
 * cumulative, its sum in seconds; label values are escaped; every family has its HELP and TYPE
 * lines before its samples; numbers never depend on the locale.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/metrics_text.h"
#include "german_locale.h"

static char *render(const metrics_snapshot *s) {
  byte_buffer out = {0};
  assert_int_equal(metrics_text_write(&out, s), 0);
  assert_int_equal(byte_buffer_append(&out, "", 1), 0);
  return out.data;
}

static void assert_line(const char *text, const char *line) {
  size_t n = strlen(line);
  for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
    if ((p == text || p[-1] == '\n') && p[n] == '\n') return;
  fail_msg("no line \"%s\" in:\n%s", line, text);
}

static metrics_snapshot sample(void) {
  return (metrics_snapshot){.version = "1.2.3", .python = "3.11.2", .llhttp = "9.2.1"};
}

static void test_requests_count_in_their_classes(void **state) {
  (void)state;
  request_stats st;
  memset(&st, 0, sizeof st);
  request_stats_count(&st, "GET", 3, 200, 1000);
  request_stats_count(&st, "GET", 3, 404, 5000);     /* on the bound: that bucket */
  request_stats_count(&st, "POST", 4, 503, 5001);    /* just above: the next one */
  request_stats_count(&st, "BREW", 4, 200, 20000000); /* another method; past the last bound */
  request_stats_count(&st, "GE", 2, 999, 0);          /* a prefix is no GET; 999: 5xx */
  request_stats_count(&st, "", 0, 99, 0);             /* refused before the method: 1xx */
  assert_int_equal(st.requests[0][1], 1);             /* GET 2xx */
  assert_int_equal(st.requests[0][3], 1);             /* GET 4xx */
  assert_int_equal(st.requests[2][4], 1);             /* POST 5xx */
  assert_int_equal(st.requests[REQUEST_METHOD_CLASSES - 1][1], 1);
  assert_int_equal(st.requests[REQUEST_METHOD_CLASSES - 1][4], 1);
  assert_int_equal(st.requests[REQUEST_METHOD_CLASSES - 1][0], 1);
  assert_int_equal(st.duration_buckets[0], 4);
  assert_int_equal(st.duration_buckets[1], 1);
  assert_int_equal(st.duration_buckets[REQUEST_DURATION_BUCKETS - 1], 1);
  assert_int_equal(st.duration_sum_usec, 1000 + 5000 + 5001 + 20000000);
  assert_int_equal(request_stats_total(&st), 6);
  /* every named class by its own name */
  for (size_t m = 0; m < REQUEST_METHOD_CLASSES - 1; m++) {
    request_stats one;
    memset(&one, 0, sizeof one);
    const char *name = request_method_class_names[m];
    request_stats_count(&one, name, strlen(name), 200, 0);
    assert_int_equal(one.requests[m][1], 1);
  }
  request_stats twice = st;
  request_stats_add(&twice, &st);
  assert_int_equal(request_stats_total(&twice), 12);
  assert_int_equal(twice.requests[0][1], 2);
}

static void test_the_exposition(void **state) {
  (void)state;
  metrics_snapshot s = sample();
  request_stats_count(&s.counters.stats, "GET", 3, 200, 3000);
  request_stats_count(&s.counters.stats, "GET", 3, 200, 30000);
  request_stats_count(&s.counters.stats, "DELETE", 6, 500, 2000000);
  s.counters.bytes_in = 10, s.counters.bytes_out = 20, s.counters.worker_starts = 3;
  s.counters.worker_exits[WORKER_EXIT_CRASH] = 1, s.counters.reloads = 2;
  s.in_flight = 4, s.connections = 5, s.websockets = 6;
  s.workers_ready = 2, s.ready = 1, s.uptime_ms = 61001;
  metrics_worker workers[] = {{.id = 1, .rss = 1000, .cpu_usec = 1500000}, {.id = 2, .rss = 2000}};
  s.workers = workers, s.worker_count = 2;
  char *text = render(&s);
  assert_line(text, "# TYPE asgid_http_requests_total counter");
  assert_line(text, "asgid_http_requests_total{method=\"GET\",status=\"2xx\"} 2");
  assert_line(text, "asgid_http_requests_total{method=\"DELETE\",status=\"5xx\"} 1");
  assert_null(strstr(text, "status=\"4xx\"")); /* pairs never seen are left out */
  assert_line(text, "# TYPE asgid_http_request_duration_seconds histogram");
  assert_line(text, "asgid_http_request_duration_seconds_bucket{le=\"0.005\"} 1");
  assert_line(text, "asgid_http_request_duration_seconds_bucket{le=\"0.025\"} 1");
  assert_line(text, "asgid_http_request_duration_seconds_bucket{le=\"0.05\"} 2");
  assert_line(text, "asgid_http_request_duration_seconds_bucket{le=\"2.5\"} 3");
  assert_line(text, "asgid_http_request_duration_seconds_bucket{le=\"+Inf\"} 3");
  assert_line(text, "asgid_http_request_duration_seconds_sum 2.033");
  assert_line(text, "asgid_http_request_duration_seconds_count 3");
  assert_line(text, "asgid_http_requests_in_flight 4");
  assert_line(text, "asgid_connections_open 5");
  assert_line(text, "asgid_websockets_open 6");
  assert_line(text, "asgid_received_bytes_total 10");
  assert_line(text, "asgid_sent_bytes_total 20");
  assert_line(text, "asgid_worker_starts_total 3");
  assert_line(text, "asgid_worker_exits_total{cause=\"crash\"} 1");
  assert_line(text, "asgid_worker_exits_total{cause=\"timeout\"} 0");
  assert_line(text, "asgid_worker_exits_total{cause=\"retire\"} 0");
  assert_line(text, "asgid_worker_exits_total{cause=\"stop\"} 0");
  assert_line(text, "asgid_workers{state=\"ready\"} 2");
  assert_line(text, "asgid_worker_resident_memory_bytes{worker=\"2\"} 2000");
  assert_line(text, "asgid_worker_cpu_seconds_total{worker=\"1\"} 1.5");
  assert_line(text, "asgid_worker_cpu_seconds_total{worker=\"2\"} 0");
  assert_line(text, "asgid_reloads_total 2");
  assert_line(text, "asgid_ready 1");
  assert_line(text, "asgid_uptime_seconds 61.001");
  assert_line(text, "asgid_build_info{version=\"1.2.3\",python=\"3.11.2\",llhttp=\"9.2.1\"} 1");
  free(text);
}

/* Each sample's family was announced (HELP, then TYPE) before it, once. */
static void test_every_family_is_announced_once_before_its_samples(void **state) {
  (void)state;
  metrics_snapshot s = sample();
  request_stats_count(&s.counters.stats, "GET", 3, 200, 1);
  metrics_worker workers[] = {{.id = 1}};
  s.workers = workers, s.worker_count = 1;
  char *text = render(&s);
  char announced[64][96];
  size_t families = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    char name[96];
    if (strncmp(line, "# HELP ", 7) == 0) {
      assert_true(sscanf(line + 7, "%95s", name) == 1);
      for (size_t i = 0; i < families; i++) assert_string_not_equal(announced[i], name);
      assert_true(families < 64);
      strcpy(announced[families++], name);
      continue;
    }
    if (strncmp(line, "# TYPE ", 7) == 0) {
      assert_true(sscanf(line + 7, "%95s", name) == 1);
      assert_string_equal(name, announced[families - 1]);
      continue;
    }
    size_t len = strcspn(line, "{ ");
    assert_true(families > 0);
    const char *family = announced[families - 1];
    assert_true(strncmp(line, family, strlen(family)) == 0);
    assert_true(len == strlen(family) || line[strlen(family)] == '_'); /* _bucket, _sum */
  }
  assert_true(families >= 16);
  free(text);
}

static void test_label_values_are_escaped(void **state) {
  (void)state;
  metrics_snapshot s = sample();
  s.version = "1\"\\\n";
  s.python = NULL; /* built without Python */
  char *text = render(&s);
  assert_line(text, "asgid_build_info{version=\"1\\\"\\\\\\n\",python=\"\",llhttp=\"9.2.1\"} 1");
  free(text);
}

/* A decimal comma in the master's locale (an app preloaded there may set one) changes nothing:
 * under a German locale, printf writes "1,5". */
static void test_numbers_ignore_the_locale(void **state) {
  (void)state;
  char dir[sizeof "/tmp/asgid-locale-XXXXXX"];
  german_locale_enter(dir);
  char localized[16];
  snprintf(localized, sizeof localized, "%.1f", 1.5);
  assert_string_equal(localized, "1,5"); /* the locale is in force: the test could fail */
  metrics_snapshot s = sample();
  s.uptime_ms = 1500;
  char *text = render(&s);
  german_locale_leave(dir);
  assert_line(text, "asgid_uptime_seconds 1.5");
  assert_line(text, "asgid_http_request_duration_seconds_bucket{le=\"0.005\"} 0");
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_requests_count_in_their_classes),
      cmocka_unit_test(test_the_exposition),
      cmocka_unit_test(test_every_family_is_announced_once_before_its_samples),
      cmocka_unit_test(test_label_values_are_escaped),
      cmocka_unit_test(test_numbers_ignore_the_locale),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
