/*
 * test_port_number.c - a decimal TCP port (src/net/port_number.c), the rule a bind value's
 * port and a PROXY v1 header's ports share: digits only, 0 to 65535.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "net/port_number.h"

static int parse(const char *text) { return port_number_parse(text, strlen(text)); }

static void test_ports(void **state) {
  (void)state;
  assert_int_equal(parse("0"), 0);
  assert_int_equal(parse("80"), 80);
  assert_int_equal(parse("65535"), 65535);
  /* leading zeros are the caller's rule: a bind value allows them, PROXY v1 does not */
  assert_int_equal(parse("08000"), 8000);
  assert_int_equal(parse("0000000000000000000080"), 80);
  /* only the len bytes count */
  assert_int_equal(port_number_parse("8000 proxy_protocol", 4), 8000);
}

static void test_not_ports(void **state) {
  (void)state;
  static const char *const refused[] = {
      "", "65536", "99999999999999999999999", "-1", "-0", "+80", " 80", "80 ", "8o", "0x50",
      "1e3",
  };
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
    if (parse(refused[i]) != -1) fail_msg("\"%s\" read as a port", refused[i]);
  assert_int_equal(port_number_parse("80\0", 3), -1); /* a NUL is not a digit */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ports),
      cmocka_unit_test(test_not_ports),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
