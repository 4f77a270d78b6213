/*
 * request_object.c - the Python side of one ASGI connection scope (an HTTP request, a
 * WebSocket or the lifespan): the object behind the receive and send callables the app gets
 * (runner.c runs the app).
 *
 * The server holds one reference to the object (as its per-request data) from the start of
 * the scope until the app returns; receive(), send() and the server's callbacks work on it
 * without any Python-level bookkeeping. After the app returned, the callables still exist
 * (a task the app left behind may hold them): receive() then answers http.disconnect (or
 * websocket.disconnect), as uvicorn does, and send() raises.
 *
 * An app that raises ends its scope as the ASGI servers do: an HTTP request without a
 * response gets 500 from the server; a WebSocket gets 500 before accept and close 1011 after
 * it. For the WebSocket this side sends those itself, as any app could: a denial response
 * (websocket.http.response.start 500), which the server refuses once the handshake is
 * answered, and else websocket.close 1011, which it refuses once the connection is closed.
 *
 * The server hands out exactly one event per server receive; receive() here may be awaited
 * by several tasks at once (Starlette does), so waiters queue up, and an event that arrives
 * for a waiter that was cancelled meanwhile is kept for the next receive().
 *
 * Everything runs on the worker's loop thread, which is also the asyncio thread.
 */
#include <string.h>

#include "apps/python/python_internal.h"
#include "abi/event_table.h"

typedef struct {
  PyObject_HEAD
  asgid_request *req; /* NULL once the app returned */
  PyObject *waiters;  /* list of futures of receive() calls awaiting an event, or NULL */
  PyObject *pending;  /* list of events that arrived with nobody waiting, or NULL */
  PyObject *drain;    /* future a send() waits on while the client is behind, or NULL */
  unsigned asking : 1;   /* a server receive is outstanding */
  unsigned type : 2;     /* asgid_scope_type */
  unsigned lifespan_progress : 2; /* see python_request_lifespan_progress */
} request_object;

static const asgid_server_api *server;
static PyObject *create_future; /* the event loop's bound method */
static PyObject *lifespan_state; /* ASGI lifespan state: each request scope gets a copy */

/* What receive() answers once the scope is over for the app. A WebSocket's: 1006, the
 * connection is gone without a close the app could still hear of. */
static PyObject *disconnect_event(const request_object *self) {
  static const asgid_event http = {.type = ASGID_HTTP_DISCONNECT};
  static const asgid_event websocket = {.type = ASGID_WEBSOCKET_DISCONNECT,
                                        .u.websocket_close = {.code = 1006}};
  return python_event_dict(self->type == ASGID_SCOPE_WEBSOCKET ? &websocket : &http);
}

/* ---------------------------------------------------------------- receive() */

static int ask_server(request_object *self) {
  int rc = server->receive(self->req);
  python_loop_wake();
  if (rc != ASGID_OK) {
    PyErr_Format(PyExc_RuntimeError, "receive() failed (%d)", rc);
    return -1;
  }
  self->asking = 1;
  return 0;
}

/* The oldest kept event (a new reference), or NULL (no exception) when none is kept. */
static PyObject *take_event(request_object *self) {
  if (!self->pending || PyList_GET_SIZE(self->pending) == 0) return NULL;
  PyObject *event = Py_NewRef(PyList_GET_ITEM(self->pending, 0));
  if (PySequence_DelItem(self->pending, 0) != 0) Py_CLEAR(event);
  return event;
}

static int keep_event(request_object *self, PyObject *event, int at_front) {
  if (!self->pending && !(self->pending = PyList_New(0))) return -1;
  return at_front ? PyList_Insert(self->pending, 0, event) : PyList_Append(self->pending, event);
}

/* Kept events go to the waiters still waiting, oldest first (a cancelled one is dropped);
 * if waiters remain, the server is asked for their events. */
