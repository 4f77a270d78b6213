"""The master speaks systemd's notify protocol (Type=notify) without libsystemd: datagrams of
KEY=VALUE lines to the AF_UNIX socket NOTIFY_SOCKET names, a path or "@abstract".

READY=1 once every initial worker is ready; RELOADING=1 (with MONOTONIC_USEC) on HUP, READY=1
when the new workers are ready or the reload failed; STOPPING=1 on a stop; STATUS= lines;
WATCHDOG=1 every WATCHDOG_USEC/2; after USR2 the new master sends MAINPID=<its pid> and
READY=1. Only the master sends: the tests receive with SO_PASSCRED and check the sender's pid.
"""

import os
import signal
import socket
import struct
import time
import uuid
from pathlib import Path

import pytest

from conftest import pid_alive
from master_util import read_pidfile, wait_for, wait_gone
from rawhttp import request_bytes

# A message that tells systemd about a state change (the others are STATUS= and WATCHDOG=1).
STATES = ("READY=1", "RELOADING=1", "STOPPING=1")


class Notification:
    """One datagram: its lines, the sender's pid and when it arrived."""

    def __init__(self, data, pid):
        self.lines = data.decode().split("\n")
        self.pid = pid
        self.at = time.monotonic()

    def value(self, key):
        for line in self.lines:
            if line.startswith(key + "="):
                return line[len(key) + 1:]
        return None

    def __repr__(self):
        return f"<from {self.pid}: {self.lines}>"


