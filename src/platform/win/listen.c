/* listen.c - Windows listening sockets. See platform.h. */
#include "platform/platform.h"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <stdio.h>
#include <uv.h>

static int socket_error(void) { return uv_translate_sys_error(WSAGetLastError()); }

/* Sockets asgid opens are never inherited: spawned workers get their listeners over their
 * channel (WSADuplicateSocketW, which libuv's uv_write2 does), nothing else needs them. */
static SOCKET open_socket(int family) {
  return WSASocketW(family, SOCK_STREAM, IPPROTO_TCP, NULL, 0,
                    WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
}

int platform_listen_tcp(const struct sockaddr *addr, int backlog, int reuse_port,
                        platform_socket *out) {
  if (reuse_port) return UV_ENOTSUP; /* Windows has no SO_REUSEPORT */
  int family = addr->sa_family;
  SOCKET s = open_socket(family);
  if (s == INVALID_SOCKET) return socket_error();
  BOOL on = TRUE;
  /* SO_EXCLUSIVEADDRUSE, never SO_REUSEADDR: on Windows the latter lets another process bind
   * the same address and take connections meant for asgid. (A restarted asgid rebinds while
   * old connections sit in TIME_WAIT without it: Windows allows that by default.) */
  int len = family == AF_INET6 ? (int)sizeof(struct sockaddr_in6) : (int)sizeof(struct sockaddr_in);
  if (setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&on, sizeof on) != 0 ||
      (family == AF_INET6 &&
       setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, (const char *)&on, sizeof on) != 0) ||
      bind(s, addr, len) != 0 || listen(s, backlog) != 0) {
    int err = socket_error();
    closesocket(s);
    return err;
  }
  *out = s;
  return 0;
}

/* libuv's pipes on Windows are named pipes, which cannot be handed to a spawned worker: the
 * capability checks refuse unix: binds at start. */
int platform_listen_unix(const char *path, int backlog, unsigned mode, platform_socket *out) {
  return UV_ENOSYS;
}

void platform_close_socket(platform_socket s) {
  if (s != PLATFORM_INVALID_SOCKET) closesocket(s);
}

/* A second handle on the same socket for this process (never DuplicateHandle, which layered
 * providers do not support). */
platform_socket platform_dup_socket(platform_socket s) {
  WSAPROTOCOL_INFOW info;
  if (WSADuplicateSocketW(s, GetCurrentProcessId(), &info) != 0) return PLATFORM_INVALID_SOCKET;
  SOCKET copy = WSASocketW(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, &info, 0,
                           WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  return copy == INVALID_SOCKET ? PLATFORM_INVALID_SOCKET : copy;
}

int platform_describe_listener(platform_socket s, int *is_unix, char *host, size_t host_size,
                               int *port) {
  BOOL accepting = FALSE;
  int optlen = sizeof accepting;
  if (getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, (char *)&accepting, &optlen) != 0)
    return socket_error();
  if (!accepting) return UV_EINVAL;
  struct sockaddr_storage addr;
  int len = sizeof addr;
  if (getsockname(s, (struct sockaddr *)&addr, &len) != 0) return socket_error();
  *is_unix = 0;
  if (addr.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&addr)->sin6_addr, host, host_size);
    *port = ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
  } else if (addr.ss_family == AF_INET) {
    inet_ntop(AF_INET, &((struct sockaddr_in *)&addr)->sin_addr, host, host_size);
    *port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
  } else {
    return UV_EAFNOSUPPORT;
  }
  return 0;
}
