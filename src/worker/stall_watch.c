/* stall_watch.c - the worker's watch on its own event loop. See stall_watch.h. */
#include "worker/stall_watch.h"

#include <stdlib.h>

static uint64_t now_ms(void) { return uv_hrtime() / 1000000; }

static void watch(void *arg) {
  stall_watch *w = arg;
  /* Looking four times per limit bounds how late past the limit the abort comes. */
  uint64_t period_ms = w->limit_ms / 4 ? w->limit_ms / 4 : 1;
  uint64_t looked_ms = now_ms();
  uv_mutex_lock(&w->lock);
  while (!w->stopping) {
    uv_cond_timedwait(&w->wake, &w->lock, period_ms * 1000000);
    uint64_t now = now_ms();
    /* This thread woke a whole period late: the process did not run (stopped, frozen with its
     * container, a paused VM), its loop no more than this thread, and whichever of the two
     * runs first when it resumes is chance. That time is not the loop's silence. */
    if (now - looked_ms > 2 * period_ms) {
      uint64_t shifted = w->last_sign_ms + (now - looked_ms - period_ms);
      w->last_sign_ms = shifted < now ? shifted : now;
    }
    looked_ms = now;
    if (!w->stopping && now - w->last_sign_ms > w->limit_ms) abort();
  }
  uv_mutex_unlock(&w->lock);
}

int stall_watch_start(stall_watch *w, uint64_t limit_ms) {
  w->limit_ms = limit_ms;
  w->last_sign_ms = now_ms();
  w->stopping = 0;
  int rc = uv_mutex_init(&w->lock);
  if (rc != 0) return rc;
  rc = uv_cond_init(&w->wake);
  if (rc == 0) rc = uv_thread_create(&w->thread, watch, w);
  if (rc != 0) {
    uv_mutex_destroy(&w->lock);
    return rc;
  }
  w->running = 1;
  return 0;
}

void stall_watch_alive(stall_watch *w) {
  if (!w->running) return;
  uv_mutex_lock(&w->lock);
  w->last_sign_ms = now_ms();
  uv_mutex_unlock(&w->lock);
}

void stall_watch_stop(stall_watch *w) {
  if (!w->running) return;
  uv_mutex_lock(&w->lock);
  w->stopping = 1;
  uv_cond_signal(&w->wake);
  uv_mutex_unlock(&w->lock);
  uv_thread_join(&w->thread);
  uv_cond_destroy(&w->wake);
  uv_mutex_destroy(&w->lock);
  w->running = 0;
}
