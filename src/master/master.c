/* master.c - the master's life cycle: start, keep `workers` running, act on signals, stop.
 * See master.h. */
#include "master/master.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "master/capabilities.h"
#include "master/code_watch.h"
#include "master/control_server.h"
#include "master/metrics_server.h"
#include "master/pidfile.h"
#include "platform/platform.h"
#include "worker/worker.h"
#include "worker/worker_class.h"

/* How often the master looks at its workers (heartbeats, respawns, stop deadline). */
#define TICK_MS 100
/* A worker that dies sooner than this after it started counts as a crash loop. */
#define EARLY_DEATH_MS 5000
/* Longest wait between respawns of a crashing worker. */
#define MAX_BACKOFF_MS 10000
/* Extra time a stopping worker gets beyond graceful_timeout before it is terminated. */
#define STOP_MARGIN_MS 2000
/* How often the service manager's STATUS= line may change. */
#define STATUS_INTERVAL_MS 2000

static uint64_t now_ms(master *m) { return uv_now(&m->loop); }

static long wanted_workers(const asgid_settings *s) {
  return s->workers > 0 ? s->workers : platform_available_cpus();
}

/* ---------------------------------------------------------------- the service manager */

static void notify_result(master *m, int rc) {
  if (rc != 0 && !m->notify_failed) {
    m->notify_failed = 1; /* it would fail the same way every few seconds */
    log_warning("cannot notify the service manager (NOTIFY_SOCKET): %s", uv_strerror(rc));
  }
}

/* Tells the service manager (systemd, Type=notify) about the master's state; without one,
 * platform_notify does nothing. Once USR2 started a new master, that one is (or is about to
 * be) the service's main process and speaks for it: this master's STOPPING=1 would make
 * systemd stop the whole service, its STATUS= would overwrite the new master's. */
static void notify(master *m, const char *state) {
  if (!m->upgrade_running) notify_result(m, platform_notify(state));
}

/* A reload is settled (done, failed or abandoned): systemd waits for READY=1 after
 * RELOADING=1 and would otherwise show the service as reloading forever. */
static void notify_reload_settled(master *m) {
  if (!m->reloading) return;
  m->reloading = 0;
  notify(m, "READY=1");
}

/* Pings go on after USR2 too: they only say that this master's loop is alive. */
static void on_watchdog(uv_timer_t *timer) {
  notify_result(timer->data, platform_notify("WATCHDOG=1"));
}

/* "STATUS=2 workers, 1234 requests", sent when it changed. The requests are those the workers
 * reported in their heartbeats, including workers that have exited since. */
static void notify_status(master *m) {
  int workers = 0;
  uint64_t requests = m->requests_before;
  for (worker_proc *w = m->workers; w; w = w->next) {
    workers++;
    requests += w->requests;
  }
  char status[sizeof m->status];
  snprintf(status, sizeof status, "STATUS=%d worker%s, %llu requests", workers,
           workers == 1 ? "" : "s", (unsigned long long)requests);
  if (strcmp(status, m->status) == 0) return;
  memcpy(m->status, status, sizeof status);
  notify(m, status);
}

/* ---------------------------------------------------------------- stopping */

static void close_handle(uv_handle_t *handle, void *arg) {
  (void)arg;
  if (!uv_is_closing(handle)) uv_close(handle, NULL);
}

/* Every worker is gone: close the master's handles so the loop ends. A new master started by
 * USR2 keeps running: closing its handle only stops watching it. */
static void finish(master *m) {
  code_watch_close(m->code_watch); /* before the walk below closes its handles unfreed */
  m->code_watch = NULL;
  platform_operator_events_close(m->operator_events);
  m->operator_events = NULL;
  control_server_close(m->control); /* its endpoint goes with it */
  m->control = NULL;
  metrics_server_close(m->metrics, !m->upgrade_running); /* open until now: probes get 503 */
  m->metrics = NULL;
  uv_walk(&m->loop, close_handle, NULL);
}

