/* link.c - the worker side of the master channel. See link.h. */
#include "worker/link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_written(uv_write_t *req, int status) {
  (void)status; /* a master that went away is noticed by the read side */
  free(req);
}

void worker_link_send(worker_link *link, const char *line) {
  if (!link->open) return;
  size_t len = strlen(line);
  uv_write_t *req = malloc(sizeof *req + len + 1);
  if (!req) return;
  char *copy = (char *)(req + 1);
  memcpy(copy, line, len);
  copy[len] = '\n';
  uv_buf_t buf = uv_buf_init(copy, (unsigned)len + 1);
  if (uv_write(req, (uv_stream_t *)&link->pipe, &buf, 1, on_written) != 0) free(req);
}

static unsigned long long resident_memory(void) {
  size_t rss = 0; /* unknown: 0, never above a limit */
  uv_resident_set_memory(&rss);
  return rss;
}

void worker_link_ready(worker_link *link) {
  char line[32];
  snprintf(line, sizeof line, "ready %llu", resident_memory());
  worker_link_send(link, line);
}

static void on_heartbeat(uv_timer_t *timer) {
  worker_link *link = timer->data;
  char line[80];
  snprintf(line, sizeof line, "hb %llu %llu %llu", (unsigned long long)link->requests(link->data),
           (unsigned long long)link->connections(link->data), resident_memory());
  worker_link_send(link, line);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
  (void)handle;
  (void)suggested;
  static char discard[256]; /* the master sends nothing after the bootstrap */
  *buf = uv_buf_init(discard, sizeof discard);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  (void)buf;
  worker_link *link = stream->data;
  if (nread < 0 && link->open) {
    worker_link_close(link);
    link->on_master_gone(link->data);
  }
}

int worker_link_open(worker_link *link, uv_loop_t *loop, int fd, int ipc, uint64_t interval_ms) {
  int rc = uv_pipe_init(loop, &link->pipe, ipc);
  if (rc == 0) rc = uv_pipe_open(&link->pipe, fd);
  if (rc != 0) return rc;
  link->pipe.data = link;
  link->open = 1;
  uv_timer_init(loop, &link->heartbeat);
  link->heartbeat.data = link;
  uv_timer_start(&link->heartbeat, on_heartbeat, interval_ms, interval_ms);
  return uv_read_start((uv_stream_t *)&link->pipe, on_alloc, on_read);
}

void worker_link_close(worker_link *link) {
  if (!link->open) return;
  link->open = 0;
  uv_timer_stop(&link->heartbeat);
  uv_close((uv_handle_t *)&link->heartbeat, NULL);
  uv_close((uv_handle_t *)&link->pipe, NULL);
}
