/*
 * platform.h - the one interface to what differs between operating systems.
 *
 * Implementations live in posix/ and win/ under the same file names; nothing outside this
 * folder tests _WIN32.
 */
#ifndef ASGID_PLATFORM_H
#define ASGID_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <uv.h>

/* printf-style format checking of asgid's own formatting functions. asgid formats with C99's
 * conversions everywhere (%zu, %lld: MinGW builds use MinGW's C99 printf), but MinGW's GCC
 * reads the "printf" archetype as the Microsoft runtime's. */
#if defined(__MINGW32__)
#define PLATFORM_PRINTF(format_index, first_arg) \
  __attribute__((format(gnu_printf, format_index, first_arg)))
#else
#define PLATFORM_PRINTF(format_index, first_arg) \
  __attribute__((format(printf, format_index, first_arg)))
#endif

/* A malloc'd, NUL-terminated copy of the first len bytes of s (fewer when s ends sooner), or
 * NULL when out of memory: POSIX strndup, which Windows lacks (portable.c, one implementation
 * for every platform). */
char *platform_strndup(const char *s, size_t len);

/* Process-wide setup done once at start: ignore SIGPIPE (a peer that closed must become a
 * write error, not a dead process) and raise the open-file soft limit to the hard limit, so
 * max_connections is not silently capped by the default 1024. Returns the resulting limit
 * on open files (or -1 when the platform has none). */
long platform_process_init(void);

/* The open-file limit of this process (RLIMIT_NOFILE's soft limit, as platform_process_init
 * left it), or -1 when there is none. */
long platform_open_file_limit(void);

/* How many descriptors this process has open, or -1 when the platform cannot tell. */
long platform_open_descriptor_count(void);

/* 1 when this process could open one more descriptor now, 0 when it is at its open-file
 * limit (or the system's). */
int platform_descriptor_available(void);

/* Removes a stale Unix socket file at path before binding, only if it is a socket.
 * Returns 0 or a negative errno (-ENOENT is fine: nothing to remove). */
int platform_unlink_stale_socket(const char *path);

/* Sets the file mode of a bound Unix socket. Returns 0 or a negative errno. */
int platform_chmod_socket(const char *path, unsigned mode);

/* A socket as the operating system names it: a file descriptor on POSIX, a SOCKET (64 bits)
 * on Windows. */
typedef uv_os_sock_t platform_socket;
#define PLATFORM_INVALID_SOCKET ((platform_socket)-1)

/* Opens a non-blocking, close-on-exec TCP socket bound to addr (IPv6 sockets are v6-only so
 * that [::]:port and 0.0.0.0:port can coexist) and listening with backlog; reuse_port sets
 * SO_REUSEPORT (other processes may bind the same address). On success stores
 * the socket in *out and returns 0; otherwise a negative errno. */
struct sockaddr;
int platform_listen_tcp(const struct sockaddr *addr, int backlog, int reuse_port,
                        platform_socket *out);

/* The same for a Unix socket at path, created with mode (0 keeps the umask's). A stale socket
 * file left by a previous run is replaced; any other existing file is an error. */
int platform_listen_unix(const char *path, int backlog, unsigned mode, platform_socket *out);

/* Closes a socket. */
void platform_close_socket(platform_socket s);

/* Sets the process file mode creation mask. */
void platform_set_umask(unsigned mask);

/* Switches to group and user (names or numeric ids; either may be empty to keep it), with
 * the user's supplementary groups. On failure writes why into err and returns -1. */
int platform_switch_user(const char *user, const char *group, char *err, size_t err_size);

/* The absolute path of asgid's own executable, found by the operating system
 * (uv_exepath), never argv[0] or a PATH or working-directory search, and checked to be an
 * absolute path to an existing regular executable file. Returns a malloc'd path, or NULL
 * with the reason in err. */
char *platform_executable_path(char *err, size_t err_size);

/* The CPUs this process may use: its CPU affinity, capped by a cgroup CPU quota (rounded
 * up). At least 1. */
long platform_available_cpus(void);

/* Forks the process (fork start of workers). Returns the child's pid in the parent, 0 in the
 * child, or a negative errno (UV_ENOSYS where processes cannot fork). */
int platform_fork(void);

