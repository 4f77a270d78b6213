/*
 * metrics_server.h - the master's metrics listener (metrics_bind): GET /metrics (Prometheus
 * text), /healthz (200 while the master runs) and /readyz (master_is_ready), one request per
 * connection, answered on the master's own loop from what it already knows. Workers never
 * see this socket; it stays open until the master exits, so that during a graceful stop a
 * probe gets 503 rather than a refused connection.
 */
#ifndef ASGID_METRICS_SERVER_H
#define ASGID_METRICS_SERVER_H

#include <stddef.h>

#include "master/master.h"

typedef struct metrics_server metrics_server;

/* Listens on bind (HOST:PORT or unix:PATH). Returns the server, or NULL with why in `why`. */
metrics_server *metrics_server_start(master *m, const char *bind, char *why, size_t why_size);

/* Closes the listener and every connection (the master's exit); a Unix socket's file is
 * removed when remove_unix_file (not after USR2: the new master listens there). NULL does
 * nothing. */
void metrics_server_close(metrics_server *server, int remove_unix_file);

#endif /* ASGID_METRICS_SERVER_H */
