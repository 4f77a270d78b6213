#!/usr/bin/python3
"""Hold many idle keep-alive connections open against a local HTTP server and measure
what they cost it.

Each connection sends one complete request and reads the whole response, then stays open
and silent: that is what a browser or a connection pool leaves behind. With all of them
held open the script
  - measures the server's resident memory (VmRSS over its process tree) before and after,
  - times a fresh request on a new connection (an idle crowd must not slow anyone down),
  - checks how many idle connections the server has already closed,
  - sends a second request on a sample of the idle connections and checks the answers.

Loopback only, one thread, selectors-based and non-blocking; connections are opened in a
bounded window (--batch) so the server's listen queue never overflows, and the whole run
has a hard time limit. The last line of output is machine-readable for run.sh:
    RESULT key=value ...
Exit status is 0 only when every connection and every check succeeded.
"""
import argparse
import errno
import ipaddress
import os
import resource
import selectors
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proctree  # noqa: E402  (same folder; see sys.path line above)

REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


class ResponseError(Exception):
    pass


def parse_response(buf):
    """Return the length of the first complete HTTP/1.1 response in buf, or None if it is
    not complete yet. Raises ResponseError for anything but a 2xx keep-alive response
    (the benchmark app answers 200 with a fixed body)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if len(buf) > 65536:
            raise ResponseError("response header block larger than 64 KiB")
        return None
    lines = buf[:end].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ResponseError(f"bad status line {lines[0]!r}")
    if not 200 <= int(parts[1]) < 300:
        raise ResponseError(f"status {parts[1]}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    if headers.get("connection") == "close":
        raise ResponseError("server answered Connection: close")
    body_start = end + 4
    if "content-length" in headers:
        total = body_start + int(headers["content-length"])
        return total if len(buf) >= total else None
    if headers.get("transfer-encoding") == "chunked":
        pos = body_start
        while True:  # walk the chunks: size line, data, CRLF; a 0 size ends the body
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                return None
            size = int(buf[pos:eol].split(b";")[0], 16)
            if size == 0:
                trailer_end = buf.find(b"\r\n\r\n", eol)  # no trailers: "0\r\n\r\n"
                return trailer_end + 4 if trailer_end >= 0 else None
            pos = eol + 2 + size + 2
            if len(buf) < pos:
                return None
    raise ResponseError("response has neither Content-Length nor chunked body")


class Conn:
    """One client connection and where it is in its single request/response exchange."""

    __slots__ = ("sock", "out", "buf", "state")

    def __init__(self, sock):
        self.sock = sock
        self.out = REQUEST
        self.buf = b""
        self.state = "connecting"  # -> sending -> reading -> idle


def exchange(sel, conns, deadline, errors):
    """Drive every connection in conns (already registered in sel) through one request
    and response. Returns when all are idle or failed; a failed one is closed and
    its error appended to errors."""
    pending = len(conns)
    while pending:
        if time.monotonic() > deadline:
            raise TimeoutError("time limit reached with %d exchanges unfinished" % pending)
        for key, _ in sel.select(timeout=1.0):
            c = key.data
            try:
                if c.state == "connecting":
                    err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise OSError(err, os.strerror(err))
                    c.state = "sending"
                if c.state == "sending":
                    c.out = c.out[c.sock.send(c.out):]
                    if not c.out:
                        c.state = "reading"
                        sel.modify(c.sock, selectors.EVENT_READ, c)
                    continue
                data = c.sock.recv(65536)
                if not data:
                    raise ResponseError("server closed the connection")
                c.buf += data
                n = parse_response(c.buf)
                if n is None:
                    continue
                if len(c.buf) > n:
                    raise ResponseError("unexpected bytes after the response")
                c.state, c.buf = "idle", b""
                sel.unregister(c.sock)
                pending -= 1
            except (OSError, ResponseError, ValueError) as e:
                if isinstance(e, OSError) and e.errno in (errno.EAGAIN, errno.EINTR):
                    continue
                errors.append(str(e))
                sel.unregister(c.sock)
                c.sock.close()
                c.state = "failed"
                pending -= 1


def open_idle(host, port, n, window, deadline, errors):
    """Open n connections, at most `window` exchanges in flight at a time, each doing one
    request/response; return the list of those left idle and open."""
    idle = []
    sel = selectors.DefaultSelector()
    opened = 0
    while opened < n:
        batch = []
        count = min(window, n - opened)
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            rc = s.connect_ex((host, port))
            if rc not in (0, errno.EINPROGRESS):
                s.close()
                errors.append(f"connect: {os.strerror(rc)}")
                continue
            c = Conn(s)
            sel.register(s, selectors.EVENT_WRITE, c)
            batch.append(c)
        opened += count
        exchange(sel, batch, deadline, errors)
        idle.extend(c for c in batch if c.state == "idle")
        if len(errors) > 20:
            break  # the server is failing; no point in opening thousands more
    sel.close()
    return idle


def count_closed(idle):
    """How many idle connections are readable right now: for a silent server that means
    it closed them (EOF or reset)."""
    sel = selectors.DefaultSelector()
    for c in idle:
        sel.register(c.sock, selectors.EVENT_READ, c)
    n = len(sel.select(timeout=0))
    sel.close()
    return n


def fresh_request_ms(host, port):
    """Latency of one request on a brand-new blocking connection, connect included."""
    t0 = time.monotonic()
    with socket.create_connection((host, port), timeout=5.0) as s:
        s.sendall(REQUEST)
        buf = b""
        while True:
            data = s.recv(65536)
            if not data:
                raise ResponseError("server closed the fresh connection")
            buf += data
            if parse_response(buf) is not None:
                break
    return (time.monotonic() - t0) * 1000.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--server-pid", type=int, required=True,
                    help="server (master) pid whose process tree's RSS is measured")
    ap.add_argument("--batch", type=int, default=256,
                    help="exchanges in flight while opening (keep below the listen backlog)")
    ap.add_argument("--sample", type=int, default=100,
                    help="idle connections that send a second request at the end")
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds, whole run")
    args = ap.parse_args()

    if not ipaddress.ip_address(args.host).is_loopback:
        sys.exit("idle_clients: loopback addresses only")
    # Backstop for anything the deadlines below miss (a blocking call that hangs):
    # SIGALRM's default action ends the process.
    signal.alarm(int(args.time_limit) + 15)
    deadline = time.monotonic() + args.time_limit

    # One fd per connection plus a few for Python itself and the checks.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.connections + 100
    if hard != resource.RLIM_INFINITY and hard < need:
        sys.exit(f"idle_clients: open-file hard limit is {hard}, {need} needed for "
                 f"{args.connections} connections; raise it (ulimit -Hn, limits.conf) "
                 "or use fewer --connections")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    # A fresh request before the crowd arrives: the baseline for the one timed later, and
    # it also warms the client's own code path so the later figure is the server's.
    try:
        baseline_ms = fresh_request_ms(args.host, args.port)
    except (OSError, ResponseError) as e:
        sys.exit(f"idle_clients: the server does not answer a first request: {e}")
    rss_before = proctree.rss_kib(args.server_pid)
    errors = []
    t0 = time.monotonic()
    idle = open_idle(args.host, args.port, args.connections, args.batch, deadline, errors)
    open_s = time.monotonic() - t0
    time.sleep(0.5)  # let the server finish any bookkeeping after the last response
    rss_after = proctree.rss_kib(args.server_pid)
    growth = (rss_after - rss_before) * 1024 / max(len(idle), 1)

    print(f"  opened {len(idle)}/{args.connections} idle keep-alive connections "
          f"in {open_s:.1f} s ({len(errors)} failed)")
    for e in sorted(set(errors))[:5]:
        print(f"  connection error: {e} (x{errors.count(e)})")
    print(f"  server RSS before {rss_before} KiB, after {rss_after} KiB: "
          f"{growth:.0f} bytes = {growth / 1024:.2f} KiB per connection")

    closed = count_closed(idle)
    print(f"  idle connections already closed by the server: {closed}")

    fresh = []
    for _ in range(3):
        try:
            fresh.append(fresh_request_ms(args.host, args.port))
        except (OSError, ResponseError) as e:
            errors.append(f"fresh request: {e}")
    print(f"  fresh request latency: {baseline_ms:.2f} ms with no idle connections, "
          + ", ".join(f"{ms:.2f} ms" for ms in fresh) + f" with {len(idle)} open")

    # Second request on an evenly spread sample of the idle connections.
    step = max(len(idle) // max(args.sample, 1), 1)
    sample = idle[::step][:args.sample]
    sample_errors = []
    sel = selectors.DefaultSelector()
    for c in sample:
        c.out, c.state = REQUEST, "sending"
        sel.register(c.sock, selectors.EVENT_WRITE, c)
    exchange(sel, sample, min(deadline, time.monotonic() + 10.0), sample_errors)
    sel.close()
    sample_ok = len(sample) - len(sample_errors)
    print(f"  second request on {len(sample)} idle connections: {sample_ok} answered")
    for e in sorted(set(sample_errors))[:5]:
        print(f"  sample error: {e} (x{sample_errors.count(e)})")

    for c in idle:
        c.sock.close()

    ok = (not errors and len(idle) == args.connections and closed == 0
          and sample_ok == len(sample) and len(fresh) == 3 and max(fresh) < 1000.0)
    print(f"RESULT ok={int(ok)} connections={len(idle)} rss_before_kib={rss_before} "
          f"rss_after_kib={rss_after} bytes_per_conn={growth:.0f} "
          f"fresh_ms={max(fresh) if fresh else -1:.2f} sample_ok={sample_ok}/{len(sample)} "
          f"closed={closed}")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except TimeoutError as e:
        sys.exit(f"idle_clients: {e}")
