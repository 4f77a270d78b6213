/*
 * listener.h - the record of one listening socket, as the master opened it and as a worker
 * serves it.
 *
 * The master opens the sockets (master/listeners.c) and passes them to workers; the protocol
 * side reads the record (its kind, its address for the ASGI scope and the logs). It sits below
 * both, so that neither the worker nor the protocol layer reaches up into the master.
 */
#ifndef ASGID_NET_LISTENER_H
#define ASGID_NET_LISTENER_H

#include <stddef.h>

#include "platform/platform.h"

typedef enum listener_kind { LISTENER_TCP, LISTENER_UNIX } listener_kind;

typedef struct listener {
  listener_kind kind;
  platform_socket socket;
  char *spec; /* the bind value it came from ("fd://N" for a socket systemd passed unasked) */
  char *fdname; /* systemd's FileDescriptorName when systemd passed it, else NULL */
  char *name; /* for logs and the ASGI server address: "127.0.0.1:8000", "[::1]:8000", path */
  char *host; /* TCP: numeric address; Unix: the socket path */
  int port;   /* TCP: the bound port (resolved when 0 was asked); Unix: -1 */
  int proxy_protocol; /* the bind's proxy_protocol option: connections start with a PROXY
                         protocol header (http/proxy_session.c) */
} listener;

typedef struct listener_set {
  listener *items;
  size_t count;
} listener_set;

/* Closes the sockets and frees the set; with remove_unix_files (the master's final exit) also
 * removes the files of the Unix sockets it created itself (not those systemd passed). */
void listener_set_close(listener_set *set, int remove_unix_files);

#endif /* ASGID_NET_LISTENER_H */
