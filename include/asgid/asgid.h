/*
 * asgid.h - the public application ABI of asgid, version 1.
 *
 * This is the only header a native app includes. An app is a shared library that exports one
 * entry function (default name "asgid_app_entry", see asgid_app_entry_fn). asgid loads it with
 * uv_dlopen from an app spec "path/to/app.so[:symbol]", calls the entry function with a table of
 * server functions (asgid_server_api) and receives a table of app callbacks (asgid_app). Apps
 * never link against the asgid binary: every server service is reached through the table.
 *
 * The model is ASGI 3.0 (https://asgi.readthedocs.io), expressed in C:
 *   ASGI                                 asgid
 *   app(scope, receive, send)            app->call(app_data, req, scope)
 *   await receive()                      api->receive(req), answered by app->on_event(...)
 *   await send(message)                  api->send(req, &event)
 *   the app coroutine returns            api->done(req)
 * Event names and fields are ASGI's: http.request {body, more_body}, http.response.start
 * {status, headers}, http.response.body {body, more_body}, http.disconnect, lifespan.startup,
 * lifespan.startup.complete / .failed {message}, lifespan.shutdown, lifespan.shutdown.complete
 * / .failed {message}, websocket.connect, websocket.accept {subprotocol, headers},
 * websocket.receive / .send {bytes or text}, websocket.close {code, reason},
 * websocket.disconnect {code, reason}, and the denial extension's
 * websocket.http.response.start / .body. docs/abi.md lists every event and field.
 *
 * Versioning: ASGID_ABI_VERSION is raised on any incompatible change. The server passes its
 * version in api->abi_version; the app returns the version it was compiled against in
 * app->abi_version. asgid refuses to load an app whose version differs from its own, with a
 * message naming both. Tables only ever grow at the end within one version; each carries its
 * struct size so that a newer peer can tell which members exist.
 *
 * Threading: which thread runs the app callbacks is chosen by the worker class.
 *   - "event": every callback runs on the worker's event loop thread. Never block in a
 *     callback. Server functions must be called from that thread.
 *   - "thread": callbacks run on a pool of `threads` threads; callbacks for one request never
 *     run concurrently with each other. Server functions may be called from any thread, at
 *     any time while the request handle is valid.
 * Callbacks are never invoked from inside a server function (no re-entrancy): an event that a
 * receive() call asks for is always delivered by a later, separate on_event call.
 *
 * Ownership: memory the server passes to a callback (scope, events, their strings and bodies)
 * is owned by the server and valid only until that callback returns; copy what you keep.
 * Memory the app passes to a server function is owned by the app; the server copies what it
 * needs before the function returns.
 *
 * Errors: server functions return 0 on success or a negative ASGID_E* code; they never call a
 * callback when they fail.
 */
#ifndef ASGID_ASGID_H
#define ASGID_ASGID_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ASGID_ABI_VERSION 1u

/* The symbol looked up when the app spec names none. */
#define ASGID_APP_ENTRY_SYMBOL "asgid_app_entry"

#if defined(_WIN32)
#define ASGID_EXPORT __declspec(dllexport)
#else
#define ASGID_EXPORT __attribute__((visibility("default")))
#endif

/* printf-style format checking (the log function): the server formats with C99's conversions
 * (%zu, %lld) on every platform, also where MinGW's GCC would check the Microsoft runtime's. */
#if defined(__MINGW32__)
#define ASGID_PRINTF_FORMAT(format_index, first_arg) \
  __attribute__((format(gnu_printf, format_index, first_arg)))
#elif defined(__GNUC__)
#define ASGID_PRINTF_FORMAT(format_index, first_arg) \
  __attribute__((format(printf, format_index, first_arg)))
#else
#define ASGID_PRINTF_FORMAT(format_index, first_arg)
#endif

/* Error codes returned by server functions (negative, libuv style). */
enum {
  ASGID_OK = 0,
  ASGID_E_INVALID = -1,      /* bad argument, or an event not valid in this state (ASGI's
                                RuntimeError: body before start, start twice, bad header...) */
  ASGID_E_DISCONNECTED = -2, /* the client has gone; the event was discarded */
  ASGID_E_NOMEM = -3,        /* out of memory */
  ASGID_E_UNSUPPORTED = -4   /* returned by app->call for a scope type it does not handle */
};