/* Ends process pid at once, without letting it clean up (SIGKILL, TerminateProcess): the
 * master's last resort for a worker past its stop deadline or its hang grace. Returns 0 or a
 * negative errno. */
int platform_terminate(int pid);

/* Reaps forked child pid if it has exited, without waiting. Returns 1 and fills *exit_status
 * and *term_signal when it has, 0 when it still runs, or a negative errno. (Spawned workers
 * are reaped by their uv_process_t.) */
int platform_reap(int pid, int *exit_status, int *term_signal);

/* Reads, without waiting, what the socket or pipe under an open libuv stream holds now (a
 * worker's last words on its channel, when its exit is seen before they were read): at most
 * size bytes into buf. Returns the count, 0 when nothing waits (always on Windows, where the
 * channel is read through libuv alone), or -1 at its end or on an error. */
int platform_read_pending(uv_stream_t *stream, void *buf, size_t size);

/* How a process ended, for a log line: "exited with status 3", "was killed by signal 9
 * (SIGKILL)", or where there are no signals "was terminated (exit code 1)". Writes into buf
 * and returns it. */
const char *platform_describe_exit(int exit_status, int term_signal, char *buf, size_t size);

/* Operator events (operator_events.c): the one place where what an operator does to a process
 * (POSIX signals; console events on Windows) becomes an action. The master and the
 * workers never signal each other: the master commands its workers over their channel. */
typedef enum operator_event {
  OPERATOR_STOP_GRACEFUL,  /* finish in-flight requests, then stop (TERM; Ctrl+Break) */
  OPERATOR_STOP_FAST,      /* close connections now (INT, QUIT; Ctrl+C) */
  OPERATOR_RELOAD,         /* reread the configuration, replace the workers (HUP) */
  OPERATOR_REOPEN_LOGS,    /* reopen log files after rotation (USR1) */
  OPERATOR_WORKERS_MORE,   /* one worker more (TTIN) */
  OPERATOR_WORKERS_FEWER,  /* one worker less (TTOU) */
  OPERATOR_UPGRADE,        /* start a new master binary on the same listeners (USR2) */
  OPERATOR_PAUSE_WORKERS,  /* stop the workers, keep the master (WINCH) */
  OPERATOR_CHILDREN_EXITED /* a forked worker has exited: reap it (CHLD) */
} operator_event;

/* Which process listens: a worker hears only the stop and reopen events an operator (or a
 * service manager stopping a whole process group) sends it directly. */
typedef enum operator_role { OPERATOR_ROLE_MASTER, OPERATOR_ROLE_WORKER } operator_role;

typedef struct operator_events operator_events;

/* Starts delivering operator events to on_event on loop. Returns NULL (and logs nothing) when
 * the handlers cannot be installed. */
operator_events *platform_operator_events_start(uv_loop_t *loop, operator_role role,
                                                void (*on_event)(void *data, operator_event e),
                                                void *data);

/* Stops delivering and frees the events' handles (closed on loop). */
void platform_operator_events_close(operator_events *events);

/* Holds operator events sent to this process until platform_operator_events_start (defer 1),
 * or releases them (0). A new worker holds them from its first instruction, so that a stop
 * sent while it boots is acted on (lifespan shutdown included) instead of killing it. */
void platform_operator_events_defer(int defer);

/* A short name of an event for logs ("stop (graceful)", "reload"). */
const char *operator_event_name(operator_event e);

/* Installs a last-words handler for SIGABRT: it calls prepare (which must be
 * async-signal-safe), writes message(*len) to fd with one write(), then lets the abort
 * proceed. message must stay valid and is read at signal time, so its owner may update it. */
void platform_on_abort_write(int fd, const char *message, const size_t *len,
                             void (*prepare)(void));

/* Duplicates a socket (a received one is copied out of the libuv handle that carried it).
 * Returns the new socket or PLATFORM_INVALID_SOCKET. */
platform_socket platform_dup_socket(platform_socket s);

/* Describes a listening socket: its family is TCP (v4/v6) or Unix; fills the numeric host (or
 * the Unix path) and the port (-1 for Unix). Returns 0, or a negative errno when it is not a
 * listening stream socket. */
int platform_describe_listener(platform_socket s, int *is_unix, char *host, size_t host_size,
                               int *port);

