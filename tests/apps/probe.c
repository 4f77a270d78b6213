/*
 * probe.c - a native test app for the integration tests (tests/integration).
 *
 * Each endpoint, chosen by scope->path past root_path, exercises one part of the ABI so that a test can see
 * from the outside what the server did. It works under worker_class = event and thread:
 * per-request state lives in a table keyed by the request handle and guarded by a mutex,
 * because under the thread class callbacks of different requests run on different threads.
 *
 *   /scope...           reads the body, answers a JSON dump of the scope (+ body_length)
 *   /echo               reads the body, answers it with a content-length
 *   /chunks?n=N&size=S  answers N body parts without a content-length (chunked for HTTP/1.1);
 *                       part i is "chunk i\n", or S bytes of the letter 'a' + i % 26
 *   /status?code=NNN    answers that status with the body "x" (no content-length)
 *   /ignore-body        answers 200 "ok" at once without reading the body
 *   /no-response        calls done() without a response: the server must send 500
 *   /partial            starts a content-length 100 response, sends 10 bytes, calls done()
 *   /bad-header?kind=K  tries a response.start the server must refuse (K: cr, lf, crlf, nul,
 *                       name, name-empty, status), then answers 200 "refused:<rc>"
 *   /order              sends a body before the start, then answers 200 "order:<rc>"
 *   /sleep?ms=N         blocks N ms in call (only sensible with worker_class = thread)
 *   /receive-twice      calls receive twice in a row, then answers 200 "twice:<rc>"
 *   /pid                answers the worker process's pid as text (getpid())
 *   /spin?ms=N          busy-loops N ms on the CPU (no sleep, no syscall but clock_gettime),
 *                       then answers 200 "spun": a hung worker for the heartbeat timeout
 *   /log?QUERY          writes "probe-log QUERY" to the error log (warning), answers "logged"
 *   /grow?mb=N          allocates N MiB, writes every page (so that it is resident) and never
 *                       frees it: a leaking app, for max_worker_memory; answers "grew N"
 *   /impostor           writes "hb 1 2 3\n" (the text protocol of old releases) on the worker's
 *                       channel to its master (the Unix socket whose peer is the parent
 *                       process), as a worker gone wrong could; answers "wrote N", or 500
 *
 * Lifespan: startup stores the state "probe-state", then blocks ~300 ms before completing so
 * that tests can prove no request is served before startup completed (PROBE_STARTUP_DELAY_MS
 * overrides the delay; the tests set 0 where it does not matter). PROBE_LIFESPAN_FAIL=1
 * makes startup fail, and so does PROBE_LIFESPAN_FAIL_FILE=PATH while file PATH exists (what the
 * app's startup needs is down for a while); PROBE_SHUTDOWN_FILE names a file that receives "shutdown" when the
 * lifespan shutdown runs; PROBE_SHUTDOWN_DIR names a folder where each worker process writes
 * "shutdown.<pid>" when its lifespan shutdown runs (several workers, one file each).
 *
 * Extra entry symbols for configuration tests: probe_entry_null refuses to load (returns
 * NULL) and probe_entry_bad_abi announces an ABI version the server cannot know.
 */
#include <asgid/asgid.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const asgid_server_api *api;

/* The lifespan state: a static string, so scope->state can be printed as one. */
static char probe_state[] = "probe-state";

/* ------------------------------------------------------------------------ small buffers */

typedef struct buf {
  char *data;
  size_t len;
  size_t cap;
} buf;

static int buf_reserve(buf *b, size_t extra) {
  if (b->len + extra <= b->cap)
    return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra)
    cap *= 2;
  char *data = realloc(b->data, cap);
  if (data == NULL)
    return -1;
  b->data = data;
  b->cap = cap;
  return 0;
}

static void buf_add(buf *b, const void *data, size_t len) {
  if (len == 0 || buf_reserve(b, len) != 0)
    return;
  memcpy(b->data + b->len, data, len);
  b->len += len;
}

