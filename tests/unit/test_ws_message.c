/*
 * test_ws_message.c - the path a client's message takes through the codecs, as the session
 * drives it: frame parser -> (inflater) -> UTF-8 check -> whole message. A single-span message
 * is delivered in place; fragments are gathered; text fails at the first impossible byte even
 * inside a fragmented or compressed message (Autobahn 6.x fail-fast); sizes hold after
 * inflation; compressed messages split in frames and reads arrive intact (12.x, 13.x); the
 * server's messages go out as one frame each, compressed when agreed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "websocket/close_code.h"
#include "websocket/deflate.h"
#include "websocket/frame.h"
#include "websocket/message.h"

#define FIN 0x80
#define RSV1 0x40
static const uint8_t KEY[4] = {1, 2, 3, 4};
static const ws_deflate_config CONFIG = {.enabled = 1, .window_bits = 12, .mem_level = 5,
                                         .level = -1};

static size_t client_frame(uint8_t *out, unsigned first, const void *payload, size_t len) {
  size_t n = ws_frame_header_write(out, first & 0x0F, first & FIN, first & RSV1, len);
  out[1] |= 0x80;
  memcpy(out + n, KEY, 4);
  n += 4;
  if (len) memcpy(out + n, payload, len);
  ws_mask(out + n, len, KEY, 0);
  return n + len;
}

/* Splits a message's payload into frames of `frame_size` bytes. */
static size_t client_message(uint8_t *out, unsigned opcode, int compressed, const uint8_t *payload,
                             size_t len, size_t frame_size) {
  size_t n = 0, at = 0;
  do {
    size_t piece = len - at < frame_size ? len - at : frame_size;
    unsigned first = (at ? 0 : opcode | (compressed ? RSV1 : 0)) | (at + piece == len ? FIN : 0);
    n += client_frame(out + n, first, payload + at, piece);
    at += piece;
  } while (at < len);
  return n;
}

typedef struct outcome {
  int code;           /* 0, or the close code */
  const char *rule;
  size_t messages;
  uint8_t last[1 << 17];
  size_t last_len;
  uint8_t last_opcode;
  int in_place;       /* the last message pointed into the stream */
  size_t data_events_before_error;
} outcome;

/* Runs a stream through parser and assembler, fed in reads of `read_size` (0: whole). The
 * parser unmasks in place: it reads a copy, so a stream can be run again. */
static void run(const uint8_t *original, size_t len, size_t read_size, int deflate,
                uint64_t max_size, outcome *o) {
  static uint8_t stream[1 << 18];
  memcpy(stream, original, len);
  memset(o, 0, sizeof *o);
  ws_frame_limits limits = {.deflate = deflate};
  ws_parser p;
  ws_parser_init(&p, &limits);
  ws_deflate d;
  ws_deflate_params params = {.server_window_bits = 12, .client_window_bits = 12};
  ws_deflate_init(&d, &params, &CONFIG);
  ws_message m = {0};
  size_t at = 0;
  while (at < len && !o->code) {
    size_t piece = read_size && read_size < len - at ? read_size : len - at;
    size_t used = 0;
    while (used < piece && !o->code) {
      ws_parse_result r;
      used += ws_parser_feed(&p, stream + at + used, piece - used, &r);
      if (r.event == WS_PARSE_ERROR) {
        o->code = r.close_code;
        o->rule = r.rule;
      }
      if (r.event != WS_PARSE_DATA) continue;
      o->code = ws_message_add(&m, deflate ? &d : NULL, max_size, &r, &o->rule);
      if (o->code) break;
      o->data_events_before_error++;
      if (m.complete) {
        o->messages++;
        memcpy(o->last, m.data, m.len);
        o->last_len = m.len;
        o->last_opcode = m.opcode;
        o->in_place = m.data >= stream && m.data < stream + len;
        ws_message_reset(&m);
      }
    }
    at += piece;
  }
  ws_message_reset(&m);
  ws_deflate_free(&d);
}

static uint8_t stream[1 << 18];
static outcome out;

