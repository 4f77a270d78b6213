/*
 * ws_load.c - WebSocket load client: echo round trips in a closed loop, for bench/run.sh.
 *
 *   ws_load --port P [--connections 1] [--size 64] [--type binary|text] [--deflate]
 *           [--warmup 1] [--duration 5] | [--messages N] | [--hold SECONDS]
 *
 * Each of N connections does the opening handshake (RFC 6455 4.1, checking 101, Upgrade,
 * Connection and Sec-WebSocket-Accept), then runs a closed loop: send one message of
 * --size bytes, wait for the server to echo it, check it is the same type and the same
 * bytes (a sequence number at its start catches a stale or doubled echo), send the next.
 * One message in flight per connection, so N connections is N messages in flight.
 *
 * Modes:
 *   duration (default) all connections open, then --warmup seconds of traffic that count for
 *                      nothing, then --duration seconds measured: messages/s and a latency
 *                      histogram (log-linear, 1/32 relative precision: p50, p99, p99.9).
 *                      Then each connection finishes its round trip and closes (1000).
 *   --messages N       each connection does exactly N round trips, then closes; no warm-up.
 *                      A readiness probe, and a fixed amount of work for instruction counts.
 *   --hold S           each connection does ONE round trip (so a deflate context exists on
 *                      both sides), then stays open and silent. When all are, prints a line
 *                      "READY connections=N" and waits for SIGTERM or SIGINT (at most S
 *                      seconds, else it fails), then drops them all. For memory per idle
 *                      connection, measured by the caller while it holds.
 *
 * CPU: with --server-pids (comma-separated, e.g. a master and its worker) the client reads
 * their user+system time from /proc/PID/stat at the exact edges of the measured window and
 * reports the server's CPU time per message; with --server-cpu it also reads that core's busy
 * time from /proc/stat, and reports the share of it the server's processes did not account
 * for (other processes, loopback softirq work); --client-cpu does the same for the core this
 * client runs on, less its own time: a busy client core explains a run where neither the
 * server nor the client used its core fully. Its own CPU time per message (getrusage)
 * shows how far it is from being the bottleneck: 1e6 / client_cpu_us_per_msg is the rate it
 * could drive on a core of its own.
 *
 * Masking: a client must mask every frame (RFC 6455 5.3) with a key "derived from a strong
 * source of entropy"; the rule exists so that script in a browser cannot choose the bytes an
 * intermediary sees. A load client on loopback is not that threat: each connection here
 * draws its keys from xorshift64*, seeded from the OS's random source. The server cannot
 * tell the difference, and drawing a key costs nothing next to the system calls.
 *
 * permessage-deflate (RFC 7692), off unless --deflate: offered as Chromium does,
 * "permessage-deflate; client_max_window_bits", and honoured as the server answers it
 * (window bits, no_context_takeover both ways). Payloads are letters, so they compress. The
 * client compresses at zlib's fastest level, to stay cheaper than the server it measures.
 *
 * Bounded everywhere: connect, handshake, each echo and the close handshake must each
 * complete within --timeout seconds, the whole run within a hard limit; frames and messages
 * larger than the echo can be are refused. Exit status: 0 success, 1 failure (connection,
 * protocol, mismatch, timeout), 2 bad usage, 3 the server answered the handshake with
 * something else than 101 (it does not speak WebSocket there). The last line of output is
 * machine-readable: RESULT key=value ...
 *
 * Linux only (reads /proc); one thread and one libuv loop: pin it to a core of its own.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <uv.h>
#include <zlib.h>

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_REFUSED 3

#define MAX_CONNECTIONS 100000
#define MAX_SIZE (16u * 1024 * 1024)
#define MAX_HANDSHAKE_RESPONSE 8192
#define MAX_SERVER_PIDS 16
#define SEQ_DIGITS 16 /* the hex sequence number at the start of each payload */
#define TICK_MS 100   /* deadline checks */
#define HARD_LIMIT_MARGIN_S 30

static const char WS_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* ------------------------------------------------------------------ settings */
enum mode { MODE_DURATION, MODE_MESSAGES, MODE_HOLD };

static struct {
  const char *host;
  int port;
  const char *path;
  int connections;
  size_t size;
  int text;
  int deflate;
  double warmup_s, duration_s, hold_s, timeout_s;
  long messages;
  enum mode mode;
  int open_window;
  int server_pids[MAX_SERVER_PIDS];
  int server_pid_count;
  int server_cpu; /* -1: not given */
  int client_cpu; /* -1: not given */
} opt = {
    .host = "127.0.0.1",
    .path = "/",
    .connections = 1,
    .size = 64,
    .warmup_s = 1,
    .duration_s = 5,
    .timeout_s = 10,
    .mode = MODE_DURATION,
    .open_window = 64,
    .server_cpu = -1,
    .client_cpu = -1,
};

/* ------------------------------------------------------------------ latency histogram */
/* Log-linear buckets of nanoseconds: values below 64 exactly, then 32 buckets per power of
 * two (3% relative precision), up to 2^63. */
#define HIST_SUB 32
#define HIST_BUCKETS (64 + 58 * HIST_SUB)
static uint64_t hist[HIST_BUCKETS];
static uint64_t hist_count, hist_max;

static unsigned hist_index(uint64_t v) {
  if (v < 64)
    return (unsigned)v;
  unsigned e = 63u - (unsigned)__builtin_clzll(v); /* 6..63 */
  return 64u + (e - 6u) * HIST_SUB + (unsigned)((v >> (e - 5u)) & (HIST_SUB - 1));
}

/* The middle of bucket i, in nanoseconds. */
static double hist_value(unsigned i) {
  if (i < 64)
    return i;
  unsigned e = (i - 64u) / HIST_SUB + 6u, sub = (i - 64u) % HIST_SUB;
  double width = (double)(1ull << (e - 5u));
  return (double)(1ull << e) + sub * width + width / 2;
}

static void hist_record(uint64_t ns) {
  hist[hist_index(ns)]++;
  hist_count++;
  if (ns > hist_max)
    hist_max = ns;
}

static double hist_percentile_ms(double p) {
  if (hist_count == 0)
    return 0;
  uint64_t rank = (uint64_t)(p * (double)hist_count + 0.999999), seen = 0;
  if (rank < 1)
    rank = 1;
  for (unsigned i = 0; i < HIST_BUCKETS; i++) {
    seen += hist[i];
    if (seen >= rank) {
      double v = hist_value(i);
      return (v > (double)hist_max ? (double)hist_max : v) / 1e6;
    }
  }
  return (double)hist_max / 1e6;
}

