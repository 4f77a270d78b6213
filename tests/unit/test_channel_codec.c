/*
 * test_channel_codec.c - src/worker/channel_codec.c: the frames between the master and a
 * worker. Every message round-trips; the stream reader finds frames however the reads cut
 * them; fields of a later release are skipped; every malformation is refused with its reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "worker/channel_codec.h"

static const channel_message samples[] = {
    {.kind = CHANNEL_READY, .rss = 25165824},
    {.kind = CHANNEL_HEARTBEAT, .requests = UINT64_MAX, .connections = 7, .rss = 1},
    {.kind = CHANNEL_RETIRE, .requests = 1000},
    {.kind = CHANNEL_STOP, .graceful = 1},
    {.kind = CHANNEL_STOP, .graceful = 0},
    {.kind = CHANNEL_REOPEN_LOGS},
    {.kind = CHANNEL_DIAGNOSE},
};
#define SAMPLES (sizeof samples / sizeof samples[0])

static int same(const channel_message *a, const channel_message *b) {
  return a->kind == b->kind && a->requests == b->requests && a->connections == b->connections &&
         a->rss == b->rss && a->graceful == b->graceful && a->in_flight == b->in_flight &&
         a->websockets == b->websockets && a->bytes_in == b->bytes_in &&
         a->bytes_out == b->bytes_out && a->cpu_usec == b->cpu_usec &&
         memcmp(&a->stats, &b->stats, sizeof a->stats) == 0;
}

static void test_every_message_round_trips(void **state) {
  (void)state;
  for (size_t i = 0; i < SAMPLES; i++) {
    uint8_t frame[CHANNEL_FRAME_MAX];
    size_t len = channel_encode(&samples[i], frame);
    assert_int_equal(frame[0], CHANNEL_VERSION);
    channel_message m;
    assert_int_equal(channel_decode(frame, len, &m), CHANNEL_OK);
    assert_true(same(&m, &samples[i]));
  }
}

/* The exact bytes: version 1, kind, flags 0, length, then id | count | value, little-endian. */
/* A heartbeat carries the metrics' counters: every one of them, each table entry in its
 * place, survives the trip. */
static void test_a_heartbeat_carries_every_counter(void **state) {
  (void)state;
  channel_message hb;
  memset(&hb, 0, sizeof hb);
  hb.kind = CHANNEL_HEARTBEAT;
  hb.requests = 11, hb.connections = 12, hb.rss = 13, hb.in_flight = 14, hb.websockets = 15;
  hb.bytes_in = 16, hb.bytes_out = 17, hb.cpu_usec = 18;
  uint64_t v = 100;
  for (size_t m = 0; m < REQUEST_METHOD_CLASSES; m++)
    for (size_t c = 0; c < REQUEST_STATUS_CLASSES; c++) hb.stats.requests[m][c] = v++;
  for (size_t b = 0; b < REQUEST_DURATION_BUCKETS; b++) hb.stats.duration_buckets[b] = v++;
  hb.stats.duration_sum_usec = UINT64_MAX;
  uint8_t frame[CHANNEL_FRAME_MAX];
  size_t len = channel_encode(&hb, frame);
  /* 8 single fields and the sum (12 bytes each), the two tables (4 + 8 per count) */
  assert_int_equal(len, CHANNEL_HEADER_SIZE + 9 * 12 +
                            4 + 8 * REQUEST_METHOD_CLASSES * REQUEST_STATUS_CLASSES +
                            4 + 8 * REQUEST_DURATION_BUCKETS);
  channel_message m;
  assert_int_equal(channel_decode(frame, len, &m), CHANNEL_OK);
  assert_true(same(&m, &hb));
  assert_int_equal(m.stats.requests[REQUEST_METHOD_CLASSES - 1][REQUEST_STATUS_CLASSES - 1],
                   100 + REQUEST_METHOD_CLASSES * REQUEST_STATUS_CLASSES - 1);
}

/* A table with another count than this version's is refused, as a single field would be. */
static void test_a_table_of_another_size_is_refused(void **state) {
  (void)state;
  /* HEARTBEAT, one field: durations (11) with a count of 1 */
  const uint8_t short_table[] = {1, 2, 0, 0, 12, 0, 0, 0, 11, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0};
  channel_message m;
  assert_int_equal(channel_decode(short_table, sizeof short_table, &m), CHANNEL_ERROR_FIELD);
}

