/*
 * test_ws_deflate.c - permessage-deflate (RFC 7692): the negotiation (websockets' server
 * tables: window bits clamped to the configuration, client_max_window_bits named only when
 * offered, declined offers, malformed fields), the RFC's own compressed examples, context
 * takeover and its absence, compression bombs stopped at the limit without allocating past it
 * (Autobahn 12-13 at the codec level: many sizes, both window settings), and the memory the
 * zlib streams hold per connection for each window / memLevel pair.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>

#include "websocket/close_code.h"
#include "websocket/deflate.h"

#define H(value) {"sec-websocket-extensions", 24, value, sizeof value - 1}
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const ws_deflate_config CONFIG = {.enabled = 1, .window_bits = 12, .mem_level = 5,
                                         .level = -1};

static int negotiate(const ws_deflate_config *cfg, const asgid_header *h, size_t n,
                     ws_deflate_params *p, char *response) {
  const char *rule = NULL;
  int rc = ws_deflate_negotiate(cfg, h, n, p, response, &rule);
  if (rc < 0) assert_string_equal(rule, "malformed Sec-WebSocket-Extensions");
  return rc;
}

static void expect_response(const char *offer, const char *response) {
  asgid_header h = {"sec-websocket-extensions", 24, offer, strlen(offer)};
  ws_deflate_params p;
  char out[WS_DEFLATE_RESPONSE_MAX];
  int rc = negotiate(&CONFIG, &h, 1, &p, out);
  if (!response) {
    if (rc != 0) fail_msg("\"%s\" accepted as \"%s\"", offer, out);
    return;
  }
  if (rc != 1) fail_msg("\"%s\" not accepted (%d)", offer, rc);
  if (strcmp(out, response) != 0) fail_msg("\"%s\" -> \"%s\"", offer, out);
}

static void test_negotiation_tables(void **state) {
  (void)state;
  /* what Chromium and Firefox offer */
  expect_response("permessage-deflate; client_max_window_bits",
                  "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12");
  expect_response("permessage-deflate",
                  "permessage-deflate; server_max_window_bits=12");
  /* server_max_window_bits: a smaller request is honoured, a larger one clamped */
  expect_response("permessage-deflate; server_max_window_bits=10",
                  "permessage-deflate; server_max_window_bits=10");
  expect_response("permessage-deflate; server_max_window_bits=15",
                  "permessage-deflate; server_max_window_bits=12");
  expect_response("permessage-deflate; server_max_window_bits=9",
                  "permessage-deflate; server_max_window_bits=9");
  /* 8 cannot be honoured by zlib: declined, and the next offer taken */
  expect_response("permessage-deflate; server_max_window_bits=8", NULL);
  expect_response("permessage-deflate; server_max_window_bits=8, permessage-deflate",
                  "permessage-deflate; server_max_window_bits=12");
  /* client_max_window_bits: min(offer, ours) */
  expect_response("permessage-deflate; client_max_window_bits=10",
                  "permessage-deflate; server_max_window_bits=12; client_max_window_bits=10");
  expect_response("permessage-deflate; client_max_window_bits=15",
                  "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12");
  expect_response("permessage-deflate; client_max_window_bits=8",
                  "permessage-deflate; server_max_window_bits=12; client_max_window_bits=8");
  /* no context takeover, asked by the client */
  expect_response("permessage-deflate; server_no_context_takeover; client_no_context_takeover",
                  "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                  "server_max_window_bits=12");
  /* quoted values, OWS, any case for names */
  expect_response("Permessage-Deflate ;\tclient_max_window_bits = \"10\"",
                  "permessage-deflate; server_max_window_bits=12; client_max_window_bits=10");
  expect_response("permessage-deflate; client_max_window_bits=\"1\\0\"",
                  "permessage-deflate; server_max_window_bits=12; client_max_window_bits=10");
  /* declined: duplicates, unknown parameters, bad values, values where none belong */
  static const char *const declined[] = {
      "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
      "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
      "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
      "permessage-deflate; x-unknown",
      "permessage-deflate; server_max_window_bits",
      "permessage-deflate; server_max_window_bits=16",
      "permessage-deflate; server_max_window_bits=7",
      "permessage-deflate; server_max_window_bits=012",
      "permessage-deflate; client_max_window_bits=abc",
      "permessage-deflate; client_max_window_bits=\" 10\"",
      "permessage-deflate; server_no_context_takeover=1",
      "x-webkit-deflate-frame",
      "deflate-frame; server_max_window_bits=10",
  };
  for (size_t i = 0; i < COUNT(declined); i++) expect_response(declined[i], NULL);
  /* the first acceptable offer wins, across lines */
  const asgid_header lines[] = {H("x-webkit-deflate-frame, permessage-deflate; foo"),
                                H("permessage-deflate; server_max_window_bits=11"),
                                H("permessage-deflate")};
  ws_deflate_params p;
  char out[WS_DEFLATE_RESPONSE_MAX];
  assert_int_equal(negotiate(&CONFIG, lines, COUNT(lines), &p, out), 1);
  assert_string_equal(out, "permessage-deflate; server_max_window_bits=11");
  assert_int_equal(p.server_window_bits, 11);
  assert_int_equal(p.client_window_bits, 15); /* not offered: the client may use 15 */
}

