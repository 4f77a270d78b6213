/*
 * settings_table.h - THE table of asgid's settings.
 *
 * Every setting is one row here, and this row is the only place it is described. The table
 * drives the INI file, the command line, the ASGID_* environment variables, --help,
 * --print-config, --check-config, docs/settings.md and conf/asgid.ini. No setting is parsed
 * anywhere else.
 *
 * X(name, section, kind, default, short_flag, min, max, choices, applies, help)
 *   name       C identifier, INI key, long flag (--name, '_' becomes '-'), and env var
 *              (ASGID_NAME)
 *   section    INI section the key lives in
 *   kind       STR, INT, BOOL, SIZE (bytes: 512, 64k, 1m, 2g), DURATION (milliseconds:
 *              500ms, 30s, 2m, 1h; a bare number is seconds), ENUM (one of choices),
 *              MODE (octal file mode), LIST (repeatable; each occurrence adds one value;
 *              in the environment, values are separated by commas)
 *   default    text parsed exactly like a user's value ("" for none)
 *   short_flag single-letter CLI flag, or 0
 *   min, max   bounds for INT, SIZE and DURATION (in the unit stored)
 *   choices    "a|b|c" for ENUM, NULL otherwise
 *   applies    when a changed value takes effect: RELOAD (a HUP applies it: the master
 *              re-reads it, applies its own part - umask, log files, pidfile, listeners - and
 *              the new workers start with it) or START (only when the master starts: a
 *              restart, or a binary upgrade with USR2; a HUP logs that it waits and keeps the
 *              value in force). START is for what the master cannot redo: sockets it keeps
 *              (reuse_port), the app it imported (preload_app), privileges it dropped (user,
 *              group).
 *   help       one line for --help, the docs and conf/asgid.ini
 */
#ifndef ASGID_SETTINGS_TABLE_H
#define ASGID_SETTINGS_TABLE_H

