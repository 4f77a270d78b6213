/*
 * test_asgi_event_table.c - src/abi/event_table.c: the table describes every event of the
 * ABI consistently, the deep copy of an app event (what a `thread` class app's send hands to
 * the loop thread) owns every byte it points to, and the event section of docs/abi.md is
 * what the table generates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/event_table.h"
#include "platform/platform.h"

/* ------------------------------------------------------------------ the table */

static void test_table_is_consistent(void **state) {
  (void)state;
  size_t count = 0;
  for (int t = 0; t < ASGI_EVENT_TYPE_LIMIT + 5; t++) {
    const asgi_event_info *e = asgi_event_of((asgid_event_type)t);
    if (!e) continue;
    count++;
    assert_int_equal(e->type, t);
    assert_int_equal(e->name_len, strlen(e->name));
    assert_ptr_equal(asgi_event_named(e->name, e->name_len), e); /* names are unique */
    assert_true(e->field_count <= ASGI_EVENT_MAX_FIELDS);
    /* the numbering of the header: server -> app below 10, app -> server from 10 */
    assert_int_equal(e->direction == ASGI_TO_APP, t < 10);
    const char *prefix = e->scope == ASGID_SCOPE_HTTP        ? "http."
                         : e->scope == ASGID_SCOPE_WEBSOCKET ? "websocket."
                                                             : "lifespan.";
    assert_int_equal(strncmp(e->name, prefix, strlen(prefix)), 0);
    for (size_t i = 0; i < e->field_count; i++) {
      const asgi_event_field *f = &e->fields[i];
      assert_true(f->offset >= offsetof(asgid_event, u));
      assert_true(f->offset < sizeof(asgid_event));
      assert_true(f->length_offset < sizeof(asgid_event));
      assert_true(*f->doc && *f->members);
      assert_int_equal(f->kind == ASGI_FIELD_TEXT_OR_BYTES, f->text_key != NULL);
    }
  }
  assert_int_equal(count, 18);
  assert_null(asgi_event_of((asgid_event_type)0));
  assert_null(asgi_event_of((asgid_event_type)9));
  assert_null(asgi_event_of((asgid_event_type)-1));
  assert_null(asgi_event_named("http.request.x", 14));
  assert_null(asgi_event_named("http.reques", 11));
  assert_int_equal(asgi_event_named("websocket.send", 14)->type, ASGID_WEBSOCKET_SEND);
}

/* ------------------------------------------------------------------ the copy */

/* Copies event into a fresh block exactly asgi_event_copy_size long (ASan sees any byte
 * written past it), then wipes src_bytes, the caller's buffers the event pointed to: the copy
 * must not depend on them. Returns the block (free it). */
static void *copy_and_wipe(const asgid_event *event, asgid_event *copy, void *src_bytes,
                           size_t src_len) {
  size_t size = asgi_event_copy_size(event);
  void *storage = malloc(size ? size : 1);
  assert_non_null(storage);
  asgi_event_copy(event, copy, storage);
  memset(src_bytes, 'X', src_len);
  return storage;
}

static int inside(const void *p, const void *block, size_t size) {
  return (const char *)p >= (const char *)block && (const char *)p < (const char *)block + size;
}

static void test_copy_response_start_headers(void **state) {
  (void)state;
  char text[] = "content-typetext/plainx-longer-nameva";
  asgid_header headers[] = {{text, 12, text + 12, 10}, {text + 22, 13, text + 35, 2}};
  asgid_event event = {.type = ASGID_HTTP_RESPONSE_START,
                       .u.response_start = {.status = 201, .headers = headers, .header_count = 2}};
  asgid_event copy;
  void *storage = copy_and_wipe(&event, &copy, text, sizeof text - 1);
  memset(headers, 0, sizeof headers);
  assert_int_equal(copy.type, ASGID_HTTP_RESPONSE_START);
  assert_int_equal(copy.u.response_start.status, 201);
  assert_int_equal(copy.u.response_start.header_count, 2);
  const asgid_header *h = copy.u.response_start.headers;
  assert_true(inside(h, storage, asgi_event_copy_size(&copy)));
  assert_memory_equal(h[0].name, "content-type", 12);
  assert_memory_equal(h[0].value, "text/plain", 10);
  assert_int_equal(h[1].name_len, 13);
  assert_memory_equal(h[1].name, "x-longer-name", 13);
  assert_memory_equal(h[1].value, "va", 2);
  free(storage);
}

