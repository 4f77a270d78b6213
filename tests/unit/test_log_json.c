/*
 * test_log_json.c - log_format = json: the JSON string escaper on every byte value and on
 * invalid UTF-8, RFC 3339 timestamps, the error log's objects (a deep traceback whole in its
 * field) and the access log's built-in object and JSON templates.
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
#include <time.h>
#include <unistd.h>

#include "log/log.h"
#include "log/log_internal.h"
#include "../fuzz/utf8_reference.h" /* the fuzz target checks against it too */

/* ------------------------------------------------------------------ the escaper */

/* Escapes len bytes for a JSON string into a static buffer; returns it (NUL-terminated). */
static const char *escape(const char *bytes, size_t len, size_t *out_len) {
  static char out[1 << 16];
  log_line line;
  log_line_init(&line, out, sizeof out);
  log_line_append_json(&line, bytes, len);
  assert_false(line.truncated);
  out[line.len] = '\0';
  if (out_len != NULL)
    *out_len = line.len;
  return out;
}

#define FFFD "\xef\xbf\xbd"

static void check_escape(const char *bytes, size_t len, const char *expected) {
  assert_string_equal(escape(bytes, len, NULL), expected);
}

#define CHECK(input, expected) check_escape(input, sizeof input - 1, expected)

static void test_every_single_byte(void **state) {
  (void)state;
  for (unsigned b = 0; b < 256; b++) {
    char in = (char)b;
    char expected[16];
    if (b == '\n')
      strcpy(expected, "\\n");
    else if (b == '\t')
      strcpy(expected, "\\t");
    else if (b < 0x20 || b == 0x7f)
      snprintf(expected, sizeof expected, "\\u%04x", b);
    else if (b == '"' || b == '\\')
      snprintf(expected, sizeof expected, "\\%c", (char)b);
    else if (b < 0x80)
      snprintf(expected, sizeof expected, "%c", (char)b);
    else
      strcpy(expected, FFFD); /* no byte from 0x80 up is a character alone */
    check_escape(&in, 1, expected);
  }
}

