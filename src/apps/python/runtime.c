/*
 * runtime.c - embedding CPython in a worker: configuration (a real sys.executable, the
 * virtualenv, sys.argv), the event loop, faulthandler for hung workers, importing the app.
 */
#include "apps/python/python_internal.h"

#include <stdio.h>
#include <string.h>

#include "log/log.h"

/* Sets a PyConfig string from UTF-8. Returns 0 or -1. */
static int set_config_string(PyConfig *config, wchar_t **field, const char *value) {
  PyStatus status = PyConfig_SetBytesString(config, field, value);
  return PyStatus_Exception(status) ? -1 : 0;
}

/* The app imported by the master (preload_app): forked workers inherit it. */
static PyObject *preloaded_app;

static int initialize(const asgid_settings *settings, char *err, size_t err_size) {
  char executable[4096];
  if (settings->virtualenv[0]) {
    snprintf(executable, sizeof executable, "%s/bin/python3", settings->virtualenv);
    uv_fs_t access_req;
    int access_rc = uv_fs_access(NULL, &access_req, executable, X_OK, NULL);
    uv_fs_req_cleanup(&access_req);
    if (access_rc != 0) {
      snprintf(err, err_size, "virtualenv %s: %s is not an executable Python interpreter (not a "
               "virtual environment?)", settings->virtualenv, executable);
      return -1;
    }
  } else {
    snprintf(executable, sizeof executable, "%s", ASGID_PYTHON_EXECUTABLE);
  }
  if (PyImport_AppendInittab("_asgid", python_bridge_module_init) != 0) {
    snprintf(err, err_size, "cannot register the _asgid module");
    return -1;
  }
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  /* asgid owns the process's signals; Python must not turn SIGINT into KeyboardInterrupt. */
  config.install_signal_handlers = 0;
  config.parse_argv = 0;
  /* sys.executable must be a real interpreter: multiprocessing, ProcessPoolExecutor and
   * anyio.to_process start it. In a virtualenv, its interpreter finds the venv's packages. */
  char *argv[] = {"asgid"};
  PyStatus status = PyConfig_SetBytesArgv(&config, 1, argv);
  if (PyStatus_Exception(status) ||
      set_config_string(&config, &config.program_name, executable) != 0 ||
      set_config_string(&config, &config.executable, executable) != 0) {
    PyConfig_Clear(&config);
    snprintf(err, err_size, "cannot configure Python");
    return -1;
  }
  status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) {
    snprintf(err, err_size, "cannot start Python: %s", status.err_msg ? status.err_msg : "?");
    return -1;
  }
  return 0;
}

/* Runs a few lines of Python; returns 0, or -1 with the exception logged. */
static int run_python(const char *code, const char *what) {
  PyObject *main_module = PyImport_AddModule("__main__"); /* borrowed */
  PyObject *globals = main_module ? PyModule_GetDict(main_module) : NULL;
  PyObject *result = globals ? PyRun_String(code, Py_file_input, globals, globals) : NULL;
  if (!result) {
    char message[128];
    snprintf(message, sizeof message, "%s failed", what);
    python_log_exception(LOG_LEVEL_ERROR, message);
    return -1;
  }
  Py_DECREF(result);
  return 0;
}

/* faulthandler writes the stack of every Python thread to the error log when the master
 * aborts a hung worker (SIGABRT), before asgid's own last-words line. */
static int enable_faulthandler(void) {
  char code[128];
  snprintf(code, sizeof code, "import faulthandler\nfaulthandler.enable(file=%d, all_threads=True)\n",
           log_error_fd());
  return run_python(code, "faulthandler.enable");
}

static int set_sys_path(const asgid_settings *settings) {
  char cwd[4096];
  size_t cwd_size = sizeof cwd;
  const char *dir = settings->app_dir;
  if (!dir[0]) dir = uv_cwd(cwd, &cwd_size) == 0 ? cwd : NULL;
  if (!dir) return -1;
  PyObject *path = PySys_GetObject("path"); /* borrowed */
  PyObject *entry = PyUnicode_DecodeFSDefault(dir);
  int rc = path && entry ? PyList_Insert(path, 0, entry) : -1;
  Py_XDECREF(entry);
  return rc;
}

