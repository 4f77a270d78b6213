/*
 * bridge.c - the Python app adapter: an asgid_app table whose callbacks turn scopes and events
 * into ASGI dicts for glue.py, and the built-in module `_asgid` through which glue.py calls
 * the server (receive, send, done, logging).
 *
 * Everything here runs on the worker's loop thread, which is also the asyncio thread and
 * holds the GIL (asyncio releases it while it waits).
 */
#include <stdint.h>
#include <string.h>

#include "apps/python/python_internal.h"
#include "log/log.h"

static const asgid_server_api *server;
static PyObject *glue_start, *glue_deliver, *glue_writable;

/* Interned strings and constant objects built once. */
static PyObject *k_type, *k_asgi, *k_http_version, *k_method, *k_scheme, *k_path, *k_raw_path,
    *k_query_string, *k_root_path, *k_headers, *k_client, *k_server, *k_body, *k_more_body,
    *k_status, *k_message;
static PyObject *v_http, *v_lifespan, *v_1_0, *v_1_1, *v_scheme_http, *asgi_info,
    *ev_http_request, *ev_http_disconnect, *ev_startup, *ev_shutdown, *empty_bytes;

static PyObject *handle_of(asgid_request *req) { return PyLong_FromVoidPtr(req); }

static asgid_request *request_of(PyObject *handle) {
  return (asgid_request *)PyLong_AsVoidPtr(handle);
}

/* Logs the pending Python exception (with its traceback) as one error log entry. */
static void log_python_error(const char *what) {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  PyObject *text = NULL;
  PyObject *tb_module = PyImport_ImportModule("traceback");
  if (tb_module && value) {
    PyObject *lines = PyObject_CallMethod(tb_module, "format_exception", "OOO",
                                          type, value, tb ? tb : Py_None);
    if (lines) {
      PyObject *sep = PyUnicode_FromString("");
      text = sep ? PyUnicode_Join(sep, lines) : NULL;
      Py_XDECREF(sep);
      Py_DECREF(lines);
    }
  }
  log_error("%s: %s", what, text ? PyUnicode_AsUTF8(text) : "(no details)");
  PyErr_Clear();
  Py_XDECREF(text);
  Py_XDECREF(tb_module);
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
}

/* ---------------------------------------------------------------- scope */

static PyObject *address(const asgid_address *a) {
  if (!a->present) Py_RETURN_NONE;
  if (a->port < 0) return Py_BuildValue("(sO)", a->host, Py_None);
  return Py_BuildValue("(si)", a->host, a->port);
}

static int set_item(PyObject *dict, PyObject *key, PyObject *value) {
  if (!value) return -1;
  int rc = PyDict_SetItem(dict, key, value);
  Py_DECREF(value);
  return rc;
}

static PyObject *http_scope(const asgid_scope *s) {
  PyObject *scope = PyDict_New();
  if (!scope) return NULL;
  PyObject *headers = PyList_New((Py_ssize_t)s->header_count);
  if (!headers) goto fail;
  for (size_t i = 0; i < s->header_count; i++) {
    const asgid_header *h = &s->headers[i];
    PyObject *pair = Py_BuildValue("(y#y#)", h->name, (Py_ssize_t)h->name_len, h->value,
                                   (Py_ssize_t)h->value_len);
    if (!pair) {
      Py_DECREF(headers);
      goto fail;
    }
    PyList_SET_ITEM(headers, (Py_ssize_t)i, pair);
  }
  if (PyDict_SetItem(scope, k_type, v_http) || PyDict_SetItem(scope, k_asgi, asgi_info) ||
      PyDict_SetItem(scope, k_http_version, s->http_version[2] == '1' ? v_1_1 : v_1_0) ||
      PyDict_SetItem(scope, k_scheme, v_scheme_http) ||
      set_item(scope, k_method, PyUnicode_FromString(s->method)) ||
      set_item(scope, k_path, PyUnicode_DecodeUTF8(s->path, (Py_ssize_t)s->path_len, "replace")) ||
      set_item(scope, k_raw_path, PyBytes_FromStringAndSize(s->raw_path, (Py_ssize_t)s->raw_path_len)) ||
      set_item(scope, k_query_string,
               PyBytes_FromStringAndSize(s->query_string, (Py_ssize_t)s->query_string_len)) ||
      set_item(scope, k_root_path, PyUnicode_FromStringAndSize(s->root_path, (Py_ssize_t)s->root_path_len)) ||
      set_item(scope, k_headers, headers) || set_item(scope, k_client, address(&s->client)) ||
      set_item(scope, k_server, address(&s->server)))
    goto fail;
  return scope;
fail:
  Py_DECREF(scope);
  return NULL;
}

