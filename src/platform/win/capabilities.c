/* capabilities.c - what Windows cannot do of what a configuration may ask for: fork (so
 * preload_app), switching accounts, handing Unix sockets to workers (uv_write2 carries TCP
 * sockets only there), SO_REUSEPORT, socket activation; and uvloop does not exist for it. A
 * build made with Debian's mingw-w64 has no CPython: Debian ships no Windows CPython SDK. See
 * platform.h. */
#include "platform/platform.h"

const platform_capabilities *platform_get_capabilities(void) {
  static const platform_capabilities windows = {
      .system = "Windows",
      .python_build_hint = "a Windows build needs a UCRT CPython SDK at build time",
  };
  return &windows;
}