static void buf_str(buf *b, const char *s) { buf_add(b, s, strlen(s)); }

static void buf_printf(buf *b, const char *fmt, ...) ASGID_PRINTF_FORMAT(2, 3);

static void buf_printf(buf *b, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0)
    buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string; every byte outside printable ASCII becomes \u00XX so that the test can map
 * the text back to the exact bytes (Python: .encode("latin-1")). */
static void buf_json_string(buf *b, const char *s, size_t len) {
  buf_str(b, "\"");
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      buf_add(b, esc, 2);
    } else if (c < 0x20 || c > 0x7e) {
      buf_printf(b, "\\u%04x", c);
    } else {
      buf_add(b, &s[i], 1);
    }
  }
  buf_str(b, "\"");
}

static void buf_json_cstring(buf *b, const char *s) {
  if (s == NULL)
    buf_str(b, "null");
  else
    buf_json_string(b, s, strlen(s));
}

static void buf_json_address(buf *b, const asgid_address *a) {
  if (!a->present) {
    buf_str(b, "null");
    return;
  }
  buf_str(b, "[");
  buf_json_cstring(b, a->host);
  if (a->port < 0)
    buf_str(b, ", null]"); /* a Unix socket: ASGI's (path, None) */
  else
    buf_printf(b, ", %d]", a->port);
}

/* ------------------------------------------------------------------------ request state */

typedef enum kind {
  K_SCOPE,
  K_ECHO,
  K_CHUNKS,
  K_STATUS,
  K_IGNORE_BODY,
  K_NO_RESPONSE,
  K_PARTIAL,
  K_BAD_HEADER,
  K_ORDER,
  K_SLEEP,
  K_RECEIVE_TWICE,
  K_PID,
  K_SPIN,
  K_LOG,
  K_GROW,
  K_IMPOSTOR,
  K_NOT_FOUND,
  K_LIFESPAN
} kind;

typedef struct probe_req {
  asgid_request *req;
  kind kind;
  buf body;         /* the request body received so far */
  buf scope_json;   /* the scope dump, built in call (the scope dies when call returns) */
  int rc;           /* a return code the response reports */
  struct probe_req *next;
} probe_req;

/* All live requests. A list is enough: tests keep only a handful in flight. */
static probe_req *live;
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;

static probe_req *probe_req_new(asgid_request *req, kind k) {
  probe_req *p = calloc(1, sizeof *p);
  if (p == NULL)
    return NULL;
  p->req = req;
  p->kind = k;
  pthread_mutex_lock(&live_lock);
  p->next = live;
  live = p;
  pthread_mutex_unlock(&live_lock);
  return p;
}

static probe_req *probe_req_find(asgid_request *req) {
  pthread_mutex_lock(&live_lock);
  probe_req *p = live;
  while (p != NULL && p->req != req)
    p = p->next;
  pthread_mutex_unlock(&live_lock);
  return p;
}

/* Forgets the state, then calls done: after done the handle may be reused by the server for
 * another request, so it must leave the table first. */
static void probe_req_finish(probe_req *p) {
  asgid_request *req = p->req;
  pthread_mutex_lock(&live_lock);
  for (probe_req **pp = &live; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == p) {
      *pp = p->next;
      break;
    }
  }
  pthread_mutex_unlock(&live_lock);
  free(p->body.data);
  free(p->scope_json.data);
  free(p);
  api->done(req);
}

/* ------------------------------------------------------------------------ helpers */

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* Burns the CPU for ms milliseconds without giving the event loop a chance to run: the only
 * call in the loop is clock_gettime (a vDSO call on Linux, no real syscall). */
static void spin_ms(long ms) {
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  volatile unsigned long sink = 0;
  for (;;) {
    for (int i = 0; i < 10000; i++)
      sink += (unsigned long)i;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsed = (now.tv_sec - start.tv_sec) * 1000L + (now.tv_nsec - start.tv_nsec) / 1000000L;
    if (elapsed >= ms)
      break;
  }
}

