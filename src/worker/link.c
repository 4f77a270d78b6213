/* link.c - the worker side of the master channel. See link.h. */
#include "worker/link.h"

#include <stdlib.h>

static void on_written(uv_write_t *req, int status) {
  (void)status; /* a master that went away is noticed by the read side */
  free(req);
}

void worker_link_send(worker_link *link, const worker_message *m) {
  if (!link->open) return;
  uv_write_t *req = malloc(sizeof *req + WORKER_MESSAGE_LINE_MAX);
  if (!req) return;
  char *line = (char *)(req + 1);
  size_t len = worker_message_encode(m, line);
  line[len] = '\n';
  uv_buf_t buf = uv_buf_init(line, (unsigned)len + 1);
  if (uv_write(req, (uv_stream_t *)&link->pipe, &buf, 1, on_written) != 0) free(req);
}

static uint64_t resident_memory(void) {
  size_t rss = 0; /* unknown: 0, never above a limit */
  uv_resident_set_memory(&rss);
  return rss;
}

void worker_link_ready(worker_link *link) {
  worker_message m = {.kind = WORKER_MESSAGE_READY, .rss = resident_memory()};
  worker_link_send(link, &m);
}

static void on_heartbeat(uv_timer_t *timer) {
  worker_link *link = timer->data;
  worker_message m = {.kind = WORKER_MESSAGE_HEARTBEAT,
                      .requests = link->requests(link->data),
                      .connections = link->connections(link->data),
                      .rss = resident_memory()};
  worker_link_send(link, &m);
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
