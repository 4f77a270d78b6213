/*
 * listeners.h - the listening sockets, opened by the master before any worker starts.
 *
 * Each `bind` value becomes one listener: HOST:PORT (IPv4 or a name), [IPV6]:PORT, or
 * unix:PATH with an optional " mode=0660"; fd://N adopts the inherited listening socket N and
 * fd://NAME every socket systemd passed with that FileDescriptorName (LISTEN_FDNAMES), so it
 * may become several. Any of them may end with " proxy_protocol" (the listener's connections
 * start with a PROXY protocol header). Workers receive the opened sockets; they never bind anything
 * themselves, which is what lets listeners survive reloads.
 */
#ifndef ASGID_LISTENERS_H
#define ASGID_LISTENERS_H

#include <stddef.h>

#include "net/listener.h"
#include "platform/platform.h"
#include "settings/settings.h"

/* The port of a bind that names a host alone ("127.0.0.1", "localhost"), as in gunicorn. */
#define LISTENER_DEFAULT_PORT "8000"

/* The words after a bind's address. */
typedef struct bind_options {
  unsigned mode;      /* unix: "mode=0660"; 0 when not given */
  int proxy_protocol; /* "proxy_protocol": connections start with a PROXY protocol header */
} bind_options;

/* Parses one bind value. On success fills *kind, the host or path (malloc'd into *host),
 * *port and *options and returns 0; otherwise writes why into err and
 * returns -1. As gunicorn reads a bind, a host alone listens on port 8000 and ":PORT" on
 * every IPv4 address (0.0.0.0); a port alone ("8001") is refused with both spellings, as
 * it would otherwise be read as a host name. Exposed for unit tests. */
int listener_parse_bind(const char *spec, listener_kind *kind, char **host, int *port,
                        bind_options *options, char *err, size_t err_size);

/* Opens a listening socket of its own for one bind value, HOST:PORT or unix:PATH (not fd://),
 * into l (zeroed by the caller; its strings are malloc'd, its socket open only on success).
 * For the metrics listener, which workers do not inherit. `offered` is the socket an old
 * master passed on USR2 (or PLATFORM_INVALID_SOCKET): taken if it listens where spec asks,
 * else closed. Returns 0, or -1 with why in err. */
int listener_open_address(listener *l, const char *spec, int backlog, int reuse_port,
                          platform_socket offered, char *err, size_t err_size);
/* Whether bind value `spec` may be a listener of the master's own (the metrics listener): not
 * fd:// (no worker inherits it, nor does systemd pass it) and without proxy_protocol (probes
 * and scrapers connect directly). listener_open_address and --check-config both ask it, so
 * that the check says what the start would. Returns 0, or -1 with why in err. */
int listener_check_own_address(const char *spec, char *err, size_t err_size);

/* For --check-config: whether bind value `spec` would open, without opening it. It must
 * parse; a host must resolve and its address be one this machine can listen on (tried on
 * port 0: a server already listening on the port, as when checking before a reload, must
 * not fail the check, and the check must not hold the port while one starts); a Unix
 * socket's directory must exist. fd:// binds pass: their sockets exist only when systemd or
 * an old master hands them over at start. Returns 0, or -1 with why in err. */
int listeners_check_bind(const char *spec, char *err, size_t err_size);

/* The environment variables through which a master started by USR2 receives the listening
 * sockets of the old one: "3,4,5" (descriptors) and, in LISTEN_FDNAMES' format, the names
 * systemd gave them ("web::", empty for a socket systemd did not pass). Internal to asgid,
 * not settings. */
#define LISTENERS_INHERIT_ENV "ASGID_INHERIT_FDS"
#define LISTENERS_INHERIT_NAMES_ENV "ASGID_INHERIT_FDNAMES"

/* Opens every bind of the settings. Sockets inherited from an old master
 * (LISTENERS_INHERIT_ENV) or passed by systemd (LISTEN_FDS for this pid, named by
 * LISTEN_FDNAMES) are claimed by fd://N and fd://NAME binds and reused for the binds whose
 * address they have; when no bind was configured, the systemd sockets are the listeners.
 * Inherited sockets no bind claims are closed. On failure closes what was opened, writes a
 * message naming the bind into err and returns -1. */
int listeners_open(const asgid_settings *settings, listener_set *set, char *err,
                   size_t err_size);

/* For a reload: opens the binds of settings, reusing (a copy of) the socket of every bind in
 * current with the same value; the systemd sockets of current are offered to the new binds
 * as at start. */
int listeners_open_reusing(const asgid_settings *settings, const listener_set *current,
                           listener_set *set, char *err, size_t err_size);

/* For a new master started by USR2: chooses the descriptor each listener gets there
 * (child_fds[i] for set->items[i]): N for a bind fd://N (N >= 3), so that the bind means the
 * same socket in the new master, descriptors above those for the others. Stores
 * "ASGID_INHERIT_FDS=..." and "ASGID_INHERIT_FDNAMES=..." (malloc'd) into vars. Returns the
 * highest chosen descriptor + 1, or -1 when out of memory. */
int listeners_inherit(const listener_set *set, int *child_fds, char *vars[2]);


#endif /* ASGID_LISTENERS_H */
