/*
 * native.h - the native app adapter: loads a shared library app (uv_dlopen) and checks that
 * it speaks this server's ABI. The loaded asgid_app table is the app interface the ASGI
 * layer calls; the adapter adds nothing at run time.
 */
#ifndef ASGID_APPS_NATIVE_H
#define ASGID_APPS_NATIVE_H

#include <stddef.h>
#include <uv.h>

#include "asgid/asgid.h"

typedef struct native_app {
  uv_lib_t library;
  const asgid_app *app;
} native_app;

/* Loads "path/to/app.so[:symbol]", calls its entry function with api and validates the
 * table it returns. On failure writes one line saying why into err and returns -1. */
int native_app_load(native_app *out, const char *spec, const asgid_server_api *api, char *err,
                    size_t err_size);

/* Calls the app's destroy callback and unloads the library. */
void native_app_unload(native_app *app);

#endif /* ASGID_APPS_NATIVE_H */
