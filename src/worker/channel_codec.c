/* channel_codec.c - frames of the master-worker channel. See channel_codec.h. */
#include "worker/channel_codec.h"

#include <string.h>

/* Which fields each kind carries, in the order they are written. */
typedef struct kind_fields {
  channel_kind kind;
  channel_field_id fields[12];
  size_t count;
} kind_fields;

static const kind_fields kinds[] = {
    {CHANNEL_READY, {CHANNEL_FIELD_RSS}, 1},
    {CHANNEL_HEARTBEAT,
     {CHANNEL_FIELD_REQUESTS, CHANNEL_FIELD_CONNECTIONS, CHANNEL_FIELD_RSS,
      CHANNEL_FIELD_IN_FLIGHT, CHANNEL_FIELD_WEBSOCKETS, CHANNEL_FIELD_BYTES_IN,
      CHANNEL_FIELD_BYTES_OUT, CHANNEL_FIELD_CPU_USEC, CHANNEL_FIELD_REQUESTS_BY_CLASS,
      CHANNEL_FIELD_DURATIONS, CHANNEL_FIELD_DURATION_SUM},
     11},
    {CHANNEL_RETIRE, {CHANNEL_FIELD_REQUESTS}, 1},
    {CHANNEL_STOP, {CHANNEL_FIELD_GRACEFUL}, 1},
    {CHANNEL_REOPEN_LOGS, {0}, 0},
    {CHANNEL_DIAGNOSE, {0}, 0},
};

static const kind_fields *find_kind(unsigned kind) {
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if ((unsigned)kinds[i].kind == kind) return &kinds[i];
  return NULL;
}

/* The message's members that hold a field and how many values it has, or NULL for a field
 * this version does not know. */
static uint64_t *field_slot(channel_message *m, unsigned id, size_t *count) {
  *count = 1;
  switch (id) {
    case CHANNEL_FIELD_REQUESTS: return &m->requests;
    case CHANNEL_FIELD_CONNECTIONS: return &m->connections;
    case CHANNEL_FIELD_RSS: return &m->rss;
    case CHANNEL_FIELD_GRACEFUL: return &m->graceful;
    case CHANNEL_FIELD_IN_FLIGHT: return &m->in_flight;
    case CHANNEL_FIELD_WEBSOCKETS: return &m->websockets;
    case CHANNEL_FIELD_BYTES_IN: return &m->bytes_in;
    case CHANNEL_FIELD_BYTES_OUT: return &m->bytes_out;
    case CHANNEL_FIELD_CPU_USEC: return &m->cpu_usec;
    case CHANNEL_FIELD_REQUESTS_BY_CLASS:
      *count = REQUEST_METHOD_CLASSES * REQUEST_STATUS_CLASSES;
      return &m->stats.requests[0][0];
    case CHANNEL_FIELD_DURATIONS:
      *count = REQUEST_DURATION_BUCKETS;
      return m->stats.duration_buckets;
    case CHANNEL_FIELD_DURATION_SUM: return &m->stats.duration_sum_usec;
  }
  return NULL;
}

