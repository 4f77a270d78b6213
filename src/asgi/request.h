/*
 * request.h - the ASGI request: one connection scope between the protocol layer and an app.
 *
 * This is the object behind the public asgid_request handle. It enforces ASGI's rules on
 * what the app sends (order, header bytes), serializes app callbacks per request, and moves
 * work between the app's thread and the loop thread:
 *
 *   protocol layer (a transport)  --asgi_request_deliver-->  app->on_event
 *   app: api->receive / send / done  --transport->want_event / send / release-->  protocol
 *
 * The protocol layer implements asgi_transport and never knows which app adapter or worker
 * class is behind; app adapters never touch a socket.
 *
 * Threads: transport functions and asgi_request_* functions (except the api_* entry points
 * and asgi_job_run) run on the loop thread only.
 */
#ifndef ASGID_ASGI_REQUEST_H
#define ASGID_ASGI_REQUEST_H

#include <stdatomic.h>
#include <uv.h>

#include "asgid/asgid.h"

typedef struct asgi_context asgi_context;

/* What a protocol layer (HTTP, the lifespan driver) provides to a request. Loop thread. */
typedef struct asgi_transport {
  /* The app called receive: deliver the next event with asgi_request_deliver, later (never
   * from inside this function). */
  void (*want_event)(void *transport_data);
  /* An app event that passed validation (for http: response start and body). */
  void (*send)(void *transport_data, const asgid_event *event);
  /* The app is finished with the request (done called and no callback running). The
   * transport owns the request memory from now on and frees it with asgi_request_free. */
  void (*release)(void *transport_data);
  /* The app asks whether it may go on sending: 0 if yes; 1 if the transport will call
   * asgi_request_writable later (the client drained, or left). */
  int (*wait_writable)(void *transport_data);
  /* The app's call has returned: the app has the scope (a native app may read it only during
   * call; the Python adapter copied it), so memory only the scope used may go. May be NULL. */
  void (*scope_taken)(void *transport_data);
} asgi_transport;

typedef enum asgi_job_kind { ASGI_JOB_CALL, ASGI_JOB_EVENT, ASGI_JOB_WRITABLE } asgi_job_kind;

/* One app callback to run: the unit a worker class schedules. */
typedef struct asgi_job {
  asgi_job_kind kind;
  struct asgid_request *request;
  asgid_event event;    /* ASGI_JOB_EVENT */
  int call_result;      /* ASGI_JOB_CALL: what app->call returned */
  struct asgi_job *next; /* for the worker class's queue */
} asgi_job;

/* A worker class runs jobs: on the loop (event) or on a pool thread (thread). After running
 * a job (asgi_job_run), it calls asgi_job_finished from the same thread. */
typedef void (*asgi_dispatch_fn)(asgi_context *ctx, asgi_job *job);

struct asgid_request {
  asgi_context *ctx;
  const asgi_transport *transport;
  void *transport_data;
  asgid_scope scope;
  /* App-side state, changed by api calls (under ctx->lock when the class is threaded); the
   * per-scope-type members by that type's rules (scope_rules.h). */
  unsigned receive_outstanding : 1;
  unsigned response_started : 1;  /* http, and a websocket denial response */
  unsigned response_complete : 1;
  unsigned lifespan_phase : 2;   /* lifespan: 0 none, 1 startup received, 2 startup answered,
                                    3 shutdown received */
  unsigned websocket_phase : 2;  /* websocket: asgi_websocket_phase (scope_websocket.h) */
  unsigned app_done : 1;
  /* Loop-thread state. */
  unsigned in_callback : 1;     /* an app callback for this request is running */
  unsigned released : 1;
  unsigned call_refused : 1;    /* app->call returned an error (ASGID_E_UNSUPPORTED) */
  unsigned event_pending : 1;   /* event_job arrived while a callback ran: run it next */
  unsigned writable_pending : 1;
  /* At most one call, one event and one writable notice are in flight per request (one
   * receive and one wait_writable at a time), so their jobs live here: none is allocated. */
  asgi_job call_job;
  asgi_job event_job;
  asgi_job writable_job;
  uint64_t content_length;      /* declared by the app, or UINT64_MAX */
  uint64_t body_sent;
  atomic_int disconnected;      /* the client has gone: sends return ASGID_E_DISCONNECTED */
  void *app_request_data;       /* api->set_request_data: the app's, never read here */
};

/* The worker-wide side of the ASGI layer. */
struct asgi_context {
  uv_loop_t *loop;
  uv_thread_t loop_thread;
  const asgid_app *app;
  asgi_dispatch_fn dispatch;
  int threaded;         /* app callbacks run on other threads: lock and marshal */
  void *lifespan_state; /* set by the app during lifespan startup */
  uv_mutex_t lock;      /* guards app-side request state and the op queue when threaded */
  uv_async_t ops_async; /* wakes the loop for ops posted by app threads */
  struct asgi_op *ops_head, *ops_tail;
};

/* Sets up the context on the loop thread. Returns 0 or a negative libuv error. */
int asgi_context_init(asgi_context *ctx, uv_loop_t *loop, const asgid_app *app,
                      asgi_dispatch_fn dispatch, int threaded);

/* Closes the context's handles (after the last request). */
void asgi_context_close(asgi_context *ctx);

/* Prepares a request whose scope the caller fills in; then asgi_request_start calls the app. */
void asgi_request_init(asgid_request *req, asgi_context *ctx, const asgi_transport *transport,
                       void *transport_data);

/* Calls the app with the request's scope (through the worker class). */
void asgi_request_start(asgid_request *req);

/* Delivers an event the app asked for (copied; body bytes must stay valid until the app's
 * next receive or done). The event must be of the request's scope type, server -> app. */
void asgi_request_deliver(asgid_request *req, const asgid_event *event);

/* Tells the app that it may send again (the answer to wait_writable). */
void asgi_request_writable(asgid_request *req);

/* Marks the client as gone: later sends fail with ASGID_E_DISCONNECTED. */
void asgi_request_disconnect(asgid_request *req);

/* Runs the app callback of a job; any thread, as the worker class decides. */
void asgi_job_run(asgi_job *job);

/* Reports that a job has run; called on the thread that ran it. */
void asgi_job_finished(asgi_job *job);

/* The public server function table handed to apps. */
const asgid_server_api *asgi_server_api(void);

#endif /* ASGID_ASGI_REQUEST_H */
