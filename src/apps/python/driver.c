/*
 * driver.c - asyncio drives, libuv runs inside it (shared/python-worker.md, design A).
 *
 * libuv's backend descriptor (its epoll set) is registered with loop.add_reader: whenever any
 * libuv watcher is ready, asyncio calls pump(), which runs uv_run(UV_RUN_NOWAIT). After each
 * pump the earliest libuv deadline becomes one asyncio timer (replaced only when the deadline
 * moves earlier).
 *
 * Server calls made from Python outside a pump (the app's sends, done) schedule one coalesced
 * call_soon(settle): it runs the server's deferred work (flushing the responses of all the
 * Tasks that ran in this loop pass, moving exchanges on) without a libuv poll. Polling right
 * after those writes would read the few requests clients have answered so far, and cut the
 * loop's batches into small pieces: the clients then sleep and are woken about ten times as
 * often, which the server pays for in kernel time (measured: ~1 us per request with
 * Starlette). New requests arrive through the reader instead, in the batch of the next pass,
 * as with uvloop's own streams. Only when libuv itself has work pending does settle pump.
 *
 * The settle comes after every Task that was ready in the pass, so a response made by one
 * Task waits for the others: that is the batching. A pass whose Tasks compute for a while
 * must not hold it for long, though: after each app step on a Task, the server flushes the
 * output that has waited too long, as it does after each of its own callbacks.
 */
#include "apps/python/python_internal.h"

#include "log/log.h"

static PyObject *event_loop;
static PyObject *call_soon, *call_later; /* the loop's bound methods, looked up once */
static uv_loop_t *uv;
static PyObject *pump_callable, *settle_callable;
static int pump_scheduled, settle_scheduled;
static int in_pump; /* in a pump or a settle: server calls need no wake of their own */
static void (*deferred_work)(void *arg); /* the server's end-of-pass work, and its argument */
static void (*flush_overdue)(void *arg); /* the server's output that has waited too long */
static void *deferred_arg;
static PyObject *timer_handle; /* the pending call_later(pump), or NULL */
static uint64_t timer_due_ms;  /* when it fires, on uv_hrtime's clock (asyncio's and uvloop's
                                  own clocks differ, so only delays are handed to them) */

static PyObject *pump(PyObject *self, PyObject *unused);
static PyObject *settle(PyObject *self, PyObject *unused);
static PyObject *timer_fired(PyObject *self, PyObject *unused);
static PyMethodDef pump_def = {"asgid_pump", pump, METH_NOARGS, "Runs libuv once."};
static PyMethodDef settle_def = {"asgid_settle", settle, METH_NOARGS,
                                 "Runs the server's deferred work after app calls."};
static PyMethodDef timer_def = {"asgid_timer", timer_fired, METH_NOARGS,
                                "libuv's earliest deadline came: runs libuv once."};
static PyObject *timer_callable;

int python_driver_init(PyObject *loop) {
  pump_callable = PyCFunction_New(&pump_def, NULL);
  settle_callable = PyCFunction_New(&settle_def, NULL);
  timer_callable = PyCFunction_New(&timer_def, NULL);
  call_soon = PyObject_GetAttrString(loop, "call_soon");
  call_later = PyObject_GetAttrString(loop, "call_later");
  if (!pump_callable || !settle_callable || !timer_callable || !call_soon || !call_later)
    return -1;
  Py_INCREF(loop);
  event_loop = loop;
  return 0;
}

static uint64_t now_ms(void) { return uv_hrtime() / 1000000; }

static void drop_timer(void) {
  if (!timer_handle) return;
  PyObject *r = PyObject_CallMethod(timer_handle, "cancel", NULL);
  Py_XDECREF(r);
  Py_CLEAR(timer_handle);
}

static void stop_asyncio(void) {
  PyObject *r = PyObject_CallMethod(event_loop, "stop", NULL);
  Py_XDECREF(r);
}

int python_loop_running(void) { return uv != NULL; }

int python_loop_in_pump(void) { return in_pump; }

static void schedule(PyObject *callable, int *scheduled) {
  PyObject *handle = PyObject_CallOneArg(call_soon, callable);
  if (!handle) {
    python_log_exception(LOG_LEVEL_ERROR, "cannot schedule the libuv pump");
    return;
  }
  Py_DECREF(handle);
  *scheduled = 1;
}

