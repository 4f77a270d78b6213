"""worker_start = spawn (DESIGN §3): workers run asgid's OWN executable with the single argument
--spawned-worker, found by the platform layer (never argv[0], never a PATH or cwd search), so a
binary under a path with spaces and non-ASCII characters, started from another folder or under
another argv[0], still spawns itself."""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ASGID_BIN, run_asgid
from master_util import get_pid, wait_for, wait_for_pid_answer
from rawhttp import request_bytes


def cmdline(pid):
    return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]


def exe(pid):
    return os.readlink(f"/proc/{pid}/exe")


def spawned_workers(srv, count, differ_from=(), timeout=10.0):
    """The pids of `count` live workers, none in differ_from, each logged by the master as
    ready (`worker N (pid P) is ready`); fails with the log otherwise.

    A child counts only once ready: uv_spawn forks, then execs asgid. Until the exec, the
    child shows the master's own arguments in /proc (and its binary, the same file); during
    it, an empty cmdline. A child that is ready has exec'd: what /proc says is the worker's.
    """
    def ready():
        pids = srv.worker_pids() - set(differ_from)
        log = srv.log()
        return len(pids) == count and all(f"(pid {p}) is ready" in log for p in pids) and pids
    pids = wait_for(ready, timeout)
    assert pids, f"no {count} ready workers (not {sorted(differ_from)}) within {timeout} s, " \
        f"have {sorted(srv.worker_pids())}\n--- log ---\n{srv.log()[-20000:]}"
    return pids


def check_spawned(pids, binary):
    for pid in pids:
        assert exe(pid) == os.path.realpath(binary), f"worker {pid} runs {exe(pid)}"
        args = cmdline(pid)
        assert args[1:] == [b"--spawned-worker"], f"worker {pid} arguments: {args}"


def start_with(srv, args, executable=None, cwd=None, env=None):
    """Starts the server's configuration with another binary / argv / cwd. The fixture still
    stops it (and its process group) at the end of the test."""
    full_env = dict(srv.env)
    full_env.update(env or {})
    srv.proc = subprocess.Popen(
        args, executable=executable, cwd=cwd or srv.workdir,
        stdout=open(srv.stdout_path, "wb"), stderr=open(srv.log_path, "wb"),
        stdin=subprocess.DEVNULL, env=full_env, start_new_session=True)
    srv.wait_ready()
    return srv


@pytest.fixture
def odd_binary(tmp_path):
    """A copy of asgid under a folder with spaces and non-ASCII characters."""
    folder = tmp_path / "dir with spaces" / "ünïcödé"
    folder.mkdir(parents=True)
    copy = folder / "asgid"
    shutil.copy2(ASGID_BIN, copy)
    return copy


def test_spawned_workers_run_the_own_binary_and_serve(server):
    srv = server(workers=2, worker_start="spawn", worker_class="event")
    pids = spawned_workers(srv, 2)
    check_spawned(pids, ASGID_BIN)
    # Each serves: while one spins, the other answers.
    with srv.raw(timeout=5) as busy:
        busy.send(b"GET /spin?ms=800 HTTP/1.1\r\nHost: t\r\n\r\n")
        time.sleep(0.2)
        assert get_pid(srv) in pids
        assert busy.read_response().status == 200
    assert wait_for_pid_answer(srv, pids, 2)


