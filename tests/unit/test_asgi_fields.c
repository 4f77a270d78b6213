/*
 * test_asgi_fields.c - src/asgi/fields.c: which bytes a header name and value may hold (the
 * same checks guard requests from clients and responses from apps), and the case-insensitive
 * comparison used for every framing header.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "abi/fields.h"

static int name_ok(const char *s) { return asgi_field_name_valid(s, strlen(s)); }
static int value_ok(const char *s) { return asgi_field_value_valid(s, strlen(s)); }

static void test_token_names(void **state) {
  (void)state;
  assert_true(name_ok("content-type"));
  assert_true(name_ok("X-Custom_Header.1"));
  assert_true(name_ok("!#$%&'*+-.^_`|~"));
  assert_true(name_ok("0"));
  assert_false(asgi_field_name_valid("", 0));
  assert_false(asgi_field_name_valid("x", 0)); /* the length decides, not the terminator */
  static const char *const bad[] = {"a b", "a:b", "a\tb", "a(b", "a)b", "a,b", "a/b", "a;b",
                                    "a<b", "a=b",  "a>b", "a?b",  "a@b", "a[b", "a\\b", "a]b",
                                    "a{b", "a}b",  "a\"b", "a\rb", "a\nb", "a\x7f" "b",
                                    "a\x01" "b", "\xc3\xa9"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (name_ok(bad[i])) fail_msg("name %zu accepted", i);
  static const char with_nul[] = "a\0b";
  assert_false(asgi_field_name_valid(with_nul, 3));
}

/* Every byte value once: exactly the tchar set is accepted. */
static void test_name_every_byte(void **state) {
  (void)state;
  static const char tchar_specials[] = "!#$%&'*+-.^_`|~";
  for (int c = 0; c < 256; c++) {
    char b = (char)c;
    int want = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c != 0 && strchr(tchar_specials, c) != NULL);
    if (asgi_field_name_valid(&b, 1) != want) fail_msg("byte 0x%02x", c);
  }
}

static void test_values(void **state) {
  (void)state;
  assert_true(value_ok(""));
  assert_true(value_ok("text/html; charset=utf-8"));
  assert_true(value_ok("a\tb"));           /* HTAB allowed */
  assert_true(value_ok(" spaces inside "));
  assert_true(value_ok("\x80\xff\xe9"));  /* obs-text */
  assert_false(value_ok("a\rb"));
  assert_false(value_ok("a\nb"));
  assert_false(value_ok("a\r\nX-Injected: 1"));
  assert_false(value_ok("a\x7f"));
  assert_false(value_ok("\x01"));
  assert_false(value_ok("a\x1f"));
  static const char with_nul[] = "a\0b";
  assert_false(asgi_field_value_valid(with_nul, 3));
  /* Only the given length is checked. */
  assert_true(asgi_field_value_valid("ok\r\n", 2));
}

static void test_value_every_byte(void **state) {
  (void)state;
  for (int c = 0; c < 256; c++) {
    char b = (char)c;
    int want = c == '\t' || (c >= 0x20 && c != 0x7f);
    if (asgi_field_value_valid(&b, 1) != want) fail_msg("byte 0x%02x", c);
  }
}

static void test_equals(void **state) {
  (void)state;
  assert_true(asgi_field_equals("Content-Length", 14, "content-length"));
  assert_true(asgi_field_equals("CONTENT-LENGTH", 14, "content-length"));
  assert_true(asgi_field_equals("content-length", 14, "content-length"));
  assert_false(asgi_field_equals("content-lengt", 13, "content-length"));
  assert_false(asgi_field_equals("content-lengths", 15, "content-length"));
  /* A prefix of a longer field is not equal, even when the bytes match. */
  assert_false(asgi_field_equals("content-length-x", 14 + 2, "content-length"));
  assert_true(asgi_field_equals("content-length-x", 14, "content-length"));
  assert_false(asgi_field_equals("Content_Length", 14, "content-length"));
  assert_true(asgi_field_equals("", 0, ""));
  /* Only ASCII letters fold: 0xC0..0xDE are not uppercase letters here, and '@'/'[' (next to
   * 'A'/'Z') do not fold to '`'/'{'. */
  assert_false(asgi_field_equals("\xc9", 1, "\xe9"));
  assert_false(asgi_field_equals("@", 1, "`"));
  assert_false(asgi_field_equals("[", 1, "{"));
  assert_true(asgi_field_equals_n("ChUnKeD", 7, "chunked", 7));
  assert_false(asgi_field_equals_n("chunked", 7, "chunked", 6));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_token_names),
      cmocka_unit_test(test_name_every_byte),
      cmocka_unit_test(test_values),
      cmocka_unit_test(test_value_every_byte),
      cmocka_unit_test(test_equals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
