/*
 * coroutine_support.c - what the Python adapter's C coroutine objects (awaitable.c, runner.c)
 * and its users of asyncio futures (request_object.c, runner.c) share: completing futures, and
 * the exceptions of the coroutine protocol's throw().
 */
#include "apps/python/python_internal.h"

int python_future_done(PyObject *future) {
  PyObject *r = PyObject_CallMethodNoArgs(future, pystr.done);
  if (!r) return -1;
  int done = PyObject_IsTrue(r);
  Py_DECREF(r);
  return done;
}

int python_future_finish(PyObject *future, PyObject *value) {
  int done = python_future_done(future);
  if (done != 0) return done < 0 ? -1 : 0;
  PyObject *r = PyObject_CallMethodOneArg(future, pystr.set_result, value);
  Py_XDECREF(r);
  return r ? 0 : -1;
}

int python_raise_thrown(PyObject *const *args, Py_ssize_t nargs) {
  PyObject *type = args[0], *value = nargs > 1 ? args[1] : NULL, *tb = nargs > 2 ? args[2] : NULL;
  if (PyExceptionInstance_Check(type)) {
    value = type;
    type = (PyObject *)Py_TYPE(type);
  } else if (!PyExceptionClass_Check(type)) {
    PyErr_SetString(PyExc_TypeError, "exceptions must derive from BaseException");
    return -1;
  }
  PyErr_Restore(Py_NewRef(type), Py_XNewRef(value),
                tb && PyTraceBack_Check(tb) ? Py_NewRef(tb) : NULL);
  return 0;
}

PyObject *python_take_exception(void) {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  if (!type) return NULL;
  PyErr_NormalizeException(&type, &value, &tb);
  if (tb) PyException_SetTraceback(value, tb);
  Py_DECREF(type);
  Py_XDECREF(tb);
  return value;
}

void python_restore_exception(PyObject *exception) {
  PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exception)), exception,
                PyException_GetTraceback(exception));
}
