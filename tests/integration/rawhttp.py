"""A small raw-socket HTTP/1.x client for tests that need exact bytes on the wire.

httpx normalises requests and hides framing; these tests need to send malformed requests,
pipeline several at once, and see exactly when the server closes. Every socket operation is
bounded by a timeout.
"""

import socket
import time


class ResponseError(AssertionError):
    pass


class Response:
    def __init__(self, version, status, reason, headers, body, complete=True):
        self.version = version        # "HTTP/1.1"
        self.status = status          # int
        self.reason = reason          # str
        self.headers = headers        # [(lowercased name, value)], in order
        self.body = body              # bytes (de-chunked)
        self.complete = complete      # False when the connection ended mid-body

    def header(self, name, default=None):
        """The value of the first header called name (case-insensitive)."""
        name = name.lower()
        for n, v in self.headers:
            if n == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for n, v in self.headers if n == name]

    def __repr__(self):
        return f"<Response {self.status} {self.headers} body={self.body[:200]!r}>"


class RawConnection:
    def __init__(self, host, port, timeout=5.0, rcvbuf=None):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        if rcvbuf is not None:
            # Set before connect, so the window the server sees stays small.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.timeout = timeout
        self.buf = b""
        self.eof = False

    @classmethod
    def unix(cls, path, timeout=5.0):
        self = cls.__new__(cls)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.timeout = timeout
        self.buf = b""
        self.eof = False
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    def local_port(self):
        return self.sock.getsockname()[1]

    def send(self, data):
        self.sock.sendall(data)

    def fill(self, timeout=None):
        """Reads more bytes into the buffer. False on EOF/reset; raises socket.timeout."""
        if self.eof:
            return False
        self.sock.settimeout(self.timeout if timeout is None else timeout)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_until_close(self, timeout=None):
        """Everything until the server closes. Raises socket.timeout if it does not."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("server did not close the connection")
            if not self.fill(left):
                break
        data, self.buf = self.buf, b""
        return data

    def is_closed(self, timeout=2.0):
        """True when the server closes within timeout without sending anything more.

        Raises when bytes arrive instead (the server answered something it should not have).
        """
        if self.buf:
            raise ResponseError(f"unexpected bytes before close: {self.buf[:300]!r}")
        try:
            data = self.read_until_close(timeout)
        except socket.timeout:
            return False
        if data:
            raise ResponseError(f"unexpected bytes before close: {data[:300]!r}")
        return True

    def _read_line(self):
        while b"\r\n" not in self.buf:
            if not self.fill():
                raise ResponseError(f"connection closed mid-line; got {self.buf[:300]!r}")
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def _read_exact(self, n):
        while len(self.buf) < n:
            if not self.fill():
                return None
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_response(self, head=False, interim=False):
        """Reads one response. head=True: the request was HEAD (no body follows).

        1xx responses are skipped unless interim=True (then the 1xx itself is returned).
        Raises ResponseError when the connection closes before a status line.
        """
        while True:
            while not self.buf:
                if not self.fill():
                    raise ResponseError("connection closed before a response")
            status_line = self._read_line()
            parts = status_line.decode("latin-1").split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/"):
                raise ResponseError(f"bad status line {status_line!r}")
            version, status = parts[0], int(parts[1])
            reason = parts[2] if len(parts) > 2 else ""
            headers = []
            while True:
                line = self._read_line()
                if not line:
                    break
                name, sep, value = line.decode("latin-1").partition(":")
                if not sep:
                    raise ResponseError(f"bad header line {line!r}")
                headers.append((name.lower(), value.strip(" \t")))
            resp = Response(version, status, reason, headers, b"")
            if 100 <= status < 200:
                if interim:
                    return resp
                continue
            complete = True
            if head or status in (204, 304):
                body = b""
            elif "chunked" in (resp.header("transfer-encoding") or "").lower():
                body, complete = self._read_chunked()
            elif resp.header("content-length") is not None:
                n = int(resp.header("content-length"))
                body = self._read_exact(n)
                if body is None:
                    body, self.buf, complete = self.buf, b"", False
            else:
                body = self.read_until_close()
            resp.body = body
            resp.complete = complete
            return resp

    def _read_chunked(self):
        body = b""
        while True:
            try:
                size_line = self._read_line()
            except ResponseError:
                return body, False
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                # trailers, up to the empty line
                while self._read_line():
                    pass
                return body, True
            data = self._read_exact(size + 2)
            if data is None:
                return body + self.buf, False
            if data[-2:] != b"\r\n":
                raise ResponseError(f"chunk not followed by CRLF: {data[-10:]!r}")
            body += data[:-2]


def parse_responses(data, heads=()):
    """Splits bytes holding several complete responses (e.g. read until close).

    heads: indexes of responses that answer HEAD requests (no body).
    """
    conn = _BufferConnection(data)
    out = []
    while conn.buf:
        out.append(conn.read_response(head=len(out) in heads))
    return out


class _BufferConnection(RawConnection):
    """A RawConnection over bytes already received."""

    def __init__(self, data):
        self.buf = data
        self.eof = True
        self.timeout = 1.0

    def fill(self, timeout=None):
        return False


def request_bytes(method="GET", target="/", version="HTTP/1.1", headers=(), body=b"",
                  host="t"):
    """A well-formed request; headers is a list of (name, value). Adds Host for HTTP/1.1."""
    lines = [f"{method} {target} {version}"]
    if host is not None and version == "HTTP/1.1":
        lines.append(f"Host: {host}")
    for name, value in headers:
        lines.append(f"{name}: {value}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + body
