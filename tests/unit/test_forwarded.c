/*
 * test_forwarded.c - a trusted proxy's forwarding headers: the right-most untrusted
 * X-Forwarded-For entry, the left-most when all are trusted, across several lines; Proto,
 * Host and Port; RFC 7239 Forwarded with quoted strings, IPv6 in brackets, ports, unknown
 * and obfuscated nodes; the family forwarded_headers names decides; the Host and port only
 * with forwarded_host; only the right-most 64 entries walked; what is malformed is ignored
 * with a rule, an unreadable client entry leaving the client unknown, never the proxy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "http/forwarded.h"

#define MAX_LINES 8

/* Reads "name: value" lines (names lowercase) with 10.0.0.0/8 and ::1 as trusted proxies. */
static http_forwarded read_lines(http_forwarded_family family, int read_host,
                                 const char *const *lines) {
  asgid_header headers[MAX_LINES];
  size_t count = 0;
  for (; lines[count]; count++) {
    const char *colon = strchr(lines[count], ':');
    const char *value = colon + 1;
    while (*value == ' ') value++;
    headers[count] = (asgid_header){lines[count], (size_t)(colon - lines[count]), value,
                                    strlen(value)};
  }
  address_match trusted = {0};
  char why[160];
  assert_int_equal(address_match_add(&trusted, "10.0.0.0/8, ::1", why, sizeof why), 0);
  http_forwarded fwd;
  http_forwarded_read(headers, count, &trusted, family, read_host, &fwd);
  address_match_free(&trusted);
  return fwd;
}

/* X-Forwarded-* (the default family) or Forwarded, with forwarded_host on; or off. */
#define READ(...) read_lines(HTTP_FORWARDED_X_FORWARDED, 1, (const char *const[]){__VA_ARGS__, NULL})
#define READ_RFC(...) read_lines(HTTP_FORWARDED_RFC7239, 1, (const char *const[]){__VA_ARGS__, NULL})
#define READ_NO_HOST(...)                                                                        \
  read_lines(HTTP_FORWARDED_X_FORWARDED, 0, (const char *const[]){__VA_ARGS__, NULL})

static void assert_client_unknown(const http_forwarded *fwd, const char *rule_part) {
  assert_true(fwd->client_set);
  assert_false(fwd->client_known);
  if (rule_part) {
    assert_non_null(fwd->rule);
    assert_non_null(strstr(fwd->rule, rule_part));
  }
}

static void assert_client(const http_forwarded *fwd, const char *host, int port) {
  assert_true(fwd->client_set);
  assert_true(fwd->client_known);
  assert_string_equal(fwd->client_host, host);
  assert_int_equal(fwd->client_port, port);
}

static void assert_host(const http_forwarded *fwd, const char *host) {
  assert_non_null(fwd->host);
  assert_int_equal(fwd->host_len, strlen(host));
  assert_memory_equal(fwd->host, host, fwd->host_len);
}

static void test_nothing_said(void **state) {
  (void)state;
  http_forwarded fwd = READ("host: example.com", "x-real-ip: 1.2.3.4");
  assert_false(fwd.client_set);
  assert_int_equal(fwd.secure, -1);
  assert_null(fwd.host);
  assert_int_equal(fwd.port, -1);
  assert_null(fwd.rule);
}

static void test_x_forwarded_for_right_most_untrusted(void **state) {
  (void)state;
  http_forwarded fwd = READ("x-forwarded-for: 203.0.113.7");
  assert_client(&fwd, "203.0.113.7", 0);
  /* a client's own entry (spoofed or not) left of the one its proxy appended */
  fwd = READ("x-forwarded-for: 1.1.1.1, 203.0.113.7, 10.0.0.5");
  assert_client(&fwd, "203.0.113.7", 0);
  /* all trusted: the left-most (uvicorn) */
  fwd = READ("x-forwarded-for: 10.1.1.1, 10.2.2.2");
  assert_client(&fwd, "10.1.1.1", 0);
  /* lines joined in order, empty entries skipped */
  fwd = READ("x-forwarded-for: 198.51.100.1,", "x-forwarded-for: , 203.0.113.9 ,10.0.0.1");
  assert_client(&fwd, "203.0.113.9", 0);
  fwd = READ("x-forwarded-for: 2001:DB8::1, ::1");
  assert_client(&fwd, "2001:db8::1", 0);
  fwd = READ("x-forwarded-for: [2001:db8::2]:4711");
  assert_client(&fwd, "2001:db8::2", 4711);
  fwd = READ("x-forwarded-for: 198.51.100.2:8080");
  assert_client(&fwd, "198.51.100.2", 8080);
  fwd = READ("x-forwarded-for: ::ffff:198.51.100.3");
  assert_client(&fwd, "198.51.100.3", 0);
}