static void begin_stop(master *m, int graceful) {
  if (m->stopping && graceful) return;
  if (!m->stopping) {
    log_info("stopping (%s): %s workers", graceful ? "graceful" : "fast",
             graceful ? "finishing in-flight requests of the" : "closing the");
    notify(m, "STOPPING=1");
  }
  m->stopping = 1;
  uint64_t allowed = graceful ? m->settings->graceful_timeout + STOP_MARGIN_MS : STOP_MARGIN_MS;
  m->stop_deadline = now_ms(m) + allowed;
  workers_stop_all(m, -1, graceful);
  if (!m->workers) finish(m);
}

/* ---------------------------------------------------------------- keeping N workers */

static int count(master *m, int generation, int only_ready) {
  int n = 0;
  for (worker_proc *w = m->workers; w; w = w->next)
    if (w->generation == generation && w->state != WORKER_STOPPING && !w->retiring &&
        (!only_ready || w->state == WORKER_READY))
      n++;
  return n;
}

static worker_proc *youngest(master *m, int generation) {
  worker_proc *found = NULL;
  for (worker_proc *w = m->workers; w; w = w->next)
    if (w->generation == generation && w->state != WORKER_STOPPING && !w->retiring &&
        (!found || w->started_ms > found->started_ms))
      found = w;
  return found;
}

static int previous_generation_running(master *m) {
  for (worker_proc *w = m->workers; w; w = w->next)
    if (w->generation != m->generation) return 1;
  return 0;
}

static void abandon_reload(master *m, const char *reason);

static void maintain(master *m) {
  if (m->stopping || m->paused) return;
  int live = count(m, m->generation, 0);
  if (live < m->target && !m->outside_loop) {
    /* A forked child must not find itself inside the master's uv_run (it cleans up the
     * master's loop by running it): workers start between loop runs. */
    uv_stop(&m->loop);
  }
  while (live < m->target && m->outside_loop && now_ms(m) >= m->respawn_not_before) {
    if (workers_start_one(m) != 0) {
      if (m->previous) { /* the previous configuration's workers still serve */
        abandon_reload(m, "a new worker could not be started");
        return;
      }
      m->respawn_not_before = now_ms(m) + 1000;
      break;
    }
    live++;
  }
  while (live > m->target) {
    worker_proc *w = youngest(m, m->generation);
    log_info("stopping worker %d (pid %d): %ld wanted", w->id, w->pid, m->target);
    workers_stop(w, 1);
    live--;
  }
  /* A reload is complete when the new generation is all ready: only then do the old
   * workers stop, so that there is never a moment without accepting workers. */
  if (previous_generation_running(m) && count(m, m->generation, 1) >= m->target) {
    for (worker_proc *w = m->workers; w; w = w->next)
      if (w->generation != m->generation && w->state != WORKER_STOPPING) {
        log_info("stopping worker %d (pid %d) of the previous configuration", w->id, w->pid);
        workers_stop(w, 1);
      }
  }
  /* A worker being replaced (max_worker_memory, max_worker_lifetime) stops once its
   * replacement is ready, for the same reason. */
  if (count(m, m->generation, 1) >= m->target) {
    for (worker_proc *w = m->workers; w; w = w->next)
      if (w->retiring && w->state != WORKER_STOPPING) {
        log_info("stopping worker %d (pid %d): its replacement is ready", w->id, w->pid);
        workers_stop(w, 1);
      }
  }
}

static void on_tick(uv_timer_t *timer) {
  master *m = timer->data;
  uint64_t now = now_ms(m);
  workers_check_timeouts(m, now);
  if (!m->stopping && !m->paused) workers_check_recycling(m, now);
  if (now >= m->status_due_ms) {
    notify_status(m);
    m->status_due_ms = now + STATUS_INTERVAL_MS;
  }
  if (m->stopping && m->workers && now > m->stop_deadline) {
    log_warning("workers still running past the stop deadline: terminating them");
    workers_terminate_all(m);
    m->stop_deadline = now + STOP_MARGIN_MS;
  }
  maintain(m);
}

