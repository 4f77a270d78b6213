/* channel_drain.c - reading what waits on a channel now. See channel_drain.h. */
#include "worker/channel_drain.h"

#include "platform/platform.h"

void channel_drain(channel_reader *r, uv_stream_t *stream,
                   void (*on_message)(void *data, const channel_message *m), void *data) {
  for (;;) {
    size_t size;
    uint8_t *space = channel_reader_space(r, &size);
    int n = size ? platform_read_pending(stream, space, size) : 0;
    if (n <= 0 || channel_reader_take(r, (size_t)n, on_message, data) != CHANNEL_OK) return;
  }
}
