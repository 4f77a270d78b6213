/*
 * master.h - the master process: owns the configuration and the listeners, keeps `workers`
 * workers running and acts on operator events (platform.h: POSIX signals with gunicorn's
 * meanings, console events on Windows; the control pipe gives the same commands). It
 * commands its workers over their channels (worker/channel_codec.h), never by signals.
 */
#ifndef ASGID_MASTER_H
#define ASGID_MASTER_H

#include <stdint.h>
#include <uv.h>

#include "master/listeners.h"
#include "master/metrics_text.h"
#include "settings/settings.h"
#include "platform/platform.h"
#include "worker/channel_codec.h"

typedef struct master master;

typedef enum worker_proc_state {
  WORKER_BOOTING,  /* started, not yet accepting */
  WORKER_READY,    /* accepting */
  WORKER_STOPPING  /* told to stop; its exit is expected */
} worker_proc_state;

/* The master's record of one worker process. */
typedef struct worker_proc {
  master *owner;
  int id;
  int pid;
  int generation;            /* the configuration it runs (reload bumps it) */
  worker_proc_state state;
  int retiring;              /* to be replaced: serves until its replacement is ready */
  int spawned;               /* started by uv_spawn (else fork): `process` is in use */
  uv_process_t process;      /* spawned workers */
  uv_pipe_t channel;
  int open_handles;
  int forgotten;             /* off the table (exited, or never started): freed once closed */
  channel_reader messages;   /* what it sends on the channel */
  int channel_dropped;       /* it sent what it must not: the channel is closed */
  uint64_t started_ms, last_seen_ms;
  uint64_t stuck_since_ms;   /* found silent past `timeout`: terminated after a grace */
  int terminated;            /* the master ended it (platform_terminate): where that is no
                                signal (Windows), its exit status says nothing more */
  uint64_t ready_ms;         /* when it became ready (its lifetime counts from there) */
  uint64_t lifetime_ms;      /* max_worker_lifetime plus its jitter (recycle.c), 0 until drawn */
  uint64_t requests, connections;
  uint64_t rss;              /* resident memory in bytes, from the last heartbeat */
  uint64_t rss_fresh;        /* ... when it became ready: the size of a fresh worker */
  int memory_warned;         /* fresh and already above max_worker_memory: said once */
  channel_message reported;  /* its last heartbeat: the metrics' counts */
  struct worker_proc *next;
} worker_proc;

struct master {
  uv_loop_t loop;
  int argc;
  char **argv;
  asgid_settings *settings;      /* the configuration new workers get */
  asgid_settings *previous;      /* kept while workers of the previous generation run */
  int previous_generation;       /* the generation that serves while a reload starts up */
  listener_set listeners;
  char *executable;              /* asgid's own binary, for spawn (found at start; NULL when it
                                    could not be: a reload that needs it tries again) */
  worker_proc *workers;
  int generation;
  long target;                   /* workers wanted */
  int stopping;                  /* 0, or 1 once a stop began */
  int paused;                    /* WINCH: no workers until HUP */
  int outside_loop;              /* between uv_run calls: workers may be started */
  int exit_status;
  uint64_t stop_deadline;
  uint64_t timeouts_checked_ms;  /* when workers' silence was last checked (each tick; the
                                    start before the first) */
  uint64_t respawn_not_before;   /* crash backoff */
  unsigned crash_streak;
  operator_events *operator_events;
  uv_timer_t tick;
  uv_process_t upgrade;          /* the new master started by USR2 */
  int upgrade_running;
  char *pidfile;                 /* as written (NULL for none) */
  struct control_server *control; /* asgid --control's endpoint, while there is a pidfile */
  struct code_watch *code_watch; /* reload = on: the app's source being watched, or NULL */
  int code_watch_announced;      /* its first start was logged (rescans after reloads are not) */
  const struct worker_class *preloaded; /* the class whose app the master preloaded, or NULL */
  asgid_settings *preloaded_settings; /* the configuration it preloaded that app with */
  /* The service manager (systemd's notify protocol), see master.c. */
  int upgraded;                  /* started by an old master's USR2 */
  int announced;                 /* READY=1 sent once */
  int reloading;                 /* RELOADING=1 sent, READY=1 not yet */
  int notify_failed;             /* a failure was logged (once is enough) */
  uint64_t requests_before;      /* requests of workers that have exited */
  /* Metrics and health (metrics.c, metrics_server.c). */
  metrics_counters history;      /* what exited workers last reported, and the master's counts */
  uint64_t started_ms;
  int serving;                   /* every worker was ready once: /readyz may say ready */
  struct metrics_server *metrics; /* the metrics_bind listener, or NULL */
  uint64_t status_due_ms;
  char status[64];               /* the last STATUS= sent */
  uv_timer_t watchdog;
};

/* Runs the master with loaded settings until it stops; it takes them over (the caller's
 * struct is left empty). Returns the process exit status:
 * 0, 1 (configuration or start error), or the worker's boot/app-load status when workers
 * cannot start. */