/* ------------------------------------------------------------------ connections */
enum conn_state {
  C_IDLE_SLOT,  /* not started yet */
  C_CONNECTING, /* TCP connect in progress */
  C_HANDSHAKE,  /* request sent, waiting for the 101 */
  C_READY,      /* open, waiting for the others before traffic starts */
  C_ECHO,       /* a message is out, waiting for its echo */
  C_HELD,       /* hold mode: open and silent */
  C_CLOSING,    /* our close frame is out, waiting for the server's */
  C_DONE,       /* closed cleanly (or being closed) */
};

typedef struct buf {
  uint8_t *data;
  size_t len, cap;
} buf;

typedef struct conn {
  uv_tcp_t tcp;
  uv_connect_t connect_req;
  uv_write_t write_req;
  int index;
  enum conn_state state;
  uint64_t deadline; /* uv_hrtime(); 0 = none */
  uint64_t sent_at;
  uint64_t seq;       /* the sequence number of the message out */
  uint64_t rng;       /* xorshift64* state for the masking keys */
  long round_trips;   /* completed echoes */
  int handle_open;    /* uv_tcp_init done, uv_close not yet called */
  char accept[29];    /* the Sec-WebSocket-Accept the server must answer */
  buf in;             /* bytes read and not yet parsed */
  buf msg;            /* the data message being reassembled (compressed if deflated) */
  buf plain;          /* a compressed message, inflated */
  buf payload;        /* the message last sent, unmasked */
  buf queue;          /* frames waiting to be written */
  buf writing;        /* frames handed to uv_write */
  size_t writing_off;
  int in_message, msg_opcode, msg_compressed;
  /* permessage-deflate, when negotiated */
  int deflate;
  int zlib_released; /* hold mode: the streams were freed after the one echo */
  int client_no_context_takeover, server_no_context_takeover;
  z_stream zdef, zinf;
  buf zout;
} conn;

static uv_loop_t *loop;
static conn *conns;
static int started, handshakes_in_flight, open_count, finished_count;
static uv_timer_t tick_timer, phase_timer, hard_timer;
static uv_signal_t sigterm, sigint;
static int exit_status;
static int stopping; /* no new round trips: closing */
static int done_count; /* --messages: connections that did all theirs */
static double hard_limit_s;
static int measuring;
static int negotiated_deflate = -1; /* of the first connection: reported */
static char negotiated_params[256];
static uint64_t measured_messages, measured_bytes;
static uint64_t t_measure_start, t_measure_end;
/* What the measured window's edges read. */
typedef struct cpu_snapshot {
  uint64_t client_us;    /* this process, getrusage */
  uint64_t server_ticks; /* the --server-pids, /proc/PID/stat */
  uint64_t server_core;  /* busy ticks of --server-cpu, /proc/stat */
  uint64_t client_core;  /* busy ticks of --client-cpu */
} cpu_snapshot;
static cpu_snapshot at_start, at_end;
static int cpu_read_ok;

static void abort_run(void);

static void fail(conn *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(conn *c, int status, const char *fmt, ...) {
  if (exit_status != 0)
    return; /* the first failure is the one worth reading */
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "ws_load: ");
  if (c)
    fprintf(stderr, "connection %d: ", c->index);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit_status = status;
  abort_run();
}

static uint64_t timeout_ns(void) { return (uint64_t)(opt.timeout_s * 1e9); }

static int buf_reserve(buf *b, size_t need) {
  if (b->cap - b->len >= need)
    return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap - b->len < need)
    cap *= 2;
  uint8_t *p = realloc(b->data, cap);
  if (!p)
    return -1;
  b->data = p;
  b->cap = cap;
  return 0;
}

static uint64_t xorshift(uint64_t *s) {
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545F4914F6CDD1Dull;
}

/* dst = src XOR the 4-byte key, a word at a time. */
static void mask_copy(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t key[4]) {
  uint8_t k8[8] = {key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]};
  uint64_t k;
  memcpy(&k, k8, 8);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    memcpy(&v, src + i, 8);
    v ^= k;
    memcpy(dst + i, &v, 8);
  }
  for (; i < n; i++)
    dst[i] = src[i] ^ key[i & 3];
}

/* ------------------------------------------------------------------ writing */
static void on_write(uv_write_t *req, int status);

/* Writes what is queued: try_write first (no request, no callback: the common case), the
 * rest through uv_write, one at a time; frames queued meanwhile wait for it to finish. */
static void conn_flush(conn *c) {
  if (c->writing.len || !c->queue.len || !c->handle_open)
    return;
  uv_buf_t b = uv_buf_init((char *)c->queue.data, (unsigned)c->queue.len);
  int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
  if (n == (int)c->queue.len) {
    c->queue.len = 0;
    return;
  }
  if (n < 0 && n != UV_EAGAIN) {
    fail(c, EXIT_FAIL, "write: %s", uv_strerror(n));
    return;
  }
  if (n < 0)
    n = 0;
  buf t = c->writing; /* empty: swap the buffers, the queue's bytes now being written */
  c->writing = c->queue;
  c->queue = t;
  c->writing_off = (size_t)n;
  b = uv_buf_init((char *)c->writing.data + n, (unsigned)(c->writing.len - (size_t)n));
  int r = uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
  if (r != 0)
    fail(c, EXIT_FAIL, "write: %s", uv_strerror(r));
}

static void on_write(uv_write_t *req, int status) {
  conn *c = req->data;
  c->writing.len = 0;
  if (status == UV_ECANCELED)
    return;
  if (status != 0) {
    fail(c, EXIT_FAIL, "write: %s", uv_strerror(status));
    return;
  }
  conn_flush(c);
}

/* Queues one masked frame: FIN set, the given opcode and RSV1 flag. */
static int queue_frame(conn *c, int opcode, int rsv1, const uint8_t *payload, size_t len) {
  if (buf_reserve(&c->queue, len + 14) != 0) {
    fail(c, EXIT_FAIL, "out of memory");
    return -1;
  }
  uint8_t *h = c->queue.data + c->queue.len, *p = h;
  *p++ = (uint8_t)(0x80 | (rsv1 ? 0x40 : 0) | opcode);
  if (len < 126) {
    *p++ = (uint8_t)(0x80 | len);
  } else if (len <= 0xFFFF) {
    *p++ = 0x80 | 126;
    *p++ = (uint8_t)(len >> 8);
    *p++ = (uint8_t)len;
  } else {
    *p++ = 0x80 | 127;
    for (int i = 7; i >= 0; i--)
      *p++ = (uint8_t)((uint64_t)len >> (8 * i));
  }
  uint64_t r = xorshift(&c->rng);
  uint8_t key[4] = {(uint8_t)(r >> 56), (uint8_t)(r >> 48), (uint8_t)(r >> 40), (uint8_t)(r >> 32)};
  memcpy(p, key, 4);
  p += 4;
  mask_copy(p, payload, len, key);
  c->queue.len += (size_t)(p - h) + len;
  return 0;
}

