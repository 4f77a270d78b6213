"""Test-side helpers of the Python integration tests (asgid never imports this module).

    from python_apps.harness import pyserver, requires_python   # noqa: F401 (fixture)
    pytestmark = requires_python

    def test_x(pyserver):
        srv = pyserver("python_apps.probe:app")              # app_dir = tests/integration
        resp = get(srv, "/scope")

`pyserver(spec, app_dir=..., env=..., start=True, wait=True, **settings)` starts asgid through
conftest's `server` factory (so every server is stopped and its log attached to failures)
with a Python app spec, which conftest's app_path() would take for a native library name.

The tests are skipped, with the binary's own reason, only when asgid says it was built
without the Python worker classes (`asgid --app x:y --worker-class asyncio --check-config`).
Any other answer means the tests must run and pass.
"""
import functools
import json
import re
from pathlib import Path

import pytest

import conftest
from conftest import run_asgid, write_ini
from rawhttp import request_bytes

TESTS_DIR = Path(__file__).resolve().parents[1]
SOURCE_DIR = TESTS_DIR.parents[1]
EXAMPLES_PY = SOURCE_DIR / "examples" / "python"
PROBE = "python_apps.probe:app"


@functools.lru_cache(maxsize=None)
def class_support(worker_class="asyncio"):
    """(available, asgid's words) for a Python worker class, asked of the binary itself."""
    code, out = run_asgid(["--app", "x:y", "--worker-class", worker_class, "--check-config"])
    unavailable = re.search(r"built without|unavailable", out, re.IGNORECASE) is not None
    return not unavailable, out.strip()


def _python_built_in():
    available, out = class_support("asyncio")
    if available:
        return True, ""
    if re.search(r"built without", out, re.IGNORECASE):
        return False, f"asgid was built without Python: {out.splitlines()[0] if out else ''}"
    return True, ""  # unavailable for another reason: the tests must run and show it


_PY_OK, _PY_REASON = _python_built_in()
requires_python = pytest.mark.skipif(not _PY_OK, reason=_PY_REASON or "n/a")


@pytest.fixture
def pyserver(server):
    """Factory: pyserver(spec, app_dir=tests/integration, env=None, start=True, wait=True,
    **settings) -> a running conftest.Server serving the Python app `spec`."""
    def start(spec=PROBE, app_dir=TESTS_DIR, env=None, start=True, wait=True, **settings):
        srv = server(app=None, env=env, start=False, **settings)
        srv.settings["app"] = spec
        if app_dir is not None:
            srv.settings["app_dir"] = str(app_dir)
        srv.ini_text = write_ini(srv.ini_path, srv.settings)
        if start:
            srv.start(wait=wait)
        return srv
    return start


def get(srv, path, method="GET", headers=(), body=b"", timeout=5.0, **kwargs):
    """One request on a fresh connection (socket timeout `timeout`); rawhttp's Response."""
    if body and not any(n.lower() == "content-length" for n, _ in headers):
        headers = [*headers, ("Content-Length", str(len(body)))]
    with srv.raw(timeout=timeout) as conn:
        conn.send(request_bytes(method, path, headers=headers, body=body))
        return conn.read_response(**kwargs)


def get_json(srv, path, **kwargs):
    resp = get(srv, path, **kwargs)
    assert resp.status == 200, resp
    return json.loads(resp.body)


def result(srv, key):
    """What the probe recorded under key (see python_apps/probe.py, /result)."""
    resp = get(srv, f"/result?key={key}")
    assert resp.status == 200, resp
    return resp.body.decode()


def wait_result(srv, key, until, timeout=5.0):
    """Polls /result until until(value) holds; returns the last value."""
    import time
    deadline = time.monotonic() + timeout
    value = result(srv, key)
    while not until(value) and time.monotonic() < deadline:
        time.sleep(0.05)
        value = result(srv, key)
    return value

