"""A Python worker whose event loop is blocked (examples/python/blocking_app.py calls
time.sleep on the loop) is killed after [workers] timeout; the error log shows the Python
stack of its threads, with the time.sleep line; a new worker takes over."""
import re
import time

import pytest

from python_apps.harness import EXAMPLES_PY, get, pyserver, requires_python  # noqa: F401
from rawhttp import RawConnection, request_bytes

pytestmark = requires_python


def sleep_line():
    """The line number of the time.sleep call in the example."""
    lines = (EXAMPLES_PY / "blocking_app.py").read_text().splitlines()
    return next(i + 1 for i, l in enumerate(lines) if "asgid-blocking-sleep" in l)


@pytest.mark.parametrize("worker_class", ["asyncio", "uvloop"])
def test_blocked_worker_is_killed_with_its_python_stack(pyserver, worker_class):
    srv = pyserver("blocking_app:app", app_dir=EXAMPLES_PY, timeout="2s",
                   worker_class=worker_class)
    old_pid = int(get(srv, "/pid").body)
    started = time.monotonic()
    with RawConnection(srv.host, srv.port, timeout=15) as conn:
        conn.send(request_bytes("GET", "/block?s=30"))
        try:
            data = conn.read_until_close(timeout=15)
        except OSError:
            data = b""
    waited = time.monotonic() - started
    assert b"slept" not in data
    assert waited < 12, f"the blocked worker was not killed in time ({waited:.1f} s)"
    assert waited >= 1.5, f"killed before the 2 s timeout ({waited:.1f} s)"

    new_pids = srv.wait_workers(1, differ_from=[old_pid])
    assert get(srv, "/").body == b"ok\n"
    assert int(get(srv, "/pid").body) in new_pids

    deadline = time.monotonic() + 5
    pattern = re.compile(r'blocking_app\.py", line %d,? in block_the_loop' % sleep_line())
    while not pattern.search(srv.log()) and time.monotonic() < deadline:
        time.sleep(0.1)
    log = srv.log()
    assert pattern.search(log), f"no Python stack with the time.sleep line in:\n{log[-5000:]}"
    assert re.search(r'line \d+,? in app', log), "the stack lacks the app's own frame"
    assert str(old_pid) in log


@pytest.mark.parametrize("worker_class", ["asyncio", "uvloop"])
def test_awaiting_longer_than_timeout_is_not_hung(pyserver, worker_class):
    # A request awaiting asyncio.sleep past [workers] timeout leaves the loop free: the worker
    # keeps its heartbeat and is not killed.
    srv = pyserver("python_apps.probe:app", timeout="1s", worker_class=worker_class)
    pid = int(get(srv, "/pid").body)
    resp = get(srv, "/sleep?ms=2500", timeout=10)
    assert resp.status == 200 and resp.body == b"slept"
    assert int(get(srv, "/pid").body) == pid


@pytest.mark.parametrize("worker_class", ["asyncio", "uvloop"])
def test_pending_timer_does_not_spin(pyserver, worker_class):
    # While a request waits on a 3 s asyncio timer the worker must sleep in the kernel, not
    # poll (a pattern seen in servers that pump libuv from asyncio with call_soon).
    srv = pyserver("python_apps.probe:app", worker_class=worker_class)
    with RawConnection(srv.host, srv.port, timeout=10) as conn:
        conn.send(request_bytes("GET", "/sleep?ms=3000"))
        time.sleep(0.3)
        srv.assert_idle(seconds=1.5, limit=0.3)
        assert conn.read_response().body == b"slept"
    srv.assert_idle(seconds=1.0, limit=0.3)
