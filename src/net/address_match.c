/* address_match.c - trusted peers by address and range. See address_match.h. */
#include "net/address_match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int is_v4_mapped(const ip_address *a) {
  return memcmp(a->bytes, v4_mapped_prefix, sizeof v4_mapped_prefix) == 0;
}

int ip_address_parse(const char *text, size_t len, ip_address *out) {
  char copy[IP_ADDRESS_TEXT_SIZE];
  /* libuv's parser would drop a zone (%eth0) silently: a zone is not an address here */
  if (len == 0 || len >= sizeof copy || memchr(text, '%', len)) return -1;
  memcpy(copy, text, len);
  copy[len] = '\0';
  if (memchr(copy, ':', len)) return uv_inet_pton(AF_INET6, copy, out->bytes) == 0 ? 0 : -1;
  memcpy(out->bytes, v4_mapped_prefix, sizeof v4_mapped_prefix);
  return uv_inet_pton(AF_INET, copy, out->bytes + 12) == 0 ? 0 : -1;
}

void ip_address_format(const ip_address *address, char *text) {
  if (is_v4_mapped(address))
    uv_inet_ntop(AF_INET, address->bytes + 12, text, IP_ADDRESS_TEXT_SIZE);
  else
    uv_inet_ntop(AF_INET6, address->bytes, text, IP_ADDRESS_TEXT_SIZE);
}

/* Bits after the first prefix bits of a, cleared. */
static void keep_prefix(ip_address *a, unsigned prefix) {
  for (unsigned i = 0; i < 16; i++) {
    unsigned start = i * 8;
    if (prefix >= start + 8) continue;
    a->bytes[i] &= prefix > start ? (uint8_t)(0xff << (8 - (prefix - start))) : 0;
  }
}

/* One entry: "*", "unix", ADDRESS or ADDRESS/BITS. Returns 0, -1 not an entry, -2 no memory. */
static int add_entry(address_match *m, const char *entry, size_t len) {
  if (len == 1 && entry[0] == '*') {
    m->any = 1;
    return 0;
  }
  if (len == 4 && memcmp(entry, "unix", 4) == 0) {
    m->unix_peers = 1;
    return 0;
  }
  const char *slash = memchr(entry, '/', len);
  size_t address_len = slash ? (size_t)(slash - entry) : len;
  address_range range;
  if (ip_address_parse(entry, address_len, &range.base) != 0) return -1;
  unsigned family_bits = is_v4_mapped(&range.base) ? 32 : 128;
  unsigned bits = family_bits;
  if (slash) {
    const char *digits = slash + 1, *end = entry + len;
    if (digits == end || end - digits > 3) return -1;
    bits = 0;
    for (const char *d = digits; d < end; d++) {
      if (*d < '0' || *d > '9') return -1;
      bits = bits * 10 + (unsigned)(*d - '0');
    }
    if (bits > family_bits) return -1;
  }
  range.prefix = bits + (128 - family_bits);
  keep_prefix(&range.base, range.prefix);
  address_range *grown = realloc(m->ranges, (m->count + 1) * sizeof *grown);
  if (!grown) return -2;
  m->ranges = grown;
  m->ranges[m->count++] = range;
  return 0;
}

int address_match_add(address_match *m, const char *value, char *why, size_t why_size) {
  int result = 0;
  const char *p = value;
  while (*p) {
    size_t skip = strspn(p, ", \t");
    p += skip;
    size_t len = strcspn(p, ", \t");
    if (len == 0) break;
    int rc = add_entry(m, p, len);
    if (rc == -2) {
      snprintf(why, why_size, "out of memory");
      return -1;
    }
    if (rc != 0 && result == 0) {
      snprintf(why, why_size,
               "\"%.*s\" is not an IP address, a CIDR range (10.0.0.0/8, fd00::/8), \"*\" or "
               "\"unix\"",
               (int)(len > 64 ? 64 : len), p);
      result = -1;
    }
    p += len;
  }
  return result;
}

static int in_range(const address_range *r, const ip_address *a) {
  unsigned full = r->prefix / 8, rest = r->prefix % 8;
  if (memcmp(r->base.bytes, a->bytes, full) != 0) return 0;
  if (rest == 0) return 1;
  uint8_t mask = (uint8_t)(0xff << (8 - rest));
  return (a->bytes[full] & mask) == r->base.bytes[full];
}

int address_match_has(const address_match *m, const ip_address *address) {
  if (m->any) return 1;
  for (size_t i = 0; i < m->count; i++)
    if (in_range(&m->ranges[i], address)) return 1;
  return 0;
}

int address_match_has_peer(const address_match *m, const char *host) {
  if (m->any) return 1;
  if (host[0] == '\0') return m->unix_peers;
  ip_address address;
  return ip_address_parse(host, strlen(host), &address) == 0 && address_match_has(m, &address);
}

void address_match_free(address_match *m) {
  free(m->ranges);
  memset(m, 0, sizeof *m);
}
