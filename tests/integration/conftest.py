"""Fixtures for the integration tests: they start the REAL asgid binary with an inline INI file.

The `server` fixture is a factory:

    def test_x(server):
        srv = server(app="probe", keepalive_timeout="500ms")
        with srv.raw() as conn:
            conn.send(b"GET /echo HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n")
            resp = conn.read_response()

Every server started through it is stopped (SIGTERM, then SIGKILL) when the test ends, and its
log is attached to the report of a failing test. Raw-socket helpers live in `rawhttp.py`.

Environment:
    ASGID_BIN          the asgid binary (default: build/asgid in the source tree)
    ASGID_EXAMPLES     folder of the example apps (default: build/examples)
    ASGID_TEST_APPS    folder of the test apps, probe.so (default: build/tests/apps)
    ASGID_TEST_TIMEOUT seconds one test may run (default: 30)
    ASGID_TEST_WORKER_START  fork or spawn: [workers] worker_start of every server a test
                       starts, unless the test sets it (default: the server's own default)
"""

import functools
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from rawhttp import RawConnection, request_bytes

SOURCE_DIR = Path(__file__).resolve().parents[2]
# Resolved now: the server runs in the test's folder, where relative paths would not hold.
ASGID_BIN = Path(os.environ.get("ASGID_BIN", SOURCE_DIR / "build" / "asgid")).resolve()
EXAMPLES_DIR = Path(os.environ.get("ASGID_EXAMPLES",
                                   SOURCE_DIR / "build" / "examples")).resolve()
TEST_APPS_DIR = Path(os.environ.get("ASGID_TEST_APPS",
                                    SOURCE_DIR / "build" / "tests" / "apps")).resolve()
TEST_TIMEOUT = float(os.environ.get("ASGID_TEST_TIMEOUT", "30"))
# Lets the whole suite run with workers spawned instead of forked (or the reverse).
WORKER_START = os.environ.get("ASGID_TEST_WORKER_START") or None
if WORKER_START not in (None, "fork", "spawn"):
    raise ValueError(f"ASGID_TEST_WORKER_START must be fork or spawn, not {WORKER_START!r}")

# How long a server may take to accept connections, and to stop after SIGTERM.
READY_TIMEOUT = 10.0
STOP_TIMEOUT = 6.0

# Lines AddressSanitizer, LeakSanitizer and UBSan print when they find something.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


@functools.lru_cache(maxsize=None)
def settings_sections():
    """{setting: INI section} for every setting, as the binary's own table says
    (--print-config prints each value under its section)."""
    out = subprocess.run([str(ASGID_BIN), "--print-config"], capture_output=True, text=True,
                         check=True, timeout=30, env={}).stdout
    sections, section = {}, None
    for line in out.splitlines():
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif " = " in line and section:
            sections.setdefault(line.split(" = ", 1)[0], section)
    return sections


def app_path(name):
    """An app spec from a short name: "probe" (test app), "hello" (example), or a path.

    A ":symbol" suffix is kept: "probe:probe_entry_null".
    """
    base, sep, symbol = name.partition(":")
    if "/" in base:
        path = Path(base)
    elif base == "probe":
        path = TEST_APPS_DIR / "probe.so"
    else:
        path = EXAMPLES_DIR / (base + ".so")
    return str(path) + (sep + symbol if sep else "")


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    """A port the kernel considers free right now (bind to port 0, then release it)."""
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def stat_fields(pid):
    """The fields of /proc/<pid>/stat after the command name, or None when the process is gone.

    A process going away while it is read gives ENOENT, or ESRCH while its directory is torn
    down.
    """
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def process_stat(pid):
    """(state, ppid) of a process from /proc/<pid>/stat, or None when it does not exist."""
    fields = stat_fields(pid)
    return None if fields is None else (fields[0], int(fields[1]))


def pid_alive(pid):
    """True while a process exists and is not a zombie (exited, not yet reaped)."""
    stat = process_stat(pid)
    return stat is not None and stat[0] != "Z"


def all_process_stats():
    """(pid, stat_fields) of every process (Linux); one gone since /proc was listed is skipped.

    Not Path.glob: it stats each match and lets ESRCH from an exiting process through.
    """
    for name in os.listdir("/proc"):
        fields = stat_fields(name) if name.isdigit() else None
        if fields is not None:
            yield int(name), fields


def child_pids(pid, zombies=False):
    """The pids whose parent is pid, from /proc (Linux). Zombies only when asked."""
    return {child for child, fields in all_process_stats()
            if int(fields[1]) == pid and (zombies or fields[0] != "Z")}


def needed_libraries(binary=None):
    """The shared libraries an ELF binary names (its NEEDED entries), by readelf."""
    dynamic = subprocess.run(["readelf", "-d", str(binary or ASGID_BIN)], capture_output=True,
                             text=True, check=True, timeout=30).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic)