static void test_configuration_side(void **state) {
  (void)state;
  ws_deflate_config cfg = CONFIG;
  cfg.server_no_context_takeover = 1;
  cfg.client_no_context_takeover = 1;
  cfg.window_bits = 15;
  const asgid_header h[] = {H("permessage-deflate; client_max_window_bits")};
  ws_deflate_params p;
  char out[WS_DEFLATE_RESPONSE_MAX];
  assert_int_equal(negotiate(&cfg, h, 1, &p, out), 1);
  assert_string_equal(out, "permessage-deflate; server_no_context_takeover; "
                           "client_no_context_takeover; server_max_window_bits=15; "
                           "client_max_window_bits=15");
  assert_true(strlen(out) < WS_DEFLATE_RESPONSE_MAX);
  assert_true(p.server_no_context_takeover && p.client_no_context_takeover);
  /* off: nothing accepted, but a malformed field is still refused */
  cfg.enabled = 0;
  assert_int_equal(negotiate(&cfg, h, 1, &p, out), 0);
  assert_string_equal(out, "");
  const asgid_header bad[] = {H("permessage-deflate;")};
  assert_int_equal(negotiate(&cfg, bad, 1, &p, out), -1);
}

static void test_malformed_fields(void **state) {
  (void)state;
  static const char *const malformed[] = {
      "permessage-deflate;", "permessage-deflate; =12", "permessage-deflate; a=",
      "permessage-deflate; a=\"unterminated", "permessage-deflate a", "=x",
      "permessage-deflate; a=b c", "permessage-deflate; a=\"x\"y", "permessage-deflate;;a",
      "per message", "permessage-deflate; a=\"\\", "\"quoted\"",
  };
  for (size_t i = 0; i < COUNT(malformed); i++) {
    asgid_header h = {"sec-websocket-extensions", 24, malformed[i], strlen(malformed[i])};
    ws_deflate_params p;
    char out[WS_DEFLATE_RESPONSE_MAX];
    if (negotiate(&CONFIG, &h, 1, &p, out) != -1) fail_msg("\"%s\" parsed", malformed[i]);
  }
  /* empty list elements are allowed */
  const asgid_header ok[] = {H(" , permessage-deflate ,, ")};
  ws_deflate_params p;
  char out[WS_DEFLATE_RESPONSE_MAX];
  assert_int_equal(negotiate(&CONFIG, ok, 1, &p, out), 1);
}

/* ---------------------------------------------------------------- streams */

static ws_deflate_params params(int server_bits, int client_bits, int server_nct, int client_nct) {
  return (ws_deflate_params){.server_window_bits = (uint8_t)server_bits,
                             .client_window_bits = (uint8_t)client_bits,
                             .server_no_context_takeover = (uint8_t)server_nct,
                             .client_no_context_takeover = (uint8_t)client_nct};
}

/* Inflates one whole message fed in pieces of `piece` bytes (0: whole). */
static int inflate_message(ws_deflate *d, const uint8_t *in, size_t len, size_t piece,
                           ws_buffer *out, uint64_t limit) {
  const char *rule = NULL;
  out->len = 0;
  if (piece == 0) piece = len ? len : 1;
  size_t at = 0;
  do {
    size_t n = len - at < piece ? len - at : piece;
    int rc = ws_inflate(d, in + at, n, at + n == len, out, limit, &rule);
    if (rc) {
      assert_non_null(rule);
      return rc;
    }
    at += n;
  } while (at < len);
  return 0;
}

