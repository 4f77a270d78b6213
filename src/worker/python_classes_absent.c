/* python_classes_absent.c - the asyncio and uvloop worker classes when asgid is built without
 * Python (libpython3-dev was missing at configure time): listed, and unavailable. */
#include "worker/worker_class.h"

static const char *not_built(void) {
  return "asgid was built without Python (install libpython3-dev and rebuild)";
}

const worker_class python_worker_classes[2] = {
    {.name = "asyncio", .summary = "Python ASGI apps on asyncio", .runs_python = 1,
     .unavailable = not_built},
    {.name = "uvloop", .summary = "Python ASGI apps on uvloop", .runs_python = 1,
     .unavailable = not_built},
};
