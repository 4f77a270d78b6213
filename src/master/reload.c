/* reload.c - what a new configuration (HUP) changes in the master itself: each changed setting
 * is logged, start-only ones keep their value, the executable is found when workers will be
 * spawned, and the master applies its own part (umask, log files, pidfile). See master.h. */
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "master/control_server.h"
#include "master/master.h"
#include "master/pidfile.h"
#include "platform/platform.h"
#include "worker/descriptors.h"
#include "worker/worker_class.h"

/* The settings that make the app the master preloaded (python_preload): which module and
 * attribute, called as a factory or not, from which directory and interpreter. */
static const char *const preloaded_app_identity[] = {"app", "factory", "app_dir", "virtualenv"};

static int is_preload_identity(const char *name) {
  for (size_t i = 0; i < sizeof preloaded_app_identity / sizeof *preloaded_app_identity; i++)
    if (strcmp(name, preloaded_app_identity[i]) == 0) return 1;
  return 0;
}

int master_spawns_workers(const master *m, const asgid_settings *s) {
  if (s->worker_start == ASGID_WORKER_START_SPAWN) return 1;
  if (!m->preloaded) return 0;
  /* A forked worker serves the app it inherits from the master: another app must be
   * imported by a fresh process. */
  for (size_t i = 0; i < sizeof preloaded_app_identity / sizeof *preloaded_app_identity; i++)
    if (!asgid_settings_same(m->preloaded_settings, s, preloaded_app_identity[i])) return 1;
  return 0;
}

/* ---------------------------------------------------------------- reviewing the changes */

typedef struct review {
  master *m;
  asgid_settings *fresh;
} review;

static void on_change(void *data, const char *name, asgid_setting_applies applies,
                      const char *before, const char *after) {
  review *r = data;
  int pidfile_waits = strcmp(name, "pidfile") == 0 && r->m->upgrade_running;
  if (applies == ASGID_APPLIES_START || pidfile_waits) {
    /* Kept in force, so that what runs is what the master says it runs. */
    if (asgid_settings_copy_value(r->fresh, r->m->settings, name) != 0)
      log_error("reload: %s: out of memory", name);
    if (pidfile_waits)
      log_warning("reload: pidfile %s -> %s waits until the new master started by USR2 has "
                  "taken over or exited; %s stays in force", before, after, before);
    else
      log_warning("reload: %s %s -> %s applies only at start: restart, or USR2, to apply it; "
                  "%s stays in force", name, before, after, before);
    return;
  }
  log_info("reload: %s %s -> %s", name, before, after);
  if (r->m->preloaded && is_preload_identity(name))
    log_warning("reload: %s differs from the app the master preloaded (preload_app), which it "
                "cannot import again: the new workers are spawned and import the app "
                "themselves, sharing no memory with the master (restart, or USR2, to preload "
                "it)", name);
}

void master_reload_review(master *m, asgid_settings *fresh, const struct worker_class *wclass) {
  review r = {.m = m, .fresh = fresh};
  asgid_settings_compare(m->settings, fresh, on_change, &r);
  if (fresh->preload_app && !m->preloaded && wclass->preload &&
      fresh->worker_start == ASGID_WORKER_START_FORK)
    log_warning("reload: preload_app is on but the master did not preload the app at start "
                "(it started with worker_start = spawn): forked workers import it themselves "
                "until a restart, or USR2");
}

int master_find_executable(master *m, const asgid_settings *s, char *why, size_t why_size) {
  if (!master_spawns_workers(m, s) || m->executable) return 0;
  char err[512];
  m->executable = platform_executable_path(err, sizeof err);
  if (m->executable) return 0;
  snprintf(why, why_size, "workers cannot be spawned: %s", err);
  return -1;
}

/* A worker opens its own loop, its channel and the app's files on top of what the master
 * has open (the listeners, the logs): about this many. */
#define WORKER_OWN_DESCRIPTORS 16

int master_descriptor_limit_warning(const asgid_settings *s, char *line, size_t size) {
  long limit = platform_open_file_limit(), open = platform_open_descriptor_count();
  if (limit < 0 || open < 0) return 0;
  long room = worker_connection_room(limit, open + WORKER_OWN_DESCRIPTORS);
  if (room >= s->max_connections) return 0;
  snprintf(line, size,
           "the open-file limit (RLIMIT_NOFILE) is %ld, too low for max_connections %ld: "
           "a worker holds about %ld connections at once and leaves the others waiting in "
           "the listen queue; raise it (LimitNOFILE=, ulimit -n) or lower max_connections",
           limit, s->max_connections, room);
  return 1;
}

void master_check_descriptor_limit(const asgid_settings *s) {
  char line[512];
  if (master_descriptor_limit_warning(s, line, sizeof line)) log_warning("%s", line);
}

/* ---------------------------------------------------------------- the master's own part */

static int pidfile_differs(const master *m, const asgid_settings *to) {
  return strcmp(m->pidfile ? m->pidfile : "", to->pidfile) != 0;
}

int master_apply_own_settings(master *m, const asgid_settings *from, const asgid_settings *to,
                              char *why, size_t why_size) {
  /* First, so that the log files and the pidfile are created with it. */
  platform_set_umask(to->umask);
  /* log_open reopens the files even where the paths are the same (as USR1 does). A file
   * that cannot be reopened keeps its descriptor, and only a new path that cannot be opened
   * fails the reload; log_open names the file and the reason. */
  int new_paths = !asgid_settings_same(from, to, "error_log") ||
                  !asgid_settings_same(from, to, "access_log");
  if (log_open(to) != 0 && new_paths) {
    snprintf(why, why_size, "cannot open the new log files");
    log_open(from);
    platform_set_umask(from->umask);
    return -1;
  }
  if (!pidfile_differs(m, to)) return 0;
  long pid = (long)uv_os_getpid();
  char *path = to->pidfile[0] ? strdup(to->pidfile) : NULL;
  if ((to->pidfile[0] && !path) ||
      (path && pidfile_write(path, pid, why, why_size) != 0)) {
    if (!path) snprintf(why, why_size, "pidfile: out of memory");
    free(path);
    log_open(from);
    platform_set_umask(from->umask);
    return -1;
  }
  if (m->pidfile) pidfile_remove(m->pidfile, pid);
  free(m->pidfile);
  m->pidfile = path;
  /* The control endpoint lives beside the pidfile: it moves with it (a failure leaves the
   * master without one, said in the log, as at start). */
  control_server_close(m->control);
  m->control = path ? control_server_start(m, path, why, why_size) : NULL;
  if (path && !m->control)
    log_error("reload: %s: asgid --control cannot reach this master", why);
  return 0;
}