static void test_the_rfc_7692_examples(void **state) {
  (void)state;
  static const struct {
    const char *bytes;
    size_t len;
  } hello[] = {
      {"\xf2\x48\xcd\xc9\xc9\x07\x00", 7},                              /* §7.2.3.1 */
      {"\x00\x05\x00\xfa\xff\x48\x65\x6c\x6c\x6f\x00", 11},             /* §7.2.3.3 stored */
      {"\xf3\x48\xcd\xc9\xc9\x07\x00\x00", 8},                          /* §7.2.3.4 BFINAL */
      {"\xf2\x48\x05\x00\x00\x00\xff\xff\xca\xc9\xc9\x07\x00", 13},     /* §7.2.3.5 two blocks */
  };
  ws_deflate_config cfg = CONFIG;
  for (size_t i = 0; i < COUNT(hello); i++) {
    for (size_t piece = 0; piece <= 1; piece++) {
      ws_deflate d;
      ws_deflate_params p = params(15, 15, 0, 0);
      ws_deflate_init(&d, &p, &cfg);
      ws_buffer out = {0};
      /* twice: after a final block the stream starts afresh for the next message */
      for (int round = 0; round < 2; round++) {
        assert_int_equal(inflate_message(&d, (const uint8_t *)hello[i].bytes, hello[i].len,
                                         piece, &out, 0), 0);
        assert_int_equal(out.len, 5);
        assert_memory_equal(out.data, "Hello", 5);
      }
      ws_buffer_free(&out);
      ws_deflate_free(&d);
      assert_int_equal(d.zlib_bytes, 0);
    }
  }
  /* §7.2.3.2: the second "Hello" refers back into the first one's window */
  ws_deflate d;
  ws_deflate_params p = params(15, 15, 0, 0);
  ws_deflate_init(&d, &p, &cfg);
  ws_buffer out = {0};
  assert_int_equal(inflate_message(&d, (const uint8_t *)"\xf2\x48\xcd\xc9\xc9\x07\x00", 7, 0, &out, 0), 0);
  assert_int_equal(inflate_message(&d, (const uint8_t *)"\xf2\x00\x11\x00\x00", 5, 0, &out, 0), 0);
  assert_memory_equal(out.data, "Hello", 5);
  /* §7.2.3.6: an empty message */
  assert_int_equal(inflate_message(&d, (const uint8_t *)"\x00", 1, 0, &out, 0), 0);
  assert_int_equal(out.len, 0);
  /* not deflate data at all */
  assert_int_equal(inflate_message(&d, (const uint8_t *)"\xff\xff\xff\xff", 4, 0, &out, 0),
                   WS_CLOSE_INVALID_PAYLOAD);
  ws_buffer_free(&out);
  ws_deflate_free(&d);

  /* our compressor writes the RFC's bytes for the first "Hello" and for an empty message */
  ws_deflate_params sp = params(15, 15, 0, 0);
  cfg.mem_level = 8;
  ws_deflate_init(&d, &sp, &cfg);
  assert_int_equal(ws_deflate_message(&d, (const uint8_t *)"Hello", 5, &out), 0);
  assert_int_equal(out.len, 7);
  assert_memory_equal(out.data, "\xf2\x48\xcd\xc9\xc9\x07\x00", 7);
  assert_int_equal(ws_deflate_message(&d, (const uint8_t *)"Hello", 5, &out), 0);
  assert_int_equal(out.len, 5);
  assert_memory_equal(out.data, "\xf2\x00\x11\x00\x00", 5);
  assert_int_equal(ws_deflate_message(&d, NULL, 0, &out), 0);
  assert_int_equal(out.len, 1);
  assert_int_equal(out.data[0], 0x00);
  ws_buffer_free(&out);
  ws_deflate_free(&d);
}

/* A message of `len` bytes: JSON-like text, compressible but not trivially. */
static void fill_message(uint8_t *m, size_t len, unsigned seed) {
  static const char *const words[] = {"{\"symbol\":", "\"price\":", "\"ts\":", "\"EURUSD\"",
                                      "1.0842", "17333", ",", "}", "[", "]"};
  size_t at = 0;
  while (at < len) {
    seed = seed * 1103515245u + 12345u;
    const char *w = words[(seed >> 16) % COUNT(words)];
    for (size_t i = 0; w[i] && at < len; i++) m[at++] = (uint8_t)w[i];
  }
}

