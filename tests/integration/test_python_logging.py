"""Python apps and the error log: tracebacks whole and multi-line, the app's Python logging
with asgid's prefix and log_level (log_config for the app's own), print() and sys.stderr in
the error log and never in the access log, import-time tracebacks in error_log (forked,
spawned and preloaded), the boot line naming the app and the class really used, and the
lifespan's failures logged once (an app without lifespan support: one INFO line).

Apps: python_apps/logging_app.py, django_errors.py, starlette_lifespan_fail.py,
lifespan_app.py, raising_import_app.py."""
import json
import re
import socket
import subprocess
import time

import pytest

from python_apps.harness import TESTS_DIR, get, pyserver, requires_python  # noqa: F401

pytestmark = requires_python

APP = "python_apps.logging_app:app"
EXIT_APP_LOAD = 4
EXIT_STARTUP_FAILED = 5

# [time] [pid] [LEVEL] [role] text: the error log's prefix (the role is absent before the
# process has one).
PREFIX = re.compile(r"^\[[^\]]+\] \[(\d+)\] \[([A-Z]+)\] (?:\[([^\]]+)\] )?(.*)$")


def entries(text):
    """The error log's entries: dicts of pid, level, role, text (the first line's) and lines
    (the continuation lines' texts, without their "| "). Lines that are not the error log's
    (a raw write to its descriptor) are entries with level None."""
    result = []
    for line in text.splitlines():
        m = PREFIX.match(line)
        if not m:
            result.append({"pid": None, "level": None, "role": None, "text": line, "lines": []})
            continue
        pid, level, role, rest = m.groups()
        if rest.startswith("| ") or rest == "|":
            if result and result[-1]["pid"] == pid:
                result[-1]["lines"].append(rest[2:])
                continue
        result.append({"pid": pid, "level": level, "role": role, "text": rest, "lines": []})
    return result


def wait_for(read, needle, timeout=5.0):
    """read() once it contains needle (polled): the log is written by another process."""
    deadline = time.monotonic() + timeout
    text = read()
    while needle not in text and time.monotonic() < deadline:
        time.sleep(0.05)
        text = read()
    assert needle in text, f"{needle!r} never appeared in:\n{text[-6000:]}"
    return text


def file_reader(path):
    return lambda: path.read_text(errors="replace") if path.exists() else ""


def find(text, first_line, level=None):
    """The entries whose first line is first_line (and level, when given)."""
    return [e for e in entries(text)
            if e["text"] == first_line and (level is None or e["level"] == level)]


# ---------------------------------------------------------------- tracebacks


def test_sixty_frame_traceback_is_logged_whole(pyserver, tmp_path):
    error_log = tmp_path / "error.log"
    srv = pyserver(APP, error_log=str(error_log))
    assert get(srv, "/deep").status == 500
    text = wait_for(file_reader(error_log), "RuntimeError: bottom of a 60-frame stack")
    [entry] = find(text, "Exception in ASGI application (GET /deep)", "ERROR")
    lines = entry["lines"]
    assert lines[0] == "Traceback (most recent call last):"
    frames = [l for l in lines if re.search(r'logging_app\.py", line \d+, in p[io]ng$', l)]
    assert len(frames) == 60, f"{len(frames)} frames of 60:\n" + "\n".join(lines)
    assert lines[-1] == "RuntimeError: bottom of a 60-frame stack", lines[-3:]
    assert entry["role"] == "worker 1"


def test_thread_exception_is_one_error_entry(pyserver):
    srv = pyserver(APP)
    assert get(srv, "/thread-raise").status == 200
    text = wait_for(srv.log, "RuntimeError: raised in a thread")
    [entry] = find(text, "Exception in thread failing-thread", "ERROR")
    assert entry["lines"][0] == "Traceback (most recent call last):"
    assert entry["lines"][-1] == "RuntimeError: raised in a thread"


def test_unraisable_exception_is_one_error_entry(pyserver):
    srv = pyserver(APP)
    assert get(srv, "/unraisable").status == 200
    text = wait_for(srv.log, "RuntimeError: raised in __del__")
    [entry] = [e for e in entries(text) if e["text"].startswith("Exception ignored in: ")]
    assert "RaisesInDel.__del__" in entry["text"] and entry["level"] == "ERROR", entry
    assert entry["lines"][-1] == "RuntimeError: raised in __del__"


