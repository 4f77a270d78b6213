/* frame.c - see frame.h. */
#include "websocket/frame.h"

#include <string.h>

#include "websocket/close_code.h"

enum { STATE_HEADER, STATE_PAYLOAD, STATE_FAILED };

void ws_parser_init(ws_parser *p, const ws_frame_limits *limits) {
  memset(p, 0, sizeof *p);
  p->limits = *limits;
  p->state = STATE_HEADER;
  p->header_need = 2;
}

void ws_mask(uint8_t *data, size_t len, const uint8_t key[4], uint64_t offset) {
  uint8_t rotated[8];
  for (size_t i = 0; i < 8; i++) rotated[i] = key[(offset + i) & 3];
  size_t i = 0;
  /* Eight bytes at a time: payloads are often large, and this runs over every byte. */
  if (len >= 8) {
    uint64_t k;
    memcpy(&k, rotated, 8);
    for (; len - i >= 8; i += 8) {
      uint64_t word;
      memcpy(&word, data + i, 8);
      word ^= k;
      memcpy(data + i, &word, 8);
    }
  }
  for (; i < len; i++) data[i] ^= rotated[i & 7];
}

static size_t fail(ws_parser *p, ws_parse_result *r, size_t used, uint16_t code,
                   const char *rule) {
  p->state = STATE_FAILED;
  p->error_code = code;
  p->error_rule = rule;
  r->event = WS_PARSE_ERROR;
  r->close_code = code;
  r->rule = rule;
  return used;
}

static int is_control(unsigned opcode) { return opcode & 0x8; }

/* The rules the first two header bytes settle. Returns NULL, or the rule broken (1002). */
static const char *check_first_bytes(ws_parser *p) {
  uint8_t b0 = p->header[0], b1 = p->header[1];
  unsigned opcode = b0 & 0x0F;
  unsigned len7 = b1 & 0x7F;
  p->fin = b0 >> 7;
  p->rsv1 = (b0 >> 6) & 1;
  p->opcode = (uint8_t)opcode;
  if (opcode != WS_OP_CONTINUATION && opcode != WS_OP_TEXT && opcode != WS_OP_BINARY &&
      opcode != WS_OP_CLOSE && opcode != WS_OP_PING && opcode != WS_OP_PONG)
    return "reserved opcode";
  if (b0 & 0x30) return "RSV2 or RSV3 set (no extension uses them)";
  if (p->rsv1) {
    if (!p->limits.deflate) return "RSV1 set without a negotiated extension";
    if (is_control(opcode)) return "RSV1 set on a control frame";
    if (opcode == WS_OP_CONTINUATION) return "RSV1 set on a continuation frame";
  }
  if (!(b1 & 0x80)) return "client frame not masked";
  if (is_control(opcode)) {
    if (!p->fin) return "fragmented control frame";
    if (len7 > WS_CONTROL_PAYLOAD_MAX) return "control frame payload over 125 bytes";
  } else if (opcode == WS_OP_CONTINUATION) {
    if (!p->message_opcode) return "continuation frame without a message in progress";
  } else if (p->message_opcode) {
    return "new data frame inside a fragmented message";
  }
  p->header_need = (uint8_t)(2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4);
  return NULL;
}

/* Reads the length and the key once the header is whole, and checks the limits. Returns 0,
 * or the close code with *rule. */
static uint16_t finish_header(ws_parser *p, const char **rule) {
  const uint8_t *h = p->header;
  unsigned len7 = h[1] & 0x7F;
  uint64_t len = len7;
  size_t at = 2;
  if (len7 == 126) {
    len = (uint64_t)h[2] << 8 | h[3];
    at = 4;
  } else if (len7 == 127) {
    len = 0;
    for (size_t i = 0; i < 8; i++) len = len << 8 | h[2 + i];
    at = 10;
    if (len >> 63) {
      *rule = "64-bit payload length with its most significant bit set";
      return WS_CLOSE_PROTOCOL_ERROR;
    }
  }
  memcpy(p->mask, h + at, 4);
  p->payload_len = len;
  p->payload_done = 0;
  if (is_control(p->opcode)) return 0;

  const ws_frame_limits *l = &p->limits;
  if (l->max_frame_size && len > l->max_frame_size) {
    *rule = "frame larger than ws_max_frame_size";
    return WS_CLOSE_TOO_BIG;
  }
  if (p->opcode != WS_OP_CONTINUATION) {
    p->message_opcode = p->opcode;
    p->message_compressed = p->rsv1;
    p->message_reported = 0;
    p->message_bytes = 0;
    p->message_frames = 0;
  }
  p->message_frames++;
  if (l->max_fragments && p->message_frames > l->max_fragments) {
    *rule = "message in more frames than ws_max_fragments";
    return WS_CLOSE_TOO_BIG;
  }
  /* len < 2^63 and message_bytes <= max_message_size, so the sum cannot wrap. */
  if (l->max_message_size && (len > l->max_message_size ||
                              p->message_bytes + len > l->max_message_size)) {
    *rule = "message larger than ws_max_message_size";
    return WS_CLOSE_TOO_BIG;
  }
  p->message_bytes += len;
  return 0;
}

static void next_frame(ws_parser *p) {
  p->state = STATE_HEADER;
  p->header_len = 0;
  p->header_need = 2;
}

