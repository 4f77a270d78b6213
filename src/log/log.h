/*
 * log.h - the error log and the access log.
 *
 * The error log takes printf-style lines with a level; each line is written with one write()
 * so that lines from several processes never interleave. The access log formats one line per
 * finished request from gunicorn-style atoms; every byte that came from a client is escaped
 * (\xNN for control characters, quotes and backslashes escaped) so no request can forge a log
 * line.
 */
#ifndef ASGID_LOG_H
#define ASGID_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "settings/settings.h"

typedef enum asgid_log_level_t {
  LOG_LEVEL_DEBUG = ASGID_LEVEL_DEBUG,
  LOG_LEVEL_INFO = ASGID_LEVEL_INFO,
  LOG_LEVEL_WARNING = ASGID_LEVEL_WARNING,
  LOG_LEVEL_ERROR = ASGID_LEVEL_ERROR
} log_level;

/* Opens error_log and access_log from the settings and sets the level. Before it is called
 * (or if it fails) lines go to standard error. Returns 0 or a negative errno. */
int log_open(const asgid_settings *s);

/* Reopens both files (SIGUSR1: after logrotate moved them). Returns 0 or a negative errno. */
int log_reopen(void);

/* Closes both files. */
void log_close(void);

/* Sets the prefix that tags each error log line with the process role, e.g. "master" or
 * "worker 3". */
void log_set_role(const char *role);

/* Writes one error log line: "[2026-11-21 13:25:43 +0000] [pid] [LEVEL] message". */
void log_write(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like log_write with an already-started va_list. */
void log_vwrite(log_level level, const char *fmt, va_list ap);

/* 1 when lines of this level are written (to skip building costly messages). */
int log_enabled(log_level level);

#define log_debug(...) log_write(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warning(...) log_write(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_error(...) log_write(LOG_LEVEL_ERROR, __VA_ARGS__)

/* A header as the access log sees it (request or response). */
typedef struct access_log_header {
  const char *name; /* request names lowercase; response names as the app sent them */
  size_t name_len;
  const char *value;
  size_t value_len;
} access_log_header;

/* Everything the access log needs about one finished request. Strings need not be
 * NUL-terminated. */
typedef struct access_log_entry {
  const char *remote_addr;       /* h: client address, "-" for a Unix socket */
  const char *method;            /* m */
  size_t method_len;
  const char *target;            /* the raw request target: path?query */
  size_t target_len;
  const char *path;              /* U: raw path without the query */
  size_t path_len;
  const char *query;             /* q */
  size_t query_len;
  const char *http_version;      /* "1.1": H is "HTTP/1.1" */
  int status;                    /* s */
  uint64_t body_bytes;           /* B and b (b: "-" when 0) */
  uint64_t start_usec;           /* request start, microseconds since the epoch: t */
  uint64_t duration_usec;        /* T (seconds), M (ms), D (us), L (decimal seconds) */
  const access_log_header *request_headers; /* {name}i, f (referer), a (user-agent) */
  size_t request_header_count;
  const access_log_header *response_headers; /* {name}o */
  size_t response_header_count;
} access_log_entry;

/* 1 when an access log is configured (so callers can skip building entries). */
int access_log_enabled(void);

/* Formats `entry` with `format` (gunicorn atoms, see the access_log_format setting) into
 * out (at most out_size bytes, always NUL-terminated, a trailing newline included).
 * Returns the length written. Exposed for unit tests. */
size_t access_log_format_line(const char *format, const access_log_entry *entry, char *out,
                              size_t out_size);

/* Formats and writes one line with the configured format. */
void access_log_write(const access_log_entry *entry);

#endif /* ASGID_LOG_H */
