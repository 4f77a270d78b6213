/* control_commands.c - the commands of asgid --control and their line. See
 * control_commands.h. */
#include "master/control_commands.h"

#include <stdio.h>
#include <string.h>

/* upgrade is offered too: on POSIX it is USR2's binary upgrade; the master says in its log
 * when the platform cannot do it. PAUSE_WORKERS (WINCH) has no word: it only makes sense in
 * the middle of an upgrade, where an operator follows the documented signal sequence. */
const control_command control_commands[] = {
    {"stop", OPERATOR_STOP_GRACEFUL, "TERM"},  {"quit", OPERATOR_STOP_FAST, "QUIT"},
    {"reload", OPERATOR_RELOAD, "HUP"},        {"reopen", OPERATOR_REOPEN_LOGS, "USR1"},
    {"incr", OPERATOR_WORKERS_MORE, "TTIN"},   {"decr", OPERATOR_WORKERS_FEWER, "TTOU"},
    {"upgrade", OPERATOR_UPGRADE, "USR2"},
};
const size_t control_command_count = sizeof control_commands / sizeof control_commands[0];

const control_command *control_command_find(const char *word) {
  for (size_t i = 0; i < control_command_count; i++)
    if (strcmp(control_commands[i].word, word) == 0) return &control_commands[i];
  return NULL;
}

/* "stop, quit, ..." */
static void list_words(char *out, size_t size) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < control_command_count && used < size; i++) {
    int n = snprintf(out + used, size - used, "%s%s", i ? ", " : "", control_commands[i].word);
    if (n < 0) break;
    used += (size_t)n;
  }
}

/* The line as it can be shown in a log line or an answer: printable ASCII as it is, other
 * bytes as \xNN (a terminal's escape sequences must not reach the log). */
static void shown(const char *line, size_t len, char *out, size_t size) {
  size_t used = 0;
  for (size_t i = 0; i < len && used + 5 < size; i++) {
    unsigned char c = (unsigned char)line[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
      out[used++] = (char)c;
    else
      used += (size_t)snprintf(out + used, size - used, "\\x%02x", c);
  }
  out[used] = '\0';
}

const control_command *control_command_parse(const char *line, size_t len, int complete,
                                             char *why, size_t why_size) {
  why[0] = '\0';
  const char *newline = memchr(line, '\n', len);
  size_t end = newline ? (size_t)(newline - line) : len;
  if (end + 1 > CONTROL_LINE_MAX) {
    snprintf(why, why_size, "the command is longer than %d bytes", CONTROL_LINE_MAX - 1);
    return NULL;
  }
  if (!newline && !complete) return NULL; /* more may come */
  if (end > 0 && line[end - 1] == '\r') end--;
  char word[CONTROL_LINE_MAX];
  memcpy(word, line, end);
  word[end] = '\0';
  const control_command *command = memchr(word, '\0', end) ? NULL : control_command_find(word);
  if (command) return command;
  char words[128], text[CONTROL_LINE_MAX * 4 + 1];
  list_words(words, sizeof words);
  if (end == 0) {
    snprintf(why, why_size, "empty command (expected one of %s)", words);
  } else {
    shown(word, end, text, sizeof text);
    snprintf(why, why_size, "unknown command \"%s\" (expected one of %s)", text, words);
  }
  return NULL;
}
