/* capabilities.c - the settings a platform cannot honour. See capabilities.h. */
#include "master/capabilities.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first bind value that starts with prefix, or NULL. */
static const char *first_bind(const asgid_settings *s, const char *prefix) {
  for (size_t i = 0; i < s->bind.count; i++)
    if (strncmp(s->bind.items[i], prefix, strlen(prefix)) == 0) return s->bind.items[i];
  return NULL;
}

void capabilities_print(void *stream, const char *line) { fprintf(stream, "%s\n", line); }

size_t capabilities_fit(asgid_settings *s, const platform_capabilities *caps,
                        void (*report)(void *data, const char *line), void *data) {
  if (!caps->fork && s->worker_start == ASGID_WORKER_START_FORK &&
      s->source.worker_start == ASGID_SOURCE_DEFAULT)
    s->worker_start = ASGID_WORKER_START_SPAWN;
  const char *os = caps->system;
  char line[512];
  size_t lines = 0;
#define REPORT(...)                                                                         \
  do {                                                                                      \
    snprintf(line, sizeof line, __VA_ARGS__);                                               \
    if (report) report(data, line);                                                         \
    lines++;                                                                                \
  } while (0)
  if (!caps->fork && s->worker_start == ASGID_WORKER_START_FORK)
    REPORT("worker_start = fork is not available on %s (processes cannot fork there): use "
           "worker_start = spawn", os);
  if (!caps->fork && s->preload_app)
    REPORT("preload_app is not available on %s (it hands an imported app to forked workers): "
           "turn it off; each spawned worker imports the app itself", os);
  if (!caps->switch_user && (s->user[0] || s->group[0]))
    REPORT("user and group are not available on %s (a process cannot switch accounts there): "
           "leave them empty and start asgid under the account it should run as", os);
  const char *unix_bind = caps->unix_sockets ? NULL : first_bind(s, "unix:");
  if (unix_bind)
    REPORT("bind %s is not available on %s (a Unix socket cannot be handed to its workers "
           "there): bind a TCP address such as 127.0.0.1:8000", unix_bind, os);
  if (!caps->reuse_port && s->reuse_port)
    REPORT("reuse_port is not available on %s (it has no SO_REUSEPORT): turn it off; asgid's "
           "workers already share one listener", os);
  const char *fd_bind = caps->socket_activation ? NULL : first_bind(s, "fd://");
  if (fd_bind)
    REPORT("bind %s is not available on %s (it has no socket activation): bind HOST:PORT",
           fd_bind, os);
  if (!caps->socket_activation && getenv("LISTEN_FDS"))
    REPORT("LISTEN_FDS (socket activation) is not available on %s: unset it and bind "
           "HOST:PORT", os);
#undef REPORT
  return lines;
}
