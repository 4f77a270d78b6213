/*
 * parser.h - llhttp glue: turns request bytes into a validated request head and body spans.
 *
 * The parser pauses (llhttp's HPE_PAUSED) at three points so the connection decides what
 * happens next: when the head is complete (the app is called; the body stays unread until it
 * asks), after each body span (delivered to the app, which asks again for more), and when
 * the message is complete (the next pipelined request waits for this response).
 *
 * Every rule of DESIGN §6 that llhttp does not already enforce in strict mode is checked here
 * when the head completes; a violation stops parsing with the HTTP status to answer.
 */
#ifndef ASGID_HTTP_PARSER_H
#define ASGID_HTTP_PARSER_H

#include <llhttp.h>
#include <stddef.h>
#include <stdint.h>

/* The limits the parser enforces, from the settings. */
typedef struct http_limits {
  size_t request_line;   /* 414 above */
  size_t field_count;    /* 431 above */
  size_t field_size;     /* 431 above: name + value of one field */
  size_t chunk_extension;/* 400 above: all chunk-extension bytes of one body */
  uint64_t body_size;    /* 413 above; 0 = no limit */
} http_limits;

/* One header in the head's arena: offsets, because the arena grows while parsing. */
typedef struct http_field {
  uint32_t name_offset, name_len, value_offset, value_len;
} http_field;

/* A request head. Method, target and fields live in one arena (names lowercased). */
typedef struct http_head {
  char *arena;
  size_t arena_len, arena_cap;
  uint32_t method_offset, method_len;
  uint32_t target_offset, target_len;
  http_field *fields;
  size_t field_count, field_cap;
  int http_minor;         /* 0 or 1 (major is always 1) */
  int keep_alive;         /* the client allows another request on this connection */
  int expect_continue;    /* "Expect: 100-continue" on HTTP/1.1 */
  int upgrade;            /* an Upgrade field is present (a WebSocket handshake, maybe) */
  int forwarding;         /* X-Forwarded-For/-Proto/-Host/-Port or Forwarded is present: what
                             a trusted proxy says (http/forwarded.h) */
  int chunked;            /* the body is chunked */
  int has_content_length;
  uint64_t content_length;
} http_head;

typedef enum http_pause {
  HTTP_PAUSE_NONE,
  HTTP_PAUSE_HEAD,    /* head complete and valid: call the app */
  HTTP_PAUSE_BODY,    /* body span in body_at/body_len */
  HTTP_PAUSE_COMPLETE /* message complete */
} http_pause;

typedef struct http_parser {
  llhttp_t llhttp;
  const http_limits *limits;
  http_head *head;          /* the head being built; owned by the connection's exchange */
  http_pause pause;
  const char *body_at;      /* HTTP_PAUSE_BODY: the span, pointing into the read buffer */
  size_t body_len;
  int body_more;            /* HTTP_PAUSE_BODY: more body is known to follow */
  uint64_t body_received;
  size_t request_line_bytes;
  /* Where the request line's parts end, counted in bytes since the message began, to see the
   * single spaces between them (llhttp accepts several). */
  uint64_t message_offset;  /* bytes of this message before the current feed */
  const char *feed_start;   /* the current feed's data */
  uint64_t method_end, target_end;
  size_t extension_bytes;
  int in_field_value;       /* the last span was a value (a new name starts a new field) */
  int paused;               /* llhttp is paused and must be resumed before the next feed */
  int head_done;            /* fields from now on are trailers */
  size_t trailer_bytes;
  int error_status;         /* status to answer when parsing failed */
  const char *error_reason; /* for the log */
} http_parser;

/* Prepares a parser for a connection (requests only, strict: no lenient flags). */
void http_parser_init(http_parser *p, const http_limits *limits);

/* Starts the head of the next request; head must be zeroed. */
void http_parser_begin(http_parser *p, http_head *head);

/* Feeds bytes, first resuming after the previous pause. Returns the number consumed. After
 * it returns, p->pause says why it stopped (HTTP_PAUSE_NONE: it consumed everything and wants
 * more), or p->error_status is non-zero (the request is invalid; answer that status and
 * close). */
size_t http_parser_feed(http_parser *p, const char *data, size_t len);

/* Releases what a head owns. */
void http_head_free(http_head *head);

/* Looks up the first field named `lowercase_name`; returns its value and length, or NULL. */
const char *http_head_field(const http_head *head, const char *lowercase_name, size_t *len);

#endif /* ASGID_HTTP_PARSER_H */
