/*
 * conn.h - one HTTP/1.1 connection and the exchanges (request + response) it carries.
 *
 * A connection reads into a pooled buffer, feeds llhttp, and serves one exchange at a time:
 * pipelined requests wait in the buffer (the parser stays paused) until the current
 * response is complete, so responses are always in order. Response bytes collect in `out`
 * and are handed to the kernel once per loop callback (uv_try_write, then uv_write for what
 * the socket did not take). One timer serves every deadline of the connection.
 *
 * Loop thread only.
 */
#ifndef ASGID_HTTP_CONN_H
#define ASGID_HTTP_CONN_H

#include <stdint.h>
#include <uv.h>

#include "asgi/request.h"
#include "http/buffer.h"
#include "http/parser.h"
#include "http/rate.h"
#include "http/response.h"
#include "http/server.h"

struct http_exchange {
  asgid_request request;    /* the ASGI side; the app's handle */
  http_server *server;
  http_conn *conn;          /* NULL once the connection is gone */
  http_head head;
  char *scope_storage;      /* scope strings and header array */
  uint64_t start_wall_usec; /* for the access log: when the request began */
  uint64_t start_ns;        /* uv_hrtime() then, for its duration */
  http_exchange *pump_next;
  unsigned head_complete : 1;
  unsigned in_pump_queue : 1;
  unsigned wants_event : 1;        /* the app called receive and waits */
  unsigned body_complete : 1;      /* the whole request body was parsed */
  unsigned final_body_delivered : 1;
  unsigned span_outstanding : 1;   /* the app holds a body span inside the read buffer */
  unsigned continue_sent : 1;
  unsigned draining : 1;           /* the app is done with the body: discard the rest */
  unsigned body_held : 1;          /* no body reaches the app until queued output drains */
  unsigned start_received : 1;
  unsigned head_written : 1;
  unsigned response_complete : 1;
  unsigned released : 1;           /* the app is finished with the request */
  unsigned wants_writable : 1;     /* the app waits for queued output to drain */
  /* response */
  int status;
  asgid_header *response_headers;  /* copy kept until the head is written and logged */
  size_t response_header_count;
  http_response_plan plan;
  uint64_t body_bytes_written;
};

struct http_conn {
  http_stream_handle io;
  uv_timer_t timer;
  http_server *server;
  const listener *listener;
  http_conn *prev, *next;    /* server->connections */
  http_conn *dirty_next;
  http_parser parser;
  char *read_buffer;         /* from the server pool; NULL while idle */
  size_t read_start, read_end;
  http_buffer out;           /* response bytes not yet handed to the kernel */
  http_buffer in_flight;     /* bytes owned by the uv_write in progress (writing == 1); its
                                request is allocated only then: most responses leave in one
                                uv_try_write, and idle connections should stay small */
  http_exchange *ex;         /* the exchange being read or served; NULL while idle */
  /* Deadlines, in loop milliseconds (0: not armed); docs/architecture.md has their table. */
  uint64_t header_deadline;  /* the request head is complete */
  uint64_t body_deadline;    /* the next body bytes the app asked for arrive */
  uint64_t drain_deadline;   /* the unread body the server discards is all in */
  uint64_t write_deadline;   /* the client takes some of the pending response bytes */
  uint64_t idle_deadline;    /* the next request begins (keep-alive, or a stop's grace) */
  uint64_t linger_deadline;  /* the client closes after the last response */
  uint64_t timer_due;        /* when the timer is armed for; 0 = not armed */
  /* min_data_rate: the request body and the response, measured while the server waits on
   * the client for them. */
  http_rate_meter body_meter, send_meter;
  size_t write_len;          /* bytes of the uv_write in progress when it began */
  size_t write_left;         /* of those, still in libuv's queue at the last progress check */
  unsigned on_dirty : 1;
  unsigned reading : 1;
  unsigned writing : 1;
  unsigned peer_eof : 1;
  unsigned close_after_write : 1;
  unsigned lingering : 1;    /* response sent, write side shut: discard input until EOF */
  unsigned closing : 1;
  unsigned open_handles : 2;
  unsigned keep_alive : 1;   /* the current exchange may be followed by another */
  unsigned in_step : 1;      /* processing now: state changes are seen without a kick */
  char client_host[46];
  int client_port;
};

/* Sets up a connection accepted on listener: reads start, the first-request deadline runs. */
void http_conn_start(http_conn *conn, http_server *server, const listener *bound);

/* Closes the connection now (an exchange still with the app is detached from it). */
void http_conn_close(http_conn *conn);

/* A graceful stop began: a connection between requests closes after stop_idle_timeout
 * unless a last request comes (busy connections close after their response). */
void http_conn_stop_if_idle(http_conn *conn);

/* Response bytes queued in the server for this connection (not yet taken by the kernel). */
size_t http_conn_queued(const http_conn *conn);

/* write_buffer_limit (at least write_buffer_size): the most output queued for a client
 * before the server stops making body events, and before a send closes the connection. */
size_t http_conn_output_limit(const http_conn *conn);

/* Hands pending response bytes to the kernel. */
void http_conn_flush(http_conn *conn);

/* Marks the connection as having output to flush at the end of the current callback. */
void http_conn_mark_dirty(http_conn *conn);

/* Produces the event an exchange's app is waiting for, if the bytes are there. */
void http_exchange_pump(http_exchange *ex);

/* exchange.c: starts an exchange whose head just completed (builds the scope, calls the
 * app). Returns 0, or -1 when out of memory. */
int http_exchange_begin(http_exchange *ex);

/* exchange.c: the connection is gone or done with the exchange; frees it when the app is
 * finished too. */
void http_exchange_detach(http_exchange *ex);

/* exchange.c: the response is complete and the request fully read: log it and move on. */
void http_exchange_finish(http_exchange *ex);

/* exchange.c: the server answered the request itself (an error, status, body_bytes long):
 * the access log gets its line. */
void http_exchange_log_rejection(http_exchange *ex, int status, uint64_t body_bytes);

/* exchange.c: writes the deferred response head, if any (no body known yet). */
void http_exchange_write_pending_head(http_exchange *ex);

/* exchange.c: the transport the ASGI layer calls. */
extern const asgi_transport http_exchange_transport;

/* conn.c: the exchange's state changed outside the connection's own processing (an app
 * call): look at it again from the deferred-work queue. */
void http_conn_kick(http_conn *conn);

/* conn.c: sends what is already queued, then closes: no further request is read and no
 * further byte of the current exchange is written. */
void http_conn_end_after_output(http_conn *conn);

/* conn.c: the app will read no more of the body: the rest is discarded within drain_limit
 * and drain_timeout, or the response ends the connection. */
void http_conn_stop_reading_body(http_conn *conn);

/* conn.c: answers a protocol error with status and closes the connection. */
void http_conn_fail(http_conn *conn, int status, const char *reason);

/* conn.c: recomputes the timer from the deadlines. */
void http_conn_arm_timer(http_conn *conn);

#endif /* ASGID_HTTP_CONN_H */
