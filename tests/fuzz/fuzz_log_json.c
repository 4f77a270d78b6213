/*
 * fuzz_log_json.c - the logs' escaping of bytes a client chose: the JSON string escaper
 * (log_line_append_json) and the access log formatter, in JSON (the
 * built-in object, a JSON template of every atom) and in text.
 *
 * Input: byte 0 picks what runs (bits 0-1: 0 the escaper on the rest of the input, 1 the
 * built-in object, 2 a JSON template, 3 a text line; bit 2: a WebSocket session; bits 3-7 the
 * text line's buffer size, in units of 16 bytes); the rest is NUL-separated parts: method,
 * target (the path is up to its first '?', the query after it), remote address, HTTP version,
 * then header name and value pairs.
 *
 * Checks: every JSON line is exactly one JSON value per RFC 8259 (an object of the fields
 * expected), valid UTF-8, no raw control byte; a JSON string read back gives the input where
 * the input was valid UTF-8 without controls; a text line is NUL-terminated, within its buffer,
 * has only printable ASCII before its final newline, and never ends inside an escape.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "log/log.h"
#include "log/log_internal.h"
#include "utf8_reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ------------------------------------------------------------------ a strict JSON reader */

typedef struct reader {
  const unsigned char *s;
  size_t len, at;
  unsigned char *decoded; /* a string's value, when not NULL */
  size_t decoded_len;
} reader;

static bool peek(reader *r, unsigned char c) { return r->at < r->len && r->s[r->at] == c; }

static void put_decoded(reader *r, const unsigned char *bytes, size_t len) {
  if (r->decoded != NULL) {
    memcpy(r->decoded + r->decoded_len, bytes, len);
    r->decoded_len += len;
  }
}

