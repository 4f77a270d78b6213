/* message.c - see message.h. */
#include "websocket/message.h"

#include "websocket/close_code.h"

static int check_text(ws_message *m, const uint8_t *data, size_t len, int end, const char **rule) {
  if (m->opcode != WS_OP_TEXT) return 0;
  if (ws_utf8_feed(&m->utf8, data, len, NULL) != 0) {
    *rule = "text message not valid UTF-8";
    return WS_CLOSE_INVALID_PAYLOAD;
  }
  if (end && !ws_utf8_complete(&m->utf8)) {
    *rule = "text message ends inside a UTF-8 sequence";
    return WS_CLOSE_INVALID_PAYLOAD;
  }
  return 0;
}

int ws_message_add(ws_message *m, ws_deflate *deflate, uint64_t max_size,
                   const ws_parse_result *r, const char **rule) {
  if (r->message_begin) {
    ws_message_reset(m);
    m->opcode = r->opcode;
  }
  int rc;
  if (r->compressed) {
    size_t before = m->buffer.len;
    rc = ws_inflate(deflate, r->data, r->len, r->message_end, &m->buffer, max_size, rule);
    if (!rc) rc = check_text(m, m->buffer.data + before, m->buffer.len - before, r->message_end, rule);
  } else {
    rc = check_text(m, r->data, r->len, r->message_end, rule);
    if (!rc && r->message_begin && r->message_end) {
      m->data = r->data; /* the whole message in one span: no copy */
      m->len = r->len;
      m->complete = 1;
      return 0;
    }
    size_t ceiling = max_size > SIZE_MAX ? 0 : (size_t)max_size;
    if (!rc && ceiling && (r->len > ceiling || m->buffer.len > ceiling - r->len)) {
      *rule = "message larger than ws_max_message_size";
      rc = WS_CLOSE_TOO_BIG;
    } else if (!rc && ws_buffer_append(&m->buffer, r->data, r->len, ceiling) != 0) {
      *rule = "out of memory assembling a message";
      rc = WS_CLOSE_INTERNAL_ERROR;
    }
  }
  if (rc) return rc;
  if (r->message_end) {
    m->data = m->buffer.data;
    m->len = m->buffer.len;
    m->complete = 1;
  }
  return 0;
}

void ws_message_reset(ws_message *m) {
  ws_buffer_free(&m->buffer);
  *m = (ws_message){0};
}