/* The value of key in a query string ("a=1&b=2"), or def. */
static long query_long(const asgid_scope *scope, const char *key, long def) {
  const char *q = scope->query_string;
  size_t qlen = scope->query_string_len, klen = strlen(key);
  size_t i = 0;
  while (i < qlen) {
    size_t end = i;
    while (end < qlen && q[end] != '&')
      end++;
    if (end - i > klen && memcmp(q + i, key, klen) == 0 && q[i + klen] == '=')
      return strtol(q + i + klen + 1, NULL, 10);
    i = end + 1;
  }
  return def;
}

/* Copies the value of key into out (NUL-terminated), or leaves out empty. */
static void query_str(const asgid_scope *scope, const char *key, char *out, size_t outlen) {
  const char *q = scope->query_string;
  size_t qlen = scope->query_string_len, klen = strlen(key);
  out[0] = '\0';
  size_t i = 0;
  while (i < qlen) {
    size_t end = i;
    while (end < qlen && q[end] != '&')
      end++;
    if (end - i > klen && memcmp(q + i, key, klen) == 0 && q[i + klen] == '=') {
      size_t n = end - (i + klen + 1);
      if (n >= outlen)
        n = outlen - 1;
      memcpy(out, q + i + klen + 1, n);
      out[n] = '\0';
      return;
    }
    i = end + 1;
  }
}

/* The route: the path past root_path, which path starts with (as a router strips a mount's
 * prefix). */
static const char *route_of(const asgid_scope *scope, size_t *len) {
  size_t skip = scope->root_path_len <= scope->path_len &&
                        memcmp(scope->path, scope->root_path, scope->root_path_len) == 0
                    ? scope->root_path_len
                    : 0;
  *len = scope->path_len - skip;
  return scope->path + skip;
}

static int path_is(const asgid_scope *scope, const char *path) {
  size_t len;
  const char *route = route_of(scope, &len);
  return len == strlen(path) && memcmp(route, path, len) == 0;
}

static int send_start(asgid_request *req, int status, const asgid_header *headers,
                      size_t count) {
  asgid_event ev = {.type = ASGID_HTTP_RESPONSE_START};
  ev.u.response_start.status = status;
  ev.u.response_start.headers = headers;
  ev.u.response_start.header_count = count;
  return api->send(req, &ev);
}

static int send_body(asgid_request *req, const void *data, size_t len, int more) {
  asgid_event ev = {.type = ASGID_HTTP_RESPONSE_BODY};
  ev.u.response_body.body = data;
  ev.u.response_body.body_len = len;
  ev.u.response_body.more_body = more;
  return api->send(req, &ev);
}

/* A complete response with a content-length. */
static void respond(asgid_request *req, int status, const char *content_type, const void *body,
                    size_t len) {
  char length[32];
  snprintf(length, sizeof length, "%zu", len);
  asgid_header headers[2] = {
      {"content-type", 12, content_type, strlen(content_type)},
      {"content-length", 14, length, strlen(length)},
  };
  send_start(req, status, headers, 2);
  send_body(req, body, len, 0);
}

static void respond_text(asgid_request *req, int status, const char *text) {
  respond(req, status, "text/plain", text, strlen(text));
}

/* ------------------------------------------------------------------------ endpoints */

