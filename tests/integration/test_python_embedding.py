"""The embedded interpreter: sys.executable a real Python, sys.argv set, the app imported by module
name (never as __main__), the app code running inside an asyncio Task (sniffio/anyio need
it), preload_app, virtualenv, and fork/spawn worker starts."""
import os
import signal
import subprocess
import time

import pytest

from conftest import write_ini
from python_apps.harness import (PROBE, TESTS_DIR, get, get_json,  # noqa: F401
                                 pyserver, requires_python)

pytestmark = requires_python


@pytest.mark.parametrize("worker_class", ["asyncio", "uvloop"])
def test_interpreter_facts(pyserver, worker_class):
    srv = pyserver(PROBE, worker_class=worker_class)
    info = get_json(srv, "/sys")
    exe = info["executable"]
    assert os.path.isabs(exe) and os.access(exe, os.X_OK), exe
    assert os.path.basename(os.path.realpath(exe)).startswith("python"), exe
    out = subprocess.run([exe, "-c", "import sys; print(sys.version_info[:2])"],
                         capture_output=True, text=True, timeout=10).stdout.strip()
    assert out == str(tuple(info["version"][:2])), (exe, out)
    assert isinstance(info["argv"], list) and info["argv"], info["argv"]
    assert info["module_name"] == "python_apps.probe"
    assert info["main_module"] != "python_apps.probe"
    assert info["path0"] == str(TESTS_DIR)
    assert info["in_task"] is True
    assert info["sniffio"] == "asyncio"
    assert info["pid"] in srv.worker_pids()


def test_app_imported_in_the_worker_by_default(pyserver):
    srv = pyserver(PROBE, preload_app="off", worker_start="fork")
    info = get_json(srv, "/sys")
    assert info["import_pid"] == info["pid"]


def test_preload_app_imports_in_the_master(pyserver):
    srv = pyserver(PROBE, preload_app="on", worker_start="fork")
    info = get_json(srv, "/sys")
    assert info["import_pid"] == srv.proc.pid, info
    assert info["pid"] != srv.proc.pid
    # Work that needs the loop still happens in the worker.
    assert get(srv, "/sleep?ms=10").body == b"slept"


@pytest.mark.parametrize("worker_start", ["fork", "spawn"])
def test_worker_start_modes_serve(pyserver, worker_start):
    srv = pyserver(PROBE, worker_start=worker_start, workers=2)
    pids = srv.wait_workers(2)
    seen = {get_json(srv, "/sys")["pid"] for _ in range(20)}
    assert seen <= pids


def test_virtualenv_interpreter_and_packages(pyserver, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip",
                    "--system-site-packages", str(venv)], check=True, timeout=60)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "only_in_venv_asgid.py").write_text("VALUE = 'from the venv'\n")
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "venv_app.py").write_text(
        "import json, sys\nimport only_in_venv_asgid\n"
        "async def app(scope, receive, send):\n"
        "    if scope['type'] != 'http':\n        return\n"
        "    body = json.dumps([only_in_venv_asgid.VALUE, sys.prefix, sys.executable]).encode()\n"
        "    await send({'type': 'http.response.start', 'status': 200, 'headers': []})\n"
        "    await send({'type': 'http.response.body', 'body': body})\n")
    srv = pyserver("venv_app:app", app_dir=app_dir, virtualenv=str(venv))
    value, prefix, executable = get_json(srv, "/")
    assert value == "from the venv"
    assert os.path.realpath(prefix) == os.path.realpath(venv)
    assert executable.startswith(str(venv)), executable


def test_missing_virtualenv_fails_clearly(pyserver, tmp_path):
    srv = pyserver(PROBE, wait=False, virtualenv=str(tmp_path / "no-such-venv"))
    code = srv.wait_exit(timeout=15)
    assert code not in (None, 0), srv.log()
    assert "no-such-venv" in srv.log() + srv.stdout()


def test_graceful_stop_exits_0_and_idle(pyserver):
    srv = pyserver(PROBE)
    assert get(srv, "/pid").status == 200
    srv.assert_idle(seconds=1.0, limit=0.3)
    assert srv.stop() == 0, srv.log()


