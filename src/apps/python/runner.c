/*
 * runner.c - the asyncio Tasks that run the app's coroutines: one per scope at a time,
 * reused from scope to scope, and an eager first step.
 *
 * Apps need a real asyncio Task around their code (asyncio.current_task(), anyio's and
 * sniffio's detection, cancel scopes, TaskGroup parents), but creating one per request was a
 * quarter of the Python classes' CPU per request (Task construction, its name, the WeakSet
 * of all tasks, its first call_soon). So a runner owns one Task, whose coroutine it is (it
 * implements the coroutine protocol); it runs one scope's app after another on it, each in a
 * fresh copy of the worker's context (contextvars stay per request, as with a Task per
 * request), and an idle runner's Task waits on a "park" future in a pool.
 *
 * Eager start (as Python 3.12's eager task factory does): a scope that begins in the driver's
 * pump takes an idle runner and runs the app's first step at once, with the runner's Task
 * entered as the current task. An app that answers without waiting (a hello world, a cached
 * page) then never wakes its Task. An app that waits hands what it yielded over to the Task
 * (the park future is resolved, the Task wakes and awaits it), and runs on it from there.
 * A cancel of the Task during that step cancels the park future, and reaches the app when
 * the Task wakes, as it would have at the app's next suspension (from Python 3.13 on, unless
 * taken back by then).
 *
 * Differences from a Task per request, all deliberate: Task names and identities repeat
 * across requests, and idle runners' Tasks are among asyncio.all_tasks(); a runner whose Task
 * is cancelled while idle (an app cancelling every task at shutdown) ends, as does one whose
 * request ended with a cancel it did not take back (its Task's cancelling() count would
 * mislead asyncio.timeout and TaskGroup in the next request); the pool makes new ones. A
 * Task kept by the app beyond its request and cancelled later reaches whatever that runner
 * runs then.
 */
#include "apps/python/python_internal.h"

#include "log/log.h"

/* Idle runners kept: enough for the requests a worker runs at once in practice; beyond it a
 * runner's Task ends when its request does. */
#define POOL_MAX 256

typedef struct runner {
  PyObject_HEAD
  PyObject *task;    /* the asyncio Task whose coroutine awaits this runner */
  PyObject *park;    /* the future the idle Task waits on, or NULL */
  PyObject *request; /* the current scope's request object, or NULL when idle */
  PyObject *scope, *receive, *send; /* the app's arguments, until it is called */
  PyObject *context; /* the current scope's contextvars.Context */
  PyObject *app;     /* the app's awaitable iterator, once it was called */
  PyObject *yielded; /* what an eager step yielded, for the Task to take over */
  PyObject *fatal;   /* SystemExit or KeyboardInterrupt of an eager step, for the Task */
  unsigned handover : 1; /* yielded waits for the Task */
  unsigned dead : 1;     /* the Task ended, or will: never reused */
} runner;

/* Every object reference a runner holds: the cycle collector must see them all. */
#define RUNNER_REFERENCES(X) \
  X(task) X(park) X(request) X(scope) X(receive) X(send) X(context) X(app) X(yielded) X(fatal)

static PyTypeObject runner_type;
static PyObject *app;          /* the ASGI app */
static PyObject *report; /* glue.report(scope, exc, lifespan_progress): logs what the app raised */
static PyObject *create_task, *create_future, *event_loop;
static PyObject *enter_task, *leave_task; /* asyncio's, or NULL: no eager steps */
static PyObject *cancelled_error;
static PyObject *base_context; /* the worker's context: each scope runs in a copy */
static runner *pool[POOL_MAX];
static int pool_size;

/* ---------------------------------------------------------------- running the app */

/* Calls the app and keeps the iterator that awaiting its result runs: the coroutine itself,
 * or what __await__ returns. 0, or -1 with an exception set. */