def test_spawn_from_a_path_with_spaces_and_unicode(server, odd_binary, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    srv = server(workers=2, worker_start="spawn", start=False)
    start_with(srv, [str(odd_binary), "-c", str(srv.ini_path)], cwd=elsewhere)
    pids = spawned_workers(srv, 2)
    check_spawned(pids, odd_binary)
    assert get_pid(srv) in pids


def test_spawn_ignores_argv0_path_and_cwd(server, odd_binary, tmp_path):
    # A decoy named like argv[0] in the cwd and on PATH: running it would leave a mark.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    mark = tmp_path / "decoy-ran"
    for name in ("asgid", "false-name"):
        decoy = elsewhere / name
        decoy.write_text(f"#!/bin/sh\necho ran > '{mark}'\nexit 1\n")
        decoy.chmod(0o755)
    srv = server(workers=2, worker_start="spawn", start=False)
    for argv0 in ("/bin/false-name", "asgid"):
        start_with(srv, [argv0, "-c", str(srv.ini_path)], executable=str(odd_binary),
                   cwd=elsewhere, env={"PATH": f"{elsewhere}:/usr/bin:/bin"})
        pids = spawned_workers(srv, 2)
        check_spawned(pids, odd_binary)
        assert get_pid(srv) in pids
        assert srv.stop() == 0, srv.log()
        assert not mark.exists(), f"argv[0] {argv0!r}: the decoy ran"


def test_spawned_worker_killed_is_replaced_by_a_spawned_one(server):
    srv = server(workers=2, worker_start="spawn")
    before = srv.wait_workers(2)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    after = spawned_workers(srv, 2, timeout=5, differ_from={victim})
    check_spawned(after, ASGID_BIN)
    new = (after - before).pop()
    assert wait_for_pid_answer(srv, {new}, 3) == new


def test_spawned_workers_are_replaced_on_hup(server):
    srv = server(workers=2, worker_start="spawn")
    old = srv.wait_workers(2)
    srv.proc.send_signal(signal.SIGHUP)
    new = spawned_workers(srv, 2, timeout=10, differ_from=old)
    check_spawned(new, ASGID_BIN)
    assert wait_for_pid_answer(srv, new, 3)


def test_spawned_worker_flag_without_a_master_fails_cleanly():
    # Run by hand, with no master on the other end of the pipe: an error, not a hang.
    code, out = run_asgid(["--spawned-worker"], timeout=10)
    assert code != 0, out


def test_values_of_4_kib_from_the_command_line_and_environment_reach_spawned_workers(
        server, tmp_path):
    # An INI line holds ~197 characters (inih); the master hands settings to spawned workers
    # in a format of its own, so a value from the command line or the environment is not cut
    # to that (it was refused: settings travelled as INI text).
    access_log = tmp_path / "access.log"
    marker = "x" * 4000
    log_format = "%(s)s " + marker + " %(U)s"
    root_path = "/" + "r" * 4095
    srv = server(worker_start="spawn", access_log=str(access_log),
                 args=["--access-log-format", log_format],
                 env={"ASGID_ROOT_PATH": root_path})
    check_spawned(spawned_workers(srv, 1), ASGID_BIN)
    resp = srv.request(request_bytes("GET", "/scope"))
    assert resp.status == 200, resp
    assert json.loads(resp.body)["root_path"] == root_path
    assert srv.stop() == 0, srv.log()
    assert access_log.read_text() == f"200 {marker} /scope\n"


def test_a_worker_that_cannot_be_spawned_leaves_the_master_sound(server, tmp_path):
    # The binary is gone (removed by hand, or an upgrade that deleted it): each respawn fails
    # in uv_spawn. The master says so, keeps trying, and stops cleanly. The handle of a spawn
    # that failed stays in the loop (libuv initializes it first) and must not outlive the
    # record it lives in. libuv is not instrumented, so AddressSanitizer would see nothing:
    # freed memory is filled instead (by glibc's malloc, or AddressSanitizer's), and libuv
    # then finds garbage where the handle was.
    folder = tmp_path / "bin"
    folder.mkdir()
    binary = folder / "asgid"
    shutil.copy2(ASGID_BIN, binary)
    fill = ":max_free_fill_size=4096:free_fill_byte=0"
    srv = server(workers=1, worker_start="spawn", start=False,
                 env={"MALLOC_PERTURB_": "64",
                      "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + fill})
    start_with(srv, [str(binary), "-c", str(srv.ini_path)])
    victim = spawned_workers(srv, 1).pop()
    binary.unlink()
    os.kill(victim, signal.SIGKILL)
    assert wait_for(lambda: srv.log().count("cannot start worker 1: no such file or directory")
                    >= 2, 10), srv.log()
    assert srv.stop() == 0, srv.log()