/* Why worker_class = auto runs asyncio rather than uvloop, or "" (the boot line says it). */
static char uvloop_fallback[256];

const char *python_uvloop_fallback(void) { return uvloop_fallback[0] ? uvloop_fallback : NULL; }

/* uvloop's module, or NULL with the reason in uvloop_fallback: not installed, or broken. */
static PyObject *import_uvloop(void) {
  PyObject *module = PyImport_ImportModule("uvloop");
  if (module) return module;
  PyObject *exception = python_take_exception();
  PyObject *name = exception && PyErr_GivenExceptionMatches(exception, PyExc_ImportError)
                       ? PyObject_GetAttrString(exception, "name")
                       : NULL;
  PyErr_Clear();
  if (strcmp(python_text_or(name, ""), "uvloop") == 0 &&
      PyErr_GivenExceptionMatches(exception, PyExc_ModuleNotFoundError)) {
    snprintf(uvloop_fallback, sizeof uvloop_fallback, "uvloop is not installed");
  } else {
    PyObject *text = exception ? PyObject_Str(exception) : NULL;
    snprintf(uvloop_fallback, sizeof uvloop_fallback, "uvloop cannot be imported (%s: %s)",
             exception ? Py_TYPE(exception)->tp_name : "?", python_text_or(text, "?"));
    Py_XDECREF(text);
  }
  PyErr_Clear();
  Py_XDECREF(name);
  Py_XDECREF(exception);
  return NULL;
}

/* The asyncio loop (uvloop's when asked and importable), created and set before the app is
 * imported, so that objects made at import time belong to it. */
static PyObject *create_event_loop(int use_uvloop, char *err, size_t err_size) {
  PyObject *factory_module = NULL;
  uvloop_fallback[0] = '\0';
  if (use_uvloop != 0) {
    factory_module = import_uvloop();
    if (!factory_module && use_uvloop == 1) {
      snprintf(err, err_size, "worker_class uvloop is unavailable: %s (install python3-uvloop, "
               "or use worker_class = asyncio)", uvloop_fallback);
      uvloop_fallback[0] = '\0';
      return NULL;
    }
  }
  PyObject *asyncio = PyImport_ImportModule("asyncio");
  if (!asyncio) {
    Py_XDECREF(factory_module);
    python_log_exception(LOG_LEVEL_ERROR, "cannot import asyncio");
    snprintf(err, err_size, "cannot import asyncio");
    return NULL;
  }
  PyObject *loop = PyObject_CallMethod(factory_module ? factory_module : asyncio,
                                       "new_event_loop", NULL);
  PyObject *set = loop ? PyObject_CallMethod(asyncio, "set_event_loop", "O", loop) : NULL;
  Py_XDECREF(set);
  Py_XDECREF(factory_module);
  Py_DECREF(asyncio);
  if (!set) {
    python_log_exception(LOG_LEVEL_ERROR, "cannot create the event loop");
    Py_XDECREF(loop);
    snprintf(err, err_size, "cannot create the event loop");
    return NULL;
  }
  return loop;
}

/* glue.py's module: loaded before the app is imported (its logging setup must come first),
 * in the master too with preload_app (forked workers inherit it). */
static PyObject *glue;

static PyObject *load_glue(void) {
  PyObject *code = Py_CompileString(python_glue_source, "<asgid glue>", Py_file_input);
  if (!code) return NULL;
  PyObject *module = PyImport_ExecCodeModule("_asgid_glue", code);
  Py_DECREF(code);
  return module;
}

/* The app's Python logging, print() and sys.stdout / sys.stderr to the error log, at
 * log_level, then log_config's file (glue.setup_logging). A broken log_config is one line in
 * err; anything else is asgid's bug, logged with its traceback. */
