/*
 * fuzz_proxy_protocol.c - the PROXY protocol parser (src/net/proxy_protocol.c) on the first
 * bytes of a connection, as http/proxy_session.c calls it: on every prefix that arrives, each
 * an exact-size copy (a read past the bytes is caught by ASan). Byte 0 of the input picks
 * the v2 length bound (a small one, or the read buffer's 16 KiB); the rest is the stream.
 *
 * Checked: a result of the three; a refusal names its rule in printable ASCII; a header is
 * whole within what arrived, within the bound (107 bytes for v1), of the version its first
 * byte announces, with a source that reads back as a numeric address in its canonical text (as
 * ip_address_format writes it, the text every other source of a client address gives) and a
 * port in range.
 * The answer never goes back on itself as more bytes arrive: before a header's last byte
 * every prefix says MORE; a refusal stays a refusal; a header stays the same header
 * whatever follows it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "fuzz_check.h"
#include "net/address_match.h"
#include "net/proxy_protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);

static proxy_parse_result parse_copy(const uint8_t *data, size_t len, size_t max_length,
                                     proxy_header *header, const char **rule) {
  char *copy = malloc(len ? len : 1);
  FUZZ_CHECK(copy);
  if (len) memcpy(copy, data, len);
  proxy_parse_result result = proxy_protocol_parse(copy, len, max_length, header, rule);
  free(copy);
  return result;
}

static void check_rule(const char *rule) {
  FUZZ_CHECK(rule && *rule);
  for (const char *c = rule; *c; c++) FUZZ_CHECK(*c >= 0x20 && *c < 0x7F);
}

static void check_header(const proxy_header *h, const uint8_t *data, size_t len,
                         size_t max_length) {
  FUZZ_CHECK(h->length > 0 && h->length <= len);
  if (h->version == 1) {
    FUZZ_CHECK(data[0] == 'P' && h->length <= PROXY_V1_MAX_LENGTH);
    FUZZ_CHECK(data[h->length - 2] == '\r' && data[h->length - 1] == '\n');
  } else {
    FUZZ_CHECK(h->version == 2 && data[0] == '\r');
    FUZZ_CHECK(h->length >= PROXY_V2_FIXED_LENGTH && h->length <= max_length);
  }
  if (!h->has_source) return;
  unsigned char bytes[16];
  FUZZ_CHECK(memchr(h->source_host, '\0', sizeof h->source_host));
  FUZZ_CHECK(uv_inet_pton(AF_INET, h->source_host, bytes) == 0 ||
             uv_inet_pton(AF_INET6, h->source_host, bytes) == 0);
  ip_address address;
  char canonical[IP_ADDRESS_TEXT_SIZE];
  FUZZ_CHECK(ip_address_parse(h->source_host, strlen(h->source_host), &address) == 0);
  ip_address_format(&address, canonical);
  FUZZ_CHECK(strcmp(canonical, h->source_host) == 0);
  FUZZ_CHECK(h->source_port >= 0 && h->source_port <= 65535);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size) {
  if (size == 0) return 0;
  size_t max_length = input[0] & 1 ? 16384 : PROXY_V2_FIXED_LENGTH + (input[0] >> 1);
  const uint8_t *data = input + 1;
  size_t len = size - 1;
  proxy_header whole;
  const char *whole_rule;
  proxy_parse_result result = parse_copy(data, len, max_length, &whole, &whole_rule);
  FUZZ_CHECK(result == PROXY_PARSE_DONE || result == PROXY_PARSE_MORE ||
             result == PROXY_PARSE_INVALID);
  if (result == PROXY_PARSE_INVALID) check_rule(whole_rule);
  if (result == PROXY_PARSE_DONE) check_header(&whole, data, len, max_length);
  /* every prefix, as the bytes arrive: one at a time up to 256, then in strides */
  for (size_t arrived = 0; arrived < len; arrived += arrived < 256 ? 1 : 61) {
    proxy_header h;
    const char *rule;
    proxy_parse_result early = parse_copy(data, arrived, max_length, &h, &rule);
    if (early == PROXY_PARSE_INVALID) {
      check_rule(rule);
      FUZZ_CHECK(result == PROXY_PARSE_INVALID);
    } else if (early == PROXY_PARSE_DONE) {
      check_header(&h, data, arrived, max_length);
      FUZZ_CHECK(result == PROXY_PARSE_DONE && h.length == whole.length);
      FUZZ_CHECK(h.has_source == whole.has_source && h.source_port == whole.source_port);
      FUZZ_CHECK(strcmp(h.source_host, whole.source_host) == 0);
    } else {
      FUZZ_CHECK(result != PROXY_PARSE_DONE || arrived < whole.length);
    }
  }
  return 0;
}