/* Log levels for api->log. */
typedef enum asgid_log_level {
  ASGID_LOG_DEBUG = 0,
  ASGID_LOG_INFO = 1,
  ASGID_LOG_WARNING = 2,
  ASGID_LOG_ERROR = 3
} asgid_log_level;

/* A header: a name and a value as byte strings (not NUL-terminated; lengths given).
 * In a scope, names are lowercased and headers keep the client's order and duplicates. */
typedef struct asgid_header {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
} asgid_header;

/* A socket address as ASGI gives it: (host, port) for TCP; for a Unix socket, host is the
 * socket path and port is -1 (ASGI: (path, None)). present == 0 means ASGI's None. */
typedef struct asgid_address {
  int present;
  const char *host; /* NUL-terminated */
  int port;
} asgid_address;

typedef enum asgid_scope_type {
  ASGID_SCOPE_HTTP = 0,
  ASGID_SCOPE_WEBSOCKET = 1, /* only for an app whose table sets ASGID_CAP_WEBSOCKET */
  ASGID_SCOPE_LIFESPAN = 2
} asgid_scope_type;

/* ASGI's connection scope. For lifespan scopes only type, type_name and state are set. A
 * websocket scope is an http one with type_name "websocket", spec_version "2.5", scheme "ws",
 * method NULL, and the offered subprotocols.
 * All strings are NUL-terminated and also carry their length (a decoded path may hold %00). */
typedef struct asgid_scope {
  size_t struct_size;        /* sizeof(asgid_scope) as the server built it */
  asgid_scope_type type;
  const char *type_name;     /* "http", "websocket", "lifespan" */
  const char *asgi_version;  /* "3.0" */
  const char *spec_version;  /* "2.3" (http), "2.5" (websocket) */
  const char *http_version;  /* "1.0" or "1.1" ("1.1" for websocket) */
  const char *method;        /* uppercase, e.g. "GET"; NULL for websocket */
  const char *scheme;        /* "http", "ws"; "https", "wss" when a trusted proxy says the
                                client used TLS (forwarded_allow_ips) */
  const char *path;          /* root_path, then the percent-decoded request path (ASGI; as
                                uvicorn >= 0.26); without the query */
  size_t path_len;
  const char *raw_path;      /* the path as sent, without root_path and the query (ASGI;
                                uvicorn >= 0.26 prefixes root_path) */
  size_t raw_path_len;
  const char *query_string;  /* the bytes after '?', not decoded; "" when none */
  size_t query_string_len;
  const char *root_path;     /* the root_path setting; "" when unset */
  size_t root_path_len;
  const asgid_header *headers;
  size_t header_count;
  asgid_address client;
  asgid_address server;
  /* ASGI's lifespan state: the pointer the app stored with api->set_state during lifespan
   * startup, handed to every request scope of this worker (NULL when none). */
  void *state;
  /* Members added after version 1 first shipped: check struct_size before reading them. */
  /* websocket: the subprotocols the client offered, split on commas across all
   * Sec-WebSocket-Protocol lines, whitespace trimmed, in order (NUL-terminated strings). */
  const char *const *subprotocols;
  size_t subprotocol_count;
} asgid_scope;

typedef enum asgid_event_type {
  /* server -> app (delivered to app->on_event after api->receive) */
  ASGID_HTTP_REQUEST = 1,           /* http.request */
  ASGID_HTTP_DISCONNECT = 2,        /* http.disconnect */
  ASGID_LIFESPAN_STARTUP = 3,       /* lifespan.startup */
  ASGID_LIFESPAN_SHUTDOWN = 4,      /* lifespan.shutdown */
  ASGID_WEBSOCKET_CONNECT = 5,      /* websocket.connect */
  ASGID_WEBSOCKET_RECEIVE = 6,      /* websocket.receive: u.websocket_message */
  ASGID_WEBSOCKET_DISCONNECT = 7,   /* websocket.disconnect: u.websocket_close */
  /* app -> server (passed to api->send) */
  ASGID_HTTP_RESPONSE_START = 10,   /* http.response.start */
  ASGID_HTTP_RESPONSE_BODY = 11,    /* http.response.body */
  ASGID_LIFESPAN_STARTUP_COMPLETE = 12,
  ASGID_LIFESPAN_STARTUP_FAILED = 13,
  ASGID_LIFESPAN_SHUTDOWN_COMPLETE = 14,
  ASGID_LIFESPAN_SHUTDOWN_FAILED = 15,
  ASGID_WEBSOCKET_ACCEPT = 16,      /* websocket.accept: u.websocket_accept */
  ASGID_WEBSOCKET_SEND = 17,        /* websocket.send: u.websocket_message */
  ASGID_WEBSOCKET_CLOSE = 18,       /* websocket.close: u.websocket_close */
  ASGID_WEBSOCKET_HTTP_RESPONSE_START = 19, /* websocket.http.response.start: u.response_start */
  ASGID_WEBSOCKET_HTTP_RESPONSE_BODY = 20   /* websocket.http.response.body: u.response_body */
} asgid_event_type;

