/*
 * bridge.c - the Python app adapter: an asgid_app table whose callbacks turn scopes and events
 * into ASGI dicts and hand them to the scope's request object (request_object.c), and the
 * built-in module `_asgid` through which glue.py logs.
 *
 * Everything here runs on the worker's loop thread, which is also the asyncio thread and
 * holds the GIL (asyncio releases it while it waits).
 */
#include <stdint.h>
#include <string.h>

#include "apps/python/python_internal.h"
#include "log/log.h"

/* ---------------------------------------------------------------- logging */

/* Python's logging levels (logging.DEBUG = 10 ... CRITICAL = 50) as the error log's: a level
 * between two is the lower one's (uvicorn's TRACE, 5, is DEBUG); CRITICAL is ERROR. */
static log_level level_of_python(long level) {
  return level >= 40   ? LOG_LEVEL_ERROR
         : level >= 30 ? LOG_LEVEL_WARNING
         : level >= 20 ? LOG_LEVEL_INFO
                       : LOG_LEVEL_DEBUG;
}

/* A str's UTF-8 bytes (its cached UTF-8, or a bytes object kept in *keep): lone surrogates,
 * from a surrogateescape'd file name say, come out as \udcxx text rather than failing the
 * whole entry. NULL (with *len 0) for None. */
static const char *utf8_of(PyObject *text, Py_ssize_t *len, PyObject **keep) {
  *len = 0;
  *keep = NULL;
  if (text == Py_None) return NULL;
  if (!PyUnicode_Check(text)) {
    PyErr_Format(PyExc_TypeError, "expected str or None, not %.100s", Py_TYPE(text)->tp_name);
    return NULL;
  }
  const char *s = PyUnicode_AsUTF8AndSize(text, len);
  if (s) return s;
  PyErr_Clear();
  *keep = PyUnicode_AsEncodedString(text, "utf-8", "backslashreplace");
  if (!*keep) return NULL;
  *len = PyBytes_GET_SIZE(*keep);
  return PyBytes_AS_STRING(*keep);
}

const char *python_text_or(PyObject *text, const char *fallback) {
  const char *s = text && PyUnicode_Check(text) ? PyUnicode_AsUTF8(text) : NULL;
  if (!s) PyErr_Clear();
  return s ? s : fallback;
}

/* One entry, written without the GIL: the file may be a pipe that a slow reader keeps full,
 * and the app's other threads must not wait for it. The strings stay alive: the caller holds
 * them. */
static void write_record(const log_record *record) {
  Py_BEGIN_ALLOW_THREADS
  log_write_record(record);
  Py_END_ALLOW_THREADS
}

/* The pending exception's traceback as traceback.format_exception gives it (a new str), or its
 * str() when the traceback module fails; the exception is cleared either way. */
static PyObject *take_traceback(void) {
  PyObject *exception = python_take_exception();
  if (!exception) return NULL;
  PyObject *text = NULL;
  PyObject *module = PyImport_ImportModule("traceback");
  PyObject *lines = module ? PyObject_CallMethod(module, "format_exception", "O", exception)
                           : NULL;
  if (lines) {
    PyObject *empty = PyUnicode_FromString("");
    text = empty ? PyUnicode_Join(empty, lines) : NULL;
    Py_XDECREF(empty);
  }
  if (!text) {
    PyErr_Clear();
    text = PyObject_Str(exception);
  }
  PyErr_Clear();
  Py_XDECREF(lines);
  Py_XDECREF(module);
  Py_DECREF(exception);
  return text;
}

void python_log_exception(log_level level, const char *message) {
  PyObject *traceback = take_traceback();
  PyObject *keep = NULL;
  Py_ssize_t traceback_len = 0;
  const char *traceback_text = traceback ? utf8_of(traceback, &traceback_len, &keep) : NULL;
  PyErr_Clear();
  log_record record = {.level = level,
                       .message = message,
                       .message_len = strlen(message),
                       .traceback = traceback_text,
                       .traceback_len = (size_t)traceback_len};
  write_record(&record);
  Py_XDECREF(keep);
  Py_XDECREF(traceback);
}

