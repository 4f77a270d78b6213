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

/* Opens every bind of the settings. On failure closes what was opened, writes a message
 * naming the bind into err and returns -1. */
int listeners_open(const asgid_settings *settings, listener_set *set, char *err,
                   size_t err_size);

/* Closes the sockets and frees the set. */
void listeners_close(listener_set *set);

#endif /* ASGID_LISTENERS_H */
