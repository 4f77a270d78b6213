"""HUP after any single setting change: the master survives, keeps serving, and logs the
change ("reload: keepalive_timeout 5s -> 10s"), or for a start-only setting one line saying
that a restart or USR2 applies it (the value stays in force).

Every row of the settings table is covered: the settings, their kinds, bounds and when they
apply are read from `asgid --settings-doc`, the values in force from `asgid --print-config`.
A changed value is derived from the kind (numbers doubled within their bounds, booleans
flipped, the next choice); text and list settings take theirs from TEXT_VALUES, and a new
one missing there fails the test until it gets one. One master serves the whole module:
each test writes the base configuration with one setting changed (which also reverts the
previous test's change) and sends HUP. worker_start covers fork -> spawn and its revert
spawn -> fork (the other way round under ASGID_TEST_WORKER_START=spawn)."""

import grp
import json
import os
import pwd
import re
import signal
import time

import pytest

from conftest import WORKER_START, Server, app_path, free_port, run_asgid
from master_util import get_pid, wait_for

# Values the generic rules below would make unusable for this test.
OVERRIDES = {
    "max_requests": "1000",  # 1 would retire the worker after every request
    "log_level": "debug",    # warning or error would hide the info lines checked here
}


def text_values(srv):
    """A changed value for every text and list setting, for the server `srv`."""
    workdir = srv.workdir
    alias = workdir / "probe-alias.so"  # another app spec, the same app
    if not alias.exists():
        alias.symlink_to(app_path("probe"))
    log_config = workdir / "logging.json"  # Python only, as virtualenv
    log_config.write_text('{"version": 1, "disable_existing_loggers": false}\n')
    return {
        "bind": [srv.settings["bind"], f"127.0.0.1:{free_port()}"],
        "root_path": "/mounted",
        "forwarded_allow_ips": ["10.0.0.0/8", "unix"],
        "metrics_bind": f"127.0.0.1:{free_port()}",
        "app": str(alias),
        "worker_class": "thread",
        "app_dir": str(workdir),
        "virtualenv": str(workdir / "venv"),  # Python only: a native app ignores it
        "error_log": str(workdir / "error2.log"),
        "access_log": str(workdir / "access.log"),
        "access_log_format": "%(h)s %(s)s changed",
        "log_config": str(log_config),
        "pidfile": str(workdir / "asgid.pid"),
        "user": pwd.getpwuid(os.getuid()).pw_name,
        "group": grp.getgrgid(os.getgid()).gr_name,
    }


# ------------------------------------------------------------------------- the table


def documented_settings():
    """[(name, section, kind, (low, high) or None, choices or None, start_only)] from
    `asgid --settings-doc`, in the table's order."""
    code, doc = run_asgid(["--settings-doc"])
    assert code == 0, doc
    rows = []
    for block in re.split(r"^### ", doc, flags=re.M)[1:]:
        name = re.match(r"`(\w+)`", block).group(1)
        field = lambda label: (re.search(rf"^- {label}: (.+)$", block, re.M) or [None, None])[1]
        bounds = re.fullmatch(r"`([^`]*)` to `([^`]*)`", field("Range") or "")
        choices = field("Choices")
        rows.append((name, re.fullmatch(r"`\w+` in `\[(\w+)\]`", field("File")).group(1),
                     field("Type"), bounds.groups() if bounds else None,
                     choices.strip("`").split("|") if choices else None,
                     field("Applies").startswith("at start")))
    return rows


SETTINGS = documented_settings()
SECTION = {name: section for name, section, *_ in SETTINGS}

UNITS = {"size": {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30},
         "duration": {"ms": 1, "s": 1000, "m": 60000, "h": 3600000}}


def number(kind, text):
    """A whole number, size (bytes) or duration (ms) as written by --print-config."""
    if kind == "whole number":
        return int(text)
    digits, unit = re.fullmatch(r"(\d+)([a-z]*)", text).groups()
    if kind == "duration" and unit == "":
        unit = "s"
    return int(digits) * UNITS[kind][unit]


def changed_value(srv, name, kind, bounds, choices, current):
    """A valid value of setting `name` other than `current` (its --print-config values)."""
    if name in OVERRIDES:
        return OVERRIDES[name]
    if kind == "boolean":
        return "off" if current == ["on"] else "on"
    if kind == "choice":
        return choices[(choices.index(current[0]) + 1) % len(choices)]
    if kind == "octal file mode":
        return "%04o" % (int(current[0], 8) ^ 0o005)
    if kind in ("whole number", "size", "duration"):
        value, high = number(kind, current[0]), number(kind, bounds[1])
        # A disabled limit (0) gets a generous one, which changes nothing for this test.
        new = min(high, value * 2 if value else {"whole number": 1000, "size": 1 << 30,
                                                   "duration": 3600000}[kind])
        new = new if new != value else value - 1
        return str(new) + {"whole number": "", "size": "", "duration": "ms"}[kind]
    values = text_values(srv)
    assert name in values, (f"no test value for the {kind} setting {name}: add one to "
                            "text_values() in this test")
    return values[name]


