/*
 * test_proxy_protocol.c - the PROXY protocol parser (src/net/proxy_protocol.c): the headers
 * HAProxy's specification allows, v1 and v2, read whole and byte by byte; refusals as early
 * as the bytes allow, each naming its rule; the addresses as the scope will carry them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/proxy_protocol.h"

#define MAX 16384

static const char v2_sig[] = "\r\n\r\n\0\r\nQUIT\n";

/* The header's result when all of it arrives at once, and the same (or MORE before its last
 * byte) at every shorter prefix. */
static proxy_parse_result parse_all(const char *data, size_t len, proxy_header *h,
                                    const char **rule) {
  proxy_parse_result whole = proxy_protocol_parse(data, len, MAX, h, rule);
  for (size_t prefix = 0; prefix < len && whole == PROXY_PARSE_DONE; prefix++) {
    proxy_header partial;
    const char *partial_rule;
    if (proxy_protocol_parse(data, prefix, MAX, &partial, &partial_rule) != PROXY_PARSE_MORE)
      fail_msg("a prefix of %zu bytes of a valid header is not MORE (%s)", prefix,
               partial_rule);
  }
  return proxy_protocol_parse(data, len, MAX, h, rule);
}

static void check_v1(const char *line, int has_source, const char *host, int port) {
  proxy_header h;
  const char *rule;
  char data[256];
  /* the client's bytes follow the header in the same packet */
  snprintf(data, sizeof data, "%sGET / HTTP/1.1\r\n", line);
  if (parse_all(data, strlen(line), &h, &rule) != PROXY_PARSE_DONE)
    fail_msg("%s refused: %s", line, rule);
  assert_int_equal(proxy_protocol_parse(data, strlen(data), MAX, &h, &rule), PROXY_PARSE_DONE);
  assert_int_equal(h.version, 1);
  assert_int_equal(h.length, strlen(line));
  assert_int_equal(h.has_source, has_source);
  if (has_source) {
    assert_string_equal(h.source_host, host);
    assert_int_equal(h.source_port, port);
  }
}

static void check_refused(const char *data, size_t len, const char *rule_part) {
  proxy_header h;
  const char *rule = NULL;
  if (proxy_protocol_parse(data, len, MAX, &h, &rule) != PROXY_PARSE_INVALID)
    fail_msg("%.*s accepted", (int)len, data);
  assert_non_null(rule);
  if (!strstr(rule, rule_part)) fail_msg("rule \"%s\" lacks \"%s\"", rule, rule_part);
}

#define REFUSED(text, part) check_refused(text, sizeof text - 1, part)

static void test_v1_headers(void **state) {
  (void)state;
  check_v1("PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n", 1, "192.0.2.7", 56324);
  check_v1("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n", 1, "255.255.255.255",
           65535);
  check_v1("PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n", 1, "0.0.0.0", 0);
  check_v1("PROXY TCP6 2001:DB8::7 2001:db8::1 4000 80\r\n", 1, "2001:db8::7", 4000);
  /* an IPv4-mapped source reads as IPv4, as X-Forwarded-For's would (address_match.c) */
  check_v1("PROXY TCP6 ::ffff:192.0.2.7 ::1 1 2\r\n", 1, "192.0.2.7", 1);
  check_v1("PROXY TCP6 ::FFFF:C000:0207 ::1 1 2\r\n", 1, "192.0.2.7", 1);
  check_v1("PROXY UNKNOWN\r\n", 0, NULL, 0);
  /* "the receiver must ignore anything presented before the CRLF" */
  check_v1("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n", 0, NULL, 0);
  /* the longest line the specification allows: 107 bytes */
  char longest[PROXY_V1_MAX_LENGTH + 1] = "PROXY UNKNOWN ";
  memset(longest + 14, 'x', PROXY_V1_MAX_LENGTH - 16);
  memcpy(longest + PROXY_V1_MAX_LENGTH - 2, "\r\n", 3);
  check_v1(longest, 0, NULL, 0);
}