/* ---------------------------------------------------------------- scope */

/* The last host string built for one kind of address: a worker mostly sees the same few
 * hosts (its own listening address, its proxy's), and strings are immutable. */
typedef struct {
  char text[64];
  PyObject *string;
} host_cache;

static PyObject *host_string(host_cache *cache, const char *host) {
  if (cache->string && strcmp(host, cache->text) == 0) return Py_NewRef(cache->string);
  PyObject *string = PyUnicode_FromString(host);
  if (string && strlen(host) < sizeof cache->text) {
    Py_XSETREF(cache->string, Py_NewRef(string));
    strcpy(cache->text, host);
  }
  return string;
}

/* (host, port), or (path, None) for a unix socket; takes the reference to host. */
static PyObject *address_pair(PyObject *host, int port) {
  PyObject *port_object = port < 0 ? Py_NewRef(Py_None) : PyLong_FromLong(port);
  PyObject *pair = host && port_object ? PyTuple_Pack(2, host, port_object) : NULL;
  Py_XDECREF(host);
  Py_XDECREF(port_object);
  return pair;
}

static PyObject *client_address(const asgid_address *a) {
  static host_cache hosts;
  if (!a->present) Py_RETURN_NONE;
  return address_pair(host_string(&hosts, a->host), a->port);
}

/* The server address: nearly every request of a worker has the same one, so the tuple of the
 * last one is reused (tuples are immutable). Its host is the very string host_string gives
 * again for the same host; one too long to keep is a new string each time, never reused. */
static PyObject *server_address(const asgid_address *a) {
  static host_cache hosts;
  static PyObject *last;
  static int last_port;
  if (!a->present) Py_RETURN_NONE;
  PyObject *host = host_string(&hosts, a->host);
  if (host && last && PyTuple_GET_ITEM(last, 0) == host && a->port == last_port) {
    Py_DECREF(host);
    return Py_NewRef(last);
  }
  PyObject *pair = address_pair(host, a->port);
  if (pair) {
    Py_XSETREF(last, Py_NewRef(pair));
    last_port = a->port;
  }
  return pair;
}

/* Request methods and header names are mostly a few well-known ones: those are built once
 * (strings interned, bytes shared: both are immutable). */
static PyObject *method_string(const char *method) {
  static const char *const known[] = {"GET", "POST", "HEAD", "PUT", "DELETE", "PATCH",
                                      "OPTIONS"};
  static PyObject *built[sizeof known / sizeof known[0]];
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
    if (strcmp(method, known[i]) != 0) continue;
    if (!built[i] && !(built[i] = PyUnicode_InternFromString(known[i]))) return NULL;
    return Py_NewRef(built[i]);
  }
  return PyUnicode_FromString(method);
}

#define KNOWN_NAME(text) {text, sizeof text - 1}

static PyObject *header_name(const char *name, size_t len) {
  static const struct { const char *text; size_t len; } known[] = {
      KNOWN_NAME("host"), KNOWN_NAME("user-agent"), KNOWN_NAME("accept"),
      KNOWN_NAME("accept-encoding"), KNOWN_NAME("accept-language"), KNOWN_NAME("connection"),
      KNOWN_NAME("content-type"), KNOWN_NAME("content-length"), KNOWN_NAME("cookie"),
      KNOWN_NAME("authorization"), KNOWN_NAME("referer"), KNOWN_NAME("origin"),
      KNOWN_NAME("cache-control"), KNOWN_NAME("x-forwarded-for"),
      KNOWN_NAME("x-forwarded-proto"), KNOWN_NAME("x-request-id"), KNOWN_NAME("upgrade"),
      KNOWN_NAME("if-none-match"), KNOWN_NAME("if-modified-since"),
      KNOWN_NAME("sec-fetch-mode"), KNOWN_NAME("sec-fetch-site"), KNOWN_NAME("sec-fetch-dest"),
      KNOWN_NAME("upgrade-insecure-requests"), KNOWN_NAME("pragma"), KNOWN_NAME("te"),
      KNOWN_NAME("expect"), KNOWN_NAME("transfer-encoding"), KNOWN_NAME("x-real-ip"),
      KNOWN_NAME("forwarded"), KNOWN_NAME("dnt")};
  static PyObject *built[sizeof known / sizeof known[0]];
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
    if (known[i].len != len || memcmp(name, known[i].text, len) != 0) continue;
    if (!built[i] && !(built[i] = PyBytes_FromStringAndSize(name, (Py_ssize_t)len))) return NULL;
    return Py_NewRef(built[i]);
  }
  return PyBytes_FromStringAndSize(name, (Py_ssize_t)len);
}

