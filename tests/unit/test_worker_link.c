/*
 * test_worker_link.c - src/worker/link.c, the worker's side of its channel, over a real socket
 * pair: a master that does not read (stopped in a debugger, or stuck) must not make its worker
 * queue heartbeats without bound; when it reads again, it finds whole frames. Closing the link
 * sends a last heartbeat with the final counts, which the master can still read (with
 * platform_read_pending) once the worker is gone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "platform/platform.h"
#include "worker/link.h"

static void report_nothing(void *data, channel_message *heartbeat) {
  (void)data;
  (void)heartbeat;
}

static void on_command(void *data, const channel_message *command) {
  (void)data;
  (void)command;
  fail_msg("no command was sent");
}

static void on_master_gone(void *data, const char *why) {
  (void)data;
  fail_msg("the master did not go: %s", why);
}

static void stop_loop(uv_timer_t *timer) { uv_stop(timer->loop); }

typedef struct master_end {
  uv_pipe_t pipe;
  channel_reader reader;
  size_t heartbeats;
} master_end;

static void count_heartbeat(void *data, const channel_message *m) {
  master_end *end = data;
  assert_int_equal(m->kind, CHANNEL_HEARTBEAT);
  end->heartbeats++;
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  master_end *end = handle->data;
  size_t size;
  uint8_t *space = channel_reader_space(&end->reader, &size);
  *buf = uv_buf_init((char *)space, (unsigned)size);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  (void)buf;
  master_end *end = stream->data;
  if (nread > 0)
    assert_int_equal(channel_reader_take(&end->reader, (size_t)nread, count_heartbeat, end),
                     CHANNEL_OK);
}

static void test_heartbeats_to_a_master_that_does_not_read_do_not_pile_up(void **state) {
  (void)state;
  static uv_loop_t loop;
  static worker_link link;
  static master_end master;
  static uv_timer_t timer;
  assert_int_equal(uv_loop_init(&loop), 0);
  uv_os_sock_t fds[2];
  assert_int_equal(uv_socketpair(SOCK_STREAM, 0, fds, 0, 0), 0);
  link.report = report_nothing;
  link.on_command = on_command;
  link.on_master_gone = on_master_gone;
  /* A socket pair is a worker's channel on POSIX (a forked worker's); on Windows a channel is
   * the descriptor of a pipe the master created, and neither a socket pair nor the size of a
   * pipe's buffer can stand in for it there. */
  if (worker_link_open(&link, &loop, (int)fds[0], 0, 1, NULL, 0) != 0)
    skip();
  int smallest = 1; /* the kernel's minimum: the socket fills after a few frames */
  if (uv_send_buffer_size((uv_handle_t *)&link.pipe, &smallest) != 0)
    skip();
  /* About 500 heartbeats (one per millisecond) while the master reads nothing. */
  uv_timer_init(&loop, &timer);
  uv_timer_start(&timer, stop_loop, 500, 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  size_t queued = uv_stream_get_write_queue_size((uv_stream_t *)&link.pipe);
  uint8_t frame[CHANNEL_FRAME_MAX];
  channel_message heartbeat = {.kind = CHANNEL_HEARTBEAT};
  size_t frame_len = channel_encode(&heartbeat, frame);
  assert_true(queued <= frame_len); /* at most the one heartbeat in progress */

  /* The master reads again: whole heartbeats, and more of them as time goes on. */
  uv_pipe_init(&loop, &master.pipe, 0);
  master.pipe.data = &master;
  assert_int_equal(uv_pipe_open(&master.pipe, (int)fds[1]), 0);
  uv_read_start((uv_stream_t *)&master.pipe, on_alloc, on_read);
  uv_timer_start(&timer, stop_loop, 200, 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_true(master.heartbeats > 0);

  worker_link_close(&link);
  uv_close((uv_handle_t *)&master.pipe, NULL);
  uv_close((uv_handle_t *)&timer, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
}

static void report_counts(void *data, channel_message *heartbeat) {
  (void)data;
  heartbeat->requests = 7;
  heartbeat->stats.requests[0][1] = 7;
  heartbeat->bytes_out = 700;
}

static void test_closing_sends_a_last_heartbeat(void **state) {
  (void)state;
  static uv_loop_t loop;
  static worker_link link;
  static uv_pipe_t master;
  assert_int_equal(uv_loop_init(&loop), 0);
  uv_os_sock_t fds[2];
  assert_int_equal(uv_socketpair(SOCK_STREAM, 0, fds, 0, 0), 0);
  memset(&link, 0, sizeof link);
  link.report = report_counts;
  link.on_command = on_command;
  link.on_master_gone = on_master_gone;
  if (worker_link_open(&link, &loop, (int)fds[0], 0, 60000, NULL, 0) != 0)
    skip(); /* see above: POSIX only */
  worker_link_close(&link); /* before any heartbeat of the timer */
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_pipe_init(&loop, &master, 0);
  assert_int_equal(uv_pipe_open(&master, (int)fds[1]), 0);
  static channel_reader reader;
  size_t size;
  uint8_t *space = channel_reader_space(&reader, &size);
  int n = platform_read_pending((uv_stream_t *)&master, space, size);
  assert_true(n > 0);
  channel_message last;
  assert_int_equal(channel_decode(space, (size_t)n, &last), CHANNEL_OK);
  assert_int_equal(last.kind, CHANNEL_HEARTBEAT);
  assert_int_equal(last.requests, 7);
  assert_int_equal(last.stats.requests[0][1], 7);
  assert_int_equal(last.bytes_out, 700);
  assert_true(last.rss > 0);
  /* the worker's end is closed: nothing more, then the end */
  assert_int_equal(platform_read_pending((uv_stream_t *)&master, space, size), -1);
  uv_close((uv_handle_t *)&master, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_heartbeats_to_a_master_that_does_not_read_do_not_pile_up),
      cmocka_unit_test(test_closing_sends_a_last_heartbeat),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