static void test_v1_refusals(void **state) {
  (void)state;
  REFUSED("GET / HTTP/1.1\r\n", "does not start with a PROXY protocol header");
  REFUSED("G", "does not start");
  REFUSED("proxy TCP4", "does not start");
  REFUSED("PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n", "TCP4, TCP6 or UNKNOWN");
  REFUSED("PROXY UNKNOWNX\r\n", "TCP4, TCP6 or UNKNOWN");
  REFUSED("PROXY \r\n", "TCP4, TCP6 or UNKNOWN");
  REFUSED("PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n", "fewer than four");
  REFUSED("PROXY TCP4\r\n", "fewer than four");
  REFUSED("PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n", "more than four");
  REFUSED("PROXY TCP4 1.2.3.4 1.2.3.4 1 2 \r\n", "more than four");
  REFUSED("PROXY TCP4 1.2.3.4  1.2.3.4 1 2\r\n", "one space");
  REFUSED("PROXY TCP4 ::1 1.2.3.4 1 2\r\n", "dotted IPv4");
  REFUSED("PROXY TCP4 ::ffff:1.2.3.4 1.2.3.4 1 2\r\n", "dotted IPv4");
  REFUSED("PROXY TCP4 1.2.3.4 1.2.3.4.5 1 2\r\n", "dotted IPv4");
  REFUSED("PROXY TCP4 1.2.3.256 1.2.3.4 1 2\r\n", "dotted IPv4");
  REFUSED("PROXY TCP4 01.2.3.4 1.2.3.4 1 2\r\n", "dotted IPv4");
  REFUSED("PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "IPv6");
  REFUSED("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", "IPv6");
  REFUSED("PROXY TCP4 1.2.3.4 1.2.3.4 65536 2\r\n", "port");
  REFUSED("PROXY TCP4 1.2.3.4 1.2.3.4 080 2\r\n", "port");
  REFUSED("PROXY TCP4 1.2.3.4 1.2.3.4 1 00\r\n", "port");
  REFUSED("PROXY TCP4 1.2.3.4 1.2.3.4 +1 2\r\n", "port");
  REFUSED("PROXY TCP4 1.2.3.4 1.2.3.4 1000000 2\r\n", "port");
  REFUSED("PROXY TCP4 1.2.3.4 1.2.3.4 -1 2\r\n", "port");
  REFUSED("PROXY TCP4 1.2.3.4 1.2.3.4 1 x\r\n", "port");
  REFUSED("PROXY TCP4 1.2.3.4\r1.2.3.4 1 2\r\n", "CR not followed by LF");
  REFUSED("PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n", "printable");
  REFUSED("PROXY TCP4 1.2.3.4\t1.2.3.4 1 2\r\n", "printable");
  /* refused as soon as a wrong byte arrives, without its CRLF */
  REFUSED("PROXY TCP4 1.2.3.4\x01", "printable");
  /* 108 bytes with its CRLF: one too many, known once 106 bytes hold no CR */
  char endless[PROXY_V1_MAX_LENGTH + 1] = "PROXY UNKNOWN ";
  memset(endless + 14, 'x', sizeof endless - 14);
  memcpy(endless + PROXY_V1_MAX_LENGTH - 1, "\r\n", 2);
  check_refused(endless, sizeof endless, "no CRLF within 107 bytes");
  check_refused(endless, PROXY_V1_MAX_LENGTH - 1, "no CRLF within 107 bytes");
  proxy_header h;
  const char *rule;
  assert_int_equal(proxy_protocol_parse(endless, PROXY_V1_MAX_LENGTH - 2, MAX, &h, &rule),
                   PROXY_PARSE_MORE);
}

/* ---------------------------------------------------------------- v2 */

typedef struct v2 {
  unsigned char bytes[512];
  size_t len;
} v2;

static v2 v2_header(unsigned ver_cmd, unsigned family, const void *addresses, size_t len) {
  v2 h;
  memcpy(h.bytes, v2_sig, 12);
  h.bytes[12] = (unsigned char)ver_cmd;
  h.bytes[13] = (unsigned char)family;
  h.bytes[14] = (unsigned char)(len >> 8);
  h.bytes[15] = (unsigned char)len;
  memcpy(h.bytes + 16, addresses, len);
  h.len = 16 + len;
  return h;
}

static const unsigned char inet_addresses[12] = {192, 0, 2, 7, 198, 51, 100, 1,
                                                 0xDC, 0x04, 0x01, 0xBB};

static void test_v2_proxy_inet(void **state) {
  (void)state;
  v2 h = v2_header(0x21, 0x11, inet_addresses, sizeof inet_addresses);
  memcpy(h.bytes + h.len, "GET", 3); /* the client's bytes right behind */
  proxy_header out;
  const char *rule;
  assert_int_equal(parse_all((char *)h.bytes, h.len, &out, &rule), PROXY_PARSE_DONE);
  assert_int_equal(proxy_protocol_parse((char *)h.bytes, h.len + 3, MAX, &out, &rule),
                   PROXY_PARSE_DONE);
  assert_int_equal(out.version, 2);
  assert_int_equal(out.length, 28);
  assert_true(out.has_source);
  assert_string_equal(out.source_host, "192.0.2.7");
  assert_int_equal(out.source_port, 56324);
}

static void test_v2_proxy_inet6(void **state) {
  (void)state;
  unsigned char addresses[36] = {0x20, 0x01, 0x0d, 0xb8};
  addresses[15] = 7;
  addresses[31] = 1;
  addresses[32] = 0x0F;
  addresses[33] = 0xA0;
  v2 h = v2_header(0x21, 0x21, addresses, sizeof addresses);
  proxy_header out;
  const char *rule;
  assert_int_equal(parse_all((char *)h.bytes, h.len, &out, &rule), PROXY_PARSE_DONE);
  assert_true(out.has_source);
  assert_string_equal(out.source_host, "2001:db8::7");
  assert_int_equal(out.source_port, 4000);
  /* an IPv4-mapped source reads as IPv4, as v1's and X-Forwarded-For's do */
  static const unsigned char mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF,
                                           198, 51, 100, 7};
  memcpy(addresses, mapped, sizeof mapped);
  h = v2_header(0x21, 0x21, addresses, sizeof addresses);
  assert_int_equal(parse_all((char *)h.bytes, h.len, &out, &rule), PROXY_PARSE_DONE);
  assert_true(out.has_source);
  assert_string_equal(out.source_host, "198.51.100.7");
  assert_int_equal(out.source_port, 4000);
}

