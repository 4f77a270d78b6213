/* last_words.c - the line a hung worker leaves when it is aborted. See log.h.
 *
 * The line is kept ready in a fixed buffer, in the error log's format when it was installed:
 * "[TIME] [PID] [ERROR] [ROLE] aborted, stuck for longer than timeout; the last request it
 * started: METHOD TARGET", or the same as a JSON object ({"time":...,"message":"aborted,
 * ..."}). Each request start copies its request line in; at SIGABRT the time is filled in with
 * async-signal-safe code (no localtime, no stdio: the offset comes from log_time.c's table; a
 * JSON time's milliseconds stay .000, time() has none) and the buffer is written with one
 * write(). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "log/log.h"
#include "log/log_internal.h"
#include "platform/platform.h"

static char message[512];
static size_t prefix_len;
static size_t message_len;
static bool json;           /* the line is a JSON object */
static bool with_offset;    /* the time ends with its offset ("+0100", "+01:00"), not "Z" */
static size_t time_at;      /* where the time's digits start in message */

/* Civil date from days since 1970-01-01 (Howard Hinnant's algorithm): pure arithmetic. */
static void civil_from_days(long z, long *y, unsigned *m, unsigned *d) {
  z += 719468;
  long era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (long)yoe + era * 400 + (*m <= 2);
}

static void put_digits(char *at, long value, int width) {
  for (int i = width - 1; i >= 0; i--) {
    at[i] = (char)('0' + value % 10);
    value /= 10;
  }
}

/* Async-signal-safe: writes the current time, as the error log's lines have it, into the time
 * field: "2026-11-21 13:25:43 +0000" or "2026-11-21T13:25:43.000Z" / "...000+01:00". */
static void stamp_time(void) {
  time_t now = time(NULL); /* time() is async-signal-safe, and so is log_time_utc_offset */
  long utc_offset_seconds = log_time_utc_offset(now);
  long seconds = (long)now + utc_offset_seconds;
  long days = seconds / 86400, rest = seconds % 86400, year;
  unsigned month, day;
  civil_from_days(days, &year, &month, &day);
  char *t = message + time_at;
  put_digits(t, year, 4);
  put_digits(t + 5, month, 2);
  put_digits(t + 8, day, 2);
  put_digits(t + 11, rest / 3600, 2);
  put_digits(t + 14, rest / 60 % 60, 2);
  put_digits(t + 17, rest % 60, 2);
  if (!with_offset)
    return;
  long offset = utc_offset_seconds < 0 ? -utc_offset_seconds : utc_offset_seconds;
  char *o = t + (json ? 23 : 20); /* after ".000" in JSON, after a space in text */
  o[0] = utc_offset_seconds < 0 ? '-' : '+';
  put_digits(o + 1, offset / 3600, 2);
  put_digits(o + (json ? 4 : 3), offset / 60 % 60, 2);
}

void log_install_last_words(const char *role) {
  json = error_log_format() == LOG_FORMAT_JSON;
  with_offset = !json || log_time_is_local();
  log_line line;
  /* Room kept for a request line of at least 64 bytes. */
  log_line_init(&line, message, sizeof message - 64);
  if (json) {
    log_line_append_str(&line, "{\"time\":\"");
    time_at = line.len;
    log_line_append_str(&line, with_offset ? "0000-00-00T00:00:00.000+00:00"
                                           : "0000-00-00T00:00:00.000Z");
    log_line_append_str(&line, "\",\"level\":\"ERROR\",\"pid\":");
    log_line_append_uint(&line, (uint64_t)uv_os_getpid());
    log_line_append_str(&line, ",\"role\":\"");
    log_line_append_json(&line, role, strlen(role));
    log_line_append_str(&line, "\",\"message\":\"");
  } else {
    log_line_append_str(&line, "[");
    time_at = line.len;
    log_line_append_str(&line, "0000-00-00 00:00:00 +0000] [");
    log_line_append_uint(&line, (uint64_t)uv_os_getpid());
    log_line_append_str(&line, "] [ERROR] [");
    log_line_append_escaped(&line, role, strlen(role), LOG_ESCAPE_CONTROLS);
    log_line_append_str(&line, "] ");
  }
  log_line_append_str(&line, "aborted, stuck for longer than timeout; the last request it "
                             "started: ");
  prefix_len = line.truncated ? 0 : line.len;
  message_len = prefix_len;
  if (prefix_len) log_note_request("(none)", 6, "", 0);
  platform_on_abort_write(log_error_fd(), message, &message_len, stamp_time);
}

/* Copies bytes, replacing control characters with '?' so the line cannot be split or forged. */
static size_t copy_printable(char *dst, const char *src, size_t len) {
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)src[i];
    dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
  }
  return len;
}

/* The same for a JSON string: also quotes, backslashes and bytes from 0x80 up become '?', so
 * no escape and no invalid UTF-8 is needed. (A loop of its own: the text one runs per request
 * and pays for no extra test.) */
static size_t copy_json_safe(char *dst, const char *src, size_t len) {
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)src[i];
    dst[i] = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
  }
  return len;
}

void log_note_request(const char *method, size_t method_len, const char *target,
                      size_t target_len) {
  if (!prefix_len) return;
  /* Room for the space, and the end: a newline, after a closing quote and brace in JSON. */
  size_t room = sizeof message - prefix_len - 1 - (json ? 3 : 1);
  if (method_len > room) method_len = room;
  if (target_len > room - method_len) target_len = room - method_len;
  char *p = message + prefix_len;
  if (json) {
    p += copy_json_safe(p, method, method_len);
    *p++ = ' ';
    p += copy_json_safe(p, target, target_len);
    *p++ = '"';
    *p++ = '}';
  } else {
    p += copy_printable(p, method, method_len);
    *p++ = ' ';
    p += copy_printable(p, target, target_len);
  }
  *p++ = '\n';
  message_len = (size_t)(p - message);
}