/* ------------------------------------------------------------------ messages */
static const char HEX[] = "0123456789abcdef";

/* Sends the next message of the closed loop: the letters pattern, its first bytes replaced
 * by the sequence number in hex, deflated when negotiated. */
static void send_message(conn *c) {
  uint8_t *p = c->payload.data;
  size_t digits = opt.size < SEQ_DIGITS ? opt.size : SEQ_DIGITS;
  uint64_t seq = ++c->seq;
  for (size_t i = 0; i < digits; i++)
    p[digits - 1 - i] = (uint8_t)HEX[(seq >> (4 * i)) & 15];
  int opcode = opt.text ? 1 : 2;
  c->state = C_ECHO;
  if (c->deflate) {
    z_stream *z = &c->zdef;
    c->zout.len = 0;
    z->next_in = p;
    z->avail_in = (uInt)opt.size;
    do { /* SYNC_FLUSH ends the output on 00 00 ff ff, which the frame leaves out (7.2.1) */
      if (buf_reserve(&c->zout, opt.size / 2 + 64) != 0) {
        fail(c, EXIT_FAIL, "out of memory");
        return;
      }
      z->next_out = c->zout.data + c->zout.len;
      z->avail_out = (uInt)(c->zout.cap - c->zout.len);
      int zr = deflate(z, Z_SYNC_FLUSH);
      if (zr != Z_OK && zr != Z_BUF_ERROR) {
        fail(c, EXIT_FAIL, "deflate: %d", zr);
        return;
      }
      c->zout.len = c->zout.cap - z->avail_out;
    } while (z->avail_out == 0);
    if (c->client_no_context_takeover)
      deflateReset(z);
    if (c->zout.len == 0) {
      /* An empty message after another: zlib has nothing to flush. One empty stored block,
       * as RFC 7692 7.2.3.6 shows, stands for it. */
      static const uint8_t empty_block[1] = {0};
      if (queue_frame(c, opcode, 1, empty_block, 1) != 0)
        return;
    } else if (c->zout.len < 4 || memcmp(c->zout.data + c->zout.len - 4, "\0\0\xff\xff", 4) != 0) {
      fail(c, EXIT_FAIL, "deflate output does not end with a sync flush");
      return;
    } else if (queue_frame(c, opcode, 1, c->zout.data, c->zout.len - 4) != 0) {
      return;
    }
  } else if (queue_frame(c, opcode, 0, p, opt.size) != 0) {
    return;
  }
  c->sent_at = uv_hrtime();
  c->deadline = c->sent_at + timeout_ns();
  conn_flush(c);
}

static void send_close(conn *c) {
  static const uint8_t normal[2] = {0x03, 0xE8}; /* 1000 */
  c->state = C_CLOSING;
  c->deadline = uv_hrtime() + timeout_ns();
  if (queue_frame(c, 8, 0, normal, 2) == 0)
    conn_flush(c);
}

static void on_closed(uv_handle_t *h) { (void)h; }

static void conn_close_handle(conn *c) {
  if (c->handle_open) {
    c->handle_open = 0;
    uv_close((uv_handle_t *)&c->tcp, on_closed);
  }
}

static void conn_finished(conn *c) {
  c->state = C_DONE;
  c->deadline = 0;
  conn_close_handle(c);
  if (++finished_count == opt.connections) {
    uv_timer_stop(&tick_timer);
    uv_timer_stop(&phase_timer);
    uv_timer_stop(&hard_timer);
  }
}

static void start_traffic(void);
static void open_more(void);
static void hold_ready(void);
static void end_measure(uv_timer_t *t);

/* A whole echo arrived (inflated if it was compressed): check it, count it, go on. */
static void on_echo(conn *c, int opcode, const uint8_t *data, size_t len) {
  if (c->state != C_ECHO) {
    fail(c, EXIT_FAIL, "a message arrived that answers nothing (%zu bytes)", len);
    return;
  }
  if (opcode != (opt.text ? 1 : 2)) {
    fail(c, EXIT_FAIL, "the echo is %s, the message was %s", opcode == 1 ? "text" : "binary",
         opt.text ? "text" : "binary");
    return;
  }
  if (len != opt.size || (len && memcmp(data, c->payload.data, len) != 0)) {
    fail(c, EXIT_FAIL, "the echo of message %" PRIu64 " differs from it (%zu bytes, %zu sent)",
         c->seq, len, opt.size);
    return;
  }
  uint64_t now = uv_hrtime();
  c->round_trips++;
  if (measuring) {
    hist_record(now - c->sent_at);
    measured_messages++;
    measured_bytes += len;
  }
  if (opt.mode == MODE_HOLD) {
    c->state = C_HELD;
    c->deadline = 0;
    if (c->deflate) {
      /* A held connection sends nothing more: its zlib streams, some 300 KiB, would only
       * make 10,000 idle connections cost the client 3 GB. The server keeps its own. */
      deflateEnd(&c->zdef);
      inflateEnd(&c->zinf);
      c->deflate = 0;
      c->zlib_released = 1;
    }
    handshakes_in_flight--;
    if (++open_count == opt.connections)
      hold_ready();
    else
      open_more();
    return;
  }
  if (opt.mode == MODE_MESSAGES && c->round_trips == opt.messages && ++done_count == opt.connections)
    end_measure(NULL);
  if (stopping || (opt.mode == MODE_MESSAGES && c->round_trips >= opt.messages))
    send_close(c);
  else
    send_message(c);
}

/* Inflates the compressed message in c->msg into c->plain, at most the size sent plus one
 * byte (enough to tell "too long"). */
static int inflate_message(conn *c) {
  static const uint8_t tail[4] = {0, 0, 0xff, 0xff};
  z_stream *z = &c->zinf;
  c->plain.len = 0;
  if (buf_reserve(&c->plain, opt.size + 1) != 0)
    return -1;
  z->next_out = c->plain.data;
  z->avail_out = (uInt)(opt.size + 1);
  for (int part = 0; part < 2; part++) {
    z->next_in = part ? (uint8_t *)tail : c->msg.data;
    z->avail_in = part ? 4 : (uInt)c->msg.len;
    while (z->avail_in && z->avail_out) {
      int zr = inflate(z, Z_SYNC_FLUSH);
      if (zr == Z_BUF_ERROR)
        break;
      if (zr != Z_OK) {
        fail(c, EXIT_FAIL, "inflate: %s", z->msg ? z->msg : "error");
        return -1;
      }
    }
  }
  c->plain.len = opt.size + 1 - z->avail_out;
  if (c->server_no_context_takeover)
    inflateReset(z);
  return 0;
}

