/*
 * test_channel_drain.c - src/worker/channel_drain.c, the master's last read of a worker's
 * channel once its exit is seen, over a real socket pair: of a whole heartbeat and half of the
 * next, it takes the whole one and keeps the half, which completes when the rest comes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "platform/platform.h"
#include "worker/channel_drain.h"

typedef struct seen {
  channel_message last;
  int count;
} seen;

static void on_message(void *data, const channel_message *m) {
  seen *s = data;
  s->last = *m;
  s->count++;
}

static void send_all(uv_pipe_t *writer, const uint8_t *bytes, size_t len) {
  uv_buf_t buf = uv_buf_init((char *)bytes, (unsigned)len);
  assert_int_equal(uv_try_write((uv_stream_t *)writer, &buf, 1), (int)len);
}

static void test_takes_the_whole_frame_and_keeps_the_half(void **state) {
  (void)state;
  /* A socket pair is a forked worker's channel. Where workers cannot fork (Windows) a
   * channel is a pipe the master created, and the drain reads nothing there
   * (platform_read_pending); a socket pair cannot even be made under Wine. */
  if (!platform_get_capabilities()->fork) skip();
  uv_os_sock_t fds[2];
  assert_int_equal(uv_socketpair(SOCK_STREAM, 0, fds, 0, 0), 0);
  uv_loop_t loop;
  uv_pipe_t channel, worker;
  assert_int_equal(uv_loop_init(&loop), 0);
  assert_int_equal(uv_pipe_init(&loop, &channel, 0), 0);
  assert_int_equal(uv_pipe_init(&loop, &worker, 0), 0);
  assert_int_equal(uv_pipe_open(&channel, (uv_file)fds[0]), 0);
  assert_int_equal(uv_pipe_open(&worker, (uv_file)fds[1]), 0);

  channel_message first = {.kind = CHANNEL_HEARTBEAT, .requests = 41, .in_flight = 2};
  channel_message second = {.kind = CHANNEL_HEARTBEAT, .requests = 42};
  uint8_t frames[2 * CHANNEL_FRAME_MAX];
  size_t first_len = channel_encode(&first, frames);
  size_t second_len = channel_encode(&second, frames + first_len);
  size_t half = first_len + second_len / 2;
  send_all(&worker, frames, half);

  static channel_reader reader;
  seen s = {0};
  channel_drain(&reader, (uv_stream_t *)&channel, on_message, &s);
  assert_int_equal(s.count, 1);
  assert_int_equal(s.last.requests, 41);
  assert_int_equal(s.last.in_flight, 2);
  assert_int_equal(reader.len, half - first_len); /* the half waits in the reader */

  send_all(&worker, frames + half, first_len + second_len - half);
  channel_drain(&reader, (uv_stream_t *)&channel, on_message, &s);
  assert_int_equal(s.count, 2);
  assert_int_equal(s.last.requests, 42);
  channel_drain(&reader, (uv_stream_t *)&channel, on_message, &s); /* nothing waits */
  assert_int_equal(s.count, 2);
  uv_close((uv_handle_t *)&channel, NULL);
  uv_close((uv_handle_t *)&worker, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_takes_the_whole_frame_and_keeps_the_half),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
