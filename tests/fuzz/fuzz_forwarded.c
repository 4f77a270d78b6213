/*
 * fuzz_forwarded.c - a trusted proxy's forwarding headers (src/http/forwarded.c):
 * X-Forwarded-For, -Proto, -Host, -Port and RFC 7239 Forwarded, as a client behind the proxy
 * may write them (a proxy appends to what the client sent, or passes it along).
 *
 * Input layout: byte 0 the trusted proxies (bit 0: 10.0.0.0/8 and ::1, bit 1: "*"; neither:
 * 127.0.0.1 only), bit 2 the family (Forwarded, else X-Forwarded-*), bit 3 forwarded_host; then header lines "name:value" separated by newlines (up to 16), each
 * value in an allocation of its own so that a read past it is caught.
 *
 * Checked beyond "no crash": a client address is canonical text that parses back to itself,
 * with a port 0-65535; the scheme is unsaid, http or https; a host lies within one header's
 * value, is not empty and holds none of "/?#@\" and no space or control byte; a port is
 * 1-65535; no host nor port without forwarded_host; a rule is printable; nothing is said when no forwarding header came; the same
 * input reads the same twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "http/forwarded.h"

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);

#define MAX_LINES 16

static int is_forwarding_name(const asgid_header *h) {
  static const char *const names[] = {"x-forwarded-for", "x-forwarded-proto",
                                      "x-forwarded-host", "x-forwarded-port", "forwarded"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (h->name_len == strlen(names[i]) && memcmp(h->name, names[i], h->name_len) == 0)
      return 1;
  return 0;
}

static void check(const http_forwarded *fwd, const asgid_header *headers, size_t count) {
  int any = 0;
  for (size_t i = 0; i < count; i++) any |= is_forwarding_name(&headers[i]);
  if (!any) {
    FUZZ_CHECK(!fwd->client_set && fwd->secure == -1 && !fwd->host && fwd->port == -1 &&
               !fwd->rule);
    return;
  }
  if (fwd->client_set && fwd->client_known) {
    ip_address address;
    char again[IP_ADDRESS_TEXT_SIZE];
    FUZZ_CHECK(ip_address_parse(fwd->client_host, strlen(fwd->client_host), &address) == 0);
    ip_address_format(&address, again);
    FUZZ_CHECK(strcmp(again, fwd->client_host) == 0);
    FUZZ_CHECK(fwd->client_port >= 0 && fwd->client_port <= 65535);
  }
  FUZZ_CHECK(fwd->secure >= -1 && fwd->secure <= 1);
  FUZZ_CHECK(fwd->port == -1 || (fwd->port >= 1 && fwd->port <= 65535));
  if (fwd->host) {
    int inside = 0;
    for (size_t i = 0; i < count; i++)
      inside |= fwd->host >= headers[i].value &&
                fwd->host + fwd->host_len <= headers[i].value + headers[i].value_len;
    FUZZ_CHECK(inside);
    FUZZ_CHECK(fwd->host_len > 0);
    for (size_t i = 0; i < fwd->host_len; i++) {
      unsigned char c = (unsigned char)fwd->host[i];
      FUZZ_CHECK(c > 0x20 && c < 0x7f && !strchr("/?#@\\\"", c));
    }
  }
  if (fwd->rule)
    for (const char *c = fwd->rule; *c; c++) FUZZ_CHECK(*c >= 0x20 && *c < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size) {
  if (size < 1) return 0;
  address_match trusted = {0};
  char why[160];
  const char *proxies = input[0] & 2 ? "*" : input[0] & 1 ? "10.0.0.0/8, ::1" : "127.0.0.1";
  FUZZ_CHECK(address_match_add(&trusted, proxies, why, sizeof why) == 0);

  asgid_header headers[MAX_LINES];
  char *values[MAX_LINES];
  size_t count = 0;
  const char *p = (const char *)input + 1, *end = (const char *)input + size;
  while (p < end && count < MAX_LINES) {
    const char *line_end = memchr(p, '\n', (size_t)(end - p));
    if (!line_end) line_end = end;
    const char *colon = memchr(p, ':', (size_t)(line_end - p));
    if (colon) {
      size_t value_len = (size_t)(line_end - colon - 1);
      values[count] = malloc(value_len ? value_len : 1);
      FUZZ_CHECK(values[count] != NULL);
      memcpy(values[count], colon + 1, value_len);
      headers[count] = (asgid_header){p, (size_t)(colon - p), values[count], value_len};
      count++;
    }
    p = line_end + 1;
  }

  http_forwarded_family family = input[0] & 4 ? HTTP_FORWARDED_RFC7239 : HTTP_FORWARDED_X_FORWARDED;
  int read_host = (input[0] & 8) != 0;
  http_forwarded fwd, again;
  http_forwarded_read(headers, count, &trusted, family, read_host, &fwd);
  check(&fwd, headers, count);
  FUZZ_CHECK(read_host || (!fwd.host && fwd.port == -1));
  http_forwarded_read(headers, count, &trusted, family, read_host, &again);
  FUZZ_CHECK(fwd.client_set == again.client_set && fwd.client_known == again.client_known);
  FUZZ_CHECK(strcmp(fwd.client_host, again.client_host) == 0);
  FUZZ_CHECK(fwd.client_port == again.client_port && fwd.secure == again.secure &&
             fwd.host == again.host && fwd.host_len == again.host_len &&
             fwd.port == again.port && fwd.rule == again.rule);

  for (size_t i = 0; i < count; i++) free(values[i]);
  address_match_free(&trusted);
  return 0;
}
