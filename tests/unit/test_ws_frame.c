/*
 * test_ws_frame.c - the frame parser and writer (RFC 6455 §5), at the codec level, along the
 * Autobahn|Testsuite's categories: 1 framing (every length encoding), 2 ping/pong, 3 reserved
 * bits, 4 opcodes, 5 fragmentation, 6 UTF-8 across fragments, 7 close frames, 9 limits; plus
 * masking and the writer. Every stream is also fed one byte at a time and in uneven pieces:
 * what the parser reports must not depend on where the reads were cut.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "websocket/close_code.h"
#include "websocket/frame.h"
#include "websocket/utf8.h"

#define FIN 0x80
#define RSV1 0x40
#define RSV2 0x20
#define RSV3 0x10

static const uint8_t KEY[4] = {0x37, 0xFA, 0x21, 0x3D};

/* Appends a masked client frame: `first` is the first header byte (FIN, RSV, opcode). */
static size_t client_frame(uint8_t *out, unsigned first, const void *payload, size_t len) {
  size_t n = ws_frame_header_write(out, first & 0x0F, first & FIN, first & RSV1, len);
  out[0] = (uint8_t)first;
  out[1] |= 0x80;
  memcpy(out + n, KEY, 4);
  n += 4;
  if (len) memcpy(out + n, payload, len);
  ws_mask(out + n, len, KEY, 0);
  return n + len;
}

/* What a parse of a whole stream reported, in order. */
typedef struct events {
  char log[4096];          /* one letter per event: D data span, M message end, C control, E */
  uint8_t message[1 << 18];/* the data spans of the last message, concatenated */
  size_t message_len;
  uint8_t opcode, compressed; /* of the last message */
  uint8_t control_opcode;       /* of the last control frame */
  uint16_t close_code, error_code;
  const char *rule;
  uint8_t control[126];
  size_t control_len;
  size_t messages, controls;
} events;

static void log_event(events *e, char c) {
  size_t n = strlen(e->log);
  if (n + 1 < sizeof e->log) e->log[n] = c;
}

/* Feeds `stream` in pieces of the sizes in `cuts` (cycled; NULL: whole), as a connection
 * would, and records what it reports. Stops at an error. */
static void parse(const ws_frame_limits *limits, const uint8_t *stream, size_t len,
                  const size_t *cuts, size_t cut_count, events *e) {
  memset(e, 0, sizeof *e);
  ws_parser p;
  ws_parser_init(&p, limits);
  uint8_t *copy = malloc(len ? len : 1);
  memcpy(copy, stream, len);
  size_t at = 0, cut = 0;
  while (at < len) {
    size_t piece = cut_count ? cuts[cut++ % cut_count] : len - at;
    if (piece > len - at) piece = len - at;
    size_t used = 0;
    while (used < piece) {
      ws_parse_result r;
      size_t n = ws_parser_feed(&p, copy + at + used, piece - used, &r);
      used += n;
      switch (r.event) {
        case WS_PARSE_MORE:
          assert_int_equal(used, piece);
          break;
        case WS_PARSE_DATA:
          /* the span lies in what was just consumed */
          assert_true(r.data >= copy + at && r.data + r.len <= copy + at + used);
          if (r.message_begin) {
            e->message_len = 0;
            e->opcode = r.opcode;
            e->compressed = r.compressed;
          } else {
            assert_int_equal(r.opcode, e->opcode);
            assert_int_equal(r.compressed, e->compressed);
          }
          assert_true(e->message_len + r.len <= sizeof e->message);
          memcpy(e->message + e->message_len, r.data, r.len);
          e->message_len += r.len;
          log_event(e, r.message_end ? 'M' : 'D');
          if (r.message_end) e->messages++;
          break;
        case WS_PARSE_CONTROL:
          log_event(e, 'C');
          e->controls++;
          e->control_opcode = r.opcode;
          e->close_code = r.close_code;
          e->control_len = r.len;
          memcpy(e->control, r.data, r.len);
          break;
        case WS_PARSE_ERROR:
          log_event(e, 'E');
          e->error_code = r.close_code;
          e->rule = r.rule;
          assert_non_null(r.rule);
          /* it stays failed */
          assert_int_equal(ws_parser_feed(&p, copy, len, &r), 0);
          assert_int_equal(r.event, WS_PARSE_ERROR);
          free(copy);
          return;
      }
    }
    at += piece;
  }
  free(copy);
}

