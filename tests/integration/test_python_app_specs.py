"""Python app specs: module:attribute imported by module name from app_dir, factory = on,
and bad specs (missing module, missing attribute, not callable, import error, a module that
raises, a factory that raises, a malformed spec) that must fail at start with one clear line
naming the problem and exit status 4, without a respawn loop."""
import re

import pytest

from conftest import run_asgid
from python_apps.harness import TESTS_DIR, get, pyserver, requires_python  # noqa: F401

pytestmark = requires_python

EXIT_APP_LOAD = 4


def test_spec_with_nested_package(pyserver):
    srv = pyserver("python_apps.awaitable_app:class_app")
    assert get(srv, "/").body == b"class ok"


def test_app_dir_defaults_to_the_working_directory(pyserver, tmp_path):
    # conftest runs the server in its own folder: an app put there is importable.
    srv = pyserver("cwd_app:app", app_dir=None, start=False)
    (srv.workdir / "cwd_app.py").write_text(
        "async def app(scope, receive, send):\n"
        "    if scope['type'] != 'http':\n        return\n"
        "    await send({'type': 'http.response.start', 'status': 200, 'headers': []})\n"
        "    await send({'type': 'http.response.body', 'body': b'from cwd'})\n")
    srv.start()
    assert get(srv, "/").body == b"from cwd"


def test_factory_is_called_once(pyserver):
    srv = pyserver("python_apps.factory_app:make_app", factory="on")
    for _ in range(3):
        assert get(srv, "/").body == b"made by factory 1"


BAD_SPECS = [
    # spec, extra settings, words the error line must contain
    ("python_apps.no_such_module:app", {}, ["python_apps.no_such_module"]),
    ("no_such_top_level_module_asgid:app", {}, ["no_such_top_level_module_asgid"]),
    ("python_apps.probe:no_such_attribute", {}, ["no_such_attribute"]),
    ("python_apps.bad_specs:not_callable", {}, ["not_callable", "callable"]),
    ("python_apps.import_error_app:app", {}, ["this_module_does_not_exist_asgid"]),
    ("python_apps.raising_import_app:app", {}, ["raised at import on purpose"]),
    ("python_apps.factory_app:broken_factory", {"factory": "on"},
     ["factory broken on purpose"]),
]


@pytest.mark.parametrize("spec,settings,words", BAD_SPECS,
                         ids=[s[0].split(":")[0].split(".")[-1] + ":" + s[0].split(":")[1]
                              for s in BAD_SPECS])
@pytest.mark.parametrize("workers", [1, 2])
def test_bad_spec_fails_at_start_with_status_4(pyserver, spec, settings, words, workers):
    srv = pyserver(spec, wait=False, workers=workers, **settings)
    code = srv.wait_exit(timeout=15)
    log = srv.log()
    assert code == EXIT_APP_LOAD, f"exit status {code}\n{log}"
    # Entries, not the continuation lines ("| ...") of a traceback, which repeat the words.
    lines = [l for l in log.splitlines() if "] | " not in l and all(w in l for w in words)]
    assert lines, f"no line naming {words} in:\n{log}"
    # One clear error, not a respawn loop repeating it.
    assert len(lines) <= 2 * workers, f"{len(lines)} lines: a respawn loop?\n{log}"


@pytest.mark.parametrize("spec", ["python_apps.probe", "python_apps.probe:", ":app"])
def test_malformed_spec_is_refused(spec, tmp_path):
    code, out = run_asgid(["--app", spec, "--app-dir", str(TESTS_DIR), "--worker-class",
                           "asyncio", "--bind", "127.0.0.1:0", "--workers", "1"], timeout=15)
    assert code != 0, out
    assert out.strip(), "refused without a word"


def test_native_worker_class_with_python_spec_is_refused():
    code, out = run_asgid(["--app", "python_apps.probe:app", "--app-dir", str(TESTS_DIR),
                           "--worker-class", "event", "--check-config"])
    assert code != 0, out
    assert re.search(r"event", out), out
