/*
 * main.c - argv -> settings -> role.
 *
 * Actions (--help, --version, --print-config, --check-config and the generated documents)
 * print and exit; otherwise asgid opens the listeners, drops privileges and serves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log/log.h"
#include "master/listeners.h"
#include "platform/platform.h"
#include "settings/settings.h"
#include "worker/worker.h"

extern char **environ;

static int check_config(const asgid_settings *settings) {
  char err[1024];
  if (worker_check_app(settings, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  printf("configuration OK\n");
  return 0;
}

static int serve(const asgid_settings *settings) {
  if (log_open(settings) != 0) {
    fprintf(stderr, "cannot open the log files (error_log %s, access_log %s)\n",
            settings->error_log, settings->access_log);
    return 1;
  }
  platform_set_umask(settings->umask);
  listener_set listeners;
  char err[1024];
  if (listeners_open(settings, &listeners, err, sizeof err) != 0) {
    log_error("%s", err);
    return 1;
  }
  if (platform_switch_user(settings->user, settings->group, err, sizeof err) != 0) {
    log_error("%s", err);
    listeners_close(&listeners);
    return 1;
  }
  int status = worker_run(settings, &listeners);
  listeners_close(&listeners);
  log_close();
  return status;
}

int main(int argc, char **argv) {
  platform_process_init();
  asgid_settings settings;
  asgid_settings_action action = asgid_settings_load_args(&settings, argc, argv, environ, stderr);
  int status = 0;
  switch (action) {
    case ASGID_ACTION_HELP:
      asgid_settings_print_help(stdout, "asgid");
      break;
    case ASGID_ACTION_VERSION:
      printf("asgid %s\n", ASGID_VERSION);
      break;
    case ASGID_ACTION_PRINT_CONFIG:
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
    case ASGID_ACTION_ERROR:
      status = 1;
      break;
    case ASGID_ACTION_RUN:
      status = serve(&settings);
      break;
  }
  asgid_settings_free(&settings);
  return status;
}
