/* forwarded.c - the forwarding headers of a trusted proxy. See forwarded.h. */
#include "http/forwarded.h"

#include <string.h>

#include "http/header_lookup.h"

typedef struct span {
  const char *p;
  size_t len;
} span;

static int is_ows(char c) { return c == ' ' || c == '\t'; }

static span trim(const char *p, size_t len) {
  while (len && is_ows(p[0])) p++, len--;
  while (len && is_ows(p[len - 1])) len--;
  return (span){p, len};
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* RFC 9110's tchar. */
static int is_tchar(char c) { return is_alnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c)); }

static int lower_equals(span s, const char *lowercase) {
  size_t len = strlen(lowercase);
  if (s.len != len) return 0;
  for (size_t i = 0; i < len; i++) {
    char c = s.p[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != lowercase[i]) return 0;
  }
  return 1;
}

/* 1-5 digits, 0-65535: the value, else -1. */
static int port_value(span s) {
  if (s.len == 0 || s.len > 5) return -1;
  int value = 0;
  for (size_t i = 0; i < s.len; i++) {
    if (!is_digit(s.p[i])) return -1;
    value = value * 10 + (s.p[i] - '0');
  }
  return value <= 65535 ? value : -1;
}

/* A Host as a URL may carry it: a name (letters, digits, "-._~", percent-escapes) or an IP
 * literal in brackets, then an optional ":port". Nothing an app would put into a URL
 * unescaped and regret: no "/", "@", "?", "#", quotes, spaces or controls. */
static int valid_host(span s) {
  size_t i = 0;
  if (s.len && s.p[0] == '[') {
    for (i = 1; i < s.len && s.p[i] != ']'; i++)
      if (!is_alnum(s.p[i]) && s.p[i] != ':' && s.p[i] != '.') return 0;
    if (i == s.len || i == 1) return 0;
    i++;
  } else {
    for (; i < s.len && s.p[i] != ':'; i++)
      if (!is_alnum(s.p[i]) && !(s.p[i] && strchr("-._~%", s.p[i]))) return 0;
    if (i == 0) return 0;
  }
  if (i == s.len) return 1;
  return s.p[i] == ':' && port_value((span){s.p + i + 1, s.len - i - 1}) >= 0;
}

/* A node: IPv4, IPv6 bare or in brackets, either with a port ("1.2.3.4:80", "[::1]:80"; an
 * obfuscated RFC 7239 port "_x" counts as none). Returns 1 with the address and port (0 when
 * none) when it is an address, 0 when it is anything else ("unknown", an obfuscated name). */
static int parse_node(span s, ip_address *address, int *port) {
  span host = s, port_text = {NULL, 0};
  if (s.len && s.p[0] == '[') {
    const char *close = memchr(s.p, ']', s.len);
    if (!close) return 0;
    host = (span){s.p + 1, (size_t)(close - s.p - 1)};
    size_t rest = s.len - (size_t)(close - s.p) - 1;
    if (rest) {
      if (close[1] != ':') return 0;
      port_text = (span){close + 2, rest - 1};
    }
    if (!memchr(host.p, ':', host.len)) return 0; /* brackets hold IPv6 only */
  } else {
    const char *colon = memchr(s.p, ':', s.len);
    if (colon && !memchr(colon + 1, ':', s.len - (size_t)(colon - s.p) - 1)) {
      host = (span){s.p, (size_t)(colon - s.p)};
      port_text = (span){colon + 1, s.len - host.len - 1};
    }
  }
  if (ip_address_parse(host.p, host.len, address) != 0) return 0;
  *port = 0;
  if (port_text.p) {
    int value = port_value(port_text);
    if (value < 0 && !(port_text.len > 1 && port_text.p[0] == '_')) return 0;
    if (value > 0) *port = value;
  }
  return 1;
}

/* ---------------------------------------------------------------- lists */

