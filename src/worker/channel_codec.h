/*
 * channel_codec.h - the typed messages between the master and a worker, over their channel
 * (a socket pair for forked workers, the IPC pipe for spawned ones), after a spawned worker's
 * bootstrap (bootstrap_format.h). Both ends encode and decode with this file, so they cannot
 * drift.
 *
 * A frame is an 8-byte header and a payload, little-endian:
 *
 *   version u8 (CHANNEL_VERSION) | kind u8 | flags u16 (0) | payload length u32
 *   payload: fields, each  id u16 | count u16 | count x u64
 *
 * A counter is a field of count 1; a table of counters (requests by class, a histogram's
 * buckets: net/request_stats.h) is one field of all its counts. A decoder skips fields it does
 * not know, so that fields can be added within a version; a kind it does not know, a field
 * it knows with another count, nonzero flags, a payload above CHANNEL_PAYLOAD_MAX or another
 * version are errors: the reader stops, and its owner logs why and drops the peer.
 *
 *   worker -> master   READY {rss}   RETIRE {requests}
 *                      HEARTBEAT {requests, connections, rss, in_flight, websockets, bytes_in,
 *                                 bytes_out, cpu_usec, stats (by class, durations, their sum)}
 *   master -> worker   STOP {graceful}   REOPEN_LOGS   DIAGNOSE (write last words and exit)
 *
 * RSS is the worker's resident memory in bytes (0: unknown, never above a limit); in READY,
 * the size of a fresh worker. The heartbeat's counters count from the worker's start; the
 * master keeps what a worker last reported when it exits (the metrics' totals).
 */
#ifndef ASGID_CHANNEL_CODEC_H
#define ASGID_CHANNEL_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "net/request_stats.h"

#define CHANNEL_VERSION 1
#define CHANNEL_HEADER_SIZE 8
#define CHANNEL_PAYLOAD_MAX 16384
#define CHANNEL_FRAME_MAX (CHANNEL_HEADER_SIZE + CHANNEL_PAYLOAD_MAX)

typedef enum channel_kind {
  CHANNEL_READY = 1,
  CHANNEL_HEARTBEAT = 2,
  CHANNEL_RETIRE = 3,
  CHANNEL_STOP = 16,
  CHANNEL_REOPEN_LOGS = 17,
  CHANNEL_DIAGNOSE = 18
} channel_kind;

typedef enum channel_field_id {
  CHANNEL_FIELD_REQUESTS = 1,    /* requests served so far */
  CHANNEL_FIELD_CONNECTIONS = 2, /* connections open now */
  CHANNEL_FIELD_RSS = 3,         /* resident memory in bytes */
  CHANNEL_FIELD_GRACEFUL = 4,    /* STOP: 1 lets in-flight requests finish, 0 closes now */
  CHANNEL_FIELD_IN_FLIGHT = 5,   /* requests begun, the app not done yet */
  CHANNEL_FIELD_WEBSOCKETS = 6,  /* WebSocket connections open now */
  CHANNEL_FIELD_BYTES_IN = 7,    /* bytes received from clients so far */
  CHANNEL_FIELD_BYTES_OUT = 8,   /* bytes sent to clients so far */
  CHANNEL_FIELD_CPU_USEC = 9,    /* the worker's CPU time (user + system) so far */
  CHANNEL_FIELD_REQUESTS_BY_CLASS = 10, /* stats.requests, method-class major */
  CHANNEL_FIELD_DURATIONS = 11,  /* stats.duration_buckets */
  CHANNEL_FIELD_DURATION_SUM = 12 /* stats.duration_sum_usec */
} channel_field_id;

typedef struct channel_message {
  channel_kind kind;
  uint64_t requests;
  uint64_t connections;
  uint64_t rss;
  uint64_t graceful;
  uint64_t in_flight, websockets, bytes_in, bytes_out, cpu_usec;
  request_stats stats;
} channel_message;

/* How often a worker sends a heartbeat: often enough that a few late ones never reach
 * `timeout`. Both ends use it: a worker silent for longer than timeout plus this interval has
 * surely been stuck for a whole `timeout` (its master and its own stall watch act then). */
static inline uint64_t channel_heartbeat_interval_ms(uint64_t timeout_ms) {
  return timeout_ms / 4 < 1000 ? timeout_ms / 4 : 1000;
}

/* Writes the frame of m (the fields its kind carries) into buf, which has CHANNEL_FRAME_MAX
 * bytes. Returns the frame's length. */
size_t channel_encode(const channel_message *m, uint8_t *buf);

typedef enum channel_error {
  CHANNEL_OK,
  CHANNEL_ERROR_VERSION,  /* another protocol version */
  CHANNEL_ERROR_FLAGS,    /* flags this version does not define */
  CHANNEL_ERROR_LENGTH,   /* a payload above CHANNEL_PAYLOAD_MAX */
  CHANNEL_ERROR_KIND,     /* a kind this version does not define */
  CHANNEL_ERROR_FIELD     /* a field cut short, or a known field with a wrong count */
} channel_error;

/* Why a frame was refused, for the log line. */
const char *channel_error_text(channel_error e);

/* Decodes one whole frame of len bytes (header and payload; len must be the header's length
 * plus CHANNEL_HEADER_SIZE). Fields that the kind does not carry are left 0. */
channel_error channel_decode(const uint8_t *frame, size_t len, channel_message *out);

/* The reader of one channel's byte stream: bytes go straight into its buffer, and each
 * complete frame comes out decoded. After an error it takes nothing more. */
typedef struct channel_reader {
  uint8_t buf[CHANNEL_FRAME_MAX];
  size_t len;          /* bytes of an incomplete frame in buf */
  channel_error error; /* the first error, then sticky */
} channel_reader;

/* Where the next bytes read from the channel go, and the room there (never 0 before an
 * error). */
uint8_t *channel_reader_space(channel_reader *r, size_t *size);

/* Takes n bytes just read into the space: on_message gets every frame they complete, in
 * order. Returns CHANNEL_OK, or the error that stopped the reader (its frame and everything
 * after it are dropped). */
channel_error channel_reader_take(channel_reader *r, size_t n,
                                  void (*on_message)(void *data, const channel_message *m),
                                  void *data);

#endif /* ASGID_CHANNEL_CODEC_H */