/* READY=1 when every worker of the current generation is ready: the first time (the
 * service has started) and after a reload. A master started by USR2 first names itself the
 * service's main process (MAINPID=), which systemd accepts from a process of the service's
 * cgroup with NotifyAccess=all. */
static void notify_if_ready(master *m) {
  if (m->stopping || (m->announced && !m->reloading) || count(m, m->generation, 1) < m->target)
    return;
  if (!m->announced && m->upgraded) {
    char state[64];
    snprintf(state, sizeof state, "MAINPID=%ld\nREADY=1", (long)uv_os_getpid());
    notify(m, state);
  } else {
    notify(m, "READY=1");
  }
  m->announced = 1;
  m->reloading = 0;
  m->status[0] = '\0'; /* a fresh status with the new workers */
  m->status_due_ms = 0;
}

void master_worker_ready(master *m, worker_proc *w) {
  if (w->state == WORKER_BOOTING) w->state = WORKER_READY;
  w->ready_ms = now_ms(m);
  log_info("worker %d (pid %d) is ready", w->id, w->pid);
  if (count(m, m->generation, 1) >= m->target) m->serving = 1;
  notify_if_ready(m);
  maintain(m);
}

void master_worker_retiring(master *m, worker_proc *w, const char *why) {
  log_info("worker %d (pid %d) %s: starting its replacement", w->id, w->pid, why);
  w->retiring = 1;
  maintain(m);
}

static void release_previous_settings(master *m) {
  if (m->previous && !previous_generation_running(m)) {
    asgid_settings_free(m->previous);
    free(m->previous);
    m->previous = NULL;
  }
}

/* New workers of a reload could not start: go back to the configuration that works. */
static void abandon_reload(master *m, const char *reason) {
  log_error("reload failed: %s; keeping the previous configuration", reason);
  for (worker_proc *w = m->workers; w; w = w->next)
    if (w->generation == m->generation) workers_stop(w, 1);
  char why[512];
  if (master_apply_own_settings(m, m->settings, m->previous, why, sizeof why) != 0)
    log_error("reload failed: %s", why);
  asgid_settings_free(m->settings);
  free(m->settings);
  m->settings = m->previous;
  m->previous = NULL;
  m->generation = m->previous_generation;
  m->target = wanted_workers(m->settings);
  notify_reload_settled(m);
}

static int any_ready(master *m) {
  for (worker_proc *w = m->workers; w; w = w->next)
    if (w->state == WORKER_READY) return 1;
  return 0;
}

/* w died unasked: the next start waits longer while workers keep dying early. */
static void back_off_respawn(master *m, worker_proc *w) {
  uint64_t lived = now_ms(m) - w->started_ms;
  m->crash_streak = lived < EARLY_DEATH_MS ? m->crash_streak + 1 : 0;
  uint64_t backoff = 0;
  if (m->crash_streak > 1) {
    backoff = 100u << (m->crash_streak < 8 ? m->crash_streak : 8);
    if (backoff > MAX_BACKOFF_MS) backoff = MAX_BACKOFF_MS;
    log_warning("workers keep dying early: next start in %llu ms", (unsigned long long)backoff);
  }
  m->respawn_not_before = now_ms(m) + backoff;
}

