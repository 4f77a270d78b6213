/*
 * message.h - whole messages both ways. Inbound, it assembles the client's data messages from
 * the frame parser's DATA spans (frame.h): inflates compressed ones (deflate.h), validates
 * text as UTF-8 as it arrives so that bad text fails at its first impossible byte (1007),
 * holds the size limit after inflation (1009), and hands over each whole message. Outbound,
 * it frames the app's messages, compressed when permessage-deflate was agreed.
 *
 * A message that arrives as one uncompressed span (one frame, read whole: the common case)
 * is not copied: the result points at the span in the read buffer, unmasked in place.
 * Otherwise the message is gathered in a buffer that grows with it, up to the limit, and is
 * freed by ws_message_reset, so an idle connection holds no message memory.
 */
#ifndef ASGID_WEBSOCKET_MESSAGE_H
#define ASGID_WEBSOCKET_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "websocket/buffer.h"
#include "websocket/deflate.h"
#include "websocket/frame.h"
#include "websocket/utf8.h"

typedef struct ws_message {
  ws_buffer buffer;    /* the message gathered so far, when it is not a single span */
  ws_utf8 utf8;        /* text: validation so far */
  uint8_t opcode;      /* WS_OP_TEXT or WS_OP_BINARY */
  uint8_t complete;    /* data/len hold the whole message */
  const uint8_t *data; /* complete: the message (in the read buffer or in `buffer`) */
  size_t len;
} ws_message;

/* Adds a DATA event of the parser. `deflate` is the connection's compression state (NULL
 * when permessage-deflate was not agreed: the parser then never reports a compressed
 * message); `max_size` the largest message after inflation (0: no limit). Returns 0, or the
 * close code (1007 invalid UTF-8 or compressed data, 1009 too big, 1011 out of memory) with
 * *rule. When the event ends the message, m->complete is set and m->data, m->len, m->opcode
 * describe it: deliver it, then call ws_message_reset before the next event. */
int ws_message_add(ws_message *m, ws_deflate *deflate, uint64_t max_size,
                   const ws_parse_result *r, const char **rule);

/* Forgets the message and frees its buffer. A zeroed ws_message is ready for use. */
void ws_message_reset(ws_message *m);

/* Frames a message of the app as one frame (the server never fragments: ASGI hands over
 * whole messages). With `deflate` (permessage-deflate agreed) the payload is compressed into
 * `scratch` (whose memory the caller keeps or frees) and the frame marked with RSV1; without,
 * the payload is the app's bytes as they are. Sets the header to write, then the payload to
 * write after it. Returns 0, or -1 when memory ran out. */
int ws_message_frame(ws_deflate *deflate, unsigned opcode, const uint8_t *data, size_t len,
                     ws_buffer *scratch, uint8_t header[WS_FRAME_HEADER_MAX], size_t *header_len,
                     const uint8_t **payload, size_t *payload_len);

#endif /* ASGID_WEBSOCKET_MESSAGE_H */