# ---------------------------------------------------------------- Python logging


def test_app_logger_info_has_asgids_prefix(pyserver):
    srv = pyserver(APP, log_level="info")
    assert get(srv, "/log?text=hello-from-the-app-logger").status == 200
    text = wait_for(srv.log, "hello-from-the-app-logger")
    assert re.search(r"^\[[^\]]+\] \[\d+\] \[INFO\] \[worker 1\] app: "
                     r"hello-from-the-app-logger$", text, re.MULTILINE), text
    # Logged while the app was imported, before anything served.
    assert find(text, "app: logged at import", "INFO"), text


def test_log_level_applies_to_python_records(pyserver):
    srv = pyserver(APP, log_level="warning")
    assert get(srv, "/log?level=INFO&text=an-info-record").status == 200
    assert get(srv, "/log?level=WARNING&text=a-warning-record").status == 200
    assert get(srv, "/log?level=CRITICAL&text=a-critical-record").status == 200
    text = wait_for(srv.log, "a-critical-record")
    assert find(text, "app: a-warning-record", "WARNING"), text
    assert find(text, "app: a-critical-record", "ERROR"), text  # CRITICAL is written as ERROR
    assert "an-info-record" not in text and "logged at import" not in text


def test_debug_level_lets_debug_records_through(pyserver):
    srv = pyserver(APP, log_level="debug")
    assert get(srv, "/log?level=DEBUG&text=a-debug-record").status == 200
    assert find(wait_for(srv.log, "a-debug-record"), "app: a-debug-record", "DEBUG")


def test_logger_exception_carries_its_traceback(pyserver):
    srv = pyserver(APP)
    assert get(srv, "/exception").status == 200
    text = wait_for(srv.log, "ValueError: the caught exception")
    [entry] = find(text, "app: caught it", "ERROR")
    assert entry["lines"][0] == "Traceback (most recent call last):"
    assert entry["lines"][-1] == "ValueError: the caught exception"


LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"own": {"format": "APP-FORMAT %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "own",
                             "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": ["console"]},
}

LOG_CONFIG_INI = """\
[loggers]
keys=root

[handlers]
keys=console

[formatters]
keys=own

[logger_root]
level=INFO
handlers=console

[handler_console]
class=StreamHandler
formatter=own
args=(sys.stderr,)

[formatter_own]
format=APP-FORMAT %(levelname)s %(name)s %(message)s
"""


@pytest.mark.parametrize("kind", ["json", "yaml", "ini"])
def test_log_config_switches_to_the_apps_own_format(pyserver, tmp_path, kind):
    path = tmp_path / f"logging.{kind}"
    # JSON is YAML too: the .yaml file goes through PyYAML's safe_load.
    path.write_text(LOG_CONFIG_INI if kind == "ini" else json.dumps(LOG_CONFIG))
    srv = pyserver(APP, log_config=str(path))
    assert get(srv, "/log?text=in-the-apps-format").status == 200
    text = wait_for(srv.log, "in-the-apps-format")
    # Its own format, whole, as under uvicorn --log-config: no asgid prefix before it.
    assert re.search(r"^APP-FORMAT INFO app in-the-apps-format$", text, re.MULTILINE), text
    assert "APP-FORMAT INFO app logged at import" in text


@pytest.mark.parametrize("name,content,words", [
    ("broken.json", '{"version": 1,', "JSONDecodeError"),
    ("bad-handler.json", json.dumps({"version": 1, "handlers": {"h": {"class": "no.Such"}}}),
     "Unable to configure handler 'h'"),
    ("broken.ini", "[loggers]\nkeys=root\n", "missing section or key 'formatters'"),
])
def test_broken_log_config_is_one_clear_error(pyserver, tmp_path, name, content, words):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    srv = pyserver(APP, log_config=str(path), wait=False)
    code = srv.wait_exit(timeout=15)
    assert code == EXIT_APP_LOAD, f"exit status {code}\n{srv.log()}"
    lines = [l for l in srv.log().splitlines() if f"log_config {path}: " in l and words in l]
    assert len(lines) == 1, srv.log()
    assert "Traceback" not in srv.log()


