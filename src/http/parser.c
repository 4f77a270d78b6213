/* parser.c - llhttp glue and the request checks of DESIGN §6. See parser.h. */
#include "http/parser.h"

#include <stdlib.h>
#include <string.h>

#include "abi/fields.h"
#include "http/target.h"

static http_parser *parser_of(llhttp_t *l) { return (http_parser *)l->data; }

/* Stops parsing with a status to answer. llhttp then reports HPE_USER. */
static int fail(http_parser *p, int status, const char *reason) {
  p->error_status = status;
  p->error_reason = reason;
  llhttp_set_error_reason(&p->llhttp, reason);
  return HPE_USER;
}

static int arena_append(http_head *head, const char *data, size_t len, int lowercase) {
  if (head->arena_len + len > head->arena_cap) {
    size_t cap = head->arena_cap ? head->arena_cap : 256;
    while (cap < head->arena_len + len) cap *= 2;
    char *grown = realloc(head->arena, cap);
    if (!grown) return -1;
    head->arena = grown;
    head->arena_cap = cap;
  }
  char *dst = head->arena + head->arena_len;
  if (lowercase) {
    for (size_t i = 0; i < len; i++) {
      char c = data[i];
      dst[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
  } else {
    memcpy(dst, data, len);
  }
  head->arena_len += len;
  return 0;
}

/* Position of `at` in the message being parsed. */
static uint64_t offset_of(const http_parser *p, const char *at) {
  return p->message_offset + (uint64_t)(at - p->feed_start);
}

static int on_request_line_part(http_parser *p, const char *at, size_t len, uint32_t *offset,
                                uint32_t *length) {
  p->request_line_bytes += len;
  if (p->request_line_bytes > p->limits->request_line)
    return fail(p, 414, "request line too long");
  if (*length == 0) *offset = (uint32_t)p->head->arena_len;
  if (arena_append(p->head, at, len, 0) != 0) return fail(p, 500, "out of memory");
  *length += (uint32_t)len;
  return 0;
}

static int on_method(llhttp_t *l, const char *at, size_t len) {
  http_parser *p = parser_of(l);
  p->method_end = offset_of(p, at) + len;
  return on_request_line_part(p, at, len, &p->head->method_offset, &p->head->method_len);
}

/* RFC 9112 §3: the request line's parts are separated by exactly one space; a server that
 * reads it otherwise must not autocorrect but answer 400. */
static const char several_spaces[] = "several spaces in the request line (RFC 9112 §3)";

static int on_url(llhttp_t *l, const char *at, size_t len) {
  http_parser *p = parser_of(l);
  if (p->head->target_len == 0 && offset_of(p, at) != p->method_end + 1)
    return fail(p, 400, several_spaces);
  p->target_end = offset_of(p, at) + len;
  return on_request_line_part(p, at, len, &p->head->target_offset, &p->head->target_len);
}

static int on_version(llhttp_t *l, const char *at, size_t len) {
  http_parser *p = parser_of(l);
  /* The version span is the digits after "HTTP/". */
  if (p->request_line_bytes == (size_t)p->head->method_len + p->head->target_len &&
      offset_of(p, at) != p->target_end + 1 + sizeof "HTTP/" - 1)
    return fail(p, 400, several_spaces);
  p->request_line_bytes += len;
  if (p->request_line_bytes > p->limits->request_line)
    return fail(p, 414, "request line too long");
  return 0;
}

static http_field *current_field(http_head *head) { return &head->fields[head->field_count - 1]; }

static int check_field_size(http_parser *p) {
  http_field *f = current_field(p->head);
  if ((size_t)f->name_len + f->value_len > p->limits->field_size)
    return fail(p, 431, "header field too large");
  return 0;
}

/* Trailer fields of a chunked body arrive after the app has the head: they are bounded but
 * kept out of it (the scope points into the head, which must not change). */
static int on_trailer_bytes(http_parser *p, size_t len) {
  p->trailer_bytes += len;
  if (p->trailer_bytes > p->limits->field_size) return fail(p, 431, "trailer section too large");
  return 0;
}

static int on_header_field(llhttp_t *l, const char *at, size_t len) {
  http_parser *p = parser_of(l);
  http_head *head = p->head;
  if (p->head_done) return on_trailer_bytes(p, len);
  if (head->field_count == 0 || p->in_field_value) {
    if (head->field_count >= p->limits->field_count) return fail(p, 431, "too many header fields");
    if (head->field_count == head->field_cap) {
      size_t cap = head->field_cap ? head->field_cap * 2 : 16;
      http_field *grown = realloc(head->fields, cap * sizeof *grown);
      if (!grown) return fail(p, 500, "out of memory");
      head->fields = grown;
      head->field_cap = cap;
    }
    head->fields[head->field_count++] =
        (http_field){(uint32_t)head->arena_len, 0, (uint32_t)head->arena_len, 0};
    p->in_field_value = 0;
  }
  http_field *f = current_field(head);
  if (arena_append(head, at, len, 1) != 0) return fail(p, 500, "out of memory");
  f->name_len += (uint32_t)len;
  f->value_offset = (uint32_t)head->arena_len;
  return check_field_size(p);
}

static int on_header_value(llhttp_t *l, const char *at, size_t len) {
  http_parser *p = parser_of(l);
  if (p->head_done) return on_trailer_bytes(p, len);
  http_field *f = current_field(p->head);
  p->in_field_value = 1;
  if (arena_append(p->head, at, len, 0) != 0) return fail(p, 500, "out of memory");
  f->value_len += (uint32_t)len;
  return check_field_size(p);
}

static int on_header_value_complete(llhttp_t *l) {
  /* A field whose value is empty gets no value span: what follows starts a new field. */
  parser_of(l)->in_field_value = 1;
  return 0;
}

static int on_chunk_extension(llhttp_t *l, const char *at, size_t len) {
  http_parser *p = parser_of(l);
  p->extension_bytes += len;
  if (p->extension_bytes > p->limits->chunk_extension)
    return fail(p, 400, "chunk extensions too large");
  return 0;
}

/* Transfer-Encoding: only "chunked", exactly once and last, is accepted (RFC 9112 §6.1).
 * Returns 0, or the status to answer. */
static int check_transfer_coding(const char *value, size_t len, int *chunked_seen,
                                 int *other_seen) {
  size_t i = 0;
  while (i < len) {
    while (i < len && (value[i] == ' ' || value[i] == '\t' || value[i] == ',')) i++;
    size_t start = i;
    while (i < len && value[i] != ',') i++;
    size_t end = i;
    while (end > start && (value[end - 1] == ' ' || value[end - 1] == '\t')) end--;
    if (end == start) continue;
    if (*chunked_seen) return 400; /* chunked twice, or chunked not last */
    if (asgi_field_equals(value + start, end - start, "chunked"))
      *chunked_seen = 1;
    else
      *other_seen = 1;
  }
  return 0;
}

static const char http09[] = "HTTP/0.9 request line: no HTTP version (RFC 9112 §2.3)";

static int on_headers_complete(llhttp_t *l) {
  http_parser *p = parser_of(l);
  http_head *head = p->head;
  if (llhttp_get_http_major(l) == 0) return fail(p, 400, http09);
  if (llhttp_get_http_major(l) != 1) return fail(p, 505, "HTTP version not supported");
  head->http_minor = llhttp_get_http_minor(l);
  const char *method = head->arena + head->method_offset;
  if (head->method_len == 7 && memcmp(method, "CONNECT", 7) == 0)
    return fail(p, 501, "CONNECT: asgid serves apps, it is not a proxy");
  if (head->target_len == 1 && head->arena[head->target_offset] == '*' &&
      !(head->method_len == 7 && memcmp(method, "OPTIONS", 7) == 0))
    return fail(p, 400, "asterisk-form target with a method other than OPTIONS "
                        "(RFC 9112 §3.2.4)");

  size_t host_count = 0, content_length_count = 0;
  int chunked_seen = 0, other_coding = 0, has_transfer_encoding = 0;
  for (size_t i = 0; i < head->field_count; i++) {
    http_field *f = &head->fields[i];
    const char *name = head->arena + f->name_offset;
    const char *value = head->arena + f->value_offset;
    /* RFC 9112 §5: the field value excludes trailing whitespace (llhttp keeps it). */
    while (f->value_len && (value[f->value_len - 1] == ' ' || value[f->value_len - 1] == '\t'))
      f->value_len--;
    if (!asgi_field_name_valid(name, f->name_len)) return fail(p, 400, "invalid header name");
    if (!asgi_field_value_valid(value, f->value_len))
      return fail(p, 400, "control character in header value");
    switch (f->name_len) {
      case 4:
        if (memcmp(name, "host", 4) == 0) {
          host_count++;
          if (!http_host_valid(value, f->value_len))
            return fail(p, 400, "Host is not a valid host[:port] (RFC 9112 §3.2)");
        }
        break;
      case 6:
        if (memcmp(name, "expect", 6) == 0 && asgi_field_equals(value, f->value_len, "100-continue"))
          head->expect_continue = head->http_minor == 1;
        break;
      case 7:
        if (memcmp(name, "upgrade", 7) == 0) head->upgrade = 1;
        break;
      case 9:
        if (memcmp(name, "forwarded", 9) == 0) head->forwarding = 1;
        break;
      case 15:
        if (memcmp(name, "x-forwarded-for", 15) == 0) head->forwarding = 1;
        break;
      case 16:
        if (memcmp(name, "x-forwarded-", 12) == 0 &&
            (memcmp(name + 12, "host", 4) == 0 || memcmp(name + 12, "port", 4) == 0))
          head->forwarding = 1;
        break;
      case 14:
        if (memcmp(name, "content-length", 14) == 0) {
          content_length_count++;
          if (asgi_field_parse_length(value, f->value_len, &head->content_length) != 0)
            return fail(p, 400, "invalid Content-Length");
        }
        break;
      case 17:
        if (memcmp(name, "x-forwarded-proto", 17) == 0) head->forwarding = 1;
        if (memcmp(name, "transfer-encoding", 17) == 0) {
          has_transfer_encoding = 1;
          if (check_transfer_coding(value, f->value_len, &chunked_seen, &other_coding) != 0)
            return fail(p, 400, "chunked must be the last transfer coding, once");
        }
        break;
      default:
        break;
    }
  }
  if (head->http_minor == 1 && host_count != 1)
    return fail(p, 400, host_count ? "several Host headers" : "missing Host header");
  if (host_count > 1) return fail(p, 400, "several Host headers");
  if (content_length_count > 1) return fail(p, 400, "several Content-Length headers");
  if (has_transfer_encoding) {
    if (head->http_minor == 0) return fail(p, 400, "Transfer-Encoding in HTTP/1.0");
    if (content_length_count) return fail(p, 400, "Content-Length with Transfer-Encoding");
    if (other_coding) return fail(p, 501, "unsupported transfer coding");
    if (!chunked_seen) return fail(p, 400, "invalid Transfer-Encoding");
    head->chunked = 1;
  }
  head->has_content_length = content_length_count == 1;
  if (head->has_content_length && p->limits->body_size &&
      head->content_length > p->limits->body_size)
    return fail(p, 413, "request body too large");
  head->keep_alive = llhttp_should_keep_alive(l);
  p->head_done = 1;
  p->pause = HTTP_PAUSE_HEAD;
  return HPE_PAUSED;
}

static int on_body(llhttp_t *l, const char *at, size_t len) {
  http_parser *p = parser_of(l);
  /* llhttp flushes an open span at the end of every buffer, even an empty one: pausing on
   * nothing would report the same empty span forever. */
  if (len == 0) return 0;
  p->body_received += len;
  if (p->limits->body_size && p->body_received > p->limits->body_size)
    return fail(p, 413, "request body too large");
  p->body_at = at;
  p->body_len = len;
  /* llhttp has already subtracted this span from the remaining Content-Length. */
  p->body_more = p->head->chunked || l->content_length > 0;
  p->pause = HTTP_PAUSE_BODY;
  return HPE_PAUSED;
}

static int on_message_complete(llhttp_t *l) {
  parser_of(l)->pause = HTTP_PAUSE_COMPLETE;
  return HPE_PAUSED;
}

static const llhttp_settings_t parser_settings = {
    .on_method = on_method,
    .on_url = on_url,
    .on_version = on_version,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_chunk_extension_name = on_chunk_extension,
    .on_chunk_extension_value = on_chunk_extension,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void http_parser_init(http_parser *p, const http_limits *limits) {
  memset(p, 0, sizeof *p);
  llhttp_init(&p->llhttp, HTTP_REQUEST, &parser_settings);
  p->llhttp.data = p;
  p->limits = limits;
}

void http_parser_begin(http_parser *p, http_head *head) {
  p->head = head;
  p->pause = HTTP_PAUSE_NONE;
  p->body_received = 0;
  p->request_line_bytes = 0;
  p->extension_bytes = 0;
  p->in_field_value = 0;
  p->head_done = 0;
  p->trailer_bytes = 0;
  p->message_offset = 0;
  p->method_end = p->target_end = 0;
}

/* llhttp's own strict checks, named by the rule a request broke (its reasons are phrased
 * for llhttp's developers: "Pause on PRI/Upgrade"). */
static const char *rule_broken(llhttp_errno_t err) {
  switch (err) {
    case HPE_INVALID_METHOD:
      return "invalid method (RFC 9110 §9: a token)";
    case HPE_INVALID_URL:
      return "invalid request target (RFC 9112 §3.2)";
    case HPE_INVALID_VERSION:
    case HPE_INVALID_CONSTANT:
      return "invalid request line: not METHOD SP target SP HTTP/1.x (RFC 9112 §3)";
    case HPE_CR_EXPECTED:
    case HPE_LF_EXPECTED:
    case HPE_STRICT:
      return "lines must end with CRLF, without bare CR or LF (RFC 9112 §2.2)";
    case HPE_UNEXPECTED_SPACE:
      return "whitespace where none is allowed (RFC 9112 §5.1)";
    case HPE_INVALID_HEADER_TOKEN:
      return "invalid header field (RFC 9110 §5)";
    case HPE_INVALID_CONTENT_LENGTH:
    case HPE_UNEXPECTED_CONTENT_LENGTH:
      return "invalid Content-Length (RFC 9112 §6.3)";
    case HPE_INVALID_CHUNK_SIZE:
      return "invalid chunk (RFC 9112 §7.1)";
    case HPE_INVALID_TRANSFER_ENCODING:
      return "invalid Transfer-Encoding (RFC 9112 §6.1)";
    default:
      return "malformed request (RFC 9112)";
  }
}

/* "GET /" and CRLF is an HTTP/0.9 request, which llhttp accepts and then waits on for a
 * header section that will never come: the target is followed by a line end, not a space.
 * `data` holds the message's bytes from feed_offset on. */
static int is_http09_request_line(const http_parser *p, const char *data, size_t len,
                                  uint64_t feed_offset) {
  int version_seen = p->request_line_bytes > (size_t)p->head->method_len + p->head->target_len;
  if (p->head_done || !p->head->target_len || version_seen) return 0;
  if (p->target_end < feed_offset || p->target_end >= feed_offset + len) return 0;
  char after_target = data[p->target_end - feed_offset];
  return after_target == '\r' || after_target == '\n';
}

size_t http_parser_feed(http_parser *p, const char *data, size_t len) {
  if (p->paused) {
    llhttp_resume(&p->llhttp);
    p->paused = 0;
  }
  p->pause = HTTP_PAUSE_NONE;
  p->feed_start = data;
  llhttp_errno_t err = llhttp_execute(&p->llhttp, data, len);
  if (err == HPE_PAUSED_UPGRADE) {
    /* The message asked to switch protocols (Upgrade): no other protocol is served, and RFC
     * 9110 §7.8 lets a server ignore the field, so the bytes after it are the next request. */
    const char *at = llhttp_get_error_pos(&p->llhttp);
    llhttp_resume_after_upgrade(&p->llhttp);
    p->message_offset += (uint64_t)(at - data);
    size_t rest = http_parser_feed(p, at, len - (size_t)(at - data));
    return (size_t)(at - data) + rest;
  }
  size_t consumed = err == HPE_OK ? len : (size_t)(llhttp_get_error_pos(&p->llhttp) - data);
  uint64_t feed_offset = p->message_offset;
  p->message_offset += consumed;
  if (err == HPE_OK) {
    if (is_http09_request_line(p, data, len, feed_offset))
      fail(p, 400, http09);
    return len;
  }
  if (err == HPE_PAUSED) {
    p->paused = 1;
    return consumed;
  }
  /* Our callbacks set the status they want (llhttp reports on_headers_complete's error as
   * HPE_CB_HEADERS_COMPLETE, not HPE_USER); anything else is one of llhttp's own strict
   * checks, each a malformed request. */
  if (!p->error_status) {
    if (err == HPE_PAUSED_H2_UPGRADE) {
      p->error_status = 505;
      p->error_reason = "HTTP/2 connection preface: HTTP/2 is not served here";
    } else {
      p->error_status = 400;
      p->error_reason = rule_broken(err);
    }
  }
  p->pause = HTTP_PAUSE_NONE;
  return consumed;
}

void http_head_free(http_head *head) {
  free(head->arena);
  free(head->fields);
  memset(head, 0, sizeof *head);
}

const char *http_head_field(const http_head *head, const char *lowercase_name, size_t *len) {
  size_t name_len = strlen(lowercase_name);
  for (size_t i = 0; i < head->field_count; i++) {
    const http_field *f = &head->fields[i];
    if (f->name_len == name_len && memcmp(head->arena + f->name_offset, lowercase_name, name_len) == 0) {
      *len = f->value_len;
      return head->arena + f->value_offset;
    }
  }
  return NULL;
}
