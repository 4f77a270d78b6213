/* control_client.c - asgid --control. See control_client.h. */
#include "master/control_client.h"

#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "master/control_commands.h"
#include "master/pidfile.h"
#include "platform/platform.h"

typedef struct exchange {
  uv_pipe_t pipe;
  uv_timer_t timer;
  uv_connect_t connect;
  uv_write_t write;
  const char *endpoint;
  long pid;
  uint64_t timeout_ms;
  char request[CONTROL_LINE_MAX];
  char answer[CONTROL_ANSWER_MAX];
  size_t answer_len;
  char failure[768]; /* why there is no answer, or empty */
} exchange;

static void finish(exchange *x) {
  if (!uv_is_closing((uv_handle_t *)&x->pipe)) uv_close((uv_handle_t *)&x->pipe, NULL);
  if (!uv_is_closing((uv_handle_t *)&x->timer)) uv_close((uv_handle_t *)&x->timer, NULL);
}

static void fail(exchange *x, const char *why) {
  if (!x->failure[0]) snprintf(x->failure, sizeof x->failure, "%s", why);
  finish(x);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  exchange *x = handle->data;
  *buf = uv_buf_init(x->answer + x->answer_len,
                     (unsigned)(sizeof x->answer - 1 - x->answer_len));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  (void)buf;
  exchange *x = stream->data;
  if (nread > 0) x->answer_len += (size_t)nread;
  x->answer[x->answer_len] = '\0';
  char *newline = strchr(x->answer, '\n');
  if (newline) {
    *newline = '\0';
    finish(x);
  } else if (nread < 0 || x->answer_len == sizeof x->answer - 1) {
    char why[256];
    snprintf(why, sizeof why, "master %ld closed the connection without %s", x->pid,
             x->answer_len ? "ending its answer" : "an answer");
    fail(x, why);
  }
}

static void on_written(uv_write_t *req, int status) {
  exchange *x = req->data;
  if (status != 0) {
    char why[256];
    snprintf(why, sizeof why, "cannot send the command to master %ld: %s", x->pid,
             uv_strerror(status));
    fail(x, why);
  }
}

static void on_connect(uv_connect_t *req, int status) {
  exchange *x = req->data;
  char why[512];
  if (status != 0) {
    if (status == UV_ENOENT)
      snprintf(why, sizeof why, "master %ld has no control endpoint %s (no asgid master with "
               "this pidfile listens: the process with that pid is another program, or an "
               "asgid without --control)", x->pid, x->endpoint);
    else if (status == UV_ECONNREFUSED)
      snprintf(why, sizeof why, "no master listening on %s (a stale endpoint, or not a socket)", x->endpoint);
    else if (status == UV_EACCES || status == UV_EPERM)
      snprintf(why, sizeof why, "refused: cannot open %s: %s (only the master's user, root "
               "or an administrator may)", x->endpoint, uv_strerror(status));
    else
      snprintf(why, sizeof why, "cannot connect to %s: %s", x->endpoint, uv_strerror(status));
    fail(x, why);
    return;
  }
  char reason[384];
  if (platform_control_check_server(&x->pipe, x->pid, reason, sizeof reason) != 0) {
    snprintf(why, sizeof why, "%s is not master %ld's: %s", x->endpoint, x->pid, reason);
    fail(x, why);
    return;
  }
  uv_buf_t buf = uv_buf_init(x->request, (unsigned)strlen(x->request));
  x->write.data = x;
  int rc = uv_write(&x->write, (uv_stream_t *)&x->pipe, &buf, 1, on_written);
  if (rc == 0) rc = uv_read_start((uv_stream_t *)&x->pipe, on_alloc, on_read);
  if (rc != 0) {
    snprintf(why, sizeof why, "cannot talk to master %ld: %s", x->pid, uv_strerror(rc));
    fail(x, why);
  }
}

static void on_timeout(uv_timer_t *timer) {
  exchange *x = timer->data;
  char why[256];
  snprintf(why, sizeof why, "master %ld did not answer within %llu ms (control_timeout)",
           x->pid, (unsigned long long)x->timeout_ms);
  fail(x, why);
}

/* Finds the master and its endpoint; returns 0, or -1 with why. */
static int find_master(const asgid_settings *s, long *pid, char *endpoint, size_t size,
                       char *why, size_t why_size) {
  if (!s->pidfile[0]) {
    snprintf(why, why_size, "no pidfile: name the master's with --pidfile FILE (-p, "
             "ASGID_PIDFILE, or pidfile in the configuration file)");
    return -1;
  }
  int rc = pidfile_read(s->pidfile, pid);
  if (rc == UV_ENOENT) {
    snprintf(why, why_size, "no pid file %s: no master runs with this pidfile", s->pidfile);
    return -1;
  }
  if (rc != 0) {
    snprintf(why, why_size, "pid file %s: %s", s->pidfile,
             rc == UV_EINVAL ? "it holds no pid" : uv_strerror(rc));
    return -1;
  }
  if (uv_kill((int)*pid, 0) == UV_ESRCH) {
    snprintf(why, why_size, "stale pid file %s: no process %ld (the master stopped without "
             "removing it, or crashed)", s->pidfile, *pid);
    return -1;
  }
  char reason[384];
  if (platform_control_endpoint(s->pidfile, *pid, endpoint, size, reason, sizeof reason) != 0) {
    snprintf(why, why_size, "%s", reason);
    return -1;
  }
  return 0;
}

int control_client_run(const asgid_settings *s) {
  const char *word = s->control_command;
  const control_command *command = control_command_find(word);
  if (!command) {
    char why[CONTROL_ANSWER_MAX];
    control_command_parse(word, strlen(word), 1, why, sizeof why);
    fprintf(stderr, "asgid --control: %s\n", why);
    return 1;
  }
  static exchange x; /* static: large, and the loop's handles point into it */
  memset(&x, 0, sizeof x);
  char endpoint[512];
  char why[768];
  if (find_master(s, &x.pid, endpoint, sizeof endpoint, why, sizeof why) != 0) {
    fprintf(stderr, "asgid --control %s (%s): %s\n", word, command->signal, why);
    return 1;
  }
  x.endpoint = endpoint;
  x.timeout_ms = s->control_timeout;
  snprintf(x.request, sizeof x.request, "%s\n", word);
  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0) {
    fprintf(stderr, "asgid --control %s: cannot start an event loop\n", word);
    return 1;
  }
  uv_pipe_init(&loop, &x.pipe, 0);
  uv_timer_init(&loop, &x.timer);
  x.pipe.data = x.timer.data = x.connect.data = &x;
  uv_timer_start(&x.timer, on_timeout, s->control_timeout, 0);
  uv_pipe_connect(&x.connect, &x.pipe, endpoint, on_connect);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  if (x.failure[0]) {
    fprintf(stderr, "asgid --control %s (%s): %s\n", word, command->signal, x.failure);
    return 1;
  }
  int ok = strncmp(x.answer, "ok:", 3) == 0;
  fprintf(ok ? stdout : stderr, "asgid --control %s (%s): master %ld answered \"%s\"\n", word,
          command->signal, x.pid, x.answer);
  return ok ? 0 : 1;
}
