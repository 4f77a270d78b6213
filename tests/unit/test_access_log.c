/*
 * test_access_log.c - access log atoms, header lookup, escaping, truncation, and the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"

/* 2026-11-21 13:25:43 UTC, plus some microseconds that t must ignore. */
#define START_USEC (UINT64_C(1795267543) * 1000000 + 654321)

static const access_log_header request_headers[] = {
    {"host", 4, "example.com", 11},
    {"user-agent", 10, "curl/8.0", 8},
    {"referer", 7, "https://example.com/from", 24},
    {"x-forwarded-for", 15, "10.0.0.1", 8},
    {"x-forwarded-for", 15, "10.0.0.2", 8},
    {"x-empty", 7, "", 0},
};

static const access_log_header response_headers[] = {
    {"Content-Type", 12, "text/plain", 10},
    {"X-Request-Id", 12, "abc", 3},
};

static access_log_entry sample_entry(void) {
  access_log_entry e = {
      .remote_addr = "192.0.2.7",
      .method = "GET",
      .method_len = 3,
      .target = "/path/x?q=1&r=2",
      .target_len = 15,
      .path = "/path/x",
      .path_len = 7,
      .query = "q=1&r=2",
      .query_len = 7,
      .http_version = "1.1",
      .status = 200,
      .body_bytes = 1234,
      .start_usec = START_USEC,
      .duration_usec = 1234567,
      .request_headers = request_headers,
      .request_header_count = sizeof request_headers / sizeof request_headers[0],
      .response_headers = response_headers,
      .response_header_count = sizeof response_headers / sizeof response_headers[0],
  };
  return e;
}

/* Formats `format` for `e` and checks the whole line (expected without the newline). */
static void check_line(const char *format, const access_log_entry *e, const char *expected) {
  char out[1024];
  size_t len = access_log_format_line(format, e, out, sizeof out);
  char want[1024];
  snprintf(want, sizeof want, "%s\n", expected);
  assert_string_equal(out, want);
  assert_int_equal(len, strlen(want));
}

static void check_atom(const char *format, const char *expected) {
  access_log_entry e = sample_entry();
  check_line(format, &e, expected);
}

static int use_utc(void **state) {
  (void)state;
  setenv("TZ", "UTC", 1);
  tzset();
  return 0;
}

static void test_request_atoms(void **state) {
  (void)state;
  check_atom("%(h)s", "192.0.2.7");
  check_atom("%(l)s", "-");
  check_atom("%(u)s", "-");
  check_atom("%(t)s", "[21/Nov/2026:13:25:43 +0000]");
  check_atom("%(r)s", "GET /path/x?q=1&r=2 HTTP/1.1");
  check_atom("%(m)s", "GET");
  check_atom("%(U)s", "/path/x");
  check_atom("%(q)s", "q=1&r=2");
  check_atom("%(H)s", "HTTP/1.1");
  check_atom("%(f)s", "https://example.com/from");
  check_atom("%(a)s", "curl/8.0");
}

static void test_response_atoms(void **state) {
  (void)state;
  check_atom("%(s)s", "200");
  check_atom("%(B)s", "1234");
  check_atom("%(b)s", "1234");

  access_log_entry e = sample_entry();
  e.body_bytes = 0;
  check_line("%(B)s %(b)s", &e, "0 -");
  e.status = 404;
  e.body_bytes = UINT64_MAX;
  check_line("%(s)s %(B)s", &e, "404 18446744073709551615");
}

static void test_duration_atoms(void **state) {
  (void)state;
  check_atom("%(T)s %(M)s %(D)s %(L)s", "1 1234 1234567 1.234567");

  access_log_entry e = sample_entry();
  e.duration_usec = 123;
  check_line("%(T)s %(M)s %(D)s %(L)s", &e, "0 0 123 0.000123");
  e.duration_usec = 0;
  check_line("%(L)s", &e, "0.000000");
}