def test_a_missing_log_config_is_one_line_before_anything_binds(tmp_path):
    from conftest import free_port, run_asgid
    port = free_port()
    path = tmp_path / "missing.json"
    code, out = run_asgid(["--app", APP, "--app-dir", str(TESTS_DIR), "--log-config",
                           str(path), "-b", f"127.0.0.1:{port}"])
    assert code == 1, out
    lines = out.splitlines()
    assert len(lines) == 1 and lines[0].endswith(
        f"[ERROR] [master] log_config {path}: no such file or directory"), out
    with socket.socket() as s:  # nothing was bound: the port is still free
        s.bind(("127.0.0.1", port))
    code, out = run_asgid(["--app", APP, "--app-dir", str(TESTS_DIR), "--log-config",
                           str(path), "--check-config"])
    assert code == 1 and out == f"log_config {path}: no such file or directory\n", out


def test_broken_log_config_fails_check_config(tmp_path):
    from conftest import run_asgid
    path = tmp_path / "broken.json"
    path.write_text("{")
    code, out = run_asgid(["--app", APP, "--app-dir", str(TESTS_DIR), "--log-config",
                           str(path), "--check-config"])
    assert code != 0, out
    assert f"log_config {path}: JSONDecodeError" in out, out


def test_basic_config_in_the_app_still_works(pyserver, tmp_path):
    (tmp_path / "basic_app.py").write_text(
        "import logging\n"
        "logging.basicConfig(level=logging.DEBUG, format='BASIC %(levelname)s %(message)s')\n"
        "logging.getLogger('x').debug('configured by basicConfig')\n"
        "async def app(scope, receive, send):\n"
        "    pass\n")
    srv = pyserver("basic_app:app", app_dir=tmp_path)
    # basicConfig's handler writes to sys.stderr, which is asgid's error log.
    text = wait_for(srv.log, "configured by basicConfig")
    assert find(text, "stderr: BASIC DEBUG configured by basicConfig", "WARNING"), text


# ---------------------------------------------------------------- print(), stdout, stderr


@pytest.mark.parametrize("error_to", ["-", "file"])
@pytest.mark.parametrize("access_to", ["-", "file"])
def test_print_goes_to_the_error_log_never_the_access_log(pyserver, tmp_path, error_to,
                                                            access_to):
    error_log = tmp_path / "error.log"
    access_log = tmp_path / "access.log"
    srv = pyserver(APP, error_log="-" if error_to == "-" else str(error_log),
                   access_log="-" if access_to == "-" else str(access_log))
    read_error = srv.log if error_to == "-" else file_reader(error_log)
    read_access = srv.stdout if access_to == "-" else file_reader(access_log)
    for path in ("/print?text=printed-by-the-app", "/stderr?text=written-to-stderr",
                 "/fd?text=written-to-the-descriptor"):
        assert get(srv, path).status == 200
    wait_for(read_access, "GET /fd?text=written-to-the-descriptor")
    text = wait_for(read_error, "written-to-the-descriptor")
    assert find(text, "stdout: printed at import", "INFO"), text
    assert find(text, "stdout: printed-by-the-app", "INFO"), text
    assert find(text, "stderr: written-to-stderr", "WARNING"), text
    # Below Python's streams, a raw write to sys.stdout.fileno() lands in the error log too.
    assert "written-to-the-descriptor" in text
    access = read_access().splitlines()
    assert len(access) == 3 and all(l.startswith('127.0.0.1 - - [') for l in access), access
    if error_to == "file":
        assert "stdout:" not in srv.log() + srv.stdout()


def test_one_write_of_several_lines_is_one_entry(pyserver):
    srv = pyserver(APP)
    assert get(srv, "/lines").status == 200
    [entry] = find(wait_for(srv.log, "second line"), "stdout: first line", "INFO")
    assert entry["lines"] == ["second line"]


