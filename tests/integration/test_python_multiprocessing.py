"""Processes and threads from a Python app in asgid (examples/python/procpool_app.py and
python_apps/probe.py): ProcessPoolExecutor with fork and with spawn through
loop.run_in_executor, anyio.to_process.run_sync, asyncio subprocesses, asyncio.to_thread and
the default executor. spawn, anyio.to_process and subprocesses start sys.executable: they
work only if it is a real Python interpreter rather than the server binary."""
import concurrent.futures
import json
import os

import pytest

from python_apps.harness import (EXAMPLES_PY, PROBE, get, get_json, pyserver,  # noqa: F401
                                 requires_python)

pytestmark = requires_python

EXPECTED = sum(i * i for i in range(1000))


@pytest.fixture(params=["asyncio", "uvloop"])
def procpool(request, pyserver):
    return pyserver("procpool_app:app", app_dir=EXAMPLES_PY, worker_class=request.param,
                    timeout="20s")


@pytest.mark.parametrize("route", ["/pool", "/spawn", "/anyio"])
def test_work_runs_in_another_process(procpool, route):
    resp = get(procpool, f"{route}?n=1000", timeout=20)
    assert resp.status == 200, f"{resp!r}\n{procpool.log()[-3000:]}"
    out = json.loads(resp.body)
    assert out["result"] == EXPECTED
    assert out["pid"] != out["server_pid"]
    assert os.path.basename(os.path.realpath(out["executable"])).startswith("python"), out


def test_concurrent_pool_requests(procpool):
    def one(i):
        return json.loads(get(procpool, f"/pool?n={1000 + i}", timeout=20).body)["result"]
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        results = list(ex.map(one, range(16)))
    assert results == [sum(j * j for j in range(1000 + i)) for i in range(16)]
    assert get(procpool, "/").status == 200


def test_pools_shut_down_with_the_server(procpool):
    out = json.loads(get(procpool, "/spawn?n=10", timeout=20).body)
    assert procpool.stop() == 0, procpool.log()
    # The pool's processes did not outlive the server.
    assert not os.path.exists(f"/proc/{out['pid']}") or \
        open(f"/proc/{out['pid']}/stat").read().split()[2] == "Z"


@pytest.mark.parametrize("worker_class", ["asyncio", "uvloop"])
def test_asyncio_subprocess_and_threads(pyserver, worker_class):
    srv = pyserver(PROBE, worker_class=worker_class)
    out = get_json(srv, "/subprocess", timeout=15)
    assert out == {"out": "child 3\n", "returncode": 0}
    assert get_json(srv, "/to-thread") == [42, 100]


def test_threads_make_progress_under_concurrency(pyserver):
    srv = pyserver(PROBE)

    def one(_):
        return get_json(srv, "/to-thread")
    with concurrent.futures.ThreadPoolExecutor(10) as ex:
        assert list(ex.map(one, range(20))) == [[42, 100]] * 20