void master_worker_exited(master *m, worker_proc *w, int exit_status, int term_signal) {
  m->requests_before += w->requests;
  int expected = w->state == WORKER_STOPPING;
  char how[64];
  int failed = term_signal || w->terminated ? !expected : exit_status || !expected;
  if (w->terminated && !term_signal)
    snprintf(how, sizeof how, "was terminated by the master (exit status %d)", exit_status);
  else
    platform_describe_exit(exit_status, term_signal, how, sizeof how);
  log_write(failed ? LOG_LEVEL_ERROR : LOG_LEVEL_INFO, "worker %d (pid %d) %s", w->id, w->pid, how);

  /* A worker stuck while it boots aborts itself (worker/stall_watch.h); where an abort is an
   * exit status rather than a signal (3 on Windows), it must not read as a boot error. */
  int stuck = now_ms(m) - w->last_seen_ms > m->settings->timeout;
  master_metrics_worker_exited(m, w, expected, stuck);
  int boot_failure = w->state == WORKER_BOOTING && !term_signal && !stuck &&
                     (exit_status == WORKER_EXIT_BOOT_ERROR ||
                      exit_status == WORKER_EXIT_APP_LOAD_ERROR ||
                      exit_status == WORKER_EXIT_STARTUP_FAILED);
  if (!m->stopping && boot_failure) {
    if (w->generation == m->generation && m->previous) {
      char reason[64];
      snprintf(reason, sizeof reason, "a new worker could not boot (status %d)", exit_status);
      abandon_reload(m, reason);
    } else if (w->generation == m->generation && exit_status == WORKER_EXIT_STARTUP_FAILED &&
               any_ready(m)) {
      /* What the app's startup needs is missing for a while (a database restarting) as a
       * worker is replaced: the others serve on, and the start is tried again, less often. */
      log_warning("worker %d (pid %d): the app's lifespan startup failed; the other workers "
                  "serve on", w->id, w->pid);
      back_off_respawn(m, w);
    } else if (w->generation == m->generation) {
      /* Respawning would fail the same way, at least for a while: stop with the worker's
       * reason, for whoever supervises the master (see docs/operations.md). */
      log_error("%s: stopping the master (exit status %d)",
                exit_status == WORKER_EXIT_STARTUP_FAILED ? "the app's lifespan startup failed"
                : exit_status == WORKER_EXIT_APP_LOAD_ERROR ? "the app could not be loaded"
                                                            : "a worker could not boot",
                exit_status);
      m->exit_status = exit_status;
      begin_stop(m, 0);
    }
  } else if (!m->stopping && !expected) {
    back_off_respawn(m, w);
  }
  release_previous_settings(m);
  if (m->stopping && !m->workers) {
    finish(m);
    return;
  }
  maintain(m);
}

/* ---------------------------------------------------------------- reload (HUP) */

static void on_code_changed(void *data, const char *file) {
  master *m = data;
  log_info("reload = on: %s changed: reloading", file);
  master_act(m, OPERATOR_RELOAD);
}

/* (Re)starts watching the app's source as the current settings say: after every reload,
 * which may have changed app_dir, and finds directories made since the last scan. */
static void watch_code(master *m) {
  code_watch_close(m->code_watch);
  m->code_watch = NULL;
  if (!m->settings->reload || m->stopping) return;
  if (m->preloaded) {
    log_warning("%s", MASTER_RELOAD_WITH_PRELOAD);
    return;
  }
  char cwd[4096];
  size_t cwd_size = sizeof cwd;
  const char *root = m->settings->app_dir;
  if (!root[0]) root = uv_cwd(cwd, &cwd_size) == 0 ? cwd : ".";
  int first = !m->code_watch_announced;
  m->code_watch = code_watch_start(&m->loop, root, on_code_changed, m);
  if (m->code_watch && first) {
    size_t dirs = code_watch_directories(m->code_watch);
    log_info("reload = on: watching *.py files in %zu director%s under %s", dirs,
             dirs == 1 ? "y" : "ies", root);
    m->code_watch_announced = 1;
  }
}

/* Logs what loading the settings wrote: errors, and the warnings it marks "warning: ". */
static void log_lines(const char *text) {
  static const char warning[] = "warning: ";
  const char *line = text;
  while (*line) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    if (len > strlen(warning) && strncmp(line, warning, strlen(warning)) == 0)
      log_warning("%.*s", (int)(len - strlen(warning)), line + strlen(warning));
    else if (len)
      log_error("%.*s", (int)len, line);
    line += len + (end ? 1 : 0);
  }
}

