/*
 * test_ws_handshake.c - the opening handshake (RFC 6455 §4.2): which requests are plain HTTP,
 * which are valid WebSocket handshakes and which are refused with what status; the accept
 * key (the RFC's own example); subprotocols split across lines; the 101 response's bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "websocket/handshake.h"

#define H(name, value) {name, sizeof name - 1, value, sizeof value - 1}
#define KEY H("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
#define VERSION H("sec-websocket-version", "13")
#define UPGRADE H("upgrade", "websocket")
#define CONNECTION H("connection", "Upgrade")
#define HOST H("host", "server.example.com")
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const ws_deflate_config DEFLATE = {.enabled = 1, .window_bits = 12, .mem_level = 5,
                                          .level = -1};

static ws_handshake check(const asgid_header *headers, size_t count) {
  ws_handshake_request req = {.method = "GET", .method_len = 3, .http_minor = 1,
                              .headers = headers, .header_count = count};
  ws_handshake hs;
  ws_handshake_check(&req, &DEFLATE, &hs);
  return hs;
}

static void test_the_rfc_example_is_accepted(void **state) {
  (void)state;
  const asgid_header h[] = {HOST, UPGRADE, CONNECTION, KEY, H("origin", "http://example.com"),
                            H("sec-websocket-protocol", "chat, superchat"), VERSION};
  ws_handshake hs = check(h, COUNT(h));
  assert_int_equal(hs.upgrade, WS_UPGRADE_VALID);
  assert_null(hs.rule);
  assert_string_equal(hs.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); /* RFC 6455 §1.3 */
  assert_false(hs.deflate);
}

static void test_tokens_match_in_lists_across_lines_in_any_case(void **state) {
  (void)state;
  const asgid_header h[] = {H("upgrade", "h2c, WebSocket"), H("connection", "keep-alive"),
                            H("connection", "close ,  UPGRADE"), KEY, VERSION};
  assert_int_equal(check(h, COUNT(h)).upgrade, WS_UPGRADE_VALID);
  const asgid_header h2[] = {H("upgrade", "websocket2"), H("connection", "upgrade"), KEY, VERSION};
  assert_int_equal(check(h2, COUNT(h2)).upgrade, WS_UPGRADE_NONE);
  const asgid_header h3[] = {UPGRADE, H("connection", "upgraded, keep-alive"), KEY, VERSION};
  ws_handshake hs = check(h3, COUNT(h3));
  assert_int_equal(hs.upgrade, WS_UPGRADE_NONE);
  assert_non_null(hs.rule); /* asked for WebSocket: worth a log line */
}

static void test_requests_that_do_not_qualify_are_plain_http(void **state) {
  (void)state;
  const asgid_header plain[] = {HOST, H("connection", "keep-alive")};
  ws_handshake hs = check(plain, COUNT(plain));
  assert_int_equal(hs.upgrade, WS_UPGRADE_NONE);
  assert_null(hs.rule); /* an ordinary request: nothing to log */

  const asgid_header h[] = {UPGRADE, CONNECTION, KEY, VERSION};
  ws_handshake_request post = {.method = "POST", .method_len = 4, .http_minor = 1,
                               .has_body = 1, .headers = h, .header_count = COUNT(h)};
  ws_handshake_check(&post, &DEFLATE, &hs);
  assert_int_equal(hs.upgrade, WS_UPGRADE_NONE);
  assert_string_equal(hs.rule, "Upgrade: websocket on a method other than GET; served as plain HTTP");
  ws_handshake_request get_body = {.method = "GET", .method_len = 3, .http_minor = 1,
                                   .has_body = 1, .headers = h, .header_count = COUNT(h)};
  ws_handshake_check(&get_body, &DEFLATE, &hs);
  assert_int_equal(hs.upgrade, WS_UPGRADE_NONE);
  ws_handshake_request http10 = {.method = "GET", .method_len = 3, .http_minor = 0,
                                 .headers = h, .header_count = COUNT(h)};
  ws_handshake_check(&http10, &DEFLATE, &hs);
  assert_int_equal(hs.upgrade, WS_UPGRADE_NONE);
  ws_handshake_request gets = {.method = "GETS", .method_len = 4, .http_minor = 1,
                               .headers = h, .header_count = COUNT(h)};
  ws_handshake_check(&gets, &DEFLATE, &hs);
  assert_int_equal(hs.upgrade, WS_UPGRADE_NONE);
  const asgid_header no_connection[] = {UPGRADE, KEY, VERSION};
  hs = check(no_connection, COUNT(no_connection));
  assert_int_equal(hs.upgrade, WS_UPGRADE_NONE);
  assert_non_null(hs.rule);
}

