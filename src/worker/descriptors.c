/* descriptors.c - a worker under the open-file limit. See descriptors.h. */
#include "worker/descriptors.h"

#include "log/log.h"
#include "platform/platform.h"

/* How often the worker looks whether it has a descriptor left. */
#define WATCH_INTERVAL_MS 1000
/* Assumed open when the platform cannot count them: a worker's loop, channel and logs. */
#define TYPICAL_OPEN 32
/* The most descriptors kept spare for the app. */
#define MAX_SPARE 64

long worker_connection_room(long limit, long open) {
  long free = limit - open;
  long spare = free / 4 < MAX_SPARE ? free / 4 : MAX_SPARE;
  return free - spare > 1 ? free - spare : 1;
}

/* At the limit, the connections arriving now are accepted and closed by libuv, unanswered
 * and unseen: this is the only trace of them. */
static void on_watch(uv_timer_t *timer) {
  worker_descriptors *d = timer->data;
  uint64_t now = uv_now(timer->loop);
  if (now < d->warning_due_ms || platform_descriptor_available()) return;
  d->warning_due_ms = now + HTTP_DESCRIPTOR_WARNING_INTERVAL_MS;
  log_warning("no file descriptor left (open-file limit %ld, %zu connections open): new "
              "connections are closed unanswered until the app or clients free some; raise "
              "the limit (LimitNOFILE=, ulimit -n)", d->limit, http_server_connection_count(d->server));
}

void worker_descriptors_start(worker_descriptors *d, uv_loop_t *loop, http_server *server) {
  d->server = server;
  d->limit = platform_open_file_limit();
  uv_timer_init(loop, &d->watch);
  d->watch.data = d;
  if (d->limit < 0) return; /* no limit: nothing to watch */
  long open = platform_open_descriptor_count();
  long room = worker_connection_room(d->limit, open >= 0 ? open : TYPICAL_OPEN);
  if ((unsigned long)room < server->connection_limit) {
    server->connection_limit = (size_t)room;
    log_info("open-file limit %ld (%ld open): accepting at most %ld connections at once "
             "(max_connections %ld)", d->limit, open, room, server->settings->max_connections);
  }
  uv_timer_start(&d->watch, on_watch, WATCH_INTERVAL_MS, WATCH_INTERVAL_MS);
  uv_unref((uv_handle_t *)&d->watch); /* it must not keep a stopping worker's loop alive */
}

void worker_descriptors_close(worker_descriptors *d) {
  if (d->server) uv_close((uv_handle_t *)&d->watch, NULL);
}
