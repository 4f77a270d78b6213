/* metrics_text.c - the Prometheus text of the master's metrics. See metrics_text.h. */
#include "master/metrics_text.h"

#include <inttypes.h>
#include <stdio.h>

const char *const worker_exit_cause_names[WORKER_EXIT_CAUSES] = {"crash", "timeout", "retire",
                                                                  "stop"};

static const char *const status_class_names[REQUEST_STATUS_CLASSES] = {"1xx", "2xx", "3xx",
                                                                        "4xx", "5xx"};

/* Microseconds as seconds, "0.005" or "12.000345": integer arithmetic, so that no locale an app
 * sets in the master (preload_app) can turn the point into a comma. */
static int seconds(byte_buffer *out, uint64_t usec) {
  char fraction[8];
  snprintf(fraction, sizeof fraction, "%06u", (unsigned)(usec % 1000000));
  size_t len = 6;
  while (len > 0 && fraction[len - 1] == '0') len--;
  fraction[len] = '\0';
  return byte_buffer_appendf(out, "%" PRIu64 "%s%s", usec / 1000000, len ? "." : "", fraction);
}

/* "# HELP" and "# TYPE" of a family. */
static int family(byte_buffer *out, const char *name, const char *type, const char *help) {
  return byte_buffer_appendf(out, "# HELP asgid_%s %s\n# TYPE asgid_%s %s\n", name, help, name,
                             type);
}

static int unlabelled(byte_buffer *out, const char *name, const char *type, const char *help,
                      uint64_t value) {
  int rc = family(out, name, type, help);
  return rc | byte_buffer_appendf(out, "asgid_%s %" PRIu64 "\n", name, value);
}

/* A label value as the format escapes it: backslash, double quote and newline. */
static int label_value(byte_buffer *out, const char *value) {
  int rc = 0;
  for (const char *p = value; *p && rc == 0; p++) {
    if (*p == '\\') rc = byte_buffer_append_str(out, "\\\\");
    else if (*p == '"') rc = byte_buffer_append_str(out, "\\\"");
    else if (*p == '\n') rc = byte_buffer_append_str(out, "\\n");
    else rc = byte_buffer_append(out, p, 1);
  }
  return rc;
}

static int requests(byte_buffer *out, const request_stats *st) {
  int rc = family(out, "http_requests_total", "counter",
                  "HTTP requests answered (by the app or refused by the server), by method "
                  "class and status class");
  /* Only the pairs seen, as client libraries show labelled series once they exist. */
  for (size_t m = 0; m < REQUEST_METHOD_CLASSES; m++)
    for (size_t c = 0; c < REQUEST_STATUS_CLASSES; c++)
      if (st->requests[m][c])
        rc |= byte_buffer_appendf(out,
                                  "asgid_http_requests_total{method=\"%s\",status=\"%s\"} %" PRIu64
                                  "\n",
                                  request_method_class_names[m], status_class_names[c],
                                  st->requests[m][c]);
  rc |= family(out, "http_request_duration_seconds", "histogram",
               "Time from a request's first byte to the end of its response");
  uint64_t cumulative = 0;
  for (size_t b = 0; b < REQUEST_DURATION_BUCKETS; b++) {
    cumulative += st->duration_buckets[b];
    rc |= byte_buffer_append_str(out, "asgid_http_request_duration_seconds_bucket{le=\"");
    if (b < REQUEST_DURATION_BOUNDS)
      rc |= seconds(out, request_duration_bounds_usec[b]);
    else
      rc |= byte_buffer_append_str(out, "+Inf");
    rc |= byte_buffer_appendf(out, "\"} %" PRIu64 "\n", cumulative);
  }
  rc |= byte_buffer_append_str(out, "asgid_http_request_duration_seconds_sum ");
  rc |= seconds(out, st->duration_sum_usec);
  rc |= byte_buffer_appendf(out, "\nasgid_http_request_duration_seconds_count %" PRIu64 "\n",
                            cumulative);
  return rc;
}

