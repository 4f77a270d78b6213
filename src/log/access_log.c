/*
 * access_log.c - one line per finished request, from gunicorn's access log atoms.
 *
 * The format is interpreted on every line rather than compiled: the access log is off by
 * default, and a scan of a short format string costs less than the write() that follows.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "log/log.h"
#include "log/log_internal.h"
#include "platform/platform.h"

static log_file access_file = LOG_FILE_INITIALIZER(PLATFORM_STDOUT_FD, -1);
static char *access_format;
/* log_format = json: each line is JSON, the built-in object when access_log_format is its
 * default (gunicorn's text line, which means nothing as JSON), else the user's format with its
 * atoms escaped for JSON strings. */
static bool json_lines;
static bool json_builtin;

/* access_log_format's default, from the settings table. */
#define DEFAULT_FORMAT_IF_ACCESS_LOG_FORMAT(name, section, kind, def, short_flag, min, max,     \
                                            choices, applies, help)                            \
  if (strcmp(#name, "access_log_format") == 0)                                                 \
    return def;
static const char *default_format(void) {
  ASGID_SETTINGS_TABLE(DEFAULT_FORMAT_IF_ACCESS_LOG_FORMAT)
  return "";
}

int access_log_configure(const asgid_settings *s) {
  char *format = strdup(s->access_log_format != NULL ? s->access_log_format : "");
  if (format == NULL)
    return -ENOMEM;
  free(access_format);
  access_format = format;
  json_lines = s->log_format == LOG_FORMAT_JSON;
  json_builtin = json_lines && strcmp(format, default_format()) == 0;
  int err = log_file_set(&access_file, s->access_log);
  if (err < 0)
    log_error("cannot open access log %s: %s", s->access_log, strerror(-err));
  return err;
}

int access_log_reopen(void) {
  int err = log_file_reopen(&access_file);
  if (err < 0)
    log_error("cannot reopen access log %s: %s", access_file.path, strerror(-err));
  return err;
}

void access_log_close(void) {
  log_file_close(&access_file);
  free(access_format);
  access_format = NULL;
  json_lines = false;
  json_builtin = false;
}

void access_log_clock_start(access_log_clock *clock) {
  clock->mono_ns = uv_hrtime();
  if (!access_log_enabled()) return;
  uv_timeval64_t tv;
  uv_gettimeofday(&tv);
  clock->wall_usec = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

uint64_t access_log_clock_elapsed_usec(const access_log_clock *clock) {
  return (uv_hrtime() - clock->mono_ns) / 1000;
}

int access_log_enabled(void) {
  return log_file_is_open(&access_file);
}

/* ------------------------------------------------------------------ atoms */

/* A string that may have come from a client: escaped (for a JSON string in a JSON line), or
 * "-" when absent. Inline: it runs for most atoms of every line, and as a call it cost the
 * text line some 20 instructions per request (callgrind, native hello). */
static inline void append_client_bytes(log_line *line, const char *bytes, size_t len, bool json) {
  if (bytes == NULL)
    log_line_append_str(line, "-");
  else if (json)
    log_line_append_json(line, bytes, len);
  else
    log_line_append_escaped(line, bytes, len, LOG_ESCAPE_QUOTED);
}

static void append_client_str(log_line *line, const char *text, bool json) {
  append_client_bytes(line, text, text == NULL ? 0 : strlen(text), json);
}

static void append_protocol(log_line *line, const char *http_version, bool json) {
  if (http_version == NULL) {
    log_line_append_str(line, "-");
    return;
  }
  log_line_append_str(line, "HTTP/");
  append_client_str(line, http_version, json);
}

static bool ascii_equal_ignoring_case(const char *a, const char *b, size_t len) {
  for (size_t i = 0; i < len; i++) {
    unsigned char ca = (unsigned char)a[i], cb = (unsigned char)b[i];
    if (ca >= 'A' && ca <= 'Z')
      ca = (unsigned char)(ca - 'A' + 'a');
    if (cb >= 'A' && cb <= 'Z')
      cb = (unsigned char)(cb - 'A' + 'a');
    if (ca != cb)
      return false;
  }
  return true;
}

/* Every header called `name`, joined with "," as gunicorn's WSGI environ joins repeated
 * request headers (so a second X-Forwarded-For is not hidden behind the first); "-" when none. */
static void append_header(log_line *line, const access_log_header *headers, size_t count,
                          const char *name, size_t name_len, bool json) {
  bool found = false;
  for (size_t i = 0; i < count; i++) {
    const access_log_header *h = &headers[i];
    if (h->name_len != name_len || !ascii_equal_ignoring_case(h->name, name, name_len))
      continue;
    if (found)
      log_line_append_str(line, ",");
    append_client_bytes(line, h->value != NULL ? h->value : "", h->value_len, json);
    found = true;
  }
  if (!found)
    log_line_append_str(line, "-");
}

static void append_decimal_seconds(log_line *line, uint64_t usec) {
  char text[32];
  int len = snprintf(text, sizeof text, "%" PRIu64 ".%06" PRIu64, usec / 1000000, usec % 1000000);
  log_line_append(line, text, (size_t)len);
}

/* `{name}i` or `{name}o`. Returns false for any other braced atom. */
static bool append_header_atom(log_line *line, const char *atom, size_t len,
                               const access_log_entry *e, bool json) {
  if (len < 3 || atom[0] != '{' || atom[len - 2] != '}')
    return false;
  const char *name = atom + 1;
  size_t name_len = len - 3;
  switch (atom[len - 1]) {
  case 'i':
    append_header(line, e->request_headers, e->request_header_count, name, name_len, json);
    return true;
  case 'o':
    append_header(line, e->response_headers, e->response_header_count, name, name_len, json);
    return true;
  default:
    return false;
  }
}

/* Writes the value of the atom named atom[0..len). Returns false for an unknown atom, which
 * the caller then writes literally. */
static bool append_atom(log_line *line, const char *atom, size_t len, const access_log_entry *e,
                        bool json) {
  if (len != 1)
    return append_header_atom(line, atom, len, e, json);
  switch (atom[0]) {
  case 'h':
    append_client_str(line, e->remote_addr, json);
    break;
  case 'l':
  case 'u':
    log_line_append_str(line, "-");
    break;
  case 't':
    log_line_append_str(line, "[");
    log_line_append_time(line, (time_t)(e->start_usec / 1000000), LOG_TIME_ACCESS_LOG);
    log_line_append_str(line, "]");
    break;
  case 'r':
    append_client_bytes(line, e->method, e->method_len, json);
    log_line_append_str(line, " ");
    append_client_bytes(line, e->target, e->target_len, json);
    log_line_append_str(line, " ");
    append_protocol(line, e->http_version, json);
    break;
  case 'm':
    append_client_bytes(line, e->method, e->method_len, json);
    break;
  case 'U':
    append_client_bytes(line, e->path, e->path_len, json);
    break;
  case 'q':
    append_client_bytes(line, e->query, e->query_len, json);
    break;
  case 'H':
    append_protocol(line, e->http_version, json);
    break;
  case 's':
    log_line_append_uint(line, (uint64_t)(unsigned)e->status);
    break;
  case 'B':
    log_line_append_uint(line, e->body_bytes);
    break;
  case 'b':
    if (e->body_bytes == 0)
      log_line_append_str(line, "-");
    else
      log_line_append_uint(line, e->body_bytes);
    break;
  case 'f':
    append_header(line, e->request_headers, e->request_header_count, "referer", 7, json);
    break;
  case 'a':
    append_header(line, e->request_headers, e->request_header_count, "user-agent", 10, json);
    break;
  case 'T':
    log_line_append_uint(line, e->duration_usec / 1000000);
    break;
  case 'M':
    log_line_append_uint(line, e->duration_usec / 1000);
    break;
  case 'D':
    log_line_append_uint(line, e->duration_usec);
    break;
  case 'L':
    append_decimal_seconds(line, e->duration_usec);
    break;
  case 'W': /* "in MESSAGES/BYTES out MESSAGES/BYTES" */
    if (!e->websocket) {
      log_line_append_str(line, "-");
      break;
    }
    log_line_append_str(line, "in ");
    log_line_append_uint(line, e->messages_in);
    log_line_append_str(line, "/");
    log_line_append_uint(line, e->bytes_in);
    log_line_append_str(line, " out ");
    log_line_append_uint(line, e->messages_out);
    log_line_append_str(line, "/");
    log_line_append_uint(line, e->body_bytes);
    break;
  case 'p':
    log_line_append_str(line, "<");
    log_line_append_uint(line, (uint64_t)uv_os_getpid());
    log_line_append_str(line, ">");
    break;
  default:
    return false;
  }
  return true;
}

/* The format's literal text as it is, its atoms escaped for a text line or for JSON strings. */
static void append_format(log_line *line, const char *format, const access_log_entry *entry,
                          bool json) {
  const char *p = format;
  while (*p != '\0' && !line->truncated) {
    if (p[0] != '%') {
      size_t run = strcspn(p, "%");
      log_line_append(line, p, run);
      p += run;
    } else if (p[1] == '%') {
      log_line_append_str(line, "%");
      p += 2;
    } else if (p[1] == '(') {
      /* `%(name)s`; anything that is not a complete, known atom is written as it stands. */
      const char *name = p + 2;
      const char *close = strchr(name, ')');
      if (close != NULL && close[1] == 's' &&
          append_atom(line, name, (size_t)(close - name), entry, json)) {
        p = close + 2;
      } else {
        log_line_append_str(line, "%");
        p += 1;
      }
    } else {
      log_line_append_str(line, "%");
      p += 1;
    }
  }
}

size_t access_log_format_line(const char *format, const access_log_entry *entry, char *out,
                              size_t out_size) {
  log_line line;
  log_line_init(&line, out, out_size);
  append_format(&line, format, entry, false);
  return log_line_finish(&line);
}

/* ------------------------------------------------------------------ JSON */

/* `"name":"value"` (escaped), or `"name":null` for an absent value; `first` leaves out the
 * comma before it. */
static void append_json_string(log_line *line, const char *name, const char *value, size_t len,
                               bool first) {
  log_line_append_json_key(line, name, first);
  if (value == NULL) {
    log_line_append_str(line, "null");
    return;
  }
  log_line_append_str(line, "\"");
  log_line_append_json(line, value, len);
  log_line_append_str(line, "\"");
}

static void append_json_uint(log_line *line, const char *name, uint64_t value) {
  log_line_append_json_key(line, name, false);
  log_line_append_uint(line, value);
}

/* The value of the request header `name` (lowercase, as request headers are stored), NULL when
 * there is none; several are joined with "," as in text lines. */
static void append_json_header(log_line *line, const char *field, const access_log_entry *e,
                               const char *name, size_t name_len) {
  size_t found = 0;
  for (size_t i = 0; i < e->request_header_count; i++) {
    const access_log_header *h = &e->request_headers[i];
    if (h->name_len != name_len || !ascii_equal_ignoring_case(h->name, name, name_len))
      continue;
    if (found++ == 0) {
      log_line_append_json_key(line, field, false);
      log_line_append_str(line, "\"");
    } else {
      log_line_append_str(line, ",");
    }
    log_line_append_json(line, h->value != NULL ? h->value : "", h->value_len);
  }
  if (found == 0)
    append_json_string(line, field, NULL, 0, false);
  else
    log_line_append_str(line, "\"");
}

/* The built-in object (its fields are documented in docs/operations.md). */
static void append_json_object(log_line *line, const access_log_entry *e) {
  log_line_append_str(line, "{\"time\":\"");
  log_line_append_iso_time(line, e->start_usec);
  log_line_append_str(line, "\"");
  append_json_string(line, "remote_addr", e->remote_addr,
                     e->remote_addr != NULL ? strlen(e->remote_addr) : 0, false);
  append_json_string(line, "method", e->method, e->method_len, false);
  append_json_string(line, "path", e->path, e->path_len, false);
  append_json_string(line, "query", e->query, e->query_len, false);
  if (e->http_version != NULL) {
    log_line_append_str(line, ",\"protocol\":\"HTTP/");
    log_line_append_json(line, e->http_version, strlen(e->http_version));
    log_line_append_str(line, "\"");
  } else {
    append_json_string(line, "protocol", NULL, 0, false);
  }
  append_json_uint(line, "status", (uint64_t)(unsigned)e->status);
  append_json_uint(line, "bytes", e->body_bytes);
  /* Milliseconds with three decimals: a JSON number, exact to the microsecond. */
  append_json_uint(line, "duration_ms", e->duration_usec / 1000);
  char decimals[5] = {'.', (char)('0' + e->duration_usec / 100 % 10),
                      (char)('0' + e->duration_usec / 10 % 10),
                      (char)('0' + e->duration_usec % 10), 0};
  log_line_append(line, decimals, 4);
  append_json_header(line, "referer", e, "referer", 7);
  append_json_header(line, "user_agent", e, "user-agent", 10);
  append_json_uint(line, "pid", (uint64_t)uv_os_getpid());
  if (e->websocket) {
    append_json_uint(line, "ws_messages_in", e->messages_in);
    append_json_uint(line, "ws_bytes_in", e->bytes_in);
    append_json_uint(line, "ws_messages_out", e->messages_out);
  }
  log_line_append_str(line, "}");
}

void access_log_append_json(log_line *line, const char *format, const access_log_entry *entry) {
  if (format == NULL)
    append_json_object(line, entry);
  else
    append_format(line, format, entry, true);
}

/* A JSON line cut anywhere would not parse, so JSON lines are never cut: they grow on the heap
 * past the stack buffer (client strings are bounded by the request limits). Without memory the
 * line is dropped. */
static void write_json_line(const access_log_entry *entry) {
  char buf[ACCESS_LOG_LINE_MAX];
  log_line line;
  log_line_init_growable(&line, buf, sizeof buf);
  access_log_append_json(&line, json_builtin ? NULL : access_format, entry);
  if (!line.truncated)
    log_file_write(&access_file, line.buf, log_line_finish(&line));
  log_line_release(&line);
}

void access_log_write(const access_log_entry *entry) {
  if (!access_log_enabled())
    return;
  if (json_lines) {
    write_json_line(entry);
    return;
  }
  char buf[ACCESS_LOG_LINE_MAX];
  size_t len = access_log_format_line(access_format, entry, buf, sizeof buf);
  log_file_write(&access_file, buf, len);
}
