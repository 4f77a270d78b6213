/*
 * proxy_protocol.h - the PROXY protocol header a load balancer (HAProxy, an AWS NLB, nginx's
 * proxy_protocol on an upstream) sends before the client's bytes, to say whose connection it
 * relays: version 1 (one text line) and version 2 (binary), as HAProxy's proxy-protocol.txt
 * defines them.
 *
 * A pure parser of untrusted bytes: it reads what has arrived and says whether a whole,
 * valid header is there, more bytes are needed, or the bytes cannot begin a valid header.
 * It decides as early as it can: bytes that are not a prefix of a valid header are refused
 * at once, without waiting for more (a client speaking HTTP to a PROXY listener is told off
 * by its first byte, not by a timeout). Strict: every field as the specification writes it,
 * nothing tolerated that a correct sender does not produce.
 */
#ifndef ASGID_NET_PROXY_PROTOCOL_H
#define ASGID_NET_PROXY_PROTOCOL_H

#include <stddef.h>

#include "net/address_match.h"

/* The longest version 1 line, CRLF included (the specification's bound). */
#define PROXY_V1_MAX_LENGTH 107

/* The fixed part of a version 2 header: signature, version and command, family, length. */
#define PROXY_V2_FIXED_LENGTH 16

typedef enum proxy_parse_result {
  PROXY_PARSE_INVALID = -1, /* not a valid header: rule says which rule it broke */
  PROXY_PARSE_MORE = 0,     /* a valid beginning: wait for more bytes */
  PROXY_PARSE_DONE = 1      /* a whole header of header->length bytes */
} proxy_parse_result;

typedef struct proxy_header {
  int version;           /* 1 or 2 */
  /* 1 when the header names the relayed client: source_host/source_port are its address.
   * 0 for a v2 LOCAL (the proxy's own health check), a v1 UNKNOWN, a v2 UNSPEC or AF_UNIX
   * address: the connection's real peer stays the client. */
  int has_source;
  char source_host[IP_ADDRESS_TEXT_SIZE]; /* as ip_address_format writes it: an
                                           * IPv4-mapped IPv6 source reads as IPv4 */
  int source_port;
  size_t length;         /* bytes of the header: the client's own bytes start here */
} proxy_header;

/* Parses the header at the start of data[0..len). max_length bounds a v2 header (its length
 * field allows 64 KiB of TLVs: a reader with a smaller buffer could never hold it whole).
 * On PROXY_PARSE_INVALID, *rule is a short phrase naming the broken rule, for the log. */
proxy_parse_result proxy_protocol_parse(const char *data, size_t len, size_t max_length,
                                        proxy_header *header, const char **rule);

#endif /* ASGID_NET_PROXY_PROTOCOL_H */
