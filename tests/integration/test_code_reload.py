"""reload = on: saving a *.py file under app_dir reloads the workers (docs/python.md, the
development loop), through the same reload as HUP, so a broken file leaves the old workers
serving."""
import time

import httpx

from master_util import wait_for
from python_apps.harness import pyserver, requires_python  # noqa: F401

pytestmark = requires_python

# Each test's versions differ in length: Python trusts a cached .pyc whose source has the same
# size and modification second, and a test saves faster than once a second.
APP = '''
from {module} import BODY


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({{"type": "http.response.start", "status": 200, "headers": []}})
    await send({{"type": "http.response.body", "body": BODY.encode()}})
'''


def write_app(app_dir, body, module="version"):
    """main.py serves BODY from `module` (a separate file, so tests can change either)."""
    (app_dir / "main.py").write_text(APP.format(module=module))
    path = app_dir / (module.replace(".", "/") + ".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"BODY = {body!r}\n")


def body(srv):
    try:
        return httpx.get(srv.url + "/", timeout=5).text
    except httpx.TransportError:
        return None


def served(srv, expected, timeout=15):
    return wait_for(lambda: body(srv) == expected, timeout)


def reloads(srv):
    return srv.log().count("changed: reloading")


def all_ready(srv, workers=1):
    """Every worker has imported the app: the listener accepts before they have."""
    assert wait_for(lambda: srv.log().count(") is ready") >= workers, 15), srv.log()


def start(pyserver, tmp_path, workers=1, **settings):
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    write_app(app_dir, "v1")
    srv = pyserver("main:app", app_dir=app_dir, reload="on", workers=workers, **settings)
    all_ready(srv, workers)
    assert body(srv) == "v1"
    assert "reload = on: watching *.py files in 1 directory under " + str(app_dir) in srv.log()
    return srv, app_dir


def test_saving_a_module_reloads_the_workers(pyserver, tmp_path):
    srv, app_dir = start(pyserver, tmp_path, workers=2)
    (app_dir / "version.py").write_text("BODY = 'v2.'\n")
    assert served(srv, "v2."), srv.log()
    assert "reload = on: version.py changed: reloading" in srv.log()
    # Once the old generation has exited (it stops only when all new workers are ready),
    # every worker serves the new code: a dozen connections all see it.
    assert wait_for(lambda: srv.log().count("of the previous configuration") == 2
                    and srv.log().count(") exited with status 0") == 2, 15), srv.log()
    assert all(body(srv) == "v2." for _ in range(12))


def test_only_python_sources_count(pyserver, tmp_path):
    srv, app_dir = start(pyserver, tmp_path)
    (app_dir / "notes.txt").write_text("not code\n")
    (app_dir / "version.pyc").write_bytes(b"\0")
    (app_dir / "version.py.swp").write_bytes(b"\0")
    time.sleep(1.0)  # four times the quiet period the watch waits for
    assert reloads(srv) == 0, srv.log()
    # The watch is alive: a source change after them does reload, once.
    (app_dir / "version.py").write_text("BODY = 'v2.'\n")
    assert served(srv, "v2."), srv.log()
    assert reloads(srv) == 1


def test_a_burst_of_saves_is_one_reload(pyserver, tmp_path):
    srv, app_dir = start(pyserver, tmp_path)
    for i in range(5):
        (app_dir / "version.py").write_text(f"BODY = 'v{i + 2}{'.' * i}'\n")
    assert served(srv, "v6...."), srv.log()
    time.sleep(1.0)
    assert reloads(srv) == 1, srv.log()


def test_subpackages_and_new_directories_are_watched(pyserver, tmp_path):
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    write_app(app_dir, "v1", module="pkg.version")
    (app_dir / "pkg" / "__init__.py").write_text("")
    (app_dir / "pkg" / "__pycache__").mkdir()
    (app_dir / ".git").mkdir()
    srv = pyserver("main:app", app_dir=app_dir, reload="on")
    all_ready(srv)
    assert "watching *.py files in 2 directories" in srv.log()  # not __pycache__, not .git
    (app_dir / "pkg" / "version.py").write_text("BODY = 'v2.'\n")
    assert served(srv, "v2."), srv.log()
    assert "pkg/version.py changed" in srv.log()
    # A directory made after the start is found at the next reload's scan.
    write_app(app_dir, "v3..", module="late.version")
    assert served(srv, "v3.."), srv.log()
    (app_dir / "late" / "version.py").write_text("BODY = 'v4...'\n")
    assert served(srv, "v4..."), srv.log()
    assert "late/version.py changed" in srv.log()


def test_a_broken_save_keeps_the_old_workers_serving(pyserver, tmp_path):
    srv, app_dir = start(pyserver, tmp_path)
    (app_dir / "version.py").write_text("BODY = 'v2\n")  # a syntax error
    assert wait_for(lambda: "reload failed" in srv.log(), 15), srv.log()
    assert body(srv) == "v1"
    assert "SyntaxError" in srv.log()
    (app_dir / "version.py").write_text("BODY = 'v3..'\n")
    assert served(srv, "v3.."), srv.log()


def test_preloaded_app_says_reload_cannot_work(pyserver, tmp_path):
    srv, app_dir = start_preloaded(pyserver, tmp_path)
    assert "reload = on does nothing with preload_app = on" in srv.log()
    (app_dir / "version.py").write_text("BODY = 'v2.'\n")
    time.sleep(1.0)
    assert reloads(srv) == 0 and body(srv) == "v1"


def start_preloaded(pyserver, tmp_path):
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    write_app(app_dir, "v1")
    srv = pyserver("main:app", app_dir=app_dir, reload="on", preload_app="on",
                   worker_start="fork")
    all_ready(srv)
    assert body(srv) == "v1"
    return srv, app_dir