static int setup_logging(const asgid_settings *settings, char *err, size_t err_size) {
  static const int python_levels[] = {10, 20, 30, 40}; /* the log_level choices' */
  PyObject *r = PyObject_CallMethod(glue, "setup_logging", "is", python_levels[settings->log_level],
                                    settings->log_config);
  if (r) {
    Py_DECREF(r);
    return 0;
  }
  PyObject *exception = python_take_exception();
  PyObject *config_error = PyObject_GetAttrString(glue, "LogConfigError");
  PyErr_Clear();
  if (exception && config_error && PyErr_GivenExceptionMatches(exception, config_error)) {
    PyObject *text = PyObject_Str(exception);
    snprintf(err, err_size, "%s", python_text_or(text, "log_config: invalid"));
    Py_XDECREF(text);
    Py_DECREF(exception);
  } else {
    if (exception) python_restore_exception(exception);
    python_log_exception(LOG_LEVEL_ERROR, "cannot set up Python logging");
    snprintf(err, err_size, "cannot set up Python logging");
  }
  Py_XDECREF(config_error);
  return -1;
}

/* The pending exception, logged as one entry: err's text, then the traceback. err then gets
 * the exception's last line, for the one-line summary the caller logs (what the master's exit
 * and --check-config show). */
static void log_exception_with_summary(char *err, size_t err_size) {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  PyObject *text = value ? PyObject_Str(value) : NULL;
  char last[512];
  const char *said = python_text_or(text, "");
  snprintf(last, sizeof last, "%s%s%s", type ? ((PyTypeObject *)type)->tp_name : "?",
           said[0] ? ": " : "", said);
  Py_XDECREF(text);
  PyErr_Clear();
  PyErr_Restore(type, value, tb);
  python_log_exception(LOG_LEVEL_ERROR, err);
  size_t used = strlen(err);
  snprintf(err + used, err_size - used, ": %s", last);
}

/* The app named by "module:attribute" (the attribute may be dotted). One clear line in err
 * for each way it can fail; an exception raised while importing is logged with its
 * traceback. */
static PyObject *import_app(const asgid_settings *settings, char *err, size_t err_size) {
  const char *spec = settings->app;
  const char *colon = strchr(spec, ':');
  if (!colon || colon == spec || !colon[1]) {
    snprintf(err, err_size, "app \"%s\": a Python app is named package.module:attribute", spec);
    return NULL;
  }
  PyObject *name = PyUnicode_FromStringAndSize(spec, colon - spec);
  PyObject *module = name ? PyImport_Import(name) : NULL;
  Py_XDECREF(name);
  if (!module) {
    if (PyErr_ExceptionMatches(PyExc_ModuleNotFoundError)) {
      PyObject *type, *value, *tb;
      PyErr_Fetch(&type, &value, &tb);
      PyObject *text = value ? PyObject_Str(value) : NULL;
      snprintf(err, err_size, "app \"%s\": cannot import module %.*s: %s", spec,
               (int)(colon - spec), spec, python_text_or(text, "not found"));
      Py_XDECREF(text);
      Py_XDECREF(type);
      Py_XDECREF(value);
      Py_XDECREF(tb);
    } else {
      snprintf(err, err_size, "app \"%s\": importing module %.*s raised an exception", spec,
               (int)(colon - spec), spec);
      log_exception_with_summary(err, err_size);
    }
    return NULL;
  }
  PyObject *app = module;
  char attribute[512];
  snprintf(attribute, sizeof attribute, "%s", colon + 1);
  for (char *part = strtok(attribute, "."); part; part = strtok(NULL, ".")) {
    PyObject *next = PyObject_GetAttrString(app, part);
    Py_DECREF(app);
    if (!next) {
      PyErr_Clear();
      snprintf(err, err_size, "app \"%s\": module %.*s has no attribute %s", spec,
               (int)(colon - spec), spec, colon + 1);
      return NULL;
    }
    app = next;
  }
  if (settings->factory) {
    PyObject *made = PyObject_CallNoArgs(app);
    Py_DECREF(app);
    if (!made) {
      snprintf(err, err_size, "app \"%s\": the factory raised an exception", spec);
      log_exception_with_summary(err, err_size);
      return NULL;
    }
    app = made;
  }
  if (!PyCallable_Check(app)) {
    snprintf(err, err_size, "app \"%s\" is not callable (an ASGI app is a callable%s)", spec,
             settings->factory ? "" : "; if it is a factory, set factory = on");
    Py_DECREF(app);
    return NULL;
  }
  return app;
}

