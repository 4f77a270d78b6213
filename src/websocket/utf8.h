/*
 * utf8.h - incremental UTF-8 validation for WebSocket text messages and close reasons
 * (RFC 6455 §8.1), in either direction.
 *
 * A validator carries its state across the pieces of a message: fragments, and the spans
 * one fragment arrives in. It fails at the first byte that can never be part of valid UTF-8
 * (Autobahn's "fail fast", cases 6.4.x): a byte that is never valid (C0, C1, F5..FF), a
 * continuation byte where none may stand, a lead byte where a continuation must, an overlong
 * form (E0 80.., F0 80..), a surrogate (ED A0..) or a code point past U+10FFFF (F4 90..).
 * Whether the message ended inside a sequence is a separate question, asked at its end.
 */
#ifndef ASGID_WEBSOCKET_UTF8_H
#define ASGID_WEBSOCKET_UTF8_H

#include <stddef.h>
#include <stdint.h>

typedef struct ws_utf8 {
  uint8_t state; /* the automaton's state: 0 between code points */
} ws_utf8;

/* Starts a new text (state 0). A zeroed ws_utf8 is also ready. */
void ws_utf8_init(ws_utf8 *v);

/* Validates the next `len` bytes of the text. Returns 0 while the text can still be valid;
 * -1 when it cannot, with *invalid_at (if not NULL) the offset in `data` of the first byte
 * that made it so. After -1 the validator stays failed. */
int ws_utf8_feed(ws_utf8 *v, const uint8_t *data, size_t len, size_t *invalid_at);

/* 1 when the bytes fed so far end between code points (valid as a whole text). */
int ws_utf8_complete(const ws_utf8 *v);

/* 1 when `len` bytes are valid UTF-8 as a whole. */
int ws_utf8_valid(const uint8_t *data, size_t len);

#endif /* ASGID_WEBSOCKET_UTF8_H */
