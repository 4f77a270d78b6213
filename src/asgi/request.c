/* request.c - ASGI request state, validation and thread hand-off. See request.h. */
#include "asgi/request.h"

#include <stdlib.h>
#include <string.h>

#include "abi/event_table.h"
#include "asgi/lifespan.h"
#include "asgi/scope_rules.h"
#include "log/log.h"
#include "platform/platform.h"

/* Work posted by an app thread for the loop thread. */
typedef enum op_kind { OP_RECEIVE, OP_SEND, OP_DONE, OP_JOB_FINISHED, OP_WAIT_WRITABLE } op_kind;

typedef struct asgi_op {
  op_kind kind;
  asgid_request *req;
  asgi_job *job;        /* OP_JOB_FINISHED */
  asgid_event event;    /* OP_SEND: points into the copy that follows the op */
  struct asgi_op *next;
} asgi_op;

static int on_loop_thread(const asgi_context *ctx) {
  uv_thread_t self = uv_thread_self();
  return uv_thread_equal(&self, &ctx->loop_thread);
}

static void lock(asgi_context *ctx) {
  if (ctx->threaded) uv_mutex_lock(&ctx->lock);
}

static void unlock(asgi_context *ctx) {
  if (ctx->threaded) uv_mutex_unlock(&ctx->lock);
}

/* The rules of each scope type, by asgid_scope_type. */
static const asgi_scope_rules *const scope_rules[] = {
    [ASGID_SCOPE_HTTP] = &asgi_http_rules,
    [ASGID_SCOPE_WEBSOCKET] = &asgi_websocket_rules,
    [ASGID_SCOPE_LIFESPAN] = &asgi_lifespan_rules,
};

/* ---------------------------------------------------------------- loop-thread actions */

static void maybe_release(asgid_request *req) {
  if (!req->app_done || req->in_callback || req->released) return;
  req->released = 1;
  req->transport->release(req->transport_data);
}

static void run_job(asgi_context *ctx, asgi_job *job) {
  job->request->in_callback = 1;
  ctx->dispatch(ctx, job);
}

static void finish_job(asgi_job *job) {
  asgid_request *req = job->request;
  req->in_callback = 0;
  if (job->kind == ASGI_JOB_CALL && req->transport->scope_taken)
    req->transport->scope_taken(req->transport_data);
  if (job->kind == ASGI_JOB_CALL && job->call_result != 0) {
    /* The app refused the scope: it will not call done, so the request ends here. */
    req->call_refused = 1;
    lock(req->ctx);
    req->app_done = 1;
    unlock(req->ctx);
  }
  if (req->event_pending) {
    req->event_pending = 0;
    run_job(req->ctx, &req->event_job);
    return;
  }
  if (req->writable_pending) {
    req->writable_pending = 0;
    run_job(req->ctx, &req->writable_job);
    return;
  }
  maybe_release(req);
}

static void do_op(asgi_op *op) {
  asgid_request *req = op->req;
  switch (op->kind) {
    case OP_RECEIVE:
      req->transport->want_event(req->transport_data);
      break;
    case OP_SEND:
      req->transport->send(req->transport_data, &op->event);
      break;
    case OP_DONE:
      maybe_release(req);
      break;
    case OP_JOB_FINISHED:
      finish_job(op->job);
      break;
    case OP_WAIT_WRITABLE:
      if (!req->transport->wait_writable(req->transport_data)) asgi_request_writable(req);
      break;
  }
}

static void on_ops(uv_async_t *handle) {
  asgi_context *ctx = handle->data;
  uv_mutex_lock(&ctx->lock);
  asgi_op *op = ctx->ops_head;
  ctx->ops_head = ctx->ops_tail = NULL;
  uv_mutex_unlock(&ctx->lock);
  while (op) {
    asgi_op *next = op->next;
    do_op(op);
    free(op);
    op = next;
  }
}

/* Runs op on the loop thread: now when already there, else queued. extra bytes are
 * allocated after the op for copies of event data. */
static asgi_op *new_op(op_kind kind, asgid_request *req, size_t extra) {
  asgi_op *op = calloc(1, sizeof *op + extra);
  if (!op) return NULL;
  op->kind = kind;
  op->req = req;
  return op;
}

static void post_op(asgi_context *ctx, asgi_op *op) {
  uv_mutex_lock(&ctx->lock);
  if (ctx->ops_tail)
    ctx->ops_tail->next = op;
  else
    ctx->ops_head = op;
  ctx->ops_tail = op;
  uv_mutex_unlock(&ctx->lock);
  uv_async_send(&ctx->ops_async);
}

