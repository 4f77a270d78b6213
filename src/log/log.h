/*
 * log.h - the error log and the access log.
 *
 * Error log lines look like gunicorn's, with the process role as an optional fourth field:
 *
 *   [2026-11-21 13:25:43 +0000] [12345] [INFO] [worker 2] Booting worker
 *   ^ time and its UTC offset    ^ pid   ^ level ^ role (absent until log_set_role)
 *
 * Timestamps of both logs are in UTC, or with log_timezone = local in the zone the process had
 * at its first log_open, whatever it does to TZ later (an app's tzset(): see log_time.c).
 *
 * An entry of several lines (log_write_record: a message with newlines, a traceback) repeats
 * that prefix on every line and marks each line after the first with "| ", so grep by pid,
 * role or level still finds all of it and a reader tells continuation lines from entries:
 *
 *   [2026-11-21 13:25:43 +0000] [12345] [ERROR] [worker 2] app: request failed
 *   [2026-11-21 13:25:43 +0000] [12345] [ERROR] [worker 2] | Traceback (most recent call last):
 *   [2026-11-21 13:25:43 +0000] [12345] [ERROR] [worker 2] |   File "app.py", line 3, in f
 *   [2026-11-21 13:25:43 +0000] [12345] [ERROR] [worker 2] | ValueError: boom
 *
 * The access log writes one line per finished request from gunicorn-style `%(x)s` atoms (see
 * access_log_format_line).
 *
 * With log_format = json both logs write one JSON object per line instead (the fields are
 * documented in docs/operations.md): the error log {"time","level","pid","role","logger",
 * "message","traceback"}, the access log a built-in object when access_log_format is at its
 * default, else the user's format with its atoms escaped for JSON strings. Every line is valid
 * UTF-8 JSON whatever the input (invalid UTF-8 becomes U+FFFD), and JSON lines are never cut:
 * one that outgrows its stack buffer is built on the heap.
 *
 * Every line (and every multi-line entry) is written with a single write() so lines from the
 * master, the workers and the threads of one process never interleave (the write is atomic for
 * a pipe up to PIPE_BUF bytes, which is why log_write caps lines at LOG_ERROR_LINE_MAX; a
 * longer entry of log_write_record is still one write(): whole in a regular file opened for
 * appending, while a pipe may let another process's line in after PIPE_BUF bytes). Lines are
 * built on the stack; only an entry longer than its stack buffer (a log_write_record entry, a
 * JSON line) is built on the heap. If that allocation fails, a text entry is written line by
 * line, a JSON error line keeps only the first bytes of its message (and no traceback), and a
 * JSON access line is dropped. A text log_write line that would not fit is cut and ends with
 * "..."; a log_write_record entry is never cut.
 *
 * Nothing written can forge a line: error log messages have their control bytes (below 0x20
 * and 0x7f, including CR and LF) written as \xNN, except the newlines that split an entry into
 * its marked lines; in the access log every byte that came from a client is escaped as
 * described at access_log_format_line; in JSON lines every string is escaped for JSON.
 *
 * Threads: log_write, log_vwrite, log_write_record, log_enabled, access_log_enabled,
 * access_log_write and access_log_format_line may be called from any thread, concurrently with
 * each other and with log_reopen. log_open, log_reopen, log_close and log_set_role are called
 * from one thread (the process's main loop); log_open and log_set_role, which replace the
 * access log format and the role text, must not run while another thread is logging (call
 * them before starting threads). A file switch never closes a descriptor another thread may be
 * writing to: the new file is opened and then dup2()'d onto the old descriptor.
 */
#ifndef ASGID_LOG_H
#define ASGID_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/platform.h"
#include "settings/settings.h"

typedef enum asgid_log_level_t {
  LOG_LEVEL_DEBUG = ASGID_LEVEL_DEBUG,
  LOG_LEVEL_INFO = ASGID_LEVEL_INFO,
  LOG_LEVEL_WARNING = ASGID_LEVEL_WARNING,
  LOG_LEVEL_ERROR = ASGID_LEVEL_ERROR
} log_level;