class NotifyListener:
    """The service manager's end: a datagram socket that records what asgid sends."""

    def __init__(self, address):
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + address[1:] if address.startswith("@") else address)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.received = []

    def env(self, **extra):
        return {"NOTIFY_SOCKET": self.address, **extra}

    def _receive(self, timeout):
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data, ancillary, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
        except socket.timeout:
            return None
        pid = None
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", payload[:12])[0]
        note = Notification(data, pid)
        self.received.append(note)
        return note

    def wait(self, line, timeout=10.0):
        """The next notification (after those already seen) that has this line, or a failure
        naming everything received."""
        deadline = time.monotonic() + timeout
        start = len(self.received)
        while True:
            for note in self.received[start:]:
                if line in note.lines:
                    return note
            start = len(self.received)
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"no {line!r} within {timeout} s; received {self.received}")
            self._receive(left)

    def collect(self, seconds):
        """Records everything that arrives during `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._receive(deadline - time.monotonic())

    def states(self):
        """The state changes received so far, in order (READY=1, RELOADING=1, ...)."""
        return [line for note in self.received for line in note.lines if line in STATES]

    def close(self):
        self.sock.close()


@pytest.fixture(params=["path", "abstract"])
def notify_listener(request, short_tmp):
    if request.param == "path":
        address = str(short_tmp / "notify")
    else:
        address = f"@asgid-test-{uuid.uuid4().hex}"
    listener = NotifyListener(address)
    yield listener
    listener.close()


@pytest.fixture
def listener(short_tmp):
    """A NOTIFY_SOCKET at a path, for the tests that do not depend on the address kind."""
    listener = NotifyListener(str(short_tmp / "notify"))
    yield listener
    listener.close()


def test_ready_reload_stop_in_order(server, notify_listener):
    srv = server(workers=2, env=notify_listener.env())
    notify_listener.wait("READY=1")
    assert srv.request(request_bytes("GET", "/pid")).status == 200
    old = srv.wait_workers(2)

    hup_usec = time.monotonic_ns() // 1000
    srv.proc.send_signal(signal.SIGHUP)
    reloading = notify_listener.wait("RELOADING=1")
    # CLOCK_MONOTONIC, the clock Python's monotonic clock reads on Linux.
    monotonic = int(reloading.value("MONOTONIC_USEC"))
    assert 0 <= monotonic - hup_usec < 5_000_000, (monotonic, hup_usec)
    notify_listener.wait("READY=1")
    # READY=1 after a reload means the new workers serve.
    new = srv.wait_workers(2, differ_from=old)
    assert int(srv.request(request_bytes("GET", "/pid")).body) in new

    srv.proc.send_signal(signal.SIGTERM)
    notify_listener.wait("STOPPING=1")
    assert srv.wait_exit(10) == 0, srv.log()
    assert notify_listener.states() == ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"]
    senders = {note.pid for note in notify_listener.received}
    assert senders == {srv.proc.pid}, f"only the master notifies: {notify_listener.received}"


def test_ready_waits_for_every_worker(server, listener):
    # Each worker's lifespan startup takes 800 ms: READY=1 must not come before both are done.
    srv = server(workers=2, env=listener.env(PROBE_STARTUP_DELAY_MS="800"), wait=False)
    started = time.monotonic()
    ready = listener.wait("READY=1")
    assert ready.at - started >= 0.8
    assert srv.log().count(") is ready") == 2, srv.log()
    sent = time.monotonic()
    assert srv.request(request_bytes("GET", "/pid")).status == 200
    assert time.monotonic() - sent < 0.5, "a request right after READY=1 had to wait"


def test_failed_reload_says_ready_again(server, listener):
    srv = server(workers=1, env=listener.env())
    listener.wait("READY=1")
    good = srv.ini_path.read_text()
    srv.ini_path.write_text(good + "\n[workers]\nmax_requests = banana\n")
    srv.proc.send_signal(signal.SIGHUP)
    listener.wait("RELOADING=1")
    listener.wait("READY=1", timeout=5)
    assert "reload failed" in srv.log()
    assert listener.states() == ["READY=1", "RELOADING=1", "READY=1"]


def test_reload_with_an_unloadable_app_says_ready_again(server, listener, tmp_path):
    srv = server(workers=1, env=listener.env())
    listener.wait("READY=1")
    srv.ini_path.write_text(srv.ini_path.read_text().replace(
        srv.settings["app"], str(tmp_path / "gone.so")))
    srv.proc.send_signal(signal.SIGHUP)
    listener.wait("RELOADING=1")
    listener.wait("READY=1", timeout=10)
    assert srv.proc.poll() is None, srv.log()
    assert srv.request(request_bytes("GET", "/pid")).status == 200


def test_status_reports_workers_and_requests(server, listener):
    srv = server(workers=2, env=listener.env(), timeout="2s")  # heartbeat every 500 ms
    listener.wait("READY=1")
    for _ in range(7):
        assert srv.request(request_bytes("GET", "/pid")).status == 200

    def seven_requests():
        listener.collect(0.2)
        for note in listener.received:
            status = note.value("STATUS")
            if status and status.startswith("2 workers, ") and \
                    int(status.split(", ")[1].split()[0]) >= 7:
                return status
        return None
    assert wait_for(seven_requests, 8), f"no STATUS with 7 requests: {listener.received}"


def test_watchdog_pings_at_half_the_interval(server, listener):
    srv = server(workers=1, env=listener.env(WATCHDOG_USEC="200000"))
    listener.wait("READY=1")
    listener.received.clear()
    listener.collect(1.05)
    pings = [note.at for note in listener.received if "WATCHDOG=1" in note.lines]
    assert 8 <= len(pings) <= 12, f"{len(pings)} pings in 1 s at a 100 ms interval"
    assert {note.pid for note in listener.received} == {srv.proc.pid}


def test_watchdog_for_another_pid_is_not_ours(server, listener):
    # WATCHDOG_PID names the process systemd watches: here some other one.
    server(workers=1, env=listener.env(WATCHDOG_USEC="100000", WATCHDOG_PID="1"))
    listener.wait("READY=1")
    listener.collect(0.6)
    assert not [n for n in listener.received if "WATCHDOG=1" in n.lines], listener.received


def test_spawned_workers_do_not_inherit_the_notify_variables(server, listener):
    # Spawned workers get the master's environment: the notify variables must be gone from it.
    srv = server(workers=1, worker_start="spawn", env=listener.env(WATCHDOG_USEC="5000000"))
    listener.wait("READY=1")
    (worker,) = srv.wait_workers(1)
    environ = Path(f"/proc/{worker}/environ").read_bytes().split(b"\0")
    names = {entry.partition(b"=")[0] for entry in environ}
    assert not names & {b"NOTIFY_SOCKET", b"WATCHDOG_USEC", b"WATCHDOG_PID"}, names


def test_a_dead_service_manager_does_not_stop_asgid(server, short_tmp):
    # NOTIFY_SOCKET names nothing that listens: asgid logs it once and serves.
    srv = server(workers=1, env={"NOTIFY_SOCKET": str(short_tmp / "nobody")})
    assert wait_for(lambda: "cannot notify the service manager" in srv.log(), 5), srv.log()
    assert srv.request(request_bytes("GET", "/pid")).status == 200
    time.sleep(2.5)  # a STATUS= attempt has failed again by now
    assert srv.log().count("cannot notify the service manager") == 1, srv.log()


def test_upgrade_hands_the_service_to_the_new_master(server, listener, tmp_path):
    pidfile = tmp_path / "asgid.pid"
    srv = server(workers=1, pidfile=pidfile, env=listener.env(WATCHDOG_USEC="400000"))
    listener.wait("READY=1")
    old = srv.proc.pid
    new = None
    try:
        srv.proc.send_signal(signal.SIGUSR2)
        announced = listener.wait("READY=1")
        new = read_pidfile(pidfile)
        assert new and new != old
        assert announced.pid == new
        assert announced.lines == [f"MAINPID={new}", "READY=1"], announced

        # The old master stops: systemd must not hear STOPPING=1 from it, the service goes on.
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.wait_exit(10) == 0, srv.log()
        assert "STOPPING=1" not in listener.states()
        # The new master pings the watchdog itself (it got WATCHDOG_USEC, not WATCHDOG_PID).
        listener.received.clear()
        listener.collect(0.6)
        assert any(n.pid == new and "WATCHDOG=1" in n.lines for n in listener.received), \
            listener.received

        os.kill(new, signal.SIGTERM)
        stopping = listener.wait("STOPPING=1")
        assert stopping.pid == new
        assert wait_gone(new, 10)
    finally:
        if new and pid_alive(new):
            os.kill(new, signal.SIGKILL)
