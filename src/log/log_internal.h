/*
 * log_internal.h - the pieces the error log and the access log share; private to src/log/.
 *
 * log_file: a log destination that can be switched or reopened without ever closing a
 * descriptor another thread may be writing to.
 * log_line: a bounded line builder on a caller's (stack) buffer, with the escaping rules both
 * logs use.
 * log_time: the timestamps both logs use, in UTC or in the local zone fixed at the first open.
 */
#ifndef ASGID_LOG_INTERNAL_H
#define ASGID_LOG_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "settings/settings.h"

/* ------------------------------------------------------------------ log_file */

/* Where one log's lines go. Writers only load `fd`; everything else belongs to the thread that
 * configures the logs. */
typedef struct log_file {
  atomic_int fd;       /* where lines go now: owned_fd, standard_fd, unset_fd; -1 is nowhere */
  int owned_fd;        /* the descriptor this log opened, -1 if none; later files are dup2()'d
                          onto it and it is closed only by log_file_close */
  int standard_fd;     /* where "-" goes: PLATFORM_STDERR_FD or PLATFORM_STDOUT_FD */
  int unset_fd;        /* where lines go when no destination is set: before log_file_set, for
                          an empty destination, and after log_file_close (-1 for nowhere) */
  char *path;          /* the file to reopen, NULL when writing to a standard stream or nowhere */
} log_file;

/* A log_file in its initial state: lines go to `unset` (a descriptor or -1), "-" means
 * `standard`. */
#define LOG_FILE_INITIALIZER(standard, unset)                                                   \
  { .fd = (unset), .owned_fd = -1, .standard_fd = (standard), .unset_fd = (unset),              \
    .path = NULL }

/* Points the log at `destination`: "-" for its standard stream, NULL or "" for its unset_fd,
 * otherwise a file path opened for appending. On failure the log keeps its previous
 * destination. Returns 0 or a negative errno. */
int log_file_set(log_file *file, const char *destination);

/* Opens the configured path again (after a rename by logrotate). Returns 0 when there is no
 * path or on success, else a negative errno (the old file stays in use). */
int log_file_reopen(log_file *file);

/* Returns the log to its initial state and closes the descriptor it opened. */
void log_file_close(log_file *file);

/* 1 when lines currently go somewhere, else 0. */
int log_file_is_open(log_file *file);

/* Writes one line with one write() (more only if the kernel accepts part of it, which does not
 * happen for regular files short of a full disk). Errors are ignored: there is nowhere to report
 * them. */
void log_file_write(log_file *file, const char *line, size_t len);

/* ------------------------------------------------------------------ log_line */

/* How log_line_append_escaped writes bytes. */
typedef enum log_escape {
  /* Error log: bytes below 0x20 and 0x7f as \xNN so a message cannot start a line or send
   * terminal controls; other bytes (UTF-8 text, backslashes) are written as they are. */
  LOG_ESCAPE_CONTROLS,
  /* Access log: additionally bytes from 0x80 up as \xNN, '"' as \" and '\' as \\, so a value
   * cannot leave its quotes and every escape can be read back unambiguously. */
  LOG_ESCAPE_QUOTED
} log_escape;

/* A line being built in a fixed buffer. When a piece does not fit, the line is cut: it goes
 * back to the end of the last piece that leaves room for "...", later pieces are dropped too
 * (so the line never has silent holes), and log_line_finish ends it with "...".
 * A growable line (log_line_init_growable) is never cut for length: it moves to the heap when
 * its buffer is full, and is cut as above only when that allocation fails. */
typedef struct log_line {
  char *buf;
  size_t size;        /* bytes in buf */
  size_t len;         /* bytes of content so far */
  size_t room;        /* the most content: size minus the newline and the NUL */
  size_t marked_room; /* the most content a cut line keeps: room minus "..." */
  size_t cut_len;     /* the end of the last piece within marked_room: where a cut ends */
  bool truncated;     /* the line was cut */
  bool growable;      /* grows on the heap instead of being cut */
  char *heap;         /* buf once it moved to the heap (freed by log_line_release), or NULL */
} log_line;

/* Starts an empty line in buf (size bytes, may be 0). */
void log_line_init(log_line *line, char *buf, size_t size);

/* Starts an empty growable line in buf (size > 2 bytes, usually on the stack). Its text may
 * span several lines: it is one log entry written with one write(). Call log_line_release
 * after use. */
void log_line_init_growable(log_line *line, char *buf, size_t size);

/* Frees what a growable line allocated. */
void log_line_release(log_line *line);