static int hand_over(request_object *self) {
  while (self->waiters && PyList_GET_SIZE(self->waiters) > 0) {
    PyObject *future = PyList_GET_ITEM(self->waiters, 0);
    int done = python_future_done(future);
    if (done < 0) return -1;
    if (!done) {
      PyObject *event = take_event(self);
      if (!event) {
        if (PyErr_Occurred()) return -1;
        return self->asking || !self->req || !python_loop_running() ? 0 : ask_server(self);
      }
      PyObject *set = PyObject_CallMethodOneArg(future, pystr.set_result, event);
      Py_DECREF(event);
      if (!set) return -1;
      Py_DECREF(set);
    }
    if (PySequence_DelItem(self->waiters, 0) != 0) return -1;
  }
  return 0;
}

static PyObject *request_receive(PyObject *op, PyObject *unused) {
  (void)unused;
  request_object *self = (request_object *)op;
  if (!self->req || !python_loop_running()) { /* the app returned, or the worker is closing */
    PyObject *event = disconnect_event(self);
    PyObject *aw = event ? python_awaitable_done(event) : NULL;
    Py_XDECREF(event);
    return aw;
  }
  if (self->type == ASGID_SCOPE_LIFESPAN && self->lifespan_progress == 0)
    self->lifespan_progress = 1; /* it speaks the lifespan protocol */
  PyObject *event = take_event(self);
  if (event) {
    PyObject *aw = python_awaitable_receive(op, event, NULL);
    Py_DECREF(event);
    return aw;
  }
  if (PyErr_Occurred()) return NULL;
  if (!self->waiters && !(self->waiters = PyList_New(0))) return NULL;
  PyObject *future = PyObject_CallNoArgs(create_future);
  if (!future) return NULL;
  if (PyList_Append(self->waiters, future) != 0) {
    Py_DECREF(future);
    return NULL;
  }
  if (!self->asking && ask_server(self) != 0) {
    PySequence_DelItem(self->waiters, PyList_GET_SIZE(self->waiters) - 1);
    Py_DECREF(future);
    return NULL;
  }
  PyObject *aw = python_awaitable_receive(op, NULL, future);
  Py_DECREF(future);
  return aw;
}

/* The server's answer to a receive: to the first waiter still waiting, else kept. */
static int deliver(request_object *self, PyObject *event) {
  self->asking = 0;
  return keep_event(self, event, 0) == 0 ? hand_over(self) : -1;
}

void python_request_unclaimed(PyObject *op, PyObject *event, PyObject *future) {
  request_object *self = (request_object *)op;
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb); /* this runs while an exception propagates, or in dealloc */
  Py_XINCREF(event);
  int done = future ? python_future_done(future) : -1;
  if (done == 0) {
    PyObject *r = PyObject_CallMethod(future, "cancel", NULL);
    Py_XDECREF(r);
  } else if (done == 1) {
    PyObject *cancelled = PyObject_CallMethod(future, "cancelled", NULL);
    if (cancelled == Py_False) event = PyObject_CallMethod(future, "result", NULL);
    Py_XDECREF(cancelled);
  }
  if (event && keep_event(self, event, 1) == 0) hand_over(self);
  Py_XDECREF(event);
  if (PyErr_Occurred()) PyErr_WriteUnraisable(op);
  PyErr_Restore(type, value, tb);
}

/* ---------------------------------------------------------------- send() */

static PyObject *client_disconnected(const char *type) {
  PyErr_Format(python_client_disconnected, "'%s': the WebSocket is closed", type);
  return NULL;
}

