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

/* The variable naming the metrics socket an old master passes on USR2, so that the new master
 * listens on the very socket (no SO_REUSEPORT: an unrelated instance on the same port is an
 * error, not a second listener taking half the probes). */
#define METRICS_INHERIT_ENV "ASGID_INHERIT_METRICS_FD"

/* The socket an old master passed (taken out of the environment), or PLATFORM_INVALID_SOCKET. */
platform_socket metrics_server_inherited(void);

/* Listens on bind (HOST:PORT or unix:PATH), on `offered` if it listens there (else that is
 * closed). Returns the server, or NULL with why in `why`. */
metrics_server *metrics_server_start(master *m, const char *bind, platform_socket offered,
                                     char *why, size_t why_size);

/* The listening socket, for a new master started by USR2. */
platform_socket metrics_server_socket(const metrics_server *server);

/* Closes the listener and every connection (the master's exit); a Unix socket's file is
 * removed when remove_unix_file (not after USR2: the new master listens there). NULL does
 * nothing. */
void metrics_server_close(metrics_server *server, int remove_unix_file);

#endif /* ASGID_METRICS_SERVER_H */