static void handle_frame(conn *c, uint8_t b0, const uint8_t *payload, size_t len) {
  int fin = b0 & 0x80, rsv1 = b0 & 0x40, opcode = b0 & 0x0F;
  if (b0 & 0x30) {
    fail(c, EXIT_FAIL, "frame with RSV2/RSV3 set");
    return;
  }
  if (opcode >= 8) {
    if (!fin || len > 125 || rsv1) {
      fail(c, EXIT_FAIL, "invalid control frame (opcode %d, %zu bytes)", opcode, len);
      return;
    }
    if (opcode == 8) {
      if (c->state == C_CLOSING) {
        conn_finished(c);
        return;
      }
      int code = len >= 2 ? (payload[0] << 8 | payload[1]) : 1005;
      fail(c, EXIT_FAIL, "the server closed the connection: code %d, reason '%.*s'", code,
           len > 2 ? (int)(len - 2) : 0, (const char *)payload + 2);
    } else if (opcode == 9) {
      if (c->state != C_CLOSING && queue_frame(c, 10, 0, payload, len) == 0)
        conn_flush(c);
    } else if (opcode != 10) {
      fail(c, EXIT_FAIL, "reserved control opcode %d", opcode);
    }
    return;
  }
  if (opcode == 1 || opcode == 2) {
    if (c->in_message) {
      fail(c, EXIT_FAIL, "a new message started inside a fragmented one");
      return;
    }
    if (rsv1 && !c->deflate) {
      fail(c, EXIT_FAIL, c->zlib_released ? "a compressed message arrived on a held connection"
                                          : "RSV1 set but permessage-deflate was not negotiated");
      return;
    }
    c->in_message = 1;
    c->msg_opcode = opcode;
    c->msg_compressed = rsv1 != 0;
    c->msg.len = 0;
  } else if (opcode == 0) {
    if (!c->in_message || rsv1) {
      fail(c, EXIT_FAIL, rsv1 ? "RSV1 on a continuation frame" : "continuation frame outside a message");
      return;
    }
  } else {
    fail(c, EXIT_FAIL, "reserved data opcode %d", opcode);
    return;
  }
  /* Only the echo of what was sent is expected: a compressed echo can be somewhat larger
   * than its text, a plain one never. */
  size_t limit = c->msg_compressed ? opt.size + opt.size / 8 + 1024 : opt.size;
  if (len > limit - c->msg.len) {
    fail(c, EXIT_FAIL, "message longer than the %zu bytes sent", opt.size);
    return;
  }
  if (c->msg_compressed || !fin || c->msg.len) { /* reassemble; an unfragmented plain echo needs not */
    if (buf_reserve(&c->msg, len) != 0) {
      fail(c, EXIT_FAIL, "out of memory");
      return;
    }
    memcpy(c->msg.data + c->msg.len, payload, len);
    c->msg.len += len;
    payload = c->msg.data;
    len = c->msg.len;
  }
  if (!fin)
    return;
  c->in_message = 0;
  if (c->msg_compressed) {
    if (inflate_message(c) != 0)
      return;
    payload = c->plain.data;
    len = c->plain.len;
  }
  on_echo(c, c->msg_opcode, payload, len);
}

/* ------------------------------------------------------------------ handshake */
static void base64(const uint8_t *in, int n, char *out) { EVP_EncodeBlock((unsigned char *)out, in, n); }

static int token_in_list(const char *list, const char *token) {
  size_t tl = strlen(token);
  for (const char *p = list; *p;) {
    while (*p == ' ' || *p == '\t' || *p == ',')
      p++;
    const char *e = p;
    while (*e && *e != ',')
      e++;
    const char *t = e;
    while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
      t--;
    if ((size_t)(t - p) == tl && strncasecmp(p, token, tl) == 0)
      return 1;
    p = e;
  }
  return 0;
}

/* The server's Sec-WebSocket-Extensions answer to our offer: permessage-deflate and its
 * parameters (RFC 7692 7.1), anything else refused. Returns 0 or -1 (failed). */
static int accept_extensions(conn *c, char *value) {
  if (!opt.deflate) {
    fail(c, EXIT_FAIL, "the server answered extensions that were not offered: %s", value);
    return -1;
  }
  if (strchr(value, ',')) {
    fail(c, EXIT_FAIL, "the server accepted more than one extension: %s", value);
    return -1;
  }
  if (negotiated_deflate < 0)
    snprintf(negotiated_params, sizeof negotiated_params, "%s", value);
  int client_bits = 15, first = 1;
  for (char *save = NULL, *part = strtok_r(value, ";", &save); part; part = strtok_r(NULL, ";", &save), first = 0) {
    while (*part == ' ' || *part == '\t')
      part++;
    char *end = part + strlen(part);
    while (end > part && (end[-1] == ' ' || end[-1] == '\t'))
      *--end = '\0';
    char *eq = strchr(part, '='), *val = NULL;
    if (eq) {
      *eq = '\0';
      val = eq + 1;
      for (char *t = eq; t > part && (t[-1] == ' ' || t[-1] == '\t');)
        *--t = '\0';
      while (*val == ' ' || *val == '"')
        val++;
      char *ve = val + strlen(val);
      if (ve > val && ve[-1] == '"')
        ve[-1] = '\0';
    }
    if (first) {
      if (strcasecmp(part, "permessage-deflate") != 0 || val) {
        fail(c, EXIT_FAIL, "the server accepted an extension that was not offered: %s", part);
        return -1;
      }
    } else if (strcasecmp(part, "server_no_context_takeover") == 0 && !val) {
      c->server_no_context_takeover = 1;
    } else if (strcasecmp(part, "client_no_context_takeover") == 0 && !val) {
      c->client_no_context_takeover = 1;
    } else if ((strcasecmp(part, "server_max_window_bits") == 0 ||
                strcasecmp(part, "client_max_window_bits") == 0) && val) {
      int bits = atoi(val);
      if (bits < 8 || bits > 15) {
        fail(c, EXIT_FAIL, "invalid %s=%s", part, val);
        return -1;
      }
      if (part[0] == 'c' || part[0] == 'C')
        client_bits = bits;
      /* server_max_window_bits needs nothing: inflating with a 32 KiB window reads any */
    } else {
      fail(c, EXIT_FAIL, "invalid permessage-deflate parameter '%s'", part);
      return -1;
    }
  }
  /* zlib's raw deflate cannot use a 256-byte window; a server asking for one is rare enough
   * to refuse here rather than emulate. */
  if (client_bits == 8) {
    fail(c, EXIT_FAIL, "client_max_window_bits=8 is not supported (zlib's minimum is 9)");
    return -1;
  }
  /* The client's compression is not what is measured: the fastest level, and a hash table
   * sized to the window (memLevel bits - 7: zlib's 8 for 15 bits, 5 for 12). A table larger
   * than the window is slid on every message that fills it: with memLevel 8 and 12 bits, a
   * 4 KiB message cost the client three times the CPU. */
  if (deflateInit2(&c->zdef, Z_BEST_SPEED, Z_DEFLATED, -client_bits, client_bits - 7, Z_DEFAULT_STRATEGY) != Z_OK ||
      inflateInit2(&c->zinf, -15) != Z_OK) {
    fail(c, EXIT_FAIL, "zlib initialisation failed");
    return -1;
  }
  c->deflate = 1;
  return 0;
}