static void test_pid_atom(void **state) {
  (void)state;
  char want[32];
  snprintf(want, sizeof want, "<%ld>", (long)getpid());
  check_atom("%(p)s", want);
}

static void test_gunicorn_default_format(void **state) {
  (void)state;
  check_atom("%(h)s %(l)s %(u)s %(t)s \"%(r)s\" %(s)s %(b)s \"%(f)s\" \"%(a)s\"",
             "192.0.2.7 - - [21/Nov/2026:13:25:43 +0000] \"GET /path/x?q=1&r=2 HTTP/1.1\" 200 "
             "1234 \"https://example.com/from\" \"curl/8.0\"");
}

/* Opens the logs (nowhere) with log_timezone = local in the zone `tz`: the zone their
 * timestamps keep until log_close. */
static void open_in_local_zone(const char *tz) {
  setenv("TZ", tz, 1);
  tzset();
  asgid_settings s;
  memset(&s, 0, sizeof s);
  s.error_log = "-";
  s.access_log = "";
  s.access_log_format = "";
  s.log_level = ASGID_LEVEL_INFO;
  s.log_timezone = 1; /* local */
  assert_int_equal(log_open(&s), 0);
}

/* The t atom of an entry that started at `seconds` since the epoch. */
static void check_time(uint64_t seconds, const char *expected) {
  access_log_entry e = sample_entry();
  e.start_usec = seconds * 1000000 + 999999;
  check_line("%(t)s", &e, expected);
}

static void test_time_in_utc_by_default(void **state) {
  (void)state;
  setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);
  tzset();
  asgid_settings s;
  memset(&s, 0, sizeof s);
  s.error_log = "-";
  s.access_log = "";
  s.access_log_format = "";
  assert_int_equal(log_open(&s), 0);
  check_time(1795267543, "[21/Nov/2026:13:25:43 +0000]");
  check_time(1805007600, "[14/Mar/2027:07:00:00 +0000]");
  log_close();
  use_utc(NULL);
}

static void test_time_in_local_zone(void **state) {
  (void)state;
  open_in_local_zone("EST5EDT,M3.2.0,M11.1.0");
  /* A second later than the other tests so no cached text from UTC can answer. */
  check_time(1795267544, "[21/Nov/2026:08:25:44 -0500]");
  log_close();
  use_utc(NULL);
}

static void test_time_in_a_zone_off_by_half_an_hour(void **state) {
  (void)state;
  open_in_local_zone("NST3:30NDT,M3.2.0,M11.1.0"); /* Newfoundland: -0330 in November */
  check_time(1795267545, "[21/Nov/2026:09:55:45 -0330]");
  log_close();
  use_utc(NULL);
}

/* The zone is the one the logs were opened in: an app that sets TZ and calls tzset() later
 * (Django) changes nothing, and daylight saving transitions still fall on the right second,
 * now, decades ahead and in the past. */
static void test_local_zone_is_fixed_at_open_with_its_transitions(void **state) {
  (void)state;
  open_in_local_zone("EST5EDT,M3.2.0,M11.1.0");
  setenv("TZ", "IST-5:30", 1);
  tzset();
  check_time(1795267546, "[21/Nov/2026:08:25:46 -0500]");
  /* Spring forward, 2027-03-14 07:00:00 UTC. */
  check_time(1805007599, "[14/Mar/2027:01:59:59 -0500]");
  check_time(1805007600, "[14/Mar/2027:03:00:00 -0400]");
  /* Fall back, 2027-11-07 06:00:00 UTC. */
  check_time(1825567199, "[07/Nov/2027:01:59:59 -0400]");
  check_time(1825567200, "[07/Nov/2027:01:00:00 -0500]");
  /* 2080, beyond the captured cycle, and 2020, before it. */
  check_time(3477279599, "[10/Mar/2080:01:59:59 -0500]");
  check_time(3477279600, "[10/Mar/2080:03:00:00 -0400]");
  check_time(3497839199, "[03/Nov/2080:01:59:59 -0400]");
  check_time(3497839200, "[03/Nov/2080:01:00:00 -0500]");
  check_time(1593604800, "[01/Jul/2020:08:00:00 -0400]");

  /* A reload keeps the zone captured at the first open (the app's TZ is still set). */
  asgid_settings s;
  memset(&s, 0, sizeof s);
  s.error_log = "-";
  s.access_log = "";
  s.access_log_format = "";
  s.log_timezone = 0; /* utc */
  assert_int_equal(log_open(&s), 0);
  check_time(1805007600, "[14/Mar/2027:07:00:00 +0000]");
  s.log_timezone = 1; /* local again */
  assert_int_equal(log_open(&s), 0);
  check_time(1805007600, "[14/Mar/2027:03:00:00 -0400]");
  log_close();
  use_utc(NULL);
}