static PyObject *header_pair(const asgid_header *h) {
  PyObject *name = header_name(h->name, h->name_len);
  PyObject *value = PyBytes_FromStringAndSize(h->value, (Py_ssize_t)h->value_len);
  PyObject *pair = name && value ? PyTuple_Pack(2, name, value) : NULL;
  Py_XDECREF(name);
  Py_XDECREF(value);
  return pair;
}

static int set_item(PyObject *dict, PyObject *key, PyObject *value) {
  if (!value) return -1;
  int rc = PyDict_SetItem(dict, key, value);
  Py_DECREF(value);
  return rc;
}

/* Every HTTP scope has the same keys: each one starts as a copy of this dict, whose values
 * are the constant ones (a copy of a dict with all its keys is one block copy; building one
 * key by key resized it twice). "state" is set by request_object.c. */
static PyObject *http_scope_template(void) {
  static PyObject *template;
  if (template) return template;
  PyObject *t = PyDict_New();
  PyObject *keys[] = {pystr.type, pystr.asgi, pystr.http_version, pystr.scheme, pystr.method,
                      pystr.path, pystr.raw_path, pystr.query_string, pystr.root_path,
                      pystr.headers, pystr.client, pystr.server, pystr.state};
  PyObject *values[] = {pystr.http, pystr.asgi_info, pystr.v1_1, pystr.http};
  for (size_t i = 0; t && i < sizeof keys / sizeof keys[0]; i++) {
    if (PyDict_SetItem(t, keys[i], i < sizeof values / sizeof values[0] ? values[i] : Py_None))
      Py_CLEAR(t);
  }
  return template = t;
}

PyObject *python_header_list(const asgid_header *headers, size_t count) {
  PyObject *list = PyList_New((Py_ssize_t)count);
  for (size_t i = 0; list && i < count; i++) {
    PyObject *pair = header_pair(&headers[i]);
    if (!pair) Py_CLEAR(list);
    else PyList_SET_ITEM(list, (Py_ssize_t)i, pair);
  }
  return list;
}

/* The templates hold "http" and "ws"; a trusted proxy may have said the client used TLS. */
static int set_secure_scheme(PyObject *scope, const asgid_scope *s) {
  int http = s->type == ASGID_SCOPE_HTTP;
  if (strcmp(s->scheme, http ? "https" : "wss") != 0) return 0;
  return PyDict_SetItem(scope, pystr.scheme, http ? pystr.https : pystr.wss);
}

/* The keys http and websocket scopes share, from the request. */
static int set_connection_items(PyObject *scope, const asgid_scope *s) {
  /* set_item takes the reference: headers first, so that no failure below can leak it. */
  return set_item(scope, pystr.headers, python_header_list(s->headers, s->header_count)) ||
         set_item(scope, pystr.path,
                  PyUnicode_DecodeUTF8(s->path, (Py_ssize_t)s->path_len, "replace")) ||
         set_item(scope, pystr.raw_path,
                  PyBytes_FromStringAndSize(s->raw_path, (Py_ssize_t)s->raw_path_len)) ||
         set_item(scope, pystr.query_string,
                  PyBytes_FromStringAndSize(s->query_string, (Py_ssize_t)s->query_string_len)) ||
         set_item(scope, pystr.root_path,
                  PyUnicode_FromStringAndSize(s->root_path, (Py_ssize_t)s->root_path_len)) ||
         set_item(scope, pystr.client, client_address(&s->client)) ||
         set_item(scope, pystr.server, server_address(&s->server)) ||
         set_secure_scheme(scope, s);
}

