/*
 * test_control_pipe.c - src/platform/<os>/control_pipe.c, the endpoint asgid --control talks
 * to, on the real operating system (a Unix socket; a named pipe on Windows, under Wine in CI):
 * named by the pid, it listens, a client of the same user is let in, and the client side
 * tells the master's endpoint from one another process holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "platform/platform.h"

typedef struct exchange {
  uv_loop_t loop;
  uv_pipe_t server, accepted, client;
  uv_connect_t connect;
  int accepted_check, connect_status, server_check, other_pid_check;
  char accepted_why[256], other_pid_why[256];
} exchange;

static void on_connection(uv_stream_t *server, int status) {
  exchange *x = server->data;
  assert_int_equal(status, 0);
  uv_pipe_init(&x->loop, &x->accepted, 0);
  assert_int_equal(uv_accept(server, (uv_stream_t *)&x->accepted), 0);
  x->accepted_check =
      platform_control_check_client(&x->accepted, x->accepted_why, sizeof x->accepted_why);
  uv_close((uv_handle_t *)&x->accepted, NULL);
  uv_close((uv_handle_t *)&x->server, NULL);
}

static void on_connect(uv_connect_t *req, int status) {
  exchange *x = req->data;
  x->connect_status = status;
  char why[256];
  long pid = (long)uv_os_getpid();
  x->server_check = platform_control_check_server(&x->client, pid, why, sizeof why);
  x->other_pid_check = platform_control_check_server(&x->client, pid + 1, x->other_pid_why,
                                                     sizeof x->other_pid_why);
  uv_close((uv_handle_t *)&x->client, NULL);
}

static void test_a_client_of_the_same_user_reaches_the_master_s_endpoint(void **state) {
  (void)state;
  static exchange x;
  assert_int_equal(uv_loop_init(&x.loop), 0);
  uv_fs_t req;
  assert_int_equal(uv_fs_mkdtemp(NULL, &req, "asgid-test-XXXXXX", NULL), 0);
  char pidfile[256];
  snprintf(pidfile, sizeof pidfile, "%s/asgid.pid", req.path);
  char dir[256];
  snprintf(dir, sizeof dir, "%s", req.path);
  uv_fs_req_cleanup(&req);

  long pid = (long)uv_os_getpid();
  char name[512], why[512], expected[64];
  assert_int_equal(platform_control_endpoint(pidfile, pid, name, sizeof name, why, sizeof why), 0);
  snprintf(expected, sizeof expected, "asgid-control-%ld", pid);
  assert_non_null(strstr(name, expected));

  uv_pipe_init(&x.loop, &x.server, 0);
  x.server.data = &x;
  assert_int_equal(platform_control_listen(&x.server, name), 0);
  assert_int_equal(uv_listen((uv_stream_t *)&x.server, 4, on_connection), 0);
  uv_pipe_init(&x.loop, &x.client, 0);
  x.connect.data = &x;
  x.accepted_check = x.server_check = x.other_pid_check = 99;
  uv_pipe_connect(&x.connect, &x.client, name, on_connect);
  assert_int_equal(uv_run(&x.loop, UV_RUN_DEFAULT), 0);

  assert_int_equal(x.connect_status, 0);
  if (x.accepted_check != 0) fail_msg("client refused: %s", x.accepted_why);
  assert_int_equal(x.server_check, 0);
  /* another process than the pidfile's holds it: not talked to */
  assert_int_equal(x.other_pid_check, -1);
  assert_non_null(strstr(x.other_pid_why, "not by the master"));

  platform_control_remove(name);
  uv_fs_t stat_req;
  assert_int_equal(uv_fs_stat(NULL, &stat_req, name, NULL), UV_ENOENT);
  uv_fs_req_cleanup(&stat_req);
  uv_fs_t rmdir_req;
  assert_int_equal(uv_fs_rmdir(NULL, &rmdir_req, dir, NULL), 0);
  uv_fs_req_cleanup(&rmdir_req);
  assert_int_equal(uv_loop_close(&x.loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_a_client_of_the_same_user_reaches_the_master_s_endpoint),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
