/*
 * test_worker_message.c - src/worker/worker_message.c: the lines a worker sends its master,
 * and the master's reader of them. The cases below were found by tests/fuzz
 * (fuzz_worker_messages) in the sscanf/strchr decoder the master had before.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "worker/worker_message.h"

static worker_message decode(const char *line) {
  return worker_message_decode(line, strlen(line));
}

static void test_encoded_lines_decode(void **state) {
  (void)state;
  worker_message sent[] = {
      {.kind = WORKER_MESSAGE_READY, .rss = 25165824},
      {.kind = WORKER_MESSAGE_HEARTBEAT, .requests = 0, .connections = 7, .rss = 1},
      {.kind = WORKER_MESSAGE_HEARTBEAT,
       .requests = UINT64_MAX,
       .connections = UINT64_MAX,
       .rss = UINT64_MAX},
      {.kind = WORKER_MESSAGE_RETIRE, .requests = 1000},
  };
  const char *lines[] = {
      "ready 25165824", "hb 0 7 1",
      "hb 18446744073709551615 18446744073709551615 18446744073709551615", "retire 1000"};
  for (size_t i = 0; i < 4; i++) {
    char line[WORKER_MESSAGE_LINE_MAX];
    size_t len = worker_message_encode(&sent[i], line);
    assert_string_equal(line, lines[i]);
    worker_message m = worker_message_decode(line, len);
    assert_int_equal(m.kind, sent[i].kind);
    assert_true(m.requests == sent[i].requests && m.connections == sent[i].connections &&
                m.rss == sent[i].rss);
  }
}

/* A worker binary from before max_worker_memory sends no RSS. */
static void test_lines_without_rss(void **state) {
  (void)state;
  worker_message m = decode("ready");
  assert_int_equal(m.kind, WORKER_MESSAGE_READY);
  assert_true(m.rss == 0);
  m = decode("hb 5 6");
  assert_int_equal(m.kind, WORKER_MESSAGE_HEARTBEAT);
  assert_true(m.requests == 5 && m.connections == 6 && m.rss == 0);
}

/* sscanf took each of these as a message: a sign made -1 requests 2^64-1, and trailing
 * text or an extra number was ignored. */
static void test_near_misses_are_unknown(void **state) {
  (void)state;
  const char *lines[] = {"hb -1 2",     "hb +1 2",    "hb 01 2",     "hb 1 2 3 4", "hb 1  2",
                         "hb  1 2",     "hb 1",       "hb 1 2 ",     "retire 5 x", "retire 100b",
                         "retire -5",   "ready ",     "ready 01",    "readyy",     "READY",
                         "retire",      "hb 18446744073709551616 0",   "retire 99999999999999999999",
                         ""};
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    worker_message m = decode(lines[i]);
    if (m.kind != WORKER_MESSAGE_UNKNOWN) fail_msg("\"%s\" decoded as kind %d", lines[i], m.kind);
  }
}

typedef struct received {
  worker_message messages[8];
  size_t count;
} received;

static void on_message(void *data, const worker_message *m) {
  received *r = data;
  assert_true(r->count < 8);
  r->messages[r->count++] = *m;
}

/* Feeds text to a reader in reads of at most `chunk` bytes, as libuv would. */
static void feed(worker_message_reader *reader, const char *text, size_t len, size_t chunk,
                 received *out) {
  while (len) {
    size_t room;
    char *space = worker_message_reader_space(reader, &room);
    assert_true(room > 0);
    size_t n = len < room ? len : room;
    if (n > chunk) n = chunk;
    memcpy(space, text, n);
    worker_message_reader_take(reader, n, on_message, out);
    text += n;
    len -= n;
  }
}

static void test_lines_split_across_reads(void **state) {
  (void)state;
  const char text[] = "ready 9\nhb 12 3 9\nretire 12\n";
  for (size_t chunk = 1; chunk <= sizeof text; chunk++) {
    worker_message_reader reader = {0};
    received got = {0};
    feed(&reader, text, sizeof text - 1, chunk, &got);
    assert_int_equal(got.count, 3);
    assert_int_equal(got.messages[0].kind, WORKER_MESSAGE_READY);
    assert_int_equal(got.messages[1].kind, WORKER_MESSAGE_HEARTBEAT);
    assert_true(got.messages[1].requests == 12 && got.messages[1].connections == 3);
    assert_int_equal(got.messages[2].kind, WORKER_MESSAGE_RETIRE);
  }
}

/* The old reader stopped at a NUL byte and lost the lines after it. */
static void test_nul_byte_loses_nothing(void **state) {
  (void)state;
  const char text[] = "hb 1 2\0\nready\n";
  worker_message_reader reader = {0};
  received got = {0};
  feed(&reader, text, sizeof text - 1, sizeof text, &got);
  assert_int_equal(got.count, 2);
  assert_int_equal(got.messages[0].kind, WORKER_MESSAGE_UNKNOWN);
  assert_int_equal(got.messages[1].kind, WORKER_MESSAGE_READY);
}

/* The old reader dropped the part of an overlong line that filled its buffer and decoded
 * the rest as a line of its own: here, a "ready" the worker never sent. */
static void test_overlong_line_is_one_unknown(void **state) {
  (void)state;
  char text[WORKER_MESSAGE_LINE_MAX + 32];
  memset(text, 'x', WORKER_MESSAGE_LINE_MAX - 1);
  strcpy(text + WORKER_MESSAGE_LINE_MAX - 1, "ready\nhb 4 5 6\n");
  worker_message_reader reader = {0};
  received got = {0};
  feed(&reader, text, strlen(text), WORKER_MESSAGE_LINE_MAX, &got);
  assert_int_equal(got.count, 2);
  assert_int_equal(got.messages[0].kind, WORKER_MESSAGE_UNKNOWN);
  assert_int_equal(got.messages[1].kind, WORKER_MESSAGE_HEARTBEAT);
  assert_true(got.messages[1].requests == 4 && got.messages[1].connections == 5);
}

/* A line that fills the buffer exactly, newline included, ends there: the next is read. */
static void test_longest_line_fits(void **state) {
  (void)state;
  char text[WORKER_MESSAGE_LINE_MAX + 8];
  memset(text, ' ', WORKER_MESSAGE_LINE_MAX - 1);
  memcpy(text, "ready", 5);
  strcpy(text + WORKER_MESSAGE_LINE_MAX - 1, "\nready\n");
  worker_message_reader reader = {0};
  received got = {0};
  feed(&reader, text, strlen(text), 1, &got);
  assert_int_equal(got.count, 2);
  assert_int_equal(got.messages[0].kind, WORKER_MESSAGE_UNKNOWN); /* "ready" and spaces */
  assert_int_equal(got.messages[1].kind, WORKER_MESSAGE_READY);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_encoded_lines_decode),
      cmocka_unit_test(test_lines_without_rss),
      cmocka_unit_test(test_near_misses_are_unknown),
      cmocka_unit_test(test_lines_split_across_reads),
      cmocka_unit_test(test_nul_byte_loses_nothing),
      cmocka_unit_test(test_overlong_line_is_one_unknown),
      cmocka_unit_test(test_longest_line_fits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
