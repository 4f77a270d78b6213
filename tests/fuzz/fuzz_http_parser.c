/*
 * fuzz_http_parser.c - the request parser glue (src/http/parser.c), driven the way
 * src/http/h1_session.c drives it: the bytes arrive in reads the fuzzer cuts (fuzz_reads.h); each
 * feed gets all unread bytes, resuming after the previous pause (head, body span, message
 * complete); after a complete message the next pipelined request begins on the same parser;
 * the first error ends the connection. The limits are the settings' defaults, as a worker
 * started without a configuration has them.
 *
 * Every feed gets an exact-size copy of the unread bytes, as the transport moves unread bytes
 * within its read buffer between reads: a pointer kept into them, or a read past them, is
 * caught by ASan. After each feed the target checks what h1_session.c relies on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "abi/fields.h"
#include "fuzz_check.h"
#include "fuzz_reads.h"
#include "http/parser.h"
#include "http/server.h"
#include "http/status.h"
#include "settings/settings.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);

static http_limits limits;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  asgid_settings defaults;
  FUZZ_CHECK(asgid_settings_init_defaults(&defaults) == 0);
  limits = http_server_limits(&defaults);
  asgid_settings_free(&defaults);
  return 0;
}

static int in_arena(const http_head *head, uint32_t offset, uint32_t len) {
  return (size_t)offset + len <= head->arena_len;
}

static int is_space(char c) { return c == ' ' || c == '\t'; }

/* What the app and the scope are built from once the head pauses. */
static void check_head(const http_head *head) {
  FUZZ_CHECK(head->arena_len <= head->arena_cap);
  FUZZ_CHECK(head->method_len > 0 && in_arena(head, head->method_offset, head->method_len));
  FUZZ_CHECK(head->target_len > 0 && in_arena(head, head->target_offset, head->target_len));
  FUZZ_CHECK((size_t)head->method_len + head->target_len <= limits.request_line);
  FUZZ_CHECK(head->http_minor == 0 || head->http_minor == 1);
  FUZZ_CHECK(head->field_count <= limits.field_count && head->field_count <= head->field_cap);
  FUZZ_CHECK(!(head->chunked && head->has_content_length));
  FUZZ_CHECK(!head->chunked || head->http_minor == 1);
  FUZZ_CHECK(!head->expect_continue || head->http_minor == 1);
  FUZZ_CHECK(!head->has_content_length || !limits.body_size ||
             head->content_length <= limits.body_size);
  size_t hosts = 0;
  for (size_t i = 0; i < head->field_count; i++) {
    const http_field *f = &head->fields[i];
    FUZZ_CHECK(in_arena(head, f->name_offset, f->name_len));
    FUZZ_CHECK(in_arena(head, f->value_offset, f->value_len));
    FUZZ_CHECK((size_t)f->name_len + f->value_len <= limits.field_size);
    const char *name = head->arena + f->name_offset;
    const char *value = head->arena + f->value_offset;
    FUZZ_CHECK(asgi_field_name_valid(name, f->name_len));
    for (uint32_t c = 0; c < f->name_len; c++) FUZZ_CHECK(!(name[c] >= 'A' && name[c] <= 'Z'));
    FUZZ_CHECK(asgi_field_value_valid(value, f->value_len));
    /* RFC 9112 §5: a field value excludes the whitespace around it. */
    FUZZ_CHECK(f->value_len == 0 || (!is_space(value[0]) && !is_space(value[f->value_len - 1])));
    if (f->name_len == 4 && memcmp(name, "host", 4) == 0) hosts++;
  }
  FUZZ_CHECK(head->http_minor == 0 ? hosts <= 1 : hosts == 1);
  /* the lookup the scope's builders use finds what is there */
  size_t host_len = 0;
  const char *host = http_head_field(head, "host", &host_len);
  FUZZ_CHECK((host != NULL) == (hosts == 1));
  FUZZ_CHECK(!host || (host >= head->arena && host + host_len <= head->arena + head->arena_len));
}

