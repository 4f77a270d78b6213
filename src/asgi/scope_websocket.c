/* scope_websocket.c - the rules of the websocket scope (ASGI 2.5 and the websocket.http.response
 * denial extension). See scope_websocket.h and scope_rules.h.
 *
 * Before accept: websocket.accept, websocket.close (a refusal: 403) or a denial response.
 * Accept may come before the app received websocket.connect: many apps accept first. After
 * accept: websocket.send and websocket.close. After the app's close (or a complete denial)
 * every event fails with ASGID_E_DISCONNECTED, as after the client left (ASGI 2.4: send()
 * on a closed connection raises an OSError in Python). */
#include <string.h>

#include "abi/fields.h"
#include "asgi/scope_rules.h"
#include "asgi/scope_websocket.h"
#include "websocket/close_code.h"
#include "websocket/utf8.h"

int asgi_app_handles_websocket(const asgid_app *app) {
  size_t needed = offsetof(asgid_app, capabilities) + sizeof app->capabilities;
  return app->struct_size >= needed && (app->capabilities & ASGID_CAP_WEBSOCKET) != 0;
}

void asgi_websocket_scope_init(asgid_scope *scope) {
  scope->type = ASGID_SCOPE_WEBSOCKET;
  scope->type_name = "websocket";
  scope->spec_version = "2.5";
  scope->http_version = "1.1";
  /* the connection's scheme, said by a trusted proxy (http/forwarded.h), as WebSocket's */
  scope->scheme = scope->scheme && strcmp(scope->scheme, "https") == 0 ? "wss" : "ws";
  scope->method = NULL;
}

int asgi_websocket_close_code(const asgid_event *event) {
  return event->u.websocket_close.code ? event->u.websocket_close.code : WS_CLOSE_NORMAL;
}

asgi_websocket_phase asgi_websocket_phase_of(const asgid_request *req) {
  return (asgi_websocket_phase)req->websocket_phase;
}

static int offered(const asgid_scope *scope, const char *subprotocol) {
  for (size_t i = 0; i < scope->subprotocol_count; i++)
    if (strcmp(scope->subprotocols[i], subprotocol) == 0) return 1;
  return 0;
}

/* The 101's own headers are the server's: Upgrade, Connection, Sec-WebSocket-Accept,
 * -Protocol (the subprotocol key), -Extensions (what the server negotiated), -Version. An
 * app's copy would contradict or repeat them (Chromium fails a handshake whose response has
 * two Upgrade fields), so those names are refused. */
static int check_accept(const asgid_request *req, const asgid_event *event, const char **rule) {
  const char *subprotocol = event->u.websocket_accept.subprotocol;
  if (subprotocol && !offered(&req->scope, subprotocol)) {
    *rule = "a subprotocol the client did not offer";
    return ASGID_E_INVALID;
  }
  const asgid_header *headers = event->u.websocket_accept.headers;
  size_t count = event->u.websocket_accept.header_count;
  *rule = "a header name that is not a token, or a name or value holding CR, LF or NUL";
  if (count && !headers) return ASGID_E_INVALID;
  for (size_t i = 0; i < count; i++) {
    const asgid_header *h = &headers[i];
    if (!h->name || (!h->value && h->value_len) ||
        !asgi_field_name_valid(h->name, h->name_len) ||
        !asgi_field_value_valid(h->value, h->value_len))
      return ASGID_E_INVALID;
    static const char prefix[] = "sec-websocket-";
    if (h->name_len >= sizeof prefix - 1 &&
        asgi_field_equals_n(h->name, sizeof prefix - 1, prefix, sizeof prefix - 1)) {
      *rule = "a sec-websocket-* header (the server sets those; the subprotocol has its key)";
      return ASGID_E_INVALID;
    }
    if (asgi_field_equals(h->name, h->name_len, "upgrade") ||
        asgi_field_equals(h->name, h->name_len, "connection")) {
      *rule = "an Upgrade or Connection header (the server sets those on the 101)";
      return ASGID_E_INVALID;
    }
  }
  return ASGID_OK;
}

