/* proxy_protocol.c - parsing a PROXY protocol v1 or v2 header. See proxy_protocol.h.
 *
 * Field by field as HAProxy's proxy-protocol.txt writes them. Addresses, v1's text and v2's
 * bytes alike, become an ip_address and come out as ip_address_format writes it (an
 * IPv4-mapped IPv6 address as IPv4), the text X-Forwarded-For and Forwarded give too: a
 * client address reads the same whichever header carried it. */
#include "net/proxy_protocol.h"

#include <stdint.h>
#include <string.h>

#include "net/address_match.h"
#include "net/port_number.h"

static const char v1_signature[] = "PROXY ";
static const unsigned char v2_signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                               0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

static proxy_parse_result invalid(const char **rule, const char *why) {
  *rule = why;
  return PROXY_PARSE_INVALID;
}

/* Whether data[0..len) is a prefix of signature[0..size) (all of it, when len >= size). */
static int starts_like(const char *data, size_t len, const void *signature, size_t size) {
  return memcmp(data, signature, len < size ? len : size) == 0;
}

/* ---------------------------------------------------------------- version 1 */

/* A port as v1 writes it: decimal, 0 to 65535, no leading zero. Returns it or -1. */
static int v1_port(const char *text, size_t len) {
  if (len > 1 && text[0] == '0') return -1;
  return port_number_parse(text, len);
}

/* An address of the line's family: TCP4 a dotted quad, TCP6 IPv6 text (which has colons;
 * an IPv4-mapped one too). */
static int v1_address(const char *text, size_t len, int ipv6, ip_address *address) {
  if ((memchr(text, ':', len) != NULL) != ipv6) return -1;
  return ip_address_parse(text, len, address);
}

/* The next field of a v1 line: from *at to the next space (or the line's end). */
static size_t v1_field(const char *line, size_t line_len, size_t *at, const char **field) {
  *field = line + *at;
  const char *space = memchr(*field, ' ', line_len - *at);
  size_t len = space ? (size_t)(space - *field) : line_len - *at;
  *at += len + (space ? 1 : 0);
  return len;
}

/* "PROXY TCP4|TCP6 SRC DST SRCPORT DSTPORT" (CRLF cut off), or "PROXY UNKNOWN[ anything]". */
static proxy_parse_result v1_line(const char *line, size_t line_len, proxy_header *header,
                                  const char **rule) {
  size_t at = sizeof v1_signature - 1;
  const char *field;
  size_t len = v1_field(line, line_len, &at, &field);
  if (len == 7 && memcmp(field, "UNKNOWN", 7) == 0) return PROXY_PARSE_DONE;
  int ipv6;
  if (len == 4 && memcmp(field, "TCP4", 4) == 0)
    ipv6 = 0;
  else if (len == 4 && memcmp(field, "TCP6", 4) == 0)
    ipv6 = 1;
  else
    return invalid(rule, "PROXY v1: the protocol is not TCP4, TCP6 or UNKNOWN");
  const char *fields[4];
  size_t lens[4];
  for (int i = 0; i < 4; i++) {
    if (at >= line_len)
      return invalid(rule, "PROXY v1: fewer than four fields after the protocol");
    lens[i] = v1_field(line, line_len, &at, &fields[i]);
    if (lens[i] == 0) return invalid(rule, "PROXY v1: fields are not separated by one space");
  }
  if (line[line_len - 1] == ' ' || at < line_len)
    return invalid(rule, "PROXY v1: more than four fields after the protocol");
  ip_address source, destination;
  if (v1_address(fields[0], lens[0], ipv6, &source) != 0 ||
      v1_address(fields[1], lens[1], ipv6, &destination) != 0)
    return invalid(rule, ipv6 ? "PROXY v1: an address is not an IPv6 address"
                              : "PROXY v1: an address is not a dotted IPv4 address");
  int source_port = v1_port(fields[2], lens[2]);
  if (source_port < 0 || v1_port(fields[3], lens[3]) < 0)
    return invalid(rule, "PROXY v1: a port is not a number from 0 to 65535");
  ip_address_format(&source, header->source_host);
  header->has_source = 1;
  header->source_port = source_port;
  return PROXY_PARSE_DONE;
}

static proxy_parse_result parse_v1(const char *data, size_t len, proxy_header *header,
                                   const char **rule) {
  /* The CR of a line of at most 107 bytes is one of its first 106. */
  const size_t last_cr = PROXY_V1_MAX_LENGTH - 2;
  size_t scan = len <= last_cr ? len : last_cr + 1;
  for (size_t i = 0; i < scan; i++) {
    unsigned char c = (unsigned char)data[i];
    if (c == '\r') {
      if (i + 1 == len) return PROXY_PARSE_MORE;
      if (data[i + 1] != '\n') return invalid(rule, "PROXY v1: CR not followed by LF");
      header->version = 1;
      header->length = i + 2;
      return v1_line(data, i, header, rule);
    }
    if (c < 0x20 || c > 0x7E) return invalid(rule, "PROXY v1: a byte that is not printable ASCII");
  }
  if (len > last_cr) return invalid(rule, "PROXY v1: no CRLF within 107 bytes");
  return PROXY_PARSE_MORE;
}

/* ---------------------------------------------------------------- version 2 */

enum {
  V2_COMMAND_LOCAL = 0x0,
  V2_COMMAND_PROXY = 0x1,
  V2_AF_UNSPEC = 0x0,
  V2_AF_INET = 0x1,
  V2_AF_INET6 = 0x2,
  V2_AF_UNIX = 0x3,
  V2_TRANSPORT_UNSPEC = 0x0, /* STREAM is 0x1 */
  V2_TRANSPORT_DGRAM = 0x2,
  V2_TLV_CRC32C = 0x03,
};