int master_run(asgid_settings *settings, int argc, char **argv);

/* workers.c: starts one worker of the current generation. Returns 0 or -1 (logged). */
int workers_start_one(master *m);

/* workers.c: tells a worker to stop, gracefully (in-flight requests finish) or fast, over its
 * channel. */
void workers_stop(worker_proc *w, int graceful);

/* workers.c: the same for every worker of generation (all when generation < 0). */
void workers_stop_all(master *m, int generation, int graceful);

/* workers.c: tells every worker to reopen its log files. */
void workers_reopen_logs(master *m);

/* workers.c: terminates every worker at once (past the stop deadline). */
void workers_terminate_all(master *m);

/* workers.c: deals with workers silent for longer than `timeout`: asked for their last words
 * (they abort themselves too), terminated if still there a grace period later. */
void workers_check_timeouts(master *m, uint64_t now);

/* workers.c: reaps forked workers that have exited (SIGCHLD). */
void workers_reap(master *m);

/* recycle.c: starts the replacement of workers above max_worker_memory or past
 * max_worker_lifetime (see master_worker_retiring). */
void workers_check_recycling(master *m, uint64_t now);

/* reload.c: whether workers started with `s` are spawned: worker_start = spawn, or `s`
 * names another app than the one the master preloaded (a forked worker would serve the
 * preloaded one). */
int master_spawns_workers(const master *m, const asgid_settings *s);

/* reload.c: logs each setting `fresh` changes ("reload: keepalive_timeout 5s -> 10s"), one
 * line each; a start-only setting keeps its current value in `fresh` and its line says that a
 * restart or USR2 applies it. `wclass` is fresh's worker class. */
struct worker_class;
void master_reload_review(master *m, asgid_settings *fresh, const struct worker_class *wclass);

/* reload.c: finds asgid's own executable if workers started with `s` are spawned and it is
 * not known yet. Returns 0, or -1 with why in `why`. */
int master_find_executable(master *m, const asgid_settings *s, char *why, size_t why_size);

/* reload.c: warns when the open-file limit leaves a worker less room than max_connections
 * (platform_process_init raised the soft limit to the hard one already). */
void master_check_descriptor_limit(const asgid_settings *s);

/* The line master_check_descriptor_limit logs, written into `line`: returns 1 when there is
 * one to give, 0 when the limit is high enough (--check-config prints it too). */
int master_descriptor_limit_warning(const asgid_settings *s, char *line, size_t size);

/* The warnings the master logs when the settings ask for what it then does not do; said the
 * same way by --check-config (preflight.c). */
#define MASTER_PRELOAD_NEEDS_FORK                                                             \
  "preload_app needs worker_start = fork (spawned workers load the app themselves): ignored"
#define MASTER_RELOAD_WITH_PRELOAD                                                            \
  "reload = on does nothing with preload_app = on: the master imported the app and cannot "   \
  "import it again (restart to load changed code)"

/* reload.c: applies what the master itself does with a configuration, going from `from` to
 * `to`: the umask, the log files and format (log_open), the pidfile (the new one written,
 * the old one removed). Returns 0, or -1 with why in `why` and `from` back in force. */
int master_apply_own_settings(master *m, const asgid_settings *from, const asgid_settings *to,
                              char *why, size_t why_size);

/* upgrade.c: USR2. Starts the new master, which inherits the listeners; the pidfile becomes
 * PIDFILE.oldbin until it exits (then it is renamed back). */
void master_upgrade(master *m);
/* "PIDFILE.oldbin", malloc'd (NULL when out of memory). */
char *master_oldbin_path(const char *pidfile);

/* metrics.c: w has exited: what it last reported stays in the totals, and its exit is
 * counted by cause (expected: the master had asked it to stop; stuck: it was silent past
 * `timeout`, so that it aborted itself or the master ended it). */
void master_metrics_worker_exited(master *m, const worker_proc *w, int expected, int stuck);

/* metrics.c: what /readyz answers: 1 once every worker was ready, while at least one is (a
 * worker being replaced, a reload, a respawn after a crash leave the others serving) and no
 * stop has begun; 0 before, when none is ready, and from the start of a stop. */
int master_is_ready(const master *m);

/* metrics.c: appends the Prometheus text of the master's metrics. Returns 0 or -1 (out of
 * memory). */
int master_metrics_write(const master *m, byte_buffer *out);

/* master.c: acts on an operator's event (a signal, a console event, a control command). */
void master_act(master *m, operator_event e);

/* master.c: events from workers. */
void master_worker_ready(master *m, worker_proc *w);
/* w is to be replaced, for the reason `why` (logged): its replacement starts now. A worker
 * that stopped accepting on its own (max_requests) is already stopping; any other serves on
 * and is stopped once its replacement is ready, so that no capacity is lost meanwhile. */
void master_worker_retiring(master *m, worker_proc *w, const char *why);
void master_worker_exited(master *m, worker_proc *w, int exit_status, int term_signal);

#endif /* ASGID_MASTER_H */
