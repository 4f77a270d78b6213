/*
 * pidfile.h - the master's pid file: written atomically (a temporary file renamed over the
 * path), renamed to PATH.oldbin during a binary upgrade, removed at exit.
 */
#ifndef ASGID_PIDFILE_H
#define ASGID_PIDFILE_H

#include <stddef.h>

/* Writes pid to path. Returns 0, or -1 with the reason in err. */
int pidfile_write(const char *path, long pid, char *err, size_t err_size);

/* Reads the pid path holds (the client of asgid --control). Returns 0, or a libuv error:
 * UV_ENOENT (no such file), UV_EINVAL (it holds no pid), or why it cannot be read. */
int pidfile_read(const char *path, long *pid);

/* Removes path if it still holds pid (a newer master may have written its own). */
void pidfile_remove(const char *path, long pid);

/* Renames from to to. Returns 0 or -1. */
int pidfile_rename(const char *from, const char *to);

#endif /* ASGID_PIDFILE_H */