static void reload(master *m) {
  /* Before the initial READY=1 there is nothing to reload for systemd: that READY=1 comes
   * when the new generation is ready. */
  if (m->announced && !m->upgrade_running) {
    notify_result(m, platform_notify_reloading());
    m->reloading = 1;
  }
  asgid_settings *fresh = calloc(1, sizeof *fresh);
  platform_text_capture errors;
  if (!fresh || platform_text_capture_open(&errors) != 0) {
    log_error("reload failed: out of memory");
    free(fresh);
    notify_reload_settled(m);
    return;
  }
  asgid_settings_action action = asgid_settings_load_args(fresh, m->argc, m->argv,
                                                          platform_environment(), errors.stream);
  int ok = action == ASGID_ACTION_RUN;
  /* What this platform cannot do is reported as at start. */
  if (ok && capabilities_fit(fresh, platform_get_capabilities(), capabilities_print, errors.stream) != 0)
    ok = 0;
  char why[1024] = "";
  const worker_class *wclass =
      ok ? worker_class_resolve(fresh->worker_class, fresh->app, why, sizeof why) : NULL;
  if (!wclass) ok = 0;
  char *error_text = platform_text_capture_close(&errors);
  if (error_text) log_lines(error_text);
  free(error_text);
  /* From here on every change is logged as it is met; a failure after that says so. */
  if (ok) master_reload_review(m, fresh, wclass);
  if (ok && master_find_executable(m, fresh, why, sizeof why) != 0) ok = 0;
  listener_set listeners = {0};
  if (ok && listeners_open_reusing(fresh, &m->listeners, &listeners, why, sizeof why) != 0)
    ok = 0;
  if (ok && master_apply_own_settings(m, m->settings, fresh, why, sizeof why) != 0) {
    listener_set_close(&listeners, 0);
    ok = 0;
  }
  if (!ok) {
    if (why[0]) log_error("%s", why);
    log_error("reload failed: keeping the current configuration");
    asgid_settings_free(fresh);
    free(fresh);
    notify_reload_settled(m);
    return;
  }
  if (m->previous) {
    /* A reload during a reload: the workers still starting are given up, the ones serving
     * (the previous configuration) serve on until the newest generation is ready. */
    workers_stop_all(m, m->generation, 1);
    asgid_settings_free(m->settings);
    free(m->settings);
  } else {
    m->previous = m->settings;
    m->previous_generation = m->generation;
  }
  listener_set_close(&m->listeners, 0); /* running workers hold their own copies */
  m->listeners = listeners;
  m->history.reloads++;
  m->settings = fresh;
  m->generation++;
  m->target = wanted_workers(fresh);
  m->paused = 0;
  m->crash_streak = 0;
  m->respawn_not_before = 0;
  if (!asgid_settings_same(m->previous, fresh, "max_connections"))
    master_check_descriptor_limit(fresh);
  log_info("reloaded the configuration: starting %ld new worker(s)%s", m->target,
           master_spawns_workers(m, fresh) ? " (spawned)" : "");
  watch_code(m);
  maintain(m);
}

/* ---------------------------------------------------------------- operator events */

