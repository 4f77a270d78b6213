/* process.c - Windows processes: own executable, command line, CPUs, termination. See
 * platform.h.
 *
 * Workers are spawned (uv_spawn) from the path the operating system reports for this
 * process, never from argv[0], PATH, the working directory or SearchPath: each of those can be
 * made to name another program (CWE-428 for an unquoted path with spaces, a planted asgid.exe
 * in the working directory, or one earlier on PATH). */
#include "platform/platform.h"

#include <windows.h>
#include <io.h>
#include <shellapi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

/* The executable stays open without FILE_SHARE_WRITE or FILE_SHARE_DELETE while the process
 * runs, so that nobody renames, replaces or deletes it between two spawns (a running image
 * alone does not prevent a rename). Also what keeps uv_spawn from ever trying the
 * "<path>.com" or "<path>.exe" it falls back to when a path does not exist. */
static HANDLE held_executable = INVALID_HANDLE_VALUE;

static int is_absolute(const wchar_t *p) {
  int drive = ((p[0] >= L'A' && p[0] <= L'Z') || (p[0] >= L'a' && p[0] <= L'z')) &&
              p[1] == L':' && p[2] == L'\\';
  return drive || (p[0] == L'\\' && p[1] == L'\\'); /* UNC, or \\?\ */
}

char *platform_executable_path(char *err, size_t err_size) {
  /* uv_exepath converts GetModuleFileNameW's answer (up to 32,767 UTF-16 units, each up to 3
   * bytes of UTF-8) and silently truncates into a smaller buffer. */
  size_t size = 3 * 32767 + 1;
  char *path = malloc(size);
  if (!path) {
    snprintf(err, err_size, "out of memory");
    return NULL;
  }
  int rc = uv_exepath(path, &size);
  if (rc == 0 && size >= 3 * 32767) rc = UV_ENAMETOOLONG;
  if (rc != 0) {
    snprintf(err, err_size, "cannot find asgid's own executable: %s", uv_strerror(rc));
    free(path);
    return NULL;
  }
  wchar_t wide[MAX_PATH + 1];
  int wide_len = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
  if (wide_len <= 0 || wide_len > MAX_PATH) {
    /* CreateProcessW cannot start a program from a longer path (its application name is
     * limited to MAX_PATH), and 8.3 short names may be disabled. */
    snprintf(err, err_size, "asgid's own executable path \"%s\" is %d characters long: move "
             "asgid.exe to a folder whose path is shorter (the whole path must stay under %d "
             "characters for workers to be started from it)", path, wide_len - 1, MAX_PATH);
    free(path);
    return NULL;
  }
  MultiByteToWideChar(CP_UTF8, 0, path, -1, wide, MAX_PATH + 1);
  if (!is_absolute(wide)) {
    snprintf(err, err_size, "asgid's own executable path \"%s\" is not absolute", path);
    free(path);
    return NULL;
  }
  if (held_executable == INVALID_HANDLE_VALUE) {
    HANDLE h = CreateFileW(wide, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
      snprintf(err, err_size, "asgid's own executable \"%s\" cannot be opened: %s", path,
               uv_strerror(uv_translate_sys_error((int)GetLastError())));
      free(path);
      return NULL;
    }
    BY_HANDLE_FILE_INFORMATION info;
    if (GetFileType(h) != FILE_TYPE_DISK || !GetFileInformationByHandle(h, &info) ||
        (info.dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_DEVICE))) {
      snprintf(err, err_size, "asgid's own executable \"%s\" is not a regular file", path);
      CloseHandle(h);
      free(path);
      return NULL;
    }
    held_executable = h;
  }
  return path;
}

char **platform_arguments(int *argc, char **argv) {
  /* The C runtime's narrow argv is in the ANSI code page: characters outside it are lost.
   * The wide command line, split as every Windows program splits it (and as uv_spawn quotes
   * it), converted to UTF-8. */
  int n = 0;
  wchar_t **wide = CommandLineToArgvW(GetCommandLineW(), &n);
  if (!wide) return argv;
  char **out = calloc((size_t)n + 1, sizeof *out);
  for (int i = 0; out && i < n; i++) {
    int len = WideCharToMultiByte(CP_UTF8, 0, wide[i], -1, NULL, 0, NULL, NULL);
    out[i] = len > 0 ? malloc((size_t)len) : NULL;
    if (!out[i] || !WideCharToMultiByte(CP_UTF8, 0, wide[i], -1, out[i], len, NULL, NULL)) {
      out = NULL; /* the process is starting: what was allocated goes with it */
      break;
    }
  }
  LocalFree(wide);
  if (!out) return argv;
  *argc = n;
  return out;
}

long platform_available_cpus(void) {
  DWORD_PTR process_mask = 0, system_mask = 0;
  long cpus = 0;
  if (GetProcessAffinityMask(GetCurrentProcess(), &process_mask, &system_mask))
    for (; process_mask; process_mask &= process_mask - 1) cpus++;
  if (cpus == 0) cpus = (long)GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
  return cpus > 0 ? cpus : 1;
}

int platform_fork(void) { return UV_ENOSYS; }

int platform_terminate(int pid) {
  HANDLE h = OpenProcess(PROCESS_TERMINATE, FALSE, (DWORD)pid);
  if (!h) return uv_translate_sys_error((int)GetLastError());
  int rc = TerminateProcess(h, 1) ? 0 : uv_translate_sys_error((int)GetLastError());
  CloseHandle(h);
  return rc;
}

/* Workers are spawned, and uv_spawn's exit callback reports them: there is nothing to reap. */
int platform_reap(int pid, int *exit_status, int *term_signal) { return UV_ENOSYS; }

/* The channel is an overlapped pipe that libuv reads: what a worker wrote last arrives through
 * its read callback, or not at all once the handle closes. */
int platform_read_pending(uv_stream_t *stream, void *buf, size_t size) {
  (void)stream;
  (void)buf;
  (void)size;
  return 0;
}

const char *platform_describe_exit(int exit_status, int term_signal, char *buf, size_t size) {
  unsigned code = (unsigned)exit_status;
  if (term_signal)
    snprintf(buf, size, "was terminated (exit code %d)", exit_status);
  else if (code >= 0xC0000000u) /* an NTSTATUS: an exception ended it */
    snprintf(buf, size, "crashed (exception 0x%08X)", code);
  else
    snprintf(buf, size, "exited with status %d", exit_status);
  return buf;
}

static int abort_fd = -1;
static const char *abort_message;
static const size_t *abort_len;
static void (*abort_prepare)(void);

static void on_abort(int signum) {
  if (abort_prepare) abort_prepare();
  if (abort_fd >= 0 && abort_message && *abort_len)
    _write(abort_fd, abort_message, (unsigned)*abort_len);
  signal(signum, SIG_DFL);
  raise(signum);
}

void platform_on_abort_write(int fd, const char *message, const size_t *len,
                             void (*prepare)(void)) {
  abort_prepare = prepare;
  abort_fd = fd;
  abort_message = message;
  abort_len = len;
  signal(SIGABRT, on_abort);
}
