/*
 * main.c - argv -> settings -> role.
 *
 * Roles: a spawned worker (asgid --spawned-worker, started by a master only); the actions
 * (--help, --version, --print-config, --check-config and the generated documents), which
 * print and exit; the control client (--control COMMAND), which commands a running master; otherwise the master, which opens the listeners and runs the workers.
 * --abi-events-doc (the event section of docs/abi.md) is for maintainers, so not in --help.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/event_table.h"
#include "apps/app_spec.h"
#include "log/log.h"
#include "master/capabilities.h"
#include "master/control_client.h"
#include "master/master.h"
#include "master/preflight.h"
#include "platform/build_info.h"
#include "platform/platform.h"
#include "settings/settings.h"
#include "worker/worker.h"

static void log_problem(void *unused, int warning, const char *line) {
  (void)unused;
  if (warning)
    log_warning("%s", line);
  else
    log_error("%s", line);
}

static void print_problem(void *stream, int warning, const char *line) {
  fprintf(stream, "%s%s\n", warning ? "warning: " : "", line);
}

/* What is wrong with the app spec before anything tries to load it: a Python file named
 * instead of a module. NULL when nothing is; else `buf`. */
static const char *app_spec_error(const asgid_settings *settings, char *buf, size_t size) {
  return app_spec_python_file_hint(settings->app, settings->app_dir, buf, size) ? buf : NULL;
}

static int check_config(asgid_settings *settings) {
  char app_error[1536];
  if (preflight_check(settings, PREFLIGHT_CHECK_CONFIG,
                      app_spec_error(settings, app_error, sizeof app_error), print_problem,
                      stderr) != 0)
    return 1;
  printf("configuration OK\n");
  return 0;
}

static int serve(asgid_settings *settings, int argc, char **argv) {
  if (log_open(settings) != 0) return 1; /* log_open said why, on standard error */
  log_set_role("master");
  /* Before anything is bound or started: a mistake found now is one line, not a failed start
   * of every worker. */
  char app_error[1536];
  if (preflight_check(settings, PREFLIGHT_START,
                      app_spec_error(settings, app_error, sizeof app_error), log_problem,
                      NULL) != 0) {
    log_close();
    return 1;
  }
  int status = master_run(settings, argc, argv);
  log_close();
  return status;
}

int main(int argc, char **argv) {
  platform_process_init();
  argv = platform_arguments(&argc, argv);
  if (argc == 2 && strcmp(argv[1], "--spawned-worker") == 0) {
    platform_operator_events_defer(1); /* until the worker listens (worker.c) */
    return worker_spawned_main();
  }
  if (argc == 2 && strcmp(argv[1], "--abi-events-doc") == 0) {
    asgi_events_print_doc(stdout);
    return 0;
  }
  asgid_settings settings;
  asgid_settings_action action = asgid_settings_load_args(&settings, argc, argv,
                                                           platform_environment(), stderr);
  int status = 0;
  switch (action) {
    case ASGID_ACTION_HELP:
      asgid_settings_print_help(stdout, "asgid");
      break;
    case ASGID_ACTION_VERSION:
      printf("%s\n", build_info_text());
      break;
    case ASGID_ACTION_PRINT_CONFIG:
      capabilities_fit(&settings, platform_get_capabilities(), NULL, NULL);
      asgid_settings_print_config(&settings, stdout);
      break;
    case ASGID_ACTION_SETTINGS_DOC:
      asgid_settings_print_doc(stdout);
      break;
    case ASGID_ACTION_EXAMPLE_CONF:
      asgid_settings_print_example_conf(stdout);
      break;
    case ASGID_ACTION_CHECK_CONFIG:
      status = check_config(&settings);
      break;
    case ASGID_ACTION_CONTROL:
      status = control_client_run(&settings);
      break;
    case ASGID_ACTION_ERROR:
      status = 1;
      break;
    case ASGID_ACTION_RUN:
      status = serve(&settings, argc, argv);
      break;
  }
  asgid_settings_free(&settings);
  return status;
}