/* CPython started, faulthandler on, the app's directory on sys.path, asgid's glue loaded and
 * Python's logging set up: all before the app is imported. */
static int prepare(const asgid_settings *settings, char *err, size_t err_size) {
  if (initialize(settings, err, err_size) != 0) return -1;
  if (enable_faulthandler() != 0 || set_sys_path(settings) != 0) {
    snprintf(err, err_size, "cannot prepare Python");
    return -1;
  }
  glue = load_glue();
  if (!glue) {
    python_log_exception(LOG_LEVEL_ERROR, "cannot load asgid's ASGI glue");
    snprintf(err, err_size, "cannot load asgid's ASGI glue");
    return -1;
  }
  return setup_logging(settings, err, err_size);
}

int python_preload(const asgid_settings *settings, char *err, size_t err_size) {
  if (prepare(settings, err, err_size) != 0) return -1;
  /* Objects collected now would be collected again in every worker: freeze them. */
  preloaded_app = import_app(settings, err, err_size);
  if (!preloaded_app || run_python("import gc\ngc.freeze()\n", "gc.freeze") != 0) return -1;
  return 0;
}

void python_fork_prepare(void) { PyOS_BeforeFork(); }

void python_fork_parent(void) { PyOS_AfterFork_Parent(); }

void python_fork_child(void) { PyOS_AfterFork_Child(); }

const asgid_app *python_app_load(const asgid_settings *settings, const asgid_server_api *api,
                                 int use_uvloop, char *err, size_t err_size) {
  if (preloaded_app) {
    if (enable_faulthandler() != 0) { /* the worker's own error log descriptor */
      snprintf(err, err_size, "cannot prepare Python");
      return NULL;
    }
  } else if (prepare(settings, err, err_size) != 0) {
    return NULL;
  }
  PyObject *loop = create_event_loop(use_uvloop, err, err_size);
  if (!loop) return NULL;
  if (python_driver_init(loop) != 0) {
    snprintf(err, err_size, "cannot prepare the event loop driver");
    return NULL;
  }
  PyObject *app = preloaded_app ? preloaded_app : import_app(settings, err, err_size);
  preloaded_app = NULL;
  if (!app) return NULL;
  PyObject *r = PyObject_CallMethod(glue, "configure", "Oi", app,
                                    settings->lifespan == ASGID_LIFESPAN_ON);
  Py_DECREF(app);
  if (!r) {
    Py_DECREF(loop);
    python_log_exception(LOG_LEVEL_ERROR, "cannot configure asgid's ASGI glue");
    snprintf(err, err_size, "cannot configure asgid's ASGI glue");
    return NULL;
  }
  Py_DECREF(r);
  const asgid_app *table = python_bridge_start(api, loop, glue);
  Py_DECREF(loop);
  if (!table) snprintf(err, err_size, "cannot start the Python bridge");
  return table;
}

void python_app_unload(void) {
  if (!Py_IsInitialized()) return;
  /* Async generators and the default executor are shut down as asyncio.run() would. */
  run_python("import asyncio\n"
             "loop = asyncio.get_event_loop()\n"
             "loop.run_until_complete(loop.shutdown_asyncgens())\n"
             "loop.run_until_complete(loop.shutdown_default_executor())\n"
             "loop.close()\n",
             "closing the event loop");
  Py_CLEAR(glue);
  Py_FinalizeEx();
}
