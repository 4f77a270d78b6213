/* listeners.c - parse bind values and open the listening sockets. See listeners.h. */
#include "master/listeners.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "net/port_number.h"
#include "platform/platform.h"

static int parse_port(const char *text, int *port) {
  *port = port_number_parse(text, strlen(text));
  return *port < 0 ? -1 : 0;
}

/* "unix:PATH" (the options are parsed apart) */
static int parse_unix(const char *rest, char **path, char *err, size_t err_size) {
  if (!*rest) {
    snprintf(err, err_size, "unix: needs a socket path, e.g. unix:/run/asgid/asgid.sock");
    return -1;
  }
  *path = strdup(rest);
  return *path ? 0 : -1;
}

/* The words after a bind's address: "mode=0660" (unix: only) and "proxy_protocol". */
static int parse_options(const char *words, int is_unix, bind_options *options, char *err,
                         size_t err_size) {
  while (*words) {
    size_t len = strcspn(words, " ");
    if (len == strlen("proxy_protocol") && strncmp(words, "proxy_protocol", len) == 0) {
      options->proxy_protocol = 1;
    } else if (len >= 5 && strncmp(words, "mode=", 5) == 0) {
      if (!is_unix) {
        snprintf(err, err_size, "mode= is an option of unix: binds only");
        return -1;
      }
      char *end;
      unsigned long value = strtoul(words + 5, &end, 8);
      if (words[5] < '0' || words[5] > '7' || end != words + len || value > 0777) {
        snprintf(err, err_size, "mode must be an octal file mode such as 0660");
        return -1;
      }
      options->mode = (unsigned)value;
    } else if (len > 0) {
      snprintf(err, err_size, "unknown bind option \"%.*s\" (the options are proxy_protocol "
               "and, for unix:, mode=0660)", (int)len, words);
      return -1;
    }
    words += len + (words[len] == ' ');
  }
  return 0;
}

/* Splits a bind value at its first space: the address (malloc'd into *address) and its
 * options. Returns 0, or -1 with err set. */
static int split_bind(const char *spec, char **address, bind_options *options, char *err,
                      size_t err_size) {
  memset(options, 0, sizeof *options);
  size_t len = strcspn(spec, " ");
  *address = NULL;
  if (parse_options(spec + len + (spec[len] == ' '), strncmp(spec, "unix:", 5) == 0, options,
                    err, err_size) != 0)
    return -1;
  *address = platform_strndup(spec, len);
  return *address ? 0 : -1;
}

/* Whether text is all digits ("8001"): a port written without the colon. */
static int all_digits(const char *text) {
  if (!*text) return 0;
  for (; *text; text++)
    if (*text < '0' || *text > '9') return 0;
  return 1;
}

/* A bind's address part: HOST:PORT, [IPV6]:PORT, HOST, :PORT or unix:PATH. */
static int parse_address(const char *spec, listener_kind *kind, char **host, int *port,
                         char *err, size_t err_size) {
  if (strncmp(spec, "unix:", 5) == 0) {
    *kind = LISTENER_UNIX;
    return parse_unix(spec + 5, host, err, err_size);
  }
  *kind = LISTENER_TCP;
  /* As gunicorn reads them: a host without a port is port 8000, and ":PORT" (no host) is
   * every IPv4 address, 0.0.0.0. */
  const char *host_start = spec, *host_end, *port_text;
  if (spec[0] == '[') {
    host_start = spec + 1;
    host_end = strchr(host_start, ']');
    if (!host_end || (host_end[1] != ':' && host_end[1] != '\0')) {
      snprintf(err, err_size, "an IPv6 bind is written [ADDRESS]:PORT, e.g. [::1]:8000");
      return -1;
    }
    port_text = host_end[1] ? host_end + 2 : LISTENER_DEFAULT_PORT;
  } else {
    if (all_digits(spec)) {
      snprintf(err, err_size, "a port alone is not an address: write 127.0.0.1:%s (this "
               "machine only) or :%s (every IPv4 address)", spec, spec);
      return -1;
    }
    host_end = strrchr(spec, ':');
    port_text = host_end ? host_end + 1 : LISTENER_DEFAULT_PORT;
    if (!host_end) host_end = spec + strlen(spec);
  }
  if (parse_port(port_text, port) != 0) {
    snprintf(err, err_size, "port \"%s\" is not a number from 0 to 65535", port_text);
    return -1;
  }
  if (host_end == host_start && spec[0] == '[') {
    snprintf(err, err_size, "missing address between [ and ] (use [::] for every address)");
    return -1;
  }
  if (host_end == host_start && !*spec) {
    snprintf(err, err_size, "expected HOST:PORT, [IPV6]:PORT or unix:PATH");
    return -1;
  }
  *host = host_end == host_start ? strdup("0.0.0.0")
                                 : platform_strndup(host_start, (size_t)(host_end - host_start));
  return *host ? 0 : -1;
}

