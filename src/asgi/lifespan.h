/*
 * lifespan.h - ASGI's lifespan protocol for one worker: startup before the first accept,
 * shutdown after the last connection.
 *
 * lifespan = auto: an app that refuses the lifespan scope (ASGID_E_UNSUPPORTED) or finishes
 * it without answering runs without one. lifespan = on: that is an error. lifespan = off:
 * the app never sees a lifespan scope. Loop thread only.
 */
#ifndef ASGID_ASGI_LIFESPAN_H
#define ASGID_ASGI_LIFESPAN_H

#include <uv.h>

#include "asgi/request.h"

typedef struct asgi_lifespan asgi_lifespan;

/* How startup ended. The two failures differ for whoever restarts the server: the app's own
 * startup may succeed later (a database that was down), a missing lifespan never will. */
typedef enum asgi_startup_result {
  ASGI_STARTUP_DONE,        /* go on serving (also: auto, and the app has no lifespan) */
  ASGI_STARTUP_FAILED,      /* the app's startup failed: lifespan.startup.failed, or (lifespan =
                               on) the app ended its lifespan after receiving the startup
                               event without answering it, as when its startup raises */
  ASGI_STARTUP_UNSUPPORTED  /* lifespan = on, and the app has none: it refused the scope or
                               ended it before asking for the startup event */
} asgi_startup_result;

/* message: why startup failed (NULL when done). */
typedef void (*asgi_lifespan_startup_cb)(asgi_lifespan *lifespan, asgi_startup_result result,
                                         const char *message);
typedef void (*asgi_lifespan_shutdown_cb)(asgi_lifespan *lifespan);

struct asgi_lifespan {
  asgid_request request;
  asgi_context *ctx;
  int mode;               /* ASGID_LIFESPAN_AUTO / ON / OFF */
  int active;             /* the app runs a lifespan */
  int phase;              /* see lifespan.c */
  int wants_event;
  int shutdown_waiting;   /* shutdown was asked for before startup finished */
  uv_timer_t defer;       /* delivers events outside api calls */
  asgi_lifespan_startup_cb on_startup;
  asgi_lifespan_shutdown_cb on_shutdown;
  void *data;
};

/* Runs startup; on_startup is called once, later. */
void asgi_lifespan_start(asgi_lifespan *lifespan, asgi_context *ctx, int mode,
                         asgi_lifespan_startup_cb on_startup, void *data);

/* Runs shutdown (at once when there is no lifespan; after startup when startup is still
 * running); on_shutdown is called once, later. */
void asgi_lifespan_shutdown(asgi_lifespan *lifespan, asgi_lifespan_shutdown_cb on_shutdown);

/* Logs "what: message" at ERROR as one entry, the message's own lines (Starlette's
 * lifespan.*.failed message is a traceback) as its continuation lines. */
void asgi_lifespan_log_failure(const char *what, const char *message);

/* Closes the lifespan's handle. */
void asgi_lifespan_close(asgi_lifespan *lifespan);

/* 1 when req may store the lifespan state (api->set_state): the lifespan scope, during
 * startup. */
int asgi_lifespan_may_set_state(const asgid_request *req);

#endif /* ASGID_ASGI_LIFESPAN_H */
