/* metrics_request.c - the metrics listener's request reader. See metrics_request.h. */
#include "master/metrics_request.h"

#include <string.h>

static const char *find(const char *buf, size_t len, const char *what) {
  size_t n = strlen(what);
  for (size_t i = 0; i + n <= len; i++)
    if (memcmp(buf + i, what, n) == 0) return buf + i;
  return NULL;
}

static int is_token_char(char c) { return (c >= 'A' && c <= 'Z') || c == '-' || c == '_'; }

static int is_target_char(char c) { return c > 0x20 && c < 0x7f; }

static metrics_request bad(int status, const char *rule) {
  return (metrics_request){.status = status, .rule = rule};
}

static metrics_route route_of(const char *path, size_t len) {
  static const struct {
    const char *path;
    metrics_route route;
  } routes[] = {{"/metrics", METRICS_ROUTE_METRICS},
                {"/healthz", METRICS_ROUTE_HEALTHZ},
                {"/readyz", METRICS_ROUTE_READYZ}};
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
    if (strlen(routes[i].path) == len && memcmp(routes[i].path, path, len) == 0)
      return routes[i].route;
  return METRICS_ROUTE_NONE;
}

metrics_request metrics_request_parse(const char *buf, size_t len) {
  if (len > METRICS_REQUEST_MAX) len = METRICS_REQUEST_MAX;
  const char *end = find(buf, len, "\r\n\r\n");
  if (!end) {
    if (len == METRICS_REQUEST_MAX)
      return bad(431, "a request head longer than the metrics listener reads");
    return (metrics_request){0};
  }
  const char *line_end = find(buf, (size_t)(end - buf) + 2, "\r\n");
  const char *p = buf;
  while (p < line_end && is_token_char(*p)) p++;
  const char *method = buf;
  size_t method_len = (size_t)(p - buf);
  if (method_len == 0 || p == line_end || *p != ' ')
    return bad(400, "a request line must start with a method and one space");
  const char *target = ++p;
  while (p < line_end && is_target_char(*p)) p++;
  size_t target_len = (size_t)(p - target);
  if (target_len == 0 || p == line_end || *p != ' ')
    return bad(400, "a request target must be visible ASCII followed by one space");
  p++;
  if ((size_t)(line_end - p) != 8 ||
      (memcmp(p, "HTTP/1.1", 8) != 0 && memcmp(p, "HTTP/1.0", 8) != 0))
    return bad(400, "a request line must end with HTTP/1.0 or HTTP/1.1");
  /* HEAD first: every answer to it, a 404 too, goes without a body. */
  int get = method_len == 3 && memcmp(method, "GET", 3) == 0;
  int head = method_len == 4 && memcmp(method, "HEAD", 4) == 0;
  const char *query = memchr(target, '?', target_len);
  metrics_route route = route_of(target, query ? (size_t)(query - target) : target_len);
  if (route == METRICS_ROUTE_NONE) return (metrics_request){.status = 404, .head = head};
  if (!get && !head) return (metrics_request){.status = 405};
  return (metrics_request){.status = 200, .route = route, .head = head};
}