static int call_app(runner *r) {
  PyObject *args[] = {r->scope, r->receive, r->send};
  PyObject *result = PyObject_Vectorcall(app, args, 3, NULL);
  Py_CLEAR(r->receive);
  Py_CLEAR(r->send);
  if (!result) return -1;
  if (PyCoro_CheckExact(result)) {
    r->app = result;
    return 0;
  }
  unaryfunc await = Py_TYPE(result)->tp_as_async ? Py_TYPE(result)->tp_as_async->am_await : NULL;
  if (!await) {
    PyErr_Format(PyExc_TypeError, "the ASGI app returned '%.100s', which cannot be awaited",
                 Py_TYPE(result)->tp_name);
    Py_DECREF(result);
    return -1;
  }
  r->app = await(result);
  Py_DECREF(result);
  if (r->app && !PyIter_Check(r->app)) {
    PyErr_Format(PyExc_TypeError, "__await__() returned non-iterator of type '%.100s'",
                 Py_TYPE(r->app)->tp_name);
    Py_CLEAR(r->app);
  }
  return r->app ? 0 : -1;
}

/* exc thrown into the app's iterator: PYGEN_NEXT, PYGEN_RETURN or PYGEN_ERROR as PyIter_Send
 * answers. */
static PySendResult throw_into(PyObject *iter, PyObject *exc, PyObject **out) {
  PyObject *method = PyObject_GetAttr(iter, pystr.throw_);
  *out = method ? PyObject_CallOneArg(method, exc) : NULL;
  Py_XDECREF(method);
  if (*out) return PYGEN_NEXT;
  if (!PyErr_ExceptionMatches(PyExc_StopIteration)) return PYGEN_ERROR;
  PyObject *stop = python_take_exception();
  *out = Py_NewRef(((PyStopIterationObject *)stop)->value);
  Py_DECREF(stop);
  return PYGEN_RETURN;
}

/* The runner lets go of its scope. */
static void forget_scope(runner *r) {
  Py_CLEAR(r->request);
  Py_CLEAR(r->scope);
  Py_CLEAR(r->receive);
  Py_CLEAR(r->send);
  Py_CLEAR(r->context);
  Py_CLEAR(r->app);
}

/* The app's scope is over (failed: it did not return): the server hears it, the runner
 * forgets it. */
static void end_scope(runner *r, int failed) {
  python_request_finish(r->request, failed);
  forget_scope(r);
}

/* What the app raised: logged with its traceback, unless it is the app being cancelled or
 * closed. SystemExit and KeyboardInterrupt stay set (returns -1): they stop the worker. */
static int app_raised(runner *r) {
  if (PyErr_ExceptionMatches(cancelled_error) || PyErr_ExceptionMatches(PyExc_GeneratorExit)) {
    PyErr_Clear();
    return 0;
  }
  PyObject *exception = python_take_exception();
  int progress = python_request_lifespan_progress(r->request);
  PyObject *lifespan = progress < 0 ? Py_NewRef(Py_None) : PyLong_FromLong(progress);
  PyObject *logged =
      lifespan ? PyObject_CallFunctionObjArgs(report, r->scope, exception, lifespan, NULL) : NULL;
  Py_XDECREF(lifespan);
  if (!logged) PyErr_WriteUnraisable(report);
  Py_XDECREF(logged);
  if (PyErr_GivenExceptionMatches(exception, PyExc_SystemExit) ||
      PyErr_GivenExceptionMatches(exception, PyExc_KeyboardInterrupt)) {
    python_restore_exception(exception);
    return -1;
  }
  Py_DECREF(exception);
  return 0;
}

/* One step of the app inside its scope's context: value sent, or exc thrown. Returns 1 when
 * the app yielded (*yielded), 0 when its scope ended, -1 when it ended with SystemExit or
 * KeyboardInterrupt (set). */
