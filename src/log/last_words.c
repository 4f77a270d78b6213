/* last_words.c - the line a hung worker leaves when it is aborted. See log.h. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log/log.h"
#include "log/log_internal.h"
#include "platform/platform.h"

static char message[512];
static size_t prefix_len;
static size_t message_len;

void log_install_last_words(const char *role) {
  int n = snprintf(message, sizeof message,
                   "[%ld] [ERROR] [%s] aborted by the master; the last request it started: ",
                   (long)getpid(), role);
  prefix_len = n > 0 && (size_t)n < sizeof message - 64 ? (size_t)n : 0;
  message_len = prefix_len;
  if (prefix_len) log_note_request("(none)", 6, "", 0);
  platform_on_abort_write(error_log_fd(), message, &message_len);
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
