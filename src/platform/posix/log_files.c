/* log_files.c - the logs' descriptors on POSIX: open(2) with O_APPEND, dup2(2), write(2). See
 * platform.h. */
#include "platform/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int platform_log_open(const char *path) {
  int fd;
  do {
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
              S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH);
  } while (fd < 0 && errno == EINTR);
  return fd < 0 ? -errno : fd;
}

int platform_log_replace(int into, int from) {
  int err = dup2(from, into) < 0 ? -errno : 0;
  /* dup2 clears close-on-exec on the target; set it again (the window is harmless: at worst a
   * process spawned at this instant inherits an append-only log descriptor). */
  if (err == 0) (void)fcntl(into, F_SETFD, FD_CLOEXEC);
  close(from);
  return err;
}

void platform_log_close(int fd) { close(fd); }

void platform_log_write(int fd, const char *bytes, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, bytes, len);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    bytes += n;
    len -= (size_t)n;
  }
}
