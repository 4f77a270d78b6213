/* lifespan.c - the ASGI lifespan protocol: the scope's rules (what the app may send when)
 * and the driver that runs it for the worker. See lifespan.h. */
#include "asgi/lifespan.h"

#include <stdlib.h>
#include <string.h>

#include "asgi/scope_rules.h"
#include "log/log.h"
#include "settings/settings.h"

/* ---------------------------------------------------------------- the rules (scope_rules.h) */

/* The app's side, in request.lifespan_phase: 0 nothing asked, 1 startup received, 2 startup
 * answered, 3 shutdown received. Each event received is answered once. */
static int lifespan_send(asgid_request *req, const asgid_event *event, const char **rule) {
  switch (event->type) {
    case ASGID_LIFESPAN_STARTUP_COMPLETE:
    case ASGID_LIFESPAN_STARTUP_FAILED:
      *rule = "a startup answer without lifespan.startup to answer";
      if (req->lifespan_phase != 1) return ASGID_E_INVALID;
      req->lifespan_phase = 2;
      return ASGID_OK;
    case ASGID_LIFESPAN_SHUTDOWN_COMPLETE:
    case ASGID_LIFESPAN_SHUTDOWN_FAILED:
      *rule = "a shutdown answer without lifespan.shutdown to answer";
      if (req->lifespan_phase != 3) return ASGID_E_INVALID;
      req->lifespan_phase = 0;
      return ASGID_OK;
    default:
      *rule = "not a lifespan event";
      return ASGID_E_INVALID;
  }
}

static void lifespan_delivering(asgid_request *req, const asgid_event *event) {
  if (event->type == ASGID_LIFESPAN_STARTUP) req->lifespan_phase = 1;
  if (event->type == ASGID_LIFESPAN_SHUTDOWN) req->lifespan_phase = 3;
}

const asgi_scope_rules asgi_lifespan_rules = {.send = lifespan_send,
                                              .delivering = lifespan_delivering};

int asgi_lifespan_may_set_state(const asgid_request *req) {
  return req->scope.type == ASGID_SCOPE_LIFESPAN && req->lifespan_phase == 1;
}

/* ---------------------------------------------------------------- the driver */

enum phase {
  PHASE_STARTING,      /* lifespan.startup not yet answered */
  PHASE_RUNNING,       /* startup answered; serving */
  PHASE_STOPPING,      /* shutdown asked, lifespan.shutdown not yet answered */
  PHASE_FINISHED
};


static void finish_startup(asgi_lifespan *l, asgi_startup_result result, const char *message) {
  if (l->phase != PHASE_STARTING) return;
  l->phase = PHASE_RUNNING;
  l->on_startup(l, result, message);
  /* A stop asked for during startup: the app's startup work is undone by its shutdown. */
  if (l->shutdown_waiting) {
    l->shutdown_waiting = 0;
    if (result == ASGI_STARTUP_DONE) /* a failed startup ended it all */
      asgi_lifespan_shutdown(l, l->on_shutdown);
  }
}

static void finish_shutdown(asgi_lifespan *l) {
  if (l->phase == PHASE_FINISHED) return;
  int was_stopping = l->phase == PHASE_STOPPING;
  l->phase = PHASE_FINISHED;
  if (was_stopping && l->on_shutdown) l->on_shutdown(l);
}

void asgi_lifespan_log_failure(const char *what, const char *message) {
  size_t what_len = strlen(what), message_len = strlen(message);
  char *text = malloc(what_len + 2 + message_len);
  if (!text) {
    log_error("%s: %s", what, message); /* on one line, escaped */
    return;
  }
  memcpy(text, what, what_len);
  memcpy(text + what_len, ": ", 2);
  memcpy(text + what_len + 2, message, message_len);
  log_record record = {.level = LOG_LEVEL_ERROR, .message = text,
                       .message_len = what_len + 2 + message_len};
  log_write_record(&record);
  free(text);
}

static void on_defer(uv_timer_t *timer) {
  asgi_lifespan *l = timer->data;
  if (!l->wants_event) return;
  asgid_event event;
  memset(&event, 0, sizeof event);
  if (l->phase == PHASE_STARTING && l->request.lifespan_phase == 0) {
    event.type = ASGID_LIFESPAN_STARTUP;
  } else if (l->phase == PHASE_STOPPING) {
    event.type = ASGID_LIFESPAN_SHUTDOWN;
  } else {
    return; /* the app waits for shutdown: delivered when it comes */
  }
  l->wants_event = 0;
  asgi_request_deliver(&l->request, &event);
}

