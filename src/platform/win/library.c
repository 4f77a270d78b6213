/* library.c - native app DLLs on Windows. See platform.h.
 *
 * Not uv_dlopen: it loads with LOAD_WITH_ALTERED_SEARCH_PATH, which still looks for the DLL's
 * own imports in the working directory and on PATH, where a planted DLL would be taken. */
#include "platform/platform.h"

#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static wchar_t *to_wide(const char *utf8) {
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, NULL, 0);
  wchar_t *wide = n > 0 ? malloc((size_t)n * sizeof *wide) : NULL;
  if (wide) MultiByteToWideChar(CP_UTF8, 0, utf8, -1, wide, n);
  return wide;
}

static void describe_error(DWORD code, char *err, size_t err_size) {
  char message[256];
  DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
                           code, MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US), message,
                           sizeof message, NULL);
  while (n > 0 && (message[n - 1] == '\n' || message[n - 1] == '\r' || message[n - 1] == '.'))
    message[--n] = '\0';
  snprintf(err, err_size, "%s (Windows error %lu)", n > 0 ? message : "failed",
           (unsigned long)code);
}

int platform_library_open(const char *path, uv_lib_t *lib, char *err, size_t err_size) {
  memset(lib, 0, sizeof *lib);
  wchar_t *wide = to_wide(path);
  if (!wide) {
    snprintf(err, err_size, "the path is not valid UTF-8");
    return -1;
  }
  /* LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR needs a full path: a relative one is taken from the
   * working directory, as a file the operator named, not searched for. */
  DWORD n = GetFullPathNameW(wide, 0, NULL, NULL);
  wchar_t *full = n ? malloc(n * sizeof *full) : NULL;
  if (!full || !GetFullPathNameW(wide, n, full, NULL)) {
    describe_error(GetLastError(), err, err_size);
    free(full);
    free(wide);
    return -1;
  }
  HMODULE module = LoadLibraryExW(full, NULL, LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR |
                                                  LOAD_LIBRARY_SEARCH_SYSTEM32);
  DWORD code = GetLastError();
  free(full);
  free(wide);
  if (!module) {
    describe_error(code, err, err_size);
    return -1;
  }
  lib->handle = module; /* uv_dlsym and uv_dlclose take it from here */
  return 0;
}