static void test_the_bytes_on_the_wire(void **state) {
  (void)state;
  channel_message retire = {.kind = CHANNEL_RETIRE, .requests = 0x0102030405060708};
  uint8_t frame[CHANNEL_FRAME_MAX];
  const uint8_t expected[] = {1, 3, 0, 0, 12, 0, 0, 0, 1, 0, 1, 0, 8, 7, 6, 5, 4, 3, 2, 1};
  assert_int_equal(channel_encode(&retire, frame), sizeof expected);
  assert_memory_equal(frame, expected, sizeof expected);
}

typedef struct collected {
  channel_message messages[64];
  size_t count;
} collected;

static void collect(void *data, const channel_message *m) {
  collected *c = data;
  if (c->count < 64) c->messages[c->count++] = *m;
}

/* Feeds bytes to a reader in reads of at most `step` bytes (never more than it has room for). */
static channel_error feed(channel_reader *r, const uint8_t *bytes, size_t len, size_t step,
                          collected *c) {
  channel_error e = CHANNEL_OK;
  for (size_t at = 0; at < len && e == CHANNEL_OK;) {
    size_t room;
    uint8_t *space = channel_reader_space(r, &room);
    size_t n = len - at < step ? len - at : step;
    if (n > room) n = room;
    memcpy(space, bytes + at, n);
    at += n;
    e = channel_reader_take(r, n, collect, c);
  }
  return e;
}

static void test_reader_finds_frames_however_reads_cut_them(void **state) {
  (void)state;
  static uint8_t stream[SAMPLES * CHANNEL_FRAME_MAX];
  size_t len = 0;
  for (size_t i = 0; i < SAMPLES; i++) len += channel_encode(&samples[i], stream + len);
  for (size_t step = 1; step <= len; step++) {
    static channel_reader r;
    memset(&r, 0, sizeof r);
    collected c = {.count = 0};
    assert_int_equal(feed(&r, stream, len, step, &c), CHANNEL_OK);
    assert_int_equal(c.count, SAMPLES);
    for (size_t i = 0; i < SAMPLES; i++) assert_true(same(&c.messages[i], &samples[i]));
  }
}

/* A heartbeat of a later release with a histogram field (id 99, 4 buckets) decodes here. */
static void test_unknown_fields_are_skipped(void **state) {
  (void)state;
  uint8_t frame[CHANNEL_FRAME_MAX];
  channel_message hb = {.kind = CHANNEL_HEARTBEAT, .requests = 5, .connections = 6, .rss = 7};
  size_t len = channel_encode(&hb, frame);
  uint8_t extra[4 + 4 * 8] = {99, 0, 4, 0};
  for (size_t i = 4; i < sizeof extra; i++) extra[i] = (uint8_t)i;
  memcpy(frame + len, extra, sizeof extra);
  len += sizeof extra;
  uint32_t payload = (uint32_t)(len - CHANNEL_HEADER_SIZE);
  frame[4] = (uint8_t)payload;
  frame[5] = (uint8_t)(payload >> 8);
  channel_message m;
  assert_int_equal(channel_decode(frame, len, &m), CHANNEL_OK);
  assert_true(same(&m, &hb));
}

static channel_error decode_bytes(const uint8_t *bytes, size_t len) {
  channel_reader r;
  memset(&r, 0, sizeof r);
  collected c = {.count = 0};
  channel_error e = feed(&r, bytes, len, len, &c);
  /* After an error the reader takes nothing more, and nothing came out of the bad frame. */
  size_t room;
  channel_reader_space(&r, &room);
  if (e != CHANNEL_OK) {
    assert_int_equal(room, 0);
    assert_int_equal(c.count, 0);
  }
  return e;
}

