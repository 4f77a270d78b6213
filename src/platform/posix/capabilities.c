/* capabilities.c - what POSIX systems can do: everything a configuration may ask for, with
 * SO_REUSEPORT where the system defines it (Linux, the BSDs, macOS). See platform.h. */
#include "platform/platform.h"

#include <sys/socket.h>

const platform_capabilities *platform_get_capabilities(void) {
  static const platform_capabilities posix = {
#ifdef __linux__
      .system = "Linux",
#else
      .system = "this system",
#endif
      .fork = 1,
      .switch_user = 1,
      .unix_sockets = 1,
#ifdef SO_REUSEPORT
      .reuse_port = 1,
#endif
      .socket_activation = 1,
      .uvloop = 1,
      .python_build_hint = "install libpython3-dev and rebuild",
  };
  return &posix;
}