static const ws_frame_limits NO_LIMITS = {0};

/* Parses whole, byte by byte and in uneven pieces; checks that all three agree on the
 * messages, controls and errors, and leaves the whole parse's record in *e. */
static void parse_every_way(const ws_frame_limits *limits, const uint8_t *stream, size_t len,
                            events *e) {
  static events other;
  static const size_t bytewise[] = {1};
  static const size_t uneven[] = {3, 1, 7, 2, 130, 5};
  parse(limits, stream, len, bytewise, 1, &other);
  parse(limits, stream, len, uneven, 6, e);
  assert_int_equal(other.messages, e->messages);
  assert_int_equal(other.controls, e->controls);
  assert_int_equal(other.error_code, e->error_code);
  assert_int_equal(other.message_len, e->message_len);
  assert_memory_equal(other.message, e->message, e->message_len);
  parse(limits, stream, len, NULL, 0, e);
  assert_int_equal(other.messages, e->messages);
  assert_int_equal(other.controls, e->controls);
  assert_int_equal(other.error_code, e->error_code);
  assert_int_equal(other.message_len, e->message_len);
  assert_memory_equal(other.message, e->message, e->message_len);
}

static uint8_t stream[1 << 19];
static events ev;

/* 1.1.x / 1.2.x: text and binary of every length encoding, including empty. */
static void test_1_every_length_encoding(void **state) {
  (void)state;
  static const size_t lengths[] = {0, 1, 125, 126, 127, 128, 65535, 65536, 100000};
  static uint8_t payload[100000];
  for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)('a' + i % 26);
  for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
    for (unsigned op = WS_OP_TEXT; op <= WS_OP_BINARY; op++) {
      size_t n = client_frame(stream, FIN | op, payload, lengths[i]);
      parse_every_way(&NO_LIMITS, stream, n, &ev);
      assert_int_equal(ev.messages, 1);
      assert_int_equal(ev.error_code, 0);
      assert_int_equal(ev.opcode, op);
      assert_int_equal(ev.message_len, lengths[i]);
      assert_memory_equal(ev.message, payload, lengths[i]);
    }
  }
  /* an empty message is reported (one DATA of length 0 that ends it) */
  size_t n = client_frame(stream, FIN | WS_OP_TEXT, "", 0);
  parse(&NO_LIMITS, stream, n, NULL, 0, &ev);
  assert_string_equal(ev.log, "M");
}

/* 1.x: several frames in one read; a large frame is reported as it arrives, not buffered. */
static void test_1_spans_come_from_the_read(void **state) {
  (void)state;
  size_t n = client_frame(stream, FIN | WS_OP_TEXT, "Hello", 5);
  n += client_frame(stream + n, FIN | WS_OP_BINARY, "\x00\xFF", 2);
  parse(&NO_LIMITS, stream, n, NULL, 0, &ev);
  assert_string_equal(ev.log, "MM");
  assert_int_equal(ev.opcode, WS_OP_BINARY);

  static uint8_t big[70000];
  memset(big, 'z', sizeof big);
  n = client_frame(stream, FIN | WS_OP_BINARY, big, sizeof big);
  ws_parser p;
  ws_parser_init(&p, &NO_LIMITS);
  ws_parse_result r;
  /* header (10 + 4 bytes) and 100 payload bytes: a span of exactly 100 bytes, in place */
  assert_int_equal(ws_parser_feed(&p, stream, 114, &r), 114);
  assert_int_equal(r.event, WS_PARSE_DATA);
  assert_ptr_equal(r.data, stream + 14);
  assert_int_equal(r.len, 100);
  assert_true(r.message_begin);
  assert_false(r.message_end);
  assert_memory_equal(r.data, big, 100);
}

