/*
 * python_internal.h - what the files of the Python adapter share (they include Python.h).
 */
#ifndef ASGID_APPS_PYTHON_INTERNAL_H
#define ASGID_APPS_PYTHON_INTERNAL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "apps/python/python.h"

/* bridge.c: the _asgid module (registered before CPython starts) and the asgid_app table
 * over glue.py's start() and deliver(). */
PyObject *python_bridge_module_init(void);
const asgid_app *python_bridge_start(const asgid_server_api *api, PyObject *glue);

/* driver.c: remembers the asyncio loop the app runs on. Returns 0 or -1. */
int python_driver_init(PyObject *event_loop);

/* glue_source.c (generated from glue.py at build time). */
extern const char python_glue_source[];

#endif /* ASGID_APPS_PYTHON_INTERNAL_H */
