/*
 * platform.h - the one interface to what differs between operating systems.
 *
 * Implementations live in posix/ and win/ under the same file names; nothing outside this
 * folder tests _WIN32.
 */
#ifndef ASGID_PLATFORM_H
#define ASGID_PLATFORM_H

#include <stddef.h>

/* Process-wide setup done once at start: ignore SIGPIPE (a peer that closed must become a
 * write error, not a dead process) and raise the open-file soft limit to the hard limit, so
 * max_connections is not silently capped by the default 1024. Returns the resulting limit
 * on open files (or -1 when the platform has none). */
long platform_process_init(void);

/* Removes a stale Unix socket file at path before binding, only if it is a socket.
 * Returns 0 or a negative errno (-ENOENT is fine: nothing to remove). */
int platform_unlink_stale_socket(const char *path);

/* Sets the file mode of a bound Unix socket. Returns 0 or a negative errno. */
int platform_chmod_socket(const char *path, unsigned mode);

#endif /* ASGID_PLATFORM_H */

/* A listening socket as the operating system names it (a file descriptor on POSIX). */
typedef int platform_socket;
#define PLATFORM_INVALID_SOCKET (-1)

/* Opens a non-blocking, close-on-exec TCP socket bound to addr (IPv6 sockets are v6-only so
 * that [::]:port and 0.0.0.0:port can coexist) and listening with backlog. On success stores
 * the socket in *out and returns 0; otherwise a negative errno. */
struct sockaddr;
int platform_listen_tcp(const struct sockaddr *addr, int backlog, platform_socket *out);

/* The same for a Unix socket at path, created with mode (0 keeps the umask's). A stale socket
 * file left by a previous run is replaced; any other existing file is an error. */
int platform_listen_unix(const char *path, int backlog, unsigned mode, platform_socket *out);

/* Closes a socket. */
void platform_close_socket(platform_socket s);

/* Sets the process file mode creation mask. */
void platform_set_umask(unsigned mask);

/* Switches to group and user (names or numeric ids; either may be empty to keep it), with
 * the user's supplementary groups. On failure writes why into err and returns -1. */
int platform_switch_user(const char *user, const char *group, char *err, size_t err_size);