/* 2.x: pings and pongs, their payloads, their limits. */
static void test_2_ping_pong(void **state) {
  (void)state;
  static uint8_t payload[126];
  for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)i;
  size_t n = client_frame(stream, FIN | WS_OP_PING, "", 0);
  parse_every_way(&NO_LIMITS, stream, n, &ev);
  assert_string_equal(ev.log, "C");
  assert_int_equal(ev.control_opcode, WS_OP_PING);
  assert_int_equal(ev.control_len, 0);

  n = client_frame(stream, FIN | WS_OP_PING, payload, 125); /* 2.3, 2.4: binary, 125 bytes */
  parse_every_way(&NO_LIMITS, stream, n, &ev);
  assert_int_equal(ev.control_len, 125);
  assert_memory_equal(ev.control, payload, 125);

  n = client_frame(stream, FIN | WS_OP_PING, payload, 126); /* 2.5 */
  parse_every_way(&NO_LIMITS, stream, n, &ev);
  assert_int_equal(ev.error_code, WS_CLOSE_PROTOCOL_ERROR);
  assert_string_equal(ev.rule, "control frame payload over 125 bytes");

  n = client_frame(stream, FIN | WS_OP_PONG, "unsolicited", 11); /* 2.8 */
  n += client_frame(stream + n, FIN | WS_OP_PING, "x", 1);
  parse_every_way(&NO_LIMITS, stream, n, &ev);
  assert_string_equal(ev.log, "CC");

  n = 0; /* 2.10: ten pings in one read */
  for (int i = 0; i < 10; i++) n += client_frame(stream + n, FIN | WS_OP_PING, "p", 1);
  parse_every_way(&NO_LIMITS, stream, n, &ev);
  assert_int_equal(ev.controls, 10);

  n = client_frame(stream, WS_OP_PING, "x", 1); /* 5.1, 5.2: fragmented control frames */
  parse_every_way(&NO_LIMITS, stream, n, &ev);
  assert_string_equal(ev.rule, "fragmented control frame");
  n = client_frame(stream, WS_OP_PONG, "x", 1);
  parse_every_way(&NO_LIMITS, stream, n, &ev);
  assert_int_equal(ev.error_code, WS_CLOSE_PROTOCOL_ERROR);
}

/* 3.x: reserved bits are errors unless permessage-deflate allows RSV1 on a first frame. */
static void test_3_reserved_bits(void **state) {
  (void)state;
  static const unsigned firsts[] = {
      FIN | RSV1 | WS_OP_TEXT, FIN | RSV2 | WS_OP_TEXT, FIN | RSV3 | WS_OP_BINARY,
      FIN | RSV1 | RSV2 | RSV3 | WS_OP_PING, FIN | RSV2 | WS_OP_CLOSE};
  for (size_t i = 0; i < sizeof firsts / sizeof firsts[0]; i++) {
    /* 3.2: a good frame first, then the bad one: the good one is reported */
    size_t n = client_frame(stream, FIN | WS_OP_TEXT, "ok", 2);
    n += client_frame(stream + n, firsts[i], "bad", 3);
    parse_every_way(&NO_LIMITS, stream, n, &ev);
    assert_string_equal(ev.log, "ME");
    assert_int_equal(ev.error_code, WS_CLOSE_PROTOCOL_ERROR);
  }
  ws_frame_limits deflate = {.deflate = 1};
  size_t n = client_frame(stream, RSV1 | WS_OP_TEXT, "ab", 2);
  n += client_frame(stream + n, FIN | WS_OP_CONTINUATION, "cd", 2);
  parse_every_way(&deflate, stream, n, &ev);
  assert_int_equal(ev.messages, 1);
  assert_true(ev.compressed);
  n = client_frame(stream, WS_OP_TEXT, "ab", 2);
  n += client_frame(stream + n, FIN | RSV1 | WS_OP_CONTINUATION, "cd", 2);
  parse_every_way(&deflate, stream, n, &ev);
  assert_string_equal(ev.rule, "RSV1 set on a continuation frame");
  n = client_frame(stream, FIN | RSV1 | WS_OP_PING, "", 0);
  parse_every_way(&deflate, stream, n, &ev);
  assert_string_equal(ev.rule, "RSV1 set on a control frame");
  n = client_frame(stream, FIN | RSV2 | WS_OP_TEXT, "", 0);
  parse_every_way(&deflate, stream, n, &ev);
  assert_int_equal(ev.error_code, WS_CLOSE_PROTOCOL_ERROR);
  n = client_frame(stream, FIN | WS_OP_TEXT, "plain", 5); /* uncompressed message: fine */
  parse_every_way(&deflate, stream, n, &ev);
  assert_false(ev.compressed);
  assert_int_equal(ev.messages, 1);
}

