"""Reload and upgrade (DESIGN §3): HUP re-reads the configuration and replaces every worker,
the new ones ready before the old ones stop, an invalid configuration keeping the old ones;
USR2 starts a new master from the binary with the same listeners (pidfile -> .oldbin), WINCH
stops the old master's workers, TERM to the old master completes the upgrade. No client sees
an error through any of it."""

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import ASGID_BIN, free_port, pid_alive, process_stat, write_ini
from master_util import (LoadClient, get_pid, log_lines, read_pidfile, wait_for,
                         wait_for_pid_answer, wait_gone)
from rawhttp import request_bytes


def rewrite_config(srv, **changes):
    """Rewrites the server's INI file with some settings changed (None removes one)."""
    srv.settings.update(changes)
    srv.ini_text = write_ini(srv.ini_path, srv.settings)


# ----------------------------------------------------------------------------------- HUP


def test_hup_replaces_every_worker(server):
    srv = server(workers=2)
    old = srv.wait_workers(2)
    srv.proc.send_signal(signal.SIGHUP)
    new = srv.wait_workers(2, timeout=10, differ_from=old)
    for pid in old:
        assert wait_gone(pid, 5), f"old worker {pid} still runs"
    assert wait_for_pid_answer(srv, new, 3), "the new workers do not serve"
    assert srv.proc.poll() is None, "the master itself went away"


def test_hup_applies_the_new_configuration(server):
    srv = server(workers=1)
    old = srv.wait_workers(1)
    resp = srv.request(request_bytes("GET", "/pid"))
    assert resp.header("server") is not None  # server_header defaults to on
    rewrite_config(srv, workers=2, server_header="off")
    srv.proc.send_signal(signal.SIGHUP)
    new = srv.wait_workers(2, timeout=10, differ_from=old)
    for _ in range(6):
        resp = srv.request(request_bytes("GET", "/pid"))
        assert resp.status == 200
        assert int(resp.body) in new
        assert resp.header("server") is None, f"the old server_header still applies: {resp!r}"


def test_hup_keeps_the_old_workers_until_the_new_ones_are_ready(server):
    # Lifespan startup of every worker takes 1.5 s: if the old worker stopped before its
    # replacement was ready, requests would wait ~1.5 s.
    srv = server(workers=1, env={"PROBE_STARTUP_DELAY_MS": "1500"})
    (old,) = srv.wait_workers(1)
    assert get_pid(srv) == old  # waits for the first startup
    srv.proc.send_signal(signal.SIGHUP)
    hup_at = time.monotonic()
    answers, slowest = [], 0.0
    while time.monotonic() - hup_at < 4.0:
        start = time.monotonic()
        pid = get_pid(srv)
        slowest = max(slowest, time.monotonic() - start)
        answers.append((time.monotonic() - hup_at, pid))
        time.sleep(0.02)
    early = {pid for t, pid in answers if t < 1.0}
    assert early == {old}, f"not served by the old worker while the new one started: {answers}"
    assert slowest < 0.7, f"a request waited {slowest:.2f} s during the reload"
    new = {pid for _, pid in answers} - {old}
    assert new, f"the new worker never served: {answers}"
    assert wait_gone(old, 5), "the old worker did not stop"


def test_hup_with_an_invalid_configuration_keeps_the_old_workers(server):
    srv = server(workers=2)
    old = srv.wait_workers(2)
    good = srv.ini_path.read_text()
    srv.ini_path.write_text(good + "\n[workers]\nmax_requests = banana\n")
    srv.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "banana" in srv.log(), 3), \
        f"the invalid configuration was not reported:\n{srv.log()}"
    time.sleep(1.0)
    assert srv.proc.poll() is None, "the master exited on a bad reload"
    assert srv.worker_pids() == old, "workers were replaced despite the invalid configuration"
    assert get_pid(srv) in old

    # Fixed, a reload works again.
    srv.ini_path.write_text(good)
    srv.proc.send_signal(signal.SIGHUP)
    new = srv.wait_workers(2, timeout=10, differ_from=old)
    assert wait_for_pid_answer(srv, new, 3)


def test_hup_with_an_unloadable_app_keeps_the_old_workers(server, tmp_path):
    srv = server(workers=1)
    old = srv.wait_workers(1)
    rewrite_config(srv, app=str(tmp_path / "gone.so"))
    srv.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "gone.so" in srv.log(), 5), srv.log()
    time.sleep(1.5)
    assert srv.proc.poll() is None, f"the master exited on a bad reload:\n{srv.log()}"
    assert get_pid(srv) in srv.worker_pids()
    assert srv.worker_pids() == old, srv.log()