static void test_x_forwarded_for_unknown_client(void **state) {
  (void)state;
  http_forwarded fwd = READ("x-forwarded-for: 1.1.1.1, unknown, 10.0.0.5");
  assert_true(fwd.client_set);
  assert_false(fwd.client_known);
  fwd = READ("x-forwarded-for: not-an-address");
  assert_true(fwd.client_set);
  assert_false(fwd.client_known);
  fwd = READ("x-forwarded-for:   ,  ");
  assert_false(fwd.client_set);
}

static void test_x_forwarded_proto_host_port(void **state) {
  (void)state;
  http_forwarded fwd = READ("x-forwarded-proto: https");
  assert_int_equal(fwd.secure, 1);
  assert_false(fwd.client_set);
  fwd = READ("x-forwarded-proto: WSS");
  assert_int_equal(fwd.secure, 1);
  fwd = READ("x-forwarded-proto: https, http"); /* the nearest proxy's, right-most */
  assert_int_equal(fwd.secure, 0);
  fwd = READ("x-forwarded-proto: ws");
  assert_int_equal(fwd.secure, 0);
  fwd = READ("x-forwarded-host: example.com:8443", "x-forwarded-port: 443");
  assert_host(&fwd, "example.com:8443");
  assert_int_equal(fwd.port, 443);
  fwd = READ("x-forwarded-host: a.example, [2001:db8::1]:8080");
  assert_host(&fwd, "[2001:db8::1]:8080");
  assert_null(fwd.rule);
}

static void test_x_forwarded_malformed_ignored_with_rule(void **state) {
  (void)state;
  http_forwarded fwd = READ("x-forwarded-proto: ftp", "x-forwarded-for: 203.0.113.1");
  assert_int_equal(fwd.secure, -1);
  assert_non_null(strstr(fwd.rule, "X-Forwarded-Proto"));
  assert_client(&fwd, "203.0.113.1", 0); /* the others still count */
  static const char *const bad_hosts[] = {"evil.com/path", "a b", "user@host", "host:99999",
                                          "host:", "[::1", "[]", "\"q\"", "x?y", ":80"};
  for (size_t i = 0; i < sizeof bad_hosts / sizeof *bad_hosts; i++) {
    char line[64];
    snprintf(line, sizeof line, "x-forwarded-host: %s", bad_hosts[i]);
    fwd = READ(line);
    assert_null(fwd.host);
    assert_non_null(strstr(fwd.rule, "X-Forwarded-Host"));
  }
  /* a NUL byte inside (the fuzzer's find: strchr matches the terminator) */
  asgid_header nul = {"x-forwarded-host", 16, "a\0b.example", 11};
  address_match none = {0};
  http_forwarded_read(&nul, 1, &none, HTTP_FORWARDED_X_FORWARDED, 1, &fwd);
  assert_null(fwd.host);
  assert_non_null(fwd.rule);
  static const char *const bad_ports[] = {"0", "65536", "80a", "-1", "123456"};
  for (size_t i = 0; i < sizeof bad_ports / sizeof *bad_ports; i++) {
    char line[64];
    snprintf(line, sizeof line, "x-forwarded-port: %s", bad_ports[i]);
    fwd = READ(line);
    assert_int_equal(fwd.port, -1);
    assert_non_null(strstr(fwd.rule, "X-Forwarded-Port"));
  }
}

/* Only the right-most HTTP_FORWARDED_MAX_HOPS entries are walked: a client who pads the
 * header cannot push its proxy's entry out, nor make the proxy the client. */
