"""Helpers for the master/worker tests (test_master_*.py): which worker answered, waiting on
process state, and a keep-alive load client that counts failed requests.

Worker pids come from the probe's /pid endpoint (getpid() of the worker that served) and from
/proc (the children of a master, see conftest.child_pids).
"""

import re
import socket
import threading
import time
from pathlib import Path

from conftest import pid_alive
from rawhttp import RawConnection, ResponseError, request_bytes

PID_REQUEST = request_bytes("GET", "/pid", headers=[("Connection", "close")])


def wait_for(predicate, timeout, interval=0.02):
    """Polls predicate until it returns something true; returns it, or None after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def wait_gone(pid, timeout):
    """True once pid no longer runs (exited: gone or a zombie) within timeout."""
    return bool(wait_for(lambda: not pid_alive(pid), timeout))


def get_pid(srv, timeout=5.0, host=None, port=None):
    """The pid of the worker that serves one fresh connection (GET /pid)."""
    with RawConnection(host or srv.host, port or srv.port, timeout=timeout) as conn:
        conn.send(PID_REQUEST)
        resp = conn.read_response()
    assert resp.status == 200, resp
    return int(resp.body)


def wait_for_pid_answer(srv, pids, timeout):
    """Sends fresh /pid requests until one is answered by a pid in `pids`; returns that pid
    or None. Every answer must be a 200."""
    pids = set(pids)

    def attempt():
        pid = get_pid(srv)
        return pid if pid in pids else None
    return wait_for(attempt, timeout, interval=0.01)


def read_pidfile(path):
    """The pid in a pidfile, or None when it is missing, empty or half written."""
    try:
        text = Path(path).read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


LOG_LINE = re.compile(r"^\[[^\]]*\] \[(\d+)\] \[([A-Z]+)\]", re.M)


def log_pids(text):
    """The distinct pids that wrote error log lines (gunicorn's "[time] [pid] [LEVEL]")."""
    return {int(m.group(1)) for m in LOG_LINE.finditer(text)}


def log_lines(text, *needles):
    """The log lines that contain every one of needles."""
    return [line for line in text.splitlines() if all(n in line for n in needles)]


class LoadClient:
    """A few threads doing keep-alive GETs against a server until stopped.

    A request on a reused keep-alive connection that the server closed before any byte of
    the response (EOF, reset, or a failed send) is retried once on a new connection, as
    every real client does for an idempotent request; only a failure after that retry, a
    failure on a fresh connection, a non-200 answer or a timeout counts as a failure.
    """

    def __init__(self, host, port, path="/pid", threads=4, timeout=5.0, pause=0.0):
        self.host, self.port = host, port
        self.request = request_bytes("GET", path)
        self.threads_n = threads
        self.timeout = timeout
        self.pause = pause
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.retries = 0
        self.failures = []     # (time, description, pid that last served the connection)
        self.answers = []      # (time, pid) for /pid, (time, None) otherwise
        self.max_latency = 0.0
        self.threads = []

    def _connect(self):
        return RawConnection(self.host, self.port, timeout=self.timeout)

    def _fail(self, what, last_pid):
        with self.lock:
            self.failures.append((time.monotonic(), what, last_pid))

    def _exchange(self, conn):
        """One request; returns (response, None) or (None, (retryable, description))."""
        try:
            conn.send(self.request)
        except socket.timeout:
            return None, (False, "send timed out")
        except OSError as exc:
            return None, (True, f"send failed: {exc!r}")
        try:
            resp = conn.read_response()
        except socket.timeout:
            return None, (False, "no response within the timeout")
        except ResponseError as exc:
            # Nothing of a response arrived: the server closed the idle connection.
            return None, (not conn.buf and "closed before a response" in str(exc),
                          f"{exc} (buffered {conn.buf[:100]!r})")
        except OSError as exc:
            return None, (not conn.buf, f"receive failed: {exc!r}")
        return resp, None

    def _run(self):
        conn, served, last_pid = None, 0, None
        while not self.stop_event.is_set():
            start = time.monotonic()
            if conn is None:
                try:
                    conn, served = self._connect(), 0
                except OSError as exc:
                    self._fail(f"connect failed: {exc!r}", None)
                    time.sleep(0.05)
                    continue
            resp, err = self._exchange(conn)
            if err is not None and err[0] and served > 0:
                # The retry every client makes, once, on a new connection.
                conn.close()
                with self.lock:
                    self.retries += 1
                try:
                    conn, served = self._connect(), 0
                except OSError as exc:
                    conn = None
                    self._fail(f"connect for the retry failed: {exc!r}", last_pid)
                    continue
                resp, err = self._exchange(conn)
            if err is not None:
                self._fail(err[1] + ("" if served else " (fresh connection)"), last_pid)
                conn.close()
                conn = None
                continue
            latency = time.monotonic() - start
            if resp.status != 200 or not resp.complete:
                self._fail(f"bad response {resp!r}", last_pid)
                conn.close()
                conn = None
                continue
            served += 1
            pid = int(resp.body) if resp.body.isdigit() else None
            last_pid = pid
            with self.lock:
                self.ok += 1
                self.answers.append((time.monotonic(), pid))
                self.max_latency = max(self.max_latency, latency)
            if (resp.header("connection") or "").lower() == "close":
                conn.close()
                conn = None
            if self.pause:
                time.sleep(self.pause)
        if conn is not None:
            conn.close()

    def start(self):
        for _ in range(self.threads_n):
            t = threading.Thread(target=self._run, daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=self.timeout + 5)
        alive = [t for t in self.threads if t.is_alive()]
        assert not alive, f"{len(alive)} load threads did not stop"
        return self

    def pids_since(self, when):
        with self.lock:
            return {pid for t, pid in self.answers if t >= when}

    def summary(self):
        return (f"{self.ok} ok, {self.retries} retried, {len(self.failures)} failed; "
                f"first failures: {self.failures[:5]}")


def start_slow_request(srv, path, result):
    """Sends GET path on a fresh connection in a thread; the response (or error) lands in
    result, and result["done"] is when (time.monotonic()). Returns the thread."""
    def run():
        try:
            with srv.raw(timeout=15) as conn:
                conn.send(request_bytes("GET", path))
                result["resp"] = conn.read_response()
        except Exception as exc:  # reported by the test's assertions
            result["error"] = exc
        result["done"] = time.monotonic()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t
