/* process.c - POSIX processes: own executable, CPUs, fork, termination, reaping. See
 * platform.h. */
#include "platform/platform.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "platform/posix/linux.h"

char *platform_executable_path(char *err, size_t err_size) {
  char path[PATH_MAX];
  size_t size = sizeof path;
  int rc = uv_exepath(path, &size);
  if (rc != 0) {
    snprintf(err, err_size, "cannot find asgid's own executable: %s", uv_strerror(rc));
    return NULL;
  }
  struct stat st;
  if (path[0] != '/') {
    snprintf(err, err_size, "asgid's own executable path \"%s\" is not absolute", path);
    return NULL;
  }
  if (stat(path, &st) != 0) {
    snprintf(err, err_size, "asgid's own executable \"%s\": %s", path, strerror(errno));
    return NULL;
  }
  if (!S_ISREG(st.st_mode) || access(path, X_OK) != 0) {
    snprintf(err, err_size, "asgid's own executable \"%s\" is not a regular executable file",
             path);
    return NULL;
  }
  char *copy = strdup(path);
  if (!copy) snprintf(err, err_size, "out of memory");
  return copy;
}

long platform_available_cpus(void) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  long allowed = linux_affinity_cpu_count();
  if (allowed > 0) cpus = allowed;
  long limit = linux_cgroup_cpu_limit();
  if (limit > 0 && limit < cpus) cpus = limit;
  return cpus > 0 ? cpus : 1;
}

int platform_fork(void) {
  pid_t pid = fork();
  return pid < 0 ? -errno : (int)pid;
}

int platform_terminate(int pid) { return kill((pid_t)pid, SIGKILL) == 0 ? 0 : -errno; }

int platform_read_pending(uv_stream_t *stream, void *buf, size_t size) {
  uv_os_fd_t fd;
  if (uv_fileno((const uv_handle_t *)stream, &fd) != 0) return -1;
  ssize_t n;
  do {
    n = read(fd, buf, size); /* libuv opened it non-blocking */
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
  return n > 0 ? (int)n : -1;
}

int platform_reap(int pid, int *exit_status, int *term_signal) {
  int status;
  pid_t rc = waitpid((pid_t)pid, &status, WNOHANG);
  if (rc < 0) return -errno;
  if (rc == 0) return 0;
  *exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
  *term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return 1;
}

const char *platform_describe_exit(int exit_status, int term_signal, char *buf, size_t size) {
  if (term_signal) {
    const char *name = sigabbrev_np(term_signal);
    snprintf(buf, size, "was killed by signal %d (SIG%s)", term_signal, name ? name : "?");
  } else {
    snprintf(buf, size, "exited with status %d", exit_status);
  }
  return buf;
}

static int abort_fd = -1;
static const char *abort_message;
static const size_t *abort_len;
static void (*abort_prepare)(void);

static void on_abort(int signum) {
  if (abort_prepare) abort_prepare();
  if (abort_fd >= 0 && abort_message && *abort_len) {
    ssize_t ignored = write(abort_fd, abort_message, *abort_len);
    (void)ignored;
  }
  signal(signum, SIG_DFL);
  raise(signum);
}

void platform_on_abort_write(int fd, const char *message, const size_t *len,
                             void (*prepare)(void)) {
  abort_prepare = prepare;
  abort_fd = fd;
  abort_message = message;
  abort_len = len;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_abort;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGABRT, &sa, NULL);
}

char **platform_arguments(int *argc, char **argv) { return argv; }
