/*
 * stall_watch.h - a worker watches its own event loop from a thread: when the loop gives no
 * sign of life for longer than its limit (an app blocking it), the worker aborts itself, and
 * its abort handlers write its last words (the request it started last, and for Python every
 * thread's stack) to the error log. The master never has to signal it: it only terminates a
 * worker still there a grace period later (master/workers.c).
 */
#ifndef ASGID_STALL_WATCH_H
#define ASGID_STALL_WATCH_H

#include <stdint.h>
#include <uv.h>

typedef struct stall_watch {
  uv_thread_t thread;
  uv_mutex_t lock;
  uv_cond_t wake;
  uint64_t limit_ms;
  uint64_t last_sign_ms; /* uv_hrtime in ms of the last sign of life */
  int stopping;
  int running;
} stall_watch;

/* Starts watching: the loop must give a sign of life (stall_watch_alive) at least every
 * limit_ms. Returns 0 or a negative libuv error. */
int stall_watch_start(stall_watch *watch, uint64_t limit_ms);

/* A sign of life, from the loop's thread. */
void stall_watch_alive(stall_watch *watch);

/* Stops watching and joins the thread (a worker about to exit). */
void stall_watch_stop(stall_watch *watch);

#endif /* ASGID_STALL_WATCH_H */