/* The entries of every line named `name`, in order, split on commas (outside quoted strings
 * when quoted), trimmed, empty ones skipped: the right-most max of them go to out, oldest
 * first (only entries right of the first untrusted one matter, and a client may send any
 * number). Sets *total to how many there were; returns 0, or -1 when a quoted string is not
 * closed. */
static int collect(const asgid_header *headers, size_t count, const char *name, int quoted,
                   span *out, size_t max, size_t *total) {
  size_t n = 0;
  for (size_t h = 0; h < count; h++) {
    if (!http_header_name_is(&headers[h], name)) continue;
    const char *p = headers[h].value, *end = p + headers[h].value_len, *start = p;
    int in_quotes = 0;
    for (; p <= end; p++) {
      if (p < end && in_quotes) {
        if (*p == '\\' && p + 1 < end) p++;
        else if (*p == '"') in_quotes = 0;
        continue;
      }
      if (p < end && *p == '"' && quoted) in_quotes = 1;
      if (p < end && *p != ',') continue;
      span entry = trim(start, (size_t)(p - start));
      start = p + 1;
      if (entry.len == 0) continue;
      out[n++ % max] = entry; /* a ring: the oldest is overwritten */
    }
    if (in_quotes) return -1;
  }
  *total = n;
  if (n > max) { /* unroll the ring, oldest first */
    span ring[HTTP_FORWARDED_MAX_HOPS];
    memcpy(ring, out, max * sizeof *out);
    for (size_t i = 0; i < max; i++) out[i] = ring[(n + i) % max];
  }
  return 0;
}

/* The right-most entry of the last line named `name`; 0 when there is none. */
static int last_entry(const asgid_header *headers, size_t count, const char *name, span *out) {
  for (size_t h = count; h-- > 0;) {
    if (!http_header_name_is(&headers[h], name)) continue;
    const char *value = headers[h].value;
    size_t len = headers[h].value_len;
    while (len) {
      const char *comma = value + len;
      while (comma > value && comma[-1] != ',') comma--;
      span entry = trim(comma, len - (size_t)(comma - value));
      if (entry.len) {
        *out = entry;
        return 1;
      }
      len = comma > value ? (size_t)(comma - value) - 1 : 0;
    }
  }
  return 0;
}

/* The index of the client's entry among n: the right-most that is not a trusted address;
 * n when all are. */
typedef int (*entry_address_fn)(void *data, size_t i, ip_address *address);

static size_t client_entry(size_t n, const address_match *trusted, entry_address_fn address_of,
                           void *data) {
  for (size_t i = n; i-- > 0;) {
    ip_address address;
    if (!address_of(data, i, &address) || !address_match_has(trusted, &address)) return i;
  }
  return n;
}

/* The client's entry when all n considered are trusted: the left-most, as uvicorn (the
 * client is itself a trusted host), unless entries were left out: then who the client is
 * lies left of what was read. Returns n for "unknown". */
static size_t all_trusted_entry(size_t n, size_t total) { return total > n ? n : 0; }

/* A trusted proxy's header that cannot be read leaves the client unknown, never the proxy
 * itself: the app must not take a client's garbled header for a request from its proxy. */
static void client_unknown(http_forwarded *out, const char *rule) {
  out->client_set = 1;
  out->client_known = 0;
  out->rule = rule;
}

static void set_client(http_forwarded *out, span node) {
  ip_address address;
  int port;
  out->client_set = 1;
  out->client_known = (unsigned)parse_node(node, &address, &port);
  if (out->client_known) {
    ip_address_format(&address, out->client_host);
    out->client_port = port;
  }
}

/* 1 https or wss, 0 http or ws, -1 anything else. */
static int proto_secure(span proto) {
  if (lower_equals(proto, "https") || lower_equals(proto, "wss")) return 1;
  if (lower_equals(proto, "http") || lower_equals(proto, "ws")) return 0;
  return -1;
}

/* ---------------------------------------------------------------- X-Forwarded-* */

static int x_forwarded_address(void *data, size_t i, ip_address *address) {
  int port;
  return parse_node(((span *)data)[i], address, &port);
}