/* The longest error log line, newline included. Equal to the smallest PIPE_BUF POSIX allows,
 * so a line is written atomically even when the error log is a pipe (e.g. to journald). */
#define LOG_ERROR_LINE_MAX 4096

/* The longest access log line written by access_log_write, newline included. */
#define ACCESS_LOG_LINE_MAX 8192

/* Applies the [log] settings: error_log ("-" or "" is standard error), access_log ("" is off,
 * "-" is standard output), each otherwise a file path; access_log_format, log_level and
 * log_timezone (the first call captures the local time zone for good). Files are
 * opened for appending (O_APPEND | O_CREAT | O_CLOEXEC, mode 0644 minus the umask). Before
 * the first call lines go to standard error and the access log is off. Calling it again (a
 * configuration reload) switches to the new files and format. If a file cannot be opened, that
 * log keeps its previous destination, the failure is reported on the error log naming the file,
 * and the first error is returned as a negative errno; otherwise returns 0. */
int log_open(const asgid_settings *s);

/* Reopens the files by path (SIGUSR1, after logrotate renamed them) so that lines go to a new
 * file at the configured path. Standard streams are left alone. A failure is reported on the
 * error log and that log keeps writing to the old file. Returns 0 or the first negative errno. */
int log_reopen(void);

/* Closes the files and returns to the state before log_open: error lines to standard error,
 * the access log off, UTC timestamps, no zone captured. Call it when no other thread logs any
 * more (at exit). */
void log_close(void);

/* Tags each following error log line with the process role, e.g. "master" or "worker 3"
 * (written as "[worker 3]" after the level). NULL or "" removes the tag. The text is copied
 * (at most 63 bytes kept). */
void log_set_role(const char *role);

/* Writes one error log line if `level` is enabled. The message is formatted with printf rules,
 * control bytes in it escaped; a trailing newline in fmt is not needed (and would be escaped). */
void log_write(log_level level, const char *fmt, ...) PLATFORM_PRINTF(2, 3);

/* Like log_write with an already-started va_list (left unspecified after the call, as with
 * vprintf). */
void log_vwrite(log_level level, const char *fmt, va_list ap)
    PLATFORM_PRINTF(2, 0);

/* One log entry that may span several lines: a message and, optionally, a traceback, both of
 * any length (never cut), from any thread. `logger` names the source (a Python logger's name),
 * NULL or "" for asgid itself. Lengths are explicit; bytes need not be NUL-terminated. */
typedef struct log_record {
  log_level level;
  const char *logger;
  size_t logger_len;
  const char *message;
  size_t message_len;
  const char *traceback; /* NULL: none. Ends (after trimming one trailing newline) with the
                            exception line, as traceback.format_exception gives it. */
  size_t traceback_len;
} log_record;

/* Writes `record` to the error log if its level is enabled, whole, with one write() (see the
 * entry format at the top of this file). The message and the traceback each lose one trailing
 * newline; every other newline starts a continuation line. */
void log_write_record(const log_record *record);

/* 1 when lines of this level are written (to skip building costly messages), else 0. */
int log_enabled(log_level level);

#define log_debug(...) log_write(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warning(...) log_write(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_error(...) log_write(LOG_LEVEL_ERROR, __VA_ARGS__)

/* The descriptor error log lines go to (for code that must write from a signal handler, such
 * as Python's faulthandler). Stable across log_reopen. */
int log_error_fd(void);

/* Last words: when a stuck worker aborts itself (worker/stall_watch.h), the error
 * log gets one line naming the request the worker started last. log_note_request records it
 * (a copy into a fixed buffer: cheap enough for every request); log_install_last_words sets
 * the handler, after log_open. */
void log_install_last_words(const char *role);
void log_note_request(const char *method, size_t method_len, const char *target,
                      size_t target_len);

/* A header as the access log sees it (request or response). */
typedef struct access_log_header {
  const char *name; /* request names lowercase; response names as the app sent them */
  size_t name_len;
  const char *value;
  size_t value_len;
} access_log_header;

