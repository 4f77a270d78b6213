/*
 * fuzz_worker_messages.c - the master's decoder of what a worker sends on its channel
 * (src/worker/worker_message.c): the bytes arrive in reads the fuzzer cuts (fuzz_reads.h),
 * each at most the room the reader offers, as libuv reads into it.
 *
 * What the reader delivers is compared with a model of the contract in worker_message.h:
 * every newline-terminated line is one message; a line too long for the reader is UNKNOWN;
 * a line is a known message exactly when worker_message_encode writes that line for it (or
 * that line without its RSS, as older worker binaries send).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_reads.h"
#include "worker/worker_message.h"

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);

/* The longest line the reader decodes, without its newline. */
#define LINE_LIMIT (WORKER_MESSAGE_LINE_MAX - 1)

static int same_message(const worker_message *a, const worker_message *b) {
  return a->kind == b->kind && a->requests == b->requests && a->connections == b->connections &&
         a->rss == b->rss;
}

/* The model: a candidate read loosely, kept only if encoding it gives the line back, or the
 * line without its RSS (a worker binary that sends none: RSS 0). */
static worker_message model_decode(const char *line, size_t len) {
  worker_message unknown = {.kind = WORKER_MESSAGE_UNKNOWN};
  char text[WORKER_MESSAGE_LINE_MAX + 1];
  if (len > LINE_LIMIT || memchr(line, '\0', len)) return unknown;
  memcpy(text, line, len);
  text[len] = '\0';
  worker_message m = unknown;
  unsigned long long requests, connections, rss = 0;
  if (strcmp(text, "ready") == 0 || sscanf(text, "ready %llu", &rss) == 1) {
    m = (worker_message){.kind = WORKER_MESSAGE_READY, .rss = rss};
  } else if (sscanf(text, "retire %llu", &requests) == 1) {
    m = (worker_message){.kind = WORKER_MESSAGE_RETIRE, .requests = requests};
  } else if (sscanf(text, "hb %llu %llu %llu", &requests, &connections, &rss) >= 2) {
    m = (worker_message){.kind = WORKER_MESSAGE_HEARTBEAT,
                         .requests = requests,
                         .connections = connections,
                         .rss = rss};
  }
  if (m.kind == WORKER_MESSAGE_UNKNOWN) return unknown;
  char encoded[WORKER_MESSAGE_LINE_MAX];
  size_t encoded_len = worker_message_encode(&m, encoded);
  if (encoded_len == len && memcmp(encoded, line, len) == 0) return m;
  int without_rss = m.kind != WORKER_MESSAGE_RETIRE && m.rss == 0 && encoded_len == len + 2 &&
                    memcmp(encoded, line, len) == 0;
  return without_rss ? m : unknown;
}

typedef struct delivery {
  const char *stream;
  size_t size;
  size_t line_start; /* where the next expected line starts in the stream */
  size_t delivered;
} delivery;

static void on_message(void *data, const worker_message *m) {
  delivery *d = data;
  const char *newline = memchr(d->stream + d->line_start, '\n', d->size - d->line_start);
  FUZZ_CHECK(newline); /* a message without a complete line */
  size_t len = (size_t)(newline - (d->stream + d->line_start));
  worker_message expected = model_decode(d->stream + d->line_start, len);
  FUZZ_CHECK(same_message(m, &expected));
  d->line_start += len + 1;
  d->delivered++;
}

/* Every message survives encoding and decoding. */
static void check_encoding(const uint8_t *bytes, size_t size) {
  uint64_t values[3] = {0, 0, 0};
  memcpy(values, bytes, size < sizeof values ? size : sizeof values);
  worker_message messages[] = {
      {.kind = WORKER_MESSAGE_READY, .rss = values[2]},
      {.kind = WORKER_MESSAGE_HEARTBEAT,
       .requests = values[0],
       .connections = values[1],
       .rss = values[2]},
      {.kind = WORKER_MESSAGE_RETIRE, .requests = values[0]},
  };
  for (size_t i = 0; i < sizeof messages / sizeof messages[0]; i++) {
    char line[WORKER_MESSAGE_LINE_MAX];
    size_t len = worker_message_encode(&messages[i], line);
    FUZZ_CHECK(len <= LINE_LIMIT && strlen(line) == len && !memchr(line, '\n', len));
    worker_message back = worker_message_decode(line, len);
    FUZZ_CHECK(same_message(&back, &messages[i]));
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size) {
  check_encoding(input, size);
  fuzz_reads reads;
  fuzz_reads_init(&reads, input, size);
  delivery d = {.stream = (const char *)reads.stream, .size = reads.size};
  worker_message_reader reader;
  memset(&reader, 0, sizeof reader);
  size_t taken = 0;
  while (fuzz_reads_next(&reads) > 0) {
    while (taken < reads.arrived) {
      size_t room;
      char *space = worker_message_reader_space(&reader, &room);
      FUZZ_CHECK(room > 0 && space >= reader.buf && space + room <= reader.buf + sizeof reader.buf);
      size_t n = reads.arrived - taken < room ? reads.arrived - taken : room;
      memcpy(space, d.stream + taken, n);
      worker_message_reader_take(&reader, n, on_message, &d);
      taken += n;
    }
  }
  /* every complete line was delivered */
  size_t lines = 0;
  for (size_t i = 0; i < d.size; i++) lines += d.stream[i] == '\n';
  FUZZ_CHECK(d.delivered == lines);
  return 0;
}