/* libuv has work of its own: run it (and poll) soon. */
static void wake_pump(void) {
  if (!pump_scheduled && event_loop) schedule(pump_callable, &pump_scheduled);
}

void python_loop_wake(void) {
  if (pump_scheduled || settle_scheduled || in_pump || !event_loop) return;
  schedule(settle_callable, &settle_scheduled);
}

void python_loop_step_done(void) {
  /* A flush only, never a pump: a pump here would start eager app steps inside this Task's
   * step. The scheduled settle still comes, for the rest. */
  if (uv && !in_pump) flush_overdue(deferred_arg);
}

/* After a pump: wake asyncio again when libuv next needs to run. A timeout of 0 includes
 * watcher changes libuv has not applied yet (a uv_read_start from an I/O callback, say: a
 * connection just accepted), which only its next poll makes visible to the backend
 * descriptor asyncio watches: uv_backend_timeout counts them from libuv 1.44.2 on (CMake
 * requires it with Python), so no private loop field is read. */
static void reschedule(void) {
  if (!uv_loop_alive(uv)) {
    drop_timer();
    stop_asyncio();
    return;
  }
  int timeout = uv_backend_timeout(uv);
  if (timeout == 0) {
    wake_pump();
  } else if (timeout > 0) {
    uint64_t due = now_ms() + (uint64_t)timeout;
    if (timer_handle && timer_due_ms <= due) return;
    drop_timer();
    PyObject *delay = PyFloat_FromDouble(timeout / 1000.0);
    timer_handle = delay ? PyObject_CallFunctionObjArgs(call_later, delay, timer_callable, NULL)
                         : NULL;
    Py_XDECREF(delay);
    if (!timer_handle) {
      python_log_exception(LOG_LEVEL_ERROR, "cannot schedule the libuv timer");
    }
    timer_due_ms = due;
  }
}

static PyObject *pump(PyObject *self, PyObject *unused) {
  (void)self;
  (void)unused;
  pump_scheduled = 0;
  if (!uv) Py_RETURN_NONE; /* before the loop runs (python_loop_run pumps first), or after */
  /* Server calls that Python code makes meanwhile need no wake of their own: what they leave
   * for libuv is seen below. */
  in_pump = 1;
  uv_run(uv, UV_RUN_NOWAIT);
  in_pump = 0;
  reschedule();
  Py_RETURN_NONE;
}

static PyObject *settle(PyObject *self, PyObject *unused) {
  settle_scheduled = 0;
  if (!uv || pump_scheduled) Py_RETURN_NONE; /* a pump comes anyway and does it all */
  uv_update_time(uv); /* deadlines set now count from now, not from the last pump */
  in_pump = 1;
  deferred_work(deferred_arg);
  in_pump = 0;
  if (uv_backend_timeout(uv) == 0) return pump(self, unused);
  reschedule();
  Py_RETURN_NONE;
}

/* The timer's own callable: that it ran is the only sure sign it fired (the loop's clock and
 * libuv's differ, and uvloop's is cached, so its timers may fire before timer_due_ms). */
static PyObject *timer_fired(PyObject *self, PyObject *unused) {
  Py_CLEAR(timer_handle);
  return pump(self, unused);
}

void python_loop_run(uv_loop_t *loop, void (*deferred)(void *arg),
                     void (*flush_if_overdue)(void *arg), void *arg) {
  uv = loop;
  deferred_work = deferred;
  flush_overdue = flush_if_overdue;
  deferred_arg = arg;
  PyObject *added = PyObject_CallMethod(event_loop, "add_reader", "iO", uv_backend_fd(loop),
                                        pump_callable);
  if (!added) {
    python_log_exception(LOG_LEVEL_ERROR, "cannot register libuv with the asyncio loop");
    return;
  }
  Py_DECREF(added);
  wake_pump(); /* the first pump arms everything */
  PyObject *r = PyObject_CallMethod(event_loop, "run_forever", NULL);
  if (!r) python_log_exception(LOG_LEVEL_ERROR, "the asyncio loop stopped with an exception");
  Py_XDECREF(r);
  r = PyObject_CallMethod(event_loop, "remove_reader", "i", uv_backend_fd(loop));
  Py_XDECREF(r);
  PyErr_Clear();
  /* The loop runs again while the worker closes it (async generators, the executor): a pump
   * or timer still queued must not touch libuv, nor stop that run. */
  drop_timer();
  uv = NULL;
  python_runner_release();
}