static int app_step(runner *r, PyObject *value, PyObject *exc, PyObject **yielded) {
  PyObject *out = NULL;
  PySendResult status = PYGEN_ERROR;
  if (PyContext_Enter(r->context) == 0) {
    if (r->app || call_app(r) == 0)
      status = exc ? throw_into(r->app, exc, &out) : PyIter_Send(r->app, value, &out);
    PyContext_Exit(r->context); /* cannot fail: the context entered just above */
  }
  if (status == PYGEN_NEXT) {
    *yielded = out;
    return 1;
  }
  int rc = 0;
  if (status == PYGEN_RETURN) {
    if (out != Py_None) {
      PyObject *repr = PyObject_Repr(out);
      const char *text = repr ? PyUnicode_AsUTF8(repr) : NULL;
      log_error("ASGI app returned a value instead of None: %s", text ? text : "?");
      Py_XDECREF(repr);
      PyErr_Clear();
    }
    Py_DECREF(out);
  } else {
    rc = app_raised(r);
  }
  end_scope(r, status != PYGEN_RETURN);
  return rc;
}

/* ---------------------------------------------------------------- idle runners */

/* 1 when r's Task counts cancel requests not taken back (Task.cancelling()). */
static int task_cancelling(runner *r) {
  PyObject *count = PyObject_CallMethodNoArgs(r->task, pystr.cancelling);
  int rc = count ? PyObject_IsTrue(count) : 1;
  Py_XDECREF(count);
  PyErr_Clear();
  return rc != 0;
}

/* The Task of an idle runner waits on a new park future (yielded in *out). A full pool, or
 * a Task whose cancel count a request left above zero, ends the Task instead. PYGEN_NEXT or
 * PYGEN_RETURN, PYGEN_ERROR with an exception set. */
static PySendResult park(runner *r, PyObject **out) {
  if (pool_size == POOL_MAX || !python_loop_running() || task_cancelling(r)) {
    r->dead = 1;
    *out = Py_NewRef(Py_None);
    return PYGEN_RETURN;
  }
  PyObject *future = PyObject_CallNoArgs(create_future);
  /* What a future's __await__ sets before yielding it: the Task then waits on it. */
  if (!future || PyObject_SetAttr(future, pystr.asyncio_future_blocking, Py_True) != 0) {
    Py_XDECREF(future);
    *out = NULL;
    return PYGEN_ERROR;
  }
  r->park = Py_NewRef(future);
  pool[pool_size++] = (runner *)Py_NewRef(r);
  *out = future;
  return PYGEN_NEXT;
}

/* An idle runner whose Task waits on its park future, or NULL (no exception) when none. */
static runner *take_idle(void) {
  while (pool_size > 0) {
    runner *r = pool[--pool_size];
    /* A park future already done was cancelled: that Task is ending. */
    if (!r->dead && r->park && python_future_done(r->park) == 0) return r;
    PyErr_Clear();
    Py_DECREF(r);
  }
  return NULL;
}

/* r will not run another scope: its Task, if it waits on its park future, ends. */
static void retire(runner *r) {
  r->dead = 1;
  if (!r->park) return;
  PyObject *cancelled = PyObject_CallMethodNoArgs(r->park, pystr.cancel);
  Py_XDECREF(cancelled);
  Py_CLEAR(r->park);
  PyErr_Clear();
}

/* A new runner and its Task (which starts at the loop's next pass). */
static runner *new_runner(void) {
  runner *r = PyObject_GC_New(runner, &runner_type);
  if (!r) return NULL;
#define NULL_REFERENCE(field) r->field = NULL;
  RUNNER_REFERENCES(NULL_REFERENCE)
  r->handover = r->dead = 0;
  PyObject_GC_Track((PyObject *)r);
  /* The runner is its Task's coroutine (not a Python coroutine awaiting it: a cancel before
   * the Task's first step would end that one without reaching the runner). */
  r->task = PyObject_CallOneArg(create_task, (PyObject *)r);
  if (!r->task) Py_CLEAR(r);
  return r;
}

/* Wakes the Task of a parked runner (its park future completes). 0, or -1 with an exception
 * set (the park future is then still r's). */
