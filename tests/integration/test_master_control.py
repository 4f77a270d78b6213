"""asgid --control COMMAND --pidfile F (docs/operations.md, "Control"): each command has the
effect of its signal, over a Unix socket beside the pidfile that only the master's user (or
root) may use; bad commands get a precise answer and the master serves on; a missing or
stale pidfile gives a precise error."""

import os
import socket
import stat
import subprocess
import sys
import time

import pytest

from conftest import ASGID_BIN, pid_alive, run_asgid
from master_util import (get_pid, log_lines, read_pidfile, start_slow_request, wait_for,
                         wait_gone)
from rawhttp import request_bytes


def control(pidfile, command, *args, user=None, timeout=15):
    """Runs asgid --control COMMAND -p pidfile (as user, when given); returns (exit code,
    output)."""
    argv = [str(ASGID_BIN), "--control", command, "-p", str(pidfile), *args]
    if user:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *argv]
    proc = subprocess.run(argv, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return proc.returncode, (proc.stdout + proc.stderr).decode(errors="replace")


def endpoint(pidfile, pid):
    return pidfile.parent / f"asgid-control-{pid}.sock"


def started(server, pidfile, **settings):
    """A server with a pidfile, once its control endpoint listens; returns it."""
    srv = server(pidfile=pidfile, **settings)
    assert wait_for(lambda: endpoint(pidfile, srv.proc.pid).exists(), 5), srv.log()
    return srv


def exchange(path, data, timeout=10):
    """Connects to the control socket, sends data, returns everything it answers."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(path))
        if data:
            s.sendall(data)
        answer = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return answer.decode(errors="replace")
            answer += chunk


def test_the_endpoint_is_a_private_socket_removed_at_stop(server, short_tmp):
    pidfile = short_tmp / "asgid.pid"
    srv = started(server, pidfile, workers=1)
    path = endpoint(pidfile, srv.proc.pid)
    info = os.lstat(path)
    assert stat.S_ISSOCK(info.st_mode)
    assert stat.S_IMODE(info.st_mode) == 0o600, oct(info.st_mode)
    assert info.st_uid == os.geteuid()
    assert f"listening for asgid --control on {path}" in srv.log()

    code, out = control(pidfile, "stop")
    assert code == 0, out
    assert out.strip() == (f'asgid --control stop (TERM): master {srv.proc.pid} answered '
                           '"ok: stop (graceful)"'), out
    assert srv.wait_exit(10) == 0, srv.log()
    assert not path.exists(), "the control socket outlived the master"
    assert not pidfile.exists()


def test_stop_lets_an_in_flight_request_finish(server, short_tmp):
    pidfile = short_tmp / "asgid.pid"
    srv = started(server, pidfile, workers=2, worker_class="thread", threads=2,
                  graceful_timeout="5s")
    workers = srv.wait_workers(2)
    result = {}
    t = start_slow_request(srv, "/sleep?ms=1500", result)
    time.sleep(0.4)  # the request is inside the app now
    code, out = control(pidfile, "stop")
    assert code == 0, out
    t.join(timeout=10)
    assert "resp" in result, result.get("error")
    assert result["resp"].status == 200 and result["resp"].body == b"slept"
    assert srv.wait_exit(8) == 0, srv.log()
    for pid in workers:
        assert wait_gone(pid, 3), f"worker {pid} outlived the master"
    assert log_lines(srv.log(), "control: stop (graceful) (asgid --control stop)")


def test_quit_stops_at_once(server, short_tmp):
    pidfile = short_tmp / "asgid.pid"
    srv = started(server, pidfile, workers=2, worker_class="thread", threads=2,
                  graceful_timeout="10s")
    srv.wait_workers(2)
    result = {}
    t = start_slow_request(srv, "/sleep?ms=5000", result)
    time.sleep(0.4)
    start = time.monotonic()
    code, out = control(pidfile, "quit")
    assert code == 0 and '"ok: stop (fast)"' in out, out
    assert srv.wait_exit(5) == 0, srv.log()
    assert time.monotonic() - start < 3.0, "quit waited for the in-flight request"
    t.join(timeout=10)
    assert "resp" not in result or not result["resp"].complete, "quit waited for the request"


def test_reload_starts_new_workers(server, short_tmp):
    pidfile = short_tmp / "asgid.pid"
    srv = started(server, pidfile, workers=2)
    first = srv.wait_workers(2)
    code, out = control(pidfile, "reload")
    assert code == 0 and '"ok: reload"' in out, out
    second = srv.wait_workers(2, differ_from=first)
    assert get_pid(srv) in second
    assert srv.proc.poll() is None


def test_incr_and_decr_change_the_worker_count(server, short_tmp):
    pidfile = short_tmp / "asgid.pid"
    srv = started(server, pidfile, workers=2)
    two = srv.wait_workers(2)
    code, out = control(pidfile, "incr")
    assert code == 0 and '"ok: one worker more"' in out, out
    three = srv.wait_workers(3)
    assert two < three, f"incr replaced workers: {two} -> {three}"
    code, out = control(pidfile, "decr")
    assert code == 0 and '"ok: one worker less"' in out, out
    assert srv.wait_workers(2) < three


def test_reopen_reopens_the_log_files(server, short_tmp):
    pidfile = short_tmp / "asgid.pid"
    srv = started(server, pidfile, workers=1, error_log="error.log")
    srv.wait_workers(1)
    log = srv.workdir / "error.log"
    log.rename(srv.workdir / "error.log.1")
    code, out = control(pidfile, "reopen")
    assert code == 0 and '"ok: reopen logs"' in out, out
    assert wait_for(log.exists, 3), "no new error log file after reopen"
    resp = srv.request(request_bytes("GET", "/log?after-reopen",
                                     headers=[("Connection", "close")]))
    assert resp.status == 200
    assert wait_for(lambda: "after-reopen" in log.read_text(), 3), log.read_text()
    assert "after-reopen" not in (srv.workdir / "error.log.1").read_text()


BAD_COMMANDS = [
    (b"bogus\n", 'error: unknown command "bogus" (expected one of stop, quit, reload, '
                 'reopen, incr, decr, upgrade)'),
    (b"\x1b[2J\r\n", 'error: unknown command "\\x1b[2J"'),
    (b"stop now\n", 'error: unknown command "stop now"'),
    (b"\n", "error: empty command"),
    (b"stop\x00\n", 'error: unknown command "stop\\x00"'),
    (b"x" * 200, "error: the command is longer than 63 bytes"),
    (b"x" * 64 + b"\n", "error: the command is longer than 63 bytes"),
]


def test_bad_commands_get_a_precise_answer_and_the_master_serves_on(server, short_tmp):
    pidfile = short_tmp / "asgid.pid"
    srv = started(server, pidfile, workers=1, control_timeout="500ms")
    (worker,) = srv.wait_workers(1)
    path = endpoint(pidfile, srv.proc.pid)
    for data, expected in BAD_COMMANDS:
        answer = exchange(path, data)
        assert answer.startswith(expected) and answer.endswith("\n"), (data, answer)
        assert answer.count("\n") == 1, answer
        assert log_lines(srv.log(), "[WARNING]", "control: " + expected[len("error: "):]), \
            srv.log()
    # Nothing sent: the master answers once control_timeout has passed.
    start = time.monotonic()
    assert exchange(path, b"") == "error: no command within 500 ms (control_timeout)\n"
    assert time.monotonic() - start >= 0.45
    # A client that ends the connection after "stop" without a newline sent a command.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(str(path))
        s.sendall(b"incr")
        s.shutdown(socket.SHUT_WR)
        assert s.recv(100) == b"ok: one worker more\n"
    srv.wait_workers(2)
    assert srv.proc.poll() is None and worker in srv.worker_pids()
    srv.assert_serves()


def test_a_command_may_come_in_pieces(server, short_tmp):
    pidfile = short_tmp / "asgid.pid"
    srv = started(server, pidfile, workers=1)
    srv.wait_workers(1)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(str(endpoint(pidfile, srv.proc.pid)))
        for piece in (b"in", b"c", b"r\n"):
            s.sendall(piece)
            time.sleep(0.1)
        assert s.recv(100) == b"ok: one worker more\n"
    srv.wait_workers(2)


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="runs the client as nobody")
NOBODY = 65534  # uid and gid


@needs_root
def test_another_user_cannot_open_the_socket(server, short_tmp):
    os.chmod(short_tmp, 0o755)  # nobody may read the pidfile and reach the socket
    pidfile = short_tmp / "asgid.pid"
    srv = started(server, pidfile, workers=1)
    (worker,) = srv.wait_workers(1)
    code, out = control(pidfile, "stop", user=NOBODY)
    assert code == 1, out
    assert (f"asgid --control stop (TERM): refused: cannot open "
            f"{endpoint(pidfile, srv.proc.pid)}: permission denied") in out, out
    time.sleep(0.3)
    assert srv.proc.poll() is None and srv.worker_pids() == {worker}


@needs_root
def test_the_peer_credential_check_refuses_another_user(server, short_tmp):
    # The mode keeps other users out; were it loosened (or the socket reached another way),
    # the master still checks who connected.
    os.chmod(short_tmp, 0o755)
    pidfile = short_tmp / "asgid.pid"
    srv = started(server, pidfile, workers=1)
    (worker,) = srv.wait_workers(1)
    path = endpoint(pidfile, srv.proc.pid)
    os.chmod(path, 0o666)
    code, out = control(pidfile, "stop", user=NOBODY)
    assert code == 1, out
    assert (f'answered "error: refused: uid {NOBODY} (pid ') in out, out
    assert "is neither the master's user (uid 0) nor root" in out, out
    assert log_lines(srv.log(), "[WARNING]", f"control: refused: uid {NOBODY}"), srv.log()
    time.sleep(0.3)
    assert srv.proc.poll() is None and srv.worker_pids() == {worker}
    srv.assert_serves()
    # root still may.
    code, out = control(pidfile, "incr")
    assert code == 0, out


def test_no_pidfile_a_missing_one_and_a_stale_one(short_tmp):
    code, out = run_asgid(["--control", "stop"])
    assert code == 1
    assert out.strip() == ("asgid --control stop (TERM): no pidfile: name the master's with "
                           "--pidfile FILE (-p, ASGID_PIDFILE, or pidfile in the "
                           "configuration file)"), out

    missing = short_tmp / "none.pid"
    code, out = control(missing, "reload")
    assert code == 1
    assert out.strip() == (f"asgid --control reload (HUP): no pid file {missing}: no master "
                           "runs with this pidfile"), out

    garbage = short_tmp / "garbage.pid"
    garbage.write_text("not a pid\n")
    code, out = control(garbage, "reload")
    assert code == 1 and f"pid file {garbage}: it holds no pid" in out, out

    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = short_tmp / "stale.pid"
    stale.write_text(f"{gone.pid}\n")
    code, out = control(stale, "stop")
    assert code == 1
    assert f"stale pid file {stale}: no process {gone.pid}" in out, out


def test_a_live_pid_without_an_endpoint_and_a_stale_endpoint(short_tmp):
    # The pid of a live process that is no asgid master (this test's own).
    pidfile = short_tmp / "other.pid"
    pidfile.write_text(f"{os.getpid()}\n")
    code, out = control(pidfile, "stop")
    assert code == 1
    path = endpoint(pidfile, os.getpid())
    assert f"master {os.getpid()} has no control endpoint {path}" in out, out
    # A socket file nobody listens on any more (a crashed master's).
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()
    code, out = control(pidfile, "stop")
    assert code == 1
    assert f"no master listening on {path} (a stale endpoint" in out, out


def test_unknown_command_and_missing_value(short_tmp):
    code, out = control(short_tmp / "x.pid", "restart")
    assert code == 1
    assert 'unknown command "restart" (expected one of stop, quit, reload' in out, out
    code, out = run_asgid(["--control"])
    assert code == 1 and "command line --control: needs a value (COMMAND)" in out, out
    code, out = run_asgid(["--control", "stop", "--check-config"])
    assert code == 1 and "only one action at a time" in out, out


def start_as_pid_of_shell(srv, before):
    """Starts srv's asgid through `sh -c 'BEFORE; exec asgid'`, so that BEFORE knows the pid
    asgid will have ($$)."""
    srv.proc = subprocess.Popen(
        ["sh", "-c", f'{before}; exec "$0" -c "$1"', str(ASGID_BIN), str(srv.ini_path)],
        stdout=open(srv.stdout_path, "wb"), stderr=open(srv.log_path, "wb"),
        stdin=subprocess.DEVNULL, env=srv.env, cwd=srv.workdir, start_new_session=True)
    srv.wait_ready()


def test_a_stale_endpoint_of_the_same_pid_is_replaced(server, short_tmp):
    # A master that crashed left its socket; a new master that gets the same pid takes it.
    pidfile = short_tmp / "asgid.pid"
    srv = server(start=False, pidfile=pidfile, workers=1)
    make_stale = (f"{sys.executable} -c 'import socket; s = socket.socket(socket.AF_UNIX); "
                  f's.bind("{short_tmp}/asgid-control-" + "$$" + ".sock")\'')
    start_as_pid_of_shell(srv, make_stale)
    srv.wait_workers(1)
    code, out = control(pidfile, "incr")
    assert code == 0, out + srv.log()
    srv.wait_workers(2)


def test_a_file_in_the_way_is_kept_and_the_master_serves_without_an_endpoint(server,
                                                                           short_tmp):
    pidfile = short_tmp / "asgid.pid"
    srv = server(start=False, pidfile=pidfile, workers=1)
    start_as_pid_of_shell(srv, f'echo keep > "{short_tmp}/asgid-control-$$.sock"')
    srv.wait_workers(1)
    path = endpoint(pidfile, srv.proc.pid)
    assert path.read_text() == "keep\n"
    assert log_lines(srv.log(), "[ERROR]", f"control endpoint {path}",
                     "asgid --control cannot reach this master"), srv.log()
    srv.assert_serves()
    code, out = control(pidfile, "stop")
    assert code == 1 and f"no master listening on {path} (a stale endpoint, or not a " \
        "socket)" in out, out


def test_a_pidfile_directory_too_deep_for_a_socket_is_said(server, tmp_path):
    deep = tmp_path / ("d" * 100)
    deep.mkdir()
    pidfile = deep / "asgid.pid"
    srv = server(pidfile=pidfile, workers=1)
    assert wait_for(lambda: log_lines(srv.log(), "[ERROR]", "more than the 107 a Unix socket "
                                      "allows: put the pidfile in a shorter directory"), 5), \
        srv.log()
    srv.assert_serves()
    code, out = control(pidfile, "stop")
    assert code == 1 and "put the pidfile in a shorter directory" in out, out


def test_upgrade_then_quit_the_old_master_through_its_oldbin_pidfile(server, short_tmp):
    # Each master listens on its own endpoint (named by its pid), so both can be reached
    # during a binary upgrade: the new one through PIDFILE, the old one through .oldbin.
    pidfile = short_tmp / "asgid.pid"
    srv = started(server, pidfile, workers=1)
    old = srv.proc.pid
    srv.wait_workers(1)
    new = None
    try:
        code, out = control(pidfile, "upgrade")
        assert code == 0 and '"ok: upgrade"' in out, out
        new = wait_for(lambda: (read_pidfile(pidfile) or old) != old and read_pidfile(pidfile),
                       10)
        assert new, srv.log()
        assert wait_for(lambda: endpoint(pidfile, new).exists(), 5)
        srv.wait_workers(1, master=new)
        oldbin = short_tmp / "asgid.pid.oldbin"
        code, out = control(oldbin, "quit")
        assert code == 0 and f"master {old} answered" in out, out
        assert srv.wait_exit(10) == 0, srv.log()
        assert not endpoint(pidfile, old).exists()
        assert pid_alive(new)
        code, out = control(pidfile, "stop")
        assert code == 0 and f"master {new} answered" in out, out
        assert wait_gone(new, 10)
        assert not endpoint(pidfile, new).exists()
    finally:
        if new and pid_alive(new):
            os.kill(new, 9)
