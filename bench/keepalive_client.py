#!/usr/bin/python3
"""Send exactly N requests to a local HTTP server over C keep-alive connections.

For run.sh's callgrind mode, which counts the instructions a server executes for N1 and
then N2 requests and divides the difference by N2 - N1: that only works if the server sees
exactly N requests (plus a fixed number of extra ones), so wrk, which runs for a duration,
will not do.

  1. Readiness: connect until the port accepts (the server may be starting under valgrind,
     50 times slower than usual), bounded by --wait; give up at once if --server-pid
     exits. Then ONE request on that connection, answered however long it takes (within
     --wait), which is then closed. Polling with requests of their own (curl in a loop)
     would add a varying number of requests, some queued and answered after the poller
     gave up on them.
  2. Open C connections, then keep each busy with one request at a time (no pipelining)
     until N requests have been sent; every response must be 200, keep-alive, and carry
     exactly the body given by --body-file.
  3. Close the C connections and print one machine-readable line:
         RESULT requests=N connections=C seconds=S

So the server sees 1 + N requests on 1 + C connections; the callgrind mode's difference
removes the 1 and the C. Exit status is 0 only when all of it succeeded.
"""
import argparse
import os
import selectors
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idle_clients import ResponseError, parse_response  # noqa: E402  (same folder)

# Host: localhost, not an arbitrary name: Django answers 400 to hosts not in ALLOWED_HOSTS.
REQUEST = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"


def check(buf, n, body):
    """The complete response buf[:n] must be a 200 carrying exactly `body`."""
    status = buf[:buf.find(b"\r\n")]
    if status.split(b" ")[1:2] != [b"200"]:
        raise ResponseError(f"status line {status!r}")
    got = buf[buf.find(b"\r\n\r\n") + 4:n]
    if got != body:
        raise ResponseError(f"body {got[:100]!r}, expected {body[:100]!r}")


def server_gone(pid):
    """True once the process has exited; a zombie (state Z, not yet waited for by run.sh)
    counts as exited."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return True
    return stat[stat.rindex(b")") + 2:][:1] == b"Z"


def wait_ready(port, body, pid, deadline):
    """Connect until the server accepts, then send one request and read its answer."""
    while True:
        if pid and server_gone(pid):
            raise ResponseError("the server exited during startup")
        if time.monotonic() > deadline:
            raise TimeoutError("the port did not accept a connection in time")
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=1.0)
            break
        except OSError:
            time.sleep(0.2)
    with s:
        s.sendall(REQUEST)
        buf = b""
        while True:
            s.settimeout(max(deadline - time.monotonic(), 0.1))
            try:
                data = s.recv(65536)
            except socket.timeout:
                raise TimeoutError("no answer to the first request in time") from None
            if not data:
                raise ResponseError("the server closed the connection of the first request")
            buf += data
            n = parse_response(buf)
            if n is not None:
                check(buf, n, body)
                return


def run(port, requests, connections, body, deadline):
    """Send exactly `requests` requests over `connections` keep-alive connections."""
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(connections):
        s = socket.create_connection(("127.0.0.1", port), timeout=10.0)
        s.setblocking(False)
        socks.append(s)
    bufs = {s: b"" for s in socks}
    sent = answered = 0
    for s in socks:
        if sent < requests:
            s.sendall(REQUEST)  # a few dozen bytes: always fit the empty send buffer
            sent += 1
            sel.register(s, selectors.EVENT_READ)
    while answered < requests:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{answered} of {requests} requests answered in time")
        for key, _ in sel.select(timeout=1.0):
            s = key.fileobj
            data = s.recv(65536)
            if not data:
                raise ResponseError("the server closed a keep-alive connection")
            buf = bufs[s] + data
            n = parse_response(buf)
            if n is None:
                bufs[s] = buf
                continue
            if len(buf) > n:
                raise ResponseError("unexpected bytes after a response")
            check(buf, n, body)
            bufs[s] = b""
            answered += 1
            if sent < requests:
                s.sendall(REQUEST)
                sent += 1
            else:
                sel.unregister(s)
    sel.close()
    for s in socks:
        s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--requests", type=int, required=True)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--body-file", required=True, help="the exact body every response has")
    ap.add_argument("--server-pid", type=int, default=0,
                    help="stop waiting for readiness as soon as this process exits")
    ap.add_argument("--wait", type=float, default=120.0,
                    help="seconds the server has to start and answer a first request")
    ap.add_argument("--time-limit", type=float, default=1800.0,
                    help="seconds for the N requests, after the server is ready")
    args = ap.parse_args()
    if args.requests < 1 or args.connections < 1:
        sys.exit("keepalive_client: --requests and --connections must be positive")
    with open(args.body_file, "rb") as f:
        body = f.read()
    # Backstop for a blocking call the deadlines miss: SIGALRM's default action ends us.
    signal.alarm(int(args.wait + args.time_limit) + 30)
    try:
        wait_ready(args.port, body, args.server_pid, time.monotonic() + args.wait)
        t0 = time.monotonic()
        run(args.port, args.requests, args.connections, body, t0 + args.time_limit)
    except (OSError, ResponseError, TimeoutError, ValueError) as e:
        sys.exit(f"keepalive_client: {e}")
    print(f"RESULT requests={args.requests} connections={args.connections} "
          f"seconds={time.monotonic() - t0:.2f}")


if __name__ == "__main__":
    main()