static void test_single_span_is_delivered_in_place(void **state) {
  (void)state;
  size_t n = client_frame(stream, FIN | 0x1, "Hello \xCE\xBA", 8);
  run(stream, n, 0, 0, 0, &out);
  assert_int_equal(out.messages, 1);
  assert_true(out.in_place);
  assert_int_equal(out.last_opcode, WS_OP_TEXT);
  assert_memory_equal(out.last, "Hello \xCE\xBA", 8);
  /* read in pieces, the same message is gathered instead */
  n = client_frame(stream, FIN | 0x1, "Hello \xCE\xBA", 8);
  run(stream, n, 3, 0, 0, &out);
  assert_int_equal(out.messages, 1);
  assert_false(out.in_place);
  assert_memory_equal(out.last, "Hello \xCE\xBA", 8);
  /* empty text and binary messages are messages */
  n = client_frame(stream, FIN | 0x1, "", 0);
  n += client_frame(stream + n, FIN | 0x2, "", 0);
  run(stream, n, 0, 0, 0, &out);
  assert_int_equal(out.messages, 2);
  assert_int_equal(out.last_len, 0);
  assert_int_equal(out.last_opcode, WS_OP_BINARY);
}

static void test_utf8_across_fragments_and_fail_fast(void **state) {
  (void)state;
  /* 6.2.x: a valid text split inside code points, across frames and reads */
  static const uint8_t text[] = "\xF0\x90\x8D\x88 \xE2\x82\xAC \xC3\xA9 ok";
  size_t len = sizeof text - 1;
  for (size_t frame = 1; frame <= len; frame++) {
    for (size_t read = 0; read <= 3; read++) {
      size_t n = client_message(stream, 0x1, 0, text, len, frame);
      run(stream, n, read, 0, 0, &out);
      assert_int_equal(out.code, 0);
      assert_int_equal(out.messages, 1);
      assert_memory_equal(out.last, text, len);
    }
  }
  /* 6.4.x: the bad byte is in the first of three fragments: the error comes with that
   * fragment, before the rest arrives */
  static const uint8_t bad[] = "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5\xF4\x90\x80\x80" "edited";
  size_t n = client_frame(stream, 0x1, bad, 13);
  n += client_frame(stream + n, 0x0, bad + 13, 4);
  n += client_frame(stream + n, FIN | 0x0, bad + 17, sizeof bad - 1 - 17);
  run(stream, n, 0, 0, 0, &out);
  assert_int_equal(out.code, WS_CLOSE_INVALID_PAYLOAD);
  assert_string_equal(out.rule, "text message not valid UTF-8");
  assert_int_equal(out.data_events_before_error, 0);
  /* a text ending inside a sequence fails at its end */
  n = client_message(stream, 0x1, 0, (const uint8_t *)"ab\xE2\x82", 4, 2);
  run(stream, n, 0, 0, 0, &out);
  assert_int_equal(out.code, WS_CLOSE_INVALID_PAYLOAD);
  assert_string_equal(out.rule, "text message ends inside a UTF-8 sequence");
  /* binary is never checked */
  n = client_message(stream, 0x2, 0, bad, sizeof bad - 1, 5);
  run(stream, n, 0, 0, 0, &out);
  assert_int_equal(out.code, 0);
  assert_int_equal(out.messages, 1);
}

static void test_compressed_messages(void **state) {
  (void)state;
  static uint8_t text[100000];
  for (size_t i = 0; i < sizeof text; i++) text[i] = (uint8_t)("abcdefgh \xCE\xBA"[i % 11]);
  size_t text_len = sizeof text - sizeof text % 11; /* whole characters */
  ws_deflate client;
  ws_deflate_params params = {.server_window_bits = 12, .client_window_bits = 12};
  ws_deflate_init(&client, &params, &CONFIG);
  ws_buffer packed = {0};
  assert_int_equal(ws_deflate_message(&client, text, text_len, &packed), 0);
  static const size_t frames[] = {1, 7, 100, 1 << 20};
  static const size_t reads[] = {0, 1, 13};
  for (size_t f = 0; f < 4; f++) {
    for (size_t r = 0; r < 3; r++) {
      if (frames[f] == 1 && reads[r] != 0) continue; /* slow, and nothing new */
      size_t n = client_message(stream, 0x1, 1, packed.data, packed.len, frames[f]);
      run(stream, n, reads[r], 1, 0, &out);
      assert_int_equal(out.code, 0);
      assert_int_equal(out.messages, 1);
      assert_int_equal(out.last_len, text_len);
      assert_memory_equal(out.last, text, text_len);
    }
  }
  /* compressed invalid UTF-8 fails on the inflated bytes */
  ws_deflate_free(&client);
  ws_deflate_init(&client, &params, &CONFIG);
  assert_int_equal(ws_deflate_message(&client, (const uint8_t *)"ok \xED\xA0\x80", 6, &packed), 0);
  size_t n = client_message(stream, 0x1, 1, packed.data, packed.len, 1 << 20);
  run(stream, n, 0, 1, 0, &out);
  assert_int_equal(out.code, WS_CLOSE_INVALID_PAYLOAD);
  /* RSV1 without deflate negotiated: the parser refuses it first */
  run(stream, n, 0, 0, 0, &out);
  assert_int_equal(out.code, WS_CLOSE_PROTOCOL_ERROR);
  /* the limit applies to the inflated size */
  ws_deflate_free(&client);
  ws_deflate_init(&client, &params, &CONFIG);
  assert_int_equal(ws_deflate_message(&client, text, text_len, &packed), 0);
  n = client_message(stream, 0x1, 1, packed.data, packed.len, 1 << 20);
  run(stream, n, 0, 1, text_len - 1, &out);
  assert_int_equal(out.code, WS_CLOSE_TOO_BIG);
  assert_true(packed.len < text_len / 10); /* so the wire size alone would have passed */
  run(stream, n, 0, 1, text_len, &out);
  assert_int_equal(out.code, 0);
  ws_buffer_free(&packed);
  ws_deflate_free(&client);
}