static void test_invalid_sequences(void **state) {
  (void)state;
  /* One U+FFFD per maximal subpart, as Python's bytes.decode("utf-8", "replace") gives. */
  CHECK("\xc0\x80", FFFD FFFD);                     /* overlong NUL */
  CHECK("\xc1\xbf", FFFD FFFD);                     /* overlong DEL */
  CHECK("\xe0\x80\x80", FFFD FFFD FFFD);            /* overlong 3-byte */
  CHECK("\xf0\x80\x80\x80", FFFD FFFD FFFD FFFD);   /* overlong 4-byte */
  CHECK("\xed\xa0\x80", FFFD FFFD FFFD);            /* a surrogate, U+D800 */
  CHECK("\xed\xbf\xbf", FFFD FFFD FFFD);            /* U+DFFF */
  CHECK("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);   /* U+110000 */
  CHECK("\xf5\x80", FFFD FFFD);                     /* no lead byte past F4 */
  CHECK("\xf8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD);
  CHECK("\xff\xfe", FFFD FFFD);
  CHECK("\x80\xbf", FFFD FFFD);                     /* continuation bytes alone */
  CHECK("\xe2\x82", FFFD);                          /* truncated at the end */
  CHECK("\xe2\x82" "A", FFFD "A");                  /* truncated before ASCII */
  CHECK("\xf0\x9f\x98", FFFD);
  CHECK("\xf0\x9f\x98\xf0\x9f\x98\x80", FFFD "\xf0\x9f\x98\x80");
  CHECK("\xc3\x28", FFFD "(");
  CHECK("\xe0\xa0", FFFD);
  /* The edges that are valid, as they are. */
  CHECK("\xc2\xa0", "\xc2\xa0");                    /* U+00A0 */
  CHECK("\xe0\xa0\x80", "\xe0\xa0\x80");            /* U+0800 */
  CHECK("\xed\x9f\xbf", "\xed\x9f\xbf");            /* U+D7FF */
  CHECK("\xee\x80\x80", "\xee\x80\x80");            /* U+E000 */
  CHECK("\xef\xbf\xbd", FFFD);                      /* U+FFFD itself */
  CHECK("\xf0\x90\x80\x80", "\xf0\x90\x80\x80");    /* U+10000 */
  CHECK("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");    /* U+10FFFF */
  CHECK("\xe2\x80\xa8", "\xe2\x80\xa8");            /* U+2028: valid in JSON */
  /* C1 controls are escaped like C0 ones (terminals obey them). */
  CHECK("\xc2\x80\xc2\x85\xc2\x9b\xc2\x9f", "\\u0080\\u0085\\u009b\\u009f");
  /* An embedded NUL, quotes and backslashes. */
  CHECK("a\0b\"c\\d", "a\\u0000b\\\"c\\\\d");
  CHECK("\r\n\b\f", "\\u000d\\n\\u0008\\u000c");
}


/* Input without anything the escaper rewrites: valid UTF-8, no control, quote or backslash. */
static bool plain_text(const unsigned char *s, size_t len) {
  for (size_t i = 0; i < len;) {
    uint32_t code;
    size_t n = utf8_at(s + i, len - i, &code);
    if (n == 0 || code < 0x20 || (code >= 0x7f && code < 0xa0) || code == '"' || code == '\\')
      return false;
    i += n;
  }
  return true;
}

/* The output of any input is valid UTF-8 with no raw control byte, and plain text comes out
 * as it went in. */
static void check_property(const unsigned char *in, size_t len) {
  size_t out_len;
  const unsigned char *out = (const unsigned char *)escape((const char *)in, len, &out_len);
  assert_true(utf8_valid(out, out_len));
  for (size_t i = 0; i < out_len; i++)
    assert_true(out[i] >= 0x20 && out[i] != 0x7f);
  if (plain_text(in, len)) {
    assert_int_equal(out_len, len);
    assert_memory_equal(out, in, len);
  }
}

static void test_every_two_bytes_and_the_edges_of_longer_sequences(void **state) {
  (void)state;
  for (unsigned a = 0; a < 256; a++)
    for (unsigned b = 0; b < 256; b++)
      check_property((const unsigned char[]){(unsigned char)a, (unsigned char)b}, 2);
  /* 3- and 4-byte sequences: every lead byte from 0xe0 up, continuation bytes at and around
   * every boundary the rules have. */
  static const unsigned char edges[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90,
                                        0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xff};
  size_t n = sizeof edges;
  for (unsigned lead = 0xe0; lead < 256; lead++)
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < n; j++) {
        check_property((const unsigned char[]){(unsigned char)lead, edges[i], edges[j]}, 3);
        for (size_t k = 0; k < n; k++)
          check_property(
              (const unsigned char[]){(unsigned char)lead, edges[i], edges[j], edges[k]}, 4);
      }
  /* Every valid code point round-trips (controls aside). */
  for (uint32_t c = 0x20; c <= 0x10ffff; c++) {
    if (c >= 0xd800 && c <= 0xdfff)
      continue;
    unsigned char s[4];
    size_t len = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (len == 1) {
      s[0] = (unsigned char)c;
    } else {
      for (size_t i = len - 1; i > 0; i--)
        s[i] = (unsigned char)(0x80 | ((c >> (6 * (len - 1 - i))) & 0x3f));
      s[0] = (unsigned char)((0xff00 >> len) | (c >> (6 * (len - 1))));
    }
    check_property(s, len);
  }
}

/* ------------------------------------------------------------------ timestamps */

static void open_logs(const char *error_log, const char *access_log, const char *format,
                      int timezone) {
  asgid_settings s;
  memset(&s, 0, sizeof s);
  s.error_log = (char *)error_log;
  s.access_log = (char *)access_log;
  s.access_log_format = (char *)format;
  s.log_level = ASGID_LEVEL_DEBUG;
  s.log_format = 1; /* json */
  s.log_timezone = timezone;
  assert_int_equal(log_open(&s), 0);
}

static const char *iso_time(uint64_t usec) {
  static char out[64];
  log_line line;
  log_line_init(&line, out, sizeof out);
  log_line_append_iso_time(&line, usec);
  out[line.len] = '\0';
  return out;
}

static void test_iso_timestamps(void **state) {
  (void)state;
  setenv("TZ", "NST3:30NDT,M3.2.0,M11.1.0", 1);
  tzset();
  open_logs("-", "", "", 0);
  /* 2026-11-21 13:25:43.007 UTC */
  assert_string_equal(iso_time(UINT64_C(1795267543007999)), "2026-11-21T13:25:43.007Z");
  log_close();
  open_logs("-", "", "", 1);
  assert_string_equal(iso_time(UINT64_C(1795267543007999)), "2026-11-21T09:55:43.007-03:30");
  assert_string_equal(iso_time(UINT64_C(1805007600999000)), "2027-03-14T04:30:00.999-02:30");
  log_close();
  setenv("TZ", "UTC", 1);
  tzset();
}

/* ------------------------------------------------------------------ the error log */

static char dir[256], error_path[300], access_path[300];

static int make_dir(void **state) {
  (void)state;
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/asgid-test-log-json-XXXXXX", tmp != NULL ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL)
    return -1;
  snprintf(error_path, sizeof error_path, "%s/error.log", dir);
  snprintf(access_path, sizeof access_path, "%s/access.log", dir);
  setenv("TZ", "UTC", 1);
  tzset();
  return 0;
}

static int remove_dir(void **state) {
  (void)state;
  unlink(error_path);
  unlink(access_path);
  rmdir(dir);
  return 0;
}

static int clean_logs(void **state) {
  (void)state;
  log_close();
  log_set_role(NULL);
  unlink(error_path);
  unlink(access_path);
  return 0;
}

static char *read_file(const char *path) {
  static char text[1 << 20];
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  size_t n = fread(text, 1, sizeof text - 1, f);
  text[n] = '\0';
  fclose(f);
  return text;
}

/* Checks that `line` starts with {"time":"<RFC 3339 UTC>","level":"<level>","pid":<ours>
 * and returns what follows. */
static const char *after_json_head(const char *line, const char *level) {
  static const char shape[] = "{\"time\":\"DDDD-DD-DDTDD:DD:DD.DDDZ\",\"level\":\"";
  for (size_t i = 0; i < sizeof shape - 1; i++) {
    if (shape[i] == 'D')
      assert_true(line[i] >= '0' && line[i] <= '9');
    else
      assert_int_equal(line[i], shape[i]);
  }
  line += sizeof shape - 1;
  char expected[128];
  snprintf(expected, sizeof expected, "%s\",\"pid\":%ld", level, (long)getpid());
  assert_memory_equal(line, expected, strlen(expected));
  return line + strlen(expected);
}

/* The next line at *cursor without its newline (in a static buffer). */
static const char *next_line(const char **cursor) {
  static char line[1 << 18];
  const char *end = strchr(*cursor, '\n');
  assert_non_null(end);
  assert_true((size_t)(end - *cursor) < sizeof line);
  memcpy(line, *cursor, (size_t)(end - *cursor));
  line[end - *cursor] = '\0';
  *cursor = end + 1;
  return line;
}

static void test_error_log_lines(void **state) {
  (void)state;
  open_logs(error_path, "", "", 0);
  log_info("plain %d", 1);
  log_set_role("worker 2");
  log_warning("bad request: %s", "GET /\r\n\"quoted\" \\ \x1b[2J \xff\xc3\xa9");
  log_record r = {.level = LOG_LEVEL_ERROR, .logger = "app.views", .logger_len = 9,
                  .message = "two\nlines\n", .message_len = 10,
                  .traceback = "Traceback:\n  f()\nKeyError: 'k'\n", .traceback_len = 31};
  log_write_record(&r);
  log_set_role("role \"x\"\n");
  log_debug("no logger, no traceback");

  const char *cursor = read_file(error_path);
  assert_string_equal(after_json_head(next_line(&cursor), "INFO"), ",\"message\":\"plain 1\"}");
  assert_string_equal(after_json_head(next_line(&cursor), "WARNING"),
                      ",\"role\":\"worker 2\",\"message\":\"bad request: GET /\\u000d\\n"
                      "\\\"quoted\\\" \\\\ \\u001b[2J " FFFD "\xc3\xa9\"}");
  assert_string_equal(after_json_head(next_line(&cursor), "ERROR"),
                      ",\"role\":\"worker 2\",\"logger\":\"app.views\",\"message\":\"two\\nlines\","
                      "\"traceback\":\"Traceback:\\n  f()\\nKeyError: 'k'\"}");
  assert_string_equal(after_json_head(next_line(&cursor), "DEBUG"),
                      ",\"role\":\"role \\\"x\\\"\\n\",\"message\":\"no logger, no traceback\"}");
  assert_string_equal(cursor, "");
}

static void test_error_log_long_messages(void **state) {
  (void)state;
  open_logs(error_path, "", "", 0);
  /* log_write's message is cut at LOG_ERROR_LINE_MAX bytes: the string says so with "...". */
  static char big[2 * LOG_ERROR_LINE_MAX];
  memset(big, 'x', sizeof big - 1);
  log_info("%s", big);
  /* Escaping that grows the line past LOG_ERROR_LINE_MAX does not cut it. */
  static char controls[LOG_ERROR_LINE_MAX - 1];
  memset(controls, '\x01', sizeof controls - 1);
  log_info("%s", controls);

  const char *cursor = read_file(error_path);
  const char *rest = after_json_head(next_line(&cursor), "INFO");
  assert_memory_equal(rest, ",\"message\":\"", 12);
  assert_int_equal(strspn(rest + 12, "x"), LOG_ERROR_LINE_MAX - 1);
  assert_string_equal(rest + 12 + LOG_ERROR_LINE_MAX - 1, "...\"}");
  rest = after_json_head(next_line(&cursor), "INFO");
  assert_int_equal(strlen(rest), 12 + 6 * (sizeof controls - 1) + 2);
  for (size_t i = 0; i < sizeof controls - 1; i++)
    assert_memory_equal(rest + 12 + 6 * i, "\\u0001", 6);
}

enum { FRAMES = 60 };

static void test_deep_traceback_field_ends_with_the_exception(void **state) {
  (void)state;
  open_logs(error_path, "", "", 0);
  static char tb[FRAMES * 128];
  size_t len = (size_t)snprintf(tb, sizeof tb, "Traceback (most recent call last):\n");
  for (int i = 0; i < FRAMES; i++)
    len += (size_t)snprintf(tb + len, sizeof tb - len,
                            "  File \"/srv/app/deep.py\", line %d, in level_%d\n"
                            "    return level_%d(depth - 1)\n", 10 + i, i, i + 1);
  len += (size_t)snprintf(tb + len, sizeof tb - len, "ValueError: the bottom \"of\" it\n");
  log_record r = {.level = LOG_LEVEL_ERROR, .message = "Exception in ASGI application",
                  .message_len = 29, .traceback = tb, .traceback_len = len};
  log_write_record(&r);

  const char *cursor = read_file(error_path);
  const char *line = next_line(&cursor);
  assert_string_equal(cursor, ""); /* one line */
  const char *field = strstr(line, ",\"traceback\":\"Traceback (most recent call last):\\n");
  assert_non_null(field);
  /* Every frame, in order, then the exception at the end of the field. */
  const char *at = field;
  for (int i = 0; i < FRAMES; i++) {
    char frame[128];
    snprintf(frame, sizeof frame,
             "\\n  File \\\"/srv/app/deep.py\\\", line %d, in level_%d\\n"
             "    return level_%d(depth - 1)\\n", 10 + i, i, i + 1);
    at = strstr(at, frame);
    assert_non_null(at);
  }
  const char *end = "\\nValueError: the bottom \\\"of\\\" it\"}";
  assert_string_equal(line + strlen(line) - strlen(end), end);
}

/* ------------------------------------------------------------------ the access log */

static const access_log_header request_headers[] = {
    {"user-agent", 10, "curl/8.0 \"q\" \xff", 14},
    {"x-forwarded-for", 15, "10.0.0.1", 8},
    {"x-forwarded-for", 15, "10.0.0.2", 8},
};

static access_log_entry sample_entry(void) {
  access_log_entry e = {
      .remote_addr = "192.0.2.7",
      .method = "GET",
      .method_len = 3,
      .target = "/p\\x?q=\"1\"",
      .target_len = 10,
      .path = "/p\\x",
      .path_len = 4,
      .query = "q=\"1\"",
      .query_len = 5,
      .http_version = "1.1",
      .status = 200,
      .body_bytes = 1234,
      .start_usec = UINT64_C(1795267543654321),
      .duration_usec = 1234567,
      .request_headers = request_headers,
      .request_header_count = sizeof request_headers / sizeof request_headers[0],
  };
  return e;
}

static const char *json_line(const char *format, const access_log_entry *e) {
  static char out[1 << 12];
  static char buf[64]; /* small: the line must grow on the heap */
  log_line line;
  log_line_init_growable(&line, buf, sizeof buf);
  access_log_append_json(&line, format, e);
  assert_false(line.truncated);
  assert_true(line.len < sizeof out);
  memcpy(out, line.buf, line.len);
  out[line.len] = '\0';
  log_line_release(&line);
  return out;
}

static void test_access_log_builtin_object(void **state) {
  (void)state;
  access_log_entry e = sample_entry();
  char expected[1024];
  snprintf(expected, sizeof expected,
           "{\"time\":\"2026-11-21T13:25:43.654Z\",\"remote_addr\":\"192.0.2.7\","
           "\"method\":\"GET\",\"path\":\"/p\\\\x\",\"query\":\"q=\\\"1\\\"\","
           "\"protocol\":\"HTTP/1.1\",\"status\":200,\"bytes\":1234,\"duration_ms\":1234.567,"
           "\"referer\":null,\"user_agent\":\"curl/8.0 \\\"q\\\" " FFFD "\",\"pid\":%ld}",
           (long)getpid());
  assert_string_equal(json_line(NULL, &e), expected);

  /* What a rejected request may lack is null; a WebSocket session adds its counts. */
  access_log_entry bare = {.remote_addr = NULL, .status = 400, .body_bytes = 0,
                           .start_usec = UINT64_C(1795267543000000), .duration_usec = 5,
                           .websocket = 1, .messages_in = 3, .bytes_in = 40, .messages_out = 2};
  snprintf(expected, sizeof expected,
           "{\"time\":\"2026-11-21T13:25:43.000Z\",\"remote_addr\":null,\"method\":null,"
           "\"path\":null,\"query\":null,\"protocol\":null,\"status\":400,\"bytes\":0,"
           "\"duration_ms\":0.005,\"referer\":null,\"user_agent\":null,\"pid\":%ld,"
           "\"ws_messages_in\":3,\"ws_bytes_in\":40,\"ws_messages_out\":2}",
           (long)getpid());
  assert_string_equal(json_line(NULL, &bare), expected);
}

static void test_access_log_json_template(void **state) {
  (void)state;
  access_log_entry e = sample_entry();
  assert_string_equal(json_line("{\"r\":\"%(r)s\",\"a\":\"%(a)s\",\"x\":\"%({X-Forwarded-For}i)s\","
                                "\"s\":%(s)s,\"pct\":\"%%\"}",
                                &e),
                      "{\"r\":\"GET /p\\\\x?q=\\\"1\\\" HTTP/1.1\",\"a\":\"curl/8.0 \\\"q\\\" " FFFD
                      "\",\"x\":\"10.0.0.1,10.0.0.2\",\"s\":200,\"pct\":\"%\"}");
}

static void test_access_log_file_in_json(void **state) {
  (void)state;
  access_log_entry e = sample_entry();
  /* The default format means the built-in object. */
  open_logs(error_path, access_path,
            "%(h)s %(l)s %(u)s %(t)s \"%(r)s\" %(s)s %(b)s \"%(f)s\" \"%(a)s\"", 0);
  access_log_write(&e);
  /* Another format is the user's template, escaped for JSON. */
  open_logs(error_path, access_path, "{\"m\":\"%(m)s\"}", 0);
  access_log_write(&e);
  /* A line far longer than ACCESS_LOG_LINE_MAX is written whole. */
  static char agent[3 * ACCESS_LOG_LINE_MAX];
  memset(agent, '\x02', sizeof agent);
  access_log_header long_header = {"user-agent", 10, agent, sizeof agent};
  e.request_headers = &long_header;
  e.request_header_count = 1;
  open_logs(error_path, access_path, "{\"a\":\"%(a)s\"}", 0);
  access_log_write(&e);

  const char *cursor = read_file(access_path);
  assert_memory_equal(next_line(&cursor), "{\"time\":\"2026-11-21T13:25:43.654Z\",", 35);
  assert_string_equal(next_line(&cursor), "{\"m\":\"GET\"}");
  const char *line = next_line(&cursor);
  assert_int_equal(strlen(line), strlen("{\"a\":\"\"}") + 6 * sizeof agent);
  assert_string_equal(cursor, "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_single_byte),
      cmocka_unit_test(test_invalid_sequences),
      cmocka_unit_test(test_every_two_bytes_and_the_edges_of_longer_sequences),
      cmocka_unit_test_teardown(test_iso_timestamps, clean_logs),
      cmocka_unit_test_teardown(test_error_log_lines, clean_logs),
      cmocka_unit_test_teardown(test_error_log_long_messages, clean_logs),
      cmocka_unit_test_teardown(test_deep_traceback_field_ends_with_the_exception, clean_logs),
      cmocka_unit_test(test_access_log_builtin_object),
      cmocka_unit_test(test_access_log_json_template),
      cmocka_unit_test_teardown(test_access_log_file_in_json, clean_logs),
  };
  return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
