/*
 * app_spec.h - what an app spec names: "path/to/app.so[:symbol]" is a native app;
 * "package.module:attribute" is a Python ASGI app.
 */
#ifndef ASGID_APPS_APP_SPEC_H
#define ASGID_APPS_APP_SPEC_H

typedef enum app_kind { APP_KIND_NATIVE, APP_KIND_PYTHON } app_kind;

/* Native when the spec names a shared library file (it contains '/' or a library suffix
 * such as .so, .dylib or .dll); Python otherwise. */
app_kind app_spec_kind(const char *spec);

/* Splits a native spec into a malloc'd path and symbol (ASGID_APP_ENTRY_SYMBOL when none is
 * given). A trailing ":name" is a symbol only when name is a C identifier, so paths that
 * contain ':' still work. Returns 0, or -1 when out of memory. */
int app_spec_split_native(const char *spec, char **path, char **symbol);

#endif /* ASGID_APPS_APP_SPEC_H */