static void test_version_other_than_13_gets_426(void **state) {
  (void)state;
  const asgid_header missing[] = {UPGRADE, CONNECTION, KEY};
  ws_handshake hs = check(missing, COUNT(missing));
  assert_int_equal(hs.upgrade, WS_UPGRADE_REFUSED);
  assert_int_equal(hs.status, 426);
  assert_string_equal(hs.rule, "Sec-WebSocket-Version is not 13");
  static const char *const bad[] = {"8", "12", "13, 8", "013", ""};
  for (size_t i = 0; i < COUNT(bad); i++) {
    asgid_header h[] = {UPGRADE, CONNECTION, KEY, {"sec-websocket-version", 21, bad[i], strlen(bad[i])}};
    hs = check(h, COUNT(h));
    assert_int_equal(hs.status, 426);
  }
  const asgid_header twice[] = {UPGRADE, CONNECTION, KEY, VERSION, VERSION};
  assert_int_equal(check(twice, COUNT(twice)).status, 426);
}

static void test_key_must_be_16_bytes_in_base64(void **state) {
  (void)state;
  const asgid_header missing[] = {UPGRADE, CONNECTION, VERSION};
  ws_handshake hs = check(missing, COUNT(missing));
  assert_int_equal(hs.upgrade, WS_UPGRADE_REFUSED);
  assert_int_equal(hs.status, 400);
  assert_string_equal(hs.rule, "no Sec-WebSocket-Key");
  const asgid_header twice[] = {UPGRADE, CONNECTION, VERSION, KEY, KEY};
  assert_int_equal(check(twice, COUNT(twice)).status, 400);
  static const char *const bad[] = {
      "AAAAAAAAAAAAAAAAAAAA",          /* 15 bytes */
      "AAAAAAAAAAAAAAAAAAAAAAAA",      /* 18 bytes, no padding */
      "AAAAAAAAAAAAAAAAAAAAAAA=",      /* 17 bytes */
      "AAAAAAAAAAAAAAAAAAAAAAAAAA==",  /* 19 bytes */
      "AAAAAAAAAAAAAAAAAAAA!!==",      /* not base64 */
      "AAAAAAAAAA AAAAAAAAAAA==",      /* a space inside */
      " AAAAAAAAAAAAAAAAAAAAA==",      /* 24 characters with a leading space */
      "",
  };
  for (size_t i = 0; i < COUNT(bad); i++) {
    asgid_header h[] = {UPGRADE, CONNECTION, VERSION, {"sec-websocket-key", 17, bad[i], strlen(bad[i])}};
    hs = check(h, COUNT(h));
    if (hs.status != 400) fail_msg("key \"%s\" accepted", bad[i]);
    assert_string_equal(hs.rule, "Sec-WebSocket-Key is not 16 bytes in base64");
  }
  const asgid_header good[] = {UPGRADE, CONNECTION, VERSION, H("sec-websocket-key", "x3JJHMbDL1EzLkh9GBhXDw==")};
  hs = check(good, COUNT(good));
  assert_int_equal(hs.upgrade, WS_UPGRADE_VALID);
  assert_string_equal(hs.accept, "HSmrc0sMlYUkAGmm5OPpG2HaGWk="); /* a second well-known pair */
}

