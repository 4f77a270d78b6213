"""The worker's side of the master channel, end to end, with this test as the master.

A real `asgid --spawned-worker` gets its channel as descriptor 3 (a Unix socket: what a libuv
IPC pipe is on POSIX), its bootstrap on it (src/worker/spawned.c, bootstrap_format.h: a header
line, the settings as "NAME LEN\\nVALUE" records, then each listener's record with the socket
attached by SCM_RIGHTS), and then frames in the wire format documented in
src/worker/channel_codec.h, which this file encodes and decodes itself (not through the C
codec), so that a drift of either side from the documented format fails here.

The worker does not depend on how a master starts workers, so this runs once per build (the
spawn run of the suite, or a run that names no worker_start), not in the fork run.
"""
import os
import re
import signal
import socket
import struct
import time

import pytest

from conftest import ASGID_BIN, SANITIZER_MARKERS, WORKER_START, app_path

pytestmark = pytest.mark.skipif(
    WORKER_START == "fork", reason="the worker's channel does not depend on worker_start: "
    "tested once, in the spawn run")

# channel_codec.h
VERSION = 1
HEADER = struct.Struct("<BBHI")  # version, kind, flags, payload length
FIELD = struct.Struct("<HH")     # id, count; then count x u64
PAYLOAD_MAX = 16384
READY, HEARTBEAT, RETIRE, STOP, REOPEN_LOGS, DIAGNOSE = 1, 2, 3, 16, 17, 18
REQUESTS, CONNECTIONS, RSS, GRACEFUL = 1, 2, 3, 4
# the metrics' counters in a heartbeat (net/request_stats.h: 8 method x 5 status classes,
# 12 duration buckets)
IN_FLIGHT, WEBSOCKETS, BYTES_IN, BYTES_OUT, CPU_USEC = 5, 6, 7, 8, 9
REQUESTS_BY_CLASS, DURATIONS, DURATION_SUM = 10, 11, 12
METRICS_FIELDS = {IN_FLIGHT: 1, WEBSOCKETS: 1, BYTES_IN: 1, BYTES_OUT: 1, CPU_USEC: 1,
                  REQUESTS_BY_CLASS: 40, DURATIONS: 12, DURATION_SUM: 1}

EXIT_BOOT_ERROR = 3  # worker.h: WORKER_EXIT_BOOT_ERROR


def frame(kind, fields=(), version=VERSION, flags=0, length=None):
    """One frame: fields are (id, [values])."""
    payload = b"".join(FIELD.pack(fid, len(values)) + struct.pack(f"<{len(values)}Q", *values)
                       for fid, values in fields)
    return HEADER.pack(version, kind, flags,
                       len(payload) if length is None else length) + payload


def stop(graceful):
    return frame(STOP, [(GRACEFUL, [1 if graceful else 0])])


def decode_frames(data):
    """([(kind, {field id: [values]})], the bytes of an incomplete frame), or raises on
    anything the format does not allow."""
    frames = []
    while len(data) >= HEADER.size:
        version, kind, flags, length = HEADER.unpack_from(data)
        assert (version, flags) == (VERSION, 0), f"bad header {data[:8].hex()}"
        assert length <= PAYLOAD_MAX
        if len(data) < HEADER.size + length:
            break
        payload, data = data[HEADER.size:HEADER.size + length], data[HEADER.size + length:]
        fields = {}
        while payload:
            fid, count = FIELD.unpack_from(payload)
            fields[fid] = list(struct.unpack_from(f"<{count}Q", payload, FIELD.size))
            payload = payload[FIELD.size + 8 * count:]
        frames.append((kind, fields))
    return frames, data