/* LOCAL (the balancer's own health check), UNSPEC and AF_UNIX name no client. */
static void test_v2_without_a_client(void **state) {
  (void)state;
  proxy_header out;
  const char *rule;
  v2 local = v2_header(0x20, 0x00, "", 0);
  assert_int_equal(parse_all((char *)local.bytes, local.len, &out, &rule), PROXY_PARSE_DONE);
  assert_false(out.has_source);
  assert_int_equal(out.length, 16);
  /* LOCAL ignores the addresses it carries */
  v2 local_inet = v2_header(0x20, 0x11, inet_addresses, sizeof inet_addresses);
  assert_int_equal(parse_all((char *)local_inet.bytes, local_inet.len, &out, &rule),
                   PROXY_PARSE_DONE);
  assert_false(out.has_source);
  /* LOCAL discards the protocol block, family included (proxy-protocol.txt 2.2): a family
   * whose addresses do not fit the length, an unassigned family or transport, a datagram
   * transport, even a block that is not TLVs, are all accepted and skipped */
  static const unsigned char local_families[] = {0x11, 0x21, 0x31, 0x41, 0x12, 0x10, 0xFF};
  for (size_t i = 0; i < sizeof local_families; i++) {
    v2 bare = v2_header(0x20, local_families[i], "", 0);
    if (parse_all((char *)bare.bytes, bare.len, &out, &rule) != PROXY_PARSE_DONE)
      fail_msg("LOCAL with family byte 0x%02X refused: %s", local_families[i], rule);
    assert_false(out.has_source);
    assert_int_equal(out.length, 16);
  }
  assert_int_equal(proxy_protocol_parse("\r\n\r\n\0\r\nQUIT\n\x20\x11\x00\x00", 16, MAX, &out,
                                        &rule),
                   PROXY_PARSE_DONE);
  assert_int_equal(out.length, 16);
  v2 local_junk = v2_header(0x20, 0x11, "\x03\x00\x04\0\0\0", 6); /* a CRC32C cut short */
  assert_int_equal(parse_all((char *)local_junk.bytes, local_junk.len, &out, &rule),
                   PROXY_PARSE_DONE);
  assert_false(out.has_source);
  assert_int_equal(out.length, 16 + 6);
  /* still bounded by what the reader can hold */
  local_junk.bytes[14] = 0xFF;
  check_refused((char *)local_junk.bytes, 16, "longer than the read buffer");
  v2 unspec = v2_header(0x21, 0x00, "", 0);
  assert_int_equal(parse_all((char *)unspec.bytes, unspec.len, &out, &rule), PROXY_PARSE_DONE);
  assert_false(out.has_source);
  unsigned char unix_addresses[216] = "/run/client.sock";
  v2 unix_header = v2_header(0x21, 0x31, unix_addresses, sizeof unix_addresses);
  assert_int_equal(parse_all((char *)unix_header.bytes, unix_header.len, &out, &rule),
                   PROXY_PARSE_DONE);
  assert_false(out.has_source);
  assert_int_equal(out.length, 16 + 216);
}

