"""Socket activation: asgid started by systemd-socket-activate (the same LISTEN_FDS,
LISTEN_PID and LISTEN_FDNAMES protocol as systemd's .socket units) serves on the sockets it
is handed. Without a bind they are the listeners; bind = fd://NAME takes those named NAME
(FileDescriptorName=, here --fdname); fd://N takes descriptor N. The activated sockets survive
a reload (HUP) and an upgrade (USR2).

systemd-socket-activate binds, then execs asgid when the first connection arrives, so the
first request of each test is also what starts asgid.
"""

import json
import os
import shutil
import signal
import subprocess

import pytest

from conftest import (ASGID_BIN, SANITIZER_MARKERS, WORKER_START, app_path, child_pids,
                      free_port, pid_alive, write_ini)
from master_util import get_pid, read_pidfile, wait_for, wait_for_pid_answer, wait_gone
from rawhttp import RawConnection, ResponseError, request_bytes

ACTIVATE = shutil.which("systemd-socket-activate")
pytestmark = pytest.mark.skipif(ACTIVATE is None,
                                reason="systemd-socket-activate not installed (Debian: systemd)")


class Activated:
    """asgid under systemd-socket-activate, listening on `ports` named `names`."""

    def __init__(self, workdir, ports, names=None, **settings):
        self.workdir = workdir
        self.host, self.port = "127.0.0.1", ports[0]  # what master_util's helpers ask
        self.ini_path = workdir / "asgid.ini"
        base = {"app": app_path("probe"), "workers": 1, "worker_start": WORKER_START,
                "graceful_timeout": "3s", "error_log": "-"}
        base.update(settings)
        write_ini(self.ini_path, base)
        self.log_path = workdir / "asgid.stderr"
        args = [ACTIVATE]
        for port in ports:
            args += ["-l", f"127.0.0.1:{port}"]
        if names:
            args.append("--fdname=" + ":".join(names))
        args += [str(ASGID_BIN), "-c", str(self.ini_path)]
        env = dict(os.environ, PROBE_STARTUP_DELAY_MS="0")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log_path, "wb"), stdin=subprocess.DEVNULL,
                                     env=env, cwd=workdir, start_new_session=True)
        # The listening sockets exist once systemd-socket-activate says so.
        assert wait_for(lambda: self.log().count("Listening on") == len(ports), 5), self.log()

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def get(self, port, path="/pid"):
        with RawConnection("127.0.0.1", port, timeout=10) as conn:
            conn.send(request_bytes("GET", path))
            return conn.read_response()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # workers or a new master left behind
        except (ProcessLookupError, PermissionError):
            pass


@pytest.fixture
def activated(tmp_path):
    started = []

    def start(ports, names=None, **settings):
        workdir = tmp_path / f"activated{len(started)}"
        workdir.mkdir()
        a = Activated(workdir, ports, names, **settings)
        started.append(a)
        return a

    yield start
    for a in started:
        a.stop()
    for a in started:
        for marker in SANITIZER_MARKERS:
            assert marker not in a.log(), f"sanitizer report:\n{a.log()[-20000:]}"


def test_without_a_bind_the_activated_socket_is_the_listener(activated):
    port = free_port()
    a = activated([port])
    assert a.get(port).status == 200
    assert "listening on http://127.0.0.1:%d (systemd socket" % port in a.log(), a.log()
    # The default bind (127.0.0.1:8000) was not opened next to it.
    assert "127.0.0.1:8000" not in a.log(), a.log()


def test_bind_fd_name_takes_the_named_socket(activated):
    web, admin = free_port(), free_port()
    a = activated([web, admin], names=["web", "admin"], bind="fd://admin")
    assert a.get(admin).status == 200
    assert f'listening on http://127.0.0.1:{admin} (systemd socket "admin")' in a.log(), a.log()
    assert f"127.0.0.1:{web}" not in a.log().split("Execing")[1], a.log()


def test_bind_fd_name_takes_every_socket_of_that_name(activated):
    one, two = free_port(), free_port()
    a = activated([one, two], names=["web", "web"], bind="fd://web")
    assert a.get(one).status == 200
    assert a.get(two).status == 200


def test_bind_fd_number_takes_that_descriptor(activated):
    port = free_port()
    a = activated([port], names=["web"], bind="fd://3")
    assert a.get(port).status == 200


def test_bind_fd_name_that_systemd_did_not_pass_is_an_error(activated):
    port = free_port()
    a = activated([port], names=["web"], bind="fd://nosuch")
    with pytest.raises((OSError, ResponseError)):  # asgid exits: its connection is dropped
        a.get(port)
    assert a.proc.wait(timeout=10) == 1
    assert 'bind fd://nosuch: systemd passed no socket named "nosuch" (its names: web)' \
        in a.log(), a.log()


def test_reload_keeps_the_activated_socket(activated, tmp_path):
    port = free_port()
    a = activated([port], names=["web"], pidfile=tmp_path / "asgid.pid")
    old = get_pid(a)
    a.proc.send_signal(signal.SIGHUP)

    def new_worker():
        pid = get_pid(a)
        return pid if pid != old else None
    assert wait_for(new_worker, 10), a.log()
    assert "127.0.0.1:8000" not in a.log(), "the reload opened the default bind:\n" + a.log()


def test_upgrade_keeps_the_activated_socket(activated, tmp_path):
    port = free_port()
    pidfile = tmp_path / "asgid.pid"
    a = activated([port], names=["web"], bind="fd://web", pidfile=pidfile)
    assert a.get(port).status == 200
    old = a.proc.pid
    new = None
    try:
        a.proc.send_signal(signal.SIGUSR2)
        new = wait_for(lambda: (read_pidfile(pidfile) or old) != old and read_pidfile(pidfile),
                       10)
        assert new, a.log()
        assert wait_for(lambda: a.log().count('(systemd socket "web")') == 2, 10), a.log()
        a.proc.send_signal(signal.SIGTERM)
        assert a.proc.wait(timeout=10) == 0, a.log()
        # The new master's workers serve on the same socket.
        workers = wait_for(lambda: child_pids(new), 10)
        assert workers, a.log()
        assert wait_for_pid_answer(a, workers, 5), a.log()
        os.kill(new, signal.SIGTERM)
        assert wait_gone(new, 10)
    finally:
        if new and pid_alive(new):
            os.kill(new, signal.SIGKILL)



def test_fd_binds_take_the_proxy_protocol_option(activated):
    """fd://NAME and fd://N take the bind options as addresses do: here the socket named web
    reads PROXY headers, descriptor 4 (admin) serves plain HTTP."""
    web, admin = free_port(), free_port()
    a = activated([web, admin], names=["web", "admin"],
                  bind=["fd://web proxy_protocol", "fd://4"])
    with RawConnection("127.0.0.1", web, timeout=10) as conn:
        conn.send(b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n" +
                  request_bytes("GET", "/scope"))
        response = conn.read_response()
    assert response.status == 200, a.log()
    assert json.loads(response.body)["client"] == ["192.0.2.7", 56324]
    assert a.get(admin).status == 200