int listener_parse_bind(const char *spec, listener_kind *kind, char **host, int *port,
                        bind_options *options, char *err, size_t err_size) {
  *port = -1;
  *host = NULL;
  char *address;
  if (split_bind(spec, &address, options, err, err_size) != 0) return -1;
  int rc = parse_address(address, kind, host, port, err, err_size);
  free(address);
  return rc;
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

/* The directory part of a Unix socket path ("." when it has none), malloc'd. */
static char *directory_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return strdup(".");
  return platform_strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

static int check_unix_directory(const char *path, char *err, size_t err_size) {
  char *directory = directory_of(path);
  if (!directory) return -1;
  uv_fs_t req;
  int rc = uv_fs_stat(NULL, &req, directory, NULL);
  int is_directory = rc == 0 && (req.statbuf.st_mode & S_IFMT) == S_IFDIR;
  uv_fs_req_cleanup(&req);
  if (!is_directory)
    snprintf(err, err_size, "the socket's directory %s: %s", directory,
             rc != 0 ? uv_strerror(rc) : "not a directory");
  free(directory);
  return is_directory ? 0 : -1;
}

int listeners_check_bind(const char *spec, char *err, size_t err_size) {
  listener_kind kind;
  char *host;
  int port;
  bind_options options;
  if (strncmp(spec, "fd://", 5) == 0) { /* open_bind says what is wrong at start */
    int rc = split_bind(spec, &host, &options, err, err_size);
    free(host);
    return rc;
  }
  if (listener_parse_bind(spec, &kind, &host, &port, &options, err, err_size) != 0) return -1;
  int rc;
  if (kind == LISTENER_UNIX) {
    rc = check_unix_directory(host, err, err_size);
  } else {
    struct sockaddr_storage addr;
    int resolved = resolve(host, 0, &addr);
    platform_socket probe;
    if (resolved != 0) {
      snprintf(err, err_size, "cannot resolve \"%s\": %s", host, gai_strerror(resolved));
      rc = -1;
    } else if ((rc = platform_listen_tcp((struct sockaddr *)&addr, 1, 0, &probe)) != 0) {
      snprintf(err, err_size, "%s cannot be bound on this machine: %s", host, uv_strerror(rc));
      rc = -1;
    } else {
      platform_close_socket(probe);
    }
  }
  free(host);
  return rc;
}

/* Sockets handed down by an old master (USR2) or by systemd, or in a reload copies of the
 * current systemd sockets, not yet claimed by a bind. */
#define MAX_INHERITED 64
typedef struct inherited {
  platform_socket sockets[MAX_INHERITED]; /* PLATFORM_INVALID_SOCKET once claimed */
  char *names[MAX_INHERITED];             /* systemd's FileDescriptorName, NULL: not systemd's */
  size_t count;
  int from_systemd;                       /* some socket is systemd's */
} inherited;

static void parse_fd_list(const char *text, inherited *in) {
  while (text && *text && in->count < MAX_INHERITED) {
    char *end;
    long fd = strtol(text, &end, 10);
    if (end == text) break;
    in->sockets[in->count++] = (platform_socket)fd;
    text = *end == ',' ? end + 1 : end;
  }
}

/* Names the sockets from a LISTEN_FDNAMES-style list ("web:admin"); a socket without a name
 * there gets fallback (NULL: not systemd's). */
static void parse_names(const char *text, inherited *in, const char *fallback) {
  for (size_t i = 0; i < in->count; i++) {
    size_t len = text ? strcspn(text, ":") : 0;
    const char *name = len ? text : fallback;
    in->names[i] = name ? platform_strndup(name, len ? len : strlen(name)) : NULL;
    in->from_systemd |= in->names[i] != NULL;
    if (text) text = text[len] == ':' ? text + len + 1 : NULL;
  }
}

static void collect_inherited(inherited *in) {
  memset(in, 0, sizeof *in);
  const char *from_master = getenv(LISTENERS_INHERIT_ENV);
  if (from_master) {
    parse_fd_list(from_master, in);
    parse_names(getenv(LISTENERS_INHERIT_NAMES_ENV), in, NULL);
    uv_os_unsetenv(LISTENERS_INHERIT_ENV); /* not for the workers or their children */
    uv_os_unsetenv(LISTENERS_INHERIT_NAMES_ENV);
    return;
  }
  const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
  if (pid && fds && strtol(pid, NULL, 10) == (long)uv_os_getpid()) {
    long n = strtol(fds, NULL, 10);
    for (long i = 0; i < n && in->count < MAX_INHERITED; i++)
      in->sockets[in->count++] = (int)(3 + i);
    /* "unknown" is what systemd's own sd_listen_fds_with_names reports without names. */
    parse_names(getenv("LISTEN_FDNAMES"), in, "unknown");
    in->from_systemd = 1;
    uv_os_unsetenv("LISTEN_PID");
    uv_os_unsetenv("LISTEN_FDS");
    uv_os_unsetenv("LISTEN_FDNAMES");
  }
}

/* Closes the sockets no bind claimed (systemd keeps its own copies) and frees the names. */
static void release_inherited(inherited *in) {
  for (size_t i = 0; i < in->count; i++) {
    if (in->sockets[i] != PLATFORM_INVALID_SOCKET) platform_close_socket(in->sockets[i]);
    free(in->names[i]);
  }
  in->count = 0;
}

/* Fills l from an already-listening socket (fdname: systemd's name for it, or NULL). Returns
 * 0 or -1 with the reason in err. */
static int adopt(listener *l, platform_socket s, const char *fdname, char *err,
                 size_t err_size) {
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
  if (fdname && !(l->fdname = strdup(fdname))) return -1;
  if (!l->host || !l->name) return -1;
  if (is_unix)
    snprintf(l->name, name_size, "%s", host);
  else
    snprintf(l->name, name_size, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
  return 0;
}

/* Adopts inherited socket i into l: it is no longer the inherited set's to close. */
static int take(listener *l, inherited *in, size_t i, char *err, size_t err_size) {
  platform_socket s = in->sockets[i];
  in->sockets[i] = PLATFORM_INVALID_SOCKET;
  if (adopt(l, s, in->names[i], err, err_size) == 0) return 0;
  if (l->socket != s) platform_close_socket(s); /* else closing the set closes it */
  return -1;
}

/* The index of the inherited socket listening where a bind asks, or -1. */
static long find_by_address(const inherited *in, listener_kind kind, const char *host,
                            int port) {
  struct sockaddr_storage wanted;
  if (kind == LISTENER_TCP && resolve(host, port, &wanted) != 0) return -1;
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
    if (same) return (long)i;
  }
  return -1;
}

/* N for a bind value "fd://N", -1 for any other value (fd://NAME included). */
static long fd_number(const char *spec) {
  if (strncmp(spec, "fd://", 5) != 0 || !isdigit((unsigned char)spec[5])) return -1;
  char *end;
  long fd = strtol(spec + 5, &end, 10);
  return *end && *end != ' ' ? -1 : fd; /* options may follow */
}

/* Opens a new listening socket for a parsed address into l. Returns 0 or -1 with err set
 * (l's strings are freed with its set). */
static int open_new(listener *l, listener_kind kind, const char *host, int port, unsigned mode,
                    int backlog, int reuse_port, char *err, size_t err_size) {
  l->kind = kind;
  if (kind == LISTENER_TCP) return open_tcp(l, host, port, backlog, reuse_port, err, err_size);
  l->port = -1;
  l->name = strdup(host);
  int rc = platform_listen_unix(host, backlog, mode, &l->socket);
  if (rc != 0) snprintf(err, err_size, "%s", uv_strerror(rc));
  /* host names the file only once it is ours: closing the set removes it */
  if (rc == 0) l->host = strdup(host);
  return rc == 0 && l->name && l->host ? 0 : -1;
}

/* Opens (or adopts) the listener for the address part of a bind value (other than
 * fd://NAME) and its options. Returns 0 or -1 with err set. */
static int open_bind(listener *l, const char *spec, const bind_options *options,
                     const asgid_settings *settings, inherited *in, char *err,
                     size_t err_size) {
  if (strncmp(spec, "fd://", 5) == 0) {
    long fd = fd_number(spec);
    if (fd < 0) {
      snprintf(err, err_size, "fd:// takes a descriptor number or a systemd socket name, "
                              "e.g. fd://3 or fd://web");
      return -1;
    }
    for (size_t i = 0; i < in->count; i++)
      if (in->sockets[i] == (platform_socket)fd) return take(l, in, i, err, err_size);
    return adopt(l, (platform_socket)fd, NULL, err, err_size);
  }
  listener_kind kind;
  char *host;
  int port;
  if (parse_address(spec, &kind, &host, &port, err, err_size) != 0) return -1;
  long reused = find_by_address(in, kind, host, port);
  int rc = reused >= 0 ? take(l, in, (size_t)reused, err, err_size)
                       : open_new(l, kind, host, port, options->mode, (int)settings->backlog,
                                  settings->reuse_port, err, err_size);
  free(host);
  return rc;
}

int listener_check_own_address(const char *spec, char *err, size_t err_size) {
  if (strncmp(spec, "fd://", 5) == 0) {
    snprintf(err, err_size, "takes HOST:PORT or unix:PATH, not a socket passed as fd://");
    return -1;
  }
  char *address;
  bind_options options;
  if (split_bind(spec, &address, &options, err, err_size) != 0) return -1;
  free(address);
  if (options.proxy_protocol) {
    snprintf(err, err_size, "the metrics listener takes no proxy_protocol");
    return -1;
  }
  return 0;
}

int listener_open_address(listener *l, const char *spec, int backlog, int reuse_port,
                          platform_socket offered, char *err, size_t err_size) {
  inherited in;
  memset(&in, 0, sizeof in);
  if (offered != PLATFORM_INVALID_SOCKET) in.sockets[in.count++] = offered;
  listener_kind kind;
  char *host = NULL;
  int port;
  bind_options options;
  int rc = -1;
  if (listener_check_own_address(spec, err, err_size) == 0 &&
      listener_parse_bind(spec, &kind, &host, &port, &options, err, err_size) == 0) {
    long reused = find_by_address(&in, kind, host, port);
    rc = reused >= 0 ? take(l, &in, (size_t)reused, err, err_size)
                     : open_new(l, kind, host, port, options.mode, backlog, reuse_port, err,
                                err_size);
  }
  free(host);
  release_inherited(&in); /* closes the offered socket unless taken */
  return rc;
}

/* The next listener of set, for bind value spec; NULL when out of memory. */
static listener *next_listener(listener_set *set, const char *spec) {
  listener *l = &set->items[set->count++]; /* counted now: closing the set frees it */
  l->socket = PLATFORM_INVALID_SOCKET;
  l->spec = strdup(spec);
  return l->spec ? l : NULL;
}

/* A bind fd://NAME: every systemd socket with that FileDescriptorName (a socket unit with
 * several ListenStream= lines names them all alike). Returns 0 or -1 with err set. */
static int claim_named(listener_set *set, const char *spec, const char *name, inherited *in,
                       char *err, size_t err_size) {
  size_t found = 0;
  for (size_t i = 0; i < in->count; i++) {
    if (in->sockets[i] == PLATFORM_INVALID_SOCKET || !in->names[i] ||
        strcmp(in->names[i], name) != 0)
      continue;
    listener *l = next_listener(set, spec);
    if (!l || take(l, in, i, err, err_size) != 0) return -1;
    found++;
  }
  if (found) return 0;
  int used = snprintf(err, err_size, "systemd passed no socket named \"%s\" (its names:", name);
  int named = 0;
  for (size_t i = 0; i < in->count && used > 0 && (size_t)used < err_size; i++)
    if (in->names[i]) {
      used += snprintf(err + used, err_size - (size_t)used, " %s", in->names[i]);
      named = 1;
    }
  if (used > 0 && (size_t)used < err_size)
    snprintf(err + used, err_size - (size_t)used, "%s)", named ? "" : " none");
  return -1;
}

/* Whether two bind values name the same socket: the same address and mode (a changed
 * proxy_protocol keeps the socket). */
static int same_socket(const char *a, const char *b) {
  char *address_a = NULL, *address_b = NULL, err[8];
  bind_options options_a, options_b;
  int same = split_bind(a, &address_a, &options_a, err, sizeof err) == 0 &&
             split_bind(b, &address_b, &options_b, err, sizeof err) == 0 &&
             strcmp(address_a, address_b) == 0 && options_a.mode == options_b.mode;
  free(address_a);
  free(address_b);
  return same;
}

static int open_all(const asgid_settings *settings, const listener_set *current, inherited *in,
                    listener_set *set, char *err, size_t err_size) {
  const asgid_string_list *binds = &settings->bind;
  /* systemd's sockets stand in for the default bind; explicit binds claim them. */
  int systemd_only = in->from_systemd && settings->source.bind == ASGID_SOURCE_DEFAULT;
  size_t n = systemd_only ? in->count : binds->count;
  /* At most one listener per bind, plus every inherited socket or current one reused. */
  size_t capacity = n + in->count + (current ? current->count : 0);
  set->count = 0;
  set->items = calloc(capacity ? capacity : 1, sizeof *set->items);
  if (!set->items) {
    snprintf(err, err_size, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    char why[512] = "out of memory";
    int rc = 0;
    char spec[32];
    const char *bind = systemd_only ? spec : binds->items[i];
    if (systemd_only) {
      if (!in->names[i]) continue; /* an old master's socket that systemd did not pass */
      snprintf(spec, sizeof spec, "fd://%d", (int)in->sockets[i]);
    }
    char *address = NULL;
    bind_options options;
    if (split_bind(bind, &address, &options, why, sizeof why) != 0) rc = -1;
    size_t first = set->count, reused = 0;
    for (size_t j = 0; current && j < current->count && rc == 0; j++) {
      const listener *same = &current->items[j];
      if (!same_socket(same->spec, bind)) continue;
      /* a reload keeps the socket(s) of an unchanged bind (proxy_protocol may change) */
      listener *l = next_listener(set, bind);
      rc = l ? adopt(l, platform_dup_socket(same->socket), same->fdname, why, sizeof why) : -1;
      reused++;
    }
    if (rc == 0 && !reused) {
      if (systemd_only) {
        listener *l = next_listener(set, bind);
        rc = l ? take(l, in, i, why, sizeof why) : -1;
      } else if (strncmp(address, "fd://", 5) == 0 && address[5] && fd_number(address) < 0) {
        rc = claim_named(set, bind, address + 5, in, why, sizeof why);
      } else {
        listener *l = next_listener(set, bind);
        rc = l ? open_bind(l, address, &options, settings, in, why, sizeof why) : -1;
      }
    }
    free(address);
    for (size_t k = first; k < set->count; k++)
      set->items[k].proxy_protocol = options.proxy_protocol;
    if (rc != 0) {
      snprintf(err, err_size, "bind %s: %s", bind, why);
      listener_set_close(set, 0);
      return -1;
    }
  }
  return 0;
}

int listeners_open(const asgid_settings *settings, listener_set *set, char *err,
                   size_t err_size) {
  inherited in;
  collect_inherited(&in);
  int rc = open_all(settings, NULL, &in, set, err, err_size);
  release_inherited(&in);
  return rc;
}

int listeners_open_reusing(const asgid_settings *settings, const listener_set *current,
                           listener_set *set, char *err, size_t err_size) {
  /* systemd's environment was consumed at start: its sockets come from the current set. */
  inherited offered;
  memset(&offered, 0, sizeof offered);
  for (size_t i = 0; i < current->count && offered.count < MAX_INHERITED; i++) {
    const listener *l = &current->items[i];
    if (!l->fdname) continue;
    platform_socket copy = platform_dup_socket(l->socket);
    char *name = strdup(l->fdname);
    if (copy == PLATFORM_INVALID_SOCKET || !name) {
      if (copy != PLATFORM_INVALID_SOCKET) platform_close_socket(copy);
      free(name);
      continue; /* a bind that needs it reports it missing */
    }
    offered.sockets[offered.count] = copy;
    offered.names[offered.count++] = name;
    offered.from_systemd = 1;
  }
  int rc = open_all(settings, current, &offered, set, err, err_size);
  release_inherited(&offered);
  return rc;
}

/* Appends text to the malloc'd string *out (of *size bytes). Returns 0 or -1. */
static int append(char **out, size_t *size, const char *text) {
  size_t used = strlen(*out), len = strlen(text);
  if (used + len + 1 > *size) {
    size_t bigger = (*size + len) * 2;
    char *grown = realloc(*out, bigger);
    if (!grown) return -1;
    *out = grown;
    *size = bigger;
  }
  memcpy(*out + used, text, len + 1);
  return 0;
}

int listeners_inherit(const listener_set *set, int *child_fds, char *vars[2]) {
  int top = 2; /* the highest descriptor chosen so far; 0-2 stay stdio */
  for (size_t i = 0; i < set->count; i++) {
    long fd = fd_number(set->items[i].spec);
    child_fds[i] = -1;
    /* Bounded: the new master is spawned with that many stdio entries. */
    for (size_t j = 0; fd >= 3 && fd <= 1024 && j < i; j++)
      if (child_fds[j] == fd) fd = -1; /* the same fd:// twice: one keeps the number */
    if (fd >= 3 && fd <= 1024) child_fds[i] = (int)fd;
    if (child_fds[i] > top) top = child_fds[i];
  }
  for (size_t i = 0; i < set->count; i++)
    if (child_fds[i] < 0) child_fds[i] = ++top;
  size_t sizes[2] = {64, 64};
  vars[0] = malloc(sizes[0]);
  vars[1] = malloc(sizes[1]);
  int rc = vars[0] && vars[1] ? 0 : -1;
  if (rc == 0) {
    snprintf(vars[0], sizes[0], "%s=", LISTENERS_INHERIT_ENV);
    snprintf(vars[1], sizes[1], "%s=", LISTENERS_INHERIT_NAMES_ENV);
  }
  for (size_t i = 0; rc == 0 && i < set->count; i++) {
    char fd[16];
    snprintf(fd, sizeof fd, "%s%d", i ? "," : "", child_fds[i]);
    if (append(&vars[0], &sizes[0], fd) != 0 || (i && append(&vars[1], &sizes[1], ":") != 0) ||
        append(&vars[1], &sizes[1], set->items[i].fdname ? set->items[i].fdname : "") != 0)
      rc = -1;
  }
  if (rc != 0) {
    free(vars[0]);
    free(vars[1]);
    vars[0] = vars[1] = NULL;
    return -1;
  }
  return top + 1;
}
