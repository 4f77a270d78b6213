/* worker_class.c - the worker class registry. See worker_class.h. */
#include "worker/worker_class.h"

#include <stdio.h>
#include <string.h>

#include "worker/thread_pool.h"

/* ---------------------------------------------------------------- event: on the loop */

static int event_start(const asgid_settings *settings) {
  (void)settings;
  return 0;
}

static void event_dispatch(asgi_context *ctx, asgi_job *job) {
  (void)ctx;
  asgi_job_run(job);
  asgi_job_finished(job);
}

static void event_stop(void) {}

/* ---------------------------------------------------------------- Python: not built yet */

static const char *python_unavailable(void) {
  return "asgid was built without the Python worker classes";
}

static const worker_class classes[] = {
    {.name = "event",
     .summary = "app callbacks on the event loop",
     .runs_native = 1,
     .start = event_start,
     .dispatch = event_dispatch,
     .stop = event_stop},
    {.name = "thread",
     .summary = "app callbacks on a thread pool, for blocking code",
     .runs_native = 1,
     .threaded = 1,
     .start = thread_pool_start,
     .dispatch = thread_pool_dispatch,
     .stop = thread_pool_stop},
    {.name = "asyncio",
     .summary = "Python ASGI apps on asyncio",
     .runs_python = 1,
     .unavailable = python_unavailable},
    {.name = "uvloop",
     .summary = "Python ASGI apps on uvloop",
     .runs_python = 1,
     .unavailable = python_unavailable},
};

#define CLASS_COUNT (sizeof classes / sizeof classes[0])

static const worker_class *find(const char *name) {
  for (size_t i = 0; i < CLASS_COUNT; i++)
    if (strcmp(classes[i].name, name) == 0) return &classes[i];
  return NULL;
}

/* "auto, event, thread (asyncio: asgid was built without ...; uvloop: ...)" */
static void describe_classes(char *out, size_t size) {
  size_t used = (size_t)snprintf(out, size, "auto");
  for (size_t i = 0; i < CLASS_COUNT && used < size; i++) {
    const char *why = classes[i].unavailable ? classes[i].unavailable() : NULL;
    used += (size_t)snprintf(out + used, size - used, ", %s%s%s%s", classes[i].name,
                             why ? " (unavailable: " : "", why ? why : "", why ? ")" : "");
  }
}

const worker_class *worker_class_resolve(const char *name, const char *app_spec, char *err,
                                         size_t err_size) {
  char known[512];
  describe_classes(known, sizeof known);
  app_kind kind = app_spec_kind(app_spec);
  const worker_class *chosen;
  if (strcmp(name, "auto") == 0) {
    chosen = kind == APP_KIND_NATIVE ? find("event") : find("asyncio");
  } else {
    chosen = find(name);
    if (!chosen) {
      snprintf(err, err_size, "worker_class: unknown class \"%s\"; the classes are: %s", name,
               known);
      return NULL;
    }
  }
  const char *why = chosen->unavailable ? chosen->unavailable() : NULL;
  if (why) {
    snprintf(err, err_size, "worker_class %s is unavailable: %s (%s app \"%s\"); the classes "
             "are: %s", chosen->name, why, kind == APP_KIND_NATIVE ? "native" : "Python",
             app_spec, known);
    return NULL;
  }
  if ((kind == APP_KIND_NATIVE && !chosen->runs_native) ||
      (kind == APP_KIND_PYTHON && !chosen->runs_python)) {
    snprintf(err, err_size, "worker_class %s cannot run the %s app \"%s\"; the classes are: %s",
             chosen->name, kind == APP_KIND_NATIVE ? "native" : "Python", app_spec, known);
    return NULL;
  }
  return chosen;
}
