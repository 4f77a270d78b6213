/*
 * test_log_time.c - log_timezone = local: the zone's offsets log_time.c tables at the first
 * log_open agree with the C library's, hour by hour over the whole 28-year cycle, for zones of
 * every kind: northern and southern daylight saving, half-hour offsets and half-hour shifts,
 * no daylight saving, and zone files where the system has them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"
#include "log/log_internal.h"

static void open_local(void) {
  asgid_settings s;
  memset(&s, 0, sizeof s);
  s.error_log = "-";
  s.access_log = "";
  s.access_log_format = "";
  s.log_timezone = 1; /* local */
  assert_int_equal(log_open(&s), 0);
}

/* Captures `tz`, then compares the table with localtime_r over the 28-year cycle, hour by hour
 * (a transition missed or misplaced by more than a second shows for months; the seconds of the
 * transitions themselves are test_access_log's). */
static void check_zone(const char *tz) {
  setenv("TZ", tz, 1);
  tzset();
  open_local();
  time_t now = time(NULL);
  long mismatches = 0;
  for (time_t t = now; t < now + (time_t)10227 * 86400 - 86400; t += 3600) {
    struct tm tm;
    localtime_r(&t, &tm);
    if (tm.tm_gmtoff != log_time_utc_offset(t))
      mismatches++;
  }
  if (mismatches != 0)
    fail_msg("TZ=%s: %ld hours with another offset than the C library's", tz, mismatches);
  log_close();
}

static void test_offsets_agree_with_the_c_library(void **state) {
  (void)state;
  check_zone("EST5EDT,M3.2.0,M11.1.0");
  check_zone("NST3:30NDT,M3.2.0,M11.1.0");                /* -0330, -0230 */
  check_zone("AEST-10AEDT,M10.1.0,M4.1.0/3");             /* southern: summer over new year */
  check_zone("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");     /* Lord Howe: a half-hour shift */
  check_zone("IST-5:30");                                 /* no daylight saving */
  check_zone("UTC0");
  /* Zone files, whose rules past their last listed transition glibc computes: where the
   * system has them (tzdata). Casablanca's transitions follow Ramadan, listed year by year. */
  static const char *files[] = {"America/New_York", "Europe/Paris", "Australia/Lord_Howe",
                                "Africa/Casablanca", "America/Sao_Paulo"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char path[128];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", files[i]);
    if (access(path, R_OK) == 0)
      check_zone(files[i]);
  }
  setenv("TZ", "UTC", 1);
  tzset();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_offsets_agree_with_the_c_library),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
