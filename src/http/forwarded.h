/*
 * forwarded.h - what a trusted proxy says about the request it forwards: the client's
 * address, the scheme and the Host the client used. Read from X-Forwarded-For, -Proto,
 * -Host and -Port, or from RFC 7239's Forwarded: one family, the one the trusted proxy
 * writes (forwarded_headers; X-Forwarded-* is what nginx, HAProxy's forwardfor, AWS and
 * Google load balancers, Traefik and Caddy send). The other family is a client's own and
 * changes nothing. The Host and port are read only when asked (forwarded_host): nginx and
 * AWS ALB pass a client's X-Forwarded-Host along unless told to overwrite it.
 *
 * The client is the right-most address that is not a trusted proxy, as uvicorn, werkzeug's
 * ProxyFix and nginx's real_ip_recursive take it: each proxy appends the peer it saw, so
 * only the entries right of the first untrusted one were written by trusted hands. Only the
 * right-most HTTP_FORWARDED_MAX_HOPS entries are walked. When every entry is trusted, the
 * left-most is the client (as uvicorn), unless entries were left out: then it is unknown. A
 * trusted proxy's header that cannot be read leaves the client unknown, never the proxy. The scheme, host and port come from the
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

/* The right-most entries walked: no real chain of proxies is that long, and the walk stays
 * bounded whatever a client sends. */
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

/* Which headers the trusted proxy writes, in the order of forwarded_headers' choices. */
typedef enum { HTTP_FORWARDED_X_FORWARDED, HTTP_FORWARDED_RFC7239 } http_forwarded_family;

/* Reads the forwarding headers of family among headers (names lowercase) into *out. trusted
 * lists the proxies whose entries the walk goes past. read_host 0 leaves the Host and port
 * unread (host NULL, port -1). */
void http_forwarded_read(const asgid_header *headers, size_t count, const address_match *trusted,
                         http_forwarded_family family, int read_host, http_forwarded *out);

#endif /* ASGID_HTTP_FORWARDED_H */
