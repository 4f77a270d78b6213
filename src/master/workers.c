/* workers.c - the master's side of worker processes: starting them by fork or spawn, their
 * channels, reaping and the heartbeat watchdog. See master.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "master/master.h"
#include "platform/platform.h"
#include "worker/bootstrap_format.h"
#include "worker/worker.h"
#include "worker/worker_class.h"
#include "worker/channel_codec.h"
#include "worker/channel_drain.h"

/* A stuck worker aborts itself with its last words (worker/stall_watch.h); one still there
 * this much later is terminated. */
#define ABORT_GRACE_MS 5000

static uint64_t now_ms(master *m) { return uv_now(&m->loop); }

static int lowest_free_id(master *m) {
  for (int id = 1;; id++) {
    int used = 0;
    for (worker_proc *w = m->workers; w && !used; w = w->next) used = w->id == id;
    if (!used) return id;
  }
}

/* ---------------------------------------------------------------- ending */

/* A record is freed once it is off the table and its handles are closed, in either order: a
 * dropped channel closes while its worker still runs. */
static void free_if_done(worker_proc *w) {
  if (w->forgotten && w->open_handles == 0) free(w);
}

static void on_worker_handle_closed(uv_handle_t *handle) {
  worker_proc *w = handle->data;
  w->open_handles--;
  free_if_done(w);
}

static void drain_channel(worker_proc *w);

static void forget(worker_proc *w, int exit_status, int term_signal) {
  master *m = w->owner;
  drain_channel(w);
  for (worker_proc **link = &m->workers; *link; link = &(*link)->next) {
    if (*link == w) {
      *link = w->next;
      break;
    }
  }
  if (!uv_is_closing((uv_handle_t *)&w->channel))
    uv_close((uv_handle_t *)&w->channel, on_worker_handle_closed);
  if (w->spawned) uv_close((uv_handle_t *)&w->process, on_worker_handle_closed);
  master_worker_exited(m, w, exit_status, term_signal);
  w->forgotten = 1;
  free_if_done(w);
}

static void on_process_exit(uv_process_t *process, int64_t exit_status, int term_signal) {
  forget(process->data, (int)exit_status, term_signal);
}

void workers_reap(master *m) {
  for (worker_proc *w = m->workers, *next; w; w = next) {
    next = w->next;
    int status, signum;
    if (platform_reap(w->pid, &status, &signum) == 1) forget(w, status, signum);
  }
}

/* ---------------------------------------------------------------- the channel */

/* A worker whose channel carries what it must not is not trusted any more: the channel
 * closes, which the worker takes for its master gone (it stops gracefully); the master
 * expects its exit and replaces it. */
static void drop_channel(worker_proc *w, const char *why) {
  if (w->channel_dropped) return;
  w->channel_dropped = 1;
  log_error("worker %d (pid %d): %s on its channel: dropping it", w->id, w->pid, why);
  w->state = WORKER_STOPPING;
  uv_read_stop((uv_stream_t *)&w->channel);
  uv_close((uv_handle_t *)&w->channel, on_worker_handle_closed);
}

static void on_command_written(uv_write_t *req, int status) {
  (void)status; /* a worker that went away is noticed by its exit */
  free(req);
}

/* Sends a command to a worker; one whose channel was dropped hears nothing more. */
static void send_command(worker_proc *w, const channel_message *command) {
  if (w->channel_dropped || uv_is_closing((uv_handle_t *)&w->channel)) return;
  uv_write_t *req = malloc(sizeof *req + CHANNEL_FRAME_MAX);
  if (!req) return;
  uint8_t *frame = (uint8_t *)(req + 1);
  uv_buf_t buf = uv_buf_init((char *)frame, (unsigned)channel_encode(command, frame));
  if (uv_write(req, (uv_stream_t *)&w->channel, &buf, 1, on_command_written) != 0) free(req);
}

static void on_message(void *data, const channel_message *m) {
  worker_proc *w = data;
  if (w->channel_dropped) return;
  w->last_seen_ms = now_ms(w->owner);
  switch (m->kind) {
    case CHANNEL_READY:
      w->rss = w->rss_fresh = m->rss;
      master_worker_ready(w->owner, w);
      break;
    case CHANNEL_RETIRE: {
      w->requests = m->requests;
      w->state = WORKER_STOPPING; /* it has stopped accepting and drains on its own */
      char why[64];
      snprintf(why, sizeof why, "retires after %llu requests", (unsigned long long)m->requests);
      master_worker_retiring(w->owner, w, why);
      break;
    }
    case CHANNEL_HEARTBEAT:
      w->reported = *m;
      w->requests = m->requests;
      w->connections = m->connections;
      w->rss = m->rss;
      break;
    default:
      /* Commands flow only to workers. */
      drop_channel(w, "it sent a command");
      break;
  }
}