void master_act(master *m, operator_event e) {
  switch (e) {
    case OPERATOR_STOP_GRACEFUL:
    case OPERATOR_STOP_FAST:
      begin_stop(m, e == OPERATOR_STOP_GRACEFUL);
      break;
    case OPERATOR_RELOAD:
      if (!m->stopping) reload(m);
      break;
    case OPERATOR_WORKERS_MORE:
      m->target++;
      log_info("TTIN: %ld worker(s) wanted", m->target);
      maintain(m);
      break;
    case OPERATOR_WORKERS_FEWER:
      if (m->target > 1) m->target--;
      log_info("TTOU: %ld worker(s) wanted", m->target);
      maintain(m);
      break;
    case OPERATOR_REOPEN_LOGS:
      log_info("USR1: reopening log files");
      log_reopen();
      workers_reopen_logs(m);
      break;
    case OPERATOR_UPGRADE:
      if (!m->stopping) master_upgrade(m);
      break;
    case OPERATOR_PAUSE_WORKERS:
      log_info("WINCH: stopping the workers; the master stays (HUP starts them again)");
      m->paused = 1;
      workers_stop_all(m, -1, 1);
      break;
    case OPERATOR_CHILDREN_EXITED:
      workers_reap(m);
      break;
  }
}

static void on_operator_event(void *data, operator_event e) { master_act(data, e); }

/* ---------------------------------------------------------------- preload_app */

/* Loads the app in the master so that forked workers share its memory. Only forked workers
 * can inherit it; a class without a preload step (native apps load in microseconds) has
 * nothing to gain. */
static int preload(master *m) {
  char err[1024];
  const worker_class *wclass =
      worker_class_resolve(m->settings->worker_class, m->settings->app, err, sizeof err);
  if (!wclass) {
    log_error("%s", err);
    return -1;
  }
  if (!wclass->preload) {
    log_info("preload_app: worker class %s loads its app in each worker", wclass->name);
    return 0;
  }
  if (m->settings->worker_start != ASGID_WORKER_START_FORK) {
    log_warning("%s", MASTER_PRELOAD_NEEDS_FORK);
    return 0;
  }
  m->preloaded_settings = malloc(sizeof *m->preloaded_settings);
  if (!m->preloaded_settings || asgid_settings_copy(m->preloaded_settings, m->settings) != 0) {
    log_error("preload_app: out of memory");
    return -1;
  }
  if (wclass->preload(m->settings, err, sizeof err) != 0) {
    log_error("preload_app: %s", err);
    return -1;
  }
  m->preloaded = wclass;
  log_info("preload_app: the app is loaded in the master");
  return 0;
}

/* ---------------------------------------------------------------- run */

