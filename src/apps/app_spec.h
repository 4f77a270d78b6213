/*
 * app_spec.h - what an app spec names: "path/to/app.so[:symbol]" is a native app;
 * "package.module:attribute" is a Python ASGI app.
 */
#ifndef ASGID_APPS_APP_SPEC_H
#define ASGID_APPS_APP_SPEC_H

#include <stddef.h>

typedef enum app_kind { APP_KIND_NATIVE, APP_KIND_PYTHON } app_kind;

/* Native when the spec names a shared library file (it contains '/' or a library suffix
 * such as .so, .dylib or .dll); Python otherwise. */
app_kind app_spec_kind(const char *spec);

/* Splits a native spec into a malloc'd path and symbol (ASGID_APP_ENTRY_SYMBOL when none is
 * given). A trailing ":name" is a symbol only when name is a C identifier, so paths that
 * contain ':' still work. Returns 0, or -1 when out of memory. */
int app_spec_split_native(const char *spec, char **path, char **symbol);

/* When `spec` names a Python file rather than a module ("x.py:app", "path/x.py",
 * "path/x.py:app"), which no worker class can load, writes into hint the one-line error that
 * says what was meant ("... did you mean --app x:app --app-dir path?"; the file's directory
 * is taken under `app_dir` when relative, "app" is the attribute when none is given) and
 * returns 1; otherwise returns 0. */
int app_spec_python_file_hint(const char *spec, const char *app_dir, char *hint, size_t size);

#endif /* ASGID_APPS_APP_SPEC_H */