static void build_scope_json(probe_req *p, const asgid_scope *s) {
  buf *b = &p->scope_json;
  buf_str(b, "{\"type\": ");
  buf_json_cstring(b, s->type_name);
  buf_str(b, ", \"asgi_version\": ");
  buf_json_cstring(b, s->asgi_version);
  buf_str(b, ", \"spec_version\": ");
  buf_json_cstring(b, s->spec_version);
  buf_str(b, ", \"http_version\": ");
  buf_json_cstring(b, s->http_version);
  buf_str(b, ", \"method\": ");
  buf_json_cstring(b, s->method);
  buf_str(b, ", \"scheme\": ");
  buf_json_cstring(b, s->scheme);
  buf_str(b, ", \"path\": ");
  buf_json_string(b, s->path, s->path_len);
  buf_str(b, ", \"raw_path\": ");
  buf_json_string(b, s->raw_path, s->raw_path_len);
  buf_str(b, ", \"query_string\": ");
  buf_json_string(b, s->query_string, s->query_string_len);
  buf_str(b, ", \"root_path\": ");
  buf_json_string(b, s->root_path, s->root_path_len);
  buf_str(b, ", \"headers\": [");
  for (size_t i = 0; i < s->header_count; i++) {
    const asgid_header *h = &s->headers[i];
    buf_str(b, i ? ", [" : "[");
    buf_json_string(b, h->name, h->name_len);
    buf_str(b, ", ");
    buf_json_string(b, h->value, h->value_len);
    buf_str(b, "]");
  }
  buf_str(b, "], \"client\": ");
  buf_json_address(b, &s->client);
  buf_str(b, ", \"server\": ");
  buf_json_address(b, &s->server);
  buf_str(b, ", \"state\": ");
  /* Only this app ever sets the state, and always to a NUL-terminated string. */
  buf_json_cstring(b, (const char *)s->state);
}

/* The whole body has arrived: answer for the endpoints that read it. */
static void body_complete(probe_req *p) {
  char text[64];
  switch (p->kind) {
  case K_SCOPE:
    buf_printf(&p->scope_json, ", \"body_length\": %zu}", p->body.len);
    respond(p->req, 200, "application/json", p->scope_json.data, p->scope_json.len);
    break;
  case K_ECHO:
    respond(p->req, 200, "application/octet-stream", p->body.data, p->body.len);
    break;
  case K_RECEIVE_TWICE:
    snprintf(text, sizeof text, "twice:%d", p->rc);
    respond_text(p->req, 200, text);
    break;
  default:
    respond_text(p->req, 500, "probe: unexpected body");
    break;
  }
  probe_req_finish(p);
}

/* Asks for the next body chunk; a receive that fails delivers nothing, so finish here. */
static void receive_next(probe_req *p) {
  int rc = api->receive(p->req);
  if (rc != ASGID_OK) {
    api->log(ASGID_LOG_WARNING, "probe: receive failed: %d", rc);
    probe_req_finish(p);
  }
}

static void do_chunks(asgid_request *req, const asgid_scope *scope) {
  long n = query_long(scope, "n", 3);
  long size = query_long(scope, "size", 0);
  asgid_header ct = {"content-type", 12, "text/plain", 10};
  send_start(req, 200, &ct, 1);
  char *part = size > 0 ? malloc((size_t)size) : NULL;
  for (long i = 0; i < n; i++) {
    int rc;
    if (part != NULL) {
      memset(part, 'a' + (int)(i % 26), (size_t)size);
      rc = send_body(req, part, (size_t)size, 1);
    } else {
      char text[32];
      int len = snprintf(text, sizeof text, "chunk %ld\n", i);
      rc = send_body(req, text, (size_t)len, 1);
    }
    if (rc == ASGID_E_DISCONNECTED)
      break; /* the client has gone: stop producing */
  }
  free(part);
  send_body(req, NULL, 0, 0);
}

static void do_status(asgid_request *req, const asgid_scope *scope) {
  int code = (int)query_long(scope, "code", 200);
  asgid_header ct = {"content-type", 12, "text/plain", 10};
  send_start(req, code, &ct, 1);
  send_body(req, "x", 1, 0);
}

static void do_partial(asgid_request *req) {
  asgid_header headers[2] = {{"content-type", 12, "text/plain", 10},
                             {"content-length", 14, "100", 3}};
  send_start(req, 200, headers, 2);
  send_body(req, "0123456789", 10, 1);
  /* then done() by the caller, with 90 bytes missing */
}

