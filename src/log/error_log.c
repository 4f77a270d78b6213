/*
 * error_log.c - the error log: levels, the role tag, one escaped line per message, and
 * multi-line entries (a message with a traceback) written whole.
 */
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "log/log.h"
#include "log/log_internal.h"
#include "platform/platform.h"

static log_file error_file = LOG_FILE_INITIALIZER(PLATFORM_STDERR_FD, PLATFORM_STDERR_FD);

/* Atomic because log_open may change it while pool threads ask log_enabled. */
static atomic_int least_level = LOG_LEVEL_INFO;

/* log_format: text or json (LOG_FORMAT_*). Atomic for the same reason. */
static atomic_int line_format = LOG_FORMAT_TEXT;

/* "[worker 3] " or "": written after the level in text lines; role_name is the role alone,
 * the "role" of JSON lines. */
static char role_tag[64 + sizeof "[] "];
static char role_name[64];

static const char *level_name(log_level level) {
  switch (level) {
  case LOG_LEVEL_DEBUG:
    return "DEBUG";
  case LOG_LEVEL_INFO:
    return "INFO";
  case LOG_LEVEL_WARNING:
    return "WARNING";
  case LOG_LEVEL_ERROR:
    return "ERROR";
  }
  return "UNKNOWN";
}

int error_log_configure(const asgid_settings *s) {
  atomic_store(&least_level, s->log_level);
  atomic_store(&line_format, s->log_format);
  int err = log_file_set(&error_file, s->error_log);
  if (err < 0)
    log_error("cannot open error log %s: %s", s->error_log, strerror(-err));
  return err;
}

int log_error_fd(void) { return atomic_load(&error_file.fd); }

int error_log_format(void) { return atomic_load(&line_format); }

int error_log_reopen(void) {
  int err = log_file_reopen(&error_file);
  if (err < 0)
    log_error("cannot reopen error log %s: %s", error_file.path, strerror(-err));
  return err;
}

void error_log_close(void) {
  log_file_close(&error_file);
  atomic_store(&line_format, LOG_FORMAT_TEXT);
}

void log_set_role(const char *role) {
  if (role == NULL || role[0] == '\0') {
    role_tag[0] = '\0';
    role_name[0] = '\0';
    return;
  }
  /* %.63s: the role is cut to its documented 63 bytes. */
  snprintf(role_tag, sizeof role_tag, "[%.63s] ", role);
  snprintf(role_name, sizeof role_name, "%.63s", role);
}

int log_enabled(log_level level) {
  return (int)level >= atomic_load_explicit(&least_level, memory_order_relaxed);
}

/* "[2026-11-21 13:25:43 +0000] [pid] [LEVEL] [role] ": what every line starts with. */
static void append_prefix(log_line *line, log_level level) {
  log_line_append_str(line, "[");
  log_line_append_time(line, time(NULL), LOG_TIME_ERROR_LOG);
  log_line_append_str(line, "] [");
  log_line_append_uint(line, (uint64_t)uv_os_getpid());
  log_line_append_str(line, "] [");
  log_line_append_str(line, level_name(level));
  log_line_append_str(line, "] ");
  log_line_append_escaped(line, role_tag, strlen(role_tag), LOG_ESCAPE_CONTROLS);
}

/* ------------------------------------------------------------------ JSON entries */

static size_t without_trailing_newline(const char *text, size_t len) {
  return len > 0 && text[len - 1] == '\n' ? len - 1 : len;
}

/* `,"name":"value"` with the value escaped for JSON, and "..." after it when it was `cut`. */
static void append_json_field(log_line *line, const char *name, const char *value, size_t len,
                              bool cut) {
  log_line_append_json_key(line, name, false);
  log_line_append_str(line, "\"");
  log_line_append_json(line, value, len);
  log_line_append_str(line, cut ? "...\"" : "\"");
}

