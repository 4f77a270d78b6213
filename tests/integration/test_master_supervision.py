"""Supervision (DESIGN §3 Health): a dead worker is reaped and replaced; a worker silent past
`timeout` is killed and replaced; max_requests recycles workers; a worker that cannot load the
app stops the master with a distinct status instead of a respawn loop."""

import os
import re
import signal
import threading
import time

from conftest import child_pids, pid_alive
from master_util import (LoadClient, get_pid, log_lines, log_pids, wait_for,
                         wait_for_pid_answer, wait_gone)
from rawhttp import request_bytes


def death_lines(log, pid):
    """Lines of the log that say how worker pid died."""
    return [line for line in log_lines(log, str(pid))
            if re.search(r"signal|SIGKILL|killed", line, re.I)]


def test_killed_worker_is_reaped_replaced_and_logged(server):
    srv = server(workers=2)
    before = srv.wait_workers(2)
    victim = min(before)
    killed_at = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    after = srv.wait_workers(2, timeout=3, differ_from={victim})
    replaced_in = time.monotonic() - killed_at
    assert replaced_in < 1.5, f"the replacement took {replaced_in:.2f} s"
    assert before - {victim} <= after, "the other worker was replaced too"
    new = (after - before).pop()
    # CHLD: the master reaped it (no zombie child left behind).
    assert wait_for(lambda: victim not in child_pids(srv.proc.pid, zombies=True), 2), \
        f"worker {victim} was not reaped"
    assert wait_for_pid_answer(srv, {new}, 3) == new, "the new worker does not serve"
    assert wait_for(lambda: death_lines(srv.log(), victim), 2), \
        f"the log does not say how worker {victim} died:\n{srv.log()}"


def test_only_worker_killed_is_replaced(server):
    srv = server(workers=1)
    (victim,) = srv.wait_workers(1)
    assert get_pid(srv) == victim
    os.kill(victim, signal.SIGKILL)
    # The listener stays open in the master: this connection waits for the new worker.
    start = time.monotonic()
    pid = get_pid(srv, timeout=5)
    assert pid != victim
    assert time.monotonic() - start < 2.0
    assert srv.proc.poll() is None


def test_killed_worker_under_load(server):
    srv = server(workers=2, worker_class="event")
    before = srv.wait_workers(2)
    load = LoadClient(srv.host, srv.port, threads=4).start()
    try:
        time.sleep(1.0)
        victim = min(before)
        survivor = max(before)
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        after = srv.wait_workers(2, timeout=3, differ_from={victim})
        assert time.monotonic() - killed_at < 1.5, "no replacement within 1.5 s"
        new = (after - before).pop()
        assert wait_for_pid_answer(srv, {new}, 3) == new, "the new worker does not serve"
        time.sleep(0.5)
    finally:
        load.stop()
    others = [f for f in load.failures if f[2] != victim]
    assert not others, f"connections of other workers saw errors: {load.summary()}"
    assert load.pids_since(killed_at) & {survivor, new}
    assert load.ok > 50, load.summary()


def test_hung_worker_is_killed_and_replaced(server):
    srv = server(workers=2, worker_class="event", timeout="2s")
    before = srv.wait_workers(2)
    result = {}

    def spin():
        try:
            with srv.raw(timeout=20) as conn:
                conn.send(request_bytes("GET", "/spin?ms=20000"))
                result["resp"] = conn.read_response()
        except Exception as exc:
            result["error"] = exc

    t = threading.Thread(target=spin, daemon=True)
    start = time.monotonic()
    t.start()
    time.sleep(1.5)
    assert srv.worker_pids() == before, "a worker was killed before its timeout"
    gone = wait_for(lambda: before - srv.worker_pids(), 8)
    assert gone, f"no hung worker was killed within 9.5 s of a 2 s timeout:\n{srv.log()}"
    killed_after = time.monotonic() - start
    assert len(gone) == 1, f"more than the hung worker went: {gone}"
    hung = gone.pop()
    assert killed_after >= 1.9, f"killed after {killed_after:.2f} s with a 2 s timeout"
    after = srv.wait_workers(2, timeout=3, differ_from={hung})
    new = (after - before).pop()
    assert wait_for_pid_answer(srv, {new}, 3) == new, "the new worker does not serve"
    t.join(timeout=15)
    assert "resp" not in result, f"the hung request was answered: {result}"
    assert wait_for(lambda: log_lines(srv.log(), str(hung), "/spin"), 2), \
        f"no log line names worker {hung} and the request it was serving:\n{srv.log()}"