static int check_message(const asgid_event *event, const char **rule) {
  const uint8_t *data = event->u.websocket_message.data;
  size_t len = event->u.websocket_message.len;
  if (len && !data) {
    *rule = "a message with a length but no bytes";
    return ASGID_E_INVALID;
  }
  if (event->u.websocket_message.text && !ws_utf8_valid(data, len)) {
    *rule = "a text message that is not valid UTF-8";
    return ASGID_E_INVALID;
  }
  return ASGID_OK;
}

static int check_close(const asgid_event *event, const char **rule) {
  const char *reason = event->u.websocket_close.reason;
  size_t reason_len = event->u.websocket_close.reason_len;
  int code = asgi_websocket_close_code(event);
  if (reason_len && !reason) {
    *rule = "a close reason with a length but no bytes";
    return ASGID_E_INVALID;
  }
  if (code < 0 || ws_close_check_outgoing((unsigned)code, (const uint8_t *)reason, reason_len,
                                          rule) != 0)
    return ASGID_E_INVALID;
  return ASGID_OK;
}

static int websocket_send(asgid_request *req, const asgid_event *event, const char **rule) {
  asgi_websocket_phase phase = (asgi_websocket_phase)req->websocket_phase;
  if (phase == ASGI_WEBSOCKET_FINISHED) {
    *rule = "the connection is closed";
    return ASGID_E_DISCONNECTED;
  }
  int rc;
  switch (event->type) {
    case ASGID_WEBSOCKET_ACCEPT:
      *rule = "accept after the handshake was answered";
      if (phase != ASGI_WEBSOCKET_HANDSHAKE) return ASGID_E_INVALID;
      if ((rc = check_accept(req, event, rule)) != ASGID_OK) return rc;
      req->websocket_phase = ASGI_WEBSOCKET_OPEN;
      return ASGID_OK;
    case ASGID_WEBSOCKET_SEND:
      *rule = "a message before accept";
      if (phase != ASGI_WEBSOCKET_OPEN) return ASGID_E_INVALID;
      return check_message(event, rule);
    case ASGID_WEBSOCKET_CLOSE:
      *rule = "close in the middle of a denial response";
      if (phase == ASGI_WEBSOCKET_DENYING) return ASGID_E_INVALID;
      if ((rc = check_close(event, rule)) != ASGID_OK) return rc;
      req->websocket_phase = ASGI_WEBSOCKET_FINISHED;
      return ASGID_OK;
    case ASGID_WEBSOCKET_HTTP_RESPONSE_START: {
      uint64_t content_length;
      *rule = "a denial response after accept, or a second start";
      if (phase != ASGI_WEBSOCKET_HANDSHAKE) return ASGID_E_INVALID;
      if ((rc = asgi_http_check_response_start(event, &content_length, rule)) != ASGID_OK)
        return rc;
      req->response_started = 1;
      req->content_length = content_length;
      req->websocket_phase = ASGI_WEBSOCKET_DENYING;
      return ASGID_OK;
    }
    case ASGID_WEBSOCKET_HTTP_RESPONSE_BODY:
      if ((rc = asgi_http_accept_body(req, event, rule)) != ASGID_OK) return rc;
      if (req->response_complete) req->websocket_phase = ASGI_WEBSOCKET_FINISHED;
      return ASGID_OK;
    default:
      *rule = "not a websocket event";
      return ASGID_E_INVALID;
  }
}

/* After websocket.disconnect the connection is gone, whether or not the session said so. */
static void websocket_delivering(asgid_request *req, const asgid_event *event) {
  if (event->type == ASGID_WEBSOCKET_DISCONNECT) atomic_store(&req->disconnected, 1);
}

const asgi_scope_rules asgi_websocket_rules = {.send = websocket_send,
                                               .delivering = websocket_delivering};