/* A worker's last heartbeat, read after its exit was seen: only its counts matter now. */
static void on_last_message(void *data, const channel_message *m) {
  worker_proc *w = data;
  if (m->kind == CHANNEL_HEARTBEAT) w->reported = *m;
}

/* A worker that stops sends a last heartbeat with its final counts as it exits (link.h); its
 * exit may be seen before the loop has read it: read what waits before the channel closes,
 * so that the metrics keep those counts. */
static void drain_channel(worker_proc *w) {
  if (w->channel_dropped || uv_is_closing((uv_handle_t *)&w->channel)) return;
  channel_drain(&w->messages, (uv_stream_t *)&w->channel, on_last_message, w);
}

static void on_channel_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  worker_proc *w = handle->data;
  size_t size;
  uint8_t *space = channel_reader_space(&w->messages, &size);
  *buf = uv_buf_init((char *)space, (unsigned)size);
}

static void on_channel_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  (void)buf;
  worker_proc *w = stream->data;
  if (nread < 0) {
    uv_read_stop(stream); /* the exit itself is seen by the process handle or SIGCHLD */
    return;
  }
  channel_error e = channel_reader_take(&w->messages, (size_t)nread, on_message, w);
  if (e != CHANNEL_OK) {
    char why[96];
    snprintf(why, sizeof why, "a bad frame (%s)", channel_error_text(e));
    drop_channel(w, why);
  }
}

static int open_channel(worker_proc *w) {
  w->channel.data = w;
  return uv_read_start((uv_stream_t *)&w->channel, on_channel_alloc, on_channel_read);
}

/* ---------------------------------------------------------------- fork */

/* Signal handles are only stopped (which restores the default dispositions): closing one
 * that caught a signal the parent had not dispatched yet would wait forever for that signal,
 * which stayed behind in the parent's pipe. */
static void drop_inherited(uv_handle_t *handle, void *arg) {
  (void)arg;
  if (handle->type == UV_SIGNAL)
    uv_signal_stop((uv_signal_t *)handle);
  else if (!uv_is_closing(handle))
    uv_close(handle, NULL);
}

/* In the child: drop everything of the master's loop, then become the worker. The loop
 * itself is abandoned, not closed: its stopped signal handles stay in it. */
static void run_forked_worker(master *m, int id, int channel_fd) {
  uv_loop_fork(&m->loop);
  uv_walk(&m->loop, drop_inherited, NULL);
  uv_run(&m->loop, UV_RUN_DEFAULT);
  worker_bootstrap bootstrap = {
      .settings = m->settings,
      .listeners = &m->listeners,
      .id = id,
      .channel_fd = channel_fd,
      .channel_ipc = 0,
  };
  int status = worker_run(&bootstrap);
  log_close();
  _Exit(status); /* the master's atexit handlers and stdio buffers are not the worker's */
}

static int start_forked(master *m, worker_proc *w) {
  uv_os_sock_t pair[2];
  int rc = uv_socketpair(SOCK_STREAM, 0, pair, 0, 0);
  if (rc != 0) return rc;
  if (m->preloaded) m->preloaded->fork_prepare();
  platform_operator_events_defer(1); /* the child listens for them once it can act on them */
  int pid = platform_fork();
  if (pid != 0) platform_operator_events_defer(0);
  if (pid == 0 && m->preloaded) m->preloaded->fork_child();
  if (pid != 0 && m->preloaded) m->preloaded->fork_parent();
  if (pid < 0) {
    platform_close_socket(pair[0]);
    platform_close_socket(pair[1]);
    return pid;
  }
  if (pid == 0) {
    platform_close_socket(pair[0]);
    run_forked_worker(m, w->id, pair[1]);
  }
  platform_close_socket(pair[1]);
  w->pid = pid;
  rc = uv_pipe_init(&m->loop, &w->channel, 0);
  if (rc == 0) rc = uv_pipe_open(&w->channel, pair[0]);
  w->open_handles = 1;
  return rc;
}

/* ---------------------------------------------------------------- spawn */

typedef struct bootstrap_write {
  uv_write_t req;
  union {
    uv_handle_t handle;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } socket; /* a temporary handle on a copy of the listener, carried by the write */
  int has_socket;
  char text[];
} bootstrap_write;

static void on_socket_handle_closed(uv_handle_t *handle) { free(handle->data); }

static void on_bootstrap_written(uv_write_t *req, int status) {
  bootstrap_write *bw = (bootstrap_write *)req;
  if (status < 0) log_warning("bootstrap of a spawned worker: %s", uv_strerror(status));
  if (bw->has_socket) {
    bw->socket.handle.data = bw;
    uv_close(&bw->socket.handle, on_socket_handle_closed);
  } else {
    free(bw);
  }
}