#define ASGID_SETTINGS_TABLE(X)                                                                 \
  /* [server] listeners and connections */                                                     \
  X(bind, "server", LIST, "127.0.0.1:8000", 'b', 0, 0, NULL, RELOAD,                            \
    "Address to listen on: HOST:PORT (HOST alone: port 8000; :PORT: every IPv4 address, as "   \
    "in gunicorn), [IPV6]:PORT, unix:PATH [mode=0660], fd://N or fd://NAME (systemd) "         \
    "[proxy_protocol]; repeatable")                                                            \
  X(backlog, "server", INT, "2048", 0, 1, 65535, NULL, RELOAD,                                  \
    "Listen queue length of each listening socket")                                            \
  X(reuse_port, "server", BOOL, "off", 0, 0, 0, NULL, START,                                   \
    "Set SO_REUSEPORT on TCP listeners, so other processes may bind the same address")        \
  X(max_connections, "server", INT, "4096", 0, 1, 1000000, NULL, RELOAD,                        \
    "Open client connections per worker; beyond it the worker stops accepting")               \
  X(limit_concurrency, "server", INT, "0", 0, 0, 1000000, NULL, RELOAD,                       \
    "Requests in progress per worker beyond which new ones get 503 with Retry-After; 0: none") \
  X(root_path, "server", STR, "", 0, 0, 0, NULL, RELOAD,                                        \
    "ASGI root_path: the prefix the app is mounted under behind a proxy; path includes it")     \
  X(forwarded_allow_ips, "server", LIST, "127.0.0.1, ::1, unix", 0, 0, 0, NULL, RELOAD,         \
    "Peers whose X-Forwarded-For/-Proto (or Forwarded) headers set the client and scheme, "     \
    "and with forwarded_host the Host: IP addresses, CIDR ranges, unix (Unix-socket peers), * "  \
    "(all)")                                                                                    \
  X(forwarded_headers, "server", ENUM, "x-forwarded", 0, 0, 0, "x-forwarded|forwarded", RELOAD, \
    "Which headers the trusted proxies write: x-forwarded (X-Forwarded-*: nginx, HAProxy, "    \
    "cloud balancers) or forwarded (RFC 7239); the other family changes nothing")             \
  X(forwarded_host, "server", BOOL, "off", 0, 0, 0, NULL, RELOAD,                                \
    "Let a trusted proxy's X-Forwarded-Host/-Port (or Forwarded host=) replace the Host the "  \
    "app sees; only when the proxy overwrites them (docs/deploying.md)")                       \
  X(server_header, "server", BOOL, "on", 0, 0, 0, NULL, RELOAD,                                 \
    "Send a Server: asgid header when the app sets none")                                      \
  X(metrics_bind, "server", STR, "", 0, 0, 0, NULL, START,                                      \
    "Where the master serves /metrics (Prometheus), /healthz and /readyz: HOST:PORT or "       \
    "unix:PATH; empty: off. Keep it off the public network")                                   \
  X(metrics_timeout, "server", DURATION, "2s", 0, 100, 60000, NULL, RELOAD,                     \
    "On the metrics listener, the deadline for a client's request head and for taking the "     \
    "answer; then the connection is closed")                                                    \
  X(metrics_connections, "server", INT, "64", 0, 1, 4096, NULL, RELOAD,                         \
    "Connections the metrics listener serves at once; beyond, the oldest without a whole "      \
    "request head is closed to make room")                                                      \
  /* [app] what runs and how */                                                                \
  X(app, "app", STR, "", 'a', 0, 0, NULL, RELOAD,                                               \
    "The app: path/to/app.so[:symbol] (native) or package.module:attribute (Python ASGI)")     \
  X(worker_class, "app", STR, "auto", 'k', 0, 0, NULL, RELOAD,                                  \
    "How app code runs: auto, event, thread (native apps), asyncio, uvloop (Python apps)")     \
  X(factory, "app", BOOL, "off", 0, 0, 0, NULL, RELOAD,                                         \
    "Python: the app spec names a factory, called without arguments to make the ASGI app")     \
  X(app_dir, "app", STR, "", 0, 0, 0, NULL, RELOAD,                                             \
    "Python: directory put first on sys.path to import the app; empty means the working one")  \
  X(virtualenv, "app", STR, "", 0, 0, 0, NULL, RELOAD,                                          \
    "Python: virtual environment whose interpreter and packages the app uses; empty for none") \
  X(preload_app, "app", BOOL, "off", 0, 0, 0, NULL, START,                                      \
    "Python: import the app in the master before starting workers (fork only)")                \
  X(reload, "app", BOOL, "off", 0, 0, 0, NULL, RELOAD,                                          \
    "Development: reload the workers when a *.py file under app_dir changes (not with "        \
    "preload_app)")                                                                            \
  X(threads, "app", INT, "8", 0, 1, 1024, NULL, RELOAD,                                         \
    "Threads per worker running app callbacks with worker_class = thread")                    \
  X(lifespan, "app", ENUM, "auto", 0, 0, 0, "auto|on|off", RELOAD,                              \
    "ASGI lifespan: auto (use it if the app supports it), on (required), off")                 \
  /* [workers] processes */                                                                    \
  X(workers, "workers", INT, "0", 'w', 0, 4096, NULL, RELOAD,                                   \
    "Worker processes; 0 means one per CPU this process may use")                              \
  X(worker_start, "workers", ENUM, "fork", 0, 0, 0, "fork|spawn", RELOAD,                       \
    "How workers start: fork, or spawn (re-execute asgid's own binary); on Windows spawn only, "\
    "the default there")                                                                        \
  X(timeout, "workers", DURATION, "30s", 't', 1000, 86400000, NULL, RELOAD,                     \
    "A worker silent for longer is killed and replaced")                                      \
  X(graceful_timeout, "workers", DURATION, "30s", 0, 0, 86400000, NULL, RELOAD,                 \
    "Time a stopping worker has to finish in-flight requests")                                \
  X(stop_idle_timeout, "workers", DURATION, "1s", 0, 0, 60000, NULL, RELOAD,                   \
    "On a graceful stop, how long an idle keep-alive connection may still send one last request")\
  X(max_requests, "workers", INT, "0", 0, 0, 2000000000, NULL, RELOAD,                          \
    "Requests after which a worker is replaced gracefully; 0 disables")                        \
  X(max_requests_jitter, "workers", INT, "0", 0, 0, 2000000000, NULL, RELOAD,                   \
    "Random extra requests (0..N) added to max_requests per worker")                           \
  X(max_worker_memory, "workers", SIZE, "0", 0, 0, UINT64_C(1) << 40, NULL, RELOAD,            \
    "Resident memory (RSS) beyond which a worker is replaced, its replacement ready first; 0 disables")\
  X(max_worker_lifetime, "workers", DURATION, "0", 0, 0, UINT64_C(2592000000), NULL, RELOAD,    \
    "Time a worker serves (plus 0-10% at random) before it is replaced, its replacement ready first; 0 disables")\
  /* [http] protocol limits and timeouts */                                                    \
  X(keepalive_timeout, "http", DURATION, "5s", 0, 0, 3600000, NULL, RELOAD,                     \
    "Idle time allowed between requests on a keep-alive connection; 0 disables keep-alive")    \
  X(header_timeout, "http", DURATION, "20s", 0, 100, 3600000, NULL, RELOAD,                     \
    "Deadline for the whole request line and header block (not reset per byte): 408")          \
  X(proxy_protocol_timeout, "http", DURATION, "5s", 0, 100, 3600000, NULL, RELOAD,             \
    "Deadline for the PROXY protocol header on a bind with proxy_protocol; then the connection is closed")\
  X(body_timeout, "http", DURATION, "60s", 0, 100, 3600000, NULL, RELOAD,                       \
    "Longest wait for the next request body bytes while the app wants them: 408")              \
  X(write_timeout, "http", DURATION, "60s", 0, 100, 3600000, NULL, RELOAD,                      \
    "Longest time a client may take without accepting any response byte; then it is closed")  \
  X(write_buffer_size, "http", SIZE, "64k", 0, 1024, UINT64_C(1) << 30, NULL, RELOAD,          \
    "Response bytes queued for one client beyond which a streaming app is asked to wait")     \
  X(write_buffer_limit, "http", SIZE, "24m", 0, 1024, UINT64_C(1) << 40, NULL, RELOAD,        \
    "Response bytes queued for one client beyond which no request body reaches the app until " \
    "the client catches up; an app that sends past it regardless loses the connection")      \
  X(min_data_rate, "http", SIZE, "240", 0, 0, UINT64_C(1) << 40, NULL, RELOAD,                 \
    "Slowest average, in bytes per second, at which a client may send a request body or "     \
    "take a response the server waits on, after min_data_rate_grace: 408 or close; 0 disables")\
  X(min_data_rate_grace, "http", DURATION, "5s", 0, 0, 3600000, NULL, RELOAD,                  \
    "Waiting time a transfer is allowed before min_data_rate is enforced")                    \
  X(limit_request_line, "http", SIZE, "8190", 0, 64, 1048576, NULL, RELOAD,                     \
    "Longest request line (method, target, version): 414")                                     \
  X(limit_request_fields, "http", INT, "100", 0, 1, 10000, NULL, RELOAD,                        \
    "Most header fields in a request: 431")                                                    \
  X(limit_request_field_size, "http", SIZE, "8190", 0, 64, 1048576, NULL, RELOAD,               \
    "Longest header field (name, colon and value): 431")                                       \
  X(limit_chunk_extension, "http", SIZE, "4096", 0, 0, 1048576, NULL, RELOAD,                   \
    "Most chunk-extension bytes in one chunked request body: 400")                             \
  X(max_body_size, "http", SIZE, "1g", 0, 0, UINT64_C(1) << 50, NULL, RELOAD,                   \
    "Largest request body; 0 means no limit: 413")                                             \
  X(drain_limit, "http", SIZE, "1m", 0, 0, UINT64_C(1) << 40, NULL, RELOAD,                     \
    "Unread Content-Length body the server discards to keep a connection; a larger one ends " \
    "it, and the response says so (a chunked body is discarded within drain_timeout)")         \
  X(drain_timeout, "http", DURATION, "5s", 0, 100, 3600000, NULL, RELOAD,                     \
    "Longest time spent discarding a request body the app did not read; then it is closed")    \
  X(linger_timeout, "http", DURATION, "2s", 0, 0, 60000, NULL, RELOAD,                         \
    "After a response that ends the connection, how long what the client still sends is "     \
    "discarded, so that closing does not destroy the response before the client read it")    \
  /* [websocket] RFC 6455 limits, keepalive and permessage-deflate */                          \
  X(ws_max_frame_size, "websocket", SIZE, "16m", 0, 128, UINT64_C(1) << 32, NULL, RELOAD,      \
    "Largest WebSocket frame payload a client may send, checked on the frame header before "  \
    "any of it is read: close 1009 (a value above ws_max_message_size acts as that)")          \
  X(ws_max_message_size, "websocket", SIZE, "16m", 0, 128, UINT64_C(1) << 32, NULL, RELOAD,    \
    "Largest WebSocket message a client may send, across its fragments and after "            \
    "decompression: close 1009")                                                              \
  X(ws_max_fragments, "websocket", INT, "16384", 0, 1, 1000000, NULL, RELOAD,                  \
    "Most frames one WebSocket message may arrive in: close 1009")                             \
  X(ws_max_queue, "websocket", INT, "16", 0, 1, 100000, NULL, RELOAD,                           \
    "WebSocket messages received but not yet taken by the app beyond which the server stops " \
    "reading from that client")                                                               \
  X(ws_ping_interval, "websocket", DURATION, "20s", 0, 0, 3600000, NULL, RELOAD,                \
    "Time between the server's pings on an open WebSocket (keeps proxies from dropping idle "  \
    "connections); 0 disables them")                                                         \
  X(ws_ping_timeout, "websocket", DURATION, "20s", 0, 0, 3600000, NULL, RELOAD,                 \
    "Longest wait for the pong answering a ping before the WebSocket is closed with 1011; 0 "  \
    "waits forever")                                                                          \
  X(ws_handshake_timeout, "websocket", DURATION, "10s", 0, 100, 3600000, NULL, RELOAD,          \
    "Deadline for a WebSocket handshake: the upgrade request and the app's accept or denial") \
  X(ws_close_timeout, "websocket", DURATION, "5s", 0, 100, 3600000, NULL, RELOAD,               \
    "After the server sends a close frame, longest wait for the client's before the "         \
    "connection is dropped")                                                                  \
  X(ws_per_message_deflate, "websocket", BOOL, "on", 0, 0, 0, NULL, RELOAD,                      \
    "Accept a client's permessage-deflate offer (RFC 7692: compressed messages); costs CPU "   \
    "and memory per connection (see ws_deflate_window_bits)")                                 \
  X(ws_deflate_window_bits, "websocket", INT, "12", 0, 9, 15, NULL, RELOAD,                      \
    "permessage-deflate window (9-15) of the server's compressor, and of the client's when "   \
    "it lets the server choose; 12 with memLevel 5: ~49 KiB per connection, 15 with 8: ~300")  \
  X(ws_deflate_mem_level, "websocket", INT, "5", 0, 1, 9, NULL, RELOAD,                          \
    "zlib memLevel (1-9) of the server's permessage-deflate compressor: memory for speed")    \
  /* [log] */                                                                                  \
  X(log_level, "log", ENUM, "info", 0, 0, 0, "debug|info|warning|error", RELOAD,                \
    "Least severe error log level written")                                                    \
  X(error_log, "log", STR, "-", 0, 0, 0, NULL, RELOAD,                                          \
    "Error log file; - is standard error")                                                     \
  X(access_log, "log", STR, "", 0, 0, 0, NULL, RELOAD,                                          \
    "Access log file; - is standard output; empty disables it")                                \
  X(access_log_format, "log", STR,                                                              \
    "%(h)s %(l)s %(u)s %(t)s \"%(r)s\" %(s)s %(b)s \"%(f)s\" \"%(a)s\"", 0, 0, 0, NULL, RELOAD, \
    "Access log line, gunicorn atoms: h l u t r m U q H s B b f a T M D L p {header}i {header}o; " \
    "W: a WebSocket session's messages/bytes in and out")                                      \
  X(log_timezone, "log", ENUM, "utc", 0, 0, 0, "utc|local", RELOAD,                              \
    "Time zone of both logs' timestamps: utc, or local (the zone asgid started in, whatever "  \
    "the app does to TZ later)")                                                               \
  X(log_format, "log", ENUM, "text", 0, 0, 0, "text|json", RELOAD,                             \
    "Format of both logs: text (gunicorn's lines), or json (one object per line; "             \
    "docs/operations.md names the fields)")                                                    \
  X(log_config, "log", STR, "", 0, 0, 0, NULL, RELOAD,                                         \
    "Python logging config applied before the app is imported, as uvicorn's --log-config: "   \
    "dictConfig .json or .yaml (PyYAML), else fileConfig INI; empty: to the error log")        \
  /* [process] */                                                                              \
  X(pidfile, "process", STR, "", 'p', 0, 0, NULL, RELOAD,                                       \
    "Write the master's pid to this file; empty for none. The master then also listens for "  \
    "asgid --control in the same directory (docs/operations.md)")                              \
  X(control_timeout, "process", DURATION, "5s", 0, 100, 60000, NULL, RELOAD,                    \
    "asgid --control: how long the master waits for the command, and the client for the "     \
    "connection and the answer")                                                               \
  X(user, "process", STR, "", 'u', 0, 0, NULL, START,                                           \
    "Switch to this user (name or uid) after binding; empty keeps the current one")           \
  X(group, "process", STR, "", 'g', 0, 0, NULL, START,                                          \
    "Switch to this group (name or gid) after binding; empty keeps the current one")          \
  X(umask, "process", MODE, "022", 0, 0, 0777, NULL, RELOAD,                                    \
    "File mode creation mask for the process (octal)")

#endif /* ASGID_SETTINGS_TABLE_H */