static PyObject *lifespan_scope(void) {
  PyObject *scope = PyDict_New();
  if (scope && (PyDict_SetItem(scope, k_type, v_lifespan) || PyDict_SetItem(scope, k_asgi, asgi_info))) {
    Py_DECREF(scope);
    return NULL;
  }
  return scope;
}

/* ---------------------------------------------------------------- the asgid_app table */

static int app_call(void *app_data, asgid_request *req, const asgid_scope *scope) {
  (void)app_data;
  if (scope->type == ASGID_SCOPE_WEBSOCKET) return ASGID_E_UNSUPPORTED;
  PyObject *dict = scope->type == ASGID_SCOPE_LIFESPAN ? lifespan_scope() : http_scope(scope);
  PyObject *handle = handle_of(req);
  PyObject *result = dict && handle ? PyObject_CallFunctionObjArgs(glue_start, handle, dict, NULL)
                                    : NULL;
  Py_XDECREF(dict);
  Py_XDECREF(handle);
  if (!result) {
    log_python_error("cannot start the ASGI app");
    return ASGID_E_UNSUPPORTED;
  }
  Py_DECREF(result);
  python_loop_wake();
  return ASGID_OK;
}

static PyObject *event_dict(const asgid_event *event) {
  switch (event->type) {
    case ASGID_HTTP_REQUEST: {
      PyObject *body = event->u.request.body_len
                           ? PyBytes_FromStringAndSize((const char *)event->u.request.body,
                                                       (Py_ssize_t)event->u.request.body_len)
                           : (Py_INCREF(empty_bytes), empty_bytes);
      if (!body) return NULL;
      PyObject *d = PyDict_New();
      if (d && (PyDict_SetItem(d, k_type, ev_http_request) || set_item(d, k_body, body) ||
                PyDict_SetItem(d, k_more_body, event->u.request.more_body ? Py_True : Py_False))) {
        Py_DECREF(d);
        return NULL;
      }
      if (!d) Py_DECREF(body);
      return d;
    }
    case ASGID_HTTP_DISCONNECT:
    case ASGID_LIFESPAN_STARTUP:
    case ASGID_LIFESPAN_SHUTDOWN: {
      PyObject *type = event->type == ASGID_HTTP_DISCONNECT ? ev_http_disconnect
                       : event->type == ASGID_LIFESPAN_STARTUP ? ev_startup
                                                                : ev_shutdown;
      PyObject *d = PyDict_New();
      if (d && PyDict_SetItem(d, k_type, type)) {
        Py_DECREF(d);
        return NULL;
      }
      return d;
    }
    default:
      PyErr_SetString(PyExc_RuntimeError, "unknown event from the server");
      return NULL;
  }
}

static void app_on_event(void *app_data, asgid_request *req, const asgid_event *event) {
  (void)app_data;
  PyObject *dict = event_dict(event);
  PyObject *handle = handle_of(req);
  PyObject *result = dict && handle
                         ? PyObject_CallFunctionObjArgs(glue_deliver, handle, dict, NULL)
                         : NULL;
  Py_XDECREF(dict);
  Py_XDECREF(handle);
  if (!result)
    log_python_error("cannot deliver an ASGI event");
  else
    Py_DECREF(result);
  python_loop_wake();
}

static void app_on_writable(void *app_data, asgid_request *req) {
  (void)app_data;
  PyObject *handle = handle_of(req);
  PyObject *result = handle ? PyObject_CallOneArg(glue_writable, handle) : NULL;
  Py_XDECREF(handle);
  if (!result)
    log_python_error("cannot resume a waiting send()");
  else
    Py_DECREF(result);
  python_loop_wake();
}

static const asgid_app python_app_table = {
    .abi_version = ASGID_ABI_VERSION,
    .struct_size = sizeof(asgid_app),
    .name = "python",
    .call = app_call,
    .on_event = app_on_event,
    .on_writable = app_on_writable,
};

/* ---------------------------------------------------------------- module _asgid */

static PyObject *mod_receive(PyObject *self, PyObject *handle) {
  (void)self;
  asgid_request *req = request_of(handle);
  if (!req) return NULL;
  int rc = server->receive(req);
  python_loop_wake();
  if (rc != ASGID_OK) {
    PyErr_Format(PyExc_RuntimeError, "receive() failed (%d)", rc);
    return NULL;
  }
  Py_RETURN_NONE;
}

static PyObject *mod_done(PyObject *self, PyObject *handle) {
  (void)self;
  asgid_request *req = request_of(handle);
  if (!req) return NULL;
  server->done(req);
  python_loop_wake();
  Py_RETURN_NONE;
}