/* Service manager notification (notify.c): systemd's sd_notify protocol, one datagram of
 * "KEY=VALUE" lines to the socket named by NOTIFY_SOCKET (a path, or "@name" for an abstract
 * socket), written without libsystemd. Only the master notifies. */

/* Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID once, then removes them from the
 * environment, so that workers (spawned ones get the environment) and whatever the app starts
 * never notify on the master's behalf. Returns the watchdog interval in microseconds that
 * applies to this process (WATCHDOG_PID unset or equal to our pid), or 0. */
uint64_t platform_notify_init(void);

/* Sends state ("READY=1", "STATUS=...", several separated by newlines) to the service
 * manager. Never blocks. Returns 0 when sent or when there is no service manager to tell,
 * otherwise a negative errno. */
int platform_notify(const char *state);

/* Sends "RELOADING=1" with "MONOTONIC_USEC=" the current CLOCK_MONOTONIC time, which lets
 * systemd tell this reload from an earlier one. Returns as platform_notify. */
int platform_notify_reloading(void);

/* The environment a new master started by USR2 needs to notify the same service manager:
 * "NOTIFY_SOCKET=..." and, when the watchdog applies to this process, "WATCHDOG_USEC=..."
 * (never WATCHDOG_PID: the new master will ping for itself). Stores up to 2 strings, owned by
 * this module, into vars and returns how many. */
size_t platform_notify_environment(const char *vars[2]);

/* The control endpoint (control_pipe.c): where a master listens for `asgid --control`, and
 * who may use it: only this master's user, or root / the administrators.
 *   POSIX: a Unix socket "asgid-control-PID.sock" in the pidfile's directory, mode 0600,
 *          and each peer's credentials checked on accept (so a shared directory, or a mode
 *          someone loosened, lets no other user in).
 *   Windows: the named pipe \\.\pipe\asgid-control-PID, with a DACL for the user and the
 *          administrators only, remote clients refused.
 * Named by pid, not only by pidfile: after a binary upgrade (USR2) the old and the new master
 * both listen, the old one found through PIDFILE.oldbin. */

/* Writes the endpoint of master pid, whose pidfile is pidfile, into name. Returns 0, or -1
 * with why (a Unix socket path longer than the system allows). */
int platform_control_endpoint(const char *pidfile, long pid, char *name, size_t name_size,
                              char *why, size_t why_size);

/* Opens the endpoint name on server (uv_pipe_init'd, not ipc), protected as above, ready for
 * uv_listen; a stale endpoint (a crashed master of the same pid) is replaced, anything else
 * at its path is an error. Returns 0 or a libuv error. */
int platform_control_listen(uv_pipe_t *server, const char *name);

/* Removes the endpoint's trace once its server is closed (the socket file; nothing where the
 * endpoint vanishes with its handle). Only if it is still a socket. */
void platform_control_remove(const char *name);

/* On accept: whether the connected client may command this master (same user, or root).
 * Returns 0, or -1 with why ("uid 1000 is neither the master's user (uid 0) nor root"). */
int platform_control_check_client(uv_pipe_t *connection, char *why, size_t why_size);

/* In the client, once connected: whether the server is master pid, or at least runs as this
 * user or root, or we are root (what the platform can tell). Returns 0, or -1 with why. */
int platform_control_check_server(uv_pipe_t *connection, long pid, char *why,
                                  size_t why_size);

/* Digests (digest.c): the SHA-1 of the WebSocket handshake (RFC 6455 §4.2.2), from the
 * platform's own crypto provider (OpenSSL's libcrypto on POSIX, CNG on Windows). */

/* Writes the SHA-1 digest of data into digest. Returns 0, or -1 when the provider failed. */
int platform_sha1(const void *data, size_t len, unsigned char digest[20]);

/* Native app libraries (library.c). */

/* Loads the shared library at path, a file: on POSIX a name without '/' is taken in the
 * working directory, never searched for on the library path; on Windows the path is made
 * absolute and the DLLs the library imports are looked for only in its own folder and in
 * System32 (never the working directory or PATH). Returns 0, or -1 with the reason in err. */
int platform_library_open(const char *path, uv_lib_t *lib, char *err, size_t err_size);