static void test_too_many_hops_right_most_walked(void **state) {
  (void)state;
  char line[4096] = "x-forwarded-for: 1.1.1.1";
  for (int i = 0; i < 100; i++) strcat(line, ", 6.6.6.6");
  strcat(line, ", 203.0.113.1, 10.0.0.1");
  http_forwarded fwd = READ(line);
  assert_client(&fwd, "203.0.113.1", 0);
  assert_null(fwd.rule);
  /* the right-most 64 all trusted, more left of them: who the client is was cut off */
  strcpy(line, "x-forwarded-for: 203.0.113.1");
  for (int i = 0; i < HTTP_FORWARDED_MAX_HOPS; i++) strcat(line, ", 10.0.0.1");
  fwd = READ(line);
  assert_client_unknown(&fwd, "more than 64");
  /* exactly 64, all trusted: the left-most, as with fewer */
  strcpy(line, "x-forwarded-for: 10.0.0.2");
  for (int i = 1; i < HTTP_FORWARDED_MAX_HOPS; i++) strcat(line, ", 10.0.0.1");
  fwd = READ(line);
  assert_client(&fwd, "10.0.0.2", 0);
  /* Forwarded alike */
  strcpy(line, "forwarded: for=1.1.1.1");
  for (int i = 0; i < 100; i++) strcat(line, ", for=6.6.6.6");
  strcat(line, ", for=198.51.100.7;proto=https");
  fwd = READ_RFC(line);
  assert_client(&fwd, "198.51.100.7", 0);
  assert_int_equal(fwd.secure, 1);
  strcpy(line, "forwarded: for=1.1.1.1");
  for (int i = 0; i < HTTP_FORWARDED_MAX_HOPS; i++) strcat(line, ", for=10.0.0.1");
  fwd = READ_RFC(line);
  assert_client_unknown(&fwd, "more than 64");
}

/* A quoted string left open on one line must not make the whole header, and the client's
 * address in the next line, vanish: the client becomes unknown, not the proxy. */
static void test_unreadable_forwarded_leaves_client_unknown(void **state) {
  (void)state;
  http_forwarded fwd = READ_RFC("forwarded: for=\"1.1.1.1", "forwarded: for=198.51.100.7");
  assert_client_unknown(&fwd, "quoted string is not closed");
  fwd = READ_RFC("forwarded: for=198.51.100.7, garbage");
  assert_client_unknown(&fwd, "RFC 7239");
}

/* forwarded_host off (the default): X-Forwarded-Host/-Port and host= are not even read. */
static void test_host_read_only_when_asked(void **state) {
  (void)state;
  http_forwarded fwd = READ_NO_HOST("x-forwarded-for: 203.0.113.5",
                                    "x-forwarded-host: evil.example", "x-forwarded-port: 8443");
  assert_client(&fwd, "203.0.113.5", 0);
  assert_null(fwd.host);
  assert_int_equal(fwd.port, -1);
  assert_null(fwd.rule);
  fwd = READ_NO_HOST("x-forwarded-host: evil.example/path", "x-forwarded-port: 0");
  assert_null(fwd.rule); /* unread: nothing to log */
  fwd = read_lines(HTTP_FORWARDED_RFC7239, 0,
                   (const char *const[]){"forwarded: for=198.51.100.7;host=\"a/b\"", NULL});
  assert_client(&fwd, "198.51.100.7", 0);
  assert_null(fwd.host);
  assert_null(fwd.rule);
}