STANDARD_LINE = re.compile(
    r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] \[(DEBUG|INFO|WARNING|ERROR)\] ")


def test_hung_worker_log_lines_keep_the_standard_prefix(server):
    # Log parsers expect "[time] [pid] [LEVEL]" on every line, the worker's last words too.
    srv = server(workers=1, worker_class="event", timeout="1s")
    (hung,) = srv.wait_workers(1)
    with srv.raw(timeout=10) as conn:
        conn.send(request_bytes("GET", "/spin?ms=10000"))
        assert wait_gone(hung, 6), "the hung worker was not killed"
    srv.wait_workers(1, differ_from={hung})
    srv.stop()
    odd = [line for line in srv.log().splitlines() if not STANDARD_LINE.match(line)]
    assert not odd, "error log lines without the standard prefix:\n" + "\n".join(odd)


def test_worker_stopped_by_someone_else_is_replaced(server):
    # A worker that exits on a TERM the master did not send is not "done": it is replaced.
    srv = server(workers=2)
    before = srv.wait_workers(2)
    victim = min(before)
    os.kill(victim, signal.SIGTERM)
    after = srv.wait_workers(2, timeout=5, differ_from={victim})
    new = (after - before).pop()
    assert wait_for_pid_answer(srv, {new}, 3) == new


def test_a_worker_that_sends_garbage_on_its_channel_is_dropped_and_replaced(server):
    # The master closes the channel of a worker that sends what is not a frame (the old text
    # protocol here); the worker takes it for its master gone, stops gracefully and is
    # replaced, and the master lives on. Freed memory is scribbled over (MALLOC_PERTURB_) so
    # that a record the master freed too early (a forked worker's, with its channel) cannot
    # pass unnoticed.
    srv = server(workers=1, env={"MALLOC_PERTURB_": "165"})
    victim = srv.wait_workers(1).pop()
    resp = srv.request(request_bytes("GET", "/impostor"))
    assert resp.status == 200, resp
    assert wait_for(lambda: f"(pid {victim}): a bad frame (another protocol version) on its "
                    "channel: dropping it" in srv.log(), 5), srv.log()
    assert wait_gone(victim, 10), f"worker {victim} did not stop\n{srv.log()}"
    new = srv.wait_workers(1, timeout=10, differ_from={victim}).pop()
    assert wait_for_pid_answer(srv, {new}, 5) == new
    log = srv.log()
    assert re.search(rf"\[{victim}\] \[WARNING\] \[worker 1\] the master has gone: stopping", log)
    assert f"worker 1 (pid {victim}) exited with status 0" in log, log
    assert srv.stop() == 0, srv.log()


def test_a_server_frozen_past_the_timeout_is_not_taken_for_stuck(server):
    # The master and its workers stopped together (a frozen container, a paused VM, a stopped
    # process group): no one ran, so no one was stuck. When they resume, neither the master
    # (it did not listen) nor a worker's own stall watch (it did not run) counts that time.
    srv = server(workers=2, timeout="1s")
    before = srv.wait_workers(2)
    os.killpg(srv.proc.pid, signal.SIGSTOP)
    time.sleep(3)  # past timeout plus a heartbeat interval (1.25 s), twice
    os.killpg(srv.proc.pid, signal.SIGCONT)
    time.sleep(2)  # past the bound once more: a real silence would be judged by now
    assert srv.worker_pids() == before, srv.log()
    assert wait_for_pid_answer(srv, before, 5) in before
    log = srv.log()
    assert "stuck" not in log and "aborted" not in log, log


def test_workers_exit_when_the_master_dies(server):
    srv = server(workers=2)
    workers = srv.wait_workers(2)
    srv.proc.kill()
    srv.proc.wait(timeout=5)
    for pid in workers:
        assert wait_gone(pid, 5), f"worker {pid} outlived a killed master by 5 s"


