/*
 * worker_class.h - the registry of worker classes: how app code runs inside a worker.
 *
 *   event   app callbacks run on the worker's event loop thread (never block in them)
 *   thread  app callbacks run on a pool of `threads` threads (blocking code is fine)
 *   auto    picked from the app: a native app runs on `event`, a Python app on uvloop
 *           (asyncio where uvloop is unavailable)
 *   asyncio, uvloop  Python ASGI apps on an embedded CPython
 *
 * Every class says whether it can run here; an unknown or unavailable class is an error
 * that lists the classes and why the chosen one cannot run.
 */
#ifndef ASGID_WORKER_CLASS_H
#define ASGID_WORKER_CLASS_H

#include <stddef.h>
#include <uv.h>

#include "apps/app_spec.h"
#include "asgi/request.h"
#include "platform/platform.h"
#include "settings/settings.h"

typedef struct worker_class {
  const char *name;
  const char *summary;
  /* NULL when the class can run here, else why not (one clause). */
  const char *(*unavailable)(void);
  /* After load_app: the class that really runs when it is not this one (uvloop under
   * worker_class = auto falls back to asyncio where uvloop cannot be imported), with the
   * reason in why; NULL when this one runs. NULL for classes that never fall back. */
  const char *(*fallback)(char *why, size_t size);
  /* The app kinds the class runs. */
  int runs_native, runs_python;
  int threaded; /* app callbacks run off the loop thread */
  /* Loads the app (native library, or CPython and a Python module). On failure writes one
   * line into err and returns NULL. */
  const asgid_app *(*load_app)(const asgid_settings *settings, const asgid_server_api *api,
                               char *err, size_t err_size);
  /* Starts the class's machinery (the thread pool). Returns 0 or a negative libuv error. */
  int (*start)(const asgid_settings *settings);
  asgi_dispatch_fn dispatch;
  /* Runs the worker's loop until it has nothing left to do (uv_run, or asyncio driving).
   * deferred_work(arg) is what the protocol layer leaves for the end of a loop pass (libuv
   * runs it from an idle handle); a class that drives libuv itself may run it directly, and
   * flush_overdue(arg) where a pass of its own runs long (the output that has waited too long
   * for the pass's end). */
  void (*run)(uv_loop_t *loop, void (*deferred_work)(void *arg),
              void (*flush_overdue)(void *arg), void *arg);
  /* Waits for running app callbacks and stops the machinery. */
  void (*stop)(void);
  /* Unloads the app after the loop ended. */
  void (*unload_app)(void);
  /* preload_app (NULL when the class has no use for it): load the app in the master before
   * forking, and the hooks around each fork of the master once it did. */
  int (*preload)(const asgid_settings *settings, char *err, size_t err_size);
  void (*fork_prepare)(void);
  void (*fork_parent)(void);
  void (*fork_child)(void);
} worker_class;

/* The Python classes (asyncio, uvloop): python_classes.c when asgid is built with Python,
 * python_classes_absent.c otherwise. */
extern const worker_class python_worker_classes[2];

/* Why a Python class cannot run on a platform with caps, in a build with or without CPython
 * (built_with_python), or NULL when it can: uvloop (is_uvloop) not where uvloop does not
 * exist, neither class without CPython. The reason, one clause, is written into buf, which
 * is returned. Each build's python_worker_classes ask it with platform_get_capabilities(). */
const char *worker_class_python_unavailable(const platform_capabilities *caps,
                                            int built_with_python, int is_uvloop, char *buf,
                                            size_t size);

/* Shared by the classes that run app callbacks on the loop thread. */
void worker_class_dispatch_inline(asgi_context *ctx, asgi_job *job);
void worker_class_run_libuv(uv_loop_t *loop, void (*deferred_work)(void *arg),
                            void (*flush_overdue)(void *arg), void *arg);
int worker_class_start_nothing(const asgid_settings *settings);
void worker_class_stop_nothing(void);

/* For the boot line, after load_app: the class that runs and why, when the worker_class
 * setting (requested) did not name it: "uvloop", "uvloop: worker_class = auto",
 * "asyncio: uvloop is not installed, worker_class = auto". */
void worker_class_describe(const worker_class *chosen, const char *requested, char *out,
                           size_t size);

/* Resolves the worker_class setting for an app spec. On failure writes one line into err
 * naming the classes and why the requested one is unavailable, and returns NULL. */
const worker_class *worker_class_resolve(const char *name, const char *app_spec, char *err,
                                         size_t err_size);

#endif /* ASGID_WORKER_CLASS_H */
