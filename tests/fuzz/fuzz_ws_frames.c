/*
 * fuzz_ws_frames.c - the path of a client's WebSocket bytes through the codecs, as the
 * session drives it: frame parser (src/websocket/frame.c) -> message assembly with inflating
 * and UTF-8 checks (message.c, deflate.c, utf8.c), in reads the fuzzer cuts (fuzz_reads.h).
 *
 * Input layout: byte 0 configures the connection: bit 0 permessage-deflate agreed, bit 1
 * client_no_context_takeover, bits 2-3 one of four sets of limits, bits 4-6 the client's
 * window bits (8 + value); the rest is fuzz_reads' layout (read lengths, then the stream).
 *
 * Checked beyond "no crash": consumed <= fed, and all of it when the parser asks for more; a
 * span lies in the bytes just consumed; controls are at most 125 bytes, a close's code may be
 * received and its reason is UTF-8; every text message is valid UTF-8 and no message, nor
 * its buffer, exceeds the limit; errors carry a close code the rules allow and a printable
 * rule; the outcome (messages, controls, first error) does not depend on where the reads
 * were cut: the stream is parsed again in one read and must give the same; each message
 * survives the writer (framed, masked, parsed back) and, with deflate, compression.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_reads.h"
#include "websocket/close_code.h"
#include "websocket/deflate.h"
#include "websocket/frame.h"
#include "websocket/message.h"
#include "websocket/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);

static const ws_frame_limits LIMIT_SETS[4] = {
    {.max_frame_size = 1024, .max_message_size = 4096, .max_fragments = 8},
    {.max_frame_size = 65536, .max_message_size = 65536, .max_fragments = 1000},
    {.max_frame_size = 125, .max_message_size = 300, .max_fragments = 3},
    {.max_frame_size = 0, .max_message_size = 1 << 20, .max_fragments = 0},
};

static const ws_deflate_config DEFLATE = {.enabled = 1, .window_bits = 12, .mem_level = 5,
                                          .level = -1};

/* What a run saw, as a digest that does not depend on the reads. */
typedef struct outcome {
  uint64_t digest;
  uint64_t digests[64]; /* the digest after each of the first 64 messages and controls */
  size_t events;
  size_t messages, controls;
  int parser_error;    /* the parser's close code, or 0 */
  int assembly_error;  /* the assembler's close code, or 0 */
} outcome;

static uint64_t mix(uint64_t h, const uint8_t *data, size_t len) {
  for (size_t i = 0; i < len; i++) h = (h ^ data[i]) * 1099511628211u;
  return h;
}

static uint64_t mix_number(uint64_t h, uint64_t n) {
  uint8_t bytes[8];
  memcpy(bytes, &n, 8);
  return mix(h, bytes, 8);
}

static void check_rule(const char *rule) {
  FUZZ_CHECK(rule != NULL && rule[0] != '\0');
  for (const char *c = rule; *c; c++) FUZZ_CHECK(*c >= 0x20 && *c < 0x7F);
}

/* The writer and the parser agree on a message: framed as a client would (masked), it parses
 * back to the same opcode and bytes in one DATA event. */
static void check_writer(const ws_message *m) {
  if (m->len > 4096) return;
  static uint8_t frame[WS_FRAME_HEADER_MAX + 4 + 4096];
  static const uint8_t key[4] = {0xA5, 0x5A, 0x0F, 0xF0};
  size_t n = ws_frame_header_write(frame, m->opcode, 1, 0, m->len);
  frame[1] |= 0x80;
  memcpy(frame + n, key, 4);
  if (m->len) memcpy(frame + n + 4, m->data, m->len);
  ws_mask(frame + n + 4, m->len, key, 0);
  ws_frame_limits none = {0};
  ws_parser p;
  ws_parser_init(&p, &none);
  ws_parse_result r;
  size_t used = ws_parser_feed(&p, frame, n + 4 + m->len, &r);
  FUZZ_CHECK(used == n + 4 + m->len);
  FUZZ_CHECK(r.event == WS_PARSE_DATA && r.message_begin && r.message_end);
  FUZZ_CHECK(r.opcode == m->opcode && r.len == m->len);
  FUZZ_CHECK(m->len == 0 || memcmp(r.data, m->data, m->len) == 0);
}

