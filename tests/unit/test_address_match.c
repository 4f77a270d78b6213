/*
 * test_address_match.c - forwarded_allow_ips' entries: addresses, CIDR ranges of both
 * families, "*", "unix", several entries in one value; IPv4-mapped peers match IPv4
 * entries; what is not an entry is named and left out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "net/address_match.h"

static int trusts(const char *value, const char *peer) {
  address_match m = {0};
  char why[160];
  assert_int_equal(address_match_add(&m, value, why, sizeof why), 0);
  int result = address_match_has_peer(&m, peer);
  address_match_free(&m);
  return result;
}

static void test_default_value(void **state) {
  (void)state;
  const char *value = "127.0.0.1, ::1, unix";
  assert_true(trusts(value, "127.0.0.1"));
  assert_true(trusts(value, "::1"));
  assert_true(trusts(value, ""));
  assert_true(trusts(value, "::ffff:127.0.0.1")); /* a dual-stack listener's IPv4 peer */
  assert_false(trusts(value, "127.0.0.2"));
  assert_false(trusts(value, "10.0.0.1"));
  assert_false(trusts(value, "::2"));
}

static void test_ipv4_ranges(void **state) {
  (void)state;
  assert_true(trusts("10.0.0.0/8", "10.255.1.2"));
  assert_false(trusts("10.0.0.0/8", "11.0.0.1"));
  assert_true(trusts("192.168.1.0/25", "192.168.1.127"));
  assert_false(trusts("192.168.1.0/25", "192.168.1.128"));
  assert_true(trusts("172.16.0.0/12", "172.31.255.255"));
  assert_false(trusts("172.16.0.0/12", "172.32.0.0"));
  /* host bits in the entry are ignored, as Python's ipaddress with strict=False */
  assert_true(trusts("10.1.2.3/16", "10.1.200.1"));
  assert_true(trusts("0.0.0.0/0", "203.0.113.9"));
  assert_false(trusts("0.0.0.0/0", "2001:db8::1")); /* an IPv4 range holds no IPv6 peer */
  assert_true(trusts("10.0.0.0/8", "::ffff:10.9.9.9"));
  assert_true(trusts("1.2.3.4/32", "1.2.3.4"));
}

static void test_ipv6_ranges(void **state) {
  (void)state;
  assert_true(trusts("fd00::/8", "fd12:3456::1"));
  assert_false(trusts("fd00::/8", "fe80::1"));
  assert_true(trusts("2001:db8::/127", "2001:db8::1"));
  assert_false(trusts("2001:db8::/127", "2001:db8::2"));
  assert_true(trusts("::/0", "2001:db8::1"));
  assert_true(trusts("2001:DB8::1", "2001:db8::1"));
}

static void test_star_and_unix(void **state) {
  (void)state;
  assert_true(trusts("*", "203.0.113.9"));
  assert_true(trusts("*", ""));
  assert_true(trusts("unix", ""));
  assert_false(trusts("unix", "127.0.0.1"));
  assert_false(trusts("127.0.0.1", "")); /* no "unix": a Unix-socket peer is not trusted */
}

static void test_several_entries_in_one_value_and_values_added(void **state) {
  (void)state;
  address_match m = {0};
  char why[160];
  assert_int_equal(address_match_add(&m, "10.0.0.1,10.0.0.2  10.0.0.3", why, sizeof why), 0);
  assert_int_equal(address_match_add(&m, "192.168.0.0/16", why, sizeof why), 0);
  assert_int_equal(m.count, 4);
  assert_true(address_match_has_peer(&m, "10.0.0.2"));
  assert_true(address_match_has_peer(&m, "10.0.0.3"));
  assert_true(address_match_has_peer(&m, "192.168.4.4"));
  assert_false(address_match_has_peer(&m, "10.0.0.4"));
  address_match_free(&m);
}

static void test_invalid_entries_are_named_and_left_out(void **state) {
  (void)state;
  static const char *const invalid[] = {"localhost", "10.0.0.0/33", "::/129", "10.0.0.1/",
                                        "10.0.0.1/x", "1.2.3", "256.1.1.1", "fe80::1%eth0",
                                        "[::1]", "10.0.0.01", "unix:", "**", "10.0.0.0/0008"};
  for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
    address_match m = {0};
    char why[160] = "";
    char value[64];
    snprintf(value, sizeof value, "10.0.0.1, %s, 10.0.0.2", invalid[i]);
    assert_int_equal(address_match_add(&m, value, why, sizeof why), -1);
    assert_non_null(strstr(why, invalid[i]));
    assert_int_equal(m.count, 2); /* the valid ones stay */
    assert_false(m.any);
    assert_false(m.unix_peers);
    address_match_free(&m);
  }
}

static void test_peer_text_that_is_no_address_is_not_trusted(void **state) {
  (void)state;
  assert_false(trusts("0.0.0.0/0", "-"));
  assert_false(trusts("0.0.0.0/0", "1.2.3.4 "));
}

static void test_format_is_canonical(void **state) {
  (void)state;
  ip_address a;
  char text[IP_ADDRESS_TEXT_SIZE];
  assert_int_equal(ip_address_parse("2001:DB8:0:0::1", 15, &a), 0);
  ip_address_format(&a, text);
  assert_string_equal(text, "2001:db8::1");
  assert_int_equal(ip_address_parse("::ffff:10.1.2.3", 15, &a), 0);
  ip_address_format(&a, text);
  assert_string_equal(text, "10.1.2.3");
  assert_int_equal(ip_address_parse("10.1.2.3", 8, &a), 0);
  ip_address_format(&a, text);
  assert_string_equal(text, "10.1.2.3");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_default_value),
      cmocka_unit_test(test_ipv4_ranges),
      cmocka_unit_test(test_ipv6_ranges),
      cmocka_unit_test(test_star_and_unix),
      cmocka_unit_test(test_several_entries_in_one_value_and_values_added),
      cmocka_unit_test(test_invalid_entries_are_named_and_left_out),
      cmocka_unit_test(test_peer_text_that_is_no_address_is_not_trusted),
      cmocka_unit_test(test_format_is_canonical),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
