/* upgrade.c - USR2, nginx's binary upgrade: start a new master (the binary now installed at
 * asgid's own path) on the same listeners, while this one serves on. See master.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "master/master.h"
#include "master/metrics_server.h"
#include "master/pidfile.h"
#include "platform/platform.h"

char *master_oldbin_path(const char *pidfile) {
  size_t size = strlen(pidfile) + sizeof ".oldbin";
  char *path = malloc(size);
  if (path) snprintf(path, size, "%s.oldbin", pidfile);
  return path;
}

static void on_upgrade_exit(uv_process_t *process, int64_t exit_status, int term_signal) {
  master *m = process->data;
  m->upgrade_running = 0;
  uv_close((uv_handle_t *)process, NULL);
  log_error("the new master (pid %d) exited (status %lld, signal %d): this master goes on",
            process->pid, (long long)exit_status, term_signal);
  if (m->pidfile) {
    char *oldbin = master_oldbin_path(m->pidfile);
    if (oldbin && pidfile_rename(oldbin, m->pidfile) != 0) {
      char err[256];
      pidfile_write(m->pidfile, (long)uv_os_getpid(), err, sizeof err);
    }
    free(oldbin);
  }
}

void master_upgrade(master *m) {
  if (m->upgrade_running) {
    log_warning("USR2: a new master (pid %d) is already running", m->upgrade.pid);
    return;
  }
  char err[512];
  char *executable = platform_executable_path(err, sizeof err);
  if (!executable) {
    log_error("USR2: %s", err);
    return;
  }
  /* The new master finds the listeners as inherited descriptors named in its environment;
   * descriptors between them are left out (UV_IGNORE). */
  size_t n = m->listeners.count;
  int *child_fds = calloc(n ? n : 1, sizeof *child_fds);
  char *inherit[2] = {NULL, NULL};
  int stdio_count = child_fds ? listeners_inherit(&m->listeners, child_fds, inherit) : -1;
  /* The metrics socket follows them, named by its own variable. */
  char metrics_var[64] = "";
  if (stdio_count > 0 && m->metrics) {
    snprintf(metrics_var, sizeof metrics_var, "%s=%d", METRICS_INHERIT_ENV, stdio_count);
    stdio_count++;
  }
  uv_stdio_container_t *stdio = stdio_count > 0 ? calloc((size_t)stdio_count, sizeof *stdio)
                                                : NULL;
  char **args = calloc((size_t)m->argc + 1, sizeof *args);
  char **current = platform_environment(); /* this master's environment */
  size_t env_count = 0;
  while (current[env_count]) env_count++;
  char **env = calloc(env_count + 6, sizeof *env);
  if (!stdio || !args || !env) {
    log_error("USR2: out of memory");
    goto done;
  }
  for (int fd = 0; fd < 3; fd++) stdio[fd] = (uv_stdio_container_t){UV_INHERIT_FD, {.fd = fd}};
  for (size_t i = 0; i < n; i++)
    stdio[child_fds[i]] =
        (uv_stdio_container_t){UV_INHERIT_FD, {.fd = m->listeners.items[i].socket}};
  if (metrics_var[0])
    stdio[stdio_count - 1] =
        (uv_stdio_container_t){UV_INHERIT_FD, {.fd = metrics_server_socket(m->metrics)}};
  args[0] = executable;
  for (int i = 1; i < m->argc; i++) args[i] = m->argv[i];
  size_t e = 0;
  for (size_t i = 0; i < env_count; i++)
    if (strncmp(current[i], LISTENERS_INHERIT_ENV "=", strlen(LISTENERS_INHERIT_ENV) + 1) != 0 &&
        strncmp(current[i], LISTENERS_INHERIT_NAMES_ENV "=",
                strlen(LISTENERS_INHERIT_NAMES_ENV) + 1) != 0)
      env[e++] = current[i];
  env[e++] = inherit[0];
  env[e++] = inherit[1];
  if (metrics_var[0]) env[e++] = metrics_var;
  /* The master took the notify variables out of its environment (workers must not see
   * them); the new master needs them to announce itself to the same service manager. */
  const char *notify_vars[2];
  size_t notify_count = platform_notify_environment(notify_vars);
  for (size_t i = 0; i < notify_count; i++) env[e++] = (char *)notify_vars[i];
  uv_process_options_t options;
  memset(&options, 0, sizeof options);
  options.exit_cb = on_upgrade_exit;
  options.file = executable;
  options.args = args;
  options.env = env;
  options.stdio = stdio;
  options.stdio_count = stdio_count;
  m->upgrade.data = m;
  if (m->pidfile) {
    char *oldbin = master_oldbin_path(m->pidfile);
    if (!oldbin || pidfile_rename(m->pidfile, oldbin) != 0)
      log_warning("USR2: cannot rename the pidfile to %s.oldbin", m->pidfile);
    free(oldbin);
  }
  int rc = uv_spawn(&m->loop, &m->upgrade, &options);
  if (rc != 0) {
    log_error("USR2: cannot start %s: %s", executable, uv_strerror(rc));
    uv_close((uv_handle_t *)&m->upgrade, NULL);
    if (m->pidfile) {
      char *oldbin = master_oldbin_path(m->pidfile);
      if (oldbin) pidfile_rename(oldbin, m->pidfile);
      free(oldbin);
    }
  } else {
    m->upgrade_running = 1;
    log_info("USR2: started a new master (pid %d, %s) on the same listeners; this one serves "
             "until TERM (or WINCH stops its workers)", m->upgrade.pid, executable);
  }
done:
  free(inherit[0]);
  free(inherit[1]);
  free(child_fds);
  free(env);
  free(args);
  free(stdio);
  free(executable);
}
