/*
 * test_log_rate_limit.c - at most one info line a second through a limit: the others at
 * debug level, counted in the next info line; limits apart from each other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "log/log.h"
#include "log/log_rate_limit.h"

/* In the working directory (ctest's: the build tree), which every platform has. */
#define LOG_PATH "test_log_rate_limit.log"

static char *read_log(void) {
  static char text[1 << 16];
  FILE *f = fopen(LOG_PATH, "rb");
  assert_non_null(f);
  size_t n = fread(text, 1, sizeof text - 1, f);
  text[n] = '\0';
  fclose(f);
  return text;
}

/* The line holding needle: its level tag and message must be as expected. */
static void assert_line(const char *text, const char *level_and_message) {
  const char *at = strstr(text, level_and_message);
  assert_non_null(at);
  assert_true(at[strlen(level_and_message)] == '\n');
}

static void test_one_info_line_a_second(void **state) {
  (void)state;
  remove(LOG_PATH);
  asgid_settings s;
  memset(&s, 0, sizeof s);
  s.error_log = (char *)LOG_PATH;
  s.access_log = "";
  s.access_log_format = "%(s)s";
  s.log_level = ASGID_LEVEL_DEBUG;
  assert_int_equal(log_open(&s), 0);

  log_rate_limit a = {0}, b = {0};
  log_rate_limited(&a, 5000, "a %d", 1);   /* the first: info */
  log_rate_limited(&a, 5010, "a %d", 2);   /* within the second: debug */
  log_rate_limited(&b, 5020, "b %d", 1);   /* another limit: its own second */
  log_rate_limited(&a, 5999, "a %d", 3);   /* still within: debug */
  log_rate_limited(&a, 6000, "a %d", 4);   /* a second on: info, counting the two */
  log_rate_limited(&a, 7500, "a %d", 5);   /* none held since: no count */
  log_close();

  const char *text = read_log();
  assert_line(text, "[INFO] a 1");
  assert_line(text, "[DEBUG] a 2");
  assert_line(text, "[INFO] b 1");
  assert_line(text, "[DEBUG] a 3");
  assert_line(text, "[INFO] a 4 (and 2 more since the last such line, at debug level)");
  assert_line(text, "[INFO] a 5");
  remove(LOG_PATH);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_one_info_line_a_second),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