static void test_uncompressed_size_limit(void **state) {
  (void)state;
  static uint8_t payload[3000];
  memset(payload, 'x', sizeof payload);
  size_t n = client_message(stream, 0x2, 0, payload, sizeof payload, 1000);
  run(stream, n, 0, 0, 3000, &out);
  assert_int_equal(out.messages, 1);
  run(stream, n, 0, 0, 2999, &out);
  assert_int_equal(out.code, WS_CLOSE_TOO_BIG);
}

/* The server's side: one frame per message, compressed and marked RSV1 when agreed. */
static void test_outgoing_messages(void **state) {
  (void)state;
  uint8_t header[WS_FRAME_HEADER_MAX];
  size_t header_len, payload_len;
  const uint8_t *payload;
  ws_buffer scratch = {0};
  assert_int_equal(ws_message_frame(NULL, WS_OP_TEXT, (const uint8_t *)"Hello", 5, &scratch,
                                    header, &header_len, &payload, &payload_len), 0);
  assert_int_equal(header_len, 2);
  assert_memory_equal(header, "\x81\x05", 2);
  assert_memory_equal(payload, "Hello", 5);
  assert_null(scratch.data); /* nothing copied */

  ws_deflate server, client;
  ws_deflate_params params = {.server_window_bits = 12, .client_window_bits = 12};
  ws_deflate_init(&server, &params, &CONFIG);
  ws_deflate_init(&client, &params, &CONFIG);
  static uint8_t message[70000];
  for (size_t i = 0; i < sizeof message; i++) message[i] = (uint8_t)(i * 7 % 251);
  static const size_t sizes[] = {0, 5, 70000};
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(ws_message_frame(&server, WS_OP_BINARY, message, sizes[i], &scratch, header,
                                      &header_len, &payload, &payload_len), 0);
    assert_int_equal(header[0], 0x80 | 0x40 | WS_OP_BINARY); /* FIN, RSV1 */
    assert_ptr_equal(payload, scratch.data);
    uint64_t len = header[1] & 0x7F;
    if (len == 126) len = (uint64_t)header[2] << 8 | header[3];
    if (len == 127)
      for (size_t k = 2, first = 1; k < 10; k++, first = 0) len = (first ? 0 : len << 8) | header[k];
    assert_true(len == payload_len);
    ws_buffer unpacked = {0};
    const char *rule = NULL;
    assert_int_equal(ws_inflate(&client, payload, payload_len, 1, &unpacked, 0, &rule), 0);
    assert_int_equal(unpacked.len, sizes[i]);
    if (sizes[i]) assert_memory_equal(unpacked.data, message, sizes[i]);
    ws_buffer_free(&unpacked);
  }
  ws_buffer_free(&scratch);
  ws_deflate_free(&server);
  ws_deflate_free(&client);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_single_span_is_delivered_in_place),
      cmocka_unit_test(test_utf8_across_fragments_and_fail_fast),
      cmocka_unit_test(test_compressed_messages),
      cmocka_unit_test(test_uncompressed_size_limit),
      cmocka_unit_test(test_outgoing_messages),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
