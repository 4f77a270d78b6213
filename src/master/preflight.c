/* preflight.c - the checks before anything starts. See preflight.h. */
#include "master/preflight.h"

#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "master/capabilities.h"
#include "master/listeners.h"
#include "master/master.h"
#include "master/virtualenv_check.h"
#include "net/address_match.h"
#include "platform/build_info.h"
#include "platform/platform.h"
#include "worker/worker.h"
#include "worker/worker_class.h"

typedef struct preflight_report {
  preflight_report_fn *report;
  void *data;
  size_t errors;
} preflight_report;

static void report_error(void *data, const char *line) {
  preflight_report *r = data;
  r->report(r->data, 0, line);
  r->errors++;
}

static void report_warning(preflight_report *r, const char *line) { r->report(r->data, 1, line); }

/* The warnings the master logs at start for these settings (master.c, reload.c). */
static void report_start_warnings(preflight_report *r, const asgid_settings *s,
                                  const worker_class *wclass) {
  char line[512];
  if (master_descriptor_limit_warning(s, line, sizeof line)) report_warning(r, line);
  int preloads = s->preload_app && wclass->preload;
  if (preloads && s->worker_start != ASGID_WORKER_START_FORK)
    report_warning(r, MASTER_PRELOAD_NEEDS_FORK);
  else if (preloads && s->reload)
    report_warning(r, MASTER_RELOAD_WITH_PRELOAD);
}

static void check_binds(preflight_report *r, const asgid_settings *s) {
  for (size_t i = 0; i < s->bind.count; i++) {
    char why[512], line[1024];
    if (listeners_check_bind(s->bind.items[i], why, sizeof why) != 0) {
      snprintf(line, sizeof line, "bind %s: %s", s->bind.items[i], why);
      report_error(r, line);
    }
  }
  if (s->metrics_bind[0]) {
    char why[512], line[1024];
    if (listener_check_own_address(s->metrics_bind, why, sizeof why) != 0 ||
        listeners_check_bind(s->metrics_bind, why, sizeof why) != 0) {
      snprintf(line, sizeof line, "metrics_bind %s: %s", s->metrics_bind, why);
      report_error(r, line);
    }
  }
}

static void check_forwarded_allow_ips(preflight_report *r, const asgid_settings *s) {
  address_match trusted = {0};
  for (size_t i = 0; i < s->forwarded_allow_ips.count; i++) {
    char why[160], line[256];
    if (address_match_add(&trusted, s->forwarded_allow_ips.items[i], why, sizeof why) != 0) {
      snprintf(line, sizeof line, "forwarded_allow_ips: %s", why);
      report_error(r, line);
    }
  }
  address_match_free(&trusted);
}

/* 1 when path names a regular file this process can open, else 0 with why. */
static int readable_file(const char *path, char *why, size_t why_size) {
  uv_fs_t req;
  int rc = uv_fs_open(NULL, &req, path, UV_FS_O_RDONLY, 0, NULL);
  uv_fs_req_cleanup(&req);
  if (rc < 0) {
    snprintf(why, why_size, "%s", uv_strerror(rc));
    return 0;
  }
  uv_file file = rc;
  rc = uv_fs_fstat(NULL, &req, file, NULL);
  int regular = rc == 0 && (req.statbuf.st_mode & S_IFMT) == S_IFREG;
  uv_fs_req_cleanup(&req);
  uv_fs_close(NULL, &req, file, NULL);
  uv_fs_req_cleanup(&req);
  if (!regular) snprintf(why, why_size, "not a regular file");
  return regular;
}

/* The app: given, a class that runs it, a virtualenv made for this Python; with --check-config
 * loaded too. Returns the class, or NULL after reporting why there is none. */
static const worker_class *check_app(preflight_report *r, const asgid_settings *s,
                                     preflight_scope scope) {
  char why[1024];
  if (!s->app[0]) {
    report_error(r, "no app given: set app in [app], pass --app APP (or APP as the last "
                    "argument), or set ASGID_APP");
    return NULL;
  }
  const worker_class *wclass = worker_class_resolve(s->worker_class, s->app, why, sizeof why);
  if (!wclass) {
    /* At start a worker finds it as it boots, and the master stops with a worker boot
     * failure's status (3), as before this check existed. */
    if (scope == PREFLIGHT_CHECK_CONFIG) report_error(r, why);
    return NULL;
  }
  const char *python = build_info_python_version();
  int python_app = wclass->runs_python && !wclass->runs_native;
  if (python_app && python && s->virtualenv[0] &&
      virtualenv_check(s->virtualenv, python, why, sizeof why) != 0) {
    report_error(r, why); /* loading the app would only fail less clearly */
    return wclass;
  }
  if (python_app && s->log_config[0] && !readable_file(s->log_config, why, sizeof why)) {
    char line[1200];
    snprintf(line, sizeof line, "log_config %s: %s", s->log_config, why);
    report_error(r, line); /* every worker would fail on it after the master bound */
    return wclass;
  }
  if (scope == PREFLIGHT_CHECK_CONFIG && worker_check_app(s, why, sizeof why) != 0)
    report_error(r, why);
  return wclass;
}

size_t preflight_check(asgid_settings *settings, preflight_scope scope, const char *app_error,
                       preflight_report_fn *report, void *data) {
  preflight_report r = {.report = report, .data = data};
  capabilities_fit(settings, platform_get_capabilities(), report_error, &r);
  const worker_class *wclass = NULL;
  check_forwarded_allow_ips(&r, settings);
  if (app_error)
    report_error(&r, app_error);
  else
    wclass = check_app(&r, settings, scope);
  if (scope == PREFLIGHT_CHECK_CONFIG) {
    check_binds(&r, settings);
    /* as at start, where an error stops the master before it would warn */
    if (wclass && r.errors == 0) report_start_warnings(&r, settings, wclass);
  }
  return r.errors;
}
