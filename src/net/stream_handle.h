/*
 * stream_handle.h - a TCP or Unix stream, seen as whichever libuv type a call needs: the
 * transport's socket, and the master's metrics listener and its connections.
 */
#ifndef ASGID_NET_STREAM_HANDLE_H
#define ASGID_NET_STREAM_HANDLE_H

#include <uv.h>

typedef union stream_handle {
  uv_handle_t handle;
  uv_stream_t stream;
  uv_tcp_t tcp;
  uv_pipe_t pipe;
} stream_handle;

#endif /* ASGID_NET_STREAM_HANDLE_H */
