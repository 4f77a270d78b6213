/*
 * control_server.h - the master's end of `asgid --control`: it listens on the platform's
 * control endpoint (platform.h, control_pipe.c) while the master has a pidfile, reads one
 * command line per connection (control_commands.h) within control_timeout, answers one line
 * and acts through master_act, as the signal of the same meaning would.
 */
#ifndef ASGID_CONTROL_SERVER_H
#define ASGID_CONTROL_SERVER_H

#include <stddef.h>

#include "master/master.h"

typedef struct control_server control_server;

/* Starts listening on the endpoint of this process for a master whose pidfile is pidfile.
 * Returns the server, or NULL with why ("control endpoint ...: reason"). */
control_server *control_server_start(master *m, const char *pidfile, char *why,
                                     size_t why_size);

/* Stops listening, ends the connections in progress and removes the endpoint; the memory is
 * freed once the loop has closed the handles. NULL does nothing. */
void control_server_close(control_server *server);

#endif /* ASGID_CONTROL_SERVER_H */
