/* worker_message.c - the lines of the worker-to-master channel. See worker_message.h. */
#include "worker/worker_message.h"

#include <stdio.h>
#include <string.h>

size_t worker_message_encode(const worker_message *m, char *buf) {
  int n = 0;
  switch (m->kind) {
    case WORKER_MESSAGE_READY:
      n = snprintf(buf, WORKER_MESSAGE_LINE_MAX, "ready %llu", (unsigned long long)m->rss);
      break;
    case WORKER_MESSAGE_HEARTBEAT:
      n = snprintf(buf, WORKER_MESSAGE_LINE_MAX, "hb %llu %llu %llu",
                   (unsigned long long)m->requests, (unsigned long long)m->connections,
                   (unsigned long long)m->rss);
      break;
    case WORKER_MESSAGE_RETIRE:
      n = snprintf(buf, WORKER_MESSAGE_LINE_MAX, "retire %llu", (unsigned long long)m->requests);
      break;
    case WORKER_MESSAGE_UNKNOWN:
      buf[0] = '\0';
      break;
  }
  return (size_t)n;
}

/* Moves *p past `literal` if the text there starts with it. */
static int skip(const char **p, const char *end, const char *literal) {
  size_t n = strlen(literal);
  if ((size_t)(end - *p) < n || memcmp(*p, literal, n) != 0) return -1;
  *p += n;
  return 0;
}

/* Reads a decimal number as worker_message_encode writes it (no sign, no leading zero, at
 * most UINT64_MAX) and moves *p past it. */
static int read_number(const char **p, const char *end, uint64_t *out) {
  const char *digit = *p;
  if (digit == end || *digit < '0' || *digit > '9') return -1;
  if (*digit == '0' && digit + 1 < end && digit[1] >= '0' && digit[1] <= '9') return -1;
  uint64_t n = 0;
  for (; digit < end && *digit >= '0' && *digit <= '9'; digit++) {
    unsigned value = (unsigned)(*digit - '0');
    if (n > (UINT64_MAX - value) / 10) return -1;
    n = n * 10 + value;
  }
  *p = digit;
  *out = n;
  return 0;
}

/* Moves *p past " RSS" if it is there (a worker that sends no RSS: 0). */
static int read_optional_rss(const char **p, const char *end, uint64_t *rss) {
  *rss = 0;
  return *p == end || (skip(p, end, " ") == 0 && read_number(p, end, rss) == 0) ? 0 : -1;
}

/* Exact, rather than sscanf's leniency: sscanf read "hb -1 2" as 2^64-1 requests, took
 * "retire 5 junk" and stopped at a NUL byte. */
worker_message worker_message_decode(const char *line, size_t len) {
  const char *end = line + len, *p = line;
  worker_message m = {.kind = WORKER_MESSAGE_UNKNOWN};
  if (skip(&p, end, "ready") == 0 && read_optional_rss(&p, end, &m.rss) == 0 && p == end) {
    m.kind = WORKER_MESSAGE_READY;
  } else if ((p = line, skip(&p, end, "retire ") == 0) &&
             read_number(&p, end, &m.requests) == 0 && p == end) {
    m.kind = WORKER_MESSAGE_RETIRE;
  } else if ((p = line, skip(&p, end, "hb ") == 0) && read_number(&p, end, &m.requests) == 0 &&
             skip(&p, end, " ") == 0 && read_number(&p, end, &m.connections) == 0 &&
             read_optional_rss(&p, end, &m.rss) == 0 && p == end) {
    m.kind = WORKER_MESSAGE_HEARTBEAT;
  } else {
    m = (worker_message){.kind = WORKER_MESSAGE_UNKNOWN}; /* without what a near miss read */
  }
  return m;
}

char *worker_message_reader_space(worker_message_reader *r, size_t *size) {
  *size = sizeof r->buf - r->len;
  return r->buf + r->len;
}

void worker_message_reader_take(worker_message_reader *r, size_t n,
                                void (*on_message)(void *data, const worker_message *m),
                                void *data) {
  size_t start = 0, scanned = r->len;
  r->len += n;
  for (size_t i = scanned; i < r->len; i++) {
    if (r->buf[i] != '\n') continue;
    worker_message m = {.kind = WORKER_MESSAGE_UNKNOWN};
    if (!r->discarding) m = worker_message_decode(r->buf + start, i - start);
    r->discarding = 0;
    on_message(data, &m);
    start = i + 1;
  }
  r->len -= start;
  memmove(r->buf, r->buf + start, r->len);
  /* A line that fills the buffer is too long: the rest of it, up to its newline, is
   * dropped too, never read as a line of its own. */
  if (r->len == sizeof r->buf) {
    r->len = 0;
    r->discarding = 1;
  }
}
