"""ASGI lifespan for Python apps (python_apps/lifespan_app.py): startup completes before the
first request is served and its state reaches every request, shutdown runs at a graceful
stop after in-flight requests finish, a failed startup stops the server with exit status 5
without a respawn loop, and apps without lifespan support run with lifespan = auto."""
import json
import os
import signal
import time

import pytest

from python_apps.harness import get, get_json, pyserver, requires_python  # noqa: F401
from rawhttp import RawConnection, request_bytes

pytestmark = requires_python

APP = "python_apps.lifespan_app:app"


def lifespan_env(tmp_path, mode="ok", **extra):
    env = {"LIFESPAN_MODE": mode, "LIFESPAN_DIR": str(tmp_path)}
    env.update(extra)
    return env


@pytest.mark.parametrize("worker_class", ["asyncio", "uvloop"])
def test_first_request_waits_for_startup_and_sees_state(pyserver, tmp_path, worker_class):
    srv = pyserver(APP, env=lifespan_env(tmp_path, LIFESPAN_DELAY_MS="400"), start=False,
                   worker_class=worker_class)
    started = time.monotonic()
    srv.start(wait=False)
    deadline = started + 15
    while True:
        assert srv.proc.poll() is None, srv.log()
        try:
            conn = RawConnection(srv.host, srv.port, timeout=10)
            break
        except OSError:
            assert time.monotonic() < deadline, "server never accepted"
            time.sleep(0.005)
    with conn:
        conn.send(request_bytes("GET", "/state"))
        resp = conn.read_response()
    assert resp.status == 200, resp
    state = json.loads(resp.body)
    assert state["phase"] == "started"
    assert time.monotonic() - started >= 0.4, "served before the 400 ms startup completed"
    # The state was made in the worker that serves (lifespan runs per worker).
    assert state["pid"] in srv.worker_pids(), (state["pid"], srv.worker_pids())


def test_shutdown_runs_after_in_flight_requests(pyserver, tmp_path):
    srv = pyserver(APP, env=lifespan_env(tmp_path), graceful_timeout="5s")
    pid = get_json(srv, "/state")["pid"]
    with srv.raw(timeout=10) as conn:
        conn.send(request_bytes("GET", "/sleep?ms=800"))
        time.sleep(0.2)
        srv.proc.send_signal(signal.SIGTERM)
        resp = conn.read_response()
    assert resp.status == 200 and resp.body == b"ok", "in-flight request cut by the stop"
    assert srv.wait_exit(10) == 0, srv.log()
    assert (tmp_path / f"shutdown-{pid}").read_text() == f"shutdown {pid}\n"


@pytest.mark.parametrize("worker_class", ["asyncio", "uvloop"])
def test_startup_failed_exits_5_without_respawn(pyserver, tmp_path, worker_class):
    # 5: the app's startup failed, which may pass later (asgid.service restarts on it).
    srv = pyserver(APP, env=lifespan_env(tmp_path, "fail"), wait=False, workers=2,
                   worker_class=worker_class)
    code = srv.wait_exit(timeout=15)
    assert code == 5, f"exit status {code}\n{srv.log()}"
    assert "startup failed on purpose" in srv.log()
    assert "the app's lifespan startup failed: stopping the master (exit status 5)" in srv.log()
    starts = (tmp_path / "startups").read_text().split()
    assert 1 <= len(starts) <= 2, f"startup ran {len(starts)} times: a respawn loop?"


def test_exception_in_startup_with_lifespan_on_fails(pyserver, tmp_path):
    # It raised after receiving lifespan.startup: its startup failed (5), as when a database
    # it connects to is down.
    srv = pyserver(APP, env=lifespan_env(tmp_path, "raise"), wait=False, lifespan="on")
    code = srv.wait_exit(timeout=15)
    assert code == 5, f"exit status {code}\n{srv.log()}"
    assert "lifespan raised on purpose" in srv.log()


def test_exception_in_startup_with_lifespan_auto_continues_without(pyserver, tmp_path):
    # Django 3.2 raises for the lifespan scope: auto must then serve without lifespan.
    srv = pyserver(APP, env=lifespan_env(tmp_path, "raise"), lifespan="auto")
    resp = get(srv, "/state")
    assert resp.status == 200
    assert json.loads(resp.body) in (None, {})


