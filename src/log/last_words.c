/* last_words.c - the line a hung worker leaves when it is aborted. See log.h.
 *
 * The line is kept ready in a fixed buffer: "[TIME] [PID] [ERROR] [ROLE] aborted, stuck for
 * longer than timeout; the last request it started: METHOD TARGET". Each request start copies
 * its request line in; at SIGABRT the time is filled in with async-signal-safe code (no localtime, no
 * stdio: the offset comes from log_time.c's table) and the buffer is written with one write(). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "log/log.h"
#include "log/log_internal.h"
#include "platform/platform.h"

#define TIME_FIELD "[0000-00-00 00:00:00 +0000] "

static char message[512];
static size_t prefix_len;
static size_t message_len;

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
 * field. */
static void stamp_time(void) {
  time_t now = time(NULL); /* time() is async-signal-safe, and so is log_time_utc_offset */
  long utc_offset_seconds = log_time_utc_offset(now);
  long seconds = (long)now + utc_offset_seconds;
  long days = seconds / 86400, rest = seconds % 86400, year;
  unsigned month, day;
  civil_from_days(days, &year, &month, &day);
  char *t = message + 1; /* after '[' */
  put_digits(t, year, 4);
  put_digits(t + 5, month, 2);
  put_digits(t + 8, day, 2);
  put_digits(t + 11, rest / 3600, 2);
  put_digits(t + 14, rest / 60 % 60, 2);
  put_digits(t + 17, rest % 60, 2);
  long offset = utc_offset_seconds < 0 ? -utc_offset_seconds : utc_offset_seconds;
  t[20] = utc_offset_seconds < 0 ? '-' : '+';
  put_digits(t + 21, offset / 3600, 2);
  put_digits(t + 23, offset / 60 % 60, 2);
}

void log_install_last_words(const char *role) {
  int n = snprintf(message, sizeof message,
                   TIME_FIELD "[%ld] [ERROR] [%s] aborted, stuck for longer than timeout; the "
                   "last request it started: ", (long)uv_os_getpid(), role);
  prefix_len = n > 0 && (size_t)n < sizeof message - 64 ? (size_t)n : 0;
  message_len = prefix_len;
  if (prefix_len) log_note_request("(none)", 6, "", 0);
  platform_on_abort_write(log_error_fd(), message, &message_len, stamp_time);
}

/* Copies bytes, replacing control characters so the line cannot be split or forged. */
static size_t copy_printable(char *dst, const char *src, size_t len) {
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)src[i];
    dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
  }
  return len;
}

void log_note_request(const char *method, size_t method_len, const char *target,
                      size_t target_len) {
  if (!prefix_len) return;
  size_t room = sizeof message - prefix_len - 2; /* space and newline */
  if (method_len > room) method_len = room;
  if (target_len > room - method_len) target_len = room - method_len;
  char *p = message + prefix_len;
  p += copy_printable(p, method, method_len);
  *p++ = ' ';
  p += copy_printable(p, target, target_len);
  *p++ = '\n';
  message_len = (size_t)(p - message);
}