# ------------------------------------------------------------------------- the server


def print_config(path):
    """{name: [values]} of the configuration file at `path`, as asgid reads it."""
    code, out = run_asgid(["--print-config", "-c", str(path)])
    assert code == 0, out
    values = {}
    for line in out.splitlines():
        m = re.match(r"(\w+) = ?(.*?)\s+# (default|file|environment|command line)", line)
        if m:
            values.setdefault(m.group(1), []).append(m.group(2))
    return values


def write_config(srv, settings):
    text = ""
    for section in dict.fromkeys(SECTION.values()):
        lines = [f"{name} = {v}" for name, value in settings.items() if SECTION[name] == section
                 for v in (value if isinstance(value, list) else [value])]
        text += f"[{section}]\n" + "".join(line + "\n" for line in lines)
    srv.ini_path.write_text(text)
    srv.ini_text = text


class Reloader:
    """One master, reloaded again and again with the base configuration plus one change."""

    def __init__(self, workdir):
        self.srv = Server(workdir, "probe", graceful_timeout="3s")
        self.base = {k: v for k, v in self.srv.settings.items() if v is not None}
        write_config(self.srv, self.base)
        self.in_force = print_config(self.srv.ini_path)
        self.srv.start()
        self.master = self.srv.proc.pid
        self.workers = self.srv.wait_workers(1)
        self.error_log_2 = workdir / "error2.log"

    def logs(self):
        """What the server logged, in each file error_log pointed at."""
        extra = self.error_log_2.read_text() if self.error_log_2.exists() else ""
        return [self.srv.log(), extra]

    def reload(self, change):
        """Sends HUP with `change` on top of the base configuration; returns the values now
        in the file (--print-config) and what the server logged meanwhile."""
        settings = {**self.base, **change}
        write_config(self.srv, settings)
        new = print_config(self.srv.ini_path)
        logged = [len(text) for text in self.logs()]
        self.srv.proc.send_signal(signal.SIGHUP)
        workers = int(new["workers"][0])
        self.workers = self.srv.wait_workers(workers, timeout=15, differ_from=self.workers)
        return new, "".join(text[n:] for text, n in zip(self.logs(), logged))


@pytest.fixture(scope="module")
def reloader(tmp_path_factory):
    r = Reloader(tmp_path_factory.mktemp("reload-settings"))
    yield r
    try:
        r.srv.stop()
    finally:
        r.srv.kill()


def messages(log):
    """The log's lines as text; a JSON line (after a reload to log_format = json) by its
    message."""
    for entry in log.splitlines():
        yield json.loads(entry)["message"] if entry.startswith("{") else entry


def shown(kind, values):
    """Values as the master's reload lines show them."""
    if kind in ("text", "list"):
        return ", ".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
                         for v in values)
    return values[0]


@pytest.mark.parametrize("name,section,kind,bounds,choices,start_only", SETTINGS,
                         ids=[row[0] for row in SETTINGS])
def test_hup_after_changing_one_setting(reloader, request, name, section, kind, bounds,
                                        choices, start_only):
    request.node._asgid_servers = [reloader.srv]
    srv = reloader.srv
    before = reloader.in_force[name]
    value = changed_value(srv, name, kind, bounds, choices, before)
    new, log = reloader.reload({name: value})
    after = new[name]
    assert after != before, f"{name}: {value!r} is no change"

    assert srv.proc.poll() is None, f"the master exited\n{log}"
    assert srv.proc.pid == reloader.master
    pid = wait_for(lambda: get_pid(srv), 5)
    assert pid in reloader.workers, f"not served by the new worker(s) {reloader.workers}: {pid}"
    line = f"reload: {name} {shown(kind, before)} -> {shown(kind, after)}"
    lines = [entry for entry in messages(log) if line in entry]
    assert len(lines) == 1, f"expected one line with {line!r}:\n{log}"
    if start_only:
        assert "applies only at start: restart, or USR2" in lines[0], lines[0]
    assert "reload failed" not in log, log
    if name == "pidfile":
        assert int((srv.workdir / "asgid.pid").read_text()) == reloader.master
    if name == "worker_start":
        mode = "spawned" if value == "spawn" else "forked"
        assert re.search(rf"started worker \d+ \(pid \d+, {mode}\)", log), log