/* One request on the connection: what has been seen of it. */
typedef struct request_state {
  int begun, head_seen;
  uint64_t body;
} request_state;

static void check_body_span(const http_parser *p, const request_state *r, const char *fed,
                            size_t consumed) {
  const http_head *head = p->head;
  FUZZ_CHECK(r->head_seen);
  FUZZ_CHECK(head->chunked || head->has_content_length);
  FUZZ_CHECK(p->body_len > 0);
  FUZZ_CHECK(p->body_at >= fed && p->body_at + p->body_len <= fed + consumed);
  FUZZ_CHECK(!limits.body_size || r->body <= limits.body_size);
  if (head->has_content_length) {
    FUZZ_CHECK(r->body <= head->content_length);
    FUZZ_CHECK(p->body_more == (r->body < head->content_length));
  } else {
    FUZZ_CHECK(p->body_more);
  }
}

static void check_error(const http_parser *p) {
  FUZZ_CHECK(p->error_status >= 400 && p->error_status <= 599);
  FUZZ_CHECK(strcmp(http_status_reason(p->error_status), "Unknown") != 0);
  /* the reason goes into a log line (UTF-8: "RFC 9112 §3") */
  FUZZ_CHECK(p->error_reason && *p->error_reason);
  for (const unsigned char *c = (const unsigned char *)p->error_reason; *c; c++)
    FUZZ_CHECK(*c >= 0x20 && *c != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size) {
  fuzz_reads reads;
  fuzz_reads_init(&reads, input, size);
  const char *stream = (const char *)reads.stream;
  size_t start = 0; /* the first unread byte */
  http_parser p;
  http_parser_init(&p, &limits);
  http_head head;
  memset(&head, 0, sizeof head);
  request_state r = {0};
  int stalled = 0; /* feeds in a row that paused without consuming anything */
  for (;;) {
    size_t unread = reads.arrived - start;
    if (!r.begun) {
      /* h1_session.c starts an exchange only once a byte of it has arrived */
      if (unread == 0) {
        if (fuzz_reads_next(&reads) == 0) break;
        continue;
      }
      http_parser_begin(&p, &head);
      r = (request_state){.begun = 1};
    }
    char *fed = malloc(unread ? unread : 1);
    FUZZ_CHECK(fed);
    memcpy(fed, stream + start, unread);
    size_t consumed = http_parser_feed(&p, fed, unread);
    FUZZ_CHECK(consumed <= unread);
    if (p.error_status) {
      FUZZ_CHECK(p.pause == HTTP_PAUSE_NONE);
      check_error(&p);
      free(fed);
      break; /* h1_session.c answers the status and closes */
    }
    stalled = p.pause != HTTP_PAUSE_NONE && consumed == 0 ? stalled + 1 : 0;
    FUZZ_CHECK(stalled < 4); /* a parser that pauses without moving on would hang h1_session.c */
    int done = 0;
    switch (p.pause) {
      case HTTP_PAUSE_HEAD:
        FUZZ_CHECK(!r.head_seen);
        r.head_seen = 1;
        check_head(&head);
        break;
      case HTTP_PAUSE_BODY:
        r.body += p.body_len;
        check_body_span(&p, &r, fed, consumed);
        break;
      case HTTP_PAUSE_COMPLETE:
        FUZZ_CHECK(r.head_seen);
        if (head.has_content_length) FUZZ_CHECK(r.body == head.content_length);
        if (!head.chunked && !head.has_content_length) FUZZ_CHECK(r.body == 0);
        done = !head.keep_alive; /* h1_session.c closes after this response */
        http_head_free(&head);
        r.begun = 0;
        break;
      case HTTP_PAUSE_NONE:
        FUZZ_CHECK(consumed == unread);
        if (fuzz_reads_next(&reads) == 0) done = 1; /* the client sent all it had */
        break;
    }
    free(fed);
    start += consumed;
    if (done) break;
  }
  http_head_free(&head);
  return 0;
}