static void test_copy_bodies(void **state) {
  (void)state;
  static const asgid_event_type types[] = {ASGID_HTTP_RESPONSE_BODY,
                                           ASGID_WEBSOCKET_HTTP_RESPONSE_BODY};
  for (size_t i = 0; i < 2; i++) {
    uint8_t body[] = "some body";
    asgid_event event = {.type = types[i],
                         .u.response_body = {.body = body, .body_len = 9, .more_body = 1}};
    asgid_event copy;
    void *storage = copy_and_wipe(&event, &copy, body, sizeof body);
    assert_int_equal(copy.u.response_body.body_len, 9);
    assert_int_equal(copy.u.response_body.more_body, 1);
    assert_memory_equal(copy.u.response_body.body, "some body", 9);
    free(storage);
  }
  /* an empty body points to nothing and needs no storage */
  asgid_event empty = {.type = ASGID_HTTP_RESPONSE_BODY};
  assert_int_equal(asgi_event_copy_size(&empty), 0);
}

static void test_copy_websocket_accept(void **state) {
  (void)state;
  char text[] = "chat.v2#xab";
  asgid_header header = {text + 8, 1, text + 9, 2};
  text[7] = '\0';
  asgid_event event = {.type = ASGID_WEBSOCKET_ACCEPT,
                       .u.websocket_accept = {.subprotocol = text, .headers = &header,
                                              .header_count = 1}};
  asgid_event copy;
  void *storage = copy_and_wipe(&event, &copy, text, sizeof text);
  assert_string_equal(copy.u.websocket_accept.subprotocol, "chat.v2");
  assert_int_equal(copy.u.websocket_accept.header_count, 1);
  assert_memory_equal(copy.u.websocket_accept.headers[0].name, "x", 1);
  assert_memory_equal(copy.u.websocket_accept.headers[0].value, "ab", 2);
  free(storage);
  /* no subprotocol stays NULL */
  asgid_event bare = {.type = ASGID_WEBSOCKET_ACCEPT};
  assert_int_equal(asgi_event_copy_size(&bare), 0);
  asgi_event_copy(&bare, &copy, NULL);
  assert_null(copy.u.websocket_accept.subprotocol);
}

static void test_copy_websocket_messages_keep_their_type(void **state) {
  (void)state;
  for (int text = 0; text <= 1; text++) {
    uint8_t data[] = "h\xc3\xa9llo";
    asgid_event event = {.type = ASGID_WEBSOCKET_SEND,
                         .u.websocket_message = {.data = data, .len = 6, .text = text}};
    asgid_event copy;
    void *storage = copy_and_wipe(&event, &copy, data, sizeof data);
    assert_int_equal(copy.u.websocket_message.text, text);
    assert_int_equal(copy.u.websocket_message.len, 6);
    assert_memory_equal(copy.u.websocket_message.data, "h\xc3\xa9llo", 6);
    free(storage);
  }
}

static void test_copy_websocket_close_reason(void **state) {
  (void)state;
  char reason[] = "going away now";
  asgid_event event = {.type = ASGID_WEBSOCKET_CLOSE,
                       .u.websocket_close = {.code = 4001, .reason = reason, .reason_len = 10}};
  asgid_event copy;
  void *storage = copy_and_wipe(&event, &copy, reason, sizeof reason);
  assert_int_equal(copy.u.websocket_close.code, 4001);
  assert_int_equal(copy.u.websocket_close.reason_len, 10);
  assert_memory_equal(copy.u.websocket_close.reason, "going away", 10);
  free(storage);
}

