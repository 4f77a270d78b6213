/*
 * test_http_target.c - src/http/target.c: splitting a request target into the path and the
 * query of the ASGI scope, and percent-decoding the path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "http/target.h"

/* Splits a copy of target held in an exactly-sized heap block, so that reading past the
 * target's length shows up under AddressSanitizer. */
static void check_split(const char *target, const char *want_path, const char *want_query) {
  size_t len = strlen(target);
  char *copy = malloc(len ? len : 1);
  assert_non_null(copy);
  memcpy(copy, target, len);
  const char *path = NULL, *query = NULL;
  size_t path_len = 99, query_len = 99;
  http_target_split(copy, len, &path, &path_len, &query, &query_len);
  assert_non_null(path);
  assert_non_null(query);
  if (path_len != strlen(want_path) || memcmp(path, want_path, path_len) != 0)
    fail_msg("%s: path \"%.*s\", want \"%s\"", target, (int)path_len, path, want_path);
  if (query_len != strlen(want_query) || memcmp(query, want_query, query_len) != 0)
    fail_msg("%s: query \"%.*s\", want \"%s\"", target, (int)query_len, query, want_query);
  /* Both point into the target (or at the static "/" for an absolute-form without path). */
  if (path_len && strcmp(want_path, "/") != 0) assert_true(path >= copy && path + path_len <= copy + len);
  assert_true(query >= copy && query + query_len <= copy + len);
  free(copy);
}

static void test_origin_form(void **state) {
  (void)state;
  check_split("/", "/", "");
  check_split("/a/b", "/a/b", "");
  check_split("/a/b?x=1&y=2", "/a/b", "x=1&y=2");
  check_split("/a?", "/a", "");              /* empty query */
  check_split("/a?x=?y?", "/a", "x=?y?");    /* '?' inside the query belongs to it */
  check_split("/a%3Fb?c", "/a%3Fb", "c");    /* split before decoding: %3F is not a '?' */
  check_split("/a:b//c?q", "/a:b//c", "q");  /* ':' and "//" in a path are not a scheme */
  check_split("//double?q", "//double", "q");
}

static void test_absolute_form(void **state) {
  (void)state;
  check_split("http://h/p?q", "/p", "q");
  check_split("http://example.com:8080/a/b?x=1", "/a/b", "x=1");
  check_split("http://h", "/", "");
  check_split("http://h?q", "/", "q");
  check_split("http://h/", "/", "");
  check_split("https://h/p?a?b", "/p", "a?b");
  check_split("http://user@h:1/p", "/p", "");
}

static void test_asterisk_and_authority_form(void **state) {
  (void)state;
  check_split("*", "*", "");
  check_split("example.com:443", "example.com:443", ""); /* CONNECT */
}

static size_t decode(const char *in, size_t len, char *out) {
  size_t n = http_percent_decode(in, len, out);
  assert_true(n <= len); /* the decoded form is never longer */
  return n;
}

static void check_decode(const char *in, const char *want) {
  char out[256];
  size_t n = decode(in, strlen(in), out);
  if (n != strlen(want) || memcmp(out, want, n) != 0)
    fail_msg("%s: decoded \"%.*s\", want \"%s\"", in, (int)n, out, want);
}

static void test_percent_decode(void **state) {
  (void)state;
  check_decode("/plain/path", "/plain/path");
  check_decode("/a%20b", "/a b");
  check_decode("/%41%42%43", "/ABC");
  check_decode("/%e2%82%ac", "/\xe2\x82\xac"); /* lowercase hex, UTF-8 bytes */
  check_decode("/%E2%82%AC", "/\xe2\x82\xac");
  check_decode("/a%2Fb", "/a/b");   /* ASGI path is decoded; raw_path keeps %2F */
  check_decode("%25", "%");
  check_decode("%2525", "%25");     /* decoded once, not twice */
  check_decode("/a+b", "/a+b");     /* '+' is not a space in a path */
}

static void test_percent_decode_invalid_kept(void **state) {
  (void)state;
  check_decode("/a%zzb", "/a%zzb");
  check_decode("/a%g1", "/a%g1");
  check_decode("/a%1g", "/a%1g");
  check_decode("/%", "/%");
  check_decode("/a%4", "/a%4");     /* truncated at the end */
  check_decode("%", "%");
  check_decode("%%41", "%A");       /* the first '%' is invalid, the second escape is not */
  check_decode("/%41", "/A");       /* an escape that ends exactly at the end */
}

/* %00 decodes to a NUL byte: the length says where the result ends, not a terminator. */
static void test_percent_decode_nul(void **state) {
  (void)state;
  char out[16];
  size_t n = decode("/a%00b", 6, out);
  assert_int_equal(n, 4);
  assert_memory_equal(out, "/a\0b", 4);
}

/* The input length bounds the decoder: an escape cut off by the length is not completed by
 * the bytes after it. */
static void test_percent_decode_respects_length(void **state) {
  (void)state;
  char out[16];
  size_t n = decode("/a%41", 4, out); /* "/a%4" */
  assert_int_equal(n, 4);
  assert_memory_equal(out, "/a%4", 4);
  n = decode("/ab", 0, out);
  assert_int_equal(n, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_origin_form),
      cmocka_unit_test(test_absolute_form),
      cmocka_unit_test(test_asterisk_and_authority_form),
      cmocka_unit_test(test_percent_decode),
      cmocka_unit_test(test_percent_decode_invalid_kept),
      cmocka_unit_test(test_percent_decode_nul),
      cmocka_unit_test(test_percent_decode_respects_length),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