class SpawnedWorker:
    """One `asgid --spawned-worker` whose master is this test."""

    def __init__(self, workdir, **settings):
        self.workdir = workdir
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.channel, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        # timeout 2 s: a heartbeat every 500 ms, which in_flight waits for
        self.settings = {"app": app_path("probe"), "error_log": "-", "timeout": "2s", **settings}
        self.stderr_path = workdir / "worker.stderr"
        env = dict(os.environ, PROBE_STARTUP_DELAY_MS="0")
        devnull = os.open(os.devnull, os.O_RDWR)
        stderr = os.open(self.stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            self.pid = os.posix_spawn(
                str(ASGID_BIN), [str(ASGID_BIN), "--spawned-worker"], env,
                file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 0),
                              (os.POSIX_SPAWN_DUP2, devnull, 1),
                              (os.POSIX_SPAWN_DUP2, stderr, 2),
                              (os.POSIX_SPAWN_DUP2, child_end.fileno(), 3)],
                setsid=True)
        finally:
            os.close(devnull)
            os.close(stderr)
            child_end.close()
        self.status = None
        self.pending = b""
        self.frames = []

    # ---------------------------------------------------------------- the bootstrap

    def records(self):
        """The settings, as asgid_settings_serialize writes them."""
        return b"".join(f"{name} {len(str(v).encode())}\n".encode() + str(v).encode()
                        for name, v in self.settings.items())

    def bootstrap(self, after=b""):
        """Sends the bootstrap; `after` goes in the same write as its last bytes."""
        records = self.records()
        self.channel.sendall(f"asgid-bootstrap {VERSION} 1 1 {len(records)}\n".encode() + records)
        name, host = f"127.0.0.1:{self.port}".encode(), b"127.0.0.1"
        record = f"listener tcp {self.port} {len(name)} {len(host)}\n".encode() + name + host
        data = record + after
        assert socket.send_fds(self.channel, [data], [self.listener.fileno()]) == len(data)

    # ---------------------------------------------------------------- frames

    def next_frame(self, timeout=10.0):
        """The next frame the worker sends: (kind, fields), or None when the channel closed."""
        deadline = time.monotonic() + timeout
        while not self.frames:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no frame from the worker in {timeout} s\n{self.log()}"
            self.channel.settimeout(remaining)
            try:
                data = self.channel.recv(65536)
            except socket.timeout:
                continue
            if not data:
                assert not self.pending, "the channel closed inside a frame"
                return None
            self.frames, self.pending = decode_frames(self.pending + data)
        return self.frames.pop(0)

    def drain(self):
        """Drops every frame the worker has written so far."""
        self.channel.setblocking(False)
        try:
            while True:
                data = self.channel.recv(65536)
                if not data:
                    break
                self.frames, self.pending = decode_frames(self.pending + data)
        except BlockingIOError:
            pass
        self.frames = []

    def heartbeat(self, timeout=10.0):
        kind, fields = self.next_frame(timeout)
        assert kind == HEARTBEAT, (kind, fields)
        return fields

    def wait_ready(self):
        kind, fields = self.next_frame()
        assert kind == READY, f"first frame {kind} {fields}\n{self.log()}"
        return fields

    def in_flight(self, conn):
        """Returns once a request sent on conn (its bytes already in the worker's socket) is
        surely in the worker's hands: a heartbeat sent after them counts the connection (it
        was accepted, so the next poll of the loop reads it), and the next heartbeat comes
        after that poll."""
        self.drain()
        while self.heartbeat()[CONNECTIONS] != [1]:
            pass
        self.heartbeat()

    def send(self, data):
        self.channel.sendall(data)

    # ---------------------------------------------------------------- the process

    def wait_exit(self, timeout=10.0):
        """The exit code (negative: killed by that signal), or None if still running."""
        deadline = time.monotonic() + timeout
        while self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
            elif time.monotonic() > deadline:
                return None
            else:
                time.sleep(0.02)
        return self.status

    def log(self):
        return self.stderr_path.read_text(errors="replace")

    def wait_log(self, pattern, timeout=10.0, path=None):
        deadline = time.monotonic() + timeout
        path = path or self.stderr_path
        while time.monotonic() < deadline:
            text = path.read_text(errors="replace") if path.exists() else ""
            if re.search(pattern, text):
                return text
            time.sleep(0.02)
        pytest.fail(f"no line matching {pattern!r} in {path.name}:\n{self.log()}")

    def close(self):
        if self.status is None and self.wait_exit(0) is None:
            os.kill(self.pid, signal.SIGKILL)
            self.wait_exit()
        self.channel.close()
        self.listener.close()


@pytest.fixture
def worker(tmp_path):
    """Factory: worker(**settings) -> a SpawnedWorker (not bootstrapped yet)."""
    started = []

    def start(**settings):
        w = SpawnedWorker(tmp_path, **settings)
        started.append(w)
        return w

    yield start
    for w in started:
        w.close()
        for marker in SANITIZER_MARKERS:
            assert marker not in w.log(), f"sanitizer report:\n{w.log()}"


