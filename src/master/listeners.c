/* listeners.c - parse bind values and open the listening sockets. See listeners.h. */
#include "master/listeners.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static int parse_port(const char *text, int *port) {
  char *end;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 0 || value > 65535) return -1;
  *port = (int)value;
  return 0;
}

/* "unix:PATH" or "unix:PATH mode=0660" */
static int parse_unix(const char *rest, char **path, unsigned *mode, char *err,
                      size_t err_size) {
  const char *options = strstr(rest, " mode=");
  size_t path_len = options ? (size_t)(options - rest) : strlen(rest);
  if (path_len == 0) {
    snprintf(err, err_size, "unix: needs a socket path, e.g. unix:/run/asgid/asgid.sock");
    return -1;
  }
  if (options) {
    char *end;
    unsigned long value = strtoul(options + strlen(" mode="), &end, 8);
    if (*end != '\0' || value > 0777 || end == options + strlen(" mode=")) {
      snprintf(err, err_size, "mode must be an octal file mode such as 0660");
      return -1;
    }
    *mode = (unsigned)value;
  }
  *path = strndup(rest, path_len);
  return *path ? 0 : -1;
}

int listener_parse_bind(const char *spec, listener_kind *kind, char **host, int *port,
                        unsigned *mode, char *err, size_t err_size) {
  *mode = 0;
  *port = -1;
  *host = NULL;
  if (strncmp(spec, "unix:", 5) == 0) {
    *kind = LISTENER_UNIX;
    return parse_unix(spec + 5, host, mode, err, err_size);
  }
  *kind = LISTENER_TCP;
  const char *host_start = spec, *host_end, *port_text;
  if (spec[0] == '[') {
    host_start = spec + 1;
    host_end = strchr(host_start, ']');
    if (!host_end || host_end[1] != ':') {
      snprintf(err, err_size, "an IPv6 bind is written [ADDRESS]:PORT, e.g. [::1]:8000");
      return -1;
    }
    port_text = host_end + 2;
  } else {
    host_end = strrchr(spec, ':');
    if (!host_end) {
      snprintf(err, err_size, "expected HOST:PORT, [IPV6]:PORT or unix:PATH");
      return -1;
    }
    port_text = host_end + 1;
  }
  if (parse_port(port_text, port) != 0) {
    snprintf(err, err_size, "port \"%s\" is not a number from 0 to 65535", port_text);
    return -1;
  }
  if (host_end == host_start) {
    snprintf(err, err_size, "missing host before the port (use 0.0.0.0 for every address)");
    return -1;
  }
  *host = strndup(host_start, (size_t)(host_end - host_start));
  return *host ? 0 : -1;
}

/* Resolves host (numeric or a name) to its first address. */
static int resolve(const char *host, int port, struct sockaddr_storage *addr) {
  struct addrinfo hints, *result = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  char port_text[8];
  snprintf(port_text, sizeof port_text, "%d", port);
  int rc = getaddrinfo(host, port_text, &hints, &result);
  if (rc != 0) return rc;
  memcpy(addr, result->ai_addr, result->ai_addrlen);
  freeaddrinfo(result);
  return 0;
}

static int open_tcp(listener *l, const char *host, int port, int backlog, char *err,
                    size_t err_size) {
  struct sockaddr_storage addr;
  int rc = resolve(host, port, &addr);
  if (rc != 0) {
    snprintf(err, err_size, "cannot resolve \"%s\": %s", host, gai_strerror(rc));
    return -1;
  }
  rc = platform_listen_tcp((struct sockaddr *)&addr, backlog, &l->socket);
  if (rc != 0) {
    snprintf(err, err_size, "%s", uv_strerror(rc));
    return -1;
  }
  /* Report the address actually bound: the numeric form, and the port when 0 was asked. */
  socklen_t len = sizeof addr;
  getsockname(l->socket, (struct sockaddr *)&addr, &len);
  char numeric[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET6) {
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&addr;
    uv_ip6_name(a6, numeric, sizeof numeric);
    l->port = ntohs(a6->sin6_port);
  } else {
    struct sockaddr_in *a4 = (struct sockaddr_in *)&addr;
    uv_ip4_name(a4, numeric, sizeof numeric);
    l->port = ntohs(a4->sin_port);
  }
  l->host = strdup(numeric);
  size_t name_size = strlen(numeric) + 16;
  l->name = malloc(name_size);
  if (!l->host || !l->name) return -1;
  snprintf(l->name, name_size, addr.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", numeric,
           l->port);
  return 0;
}

int listeners_open(const asgid_settings *settings, listener_set *set, char *err,
                   size_t err_size) {
  const asgid_string_list *binds = &settings->bind;
  set->count = 0;
  set->items = calloc(binds->count ? binds->count : 1, sizeof *set->items);
  if (!set->items) {
    snprintf(err, err_size, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < binds->count; i++) {
    listener *l = &set->items[set->count];
    l->socket = PLATFORM_INVALID_SOCKET;
    char why[256];
    listener_kind kind;
    char *host;
    int port;
    unsigned mode;
    int rc = listener_parse_bind(binds->items[i], &kind, &host, &port, &mode, why, sizeof why);
    if (rc == 0) {
      l->kind = kind;
      if (kind == LISTENER_UNIX) {
        l->host = host;
        l->port = -1;
        l->name = strdup(host);
        int lrc = platform_listen_unix(host, (int)settings->backlog, mode, &l->socket);
        if (lrc != 0) {
          snprintf(why, sizeof why, "%s", uv_strerror(lrc));
          rc = -1;
        }
      } else {
        rc = open_tcp(l, host, port, (int)settings->backlog, why, sizeof why);
        free(host);
      }
    }
    if (rc != 0) {
      snprintf(err, err_size, "bind %s: %s", binds->items[i], why);
      set->count++; /* so that listeners_close frees this partly filled entry */
      listeners_close(set);
      return -1;
    }
    set->count++;
  }
  return 0;
}

void listeners_close(listener_set *set) {
  for (size_t i = 0; i < set->count; i++) {
    listener *l = &set->items[i];
    platform_close_socket(l->socket);
    free(l->name);
    free(l->host);
  }
  free(set->items);
  set->items = NULL;
  set->count = 0;
}
