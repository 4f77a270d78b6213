/* close_code.c - see close_code.h. */
#include "websocket/close_code.h"

#include "websocket/utf8.h"

int ws_close_code_receivable(unsigned code) {
  if (code >= 1000 && code <= 1003) return 1;
  if (code >= 1007 && code <= 1014) return 1;
  return code >= 3000 && code <= 4999;
}

int ws_close_code_sendable(unsigned code) { return ws_close_code_receivable(code); }

int ws_close_payload_read(const uint8_t *payload, size_t len, ws_close_payload *out,
                          const char **rule) {
  *out = (ws_close_payload){.code = WS_CLOSE_NO_STATUS, .reason = payload, .reason_len = 0};
  if (len == 0) return 0;
  if (len == 1) {
    *rule = "close frame payload of 1 byte";
    return WS_CLOSE_PROTOCOL_ERROR;
  }
  unsigned code = (unsigned)payload[0] << 8 | payload[1];
  if (!ws_close_code_receivable(code)) {
    *rule = "close code that may not be sent";
    return WS_CLOSE_PROTOCOL_ERROR;
  }
  if (!ws_utf8_valid(payload + 2, len - 2)) {
    *rule = "close reason not valid UTF-8";
    return WS_CLOSE_INVALID_PAYLOAD;
  }
  out->code = (uint16_t)code;
  out->reason = payload + 2;
  out->reason_len = len - 2;
  return 0;
}

int ws_close_check_outgoing(unsigned code, const uint8_t *reason, size_t reason_len,
                            const char **rule) {
  if (!ws_close_code_sendable(code)) {
    *rule = "close code not allowed (1000-1003, 1007-1014, 3000-4999)";
    return -1;
  }
  if (reason_len > WS_CLOSE_REASON_MAX) {
    *rule = "close reason longer than 123 bytes";
    return -1;
  }
  if (!ws_utf8_valid(reason, reason_len)) {
    *rule = "close reason not valid UTF-8";
    return -1;
  }
  return 0;
}
