/*
 * forwarded.h - what a trusted proxy says about the request it forwards: the client's
 * address, the scheme and the Host the client used. Read from X-Forwarded-For, -Proto,
 * -Host and -Port, or from RFC 7239's Forwarded when none of those came (X-Forwarded-* is
 * what nginx, HAProxy's forwardfor, AWS and Google load balancers, Traefik and Caddy send;
 * a proxy that only appends Forwarded passes a client's X-Forwarded-* along, so behind one
 * the X-Forwarded-* headers must be removed there: docs/deploying.md).
 *
 * The client is the right-most address that is not a trusted proxy, as uvicorn, werkzeug's
 * ProxyFix and nginx's real_ip_recursive take it: each proxy appends the peer it saw, so
 * only the entries right of the first untrusted one were written by trusted hands. When every
 * entry is trusted, the left-most is the client. The scheme, host and port come from the
 * right-most X-Forwarded-Proto, -Host and -Port value (the nearest proxy's: most proxies
 * replace these rather than append), or from the Forwarded element of the chosen client.
 *
 * Only for a peer that is itself trusted: the caller decides that. Pure: no I/O, no logging.
 */
#ifndef ASGID_HTTP_FORWARDED_H
#define ASGID_HTTP_FORWARDED_H

#include <stddef.h>

#include "asgid/asgid.h"
#include "net/address_match.h"

/* More list entries than this in one request's header make it ignored: no real chain of
 * proxies is that long, and the walk stays bounded. */
#define HTTP_FORWARDED_MAX_HOPS 64

typedef struct http_forwarded {
  unsigned client_set : 1;   /* the headers name the client: it replaces the peer */
  unsigned client_known : 1; /* ... by an address (else "unknown" or an obfuscated name) */
  char client_host[IP_ADDRESS_TEXT_SIZE]; /* canonical text of the address */
  int client_port;           /* 0 when the header gave none (as uvicorn) */
  int secure;                /* -1 not said, 0 http or ws, 1 https or wss */
  const char *host;          /* the Host the client asked for (maybe with ":port"), within
                                the header's bytes; NULL when not said */
  size_t host_len;
  int port;                  /* X-Forwarded-Port, replacing the Host's port; -1 not said */
  const char *rule;          /* a header that was ignored, and why; NULL when none was */
} http_forwarded;

/* Reads the forwarding headers among headers (names lowercase) into *out. trusted lists the
 * proxies whose entries the walk goes past. */
void http_forwarded_read(const asgid_header *headers, size_t count, const address_match *trusted,
                         http_forwarded *out);

#endif /* ASGID_HTTP_FORWARDED_H */
