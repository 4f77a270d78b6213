/*
 * spawned.c - the start of a spawned worker: asgid re-executed with --spawned-worker
 * receives its bootstrap from the master over the IPC pipe on WORKER_SPAWN_CHANNEL_FD:
 *
 *   "asgid-bootstrap ID LISTENERS SETTINGS_LEN\n" SETTINGS (asgid_settings_serialize's records)
 *   then per listener, written with the socket attached (uv_write2):
 *   "listener KIND PORT NAME_LEN HOST_LEN\n" NAME HOST      (KIND: tcp or unix)
 *
 * bootstrap_reader.c decodes the text; the sockets are copied out of the handles that carried
 * them, the bootstrap loop is closed, and the worker runs like a forked one, keeping the same
 * descriptor as its master channel.
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "log/log.h"
#include "platform/platform.h"
#include "worker/bootstrap_reader.h"
#include "worker/worker.h"

typedef struct receiver {
  uv_pipe_t pipe;
  char *buf;
  size_t len, cap;
  bootstrap_reader bootstrap;
  size_t sockets;
  int failed;
} receiver;

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
  receiver *r = handle->data;
  if (r->cap - r->len < suggested) {
    size_t cap = r->cap ? r->cap * 2 : 65536;
    while (cap - r->len < suggested) cap *= 2;
    char *grown = realloc(r->buf, cap);
    if (!grown) {
      *buf = uv_buf_init(NULL, 0);
      return;
    }
    r->buf = grown;
    r->cap = cap;
  }
  *buf = uv_buf_init(r->buf + r->len, (unsigned)(r->cap - r->len));
}

static void on_handle_closed(uv_handle_t *handle) { free(handle); }

/* Copies each received socket out of the handle that carried it. */
static int take_sockets(receiver *r) {
  while (uv_pipe_pending_count(&r->pipe) > 0) {
    uv_handle_type type = uv_pipe_pending_type(&r->pipe);
    uv_stream_t *stream = malloc(type == UV_TCP ? sizeof(uv_tcp_t) : sizeof(uv_pipe_t));
    if (!stream || r->sockets >= r->bootstrap.listener_count) return -1;
    if (type == UV_TCP)
      uv_tcp_init(r->pipe.loop, (uv_tcp_t *)stream);
    else
      uv_pipe_init(r->pipe.loop, (uv_pipe_t *)stream, 0);
    uv_os_fd_t fd;
    int rc = uv_accept((uv_stream_t *)&r->pipe, stream);
    if (rc == 0) rc = uv_fileno((uv_handle_t *)stream, &fd);
    /* uv_fileno gives a TCP handle's socket as a uv_os_fd_t, a HANDLE on Windows. */
    if (rc == 0)
      r->bootstrap.listeners.items[r->sockets++].socket =
          platform_dup_socket((platform_socket)(uintptr_t)fd);
    uv_close((uv_handle_t *)stream, on_handle_closed);
    if (rc != 0) return -1;
  }
  return 0;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  (void)buf;
  receiver *r = stream->data;
  if (nread < 0) {
    r->failed = 1;
    uv_close((uv_handle_t *)&r->pipe, NULL);
    return;
  }
  r->len += (size_t)nread;
  if (bootstrap_reader_decode(&r->bootstrap, r->buf, r->len, stderr) != 0 ||
      take_sockets(r) != 0) {
    r->failed = 1;
    uv_close((uv_handle_t *)&r->pipe, NULL);
    return;
  }
  if (bootstrap_reader_complete(&r->bootstrap) && r->sockets == r->bootstrap.listener_count)
    uv_close((uv_handle_t *)&r->pipe, NULL);
}

int worker_spawned_main(void) {
  static receiver r;
  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0) return WORKER_EXIT_BOOT_ERROR;
  /* The bootstrap reads through a copy of the channel, so closing its handle keeps the
   * channel itself open for the worker. */
  int channel = platform_dup_fd(WORKER_SPAWN_CHANNEL_FD);
  if (channel < 0 || uv_pipe_init(&loop, &r.pipe, 1) != 0 ||
      uv_pipe_open(&r.pipe, channel) != 0) {
    fprintf(stderr, "asgid --spawned-worker: no bootstrap channel on descriptor %d (this mode "
            "is for the master only)\n", WORKER_SPAWN_CHANNEL_FD);
    return WORKER_EXIT_BOOT_ERROR;
  }
  r.pipe.data = &r;
  uv_read_start((uv_stream_t *)&r.pipe, on_alloc, on_read);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  if (r.failed || !bootstrap_reader_complete(&r.bootstrap) ||
      r.sockets != r.bootstrap.listener_count) {
    fprintf(stderr, "asgid --spawned-worker: incomplete bootstrap from the master\n");
    return WORKER_EXIT_BOOT_ERROR;
  }
  if (log_open(&r.bootstrap.settings) != 0) return WORKER_EXIT_BOOT_ERROR;
  worker_bootstrap bootstrap = {
      .settings = &r.bootstrap.settings,
      .listeners = &r.bootstrap.listeners,
      .id = r.bootstrap.id,
      .channel_fd = WORKER_SPAWN_CHANNEL_FD,
      .channel_ipc = 1,
      .channel_received = (const uint8_t *)r.buf + r.bootstrap.parsed,
      .channel_received_len = r.len - r.bootstrap.parsed,
  };
  int status = worker_run(&bootstrap);
  free(r.buf);
  bootstrap_reader_free(&r.bootstrap);
  log_close();
  return status;
}
