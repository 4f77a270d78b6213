/*
 * fuzz_channel_frames.c - the reader of the master-worker channel (src/worker/channel_codec.c),
 * which both ends run on what the other sends: the bytes arrive in reads the fuzzer cuts
 * (fuzz_reads.h), each at most the room the reader offers, as libuv reads into it.
 *
 * What the reader delivers is compared with a model of channel_codec.h: the stream is a run of
 * frames, each its 8-byte header plus the length the header gives; the reader delivers, in
 * order, exactly the frames channel_decode accepts up to the first one it refuses (and stops
 * there with that error). Every delivered message survives encoding and decoding.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_reads.h"
#include "worker/channel_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);

static int same(const channel_message *a, const channel_message *b) {
  return a->kind == b->kind && a->requests == b->requests && a->connections == b->connections &&
         a->rss == b->rss && a->graceful == b->graceful && a->in_flight == b->in_flight &&
         a->websockets == b->websockets && a->bytes_in == b->bytes_in &&
         a->bytes_out == b->bytes_out && a->cpu_usec == b->cpu_usec &&
         memcmp(&a->stats, &b->stats, sizeof a->stats) == 0;
}

typedef struct delivery {
  const uint8_t *stream;
  size_t size;
  size_t frame_start; /* where the next expected frame starts in the stream */
  size_t delivered;
} delivery;

/* The frame at `at`'s length from its header (the header must have arrived). */
static size_t frame_length(const uint8_t *frame) {
  uint32_t payload = (uint32_t)frame[4] | (uint32_t)frame[5] << 8 | (uint32_t)frame[6] << 16 |
                     (uint32_t)frame[7] << 24;
  return CHANNEL_HEADER_SIZE + (size_t)payload;
}

static void on_message(void *data, const channel_message *m) {
  delivery *d = data;
  FUZZ_CHECK(d->size - d->frame_start >= CHANNEL_HEADER_SIZE);
  size_t len = frame_length(d->stream + d->frame_start);
  FUZZ_CHECK(len <= CHANNEL_FRAME_MAX && d->size - d->frame_start >= len);
  channel_message expected;
  FUZZ_CHECK(channel_decode(d->stream + d->frame_start, len, &expected) == CHANNEL_OK);
  FUZZ_CHECK(same(m, &expected));
  uint8_t encoded[CHANNEL_FRAME_MAX];
  size_t encoded_len = channel_encode(m, encoded);
  channel_message back;
  FUZZ_CHECK(channel_decode(encoded, encoded_len, &back) == CHANNEL_OK && same(&back, m));
  d->frame_start += len;
  d->delivered++;
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size) {
  fuzz_reads reads;
  fuzz_reads_init(&reads, input, size);
  delivery d = {.stream = reads.stream, .size = reads.size};
  static channel_reader reader;
  memset(&reader, 0, sizeof reader);
  channel_error error = CHANNEL_OK;
  size_t taken = 0;
  while (error == CHANNEL_OK && fuzz_reads_next(&reads) > 0) {
    while (error == CHANNEL_OK && taken < reads.arrived) {
      size_t room;
      uint8_t *space = channel_reader_space(&reader, &room);
      FUZZ_CHECK(room > 0 && space >= reader.buf && space + room <= reader.buf + sizeof reader.buf);
      size_t n = reads.arrived - taken < room ? reads.arrived - taken : room;
      memcpy(space, d.stream + taken, n);
      error = channel_reader_take(&reader, n, on_message, &d);
      taken += n;
    }
  }
  /* The model's verdict on what follows the delivered frames. */
  size_t rest = d.size - d.frame_start;
  if (error != CHANNEL_OK) {
    /* the refused frame is the next one, and channel_decode refuses it for the same reason
     * (judged on its header alone when the rest has not arrived) */
    FUZZ_CHECK(rest >= CHANNEL_HEADER_SIZE);
    size_t len = frame_length(d.stream + d.frame_start);
    channel_message ignored;
    if (len <= rest && len <= CHANNEL_FRAME_MAX)
      FUZZ_CHECK(channel_decode(d.stream + d.frame_start, len, &ignored) == error);
    size_t room;
    channel_reader_space(&reader, &room);
    FUZZ_CHECK(room == 0);
  } else if (rest >= CHANNEL_HEADER_SIZE) {
    /* what is left is one incomplete frame */
    FUZZ_CHECK(frame_length(d.stream + d.frame_start) > rest);
  }
  return 0;
}
