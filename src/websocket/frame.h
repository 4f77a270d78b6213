/*
 * frame.h - WebSocket frames (RFC 6455 §5): an incremental parser of the client's frames and
 * a writer of the server's. Pure: no I/O, no allocation.
 *
 * The parser is fed the bytes a connection reads, cut anywhere (one byte at a time works).
 * It reports one event per call:
 *   - DATA: a span of a data message's payload, unmasked IN PLACE in the caller's buffer, so
 *     the session hands it on (to the message being assembled, to the inflater, or straight
 *     to the app when one span is the whole message) without copying it first;
 *   - CONTROL: a whole control frame (ping, pong, close), gathered in the parser (at most 125
 *     bytes) because it may arrive in pieces, even between the fragments of a message;
 *   - ERROR: a rule of §5 broken, with the close code to fail the connection with and the
 *     rule, for the log line;
 *   - MORE: everything fed was consumed; feed the next bytes.
 * Every check that needs only the frame header (masking, RSV bits, opcodes, control frame
 * rules, continuation rules, the 64-bit length's top bit, the frame, message and fragment
 * limits) is made when the header is complete, before any of its payload is delivered.
 */
#ifndef ASGID_WEBSOCKET_FRAME_H
#define ASGID_WEBSOCKET_FRAME_H

#include <stddef.h>
#include <stdint.h>

enum {
  WS_OP_CONTINUATION = 0x0,
  WS_OP_TEXT = 0x1,
  WS_OP_BINARY = 0x2,
  WS_OP_CLOSE = 0x8,
  WS_OP_PING = 0x9,
  WS_OP_PONG = 0xA
};

/* A control frame's payload may not exceed this (§5.5). */
#define WS_CONTROL_PAYLOAD_MAX 125

/* What the parser enforces; the settings give the values (websocket/limits.h). */
typedef struct ws_frame_limits {
  uint64_t max_frame_size;   /* payload bytes of one data frame: 1009 above; 0: no limit */
  uint64_t max_message_size; /* payload bytes of one data message across its frames, as
                                received (the inflater checks the decompressed size): 1009
                                above; 0: no limit */
  uint32_t max_fragments;    /* frames of one data message: 1009 above; 0: no limit */
  int deflate;               /* permessage-deflate was negotiated: RSV1 may be set on the
                                first frame of a data message (it marks it compressed) */
} ws_frame_limits;

typedef enum ws_parse_event {
  WS_PARSE_MORE,    /* all bytes fed were consumed without anything to report */
  WS_PARSE_DATA,    /* a span of a data message */
  WS_PARSE_CONTROL, /* a whole control frame */
  WS_PARSE_ERROR    /* the client broke a rule: fail the connection with close_code */
} ws_parse_event;

typedef struct ws_parse_result {
  ws_parse_event event;
  /* DATA: the message's opcode (WS_OP_TEXT or WS_OP_BINARY, also on its continuation
   * frames); CONTROL: WS_OP_CLOSE, WS_OP_PING or WS_OP_PONG. */
  uint8_t opcode;
  uint8_t compressed;    /* DATA: the message is compressed (RSV1 on its first frame) */
  uint8_t message_begin; /* DATA: the first span of a message */
  uint8_t message_end;   /* DATA: the last span of the message (its final frame is done);
                            an empty final frame gives a DATA event of length 0 */
  /* DATA: the span, inside the buffer fed (unmasked in place). CONTROL: the payload, inside
   * the parser (valid until the next feed); for a close, the reason only. */
  uint8_t *data;
  size_t len;
  /* CONTROL close: the code received (1005 when the frame had none; code and reason are
   * checked: see close_code.h). ERROR: the code to close with (1002, 1007 or 1009). */
  uint16_t close_code;
  const char *rule; /* ERROR: the rule broken, a short phrase for the log */
} ws_parse_result;

typedef struct ws_parser {
  ws_frame_limits limits;
  uint8_t state;
  /* the frame being read */
  uint8_t header[14];
  uint8_t header_len, header_need;
  uint8_t fin, opcode, rsv1;
  uint8_t mask[4];
  uint64_t payload_len, payload_done;
  /* the data message in progress (opcode 0: none) */
  uint8_t message_opcode, message_compressed, message_reported;
  uint64_t message_bytes;
  uint32_t message_frames;
  /* the control frame being gathered */
  uint8_t control[WS_CONTROL_PAYLOAD_MAX];
  /* after an error */
  uint16_t error_code;
  const char *error_rule;
} ws_parser;

/* Prepares a parser for a connection's client frames. */
void ws_parser_init(ws_parser *p, const ws_frame_limits *limits);

/* Parses bytes from `data` until there is an event to report (in *r) or all are consumed.
 * Returns how many were consumed: call again with the rest. DATA spans are unmasked in place,
 * which is why `data` is writable. After an ERROR, every call returns 0 and the same error.
 * After a CONTROL close, the client may send nothing more (§5.5.1): stop feeding. */
size_t ws_parser_feed(ws_parser *p, uint8_t *data, size_t len, ws_parse_result *r);

/* XORs `len` bytes with a masking key, starting `offset` bytes into the masked payload
 * (§5.3). Masking and unmasking are the same operation. */
void ws_mask(uint8_t *data, size_t len, const uint8_t key[4], uint64_t offset);

/* ---- the writer: server frames, never masked ---- */

/* The longest server frame header: 2 bytes, then a 64-bit length. */
#define WS_FRAME_HEADER_MAX 10
/* A whole control frame: 2 header bytes and at most 125 bytes of payload. */
#define WS_CONTROL_FRAME_MAX (2 + WS_CONTROL_PAYLOAD_MAX)

/* Writes the header of a frame whose payload of `payload_len` bytes the caller sends after
 * it; rsv1 marks the first frame of a compressed message. Returns its length (2, 4 or 10). */
size_t ws_frame_header_write(uint8_t out[WS_FRAME_HEADER_MAX], unsigned opcode, int fin,
                             int rsv1, uint64_t payload_len);

/* Writes a whole ping or pong with its payload (at most 125 bytes; more is cut at 125).
 * Returns its length. */
size_t ws_frame_control_write(uint8_t out[WS_CONTROL_FRAME_MAX], unsigned opcode,
                              const uint8_t *payload, size_t len);

/* Writes a whole close frame. Code 1005 (WS_CLOSE_NO_STATUS: answering a close that had no
 * code) writes an empty payload; otherwise the code and the reason, cut to 123 bytes at a
 * UTF-8 character boundary. The caller checked the code (ws_close_code_sendable). Returns its
 * length. */
size_t ws_frame_close_write(uint8_t out[WS_CONTROL_FRAME_MAX], unsigned code,
                            const uint8_t *reason, size_t reason_len);

#endif /* ASGID_WEBSOCKET_FRAME_H */