def test_idle_workers_outlive_the_timeout(server):
    srv = server(workers=2, timeout="1s")
    before = srv.wait_workers(2)
    time.sleep(3.0)
    assert srv.worker_pids() == before, srv.log()
    assert get_pid(srv) in before


def test_thread_class_worker_waiting_on_the_app_keeps_its_heartbeat(server):
    # The app blocks in a pool thread; the worker's loop still answers the master.
    srv = server(workers=1, worker_class="thread", threads=2, timeout="1s")
    (pid,) = srv.wait_workers(1)
    resp = srv.request(request_bytes("GET", "/sleep?ms=2500"))
    assert resp.status == 200 and resp.body == b"slept", resp
    assert srv.worker_pids() == {pid}, srv.log()


def _app_failure(srv):
    code = srv.wait_exit(timeout=10)
    assert code is not None, f"the master kept running:\n{srv.log()}"
    workers = log_pids(srv.log()) - {srv.proc.pid}
    return code, workers


def test_app_load_failure_stops_the_master_with_status_4(server, tmp_path):
    missing = tmp_path / "no-such-app.so"
    srv = server(app=str(missing), workers=1, wait=False)
    start = time.monotonic()
    code, workers = _app_failure(srv)
    assert code == 4, f"exit status {code} (APP_LOAD_ERROR is 4)\n{srv.log()}"
    assert time.monotonic() - start < 5.0
    assert len(workers) <= 2, f"a respawn loop: workers {workers}\n{srv.log()}"
    assert str(missing) in srv.log()


def test_lifespan_startup_failure_stops_the_master_with_status_5(server):
    # 5, not 4: a failed startup may pass later (a database down), and asgid.service restarts
    # on 5 while it does not on 4 (test_service_files.py).
    srv = server(workers=1, env={"PROBE_LIFESPAN_FAIL": "1"}, wait=False)
    start = time.monotonic()
    code, workers = _app_failure(srv)
    assert code == 5, f"exit status {code} (STARTUP_FAILED is 5)\n{srv.log()}"
    assert log_lines(srv.log(), "[master]", "the app's lifespan startup failed: stopping the "
                     "master (exit status 5)"), srv.log()
    assert time.monotonic() - start < 5.0
    attempts = len(log_lines(srv.log(), "startup failed on purpose"))
    assert 1 <= attempts <= 2, f"{attempts} attempts\n{srv.log()}"
    assert len(workers) <= 2, f"a respawn loop: workers {workers}\n{srv.log()}"


def test_lifespan_on_for_an_app_without_lifespan_stops_the_master_with_status_4(server):
    # A configuration error, which no restart cures: 4, as for an app that cannot be loaded.
    srv = server(app="hello", workers=1, lifespan="on", wait=False)
    code, workers = _app_failure(srv)
    assert code == 4, f"exit status {code}\n{srv.log()}"
    assert "does not support the lifespan protocol" in srv.log()
    assert len(workers) <= 2, f"a respawn loop: workers {workers}\n{srv.log()}"


def test_startup_failing_in_a_replacement_leaves_the_others_serving(server, tmp_path):
    # What the app's startup needs goes down while the service runs, and a worker dies: its
    # replacement cannot start. The master keeps serving with the other worker, tries again
    # (less often each time), and is whole again once the startup can succeed.
    down = tmp_path / "database-down"
    srv = server(workers=2, env={"PROBE_LIFESPAN_FAIL_FILE": str(down)})
    before = srv.wait_workers(2)
    # both must have started the app before it breaks: a live process may still be booting
    # (a spawned worker under ASan takes a second), and then no worker serves on
    assert wait_for(lambda: all(log_lines(srv.log(), f"(pid {p}) is ready") for p in before),
                    30), srv.log()
    down.write_text("")
    victim, survivor = sorted(before)
    os.kill(victim, signal.SIGKILL)
    assert wait_for(lambda: len(log_lines(srv.log(), "the other workers serve on")) >= 2, 10), \
        srv.log()
    assert srv.proc.poll() is None, srv.log()
    for _ in range(5):
        assert get_pid(srv) == survivor
    assert log_lines(srv.log(), "workers keep dying early: next start in"), srv.log()
    down.unlink()
    after = srv.wait_workers(2, timeout=15, differ_from={victim})
    assert survivor in after
    new = (after - before).pop()
    assert wait_for(lambda: log_lines(srv.log(), f"(pid {new}) is ready"), 5), srv.log()
    assert wait_for_pid_answer(srv, {new}, 5) == new


