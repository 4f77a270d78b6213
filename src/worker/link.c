/* link.c - the worker side of the master channel. See link.h. */
#include "worker/link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_written(uv_write_t *req, int status) {
  (void)status; /* a master that went away is noticed by the read side */
  free(req);
}

void worker_link_send(worker_link *link, const channel_message *m) {
  if (!link->open) return;
  uint8_t frame[CHANNEL_FRAME_MAX];
  size_t len = channel_encode(m, frame);
  uv_write_t *req = malloc(sizeof *req + len);
  if (!req) return;
  memcpy(req + 1, frame, len);
  uv_buf_t buf = uv_buf_init((char *)(req + 1), (unsigned)len);
  if (uv_write(req, (uv_stream_t *)&link->pipe, &buf, 1, on_written) != 0) free(req);
}

static uint64_t resident_memory(void) {
  size_t rss = 0; /* unknown: 0, never above a limit */
  uv_resident_set_memory(&rss);
  return rss;
}

/* User plus system time of the worker process so far (0: unknown). */
static uint64_t cpu_usec(void) {
  uv_rusage_t usage;
  if (uv_getrusage(&usage) != 0) return 0;
  return (uint64_t)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000u +
         (uint64_t)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

void worker_link_ready(worker_link *link) {
  channel_message m = {.kind = CHANNEL_READY, .rss = resident_memory()};
  worker_link_send(link, &m);
}

static void heartbeat_message(worker_link *link, channel_message *m) {
  memset(m, 0, sizeof *m);
  link->report(link->data, m);
  m->kind = CHANNEL_HEARTBEAT;
  m->rss = resident_memory();
  m->cpu_usec = cpu_usec();
}

/* Beats on after the channel closed: the stall watch must still hear that the loop lives
 * while a worker whose master has gone drains (for up to graceful_timeout, which may be longer
 * than its limit). */
static void on_heartbeat(uv_timer_t *timer) {
  worker_link *link = timer->data;
  if (link->watch) stall_watch_alive(link->watch);
  /* A master that does not read (stopped, stuck) would have a worker queue a heartbeat per
   * interval without bound; one not yet sent says all the next would. */
  if (!link->open || uv_stream_get_write_queue_size((uv_stream_t *)&link->pipe) > 0) return;
  channel_message m;
  heartbeat_message(link, &m);
  worker_link_send(link, &m);
}

/* The counts since the last heartbeat, as the worker closes its channel to exit: written now
 * or not at all (the loop will not run again to finish a queued write). */
static void send_last_heartbeat(worker_link *link) {
  channel_message m;
  heartbeat_message(link, &m);
  uint8_t frame[CHANNEL_FRAME_MAX];
  uv_buf_t buf = uv_buf_init((char *)frame, (unsigned)channel_encode(&m, frame));
  uv_try_write((uv_stream_t *)&link->pipe, &buf, 1); /* a master that does not read misses it */
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  worker_link *link = handle->data;
  size_t size;
  uint8_t *space = channel_reader_space(&link->commands, &size);
  *buf = uv_buf_init((char *)space, (unsigned)size);
}

/* Commands flow only from the master: a frame of a worker's kind is as wrong as garbage. */
static int is_command(const channel_message *m) {
  return m->kind == CHANNEL_STOP || m->kind == CHANNEL_REOPEN_LOGS ||
         m->kind == CHANNEL_DIAGNOSE;
}

/* The channel alone; the heartbeat timer runs until worker_link_close. */
static void close_channel(worker_link *link) {
  if (!link->open) return;
  link->open = 0;
  uv_close((uv_handle_t *)&link->pipe, NULL);
}

static void check_command(void *data, const channel_message *m) {
  worker_link *link = data;
  if (!link->open) return;
  if (is_command(m)) {
    link->on_command(link->data, m);
  } else {
    close_channel(link);
    link->on_master_gone(link->data, "the master sent a message that is not a command");
  }
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  (void)buf;
  worker_link *link = stream->data;
  if (nread == 0 || !link->open) return;
  if (nread < 0) {
    close_channel(link);
    link->on_master_gone(link->data, "the master has gone");
    return;
  }
  channel_error e = channel_reader_take(&link->commands, (size_t)nread, check_command, link);
  if (e != CHANNEL_OK && link->open) {
    close_channel(link);
    char why[96];
    snprintf(why, sizeof why, "a bad frame from the master (%s)", channel_error_text(e));
    link->on_master_gone(link->data, why);
  }
}

/* From the loop, once it runs: the bytes read before the channel opened come first, then
 * reading starts, so commands keep their order. */
static void begin_reading(uv_timer_t *timer) {
  worker_link *link = timer->data;
  size_t received = link->commands.len;
  link->commands.len = 0;
  if (received) on_read((uv_stream_t *)&link->pipe, (ssize_t)received, NULL);
  if (link->open) uv_read_start((uv_stream_t *)&link->pipe, on_alloc, on_read);
}

int worker_link_open(worker_link *link, uv_loop_t *loop, int fd, int ipc, uint64_t interval_ms,
                     const uint8_t *received, size_t received_len) {
  size_t room;
  uint8_t *space = channel_reader_space(&link->commands, &room);
  if (received_len > room) return UV_E2BIG; /* more than a frame: nothing a master sends */
  int rc = uv_pipe_init(loop, &link->pipe, ipc);
  if (rc == 0) rc = uv_pipe_open(&link->pipe, fd);
  if (rc != 0) return rc;
  link->pipe.data = link;
  link->open = link->beating = 1;
  if (received_len) memcpy(space, received, received_len);
  link->commands.len = received_len;
  uv_timer_init(loop, &link->begin);
  link->begin.data = link;
  uv_timer_start(&link->begin, begin_reading, 0, 0);
  uv_timer_init(loop, &link->heartbeat);
  link->heartbeat.data = link;
  uv_timer_start(&link->heartbeat, on_heartbeat, interval_ms, interval_ms);
  return 0;
}

void worker_link_close(worker_link *link) {
  if (link->open) send_last_heartbeat(link);
  close_channel(link);
  if (!link->beating) return;
  link->beating = 0;
  uv_close((uv_handle_t *)&link->heartbeat, NULL);
  uv_close((uv_handle_t *)&link->begin, NULL);
}
