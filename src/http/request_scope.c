/* request_scope.c - the ASGI scope of a request head. See request_scope.h. */
#include "http/request_scope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/forwarded.h"
#include "http/header_lookup.h"
#include "http/target.h"
#include "log/log_rate_limit.h"

/* Copies len bytes to *cursor as a NUL-terminated string and advances the cursor. */
static const char *put_string(char **cursor, const char *bytes, size_t len) {
  char *start = *cursor;
  if (len) memcpy(start, bytes, len);
  start[len] = '\0';
  *cursor += len + 1;
  return start;
}

/* The longest value a Host the app sees may be built from: the request's Host, a Forwarded
 * or an X-Forwarded-Host header. */
static size_t longest_host_source(const http_head *head) {
  static const char *const sources[] = {"host", "forwarded", "x-forwarded-host"};
  size_t longest = 0;
  for (size_t i = 0; i < head->field_count; i++) {
    const http_field *f = &head->fields[i];
    asgid_header h = {head->arena + f->name_offset, f->name_len, NULL, f->value_len};
    for (size_t s = 0; s < sizeof sources / sizeof *sources; s++)
      if (http_header_name_is(&h, sources[s]) && f->value_len > longest) longest = f->value_len;
  }
  return longest;
}

/* The Host the client asked the proxy for: X-Forwarded-Host or Forwarded's host= in place of
 * the request's own, with X-Forwarded-Port in place of its port (left out when it is the
 * default of the scheme the scope carries, so that URLs an app builds from it carry none). Written at *cursor;
 * returns its length, or 0 when there is no host to say it of. */
static size_t forwarded_host(const http_forwarded *fwd, const asgid_header *host_header,
                             int secure, char *cursor) {
  const char *host = fwd->host ? fwd->host : host_header ? host_header->value : NULL;
  size_t len = fwd->host ? fwd->host_len : host_header ? host_header->value_len : 0;
  if (!host || len == 0) return 0;
  if (fwd->port >= 0) {
    /* the port of "name:port" or "[v6]:port" goes; a bracketed address keeps its colons */
    const char *close = memchr(host, ']', len);
    const char *colon = memchr(close ? close : host, ':', len - (size_t)(close ? close - host : 0));
    if (colon) len = (size_t)(colon - host);
  }
  memcpy(cursor, host, len);
  if (fwd->port >= 0 && fwd->port != (secure ? 443 : 80))
    len += (size_t)snprintf(cursor + len, 7, ":%d", fwd->port);
  return len;
}

/* What a trusted proxy's headers change in the scope: the client, the scheme and (with
 * forwarded_host) the Host header. The text they need is written at *cursor (room for the
 * client's address and a Host of longest_host_source + 6 bytes). */
static void apply_forwarded(asgid_scope *scope, asgid_header *headers, size_t *header_count,
                            http_service *service, const transport *t, char **cursor) {
  const asgid_settings *settings = service->settings;
  http_forwarded fwd;
  http_forwarded_read(headers, *header_count, &service->forwarded_allow,
                      settings->forwarded_headers == ASGID_FORWARDED_HEADERS_FORWARDED
                          ? HTTP_FORWARDED_RFC7239
                          : HTTP_FORWARDED_X_FORWARDED,
                      settings->forwarded_host, &fwd);
  /* nginx passes a client's own X-Forwarded-Proto along: a client can cause this at will */
  if (fwd.rule)
    log_rate_limited(&service->forwarded_rule_log, uv_now(t->group->loop),
                     "%s (from trusted proxy %s)", fwd.rule, transport_peer_name(t));
  if (fwd.client_set) {
    scope->client = fwd.client_known
                        ? (asgid_address){1, put_string(cursor, fwd.client_host,
                                                        strlen(fwd.client_host)),
                                          fwd.client_port}
                        : (asgid_address){0, NULL, 0};
  }
  if (fwd.secure >= 0) scope->scheme = fwd.secure ? "https" : "http";
  if (!fwd.host && fwd.port < 0) return;
  asgid_header *host_header = http_header_find(headers, *header_count, "host");
  size_t len = forwarded_host(&fwd, host_header, strcmp(scope->scheme, "https") == 0, *cursor);
  if (len == 0) return;
  if (!host_header) { /* an HTTP/1.0 request may have none: the app gets one */
    host_header = &headers[(*header_count)++];
    *host_header = (asgid_header){"host", 4, NULL, 0};
  }
  host_header->value = *cursor;
  host_header->value_len = len;
  (*cursor)[len] = '\0';
  *cursor += len + 1;
}

char *http_request_scope_build(asgid_scope *scope, const http_head *head, const transport *t,
                               http_service *service) {
  const asgid_settings *settings = service->settings;
  const char *target = head->arena + head->target_offset;
  const char *path, *query;
  size_t path_len, query_len;
  http_target_split(target, head->target_len, &path, &path_len, &query, &query_len);
  size_t root_path_len = strlen(settings->root_path);

  /* only a request with a forwarding header pays for the peer's trust */
  int forwarded = head->forwarding &&
                  address_match_has_peer(&service->forwarded_allow, t->client_host);
  /* a forwarded Host may be added to the headers; its text and the client's go last */
  size_t header_slots = head->field_count + (forwarded ? 1 : 0);
  size_t headers_size = header_slots * sizeof(asgid_header);
  size_t size = headers_size + (head->method_len + 1) + (path_len + 1) +
                (root_path_len + path_len + 1) + (query_len + 1) +
                (forwarded ? IP_ADDRESS_TEXT_SIZE + longest_host_source(head) + 7 : 0);
  char *storage = malloc(size);
  if (!storage) return NULL;
  asgid_header *headers = (asgid_header *)storage;
  for (size_t i = 0; i < head->field_count; i++) {
    const http_field *f = &head->fields[i];
    headers[i] = (asgid_header){head->arena + f->name_offset, f->name_len,
                                head->arena + f->value_offset, f->value_len};
  }
  char *cursor = storage + headers_size;

  scope->type = ASGID_SCOPE_HTTP;
  scope->type_name = "http";
  scope->http_version = head->http_minor ? "1.1" : "1.0";
  scope->scheme = "http";
  scope->method = put_string(&cursor, head->arena + head->method_offset, head->method_len);
  scope->raw_path = put_string(&cursor, path, path_len);
  scope->raw_path_len = path_len;
  /* path is root_path followed by the decoded target path (the ASGI spec, uvicorn >= 0.26):
   * a router strips root_path from it (Starlette's Mount, FastAPI's root_path) */
  char *full_path = cursor;
  if (root_path_len) memcpy(full_path, settings->root_path, root_path_len);
  scope->path_len = root_path_len + http_percent_decode(path, path_len, full_path + root_path_len);
  full_path[scope->path_len] = '\0';
  scope->path = full_path;
  cursor += root_path_len + path_len + 1;
  scope->query_string = put_string(&cursor, query, query_len);
  scope->query_string_len = query_len;
  scope->root_path = settings->root_path;
  scope->root_path_len = root_path_len;
  scope->headers = headers;
  scope->header_count = head->field_count;
  /* An empty client_host is a peer with no address: a Unix socket, or a PROXY header that
   * named none */
  scope->client = t->client_host[0] ? (asgid_address){1, t->client_host, t->client_port}
                                    : (asgid_address){0, NULL, 0};
  scope->server = t->listener->kind == LISTENER_TCP
                      ? (asgid_address){1, t->listener->host, t->listener->port}
                      : (asgid_address){1, t->listener->host, -1};
  if (forwarded) apply_forwarded(scope, headers, &scope->header_count, service, t, &cursor);
  return storage;
}
