/* listen.c - POSIX listening sockets. See platform.h. */
#include "platform/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int listen_on(int fd, const struct sockaddr *addr, socklen_t len, int backlog) {
  if (bind(fd, addr, len) != 0 || listen(fd, backlog) != 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  return 0;
}

int platform_listen_tcp(const struct sockaddr *addr, int backlog, int reuse_port,
                        platform_socket *out) {
  int family = addr->sa_family;
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int on = 1;
  /* Restarted servers must rebind while old connections sit in TIME_WAIT. */
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  socklen_t len = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
  int rc = listen_on(fd, addr, len, backlog);
  if (rc != 0) return rc;
  *out = fd;
  return 0;
}

int platform_listen_unix(const char *path, int backlog, unsigned mode, platform_socket *out) {
  struct sockaddr_un sun;
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof sun.sun_path) return -ENAMETOOLONG;
  strcpy(sun.sun_path, path);

  int rc = platform_unlink_stale_socket(path);
  if (rc != 0 && rc != -ENOENT) return rc;

  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  rc = listen_on(fd, (const struct sockaddr *)&sun, sizeof sun, backlog);
  if (rc != 0) return rc;
  if (mode != 0 && (rc = platform_chmod_socket(path, mode)) != 0) {
    close(fd);
    return rc;
  }
  *out = fd;
  return 0;
}

void platform_close_socket(platform_socket s) {
  if (s >= 0) close(s);
}

platform_socket platform_dup_socket(platform_socket s) {
  int fd = fcntl(s, F_DUPFD_CLOEXEC, 0);
  return fd < 0 ? PLATFORM_INVALID_SOCKET : fd;
}

int platform_describe_listener(platform_socket s, int *is_unix, char *host, size_t host_size,
                               int *port) {
  int accepting = 0;
  socklen_t optlen = sizeof accepting;
  if (getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &optlen) != 0) return -errno;
  if (!accepting) return -EINVAL;
  struct sockaddr_storage addr;
  socklen_t len = sizeof addr;
  if (getsockname(s, (struct sockaddr *)&addr, &len) != 0) return -errno;
  *is_unix = addr.ss_family == AF_UNIX;
  if (addr.ss_family == AF_UNIX) {
    snprintf(host, host_size, "%s", ((struct sockaddr_un *)&addr)->sun_path);
    *port = -1;
  } else if (addr.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&addr)->sin6_addr, host, (socklen_t)host_size);
    *port = ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
  } else if (addr.ss_family == AF_INET) {
    inet_ntop(AF_INET, &((struct sockaddr_in *)&addr)->sin_addr, host, (socklen_t)host_size);
    *port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
  } else {
    return -EAFNOSUPPORT;
  }
  return 0;
}