/* Our compressor's output, inflated by an inflater with the same window, for each window and
 * takeover mode, whole and in pieces: Autobahn 12.x/13.x round trips at the codec level. */
static void test_round_trips(void **state) {
  (void)state;
  static const size_t sizes[] = {0, 1, 16, 64, 256, 1024, 4096, 8192, 16384, 65536, 131072};
  static uint8_t message[131072];
  static const int windows[] = {9, 12, 15};
  for (size_t w = 0; w < COUNT(windows); w++) {
    for (int nct = 0; nct <= 1; nct++) {
      ws_deflate_params p = params(windows[w], windows[w], nct, nct);
      ws_deflate server, client;
      ws_deflate_init(&server, &p, &CONFIG);
      ws_deflate_init(&client, &p, &CONFIG);
      ws_buffer packed = {0}, unpacked = {0};
      for (size_t round = 0; round < 2; round++) {
        for (size_t s = 0; s < COUNT(sizes); s++) {
          fill_message(message, sizes[s], (unsigned)s);
          assert_int_equal(ws_deflate_message(&server, message, sizes[s], &packed), 0);
          if (s == 3) { /* 64 bytes: within reach of even a 9-bit window */
            /* the same message right after: with context takeover it compresses to far less */
            size_t first_size = packed.len;
            assert_int_equal(inflate_message(&client, packed.data, packed.len, 0, &unpacked, 0), 0);
            assert_int_equal(ws_deflate_message(&server, message, sizes[s], &packed), 0);
            if (nct) assert_int_equal(packed.len, first_size);
            else assert_true(packed.len < first_size / 2);
          }
          size_t piece = round ? 7 : 0;
          assert_int_equal(inflate_message(&client, packed.data, packed.len, piece, &unpacked, 0), 0);
          assert_int_equal(unpacked.len, sizes[s]);
          if (sizes[s]) assert_memory_equal(unpacked.data, message, sizes[s]);
          if (nct) { /* nothing kept between messages */
            assert_null(server.deflater);
            assert_null(client.inflater);
            assert_int_equal(server.zlib_bytes + client.zlib_bytes, 0);
          }
        }
      }
      ws_buffer_free(&packed);
      ws_buffer_free(&unpacked);
      ws_deflate_free(&server);
      ws_deflate_free(&client);
      assert_int_equal(server.zlib_bytes + client.zlib_bytes, 0);
    }
  }
}

/* Compresses `len` zeros as a client would (raw deflate, sync flush, tail removed). */
static uint8_t *zeros_compressed(size_t len, int window, size_t *packed_len) {
  z_stream zs = {0};
  assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, -window, 8, Z_DEFAULT_STRATEGY), Z_OK);
  uint8_t *zeros = calloc(1, len);
  size_t cap = len / 500 + 1024;
  uint8_t *out = malloc(cap);
  zs.next_in = zeros;
  zs.avail_in = (uInt)len;
  zs.next_out = out;
  zs.avail_out = (uInt)cap;
  assert_int_equal(deflate(&zs, Z_SYNC_FLUSH), Z_OK);
  assert_true(zs.avail_out > 0);
  *packed_len = cap - zs.avail_out - 4;
  deflateEnd(&zs);
  free(zeros);
  return out;
}

