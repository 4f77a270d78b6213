/*
 * python_internal.h - what the files of the Python adapter share (they include Python.h).
 */
#ifndef ASGID_APPS_PYTHON_INTERNAL_H
#define ASGID_APPS_PYTHON_INTERNAL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "apps/python/python.h"
#include "log/log.h"

/* bridge.c: the _asgid module (registered before CPython starts) and the asgid_app table
 * that turns the server's scopes and events into ASGI dicts. glue is glue.py's module. */
PyObject *python_bridge_module_init(void);
/* bridge.c: _asgid.ClientDisconnected, the OSError that send() on a closed websocket raises. */
extern PyObject *python_client_disconnected;
const asgid_app *python_bridge_start(const asgid_server_api *api, PyObject *loop,
                                     PyObject *glue);
/* bridge.c: logs the pending exception as one error log entry, message then its traceback,
 * and clears it (the traceback's text stands in when it cannot be formatted). */
void python_log_exception(log_level level, const char *message);
/* bridge.c: a str's UTF-8 text (valid while text lives), or fallback when text is NULL, no
 * str, or cannot be encoded (lone surrogates); never raises. */
const char *python_text_or(PyObject *text, const char *fallback);
/* bridge.c: an ASGI header list [(name, value), ...] of bytes (a new reference, NULL on
 * error). */
PyObject *python_header_list(const asgid_header *headers, size_t count);

/* events.c: ASGI message dicts and server events, both ways, for every event of the event
 * table. */
int python_events_init(void);
/* An event as its ASGI message dict (a new reference, NULL on error). */
PyObject *python_event_dict(const asgid_event *event);
/* What an event converted from a message points to besides the message itself. */
typedef struct python_event_storage {
  asgid_header inline_headers[32];
  asgid_header *headers; /* inline_headers, or PyMem_Malloc'd for more */
  PyObject *keep;        /* the header sequence */
} python_event_storage;
/* A message dict as an event pointing into the message and into storage: 0, or -1 with an
 * exception set. Release the storage afterwards either way. */
int python_message_event(PyObject *message, asgid_event *event, python_event_storage *storage);
void python_event_storage_release(python_event_storage *storage);

/* request_object.c: the Python object of one scope (receive and send). */
int python_request_init(const asgid_server_api *api, PyObject *loop);
/* Runs the app for a new scope (the dict gets its "state"). 0, or -1 with an exception set. */
int python_request_start(asgid_request *req, PyObject *scope, asgid_scope_type type);
/* For a lifespan scope that the app ended by raising: 0 it never called receive() (it has no
 * lifespan support), 1 it did, 2 it sent lifespan.startup.failed or lifespan.shutdown.failed
 * (glue.py's LIFESPAN_*). -1 for other scopes. */
int python_request_lifespan_progress(PyObject *request);
/* The app's coroutine for this scope finished, however it finished (failed: it raised, or
 * was cancelled or closed): the server hears it. Never raises. */
void python_request_finish(PyObject *request, int failed);
/* The event a receive asked for; 0, or -1 with an exception set. */
int python_request_deliver(asgid_request *req, PyObject *event);
/* The client caught up: a send() waiting for it completes. 0, or -1 with an exception set. */
int python_request_writable(asgid_request *req);
/* A receive() awaitable of request ended before its event reached the app: the event (given,
 * or the future's result) goes back to the request, or the future is cancelled. Never
 * raises. */
void python_request_unclaimed(PyObject *request, PyObject *event, PyObject *future);

/* runner.c: the asyncio Tasks that run apps (glue is glue.py's module). */
int python_runner_init(PyObject *loop, PyObject *glue);
/* Runs the app for a scope on a runner's Task: at once in a pump (a first step with the Task
 * as the current task), else when the Task next runs. 0, or -1 with an exception set. */
int python_runner_start(PyObject *request, PyObject *scope, PyObject *receive, PyObject *send);
/* The loop ended: idle runners' Tasks end (when the loop next runs, as it closes). */
void python_runner_release(void);

/* coroutine_support.c: asyncio futures, and the exceptions of throw(). */
/* 1 when the future is done (cancelled included), 0 when not, -1 on error. */
int python_future_done(PyObject *future);
/* Sets the result of a future still waiting (a done one, cancelled say, is left alone).
 * 0, or -1 with an exception set. */
int python_future_finish(PyObject *future, PyObject *value);
/* Sets the exception that throw(value) or throw(type[, value[, traceback]]) asks for: 0; or
 * TypeError for something that is no exception: -1. */
int python_raise_thrown(PyObject *const *args, Py_ssize_t nargs);
/* The exception set, cleared, as one instance with its traceback (a new reference); NULL
 * when none is set. */
PyObject *python_take_exception(void);
/* Sets exception (an instance, with its traceback) again; steals the reference. */
void python_restore_exception(PyObject *exception);

/* awaitable.c: what receive() and send() return. New references, NULL on error. */
int python_awaitable_init(void);
PyObject *python_awaitable_none(void);              /* completes with None */
PyObject *python_awaitable_done(PyObject *result);  /* completes with result */
PyObject *python_awaitable_pending(PyObject *future); /* completes with the future's result */
/* A receive() of request: completes with event, or with the future's result, and gives
 * that event back to request if it never reaches the app. */
PyObject *python_awaitable_receive(PyObject *request, PyObject *event, PyObject *future);

/* strings.c: interned keys and values of ASGI scopes, and method names. */
typedef struct python_strings {
  PyObject *type, *asgi, *http_version, *method, *scheme, *path, *raw_path, *query_string,
      *root_path, *headers, *client, *server, *state, *subprotocols, *extensions;
  PyObject *http, *https, *lifespan, *websocket, *ws, *wss, *v1_0, *v1_1;
  PyObject *done, *set_result, *await, *throw_, *cancel, *cancelling,
      *asyncio_future_blocking;
  PyObject *empty_bytes, *asgi_info, *asgi_info_websocket, *websocket_extensions;
} python_strings;
extern python_strings pystr;
int python_strings_init(void);

/* driver.c: remembers the asyncio loop the app runs on. Returns 0 or -1. */
int python_driver_init(PyObject *event_loop);
/* driver.c: 1 while python_loop_run runs libuv (0 before, and after: while the worker closes
 * the asyncio loop and finalizes Python, the server is no longer served). */
int python_loop_running(void);
/* driver.c: 1 while libuv runs inside a pump or a settle (not inside an asyncio Task). */
int python_loop_in_pump(void);
/* driver.c: an app step on a Task has ended; the server flushes output that has waited too
 * long for the pass's settle. */
void python_loop_step_done(void);

/* glue_source.c (generated from glue.py at build time). */
extern const char python_glue_source[];

#endif /* ASGID_APPS_PYTHON_INTERNAL_H */