def test_reload_imports_the_changed_app(pyserver, tmp_path):
    # HUP replaces the workers; without preload_app each imports the app afresh, so edited
    # code is served (as gunicorn does).
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    source = ("VERSION = {v!r}\n"
              "async def app(scope, receive, send):\n"
              "    if scope['type'] != 'http':\n        return\n"
              "    await send({{'type': 'http.response.start', 'status': 200, 'headers': []}})\n"
              "    await send({{'type': 'http.response.body', 'body': VERSION.encode()}})\n")
    (app_dir / "versioned_app.py").write_text(source.format(v="one"))
    srv = pyserver("versioned_app:app", app_dir=app_dir, worker_start="fork")
    assert get(srv, "/").body == b"one"
    old = srv.worker_pids()
    (app_dir / "versioned_app.py").write_text(source.format(v="two"))
    # Drop stale bytecode whose timestamp might match within the same second.
    for pyc in (app_dir / "__pycache__").glob("versioned_app*.pyc"):
        pyc.unlink()
    srv.proc.send_signal(signal.SIGHUP)
    srv.wait_workers(1, differ_from=old)
    deadline = time.monotonic() + 5
    body = get(srv, "/").body
    while body != b"two" and time.monotonic() < deadline:
        time.sleep(0.1)
        body = get(srv, "/").body
    assert body == b"two"


def test_access_log_line_for_python_requests(pyserver):
    srv = pyserver(PROBE, access_log="-")
    assert get(srv, "/status?code=201").status == 201
    deadline = time.monotonic() + 5
    while "/status?code=201" not in srv.stdout() and time.monotonic() < deadline:
        time.sleep(0.05)
    line = next(l for l in srv.stdout().splitlines() if "/status?code=201" in l)
    assert '"GET /status?code=201 HTTP/1.1" 201' in line, line


def test_forked_workers_reseed_random(pyserver):
    # With the app preloaded, both workers are forked from one interpreter: unless the
    # at-fork hooks run (PyOS_AfterFork_Child), they draw the same "random" numbers.
    srv = pyserver(PROBE, preload_app="on", worker_start="fork", workers=2)
    srv.wait_workers(2)
    draws = {}
    deadline = time.monotonic() + 10
    while len(draws) < 2 or min(len(v) for v in draws.values()) < 3:
        assert time.monotonic() < deadline, f"requests reached only {sorted(draws)}"
        pid, value = get(srv, "/random").body.split()
        draws.setdefault(int(pid), []).append(int(value))
    a, b = list(draws.values())[:2]
    assert not set(a) & set(b), f"two workers drew the same numbers: {draws}"


def test_atexit_hooks_run_when_a_worker_stops(pyserver, tmp_path):
    srv = pyserver("python_apps.lifespan_app:app",
                   env={"LIFESPAN_DIR": str(tmp_path), "LIFESPAN_MODE": "ok"})
    pid = get_json(srv, "/state")["pid"]
    assert srv.stop() == 0, srv.log()
    assert (tmp_path / f"atexit-{pid}").exists(), "the worker's atexit hooks did not run"


def test_preload_app_reload_to_another_app_spawns_workers_that_import_it(pyserver, tmp_path):
    # The master imported app_one (preload_app) and cannot import another app: forked workers
    # would serve app_one on (they did, silently). Workers of a configuration naming another
    # app are spawned and import it themselves; back to app_one, they are forked again.
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    source = ("import os\nIMPORTED_BY = os.getpid()\n"
              "async def app(scope, receive, send):\n"
              "    if scope['type'] != 'http':\n        return\n"
              "    body = f'{NAME} {IMPORTED_BY}'.encode()\n"
              "    await send({'type': 'http.response.start', 'status': 200, 'headers': []})\n"
              "    await send({'type': 'http.response.body', 'body': body})\n")
    for name in ("one", "two"):
        (app_dir / f"app_{name}.py").write_text(f"NAME = {name!r}\n" + source)
    srv = pyserver("app_one:app", app_dir=app_dir, preload_app="on", worker_start="fork")
    master = srv.proc.pid
    assert get(srv, "/").body == f"one {master}".encode()

    def reload_to(spec):
        old = srv.worker_pids()
        srv.settings["app"] = spec
        srv.ini_text = write_ini(srv.ini_path, srv.settings)
        srv.proc.send_signal(signal.SIGHUP)
        (new,) = srv.wait_workers(1, timeout=15, differ_from=old)
        return new

    new = reload_to("app_two:app")
    assert get(srv, "/").body == f"two {new}".encode(), srv.log()
    assert f"(pid {new}, spawned)" in srv.log()
    assert "reload: app \"app_one:app\" -> \"app_two:app\"" in srv.log()
    assert "differs from the app the master preloaded" in srv.log()

    new = reload_to("app_one:app")
    assert get(srv, "/").body == f"one {master}".encode(), srv.log()
    assert f"(pid {new}, forked)" in srv.log()
