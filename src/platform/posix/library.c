/* library.c - native app libraries on POSIX (dlopen, through libuv). See platform.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/platform.h"

int platform_library_open(const char *path, uv_lib_t *lib, char *err, size_t err_size) {
  /* dlopen searches the library path for a bare name: the app is a file, say so. */
  char *relative = NULL;
  if (!strchr(path, '/')) {
    relative = malloc(strlen(path) + 3);
    if (!relative) {
      snprintf(err, err_size, "out of memory");
      return -1;
    }
    strcpy(relative, "./");
    strcat(relative, path);
  }
  int rc = uv_dlopen(relative ? relative : path, lib);
  if (rc != 0) {
    snprintf(err, err_size, "%s", uv_dlerror(lib));
    uv_dlclose(lib);
  }
  free(relative);
  return rc != 0 ? -1 : 0;
}
