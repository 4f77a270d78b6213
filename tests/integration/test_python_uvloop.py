"""Worker classes for Python apps: asyncio runs the stock asyncio loop, uvloop runs uvloop's,
auto picks one of them for a module:attribute spec; uvloop that cannot be imported (a
virtualenv without it) is refused with the reason, and auto then falls back to asyncio.
(Every other test_python_* file runs its checks under both classes.)"""
import subprocess

import pytest

from python_apps.harness import (PROBE, class_support, get_json,  # noqa: F401
                                 pyserver, requires_python)

pytestmark = requires_python


def test_check_config_reports_both_classes_available():
    for cls in ("asyncio", "uvloop"):
        available, out = class_support(cls)
        assert available, f"worker_class {cls}: {out}"


@pytest.mark.parametrize("worker_class,loop", [("asyncio", "asyncio."), ("uvloop", "uvloop.")])
def test_worker_class_chooses_the_loop(pyserver, worker_class, loop):
    srv = pyserver(PROBE, worker_class=worker_class)
    info = get_json(srv, "/sys")
    assert info["loop_class"].startswith(loop), info["loop_class"]
    assert info["in_task"] is True


def test_auto_picks_a_python_class(pyserver):
    srv = pyserver(PROBE, worker_class="auto")
    info = get_json(srv, "/sys")
    assert info["loop_class"].split(".")[0] in ("asyncio", "uvloop"), info["loop_class"]


def test_uvloop_class_serves_many_keepalive_requests(pyserver):
    srv = pyserver(PROBE, worker_class="uvloop")
    with srv.raw() as conn:
        for i in range(200):
            conn.send(b"GET /pid HTTP/1.1\r\nHost: t\r\n\r\n")
            assert conn.read_response().status == 200


@pytest.fixture
def bare_venv(tmp_path):
    """A virtualenv without Debian's packages: uvloop is not importable in it."""
    venv = tmp_path / "bare-venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", str(venv)],
                   check=True, timeout=60)
    return venv


def test_uvloop_missing_is_refused_with_the_reason(pyserver, bare_venv):
    srv = pyserver(PROBE, wait=False, worker_class="uvloop", virtualenv=str(bare_venv))
    code = srv.wait_exit(timeout=15)
    assert code not in (None, 0), srv.log()
    assert "uvloop" in srv.log() + srv.stdout()


def test_auto_without_uvloop_runs_asyncio(pyserver, bare_venv):
    srv = pyserver(PROBE, worker_class="auto", virtualenv=str(bare_venv))
    assert get_json(srv, "/sys")["loop_class"].startswith("asyncio.")
