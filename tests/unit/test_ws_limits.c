/*
 * test_ws_limits.c - the [websocket] settings reach the codecs as configured: the defaults,
 * and a frame limit above the message limit, which counts only up to the message limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "websocket/limits.h"

static void test_defaults(void **state) {
  (void)state;
  asgid_settings s;
  assert_int_equal(asgid_settings_init_defaults(&s), 0);
  ws_limits l = ws_limits_from_settings(&s);
  assert_true(l.frames.max_frame_size == 16u << 20);
  assert_true(l.frames.max_message_size == 16u << 20);
  assert_true(l.max_message_size == 16u << 20);
  assert_int_equal(l.frames.max_fragments, 16384);
  assert_int_equal(l.frames.deflate, 0); /* set per connection by its handshake */
  assert_int_equal(l.max_queue, 16);
  assert_int_equal(l.ping_interval_ms, 20000);
  assert_int_equal(l.ping_timeout_ms, 20000);
  assert_int_equal(l.handshake_timeout_ms, 10000);
  assert_int_equal(l.close_timeout_ms, 5000);
  assert_true(l.deflate.enabled);
  assert_int_equal(l.deflate.window_bits, 12);
  assert_int_equal(l.deflate.mem_level, 5);
  assert_false(l.deflate.server_no_context_takeover);
  assert_false(l.deflate.client_no_context_takeover);
  asgid_settings_free(&s);
}

static void test_frame_limit_counts_up_to_the_message_limit(void **state) {
  (void)state;
  asgid_settings s;
  assert_int_equal(asgid_settings_init_defaults(&s), 0);
  s.ws_max_frame_size = 1 << 20;
  s.ws_max_message_size = 64 << 10;
  s.ws_per_message_deflate = 0;
  ws_limits l = ws_limits_from_settings(&s);
  assert_int_equal(l.frames.max_frame_size, 64 << 10);
  assert_int_equal(l.frames.max_message_size, 64 << 10);
  assert_false(l.deflate.enabled);
  s.ws_max_frame_size = 4096;
  l = ws_limits_from_settings(&s);
  assert_int_equal(l.frames.max_frame_size, 4096);
  asgid_settings_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_frame_limit_counts_up_to_the_message_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
