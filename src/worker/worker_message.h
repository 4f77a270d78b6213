/*
 * worker_message.h - what a worker tells its master over their channel, one text line each:
 *
 *   "ready RSS"                    accepting connections
 *   "hb REQUESTS CONNECTIONS RSS"  a heartbeat, every heartbeat interval
 *   "retire REQUESTS"              max_requests reached: the master starts a replacement first
 *
 * RSS is the worker's resident memory in bytes, for max_worker_memory (in "ready", the size
 * of a fresh worker). It may be missing ("ready", "hb REQUESTS CONNECTIONS"): a spawned worker
 * runs the binary on disk, which an upgrade of the package may have replaced with one that
 * does not send it; it then decodes as 0 (unknown, never above a limit).
 *
 * Numbers are decimal, without sign or leading zeros. The worker encodes (link.c); the master
 * decodes what it reads through a worker_message_reader (master/workers.c). Both ends use
 * this file, so they cannot drift. The master sends nothing after a spawned worker's
 * bootstrap (bootstrap_reader.h).
 */
#ifndef ASGID_WORKER_MESSAGE_H
#define ASGID_WORKER_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

/* The longest line the master reads, its newline included; longer lines are UNKNOWN. */
#define WORKER_MESSAGE_LINE_MAX 160

typedef enum worker_message_kind {
  WORKER_MESSAGE_UNKNOWN,   /* a line that is none of the others: ignored */
  WORKER_MESSAGE_READY,
  WORKER_MESSAGE_HEARTBEAT,
  WORKER_MESSAGE_RETIRE
} worker_message_kind;

typedef struct worker_message {
  worker_message_kind kind;
  uint64_t requests;    /* HEARTBEAT, RETIRE: requests served so far */
  uint64_t connections; /* HEARTBEAT: connections open now */
  uint64_t rss;         /* READY, HEARTBEAT: resident memory in bytes, 0 when unknown */
} worker_message;

/* Writes the line of a message other than UNKNOWN into buf (WORKER_MESSAGE_LINE_MAX bytes),
 * NUL-terminated, without its newline. Returns the line's length (at most 65). */
size_t worker_message_encode(const worker_message *m, char *buf);

/* Decodes one line (without its newline): a line worker_message_encode writes gives its
 * message back, and so does one without its RSS (then 0); any other line gives UNKNOWN. */
worker_message worker_message_decode(const char *line, size_t len);

/* The master's reader of one worker's channel: the bytes go straight into its buffer, and
 * each complete line comes out decoded. A line too long for the buffer is discarded up to
 * its newline and comes out as UNKNOWN. */
typedef struct worker_message_reader {
  char buf[WORKER_MESSAGE_LINE_MAX];
  size_t len;       /* bytes of an incomplete line in buf */
  int discarding;   /* inside a line too long to hold */
} worker_message_reader;

/* Where the next bytes read from the channel go, and the room there (never 0). */
char *worker_message_reader_space(worker_message_reader *r, size_t *size);

/* Takes n bytes just read into the space: on_message gets every line they complete, in
 * order (every line counts as a sign of life, known or not). */
void worker_message_reader_take(worker_message_reader *r, size_t n,
                                void (*on_message)(void *data, const worker_message *m),
                                void *data);

#endif /* ASGID_WORKER_MESSAGE_H */
