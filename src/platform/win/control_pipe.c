/* control_pipe.c - the control endpoint on Windows: the named pipe \\.\pipe\asgid-control-PID,
 * which only this process's user, the Administrators and LocalSystem may open, and never from
 * another machine. See platform.h.
 *
 * libuv creates the pipe (uv_pipe_bind) with the default security descriptor, which lets
 * Everyone read, and creates each further instance itself. All instances of a named pipe share
 * one security descriptor, so replacing its DACL on the first instance (SetSecurityInfo; libuv
 * opens every instance with WRITE_DAC for uv_pipe_chmod) protects every later one. Creating
 * the pipe ourselves (CreateNamedPipeW with the DACL and PIPE_REJECT_REMOTE_CLIENTS) would leave
 * no window at all, but libuv has no way to adopt a server handle: we would have to rewrite its
 * accept loop. The window between bind and SetSecurityInfo is harmless: before uv_listen no
 * instance is connected for us, and the default DACL lets others open it for reading only, so
 * no command can be written (the master answers nothing to a client that sent nothing but its
 * timeout). PIPE_REJECT_REMOTE_CLIENTS cannot be set after creation: a deny ACE for the NETWORK
 * logon SID refuses remote clients instead (what Microsoft documents for systems before it). */
#include "platform/platform.h"

#include <stdio.h>
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

int platform_control_endpoint(const char *pidfile, long pid, char *name, size_t name_size,
                              char *why, size_t why_size) {
  (void)pidfile; /* pipe names are machine-wide: the pid alone names the master */
  int n = snprintf(name, name_size, "\\\\.\\pipe\\asgid-control-%ld", pid);
  if (n < 0 || (size_t)n >= name_size) {
    snprintf(why, why_size, "the control pipe name is too long");
    return -1;
  }
  return 0;
}

/* "D:P(D;;GA;;;NU)(A;;GA;;;<our user>)(A;;GA;;;BA)(A;;GA;;;SY)": protected (nothing
 * inherited), remote (NETWORK) logons denied, full access for our user, the Administrators and
 * LocalSystem (a service). LocalFree it. NULL when it cannot be built. */
static PSECURITY_DESCRIPTOR owner_only_descriptor(void) {
  HANDLE token;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return NULL;
  union {
    TOKEN_USER user;
    char room[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
  } info;
  DWORD size = 0;
  BOOL ok = GetTokenInformation(token, TokenUser, &info, sizeof info, &size);
  CloseHandle(token);
  char *sid = NULL;
  if (!ok || !ConvertSidToStringSidA(info.user.User.Sid, &sid)) return NULL;
  char sddl[256];
  int n = snprintf(sddl, sizeof sddl, "D:P(D;;GA;;;NU)(A;;GA;;;%s)(A;;GA;;;BA)(A;;GA;;;SY)",
                   sid);
  LocalFree(sid);
  PSECURITY_DESCRIPTOR descriptor = NULL;
  if (n < 0 || (size_t)n >= sizeof sddl ||
      !ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl, SDDL_REVISION_1, &descriptor,
                                                            NULL))
    return NULL;
  return descriptor;
}

int platform_control_listen(uv_pipe_t *server, const char *name) {
  int rc = uv_pipe_bind(server, name);
  if (rc != 0) return rc; /* UV_EADDRINUSE: another process holds the name */
  uv_os_fd_t handle;
  rc = uv_fileno((uv_handle_t *)server, &handle);
  if (rc != 0) return rc;
  PSECURITY_DESCRIPTOR descriptor = owner_only_descriptor();
  PACL dacl = NULL;
  BOOL present = FALSE, defaulted = FALSE;
  DWORD error = ERROR_INVALID_SECURITY_DESCR;
  if (descriptor && GetSecurityDescriptorDacl(descriptor, &present, &dacl, &defaulted) && present)
    error = SetSecurityInfo(handle, SE_KERNEL_OBJECT,
                            DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                            NULL, NULL, dacl, NULL);
  if (descriptor) LocalFree(descriptor);
  /* Never listen unprotected: the caller closes the handle, and with it the pipe. */
  return error == ERROR_SUCCESS ? 0 : uv_translate_sys_error((int)error);
}

void platform_control_remove(const char *name) {
  (void)name; /* a named pipe vanishes with its last handle */
}

int platform_control_check_client(uv_pipe_t *connection, char *why, size_t why_size) {
  /* The DACL decided when the client opened the pipe: only the user, the Administrators and
   * LocalSystem, locally, get a handle at all. */
  (void)connection;
  (void)why;
  (void)why_size;
  return 0;
}

int platform_control_check_server(uv_pipe_t *connection, long pid, char *why,
                                  size_t why_size) {
  /* Anyone may create a pipe of a name not taken yet: make sure the master holds this one. */
  uv_os_fd_t handle;
  ULONG server_pid = 0;
  if (uv_fileno((uv_handle_t *)connection, &handle) != 0 ||
      !GetNamedPipeServerProcessId(handle, &server_pid)) {
    snprintf(why, why_size, "the pipe's server process cannot be read (error %lu)",
             (unsigned long)GetLastError());
    return -1;
  }
  if ((long)server_pid != pid) {
    snprintf(why, why_size, "the pipe is held by pid %lu, not by the master (pid %ld)",
             (unsigned long)server_pid, pid);
    return -1;
  }
  return 0;
}