/* Fills headers from an ASGI header list ([[name, value], ...] of bytes). Returns the count,
 * or -1 with an exception set. *storage is malloc'd when there are many. */
static Py_ssize_t read_headers(PyObject *list, asgid_header *inline_headers, Py_ssize_t room,
                               asgid_header **storage, PyObject **keep) {
  *storage = inline_headers;
  if (!list || list == Py_None) return 0;
  PyObject *seq = PySequence_Fast(list, "headers must be a sequence of [name, value] pairs");
  if (!seq) return -1;
  *keep = seq;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  if (n > room) {
    *storage = PyMem_Malloc((size_t)n * sizeof **storage);
    if (!*storage) {
      PyErr_NoMemory();
      return -1;
    }
  }
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *pair = PySequence_Fast_GET_ITEM(seq, i);
    if (!PyTuple_Check(pair) && !PyList_Check(pair)) goto bad;
    if (PySequence_Fast_GET_SIZE(pair) != 2) goto bad;
    PyObject *name = PySequence_Fast_GET_ITEM(pair, 0);
    PyObject *value = PySequence_Fast_GET_ITEM(pair, 1);
    if (!PyBytes_Check(name) || !PyBytes_Check(value)) goto bad;
    (*storage)[i] = (asgid_header){PyBytes_AS_STRING(name), (size_t)PyBytes_GET_SIZE(name),
                                   PyBytes_AS_STRING(value), (size_t)PyBytes_GET_SIZE(value)};
  }
  return n;
bad:
  PyErr_SetString(PyExc_TypeError, "each header must be a [name, value] pair of bytes");
  return -1;
}

static int message_type(PyObject *message, const char **type) {
  if (!PyDict_Check(message)) {
    PyErr_SetString(PyExc_TypeError, "an ASGI message must be a dict");
    return -1;
  }
  PyObject *t = PyDict_GetItemWithError(message, k_type);
  if (!t || !PyUnicode_Check(t)) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_KeyError, "ASGI message without a 'type'");
    return -1;
  }
  *type = PyUnicode_AsUTF8(t);
  return *type ? 0 : -1;
}

static PyObject *mod_send(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *handle, *message;
  if (!PyArg_ParseTuple(args, "OO", &handle, &message)) return NULL;
  asgid_request *req = request_of(handle);
  const char *type;
  if (!req || message_type(message, &type) != 0) return NULL;
  asgid_event event;
  memset(&event, 0, sizeof event);
  asgid_header inline_headers[32], *headers = inline_headers;
  PyObject *keep = NULL;
  if (strcmp(type, "http.response.start") == 0) {
    event.type = ASGID_HTTP_RESPONSE_START;
    PyObject *status = PyDict_GetItemWithError(message, k_status);
    if (!status || !PyLong_Check(status)) {
      if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "'status' must be an int");
      return NULL;
    }
    event.u.response_start.status = (int)PyLong_AsLong(status);
    Py_ssize_t n = read_headers(PyDict_GetItemWithError(message, k_headers), inline_headers, 32,
                                &headers, &keep);
    if (n < 0) goto fail;
    event.u.response_start.headers = headers;
    event.u.response_start.header_count = (size_t)n;
  } else if (strcmp(type, "http.response.body") == 0) {
    event.type = ASGID_HTTP_RESPONSE_BODY;
    PyObject *body = PyDict_GetItemWithError(message, k_body);
    if (body && body != Py_None) {
      if (!PyBytes_Check(body)) {
        PyErr_SetString(PyExc_TypeError, "'body' must be bytes");
        return NULL;
      }
      event.u.response_body.body = (const uint8_t *)PyBytes_AS_STRING(body);
      event.u.response_body.body_len = (size_t)PyBytes_GET_SIZE(body);
    }
    PyObject *more = PyDict_GetItemWithError(message, k_more_body);
    event.u.response_body.more_body = more && PyObject_IsTrue(more) == 1;
  } else if (strncmp(type, "lifespan.", 9) == 0) {
    static const struct { const char *name; asgid_event_type type; } lifespan_types[] = {
        {"lifespan.startup.complete", ASGID_LIFESPAN_STARTUP_COMPLETE},
        {"lifespan.startup.failed", ASGID_LIFESPAN_STARTUP_FAILED},
        {"lifespan.shutdown.complete", ASGID_LIFESPAN_SHUTDOWN_COMPLETE},
        {"lifespan.shutdown.failed", ASGID_LIFESPAN_SHUTDOWN_FAILED},
    };
    for (size_t i = 0; i < 4 && !event.type; i++)
      if (strcmp(type, lifespan_types[i].name) == 0) event.type = lifespan_types[i].type;
    PyObject *text = PyDict_GetItemWithError(message, k_message);
    if (text && PyUnicode_Check(text)) event.u.failed.message = PyUnicode_AsUTF8(text);
  }
  if (!event.type) {
    PyErr_Format(PyExc_RuntimeError, "unexpected ASGI message type '%s'", type);
    goto fail;
  }
  int rc = server->send(req, &event);
  python_loop_wake();
  if (headers != inline_headers) PyMem_Free(headers);
  Py_XDECREF(keep);
  if (rc == ASGID_E_INVALID) {
    PyErr_Format(PyExc_RuntimeError,
                 "unexpected ASGI message '%s': out of order, after the response completed, "
                 "or with an invalid status or header", type);
    return NULL;
  }
  /* ASGI 2.3: a send after the client disconnected is a no-op. A streamed body that finds
   * the client behind tells glue.py to wait (True) until app_on_writable. */
  if (rc == ASGID_OK && event.type == ASGID_HTTP_RESPONSE_BODY &&
      event.u.response_body.more_body && server->wait_writable(req) == 1)
    Py_RETURN_TRUE;
  Py_RETURN_FALSE;