static unsigned read_u16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }

/* CRC-32C (Castagnoli) of the header with its checksum's four bytes (at crc_at) read as
 * zeros, as the sender computed it. Bit by bit: headers are short, and rare. */
static uint32_t v2_crc32c(const unsigned char *p, size_t len, size_t crc_at) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < len; i++) {
    crc ^= i >= crc_at && i < crc_at + 4 ? 0 : p[i];
    for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

/* The TLVs from p[at] to p[total]: each whole, and a CRC32C one matching the header. */
static proxy_parse_result v2_tlvs(const unsigned char *p, size_t at, size_t total,
                                  const char **rule) {
  while (at < total) {
    if (total - at < 3) return invalid(rule, "PROXY v2: a TLV runs past the header");
    unsigned type = p[at], len = read_u16(p + at + 1);
    if (len > total - at - 3) return invalid(rule, "PROXY v2: a TLV runs past the header");
    if (type == V2_TLV_CRC32C) {
      /* its length first: a shorter value may end the header (fuzz_proxy_protocol) */
      if (len != 4) return invalid(rule, "PROXY v2: the CRC32C TLV is not 4 bytes long");
      const unsigned char *value = p + at + 3;
      uint32_t sent = (uint32_t)value[0] << 24 | (uint32_t)value[1] << 16 |
                      (uint32_t)value[2] << 8 | value[3];
      if (v2_crc32c(p, total, at + 3) != sent)
        return invalid(rule, "PROXY v2: the CRC32C checksum does not match");
    }
    at += 3 + len;
  }
  return PROXY_PARSE_DONE;
}

/* The source of an INET or INET6 block, as an address whichever family carried it. */
static void v2_source(const unsigned char *addresses, unsigned family, proxy_header *header) {
  ip_address source;
  size_t address_len = family == V2_AF_INET ? 4 : 16;
  if (family == V2_AF_INET) { /* as IPv4-mapped IPv6, the form ip_address holds */
    memset(source.bytes, 0, 10);
    source.bytes[10] = source.bytes[11] = 0xFF;
    memcpy(source.bytes + 12, addresses, 4);
  } else {
    memcpy(source.bytes, addresses, 16);
  }
  ip_address_format(&source, header->source_host);
  header->source_port = (int)read_u16(addresses + 2 * address_len);
  header->has_source = 1;
}

static proxy_parse_result parse_v2(const unsigned char *p, size_t len, size_t max_length,
                                   proxy_header *header, const char **rule) {
  if (len > 12 && p[12] >> 4 != 2) return invalid(rule, "PROXY v2: the version is not 2");
  unsigned command = len > 12 ? p[12] & 0x0F : 0;
  if (command != V2_COMMAND_LOCAL && command != V2_COMMAND_PROXY)
    return invalid(rule, "PROXY v2: the command is neither LOCAL nor PROXY");
  /* LOCAL (the balancer's own health check): the specification has the receiver accept it
   * and discard the protocol block, family included, whatever it holds. */
  int local = command == V2_COMMAND_LOCAL;
  unsigned family = len > 13 ? p[13] >> 4 : 0, transport = len > 13 ? p[13] & 0x0F : 0;
  /* The specification's pairs: UNSPEC with UNSPEC; INET, INET6, UNIX with STREAM or DGRAM. */
  if (!local && (family > V2_AF_UNIX || transport > V2_TRANSPORT_DGRAM ||
                 (family == V2_AF_UNSPEC) != (transport == V2_TRANSPORT_UNSPEC)))
    return invalid(rule, "PROXY v2: an unassigned address family or transport");
  if (!local && transport == V2_TRANSPORT_DGRAM)
    return invalid(rule, "PROXY v2: a datagram transport on a stream connection");
  if (len < PROXY_V2_FIXED_LENGTH) return PROXY_PARSE_MORE;
  size_t total = PROXY_V2_FIXED_LENGTH + read_u16(p + 14);
  static const size_t address_sizes[] = {0, 12, 36, 216};
  size_t address_size = local ? 0 : address_sizes[family];
  if (total - PROXY_V2_FIXED_LENGTH < address_size)
    return invalid(rule, "PROXY v2: the length is shorter than the addresses of its family");
  if (total > max_length) return invalid(rule, "PROXY v2: the header is longer than the read buffer");
  if (len < total) return PROXY_PARSE_MORE;
  if (!local) {
    proxy_parse_result tlvs = v2_tlvs(p, PROXY_V2_FIXED_LENGTH + address_size, total, rule);
    if (tlvs != PROXY_PARSE_DONE) return tlvs;
    if (family == V2_AF_INET || family == V2_AF_INET6)
      v2_source(p + PROXY_V2_FIXED_LENGTH, family, header);
  }
  header->version = 2;
  header->length = total;
  return PROXY_PARSE_DONE;
}

/* ---------------------------------------------------------------- either */

proxy_parse_result proxy_protocol_parse(const char *data, size_t len, size_t max_length,
                                        proxy_header *header, const char **rule) {
  memset(header, 0, sizeof *header);
  *rule = NULL;
  if (len == 0) return PROXY_PARSE_MORE;
  if (starts_like(data, len, v2_signature, sizeof v2_signature))
    return parse_v2((const unsigned char *)data, len, max_length, header, rule);
  if (starts_like(data, len, v1_signature, sizeof v1_signature - 1))
    return parse_v1(data, len, header, rule);
  return invalid(rule, "the connection does not start with a PROXY protocol header");
}