static void do_bad_header(asgid_request *req, const asgid_scope *scope) {
  char which[32];
  query_str(scope, "kind", which, sizeof which);
  /* Each bad header would, if passed through, show up as an "x-injected" header line in the
   * response (or break its framing), which the test looks for. */
  const char *name = "x-probe", *value = "fine";
  size_t value_len = 0; /* 0: strlen(value) */
  int status = 200;
  if (strcmp(which, "cr") == 0) {
    value = "a\rx-injected: cr";
  } else if (strcmp(which, "lf") == 0) {
    value = "a\nx-injected: lf";
  } else if (strcmp(which, "crlf") == 0) {
    value = "a\r\nx-injected: crlf";
  } else if (strcmp(which, "nul") == 0) {
    value = "a\0\r\nx-injected: nul"; /* the length counts the bytes after the NUL */
    value_len = 19;
  } else if (strcmp(which, "name") == 0) {
    name = "x-injected: name\r\nx-probe";
  } else if (strcmp(which, "name-space") == 0) {
    name = "x injected";
  } else if (strcmp(which, "name-empty") == 0) {
    name = "";
  } else if (strcmp(which, "status") == 0) {
    status = 1000;
  }
  asgid_header h = {name, strlen(name), value, value_len ? value_len : strlen(value)};
  int rc = send_start(req, status, &h, 1);
  char text[32];
  snprintf(text, sizeof text, "refused:%d", rc);
  respond_text(req, 200, text);
}

static void do_order(asgid_request *req) {
  int rc = send_body(req, "too early", 9, 1);
  char text[32];
  snprintf(text, sizeof text, "order:%d", rc);
  respond_text(req, 200, text);
}

/* The blocks /grow allocated, each holding a pointer to the one before: they stay reachable,
 * so LeakSanitizer does not report them at exit. */
static void *grown;
static pthread_mutex_t grown_lock = PTHREAD_MUTEX_INITIALIZER;

/* The worker's resident memory grows by mb MiB and stays grown, as with a leaking app. */
static void do_grow(asgid_request *req, const asgid_scope *scope) {
  long mb = query_long(scope, "mb", 1);
  char *block = mb > 0 ? malloc((size_t)mb << 20) : NULL;
  if (block != NULL) {
    memset(block, 1, (size_t)mb << 20);
    pthread_mutex_lock(&grown_lock);
    memcpy(block, &grown, sizeof grown);
    grown = block;
    pthread_mutex_unlock(&grown_lock);
  }
  char text[48];
  snprintf(text, sizeof text, block != NULL ? "grew %ld" : "no memory for %ld", mb);
  respond_text(req, block != NULL ? 200 : 500, text);
}

/* The worker's channel to its master: the socket whose peer is the parent process. */
static int master_channel(void) {
  for (int fd = 3; fd < 4096; fd++) {
    struct ucred peer;
    socklen_t len = sizeof peer;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0 && peer.pid == getppid())
      return fd;
  }
  return -1;
}

static void do_impostor(asgid_request *req) {
  static const char line[] = "hb 1 2 3\n";
  int fd = master_channel();
  ssize_t n = fd >= 0 ? write(fd, line, sizeof line - 1) : -1;
  char text[32];
  snprintf(text, sizeof text, "wrote %zd", n);
  respond_text(req, n > 0 ? 200 : 500, text);
}

/* ------------------------------------------------------------------------ lifespan */

