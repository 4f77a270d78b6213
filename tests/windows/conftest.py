"""Fixtures for the Windows integration tests: asgid.exe, cross-built, run under Wine.

scripts/test-windows.sh runs them after the cross-build, with a private Wine prefix (WINEPREFIX,
LANG=C.UTF-8, WINEDEBUG=-all, no display) and ASGID_WIN_BUILD naming the build folder;
anywhere else they are skipped. Wine runs the programs on the host's network stack, so the
tests talk to asgid.exe over 127.0.0.1 like any client.

The session installs asgid.exe and the test app under
    C:\\Program Files\\Tëst Ünïcode\\app dir\\
and plants decoys (tests/windows/decoy.c) where a careless asgid.exe would start a program
instead of itself: C:\\Program.exe and C:\\Program Files\\Tëst.exe (the unquoted path split at
a space, CWE-428), asgid.exe in the working directory, and asgid.exe in a folder on PATH. A decoy
that runs leaves "<its path>.ran"; every test checks that none did.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

BUILD = os.environ.get("ASGID_WIN_BUILD")
if not BUILD or not os.environ.get("WINEPREFIX"):
    pytest.skip("the Windows tests run under Wine from scripts/test-windows.sh",
                allow_module_level=True)
BUILD = Path(BUILD)
DRIVE_C = Path(os.environ["WINEPREFIX"]) / "drive_c"

INSTALL_WIN = "C:\\Program Files\\Tëst Ünïcode\\app dir"
INSTALL = DRIVE_C / "Program Files" / "Tëst Ünïcode" / "app dir"
ASGID_WIN = INSTALL_WIN + "\\asgid.exe"
APP_WIN = INSTALL_WIN + "\\win_app.dll"
PATH_DIR_WIN = "C:\\decoy path"
DECOYS = [
    DRIVE_C / "Program.exe",
    DRIVE_C / "Program Files" / "Tëst.exe",
    DRIVE_C / "decoy path" / "asgid.exe",
]

READY_TIMEOUT = 20.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def http_get(port, path, timeout=5.0):
    """(status, body) of one GET on a fresh connection, or None when nothing answered."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    except OSError:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 "):
        return None
    return int(head.split()[1]), body.decode("utf-8")


def whoami(port):
    answer = http_get(port, "/whoami")
    if not answer or answer[0] != 200:
        return None
    return dict(line.split("=", 1) for line in answer[1].splitlines())


@pytest.fixture(scope="session")
def installed():
    """asgid.exe and win_app.dll under the Unicode path with spaces, and the decoys."""
    INSTALL.mkdir(parents=True, exist_ok=True)
    shutil.copy(BUILD / "asgid.exe", INSTALL / "asgid.exe")
    shutil.copy(BUILD / "tests" / "apps" / "win_app.dll", INSTALL / "win_app.dll")
    decoy = BUILD / "tests" / "apps" / "decoy.exe"
    for path in DECOYS:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(decoy, path)
    yield INSTALL


@pytest.fixture
def workdir(installed, tmp_path):
    """The master's working directory, with its own decoy asgid.exe."""
    shutil.copy(BUILD / "tests" / "apps" / "decoy.exe", tmp_path / "asgid.exe")
    yield tmp_path
    ran = [str(p) for p in DRIVE_C.rglob("*.ran")] + [str(p) for p in tmp_path.glob("*.ran")]
    assert ran == [], f"decoys ran: {ran}"


def wine_env(**extra):
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    # Prepended to Windows' PATH: a folder holding a decoy asgid.exe.
    env["WINEPATH"] = PATH_DIR_WIN
    env.update(extra)
    return env


class Master:
    """`wine asgid.exe ...` started from the installed path; its standard error is its log."""

    def __init__(self, workdir, args, port):
        self.port = port
        self.log_path = workdir / "asgid.log"
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(["wine", ASGID_WIN, *args], cwd=workdir, env=wine_env(),
                                     stdin=subprocess.DEVNULL, stdout=self.log_file,
                                     stderr=subprocess.STDOUT)

    def log(self):
        return self.log_path.read_bytes().decode("utf-8", "replace")

    def wait_ready(self, workers, timeout=READY_TIMEOUT):
        """Until every worker has told the master it is ready, and the port answers."""
        def ready():
            return self.proc.poll() is not None or (
                self.log().count(" is ready") >= workers and http_get(self.port, "/"))
        if not wait_for(ready, timeout) or self.proc.poll() is not None:
            raise AssertionError(f"asgid.exe did not serve on port {self.port}:\n{self.log()}")

    def worker_pids(self, attempts=40):
        """The Windows pids of the workers that answered attempts fresh connections."""
        pids = set()
        for _ in range(attempts):
            who = whoami(self.port)
            if who:
                pids.add(int(who["pid"]))
        return pids

    def stop(self, sig=signal.SIGINT, timeout=15.0):
        """Sends sig to the master (Wine turns SIGINT into CTRL_C_EVENT); its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.log_file.close()


@pytest.fixture
def master(workdir):
    """A factory: master(*args) starts asgid.exe with 2 workers (spawned) on a free port, serving
    win_app.dll, and waits until it serves. Every master is killed when the test ends, and its
    log is printed when the test fails."""
    started = []

    def start(*args, workers=2, wait=True):
        port = free_port()
        # worker_start left at its default: spawn, where nothing forks.
        m = Master(workdir, ["--app", APP_WIN, "--bind", f"127.0.0.1:{port}",
                             "--workers", str(workers), *args], port)
        started.append(m)
        if wait:
            m.wait_ready(workers)
        return m

    yield start
    for m in started:
        m.kill()
        print(f"--- asgid.exe log (port {m.port}):\n{m.log()}")


def run_asgid(args, workdir, timeout=30):
    """asgid.exe with args (an action: --check-config, --print-config); (status, output)."""
    proc = subprocess.run(["wine", ASGID_WIN, *args], cwd=workdir, env=wine_env(),
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    return proc.returncode, (proc.stdout + proc.stderr).decode("utf-8", "replace")


def taskkill(pid):
    """Ends Windows process pid with TerminateProcess (Wine's taskkill /F)."""
    subprocess.run(["wine", "taskkill", "/F", "/PID", str(pid)], env=wine_env(),
                   capture_output=True, timeout=30)