@functools.lru_cache(maxsize=None)
def address_sanitized(binary=None):
    """True for an AddressSanitizer build of the binary under test. Its allocator keeps freed
    memory in quarantine (256 MiB by default) and realloc always moves, so a bound on a
    worker's RSS measures the sanitizer there as much as asgid."""
    return any(lib.startswith("libasan") for lib in needed_libraries(binary))


def write_ini(path, settings):
    """Writes settings ({name: value or [values]}) as an INI file, each under its section."""
    by_section = {}
    for name, value in settings.items():
        if value is None:
            continue
        section = settings_sections()[name]
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            by_section.setdefault(section, []).append(f"{name} = {v}")
    text = ""
    for section, lines in by_section.items():
        text += f"[{section}]\n" + "\n".join(lines) + "\n\n"
    Path(path).write_text(text)
    return text


class Server:
    """One asgid process started from an inline INI file."""

    def __init__(self, workdir, app, env=None, args=(), **settings):
        self.workdir = Path(workdir)
        self.args = list(args)  # command line arguments after "-c asgid.ini"
        self.port = None
        self.host = "127.0.0.1"
        self.unix_path = None
        if "bind" not in settings:
            self.port = free_port()
            settings["bind"] = f"127.0.0.1:{self.port}"
        else:
            self._find_listener(settings["bind"])
        base = {"app": app_path(app) if app else None, "workers": 1,
                "worker_start": WORKER_START, "graceful_timeout": "3s", "error_log": "-"}
        base.update(settings)
        self.settings = base
        self.ini_path = self.workdir / "asgid.ini"
        self.ini_text = write_ini(self.ini_path, base)
        self.log_path = self.workdir / "asgid.stderr"
        self.stdout_path = self.workdir / "asgid.stdout"
        self.env = dict(os.environ)
        # The probe's lifespan startup sleeps 300 ms by default, to let test_lifespan prove no
        # request is served before it completes. Other tests need not pay for it.
        self.env.setdefault("PROBE_STARTUP_DELAY_MS", "0")
        self.env.update(env or {})
        self.proc = None
        self.returncode = None

    def _find_listener(self, binds):
        """Picks the listener readiness is checked on: the first TCP one, else a Unix one."""
        binds = binds if isinstance(binds, (list, tuple)) else [binds]
        for b in binds:
            if b.startswith("unix:"):
                self.unix_path = self.unix_path or b[len("unix:"):].split()[0]
                continue
            host, _, port = b.split()[0].rpartition(":")  # options follow a space
            if self.port is None:
                self.host = host.strip("[]")
                self.port = int(port)

    @property
    def url(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, wait=True):
        self.proc = subprocess.Popen(
            [str(ASGID_BIN), "-c", str(self.ini_path), *self.args],
            stdout=open(self.stdout_path, "wb"), stderr=open(self.log_path, "wb"),
            stdin=subprocess.DEVNULL, env=self.env, cwd=self.workdir,
            # Its own process group, so that teardown can reap workers a killed master left.
            start_new_session=True)
        if wait:
            self.wait_ready()
        return self

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stdout(self):
        try:
            return self.stdout_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def _try_connect(self):
        if self.port is not None:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            s = socket.socket(family, socket.SOCK_STREAM)
            addr = (self.host, self.port)
        else:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            addr = self.unix_path
        s.settimeout(1.0)
        try:
            s.connect(addr)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def wait_ready(self, timeout=READY_TIMEOUT):
        """Waits until the listener accepts; fails with the log if the process exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"asgid exited with {self.proc.returncode} before accepting "
                            f"connections\n--- config ---\n{self.ini_text}"
                            f"--- log ---\n{self.log()}")
            if self._try_connect():
                return self
            time.sleep(0.02)
        pytest.fail(f"asgid did not accept connections within {timeout} s\n"
                    f"--- log ---\n{self.log()}")

    def wait_exit(self, timeout):
        """Waits for the process to exit; returns its exit code, or None on timeout."""
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def stop(self, timeout=STOP_TIMEOUT):
        """Graceful stop (SIGTERM); SIGKILL after `timeout`. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait_exit(timeout) is None:
                self.kill()
        self.returncode = self.proc.returncode
        return self.returncode

    def kill(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        # Workers are separate processes in the group this server was started in; a master
        # that died hard leaves them behind, and nothing else would end them.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.returncode = self.proc.returncode

    def worker_pids(self, master=None, exclude=()):
        """Live worker pids: the children of the master (default: the process the test
        started), minus `exclude` (e.g. a new master started by USR2, also a child)."""
        master = self.proc.pid if master is None else master
        return child_pids(master) - set(exclude)

    def wait_workers(self, count, timeout=10.0, master=None, exclude=(), differ_from=()):
        """Waits until the master has exactly `count` live workers, none of them in
        `differ_from`; returns their pids, or fails with the log."""
        deadline = time.monotonic() + timeout
        pids = set()
        while time.monotonic() < deadline:
            pids = self.worker_pids(master, exclude)
            if len(pids) == count and not (pids & set(differ_from)):
                return pids
            time.sleep(0.02)
        pytest.fail(f"expected {count} workers (not {sorted(differ_from)}) within {timeout} s, "
                    f"have {sorted(pids)}\n--- log ---\n{self.log()[-20000:]}")

    def cpu_seconds(self):
        """CPU time (user + system) used so far by the master and its workers, from /proc.

        Lets a test tell an idle server from one spinning in a loop after some event.
        """
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for _, fields in all_process_stats():
            # fields[2] is the process group (field 5 of proc(5)); 11, 12 are utime, stime.
            if int(fields[2]) == self.proc.pid:
                total += int(fields[11]) + int(fields[12])
        return total / tick

    def assert_idle(self, seconds=1.0, limit=0.3):
        """Fails when the server burns more than `limit` CPU seconds while nothing happens."""
        before = self.cpu_seconds()
        time.sleep(seconds)
        used = self.cpu_seconds() - before
        assert used < limit, f"server used {used:.2f} s of CPU in {seconds} s while idle"

    def raw(self, timeout=5.0, **kwargs):
        """A raw HTTP connection to this server (see rawhttp.RawConnection)."""
        if self.port is None:
            return RawConnection.unix(self.unix_path, timeout=timeout, **kwargs)
        return RawConnection(self.host, self.port, timeout=timeout, **kwargs)

    def assert_serves(self, path="/echo"):
        """A fresh connection still gets a normal answer: the worker survived and serves."""
        resp = self.request(request_bytes("GET", path))
        assert resp.status == 200, f"server no longer serves: {resp!r}"

    def request(self, data, **kwargs):
        """Sends raw bytes on a fresh connection and returns the first response."""
        with self.raw() as conn:
            conn.send(data)
            return conn.read_response(**kwargs)


@pytest.fixture
def server(request, tmp_path):
    """Factory: server(app="probe", env={...}, args=[...], start=True, **settings) -> a running
    Server."""
    servers = []
    request.node._asgid_servers = servers

    def start_server(app="probe", env=None, args=(), start=True, wait=True, **settings):
        workdir = tmp_path / f"server{len(servers)}"
        workdir.mkdir()
        srv = Server(workdir, app, env=env, args=args, **settings)
        servers.append(srv)
        if start:
            srv.start(wait=wait)
        return srv

    yield start_server
    for srv in servers:
        try:
            srv.stop()
        finally:
            srv.kill()
    # Under a sanitizer build, a report fails the test even when the HTTP exchange looked fine.
    for srv in servers:
        for marker in SANITIZER_MARKERS:
            if marker in srv.log():
                pytest.fail(f"sanitizer report in the server log:\n{srv.log()[-20000:]}")


@pytest.fixture
def short_tmp():
    """A short temporary folder, for Unix socket paths (sun_path holds ~100 bytes)."""
    path = tempfile.mkdtemp(prefix="asgid-")
    yield Path(path)
    for p in Path(path).iterdir():
        p.unlink()
    os.rmdir(path)


def run_asgid(args, timeout=15, env=None):
    """Runs asgid to completion (e.g. --check-config); returns (exit code, stdout + stderr)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run([str(ASGID_BIN), *args], capture_output=True, timeout=timeout,
                          env=full_env, stdin=subprocess.DEVNULL)
    return proc.returncode, (proc.stdout + proc.stderr).decode(errors="replace")


def pytest_sessionstart(session):
    missing = [p for p in (ASGID_BIN, TEST_APPS_DIR / "probe.so") if not Path(p).exists()]
    if missing:
        raise pytest.UsageError("missing build outputs: " + ", ".join(map(str, missing)) +
                                " (build with cmake, or set ASGID_BIN / ASGID_TEST_APPS)")


class TestTimeout(Exception):
    pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """Bounds every test body in time (pytest-timeout is not a dependency): SIGALRM raises."""
    def on_alarm(signum, frame):
        raise TestTimeout(f"test exceeded {TEST_TIMEOUT} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, TEST_TIMEOUT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Attaches the config and log of every server the test started to a failing report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for i, srv in enumerate(getattr(item, "_asgid_servers", [])):
            report.sections.append((f"asgid #{i} config", srv.ini_text))
            report.sections.append((f"asgid #{i} stderr", srv.log()[-20000:]))
