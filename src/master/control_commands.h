/*
 * control_commands.h - the words of `asgid --control COMMAND` and the one-line protocol the
 * client and the master's control endpoint speak (control_client.c, control_server.c).
 *
 * The client sends one line, the command word and "\n" (at most CONTROL_LINE_MAX bytes with
 * it); the master answers one line, "ok: WHAT" once it took the command, or "error: WHY"
 * (an unknown or over-long command, none within control_timeout, a refused peer), then
 * closes the connection. Each command is the operator event of the signal named beside it.
 */
#ifndef ASGID_CONTROL_COMMANDS_H
#define ASGID_CONTROL_COMMANDS_H

#include <stddef.h>

#include "platform/platform.h"

/* The longest command line, its "\n" included. The words are short; a client that sends
 * more is broken or hostile, and the master answers so rather than buffer it. */
#define CONTROL_LINE_MAX 64

/* The longest answer line, its "\n" included. */
#define CONTROL_ANSWER_MAX 256

typedef struct control_command {
  const char *word;     /* "stop" */
  operator_event event; /* OPERATOR_STOP_GRACEFUL */
  const char *signal;   /* the POSIX signal with the same meaning, "TERM" */
} control_command;

extern const control_command control_commands[];
extern const size_t control_command_count;

/* The command named word (NUL-terminated), or NULL. */
const control_command *control_command_find(const char *word);

/* Reads a command line: the bytes before "\n" (a "\r" before it is allowed), at most
 * CONTROL_LINE_MAX bytes with it. `complete` says the line has ended (its "\n", or the end of
 * the connection); while it has not, returns NULL with why empty when more bytes may still
 * make a command. Otherwise returns the command, or NULL with the answer's reason in why
 * ("unknown command \"x\" ..."; bytes that are not printable ASCII are shown as \xNN). */
const control_command *control_command_parse(const char *line, size_t len, int complete,
                                             char *why, size_t why_size);

#endif /* ASGID_CONTROL_COMMANDS_H */
