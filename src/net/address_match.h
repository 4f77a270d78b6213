/*
 * address_match.h - whether a peer is one of the addresses a setting lists: the trusted
 * proxies of forwarded_allow_ips.
 *
 * An entry is an IPv4 or IPv6 address, a CIDR range of either (10.0.0.0/8, fd00::/8), "*"
 * (every peer) or "unix" (a peer on a Unix socket, which has no address). One setting value
 * may hold several entries separated by commas or spaces, as uvicorn's and gunicorn's
 * forwarded_allow_ips do. An IPv4-mapped IPv6 address (::ffff:10.1.2.3, what a dual-stack
 * listener reports for an IPv4 client) is its IPv4 address: 10.0.0.0/8 matches it.
 *
 * Pure: no I/O, no logging.
 */
#ifndef ASGID_NET_ADDRESS_MATCH_H
#define ASGID_NET_ADDRESS_MATCH_H

#include <stddef.h>
#include <stdint.h>

/* An address as 16 bytes: IPv6, or IPv4 mapped (::ffff:a.b.c.d). */
typedef struct ip_address {
  uint8_t bytes[16];
} ip_address;

typedef struct address_range {
  ip_address base;  /* its bits after the prefix are zero */
  unsigned prefix;  /* leading bits that must match, 0-128 (an IPv4 /n is 96 + n) */
} address_range;

typedef struct address_match {
  address_range *ranges;
  size_t count;
  unsigned any : 1;        /* "*" */
  unsigned unix_peers : 1; /* "unix" */
} address_match;

/* Longest numeric address text with its NUL (INET6_ADDRSTRLEN). */
#define IP_ADDRESS_TEXT_SIZE 46

/* Parses len bytes of numeric IPv4 or IPv6 text (no brackets, no port, no zone) into *out.
 * Returns 0, or -1 when the text is not one. */
int ip_address_parse(const char *text, size_t len, ip_address *out);

/* The canonical text of an address (an IPv4-mapped one as IPv4) into a buffer of
 * IP_ADDRESS_TEXT_SIZE bytes. */
void ip_address_format(const ip_address *address, char *text);

/* Adds the entries of one setting value to m. Returns 0; or -1 with why naming the first
 * entry that is none of the above (the valid ones are added all the same) or saying that
 * memory ran out. */
int address_match_add(address_match *m, const char *value, char *why, size_t why_size);

/* 1 when the address is listed (or "*" is), else 0. */
int address_match_has(const address_match *m, const ip_address *address);

/* 1 when a peer is trusted: host is its numeric address text, or "" for a peer with no
 * address (a Unix socket); else 0. Text that is not an address is not trusted. */
int address_match_has_peer(const address_match *m, const char *host);

void address_match_free(address_match *m);

#endif /* ASGID_NET_ADDRESS_MATCH_H */