/* ---------------------------------------------------------------- context */

int asgi_context_init(asgi_context *ctx, uv_loop_t *loop, const asgid_app *app,
                      asgi_dispatch_fn dispatch, int threaded) {
  memset(ctx, 0, sizeof *ctx);
  ctx->loop = loop;
  ctx->loop_thread = uv_thread_self();
  ctx->app = app;
  ctx->dispatch = dispatch;
  ctx->threaded = threaded;
  int rc = uv_mutex_init(&ctx->lock);
  if (rc != 0) return rc;
  rc = uv_async_init(loop, &ctx->ops_async, on_ops);
  if (rc != 0) {
    uv_mutex_destroy(&ctx->lock);
    return rc;
  }
  ctx->ops_async.data = ctx;
  /* The op handle must not keep a stopping loop alive by itself. */
  uv_unref((uv_handle_t *)&ctx->ops_async);
  return 0;
}

static void on_ops_closed(uv_handle_t *handle) {
  asgi_context *ctx = handle->data;
  uv_mutex_destroy(&ctx->lock);
}

void asgi_context_close(asgi_context *ctx) {
  uv_close((uv_handle_t *)&ctx->ops_async, on_ops_closed);
}

/* ---------------------------------------------------------------- requests */

void asgi_request_init(asgid_request *req, asgi_context *ctx, const asgi_transport *transport,
                       void *transport_data) {
  memset(req, 0, sizeof *req);
  req->ctx = ctx;
  req->transport = transport;
  req->transport_data = transport_data;
  req->content_length = UINT64_MAX;
  req->scope.struct_size = sizeof req->scope;
  req->scope.asgi_version = "3.0";
  req->scope.spec_version = "2.3";
  req->scope.state = ctx->lifespan_state;
  req->call_job.kind = ASGI_JOB_CALL;
  req->call_job.request = req;
  req->event_job.kind = ASGI_JOB_EVENT;
  req->event_job.request = req;
  req->writable_job.kind = ASGI_JOB_WRITABLE;
  req->writable_job.request = req;
}

void asgi_request_start(asgid_request *req) { run_job(req->ctx, &req->call_job); }

void asgi_request_deliver(asgid_request *req, const asgid_event *event) {
  const asgi_scope_rules *rules = scope_rules[req->scope.type];
  lock(req->ctx);
  req->receive_outstanding = 0;
  if (rules->delivering) rules->delivering(req, event);
  unlock(req->ctx);
  req->event_job.event = *event;
  if (req->in_callback)
    req->event_pending = 1;
  else
    run_job(req->ctx, &req->event_job);
}

void asgi_request_writable(asgid_request *req) {
  if (req->in_callback)
    req->writable_pending = 1;
  else
    run_job(req->ctx, &req->writable_job);
}

void asgi_request_disconnect(asgid_request *req) {
  atomic_store(&req->disconnected, 1);
}

void asgi_job_run(asgi_job *job) {
  asgid_request *req = job->request;
  const asgid_app *app = req->ctx->app;
  if (job->kind == ASGI_JOB_CALL) {
    job->call_result = app->call(app->app_data, req, &req->scope);
    return;
  }
  lock(req->ctx);
  int finished = req->app_done;
  unlock(req->ctx);
  if (finished) return; /* nothing reaches an app after it called done */
  if (job->kind == ASGI_JOB_EVENT)
    app->on_event(app->app_data, req, &job->event);
  else if (app->on_writable)
    app->on_writable(app->app_data, req);
}

void asgi_job_finished(asgi_job *job) {
  asgi_context *ctx = job->request->ctx;
  if (on_loop_thread(ctx)) {
    finish_job(job);
    return;
  }
  asgi_op *op = new_op(OP_JOB_FINISHED, job->request, 0);
  if (!op) abort(); /* losing this would leak the request forever; nothing sane remains */
  op->job = job;
  post_op(ctx, op);
}

/* ---------------------------------------------------------------- the server api */

static int api_receive(asgid_request *req) {
  asgi_context *ctx = req->ctx;
  int rc = ASGID_OK;
  lock(ctx);
  if (req->app_done || req->receive_outstanding)
    rc = ASGID_E_INVALID;
  else
    req->receive_outstanding = 1;
  unlock(ctx);
  if (rc != ASGID_OK) return rc;
  if (on_loop_thread(ctx)) {
    req->transport->want_event(req->transport_data);
    return ASGID_OK;
  }
  asgi_op *op = new_op(OP_RECEIVE, req, 0);
  if (!op) {
    lock(ctx);
    req->receive_outstanding = 0;
    unlock(ctx);
    return ASGID_E_NOMEM;
  }
  post_op(ctx, op);
  return ASGID_OK;
}