def test_hup_under_load_fails_no_request(server):
    srv = server(workers=2, worker_class="event")
    old = srv.wait_workers(2)
    load = LoadClient(srv.host, srv.port, threads=4).start()
    try:
        time.sleep(1.0)
        hup_at = time.monotonic()
        srv.proc.send_signal(signal.SIGHUP)
        new = srv.wait_workers(2, timeout=10, differ_from=old)
        for pid in old:
            assert wait_gone(pid, 5), f"old worker {pid} still runs"
        time.sleep(1.0)
    finally:
        load.stop()
    assert not load.failures, load.summary()
    assert load.pids_since(hup_at) & new, f"the new workers served nothing: {load.summary()}"
    assert load.ok > 100, load.summary()


# --------------------------------------------------------------------------- USR2, WINCH


def stop_pid(pid, timeout=6.0):
    """Stops a process the test did not start (a new master): TERM, then KILL."""
    if not pid_alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if not wait_gone(pid, timeout):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def upgrade(srv, pidfile, workers):
    """Sends USR2 and waits for the new master and its workers; returns (new master pid,
    its worker pids)."""
    old = srv.proc.pid
    assert wait_for(lambda: read_pidfile(pidfile) == old, 5), "no pidfile"
    srv.proc.send_signal(signal.SIGUSR2)
    new = wait_for(lambda: (read_pidfile(pidfile) or old) != old and read_pidfile(pidfile), 10)
    assert new, f"no new master wrote {pidfile}:\n{srv.log()}"
    stat = process_stat(new)
    assert stat is not None and stat[1] == old, f"new master {new} is not a child of {old}"
    assert read_pidfile(str(pidfile) + ".oldbin") == old, "the old pidfile was not renamed"
    new_workers = srv.wait_workers(workers, master=new, timeout=10)
    return new, new_workers


def test_usr2_starts_a_new_master_and_term_completes_the_upgrade(server, tmp_path):
    pidfile = tmp_path / "asgid.pid"
    srv = server(workers=2, pidfile=pidfile)
    old_workers = srv.wait_workers(2)
    new = None
    try:
        new, new_workers = upgrade(srv, pidfile, 2)
        # Both generations serve the same listeners.
        assert srv.worker_pids(exclude={new}) == old_workers
        assert wait_for_pid_answer(srv, new_workers, 5), "the new master's workers do not serve"
        assert wait_for_pid_answer(srv, old_workers, 5), "the old workers stopped serving"

        srv.proc.send_signal(signal.SIGTERM)
        assert srv.wait_exit(10) == 0, srv.log()
        for pid in old_workers:
            assert wait_gone(pid, 3), f"old worker {pid} outlived its master"
        assert pid_alive(new), "stopping the old master stopped the new one"
        assert read_pidfile(pidfile) == new, "the old master removed the new master's pidfile"
        assert not os.path.exists(str(pidfile) + ".oldbin"), "the .oldbin pidfile was left"
        for _ in range(5):
            assert get_pid(srv) in new_workers
        assert srv.worker_pids(master=new) == new_workers

        os.kill(new, signal.SIGTERM)
        assert wait_gone(new, 10), "the new master ignored TERM"
        assert not pidfile.exists(), "the new master left its pidfile"
    finally:
        if new:
            stop_pid(new)


def test_winch_stops_the_old_workers_and_keeps_the_old_master(server, tmp_path):
    pidfile = tmp_path / "asgid.pid"
    srv = server(workers=2, pidfile=pidfile)
    old_workers = srv.wait_workers(2)
    new = None
    try:
        new, new_workers = upgrade(srv, pidfile, 2)
        srv.proc.send_signal(signal.SIGWINCH)
        for pid in old_workers:
            assert wait_gone(pid, 5), f"old worker {pid} still runs after WINCH"
        time.sleep(1.0)
        assert srv.proc.poll() is None, "WINCH stopped the old master"
        assert srv.worker_pids(exclude={new}) == set(), "the old master started new workers"
        for _ in range(6):
            assert get_pid(srv) in new_workers
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.wait_exit(10) == 0, srv.log()
        assert pid_alive(new)
        assert get_pid(srv) in new_workers
    finally:
        if new:
            stop_pid(new)


def test_usr2_then_term_under_load_fails_no_request(server, tmp_path):
    pidfile = tmp_path / "asgid.pid"
    srv = server(workers=2, worker_class="event", pidfile=pidfile)
    srv.wait_workers(2)
    new = None
    load = LoadClient(srv.host, srv.port, threads=4).start()
    try:
        time.sleep(0.8)
        new, new_workers = upgrade(srv, pidfile, 2)
        assert wait_for_pid_answer(srv, new_workers, 5)
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.wait_exit(10) == 0, srv.log()
        term_done = time.monotonic()
        time.sleep(1.0)
        load.stop()
        assert not load.failures, load.summary()
        assert load.pids_since(term_done) <= new_workers, load.summary()
        assert load.ok > 100, load.summary()
    finally:
        load.stop_event.set()
        if new:
            stop_pid(new)