/* Reports a span of the data message; ends the frame (and the message) when it is done. */
static void report_data(ws_parser *p, ws_parse_result *r, uint8_t *data, size_t n) {
  p->payload_done += n;
  r->event = WS_PARSE_DATA;
  r->opcode = p->message_opcode;
  r->compressed = p->message_compressed;
  r->message_begin = !p->message_reported;
  r->data = data;
  r->len = n;
  p->message_reported = 1;
  if (p->payload_done == p->payload_len) {
    if (p->fin) {
      r->message_end = 1;
      p->message_opcode = 0;
    }
    next_frame(p);
  }
}

/* Reports the control frame gathered in p->control; a close frame's payload is checked. */
static size_t report_control(ws_parser *p, ws_parse_result *r, size_t used) {
  size_t len = (size_t)p->payload_len;
  ws_mask(p->control, len, p->mask, 0);
  next_frame(p);
  r->event = WS_PARSE_CONTROL;
  r->opcode = p->opcode;
  r->data = p->control;
  r->len = len;
  if (p->opcode == WS_OP_CLOSE) {
    ws_close_payload close;
    const char *rule = NULL;
    int code = ws_close_payload_read(p->control, len, &close, &rule);
    if (code) return fail(p, r, used, (uint16_t)code, rule);
    r->close_code = close.code;
    r->data = (uint8_t *)close.reason;
    r->len = close.reason_len;
  }
  return used;
}

size_t ws_parser_feed(ws_parser *p, uint8_t *data, size_t len, ws_parse_result *r) {
  memset(r, 0, sizeof *r);
  if (p->state == STATE_FAILED) return fail(p, r, 0, p->error_code, p->error_rule);
  size_t used = 0;
  for (;;) {
    if (p->state == STATE_HEADER) {
      while (p->header_len < p->header_need) {
        if (used == len) {
          r->event = WS_PARSE_MORE;
          return used;
        }
        p->header[p->header_len++] = data[used++];
        if (p->header_len == 2) {
          const char *rule = check_first_bytes(p);
          if (rule) return fail(p, r, used, WS_CLOSE_PROTOCOL_ERROR, rule);
        }
      }
      const char *rule = NULL;
      uint16_t code = finish_header(p, &rule);
      if (code) return fail(p, r, used, code, rule);
      p->state = STATE_PAYLOAD;
      if (p->payload_len == 0) {
        if (is_control(p->opcode)) return report_control(p, r, used);
        if (p->fin) {
          report_data(p, r, data + used, 0);
          return used;
        }
        next_frame(p); /* an empty fragment: nothing to report */
        continue;
      }
    }
    uint64_t remaining = p->payload_len - p->payload_done;
    size_t n = len - used;
    if (n > remaining) n = (size_t)remaining;
    if (n == 0) {
      r->event = WS_PARSE_MORE;
      return used;
    }
    if (is_control(p->opcode)) {
      memcpy(p->control + p->payload_done, data + used, n);
      p->payload_done += n;
      used += n;
      if (p->payload_done == p->payload_len) return report_control(p, r, used);
      continue;
    }
    ws_mask(data + used, n, p->mask, p->payload_done);
    report_data(p, r, data + used, n);
    return used + n;
  }
}

size_t ws_frame_header_write(uint8_t out[WS_FRAME_HEADER_MAX], unsigned opcode, int fin,
                             int rsv1, uint64_t payload_len) {
  out[0] = (uint8_t)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (opcode & 0x0F));
  if (payload_len <= 125) {
    out[1] = (uint8_t)payload_len;
    return 2;
  }
  if (payload_len <= 0xFFFF) {
    out[1] = 126;
    out[2] = (uint8_t)(payload_len >> 8);
    out[3] = (uint8_t)payload_len;
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; i++) out[2 + i] = (uint8_t)(payload_len >> (56 - 8 * i));
  return 10;
}

size_t ws_frame_control_write(uint8_t out[WS_CONTROL_FRAME_MAX], unsigned opcode,
                              const uint8_t *payload, size_t len) {
  if (len > WS_CONTROL_PAYLOAD_MAX) len = WS_CONTROL_PAYLOAD_MAX;
  size_t n = ws_frame_header_write(out, opcode, 1, 0, len);
  if (len) memcpy(out + n, payload, len);
  return n + len;
}

size_t ws_frame_close_write(uint8_t out[WS_CONTROL_FRAME_MAX], unsigned code,
                            const uint8_t *reason, size_t reason_len) {
  if (code == WS_CLOSE_NO_STATUS) return ws_frame_header_write(out, WS_OP_CLOSE, 1, 0, 0);
  if (reason_len > WS_CLOSE_REASON_MAX) {
    /* Cut before the character the limit falls inside: never before a continuation byte. */
    reason_len = WS_CLOSE_REASON_MAX;
    while (reason_len > 0 && (reason[reason_len] & 0xC0) == 0x80) reason_len--;
  }
  size_t n = ws_frame_header_write(out, WS_OP_CLOSE, 1, 0, 2 + reason_len);
  out[n] = (uint8_t)(code >> 8);
  out[n + 1] = (uint8_t)code;
  if (reason_len) memcpy(out + n + 2, reason, reason_len);
  return n + 2 + reason_len;
}