static int hex_digit(unsigned char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A string, from its opening quote; its value into r->decoded (escapes of code points below
 * 0x800 only, which is all the escaper writes). */
static bool read_string(reader *r) {
  if (!peek(r, '"'))
    return false;
  r->at++;
  r->decoded_len = 0;
  while (r->at < r->len) {
    unsigned char c = r->s[r->at];
    if (c == '"') {
      r->at++;
      return true;
    }
    if (c < 0x20)
      return false;
    if (c != '\\') {
      uint32_t code;
      size_t n = utf8_at(r->s + r->at, r->len - r->at, &code);
      if (n == 0)
        return false;
      put_decoded(r, r->s + r->at, n);
      r->at += n;
      continue;
    }
    if (r->at + 1 >= r->len)
      return false;
    unsigned char e = r->s[r->at + 1];
    static const char simple[] = "\"\\/bfnrt", value[] = "\"\\/\b\f\n\r\t";
    const char *known = e != 0 ? strchr(simple, e) : NULL;
    if (known != NULL) {
      put_decoded(r, (const unsigned char *)&value[known - simple], 1);
      r->at += 2;
      continue;
    }
    if (e != 'u' || r->at + 6 > r->len)
      return false;
    uint32_t code = 0;
    for (size_t i = 2; i < 6; i++) {
      int d = hex_digit(r->s[r->at + i]);
      if (d < 0)
        return false;
      code = code << 4 | (uint32_t)d;
    }
    FUZZ_CHECK(code < 0x800); /* the escaper writes \u only for controls */
    unsigned char utf8[2];
    if (code < 0x80) {
      utf8[0] = (unsigned char)code;
      put_decoded(r, utf8, 1);
    } else {
      utf8[0] = (unsigned char)(0xc0 | code >> 6);
      utf8[1] = (unsigned char)(0x80 | (code & 0x3f));
      put_decoded(r, utf8, 2);
    }
    r->at += 6;
  }
  return false;
}

static bool read_number(reader *r) {
  size_t start = r->at;
  if (peek(r, '-'))
    r->at++;
  if (peek(r, '0')) {
    r->at++;
  } else {
    size_t digits = r->at;
    while (r->at < r->len && r->s[r->at] >= '0' && r->s[r->at] <= '9')
      r->at++;
    if (r->at == digits)
      return false;
  }
  if (peek(r, '.')) {
    r->at++;
    size_t digits = r->at;
    while (r->at < r->len && r->s[r->at] >= '0' && r->s[r->at] <= '9')
      r->at++;
    if (r->at == digits)
      return false;
  }
  return r->at > start;
}

static bool read_literal(reader *r, const char *word) {
  size_t n = strlen(word);
  if (r->len - r->at < n || memcmp(r->s + r->at, word, n) != 0)
    return false;
  r->at += n;
  return true;
}

/* An object of scalar members (all the logs write); counts its members. */
static bool read_object(reader *r, size_t *members) {
  if (!peek(r, '{'))
    return false;
  r->at++;
  *members = 0;
  if (peek(r, '}')) {
    r->at++;
    return true;
  }
  for (;;) {
    if (!read_string(r) || !peek(r, ':'))
      return false;
    r->at++;
    bool ok = peek(r, '"') ? read_string(r) : peek(r, 'n') ? read_literal(r, "null")
                                                             : read_number(r);
    if (!ok)
      return false;
    (*members)++;
    if (peek(r, '}')) {
      r->at++;
      return true;
    }
    if (!peek(r, ','))
      return false;
    r->at++;
  }
}

/* ------------------------------------------------------------------ the targets */

static void check_escaper(const uint8_t *data, size_t size) {
  char stack[256];
  log_line line;
  log_line_init_growable(&line, stack, sizeof stack);
  log_line_append_str(&line, "\"");
  log_line_append_json(&line, (const char *)data, size);
  log_line_append_str(&line, "\"");
  FUZZ_CHECK(!line.truncated);
  const unsigned char *out = (const unsigned char *)line.buf;
  FUZZ_CHECK(utf8_valid(out, line.len));
  for (size_t i = 0; i < line.len; i++)
    FUZZ_CHECK(out[i] >= 0x20 && out[i] != 0x7f);

  unsigned char *decoded = malloc(line.len + 1);
  FUZZ_CHECK(decoded != NULL);
  reader r = {.s = out, .len = line.len, .decoded = decoded};
  FUZZ_CHECK(read_string(&r) && r.at == r.len);
  FUZZ_CHECK(utf8_valid(decoded, r.decoded_len));
  /* Valid input reads back as itself; invalid input is replaced, never passed on. */
  if (utf8_valid(data, size)) {
    FUZZ_CHECK(r.decoded_len == size && memcmp(decoded, data, size) == 0);
  }
  free(decoded);
  log_line_release(&line);
}

/* The next NUL-terminated part of the input (the rest when there is no NUL), or NULL when the
 * input is used up. */
static const char *next_part(const uint8_t **data, size_t *size, size_t *len) {
  if (*size == 0)
    return NULL;
  const uint8_t *nul = memchr(*data, 0, *size);
  const char *part = (const char *)*data;
  *len = nul != NULL ? (size_t)(nul - *data) : *size;
  *data += *len + (nul != NULL);
  *size -= *len + (nul != NULL);
  return part;
}

enum { HEADERS_MAX = 16 };

static const char json_template[] =
    "{\"h\":\"%(h)s\",\"l\":\"%(l)s\",\"u\":\"%(u)s\",\"t\":\"%(t)s\",\"r\":\"%(r)s\","
    "\"m\":\"%(m)s\",\"U\":\"%(U)s\",\"q\":\"%(q)s\",\"H\":\"%(H)s\",\"s\":%(s)s,\"B\":%(B)s,"
    "\"b\":\"%(b)s\",\"f\":\"%(f)s\",\"a\":\"%(a)s\",\"T\":%(T)s,\"M\":%(M)s,\"D\":%(D)s,"
    "\"L\":%(L)s,\"p\":\"%(p)s\",\"W\":\"%(W)s\",\"x\":\"%({x-a}i)s\",\"y\":\"%({X-B}o)s\","
    "\"pct\":\"%%\"}";
#define JSON_TEMPLATE_MEMBERS 23

static const char text_template[] =
    "%(h)s %(l)s %(u)s %(t)s \"%(r)s\" %(s)s %(b)s \"%(f)s\" \"%(a)s\" %(m)s %(U)s %(q)s %(H)s "
    "%(B)s %(T)s %(M)s %(D)s %(L)s %(p)s %(W)s %({x-a}i)s %({X-B}o)s";

static void check_json_line(const char *line, size_t len, size_t members_expected,
                            size_t members_optional) {
  const unsigned char *out = (const unsigned char *)line;
  FUZZ_CHECK(utf8_valid(out, len));
  for (size_t i = 0; i < len; i++)
    FUZZ_CHECK(out[i] >= 0x20 && out[i] != 0x7f);
  reader r = {.s = out, .len = len};
  size_t members;
  FUZZ_CHECK(read_object(&r, &members) && r.at == r.len);
  FUZZ_CHECK(members == members_expected || members == members_expected + members_optional);
}

static void check_text_line(const char *out, size_t len, size_t size) {
  FUZZ_CHECK(len < size && out[len] == '\0');
  FUZZ_CHECK(len == 0 || out[len - 1] == '\n');
  for (size_t i = 0; i + 1 < len; i++) {
    unsigned char c = (unsigned char)out[i];
    FUZZ_CHECK(c >= 0x20 && c < 0x7f);
  }
  /* Never cut inside an escape: no '\' left alone or \x with fewer than two digits before the
   * cut mark or the newline. */
  size_t end = len > 0 ? len - 1 : 0;
  if (end >= 3 && memcmp(out + end - 3, "...", 3) == 0)
    end -= 3;
  for (size_t i = 0; i < end; i++) {
    if (out[i] != '\\')
      continue;
    FUZZ_CHECK(i + 1 < end);
    if (out[i + 1] == 'x')
      FUZZ_CHECK(i + 3 < end && hex_digit((unsigned char)out[i + 2]) >= 0 &&
                 hex_digit((unsigned char)out[i + 3]) >= 0);
    i += out[i + 1] == 'x' ? 3 : 1;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  unsigned mode = data[0] & 3;
  bool websocket = data[0] & 4;
  size_t text_size = (size_t)(data[0] >> 3) * 16 + 1;
  data++;
  size--;
  if (mode == 0) {
    check_escaper(data, size);
    return 0;
  }

  access_log_entry e = {.status = 200, .body_bytes = 12345, .start_usec = 1795267543654321,
                        .duration_usec = 1234567, .websocket = websocket, .messages_in = 1,
                        .bytes_in = 2, .messages_out = 3};
  size_t len;
  e.method = next_part(&data, &size, &e.method_len);
  e.target = next_part(&data, &size, &e.target_len);
  if (e.target != NULL) {
    const char *q = memchr(e.target, '?', e.target_len);
    e.path = e.target;
    e.path_len = q != NULL ? (size_t)(q - e.target) : e.target_len;
    e.query = q != NULL ? q + 1 : "";
    e.query_len = q != NULL ? e.target_len - e.path_len - 1 : 0;
  }
  /* NUL-terminated strings in the entry: copies. */
  char remote[64] = "", version[16] = "";
  const char *part = next_part(&data, &size, &len);
  if (part != NULL) {
    memcpy(remote, part, len < sizeof remote - 1 ? len : sizeof remote - 1);
    e.remote_addr = remote;
  }
  part = next_part(&data, &size, &len);
  if (part != NULL) {
    memcpy(version, part, len < sizeof version - 1 ? len : sizeof version - 1);
    e.http_version = version;
  }
  access_log_header headers[HEADERS_MAX];
  size_t count = 0;
  while (count < HEADERS_MAX) {
    access_log_header *h = &headers[count];
    h->name = next_part(&data, &size, &h->name_len);
    h->value = next_part(&data, &size, &h->value_len);
    if (h->name == NULL)
      break;
    if (h->value == NULL)
      h->value = "", h->value_len = 0;
    count++;
  }
  e.request_headers = headers;
  e.request_header_count = count;
  e.response_headers = headers;
  e.response_header_count = count;

  if (mode == 3) {
    char *out = malloc(text_size);
    FUZZ_CHECK(out != NULL);
    size_t n = access_log_format_line(text_template, &e, out, text_size);
    check_text_line(out, n, text_size);
    free(out);
    return 0;
  }
  char stack[128];
  log_line line;
  log_line_init_growable(&line, stack, sizeof stack);
  access_log_append_json(&line, mode == 1 ? NULL : json_template, &e);
  FUZZ_CHECK(!line.truncated);
  if (mode == 1)
    check_json_line(line.buf, line.len, 12, websocket ? 3 : 0);
  else
    check_json_line(line.buf, line.len, JSON_TEMPLATE_MEMBERS, 0);
  log_line_release(&line);
  return 0;
}
