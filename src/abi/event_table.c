/* event_table.c - the ASGI events of the app ABI and what is driven by them. See
 * event_table.h. */
#include "abi/event_table.h"

#include <string.h>

#include "abi/fields.h"
#include "websocket/close_code.h"

/* ---------------------------------------------------------------- the table */

#define MEMBER(m) offsetof(asgid_event, m)

/* One row per field kind: the members as written give both their offsets and their names. */
#define BYTES(key, ptr, len, doc) \
  {key, NULL, ASGI_FIELD_BYTES, "`" #ptr "`, `" #len "`", MEMBER(ptr), MEMBER(len), 0, 0, 0, doc}
#define MESSAGE(ptr, len, flag, doc)                                                         \
  {"bytes", "text", ASGI_FIELD_TEXT_OR_BYTES, "`" #ptr "`, `" #len "`, `" #flag "`",         \
   MEMBER(ptr), MEMBER(len), MEMBER(flag), 0, 1, doc}
#define INT(key, m, default_value, required, doc) \
  {key, NULL, ASGI_FIELD_INT, "`" #m "`", MEMBER(m), 0, 0, default_value, required, doc}
#define BOOL(key, m, default_value, doc) \
  {key, NULL, ASGI_FIELD_BOOL, "`" #m "`", MEMBER(m), 0, 0, default_value, 0, doc}
#define HEADERS(key, ptr, count, doc) \
  {key, NULL, ASGI_FIELD_HEADERS, "`" #ptr "`, `" #count "`", MEMBER(ptr), MEMBER(count), 0, 0, 0, doc}
#define STRING(key, ptr, len, doc) \
  {key, NULL, ASGI_FIELD_STRING, "`" #ptr "`, `" #len "`", MEMBER(ptr), MEMBER(len), 0, 0, 0, doc}
#define OPTIONAL_STRING(key, m, doc) \
  {key, NULL, ASGI_FIELD_OPTIONAL_STRING, "`" #m "`", MEMBER(m), 0, 0, 0, 0, doc}

#define FIELDS(array) array, sizeof array / sizeof array[0]
#define NO_FIELDS NULL, 0
#define EVENT(type, name, direction, scope, fields, doc) \
  [type] = {type, name, sizeof name - 1, #type, direction, scope, fields, doc}

static const asgi_event_field http_request_fields[] = {
    BYTES("body", u.request.body, u.request.body_len,
          "a chunk of the request body; may be empty (then do not read the pointer)"),
    BOOL("more_body", u.request.more_body, 0, "1 while more chunks follow"),
};

static const asgi_event_field response_start_fields[] = {
    INT("status", u.response_start.status, 0, 1,
        ASGI_STATUS_RULE),
    HEADERS("headers", u.response_start.headers, u.response_start.header_count,
            "names must be HTTP tokens; names and values must not hold CR, LF or NUL"),
};

static const asgi_event_field response_body_fields[] = {
    BYTES("body", u.response_body.body, u.response_body.body_len,
          "the next piece of the body; may be empty"),
    BOOL("more_body", u.response_body.more_body, 0, "0 ends the response"),
};

static const asgi_event_field failed_fields[] = {
    OPTIONAL_STRING("message", u.failed.message, "why; logged by the server"),
};

static const asgi_event_field websocket_message_fields[] = {
    MESSAGE(u.websocket_message.data, u.websocket_message.len, u.websocket_message.text,
            "one whole message, possibly empty: `text` (1, valid UTF-8) or `bytes` (0); "
            "exactly one of the two keys"),
};

static const asgi_event_field websocket_disconnect_fields[] = {
    INT("code", u.websocket_close.code, 1005, 0,
        "the client's close code; 1005 when its close frame had none, 1006 when the "
        "connection dropped, 1012 when the server stops"),
    STRING("reason", u.websocket_close.reason, u.websocket_close.reason_len,
           "the client's close reason (UTF-8); may be empty"),
};

static const asgi_event_field websocket_accept_fields[] = {
    OPTIONAL_STRING("subprotocol", u.websocket_accept.subprotocol,
                    "one of the scope's `subprotocols`, or none"),
    HEADERS("headers", u.websocket_accept.headers, u.websocket_accept.header_count,
            "extra headers of the 101 response, checked as response headers; no "
            "`sec-websocket-*`, `upgrade` or `connection` (the server's own)"),
};

static const asgi_event_field websocket_close_fields[] = {
    INT("code", u.websocket_close.code, 1000, 0,
        "1000..1003, 1007..1014 or 3000..4999 (0 in C means 1000)"),
    STRING("reason", u.websocket_close.reason, u.websocket_close.reason_len,
           "at most " ASGI_STRINGIFY(WS_CLOSE_REASON_MAX) " bytes of UTF-8; may be empty"),
};

static const asgi_event_info events[ASGI_EVENT_TYPE_LIMIT] = {
    EVENT(ASGID_HTTP_REQUEST, "http.request", ASGI_TO_APP, ASGID_SCOPE_HTTP,
          FIELDS(http_request_fields), "A chunk of the request body."),
    EVENT(ASGID_HTTP_DISCONNECT, "http.disconnect", ASGI_TO_APP, ASGID_SCOPE_HTTP, NO_FIELDS,
          "After the last body chunk: the response is complete or the client has gone."),
    EVENT(ASGID_LIFESPAN_STARTUP, "lifespan.startup", ASGI_TO_APP, ASGID_SCOPE_LIFESPAN,
          NO_FIELDS, "The worker starts: set up, then answer."),
    EVENT(ASGID_LIFESPAN_SHUTDOWN, "lifespan.shutdown", ASGI_TO_APP, ASGID_SCOPE_LIFESPAN,
          NO_FIELDS, "The worker stops: tear down, then answer."),
    EVENT(ASGID_WEBSOCKET_CONNECT, "websocket.connect", ASGI_TO_APP, ASGID_SCOPE_WEBSOCKET,
          NO_FIELDS, "The first event: the client asks to connect."),
    EVENT(ASGID_WEBSOCKET_RECEIVE, "websocket.receive", ASGI_TO_APP, ASGID_SCOPE_WEBSOCKET,
          FIELDS(websocket_message_fields), "A message from the client, in order."),
    EVENT(ASGID_WEBSOCKET_DISCONNECT, "websocket.disconnect", ASGI_TO_APP,
          ASGID_SCOPE_WEBSOCKET, FIELDS(websocket_disconnect_fields),
          "The last event, after every message the client sent; sends fail from then on."),
    EVENT(ASGID_HTTP_RESPONSE_START, "http.response.start", ASGI_TO_SERVER, ASGID_SCOPE_HTTP,
          FIELDS(response_start_fields), "The response's status and headers."),
    EVENT(ASGID_HTTP_RESPONSE_BODY, "http.response.body", ASGI_TO_SERVER, ASGID_SCOPE_HTTP,
          FIELDS(response_body_fields), "A piece of the response body."),
    EVENT(ASGID_LIFESPAN_STARTUP_COMPLETE, "lifespan.startup.complete", ASGI_TO_SERVER,
          ASGID_SCOPE_LIFESPAN, NO_FIELDS, "Startup succeeded."),
    EVENT(ASGID_LIFESPAN_STARTUP_FAILED, "lifespan.startup.failed", ASGI_TO_SERVER,
          ASGID_SCOPE_LIFESPAN, FIELDS(failed_fields),
          "Startup failed: the worker stops, and so does the server."),
    EVENT(ASGID_LIFESPAN_SHUTDOWN_COMPLETE, "lifespan.shutdown.complete", ASGI_TO_SERVER,
          ASGID_SCOPE_LIFESPAN, NO_FIELDS, "Shutdown finished."),
    EVENT(ASGID_LIFESPAN_SHUTDOWN_FAILED, "lifespan.shutdown.failed", ASGI_TO_SERVER,
          ASGID_SCOPE_LIFESPAN, FIELDS(failed_fields), "Shutdown failed (logged)."),
    EVENT(ASGID_WEBSOCKET_ACCEPT, "websocket.accept", ASGI_TO_SERVER, ASGID_SCOPE_WEBSOCKET,
          FIELDS(websocket_accept_fields),
          "Completes the handshake (101); may come before the app received "
          "`websocket.connect`."),
    EVENT(ASGID_WEBSOCKET_SEND, "websocket.send", ASGI_TO_SERVER, ASGID_SCOPE_WEBSOCKET,
          FIELDS(websocket_message_fields), "A message to the client, after accept."),
    EVENT(ASGID_WEBSOCKET_CLOSE, "websocket.close", ASGI_TO_SERVER, ASGID_SCOPE_WEBSOCKET,
          FIELDS(websocket_close_fields),
          "Closes the connection; before accept, refuses it with 403."),
    EVENT(ASGID_WEBSOCKET_HTTP_RESPONSE_START, "websocket.http.response.start", ASGI_TO_SERVER,
          ASGID_SCOPE_WEBSOCKET, FIELDS(response_start_fields),
          "Denial extension: refuses the handshake with this HTTP response (before accept)."),
    EVENT(ASGID_WEBSOCKET_HTTP_RESPONSE_BODY, "websocket.http.response.body", ASGI_TO_SERVER,
          ASGID_SCOPE_WEBSOCKET, FIELDS(response_body_fields),
          "Denial extension: a piece of the denial's body."),
};

const asgi_event_info *asgi_event_of(asgid_event_type type) {
  if ((unsigned)type >= ASGI_EVENT_TYPE_LIMIT || !events[type].name) return NULL;
  return &events[type];
}

const asgi_event_info *asgi_event_named(const char *name, size_t len) {
  /* App events first: they are the ones looked up by name, on every send. */
  for (unsigned i = ASGID_HTTP_RESPONSE_START; i < ASGI_EVENT_TYPE_LIMIT + ASGID_HTTP_RESPONSE_START; i++) {
    const asgi_event_info *e = &events[i % ASGI_EVENT_TYPE_LIMIT];
    if (e->name && e->name_len == len && memcmp(e->name, name, len) == 0) return e;
  }
  return NULL;
}

/* ---------------------------------------------------------------- deep copy */

static size_t align_up(size_t n) {
  const size_t a = _Alignof(asgid_header);
  return (n + a - 1) / a * a;
}

/* Bytes field f of e points to (0 when it points to nothing). */
static size_t field_data_size(const asgid_event *e, const asgi_event_field *f) {
  const void *p = f->kind == ASGI_FIELD_INT || f->kind == ASGI_FIELD_BOOL
                      ? NULL
                      : asgi_member_pointer(e, f->offset);
  if (!p) return 0;
  switch (f->kind) {
    case ASGI_FIELD_BYTES:
    case ASGI_FIELD_TEXT_OR_BYTES:
    case ASGI_FIELD_STRING:
      return asgi_member_size(e, f->length_offset);
    case ASGI_FIELD_HEADERS:
      return asgi_headers_size(p, asgi_member_size(e, f->length_offset));
    case ASGI_FIELD_OPTIONAL_STRING:
      return strlen(p) + 1;
    case ASGI_FIELD_INT:
    case ASGI_FIELD_BOOL:
      break;
  }
  return 0;
}

size_t asgi_event_copy_size(const asgid_event *event) {
  const asgi_event_info *info = asgi_event_of(event->type);
  size_t n = 0;
  for (size_t i = 0; info && i < info->field_count; i++)
    n += align_up(field_data_size(event, &info->fields[i]));
  return n;
}

void asgi_event_copy(const asgid_event *event, asgid_event *copy, void *storage) {
  *copy = *event;
  const asgi_event_info *info = asgi_event_of(event->type);
  char *cursor = storage;
  for (size_t i = 0; info && i < info->field_count; i++) {
    const asgi_event_field *f = &info->fields[i];
    size_t size = field_data_size(event, f);
    if (!size) continue;
    const void *from = asgi_member_pointer(event, f->offset);
    if (f->kind == ASGI_FIELD_HEADERS)
      asgi_headers_copy(from, asgi_member_size(event, f->length_offset), cursor);
    else
      memcpy(cursor, from, size);
    asgi_set_member_pointer(copy, f->offset, cursor);
    cursor += align_up(size);
  }
}

/* ---------------------------------------------------------------- docs/abi.md */

static const char *python_type(asgi_field_kind kind) {
  switch (kind) {
    case ASGI_FIELD_BYTES: return "bytes";
    case ASGI_FIELD_TEXT_OR_BYTES: return "bytes / str";
    case ASGI_FIELD_INT: return "int";
    case ASGI_FIELD_BOOL: return "bool";
    case ASGI_FIELD_HEADERS: return "iterable of [bytes, bytes]";
    case ASGI_FIELD_STRING: return "str";
    case ASGI_FIELD_OPTIONAL_STRING: return "str or None";
  }
  return "";
}

static void print_absent(FILE *out, const asgi_event_field *f) {
  if (f->required) {
    fputs("required", out);
    return;
  }
  switch (f->kind) {
    case ASGI_FIELD_BYTES: fputs("`b\"\"`", out); break;
    case ASGI_FIELD_INT: fprintf(out, "`%d`", f->default_value); break;
    case ASGI_FIELD_BOOL: fputs(f->default_value ? "`True`" : "`False`", out); break;
    case ASGI_FIELD_HEADERS: fputs("`[]`", out); break;
    case ASGI_FIELD_STRING: fputs("`\"\"`", out); break;
    case ASGI_FIELD_OPTIONAL_STRING: fputs("`None` (NULL)", out); break;
    case ASGI_FIELD_TEXT_OR_BYTES: break; /* always required */
  }
}

static const char *const scope_names[] = {"http", "websocket", "lifespan"};
static const asgid_scope_type doc_scope_order[] = {ASGID_SCOPE_HTTP, ASGID_SCOPE_WEBSOCKET,
                                                   ASGID_SCOPE_LIFESPAN};

static const char *direction_text(asgi_direction d) {
  return d == ASGI_TO_APP ? "server → app" : "app → server";
}

static void print_event(FILE *out, const asgi_event_info *e) {
  fprintf(out, "\n#### `%s`\n\n`%s`, %s, %s scope. %s\n", e->name, e->c_name,
          direction_text(e->direction), scope_names[e->scope], e->doc);
  if (!e->field_count) {
    fputs("\nNo fields.\n", out);
    return;
  }
  fputs("\n| ASGI key | Python | C members | when absent | meaning |\n"
        "|----------|--------|-----------|-------------|---------|\n",
        out);
  for (size_t i = 0; i < e->field_count; i++) {
    const asgi_event_field *f = &e->fields[i];
    if (f->text_key)
      fprintf(out, "| `%s` / `%s` | %s | %s | ", f->key, f->text_key, python_type(f->kind),
              f->members);
    else
      fprintf(out, "| `%s` | %s | %s | ", f->key, python_type(f->kind), f->members);
    print_absent(out, f);
    fprintf(out, " | %s |\n", f->doc);
  }
}

void asgi_events_print_doc(FILE *out) {
  fputs("<!-- events: generated by `asgid --abi-events-doc` from src/abi/event_table.c; "
        "do not edit by hand -->\n\n"
        "| type | ASGI `type` | direction | scope |\n"
        "|------|-------------|-----------|-------|\n",
        out);
  for (size_t s = 0; s < sizeof doc_scope_order / sizeof doc_scope_order[0]; s++)
    for (int t = 0; t < ASGI_EVENT_TYPE_LIMIT; t++) {
      const asgi_event_info *e = asgi_event_of((asgid_event_type)t);
      if (e && e->scope == doc_scope_order[s])
        fprintf(out, "| `%s` | `%s` | %s | %s |\n", e->c_name, e->name,
                direction_text(e->direction), scope_names[e->scope]);
    }
  for (size_t s = 0; s < sizeof doc_scope_order / sizeof doc_scope_order[0]; s++)
    for (int t = 0; t < ASGI_EVENT_TYPE_LIMIT; t++) {
      const asgi_event_info *e = asgi_event_of((asgid_event_type)t);
      if (e && e->scope == doc_scope_order[s]) print_event(out, e);
    }
  fputs("\n<!-- events: end -->\n", out);
}