def test_unsupported_lifespan_with_auto_serves(pyserver, tmp_path):
    srv = pyserver(APP, env=lifespan_env(tmp_path, "unsupported"))
    assert get(srv, "/").body == b"ok"


def test_unsupported_lifespan_with_on_fails(pyserver, tmp_path):
    # A configuration error, not a failed startup: 4, which asgid.service does not restart.
    srv = pyserver(APP, env=lifespan_env(tmp_path, "unsupported"), wait=False, lifespan="on")
    code = srv.wait_exit(timeout=15)
    assert code == 4, f"exit status {code}\n{srv.log()}"


def test_lifespan_off_never_runs_startup(pyserver, tmp_path):
    srv = pyserver(APP, env=lifespan_env(tmp_path, "fail"), lifespan="off")
    resp = get(srv, "/state")
    assert resp.status == 200
    assert json.loads(resp.body) in (None, {})
    assert not (tmp_path / "startups").exists()


def test_each_worker_runs_its_own_lifespan(pyserver, tmp_path):
    srv = pyserver(APP, env=lifespan_env(tmp_path), workers=2)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        starts = (tmp_path / "startups").read_text().split() \
            if (tmp_path / "startups").exists() else []
        if len(starts) >= 2:
            break
        time.sleep(0.05)
    assert len(set(starts)) == 2, starts
    pids = set(map(int, starts))
    assert srv.stop() == 0, srv.log()
    for pid in pids:
        assert (tmp_path / f"shutdown-{pid}").exists(), f"worker {pid} ran no shutdown"


def test_shutdown_failed_is_logged(pyserver, tmp_path):
    srv = pyserver(APP, env=lifespan_env(tmp_path, "shutdown-fail"))
    assert get(srv, "/").body == b"ok"
    srv.stop()
    assert "shutdown failed on purpose" in srv.log()


def test_max_requests_recycles_with_shutdown_and_new_startup(pyserver, tmp_path):
    srv = pyserver(APP, env=lifespan_env(tmp_path), max_requests=5)
    first = get_json(srv, "/state")["pid"]
    for _ in range(8):
        assert get(srv, "/").status == 200
    srv.wait_workers(1, differ_from=[first])
    second = get_json(srv, "/state")["pid"]
    assert second != first
    deadline = time.monotonic() + 5
    while not (tmp_path / f"shutdown-{first}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (tmp_path / f"shutdown-{first}").exists(), "the recycled worker ran no shutdown"
    starts = (tmp_path / "startups").read_text().split()
    assert str(first) in starts and str(second) in starts


def test_stop_is_bounded_when_a_request_never_ends(pyserver, tmp_path):
    # A request waiting forever (long-poll): graceful_timeout bounds the stop, and the
    # worker still exits (lifespan shutdown may or may not run; the process must end).
    srv = pyserver("python_apps.probe:app", graceful_timeout="1s")
    pids = srv.worker_pids()
    conn = RawConnection(srv.host, srv.port, timeout=10)
    conn.send(request_bytes("GET", "/wait-disconnect?key=lp"))
    time.sleep(0.3)
    started = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    code = srv.wait_exit(timeout=10)
    conn.close()
    assert code is not None, f"server still running 10 s after TERM\n{srv.log()[-3000:]}"
    assert time.monotonic() - started < 8
    time.sleep(0.2)
    assert not any(os.path.exists(f"/proc/{p}") and
                   open(f"/proc/{p}/stat").read().rpartition(")")[2].split()[0] != "Z"
                   for p in pids), "a worker outlived its master"


def test_lingering_non_daemon_thread_does_not_block_exit(pyserver):
    srv = pyserver("python_apps.probe:app", graceful_timeout="2s")
    assert get(srv, "/start-thread?s=60").body == b"started"
    pids = srv.worker_pids()
    started = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    code = srv.wait_exit(timeout=15)
    assert code is not None, f"server still running 15 s after TERM\n{srv.log()[-3000:]}"
    assert time.monotonic() - started < 12
    time.sleep(0.2)
    assert not any(os.path.exists(f"/proc/{p}") and
                   open(f"/proc/{p}/stat").read().rpartition(")")[2].split()[0] != "Z"
                   for p in pids), "the worker is still alive, waiting for its thread"