/* One JSON object, without its newline: {"time":...,"level":...,"pid":...,"role":...,
 * "logger":...,"message":...,"traceback":...}, role, logger and traceback only when given.
 * `cut`: the message was cut before it got here, so it ends with "...". Each string at most
 * `max` bytes before escaping (more are cut and end with "..."). */
static void append_json_entry(log_line *line, const log_record *r, bool cut, size_t max) {
  uv_timeval64_t now;
  uv_gettimeofday(&now);
  log_line_append_str(line, "{\"time\":\"");
  log_line_append_iso_time(line, (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_usec);
  log_line_append_str(line, "\",\"level\":\"");
  log_line_append_str(line, level_name(r->level));
  log_line_append_str(line, "\",\"pid\":");
  log_line_append_uint(line, (uint64_t)uv_os_getpid());
  if (role_name[0] != '\0')
    append_json_field(line, "role", role_name, strlen(role_name), false);
  if (r->logger != NULL && r->logger_len > 0)
    append_json_field(line, "logger", r->logger, r->logger_len > max ? max : r->logger_len,
                      r->logger_len > max);
  size_t message_len = r->message != NULL ? without_trailing_newline(r->message, r->message_len)
                                          : 0;
  append_json_field(line, "message", r->message != NULL ? r->message : "",
                    message_len > max ? max : message_len, cut || message_len > max);
  size_t traceback_len =
      r->traceback != NULL ? without_trailing_newline(r->traceback, r->traceback_len) : 0;
  if (traceback_len > 0 && max == SIZE_MAX)
    append_json_field(line, "traceback", r->traceback, traceback_len, false);
  log_line_append_str(line, "}");
}

/* The bytes of the logger and the message a JSON line keeps when memory is short, so that the
 * escaped line (at most 6 bytes per byte) fits a LOG_ERROR_LINE_MAX stack line whole: a JSON
 * line cut anywhere else would not parse. The traceback is dropped then. */
#define JSON_FALLBACK_STRING_MAX 256

static void write_json_entry(const log_record *r, bool cut) {
  char buf[LOG_ERROR_LINE_MAX];
  log_line line;
  log_line_init_growable(&line, buf, sizeof buf);
  append_json_entry(&line, r, cut, SIZE_MAX);
  if (line.truncated) { /* only when the heap is short */
    log_line_release(&line);
    log_line_init(&line, buf, sizeof buf);
    append_json_entry(&line, r, cut, JSON_FALLBACK_STRING_MAX);
  }
  log_file_write(&error_file, line.buf, log_line_finish(&line));
  log_line_release(&line);
}

/* ------------------------------------------------------------------ one-line messages */

void log_vwrite(log_level level, const char *fmt, va_list ap) {
  if (!log_enabled(level))
    return;
  /* The message before escaping. A message vsnprintf has to cut here is longer than what is
   * left of a text line after the prefix, so the line builder cuts and marks the line anyway;
   * a JSON line, never cut, ends its message with "..." instead. */
  char message[LOG_ERROR_LINE_MAX];
  int message_len = vsnprintf(message, sizeof message, fmt, ap);
  bool cut = message_len >= 0 && (size_t)message_len >= sizeof message;
  if (message_len < 0)
    message_len = 0;
  else if (cut)
    message_len = (int)sizeof message - 1;

  if (atomic_load_explicit(&line_format, memory_order_relaxed) == LOG_FORMAT_JSON) {
    log_record r = {.level = level, .message = message, .message_len = (size_t)message_len};
    write_json_entry(&r, cut);
    return;
  }
  char buf[LOG_ERROR_LINE_MAX];
  log_line line;
  log_line_init(&line, buf, sizeof buf);
  append_prefix(&line, level);
  log_line_append_escaped(&line, message, (size_t)message_len, LOG_ESCAPE_CONTROLS);
  size_t len = log_line_finish(&line);
  log_file_write(&error_file, buf, len);
}

/* ------------------------------------------------------------------ multi-line entries */

/* The lines of a record: the message's, then the traceback's, each text without its one
 * trailing newline, split at '\n'. The message gives at least one line (maybe empty). */
typedef struct record_lines {
  const char *part[2];
  size_t part_len[2];
  int at;        /* the part being split; 2 when done */
  size_t offset; /* where its next line starts */
} record_lines;

static void record_lines_start(record_lines *it, const log_record *r) {
  it->part[0] = r->message != NULL ? r->message : "";
  it->part_len[0] = r->message != NULL ? without_trailing_newline(r->message, r->message_len) : 0;
  it->part[1] = r->traceback;
  it->part_len[1] = r->traceback != NULL ? without_trailing_newline(r->traceback, r->traceback_len)
                                         : 0;
  it->at = 0;
  it->offset = 0;
}

/* The next line into *text / *len; false after the last one. An absent or empty traceback
 * gives no line. */
static bool record_lines_next(record_lines *it, const char **text, size_t *len) {
  if (it->at == 1 && (it->part[1] == NULL || it->part_len[1] == 0))
    it->at = 2;
  if (it->at == 2)
    return false;
  const char *part = it->part[it->at];
  size_t part_len = it->part_len[it->at];
  const char *start = part + it->offset;
  const char *newline = memchr(start, '\n', part_len - it->offset);
  *text = start;
  if (newline != NULL) {
    *len = (size_t)(newline - start);
    it->offset += *len + 1;
  } else {
    *len = part_len - it->offset;
    it->at++;
    it->offset = 0;
  }
  return true;
}

/* One line of an entry without its newline: the prefix, then "logger: " on the first line and
 * "| " on the others (so a reader tells continuation lines from entries), then the text. */
static void append_entry_line(log_line *line, const log_line *prefix, const log_record *r,
                              bool first, const char *text, size_t len) {
  log_line_append(line, prefix->buf, prefix->len);
  if (!first) {
    log_line_append_str(line, "| ");
  } else if (r->logger != NULL && r->logger_len > 0) {
    log_line_append_escaped(line, r->logger, r->logger_len, LOG_ESCAPE_CONTROLS);
    log_line_append_str(line, ": ");
  }
  log_line_append_escaped(line, text, len, LOG_ESCAPE_CONTROLS);
}

/* Without memory for the whole entry: each line on its own, cut at LOG_ERROR_LINE_MAX. */
static void write_line_by_line(const log_line *prefix, const log_record *r) {
  record_lines it;
  record_lines_start(&it, r);
  const char *text;
  size_t len;
  for (bool first = true; record_lines_next(&it, &text, &len); first = false) {
    char buf[LOG_ERROR_LINE_MAX];
    log_line line;
    log_line_init(&line, buf, sizeof buf);
    append_entry_line(&line, prefix, r, first, text, len);
    log_file_write(&error_file, buf, log_line_finish(&line));
  }
}

void log_write_record(const log_record *r) {
  if (!log_enabled(r->level))
    return;
  if (atomic_load_explicit(&line_format, memory_order_relaxed) == LOG_FORMAT_JSON) {
    write_json_entry(r, false);
    return;
  }
  char prefix_buf[256]; /* the time, the pid, the level and the 63-byte role fit */
  log_line prefix;
  log_line_init(&prefix, prefix_buf, sizeof prefix_buf);
  append_prefix(&prefix, r->level);

  char buf[LOG_ERROR_LINE_MAX];
  log_line entry;
  log_line_init_growable(&entry, buf, sizeof buf);
  record_lines it;
  record_lines_start(&it, r);
  const char *text;
  size_t len;
  for (bool first = true; record_lines_next(&it, &text, &len); first = false) {
    if (!first)
      log_line_append_str(&entry, "\n");
    append_entry_line(&entry, &prefix, r, first, text, len);
  }
  /* A growable line is cut only when the heap is short. */
  if (entry.truncated)
    write_line_by_line(&prefix, r);
  else
    log_file_write(&error_file, entry.buf, log_line_finish(&entry));
  log_line_release(&entry);
}

void log_write(log_level level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  log_vwrite(level, fmt, ap);
  va_end(ap);
}