static void read_x_forwarded(const asgid_header *headers, size_t count,
                             const address_match *trusted, int read_host, http_forwarded *out) {
  span entries[HTTP_FORWARDED_MAX_HOPS], value;
  size_t total;
  collect(headers, count, "x-forwarded-for", 0, entries, HTTP_FORWARDED_MAX_HOPS, &total);
  size_t n = total < HTTP_FORWARDED_MAX_HOPS ? total : HTTP_FORWARDED_MAX_HOPS;
  if (n > 0) {
    size_t i = client_entry(n, trusted, x_forwarded_address, entries);
    if (i == n) i = all_trusted_entry(n, total);
    if (i < n)
      set_client(out, entries[i]);
    else
      client_unknown(out, "X-Forwarded-For: more than 64 addresses, the right-most 64 all "
                          "trusted proxies: the client is unknown");
  }
  if (last_entry(headers, count, "x-forwarded-proto", &value)) {
    out->secure = proto_secure(value);
    if (out->secure < 0) out->rule = "X-Forwarded-Proto ignored: not http, https, ws or wss";
  }
  if (!read_host) return;
  if (last_entry(headers, count, "x-forwarded-host", &value)) {
    if (valid_host(value)) {
      out->host = value.p;
      out->host_len = value.len;
    } else {
      out->rule = "X-Forwarded-Host ignored: not a host name or IP literal with an optional port";
    }
  }
  if (last_entry(headers, count, "x-forwarded-port", &value)) {
    int port = port_value(value);
    if (port > 0) out->port = port;
    else out->rule = "X-Forwarded-Port ignored: not a port number 1-65535";
  }
}

/* ---------------------------------------------------------------- Forwarded (RFC 7239) */

/* One forwarded-element: for=, host=, proto= (by= and extensions are skipped). */
typedef struct forwarded_element {
  int has_for;
  span for_node; /* within for_text when the value was quoted */
  char for_text[IP_ADDRESS_TEXT_SIZE + 16];
  span host, proto;
} forwarded_element;

/* A value: a token, or a quoted string: copied unescaped into buf, or without buf its bytes
 * between the quotes as they are (a host or proto holding a backslash is refused later).
 * Returns the value, or .p NULL when it is neither. */
static span element_value(span raw, char *buf, size_t buf_size) {
  if (raw.len && raw.p[0] == '"') {
    if (raw.len < 2 || raw.p[raw.len - 1] != '"') return (span){NULL, 0};
    size_t n = 0;
    for (size_t i = 1; i + 1 < raw.len; i++) {
      char c = raw.p[i];
      if (c == '\\') {
        if (i + 2 >= raw.len) return (span){NULL, 0};
        c = raw.p[++i];
      }
      if ((unsigned char)c < 0x20 || c == 0x7f) return (span){NULL, 0};
      if (buf) {
        if (n == buf_size) return (span){NULL, 0};
        buf[n++] = c;
      }
    }
    return buf ? (span){buf, n} : (span){raw.p + 1, raw.len - 2};
  }
  for (size_t i = 0; i < raw.len; i++)
    if (!is_tchar(raw.p[i])) return (span){NULL, 0};
  return raw.len ? raw : (span){NULL, 0};
}

