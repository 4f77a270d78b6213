/* platform.c - Windows process setup, descriptor limits and (absent) socket files. See
 * platform.h. */
#include "platform/platform.h"

#include <winsock2.h>
#include <windows.h>
#include <io.h>
#include <uv.h>

long platform_process_init(void) {
  /* DLL planting: every library loaded from now on comes from System32 or a path asgid
   * names in full (native apps: library.c), never from the working directory or PATH. */
  SetDefaultDllDirectories(LOAD_LIBRARY_SEARCH_SYSTEM32);
  SetDllDirectoryW(L"");
  /* Sockets are opened (platform_listen_tcp) before any libuv loop would start Winsock. */
  WSADATA wsa;
  WSAStartup(MAKEWORD(2, 2), &wsa);
  /* Windows has no per-process limit on open sockets or handles to raise or report. */
  return -1;
}

long platform_open_file_limit(void) { return -1; }

long platform_open_descriptor_count(void) {
  DWORD count = 0;
  return GetProcessHandleCount(GetCurrentProcess(), &count) ? (long)count : -1;
}

int platform_descriptor_available(void) { return 1; }

/* Unix sockets are not available on Windows (the capability checks say so at start). */
int platform_unlink_stale_socket(const char *path) { return UV_ENOSYS; }

int platform_chmod_socket(const char *path, unsigned mode) { return UV_ENOSYS; }

int platform_dup_fd(int fd) {
  HANDLE h = (HANDLE)_get_osfhandle(fd), copy;
  if (h == INVALID_HANDLE_VALUE) return UV_EBADF;
  /* Not _dup: its copy is inheritable, and uv_spawn lets children inherit every such handle. */
  if (!DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &copy, 0, FALSE,
                       DUPLICATE_SAME_ACCESS))
    return uv_translate_sys_error((int)GetLastError());
  int out = _open_osfhandle((intptr_t)copy, 0);
  if (out < 0) CloseHandle(copy);
  return out < 0 ? UV_EMFILE : out;
}