static int write_bootstrap(worker_proc *w, const char *text, size_t len, const listener *l) {
  bootstrap_write *bw = calloc(1, sizeof *bw + len);
  if (!bw) return UV_ENOMEM;
  memcpy(bw->text, text, len);
  uv_buf_t buf = uv_buf_init(bw->text, (unsigned)len);
  if (!l) {
    int rc = uv_write(&bw->req, (uv_stream_t *)&w->channel, &buf, 1, on_bootstrap_written);
    if (rc != 0) free(bw);
    return rc;
  }
  platform_socket copy = platform_dup_socket(l->socket);
  int rc = l->kind == LISTENER_TCP ? uv_tcp_init(&w->owner->loop, &bw->socket.tcp)
                                   : uv_pipe_init(&w->owner->loop, &bw->socket.pipe, 0);
  if (rc != 0) {
    platform_close_socket(copy);
    free(bw);
    return rc;
  }
  bw->has_socket = 1;
  rc = l->kind == LISTENER_TCP ? uv_tcp_open(&bw->socket.tcp, copy)
                               : uv_pipe_open(&bw->socket.pipe, copy);
  if (rc == 0)
    rc = uv_write2(&bw->req, (uv_stream_t *)&w->channel, &buf, 1, (uv_stream_t *)&bw->socket,
                   on_bootstrap_written);
  if (rc != 0) {
    bw->socket.handle.data = bw;
    uv_close(&bw->socket.handle, on_socket_handle_closed);
  }
  return rc;
}

static int send_bootstrap(master *m, worker_proc *w) {
  if (m->listeners.count > BOOTSTRAP_LISTENERS_MAX) return UV_E2BIG;
  size_t settings_len;
  char *settings = asgid_settings_serialize(m->settings, &settings_len);
  if (!settings) return UV_ENOMEM;
  size_t size = settings_len + 128;
  char *text = malloc(size);
  if (!text) {
    free(settings);
    return UV_ENOMEM;
  }
  int n = snprintf(text, size, BOOTSTRAP_HEADER_FORMAT, CHANNEL_VERSION, w->id,
                   m->listeners.count, settings_len);
  memcpy(text + n, settings, settings_len);
  int rc = write_bootstrap(w, text, (size_t)n + settings_len, NULL);
  free(text);
  free(settings);
  for (size_t i = 0; rc == 0 && i < m->listeners.count; i++) {
    const listener *l = &m->listeners.items[i];
    char record[BOOTSTRAP_RECORD_MAX];
    size_t name_len = strlen(l->name), host_len = strlen(l->host);
    n = snprintf(record, sizeof record, BOOTSTRAP_LISTENER_FORMAT,
                 l->kind == LISTENER_UNIX ? "unix" : "tcp", l->port, name_len, host_len,
                 l->proxy_protocol ? BOOTSTRAP_PROXY_PROTOCOL : "");
    if ((size_t)n + name_len + host_len > sizeof record) return UV_E2BIG;
    memcpy(record + n, l->name, name_len);
    memcpy(record + n + name_len, l->host, host_len);
    rc = write_bootstrap(w, record, (size_t)n + name_len + host_len, l);
  }
  return rc;
}

static int start_spawned(master *m, worker_proc *w) {
  char *args[] = {m->executable, "--spawned-worker", NULL};
  int rc = uv_pipe_init(&m->loop, &w->channel, 1);
  if (rc != 0) return rc;
  w->open_handles = 1;
  uv_stdio_container_t stdio[WORKER_SPAWN_CHANNEL_FD + 1];
  for (int fd = 0; fd < WORKER_SPAWN_CHANNEL_FD; fd++) {
    stdio[fd].flags = UV_INHERIT_FD;
    stdio[fd].data.fd = fd;
  }
  stdio[WORKER_SPAWN_CHANNEL_FD].flags = UV_CREATE_PIPE | UV_READABLE_PIPE | UV_WRITABLE_PIPE;
  stdio[WORKER_SPAWN_CHANNEL_FD].data.stream = (uv_stream_t *)&w->channel;
  uv_process_options_t options;
  memset(&options, 0, sizeof options);
  options.exit_cb = on_process_exit;
  options.file = m->executable;
  options.args = args;
  options.stdio_count = WORKER_SPAWN_CHANNEL_FD + 1;
  options.stdio = stdio;
  options.flags = UV_PROCESS_WINDOWS_HIDE;
  w->process.data = w;
  rc = uv_spawn(&m->loop, &w->process, &options);
  w->open_handles = 2;
  if (rc != 0) {
    /* libuv put the handle in the loop before it failed: it closes with the record. */
    uv_close((uv_handle_t *)&w->process, on_worker_handle_closed);
    return rc;
  }
  w->spawned = 1;
  w->pid = w->process.pid;
  return send_bootstrap(m, w);
}