static void lifespan_event(probe_req *p, const asgid_event *ev) {
  asgid_event out = {0};
  if (ev->type == ASGID_LIFESPAN_STARTUP) {
    api->set_state(p->req, probe_state);
    /* Blocking is fine here: no request is served before startup completes, which is
     * exactly what the delay lets a test observe. */
    const char *delay = getenv("PROBE_STARTUP_DELAY_MS");
    sleep_ms(delay != NULL ? strtol(delay, NULL, 10) : 300);
    const char *fail = getenv("PROBE_LIFESPAN_FAIL");
    const char *fail_file = getenv("PROBE_LIFESPAN_FAIL_FILE");
    if ((fail != NULL && strcmp(fail, "1") == 0) ||
        (fail_file != NULL && fail_file[0] != '\0' && access(fail_file, F_OK) == 0)) {
      out.type = ASGID_LIFESPAN_STARTUP_FAILED;
      out.u.failed.message = "probe: startup failed on purpose (PROBE_LIFESPAN_FAIL)";
      api->send(p->req, &out);
      probe_req_finish(p);
      return;
    }
    out.type = ASGID_LIFESPAN_STARTUP_COMPLETE;
    api->send(p->req, &out);
    receive_next(p); /* wait for lifespan.shutdown */
  } else if (ev->type == ASGID_LIFESPAN_SHUTDOWN) {
    const char *path = getenv("PROBE_SHUTDOWN_FILE");
    if (path != NULL && path[0] != '\0') {
      FILE *f = fopen(path, "w");
      if (f != NULL) {
        fputs("shutdown", f);
        fclose(f);
      }
    }
    const char *dir = getenv("PROBE_SHUTDOWN_DIR");
    if (dir != NULL && dir[0] != '\0') {
      char file[4096];
      snprintf(file, sizeof file, "%s/shutdown.%ld", dir, (long)getpid());
      FILE *f = fopen(file, "w");
      if (f != NULL) {
        fputs("shutdown", f);
        fclose(f);
      }
    }
    out.type = ASGID_LIFESPAN_SHUTDOWN_COMPLETE;
    api->send(p->req, &out);
    probe_req_finish(p);
  }
}

/* ------------------------------------------------------------------------ callbacks */

static kind kind_of(const asgid_scope *s) {
  size_t route_len;
  const char *route = route_of(s, &route_len);
  if (route_len >= 6 && memcmp(route, "/scope", 6) == 0)
    return K_SCOPE;
  if (path_is(s, "/echo"))
    return K_ECHO;
  if (path_is(s, "/chunks"))
    return K_CHUNKS;
  if (path_is(s, "/status"))
    return K_STATUS;
  if (path_is(s, "/ignore-body"))
    return K_IGNORE_BODY;
  if (path_is(s, "/no-response"))
    return K_NO_RESPONSE;
  if (path_is(s, "/partial"))
    return K_PARTIAL;
  if (path_is(s, "/bad-header"))
    return K_BAD_HEADER;
  if (path_is(s, "/order"))
    return K_ORDER;
  if (path_is(s, "/sleep"))
    return K_SLEEP;
  if (path_is(s, "/receive-twice"))
    return K_RECEIVE_TWICE;
  if (path_is(s, "/pid"))
    return K_PID;
  if (path_is(s, "/spin"))
    return K_SPIN;
  if (path_is(s, "/log"))
    return K_LOG;
  if (path_is(s, "/grow"))
    return K_GROW;
  if (path_is(s, "/impostor"))
    return K_IMPOSTOR;
  return K_NOT_FOUND;
}