/* Parses the handshake response at c->in. Returns bytes consumed, 0 if incomplete, -1 failed. */
static long parse_handshake(conn *c) {
  uint8_t *end = memmem(c->in.data, c->in.len, "\r\n\r\n", 4);
  if (!end) {
    if (c->in.len >= MAX_HANDSHAKE_RESPONSE)
      fail(c, EXIT_FAIL, "handshake response head larger than %d bytes", MAX_HANDSHAKE_RESPONSE);
    return c->in.len >= MAX_HANDSHAKE_RESPONSE ? -1 : 0;
  }
  size_t head_len = (size_t)(end - c->in.data) + 4;
  char head[MAX_HANDSHAKE_RESPONSE + 1];
  memcpy(head, c->in.data, head_len - 4);
  head[head_len - 4] = '\0';
  for (size_t i = 0; i < head_len - 4; i++)
    if (head[i] == '\0') {
      fail(c, EXIT_FAIL, "NUL byte in the handshake response");
      return -1;
    }
  char *save = NULL, *line = strtok_r(head, "\r\n", &save);
  if (!line || strncmp(line, "HTTP/1.1 101", 12) != 0 || (line[12] != ' ' && line[12] != '\0')) {
    fail(c, EXIT_REFUSED, "the server answered the handshake with '%.100s', not 101", line ? line : "");
    return -1;
  }
  int upgrade = 0, connection = 0, accept_ok = 0;
  while ((line = strtok_r(NULL, "\r\n", &save))) {
    char *colon = strchr(line, ':');
    if (!colon) {
      fail(c, EXIT_FAIL, "malformed header line '%.100s'", line);
      return -1;
    }
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
      v++;
    char *ve = v + strlen(v);
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
      *--ve = '\0';
    if (strcasecmp(line, "upgrade") == 0)
      upgrade = strcasecmp(v, "websocket") == 0;
    else if (strcasecmp(line, "connection") == 0)
      connection = token_in_list(v, "upgrade");
    else if (strcasecmp(line, "sec-websocket-accept") == 0)
      accept_ok = strcmp(v, c->accept) == 0;
    else if (strcasecmp(line, "sec-websocket-extensions") == 0 && accept_extensions(c, v) != 0)
      return -1;
  }
  if (!upgrade || !connection || !accept_ok) {
    fail(c, EXIT_FAIL, "101 without %s", !upgrade ? "Upgrade: websocket" : !connection ? "Connection: upgrade"
                                                                          : "the right Sec-WebSocket-Accept");
    return -1;
  }
  if (negotiated_deflate < 0)
    negotiated_deflate = c->deflate;
  return (long)head_len;
}

/* ------------------------------------------------------------------ reading */
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  conn *c = h->data;
  (void)suggested;
  *b = uv_buf_init((char *)c->in.data + c->in.len, (unsigned)(c->in.cap - c->in.len));
}

static void process_input(conn *c) {
  size_t pos = 0;
  if (c->state == C_HANDSHAKE) {
    long n = parse_handshake(c);
    if (n <= 0)
      return;
    pos = (size_t)n;
    if (opt.mode == MODE_HOLD) {
      send_message(c);
    } else {
      c->state = C_READY;
      c->deadline = 0;
      handshakes_in_flight--;
      open_count++;
      open_more();
      if (open_count == opt.connections)
        start_traffic();
    }
  }
  /* Frames: a header of 2 to 10 bytes (servers do not mask), then the payload. */
  while (exit_status == 0 && c->state != C_DONE && c->in.len - pos >= 2) {
    const uint8_t *h = c->in.data + pos;
    if (h[1] & 0x80) {
      fail(c, EXIT_FAIL, "the server masked a frame");
      return;
    }
    size_t hl = 2;
    uint64_t len = h[1] & 0x7F;
    if (len == 126) {
      if (c->in.len - pos < 4)
        break;
      len = (uint64_t)h[2] << 8 | h[3];
      hl = 4;
    } else if (len == 127) {
      if (c->in.len - pos < 10)
        break;
      len = 0;
      for (int i = 2; i < 10; i++)
        len = len << 8 | h[i];
      hl = 10;
    }
    if (len > c->in.cap - hl) {
      fail(c, EXIT_FAIL, "frame of %" PRIu64 " bytes, larger than any echo of %zu", len, opt.size);
      return;
    }
    if (c->in.len - pos < hl + len)
      break;
    handle_frame(c, h[0], h + hl, (size_t)len);
    pos += hl + (size_t)len;
  }
  if (c->state == C_DONE)
    return;
  memmove(c->in.data, c->in.data + pos, c->in.len - pos);
  c->in.len -= pos;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  conn *c = s->data;
  (void)b;
  if (n == 0 || exit_status != 0)
    return;
  if (n < 0) {
    if (n == UV_EOF)
      fail(c, EXIT_FAIL, "the server closed TCP %s", c->state == C_HANDSHAKE ? "during the handshake"
                                                     : c->state == C_CLOSING ? "without answering our close frame"
                                                                             : "without a close frame");
    else
      fail(c, EXIT_FAIL, "read: %s", uv_strerror((int)n));
    return;
  }
  c->in.len += (size_t)n;
  process_input(c);
}

/* ------------------------------------------------------------------ connecting */
static void on_connect(uv_connect_t *req, int status) {
  conn *c = req->data;
  if (status == UV_ECANCELED)
    return;
  if (status != 0) {
    fail(c, EXIT_FAIL, "connect to %s:%d: %s", opt.host, opt.port, uv_strerror(status));
    return;
  }
  uint8_t key[16];
  char key64[25], accept_src[64];
  uint8_t digest[SHA_DIGEST_LENGTH];
  int r = uv_random(NULL, NULL, key, sizeof key, 0, NULL);
  if (r == 0)
    r = uv_random(NULL, NULL, &c->rng, sizeof c->rng, 0, NULL);
  if (r != 0) {
    fail(c, EXIT_FAIL, "random: %s", uv_strerror(r));
    return;
  }
  c->rng |= 1; /* xorshift's state must not be 0 */
  base64(key, sizeof key, key64);
  snprintf(accept_src, sizeof accept_src, "%s%s", key64, WS_GUID);
  SHA1((const unsigned char *)accept_src, strlen(accept_src), digest);
  base64(digest, sizeof digest, c->accept);
  char request[1024];
  int len = snprintf(request, sizeof request,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
                     opt.path, opt.host, opt.port, key64,
                     opt.deflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "");
  if (buf_reserve(&c->queue, (size_t)len) != 0) {
    fail(c, EXIT_FAIL, "out of memory");
    return;
  }
  memcpy(c->queue.data, request, (size_t)len);
  c->queue.len = (size_t)len;
  c->state = C_HANDSHAKE;
  r = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
  if (r != 0) {
    fail(c, EXIT_FAIL, "read start: %s", uv_strerror(r));
    return;
  }
  conn_flush(c);
}