static void test_subprotocols_split_across_lines(void **state) {
  (void)state;
  const asgid_header h[] = {UPGRADE, CONNECTION, KEY, VERSION,
                            H("sec-websocket-protocol", "chat,  superchat "),
                            H("sec-websocket-protocol", " , v2.bokeh,Token"), HOST};
  ws_handshake_request req = {.method = "GET", .method_len = 3, .http_minor = 1, .headers = h,
                              .header_count = COUNT(h)};
  ws_handshake hs;
  ws_handshake_check(&req, &DEFLATE, &hs);
  assert_int_equal(hs.upgrade, WS_UPGRADE_VALID);
  char **list;
  size_t count;
  assert_int_equal(ws_handshake_subprotocols(&req, &list, &count), 0);
  assert_int_equal(count, 4);
  assert_string_equal(list[0], "chat");
  assert_string_equal(list[1], "superchat");
  assert_string_equal(list[2], "v2.bokeh");
  assert_string_equal(list[3], "Token");
  free(list);
  req.header_count = 4;
  assert_int_equal(ws_handshake_subprotocols(&req, &list, &count), 0);
  assert_int_equal(count, 0);
  assert_null(list);

  static const char *const bad[] = {"chat superchat", "chat;v=1", "\"chat\"", "a/b"};
  for (size_t i = 0; i < COUNT(bad); i++) {
    asgid_header b[] = {UPGRADE, CONNECTION, KEY, VERSION,
                        {"sec-websocket-protocol", 22, bad[i], strlen(bad[i])}};
    hs = check(b, COUNT(b));
    assert_int_equal(hs.status, 400);
    assert_string_equal(hs.rule, "Sec-WebSocket-Protocol is not a list of tokens");
  }
}

static void test_extensions_negotiated_or_refused(void **state) {
  (void)state;
  const asgid_header chromium[] = {UPGRADE, CONNECTION, KEY, VERSION,
                                   H("sec-websocket-extensions", "permessage-deflate; client_max_window_bits")};
  ws_handshake hs = check(chromium, COUNT(chromium));
  assert_int_equal(hs.upgrade, WS_UPGRADE_VALID);
  assert_true(hs.deflate);
  assert_string_equal(hs.extensions,
                      "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12");
  const asgid_header malformed[] = {UPGRADE, CONNECTION, KEY, VERSION,
                                    H("sec-websocket-extensions", "permessage-deflate; =12")};
  hs = check(malformed, COUNT(malformed));
  assert_int_equal(hs.status, 400);
  assert_string_equal(hs.rule, "malformed Sec-WebSocket-Extensions");
  const asgid_header unknown[] = {UPGRADE, CONNECTION, KEY, VERSION,
                                  H("sec-websocket-extensions", "x-webkit-deflate-frame")};
  hs = check(unknown, COUNT(unknown));
  assert_int_equal(hs.upgrade, WS_UPGRADE_VALID);
  assert_false(hs.deflate);
}

static void test_the_101_response(void **state) {
  (void)state;
  const asgid_header h[] = {UPGRADE, CONNECTION, KEY, VERSION,
                            H("sec-websocket-extensions", "permessage-deflate")};
  ws_handshake hs = check(h, COUNT(h));
  const asgid_header server[] = {H("date", "Sun, 06 Dec 2026 07:00:00 GMT"), H("server", "asgid")};
  const asgid_header app[] = {H("set-cookie", "a=b")};
  const char expect[] =
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
      "Sec-WebSocket-Protocol: chat\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12\r\n"
      "date: Sun, 06 Dec 2026 07:00:00 GMT\r\n"
      "server: asgid\r\n"
      "set-cookie: a=b\r\n"
      "\r\n";
  char out[512];
  size_t n = ws_handshake_response(out, sizeof out, &hs, "chat", server, 2, app, 1);
  assert_int_equal(n, sizeof expect - 1);
  assert_memory_equal(out, expect, n);
  /* too little room: the length needed */
  assert_int_equal(ws_handshake_response(out, 10, &hs, "chat", server, 2, app, 1), n);
  /* no subprotocol, no extension, no extra fields */
  const asgid_header bare[] = {UPGRADE, CONNECTION, KEY, VERSION};
  hs = check(bare, COUNT(bare));
  n = ws_handshake_response(out, sizeof out, &hs, NULL, NULL, 0, NULL, 0);
  const char expect_bare[] =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  assert_int_equal(n, sizeof expect_bare - 1);
  assert_memory_equal(out, expect_bare, n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_the_rfc_example_is_accepted),
      cmocka_unit_test(test_tokens_match_in_lists_across_lines_in_any_case),
      cmocka_unit_test(test_requests_that_do_not_qualify_are_plain_http),
      cmocka_unit_test(test_version_other_than_13_gets_426),
      cmocka_unit_test(test_key_must_be_16_bytes_in_base64),
      cmocka_unit_test(test_subprotocols_split_across_lines),
      cmocka_unit_test(test_extensions_negotiated_or_refused),
      cmocka_unit_test(test_the_101_response),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
