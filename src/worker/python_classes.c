/* python_classes.c - the asyncio and uvloop worker classes (asgid built with Python). Both run
 * app callbacks on the loop thread, which asyncio drives. See worker_class.h. */
#include "apps/python/python.h"
#include "worker/worker_class.h"

#include <stdio.h>
#include <string.h>

static const asgid_app *load_asyncio(const asgid_settings *settings, const asgid_server_api *api,
                                     char *err, size_t err_size) {
  return python_app_load(settings, api, 0, err, err_size);
}

/* uvloop; with worker_class = auto it falls back to asyncio when uvloop is missing. */
static const asgid_app *load_uvloop(const asgid_settings *settings, const asgid_server_api *api,
                                    char *err, size_t err_size) {
  int chosen_by_auto = strcmp(settings->worker_class, "auto") == 0;
  return python_app_load(settings, api, chosen_by_auto ? -1 : 1, err, err_size);
}

/* auto's uvloop that could not be imported runs asyncio (python_app_load said why). */
static const char *uvloop_fallback(char *why, size_t size) {
  const char *reason = python_uvloop_fallback();
  if (!reason) return NULL;
  snprintf(why, size, "%s", reason);
  return "asyncio";
}

/* Where uvloop does not exist (Windows), the class says so and auto picks asyncio. */
static const char *uvloop_unavailable(void) {
  static char why[256];
  return worker_class_python_unavailable(platform_get_capabilities(), 1, 1, why, sizeof why);
}

/* The two classes differ only in the loop they load the app on. */
#define PYTHON_CLASS(class_name, class_summary, load, why_not, falls_back)                  \
  {.name = class_name, .summary = class_summary, .runs_python = 1, .load_app = load,         \
   .unavailable = why_not, .fallback = falls_back,                                          \
   .start = worker_class_start_nothing, .dispatch = worker_class_dispatch_inline,           \
   .run = python_loop_run, .stop = worker_class_stop_nothing,                               \
   .unload_app = python_app_unload, .preload = python_preload,                              \
   .fork_prepare = python_fork_prepare, .fork_parent = python_fork_parent,                  \
   .fork_child = python_fork_child}

const worker_class python_worker_classes[2] = {
    PYTHON_CLASS("asyncio", "Python ASGI apps on asyncio", load_asyncio, NULL, NULL),
    PYTHON_CLASS("uvloop", "Python ASGI apps on uvloop", load_uvloop, uvloop_unavailable,
                 uvloop_fallback),
};
