/* deflate.c - see deflate.h. */
#include "websocket/deflate.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "websocket/close_code.h"
#include "websocket/header_list.h"

/* ---------------------------------------------------------------- negotiation */

typedef struct cursor {
  const char *s;
  size_t len, at;
} cursor;

static void skip_ows(cursor *c) {
  while (c->at < c->len && (c->s[c->at] == ' ' || c->s[c->at] == '\t')) c->at++;
}

static int at_char(const cursor *c, char ch) { return c->at < c->len && c->s[c->at] == ch; }

static int read_token(cursor *c, const char **token, size_t *len) {
  size_t start = c->at;
  while (c->at < c->len && ws_is_tchar((unsigned char)c->s[c->at])) c->at++;
  *token = c->s + start;
  *len = c->at - start;
  return *len > 0;
}

/* Reads a quoted-string (RFC 9110 §5.6.4) whose opening quote is at the cursor, unescaping
 * it into out[0..cap) (*len is its whole length, which may exceed cap). Returns 0, or -1
 * when it is not a quoted-string. */
static int read_quoted(cursor *c, char *out, size_t cap, size_t *len) {
  c->at++;
  *len = 0;
  while (c->at < c->len) {
    unsigned char ch = (unsigned char)c->s[c->at++];
    if (ch == '"') return 0;
    if (ch == '\\') {
      if (c->at == c->len) return -1;
      ch = (unsigned char)c->s[c->at++];
    }
    if (ch < 0x20 && ch != '\t') return -1;
    if (ch == 0x7F) return -1;
    if (*len < cap) out[*len] = (char)ch;
    (*len)++;
  }
  return -1;
}

/* One permessage-deflate offer's parameters. */
typedef struct offer {
  int ok; /* no unknown, duplicate or invalid parameter */
  int server_no_context_takeover, client_no_context_takeover;
  int server_window_bits; /* 0: not offered */
  int client_window_bits; /* 0: not offered; -1: offered without a value */
} offer;