static int conn_start(conn *c) {
  struct sockaddr_in addr;
  int r = uv_ip4_addr(opt.host, opt.port, &addr);
  if (r == 0)
    r = uv_tcp_init(loop, &c->tcp);
  if (r != 0) {
    fail(c, EXIT_FAIL, "socket: %s", uv_strerror(r));
    return -1;
  }
  c->handle_open = 1;
  c->tcp.data = c;
  c->connect_req.data = c;
  c->write_req.data = c;
  uv_tcp_nodelay(&c->tcp, 1);
  /* Room for the largest frame an echo can come in: a compressed one may exceed its text. */
  size_t in_cap = opt.size + opt.size / 8 + 1024 + 14;
  if (in_cap < MAX_HANDSHAKE_RESPONSE)
    in_cap = MAX_HANDSHAKE_RESPONSE;
  if (buf_reserve(&c->in, in_cap) != 0 || buf_reserve(&c->payload, opt.size) != 0) {
    fail(c, EXIT_FAIL, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < opt.size; i++)
    c->payload.data[i] = (uint8_t)('a' + (i + (size_t)c->index) % 26);
  c->state = C_CONNECTING;
  c->deadline = uv_hrtime() + timeout_ns();
  handshakes_in_flight++;
  r = uv_tcp_connect(&c->connect_req, &c->tcp, (const struct sockaddr *)&addr, on_connect);
  if (r != 0) {
    fail(c, EXIT_FAIL, "connect: %s", uv_strerror(r));
    return -1;
  }
  return 0;
}

/* Starts connections while fewer than --open-window handshakes are in flight: a burst of
 * thousands of SYNs would overflow the server's listen queue. */
static void open_more(void) {
  while (exit_status == 0 && started < opt.connections && handshakes_in_flight < opt.open_window) {
    conn *c = &conns[started++];
    if (conn_start(c) != 0)
      return;
  }
}

static void on_hard_limit(uv_timer_t *t);

/* Hold mode: every connection is open and has echoed once. The caller measures now; the
 * hold time limit starts. */
static void hold_ready(void) {
  printf("READY connections=%d\n", open_count);
  fflush(stdout);
  uv_timer_stop(&hard_timer);
  uv_timer_start(&hard_timer, on_hard_limit, (uint64_t)(opt.hold_s * 1000), 0);
}

/* ------------------------------------------------------------------ CPU accounting */
static uint64_t own_cpu_us(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
         (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
}

/* utime+stime+cutime+cstime of the --server-pids, in clock ticks (as bench/proctree.py). */
static int server_ticks(uint64_t *out) {
  uint64_t total = 0;
  for (int i = 0; i < opt.server_pid_count; i++) {
    char path[64], data[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", opt.server_pids[i]);
    FILE *f = fopen(path, "r");
    if (!f)
      return -1;
    size_t n = fread(data, 1, sizeof data - 1, f);
    fclose(f);
    data[n] = '\0';
    char *p = strrchr(data, ')'); /* the command name may hold spaces: fields follow the last ')' */
    if (!p)
      return -1;
    p++;
    /* field 3 (state) is the first after ')'; utime is field 14 */
    for (int field = 3; field < 14; field++) {
      p = strchr(p + 1, ' ');
      if (!p)
        return -1;
    }
    unsigned long long v[4];
    if (sscanf(p, " %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3]) != 4)
      return -1;
    total += v[0] + v[1] + v[2] + v[3];
  }
  *out = total;
  return 0;
}

/* Busy ticks of a core: user nice system irq softirq steal (as bench/run.sh). */
static int core_ticks(int cpu, uint64_t *out) {
  char want[16], line[512];
  snprintf(want, sizeof want, "cpu%d ", cpu);
  FILE *f = fopen("/proc/stat", "r");
  if (!f)
    return -1;
  int found = -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, want, strlen(want)) == 0) {
      unsigned long long v[8];
      if (sscanf(line + strlen(want), "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                 &v[4], &v[5], &v[6], &v[7]) == 8) {
        *out = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
        found = 0;
      }
      break;
    }
  }
  fclose(f);
  return found;
}

static void snapshot(cpu_snapshot *snap) {
  snap->client_us = own_cpu_us();
  if (opt.server_pid_count && server_ticks(&snap->server_ticks) != 0)
    cpu_read_ok = 0;
  if (opt.server_cpu >= 0 && core_ticks(opt.server_cpu, &snap->server_core) != 0)
    cpu_read_ok = 0;
  if (opt.client_cpu >= 0 && core_ticks(opt.client_cpu, &snap->client_core) != 0)
    cpu_read_ok = 0;
}

/* ------------------------------------------------------------------ phases */
static void end_measure(uv_timer_t *t) {
  (void)t;
  t_measure_end = uv_hrtime();
  measuring = 0;
  snapshot(&at_end);
  stopping = 1; /* each connection closes once its echo is in */
}

static void begin_measure(uv_timer_t *t) {
  (void)t;
  cpu_read_ok = 1;
  snapshot(&at_start);
  t_measure_start = uv_hrtime();
  measuring = 1;
  if (opt.mode == MODE_DURATION)
    uv_timer_start(&phase_timer, end_measure, (uint64_t)(opt.duration_s * 1000), 0);
}

/* All connections are open: the closed loops start together. */
static void start_traffic(void) {
  for (int i = 0; i < opt.connections && exit_status == 0; i++)
    send_message(&conns[i]);
  if (opt.mode == MODE_MESSAGES)
    begin_measure(NULL);
  else if (opt.warmup_s > 0)
    uv_timer_start(&phase_timer, begin_measure, (uint64_t)(opt.warmup_s * 1000), 0);
  else
    begin_measure(NULL);
}

static void on_tick(uv_timer_t *t) {
  (void)t;
  uint64_t now = uv_hrtime();
  for (int i = 0; i < started && exit_status == 0; i++) {
    conn *c = &conns[i];
    if (c->deadline && now > c->deadline) {
      static const char *const what[] = {
          [C_CONNECTING] = "TCP connection", [C_HANDSHAKE] = "handshake response",
          [C_ECHO] = "echo", [C_CLOSING] = "close frame from the server"};
      const char *w = (c->state < sizeof what / sizeof what[0] && what[c->state]) ? what[c->state] : "progress";
      fail(c, EXIT_FAIL, "no %s within %.0f s", w, opt.timeout_s);
    }
  }
}

static void on_hard_limit(uv_timer_t *t) {
  (void)t;
  if (opt.mode == MODE_HOLD && open_count == opt.connections)
    fail(NULL, EXIT_FAIL, "held for --hold %.0f s without being told to stop", opt.hold_s);
  else
    fail(NULL, EXIT_FAIL, "the run did not finish within its time limit (%.0f s)", hard_limit_s);
}

static void on_signal(uv_signal_t *s, int signum) {
  (void)s;
  if (opt.mode == MODE_HOLD && open_count == opt.connections) {
    /* The caller has measured: drop every connection at once (the server sees 1006). */
    uv_signal_stop(&sigterm);
    uv_signal_stop(&sigint);
    uv_timer_stop(&tick_timer);
    uv_timer_stop(&hard_timer);
    for (int i = 0; i < started; i++)
      conn_close_handle(&conns[i]);
    return;
  }
  fail(NULL, EXIT_FAIL, "interrupted by signal %d", signum);
}

/* Stops everything after a failure: every handle closed, so the loop ends. */
static void abort_run(void) {
  stopping = 1;
  measuring = 0;
  uv_timer_stop(&tick_timer);
  uv_timer_stop(&phase_timer);
  uv_timer_stop(&hard_timer);
  uv_signal_stop(&sigterm);
  uv_signal_stop(&sigint);
  for (int i = 0; i < started; i++)
    conn_close_handle(&conns[i]);
}

/* ------------------------------------------------------------------ arguments */
static void usage(void) {
  fputs("usage: ws_load --port PORT [--host 127.0.0.1] [--path /] [--connections N] [--size BYTES]\n"
        "               [--type binary|text] [--deflate] [--timeout S] [--open-window N]\n"
        "               [--warmup S] [--duration S] | [--messages N] | [--hold S]\n"
        "               [--server-pids PID,...] [--server-cpu N] [--client-cpu N] [--time-limit S]\n"
        "See the comment at the top of bench/ws_load.c.\n",
        stderr);
  exit(EXIT_USAGE);
}

static double parse_seconds(const char *s, const char *name, double min) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end || v < min || v > 86400) {
    fprintf(stderr, "ws_load: %s: '%s' is not a number of seconds (%g..86400)\n", name, s, min);
    exit(EXIT_USAGE);
  }
  return v;
}

static long parse_int(const char *s, const char *name, long min, long max) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || end == s || v < min || v > max) {
    fprintf(stderr, "ws_load: %s: '%s' is not an integer in %ld..%ld\n", name, s, min, max);
    exit(EXIT_USAGE);
  }
  return v;
}