# ------------------------------------------------------------------------ more reloads


def sample_pids(srv, seconds):
    """Fresh /pid requests, one after another, for `seconds`: [(t, pid, latency)]."""
    start = time.monotonic()
    out = []
    while time.monotonic() - start < seconds:
        t = time.monotonic()
        pid = get_pid(srv)
        out.append((t - start, pid, time.monotonic() - t))
        time.sleep(0.02)
    return out


def test_hup_during_a_reload_keeps_serving(server):
    # A second HUP while the first one's workers still start: the workers that serve stay
    # until workers of the newest configuration are ready.
    # Startup takes 1.5 s: stopping the serving worker at the second HUP would leave no
    # worker ready for ~1.2 s.
    srv = server(workers=1, env={"PROBE_STARTUP_DELAY_MS": "1500"})
    (first,) = srv.wait_workers(1)
    assert get_pid(srv) == first
    srv.proc.send_signal(signal.SIGHUP)
    time.sleep(0.3)
    srv.proc.send_signal(signal.SIGHUP)
    samples = sample_pids(srv, 3.5)
    slowest = max(latency for _, _, latency in samples)
    assert slowest < 0.7, f"a request waited {slowest:.2f} s: {samples}"
    final = srv.wait_workers(1, timeout=5, differ_from={first})
    assert wait_for_pid_answer(srv, final, 3)
    time.sleep(2.0)  # nothing else is still starting
    assert srv.worker_pids() == final


def test_term_during_a_reload_stops_everything(server):
    srv = server(workers=2, env={"PROBE_STARTUP_DELAY_MS": "1000"})
    old = srv.wait_workers(2)
    srv.proc.send_signal(signal.SIGHUP)
    booting = wait_for(lambda: srv.worker_pids() - old, 3)
    assert booting, "the reload started no worker"
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.wait_exit(8) == 0, srv.log()
    for pid in old | booting:
        assert wait_gone(pid, 2), f"worker {pid} outlived the master"


def test_hup_adds_a_listener_and_keeps_the_others(server):
    srv = server(workers=1)
    old = srv.wait_workers(1)
    extra = free_port()
    rewrite_config(srv, bind=[f"127.0.0.1:{srv.port}", f"127.0.0.1:{extra}"])
    srv.proc.send_signal(signal.SIGHUP)
    new = srv.wait_workers(1, timeout=10, differ_from=old)
    assert get_pid(srv, port=extra) in new, "the added listener does not serve"
    assert get_pid(srv) in new


def test_failed_upgrade_keeps_the_old_master(server, tmp_path):
    # The new master cannot start (its configuration is broken by now): the old one goes on,
    # with its pidfile back in place.
    pidfile = tmp_path / "asgid.pid"
    srv = server(workers=2, pidfile=pidfile)
    workers = srv.wait_workers(2)
    assert wait_for(lambda: read_pidfile(pidfile) == srv.proc.pid, 5)
    good = srv.ini_path.read_text()
    srv.ini_path.write_text(good + "\n[workers]\nmax_requests = banana\n")
    srv.proc.send_signal(signal.SIGUSR2)
    assert wait_for(lambda: "banana" in srv.log(), 5), srv.log()
    assert wait_for(lambda: read_pidfile(pidfile) == srv.proc.pid
                    and not os.path.exists(str(pidfile) + ".oldbin"), 5), \
        f"pidfile {read_pidfile(pidfile)}, .oldbin exists: " \
        f"{os.path.exists(str(pidfile) + '.oldbin')}\n{srv.log()}"
    time.sleep(0.5)
    assert srv.proc.poll() is None
    assert srv.worker_pids() == workers
    assert get_pid(srv) in workers
    # And a later upgrade with a good configuration works.
    srv.ini_path.write_text(good)
    new = None
    try:
        new, new_workers = upgrade(srv, pidfile, 2)
        assert wait_for_pid_answer(srv, new_workers, 5)
    finally:
        if new:
            stop_pid(new)


# ------------------------------------------------------------------ what a HUP may change


def started_as(srv, pids, mode):
    """True when the master logged each of `pids` as started `mode` ("forked", "spawned")."""
    return all(f"(pid {pid}, {mode})" in srv.log() for pid in pids)


