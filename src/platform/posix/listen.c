/* listen.c - POSIX listening sockets. See platform.h. */
#include "platform/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
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

int platform_listen_tcp(const struct sockaddr *addr, int backlog, platform_socket *out) {
  int family = addr->sa_family;
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int on = 1;
  /* Restarted servers must rebind while old connections sit in TIME_WAIT. */
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
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