def test_worker_boot_failure_stops_the_master_with_status_3(server):
    # An unknown worker class is found by the worker as it boots.
    srv = server(workers=1, worker_class="gevent", wait=False)
    start = time.monotonic()
    code, workers = _app_failure(srv)
    assert code == 3, f"exit status {code} (a worker boot failure is 3)\n{srv.log()}"
    assert time.monotonic() - start < 5.0
    assert len(workers) <= 2, f"a respawn loop: workers {workers}\n{srv.log()}"


def test_app_failure_with_several_workers_leaves_no_process(server):
    srv = server(workers=3, env={"PROBE_LIFESPAN_FAIL": "1"}, wait=False)
    code, _ = _app_failure(srv)
    assert code == 5, f"exit status {code}\n{srv.log()}"
    left = child_pids(srv.proc.pid, zombies=True)
    assert not left, f"workers left behind: {left}"
    attempts = len(log_lines(srv.log(), "startup failed on purpose"))
    assert attempts <= 6, f"{attempts} attempts for 3 workers: a respawn loop\n{srv.log()}"


def test_max_requests_recycles_the_worker(server):
    srv = server(workers=1, max_requests=20, max_requests_jitter=0)
    (first,) = srv.wait_workers(1)
    answers = []
    for i in range(25):
        answers.append(get_pid(srv))  # fails the test on any error or non-200
    assert answers[0] == first
    assert len(set(answers)) >= 2, f"the worker was never replaced: {answers}"
    assert answers.count(first) == 20, f"the first worker served {answers.count(first)}"
    assert answers[20:] == [answers[20]] * 5
    assert wait_gone(first, 5), "the recycled worker did not exit"
    assert srv.wait_workers(1) == {answers[20]}


def test_max_requests_under_keepalive_load(server):
    srv = server(workers=2, max_requests=50, max_requests_jitter=10)
    before = srv.wait_workers(2)
    load = LoadClient(srv.host, srv.port, threads=3).start()
    try:
        recycled = wait_for(lambda: not (srv.worker_pids() & before), 10)
        time.sleep(0.3)
    finally:
        load.stop()
    assert recycled, f"workers not recycled after {load.ok} requests: {load.summary()}"
    assert not load.failures, load.summary()
    assert srv.proc.poll() is None


def test_worker_churn_leaves_no_stuck_worker(server):
    # Workers retire every few requests, so the master forks while SIGCHLDs keep arriving.
    # Every worker it starts must boot and serve; none may hang (or spin) before booting.
    srv = server(workers=2, max_requests=5, max_requests_jitter=0)
    srv.wait_workers(2)
    load = LoadClient(srv.host, srv.port, threads=4, timeout=3).start()
    try:
        time.sleep(2.5)
    finally:
        load.stop()
    time.sleep(0.5)
    log = srv.log()
    stuck = [pid for pid in srv.worker_pids() if not log_lines(log, f"[{pid}]")]
    assert not stuck, f"workers that never wrote a line (never booted): {stuck}; " \
        f"{load.summary()}"
    assert not load.failures, load.summary()
    srv.assert_idle(seconds=1.0, limit=0.3)


def test_workers_killed_again_and_again_keep_being_replaced(server):
    # Crashes after a successful boot are not boot failures: the master keeps respawning.
    srv = server(workers=1)
    seen = set()
    for _ in range(5):
        (pid,) = srv.wait_workers(1, differ_from=seen, timeout=10)
        seen.add(pid)
        os.kill(pid, signal.SIGKILL)
    assert srv.proc.poll() is None, "the master gave up on crashing workers"
    (pid,) = srv.wait_workers(1, differ_from=seen, timeout=10)
    assert get_pid(srv, timeout=10) == pid
    assert all(not pid_alive(p) for p in seen)
