/* native.c - loading native apps. See native.h. */
#include "apps/native.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/app_spec.h"
#include "platform/platform.h"

int native_app_load(native_app *out, const char *spec, const asgid_server_api *api, char *err,
                    size_t err_size) {
  memset(out, 0, sizeof *out);
  char *path = NULL, *symbol = NULL;
  if (app_spec_split_native(spec, &path, &symbol) != 0) {
    snprintf(err, err_size, "app %s: out of memory", spec);
    return -1;
  }
  int rc = -1;
  char why[512];
  if (platform_library_open(path, &out->library, why, sizeof why) != 0) {
    snprintf(err, err_size, "app %s: cannot load the library: %s", spec, why);
    goto done;
  }
  asgid_app_entry_fn entry;
  if (uv_dlsym(&out->library, symbol, (void **)&entry) != 0) {
    snprintf(err, err_size, "app %s: %s exports no entry function named %s (write "
             "path.so:symbol to name another)", spec, path, symbol);
    uv_dlclose(&out->library);
    goto done;
  }
  const asgid_app *app = entry(api);
  if (!app) {
    snprintf(err, err_size, "app %s: its entry function %s refused to load (see the lines "
             "the app logged above)", spec, symbol);
  } else if (app->abi_version != ASGID_ABI_VERSION) {
    snprintf(err, err_size, "app %s was built for asgid ABI version %u; this asgid speaks "
             "version %u: rebuild the app against this asgid's include/asgid/asgid.h",
             spec, app->abi_version, ASGID_ABI_VERSION);
  } else if (app->struct_size < sizeof(asgid_app) || !app->call || !app->on_event) {
    snprintf(err, err_size, "app %s: its asgid_app table is incomplete (struct_size, call "
             "and on_event are required)", spec);
  } else {
    out->app = app;
    rc = 0;
  }
  if (rc != 0) uv_dlclose(&out->library);
done:
  free(path);
  free(symbol);
  return rc;
}

void native_app_unload(native_app *app) {
  if (!app->app) return;
  if (app->app->destroy) app->app->destroy(app->app->app_data);
  app->app = NULL;
  /* The library stays mapped: threads the app started may still run its code. */
}