static PyObject *request_send(PyObject *op, PyObject *message) {
  request_object *self = (request_object *)op;
  asgid_event event;
  python_event_storage storage;
  int rc = ASGID_E_INVALID;
  int parsed = python_message_event(message, &event, &storage);
  if (parsed == 0 && self->req) {
    rc = server->send(self->req, &event);
    python_loop_wake();
  }
  python_event_storage_release(&storage);
  if (parsed != 0) return NULL;
  if (rc == ASGID_OK && (event.type == ASGID_LIFESPAN_STARTUP_FAILED ||
                         event.type == ASGID_LIFESPAN_SHUTDOWN_FAILED))
    self->lifespan_progress = 2; /* the server logged its message */
  const char *type = asgi_event_of(event.type)->name;
  int websocket = self->type == ASGID_SCOPE_WEBSOCKET;
  if (!self->req) {
    if (websocket) return client_disconnected(type);
    PyErr_Format(PyExc_RuntimeError, "unexpected ASGI message '%s' after the app returned",
                 type);
    return NULL;
  }
  if (rc == ASGID_E_INVALID) {
    PyErr_Format(PyExc_RuntimeError,
                 websocket ? "unexpected ASGI message '%s': out of order (a send before "
                             "accept, a second accept, the denial response after accept), a "
                             "subprotocol the client did not offer, a sec-websocket-* or "
                             "invalid header, a close code or reason not allowed, or text "
                             "that is not UTF-8"
                           : "unexpected ASGI message '%s': out of order, after the response "
                             "completed, or with an invalid status or header",
                 type);
    return NULL;
  }
  /* ASGI 2.4: a send on a closed WebSocket raises an OSError. (An HTTP send after the
   * client left is a no-op: the http scope speaks ASGI 2.3.) */
  if (rc == ASGID_E_DISCONNECTED && websocket) return client_disconnected(type);
  /* A streamed body, or a WebSocket message, that finds the client behind waits until the
   * server says it has caught up (request_writable). */
  int streams = (event.type == ASGID_HTTP_RESPONSE_BODY && event.u.response_body.more_body) ||
                event.type == ASGID_WEBSOCKET_SEND;
  if (rc == ASGID_OK && streams && server->wait_writable(self->req) == 1) {
    /* Concurrent senders wait on the same drain: the client catching up frees them all. */
    if (!self->drain && !(self->drain = PyObject_CallNoArgs(create_future))) return NULL;
    return python_awaitable_pending(self->drain);
  }
  return python_awaitable_none();
}

/* The app raised in a WebSocket scope: 500 before accept, close 1011 after (see the top). */
static void websocket_failed(asgid_request *req) {
  static const char body[] = "500 Internal Server Error\n";
  static const asgid_header headers[] = {
      {"content-type", 12, "text/plain; charset=utf-8", 25},
      {"content-length", 14, "26", 2},
  };
  static const asgid_event denial = {.type = ASGID_WEBSOCKET_HTTP_RESPONSE_START,
                                     .u.response_start = {500, headers, 2}};
  static const asgid_event denial_body = {
      .type = ASGID_WEBSOCKET_HTTP_RESPONSE_BODY,
      .u.response_body = {(const uint8_t *)body, sizeof body - 1, 0}};
  static const asgid_event close = {.type = ASGID_WEBSOCKET_CLOSE,
                                    .u.websocket_close = {.code = 1011}};
  if (server->send(req, &denial) != ASGID_E_INVALID)
    server->send(req, &denial_body);
  else
    server->send(req, &close);
}

/* ---------------------------------------------------------------- the app returned */

int python_request_lifespan_progress(PyObject *op) {
  const request_object *self = (const request_object *)op;
  return self->type == ASGID_SCOPE_LIFESPAN ? (int)self->lifespan_progress : -1;
}

void python_request_finish(PyObject *op, int failed) {
  request_object *self = (request_object *)op;
  if (!self->req) return;
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  if (failed && self->type == ASGID_SCOPE_WEBSOCKET) websocket_failed(self->req);
  server->done(self->req);
  self->req = NULL;
  python_loop_wake();
  /* Tasks the app left waiting would wait forever: a receive() hears the disconnect, a
   * send() waiting for the client completes (and its next send raises). */
  PyObject *waiters = self->waiters, *drain = self->drain;
  self->waiters = self->drain = NULL;
  int broken = drain && python_future_finish(drain, Py_None) != 0;
  for (Py_ssize_t i = 0; !broken && waiters && self->type != ASGID_SCOPE_LIFESPAN &&
                         i < PyList_GET_SIZE(waiters);
       i++) {
    PyObject *event = disconnect_event(self);
    broken = !event || python_future_finish(PyList_GET_ITEM(waiters, i), event) != 0;
    Py_XDECREF(event);
  }
  Py_XDECREF(waiters);
  Py_XDECREF(drain);
  if (broken) PyErr_WriteUnraisable(op);
  Py_DECREF(op); /* the server's reference, taken in python_request_start */
  PyErr_Restore(type, value, tb);
}