/* "8".."15" exactly (as websockets accepts them); 0 otherwise. */
static int window_bits_value(const char *v, size_t len) {
  if (len == 1 && v[0] >= '8' && v[0] <= '9') return v[0] - '0';
  if (len == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') return 10 + (v[1] - '0');
  return 0;
}

static void offer_param(offer *o, const char *name, size_t name_len, const char *value,
                        size_t value_len, int has_value) {
  if (ws_equal_nocase(name, name_len, "server_no_context_takeover")) {
    if (o->server_no_context_takeover || has_value) o->ok = 0;
    o->server_no_context_takeover = 1;
  } else if (ws_equal_nocase(name, name_len, "client_no_context_takeover")) {
    if (o->client_no_context_takeover || has_value) o->ok = 0;
    o->client_no_context_takeover = 1;
  } else if (ws_equal_nocase(name, name_len, "server_max_window_bits")) {
    int bits = has_value ? window_bits_value(value, value_len) : 0;
    if (o->server_window_bits || !bits) o->ok = 0;
    o->server_window_bits = bits ? bits : -1;
  } else if (ws_equal_nocase(name, name_len, "client_max_window_bits")) {
    int bits = has_value ? window_bits_value(value, value_len) : -1;
    if (o->client_window_bits || !bits) o->ok = 0;
    o->client_window_bits = bits ? bits : -1;
  } else {
    o->ok = 0;
  }
}

/* Decides the response to an acceptable offer (websockets' server tables). Returns 1, or 0
 * to decline it. */
static int accept_offer(const ws_deflate_config *cfg, const offer *o, ws_deflate_params *p,
                        char *response) {
  /* server_max_window_bits: our configured window, or less when the client asks for less */
  int server_bits = cfg->window_bits;
  if (o->server_window_bits > 0 && o->server_window_bits < server_bits)
    server_bits = o->server_window_bits;
  if (server_bits < 9) return 0; /* zlib cannot compress raw deflate with an 8-bit window */
  /* client_max_window_bits: named only when offered; without a value we choose ours */
  int client_bits = 15, name_client_bits = 0;
  if (o->client_window_bits == -1) {
    client_bits = cfg->window_bits;
    name_client_bits = 1;
  } else if (o->client_window_bits > 0) {
    client_bits = o->client_window_bits < cfg->window_bits ? o->client_window_bits
                                                           : cfg->window_bits;
    name_client_bits = 1;
  }
  *p = (ws_deflate_params){
      .server_no_context_takeover = (uint8_t)(cfg->server_no_context_takeover ||
                                              o->server_no_context_takeover),
      .client_no_context_takeover = (uint8_t)(cfg->client_no_context_takeover ||
                                              o->client_no_context_takeover),
      .server_window_bits = (uint8_t)server_bits,
      .client_window_bits = (uint8_t)client_bits,
  };
  char client[40] = "";
  if (name_client_bits) snprintf(client, sizeof client, "; client_max_window_bits=%d", client_bits);
  snprintf(response, WS_DEFLATE_RESPONSE_MAX, "permessage-deflate%s%s; server_max_window_bits=%d%s",
           p->server_no_context_takeover ? "; server_no_context_takeover" : "",
           p->client_no_context_takeover ? "; client_no_context_takeover" : "", server_bits,
           client);
  return 1;
}

/* Parses one field's value: extension *( "," extension ), where
 * extension = token *( ";" token [ "=" ( token / quoted-string ) ] ), OWS around every
 * delimiter, empty list elements allowed. Tries each permessage-deflate offer until one is
 * accepted. Returns 0, or -1 when the value does not follow the grammar. */
static int parse_field(const ws_deflate_config *cfg, const char *value, size_t len,
                       int *accepted, ws_deflate_params *params, char *response) {
  cursor c = {.s = value, .len = len};
  for (;;) {
    skip_ows(&c);
    if (c.at == c.len) return 0;
    if (at_char(&c, ',')) {
      c.at++;
      continue;
    }
    const char *name;
    size_t name_len;
    if (!read_token(&c, &name, &name_len)) return -1;
    offer o = {.ok = 1};
    for (;;) {
      skip_ows(&c);
      if (c.at == c.len || at_char(&c, ',')) break;
      if (!at_char(&c, ';')) return -1;
      c.at++;
      skip_ows(&c);
      const char *param;
      size_t param_len;
      if (!read_token(&c, &param, &param_len)) return -1;
      skip_ows(&c);
      const char *v = NULL;
      size_t v_len = 0;
      int has_value = 0;
      char unquoted[8];
      if (at_char(&c, '=')) {
        c.at++;
        skip_ows(&c);
        has_value = 1;
        if (at_char(&c, '"')) {
          if (read_quoted(&c, unquoted, sizeof unquoted, &v_len) != 0) return -1;
          /* RFC 6455 §9.1: a quoted value must be a token once unquoted */
          if (v_len > sizeof unquoted || !ws_is_token(unquoted, v_len)) o.ok = 0;
          v = unquoted;
        } else if (!read_token(&c, &v, &v_len)) {
          return -1;
        }
      }
      offer_param(&o, param, param_len, v, v_len, has_value);
    }
    if (cfg->enabled && !*accepted && o.ok &&
        ws_equal_nocase(name, name_len, "permessage-deflate"))
      *accepted = accept_offer(cfg, &o, params, response);
  }
}

int ws_deflate_negotiate(const ws_deflate_config *cfg, const asgid_header *headers,
                         size_t header_count, ws_deflate_params *params,
                         char response[WS_DEFLATE_RESPONSE_MAX], const char **rule) {
  int accepted = 0;
  response[0] = '\0';
  for (size_t i = 0; i < header_count; i++) {
    const asgid_header *h = &headers[i];
    if (!ws_equal_nocase(h->name, h->name_len, "sec-websocket-extensions")) continue;
    /* The whole request is read even when compression is off: a malformed field is the
     * same error either way. */
    if (parse_field(cfg, h->value, h->value_len, &accepted, params, response) != 0) {
      *rule = "malformed Sec-WebSocket-Extensions";
      response[0] = '\0';
      return -1;
    }
  }
  return accepted;
}

/* ---------------------------------------------------------------- the zlib streams */

/* zlib allocates through these, so that the memory a connection's streams hold is known
 * (d->zlib_bytes): each block carries its size in front. */
typedef union alloc_header {
  size_t size;
  max_align_t align;
} alloc_header;

static voidpf counted_alloc(voidpf opaque, uInt items, uInt size) {
  ws_deflate *d = opaque;
  size_t n = (size_t)items * size;
  alloc_header *h = malloc(sizeof *h + n);
  if (!h) return Z_NULL;
  h->size = n;
  d->zlib_bytes += n;
  return h + 1;
}

static void counted_free(voidpf opaque, voidpf address) {
  ws_deflate *d = opaque;
  alloc_header *h = (alloc_header *)address - 1;
  d->zlib_bytes -= h->size;
  free(h);
}

void ws_deflate_init(ws_deflate *d, const ws_deflate_params *params, const ws_deflate_config *cfg) {
  *d = (ws_deflate){.params = *params, .mem_level = cfg->mem_level, .level = cfg->level};
}

static z_stream *stream_new(ws_deflate *d) {
  z_stream *zs = calloc(1, sizeof *zs);
  if (!zs) return NULL;
  zs->zalloc = counted_alloc;
  zs->zfree = counted_free;
  zs->opaque = d;
  d->zlib_bytes += sizeof *zs;
  return zs;
}

static void inflater_free(ws_deflate *d) {
  if (!d->inflater) return;
  inflateEnd(d->inflater);
  free(d->inflater);
  d->inflater = NULL;
  d->zlib_bytes -= sizeof(z_stream);
  d->inflate_ended = 0;
}

static void deflater_free(ws_deflate *d) {
  if (!d->deflater) return;
  deflateEnd(d->deflater);
  free(d->deflater);
  d->deflater = NULL;
  d->zlib_bytes -= sizeof(z_stream);
}

void ws_deflate_free(ws_deflate *d) {
  inflater_free(d);
  deflater_free(d);
}

/* zlib counts in uInt: larger spans go in pieces. */
#define ZLIB_PIECE ((size_t)1 << 30)

/* Inflates in[0..len) into out, never past `ceiling` bytes of output: when the buffer is
 * full, one byte of room shows whether the input holds more. Returns 0 or a close code. */
static int inflate_bytes(ws_deflate *d, const uint8_t *in, size_t len, ws_buffer *out,
                         size_t ceiling, const char **rule) {
  z_stream *zs = d->inflater;
  while (len > 0 && !d->inflate_ended) {
    size_t piece = len < ZLIB_PIECE ? len : ZLIB_PIECE;
    zs->next_in = (Bytef *)in;
    zs->avail_in = (uInt)piece;
    for (;;) {
      uint8_t probe;
      size_t room = ws_buffer_reserve(out, 4096, ceiling);
      if (room == (size_t)-1) {
        *rule = "out of memory inflating a message";
        return WS_CLOSE_INTERNAL_ERROR;
      }
      if (room > ZLIB_PIECE) room = ZLIB_PIECE;
      zs->next_out = room ? out->data + out->len : &probe;
      zs->avail_out = room ? (uInt)room : 1;
      size_t before = zs->avail_out;
      int rc = inflate(zs, Z_SYNC_FLUSH);
      size_t produced = before - zs->avail_out;
      if (!room && produced) {
        *rule = "message larger than ws_max_message_size once inflated";
        return WS_CLOSE_TOO_BIG;
      }
      out->len += produced;
      if (rc == Z_STREAM_END) {
        /* A final block (RFC 7692 §7.2.3.3): what follows it in this message is ignored,
         * and the stream starts afresh with the next message. */
        d->inflate_ended = 1;
        break;
      }
      if (rc == Z_MEM_ERROR) {
        *rule = "out of memory inflating a message";
        return WS_CLOSE_INTERNAL_ERROR;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        *rule = "invalid compressed data";
        return WS_CLOSE_INVALID_PAYLOAD;
      }
      if (zs->avail_in == 0 && zs->avail_out > 0) break; /* all consumed, nothing pending */
      if (rc == Z_BUF_ERROR) break;                      /* no progress possible */
    }
    in += piece;
    len -= piece;
  }
  return 0;
}

int ws_inflate(ws_deflate *d, const uint8_t *in, size_t len, int end, ws_buffer *out,
               uint64_t limit, const char **rule) {
  if (!d->inflater) {
    z_stream *zs = stream_new(d);
    /* A larger window inflates whatever a smaller one compressed; 9 is zlib's floor. */
    int bits = d->params.client_window_bits < 9 ? 9 : d->params.client_window_bits;
    if (zs && inflateInit2(zs, -bits) != Z_OK) {
      free(zs);
      d->zlib_bytes -= sizeof *zs;
      zs = NULL;
    }
    if (!zs) {
      *rule = "out of memory inflating a message";
      return WS_CLOSE_INTERNAL_ERROR;
    }
    d->inflater = zs;
  }
  size_t ceiling = limit == 0 || limit > SIZE_MAX ? 0 : (size_t)limit;
  int rc = inflate_bytes(d, in, len, out, ceiling, rule);
  if (rc || !end) return rc;
  static const uint8_t tail[4] = {0x00, 0x00, 0xFF, 0xFF};
  rc = inflate_bytes(d, tail, sizeof tail, out, ceiling, rule);
  if (rc) return rc;
  if (d->params.client_no_context_takeover) {
    inflater_free(d); /* nothing to keep between messages: hold no memory while idle */
  } else if (d->inflate_ended) {
    inflateReset(d->inflater);
    d->inflate_ended = 0;
  }
  return 0;
}

int ws_deflate_message(ws_deflate *d, const uint8_t *in, size_t len, ws_buffer *out) {
  if (!d->deflater) {
    z_stream *zs = stream_new(d);
    if (zs && deflateInit2(zs, d->level, Z_DEFLATED, -(int)d->params.server_window_bits,
                           d->mem_level, Z_DEFAULT_STRATEGY) != Z_OK) {
      free(zs);
      d->zlib_bytes -= sizeof *zs;
      zs = NULL;
    }
    if (!zs) return -1;
    d->deflater = zs;
  }
  z_stream *zs = d->deflater;
  out->len = 0;
  do {
    size_t piece = len < ZLIB_PIECE ? len : ZLIB_PIECE;
    zs->next_in = (Bytef *)in;
    zs->avail_in = (uInt)piece;
    in += piece;
    len -= piece;
    int flush = len ? Z_NO_FLUSH : Z_SYNC_FLUSH;
    do {
      size_t room = ws_buffer_reserve(out, piece / 2 + 64, 0);
      if (room == (size_t)-1) return -1;
      if (room > ZLIB_PIECE) room = ZLIB_PIECE;
      zs->next_out = out->data + out->len;
      zs->avail_out = (uInt)room;
      deflate(zs, flush); /* Z_OK, or Z_BUF_ERROR when a flush had nothing left to do */
      out->len += room - zs->avail_out;
    } while (zs->avail_out == 0 || zs->avail_in > 0);
  } while (len > 0);
  /* RFC 7692 §7.2.1: the sync flush's empty block is implied, not sent. */
  if (out->len >= 4 && memcmp(out->data + out->len - 4, "\x00\x00\xff\xff", 4) == 0) out->len -= 4;
  /* Nothing left (an empty message after a flush): the receiver's appended tail must still
   * read as the end of an empty stored block, whose header is this one 0x00 byte (§7.2.3.6). */
  if (out->len == 0) out->data[out->len++] = 0x00;
  if (d->params.server_no_context_takeover) deflater_free(d);
  return 0;
}
