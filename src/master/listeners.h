/*
 * listeners.h - the listening sockets, opened by the master before any worker starts.
 *
 * Each `bind` value becomes one listener: HOST:PORT (IPv4 or a name), [IPV6]:PORT, or
 * unix:PATH with an optional " mode=0660". Workers receive the opened sockets; they never
 * bind anything themselves, which is what lets listeners survive reloads.
 */
#ifndef ASGID_LISTENERS_H
#define ASGID_LISTENERS_H

#include <stddef.h>

#include "platform/platform.h"
#include "settings/settings.h"

typedef enum listener_kind { LISTENER_TCP, LISTENER_UNIX } listener_kind;

typedef struct listener {
  listener_kind kind;
  platform_socket socket;
  char *spec; /* the bind value it came from ("fd://N" for an inherited socket) */
  char *name; /* for logs and the ASGI server address: "127.0.0.1:8000", "[::1]:8000", path */
  char *host; /* TCP: numeric address; Unix: the socket path */
  int port;   /* TCP: the bound port (resolved when 0 was asked); Unix: -1 */
} listener;

typedef struct listener_set {
  listener *items;
  size_t count;
} listener_set;

/* Parses one bind value. On success fills *kind, the host or path (malloc'd into *host),
 * *port and *mode (0 when not given) and returns 0; otherwise writes why into err and
 * returns -1. Exposed for unit tests. */
int listener_parse_bind(const char *spec, listener_kind *kind, char **host, int *port,
                        unsigned *mode, char *err, size_t err_size);

/* The environment variable through which a master started by USR2 receives the listening
 * sockets of the old one ("3,4,5": descriptors). Internal to asgid, not a setting. */
#define LISTENERS_INHERIT_ENV "ASGID_INHERIT_FDS"

/* Opens every bind of the settings. A bind "fd://N" uses the inherited listening socket N.
 * Sockets inherited from an old master (LISTENERS_INHERIT_ENV) are reused for the binds
 * whose address they have; those systemd passes (LISTEN_FDS for this pid) are the listeners
 * when no bind was configured. On failure closes what was opened, writes a message naming
 * the bind into err and returns -1. */
int listeners_open(const asgid_settings *settings, listener_set *set, char *err,
                   size_t err_size);

/* For a reload: opens the binds of settings, reusing (a copy of) the socket of every bind in
 * current with the same value. */
int listeners_open_reusing(const asgid_settings *settings, const listener_set *current,
                           listener_set *set, char *err, size_t err_size);

/* "ASGID_INHERIT_FDS=3,4,..." for a new master that gets the set's sockets as descriptors
 * first_fd, first_fd + 1, ... (malloc'd). */
char *listeners_inherit_variable(const listener_set *set, int first_fd);

/* Closes the sockets and frees the set. */
void listeners_close(listener_set *set);

/* The same at the master's exit; remove_unix_files also removes the Unix socket files. */
void listeners_close_final(listener_set *set, int remove_unix_files);

#endif /* ASGID_LISTENERS_H */
