/*
 * test_http_date.c - the Date header is an IMF-fixdate (RFC 9110 §5.6.7) whatever locale the
 * process runs in: an app may call setlocale, and the protocol must not follow it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/date.h"
#include "german_locale.h"

static int is_one_of(const char *text, size_t len, const char *const *names, size_t count) {
  for (size_t i = 0; i < count; i++)
    if (strlen(names[i]) == len && memcmp(text, names[i], len) == 0) return 1;
  return 0;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" with English names, and today's date. */
static void assert_imf_fixdate(const char *date) {
  static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  assert_int_equal(strlen(date), 29);
  assert_true(is_one_of(date, 3, days, 7));
  assert_memory_equal(date + 3, ", ", 2);
  assert_true(is_one_of(date + 8, 3, months, 12));
  assert_memory_equal(date + 25, " GMT", 4);
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  char expected[8];
  snprintf(expected, sizeof expected, "%s", days[tm.tm_wday]);
  assert_memory_equal(date, expected, 3);
}

static void test_date_is_imf_fixdate(void **state) {
  (void)state;
  assert_imf_fixdate(http_date_now());
}

/* Under a German locale strftime writes "Mär" for March; the Date header must still say
 * "Mar". */
static void test_date_ignores_the_locale(void **state) {
  (void)state;
  char dir[sizeof "/tmp/asgid-locale-XXXXXX"];
  german_locale_enter(dir);
  /* The locale is in force: the test could fail. */
  struct tm march = {.tm_year = 126, .tm_mon = 2, .tm_mday = 3, .tm_wday = 2};
  char localized[32];
  strftime(localized, sizeof localized, "%a %b", &march);
  assert_string_not_equal(localized, "Tue Mar");
  assert_imf_fixdate(http_date_now());
  german_locale_leave(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      /* First: the date is cached for a second, and must be formatted under the locale. */
      cmocka_unit_test(test_date_ignores_the_locale),
      cmocka_unit_test(test_date_is_imf_fixdate),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
