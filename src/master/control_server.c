/* control_server.c - the master's control endpoint: one command line in, one answer out, then
 * master_act. See control_server.h. */
#include "master/control_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "master/control_commands.h"
#include "platform/platform.h"

/* Connections served at once. Only the master's user (or root) can connect, so this bounds a
 * runaway script rather than an attacker; beyond it a client is answered "busy". */
#define MAX_CONNECTIONS 8

#define REFUSED "refused: "
#define REFUSED_LEN (sizeof REFUSED - 1)

typedef struct control_connection {
  control_server *server;
  uv_pipe_t pipe;
  uv_timer_t timer;
  uv_write_t write;
  uv_shutdown_t shutdown;
  int open_handles;
  int answered;
  const control_command *command; /* acted on once its answer is written */
  size_t len;
  char line[CONTROL_LINE_MAX];
  char answer[CONTROL_ANSWER_MAX];
  struct control_connection *next;
} control_connection;

struct control_server {
  master *m;
  uv_pipe_t pipe;
  int listening;  /* the pipe's handle is open */
  int closing;
  size_t connections;
  control_connection *first;
  char name[512]; /* the endpoint */
};

static void on_timeout(uv_timer_t *timer);

static void free_if_done(control_server *server) {
  if (server->closing && !server->listening && server->connections == 0) free(server);
}

static void on_server_closed(uv_handle_t *handle) {
  control_server *server = handle->data;
  server->listening = 0;
  free_if_done(server);
}

static void on_connection_closed(uv_handle_t *handle) {
  control_connection *c = handle->data;
  if (--c->open_handles > 0) return;
  control_server *server = c->server;
  for (control_connection **p = &server->first; *p; p = &(*p)->next)
    if (*p == c) {
      *p = c->next;
      break;
    }
  server->connections--;
  free(c);
  free_if_done(server);
}