/* One ASGI message. Only the member matching `type` is meaningful. */
typedef struct asgid_event {
  asgid_event_type type;
  union {
    struct { /* http.request: a chunk of the request body */
      const uint8_t *body;
      size_t body_len;
      int more_body; /* 1 while more chunks follow */
    } request;
    struct { /* http.response.start */
      int status;
      const asgid_header *headers;
      size_t header_count;
    } response_start;
    struct { /* http.response.body */
      const uint8_t *body;
      size_t body_len;
      int more_body; /* 0 ends the response */
    } response_body;
    struct { /* lifespan.*.failed */
      const char *message; /* NUL-terminated, may be NULL */
    } failed;
    struct { /* websocket.accept */
      const char *subprotocol;     /* NUL-terminated, or NULL for none; one of the offered */
      const asgid_header *headers; /* extra response headers (no sec-websocket-*) */
      size_t header_count;
    } websocket_accept;
    struct { /* websocket.receive, websocket.send: one whole message */
      const uint8_t *data;
      size_t len;
      int text; /* 1: a text message (valid UTF-8), 0: a binary one */
    } websocket_message;
    struct { /* websocket.close (app -> server), websocket.disconnect (server -> app) */
      int code;           /* close: 0 means 1000; disconnect: the client's code, 1005 when
                             its close frame had none, 1006 when the TCP link dropped, 1012
                             when the server stops */
      const char *reason; /* UTF-8, not NUL-terminated; may be NULL when reason_len is 0 */
      size_t reason_len;  /* at most 123 bytes */
    } websocket_close;
  } u;
} asgid_event;

/* One ASGI connection (a request, or the lifespan). Opaque. Valid from the app->call that
 * introduces it until the app calls api->done on it. */
typedef struct asgid_request asgid_request;