static void test_header_atoms(void **state) {
  (void)state;
  check_atom("%({host}i)s", "example.com");
  check_atom("%({HOST}i)s", "example.com");
  check_atom("%({User-Agent}i)s", "curl/8.0");
  check_atom("%({content-type}o)s", "text/plain");
  check_atom("%({CONTENT-TYPE}o)s", "text/plain");
  check_atom("%({x-request-id}o)s", "abc");
  /* Repeated headers are all shown, in order. */
  check_atom("%({X-Forwarded-For}i)s", "10.0.0.1,10.0.0.2");
  /* Present but empty is empty, not missing. */
  check_atom("[%({x-empty}i)s]", "[]");
  /* A request header is not a response header and the other way round. */
  check_atom("%({host}o)s %({content-type}i)s", "- -");
}

static void test_missing_values(void **state) {
  (void)state;
  check_atom("%({x-missing}i)s %({x-missing}o)s %({}i)s", "- - -");

  access_log_entry none = {0};
  check_line("%(h)s %(r)s %(m)s %(U)s %(q)s %(H)s %(f)s %(a)s %(s)s %(b)s", &none,
             "- - - - - - - - - - 0 -");
}

static void test_unknown_atoms_are_literal(void **state) {
  (void)state;
  check_atom("%(zz)s", "%(zz)s");
  check_atom("%(x)s", "%(x)s");
  check_atom("%({PATH}e)s", "%({PATH}e)s");
  check_atom("%(h)d", "%(h)d");
  check_atom("%(h", "%(h");
  check_atom("%(h)", "%(h)");
  check_atom("%()s", "%()s");
  check_atom("100% %s %", "100% %s %");
  check_atom("%%(h)s 100%%", "%(h)s 100%");
  check_atom("%(zz)s%(h)s", "%(zz)s192.0.2.7");
  check_atom("", "");
}

static void test_escaping(void **state) {
  (void)state;
  static const char evil[] = "/a\"b\\c\r\nd\te\x01\x7f\xff\xc3\xa9\0z";
  static const char evil_escaped[] =
      "/a\\\"b\\\\c\\x0d\\x0ad\\x09e\\x01\\x7f\\xff\\xc3\\xa9\\x00z";
  access_log_header headers[] = {
      {"user-agent", 10, evil, sizeof evil - 1},
      {"referer", 7, "\"\n", 2},
  };
  access_log_entry e = sample_entry();
  e.method = "G\"ET";
  e.method_len = 4;
  e.target = evil;
  e.target_len = sizeof evil - 1;
  e.path = evil;
  e.path_len = sizeof evil - 1;
  e.query = "x=\n\0";
  e.query_len = 4;
  e.request_headers = headers;
  e.request_header_count = 2;

  char want[512];
  check_line("%(U)s", &e, evil_escaped);
  check_line("%(a)s", &e, evil_escaped);
  check_line("%({User-Agent}i)s", &e, evil_escaped);
  check_line("%(f)s", &e, "\\\"\\x0a");
  check_line("%(q)s", &e, "x=\\x0a\\x00");
  check_line("%(m)s", &e, "G\\\"ET");
  snprintf(want, sizeof want, "G\\\"ET %s HTTP/1.1", evil_escaped);
  check_line("%(r)s", &e, want);

  /* The formatted line stops at its one newline whatever the values hold. */
  char out[1024];
  size_t len = access_log_format_line("\"%(r)s\" \"%(a)s\" \"%(f)s\"", &e, out, sizeof out);
  assert_int_equal(strlen(out), len);
  assert_ptr_equal(strchr(out, '\n'), out + len - 1);
  assert_null(strchr(out, '\r'));
}