static PyObject *http_scope(const asgid_scope *s) {
  PyObject *template = http_scope_template();
  PyObject *scope = template ? PyDict_Copy(template) : NULL;
  if (!scope) return NULL;
  if (set_connection_items(scope, s) ||
      (s->http_version[2] != '1' && PyDict_SetItem(scope, pystr.http_version, pystr.v1_0)) ||
      set_item(scope, pystr.method, method_string(s->method))) {
    Py_DECREF(scope);
    return NULL;
  }
  return scope;
}

/* A websocket scope (ASGI 2.5) starts as a copy of this dict, as an HTTP one does. The
 * extensions dict (the websocket.http.response denial) is shared, as the asgi dict is. */
static PyObject *websocket_scope_template(void) {
  static PyObject *template;
  if (template) return template;
  PyObject *t = PyDict_New();
  PyObject *keys[] = {pystr.type, pystr.asgi, pystr.http_version, pystr.scheme,
                      pystr.extensions, pystr.path, pystr.raw_path, pystr.query_string,
                      pystr.root_path, pystr.headers, pystr.client, pystr.server,
                      pystr.subprotocols, pystr.state};
  PyObject *values[] = {pystr.websocket, pystr.asgi_info_websocket, pystr.v1_1, pystr.ws,
                        pystr.websocket_extensions};
  for (size_t i = 0; t && i < sizeof keys / sizeof keys[0]; i++) {
    if (PyDict_SetItem(t, keys[i], i < sizeof values / sizeof values[0] ? values[i] : Py_None))
      Py_CLEAR(t);
  }
  return template = t;
}

static PyObject *subprotocol_list(const asgid_scope *s) {
  PyObject *list = PyList_New((Py_ssize_t)s->subprotocol_count);
  for (size_t i = 0; list && i < s->subprotocol_count; i++) {
    PyObject *name = PyUnicode_DecodeUTF8(s->subprotocols[i], (Py_ssize_t)strlen(s->subprotocols[i]),
                                          "replace");
    if (!name) Py_CLEAR(list);
    else PyList_SET_ITEM(list, (Py_ssize_t)i, name);
  }
  return list;
}

static PyObject *websocket_scope(const asgid_scope *s) {
  PyObject *template = websocket_scope_template();
  PyObject *scope = template ? PyDict_Copy(template) : NULL;
  if (scope && (set_connection_items(scope, s) ||
                set_item(scope, pystr.subprotocols, subprotocol_list(s))))
    Py_CLEAR(scope);
  return scope;
}

static PyObject *lifespan_scope(void) {
  PyObject *scope = PyDict_New();
  if (scope && (PyDict_SetItem(scope, pystr.type, pystr.lifespan) || PyDict_SetItem(scope, pystr.asgi, pystr.asgi_info))) {
    Py_DECREF(scope);
    return NULL;
  }
  return scope;
}

/* ---------------------------------------------------------------- the asgid_app table */

static int app_call(void *app_data, asgid_request *req, const asgid_scope *scope) {
  (void)app_data;
  PyObject *dict = scope->type == ASGID_SCOPE_HTTP        ? http_scope(scope)
                   : scope->type == ASGID_SCOPE_WEBSOCKET ? websocket_scope(scope)
                                                          : lifespan_scope();
  int rc = dict ? python_request_start(req, dict, scope->type) : -1;
  Py_XDECREF(dict);
  if (rc != 0) {
    python_log_exception(LOG_LEVEL_ERROR, "cannot start the ASGI app");
    return ASGID_E_UNSUPPORTED;
  }
  return ASGID_OK;
}

static void app_on_event(void *app_data, asgid_request *req, const asgid_event *event) {
  (void)app_data;
  PyObject *dict = python_event_dict(event);
  if (!dict || python_request_deliver(req, dict) != 0) python_log_exception(LOG_LEVEL_ERROR, "cannot deliver an ASGI event");
  Py_XDECREF(dict);
  python_loop_wake();
}

static void app_on_writable(void *app_data, asgid_request *req) {
  (void)app_data;
  if (python_request_writable(req) != 0) python_log_exception(LOG_LEVEL_ERROR, "cannot resume a waiting send()");
  python_loop_wake();
}

