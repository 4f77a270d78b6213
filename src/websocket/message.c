/* message.c - see message.h. */
#include "websocket/message.h"

#include "websocket/close_code.h"

static int check_text(ws_message *m, const uint8_t *data, size_t len, int end, const char **rule) {
  if (m->opcode != WS_OP_TEXT) return 0;
  if (len && ws_utf8_feed(&m->utf8, data, len, NULL) != 0) {
    *rule = "text message not valid UTF-8";
    return WS_CLOSE_INVALID_PAYLOAD;
  }
  if (end && !ws_utf8_complete(&m->utf8)) {
    *rule = "text message ends inside a UTF-8 sequence";
    return WS_CLOSE_INVALID_PAYLOAD;
  }
  return 0;
}

/* An uncompressed span: checked, then kept in place (the whole message) or gathered. */
static int add_plain(ws_message *m, size_t ceiling, const ws_parse_result *r, const char **rule) {
  int rc = check_text(m, r->data, r->len, r->message_end, rule);
  if (rc) return rc;
  if (ceiling && (r->len > ceiling || m->buffer.len > ceiling - r->len)) {
    *rule = "message larger than ws_max_message_size";
    return WS_CLOSE_TOO_BIG;
  }
  if (r->message_begin && r->message_end) {
    m->data = r->data; /* the whole message in one span: no copy */
    m->len = r->len;
    m->complete = 1;
    return 0;
  }
  if (ws_buffer_append(&m->buffer, r->data, r->len, ceiling) != 0) {
    *rule = "out of memory assembling a message";
    return WS_CLOSE_INTERNAL_ERROR;
  }
  return 0;
}

int ws_message_add(ws_message *m, ws_deflate *deflate, uint64_t max_size,
                   const ws_parse_result *r, const char **rule) {
  if (r->message_begin) {
    ws_message_reset(m);
    m->opcode = r->opcode;
  }
  size_t ceiling = max_size > SIZE_MAX ? 0 : (size_t)max_size;
  if (!r->compressed) {
    int rc = add_plain(m, ceiling, r, rule);
    if (rc || m->complete) return rc;
  } else {
    size_t before = m->buffer.len;
    int rc = ws_inflate(deflate, r->data, r->len, r->message_end, &m->buffer, max_size, rule);
    if (!rc && m->buffer.len > before)
      rc = check_text(m, m->buffer.data + before, m->buffer.len - before, 0, rule);
    if (!rc) rc = check_text(m, NULL, 0, r->message_end, rule);
    if (rc) return rc;
  }
  if (r->message_end) {
    m->data = m->buffer.data;
    m->len = m->buffer.len;
    m->complete = 1;
  }
  return 0;
}

int ws_message_frame(ws_deflate *deflate, unsigned opcode, const uint8_t *data, size_t len,
                     ws_buffer *scratch, uint8_t header[WS_FRAME_HEADER_MAX], size_t *header_len,
                     const uint8_t **payload, size_t *payload_len) {
  *payload = data;
  *payload_len = len;
  if (deflate) {
    if (ws_deflate_message(deflate, data, len, scratch) != 0) return -1;
    *payload = scratch->data;
    *payload_len = scratch->len;
  }
  *header_len = ws_frame_header_write(header, opcode, 1, deflate != NULL, *payload_len);
  return 0;
}

void ws_message_reset(ws_message *m) {
  ws_buffer_free(&m->buffer);
  *m = (ws_message){0};
}