/* Appends len bytes as they are, whole or not at all. */
void log_line_append(log_line *line, const char *bytes, size_t len);

/* Appends a NUL-terminated string as it is, whole or not at all. */
void log_line_append_str(log_line *line, const char *text);

/* Appends a number in decimal, whole or not at all. */
void log_line_append_uint(log_line *line, uint64_t value);

/* Appends len bytes escaped by `escape`; each byte's escape goes in whole or not at all. */
void log_line_append_escaped(log_line *line, const char *bytes, size_t len, log_escape escape);

/* Appends len bytes as the inside of a JSON string (RFC 8259), valid UTF-8 whatever the input:
 * '"' as \", '\' as \\, LF as \n, tab as \t, other C0 controls, DEL and the C1 controls
 * (U+0080-U+009F, which terminals obey too) as \u00XX; valid UTF-8 sequences as they are; each
 * maximal invalid subpart (Unicode's recommended practice, as Python's errors="replace") as
 * U+FFFD. Each character's escape goes in whole or not at all. (A function of its own rather
 * than a log_escape: the text lines' per-request escaping pays for no extra case.) */
void log_line_append_json(log_line *line, const char *bytes, size_t len);

/* Appends the key of a JSON object's member: `"name":`, after a comma unless it is the
 * `first` member. `name` is written as it is (asgid's own field names need no escaping). */
void log_line_append_json_key(log_line *line, const char *name, bool first);

/* Ends the line with "..." if it was cut, then a newline and a NUL. A buffer too small for that
 * tail gets only the newline and the NUL, a 1-byte buffer only the NUL, a 0-byte buffer
 * nothing. Returns the length without the NUL. */
size_t log_line_finish(log_line *line);

/* ------------------------------------------------------------------ log_time */

/* log_timezone's values: indexes into its choices. */
enum { LOG_TIMEZONE_UTC, LOG_TIMEZONE_LOCAL };

/* Applies log_timezone. The first call (the first log_open, or the first after
 * log_time_forget_zone) captures the process's current local time zone, which local
 * timestamps use from then on whatever the process does to its zone (see log_time.c). */
void log_time_configure(const asgid_settings *s);

/* true when timestamps are in local time (log_timezone = local). */
bool log_time_is_local(void);

/* Back to UTC, the zone forgotten: the next log_time_configure captures it again (log_close). */
void log_time_forget_zone(void);

/* The offset from UTC, in seconds east, that timestamps of `when` carry: 0 in UTC mode, else
 * the captured zone's at that moment. Async-signal-safe (it reads a table). */
long log_time_utc_offset(time_t when);

/* The timestamp formats of the two logs, with the UTC offset. */
typedef enum log_time_style {
  LOG_TIME_ERROR_LOG,  /* 2026-11-21 13:25:43 +0000 */
  LOG_TIME_ACCESS_LOG, /* 21/Nov/2026:13:25:43 +0000 (without the brackets) */
  LOG_TIME_ISO,        /* 2026-11-21T13:25:43Z, 2026-11-21T14:25:43+01:00 (RFC 3339) */
  LOG_TIME_STYLE_COUNT
} log_time_style;

/* Appends the timestamp of `when` in `style`. The text is cached per thread and per second, so
 * the conversion runs at most once a second per thread and style. Month names come from a
 * table instead of strftime("%b") so that a locale an embedded interpreter may set never
 * changes the access log's format. */
void log_line_append_time(log_line *line, time_t when, log_time_style style);

/* Appends `usec` (microseconds since the epoch) in RFC 3339 with milliseconds, as JSON lines
 * carry it: 2026-11-21T13:25:43.123Z in UTC mode, 2026-11-21T14:25:43.123+01:00 in local. */
void log_line_append_iso_time(log_line *line, uint64_t usec);

/* ------------------------------------------------------------------ the two logs */

/* log_format's values: indexes into its choices. */
enum { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* The error log's log_format now (LOG_FORMAT_*). */
int error_log_format(void);

/* Each log's part of log_open / log_reopen / log_close (see log.h). */
int error_log_configure(const asgid_settings *s);
int error_log_reopen(void);
void error_log_close(void);
int access_log_configure(const asgid_settings *s);
/* Appends one access log entry as JSON (without the newline) to a growable line: the built-in
 * object when format is NULL, else `format` with its atoms escaped for JSON strings. */
struct access_log_entry;
void access_log_append_json(log_line *line, const char *format,
                            const struct access_log_entry *entry);
int access_log_reopen(void);
void access_log_close(void);

#endif /* ASGID_LOG_INTERNAL_H */