static void test_compression_bomb_stops_at_the_limit(void **state) {
  (void)state;
  size_t packed_len;
  uint8_t *bomb = zeros_compressed((size_t)64 << 20, 15, &packed_len);
  assert_true(packed_len < 70000); /* 64 MiB in ~64 KiB: a 1000:1 ratio */
  static const uint64_t limits[] = {1 << 20, 16 << 20, 1000};
  for (size_t i = 0; i < COUNT(limits); i++) {
    for (size_t piece = 0; piece <= 4096; piece += 4096) {
      ws_deflate d;
      ws_deflate_params p = params(12, 15, 0, 0);
      ws_deflate_init(&d, &p, &CONFIG);
      ws_buffer out = {0};
      assert_int_equal(inflate_message(&d, bomb, packed_len, piece, &out, limits[i]),
                       WS_CLOSE_TOO_BIG);
      /* filled to the limit exactly, never allocated past it */
      assert_int_equal(out.len, limits[i]);
      assert_true(out.cap <= limits[i]);
      assert_true(d.zlib_bytes < 64 * 1024);
      ws_buffer_free(&out);
      ws_deflate_free(&d);
    }
  }
  free(bomb);
  /* exactly at the limit is fine, one byte less is not */
  bomb = zeros_compressed(100000, 12, &packed_len);
  ws_deflate d;
  ws_deflate_params p = params(12, 12, 0, 1);
  ws_deflate_init(&d, &p, &CONFIG);
  ws_buffer out = {0};
  assert_int_equal(inflate_message(&d, bomb, packed_len, 0, &out, 100000), 0);
  assert_int_equal(out.len, 100000);
  ws_buffer_free(&out);
  assert_int_equal(inflate_message(&d, bomb, packed_len, 0, &out, 99999), WS_CLOSE_TOO_BIG);
  assert_true(out.cap <= 99999);
  ws_buffer_free(&out);
  ws_deflate_free(&d);
  free(bomb);
}

/* The memory the zlib streams of one connection hold once a message went each way (what an
 * idle connection with context takeover keeps). */
static size_t connection_memory(int window, int mem_level, int client_window, size_t *deflate_part) {
  ws_deflate_config cfg = {.enabled = 1, .window_bits = window, .mem_level = mem_level, .level = -1};
  ws_deflate_params p = params(window, client_window, 0, 0);
  ws_deflate d;
  ws_deflate_init(&d, &p, &cfg);
  assert_int_equal(d.zlib_bytes, 0); /* nothing before the first compressed message */
  static uint8_t message[4096];
  fill_message(message, sizeof message, 1);
  ws_buffer packed = {0}, unpacked = {0};
  assert_int_equal(ws_deflate_message(&d, message, sizeof message, &packed), 0);
  *deflate_part = d.zlib_bytes;
  ws_deflate client;
  ws_deflate_params cp = params(client_window, client_window, 0, 0);
  ws_deflate_init(&client, &cp, &cfg);
  ws_buffer from_client = {0};
  assert_int_equal(ws_deflate_message(&client, message, sizeof message, &from_client), 0);
  assert_int_equal(inflate_message(&d, from_client.data, from_client.len, 0, &unpacked, 0), 0);
  size_t total = d.zlib_bytes;
  ws_buffer_free(&packed);
  ws_buffer_free(&unpacked);
  ws_buffer_free(&from_client);
  ws_deflate_free(&client);
  ws_deflate_free(&d);
  return total;
}

static void test_memory_per_connection(void **state) {
  (void)state;
  static const int pairs[][3] = {{15, 8, 15}, {14, 7, 14}, {13, 6, 13}, {12, 5, 12},
                                 {12, 5, 15}, {11, 4, 11}, {9, 1, 9}};
  size_t default_total = 0, zlib_default_total = 0;
  for (size_t i = 0; i < COUNT(pairs); i++) {
    size_t deflate_part;
    size_t total = connection_memory(pairs[i][0], pairs[i][1], pairs[i][2], &deflate_part);
    /* Formatted here: cmocka declares print_message with the printf archetype, which
     * MinGW's GCC checks against msvcrt's formats (no %zu). */
    char line[160];
    snprintf(line, sizeof line, "window %d, memLevel %d, client window %d: deflate %zu, "
             "inflate %zu, total %zu bytes (%.1f KiB)", pairs[i][0], pairs[i][1], pairs[i][2],
             deflate_part, total - deflate_part, total, total / 1024.0);
    print_message("%s\n", line);
    if (pairs[i][0] == 12 && pairs[i][2] == 12) default_total = total;
    if (pairs[i][0] == 15) zlib_default_total = total;
  }
  /* the default (12/5, the client's window 12 when it offers client_max_window_bits, as
   * browsers do) within the 64 KiB per connection; zlib's defaults far beyond it */
  assert_true(default_total <= 64 * 1024);
  assert_true(zlib_default_total > 256 * 1024);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_negotiation_tables),
      cmocka_unit_test(test_configuration_side),
      cmocka_unit_test(test_malformed_fields),
      cmocka_unit_test(test_the_rfc_7692_examples),
      cmocka_unit_test(test_round_trips),
      cmocka_unit_test(test_compression_bomb_stops_at_the_limit),
      cmocka_unit_test(test_memory_per_connection),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
