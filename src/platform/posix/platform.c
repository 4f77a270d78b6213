/* platform.c - POSIX process setup and socket-file helpers. See platform.h. */
#include "platform/platform.h"

#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

long platform_process_init(void) {
  signal(SIGPIPE, SIG_IGN);

  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
  if (limit.rlim_cur < limit.rlim_max) {
    struct rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? -1 : (long)limit.rlim_cur;
}

int platform_unlink_stale_socket(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return -errno;
  if (!S_ISSOCK(st.st_mode)) return -EEXIST; /* never delete a file that is not a socket */
  return unlink(path) == 0 ? 0 : -errno;
}

int platform_chmod_socket(const char *path, unsigned mode) {
  return chmod(path, (mode_t)mode) == 0 ? 0 : -errno;
}
