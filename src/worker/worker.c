/* worker.c - the worker entry and its life cycle. See worker.h. */
#include "worker/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "asgi/lifespan.h"
#include "asgi/request.h"
#include "http/server.h"
#include "log/log.h"
#include "platform/platform.h"
#include "worker/descriptors.h"
#include "worker/link.h"
#include "worker/stall_watch.h"
#include "worker/worker_class.h"

typedef struct worker {
  uv_loop_t loop;
  const asgid_settings *settings;
  const listener_set *listeners;
  const worker_class *wclass;
  const asgid_app *app;
  asgi_context asgi;
  http_server http;
  asgi_lifespan lifespan;
  operator_events *operator_events; /* stop and reopen from someone else than the master */
  worker_link link;
  stall_watch watch;
  int id;
  uv_timer_t graceful_timer;
  worker_descriptors descriptors;
  int exit_status;
  int stopping;
  int graceful; /* the stop under way lets requests finish */
} worker;

static void close_all(worker *w) {
  /* App threads must be done before the handle they post to (asgi's) closes. */
  w->wclass->stop();
  platform_operator_events_close(w->operator_events);
  w->operator_events = NULL;
  worker_link_close(&w->link);
  stall_watch_stop(&w->watch);
  uv_close((uv_handle_t *)&w->graceful_timer, NULL);
  worker_descriptors_close(&w->descriptors);
  http_server_close(&w->http);
  asgi_lifespan_close(&w->lifespan);
  asgi_context_close(&w->asgi);
}

static void on_lifespan_shutdown(asgi_lifespan *lifespan) {
  worker *w = lifespan->data;
  uv_timer_stop(&w->graceful_timer);
  close_all(w);
}

static void on_drained(http_server *server) {
  worker *w = (worker *)((char *)server - offsetof(worker, http));
  asgi_lifespan_shutdown(&w->lifespan, on_lifespan_shutdown);
}

static void on_graceful_timeout(uv_timer_t *timer) {
  worker *w = timer->data;
  if (w->graceful)
    log_warning("graceful_timeout expired with %zu connection(s) open: closing them",
                http_server_connection_count(&w->http));
  http_server_abort_all(&w->http); /* on_drained follows when the last one has closed */
}

static void begin_stop(worker *w, int graceful) {
  if (w->stopping) {
    if (!graceful) http_server_abort_all(&w->http);
    return;
  }
  w->stopping = 1;
  w->graceful = graceful;
  log_info("stopping (%s)", graceful ? "graceful" : "fast");
  uint64_t timeout = graceful ? w->settings->graceful_timeout : 0;
  uv_timer_start(&w->graceful_timer, on_graceful_timeout, timeout, 0);
  http_server_stop(&w->http, on_drained);
}

static void on_operator_event(void *data, operator_event e) {
  if (e == OPERATOR_REOPEN_LOGS)
    log_reopen();
  else if (e == OPERATOR_STOP_GRACEFUL || e == OPERATOR_STOP_FAST)
    begin_stop(data, e == OPERATOR_STOP_GRACEFUL);
}

static void on_master_command(void *data, const channel_message *command) {
  worker *w = data;
  switch (command->kind) {
    case CHANNEL_STOP:
      begin_stop(w, command->graceful != 0);
      break;
    case CHANNEL_REOPEN_LOGS:
      log_reopen();
      break;
    case CHANNEL_DIAGNOSE:
      /* The master heard no heartbeat for `timeout`: whatever held the loop has let go, but
       * the worker dies as a stuck one would, with its last words (stall_watch.h). */
      abort();
    default:
      break;
  }
}

static void on_master_gone(void *data, const char *why) {
  worker *w = data;
  log_warning("%s: stopping", why);
  begin_stop(w, 1);
}

static void report(void *data, channel_message *heartbeat) {
  const http_server *http = &((worker *)data)->http;
  heartbeat->requests = http->service.requests_served;
  heartbeat->connections = http_server_connection_count(http);
  heartbeat->in_flight = http->service.requests_in_progress;
  heartbeat->websockets = http->service.websockets_open;
  heartbeat->bytes_in = http->transports.bytes_received;
  heartbeat->bytes_out = http->transports.bytes_sent;
  heartbeat->stats = http->service.stats;
}

static void on_max_requests(http_service *service) {
  worker *w = (worker *)((char *)service - offsetof(worker, http.service));
  log_info("served max_requests (%llu): retiring", (unsigned long long)service->max_requests);
  channel_message retire = {.kind = CHANNEL_RETIRE, .requests = service->requests_served};
  worker_link_send(&w->link, &retire);
  begin_stop(w, 1);
}

static void on_startup(asgi_lifespan *lifespan, asgi_startup_result result,
                       const char *message) {
  worker *w = lifespan->data;
  if (result != ASGI_STARTUP_DONE) {
    asgi_lifespan_log_failure("app startup failed", message);
    w->exit_status = result == ASGI_STARTUP_FAILED ? WORKER_EXIT_STARTUP_FAILED
                                                   : WORKER_EXIT_APP_LOAD_ERROR;
    close_all(w);
    return;
  }
  if (w->stopping) return; /* stopped while starting: shutdown follows */
  worker_descriptors_start(&w->descriptors, &w->loop, &w->http);
  if (http_server_listen(&w->http, w->listeners) != 0) {
    w->exit_status = WORKER_EXIT_BOOT_ERROR;
    begin_stop(w, 0);
    return;
  }
  char running[512];
  worker_class_describe(w->wclass, w->settings->worker_class, running, sizeof running);
  log_info("booted (pid %ld, app %s, worker class %s)", (long)uv_os_getpid(), w->settings->app,
           running);
  worker_link_ready(&w->link);
}

