/*
 * test_bootstrap_reader.c - src/worker/bootstrap_reader.c: a spawned worker's decoder of its
 * master's bootstrap. The malformed cases were found by tests/fuzz (fuzz_bootstrap) in the
 * decoder spawned.c had before: each made it read past what it had received or size an
 * allocation by an unchecked number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/bootstrap_format.h"
#include "worker/bootstrap_reader.h"

/* asgid_settings_serialize's records: one setting, workers = 3 */
static const char settings[] = "workers 1\n3";

/* A bootstrap as the master writes it (master/workers.c): the header, the settings, then
 * the records. */
static size_t make_bootstrap(char *out, size_t size, const char *records, size_t records_len,
                             size_t count) {
  int n = snprintf(out, size, "asgid-bootstrap 1 7 %zu %zu\n%s", count, strlen(settings),
                   settings);
  assert_true(n > 0 && (size_t)n + records_len <= size);
  memcpy(out + n, records, records_len);
  return (size_t)n + records_len;
}

/* Decodes `len` bytes of `text` from an exact-size copy (a read past it shows under ASan),
 * handing them over `chunk` bytes at a time as reads would. Returns the last result. */
static int decode(bootstrap_reader *r, const char *text, size_t len, size_t chunk) {
  int rc = 0;
  for (size_t arrived = 0; arrived < len && rc == 0 && !bootstrap_reader_complete(r);) {
    arrived = arrived + chunk < len ? arrived + chunk : len;
    char *copy = malloc(arrived);
    assert_non_null(copy);
    memcpy(copy, text, arrived);
    rc = bootstrap_reader_decode(r, copy, arrived, stderr);
    free(copy);
  }
  return rc;
}

static void test_bootstrap_decodes(void **state) {
  (void)state;
  const char records[] = "listener tcp 8000 14 9\n127.0.0.1:8000127.0.0.1"
                         "listener unix -1 4 4 proxy_protocol\n/s/a/s/a";
  char text[512];
  size_t len = make_bootstrap(text, sizeof text, records, sizeof records - 1, 2);
  for (size_t chunk = 1; chunk <= len; chunk += chunk < 8 ? 1 : 37) {
    bootstrap_reader r = {0};
    assert_int_equal(decode(&r, text, len, chunk), 0);
    assert_true(bootstrap_reader_complete(&r));
    assert_int_equal(r.id, 7);
    assert_int_equal(r.settings.workers, 3);
    assert_int_equal(r.listeners.count, 2);
    assert_int_equal(r.listeners.items[0].kind, LISTENER_TCP);
    assert_int_equal(r.listeners.items[0].port, 8000);
    assert_string_equal(r.listeners.items[0].name, "127.0.0.1:8000");
    assert_string_equal(r.listeners.items[0].host, "127.0.0.1");
    assert_false(r.listeners.items[0].proxy_protocol);
    assert_int_equal(r.listeners.items[1].kind, LISTENER_UNIX);
    assert_string_equal(r.listeners.items[1].host, "/s/a");
    assert_true(r.listeners.items[1].proxy_protocol);
    bootstrap_reader_free(&r);
  }
}

/* Bytes after the received ones must not count: sscanf on the receive buffer read on past
 * them, here taking the "9" beyond the received header as its settings length. */
static void test_reads_only_what_arrived(void **state) {
  (void)state;
  const char text[] = "asgid-bootstrap 1 1 0\n9";
  bootstrap_reader r = {0};
  assert_int_equal(bootstrap_reader_decode(&r, text, strlen("asgid-bootstrap 1 1 0\n"), stderr),
                   -1);
  bootstrap_reader_free(&r);
}

static void check_malformed(const char *text) {
  bootstrap_reader r = {0};
  if (decode(&r, text, strlen(text), strlen(text)) != -1) fail_msg("accepted: %s", text);
  bootstrap_reader_free(&r);
}

static void test_listener_count_is_bounded(void **state) {
  (void)state;
  check_malformed("asgid-bootstrap 1 1 -1 0\n");
  check_malformed("asgid-bootstrap 1 1 100000000 0\n");
}

/* A master of another channel protocol version (one before the typed channel wrote three
 * numbers) is refused with a line that says what to do. */
static void test_another_channel_version_is_refused(void **state) {
  (void)state;
  const char *headers[] = {"asgid-bootstrap 1 0 0\n", "asgid-bootstrap 2 1 0 0\n"};
  for (size_t i = 0; i < 2; i++) {
    FILE *err = tmpfile();
    assert_non_null(err);
    bootstrap_reader r = {0};
    assert_int_equal(bootstrap_reader_decode(&r, headers[i], strlen(headers[i]), err), -1);
    char said[512] = "";
    rewind(err);
    assert_true(fread(said, 1, sizeof said - 1, err) > 0);
    fclose(err);
    assert_non_null(strstr(said, "restart the service"));
    assert_non_null(strstr(said, i == 0 ? "version 0, this binary version 1"
                                        : "version 2, this binary version 1"));
    bootstrap_reader_free(&r);
  }
}

static void test_malformed_records(void **state) {
  (void)state;
  static const struct {
    const char *bytes;
    size_t len;
  } records[] = {
#define RECORD(text) {text, sizeof text - 1}
      RECORD("listener tcp 1 18446744073709551615 2\nab"), /* wrapped "has it all arrived" */
      RECORD("listener tcp 1 -1 -1\nab"),
      RECORD("listener tcp 1 5000 0\n"), /* longer than any record */
      RECORD("listener sctp 1 1 1\nab"),
      RECORD("listener tcp 70000 1 1\nab"),
      RECORD("listener tcp 1 1 1 extra\nab"),
      RECORD("listener tcp 1 1 1 proxy_protocol extra\nab"),
      RECORD("listener tcp 1 1 1  proxy_protocol\nab"),
      RECORD("listener tcp 1 1 1\n\0b"), /* strndup would cut the name short, unseen */
#undef RECORD
  };
  for (size_t i = 0; i < sizeof records / sizeof records[0]; i++) {
    char text[256];
    size_t len = make_bootstrap(text, sizeof text, records[i].bytes, records[i].len, 1);
    bootstrap_reader r = {0};
    if (decode(&r, text, len, len) != -1) fail_msg("accepted: %s", records[i].bytes);
    bootstrap_reader_free(&r);
  }
}

static void test_overlong_line_without_newline(void **state) {
  (void)state;
  char text[BOOTSTRAP_LINE_MAX + 1];
  memset(text, '1', BOOTSTRAP_LINE_MAX);
  text[BOOTSTRAP_LINE_MAX] = '\0';
  check_malformed(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bootstrap_decodes),
      cmocka_unit_test(test_reads_only_what_arrived),
      cmocka_unit_test(test_listener_count_is_bounded),
      cmocka_unit_test(test_another_channel_version_is_refused),
      cmocka_unit_test(test_malformed_records),
      cmocka_unit_test(test_overlong_line_without_newline),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