/* Everything the access log needs about one finished request. Strings carry their length, need
 * not be NUL-terminated and may contain any byte, NUL included. A NULL string (with any length)
 * is written as "-". */
typedef struct access_log_entry {
  const char *remote_addr;       /* h: the scope's client address (NUL-terminated), "-" for none */
  const char *method;            /* m */
  size_t method_len;
  const char *target;            /* the raw request target: path?query */
  size_t target_len;
  const char *path;              /* U: raw path without the query */
  size_t path_len;
  const char *query;             /* q: "" when there is none */
  size_t query_len;
  const char *http_version;      /* "1.1" (NUL-terminated): H is "HTTP/1.1" */
  int status;                    /* s */
  uint64_t body_bytes;           /* B and b (b: "-" when 0) */
  uint64_t start_usec;           /* request start, microseconds since the epoch: t */
  uint64_t duration_usec;        /* T (seconds), M (ms), D (us), L (decimal seconds) */
  const access_log_header *request_headers; /* {name}i, f (referer), a (user-agent) */
  size_t request_header_count;
  const access_log_header *response_headers; /* {name}o */
  size_t response_header_count;
  /* W: a WebSocket session's messages and payload bytes each way ("-" for HTTP) */
  int websocket;
  uint64_t messages_in, bytes_in, messages_out; /* bytes out: body_bytes */
} access_log_entry;

/* 1 when an access log is configured (so callers can skip building entries), else 0. */
int access_log_enabled(void);

/* When a logged request or session began: the wall clock for `t`, a monotonic clock for its
 * duration. */
typedef struct access_log_clock {
  uint64_t wall_usec;
  uint64_t mono_ns;
} access_log_clock;

/* Reads the monotonic clock (request durations are also metrics), and the wall clock when an
 * access log is configured (0 otherwise). */
void access_log_clock_start(access_log_clock *clock);

/* Microseconds since access_log_clock_start. */
uint64_t access_log_clock_elapsed_usec(const access_log_clock *clock);

/* Formats `entry` with `format` into out (at most out_size bytes, always NUL-terminated when
 * out_size > 0, ending with a newline when out_size > 1) and returns the length written (the
 * NUL not counted). A line that does not fit is cut between two atoms or two escaped bytes
 * and ends with "...\n" (just "\n" when out_size < 5); it never ends inside an escape
 * sequence. Pure: the result depends only
 * on the arguments, the process id and the time zone. Exposed for unit tests.
 *
 * The format is text with gunicorn atoms `%(x)s`; "%%" is a literal '%':
 *   h remote address        l "-"                    u "-" (no authenticated user)
 *   t [21/Nov/2026:13:25:43 +0000] (request start, local time)
 *   r request line "GET /p?q HTTP/1.1"               m method
 *   U path without query    q query string           H protocol "HTTP/1.1"
 *   s status                B body bytes             b body bytes, "-" when 0
 *   f Referer header        a User-Agent header      p "<pid>"
 *   T duration in whole seconds, M in milliseconds, D in microseconds, L in decimal seconds
 *     ("0.000123")
 *   {name}i request header, {name}o response header (names compared case-insensitively;
 *     several headers of that name are joined with ","; a missing header is "-")
 * Any other `%(...)s`, or a '%' not starting an atom, is written literally.
 *
 * Escaping: every byte that came from a client (method, target, path, query, header values,
 * and also the remote address) is written as itself if it is printable ASCII, except that '"'
 * becomes \" and '\' becomes \\; bytes below 0x20, 0x7f and bytes from 0x80 up become \xNN
 * (two lowercase hex digits). So a value can neither end the line nor leave its quotes. */
size_t access_log_format_line(const char *format, const access_log_entry *entry, char *out,
                              size_t out_size);

/* Formats one line with the configured format (a text line cut at ACCESS_LOG_LINE_MAX bytes, a
 * JSON line whole) and writes it with one write(). Does nothing when the access log is off. */
void access_log_write(const access_log_entry *entry);

#endif /* ASGID_LOG_H */
