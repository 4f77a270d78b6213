/*
 * channel_drain.h - reading what already waits on a channel, without waiting for more: the
 * master's last read of a worker whose exit it has seen, before the channel closes.
 */
#ifndef ASGID_CHANNEL_DRAIN_H
#define ASGID_CHANNEL_DRAIN_H

#include <uv.h>

#include "worker/channel_codec.h"

/* Reads stream (a libuv stream, non-blocking) until nothing more waits, into r: on_message
 * gets every whole frame; an incomplete one stays in r. Stops at an error of the reader or
 * of the read. */
void channel_drain(channel_reader *r, uv_stream_t *stream,
                   void (*on_message)(void *data, const channel_message *m), void *data);

#endif /* ASGID_CHANNEL_DRAIN_H */