static void close_connection(control_connection *c) {
  if (!uv_is_closing((uv_handle_t *)&c->pipe))
    uv_close((uv_handle_t *)&c->pipe, on_connection_closed);
  if (!uv_is_closing((uv_handle_t *)&c->timer))
    uv_close((uv_handle_t *)&c->timer, on_connection_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  if (status != 0) close_connection(req->data);
}

static void on_answer_written(uv_write_t *req, int status) {
  control_connection *c = req->data;
  control_server *server = c->server;
  const control_command *command = c->command;
  /* The client reads the answer up to the end of the connection. What it sent beyond the
   * line is read and dropped until it closes (or control_timeout): closing a Unix socket with
   * unread bytes resets it, and the client would lose the answer. */
  c->shutdown.data = c;
  if (status != 0 || uv_shutdown(&c->shutdown, (uv_stream_t *)&c->pipe, on_shutdown) != 0)
    close_connection(c);
  else
    uv_timer_start(&c->timer, on_timeout, server->m->settings->control_timeout, 0);
  /* A client gone meanwhile still asked: the master acts all the same. */
  if (command && !server->closing) {
    log_info("control: %s (asgid --control %s)", operator_event_name(command->event),
             command->word);
    master_act(server->m, command->event);
  }
}

/* Writes "ok: WHAT" for command, or "error: WHY"; the command is acted on once the answer is
 * on its way, so that a stop cannot close the connection before the client has it. */
static void answer(control_connection *c, const control_command *command, const char *why) {
  c->answered = 1;
  uv_timer_stop(&c->timer);
  c->command = command;
  if (command)
    snprintf(c->answer, sizeof c->answer, "ok: %s\n", operator_event_name(command->event));
  else
    snprintf(c->answer, sizeof c->answer, "error: %s\n", why);
  size_t len = strlen(c->answer);
  if (c->answer[len - 1] != '\n') c->answer[len - 1] = '\n'; /* a truncated reason */
  uv_buf_t buf = uv_buf_init(c->answer, (unsigned)len);
  c->write.data = c;
  if (uv_write(&c->write, (uv_stream_t *)&c->pipe, &buf, 1, on_answer_written) != 0)
    close_connection(c);
}

static void refuse(control_connection *c, const char *why) {
  log_warning("control: %s", why);
  answer(c, NULL, why);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  control_connection *c = handle->data;
  if (c->answered) c->len = 0; /* what follows the line is dropped */
  *buf = uv_buf_init(c->line + c->len, (unsigned)(sizeof c->line - c->len));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  (void)buf;
  control_connection *c = stream->data;
  if (nread == 0) return;
  if (c->answered) {
    if (nread < 0) close_connection(c); /* the client has its answer and is gone */
    return;
  }
  if (nread < 0 && (nread != UV_EOF || c->len == 0)) {
    close_connection(c); /* gone without a command: nobody to answer */
    return;
  }
  if (nread > 0) c->len += (size_t)nread;
  char why[CONTROL_ANSWER_MAX - 16];
  const control_command *command =
      control_command_parse(c->line, c->len, nread == UV_EOF, why, sizeof why);
  if (command)
    answer(c, command, NULL);
  else if (why[0])
    refuse(c, why);
}

static void on_timeout(uv_timer_t *timer) {
  control_connection *c = timer->data;
  if (c->answered) { /* answered, and the client still holds the connection open */
    close_connection(c);
    return;
  }
  char why[128];
  snprintf(why, sizeof why, "no command within %llu ms (control_timeout)",
           (unsigned long long)c->server->m->settings->control_timeout);
  refuse(c, why);
}

static void on_connection(uv_stream_t *stream, int status) {
  control_server *server = stream->data;
  if (status != 0) {
    log_warning("control: accepting a connection on %s failed: %s", server->name,
                uv_strerror(status));
    return;
  }
  control_connection *c = calloc(1, sizeof *c);
  uv_loop_t *loop = &server->m->loop;
  if (!c || uv_pipe_init(loop, &c->pipe, 0) != 0) {
    free(c);
    log_error("control: out of memory for a connection");
    return;
  }
  uv_timer_init(loop, &c->timer);
  c->server = server;
  c->pipe.data = c->timer.data = c;
  c->open_handles = 2;
  c->next = server->first;
  server->first = c;
  server->connections++;
  char why[CONTROL_ANSWER_MAX - 16];
  if (uv_accept(stream, (uv_stream_t *)&c->pipe) != 0 ||
      uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) != 0) {
    close_connection(c);
  } else if (platform_control_check_client(&c->pipe, why + REFUSED_LEN,
                                           sizeof why - REFUSED_LEN) != 0) {
    memcpy(why, REFUSED, REFUSED_LEN); /* "refused: uid 1000 (pid 77) is neither ..." */
    refuse(c, why);
  } else if (server->connections > MAX_CONNECTIONS) {
    snprintf(why, sizeof why, "busy: %d control connections are open already", MAX_CONNECTIONS);
    refuse(c, why);
  } else {
    uv_timer_start(&c->timer, on_timeout, server->m->settings->control_timeout, 0);
  }
}

control_server *control_server_start(master *m, const char *pidfile, char *why,
                                     size_t why_size) {
  control_server *server = calloc(1, sizeof *server);
  if (!server) {
    snprintf(why, why_size, "control endpoint: out of memory");
    return NULL;
  }
  server->m = m;
  char reason[512];
  if (platform_control_endpoint(pidfile, (long)uv_os_getpid(), server->name,
                                sizeof server->name, reason, sizeof reason) != 0) {
    snprintf(why, why_size, "control endpoint (pidfile %s): %s", pidfile, reason);
    free(server);
    return NULL;
  }
  uv_pipe_init(&m->loop, &server->pipe, 0);
  server->pipe.data = server;
  server->listening = 1;
  int rc = platform_control_listen(&server->pipe, server->name);
  if (rc == 0) rc = uv_listen((uv_stream_t *)&server->pipe, 16, on_connection);
  if (rc != 0) {
    snprintf(why, why_size, "control endpoint %s: %s%s", server->name, uv_strerror(rc),
             rc == UV_EEXIST ? " (a file that is not a socket is in the way)" : "");
    platform_control_remove(server->name); /* only ever a socket, and ours: it has our pid */
    server->closing = 1;
    uv_close((uv_handle_t *)&server->pipe, on_server_closed);
    return NULL;
  }
  log_info("listening for asgid --control on %s", server->name);
  return server;
}

void control_server_close(control_server *server) {
  if (!server) return;
  server->closing = 1;
  uv_close((uv_handle_t *)&server->pipe, on_server_closed);
  platform_control_remove(server->name);
  for (control_connection *c = server->first; c; c = c->next) close_connection(c);
}