/* ---------------------------------------------------------------- the type */

static int request_traverse(PyObject *op, visitproc visit, void *arg) {
  request_object *self = (request_object *)op;
  Py_VISIT(self->waiters);
  Py_VISIT(self->pending);
  Py_VISIT(self->drain);
  return 0;
}

static int request_clear(PyObject *op) {
  request_object *self = (request_object *)op;
  Py_CLEAR(self->waiters);
  Py_CLEAR(self->pending);
  Py_CLEAR(self->drain);
  return 0;
}

static void request_dealloc(PyObject *op) {
  PyObject_GC_UnTrack(op);
  request_clear(op);
  Py_TYPE(op)->tp_free(op);
}

static PyMethodDef receive_def = {"receive", request_receive, METH_NOARGS,
                                  "ASGI receive(): await it for the next event."};
static PyMethodDef send_def = {"send", request_send, METH_O,
                               "ASGI send(message): await it."};

static PyTypeObject request_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_asgid.Request",
    .tp_doc = "One ASGI connection scope between asgid and the app.",
    .tp_basicsize = sizeof(request_object),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_dealloc = request_dealloc,
    .tp_traverse = request_traverse,
    .tp_clear = request_clear,
};

/* ---------------------------------------------------------------- the server's side */

int python_request_init(const asgid_server_api *api, PyObject *loop) {
  server = api;
  if (PyType_Ready(&request_type) != 0 || python_awaitable_init() != 0) return -1;
  create_future = PyObject_GetAttrString(loop, "create_future");
  lifespan_state = PyDict_New();
  return create_future && lifespan_state ? 0 : -1;
}

int python_request_start(asgid_request *req, PyObject *scope, asgid_scope_type type) {
  int lifespan = type == ASGID_SCOPE_LIFESPAN;
  PyObject *state = lifespan ? Py_NewRef(lifespan_state) : PyDict_Copy(lifespan_state);
  if (!state || PyDict_SetItem(scope, pystr.state, state) != 0) {
    Py_XDECREF(state);
    return -1;
  }
  Py_DECREF(state);
  request_object *self = PyObject_GC_New(request_object, &request_type);
  if (!self) return -1;
  self->req = req;
  self->waiters = self->pending = self->drain = NULL;
  self->asking = 0;
  self->type = type;
  self->lifespan_progress = 0;
  PyObject_GC_Track((PyObject *)self);
  /* From here the server holds our reference; python_request_finish drops it. Set before the
   * app runs: an eager first step may run it to its end inside python_runner_start. */
  server->set_request_data(req, self);
  PyObject *receive = PyCFunction_New(&receive_def, (PyObject *)self);
  PyObject *send = PyCFunction_New(&send_def, (PyObject *)self);
  Py_INCREF(self); /* ours, while the app may already have ended */
  int rc = receive && send ? python_runner_start((PyObject *)self, scope, receive, send) : -1;
  Py_XDECREF(receive);
  Py_XDECREF(send);
  if (rc != 0 && self->req) { /* no runner runs the app: nothing will finish it */
    server->set_request_data(req, NULL);
    self->req = NULL;
    Py_DECREF(self); /* the server's */
  }
  Py_DECREF(self);
  return rc;
}

int python_request_deliver(asgid_request *req, PyObject *event) {
  request_object *self = server->request_data(req);
  return self ? deliver(self, event) : 0;
}

int python_request_writable(asgid_request *req) {
  request_object *self = server->request_data(req);
  if (!self || !self->drain) return 0;
  PyObject *drain = self->drain;
  self->drain = NULL;
  int rc = python_future_finish(drain, Py_None);
  Py_DECREF(drain);
  return rc;
}