/* Our compressor's output inflates back to the message (a client's inflater, same window). */
static void check_compression(ws_deflate *server, ws_deflate *client, const ws_message *m) {
  if (m->len > 4096) return;
  ws_buffer packed = {0}, unpacked = {0};
  FUZZ_CHECK(ws_deflate_message(server, m->data, m->len, &packed) == 0);
  const char *rule = NULL;
  FUZZ_CHECK(ws_inflate(client, packed.data, packed.len, 1, &unpacked, 0, &rule) == 0);
  FUZZ_CHECK(unpacked.len == m->len);
  FUZZ_CHECK(m->len == 0 || memcmp(unpacked.data, m->data, m->len) == 0);
  ws_buffer_free(&packed);
  ws_buffer_free(&unpacked);
}

static void run(uint8_t config, const uint8_t *reads_input, size_t reads_size, int whole,
                outcome *o) {
  memset(o, 0, sizeof *o);
  o->digest = 14695981039346656037u;
  ws_frame_limits limits = LIMIT_SETS[(config >> 2) & 3];
  limits.deflate = config & 1;
  uint64_t max_size = limits.max_message_size;
  ws_deflate_params params = {.client_no_context_takeover = (config >> 1) & 1,
                              .server_window_bits = 12,
                              .client_window_bits = (uint8_t)(8 + ((config >> 4) & 7))};
  ws_deflate deflate, echo_server, echo_client;
  ws_deflate_init(&deflate, &params, &DEFLATE);
  ws_deflate_params echo = {.server_window_bits = 12, .client_window_bits = 12};
  ws_deflate_init(&echo_server, &echo, &DEFLATE);
  ws_deflate_init(&echo_client, &echo, &DEFLATE);
  ws_parser p;
  ws_parser_init(&p, &limits);
  ws_message m = {0};

  fuzz_reads reads;
  fuzz_reads_init(&reads, reads_input, reads_size);
  /* the parser unmasks in place: it works on a copy */
  uint8_t *stream = malloc(reads.size ? reads.size : 1);
  if (reads.size) memcpy(stream, reads.stream, reads.size);
  size_t at = 0;
  while (at < reads.size && !o->parser_error && !o->assembly_error) {
    size_t n = whole ? reads.size : fuzz_reads_next(&reads);
    uint8_t *chunk = stream + at;
    size_t used = 0;
    while (used < n) {
      ws_parse_result r;
      size_t got = ws_parser_feed(&p, chunk + used, n - used, &r);
      FUZZ_CHECK(got <= n - used);
      if (r.event == WS_PARSE_MORE) {
        FUZZ_CHECK(got == n - used);
      } else if (r.event != WS_PARSE_ERROR) {
        FUZZ_CHECK(got > 0); /* no event without progress */
      }
      used += got;
      if (r.event == WS_PARSE_ERROR) {
        FUZZ_CHECK(r.close_code == WS_CLOSE_PROTOCOL_ERROR || r.close_code == WS_CLOSE_TOO_BIG ||
                   r.close_code == WS_CLOSE_INVALID_PAYLOAD);
        check_rule(r.rule);
        ws_parse_result again;
        FUZZ_CHECK(ws_parser_feed(&p, chunk, n, &again) == 0);
        FUZZ_CHECK(again.event == WS_PARSE_ERROR && again.close_code == r.close_code);
        o->parser_error = r.close_code;
        o->digest = mix_number(o->digest, r.close_code);
        break;
      }
      if (r.event == WS_PARSE_CONTROL) {
        FUZZ_CHECK(r.opcode == WS_OP_CLOSE || r.opcode == WS_OP_PING || r.opcode == WS_OP_PONG);
        FUZZ_CHECK(r.len <= WS_CONTROL_PAYLOAD_MAX);
        if (r.opcode == WS_OP_CLOSE) {
          FUZZ_CHECK(r.close_code == WS_CLOSE_NO_STATUS || ws_close_code_receivable(r.close_code));
          FUZZ_CHECK(r.len <= WS_CLOSE_REASON_MAX && ws_utf8_valid(r.data, r.len));
          /* the close the server answers with is one the parser accepts */
          uint8_t close[WS_CONTROL_FRAME_MAX];
          size_t close_len = ws_frame_close_write(close, r.close_code, r.data, r.len);
          FUZZ_CHECK(close_len == (r.close_code == WS_CLOSE_NO_STATUS ? 2 : 4 + r.len));
        }
        o->controls++;
        o->digest = mix_number(o->digest, r.opcode);
        o->digest = mix(o->digest, r.data, r.len);
        if (o->events < 64) o->digests[o->events++] = o->digest;
        continue;
      }
      if (r.event != WS_PARSE_DATA) continue;
      FUZZ_CHECK(r.data >= chunk && r.data + r.len <= chunk + used);
      FUZZ_CHECK(r.opcode == WS_OP_TEXT || r.opcode == WS_OP_BINARY);
      FUZZ_CHECK(!r.compressed || limits.deflate);
      const char *rule = NULL;
      int rc = ws_message_add(&m, limits.deflate ? &deflate : NULL, max_size, &r, &rule);
      FUZZ_CHECK(!max_size || m.buffer.cap <= max_size);
      FUZZ_CHECK(deflate.zlib_bytes < 128 * 1024);
      if (rc) {
        FUZZ_CHECK(rc == WS_CLOSE_INVALID_PAYLOAD || rc == WS_CLOSE_TOO_BIG);
        check_rule(rule);
        o->assembly_error = rc;
        break;
      }
      if (!m.complete) continue;
      FUZZ_CHECK(!max_size || m.len <= max_size);
      FUZZ_CHECK(m.opcode != WS_OP_TEXT || ws_utf8_valid(m.data, m.len));
      o->messages++;
      o->digest = mix_number(o->digest, m.opcode);
      o->digest = mix_number(o->digest, m.len);
      if (m.len) o->digest = mix(o->digest, m.data, m.len);
      if (o->events < 64) o->digests[o->events++] = o->digest;
      check_writer(&m);
      if (limits.deflate) check_compression(&echo_server, &echo_client, &m);
      ws_message_reset(&m);
    }
    at += n;
  }
  ws_message_reset(&m);
  ws_deflate_free(&deflate);
  ws_deflate_free(&echo_server);
  ws_deflate_free(&echo_client);
  FUZZ_CHECK(deflate.zlib_bytes == 0);
  free(stream);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size) {
  if (size == 0) return 0;
  outcome split, whole;
  run(input[0], input + 1, size - 1, 0, &split);
  run(input[0], input + 1, size - 1, 1, &whole);
  /* The outcome does not depend on the reads, with two exceptions that come from zlib. Which
   * of two faults in one compressed message is found first (bad data, too big once inflated,
   * bad UTF-8) may; and zlib checks a back-reference against the window only for output of
   * earlier inflate() calls, so one that reaches too far back can fail when the message is
   * inflated in pieces and pass when whole. Where a compressed message failed in either run,
   * only what both delivered before it is compared. */
  if ((input[0] & 1) && (split.assembly_error || whole.assembly_error)) {
    size_t common = split.events < whole.events ? split.events : whole.events;
    FUZZ_CHECK(common == 0 || split.digests[common - 1] == whole.digests[common - 1]);
    return 0;
  }
  FUZZ_CHECK(split.messages == whole.messages && split.controls == whole.controls);
  FUZZ_CHECK(split.parser_error == whole.parser_error);
  FUZZ_CHECK(split.assembly_error == whole.assembly_error);
  FUZZ_CHECK(split.digest == whole.digest);
  return 0;
}
