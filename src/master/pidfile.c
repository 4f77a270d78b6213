/* pidfile.c - the master's pid file. See pidfile.h. */
#include "master/pidfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

int pidfile_write(const char *path, long pid, char *err, size_t err_size) {
  size_t size = strlen(path) + 32;
  char *temp = malloc(size);
  if (!temp) {
    snprintf(err, err_size, "pidfile %s: out of memory", path);
    return -1;
  }
  snprintf(temp, size, "%s.%ld.tmp", path, pid);
  FILE *f = fopen(temp, "w");
  int ok = f && fprintf(f, "%ld\n", pid) > 0;
  if (f && fclose(f) != 0) ok = 0;
  if (!ok || rename(temp, path) != 0) {
    snprintf(err, err_size, "pidfile %s: cannot write it", path);
    remove(temp);
    free(temp);
    return -1;
  }
  free(temp);
  return 0;
}

int pidfile_read(const char *path, long *pid) {
  uv_fs_t req;
  uv_file fd = uv_fs_open(NULL, &req, path, UV_FS_O_RDONLY, 0, NULL);
  uv_fs_req_cleanup(&req);
  if (fd < 0) return fd;
  char text[32];
  uv_buf_t buf = uv_buf_init(text, sizeof text - 1);
  int n = uv_fs_read(NULL, &req, fd, &buf, 1, 0, NULL);
  uv_fs_req_cleanup(&req);
  uv_fs_close(NULL, &req, fd, NULL);
  uv_fs_req_cleanup(&req);
  if (n < 0) return n;
  text[n] = '\0';
  char *end;
  long value = strtol(text, &end, 10);
  while (*end == '\n' || *end == '\r') end++;
  if (end == text || *end != '\0' || value <= 0) return UV_EINVAL;
  *pid = value;
  return 0;
}

void pidfile_remove(const char *path, long pid) {
  FILE *f = fopen(path, "r");
  if (!f) return;
  long written = 0;
  int matches = fscanf(f, "%ld", &written) == 1 && written == pid;
  fclose(f);
  if (matches) remove(path);
}

int pidfile_rename(const char *from, const char *to) { return rename(from, to) == 0 ? 0 : -1; }