fail:
  if (headers != inline_headers) PyMem_Free(headers);
  Py_XDECREF(keep);
  return NULL;
}

static PyObject *mod_log_error(PyObject *self, PyObject *text) {
  (void)self;
  const char *s = PyUnicode_AsUTF8(text);
  if (!s) return NULL;
  log_error("%s", s);
  Py_RETURN_NONE;
}

/* An exception in the lifespan scope: with lifespan = auto it usually means the app has no
 * lifespan support (uvicorn's wording), so it is worth an info line, not an alarm. */
static PyObject *mod_log_lifespan_exception(PyObject *self, PyObject *text) {
  (void)self;
  const char *s = PyUnicode_AsUTF8(text);
  if (!s) return NULL;
  log_info("the ASGI app raised in the lifespan scope (lifespan protocol unsupported?):\n%s", s);
  Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"receive", mod_receive, METH_O, "Ask the server for the next event of a request."},
    {"send", mod_send, METH_VARARGS, "Send an ASGI message for a request."},
    {"done", mod_done, METH_O, "The app is finished with a request."},
    {"log_error", mod_log_error, METH_O, "Write to asgid's error log."},
    {"log_lifespan_exception", mod_log_lifespan_exception, METH_O,
     "Log an exception raised in the lifespan scope."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_asgid", "asgid's server functions for its ASGI glue", -1,
    module_methods, NULL, NULL, NULL, NULL,
};

PyObject *python_bridge_module_init(void) { return PyModule_Create(&module_def); }

static int intern_all(void) {
  struct { PyObject **slot; const char *text; } strings[] = {
      {&k_type, "type"}, {&k_asgi, "asgi"}, {&k_http_version, "http_version"},
      {&k_method, "method"}, {&k_scheme, "scheme"}, {&k_path, "path"},
      {&k_raw_path, "raw_path"}, {&k_query_string, "query_string"}, {&k_root_path, "root_path"},
      {&k_headers, "headers"}, {&k_client, "client"}, {&k_server, "server"}, {&k_body, "body"},
      {&k_more_body, "more_body"}, {&k_status, "status"}, {&k_message, "message"},
      {&v_http, "http"}, {&v_lifespan, "lifespan"}, {&v_1_0, "1.0"}, {&v_1_1, "1.1"},
      {&v_scheme_http, "http"}, {&ev_http_request, "http.request"},
      {&ev_http_disconnect, "http.disconnect"}, {&ev_startup, "lifespan.startup"},
      {&ev_shutdown, "lifespan.shutdown"},
  };
  for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
    *strings[i].slot = PyUnicode_InternFromString(strings[i].text);
    if (!*strings[i].slot) return -1;
  }
  empty_bytes = PyBytes_FromStringAndSize("", 0);
  asgi_info = Py_BuildValue("{ssss}", "version", "3.0", "spec_version", "2.3");
  return empty_bytes && asgi_info ? 0 : -1;
}

const asgid_app *python_bridge_start(const asgid_server_api *api, PyObject *glue) {
  server = api;
  glue_start = PyObject_GetAttrString(glue, "start");
  glue_deliver = PyObject_GetAttrString(glue, "deliver");
  glue_writable = PyObject_GetAttrString(glue, "writable");
  if (!glue_start || !glue_deliver || !glue_writable || intern_all() != 0) return NULL;
  return &python_app_table;
}
