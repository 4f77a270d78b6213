/*
 * error_log.c - the error log: levels, the role tag, and one escaped line per message.
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

/* "[worker 3] " or "": written after the level. */
static char role_tag[64 + sizeof "[] "];

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
  int err = log_file_set(&error_file, s->error_log);
  if (err < 0)
    log_error("cannot open error log %s: %s", s->error_log, strerror(-err));
  return err;
}

int log_error_fd(void) { return atomic_load(&error_file.fd); }

int error_log_reopen(void) {
  int err = log_file_reopen(&error_file);
  if (err < 0)
    log_error("cannot reopen error log %s: %s", error_file.path, strerror(-err));
  return err;
}

void error_log_close(void) {
  log_file_close(&error_file);
}

void log_set_role(const char *role) {
  if (role == NULL || role[0] == '\0') {
    role_tag[0] = '\0';
    return;
  }
  /* %.63s: the role is cut to its documented 63 bytes. */
  snprintf(role_tag, sizeof role_tag, "[%.63s] ", role);
}

int log_enabled(log_level level) {
  return (int)level >= atomic_load_explicit(&least_level, memory_order_relaxed);
}

void log_vwrite(log_level level, const char *fmt, va_list ap) {
  if (!log_enabled(level))
    return;
  /* The message before escaping. A message vsnprintf has to cut here is longer than what is
   * left of the line after the prefix, so the line builder cuts and marks the line anyway. */
  char message[LOG_ERROR_LINE_MAX];
  int message_len = vsnprintf(message, sizeof message, fmt, ap);
  if (message_len < 0)
    message_len = 0;
  else if ((size_t)message_len >= sizeof message)
    message_len = (int)sizeof message - 1;

  char buf[LOG_ERROR_LINE_MAX];
  log_line line;
  log_line_init(&line, buf, sizeof buf);
  log_line_append_str(&line, "[");
  log_line_append_time(&line, time(NULL), LOG_TIME_ERROR_LOG);
  log_line_append_str(&line, "] [");
  log_line_append_uint(&line, (uint64_t)uv_os_getpid());
  log_line_append_str(&line, "] [");
  log_line_append_str(&line, level_name(level));
  log_line_append_str(&line, "] ");
  log_line_append_escaped(&line, role_tag, strlen(role_tag), LOG_ESCAPE_CONTROLS);
  log_line_append_escaped(&line, message, (size_t)message_len, LOG_ESCAPE_CONTROLS);
  size_t len = log_line_finish(&line);
  log_file_write(&error_file, buf, len);
}

void log_write(log_level level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  log_vwrite(level, fmt, ap);
  va_end(ap);
}