/* Server functions, handed to the entry function. The table outlives the app. */
typedef struct asgid_server_api {
  uint32_t abi_version; /* ASGID_ABI_VERSION of the server */
  size_t struct_size;   /* sizeof(asgid_server_api) as the server built it */
  const char *server_version; /* e.g. "asgid/0.1.0" */

  /* ASGI receive(): asks for the next event of req. The event is delivered later by exactly
   * one app->on_event call. At most one receive may be outstanding per request: a second
   * call before the event arrived returns ASGID_E_INVALID. Asking for the body is what lets
   * the server read it: until then the request body stays unread in the kernel (and
   * "Expect: 100-continue" is answered on the first receive). After the last body chunk
   * the next event is http.disconnect, delivered once the response is complete or the
   * client has gone. Thread: see the header comment. */
  int (*receive)(asgid_request *req);

  /* ASGI send(): passes an app -> server event. The server copies headers and body before
   * returning. body may be NULL when body_len is 0. ASGID_E_INVALID for an event out of
   * order (body before start, anything after the final body), a status outside 200..999 (a
   * 1xx is not a final response, RFC 9110 §15.2), or a header name or value holding CR, LF
   * or NUL (or a name that is not an HTTP token). ASGID_E_DISCONNECTED once the client has
   * gone (the app may ignore it).
   * websocket: before accept, websocket.accept (its subprotocol one of the scope's, its
   * headers checked as response headers and holding no sec-websocket-*), websocket.close
   * (the client gets 403) or the denial websocket.http.response.start / .body (until
   * more_body is 0); accept may come before the app received websocket.connect. After
   * accept, websocket.send (text must be valid UTF-8) and websocket.close (code 0, meaning
   * 1000, or one of 1000..1003, 1007..1014, 3000..4999; reason at most 123 bytes of UTF-8).
   * Anything after close, or once the client has gone: ASGID_E_DISCONNECTED. */
  int (*send)(asgid_request *req, const asgid_event *event);

  /* Ends the app's handling of req (ASGI: the app coroutine returned). req is invalid after
   * this call. If no response was started the client gets 500; if the response is
   * incomplete the connection is closed. websocket: after accept without close, the server
   * closes with 1000; before accept without a response, the client gets 403. */
  void (*done)(asgid_request *req);

  /* ASGI lifespan state: during lifespan startup (only on the lifespan request), stores a
   * pointer handed to every later request scope as scope->state. The app owns it. */
  int (*set_state)(asgid_request *req, void *state);

  /* Writes a line to the error log, tagged with the app. printf-style. Any thread. */
  void (*log)(asgid_log_level level, const char *fmt, ...) ASGID_PRINTF_FORMAT(2, 3);

  /* Response flow control, for apps that stream: returns 0 when the bytes req has queued for
   * the client are below the write_buffer_size setting (go on sending), or 1 when they are
   * not: the server then calls app->on_writable(req) once, when they have drained to half of
   * it or the client has gone. Requires app->on_writable. Thread: as receive. */
  int (*wait_writable)(asgid_request *req);

  /* Per-request app data: one pointer the app attaches to req (its own state for this
   * request, typically set in app->call) and reads back in later callbacks, instead of
   * keeping a table from handles to state. NULL until set. The server never looks at it.
   * Valid while req is; the app frees what it points to. Thread: as receive. */
  void (*set_request_data)(asgid_request *req, void *data);
  void *(*request_data)(asgid_request *req);
} asgid_server_api;

/* App callbacks, returned by the entry function. The table must outlive the app. */
typedef struct asgid_app {
  uint32_t abi_version; /* set to ASGID_ABI_VERSION */
  size_t struct_size;   /* set to sizeof(asgid_app) */
  const char *name;     /* for logs */
  void *app_data;       /* passed back to every callback */

  /* ASGI app(scope, receive, send): a new connection. Return 0 to handle it (and call
   * api->done on req later, from this callback or any later one), or ASGID_E_UNSUPPORTED
   * (any non-zero value counts as such) for a scope type the app does not handle: then req is
   * already finished; do not call api->done. With lifespan = auto, ASGID_E_UNSUPPORTED on the lifespan scope means "no
   * lifespan"; with lifespan = on it is an error. */
  int (*call)(void *app_data, asgid_request *req, const asgid_scope *scope);

  /* Delivers the event asked for by api->receive. Required (an app that never receives
   * still provides one). */
  void (*on_event)(void *app_data, asgid_request *req, const asgid_event *event);

  /* Called once when the worker stops, after lifespan shutdown. May be NULL. */
  void (*destroy)(void *app_data);

  /* The answer to api->wait_writable returning 1. May be NULL for apps that never call it.
   * Never runs at the same time as another callback for the same request. */
  void (*on_writable)(void *app_data, asgid_request *req);

  /* Members added after version 1 first shipped (an older app's struct_size does not reach
   * them: the server reads them as 0). */
  /* ASGID_CAP_* bits: scope types and features the app handles. Without
   * ASGID_CAP_WEBSOCKET the app never gets a websocket scope: an Upgrade request is served
   * to it as plain HTTP. */
  unsigned capabilities;
} asgid_app;

#define ASGID_CAP_WEBSOCKET 1u

/* The entry function an app exports (named by the app spec "app.so[:symbol]"). Called once
 * per worker, on the loop thread, before lifespan startup. Return NULL to refuse to load
 * (log why with api->log): the worker then fails to boot. */
typedef const asgid_app *(*asgid_app_entry_fn)(const asgid_server_api *api);

/* The default entry function, declared here so that an app defining it needs no prototype
 * of its own: ASGID_EXPORT const asgid_app *asgid_app_entry(const asgid_server_api *api). */
ASGID_EXPORT const asgid_app *asgid_app_entry(const asgid_server_api *api);

#ifdef __cplusplus
}
#endif

#endif /* ASGID_ASGID_H */