/* ---------------------------------------------------------------- the table */

int workers_start_one(master *m) {
  worker_proc *w = calloc(1, sizeof *w);
  if (!w) return -1;
  w->owner = m;
  w->id = lowest_free_id(m);
  w->generation = m->generation;
  w->state = WORKER_BOOTING;
  w->started_ms = w->last_seen_ms = now_ms(m);
  w->channel.data = w;
  w->process.data = w;
  int spawn = master_spawns_workers(m, m->settings);
  /* A reload that needs spawn checked that the executable is known (master_find_executable). */
  int rc = !spawn ? start_forked(m, w) : m->executable ? start_spawned(m, w) : UV_ENOENT;
  if (rc == 0) rc = open_channel(w);
  if (rc != 0 && !w->pid) {
    log_error("cannot start worker %d: %s", w->id, uv_strerror(rc));
    w->forgotten = 1;
    if (w->open_handles)
      uv_close((uv_handle_t *)&w->channel, on_worker_handle_closed);
    else
      free(w);
    return -1;
  }
  if (rc != 0) log_error("worker %d (pid %d): %s", w->id, w->pid, uv_strerror(rc));
  w->next = m->workers;
  m->workers = w;
  m->history.worker_starts++;
  log_info("started worker %d (pid %d, %s)", w->id, w->pid, spawn ? "spawned" : "forked");
  return 0;
}

void workers_stop(worker_proc *w, int graceful) {
  if (w->state == WORKER_STOPPING && graceful) return;
  w->state = WORKER_STOPPING;
  channel_message stop = {.kind = CHANNEL_STOP, .graceful = graceful != 0};
  send_command(w, &stop);
}

void workers_stop_all(master *m, int generation, int graceful) {
  for (worker_proc *w = m->workers; w; w = w->next)
    if (generation < 0 || w->generation == generation) workers_stop(w, graceful);
}

void workers_reopen_logs(master *m) {
  channel_message reopen = {.kind = CHANNEL_REOPEN_LOGS};
  for (worker_proc *w = m->workers; w; w = w->next) send_command(w, &reopen);
}

void workers_terminate_all(master *m) {
  for (worker_proc *w = m->workers; w; w = w->next) {
    w->terminated = 1;
    platform_terminate(w->pid);
  }
}

void workers_check_timeouts(master *m, uint64_t now) {
  uint64_t timeout = m->settings->timeout;
  /* Heartbeats come every interval: past timeout plus one, the worker has surely been stuck
   * for a whole `timeout`, and its own stall watch aborts it about now. */
  uint64_t interval = channel_heartbeat_interval_ms(timeout);
  uint64_t silence_allowed = timeout + interval;
  /* Checked more than a heartbeat interval after the last check (every tick checks): the
   * master did not run, stopped or frozen with its workers, and did not listen; the time past
   * one interval is no worker's silence (what they sent meanwhile is read after this timer).
   * One interval still counts, so that a master always late still finds a stuck worker. */
  uint64_t away = now - m->timeouts_checked_ms > interval
                      ? now - m->timeouts_checked_ms - interval
                      : 0;
  m->timeouts_checked_ms = now;
  for (worker_proc *w = m->workers; w; w = w->next) {
    if (away) {
      w->last_seen_ms = w->last_seen_ms + away < now ? w->last_seen_ms + away : now;
      if (w->stuck_since_ms) w->stuck_since_ms += away;
    }
    if (w->stuck_since_ms) {
      if (now - w->stuck_since_ms > ABORT_GRACE_MS) {
        log_error("worker %d (pid %d) still alive %d ms after it was found stuck: terminating it",
                  w->id, w->pid, ABORT_GRACE_MS);
        w->terminated = 1;
        platform_terminate(w->pid);
        w->stuck_since_ms = now; /* once more later if even that is not reaped */
      }
    } else if (now - w->last_seen_ms > silence_allowed) {
      log_error("worker %d (pid %d) silent for %llu ms (timeout %llu ms): stuck; it aborts "
                "itself with its last words, and is terminated in %d ms if still there",
                w->id, w->pid, (unsigned long long)(now - w->last_seen_ms),
                (unsigned long long)timeout, ABORT_GRACE_MS);
      w->stuck_since_ms = now;
      channel_message diagnose = {.kind = CHANNEL_DIAGNOSE};
      send_command(w, &diagnose);
    }
  }
}
