"""C extension modules in workers, whichever way the interpreter is linked.

scripts/test.sh builds asgid with the static libpython (the normal build) and with the shared
one (the sanitizer build), and runs this suite with worker_start = fork and spawn: each test
here runs on all four. With the static link, extension modules resolve the Python API against
the asgid binary: an export missing, or a second libpython loaded beside the static one, fails
here on import, on use, or in the mapped-files check."""
import os

import pytest

from conftest import needed_libraries
from python_apps.harness import get_json, pyserver, requires_python  # noqa: F401

pytestmark = requires_python

APP = "python_apps.extensions_app:app"

EXPECTED = {
    "zlib": "zlib",
    "expat": "expat",
    "json": "json",
    "ctypes_strlen": 6,
    "decimal": "3.30",
    "sqlite": 5,
    "sha256": "e70bef55",
    "httptools_url": "/parsed?x=1",
    "yaml": {"a": [1, 2]},
    "msgpack": {"m": [1, 2]},
    "future": "resolved",
    "c_future": True,
    "task_class": "_asyncio.Task",
}


def check_results(srv, worker_class):
    for _ in range(3):  # each request uses every module again
        body = get_json(srv, "/")
        assert {key: body[key] for key in EXPECTED} == EXPECTED
        assert body["loop_is_uvloop"] is (worker_class == "uvloop")
    # One interpreter in the process: the shared library only when the binary needs it, never
    # one pulled in by an extension module beside a static interpreter.
    mapped = {os.path.basename(path) for path in body["libpython_maps"]}
    needed = {name for name in needed_libraries() if "libpython" in name}
    assert mapped == needed, mapped


@pytest.mark.parametrize("worker_class", ["asyncio", "uvloop"])
def test_extension_modules_load_and_run_in_workers(pyserver, worker_class):
    srv = pyserver(APP, worker_class=worker_class)
    check_results(srv, worker_class)


def test_extension_modules_imported_by_the_master_run_in_forked_workers(pyserver):
    srv = pyserver(APP, worker_class="uvloop", preload_app="on", worker_start="fork", workers=2)
    srv.wait_workers(2)
    check_results(srv, "uvloop")