/* Escape boundaries of "%(U)s" for the path a " \ LF 0xff: 1 + 2 + 2 + 4 + 4 bytes. */
static void test_truncation_at_every_size(void **state) {
  (void)state;
  static const char path[] = "a\"\\\n\xff";
  static const char full[] = "a\\\"\\\\\\x0a\\xff\n";
  static const size_t boundaries[] = {0, 1, 3, 5, 9, 13};
  access_log_entry e = sample_entry();
  e.path = path;
  e.path_len = sizeof path - 1;

  for (size_t size = 0; size <= sizeof full + 2; size++) {
    char out[64];
    memset(out, 'Z', sizeof out);
    size_t len = access_log_format_line("%(U)s", &e, out, size);
    /* Nothing is written past out_size. */
    assert_int_equal(out[size], 'Z');
    if (size == 0) {
      assert_int_equal(len, 0);
      continue;
    }
    assert_int_equal(strlen(out), len);
    assert_true(len < size);
    if (size >= sizeof full) {
      assert_string_equal(out, full);
      continue;
    }
    if (size == 1)
      continue; /* room for the NUL only */
    assert_int_equal(out[len - 1], '\n');
    if (size < 5)
      continue; /* no room for "...\n": the newline alone ends the line */
    assert_true(len >= 4);
    assert_memory_equal(out + len - 4, "...\n", 4);
    size_t kept = len - 4;
    assert_memory_equal(out, full, kept);
    bool at_boundary = false;
    for (size_t i = 0; i < sizeof boundaries / sizeof boundaries[0]; i++)
      at_boundary = at_boundary || boundaries[i] == kept;
    assert_true(at_boundary);
  }
}

static void test_truncation_of_long_line(void **state) {
  (void)state;
  static char big[3 * ACCESS_LOG_LINE_MAX];
  memset(big, '\n', sizeof big);
  access_log_entry e = sample_entry();
  e.target = big;
  e.target_len = sizeof big;

  char out[ACCESS_LOG_LINE_MAX];
  size_t len = access_log_format_line("\"%(r)s\" %(s)s", &e, out, sizeof out);
  assert_true(len < sizeof out);
  assert_int_equal(strlen(out), len);
  assert_memory_equal(out + len - 4, "...\n", 4);
  /* Cut between two escapes: the content before "..." is whole \x0a units after "GET ". */
  size_t escapes = len - 4 - strlen("\"GET ");
  assert_int_equal(escapes % 4, 0);
  assert_memory_equal(out + len - 8, "\\x0a", 4);
  /* Atoms after the cut are dropped, not squeezed in. */
  assert_null(strstr(out, "200"));
}

/* ------------------------------------------------------------------ the file */

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  static char text[16384];
  size_t n = fread(text, 1, sizeof text - 1, f);
  text[n] = '\0';
  fclose(f);
  return text;
}

static void make_temp_dir(char *dir, size_t size) {
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, size, "%s/asgid-test-access-log-XXXXXX", tmp != NULL ? tmp : "/tmp");
  assert_non_null(mkdtemp(dir));
}

static asgid_settings log_settings(char *error_log, char *access_log, char *format) {
  asgid_settings s;
  memset(&s, 0, sizeof s);
  s.error_log = error_log;
  s.access_log = access_log;
  s.access_log_format = format;
  s.log_level = ASGID_LEVEL_INFO;
  return s;
}

