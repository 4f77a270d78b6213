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
  if (PyRun_SimpleString(code) != 0) {
    log_error("%s failed", what);
    return -1;
  }
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

/* The asyncio loop (uvloop's when asked and importable), created and set before the app is
 * imported, so that objects made at import time belong to it. */
static PyObject *create_event_loop(int use_uvloop, char *err, size_t err_size) {
  PyObject *factory_module = NULL;
  if (use_uvloop != 0) {
    factory_module = PyImport_ImportModule("uvloop");
    if (!factory_module) {
      PyErr_Clear();
      if (use_uvloop == 1) {
        snprintf(err, err_size, "worker_class uvloop is unavailable: the uvloop module cannot "
                 "be imported (install python3-uvloop, or use worker_class = asyncio)");
        return NULL;
      }
      log_info("worker_class auto: uvloop is not importable, using asyncio");
    }
  }
  PyObject *asyncio = PyImport_ImportModule("asyncio");
  if (!asyncio) {
    Py_XDECREF(factory_module);
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
    PyErr_Print();
    Py_XDECREF(loop);
    snprintf(err, err_size, "cannot create the event loop");
    return NULL;
  }
  return loop;
}

static PyObject *load_glue(void) {
  PyObject *code = Py_CompileString(python_glue_source, "<asgid glue>", Py_file_input);
  if (!code) return NULL;
  PyObject *module = PyImport_ExecCodeModule("_asgid_glue", code);
  Py_DECREF(code);
  return module;
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
               (int)(colon - spec), spec, text ? PyUnicode_AsUTF8(text) : "not found");
      Py_XDECREF(text);
      Py_XDECREF(type);
      Py_XDECREF(value);
      Py_XDECREF(tb);
    } else {
      PyErr_Print();
      snprintf(err, err_size, "app \"%s\": importing module %.*s raised an exception (traceback "
               "above)", spec, (int)(colon - spec), spec);
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
      PyErr_Print();
      snprintf(err, err_size, "app \"%s\": the factory raised an exception (traceback above)",
               spec);
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

/* CPython started, faulthandler on, the app's directory on sys.path. */
static int prepare(const asgid_settings *settings, char *err, size_t err_size) {
  if (initialize(settings, err, err_size) != 0) return -1;
  if (enable_faulthandler() != 0 || set_sys_path(settings) != 0) {
    snprintf(err, err_size, "cannot prepare Python");
    return -1;
  }
  return 0;
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
  PyObject *glue = load_glue();
  if (!glue) {
    PyErr_Print();
    snprintf(err, err_size, "cannot load asgid's ASGI glue");
    return NULL;
  }
  PyObject *app = preloaded_app ? preloaded_app : import_app(settings, err, err_size);
  preloaded_app = NULL;
  if (!app) return NULL;
  PyObject *r = PyObject_CallMethod(glue, "configure", "O", app);
  Py_DECREF(app);
  if (!r) {
    Py_DECREF(loop);
    PyErr_Print();
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
  Py_FinalizeEx();
}