static void put_u16(uint8_t *p, unsigned v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static unsigned get_u16(const uint8_t *p) { return (unsigned)p[0] | (unsigned)p[1] << 8; }

static uint32_t get_u32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static uint64_t get_u64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

size_t channel_encode(const channel_message *m, uint8_t *buf) {
  const kind_fields *k = find_kind((unsigned)m->kind);
  channel_message copy = *m;
  size_t at = CHANNEL_HEADER_SIZE;
  for (size_t i = 0; k && i < k->count; i++) {
    size_t count;
    const uint64_t *values = field_slot(&copy, k->fields[i], &count);
    put_u16(buf + at, k->fields[i]);
    put_u16(buf + at + 2, (unsigned)count);
    at += 4;
    for (size_t v = 0; v < count; v++, at += 8) put_u64(buf + at, values[v]);
  }
  buf[0] = CHANNEL_VERSION;
  buf[1] = (uint8_t)m->kind;
  put_u16(buf + 2, 0);
  put_u32(buf + 4, (uint32_t)(at - CHANNEL_HEADER_SIZE));
  return at;
}

const char *channel_error_text(channel_error e) {
  switch (e) {
    case CHANNEL_OK: return "no error";
    case CHANNEL_ERROR_VERSION: return "another protocol version";
    case CHANNEL_ERROR_FLAGS: return "undefined flags";
    case CHANNEL_ERROR_LENGTH: return "a payload above the maximum";
    case CHANNEL_ERROR_KIND: return "an unknown message kind";
    case CHANNEL_ERROR_FIELD: return "a malformed field";
  }
  return "?";
}

/* The header's checks, which need only its 8 bytes. */
static channel_error check_header(const uint8_t *h) {
  if (h[0] != CHANNEL_VERSION) return CHANNEL_ERROR_VERSION;
  if (get_u16(h + 2) != 0) return CHANNEL_ERROR_FLAGS;
  if (get_u32(h + 4) > CHANNEL_PAYLOAD_MAX) return CHANNEL_ERROR_LENGTH;
  if (!find_kind(h[1])) return CHANNEL_ERROR_KIND;
  return CHANNEL_OK;
}

channel_error channel_decode(const uint8_t *frame, size_t len, channel_message *out) {
  memset(out, 0, sizeof *out);
  if (len < CHANNEL_HEADER_SIZE) return CHANNEL_ERROR_LENGTH;
  channel_error e = check_header(frame);
  if (e != CHANNEL_OK) return e;
  if (len != CHANNEL_HEADER_SIZE + (size_t)get_u32(frame + 4)) return CHANNEL_ERROR_LENGTH;
  const kind_fields *k = find_kind(frame[1]);
  out->kind = k->kind;
  const uint8_t *p = frame + CHANNEL_HEADER_SIZE, *end = frame + len;
  while (p < end) {
    if (end - p < 4) return CHANNEL_ERROR_FIELD;
    unsigned id = get_u16(p), count = get_u16(p + 2);
    p += 4;
    if ((size_t)(end - p) / 8 < count) return CHANNEL_ERROR_FIELD;
    int carried = 0;
    for (size_t i = 0; i < k->count; i++) carried |= (unsigned)k->fields[i] == id;
    size_t expected;
    uint64_t *slot = field_slot(out, id, &expected);
    if (slot && carried) {
      if (count != expected) return CHANNEL_ERROR_FIELD;
      for (size_t v = 0; v < count; v++) slot[v] = get_u64(p + 8 * v);
    } else if (slot) {
      return CHANNEL_ERROR_FIELD; /* a known field on a kind that does not carry it */
    }
    p += (size_t)count * 8; /* a field of a later release: skipped */
  }
  return CHANNEL_OK;
}

uint8_t *channel_reader_space(channel_reader *r, size_t *size) {
  *size = r->error == CHANNEL_OK ? sizeof r->buf - r->len : 0;
  return r->buf + r->len;
}

channel_error channel_reader_take(channel_reader *r, size_t n,
                                  void (*on_message)(void *data, const channel_message *m),
                                  void *data) {
  if (r->error != CHANNEL_OK) return r->error;
  r->len += n;
  size_t start = 0;
  while (r->len - start >= CHANNEL_HEADER_SIZE) {
    const uint8_t *frame = r->buf + start;
    channel_error e = check_header(frame);
    if (e != CHANNEL_OK) return r->error = e;
    size_t frame_len = CHANNEL_HEADER_SIZE + (size_t)get_u32(frame + 4);
    if (r->len - start < frame_len) break;
    channel_message m;
    e = channel_decode(frame, frame_len, &m);
    if (e != CHANNEL_OK) return r->error = e;
    start += frame_len;
    on_message(data, &m);
  }
  r->len -= start;
  memmove(r->buf, r->buf + start, r->len);
  return CHANNEL_OK;
}
