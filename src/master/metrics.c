/* metrics.c - the master's numbers for the metrics and health endpoints: its workers' last
 * heartbeats, what exited workers last reported, readiness. The master answers from these
 * alone, so a scrape never waits for a worker. See master.h. */
#include <stdlib.h>

#include "master/master.h"
#include "platform/build_info.h"

static void add_reported(metrics_counters *to, const channel_message *r) {
  request_stats_add(&to->stats, &r->stats);
  to->bytes_in += r->bytes_in;
  to->bytes_out += r->bytes_out;
}

void master_metrics_worker_exited(master *m, const worker_proc *w, int expected, int stuck) {
  /* A worker that stopped sent its final counts as it exited (workers.c: drain_channel); one
   * that died unasked took what it counted since its last heartbeat with it. */
  add_reported(&m->history, &w->reported);
  /* A stuck worker's own stall watch may abort it before the master finds it silent. */
  worker_exit_cause cause = stuck || w->stuck_since_ms ? WORKER_EXIT_TIMEOUT
                            : w->retiring     ? WORKER_EXIT_RETIRE
                            : expected        ? WORKER_EXIT_STOP
                                              : WORKER_EXIT_CRASH;
  m->history.worker_exits[cause]++;
}

int master_is_ready(const master *m) {
  if (!m->serving || m->stopping) return 0;
  for (const worker_proc *w = m->workers; w; w = w->next)
    if (w->state == WORKER_READY) return 1;
  return 0;
}

int master_metrics_write(const master *m, byte_buffer *out) {
  metrics_snapshot s = {.counters = m->history};
  size_t n = 0;
  for (const worker_proc *w = m->workers; w; w = w->next) n++;
  metrics_worker *workers = calloc(n ? n : 1, sizeof *workers);
  if (!workers) return -1;
  s.workers = workers;
  s.worker_count = n;
  for (const worker_proc *w = m->workers; w; w = w->next) {
    add_reported(&s.counters, &w->reported);
    s.in_flight += w->reported.in_flight;
    s.connections += w->reported.connections;
    s.websockets += w->reported.websockets;
    if (w->state == WORKER_BOOTING) s.workers_booting++;
    else if (w->state == WORKER_READY) s.workers_ready++;
    else s.workers_stopping++;
    /* Oldest first: the table is newest first. */
    workers[--n] = (metrics_worker){.id = w->id, .rss = w->rss, .cpu_usec = w->reported.cpu_usec};
  }
  s.ready = master_is_ready(m);
  s.uptime_ms = uv_now(&m->loop) - m->started_ms;
  s.version = ASGID_VERSION;
  s.python = build_info_python_version();
  s.llhttp = build_info_llhttp_version();
  int rc = metrics_text_write(out, &s);
  free(workers);
  return rc;
}