static int wake(runner *r) {
  if (!r->park) return 0; /* a new Task: its first step comes anyway */
  /* One already done was cancelled: the Task wakes with that. */
  if (python_future_finish(r->park, Py_None) != 0) return -1;
  Py_CLEAR(r->park);
  return 0;
}

/* The app's first step, now, with r's Task as the current task. 0, or -1 when it cannot
 * (the caller wakes the Task instead). */
static int eager_step(runner *r) {
  PyObject *args[] = {event_loop, r->task};
  PyObject *entered = PyObject_Vectorcall(enter_task, args, 2, NULL);
  if (!entered) {
    PyErr_Clear(); /* another task is current: let the Task run it */
    return -1;
  }
  Py_DECREF(entered);
  PyObject *yielded = NULL;
  int rc = app_step(r, Py_None, NULL, &yielded);
  PyObject *fatal = rc < 0 ? python_take_exception() : NULL;
  PyObject *left = PyObject_Vectorcall(leave_task, args, 2, NULL);
  if (!left) PyErr_WriteUnraisable(leave_task);
  Py_XDECREF(left);
  if (rc == 0) { /* the scope ended: the runner stays parked, ready for the next one */
    if (pool_size < POOL_MAX) pool[pool_size++] = (runner *)Py_NewRef(r);
    else retire(r);
    return 0;
  }
  /* SystemExit, KeyboardInterrupt: raised by the Task, which stops the loop */
  if (rc < 0) r->fatal = fatal;
  else r->yielded = yielded;
  r->handover = 1;
  if (wake(r) != 0) {
    log_error("cannot wake the Task of an ASGI app");
    PyErr_Clear();
  }
  return 0;
}

/* ---------------------------------------------------------------- the server's side */

int python_runner_start(PyObject *request, PyObject *scope, PyObject *receive, PyObject *send) {
  runner *r = take_idle();
  /* Eager only on a parked Task (a new one has not started yet), outside any Task. */
  int eager = r && enter_task && python_loop_in_pump();
  if (!r && !(r = new_runner())) return -1;
  r->context = PyContext_Copy(base_context);
  if (!r->context) {
    retire(r);
    Py_DECREF(r);
    return -1;
  }
  r->request = Py_NewRef(request);
  r->scope = Py_NewRef(scope);
  r->receive = Py_NewRef(receive);
  r->send = Py_NewRef(send);
  int rc = 0;
  if ((!eager || eager_step(r) != 0) && (rc = wake(r)) != 0) {
    forget_scope(r); /* the app never ran: the caller ends the scope */
    retire(r);
  }
  Py_DECREF(r); /* the pool's, or the Task's: the runner lives on in its Task */
  return rc;
}

void python_runner_release(void) {
  while (pool_size > 0) {
    runner *r = pool[--pool_size];
    retire(r);
    Py_DECREF(r);
  }
}

/* ---------------------------------------------------------------- the Task's side */

/* The Task (through glue.serve) steps the runner: the app goes on, or takes over what an
 * eager step yielded, or the idle runner parks. */
static PySendResult runner_am_send(PyObject *op, PyObject *arg, PyObject **out) {
  runner *r = (runner *)op;
  if (!r->task) {
    /* The Task's first step, inside create_task: the app's task factory starts Tasks eagerly
     * (asyncio.eager_task_factory, Python 3.12+), before the runner has its Task or a scope.
     * A bare yield asks the Task for its next step at the loop's next pass, where a lazy
     * Task's first step comes. */
    *out = Py_NewRef(Py_None);
    return PYGEN_NEXT;
  }
  Py_CLEAR(r->park);
  if (r->fatal) {
    python_restore_exception(r->fatal);
    r->fatal = NULL;
    r->handover = 0;
    r->dead = 1;
    *out = NULL;
    return PYGEN_ERROR;
  }
  if (r->handover) {
    r->handover = 0;
    *out = r->yielded;
    r->yielded = NULL;
    return PYGEN_NEXT;
  }
  if (r->request) {
    int rc = app_step(r, arg, NULL, out);
    python_loop_step_done();
    if (rc == 1) return PYGEN_NEXT;
    if (rc < 0) {
      r->dead = 1;
      *out = NULL;
      return PYGEN_ERROR;
    }
  }
  return park(r, out);
}

