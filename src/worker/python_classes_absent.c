/* python_classes_absent.c - the asyncio and uvloop worker classes when asgid is built without
 * CPython (libpython3-dev was missing at configure time; a Windows build has no CPython SDK):
 * listed, and unavailable, saying why and what a build with them takes. */
#include "worker/worker_class.h"

static const char *asyncio_unavailable(void) {
  static char why[256];
  return worker_class_python_unavailable(platform_get_capabilities(), 0, 0, why, sizeof why);
}

static const char *uvloop_unavailable(void) {
  static char why[256];
  return worker_class_python_unavailable(platform_get_capabilities(), 0, 1, why, sizeof why);
}

const worker_class python_worker_classes[2] = {
    {.name = "asyncio", .summary = "Python ASGI apps on asyncio", .runs_python = 1,
     .unavailable = asyncio_unavailable},
    {.name = "uvloop", .summary = "Python ASGI apps on uvloop", .runs_python = 1,
     .unavailable = uvloop_unavailable},
};