static int workers(byte_buffer *out, const metrics_snapshot *s) {
  const metrics_counters *c = &s->counters;
  int rc = unlabelled(out, "worker_starts_total", "counter", "Worker processes started",
                      c->worker_starts);
  rc |= family(out, "worker_exits_total", "counter", "Worker processes that exited, by cause");
  for (size_t i = 0; i < WORKER_EXIT_CAUSES; i++)
    rc |= byte_buffer_appendf(out, "asgid_worker_exits_total{cause=\"%s\"} %" PRIu64 "\n",
                              worker_exit_cause_names[i], c->worker_exits[i]);
  rc |= family(out, "workers", "gauge", "Worker processes now, by state");
  rc |= byte_buffer_appendf(out,
                            "asgid_workers{state=\"booting\"} %d\nasgid_workers{state=\"ready\"} "
                            "%d\nasgid_workers{state=\"stopping\"} %d\n",
                            s->workers_booting, s->workers_ready, s->workers_stopping);
  rc |= family(out, "worker_resident_memory_bytes", "gauge",
               "Resident memory of each worker, from its last heartbeat");
  for (size_t i = 0; i < s->worker_count; i++)
    rc |= byte_buffer_appendf(out, "asgid_worker_resident_memory_bytes{worker=\"%d\"} %" PRIu64
                                   "\n",
                              s->workers[i].id, s->workers[i].rss);
  rc |= family(out, "worker_cpu_seconds_total", "counter",
               "CPU time (user and system) of each worker, from its last heartbeat");
  for (size_t i = 0; i < s->worker_count; i++) {
    rc |= byte_buffer_appendf(out, "asgid_worker_cpu_seconds_total{worker=\"%d\"} ",
                              s->workers[i].id);
    rc |= seconds(out, s->workers[i].cpu_usec);
    rc |= byte_buffer_append_str(out, "\n");
  }
  return rc;
}

int metrics_text_write(byte_buffer *out, const metrics_snapshot *s) {
  const metrics_counters *c = &s->counters;
  int rc = requests(out, &c->stats);
  rc |= unlabelled(out, "http_requests_in_flight", "gauge",
                   "Requests begun whose app has not finished", s->in_flight);
  rc |= unlabelled(out, "connections_open", "gauge", "Client connections open",
                   s->connections);
  rc |= unlabelled(out, "websockets_open", "gauge", "WebSocket connections open",
                   s->websockets);
  rc |= unlabelled(out, "received_bytes_total", "counter", "Bytes received from clients",
                   c->bytes_in);
  rc |= unlabelled(out, "sent_bytes_total", "counter", "Bytes sent to clients", c->bytes_out);
  rc |= workers(out, s);
  rc |= unlabelled(out, "reloads_total", "counter", "Reloads (HUP) begun with a configuration that loaded",
                   c->reloads);
  rc |= unlabelled(out, "ready", "gauge", "1 while /readyz answers 200", (uint64_t)s->ready);
  rc |= family(out, "uptime_seconds", "gauge", "Seconds since the master started");
  rc |= byte_buffer_append_str(out, "asgid_uptime_seconds ");
  rc |= seconds(out, s->uptime_ms * 1000);
  rc |= byte_buffer_append_str(out, "\n");
  rc |= family(out, "build_info", "gauge",
               "Always 1: the versions of asgid, its embedded Python and llhttp");
  rc |= byte_buffer_append_str(out, "asgid_build_info{version=\"");
  rc |= label_value(out, s->version);
  rc |= byte_buffer_append_str(out, "\",python=\"");
  rc |= label_value(out, s->python ? s->python : "");
  rc |= byte_buffer_append_str(out, "\",llhttp=\"");
  rc |= label_value(out, s->llhttp);
  rc |= byte_buffer_append_str(out, "\"} 1\n");
  return rc ? -1 : 0;
}