def test_hup_from_fork_to_spawn_and_back(server):
    # The master knew its own executable only when it had started with spawn: a HUP to spawn
    # aborted it on an assertion in uv_spawn, and the service was gone.
    srv = server(workers=2, worker_start="fork")
    forked = srv.wait_workers(2)
    rewrite_config(srv, worker_start="spawn")
    srv.proc.send_signal(signal.SIGHUP)
    spawned = srv.wait_workers(2, timeout=10, differ_from=forked)
    assert wait_for_pid_answer(srv, spawned, 3), srv.log()
    assert started_as(srv, spawned, "spawned"), srv.log()
    assert "reload: worker_start fork -> spawn" in srv.log()

    rewrite_config(srv, worker_start="fork")
    srv.proc.send_signal(signal.SIGHUP)
    forked = srv.wait_workers(2, timeout=10, differ_from=spawned)
    assert wait_for_pid_answer(srv, forked, 3), srv.log()
    assert started_as(srv, forked, "forked"), srv.log()
    assert srv.proc.poll() is None


def test_hup_to_spawn_with_the_binary_gone_keeps_the_old_workers(server, tmp_path):
    # The master runs a copy of asgid that is deleted: spawn has nothing to run. The reload
    # fails with a line saying so, and the forked workers serve on.
    binary = tmp_path / "asgid-copy"
    shutil.copy2(ASGID_BIN, binary)
    srv = server(workers=1, worker_start="fork", start=False)
    srv.proc = subprocess.Popen(
        [str(binary), "-c", str(srv.ini_path)], stdout=open(srv.stdout_path, "wb"),
        stderr=open(srv.log_path, "wb"), stdin=subprocess.DEVNULL, env=srv.env,
        cwd=srv.workdir, start_new_session=True)
    srv.wait_ready()
    old = srv.wait_workers(1)
    binary.unlink()
    rewrite_config(srv, worker_start="spawn")
    srv.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "reload failed" in srv.log(), 5), srv.log()
    time.sleep(0.5)
    assert srv.proc.poll() is None, f"the master exited:\n{srv.log()}"
    assert srv.worker_pids() == old, srv.log()
    assert get_pid(srv) in old
    assert log_lines(srv.log(), "reload failed", "keeping the previous configuration"), srv.log()


def test_hup_keeps_a_start_only_setting_in_force(server):
    # reuse_port applies at start only: the reload says so, and the listener it opens for a
    # new bind is still without SO_REUSEPORT (another socket cannot share its port).
    srv = server(workers=1)
    old = srv.wait_workers(1)
    extra = free_port()
    rewrite_config(srv, reuse_port="on", bind=[f"127.0.0.1:{srv.port}", f"127.0.0.1:{extra}"])
    srv.proc.send_signal(signal.SIGHUP)
    new = srv.wait_workers(1, timeout=10, differ_from=old)
    assert get_pid(srv, port=extra) in new
    lines = log_lines(srv.log(), "reload: reuse_port off -> on applies only at start")
    assert len(lines) == 1 and "restart, or USR2" in lines[0], srv.log()
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        with pytest.raises(OSError):
            other.bind(("127.0.0.1", extra))


def test_hup_moves_the_pidfile_and_applies_the_umask(server, tmp_path):
    first, second = tmp_path / "first.pid", tmp_path / "second.pid"
    srv = server(workers=1, pidfile=first, umask="022")
    master = srv.proc.pid
    assert wait_for(lambda: read_pidfile(first) == master, 5)
    old = srv.wait_workers(1)
    access_log = tmp_path / "access.log"
    rewrite_config(srv, pidfile=second, umask="077", access_log=access_log)
    srv.proc.send_signal(signal.SIGHUP)
    srv.wait_workers(1, timeout=10, differ_from=old)
    assert read_pidfile(second) == master
    assert not first.exists(), "the old pidfile is still there"
    # The log file the reload creates has the new umask: 0644 & ~077.
    assert oct(access_log.stat().st_mode & 0o777) == oct(0o600)
    assert log_lines(srv.log(), f'reload: pidfile "{first}" -> "{second}"'), srv.log()
    assert log_lines(srv.log(), "reload: umask 0022 -> 0077"), srv.log()
    assert srv.stop() == 0
    assert not second.exists(), "the pidfile outlived the master"


@pytest.mark.parametrize("setting", ["error_log", "access_log", "pidfile"])
def test_hup_with_a_file_the_master_cannot_open_keeps_the_configuration(server, tmp_path,
                                                                         setting):
    srv = server(workers=1)
    old = srv.wait_workers(1)
    rewrite_config(srv, keepalive_timeout="7s", **{setting: tmp_path / "missing" / "file"})
    srv.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "reload failed: keeping the current configuration" in srv.log(),
                    5), srv.log()
    time.sleep(0.5)
    assert srv.proc.poll() is None
    assert srv.worker_pids() == old, srv.log()
    assert get_pid(srv) in old
