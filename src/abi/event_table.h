/*
 * event_table.h - every ASGI event of the app ABI (include/asgid/asgid.h), described once: its
 * type, ASGI name, direction, scope type and fields (ASGI key, kind, the asgid_event members
 * it maps to, its value when absent, whether it is required).
 *
 * Driven by it: the deep copy of an app event for the loop thread (request.c), the Python
 * adapter's conversions both ways (apps/python/events.c) and the event section of
 * docs/abi.md (asgid --abi-events-doc). A new event or field is a row here and nowhere else
 * (plus what the scope's rules do with it: scope_http.c, scope_websocket.c, lifespan.c).
 *
 * The table is data about the public ABI and calls nothing: the app adapters below asgi/
 * read it as they read asgid.h.
 */
#ifndef ASGID_ABI_EVENT_TABLE_H
#define ASGID_ABI_EVENT_TABLE_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "asgid/asgid.h"

typedef enum asgi_direction {
  ASGI_TO_APP,   /* server -> app: delivered to app->on_event after api->receive */
  ASGI_TO_SERVER /* app -> server: passed to api->send */
} asgi_direction;

typedef enum asgi_field_kind {
  ASGI_FIELD_BYTES,           /* bytes: a pointer and a length member */
  ASGI_FIELD_TEXT_OR_BYTES,   /* a message: key "bytes" (bytes) or "text_key" (str), exactly
                                 one; a pointer, a length and an int text flag */
  ASGI_FIELD_INT,             /* int */
  ASGI_FIELD_BOOL,            /* bool: an int member, 0 or 1 */
  ASGI_FIELD_HEADERS,         /* [[name, value], ...] of bytes: a pointer and a count */
  ASGI_FIELD_STRING,          /* str (UTF-8): a pointer and a length, not NUL-terminated */
  ASGI_FIELD_OPTIONAL_STRING  /* str or None: a NUL-terminated pointer, NULL for None */
} asgi_field_kind;

typedef struct asgi_event_field {
  const char *key;       /* the ASGI key ("bytes" for a TEXT_OR_BYTES field) */
  const char *text_key;  /* TEXT_OR_BYTES: the key of the text form ("text") */
  asgi_field_kind kind;
  const char *members;   /* the asgid_event members, for the docs */
  size_t offset;         /* of the pointer, int or bool member in asgid_event */
  size_t length_offset;  /* BYTES, TEXT_OR_BYTES, STRING: of the length; HEADERS: count */
  size_t flag_offset;    /* TEXT_OR_BYTES: of the int text flag */
  int default_value;     /* INT, BOOL: the member's value when the key is absent */
  int required;          /* the key must be present (and not None) */
  const char *doc;
} asgi_event_field;

typedef struct asgi_event_info {
  asgid_event_type type;
  const char *name;   /* the ASGI type, e.g. "http.request" */
  size_t name_len;
  const char *c_name; /* e.g. "ASGID_HTTP_REQUEST" */
  asgi_direction direction;
  asgid_scope_type scope;
  const asgi_event_field *fields;
  size_t field_count;
  const char *doc;
} asgi_event_info;

/* One past the largest event type: asgi_event_of answers in one lookup. */
#define ASGI_EVENT_TYPE_LIMIT 21
/* The most fields one event has (room for per-field caches of the adapters). */
#define ASGI_EVENT_MAX_FIELDS 3

#define ASGI_STRINGIFY_(x) #x
#define ASGI_STRINGIFY(x) ASGI_STRINGIFY_(x)

/* The final statuses an app may send (a 1xx is not a final response, RFC 9110 §15.2), and
 * the rule as the docs and the refusals word it. */
#define ASGI_STATUS_MIN 200
#define ASGI_STATUS_MAX 999
#define ASGI_STATUS_RULE                                                    \
  "a status of " ASGI_STRINGIFY(ASGI_STATUS_MIN) ".." ASGI_STRINGIFY(ASGI_STATUS_MAX) \
  " (a 1xx is not a final response, RFC 9110 §15.2)"

/* An event's members by offset (the table knows the offsets of its fields, not their types):
 * read and written through memcpy, which is what lets one loop handle every field. */
static inline const void *asgi_member_pointer(const asgid_event *e, size_t offset) {
  const void *p;
  memcpy(&p, (const char *)e + offset, sizeof p);
  return p;
}
static inline void asgi_set_member_pointer(asgid_event *e, size_t offset, const void *p) {
  memcpy((char *)e + offset, &p, sizeof p);
}
static inline size_t asgi_member_size(const asgid_event *e, size_t offset) {
  size_t n;
  memcpy(&n, (const char *)e + offset, sizeof n);
  return n;
}
static inline void asgi_set_member_size(asgid_event *e, size_t offset, size_t n) {
  memcpy((char *)e + offset, &n, sizeof n);
}
static inline int asgi_member_int(const asgid_event *e, size_t offset) {
  int n;
  memcpy(&n, (const char *)e + offset, sizeof n);
  return n;
}
static inline void asgi_set_member_int(asgid_event *e, size_t offset, int n) {
  memcpy((char *)e + offset, &n, sizeof n);
}

/* The description of an event type, or NULL for a value that names none. */
const asgi_event_info *asgi_event_of(asgid_event_type type);

/* The description of the event with the ASGI type name (len bytes), or NULL. */
const asgi_event_info *asgi_event_named(const char *name, size_t len);

/* Bytes asgi_event_copy needs behind the event for everything it points to. */
size_t asgi_event_copy_size(const asgid_event *event);

/* Copies event into *copy, and everything it points to into storage (asgi_event_copy_size
 * bytes, aligned for a pointer), so that the copy lives as long as storage. */
void asgi_event_copy(const asgid_event *event, asgid_event *copy, void *storage);

/* Writes the event section of docs/abi.md (between its marker lines, markers included). */
void asgi_events_print_doc(FILE *out);

#endif /* ASGID_ABI_EVENT_TABLE_H */
