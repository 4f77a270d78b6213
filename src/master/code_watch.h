/*
 * code_watch.h - `reload = on`: watching the app's Python source for changes, so that the
 * master reloads its workers when a file is saved (a development mode, as uvicorn's and
 * gunicorn's --reload).
 */
#ifndef ASGID_MASTER_CODE_WATCH_H
#define ASGID_MASTER_CODE_WATCH_H

#include <stddef.h>
#include <uv.h>

typedef struct code_watch code_watch;

/* Called once a burst of changes has settled; `file` is the last changed file (its path
 * under the watched directory), valid during the call. The callback may close the watch. */
typedef void (*code_watch_changed)(void *data, const char *file);

/* Watches every directory under `root` (skipping hidden ones, __pycache__, node_modules and
 * virtual environments; at most CODE_WATCH_MAX_DIRS, with a warning past it) for changes to
 * files named *.py. Returns NULL, after logging why, when nothing can be watched. */
code_watch *code_watch_start(uv_loop_t *loop, const char *root, code_watch_changed changed,
                             void *data);

/* How many directories are watched. */
size_t code_watch_directories(const code_watch *watch);

/* Stops watching; the memory goes once libuv has closed the handles. NULL is a no-op. */
void code_watch_close(code_watch *watch);

#endif /* ASGID_MASTER_CODE_WATCH_H */