/* Checks event against the event table and the request's state and, when valid, records its
 * effect. */
static int accept_event(asgid_request *req, const asgid_event *event, const char **rule) {
  *rule = "the app already called done";
  if (req->app_done) return ASGID_E_INVALID;
  const asgi_event_info *info = asgi_event_of(event->type);
  *rule = "not an app event of this scope type";
  if (!info || info->direction != ASGI_TO_SERVER || info->scope != req->scope.type)
    return ASGID_E_INVALID;
  return scope_rules[req->scope.type]->send(req, event, rule);
}

/* Copies an event and its data behind a new op, for the loop thread. */
static asgi_op *copy_send_op(asgid_request *req, const asgid_event *event) {
  asgi_op *op = new_op(OP_SEND, req, asgi_event_copy_size(event));
  if (op) asgi_event_copy(event, &op->event, op + 1);
  return op;
}

static int api_send(asgid_request *req, const asgid_event *event) {
  if (!req || !event) return ASGID_E_INVALID;
  asgi_context *ctx = req->ctx;
  const char *rule = NULL;
  lock(ctx);
  int rc = accept_event(req, event, &rule);
  unlock(ctx);
  if (rc == ASGID_E_INVALID) {
    const asgi_event_info *info = asgi_event_of(event->type);
    log_debug("app event %s refused: %s", info ? info->name : "(unknown type)", rule);
  }
  if (rc != ASGID_OK) return rc;
  if (atomic_load(&req->disconnected)) return ASGID_E_DISCONNECTED;
  if (on_loop_thread(ctx)) {
    req->transport->send(req->transport_data, event);
    return ASGID_OK;
  }
  asgi_op *op = copy_send_op(req, event);
  if (!op) return ASGID_E_NOMEM;
  post_op(ctx, op);
  return ASGID_OK;
}

static void api_done(asgid_request *req) {
  asgi_context *ctx = req->ctx;
  lock(ctx);
  int already = req->app_done;
  req->app_done = 1;
  unlock(ctx);
  if (already) return;
  if (on_loop_thread(ctx)) {
    maybe_release(req);
    return;
  }
  asgi_op *op = new_op(OP_DONE, req, 0);
  if (!op) abort(); /* losing done would leak the request forever */
  post_op(ctx, op);
}

static int api_wait_writable(asgid_request *req) {
  asgi_context *ctx = req->ctx;
  lock(ctx);
  int done = req->app_done;
  unlock(ctx);
  if (done || !ctx->app->on_writable) return ASGID_E_INVALID;
  if (on_loop_thread(ctx)) return req->transport->wait_writable(req->transport_data);
  /* Another thread cannot look at the connection: the loop thread answers at once if the
   * client is keeping up. */
  asgi_op *op = new_op(OP_WAIT_WRITABLE, req, 0);
  if (!op) return ASGID_E_NOMEM;
  post_op(ctx, op);
  return 1;
}

static int api_set_state(asgid_request *req, void *state) {
  if (!asgi_lifespan_may_set_state(req)) return ASGID_E_INVALID;
  req->ctx->lifespan_state = state;
  return ASGID_OK;
}

static void api_set_request_data(asgid_request *req, void *data) { req->app_request_data = data; }

static void *api_request_data(asgid_request *req) { return req->app_request_data; }

static void api_log(asgid_log_level level, const char *fmt, ...)
    PLATFORM_PRINTF(2, 3);
static void api_log(asgid_log_level level, const char *fmt, ...) {
  static const log_level levels[] = {LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARNING,
                                     LOG_LEVEL_ERROR};
  log_level mapped = (unsigned)level < 4 ? levels[level] : LOG_LEVEL_ERROR;
  /* Tagged as the app's, so operators can tell its lines from the server's. */
  char message[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  log_write(mapped, "app: %s", message);
}

static const asgid_server_api server_api = {
    .abi_version = ASGID_ABI_VERSION,
    .struct_size = sizeof(asgid_server_api),
    .server_version = "asgid/" ASGID_VERSION,
    .receive = api_receive,
    .send = api_send,
    .done = api_done,
    .set_state = api_set_state,
    .log = api_log,
    .wait_writable = api_wait_writable,
    .set_request_data = api_set_request_data,
    .request_data = api_request_data,
};

const asgid_server_api *asgi_server_api(void) { return &server_api; }
