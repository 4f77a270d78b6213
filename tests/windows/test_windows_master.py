"""asgid.exe under Wine: spawned workers from a safe executable path, operator stop, worker
supervision. See conftest.py for the installation and the decoys every test checks."""

import signal
import subprocess
import threading
import time

import pytest

from conftest import (APP_WIN, ASGID_WIN, INSTALL, INSTALL_WIN, http_get, run_asgid, taskkill,
                      wait_for, whoami, wine_env)


def test_two_spawned_workers_serve_from_the_installed_executable(master):
    m = master()
    pids = m.worker_pids()
    assert len(pids) == 2, f"answers came from {pids}"
    # Each worker's image, as the kernel knows it, is the installed asgid.exe byte for byte
    # (never a decoy found through a space in the path, the working directory or PATH).
    images = {whoami(m.port)["image"] for _ in range(10)}
    assert images == {ASGID_WIN}
    assert m.log().count(", spawned)") == 2  # worker_start's default, where nothing forks


def test_arguments_arrive_byte_exact(workdir, installed):
    # Quotes, backslashes (doubled only before a quote or at the end when Windows quotes
    # them), spaces and a character outside every ANSI code page.
    root_path = '/Ω "quoted" back\\slash\\\\ "end\\'
    app = INSTALL_WIN + "\\ünïcode ☃.dll"
    status, out = run_asgid(["--print-config", "--root-path", root_path, "--app", app], workdir)
    assert status == 0, out
    lines = {line.split(" = ", 1)[0]: line.split(" = ", 1)[1] for line in out.splitlines()
             if " = " in line}
    assert lines["root_path"].rsplit("#", 1)[0].rstrip() == root_path
    assert lines["app"].rsplit("#", 1)[0].rstrip() == app


def test_ctrl_c_is_a_fast_stop(master):
    m = master("--worker-class", "thread", "--graceful-timeout", "60s")
    # A request that would hold a graceful stop for 30 s.
    slow = threading.Thread(target=http_get, args=(m.port, "/sleep?ms=30000", 40.0), daemon=True)
    slow.start()
    time.sleep(1.0)
    started = time.monotonic()
    status = m.stop(signal.SIGINT, timeout=20)
    elapsed = time.monotonic() - started
    assert status is not None, f"still running 20 s after Ctrl+C:\n{m.log()}"
    assert elapsed < 15, f"Ctrl+C took {elapsed:.1f} s"
    assert "stopping (fast)" in m.log()
    # Nothing listens any more: neither the master nor a worker survived it.
    assert http_get(m.port, "/", timeout=2.0) is None


def test_a_terminated_worker_is_replaced(master):
    m = master()
    pids = m.worker_pids()
    assert len(pids) == 2
    victim = min(pids)
    taskkill(victim)
    replaced = wait_for(lambda: (lambda now: len(now) == 2 and victim not in now)(m.worker_pids(20)),
                        20, interval=0.3)
    assert replaced, f"worker {victim} was not replaced:\n{m.log()}"
    assert f"pid {victim}" in m.log()


def test_a_hung_worker_is_killed_at_timeout(master):
    m = master("--timeout", "2s", "--worker-class", "event")
    before = m.worker_pids()
    assert len(before) == 2
    hang = threading.Thread(target=http_get, args=(m.port, "/hang", 30.0), daemon=True)
    started = time.monotonic()
    hang.start()
    # The hung worker is ended and replaced; the other one serves meanwhile.
    replaced = wait_for(lambda: (lambda now: len(now) == 2 and now != before)(m.worker_pids(20)),
                        25, interval=0.3)
    assert replaced, f"the hung worker was not replaced:\n{m.log()}"
    assert time.monotonic() - started >= 2, "replaced before its timeout"
    hang.join(30)
    assert not hang.is_alive()


# ---------------------------------------------------------------- the control pipe


def control(workdir, command):
    """asgid --control command, through the master's named pipe; (status, output)."""
    return run_asgid(["--control", command, "--pidfile", "asgid.pid"], workdir)