def test_partial_lines_wait_for_flush_or_exit(pyserver):
    srv = pyserver(APP)
    assert get(srv, "/partial?text=flushed-without-newline").status == 200
    assert get(srv, "/unflushed?text=written-at-exit").status == 200
    text = wait_for(srv.log, "flushed-without-newline")
    assert find(text, "stdout: flushed-without-newline", "INFO"), text
    assert "written-at-exit" not in text  # a partial line waits for its end
    assert srv.stop() == 0, srv.log()
    assert find(srv.log(), "stdout: written-at-exit", "INFO"), srv.log()


def test_threads_print_whole_lines(pyserver):
    srv = pyserver(APP)
    assert get(srv, "/thread?text=threaded", timeout=15).status == 200
    expected = {f"stdout: threaded {t}-{i}" for t in range(4) for i in range(50)}
    text = wait_for(srv.log, "threaded 3-49")
    time.sleep(0.2)
    got = [e["text"] for e in entries(srv.log()) if "threaded" in e["text"]]
    assert sorted(got) == sorted(expected), "lost, torn or repeated lines"


def test_fork_flushes_the_partial_line_once(pyserver):
    srv = pyserver(APP)
    [worker] = srv.worker_pids()
    assert get(srv, "/fork?text=partial-before-fork").status == 200
    text = wait_for(srv.log, f"child of {worker}")
    # The parent's unfinished line went out before the fork, so the child did not inherit it.
    assert [e["pid"] for e in entries(text) if e["text"] == "stdout: partial-before-fork"] \
        == [str(worker)], text
    [child] = [e for e in entries(text) if e["text"] == f"stdout: child of {worker}"]
    assert child["pid"] != str(worker)


# ---------------------------------------------------------------- import-time errors


@pytest.mark.parametrize("mode", ["fork", "spawn", "preload"])
def test_import_time_traceback_goes_to_error_log_file(pyserver, tmp_path, mode):
    error_log = tmp_path / "error.log"
    settings = {"worker_start": "fork", "preload_app": "on"} if mode == "preload" \
        else {"worker_start": mode}
    srv = pyserver("python_apps.raising_import_app:app", error_log=str(error_log), wait=False,
                   **settings)
    code = srv.wait_exit(timeout=15)
    assert code == EXIT_APP_LOAD, f"exit status {code}\n{srv.log()}"
    text = error_log.read_text()
    [entry] = [e for e in entries(text) if e["lines"][:1] == ["Traceback (most recent call last):"]]
    assert entry["role"] == ("master" if mode == "preload" else "worker 1"), text
    assert entry["level"] == "ERROR"
    assert re.search(r'raising_import_app\.py", line 2, in <module>$', "\n".join(entry["lines"]),
                     re.MULTILINE), text
    assert entry["lines"][-1] == "ZeroDivisionError: raised at import on purpose"
    assert "traceback above" not in text
    # Nothing went around the error log to raw standard error.
    assert "Traceback" not in srv.log() + srv.stdout()


# ---------------------------------------------------------------- the boot line


def booted(srv):
    line = next(l for l in wait_for(srv.log, "booted (").splitlines() if "booted (" in l)
    return re.search(r"booted \((.*)\)$", line).group(1)


@pytest.mark.parametrize("worker_class,words", [
    ("auto", "worker class uvloop: worker_class = auto"),
    ("uvloop", "worker class uvloop"),
    ("asyncio", "worker class asyncio"),
])
def test_boot_line_names_the_app_and_the_class(pyserver, worker_class, words):
    srv = pyserver(APP, worker_class=worker_class)
    assert re.fullmatch(r"pid \d+, app python_apps\.logging_app:app, " + re.escape(words),
                        booted(srv)), booted(srv)


def test_boot_line_says_why_auto_runs_asyncio_without_uvloop(pyserver, tmp_path):
    venv = tmp_path / "bare-venv"  # without Debian's packages: no uvloop
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=60)
    srv = pyserver(APP, worker_class="auto", virtualenv=str(venv))
    assert booted(srv).endswith(
        ", app python_apps.logging_app:app, worker class asyncio: uvloop is not installed, "
        "worker_class = auto"), booted(srv)