/* Returns 0, or -1 when the element is not RFC 7239 syntax (or repeats a parameter). */
static int parse_element(span element, forwarded_element *e) {
  memset(e, 0, sizeof *e);
  const char *p = element.p, *end = element.p + element.len;
  while (p < end) {
    const char *pair_end = p;
    int in_quotes = 0;
    for (; pair_end < end && (in_quotes || *pair_end != ';'); pair_end++) {
      if (in_quotes && *pair_end == '\\' && pair_end + 1 < end) pair_end++;
      else if (*pair_end == '"') in_quotes = !in_quotes;
    }
    span pair = trim(p, (size_t)(pair_end - p));
    p = pair_end < end ? pair_end + 1 : end;
    if (pair.len == 0) continue; /* RFC 7239 allows empty pairs: "for=a;;proto=http" */
    const char *equals = memchr(pair.p, '=', pair.len);
    if (!equals) return -1;
    span name = {pair.p, (size_t)(equals - pair.p)};
    span raw = {equals + 1, pair.len - name.len - 1};
    for (size_t i = 0; i < name.len; i++)
      if (!is_tchar(name.p[i])) return -1;
    if (name.len == 0) return -1;
    if (lower_equals(name, "for")) {
      if (e->has_for) return -1;
      e->has_for = 1;
      e->for_node = element_value(raw, e->for_text, sizeof e->for_text);
      if (!e->for_node.p) return -1;
    } else if (lower_equals(name, "host")) {
      if (e->host.p) return -1;
      e->host = element_value(raw, NULL, 0);
      if (!e->host.p) return -1;
    } else if (lower_equals(name, "proto")) {
      if (e->proto.p) return -1;
      e->proto = element_value(raw, NULL, 0);
      if (!e->proto.p) return -1;
    } else if (!element_value(raw, NULL, 0).p) { /* by= and extensions: checked, unused */
      return -1;
    }
  }
  return 0;
}

typedef struct forwarded_walk {
  span *elements;
  int invalid; /* an element walked over is not RFC 7239 syntax */
} forwarded_walk;

/* An element without for= is where the walk stops: its proxy did not say who the client is. */
static int forwarded_address(void *data, size_t i, ip_address *address) {
  forwarded_walk *walk = data;
  forwarded_element e;
  int port;
  if (parse_element(walk->elements[i], &e) != 0) {
    walk->invalid = 1;
    return 0;
  }
  return e.has_for && parse_node(e.for_node, address, &port);
}

static void read_forwarded(const asgid_header *headers, size_t count,
                           const address_match *trusted, int read_host, http_forwarded *out) {
  span elements[HTTP_FORWARDED_MAX_HOPS];
  size_t total;
  if (collect(headers, count, "forwarded", 1, elements, HTTP_FORWARDED_MAX_HOPS, &total) != 0) {
    client_unknown(out, "Forwarded ignored: a quoted string is not closed");
    return;
  }
  size_t n = total < HTTP_FORWARDED_MAX_HOPS ? total : HTTP_FORWARDED_MAX_HOPS;
  if (n == 0) return;
  forwarded_walk walk = {elements, 0};
  size_t chosen = client_entry(n, trusted, forwarded_address, &walk);
  if (chosen == n) chosen = all_trusted_entry(n, total);
  if (chosen == n) {
    client_unknown(out, "Forwarded: more than 64 elements, the right-most 64 all trusted "
                        "proxies: the client is unknown");
    return;
  }
  forwarded_element e;
  if (walk.invalid || parse_element(elements[chosen], &e) != 0) {
    client_unknown(out, "Forwarded ignored: not RFC 7239 syntax (for=, host=, proto= pairs "
                        "separated by ';', elements by ',')");
    return;
  }
  int secure = e.proto.p ? proto_secure(e.proto) : -1;
  if ((e.proto.p && secure < 0) || (read_host && e.host.p && !valid_host(e.host))) {
    client_unknown(out, "Forwarded ignored: a proto other than http or https, or a host that "
                        "is not a host name or IP literal with an optional port");
    return;
  }
  if (e.has_for) set_client(out, e.for_node);
  out->secure = secure;
  if (read_host && e.host.p) {
    out->host = e.host.p;
    out->host_len = e.host.len;
  }
}

void http_forwarded_read(const asgid_header *headers, size_t count, const address_match *trusted,
                         http_forwarded_family family, int read_host, http_forwarded *out) {
  memset(out, 0, sizeof *out);
  out->secure = -1;
  out->port = -1;
  if (family == HTTP_FORWARDED_RFC7239)
    read_forwarded(headers, count, trusted, read_host, out);
  else
    read_x_forwarded(headers, count, trusted, read_host, out);
}
