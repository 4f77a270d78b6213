/*
 * control_client.h - `asgid --control COMMAND`: finds the master through its pidfile, sends
 * COMMAND on its control endpoint (control_server.c) and prints one line saying what was
 * asked and what the master answered.
 */
#ifndef ASGID_CONTROL_CLIENT_H
#define ASGID_CONTROL_CLIENT_H

#include "settings/settings.h"

/* Sends s->control_command to the master of s->pidfile, waiting at most s->control_timeout
 * for the connection and the answer. Prints the outcome (stdout when the master took the
 * command, stderr otherwise). Returns the exit status: 0 when the master answered "ok", 1
 * otherwise (no pidfile, a stale one, no master listening, refused, an error answer). */
int control_client_run(const asgid_settings *s);

#endif /* ASGID_CONTROL_CLIENT_H */
