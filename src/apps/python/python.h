/*
 * python.h - the Python ASGI app adapter (embedded CPython) and the asyncio / uvloop worker
 * classes' event loop driver.
 *
 * In a worker, python_app_load initializes CPython, creates the asyncio (or uvloop) event
 * loop, imports the app and returns an asgid_app table (bridge.c) that the ASGI layer calls
 * like any other app. python_loop_run then lets asyncio drive: libuv's backend descriptor is
 * registered with loop.add_reader, and each readiness (or libuv timer deadline) runs
 * uv_run(UV_RUN_NOWAIT) on the same thread (the design of shared/python-worker.md §2); server
 * calls from Python are followed by the server's deferred work, without a poll (driver.c).
 */
#ifndef ASGID_APPS_PYTHON_H
#define ASGID_APPS_PYTHON_H

#include <stddef.h>
#include <uv.h>

#include "asgid/asgid.h"
#include "settings/settings.h"

/* Initializes CPython in this process and loads the app named by settings->app
 * ("package.module:attribute", a factory when settings->factory). use_uvloop: 1 for the uvloop
 * class, 0 for asyncio, -1 to use uvloop when it can be imported (auto). On failure writes
 * one line into err (the traceback, if any, is logged) and returns NULL. */
const asgid_app *python_app_load(const asgid_settings *settings, const asgid_server_api *api,
                                 int use_uvloop, char *err, size_t err_size);

/* After python_app_load asked for uvloop if importable (-1, worker_class = auto): why it runs
 * asyncio instead ("uvloop is not installed", or uvloop's import error), or NULL when it runs
 * uvloop or was not asked to. */
const char *python_uvloop_fallback(void);

/* preload_app: in the master, starts CPython and imports the app, so that forked workers
 * inherit it (python_app_load then uses it). On failure writes one line into err. */
int python_preload(const asgid_settings *settings, char *err, size_t err_size);

/* CPython's fork hooks (locks, the random seed, threading state), around a fork of a process
 * that runs CPython. */
void python_fork_prepare(void);
void python_fork_parent(void);
void python_fork_child(void);

/* Runs the worker's libuv loop under asyncio until libuv has nothing left to do.
 * deferred_work(arg): the server's end-of-pass work, run directly after app calls;
 * flush_overdue(arg): its output that has waited too long, after each app step on a Task. */
void python_loop_run(uv_loop_t *loop, void (*deferred_work)(void *arg),
                     void (*flush_overdue)(void *arg), void *arg);

/* Finalizes CPython (after python_loop_run returned). */
void python_app_unload(void);

/* Makes the driver run libuv soon: called after Python code used the server api. */
void python_loop_wake(void);

#endif /* ASGID_APPS_PYTHON_H */
