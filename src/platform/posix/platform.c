/* platform.c - POSIX process setup, descriptor limits and socket-file helpers. See
 * platform.h. */
#include "platform/platform.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

long platform_open_file_limit(void) {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return -1;
  return (long)limit.rlim_cur;
}

long platform_open_descriptor_count(void) {
  /* Linux lists a process's descriptors in /proc, macOS and the BSDs in /dev/fd. */
  DIR *dir = opendir("/proc/self/fd");
  if (!dir) dir = opendir("/dev/fd");
  if (!dir) return -1;
  long count = 0;
  for (struct dirent *entry; (entry = readdir(dir));)
    if (entry->d_name[0] != '.') count++;
  closedir(dir);
  return count - 1; /* the listing's own descriptor */
}

int platform_descriptor_available(void) {
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    close(fd);
    return 1;
  }
  return errno != EMFILE && errno != ENFILE; /* another failure says nothing about the limit */
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

int platform_dup_fd(int fd) {
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  return copy < 0 ? -errno : copy;
}