def test_control_stop_is_graceful_an_in_flight_request_completes(master, workdir):
    m = master("--pidfile", "asgid.pid", "--worker-class", "thread")
    answers = []
    slow = threading.Thread(target=lambda: answers.append(http_get(m.port, "/sleep?ms=2500", 20)))
    slow.start()
    time.sleep(1.0)
    status, out = control(workdir, "stop")
    assert status == 0 and 'answered "ok' in out, out
    slow.join(20)
    assert answers == [(200, "slept\n")], m.log()
    assert m.proc.wait(20) == 0, m.log()
    assert "stopping (graceful)" in m.log()


def test_control_quit_is_a_fast_stop(master, workdir):
    m = master("--pidfile", "asgid.pid", "--worker-class", "thread", "--graceful-timeout", "60s")
    threading.Thread(target=http_get, args=(m.port, "/sleep?ms=30000", 40.0), daemon=True).start()
    time.sleep(1.0)
    started = time.monotonic()
    status, out = control(workdir, "quit")
    assert status == 0, out
    assert m.proc.wait(20) is not None
    assert time.monotonic() - started < 15
    assert "stopping (fast)" in m.log()


def test_control_reload_replaces_the_workers_and_keeps_serving(master, workdir):
    m = master("--pidfile", "asgid.pid")
    before = m.worker_pids()
    assert len(before) == 2
    failures, answered = [], [0]
    done = threading.Event()

    def load():
        while not done.is_set():
            answer = http_get(m.port, "/", timeout=10)
            if answer != (200, "hello\n"):
                failures.append(answer)
            answered[0] += 1

    client = threading.Thread(target=load)
    client.start()
    status, out = control(workdir, "reload")
    assert status == 0, out
    renewed = wait_for(lambda: (lambda now: len(now) == 2 and not now & before)(m.worker_pids(20)),
                       20, interval=0.3)
    done.set()
    client.join(20)
    assert renewed, f"the workers were not replaced:\n{m.log()}"
    # Windows accepts ahead (AcceptEx): a worker that closes its listener resets the connection
    # its pending accept took in that instant, at most one per worker (docs/windows.md).
    assert len(failures) <= len(before) and answered[0] > 10, f"{failures} of {answered[0]}"
    assert all(http_get(m.port, "/") == (200, "hello\n") for _ in range(20))


def test_control_incr_adds_a_worker(master, workdir):
    m = master("--pidfile", "asgid.pid")
    status, out = control(workdir, "incr")
    assert status == 0, out
    assert wait_for(lambda: len(m.worker_pids(30)) == 3, 20, interval=0.3), m.log()


# ---------------------------------------------------------------- what Windows cannot do


@pytest.mark.parametrize("args, says", [
    (["--worker-start", "fork"], "worker_start = fork is not available on Windows"),
    (["--preload-app"], "preload_app is not available on Windows"),
    (["--user", "nobody"], "user and group are not available on Windows"),
    (["--bind", "unix:C:\\asgid.sock"], "bind unix:C:\\asgid.sock is not available on Windows"),
    (["--reuse-port"], "reuse_port is not available on Windows"),
    (["--bind", "fd://3"], "bind fd://3 is not available on Windows"),
    (["--app", "app:main", "--worker-class", "uvloop"], "CPython"),
])
def test_each_unavailable_capability_gives_one_clear_line(workdir, installed, args, says):
    status, out = run_asgid(["--check-config", "--app", APP_WIN, *args], workdir)
    assert status != 0, out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1 and says in lines[0], out


def test_the_running_executable_cannot_be_renamed_or_replaced(master, workdir):
    m = master()
    # cmd's ren and del open the file for deletion: the master holds it without sharing that.
    for command in (["ren", ASGID_WIN, "moved.exe"], ["del", "/f", ASGID_WIN]):
        subprocess.run(["wine", "cmd", "/c", *command], cwd=workdir, env=wine_env(),
                       capture_output=True, timeout=30)
        assert (INSTALL / "asgid.exe").exists(), f"{command[0]} took asgid.exe away"
    assert not (INSTALL / "moved.exe").exists()
    assert len(m.worker_pids()) == 2