static int probe_call(void *app_data, asgid_request *req, const asgid_scope *scope) {
  (void)app_data;
  if (scope->type == ASGID_SCOPE_LIFESPAN) {
    probe_req *p = probe_req_new(req, K_LIFESPAN);
    if (p == NULL)
      return ASGID_E_NOMEM;
    receive_next(p);
    return ASGID_OK;
  }
  if (scope->type != ASGID_SCOPE_HTTP)
    return ASGID_E_UNSUPPORTED;

  kind k = kind_of(scope);
  switch (k) {
  case K_SCOPE:
  case K_ECHO:
  case K_RECEIVE_TWICE: {
    /* These read the body: keep state until its last chunk. */
    probe_req *p = probe_req_new(req, k);
    if (p == NULL) {
      api->done(req);
      return ASGID_OK;
    }
    if (k == K_SCOPE)
      build_scope_json(p, scope);
    if (k == K_RECEIVE_TWICE) {
      if (api->receive(req) != ASGID_OK) {
        probe_req_finish(p);
        return ASGID_OK;
      }
      p->rc = api->receive(req); /* must be ASGID_E_INVALID: one is already outstanding */
      return ASGID_OK;
    }
    receive_next(p);
    return ASGID_OK;
  }
  case K_CHUNKS:
    do_chunks(req, scope);
    break;
  case K_STATUS:
    do_status(req, scope);
    break;
  case K_IGNORE_BODY:
    respond_text(req, 200, "ok");
    break;
  case K_NO_RESPONSE:
    break;
  case K_PARTIAL:
    do_partial(req);
    break;
  case K_BAD_HEADER:
    do_bad_header(req, scope);
    break;
  case K_ORDER:
    do_order(req);
    break;
  case K_SLEEP:
    sleep_ms(query_long(scope, "ms", 100));
    respond_text(req, 200, "slept");
    break;
  case K_PID: {
    char text[32];
    snprintf(text, sizeof text, "%ld", (long)getpid());
    respond_text(req, 200, text);
    break;
  }
  case K_SPIN:
    spin_ms(query_long(scope, "ms", 100));
    respond_text(req, 200, "spun");
    break;
  case K_LOG:
    api->log(ASGID_LOG_WARNING, "probe-log %.*s", (int)scope->query_string_len,
             scope->query_string);
    respond_text(req, 200, "logged");
    break;
  case K_GROW:
    do_grow(req, scope);
    break;
  case K_IMPOSTOR:
    do_impostor(req);
    break;
  default:
    respond_text(req, 404, "probe: no such endpoint");
    break;
  }
  api->done(req);
  return ASGID_OK;
}

static void probe_on_event(void *app_data, asgid_request *req, const asgid_event *event) {
  (void)app_data;
  probe_req *p = probe_req_find(req);
  if (p == NULL) {
    api->log(ASGID_LOG_ERROR, "probe: event %d for an unknown request", (int)event->type);
    return;
  }
  if (p->kind == K_LIFESPAN) {
    lifespan_event(p, event);
    return;
  }
  if (event->type == ASGID_HTTP_DISCONNECT) {
    probe_req_finish(p); /* the client has gone before the body ended */
    return;
  }
  if (event->type != ASGID_HTTP_REQUEST)
    return;
  buf_add(&p->body, event->u.request.body, event->u.request.body_len);
  if (event->u.request.more_body)
    receive_next(p);
  else
    body_complete(p);
}

static const asgid_app probe_app = {
    .abi_version = ASGID_ABI_VERSION,
    .struct_size = sizeof(asgid_app),
    .name = "probe",
    .app_data = NULL,
    .call = probe_call,
    .on_event = probe_on_event,
    .destroy = NULL,
};

ASGID_EXPORT const asgid_app *asgid_app_entry(const asgid_server_api *server_api);
ASGID_EXPORT const asgid_app *asgid_app_entry(const asgid_server_api *server_api) {
  api = server_api;
  return &probe_app;
}

/* Refuses to load, as an app does when its own setup fails. */
ASGID_EXPORT const asgid_app *probe_entry_null(const asgid_server_api *server_api);
ASGID_EXPORT const asgid_app *probe_entry_null(const asgid_server_api *server_api) {
  server_api->log(ASGID_LOG_ERROR, "probe: refusing to load on purpose");
  return NULL;
}

/* Claims an ABI version no server has, to check the version is compared. */
static const asgid_app probe_bad_abi_app = {
    .abi_version = 999,
    .struct_size = sizeof(asgid_app),
    .name = "probe-bad-abi",
    .call = probe_call,
    .on_event = probe_on_event,
};

ASGID_EXPORT const asgid_app *probe_entry_bad_abi(const asgid_server_api *server_api);
ASGID_EXPORT const asgid_app *probe_entry_bad_abi(const asgid_server_api *server_api) {
  api = server_api;
  return &probe_bad_abi_app;
}
