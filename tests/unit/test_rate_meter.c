/*
 * test_rate_meter.c - min_data_rate's arithmetic: only time spent waiting on the client
 * counts, a grace period comes first, and the deadline is when the rate would fail if no
 * further byte moved.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/rate_meter.h"

enum { RATE = 240, GRACE = 5000 };

static void test_stopped_meter_has_no_deadline(void **state) {
  (void)state;
  rate_meter m = {0};
  assert_int_equal(rate_meter_deadline(&m, 1000, 0, RATE, GRACE), 0);
  assert_false(rate_meter_too_slow(&m, 100000, 0, RATE, GRACE));
  rate_meter_start(&m, 1000);
  assert_int_equal(rate_meter_deadline(&m, 1000, 0, 0, GRACE), 0); /* rate 0: off */
}

static void test_nothing_moved_fails_after_the_grace_period(void **state) {
  (void)state;
  rate_meter m = {0};
  rate_meter_start(&m, 1000);
  assert_int_equal(rate_meter_deadline(&m, 1000, 0, RATE, GRACE), 1000 + GRACE + 1);
  assert_false(rate_meter_too_slow(&m, 1000 + GRACE, 0, RATE, GRACE));
  assert_true(rate_meter_too_slow(&m, 1000 + GRACE + 1, 0, RATE, GRACE));
}

static void test_dribbling_fails_fast_streams_pass(void **state) {
  (void)state;
  rate_meter m = {0};
  rate_meter_start(&m, 1);
  m.bytes = 3; /* one byte every 2 s */
  assert_true(rate_meter_too_slow(&m, 6001, 0, RATE, GRACE));
  m.bytes = 2400; /* 240 bytes/s over 10 s: just enough */
  assert_false(rate_meter_too_slow(&m, 10001, 0, RATE, GRACE));
  assert_true(rate_meter_too_slow(&m, 10002, 0, RATE, GRACE));
  /* The deadline is exactly when it fails if nothing more moves; bytes in progress count. */
  assert_int_equal(rate_meter_deadline(&m, 9001, 0, RATE, GRACE), 10002);
  assert_int_equal(rate_meter_deadline(&m, 9001, 240, RATE, GRACE), 11002);
}

static void test_only_waiting_time_counts(void **state) {
  (void)state;
  rate_meter m = {0};
  rate_meter_start(&m, 1000);
  rate_meter_stop(&m, 4000); /* 3 s waited, then the app computes for a minute */
  assert_false(rate_meter_running(&m));
  assert_false(rate_meter_too_slow(&m, 64000, 0, RATE, GRACE));
  rate_meter_start(&m, 64000); /* waiting again: 2 s of grace are left */
  assert_int_equal(rate_meter_deadline(&m, 64000, 0, RATE, GRACE), 64000 + 2001);
  assert_true(rate_meter_too_slow(&m, 66001, 0, RATE, GRACE));
  rate_meter_reset(&m);
  assert_false(rate_meter_running(&m));
  assert_false(rate_meter_too_slow(&m, 99999, 0, RATE, GRACE));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stopped_meter_has_no_deadline),
      cmocka_unit_test(test_nothing_moved_fails_after_the_grace_period),
      cmocka_unit_test(test_dribbling_fails_fast_streams_pass),
      cmocka_unit_test(test_only_waiting_time_counts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