static void test_write_and_reopen(void **state) {
  (void)state;
  char dir[256], path[300], rotated[300], error_path[300];
  make_temp_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/access.log", dir);
  snprintf(rotated, sizeof rotated, "%s/access.log.1", dir);
  snprintf(error_path, sizeof error_path, "%s/error.log", dir);

  mode_t old_umask = umask(022);
  access_log_entry e = sample_entry();

  asgid_settings s = log_settings(error_path, "", "%(m)s %(U)s %(s)s");
  assert_int_equal(log_open(&s), 0);
  assert_false(access_log_enabled());
  access_log_write(&e); /* off: no file, no crash */
  assert_null(read_file(path));

  s = log_settings(error_path, path, "%(m)s %(U)s %(s)s");
  assert_int_equal(log_open(&s), 0);
  assert_true(access_log_enabled());
  access_log_write(&e);
  assert_string_equal(read_file(path), "GET /path/x 200\n");

  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0644);

  /* logrotate renames the file, then the master gets SIGUSR1. */
  assert_int_equal(rename(path, rotated), 0);
  e.status = 201;
  access_log_write(&e); /* before the reopen: still the renamed file */
  assert_int_equal(log_reopen(), 0);
  e.status = 202;
  access_log_write(&e);
  assert_string_equal(read_file(rotated), "GET /path/x 200\nGET /path/x 201\n");
  assert_string_equal(read_file(path), "GET /path/x 202\n");

  /* Appending: a new format and the same file keep the earlier lines. */
  s = log_settings(error_path, path, "%(s)s");
  assert_int_equal(log_open(&s), 0);
  access_log_write(&e);
  assert_string_equal(read_file(path), "GET /path/x 202\n202\n");

  log_close();
  assert_false(access_log_enabled());
  access_log_write(&e);
  assert_string_equal(read_file(path), "GET /path/x 202\n202\n");

  umask(old_umask);
  unlink(path);
  unlink(rotated);
  unlink(error_path);
  rmdir(dir);
}

static void test_open_failure_keeps_previous_file(void **state) {
  (void)state;
  char dir[256], path[300], missing[300], error_path[300];
  make_temp_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/access.log", dir);
  snprintf(missing, sizeof missing, "%s/no/such/dir/access.log", dir);
  snprintf(error_path, sizeof error_path, "%s/error.log", dir);

  asgid_settings s = log_settings(error_path, path, "%(s)s");
  assert_int_equal(log_open(&s), 0);
  s = log_settings(error_path, missing, "%(s)s");
  assert_true(log_open(&s) < 0);
  access_log_entry e = sample_entry();
  access_log_write(&e);
  assert_string_equal(read_file(path), "200\n");
  /* The failure names the file on the error log. */
  assert_non_null(strstr(read_file(error_path), missing));
  log_close();

  unlink(path);
  unlink(error_path);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_request_atoms),
      cmocka_unit_test(test_response_atoms),
      cmocka_unit_test(test_duration_atoms),
      cmocka_unit_test(test_pid_atom),
      cmocka_unit_test(test_gunicorn_default_format),
      cmocka_unit_test(test_time_in_utc_by_default),
      cmocka_unit_test(test_time_in_local_zone),
      cmocka_unit_test(test_local_zone_is_fixed_at_open_with_its_transitions),
      cmocka_unit_test(test_time_in_a_zone_off_by_half_an_hour),
      cmocka_unit_test(test_header_atoms),
      cmocka_unit_test(test_missing_values),
      cmocka_unit_test(test_unknown_atoms_are_literal),
      cmocka_unit_test(test_escaping),
      cmocka_unit_test(test_truncation_at_every_size),
      cmocka_unit_test(test_truncation_of_long_line),
      cmocka_unit_test(test_write_and_reopen),
      cmocka_unit_test(test_open_failure_keeps_previous_file),
  };
  return cmocka_run_group_tests(tests, use_utc, NULL);
}