static void parse_args(int argc, char **argv) {
  enum { OPT_HOST = 256, OPT_PORT, OPT_PATH, OPT_CONN, OPT_SIZE, OPT_TYPE, OPT_DEFLATE, OPT_WARMUP, OPT_DURATION, OPT_MESSAGES,
         OPT_HOLD, OPT_TIMEOUT, OPT_WINDOW, OPT_PIDS, OPT_CPU, OPT_CLIENT_CPU, OPT_LIMIT, OPT_HELP };
  static const struct option longopts[] = {
      {"host", 1, 0, OPT_HOST},         {"port", 1, 0, OPT_PORT},         {"path", 1, 0, OPT_PATH},
      {"connections", 1, 0, OPT_CONN},  {"size", 1, 0, OPT_SIZE},         {"type", 1, 0, OPT_TYPE},
      {"deflate", 0, 0, OPT_DEFLATE},   {"warmup", 1, 0, OPT_WARMUP},     {"duration", 1, 0, OPT_DURATION},
      {"messages", 1, 0, OPT_MESSAGES}, {"hold", 1, 0, OPT_HOLD},         {"timeout", 1, 0, OPT_TIMEOUT},
      {"open-window", 1, 0, OPT_WINDOW}, {"server-pids", 1, 0, OPT_PIDS}, {"server-cpu", 1, 0, OPT_CPU},
      {"client-cpu", 1, 0, OPT_CLIENT_CPU}, {"time-limit", 1, 0, OPT_LIMIT},  {"help", 0, 0, OPT_HELP},         {0, 0, 0, 0}};
  int o, modes = 0;
  while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (o) {
    case OPT_HOST: opt.host = optarg; break;
    case OPT_PORT: opt.port = (int)parse_int(optarg, "--port", 1, 65535); break;
    case OPT_PATH: opt.path = optarg; break;
    case OPT_CONN: opt.connections = (int)parse_int(optarg, "--connections", 1, MAX_CONNECTIONS); break;
    case OPT_SIZE: opt.size = (size_t)parse_int(optarg, "--size", 0, MAX_SIZE); break;
    case OPT_TYPE:
      if (strcmp(optarg, "text") != 0 && strcmp(optarg, "binary") != 0)
        usage();
      opt.text = strcmp(optarg, "text") == 0;
      break;
    case OPT_DEFLATE: opt.deflate = 1; break;
    case OPT_WARMUP: opt.warmup_s = parse_seconds(optarg, "--warmup", 0); break;
    case OPT_DURATION: opt.duration_s = parse_seconds(optarg, "--duration", 0.1); break;
    case OPT_MESSAGES:
      opt.messages = parse_int(optarg, "--messages", 1, LONG_MAX / 2);
      opt.mode = MODE_MESSAGES;
      modes++;
      break;
    case OPT_HOLD:
      opt.hold_s = parse_seconds(optarg, "--hold", 1);
      opt.mode = MODE_HOLD;
      modes++;
      break;
    case OPT_TIMEOUT: opt.timeout_s = parse_seconds(optarg, "--timeout", 0.1); break;
    case OPT_WINDOW: opt.open_window = (int)parse_int(optarg, "--open-window", 1, 10000); break;
    case OPT_PIDS:
      for (char *save = NULL, *p = strtok_r(optarg, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (opt.server_pid_count == MAX_SERVER_PIDS)
          usage();
        opt.server_pids[opt.server_pid_count++] = (int)parse_int(p, "--server-pids", 1, INT_MAX);
      }
      break;
    case OPT_LIMIT: hard_limit_s = parse_seconds(optarg, "--time-limit", 1); break;
    case OPT_CPU: opt.server_cpu = (int)parse_int(optarg, "--server-cpu", 0, 4095); break;
    case OPT_CLIENT_CPU: opt.client_cpu = (int)parse_int(optarg, "--client-cpu", 0, 4095); break;
    default: usage();
    }
  }
  if (optind != argc || opt.port == 0 || modes > 1)
    usage();
  struct sockaddr_in a;
  if (uv_ip4_addr(opt.host, 0, &a) != 0 || (ntohl(a.sin_addr.s_addr) >> 24) != 127) {
    fprintf(stderr, "ws_load: --host must be an IPv4 loopback address (127.x.x.x)\n");
    exit(EXIT_USAGE);
  }
  if (opt.path[0] != '/' || strpbrk(opt.path, " \r\n") || strlen(opt.path) > 512) {
    fprintf(stderr, "ws_load: --path must start with / and hold no spaces or line breaks\n");
    exit(EXIT_USAGE);
  }
}