static PyObject *send_result(PySendResult status, PyObject *out) {
  if (status != PYGEN_RETURN) return out;
  Py_DECREF(out);
  PyErr_SetNone(PyExc_StopIteration);
  return NULL;
}

static PyObject *runner_send(PyObject *op, PyObject *arg) {
  PyObject *out;
  PySendResult status = runner_am_send(op, arg, &out);
  return send_result(status, out);
}

static PyObject *runner_iternext(PyObject *op) { return runner_send(op, Py_None); }

/* throw(value) or throw(type[, value[, traceback]]) from the Task: the Task was cancelled
 * (or the yield it got was wrong). It goes into the app; an idle runner ends with it. */
static PyObject *runner_throw(PyObject *op, PyObject *const *args, Py_ssize_t nargs) {
  runner *r = (runner *)op;
  if (nargs < 1 || nargs > 3) {
    PyErr_SetString(PyExc_TypeError, "throw() takes 1 to 3 arguments");
    return NULL;
  }
  if (python_raise_thrown(args, nargs) != 0) return NULL;
  PyObject *value = python_take_exception();
  Py_CLEAR(r->park);
  if (r->fatal) { /* SystemExit or KeyboardInterrupt of an eager step comes first */
    Py_DECREF(value);
    return runner_send(op, Py_None);
  }
  if (!r->request) { /* idle: the Task ends with it */
    r->dead = 1;
    python_restore_exception(value);
    return NULL;
  }
  if (r->handover) {
#if PY_VERSION_HEX >= 0x030D0000
    /* Every cancel was taken back (uncancel(), cancelling() is 0) before the Task took over:
     * the app's eager step cancelled its Task and uncancelled it before it waited. A Task
     * running its own step only notes such a cancel, and from Python 3.13 on uncancel()
     * forgets it; but the runner's Task seemed to wait on its park future, which the cancel
     * cancelled. So the Task takes over what the app yielded, as if woken as usual. */
    if (PyObject_IsInstance(value, cancelled_error) == 1 && !task_cancelling(r)) {
      Py_DECREF(value);
      return runner_send(op, Py_None);
    }
#endif
    /* The Task was cancelled before it took over what the app's eager step yielded. As
     * Task.cancel() does with the future it waits on: that is cancelled with the same
     * message, and if it accepts, the Task waits for it to end (an awaited task may handle
     * its cancel and return); else the cancel goes into the app. */
    r->handover = 0;
    PyObject *waited = r->yielded;
    r->yielded = NULL;
    if (waited && waited != Py_None && PyObject_IsInstance(value, cancelled_error) == 1 &&
        PyObject_HasAttr(waited, pystr.cancel)) {
      PyObject *cancel_args = PyObject_GetAttrString(value, "args");
      PyObject *accepted =
          cancel_args && PyTuple_Check(cancel_args) && PyTuple_GET_SIZE(cancel_args) > 0
              ? PyObject_CallMethodOneArg(waited, pystr.cancel, PyTuple_GET_ITEM(cancel_args, 0))
              : PyObject_CallMethodNoArgs(waited, pystr.cancel);
      Py_XDECREF(cancel_args);
      int waits = accepted == Py_True;
      Py_XDECREF(accepted);
      if (waits) {
        Py_DECREF(value);
        return waited;
      }
    }
    PyErr_Clear();
    Py_XDECREF(waited);
  }
  PyObject *out = NULL;
  int rc = app_step(r, NULL, value, &out);
  Py_DECREF(value);
  python_loop_step_done();
  if (rc == 1) return out;
  if (rc < 0) {
    r->dead = 1;
    return NULL;
  }
  PySendResult status = park(r, &out);
  return send_result(status, out);
}