/* TLVs after the addresses are skipped; a CRC32C one must match. */
static void test_v2_tlvs(void **state) {
  (void)state;
  unsigned char body[12 + 7 + 3 + 7] = {0};
  memcpy(body, inet_addresses, 12);
  memcpy(body + 12, "\x01\x00\x04h2xx", 7);   /* ALPN, 4 bytes */
  memcpy(body + 19, "\x04\x00\x00", 3);       /* NOOP, empty */
  memcpy(body + 22, "\x03\x00\x04\0\0\0\0", 7); /* CRC32C, filled in below */
  v2 h = v2_header(0x21, 0x11, body, sizeof body);
  /* CRC-32C of the header with a zero checksum, computed here independently (reflected
   * polynomial 0x82F63B78, as RFC 3720 B.4 gives it) */
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < h.len; i++) {
    crc ^= h.bytes[i];
    for (int k = 0; k < 8; k++) crc = crc & 1 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
  }
  crc = ~crc;
  unsigned char *value = h.bytes + 16 + 22 + 3;
  value[0] = (unsigned char)(crc >> 24);
  value[1] = (unsigned char)(crc >> 16);
  value[2] = (unsigned char)(crc >> 8);
  value[3] = (unsigned char)crc;
  proxy_header out;
  const char *rule;
  assert_int_equal(parse_all((char *)h.bytes, h.len, &out, &rule), PROXY_PARSE_DONE);
  assert_string_equal(out.source_host, "192.0.2.7");
  assert_int_equal(out.length, h.len);
  value[3] ^= 1;
  check_refused((char *)h.bytes, h.len, "CRC32C");
  value[3] ^= 1;
  /* a TLV whose length runs past the header */
  h.bytes[16 + 12 + 2] = 5;
  check_refused((char *)h.bytes, h.len, "TLV runs past");
  /* a CRC32C TLV of another length, last in the header: refused, nothing read past it
   * (this test's ASan build would see the read) */
  unsigned char short_crc[12 + 5];
  memcpy(short_crc, inet_addresses, 12);
  memcpy(short_crc + 12, "\x03\x00\x02\xab\xcd", 5);
  v2 crc2 = v2_header(0x21, 0x11, short_crc, sizeof short_crc);
  char *exact = malloc(crc2.len);
  assert_non_null(exact);
  memcpy(exact, crc2.bytes, crc2.len);
  check_refused(exact, crc2.len, "CRC32C TLV is not 4 bytes");
  free(exact);
  /* a TLV cut in its type and length */
  v2 cut = v2_header(0x21, 0x11, body, 12 + 2);
  check_refused((char *)cut.bytes, cut.len, "TLV runs past");
}

static void test_v2_refusals(void **state) {
  (void)state;
  v2 h = v2_header(0x11, 0x11, inet_addresses, 12);
  /* decided on the 13th byte, before the rest arrives */
  check_refused((char *)h.bytes, 13, "version is not 2");
  h = v2_header(0x22, 0x11, inet_addresses, 12);
  check_refused((char *)h.bytes, 13, "neither LOCAL nor PROXY");
  h = v2_header(0x21, 0x41, inet_addresses, 12);
  check_refused((char *)h.bytes, 14, "unassigned address family");
  h = v2_header(0x21, 0x13, inet_addresses, 12);
  check_refused((char *)h.bytes, 14, "unassigned address family");
  h = v2_header(0x21, 0x10, inet_addresses, 12);
  check_refused((char *)h.bytes, 14, "unassigned address family");
  h = v2_header(0x21, 0x01, inet_addresses, 12);
  check_refused((char *)h.bytes, 14, "unassigned address family");
  h = v2_header(0x21, 0x12, inet_addresses, 12);
  check_refused((char *)h.bytes, 14, "datagram");
  h = v2_header(0x21, 0x11, inet_addresses, 11);
  check_refused((char *)h.bytes, 16, "shorter than the addresses");
  h = v2_header(0x21, 0x21, inet_addresses, 12);
  check_refused((char *)h.bytes, 16, "shorter than the addresses");
  /* a length beyond what the reader can hold is refused before the bytes arrive */
  unsigned char big[16];
  memcpy(big, v2_sig, 12);
  big[12] = 0x21;
  big[13] = 0x11;
  big[14] = 0xFF;
  big[15] = 0xFF;
  check_refused((char *)big, 16, "longer than the read buffer");
  proxy_header out;
  const char *rule;
  assert_int_equal(proxy_protocol_parse((char *)big, 16, 65535 + 16, &out, &rule),
                   PROXY_PARSE_MORE);
  /* a signature wrong in its last byte */
  unsigned char almost[16];
  memcpy(almost, big, 16);
  almost[11] = 'X';
  check_refused((char *)almost, 12, "does not start");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_v1_headers),    cmocka_unit_test(test_v1_refusals),
      cmocka_unit_test(test_v2_proxy_inet), cmocka_unit_test(test_v2_proxy_inet6),
      cmocka_unit_test(test_v2_without_a_client), cmocka_unit_test(test_v2_tlvs),
      cmocka_unit_test(test_v2_refusals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