/* ------------------------------------------------------------------ report */
static void report(void) {
  double seconds = (double)(t_measure_end - t_measure_start) / 1e9;
  double rate = seconds > 0 ? (double)measured_messages / seconds : 0;
  double client_s = (double)(at_end.client_us - at_start.client_us) / 1e6;
  double client_us = measured_messages ? client_s * 1e6 / (double)measured_messages : 0;
  double client_pct = seconds > 0 ? client_s / seconds * 100 : 0;
  double hz = (double)sysconf(_SC_CLK_TCK);
  double server_us = -1, server_pct = -1, other_pct = -1, client_other_pct = -1;
  if (opt.server_pid_count && cpu_read_ok && measured_messages && seconds > 0) {
    double st = (double)(at_end.server_ticks - at_start.server_ticks) / hz;
    server_us = st * 1e6 / (double)measured_messages;
    server_pct = st / seconds * 100;
    if (opt.server_cpu >= 0) {
      other_pct = ((double)(at_end.server_core - at_start.server_core) / hz - st) / seconds * 100;
      if (other_pct < 0)
        other_pct = 0;
    }
  }
  if (opt.client_cpu >= 0 && cpu_read_ok && seconds > 0) {
    client_other_pct = ((double)(at_end.client_core - at_start.client_core) / hz - client_s) / seconds * 100;
    if (client_other_pct < 0)
      client_other_pct = 0;
  }
  printf("ws_load: %d connection(s), %zu-byte %s messages, deflate %s%s\n", opt.connections, opt.size,
         opt.text ? "text" : "binary", negotiated_deflate > 0 ? "negotiated: " : opt.deflate ? "offered, refused" : "off",
         negotiated_deflate > 0 ? negotiated_params : "");
  printf("  %" PRIu64 " echoes in %.2f s: %.0f msg/s\n", measured_messages, seconds, rate);
  printf("  latency: p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms\n", hist_percentile_ms(0.50),
         hist_percentile_ms(0.99), hist_percentile_ms(0.999), (double)hist_max / 1e6);
  printf("  client CPU: %.2f us/msg (%.0f%% of a core)\n", client_us, client_pct);
  if (server_us >= 0)
    printf("  server CPU: %.2f us/msg (%.0f%% of a core)\n", server_us, server_pct);
  if (other_pct >= 0)
    printf("  CPU %d (server) other use: %.0f%%\n", opt.server_cpu, other_pct);
  if (client_other_pct >= 0)
    printf("  CPU %d (client) other use: %.0f%%\n", opt.client_cpu, client_other_pct);
  printf("RESULT ok=1 connections=%d size=%zu type=%s deflate=%d messages=%" PRIu64 " seconds=%.3f "
         "msgs_per_s=%.0f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f client_cpu_us_per_msg=%.3f "
         "client_cpu_percent=%.0f server_cpu_us_per_msg=%.3f server_cpu_percent=%.0f core_other_percent=%.0f "
         "client_core_other_percent=%.0f\n",
         opt.connections, opt.size, opt.text ? "text" : "binary", negotiated_deflate > 0, measured_messages, seconds,
         rate, hist_percentile_ms(0.50), hist_percentile_ms(0.99), hist_percentile_ms(0.999), (double)hist_max / 1e6,
         client_us, client_pct, server_us, server_pct, other_pct, client_other_pct);
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  loop = uv_default_loop();
  conns = calloc((size_t)opt.connections, sizeof *conns);
  if (!conns) {
    fprintf(stderr, "ws_load: out of memory\n");
    return EXIT_FAIL;
  }
  for (int i = 0; i < opt.connections; i++)
    conns[i].index = i;
  /* No SIGPIPE: a write to a connection the server dropped is an error to report. */
  signal(SIGPIPE, SIG_IGN);
  uv_timer_init(loop, &tick_timer);
  uv_timer_init(loop, &phase_timer);
  uv_timer_init(loop, &hard_timer);
  uv_signal_init(loop, &sigterm);
  uv_signal_init(loop, &sigint);
  uv_signal_start(&sigterm, on_signal, SIGTERM);
  uv_signal_start(&sigint, on_signal, SIGINT);
  /* Signals alone do not keep the loop running: it ends when the connections are done. */
  uv_unref((uv_handle_t *)&sigterm);
  uv_unref((uv_handle_t *)&sigint);
  uv_timer_start(&tick_timer, on_tick, TICK_MS, TICK_MS);
  /* The whole run's limit: connecting and closing may each take up to --timeout. */
  if (hard_limit_s == 0) /* --time-limit not given */
    hard_limit_s = opt.mode == MODE_HOLD       ? opt.hold_s + 2 * opt.timeout_s
                   : opt.mode == MODE_DURATION ? opt.warmup_s + opt.duration_s + 2 * opt.timeout_s + HARD_LIMIT_MARGIN_S
                                               : 2 * opt.timeout_s + HARD_LIMIT_MARGIN_S + (double)opt.messages * 0.01;
  uv_timer_start(&hard_timer, on_hard_limit, (uint64_t)(hard_limit_s * 1000), 0);
  open_more();
  uv_run(loop, UV_RUN_DEFAULT);

  /* Close the timers and signal handles too, so that the loop closes with nothing left. */
  uv_close((uv_handle_t *)&tick_timer, NULL);
  uv_close((uv_handle_t *)&phase_timer, NULL);
  uv_close((uv_handle_t *)&hard_timer, NULL);
  uv_close((uv_handle_t *)&sigterm, NULL);
  uv_close((uv_handle_t *)&sigint, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  if (exit_status == 0) {
    if (opt.mode == MODE_HOLD) {
      printf("negotiated: %s\n", negotiated_deflate > 0 ? negotiated_params : "-");
      printf("RESULT ok=1 connections=%d deflate=%d\n", open_count, negotiated_deflate > 0);
    }
    else
      report();
  }
  for (int i = 0; i < opt.connections; i++) {
    conn *c = &conns[i];
    if (c->deflate) {
      deflateEnd(&c->zdef);
      inflateEnd(&c->zinf);
    }
    free(c->in.data), free(c->msg.data), free(c->plain.data), free(c->payload.data);
    free(c->queue.data), free(c->writing.data), free(c->zout.data);
  }
  free(conns);
  uv_loop_close(loop);
  return exit_status;
}