int worker_check_app(const asgid_settings *settings, char *err, size_t err_size) {
  if (!settings->app[0]) {
    snprintf(err, err_size, "no app given: set app in [app], pass --app, or ASGID_APP");
    return -1;
  }
  const worker_class *wclass =
      worker_class_resolve(settings->worker_class, settings->app, err, err_size);
  if (!wclass) return -1;
  if (!wclass->load_app(settings, asgi_server_api(), err, err_size)) return -1;
  wclass->unload_app();
  return 0;
}

/* max_requests plus a random 0..jitter, so workers started together do not retire together. */
static uint64_t retirement_point(const asgid_settings *settings) {
  if (settings->max_requests <= 0) return 0;
  uint64_t jitter = 0;
  if (settings->max_requests_jitter > 0) {
    uint32_t random;
    if (uv_random(NULL, NULL, &random, sizeof random, 0, NULL) == 0)
      jitter = random % ((uint64_t)settings->max_requests_jitter + 1);
  }
  return (uint64_t)settings->max_requests + jitter;
}

static int run(worker *w, const worker_bootstrap *bootstrap);

int worker_run(const worker_bootstrap *bootstrap) {
  static worker w; /* one per process; static so that event and close callbacks outlive us */
  memset(&w, 0, sizeof w);
  /* From the first moment: an app that blocks while it loads is as stuck as one that blocks
   * while serving (the master counts a worker's silence from its start too). */
  uint64_t timeout = bootstrap->settings->timeout;
  stall_watch_start(&w.watch, timeout + channel_heartbeat_interval_ms(timeout));
  int status = run(&w, bootstrap);
  stall_watch_stop(&w.watch);
  return status;
}

static int run(worker *w, const worker_bootstrap *bootstrap) {
  const asgid_settings *settings = bootstrap->settings;
  char err[1024];
  w->settings = settings;
  w->listeners = bootstrap->listeners;
  w->id = bootstrap->id;
  char role[32];
  snprintf(role, sizeof role, "worker %d", w->id);
  log_set_role(role);
  log_install_last_words(role);
  if (!settings->app[0]) {
    log_error("no app given: set app in [app], pass --app, or ASGID_APP");
    return WORKER_EXIT_APP_LOAD_ERROR;
  }
  w->wclass = worker_class_resolve(settings->worker_class, settings->app, err, sizeof err);
  if (!w->wclass) {
    log_error("%s", err);
    return WORKER_EXIT_BOOT_ERROR;
  }
  if (uv_loop_init(&w->loop) != 0) return WORKER_EXIT_BOOT_ERROR;
  w->app = w->wclass->load_app(settings, asgi_server_api(), err, sizeof err);
  if (!w->app) {
    log_error("%s", err);
    uv_loop_close(&w->loop);
    return WORKER_EXIT_APP_LOAD_ERROR;
  }
  uint64_t heartbeat_ms = channel_heartbeat_interval_ms(settings->timeout);
  int rc = w->wclass->start(settings);
  if (rc == 0) rc = asgi_context_init(&w->asgi, &w->loop, w->app, w->wclass->dispatch,
                                      w->wclass->threaded);
  if (rc == 0) rc = http_server_init(&w->http, &w->loop, settings, &w->asgi);
  if (rc == 0) {
    w->operator_events =
        platform_operator_events_start(&w->loop, OPERATOR_ROLE_WORKER, on_operator_event, w);
    if (!w->operator_events) rc = UV_ENOMEM;
  }
  w->link.watch = &w->watch;
  w->link.report = report;
  w->link.on_command = on_master_command;
  w->link.on_master_gone = on_master_gone;
  w->link.data = w;
  if (rc == 0) rc = worker_link_open(&w->link, &w->loop, bootstrap->channel_fd,
                                     bootstrap->channel_ipc, heartbeat_ms,
                                     bootstrap->channel_received,
                                     bootstrap->channel_received_len);
  if (rc != 0) {
    log_error("worker start: %s", uv_strerror(rc));
    return WORKER_EXIT_BOOT_ERROR;
  }
  w->http.service.max_requests = retirement_point(settings);
  w->http.service.on_max_requests = on_max_requests;
  uv_timer_init(&w->loop, &w->graceful_timer);
  w->graceful_timer.data = w;
  asgi_lifespan_start(&w->lifespan, &w->asgi, settings->lifespan, on_startup, w);

  w->wclass->run(&w->loop, http_server_run_deferred, http_server_flush_if_overdue, &w->http);

  w->wclass->unload_app();
  uv_run(&w->loop, UV_RUN_NOWAIT); /* close callbacks */
  if (uv_loop_close(&w->loop) != 0) log_debug("event loop closed with handles open");
  if (w->exit_status == WORKER_EXIT_OK) log_info("stopped after %llu request(s)",
                                                (unsigned long long)w->http.service.requests_served);
  return w->exit_status;
}
