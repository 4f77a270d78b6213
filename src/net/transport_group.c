/* transport_group.c - what a worker's connections share: the read buffer pool, the flush
 * batch and the deferred-work queue. See transport.h. */
#include <stdlib.h>
#include <string.h>

#include "net/transport.h"

/* Idle connections give their read buffer back; the pool keeps this many for reuse and
 * frees the rest, so a burst does not pin memory forever. */
#define BUFFER_POOL_MAX 256

static void on_deferred(uv_idle_t *idle);
static void on_flush_check(uv_check_t *check);
static void flush_dirty(transport_group *group);

int transport_group_init(transport_group *group, uv_loop_t *loop,
                         const asgid_settings *settings) {
  memset(group, 0, sizeof *group);
  group->loop = loop;
  group->settings = settings;
  group->free_buffers = calloc(BUFFER_POOL_MAX, sizeof *group->free_buffers);
  if (!group->free_buffers) return UV_ENOMEM;
  int rc = uv_idle_init(loop, &group->deferred_idle);
  if (rc != 0) return rc;
  group->deferred_idle.data = group;
  rc = uv_check_init(loop, &group->flush_check);
  if (rc != 0) return rc;
  group->flush_check.data = group;
  return 0;
}

void transport_group_close(transport_group *group) {
  uv_close((uv_handle_t *)&group->deferred_idle, NULL);
  uv_close((uv_handle_t *)&group->flush_check, NULL);
  for (size_t i = 0; i < group->free_buffer_count; i++) free(group->free_buffers[i]);
  free(group->free_buffers);
  group->free_buffers = NULL;
  group->free_buffer_count = 0;
}

void transport_group_stop_all(transport_group *group) {
  for (transport *t = group->connections, *next; t; t = next) {
    next = t->next;
    if (!t->closing) t->ops->on_stop(t->session);
  }
}

void transport_group_close_all(transport_group *group) {
  for (transport *t = group->connections, *next; t; t = next) {
    next = t->next;
    transport_close(t);
  }
}

/* ---------------------------------------------------------------- deferred work */

void transport_group_defer(transport_group *group, deferred_work *work) {
  if (work->queued || work->busy) return;
  work->queued = 1;
  work->next = NULL;
  if (group->deferred_tail)
    group->deferred_tail->next = work;
  else
    group->deferred_head = work;
  group->deferred_tail = work;
  uv_idle_start(&group->deferred_idle, on_deferred);
}

void transport_group_cancel(transport_group *group, deferred_work *work) {
  if (!work->queued) return;
  deferred_work *prev = NULL;
  for (deferred_work *w = group->deferred_head; w; prev = w, w = w->next) {
    if (w != work) continue;
    if (prev)
      prev->next = w->next;
    else
      group->deferred_head = w->next;
    if (group->deferred_tail == w) group->deferred_tail = prev;
    break;
  }
  work->queued = 0;
}

static void on_deferred(uv_idle_t *idle) {
  transport_group *group = idle->data;
  while (group->deferred_head) {
    deferred_work *work = group->deferred_head;
    group->deferred_head = work->next;
    if (!group->deferred_head) group->deferred_tail = NULL;
    work->queued = 0;
    work->run(work);
  }
  flush_dirty(group);
}

void transport_group_run_deferred(transport_group *group) {
  if (uv_is_active((uv_handle_t *)&group->deferred_idle)) on_deferred(&group->deferred_idle);
}

/* ---------------------------------------------------------------- the flush batch */

void transport_group_schedule_flush(transport_group *group) {
  if (!uv_is_active((uv_handle_t *)&group->flush_check)) {
    group->dirty_since_ns = uv_hrtime();
    uv_check_start(&group->flush_check, on_flush_check);
  }
  uv_idle_start(&group->deferred_idle, on_deferred); /* an active idle handle: the poll won't block */
}

void transport_group_flush_if_overdue(transport_group *group) {
  if (group->dirty_head && uv_hrtime() - group->dirty_since_ns >= TRANSPORT_FLUSH_DELAY_MAX_NS)
    flush_dirty(group);
}

static void on_flush_check(uv_check_t *check) { flush_dirty(check->data); }

static void flush_dirty(transport_group *group) {
  while (group->dirty_head) {
    transport *t = group->dirty_head;
    group->dirty_head = t->dirty_next;
    t->on_dirty = 0;
    transport_flush(t);
  }
  uv_check_stop(&group->flush_check);
  if (!group->deferred_head) uv_idle_stop(&group->deferred_idle);
}

/* ---------------------------------------------------------------- read buffers */

char *transport_group_take_buffer(transport_group *group) {
  if (group->free_buffer_count) return group->free_buffers[--group->free_buffer_count];
  return malloc(TRANSPORT_READ_BUFFER_SIZE);
}

void transport_group_return_buffer(transport_group *group, char *buffer) {
  if (group->free_buffer_count < BUFFER_POOL_MAX)
    group->free_buffers[group->free_buffer_count++] = buffer;
  else
    free(buffer);
}