/* 4.x: reserved opcodes, data (3-7) and control (B-F), with and without payload. */
static void test_4_reserved_opcodes(void **state) {
  (void)state;
  static const unsigned ops[] = {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    size_t n = client_frame(stream, FIN | ops[i], "reserved", i % 2 ? 8 : 0);
    n += client_frame(stream + n, FIN | WS_OP_PING, "", 0);
    parse_every_way(&NO_LIMITS, stream, n, &ev);
    assert_string_equal(ev.log, "E");
    assert_int_equal(ev.error_code, WS_CLOSE_PROTOCOL_ERROR);
    assert_string_equal(ev.rule, "reserved opcode");
  }
}

/* 5.x: fragmentation and the continuation rules. */
static void test_5_fragmentation(void **state) {
  (void)state;
  /* 5.3-5.8: text in two fragments, then with pings between fragments */
  size_t n = client_frame(stream, WS_OP_TEXT, "frag", 4);
  n += client_frame(stream + n, FIN | WS_OP_CONTINUATION, "ment", 4);
  parse_every_way(&NO_LIMITS, stream, n, &ev);
  assert_int_equal(ev.messages, 1);
  assert_int_equal(ev.message_len, 8);
  assert_memory_equal(ev.message, "fragment", 8);
  n = client_frame(stream, WS_OP_BINARY, "fr", 2);
  n += client_frame(stream + n, FIN | WS_OP_PING, "ping", 4);
  n += client_frame(stream + n, WS_OP_CONTINUATION, "", 0);
  n += client_frame(stream + n, FIN | WS_OP_PONG, "", 0);
  n += client_frame(stream + n, WS_OP_CONTINUATION, "ag", 2);
  n += client_frame(stream + n, FIN | WS_OP_CONTINUATION, "", 0);
  parse(&NO_LIMITS, stream, n, NULL, 0, &ev);
  assert_string_equal(ev.log, "DCCDM");
  assert_int_equal(ev.opcode, WS_OP_BINARY);
  assert_int_equal(ev.message_len, 4);
  parse_every_way(&NO_LIMITS, stream, n, &ev);
  assert_int_equal(ev.messages, 1);
  assert_int_equal(ev.controls, 2);
  /* 5.9-5.12: continuation without a message in progress, with and without FIN */
  for (unsigned fin = 0; fin <= FIN; fin += FIN) {
    n = client_frame(stream, fin | WS_OP_CONTINUATION, "x", 1);
    parse_every_way(&NO_LIMITS, stream, n, &ev);
    assert_string_equal(ev.rule, "continuation frame without a message in progress");
    assert_int_equal(ev.error_code, WS_CLOSE_PROTOCOL_ERROR);
  }
  /* 5.13-5.16: a continuation after a complete message */
  n = client_frame(stream, FIN | WS_OP_TEXT, "done", 4);
  n += client_frame(stream + n, FIN | WS_OP_CONTINUATION, "x", 1);
  parse_every_way(&NO_LIMITS, stream, n, &ev);
  assert_string_equal(ev.log, "ME");
  /* 5.17-5.18: a new data frame inside a fragmented message */
  n = client_frame(stream, WS_OP_TEXT, "a", 1);
  n += client_frame(stream + n, FIN | WS_OP_TEXT, "b", 1);
  parse_every_way(&NO_LIMITS, stream, n, &ev);
  assert_string_equal(ev.rule, "new data frame inside a fragmented message");
  /* 5.19-5.20: many fragments of one byte with pings between them */
  n = 0;
  for (int i = 0; i < 50; i++) {
    n += client_frame(stream + n, (i ? WS_OP_CONTINUATION : WS_OP_TEXT) | (i == 49 ? FIN : 0),
                      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX" + i, 1);
    if (i % 10 == 5) n += client_frame(stream + n, FIN | WS_OP_PING, "", 0);
  }
  parse_every_way(&NO_LIMITS, stream, n, &ev);
  assert_int_equal(ev.messages, 1);
  assert_int_equal(ev.controls, 5);
  assert_memory_equal(ev.message, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX", 50);
}

/* 6.x at the codec level: a text's spans, fed to the validator as they come, validate it
 * across fragments, even when a code point is split between two of them. */
static void test_6_utf8_split_across_fragments(void **state) {
  (void)state;
  /* κόσμε with its 3-byte character split 1|2 and its last 2-byte one 1|1 */
  static const uint8_t text[] = {0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5};
  size_t n = client_frame(stream, WS_OP_TEXT, text, 3);
  n += client_frame(stream + n, WS_OP_CONTINUATION, text + 3, 7);
  n += client_frame(stream + n, FIN | WS_OP_CONTINUATION, text + 10, 1);
  static const size_t bytewise[] = {1};
  for (int way = 0; way < 2; way++) {
    ws_parser p;
    ws_parser_init(&p, &NO_LIMITS);
    ws_utf8 v;
    ws_utf8_init(&v);
    uint8_t copy[64];
    memcpy(copy, stream, n);
    size_t at = 0, spans = 0;
    int ended = 0;
    while (at < n) {
      ws_parse_result r;
      size_t piece = way ? bytewise[0] : n - at;
      at += ws_parser_feed(&p, copy + at, piece, &r);
      if (r.event != WS_PARSE_DATA) continue;
      spans++;
      assert_int_equal(ws_utf8_feed(&v, r.data, r.len, NULL), 0);
      if (!r.message_end) assert_true(spans > 0);
      else ended = 1;
    }
    assert_true(ended);
    assert_true(ws_utf8_complete(&v));
  }
  /* a surrogate split across two fragments fails on its second byte, in the second frame */
  n = client_frame(stream, WS_OP_TEXT, "ok\xED", 3);
  n += client_frame(stream + n, FIN | WS_OP_CONTINUATION, "\xA0\x80", 2);
  ws_parser p;
  ws_parser_init(&p, &NO_LIMITS);
  ws_utf8 v;
  ws_utf8_init(&v);
  ws_parse_result r;
  size_t used = ws_parser_feed(&p, stream, n, &r);
  assert_int_equal(r.event, WS_PARSE_DATA);
  assert_int_equal(ws_utf8_feed(&v, r.data, r.len, NULL), 0);
  ws_parser_feed(&p, stream + used, n - used, &r);
  size_t bad = 99;
  assert_int_equal(ws_utf8_feed(&v, r.data, r.len, &bad), -1);
  assert_int_equal(bad, 0);
}

/* 7.x: close frames: no payload, code only, code and reason, and every invalid form. */
static void test_7_close_frames(void **state) {
  (void)state;
  size_t n = client_frame(stream, FIN | WS_OP_CLOSE, "", 0); /* 7.3.1 */
  parse_every_way(&NO_LIMITS, stream, n, &ev);
  assert_string_equal(ev.log, "C");
  assert_int_equal(ev.control_opcode, WS_OP_CLOSE);
  assert_int_equal(ev.close_code, WS_CLOSE_NO_STATUS);
  n = client_frame(stream, FIN | WS_OP_CLOSE, "\x03", 1); /* 7.3.2 */
  parse_every_way(&NO_LIMITS, stream, n, &ev);
  assert_int_equal(ev.error_code, WS_CLOSE_PROTOCOL_ERROR);
  assert_string_equal(ev.rule, "close frame payload of 1 byte");
  n = client_frame(stream, FIN | WS_OP_CLOSE, "\x03\xE8Hello", 7); /* 7.3.4 */
  parse_every_way(&NO_LIMITS, stream, n, &ev);
  assert_int_equal(ev.close_code, 1000);
  assert_int_equal(ev.control_len, 5);
  assert_memory_equal(ev.control, "Hello", 5);
  uint8_t payload[126];
  payload[0] = 0x03, payload[1] = 0xE8;
  memset(payload + 2, '*', 124);
  n = client_frame(stream, FIN | WS_OP_CLOSE, payload, 125); /* 7.3.5: 123-byte reason */
  parse_every_way(&NO_LIMITS, stream, n, &ev);
  assert_int_equal(ev.control_len, 123);
  n = client_frame(stream, FIN | WS_OP_CLOSE, payload, 126); /* 7.3.6 */
  parse_every_way(&NO_LIMITS, stream, n, &ev);
  assert_int_equal(ev.error_code, WS_CLOSE_PROTOCOL_ERROR);
  n = client_frame(stream, FIN | WS_OP_CLOSE, "\x03\xE8\xCE\xBA\xED\xA0\x80", 7); /* 7.5.1 */
  parse_every_way(&NO_LIMITS, stream, n, &ev);
  assert_int_equal(ev.error_code, WS_CLOSE_INVALID_PAYLOAD);
  /* 7.7.x valid codes, 7.9.x invalid ones */
  static const unsigned valid[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010,
                                   1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999};
  static const unsigned invalid[] = {0,    999,  1004, 1005, 1006, 1015, 1016,
                                     1100, 2000, 2999, 5000, 65535};
  for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
    uint8_t code[2] = {(uint8_t)(valid[i] >> 8), (uint8_t)valid[i]};
    n = client_frame(stream, FIN | WS_OP_CLOSE, code, 2);
    parse_every_way(&NO_LIMITS, stream, n, &ev);
    assert_int_equal(ev.close_code, valid[i]);
    assert_int_equal(ev.error_code, 0);
    assert_true(ws_close_code_sendable(valid[i]));
  }
  for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
    uint8_t code[2] = {(uint8_t)(invalid[i] >> 8), (uint8_t)invalid[i]};
    n = client_frame(stream, FIN | WS_OP_CLOSE, code, 2);
    parse_every_way(&NO_LIMITS, stream, n, &ev);
    assert_int_equal(ev.error_code, WS_CLOSE_PROTOCOL_ERROR);
    assert_string_equal(ev.rule, "close code that may not be sent");
    assert_false(ws_close_code_sendable(invalid[i]));
  }
  /* a close between fragments is a control frame like any other */
  n = client_frame(stream, WS_OP_TEXT, "a", 1);
  n += client_frame(stream + n, FIN | WS_OP_CLOSE, "\x03\xE9", 2);
  parse_every_way(&NO_LIMITS, stream, n, &ev);
  assert_string_equal(ev.log, "DC");
  assert_int_equal(ev.close_code, 1001);
}