static void test_copy_lifespan_failed_message(void **state) {
  (void)state;
  char message[] = "database down";
  asgid_event event = {.type = ASGID_LIFESPAN_STARTUP_FAILED, .u.failed = {.message = message}};
  asgid_event copy;
  void *storage = copy_and_wipe(&event, &copy, message, sizeof message - 1);
  assert_string_equal(copy.u.failed.message, "database down");
  free(storage);
  asgid_event none = {.type = ASGID_LIFESPAN_SHUTDOWN_FAILED};
  assert_int_equal(asgi_event_copy_size(&none), 0);
}

/* Several pointing fields share one block: each lands aligned and apart from the others. */
static void test_copy_packs_fields_aligned(void **state) {
  (void)state;
  char sub[] = "a";
  char name[] = "n";
  asgid_header header = {name, 1, name, 1};
  asgid_event event = {.type = ASGID_WEBSOCKET_ACCEPT,
                       .u.websocket_accept = {.subprotocol = sub, .headers = &header,
                                              .header_count = 1}};
  size_t size = asgi_event_copy_size(&event);
  assert_true(size >= 2 + sizeof(asgid_header) + 2);
  asgid_event copy;
  void *storage = malloc(size);
  asgi_event_copy(&event, &copy, storage);
  assert_int_equal((uintptr_t)copy.u.websocket_accept.headers % _Alignof(asgid_header), 0);
  assert_string_equal(copy.u.websocket_accept.subprotocol, "a");
  assert_memory_equal(copy.u.websocket_accept.headers[0].name, "n", 1);
  free(storage);
}

/* ------------------------------------------------------------------ docs/abi.md */

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  platform_text_capture out;
  if (platform_text_capture_open(&out) != 0) {
    fclose(f);
    return NULL;
  }
  char chunk[4096];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, got, out.stream);
  fclose(f);
  return platform_text_capture_close(&out);
}

static void test_abi_doc_event_section_is_current(void **state) {
  (void)state;
  const char *source_dir = getenv("ASGID_SOURCE_DIR");
  if (!source_dir) fail_msg("ASGID_SOURCE_DIR is not set: run this test with ctest");
  char path[4096];
  snprintf(path, sizeof path, "%s/docs/abi.md", source_dir);
  char *committed = read_file(path);
  if (!committed) fail_msg("cannot read %s", path);
  platform_text_capture out;
  assert_int_equal(platform_text_capture_open(&out), 0);
  asgi_events_print_doc(out.stream);
  char *generated = platform_text_capture_close(&out);
  assert_non_null(generated);
  size_t size = strlen(generated);
  const char *begin = strstr(committed, "<!-- events: generated");
  const char *end_marker = "<!-- events: end -->\n";
  const char *end = begin ? strstr(begin, end_marker) : NULL;
  if (!end) fail_msg("docs/abi.md lacks the event section's marker lines");
  size_t committed_len = (size_t)(end + strlen(end_marker) - begin);
  if (committed_len != size || memcmp(begin, generated, size) != 0)
    fail_msg("the event section of docs/abi.md differs from what the event table produces; "
             "regenerate it: replace the lines from '<!-- events: generated' to "
             "'<!-- events: end -->' with the output of build/asgid --abi-events-doc");
  free(generated);
  free(committed);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table_is_consistent),
      cmocka_unit_test(test_copy_response_start_headers),
      cmocka_unit_test(test_copy_bodies),
      cmocka_unit_test(test_copy_websocket_accept),
      cmocka_unit_test(test_copy_websocket_messages_keep_their_type),
      cmocka_unit_test(test_copy_websocket_close_reason),
      cmocka_unit_test(test_copy_lifespan_failed_message),
      cmocka_unit_test(test_copy_packs_fields_aligned),
      cmocka_unit_test(test_abi_doc_event_section_is_current),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