static void defer_delivery(asgi_lifespan *l) { uv_timer_start(&l->defer, on_defer, 0, 0); }

static void transport_want_event(void *data) {
  asgi_lifespan *l = data;
  l->wants_event = 1;
  defer_delivery(l);
}

static void transport_send(void *data, const asgid_event *event) {
  asgi_lifespan *l = data;
  switch (event->type) {
    case ASGID_LIFESPAN_STARTUP_COMPLETE:
      finish_startup(l, ASGI_STARTUP_DONE, NULL);
      break;
    case ASGID_LIFESPAN_STARTUP_FAILED:
      finish_startup(l, ASGI_STARTUP_FAILED,
                     event->u.failed.message ? event->u.failed.message : "(no message)");
      break;
    case ASGID_LIFESPAN_SHUTDOWN_FAILED:
      asgi_lifespan_log_failure("lifespan shutdown failed",
                                event->u.failed.message ? event->u.failed.message
                                                        : "(no message)");
      finish_shutdown(l);
      break;
    case ASGID_LIFESPAN_SHUTDOWN_COMPLETE:
      finish_shutdown(l);
      break;
    default:
      break;
  }
}

static void transport_release(void *data) {
  asgi_lifespan *l = data;
  if (l->phase == PHASE_STARTING) {
    /* The app ended the lifespan without answering startup: it has none (lifespan = auto
     * serves on without, as uvicorn does), or, having received the startup event, its
     * startup ended in an error (an exception, logged by the app adapter). */
    l->active = 0;
    if (l->mode != ASGID_LIFESPAN_ON)
      finish_startup(l, ASGI_STARTUP_DONE, NULL);
    else if (l->request.call_refused || l->request.lifespan_phase == 0)
      finish_startup(l, ASGI_STARTUP_UNSUPPORTED,
                     "the app does not support the lifespan protocol (lifespan = on requires "
                     "it)");
    else
      finish_startup(l, ASGI_STARTUP_FAILED,
                     "the app ended its lifespan after the startup event without answering it");
    return;
  }
  l->active = 0;
  finish_shutdown(l);
}

static int transport_wait_writable(void *data) {
  (void)data;
  return 0; /* lifespan messages are not streamed */
}

static const asgi_transport lifespan_transport = {
    .want_event = transport_want_event,
    .send = transport_send,
    .release = transport_release,
    .wait_writable = transport_wait_writable,
};

void asgi_lifespan_start(asgi_lifespan *l, asgi_context *ctx, int mode,
                         asgi_lifespan_startup_cb on_startup, void *data) {
  memset(l, 0, sizeof *l);
  l->ctx = ctx;
  l->mode = mode;
  l->on_startup = on_startup;
  l->data = data;
  l->phase = PHASE_STARTING;
  uv_timer_init(ctx->loop, &l->defer);
  l->defer.data = l;
  if (mode == ASGID_LIFESPAN_OFF) {
    finish_startup(l, ASGI_STARTUP_DONE, NULL);
    return;
  }
  l->active = 1;
  asgi_request_init(&l->request, ctx, &lifespan_transport, l);
  l->request.scope.type = ASGID_SCOPE_LIFESPAN;
  l->request.scope.type_name = "lifespan";
  asgi_request_start(&l->request);
}

void asgi_lifespan_shutdown(asgi_lifespan *l, asgi_lifespan_shutdown_cb on_shutdown) {
  l->on_shutdown = on_shutdown;
  if (l->active && l->phase == PHASE_STARTING) {
    l->shutdown_waiting = 1; /* shut down once startup has finished */
    return;
  }
  if (!l->active || l->phase != PHASE_RUNNING) {
    l->phase = PHASE_FINISHED;
    on_shutdown(l);
    return;
  }
  l->phase = PHASE_STOPPING;
  defer_delivery(l);
}

void asgi_lifespan_close(asgi_lifespan *l) { uv_close((uv_handle_t *)&l->defer, NULL); }
