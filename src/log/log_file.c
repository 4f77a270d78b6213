/*
 * log_file.c - a log destination that can be switched and reopened under concurrent writers.
 *
 * Writers load the descriptor and write() to it without a lock. So a descriptor a writer may
 * hold is never closed while logging goes on: the first file a log opens is kept for the life
 * of the log, and every later file (a reopen after logrotate, a new path after a reload) is
 * opened aside and dup2()'d onto it, which swaps the open file under the same number
 * atomically. A writer that loaded the number just before the swap writes the line to the old
 * file or the new one, never to a closed or reused descriptor.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log/log_internal.h"
#include "platform/platform.h"

/* Makes `fd`, just opened, the log's own descriptor: the first one is kept as it is, later ones
 * are dup2()'d onto it and closed. */
static int adopt_fd(log_file *file, int fd) {
  if (file->owned_fd < 0) {
    file->owned_fd = fd;
    return 0;
  }
  return platform_log_replace(file->owned_fd, fd);
}

int log_file_set(log_file *file, const char *destination) {
  if (destination == NULL || destination[0] == '\0') {
    atomic_store(&file->fd, file->unset_fd);
  } else if (strcmp(destination, "-") == 0) {
    atomic_store(&file->fd, file->standard_fd);
  } else {
    char *path = strdup(destination);
    if (path == NULL)
      return -ENOMEM;
    int fd = platform_log_open(path);
    int err = fd < 0 ? fd : adopt_fd(file, fd);
    if (err < 0) {
      free(path);
      return err;
    }
    atomic_store(&file->fd, file->owned_fd);
    free(file->path);
    file->path = path;
    return 0;
  }
  free(file->path);
  file->path = NULL;
  return 0;
}

int log_file_reopen(log_file *file) {
  if (file->path == NULL)
    return 0;
  int fd = platform_log_open(file->path);
  return fd < 0 ? fd : adopt_fd(file, fd);
}

void log_file_close(log_file *file) {
  atomic_store(&file->fd, file->unset_fd);
  if (file->owned_fd >= 0)
    platform_log_close(file->owned_fd);
  file->owned_fd = -1;
  free(file->path);
  file->path = NULL;
}

int log_file_is_open(log_file *file) {
  return atomic_load_explicit(&file->fd, memory_order_relaxed) >= 0;
}

void log_file_write(log_file *file, const char *line, size_t len) {
  int fd = atomic_load_explicit(&file->fd, memory_order_relaxed);
  if (fd >= 0)
    platform_log_write(fd, line, len);
}