/* The app's close: code and reason checked before anything is sent. */
static void test_7_outgoing_close_checks(void **state) {
  (void)state;
  const char *rule = NULL;
  assert_int_equal(ws_close_check_outgoing(1000, (const uint8_t *)"bye", 3, &rule), 0);
  assert_int_equal(ws_close_check_outgoing(4999, NULL, 0, &rule), 0);
  assert_int_equal(ws_close_check_outgoing(1005, NULL, 0, &rule), -1);
  assert_int_equal(ws_close_check_outgoing(1006, NULL, 0, &rule), -1);
  assert_int_equal(ws_close_check_outgoing(1015, NULL, 0, &rule), -1);
  assert_int_equal(ws_close_check_outgoing(2000, NULL, 0, &rule), -1);
  uint8_t reason[124];
  memset(reason, 'r', sizeof reason);
  assert_int_equal(ws_close_check_outgoing(1000, reason, 123, &rule), 0);
  assert_int_equal(ws_close_check_outgoing(1000, reason, 124, &rule), -1);
  assert_string_equal(rule, "close reason longer than 123 bytes");
  assert_int_equal(ws_close_check_outgoing(1000, (const uint8_t *)"\xC0\x80", 2, &rule), -1);
  assert_string_equal(rule, "close reason not valid UTF-8");
}

