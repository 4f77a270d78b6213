/* worker_class.c - the worker class registry. See worker_class.h. */
#include "worker/worker_class.h"

#include <stdio.h>
#include <string.h>

#include "apps/native.h"
#include "worker/thread_pool.h"

/* ---------------------------------------------------------------- shared pieces */

const char *worker_class_python_unavailable(const platform_capabilities *caps,
                                            int built_with_python, int is_uvloop, char *buf,
                                            size_t size) {
  if (is_uvloop && !caps->uvloop)
    snprintf(buf, size, "uvloop does not support %s; worker_class = auto falls back to asyncio",
             caps->system);
  else if (!built_with_python)
    snprintf(buf, size, "built without CPython; %s", caps->python_build_hint);
  else
    return NULL;
  return buf;
}

void worker_class_dispatch_inline(asgi_context *ctx, asgi_job *job) {
  (void)ctx;
  asgi_job_run(job);
  asgi_job_finished(job);
}

void worker_class_run_libuv(uv_loop_t *loop, void (*deferred_work)(void *arg),
                            void (*flush_overdue)(void *arg), void *arg) {
  (void)deferred_work; /* libuv runs them itself */
  (void)flush_overdue;
  (void)arg;
  uv_run(loop, UV_RUN_DEFAULT);
}

int worker_class_start_nothing(const asgid_settings *settings) {
  (void)settings;
  return 0;
}

void worker_class_stop_nothing(void) {}

/* ---------------------------------------------------------------- native apps */

static native_app native;

static const asgid_app *load_native(const asgid_settings *settings, const asgid_server_api *api,
                                    char *err, size_t err_size) {
  if (native_app_load(&native, settings->app, api, err, err_size) != 0) return NULL;
  return native.app;
}

static void unload_native(void) { native_app_unload(&native); }

static const worker_class native_classes[] = {
    {.name = "event",
     .summary = "app callbacks on the event loop",
     .runs_native = 1,
     .load_app = load_native,
     .start = worker_class_start_nothing,
     .dispatch = worker_class_dispatch_inline,
     .run = worker_class_run_libuv,
     .stop = worker_class_stop_nothing,
     .unload_app = unload_native},
    {.name = "thread",
     .summary = "app callbacks on a thread pool, for blocking code",
     .runs_native = 1,
     .threaded = 1,
     .load_app = load_native,
     .start = thread_pool_start,
     .dispatch = thread_pool_dispatch,
     .run = worker_class_run_libuv,
     .stop = thread_pool_stop,
     .unload_app = unload_native},
};

#define NATIVE_COUNT (sizeof native_classes / sizeof native_classes[0])
#define PYTHON_COUNT (sizeof python_worker_classes / sizeof python_worker_classes[0])

static const worker_class *class_at(size_t i) {
  return i < NATIVE_COUNT ? &native_classes[i] : &python_worker_classes[i - NATIVE_COUNT];
}

static const worker_class *find(const char *name) {
  for (size_t i = 0; i < NATIVE_COUNT + PYTHON_COUNT; i++)
    if (strcmp(class_at(i)->name, name) == 0) return class_at(i);
  return NULL;
}

/* "auto, event, thread, asyncio (unavailable: ...), uvloop (unavailable: ...)" */
static void describe_classes(char *out, size_t size) {
  size_t used = (size_t)snprintf(out, size, "auto");
  for (size_t i = 0; i < NATIVE_COUNT + PYTHON_COUNT && used < size; i++) {
    const worker_class *c = class_at(i);
    const char *why = c->unavailable ? c->unavailable() : NULL;
    used += (size_t)snprintf(out + used, size - used, ", %s%s%s%s", c->name,
                             why ? " (unavailable: " : "", why ? why : "", why ? ")" : "");
  }
}

void worker_class_describe(const worker_class *chosen, const char *requested, char *out,
                           size_t size) {
  char why[256] = "";
  const char *running = chosen->fallback ? chosen->fallback(why, sizeof why) : NULL;
  if (!running) {
    running = chosen->name;
    /* auto picked asyncio at once where the uvloop class cannot run at all */
    const worker_class *uvloop = find("uvloop");
    const char *not_uvloop = uvloop->unavailable ? uvloop->unavailable() : NULL;
    if (chosen->runs_python && uvloop != chosen && not_uvloop &&
        strcmp(requested, "auto") == 0) /* its first clause: the rest says auto falls back */
      snprintf(why, sizeof why, "%.*s", (int)strcspn(not_uvloop, ";"), not_uvloop);
  }
  int is_auto = strcmp(requested, "auto") == 0;
  snprintf(out, size, "%s%s%s%s%s", running, why[0] || is_auto ? ": " : "", why,
           why[0] && is_auto ? ", " : "", is_auto ? "worker_class = auto" : "");
}

const worker_class *worker_class_resolve(const char *name, const char *app_spec, char *err,
                                         size_t err_size) {
  char known[512];
  describe_classes(known, sizeof known);
  app_kind kind = app_spec_kind(app_spec);
  const worker_class *chosen;
  if (strcmp(name, "auto") == 0) {
    /* Python: uvloop, which falls back to asyncio when uvloop cannot be imported; asyncio
     * at once where the uvloop class cannot run at all. */
    chosen = kind == APP_KIND_NATIVE ? find("event") : find("uvloop");
    if (kind == APP_KIND_PYTHON && chosen->unavailable && chosen->unavailable())
      chosen = find("asyncio");
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
