/* notify.c - POSIX service-manager notification: systemd's sd_notify protocol written here
 * (one datagram to the AF_UNIX socket NOTIFY_SOCKET names), so asgid needs no libsystemd.
 * See platform.h. */
#include "platform/platform.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_un manager;
static socklen_t manager_len; /* 0: no service manager to tell */
static char notify_variable[sizeof "NOTIFY_SOCKET=" + sizeof manager.sun_path];
static char watchdog_variable[sizeof "WATCHDOG_USEC=" + 24];

/* "/path" or "@abstract" (the '@' stands for the leading NUL byte of an abstract name). */
static void parse_socket(const char *value) {
  size_t len = value ? strlen(value) : 0;
  if (len < 2 || len > sizeof manager.sun_path || (value[0] != '/' && value[0] != '@')) return;
  manager.sun_family = AF_UNIX;
  memcpy(manager.sun_path, value, len);
  if (value[0] == '@') manager.sun_path[0] = '\0';
  /* An abstract name is exactly its bytes: no terminating NUL may count in the length. */
  manager_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
  snprintf(notify_variable, sizeof notify_variable, "NOTIFY_SOCKET=%s", value);
}

uint64_t platform_notify_init(void) {
  parse_socket(getenv("NOTIFY_SOCKET"));
  uint64_t watchdog = 0;
  const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
  if (usec) {
    char *end;
    unsigned long long value = strtoull(usec, &end, 10);
    /* WATCHDOG_PID names the process systemd watches; a wrapper that forked us keeps it. */
    int ours = !pid || strtol(pid, NULL, 10) == (long)getpid();
    if (*usec && !*end && value > 0 && ours) {
      watchdog = value;
      snprintf(watchdog_variable, sizeof watchdog_variable, "WATCHDOG_USEC=%llu", value);
    }
  }
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
  return watchdog;
}

int platform_notify(const char *state) {
  if (!manager_len) return 0;
  /* A socket per message: notifications are rare, and no descriptor is left for workers to
   * inherit. */
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  /* MSG_DONTWAIT: a manager that does not read must not stall the master's loop. */
  ssize_t sent = sendto(fd, state, strlen(state), MSG_DONTWAIT | MSG_NOSIGNAL,
                        (const struct sockaddr *)&manager, manager_len);
  int rc = sent < 0 ? -errno : 0;
  close(fd);
  return rc;
}

int platform_notify_reloading(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  char state[64];
  snprintf(state, sizeof state, "RELOADING=1\nMONOTONIC_USEC=%llu",
           (unsigned long long)now.tv_sec * 1000000ull + (unsigned long long)now.tv_nsec / 1000);
  return platform_notify(state);
}

size_t platform_notify_environment(const char *vars[2]) {
  size_t n = 0;
  if (manager_len) vars[n++] = notify_variable;
  if (watchdog_variable[0]) vars[n++] = watchdog_variable;
  return n;
}
