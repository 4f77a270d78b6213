/* log_files.c - the logs' descriptors on Windows: CRT descriptors over files opened from
 * UTF-8 paths (converted to UTF-16), never inherited by spawned workers. See platform.h. */
#include "platform/platform.h"

#include <winsock2.h>
#include <windows.h>
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdlib.h>
#include <sys/stat.h>

int platform_log_open(const char *path) {
  int wide_len = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
  if (wide_len <= 0) return -EINVAL;
  wchar_t *wide = malloc((size_t)wide_len * sizeof *wide);
  if (!wide) return -ENOMEM;
  MultiByteToWideChar(CP_UTF8, 0, path, -1, wide, wide_len);
  int fd = _wopen(wide, _O_WRONLY | _O_APPEND | _O_CREAT | _O_BINARY | _O_NOINHERIT,
                  _S_IREAD | _S_IWRITE);
  int err = errno;
  free(wide);
  return fd < 0 ? -err : fd;
}

int platform_log_replace(int into, int from) {
  /* The CRT's _dup2 closes `into` and duplicates under its lock: a writer on another thread
   * at that instant loses its line (EBADF), never writes to an unrelated file. */
  int err = _dup2(from, into) < 0 ? -errno : 0;
  /* _dup2's handle is inheritable, and uv_spawn lets children inherit every such handle. */
  if (err == 0) SetHandleInformation((HANDLE)_get_osfhandle(into), HANDLE_FLAG_INHERIT, 0);
  _close(from);
  return err;
}

void platform_log_close(int fd) { _close(fd); }

void platform_log_write(int fd, const char *bytes, size_t len) {
  while (len > 0) {
    unsigned chunk = len > 0x40000000 ? 0x40000000u : (unsigned)len;
    int n = _write(fd, bytes, chunk);
    if (n <= 0) return;
    bytes += n;
    len -= (size_t)n;
  }
}