def test_boot_line_says_why_a_broken_uvloop_is_not_used(pyserver, tmp_path):
    # A uvloop package that fails to import shadows the installed one (app_dir comes first).
    (tmp_path / "uvloop").mkdir()
    (tmp_path / "uvloop" / "__init__.py").write_text(
        'raise ImportError("uvloop broken on purpose")\n')
    (tmp_path / "shadow_app.py").write_text("async def app(scope, receive, send):\n    pass\n")
    srv = pyserver("shadow_app:app", app_dir=tmp_path, worker_class="auto")
    assert booted(srv).endswith(
        "worker class asyncio: uvloop cannot be imported (ImportError: uvloop broken on "
        "purpose), worker_class = auto"), booted(srv)


# ---------------------------------------------------------------- lifespan and Django


def test_django_without_lifespan_is_one_info_line(pyserver):
    srv = pyserver("python_apps.django_errors:application")
    assert get(srv, "/").status == 200
    text = srv.log()
    lines = [l for l in text.splitlines() if "lifespan" in l]
    assert len(lines) == 1, text
    assert re.search(r"\[INFO\] \[worker 1\] ASGI 'lifespan' protocol appears unsupported\.$",
                     lines[0]), lines
    assert "Traceback" not in text and "[ERROR]" not in text, text


def test_without_lifespan_the_traceback_is_there_at_debug(pyserver):
    srv = pyserver("python_apps.django_errors:application", log_level="debug")
    assert get(srv, "/").status == 200
    [entry] = find(srv.log(), "The app raised in the lifespan scope", "DEBUG")
    assert "lifespan" in entry["lines"][-1]  # Django: "can only handle ASGI/HTTP connections"


@pytest.mark.parametrize("logging_mode,first_line,level", [
    ("stderr", "stderr: Internal Server Error: /boom", "WARNING"),
    ("propagate", "django.request: Internal Server Error: /boom", "ERROR"),
])
def test_django_request_errors_reach_the_error_log_once(pyserver, logging_mode, first_line,
                                                        level):
    srv = pyserver("python_apps.django_errors:application",
                   env={"DJANGO_LOGGING": logging_mode})
    assert get(srv, "/boom").status == 500
    text = wait_for(srv.log, "ValueError: boom from a Django view")
    time.sleep(0.2)
    text = srv.log()
    assert text.count("ValueError: boom from a Django view") == 1, text
    [entry] = find(text, first_line, level)
    assert entry["lines"][-1] == "ValueError: boom from a Django view"


def test_starlette_startup_failure_is_logged_once(pyserver):
    srv = pyserver("python_apps.starlette_lifespan_fail:app", wait=False)
    code = srv.wait_exit(timeout=15)
    assert code == EXIT_STARTUP_FAILED, f"exit status {code}\n{srv.log()}"
    text = srv.log()
    assert text.count("RuntimeError: the database is down") == 1, text
    # Starlette's lifespan.startup.failed message is the traceback: one entry of many lines.
    [entry] = find(text, "app startup failed: Traceback (most recent call last):", "ERROR")
    assert entry["lines"][-1] == "RuntimeError: the database is down"
    assert "unsupported" not in text and "Exception in 'lifespan' protocol" not in text


@pytest.mark.parametrize("lifespan", ["on", "auto"])
def test_lifespan_exception_is_logged_once_with_its_traceback(pyserver, tmp_path, lifespan):
    srv = pyserver("python_apps.lifespan_app:app", lifespan=lifespan, wait=lifespan == "auto",
                   env={"LIFESPAN_MODE": "raise", "LIFESPAN_DIR": str(tmp_path)})
    if lifespan == "on":
        code = srv.wait_exit(timeout=15)
        assert code == EXIT_STARTUP_FAILED, f"exit status {code}\n{srv.log()}"
    else:  # auto serves on without lifespan, as before
        assert get(srv, "/").status == 200
    text = srv.log()
    assert text.count("RuntimeError: lifespan raised on purpose") == 1, text
    [entry] = find(text, "Exception in 'lifespan' protocol", "ERROR")
    assert entry["lines"][-1] == "RuntimeError: lifespan raised on purpose"
    assert "unsupported" not in text