/* Duplicates descriptor fd (the spawned worker's channel: a pipe, which on Windows is not a
 * socket), not inherited by the processes asgid starts. Returns the new descriptor or a
 * negative error. */
int platform_dup_fd(int fd);

/* The command line's arguments in UTF-8: argv itself on POSIX; on Windows the wide command
 * line split as Windows programs split it (the C runtime's narrow argv is in the ANSI code
 * page and loses characters). Updates *argc. They live as long as the process. */
char **platform_arguments(int *argc, char **argv);

/* Log files (log_files.c): the descriptors the error and access logs write to. Writers on any
 * thread write without a lock, so a descriptor in use is never closed: a reopened file is put
 * in place under the same number (platform_log_replace). */

/* The standard streams, where a log set to "-" goes. */
#define PLATFORM_STDOUT_FD 1
#define PLATFORM_STDERR_FD 2

/* Opens path for appending, creating it readable by all and writable by its owner where
 * files have modes, and never inherited by the processes asgid starts. Returns the
 * descriptor or a negative errno. */
int platform_log_open(const char *path);

/* Makes descriptor `into` refer to the file open as `from` in one step that writers on other
 * threads cannot see half done (dup2), keeps `into` uninherited, and closes `from` (also on
 * failure). Returns 0 or a negative errno. */
int platform_log_replace(int into, int from);

/* Closes a descriptor platform_log_open returned. */
void platform_log_close(int fd);

/* Writes len bytes to fd, going on after an interruption or a partial write. Any other
 * failure (a full disk, a non-blocking stream that is full) drops the rest: a log never blocks
 * the loop that writes it, and has nowhere to report its own errors. */
void platform_log_write(int fd, const char *bytes, size_t len);

/* Clock (clock.c): calendar times, thread-safe. */

/* The UTC calendar time of `when` (for HTTP dates). Returns 0, or -1 when `when` is beyond
 * the calendar's range. */
int platform_utc_time(time_t when, struct tm *out);

/* The local calendar time of `when` and local time's offset from UTC at that moment, in
 * seconds east of Greenwich (for log timestamps). Returns 0, or -1 when `when` is beyond the
 * calendar's range. */
int platform_local_time(time_t when, struct tm *out, long *utc_offset_seconds);

/* Environment (environment.c). */

/* The process's environment as "NAME=value" strings in UTF-8, NULL-terminated (settings read
 * ASGID_* from it; a new master started by an upgrade gets a copy). Valid until the next call
 * or the next change of the environment. */
char **platform_environment(void);

/* Text capture (text_capture.c): a stream whose text is read back, for code that reports to a
 * FILE * (the settings loader) when the text is wanted elsewhere (a reload logs it, line by
 * line). */
typedef struct platform_text_capture {
  FILE *stream; /* where the text is written, between open and close */
  char *text;   /* private to the implementation */
  size_t len;
} platform_text_capture;

/* Opens capture->stream. Returns 0, or -1 when no stream could be made. */
int platform_text_capture_open(platform_text_capture *capture);

/* Closes the stream and returns all that was written to it, NUL-terminated and malloc'd (the
 * caller frees it), or NULL when it could not be kept (out of memory). */
char *platform_text_capture_close(platform_text_capture *capture);

/* Capabilities (capabilities.c): what this platform can do of what a configuration may ask
 * for. master/capabilities.c turns each missing one that the settings ask for into one line
 * naming the alternative, at --check-config and before the master binds anything. */
typedef struct platform_capabilities {
  const char *system;             /* the platform's name in those lines ("Windows") */
  unsigned fork : 1;              /* worker_start = fork, and preload_app which needs it */
  unsigned switch_user : 1;       /* user and group */
  unsigned unix_sockets : 1;      /* unix: binds */
  unsigned reuse_port : 1;        /* reuse_port (SO_REUSEPORT) */
  unsigned socket_activation : 1; /* fd:// binds and LISTEN_FDS (systemd's socket passing) */
  unsigned uvloop : 1;            /* uvloop exists for this platform */
  const char *python_build_hint;  /* what a build with CPython takes here, for a build
                                     without it ("install libpython3-dev and rebuild") */
} platform_capabilities;

/* This platform's capabilities (constant for the life of the process). */
const platform_capabilities *platform_get_capabilities(void);

#endif /* ASGID_PLATFORM_H */
