/* control_pipe.c - the control endpoint on POSIX: a Unix socket beside the pidfile, mode 0600,
 * and the peer's credentials checked on both ends. See platform.h. */
#include "platform/platform.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

/* The longest path a Unix socket address holds (107 bytes on Linux). */
#define SOCKET_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

int platform_control_endpoint(const char *pidfile, long pid, char *name, size_t name_size,
                              char *why, size_t why_size) {
  const char *slash = strrchr(pidfile, '/');
  int dir_len = slash ? (int)(slash - pidfile) + 1 : 0; /* with its '/' */
  int n = snprintf(name, name_size, "%.*sasgid-control-%ld.sock", dir_len, pidfile, pid);
  if (n < 0 || (size_t)n >= name_size || (size_t)n > SOCKET_PATH_MAX) {
    snprintf(why, why_size,
             "the control socket path %.*sasgid-control-%ld.sock is %d bytes, more than the "
             "%zu a Unix socket allows: put the pidfile in a shorter directory",
             dir_len, pidfile, pid, n, SOCKET_PATH_MAX);
    return -1;
  }
  return 0;
}

int platform_control_listen(uv_pipe_t *server, const char *name) {
  struct sockaddr_un address;
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  if (strlen(name) > SOCKET_PATH_MAX) return UV_ENAMETOOLONG;
  memcpy(address.sun_path, name, strlen(name));
  /* Only a socket is replaced: the path has our own pid in it, so a socket there was left by
   * a master that crashed (pids are reused), never one that still listens. */
  int rc = platform_unlink_stale_socket(name);
  if (rc != 0 && rc != -ENOENT) return rc == -EEXIST ? UV_EEXIST : rc;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  /* bind() creates the file with the umask's mode: 0600 from the first instant, rather than a
   * chmod after it (a window where another user could connect). The master runs no other
   * thread that creates files meanwhile. */
  mode_t previous = umask(0177);
  rc = bind(fd, (struct sockaddr *)&address, sizeof address) == 0 ? 0 : -errno;
  umask(previous);
  if (rc == 0 && listen(fd, 16) != 0) {
    rc = -errno;
    unlink(name);
  }
  if (rc != 0) {
    close(fd);
    return rc;
  }
  /* Opened rather than bound by libuv: a uv_pipe_t that bound a path unlinks it when closed,
   * and every forked worker closes the master's handles, so the first one would remove the
   * master's endpoint. */
  rc = uv_pipe_open(server, fd);
  if (rc != 0) {
    close(fd);
    unlink(name);
  }
  return rc;
}

void platform_control_remove(const char *name) { platform_unlink_stale_socket(name); }

/* The peer's user (and, where the system tells, its pid; else 0). Returns 0 or -1. */
static int peer_of(uv_pipe_t *connection, uid_t *uid, long *pid) {
  uv_os_fd_t fd;
  if (uv_fileno((uv_handle_t *)connection, &fd) != 0) return -1;
#ifdef SO_PEERCRED
  struct ucred credentials;
  socklen_t len = sizeof credentials;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &len) != 0) return -1;
  *uid = credentials.uid;
  *pid = (long)credentials.pid;
#else
  gid_t gid;
  if (getpeereid(fd, uid, &gid) != 0) return -1;
  *pid = 0;
#endif
  return 0;
}

int platform_control_check_client(uv_pipe_t *connection, char *why, size_t why_size) {
  uid_t uid;
  long pid;
  if (peer_of(connection, &uid, &pid) != 0) {
    snprintf(why, why_size, "the client's credentials cannot be read: %s", strerror(errno));
    return -1;
  }
  if (uid == geteuid() || uid == 0) return 0;
  snprintf(why, why_size, "uid %ld (pid %ld) is neither the master's user (uid %ld) nor root",
           (long)uid, pid, (long)geteuid());
  return -1;
}

int platform_control_check_server(uv_pipe_t *connection, long pid, char *why,
                                  size_t why_size) {
  uid_t uid;
  long peer_pid;
  if (peer_of(connection, &uid, &peer_pid) != 0) {
    snprintf(why, why_size, "the server's credentials cannot be read: %s", strerror(errno));
    return -1;
  }
  /* root may command a master that switched to its user (user = ...). */
  if (uid != geteuid() && uid != 0 && geteuid() != 0) {
    snprintf(why, why_size, "the endpoint belongs to uid %ld, neither yours (uid %ld) nor root",
             (long)uid, (long)geteuid());
    return -1;
  }
  if (peer_pid != 0 && peer_pid != pid) {
    snprintf(why, why_size, "the endpoint is held by pid %ld, not by the master (pid %ld)",
             peer_pid, pid);
    return -1;
  }
  return 0;
}
