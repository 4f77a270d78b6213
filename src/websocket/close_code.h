/*
 * close_code.h - WebSocket close codes (RFC 6455 §7.4 and the IANA registry) and the close
 * frame's payload: which codes a peer may send us, which we may send, and the checks on a
 * received close payload and on a reason the app gives.
 */
#ifndef ASGID_WEBSOCKET_CLOSE_CODE_H
#define ASGID_WEBSOCKET_CLOSE_CODE_H

#include <stddef.h>
#include <stdint.h>

enum {
  WS_CLOSE_NORMAL = 1000,
  WS_CLOSE_GOING_AWAY = 1001,
  WS_CLOSE_PROTOCOL_ERROR = 1002,
  WS_CLOSE_UNSUPPORTED_DATA = 1003,
  WS_CLOSE_NO_STATUS = 1005,       /* never on the wire: "the close frame had no code" */
  WS_CLOSE_ABNORMAL = 1006,        /* never on the wire: "the connection dropped" */
  WS_CLOSE_INVALID_PAYLOAD = 1007, /* e.g. text that is not UTF-8 */
  WS_CLOSE_POLICY_VIOLATION = 1008,
  WS_CLOSE_TOO_BIG = 1009,
  WS_CLOSE_MANDATORY_EXTENSION = 1010,
  WS_CLOSE_INTERNAL_ERROR = 1011,
  WS_CLOSE_SERVICE_RESTART = 1012,
  WS_CLOSE_TRY_AGAIN_LATER = 1013,
  WS_CLOSE_BAD_GATEWAY = 1014,
  WS_CLOSE_TLS_HANDSHAKE = 1015    /* never on the wire */
};

/* The longest reason a close frame carries: 125 bytes of control payload minus the code. */
#define WS_CLOSE_REASON_MAX 123

/* 1 when a peer may send `code` in a close frame: 1000-1003 and 1007-1014 (RFC 6455 and the
 * IANA registry, 1012-1014 included), 3000-4999 (libraries and applications). Everything else
 * is a protocol error (1002): below 1000, 1004 (reserved), 1005, 1006 and 1015 (never sent),
 * 1016-2999 (unassigned), 5000 and up. */
int ws_close_code_receivable(unsigned code);

/* 1 when the server may send `code`: the same set. 1005, 1006 and 1015 only ever describe a
 * close (to the app), and a code a peer would refuse is never sent. Use it on codes from the
 * app (whose 0 means 1000: the caller maps it first). */
int ws_close_code_sendable(unsigned code);

/* A close frame's payload, read. */
typedef struct ws_close_payload {
  uint16_t code;          /* WS_CLOSE_NO_STATUS when the payload was empty */
  const uint8_t *reason;  /* inside the payload given; length 0 when none */
  size_t reason_len;
} ws_close_payload;

/* Reads a received close frame's payload (0 to 125 bytes): empty, or a 2-byte code and a
 * UTF-8 reason. Returns 0, or the close code to fail the connection with (1002: a 1-byte
 * payload or a code that may not be received; 1007: a reason that is not UTF-8) with *rule
 * naming the rule broken. */
int ws_close_payload_read(const uint8_t *payload, size_t len, ws_close_payload *out,
                          const char **rule);

/* Checks a close the app asks for (code already mapped from 0 to 1000): returns 0, or -1 with
 * *rule naming what is wrong (a code that may not be sent, a reason over 123 bytes or not
 * UTF-8). */
int ws_close_check_outgoing(unsigned code, const uint8_t *reason, size_t reason_len,
                            const char **rule);

#endif /* ASGID_WEBSOCKET_CLOSE_CODE_H */