static const asgid_app python_app_table = {
    .abi_version = ASGID_ABI_VERSION,
    .struct_size = sizeof(asgid_app),
    .name = "python",
    .call = app_call,
    .on_event = app_on_event,
    .on_writable = app_on_writable,
    .capabilities = ASGID_CAP_WEBSOCKET,
};

/* ---------------------------------------------------------------- module _asgid */

/* _asgid.log(level, message, traceback=None, logger=None): one error log entry from Python
 * (glue.py's logging handler, its stdout and stderr, the app's exceptions). level is a Python
 * logging level; traceback and logger are str or None. */
static PyObject *mod_log(PyObject *self, PyObject *args, PyObject *kwargs) {
  (void)self;
  static char *keywords[] = {"level", "message", "traceback", "logger", NULL};
  long level;
  PyObject *message, *traceback = Py_None, *logger = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "lU|OO:log", keywords, &level, &message,
                                   &traceback, &logger))
    return NULL;
  log_level asgid_level = level_of_python(level);
  if (!log_enabled(asgid_level)) Py_RETURN_NONE;
  PyObject *given[3] = {message, traceback, logger};
  PyObject *keep[3] = {NULL, NULL, NULL};
  Py_ssize_t len[3] = {0, 0, 0};
  const char *text[3] = {NULL, NULL, NULL};
  for (int i = 0; i < 3 && !PyErr_Occurred(); i++) text[i] = utf8_of(given[i], &len[i], &keep[i]);
  int failed = PyErr_Occurred() != NULL;
  if (!failed) {
    log_record record = {.level = asgid_level,
                         .logger = text[2],
                         .logger_len = (size_t)len[2],
                         .message = text[0],
                         .message_len = (size_t)len[0],
                         .traceback = text[1],
                         .traceback_len = (size_t)len[1]};
    write_record(&record);
  }
  for (int i = 0; i < 3; i++) Py_XDECREF(keep[i]);
  if (failed) return NULL;
  Py_RETURN_NONE;
}

/* The error log's descriptor: what the app's sys.stdout.fileno() and sys.stderr.fileno()
 * answer, so that a subprocess given them writes to the error log too (unprefixed). */
static PyObject *mod_error_log_fd(PyObject *self, PyObject *unused) {
  (void)self;
  (void)unused;
  return PyLong_FromLong(log_error_fd());
}

static PyMethodDef module_methods[] = {
    {"log", (PyCFunction)(void (*)(void))mod_log, METH_VARARGS | METH_KEYWORDS,
     "log(level, message, traceback=None, logger=None): one entry in asgid's error log; "
     "level is a logging level (CRITICAL is written as ERROR)."},
    {"error_log_fd", mod_error_log_fd, METH_NOARGS, "The error log's file descriptor."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_asgid", "asgid's server functions for its ASGI glue", -1,
    module_methods, NULL, NULL, NULL, NULL,
};

PyObject *python_client_disconnected;

PyObject *python_bridge_module_init(void) {
  PyObject *module = PyModule_Create(&module_def);
  if (!module) return NULL;
  /* ASGI 2.4: send() on a closed websocket raises "a server-specific subclass of OSError". */
  Py_XSETREF(python_client_disconnected,
             PyErr_NewExceptionWithDoc(
                 "_asgid.ClientDisconnected",
                 "send() on a WebSocket that is closed (by the app or the client), or after "
                 "the app returned (ASGI 2.4). An OSError, so code written for other servers "
                 "catches it.",
                 PyExc_OSError, NULL));
  if (!python_client_disconnected ||
      PyModule_AddObjectRef(module, "ClientDisconnected", python_client_disconnected) != 0)
    Py_CLEAR(module);
  return module;
}

const asgid_app *python_bridge_start(const asgid_server_api *api, PyObject *loop,
                                     PyObject *glue) {
  int rc = python_strings_init() == 0 && python_events_init() == 0 &&
                   python_request_init(api, loop) == 0
               ? python_runner_init(loop, glue)
               : -1;
  return rc == 0 ? &python_app_table : NULL;
}