/* 9.x and the limits: checked on the header, before any payload byte arrives. */
static void test_9_limits_on_the_header(void **state) {
  (void)state;
  ws_frame_limits limits = {.max_frame_size = 1000, .max_message_size = 2500,
                            .max_fragments = 4};
  static uint8_t big[3000];
  /* a frame one byte over: refused with only its header fed */
  size_t n = client_frame(stream, FIN | WS_OP_BINARY, big, 1001);
  ws_parser p;
  ws_parser_init(&p, &limits);
  ws_parse_result r;
  assert_int_equal(ws_parser_feed(&p, stream, 8, &r), 8); /* 2 + 2 + 4 */
  assert_int_equal(r.event, WS_PARSE_ERROR);
  assert_int_equal(r.close_code, WS_CLOSE_TOO_BIG);
  assert_string_equal(r.rule, "frame larger than ws_max_frame_size");
  /* exactly at the limit: fine */
  n = client_frame(stream, FIN | WS_OP_BINARY, big, 1000);
  parse_every_way(&limits, stream, n, &ev);
  assert_int_equal(ev.messages, 1);
  /* the message across fragments */
  n = client_frame(stream, WS_OP_BINARY, big, 1000);
  n += client_frame(stream + n, WS_OP_CONTINUATION, big, 1000);
  n += client_frame(stream + n, FIN | WS_OP_CONTINUATION, big, 500);
  parse_every_way(&limits, stream, n, &ev);
  assert_int_equal(ev.messages, 1);
  n = client_frame(stream, WS_OP_BINARY, big, 1000);
  n += client_frame(stream + n, WS_OP_CONTINUATION, big, 1000);
  n += client_frame(stream + n, FIN | WS_OP_CONTINUATION, big, 501);
  parse(&limits, stream, n, NULL, 0, &ev);
  assert_string_equal(ev.log, "DDE"); /* the third frame's payload never reported */
  assert_string_equal(ev.rule, "message larger than ws_max_message_size");
  /* fragments: four are fine, a fifth (even empty) is not; a new message starts over */
  n = 0;
  for (int i = 0; i < 4; i++)
    n += client_frame(stream + n, (i ? WS_OP_CONTINUATION : WS_OP_TEXT) | (i == 3 ? FIN : 0),
                      "x", 1);
  n += client_frame(stream + n, FIN | WS_OP_TEXT, "y", 1);
  parse_every_way(&limits, stream, n, &ev);
  assert_int_equal(ev.messages, 2);
  n = 0;
  for (int i = 0; i < 5; i++)
    n += client_frame(stream + n, (i ? WS_OP_CONTINUATION : WS_OP_TEXT) | (i == 4 ? FIN : 0),
                      "", 0);
  parse_every_way(&limits, stream, n, &ev);
  assert_int_equal(ev.error_code, WS_CLOSE_TOO_BIG);
  assert_string_equal(ev.rule, "message in more frames than ws_max_fragments");
  /* control frames count toward none of these */
  n = client_frame(stream, FIN | WS_OP_PING, big, 125);
  ws_frame_limits tiny = {.max_frame_size = 10, .max_message_size = 10, .max_fragments = 1};
  parse_every_way(&tiny, stream, n, &ev);
  assert_int_equal(ev.controls, 1);
}