def connect(w):
    conn = socket.create_connection(("127.0.0.1", w.port), timeout=10)
    conn.settimeout(10)
    return conn


def read_all(conn):
    """Everything until the server closes, then closes too (the server lingers otherwise)."""
    data = b""
    try:
        while chunk := conn.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    conn.close()
    return data


def start_upload(w):
    """A connection with a request in flight: /echo, its body half sent."""
    conn = connect(w)
    conn.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                 b"Content-Length: 10\r\n\r\nhello")
    w.in_flight(conn)
    return conn


# -------------------------------------------------------------------- worker -> master


def test_ready_then_heartbeats_every_interval(worker):
    # timeout 2 s (the fixture's): a heartbeat every 500 ms (channel_heartbeat_interval_ms)
    w = worker()
    w.bootstrap()
    ready = w.wait_ready()
    assert set(ready) == {RSS} and ready[RSS][0] > 0, ready
    first = w.heartbeat()
    assert set(first) == {REQUESTS, CONNECTIONS, RSS, *METRICS_FIELDS}, first
    assert first[REQUESTS] == [0] and first[CONNECTIONS] == [0] and first[RSS][0] > 0
    assert {f: len(first[f]) for f in METRICS_FIELDS} == METRICS_FIELDS
    assert sum(first[REQUESTS_BY_CLASS]) == 0 and first[BYTES_IN] == [0]
    start = time.monotonic()
    for _ in range(3):
        w.heartbeat()
    # Timers never fire early: three intervals at least (no upper bound: a loaded machine).
    assert time.monotonic() - start >= 3 * 0.5 - 0.05
    conn = connect(w)
    conn.sendall(b"GET /pid HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert read_all(conn).startswith(b"HTTP/1.1 200")
    w.drain()
    last = w.heartbeat()
    assert last[REQUESTS] == [1]
    # GET (method class 0), 2xx (status class 1): entry 0 * 5 + 1 of the table
    assert last[REQUESTS_BY_CLASS][1] == 1 and sum(last[REQUESTS_BY_CLASS]) == 1
    assert sum(last[DURATIONS]) == 1
    assert last[BYTES_IN][0] > 0 and last[BYTES_OUT][0] > 0


# -------------------------------------------------------------------- master -> worker


def test_a_graceful_stop_lets_the_request_in_flight_finish(worker):
    w = worker(graceful_timeout="30s")
    w.bootstrap()
    w.wait_ready()
    conn = start_upload(w)
    w.send(stop(graceful=True))
    w.wait_log(r"\[worker 1\] stopping \(graceful\)")
    conn.sendall(b"world")
    response = read_all(conn)
    assert response.startswith(b"HTTP/1.1 200") and response.endswith(b"helloworld"), response
    assert w.wait_exit() == 0, w.log()
    assert "stopped after 1 request(s)" in w.log()


def test_a_fast_stop_closes_the_request_in_flight_at_once(worker):
    w = worker(graceful_timeout="30s")
    w.bootstrap()
    w.wait_ready()
    conn = start_upload(w)
    w.send(stop(graceful=False))
    # Far sooner than graceful_timeout, which a graceful stop would wait for this upload.
    assert w.wait_exit(timeout=10) == 0, w.log()
    assert read_all(conn) == b""
    assert "stopping (fast)" in w.log()


def test_a_stop_in_the_same_write_as_the_end_of_the_bootstrap_is_acted_on(worker):
    # The bootstrap reader reads it along with the last listener record; the link must
    # deliver it (before 0ab626b it was lost and the worker served on).
    w = worker(graceful_timeout="30s")
    w.bootstrap(after=stop(graceful=True))
    assert w.wait_exit(timeout=10) == 0, w.log()
    assert re.search(r"\[worker 1\] stopping \(graceful\)", w.log())


def test_reopen_logs_reopens_the_error_log(worker, tmp_path):
    error_log = tmp_path / "error.log"
    w = worker(error_log=str(error_log))
    w.bootstrap()
    w.wait_ready()
    rotated = tmp_path / "error.log.1"
    error_log.rename(rotated)
    w.send(frame(REOPEN_LOGS))
    deadline = time.monotonic() + 10
    while not error_log.exists():
        assert time.monotonic() < deadline, "the worker did not reopen its error log"
        time.sleep(0.02)
    conn = connect(w)
    conn.sendall(b"GET /log?after-reopen HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert read_all(conn).startswith(b"HTTP/1.1 200")
    w.wait_log(r"probe-log after-reopen", path=error_log)
    assert "after-reopen" not in rotated.read_text()


def test_diagnose_aborts_the_worker_with_its_last_words(worker):
    w = worker()
    w.bootstrap()
    w.wait_ready()
    conn = connect(w)
    conn.sendall(b"GET /pid?last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert read_all(conn).startswith(b"HTTP/1.1 200")
    w.send(frame(DIAGNOSE))
    assert w.wait_exit() == -signal.SIGABRT, w.log()
    assert re.search(r"\[ERROR\] \[worker 1\] aborted, stuck for longer than timeout; the last "
                     r"request it started: GET /pid\?last\n", w.log()), w.log()


# -------------------------------------------------------------------- bad input


BAD_FRAMES = {
    "version": (frame(STOP, [(GRACEFUL, [0])], version=2),
                "a bad frame from the master (another protocol version)"),
    "flags": (frame(STOP, [(GRACEFUL, [0])], flags=1),
              "a bad frame from the master (undefined flags)"),
    "kind": (frame(99), "a bad frame from the master (an unknown message kind)"),
    "length": (HEADER.pack(VERSION, STOP, 0, PAYLOAD_MAX + 1),
               "a bad frame from the master (a payload above the maximum)"),
    "field": (frame(STOP, [(GRACEFUL, [0, 0])]),
              "a bad frame from the master (a malformed field)"),
    "worker_kind": (frame(HEARTBEAT, [(REQUESTS, [1]), (CONNECTIONS, [0]), (RSS, [1])]),
                    "the master sent a message that is not a command"),
    "text_protocol": (b"hb 1 2 3\n", "a bad frame from the master (another protocol version)"),
}


@pytest.mark.parametrize("name", BAD_FRAMES)
def test_a_bad_frame_from_the_master_stops_the_worker_gracefully(worker, name):
    data, why = BAD_FRAMES[name]
    w = worker()
    w.bootstrap()
    w.wait_ready()
    # Graceful, not fast: a STOP {graceful 0} in a bad frame is not obeyed.
    w.send(data)
    assert w.wait_exit() == 0, w.log()
    log = w.log()
    assert log.count(why) == 1 and f"{why}: stopping" in log, log
    assert "stopping (graceful)" in log
    assert w.next_frame() is None  # the worker closed the channel


def test_the_master_gone_stops_the_worker_gracefully(worker):
    w = worker(graceful_timeout="30s")
    w.bootstrap()
    w.wait_ready()
    conn = start_upload(w)
    w.channel.shutdown(socket.SHUT_WR)
    w.wait_log(r"the master has gone: stopping")
    conn.sendall(b"world")
    assert read_all(conn).endswith(b"helloworld")
    assert w.wait_exit() == 0, w.log()
    assert "stopping (graceful)" in w.log()


@pytest.mark.parametrize("header, version", [
    ("asgid-bootstrap 2 1 1 {len}\n", 2),  # a newer channel version
    ("asgid-bootstrap 1 1 {len}\n", 0),    # a master from before the typed channel
])
def test_a_bootstrap_of_another_channel_version_is_refused(worker, header, version):
    w = worker()
    records = w.records()
    w.send(header.format(len=len(records)).encode() + records)
    assert w.wait_exit() == EXIT_BOOT_ERROR, w.log()
    assert (f"the master speaks channel protocol version {version}, this binary version "
            f"{VERSION}: the asgid binary was replaced since the master started; restart the "
            "service") in w.log(), w.log()



def test_a_worker_draining_without_its_master_is_not_taken_for_stuck(worker):
    # The channel closed, its heartbeats stop; its loop still runs, and its stall watch (limit
    # timeout plus one heartbeat interval: 1.25 s here) must still hear from it while the
    # upload drains, for as long as graceful_timeout allows.
    w = worker(timeout="1s", graceful_timeout="30s")
    w.bootstrap()
    w.wait_ready()
    conn = start_upload(w)
    w.channel.shutdown(socket.SHUT_WR)
    w.wait_log(r"the master has gone: stopping")
    time.sleep(3)  # more than twice the stall watch's limit
    assert w.wait_exit(0) is None, f"the worker exited while draining\n{w.log()}"
    conn.sendall(b"world")
    assert read_all(conn).endswith(b"helloworld")
    assert w.wait_exit() == 0, w.log()