int master_run(asgid_settings *settings, int argc, char **argv) {
  static master m; /* static: forked workers reach it through their copy of memory */
  char err[1024];
  memset(&m, 0, sizeof m);
  /* The master owns its configuration from now on: a reload replaces and frees it. */
  m.settings = malloc(sizeof *m.settings);
  if (!m.settings) return 1;
  *m.settings = *settings;
  memset(settings, 0, sizeof *settings);
  settings = m.settings;
  m.argc = argc;
  m.argv = argv;
  log_set_role("master");
  if (uv_loop_init(&m.loop) != 0) return 1;
  /* Found now even for forked workers, while the binary the master runs is surely at its
   * path: a reload may switch to spawn (or need it for another app than a preloaded one). */
  m.executable = platform_executable_path(err, sizeof err);
  if (!m.executable && settings->worker_start == ASGID_WORKER_START_SPAWN) {
    log_error("worker_start = spawn: %s", err);
    return 1;
  }
  platform_set_umask(settings->umask);
  /* Read before the listeners take their variables out of the environment. */
  m.upgraded = getenv(LISTENERS_INHERIT_ENV) != NULL;
  uint64_t watchdog_usec = platform_notify_init();
  if (listeners_open(settings, &m.listeners, err, sizeof err) != 0) {
    log_error("%s", err);
    return 1;
  }
  m.started_ms = now_ms(&m);
  /* Bound with the app's listeners, before privileges are dropped (a port below 1024). */
  platform_socket metrics_offered = metrics_server_inherited();
  if (!settings->metrics_bind[0] && metrics_offered != PLATFORM_INVALID_SOCKET)
    platform_close_socket(metrics_offered); /* the new configuration has no metrics_bind */
  if (settings->metrics_bind[0] &&
      !(m.metrics = metrics_server_start(&m, settings->metrics_bind, metrics_offered, err,
                                         sizeof err))) {
    log_error("%s", err);
    listener_set_close(&m.listeners, 0);
    return 1;
  }
  if (platform_switch_user(settings->user, settings->group, err, sizeof err) != 0) {
    log_error("%s", err);
    listener_set_close(&m.listeners, 0);
    return 1;
  }
  if (settings->pidfile[0]) {
    if (pidfile_write(settings->pidfile, (long)uv_os_getpid(), err, sizeof err) != 0) {
      log_error("%s", err);
      listener_set_close(&m.listeners, 0);
      return 1;
    }
    m.pidfile = strdup(settings->pidfile);
    /* Once the pidfile names this master: the client finds the endpoint through it. Without
     * an endpoint the master serves on (signals still reach it), and says why. */
    m.control = m.pidfile ? control_server_start(&m, m.pidfile, err, sizeof err) : NULL;
    if (m.pidfile && !m.control)
      log_error("%s: asgid --control cannot reach this master", err);
  }
  m.operator_events =
      platform_operator_events_start(&m.loop, OPERATOR_ROLE_MASTER, on_operator_event, &m);
  if (!m.operator_events) {
    log_error("cannot install the handlers of operator events (signals)");
    return 1;
  }
  for (size_t i = 0; i < m.listeners.count; i++) {
    const listener *l = &m.listeners.items[i];
    log_info("listening on %s%s%s%s%s", l->kind == LISTENER_UNIX ? "unix:" : "http://", l->name,
             l->fdname ? " (systemd socket \"" : "", l->fdname ? l->fdname : "",
             l->fdname ? "\")" : "");
  }
  master_check_descriptor_limit(settings);
  if (settings->preload_app && preload(&m) != 0) {
    control_server_close(m.control);
    metrics_server_close(m.metrics, 1);
    listener_set_close(&m.listeners, 0);
    return WORKER_EXIT_APP_LOAD_ERROR;
  }
  m.target = wanted_workers(settings);
  log_info("asgid %s master (pid %ld) starting %ld worker(s)", ASGID_VERSION,
           (long)uv_os_getpid(), m.target);
  watch_code(&m);
  uv_timer_init(&m.loop, &m.tick);
  m.tick.data = &m;
  m.timeouts_checked_ms = now_ms(&m);
  uv_timer_start(&m.tick, on_tick, TICK_MS, TICK_MS);
  if (watchdog_usec) {
    /* systemd's advice: ping at half the interval. */
    uint64_t interval = watchdog_usec / 2000 ? watchdog_usec / 2000 : 1;
    uv_timer_init(&m.loop, &m.watchdog);
    m.watchdog.data = &m;
    uv_timer_start(&m.watchdog, on_watchdog, interval, interval);
    log_info("systemd watchdog: pinging every %llu ms", (unsigned long long)interval);
  }
  do {
    m.outside_loop = 1;
    maintain(&m);
    m.outside_loop = 0;
  } while (uv_run(&m.loop, UV_RUN_DEFAULT) != 0);

  uv_loop_close(&m.loop);
  if (m.pidfile) {
    char *oldbin = master_oldbin_path(m.pidfile);
    pidfile_remove(m.pidfile, (long)uv_os_getpid());
    if (oldbin) pidfile_remove(oldbin, (long)uv_os_getpid());
    free(oldbin);
    free(m.pidfile);
  }
  /* After an upgrade the new master serves the same Unix sockets: keep their files. */
  listener_set_close(&m.listeners, !m.upgrade_running);
  if (m.previous) {
    asgid_settings_free(m.previous);
    free(m.previous);
  }
  asgid_settings_free(m.settings);
  free(m.settings);
  if (m.preloaded_settings) {
    asgid_settings_free(m.preloaded_settings);
    free(m.preloaded_settings);
  }
  free(m.executable);
  log_info("stopped");
  return m.exit_status;
}