static void test_64_bit_length_and_masking(void **state) {
  (void)state;
  /* the most significant bit of a 64-bit length */
  uint8_t h[] = {FIN | WS_OP_BINARY, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4};
  parse_every_way(&NO_LIMITS, h, sizeof h, &ev);
  assert_int_equal(ev.error_code, WS_CLOSE_PROTOCOL_ERROR);
  assert_string_equal(ev.rule, "64-bit payload length with its most significant bit set");
  /* a huge but legal length is refused by the frame limit, on the header */
  h[2] = 0x7F;
  ws_frame_limits limits = {.max_frame_size = 1 << 20};
  parse_every_way(&limits, h, sizeof h, &ev);
  assert_int_equal(ev.error_code, WS_CLOSE_TOO_BIG);
  /* unmasked client frames, data and control */
  uint8_t unmasked[] = {FIN | WS_OP_TEXT, 2, 'h', 'i'};
  parse_every_way(&NO_LIMITS, unmasked, sizeof unmasked, &ev);
  assert_string_equal(ev.rule, "client frame not masked");
  uint8_t unmasked_ping[] = {FIN | WS_OP_PING, 0};
  parse_every_way(&NO_LIMITS, unmasked_ping, sizeof unmasked_ping, &ev);
  assert_int_equal(ev.error_code, WS_CLOSE_PROTOCOL_ERROR);
  /* masking at every offset agrees with the byte-wise definition */
  uint8_t data[40], expect[40];
  for (size_t off = 0; off < 8; off++) {
    for (size_t len = 0; len <= 33; len++) {
      for (size_t i = 0; i < len; i++) data[i] = expect[i] = (uint8_t)(i * 7 + 1);
      for (size_t i = 0; i < len; i++) expect[i] ^= KEY[(off + i) % 4];
      ws_mask(data, len, KEY, off);
      assert_memory_equal(data, expect, len);
    }
  }
}

