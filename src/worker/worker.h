/*
 * worker.h - the worker: one event loop serving the listeners with the app.
 *
 * One entry for every way a worker starts (today in the single asgid process; with the
 * master, after fork or spawn): it receives the settings and the open listeners, loads the
 * app, runs lifespan startup, accepts until told to stop, then drains gracefully.
 */
#ifndef ASGID_WORKER_H
#define ASGID_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "net/listener.h"
#include "settings/settings.h"

/* Exit statuses of a worker that could not start; the master stops with them (3 and 4 are
 * gunicorn's values: a supervisor should not restart, it would fail the same way; 5 may pass
 * once what the app's startup needs is back, and docs/operations.md lets systemd restart). */
enum {
  WORKER_EXIT_OK = 0,
  WORKER_EXIT_FAILURE = 1,
  WORKER_EXIT_BOOT_ERROR = 3,     /* the worker could not start (class, loop, listeners) */
  WORKER_EXIT_APP_LOAD_ERROR = 4, /* the app could not be loaded or configured (import, factory,
                                     lifespan = on for an app without lifespan) */
  WORKER_EXIT_STARTUP_FAILED = 5  /* the app's lifespan startup failed (a database down...) */
};

/* What a worker receives from its master, whether it was forked or spawned. */
typedef struct worker_bootstrap {
  const asgid_settings *settings;
  const listener_set *listeners;
  int id;          /* 1, 2, ...: names the worker in logs */
  int channel_fd;  /* the channel to the master (see link.h) */
  int channel_ipc; /* the channel is a libuv IPC pipe (spawned workers) */
  /* Bytes of the channel read already: a spawned worker's bootstrap can read past its end,
   * into the master's first commands (a stop sent while the worker boots). */
  const uint8_t *channel_received;
  size_t channel_received_len;
} worker_bootstrap;

/* Runs a worker until it stops. Returns one of the WORKER_EXIT_* statuses. */
int worker_run(const worker_bootstrap *bootstrap);

/* The entry of a spawned worker (asgid --spawned-worker): receives the bootstrap over the
 * IPC pipe on descriptor WORKER_SPAWN_CHANNEL_FD, then runs worker_run. */
int worker_spawned_main(void);

/* Where a spawned worker finds its channel to the master. */
#define WORKER_SPAWN_CHANNEL_FD 3

/* Loads the app and resolves its worker class without serving (for --check-config). On
 * failure writes the reason into err and returns -1. */
int worker_check_app(const asgid_settings *settings, char *err, size_t err_size);

#endif /* ASGID_WORKER_H */