/* The runner is closed, or goes away, with a scope still running (its Task was destroyed
 * while pending): the app's coroutine is closed too, and the scope ends for the server. */
static void stop(runner *r) {
  r->dead = 1;
  Py_CLEAR(r->fatal);
  Py_CLEAR(r->yielded);
  r->handover = 0;
  if (!r->request) return;
  if (r->app) {
    PyObject *closed = PyObject_CallMethod(r->app, "close", NULL);
    if (!closed) PyErr_WriteUnraisable(r->app);
    Py_XDECREF(closed);
  }
  end_scope(r, 1);
}

static PyObject *runner_close(PyObject *op, PyObject *unused) {
  (void)unused;
  stop((runner *)op);
  Py_RETURN_NONE;
}

static void runner_finalize(PyObject *op) {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  stop((runner *)op);
  PyErr_Restore(type, value, tb);
}

static PyObject *runner_await(PyObject *op) { return Py_NewRef(op); }

static int runner_traverse(PyObject *op, visitproc visit, void *arg) {
  runner *r = (runner *)op;
#define VISIT_REFERENCE(field) Py_VISIT(r->field);
  RUNNER_REFERENCES(VISIT_REFERENCE)
  return 0;
}

static int runner_clear(PyObject *op) {
  runner *r = (runner *)op;
#define CLEAR_REFERENCE(field) Py_CLEAR(r->field);
  RUNNER_REFERENCES(CLEAR_REFERENCE)
  return 0;
}

static void runner_dealloc(PyObject *op) {
  if (PyObject_CallFinalizerFromDealloc(op) != 0) return; /* resurrected */
  PyObject_GC_UnTrack(op);
  runner_clear(op);
  Py_TYPE(op)->tp_free(op);
}

static PyMethodDef runner_methods[] = {
    {"send", runner_send, METH_O, NULL},
    {"throw", (PyCFunction)(void (*)(void))runner_throw, METH_FASTCALL, NULL},
    {"close", runner_close, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyAsyncMethods runner_async = {
    .am_await = runner_await,
    .am_send = runner_am_send,
};

static PyTypeObject runner_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_asgid.Runner",
    .tp_doc = "Runs ASGI app coroutines, one scope after another, on its asyncio Task.",
    .tp_basicsize = sizeof(runner),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_dealloc = runner_dealloc,
    .tp_finalize = runner_finalize,
    .tp_traverse = runner_traverse,
    .tp_clear = runner_clear,
    .tp_as_async = &runner_async,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = runner_iternext,
    .tp_methods = runner_methods,
};

int python_runner_init(PyObject *loop, PyObject *glue) {
  if (PyType_Ready(&runner_type) != 0) return -1;
  app = PyObject_GetAttrString(glue, "app");
  report = PyObject_GetAttrString(glue, "report");
  create_task = PyObject_GetAttrString(loop, "create_task");
  create_future = PyObject_GetAttrString(loop, "create_future");
  event_loop = Py_NewRef(loop);
  base_context = PyContext_CopyCurrent();
  PyObject *tasks = PyImport_ImportModule("asyncio.tasks");
  PyObject *exceptions = PyImport_ImportModule("asyncio.exceptions");
  cancelled_error = exceptions ? PyObject_GetAttrString(exceptions, "CancelledError") : NULL;
  Py_XDECREF(exceptions);
  if (tasks) {
    /* Private to asyncio, but stable from 3.7 on (3.12's eager tasks use them); without them
     * every scope starts on its Task. The public way to an eager first step, a Task made with
     * eager_start (asyncio.eager_task_factory), is a Task per request: what runners avoid. */
    enter_task = PyObject_GetAttrString(tasks, "_enter_task");
    leave_task = enter_task ? PyObject_GetAttrString(tasks, "_leave_task") : NULL;
    if (!leave_task) Py_CLEAR(enter_task);
    PyErr_Clear();
    Py_DECREF(tasks);
  }
  return app && report && create_task && create_future && base_context &&
                 cancelled_error
             ? 0
             : -1;
}
