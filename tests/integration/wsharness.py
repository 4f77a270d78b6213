"""Fixtures of the WebSocket tests, and the switch that points them at a reference server.

    from wsharness import ws_server, connect, asgi_app_only   # noqa: F401 (fixture)

    def test_x(ws_server):
        srv = ws_server(ws_max_message_size=4096)       # asgid serving python_apps/ws_app.py
        with connect(srv, "/echo") as ws:
            ws.send_message("hi")
            assert ws.recv_text() == "hi"

`ws_server(app=WS_APP, env=None, **settings)` starts asgid with a Python app through the
`pyserver` fixture (so every server is stopped and its log attached to failures).

Differential testing: with ASGID_WS_REFERENCE set, the same tests start a reference server
instead of asgid, with the same app, so a test can be checked against a server known to speak
WebSocket (and a difference between asgid and the references shows up as a test that passes
on one and fails on the other):

    ASGID_WS_REFERENCE=uvicorn           Debian's uvicorn, --ws websockets
    ASGID_WS_REFERENCE=uvicorn-wsproto   Debian's uvicorn, --ws wsproto
    ASGID_WS_REFERENCE=hypercorn         Debian's hypercorn (wsproto)
    ASGID_WS_REFERENCE=websockets        a plain `websockets` server echoing on every path:
                                         protocol tests only (others are skipped)

Settings with an equivalent are translated (ws_max_message_size, ws_per_message_deflate,
ws_ping_interval, graceful_timeout); a test that needs a setting the reference lacks is
skipped, naming it. The references are not strict everywhere: the tests' docstrings say
where they are known to fail, and stay strict for asgid.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import conftest
from conftest import READY_TIMEOUT, STOP_TIMEOUT, free_port
from python_apps.harness import TESTS_DIR, pyserver, requires_python  # noqa: F401 (fixture)
from rawhttp import RawConnection
from wsframes import WsClient

WS_APP = "python_apps.ws_app:app"
REFERENCE = os.environ.get("ASGID_WS_REFERENCE") or None
REFERENCES = ("uvicorn", "uvicorn-wsproto", "hypercorn", "websockets")
if REFERENCE not in (None, *REFERENCES):
    raise ValueError(f"ASGID_WS_REFERENCE must be one of {REFERENCES}, not {REFERENCE!r}")

# Tests that drive routes of ws_app.py other than the echo (not there under the plain
# websockets reference), or asgid's own settings, logs and process model.
asgi_app_only = pytest.mark.skipif(REFERENCE == "websockets",
                                   reason="the plain websockets reference only echoes")
asgid_only = pytest.mark.skipif(REFERENCE is not None,
                                reason=f"asgid's own behaviour; not comparable on {REFERENCE}")

# The echo of ws_app.py's /echo (text, bytes, the close code) is served by the Python app and
# by the native one (examples/native/ws_echo.c): tests parametrized by `echo_app` run on both.
ECHO_APPS = ["python", "native"]


class ReferenceServer:
    """A reference server process with the parts of conftest.Server the tests use."""

    def __init__(self, workdir, argv, env, cwd):
        self.workdir = Path(workdir)
        self.host, self.port = "127.0.0.1", free_port()
        self.argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.log_path = self.workdir / "reference.log"
        self.ini_text = " ".join(self.argv)
        self.proc = subprocess.Popen(self.argv, stdout=open(self.log_path, "ab"),
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, cwd=cwd, start_new_session=True)
        self.returncode = None

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_ready(self, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"{self.argv[0]} exited early\n{self.log()}")
            try:
                RawConnection(self.host, self.port, timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"{self.argv[0]} did not accept connections\n{self.log()}")

    def raw(self, timeout=5.0, **kwargs):
        return RawConnection(self.host, self.port, timeout=timeout, **kwargs)

    def worker_pids(self):
        return {self.proc.pid}

    def wait_workers(self, count, timeout=10.0):
        return {self.proc.pid}

    def wait_exit(self, timeout):
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def stop(self, timeout=STOP_TIMEOUT):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait_exit(timeout) is None:
                self.kill()
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def seconds(duration):
    """An asgid duration ("300ms", "3s", "2") in seconds."""
    text = str(duration)
    if text.endswith("ms"):
        return float(text[:-2]) / 1000
    return float(text.rstrip("s"))


def _reference_argv(app, settings, workdir):
    """The reference's command line for `app` with asgid's settings translated."""
    def unsupported(name):
        pytest.skip(f"{REFERENCE} has no equivalent of the setting {name}")

    ignored = {"worker_class", "workers", "worker_start", "app_dir", "error_log", "access_log"}
    if REFERENCE == "websockets":
        argv = [sys.executable, str(TESTS_DIR / "python_apps" / "ws_reference_echo.py"),
                "{port}"]
        for name, value in settings.items():
            if name == "ws_max_message_size":
                argv += ["--max-size", str(value)]
            elif name == "ws_per_message_deflate":
                argv += ["--deflate", str(value)]
            elif name not in ignored:
                unsupported(name)
        return argv
    if REFERENCE.startswith("uvicorn"):
        impl = "wsproto" if REFERENCE == "uvicorn-wsproto" else "websockets"
        argv = ["/usr/bin/uvicorn", app, "--app-dir", str(settings.get("app_dir", TESTS_DIR)),
                "--host", "127.0.0.1",
                "--port", "{port}", "--ws", impl, "--lifespan", "on", "--log-level", "debug"]
        flags = {"ws_max_message_size": "--ws-max-size", "ws_ping_interval": "--ws-ping-interval",
                 "ws_ping_timeout": "--ws-ping-timeout",
                 "ws_per_message_deflate": "--ws-per-message-deflate"}
        for name, value in settings.items():
            if name in flags:
                if name == "ws_per_message_deflate":
                    value = "true" if value in (True, "on", "true", "1") else "false"
                elif name in ("ws_ping_interval", "ws_ping_timeout"):
                    value = seconds(value)
                argv += [flags[name], str(value)]
            elif name not in ignored:
                unsupported(name)
        return argv
    # hypercorn: settings through a TOML config file.
    keys = {"ws_max_message_size": "websocket_max_message_size",
            "ws_ping_interval": "websocket_ping_interval", "graceful_timeout": "graceful_timeout"}
    lines = []
    for name, value in settings.items():
        if name in keys:
            if name != "ws_max_message_size":
                value = seconds(value)
            lines.append(f"{keys[name]} = {value}")
        elif name not in ignored:
            unsupported(name)
    (workdir / "hypercorn.toml").write_text("\n".join(lines) + "\n")
    return ["/usr/bin/hypercorn", "--bind", "127.0.0.1:{port}", "--config",
            str(workdir / "hypercorn.toml"), "--error-logfile", "-", app]


def start_shared(workdir, app=WS_APP, env=None, **settings):
    """A server (asgid, or the reference) outside the function-scoped fixtures, for a module
    fixture that many tests share; the caller stops it (.stop(), .kill())."""
    workdir = Path(workdir)
    if REFERENCE is not None:
        full_env = dict(os.environ)
        full_env.update(env or {})
        return ReferenceServer(workdir, _reference_argv(app, settings, workdir), full_env,
                               cwd=settings.get("app_dir", TESTS_DIR)).wait_ready()
    srv = conftest.Server(workdir, None, env=env, **settings)
    srv.settings["app"] = app
    srv.settings["app_dir"] = str(TESTS_DIR)
    srv.ini_text = conftest.write_ini(srv.ini_path, srv.settings)
    return srv.start()


def stop_shared(srv):
    """Stops a start_shared() server; fails on a sanitizer report in its log."""
    try:
        srv.stop()
    finally:
        srv.kill()
    for marker in conftest.SANITIZER_MARKERS:
        assert marker not in srv.log(), f"sanitizer report in the server log:\n{srv.log()}"


@pytest.fixture
def ws_server(request, pyserver, tmp_path):
    """Factory: ws_server(app=WS_APP, env=None, start=True, **settings) -> a running server
    (asgid by default; the reference named by ASGID_WS_REFERENCE when set)."""
    refs = []

    def start(app=WS_APP, env=None, start=True, **settings):
        if REFERENCE is None:
            return pyserver(app, env=env, start=start, **settings)
        workdir = tmp_path / f"reference{len(refs)}"
        workdir.mkdir()
        full_env = dict(os.environ)
        full_env.update(env or {})
        ref = ReferenceServer(workdir, _reference_argv(app, settings, workdir), full_env,
                              cwd=settings.get("app_dir", TESTS_DIR))
        refs.append(ref)
        request.node._asgid_servers = getattr(request.node, "_asgid_servers", []) + [ref]
        return ref.wait_ready() if start else ref

    yield start
    for ref in refs:
        ref.stop()
        ref.kill()


def connect(srv, path="/echo", timeout=5.0, **kwargs):
    """A WsClient on `path` of the server, after a successful handshake."""
    return WsClient.connect(srv.host, srv.port, path, timeout=timeout, **kwargs)


def worker_pid(srv):
    """The pid of the process serving the WebSockets (asgid's one worker)."""
    (pid,) = srv.wait_workers(1)
    return pid
