/*
 * code_watch.c - `reload = on`: reloading the workers when the app's Python source changes.
 *
 * Each directory of the tree gets its own uv_fs_event, because Linux's inotify (under
 * libuv's fs events) does not watch subdirectories. The tree is scanned when the watch
 * starts, and the master starts a new watch after every reload, so directories created
 * since are found then. Skipped: hidden directories (.git), __pycache__ (the workers write
 * there), node_modules and virtual environments (a directory holding pyvenv.cfg), and
 * symbolic links (which could loop).
 *
 * Editors save in bursts (a temporary file, a rename, a change of attributes), and a
 * checkout changes many files at once: the callback runs once nothing has changed for
 * QUIET_MS.
 */
#include "master/code_watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "platform/platform.h"

/* More directories than a project has, fewer than a home folder given by mistake. */
#define CODE_WATCH_MAX_DIRS 1024
#define QUIET_MS 250

typedef struct watched_dir {
  uv_fs_event_t event;
  char *path;
} watched_dir;

struct code_watch {
  uv_loop_t *loop;
  char *root;
  watched_dir *dirs;
  size_t count;
  size_t watching; /* of count: those whose watch started */
  uv_timer_t quiet;
  size_t open_handles;
  code_watch_changed changed;
  void *data;
  char last_file[1024];
};

static int is_python_source(const char *name) {
  size_t len = strlen(name);
  return len > 3 && strcmp(name + len - 3, ".py") == 0;
}

static char *join(const char *dir, const char *name) {
  size_t len = strlen(dir) + 1 + strlen(name) + 1;
  char *path = malloc(len);
  if (path) snprintf(path, len, "%s/%s", dir, name);
  return path;
}

static int exists(const char *path) {
  uv_fs_t req;
  int rc = uv_fs_stat(NULL, &req, path, NULL);
  uv_fs_req_cleanup(&req);
  return rc == 0;
}

/* A directory worth watching: not a link, not hidden, not generated, not a virtualenv. */
static int watch_worthy(const char *dir, const uv_dirent_t *entry) {
  uv_dirent_type_t type = entry->type;
  char *path = join(dir, entry->name);
  if (!path) return 0;
  if (type == UV_DIRENT_UNKNOWN) { /* some file systems do not say: ask */
    uv_fs_t req;
    if (uv_fs_lstat(NULL, &req, path, NULL) == 0)
      type = (req.statbuf.st_mode & S_IFMT) == S_IFDIR ? UV_DIRENT_DIR : UV_DIRENT_FILE;
    uv_fs_req_cleanup(&req);
  }
  int worthy = type == UV_DIRENT_DIR && entry->name[0] != '.' &&
               strcmp(entry->name, "__pycache__") != 0 &&
               strcmp(entry->name, "node_modules") != 0;
  if (worthy) {
    char *venv_marker = join(path, "pyvenv.cfg");
    worthy = venv_marker && !exists(venv_marker);
    free(venv_marker);
  }
  free(path);
  return worthy;
}

/* Adds dir's subdirectories to the list (breadth first: the list is also the queue). */
static void scan(code_watch *w, const char *dir, int *cut) {
  uv_fs_t req;
  if (uv_fs_scandir(NULL, &req, dir, 0, NULL) < 0) {
    uv_fs_req_cleanup(&req);
    return;
  }
  uv_dirent_t entry;
  while (uv_fs_scandir_next(&req, &entry) != UV_EOF) {
    if (!watch_worthy(dir, &entry)) continue;
    if (w->count == CODE_WATCH_MAX_DIRS) {
      *cut = 1;
      break;
    }
    char *path = join(dir, entry.name);
    if (!path) break;
    w->dirs[w->count++].path = path;
  }
  uv_fs_req_cleanup(&req);
}

static void free_watch(code_watch *w) {
  for (size_t i = 0; i < w->count; i++) free(w->dirs[i].path);
  free(w->dirs);
  free(w->root);
  free(w);
}

static void on_closed(uv_handle_t *handle) {
  code_watch *w = handle->data;
  if (--w->open_handles == 0) free_watch(w);
}

static void on_quiet(uv_timer_t *timer) {
  code_watch *w = timer->data;
  w->changed(w->data, w->last_file); /* may close the watch: nothing of w is used after */
}

static void on_fs_event(uv_fs_event_t *event, const char *filename, int events, int status) {
  (void)events;
  code_watch *w = event->data;
  if (status < 0 || filename == NULL || !is_python_source(filename)) return;
  const watched_dir *dir = (const watched_dir *)event; /* event is its first member */
  const char *relative = dir->path + strlen(w->root);
  if (*relative == '/') relative++;
  snprintf(w->last_file, sizeof w->last_file, "%s%s%s", relative, *relative ? "/" : "",
           filename);
  uv_timer_start(&w->quiet, on_quiet, QUIET_MS, 0);
}

code_watch *code_watch_start(uv_loop_t *loop, const char *root, code_watch_changed changed,
                             void *data) {
  code_watch *w = calloc(1, sizeof *w);
  if (w) {
    w->dirs = calloc(CODE_WATCH_MAX_DIRS, sizeof *w->dirs);
    w->root = platform_strndup(root, strlen(root));
  }
  if (!w || !w->dirs || !w->root || !(w->dirs[0].path = platform_strndup(root, strlen(root)))) {
    log_error("reload = on: out of memory");
    if (w) free_watch(w);
    return NULL;
  }
  w->loop = loop;
  w->changed = changed;
  w->data = data;
  w->count = 1;
  int cut = 0;
  for (size_t i = 0; i < w->count && !cut; i++) scan(w, w->dirs[i].path, &cut);
  if (cut)
    log_warning("reload = on: watching only the first %d directories under %s",
                CODE_WATCH_MAX_DIRS, root);

  uv_timer_init(loop, &w->quiet);
  w->quiet.data = w;
  w->open_handles = 1;
  size_t watching = 0;
  int first_error = 0;
  for (size_t i = 0; i < w->count; i++) {
    watched_dir *dir = &w->dirs[i];
    uv_fs_event_init(loop, &dir->event);
    dir->event.data = w;
    w->open_handles++;
    int rc = uv_fs_event_start(&dir->event, on_fs_event, dir->path, 0);
    if (rc == 0) {
      watching++;
    } else if (!first_error) {
      first_error = rc;
      log_warning("reload = on: cannot watch %s: %s", dir->path, uv_strerror(rc));
    }
  }
  if (watching == 0) {
    code_watch_close(w);
    return NULL;
  }
  w->watching = watching;
  return w;
}

size_t code_watch_directories(const code_watch *w) { return w->watching; }

void code_watch_close(code_watch *w) {
  if (!w) return;
  uv_close((uv_handle_t *)&w->quiet, on_closed);
  for (size_t i = 0; i < w->count; i++)
    uv_close((uv_handle_t *)&w->dirs[i].event, on_closed);
}
