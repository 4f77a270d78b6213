/* scope_http.c - the rules of the http scope: one response, a start then body events until
 * the last. What the server does when the app is done (500 without a response, a closed
 * connection for an incomplete one) is the HTTP exchange's (http/exchange.c). See
 * scope_rules.h. */
#include <stdint.h>

#include "abi/event_table.h"
#include "abi/fields.h"
#include "asgi/scope_rules.h"

int asgi_http_check_response_start(const asgid_event *event, uint64_t *content_length,
                                   const char **rule) {
  int status = event->u.response_start.status;
  if (status < ASGI_STATUS_MIN || status > ASGI_STATUS_MAX) {
    *rule = "not " ASGI_STATUS_RULE;
    return ASGID_E_INVALID;
  }
  *rule = "a header name that is not a token, or a name or value holding CR, LF or NUL";
  if (event->u.response_start.header_count && !event->u.response_start.headers)
    return ASGID_E_INVALID;
  *content_length = UINT64_MAX;
  for (size_t i = 0; i < event->u.response_start.header_count; i++) {
    const asgid_header *h = &event->u.response_start.headers[i];
    if (!h->name || (!h->value && h->value_len)) return ASGID_E_INVALID;
    if (!asgi_field_name_valid(h->name, h->name_len) ||
        !asgi_field_value_valid(h->value, h->value_len))
      return ASGID_E_INVALID;
    if (asgi_field_equals(h->name, h->name_len, "content-length")) {
      uint64_t n;
      *rule = "an invalid content-length, or two that differ";
      if (asgi_field_parse_length(h->value, h->value_len, &n) != 0) return ASGID_E_INVALID;
      if (*content_length != UINT64_MAX && *content_length != n) return ASGID_E_INVALID;
      *content_length = n;
    }
  }
  return ASGID_OK;
}

int asgi_http_accept_body(asgid_request *req, const asgid_event *event, const char **rule) {
  size_t len = event->u.response_body.body_len;
  if (!req->response_started || req->response_complete) {
    *rule = req->response_complete ? "a body after the last one" : "a body before the start";
    return ASGID_E_INVALID;
  }
  if (len && !event->u.response_body.body) {
    *rule = "a body with a length but no bytes";
    return ASGID_E_INVALID;
  }
  if (req->content_length != UINT64_MAX && len > req->content_length - req->body_sent) {
    *rule = "more body than the declared content-length";
    return ASGID_E_INVALID;
  }
  req->body_sent += len;
  if (!event->u.response_body.more_body) req->response_complete = 1;
  return ASGID_OK;
}

static int http_send(asgid_request *req, const asgid_event *event, const char **rule) {
  if (event->type == ASGID_HTTP_RESPONSE_BODY) return asgi_http_accept_body(req, event, rule);
  /* http.response.start */
  if (req->response_started) {
    *rule = "a second start";
    return ASGID_E_INVALID;
  }
  uint64_t content_length;
  int rc = asgi_http_check_response_start(event, &content_length, rule);
  if (rc != ASGID_OK) return rc;
  req->response_started = 1;
  req->content_length = content_length;
  return ASGID_OK;
}

const asgi_scope_rules asgi_http_rules = {.send = http_send};
