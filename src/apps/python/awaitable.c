/*
 * awaitable.c - what receive() and send() return to the app: one small C type that is
 * "done" (a result known at once) or "pending" (the result of an asyncio future).
 *
 * A done awaitable completes without a Future, a Task wake-up or a StopIteration object:
 * CPython 3.10+ awaits through am_send, which hands the result back directly. A pending one
 * delegates to its future's own awaiting iterator, so the Task sees a real asyncio Future
 * (its fast path) and cancellation behaves as for any awaited future.
 *
 * It implements the whole coroutine protocol (__await__, send, throw, close), so that
 * asyncio.iscoroutine() accepts it and asyncio.create_task(receive()) works, as it does with
 * servers whose receive is a coroutine function (Django Channels does this).
 */
#include "apps/python/python_internal.h"

typedef struct {
  PyObject_HEAD
  PyObject *result; /* done: what awaiting returns (NULL: None) */
  PyObject *future; /* pending: the asyncio future whose result is awaited */
  PyObject *iter;   /* pending: the future's __await__ iterator, once awaiting started */
  PyObject *owner;  /* a receive(): the request object its event comes from, or NULL */
  int settled;      /* the result reached the awaiting code, or went back to the owner */
} awaitable;

static PyTypeObject awaitable_type;
static PyObject *done_none; /* the shared "completes with None": what a send returns */

static PySendResult awaitable_am_send(PyObject *self, PyObject *arg, PyObject **result) {
  awaitable *a = (awaitable *)self;
  if (!a->future) {
    a->settled = 1;
    *result = Py_NewRef(a->result ? a->result : Py_None);
    return PYGEN_RETURN;
  }
  if (!a->iter) {
    a->iter = PyObject_CallMethodNoArgs(a->future, pystr.await);
    if (!a->iter) {
      *result = NULL;
      return PYGEN_ERROR;
    }
  }
  PySendResult status = PyIter_Send(a->iter, arg, result);
  if (status != PYGEN_NEXT) a->settled = 1;
  return status;
}

/* A receive() that ends without its event reaching the app (its Task was cancelled after the
 * event came, or it was dropped unawaited) gives the event back to the request, or cancels its
 * future if nothing came yet, so that no event is lost. */
static void give_back(awaitable *a) {
  if (a->settled || !a->owner) return;
  a->settled = 1;
  python_request_unclaimed(a->owner, a->future ? NULL : a->result, a->future);
}

/* The result of a send step as Python's iterator protocol wants it: the yielded value, or
 * NULL with StopIteration(value) set when the awaitable completed. */
static PyObject *step(PyObject *self, PyObject *arg) {
  PyObject *result;
  PySendResult status = awaitable_am_send(self, arg, &result);
  if (status != PYGEN_RETURN) return result;
  /* An exception instance, not PyErr_SetObject(StopIteration, result): a tuple result would
   * be taken as the exception's arguments. */
  PyObject *stop = PyObject_CallOneArg(PyExc_StopIteration, result);
  Py_DECREF(result);
  if (stop) {
    PyErr_SetObject(PyExc_StopIteration, stop);
    Py_DECREF(stop);
  }
  return NULL;
}

static PyObject *awaitable_iternext(PyObject *self) { return step(self, Py_None); }

static PyObject *awaitable_send(PyObject *self, PyObject *arg) { return step(self, arg); }

/* throw(value) or throw(type[, value[, traceback]]): into the future's iterator while
 * pending (cancellation of the awaiting Task arrives this way), else raised here. */
static PyObject *awaitable_throw(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  awaitable *a = (awaitable *)self;
  if (nargs < 1 || nargs > 3) {
    PyErr_SetString(PyExc_TypeError, "throw() takes 1 to 3 arguments");
    return NULL;
  }
  if (a->iter && !a->settled) {
    PyObject *throw_method = PyObject_GetAttrString(a->iter, "throw");
    if (!throw_method) return NULL;
    PyObject *r = PyObject_Vectorcall(throw_method, args, (size_t)nargs, NULL);
    Py_DECREF(throw_method);
    if (!r) give_back(a);
    return r;
  }
  give_back(a);
  python_raise_thrown(args, nargs);
  return NULL;
}

static PyObject *awaitable_close(PyObject *self, PyObject *unused) {
  (void)unused;
  give_back((awaitable *)self);
  Py_RETURN_NONE;
}

static PyObject *awaitable_await(PyObject *self) { return Py_NewRef(self); }

/* A pending awaitable sits in a reference cycle while it waits (Task -> coroutine frame ->
 * awaitable -> future -> the Task's wake-up callback): the cycle collector must see it. */
static int awaitable_traverse(PyObject *self, visitproc visit, void *arg) {
  awaitable *a = (awaitable *)self;
  Py_VISIT(a->result);
  Py_VISIT(a->future);
  Py_VISIT(a->iter);
  Py_VISIT(a->owner);
  return 0;
}

static int awaitable_clear(PyObject *self) {
  awaitable *a = (awaitable *)self;
  Py_CLEAR(a->result);
  Py_CLEAR(a->future);
  Py_CLEAR(a->iter);
  Py_CLEAR(a->owner);
  return 0;
}

static void awaitable_dealloc(PyObject *self) {
  PyObject_GC_UnTrack(self);
  give_back((awaitable *)self);
  awaitable_clear(self);
  Py_TYPE(self)->tp_free(self);
}

static PyMethodDef awaitable_methods[] = {
    {"send", awaitable_send, METH_O, NULL},
    {"throw", (PyCFunction)(void (*)(void))awaitable_throw, METH_FASTCALL, NULL},
    {"close", awaitable_close, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyAsyncMethods awaitable_async = {
    .am_await = awaitable_await,
    .am_send = awaitable_am_send,
};

static PyTypeObject awaitable_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_asgid.Awaitable",
    .tp_doc = "What asgid's receive() and send() return: await it.",
    .tp_basicsize = sizeof(awaitable),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_dealloc = awaitable_dealloc,
    .tp_traverse = awaitable_traverse,
    .tp_clear = awaitable_clear,
    .tp_as_async = &awaitable_async,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = awaitable_iternext,
    .tp_methods = awaitable_methods,
};

int python_awaitable_init(void) {
  if (PyType_Ready(&awaitable_type) != 0) return -1;
  done_none = PyType_GenericAlloc(&awaitable_type, 0);
  return done_none ? 0 : -1;
}

PyObject *python_awaitable_none(void) { return Py_NewRef(done_none); }

PyObject *python_awaitable_done(PyObject *result) {
  awaitable *a = (awaitable *)PyType_GenericAlloc(&awaitable_type, 0);
  if (a) a->result = Py_NewRef(result);
  return (PyObject *)a;
}

PyObject *python_awaitable_pending(PyObject *future) {
  awaitable *a = (awaitable *)PyType_GenericAlloc(&awaitable_type, 0);
  if (a) a->future = Py_NewRef(future);
  return (PyObject *)a;
}

PyObject *python_awaitable_receive(PyObject *owner, PyObject *event, PyObject *future) {
  awaitable *a = (awaitable *)(future ? python_awaitable_pending(future)
                                      : python_awaitable_done(event));
  if (a) a->owner = Py_NewRef(owner);
  return (PyObject *)a;
}