static void test_malformed_frames_are_refused(void **state) {
  (void)state;
  const uint8_t version2[] = {2, 17, 0, 0, 0, 0, 0, 0};
  const uint8_t old_text[] = "hb 1 2 3\n";
  const uint8_t flags[] = {1, 17, 1, 0, 0, 0, 0, 0};
  const uint8_t too_long[] = {1, 2, 0, 0, 0x01, 0x40, 0, 0}; /* 16385 */
  const uint8_t kind[] = {1, 99, 0, 0, 0, 0, 0, 0};
  const uint8_t cut_field[] = {1, 2, 0, 0, 2, 0, 0, 0, 1, 0};
  const uint8_t short_value[] = {1, 3, 0, 0, 8, 0, 0, 0, 1, 0, 1, 0, 1, 2, 3, 4};
  const uint8_t wrong_count[] = {1, 3, 0, 0, 20, 0, 0, 0, 1, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0,
                                 1, 0, 0, 0, 0, 0, 0, 0};
  const uint8_t field_of_another_kind[] = {1, 3, 0, 0, 12, 0, 0, 0, 4, 0, 1, 0,
                                           1, 0, 0, 0, 0, 0, 0, 0};
  assert_int_equal(decode_bytes(version2, sizeof version2), CHANNEL_ERROR_VERSION);
  assert_int_equal(decode_bytes(old_text, sizeof old_text - 1), CHANNEL_ERROR_VERSION);
  assert_int_equal(decode_bytes(flags, sizeof flags), CHANNEL_ERROR_FLAGS);
  assert_int_equal(decode_bytes(too_long, sizeof too_long), CHANNEL_ERROR_LENGTH);
  assert_int_equal(decode_bytes(kind, sizeof kind), CHANNEL_ERROR_KIND);
  assert_int_equal(decode_bytes(cut_field, sizeof cut_field), CHANNEL_ERROR_FIELD);
  assert_int_equal(decode_bytes(short_value, sizeof short_value), CHANNEL_ERROR_FIELD);
  assert_int_equal(decode_bytes(wrong_count, sizeof wrong_count), CHANNEL_ERROR_FIELD);
  assert_int_equal(decode_bytes(field_of_another_kind, sizeof field_of_another_kind),
                   CHANNEL_ERROR_FIELD);
  assert_string_equal(channel_error_text(CHANNEL_ERROR_VERSION), "another protocol version");
}

/* The largest payload fits the reader, and the frames before a bad one still come out. */
static void test_largest_frame_and_frames_before_an_error(void **state) {
  (void)state;
  static uint8_t stream[CHANNEL_FRAME_MAX + 64];
  static channel_reader r;
  memset(&r, 0, sizeof r);
  size_t len = 0;
  stream[len++] = 1, stream[len++] = 2, stream[len++] = 0, stream[len++] = 0;
  uint32_t payload = CHANNEL_PAYLOAD_MAX;
  for (int i = 0; i < 4; i++) stream[len++] = (uint8_t)(payload >> (8 * i));
  /* unknown fields 200 and 201 with 1023 and 1024 values fill the payload exactly */
  for (unsigned count = 1023; count <= 1024; count++) {
    stream[len++] = (uint8_t)(count - 823), stream[len++] = 0;
    stream[len++] = (uint8_t)count, stream[len++] = (uint8_t)(count >> 8);
    memset(stream + len, 0xab, (size_t)count * 8);
    len += (size_t)count * 8;
  }
  assert_int_equal(len, CHANNEL_FRAME_MAX);
  channel_message ready = {.kind = CHANNEL_READY, .rss = 9};
  len += channel_encode(&ready, stream + len);
  stream[len++] = 7; /* a bad version */
  for (int i = 0; i < 7; i++) stream[len++] = 0;
  collected c = {.count = 0};
  assert_int_equal(feed(&r, stream, len, 4096, &c), CHANNEL_ERROR_VERSION);
  assert_int_equal(c.count, 2);
  assert_int_equal(c.messages[0].kind, CHANNEL_HEARTBEAT);
  assert_true(same(&c.messages[1], &ready));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_message_round_trips),
      cmocka_unit_test(test_the_bytes_on_the_wire),
      cmocka_unit_test(test_a_heartbeat_carries_every_counter),
      cmocka_unit_test(test_a_table_of_another_size_is_refused),
      cmocka_unit_test(test_reader_finds_frames_however_reads_cut_them),
      cmocka_unit_test(test_unknown_fields_are_skipped),
      cmocka_unit_test(test_malformed_frames_are_refused),
      cmocka_unit_test(test_largest_frame_and_frames_before_an_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
