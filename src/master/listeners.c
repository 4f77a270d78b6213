/* listeners.c - parse bind values and open the listening sockets. See listeners.h. */
#include "master/listeners.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "platform/platform.h"

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

static int open_tcp(listener *l, const char *host, int port, int backlog, int reuse_port,
                    char *err, size_t err_size) {
  struct sockaddr_storage addr;
  int rc = resolve(host, port, &addr);
  if (rc != 0) {
    snprintf(err, err_size, "cannot resolve \"%s\": %s", host, gai_strerror(rc));
    return -1;
  }
  rc = platform_listen_tcp((struct sockaddr *)&addr, backlog, reuse_port, &l->socket);
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

/* Sockets handed down by an old master (USR2) or by systemd, not yet claimed by a bind. */
typedef struct inherited {
  platform_socket sockets[64];
  size_t count;
  int from_systemd;
} inherited;

static void parse_fd_list(const char *text, inherited *in) {
  while (text && *text && in->count < 64) {
    char *end;
    long fd = strtol(text, &end, 10);
    if (end == text) break;
    in->sockets[in->count++] = (platform_socket)fd;
    text = *end == ',' ? end + 1 : end;
  }
}

static void collect_inherited(inherited *in) {
  memset(in, 0, sizeof *in);
  const char *from_master = getenv(LISTENERS_INHERIT_ENV);
  if (from_master) {
    parse_fd_list(from_master, in);
    unsetenv(LISTENERS_INHERIT_ENV); /* not for the workers or their children */
    return;
  }
  const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
  if (pid && fds && strtol(pid, NULL, 10) == (long)uv_os_getpid()) {
    long n = strtol(fds, NULL, 10);
    for (long i = 0; i < n && in->count < 64; i++) in->sockets[in->count++] = (int)(3 + i);
    in->from_systemd = 1;
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
  }
}

/* Fills l from an already-listening socket. Returns 0 or -1 with the reason in err. */
static int adopt(listener *l, platform_socket s, char *err, size_t err_size) {
  char host[256];
  int is_unix, port;
  int rc = platform_describe_listener(s, &is_unix, host, sizeof host, &port);
  if (rc != 0) {
    snprintf(err, err_size, "descriptor %d is not a listening socket: %s", (int)s,
             uv_strerror(rc));
    return -1;
  }
  l->socket = s;
  l->kind = is_unix ? LISTENER_UNIX : LISTENER_TCP;
  l->port = port;
  l->host = strdup(host);
  size_t name_size = strlen(host) + 16;
  l->name = malloc(name_size);
  if (!l->host || !l->name) return -1;
  if (is_unix)
    snprintf(l->name, name_size, "%s", host);
  else
    snprintf(l->name, name_size, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
  return 0;
}

/* Takes the inherited socket listening where spec asks, if any. */
static platform_socket claim_inherited(inherited *in, listener_kind kind, const char *host,
                                       int port) {
  struct sockaddr_storage wanted;
  if (kind == LISTENER_TCP && resolve(host, port, &wanted) != 0) return PLATFORM_INVALID_SOCKET;
  char wanted_host[INET6_ADDRSTRLEN] = "";
  if (kind == LISTENER_TCP) {
    if (wanted.ss_family == AF_INET6)
      uv_ip6_name((struct sockaddr_in6 *)&wanted, wanted_host, sizeof wanted_host);
    else
      uv_ip4_name((struct sockaddr_in *)&wanted, wanted_host, sizeof wanted_host);
  }
  for (size_t i = 0; i < in->count; i++) {
    char have[256];
    int is_unix, have_port;
    if (in->sockets[i] == PLATFORM_INVALID_SOCKET ||
        platform_describe_listener(in->sockets[i], &is_unix, have, sizeof have, &have_port) != 0)
      continue;
    int same = kind == LISTENER_UNIX ? is_unix && strcmp(have, host) == 0
                                     : !is_unix && have_port == port &&
                                           strcmp(have, wanted_host) == 0;
    if (same) {
      platform_socket s = in->sockets[i];
      in->sockets[i] = PLATFORM_INVALID_SOCKET;
      return s;
    }
  }
  return PLATFORM_INVALID_SOCKET;
}

/* Opens (or adopts) the listener for one bind value. Returns 0 or -1 with err set. */
static int open_bind(listener *l, const char *spec, const asgid_settings *settings,
                     inherited *in, char *err, size_t err_size) {
  l->socket = PLATFORM_INVALID_SOCKET;
  l->spec = strdup(spec);
  if (!l->spec) return -1;
  if (strncmp(spec, "fd://", 5) == 0) {
    char *end;
    long fd = strtol(spec + 5, &end, 10);
    if (end == spec + 5 || *end || fd < 0) {
      snprintf(err, err_size, "fd:// takes a descriptor number, e.g. fd://3");
      return -1;
    }
    return adopt(l, (platform_socket)fd, err, err_size);
  }
  listener_kind kind;
  char *host;
  int port;
  unsigned mode;
  if (listener_parse_bind(spec, &kind, &host, &port, &mode, err, err_size) != 0) return -1;
  platform_socket reused = claim_inherited(in, kind, host, port);
  int rc;
  if (reused != PLATFORM_INVALID_SOCKET) {
    rc = adopt(l, reused, err, err_size);
  } else if (kind == LISTENER_UNIX) {
    l->kind = kind;
    l->port = -1;
    l->name = strdup(host);
    rc = platform_listen_unix(host, (int)settings->backlog, mode, &l->socket);
    if (rc != 0) snprintf(err, err_size, "%s", uv_strerror(rc));
    if (rc == 0) {
      l->host = host;
      host = NULL;
    }
    rc = rc == 0 && l->name ? 0 : -1;
  } else {
    l->kind = kind;
    rc = open_tcp(l, host, port, (int)settings->backlog, settings->reuse_port, err, err_size);
  }
  free(host);
  return rc;
}

static int open_all(const asgid_settings *settings, const listener_set *current, inherited *in,
                    listener_set *set, char *err, size_t err_size) {
  const asgid_string_list *binds = &settings->bind;
  /* systemd's sockets stand in for the default bind; explicit binds claim them by address. */
  int systemd_only = in->from_systemd && settings->source.bind == ASGID_SOURCE_DEFAULT;
  size_t n = systemd_only ? in->count : binds->count;
  set->count = 0;
  set->items = calloc(n ? n : 1, sizeof *set->items);
  if (!set->items) {
    snprintf(err, err_size, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    listener *l = &set->items[set->count++];
    char why[256] = "out of memory";
    int rc = -1;
    char spec[32];
    const char *bind = binds->items[i < binds->count ? i : 0];
    if (systemd_only) {
      snprintf(spec, sizeof spec, "fd://%d", (int)in->sockets[i]);
      bind = spec;
      in->sockets[i] = PLATFORM_INVALID_SOCKET;
    }
    const listener *same = NULL;
    for (size_t j = 0; current && j < current->count && !same; j++)
      if (strcmp(current->items[j].spec, bind) == 0) same = &current->items[j];
    if (same) { /* a reload keeps the socket of an unchanged bind */
      l->spec = strdup(bind);
      rc = l->spec ? adopt(l, platform_dup_socket(same->socket), why, sizeof why) : -1;
    } else {
      rc = open_bind(l, bind, settings, in, why, sizeof why);
    }
    if (rc != 0) {
      snprintf(err, err_size, "bind %s: %s", bind, why);
      listeners_close(set);
      return -1;
    }
  }
  /* An old master's sockets that no bind wants any more. */
  for (size_t i = 0; i < in->count; i++)
    if (!in->from_systemd) platform_close_socket(in->sockets[i]);
  return 0;
}

int listeners_open(const asgid_settings *settings, listener_set *set, char *err,
                   size_t err_size) {
  inherited in;
  collect_inherited(&in);
  return open_all(settings, NULL, &in, set, err, err_size);
}

int listeners_open_reusing(const asgid_settings *settings, const listener_set *current,
                           listener_set *set, char *err, size_t err_size) {
  inherited none;
  memset(&none, 0, sizeof none);
  return open_all(settings, current, &none, set, err, err_size);
}

char *listeners_inherit_variable(const listener_set *set, int first_fd) {
  size_t size = sizeof LISTENERS_INHERIT_ENV + 1 + set->count * 12;
  char *text = malloc(size);
  if (!text) return NULL;
  size_t used = (size_t)snprintf(text, size, "%s=", LISTENERS_INHERIT_ENV);
  for (size_t i = 0; i < set->count; i++)
    used += (size_t)snprintf(text + used, size - used, "%s%d", i ? "," : "",
                             first_fd + (int)i);
  return text;
}

static void close_set(listener_set *set, int remove_unix_files) {
  for (size_t i = 0; i < set->count; i++) {
    listener *l = &set->items[i];
    platform_close_socket(l->socket);
    if (remove_unix_files && l->kind == LISTENER_UNIX && l->host &&
        strncmp(l->spec ? l->spec : "", "fd://", 5) != 0)
      platform_unlink_stale_socket(l->host);
    free(l->spec);
    free(l->name);
    free(l->host);
  }
  free(set->items);
  set->items = NULL;
  set->count = 0;
}

void listeners_close(listener_set *set) { close_set(set, 0); }

void listeners_close_final(listener_set *set, int remove_unix_files) {
  close_set(set, remove_unix_files);
}