static void test_forwarded_rfc7239(void **state) {
  (void)state;
  http_forwarded fwd = READ_RFC("forwarded: for=192.0.2.60;proto=https;by=203.0.113.43;host=ex.com");
  assert_client(&fwd, "192.0.2.60", 0);
  assert_int_equal(fwd.secure, 1);
  assert_host(&fwd, "ex.com");
  fwd = READ_RFC("forwarded: For=\"[2001:db8:cafe::17]:4711\"");
  assert_client(&fwd, "2001:db8:cafe::17", 4711);
  /* the element of the right-most untrusted for=: its proto and host, not the proxy's */
  fwd = READ_RFC("forwarded: for=198.51.100.17;proto=https;host=public.example, "
             "for=10.0.0.9;proto=http;host=internal");
  assert_client(&fwd, "198.51.100.17", 0);
  assert_int_equal(fwd.secure, 1);
  assert_host(&fwd, "public.example");
  fwd = READ_RFC("forwarded: for=1.1.1.1", "forwarded: for=\"[::1]\";proto=http");
  assert_client(&fwd, "1.1.1.1", 0);
  fwd = READ_RFC("forwarded: for=\"_gazonk\"");
  assert_true(fwd.client_set);
  assert_false(fwd.client_known);
  fwd = READ_RFC("forwarded: for=unknown;proto=https");
  assert_false(fwd.client_known);
  assert_int_equal(fwd.secure, 1);
  fwd = READ_RFC("forwarded: for=\"192.0.2.1:_hidden\"");
  assert_client(&fwd, "192.0.2.1", 0);
  /* no for=: the client stays the peer */
  fwd = READ_RFC("forwarded: proto=https;;host=\"a.example:8443\"");
  assert_false(fwd.client_set);
  assert_host(&fwd, "a.example:8443");
  /* a comma inside a quoted string does not split elements; an escaped quote stays inside */
  fwd = READ_RFC("forwarded: for=192.0.2.9;ext=\"a,b\\\"c\"");
  assert_client(&fwd, "192.0.2.9", 0);
  assert_null(fwd.rule);
}

static void test_forwarded_malformed_ignored_with_rule(void **state) {
  (void)state;
  static const char *const bad[] = {
      "forwarded: for=[2001:db8::1]",        /* IPv6 must be quoted */
      "forwarded: for=192.0.2.1:80",         /* so must a port */
      "forwarded: for=\"192.0.2.1",          /* unclosed quote */
      "forwarded: for=1.2.3.4;for=5.6.7.8",  /* a parameter twice */
      "forwarded: proto=ftp",
      "forwarded: host=\"a/b\"",
      "forwarded: for",
      "forwarded: =x",
      "forwarded: for=1.2.3.4;proto=https, garbage, for=10.0.0.1", /* walked over */
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    http_forwarded fwd = READ_RFC(bad[i]);
    assert_client_unknown(&fwd, "Forwarded");
    assert_int_equal(fwd.secure, -1);
    assert_null(fwd.host);
    assert_non_null(fwd.rule);
    assert_non_null(strstr(fwd.rule, "Forwarded"));
  }
}

/* forwarded_headers names the family the trusted proxy writes: the other is a client's own */
static void test_one_family_decides(void **state) {
  (void)state;
  http_forwarded fwd = READ("forwarded: for=6.6.6.6;proto=https;host=evil",
                            "x-forwarded-for: 203.0.113.5");
  assert_client(&fwd, "203.0.113.5", 0);
  assert_int_equal(fwd.secure, -1);
  assert_null(fwd.host);
  fwd = READ("forwarded: for=6.6.6.6;proto=https");
  assert_false(fwd.client_set);
  assert_int_equal(fwd.secure, -1);
  /* behind a Forwarded-only proxy, a client's own X-Forwarded-For changes nothing */
  fwd = READ_RFC("x-forwarded-for: 6.6.6.6", "x-forwarded-proto: https",
                 "x-forwarded-host: evil", "forwarded: for=198.51.100.7;proto=http");
  assert_client(&fwd, "198.51.100.7", 0);
  assert_int_equal(fwd.secure, 0);
  assert_null(fwd.host);
  fwd = READ_RFC("x-forwarded-for: 6.6.6.6", "x-forwarded-proto: https");
  assert_false(fwd.client_set);
  assert_int_equal(fwd.secure, -1);
  assert_null(fwd.rule);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nothing_said),
      cmocka_unit_test(test_x_forwarded_for_right_most_untrusted),
      cmocka_unit_test(test_x_forwarded_for_unknown_client),
      cmocka_unit_test(test_x_forwarded_proto_host_port),
      cmocka_unit_test(test_x_forwarded_malformed_ignored_with_rule),
      cmocka_unit_test(test_too_many_hops_right_most_walked),
      cmocka_unit_test(test_unreadable_forwarded_leaves_client_unknown),
      cmocka_unit_test(test_host_read_only_when_asked),
      cmocka_unit_test(test_forwarded_rfc7239),
      cmocka_unit_test(test_forwarded_malformed_ignored_with_rule),
      cmocka_unit_test(test_one_family_decides),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