static void test_writer(void **state) {
  (void)state;
  uint8_t out[WS_CONTROL_FRAME_MAX];
  static const struct {
    uint64_t len;
    size_t header;
  } lengths[] = {{0, 2}, {125, 2}, {126, 4}, {65535, 4}, {65536, 10}, {UINT64_C(1) << 32, 10}};
  for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
    uint8_t h[WS_FRAME_HEADER_MAX];
    size_t n = ws_frame_header_write(h, WS_OP_BINARY, 1, 0, lengths[i].len);
    assert_int_equal(n, lengths[i].header);
    assert_int_equal(h[0], FIN | WS_OP_BINARY);
    assert_int_equal(h[1] & 0x80, 0); /* server frames are never masked */
    uint64_t len = h[1] & 0x7F;
    if (n == 4) len = (uint64_t)h[2] << 8 | h[3];
    if (n == 10)
      for (size_t k = 2, l = (len = 0, 0); k < 10; k++, l++) len = len << 8 | h[k];
    assert_true(len == lengths[i].len);
  }
  uint8_t h[WS_FRAME_HEADER_MAX];
  ws_frame_header_write(h, WS_OP_TEXT, 0, 1, 5);
  assert_int_equal(h[0], RSV1 | WS_OP_TEXT);
  ws_frame_header_write(h, WS_OP_CONTINUATION, 1, 0, 5);
  assert_int_equal(h[0], FIN);

  assert_int_equal(ws_frame_close_write(out, WS_CLOSE_NO_STATUS, NULL, 0), 2);
  assert_memory_equal(out, "\x88\x00", 2);
  size_t n = ws_frame_close_write(out, 1001, (const uint8_t *)"bye", 3);
  assert_int_equal(n, 7);
  assert_memory_equal(out, "\x88\x05\x03\xE9" "bye", 7);
  /* a long reason is cut to 123 bytes, never inside a character */
  uint8_t reason[130];
  memset(reason, 'a', 122);
  memcpy(reason + 122, "\xE2\x82\xAC", 3); /* a 3-byte character across the limit */
  memset(reason + 125, 'b', 5);
  n = ws_frame_close_write(out, 1000, reason, sizeof reason);
  assert_int_equal(n, 2 + 2 + 122);
  assert_true(ws_utf8_valid(out + 4, n - 4));
  memset(reason, 'a', sizeof reason);
  n = ws_frame_close_write(out, 1000, reason, sizeof reason);
  assert_int_equal(n, 2 + 125);

  n = ws_frame_control_write(out, WS_OP_PONG, (const uint8_t *)"echo", 4);
  assert_memory_equal(out, "\x8A\x04" "echo", 6);
  assert_int_equal(n, 6);
  assert_int_equal(ws_frame_control_write(out, WS_OP_PING, NULL, 0), 2);
  assert_memory_equal(out, "\x89\x00", 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_1_every_length_encoding),
      cmocka_unit_test(test_1_spans_come_from_the_read),
      cmocka_unit_test(test_2_ping_pong),
      cmocka_unit_test(test_3_reserved_bits),
      cmocka_unit_test(test_4_reserved_opcodes),
      cmocka_unit_test(test_5_fragmentation),
      cmocka_unit_test(test_6_utf8_split_across_fragments),
      cmocka_unit_test(test_7_close_frames),
      cmocka_unit_test(test_7_outgoing_close_checks),
      cmocka_unit_test(test_9_limits_on_the_header),
      cmocka_unit_test(test_64_bit_length_and_masking),
      cmocka_unit_test(test_writer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
