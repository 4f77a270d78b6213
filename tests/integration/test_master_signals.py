"""The master process and its signals (DESIGN §3, gunicorn's meanings): N workers serve the
same listeners; TERM stops gracefully, INT and QUIT fast; TTIN/TTOU add and remove a worker;
USR1 reopens the log files; the pidfile is written and removed."""

import os
import signal
import time

import pytest

from conftest import pid_alive
from master_util import (get_pid, log_lines, read_pidfile, start_slow_request, wait_for,
                         wait_for_pid_answer, wait_gone)
from rawhttp import RawConnection, request_bytes


def test_master_starts_the_configured_number_of_workers(server):
    srv = server(workers=3)
    pids = srv.wait_workers(3)
    assert srv.proc.pid not in pids
    answered = {get_pid(srv) for _ in range(10)}
    assert answered <= pids, f"answers from {answered}, workers are {pids}"
    assert srv.proc.pid not in answered, "the master itself serves requests"


def test_zero_workers_means_one_per_usable_cpu(server):
    srv = server(workers=0)
    cpus = len(os.sched_getaffinity(0))
    srv.wait_workers(cpus)
    time.sleep(0.3)
    assert len(srv.worker_pids()) == cpus


def test_a_busy_worker_does_not_stop_the_others_serving(server):
    # worker_class = event: /spin blocks its worker's loop, so the next connection can only
    # be served by the other worker.
    srv = server(workers=2, worker_class="event")
    pids = srv.wait_workers(2)
    result = {}
    t = start_slow_request(srv, "/spin?ms=1500", result)
    time.sleep(0.3)
    start = time.monotonic()
    other = get_pid(srv, timeout=3)
    assert time.monotonic() - start < 1.0, "a request waited for the busy worker"
    assert other in pids
    t.join(timeout=10)
    assert "resp" in result and result["resp"].status == 200, result


def test_pidfile_holds_the_master_pid_and_is_removed_at_stop(server, tmp_path):
    pidfile = tmp_path / "run" / "asgid.pid"
    pidfile.parent.mkdir()
    srv = server(workers=2, pidfile=pidfile)
    assert wait_for(lambda: read_pidfile(pidfile), 5) == srv.proc.pid, srv.log()
    workers = srv.wait_workers(2)
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.wait_exit(10) == 0, srv.log()
    assert not pidfile.exists(), "the pidfile outlived the master"
    for pid in workers:
        assert wait_gone(pid, 3), f"worker {pid} outlived the master"


def test_term_runs_lifespan_shutdown_in_every_worker(server, tmp_path):
    marks = tmp_path / "shutdowns"
    marks.mkdir()
    srv = server(workers=2, env={"PROBE_SHUTDOWN_DIR": str(marks)})
    workers = srv.wait_workers(2)
    # Shutdown is owed by workers that ran startup: wait until both have. A live process may
    # still be booting (a spawned worker under ASan takes a while before main, where TERM
    # still has its default action), and one stopped then never started the app.
    assert wait_for(lambda: all(log_lines(srv.log(), f"(pid {p}) is ready") for p in workers),
                    30), srv.log()
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.wait_exit(10) == 0, srv.log()
    found = {p.name for p in marks.iterdir()}
    assert found == {f"shutdown.{pid}" for pid in workers}, (found, workers)


def test_term_lets_an_in_flight_request_finish(server):
    srv = server(workers=2, worker_class="thread", threads=2, graceful_timeout="5s")
    workers = srv.wait_workers(2)
    result = {}
    t = start_slow_request(srv, "/sleep?ms=1500", result)
    time.sleep(0.4)  # the request is inside the app now
    start = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    t.join(timeout=10)
    assert "resp" in result, result.get("error")
    assert result["resp"].status == 200
    assert result["resp"].body == b"slept"
    assert srv.wait_exit(timeout=8) == 0, srv.log()
    assert time.monotonic() - start < 5.0, "the master waited past graceful_timeout"
    for pid in workers:
        assert not pid_alive(pid), f"worker {pid} outlived the master"


def test_term_stops_accepting_new_connections(server):
    srv = server(workers=1, worker_class="thread", threads=2, graceful_timeout="5s")
    srv.wait_workers(1)
    result = {}
    t = start_slow_request(srv, "/sleep?ms=2000", result)
    time.sleep(0.4)
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)  # the master and the worker have seen the signal
    # A connection made now is refused, or closed without an answer: never served.
    try:
        with RawConnection(srv.host, srv.port, timeout=5) as conn:
            conn.send(request_bytes("GET", "/pid"))
            data = conn.read_until_close(timeout=6)
    except ConnectionRefusedError:
        data = b""
    except ConnectionResetError:
        data = b""
    assert not data.startswith(b"HTTP/1.1 200"), f"served during the graceful stop: {data!r}"
    t.join(timeout=10)
    assert "resp" in result and result["resp"].status == 200, result
    assert srv.wait_exit(timeout=8) == 0, srv.log()


def test_graceful_timeout_bounds_the_stop(server):
    srv = server(workers=1, worker_class="thread", threads=2, graceful_timeout="1s")
    workers = srv.wait_workers(1)
    result = {}
    t = start_slow_request(srv, "/sleep?ms=8000", result)
    time.sleep(0.4)
    start = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.wait_exit(timeout=6) is not None, "the master ignored graceful_timeout"
    assert time.monotonic() - start < 4.0
    for pid in workers:
        assert wait_gone(pid, 2), f"worker {pid} outlived the master"
    t.join(timeout=10)
    assert "resp" not in result or result["resp"].status != 200 or \
        not result["resp"].complete, "a request longer than graceful_timeout completed"
    # The worker closes what is still open when graceful_timeout expires, even though the
    # app thread is still busy.
    assert result["done"] - start < 1.8, \
        f"the connection stayed open {result['done'] - start:.2f} s after TERM"


@pytest.mark.parametrize("signame", ["SIGINT", "SIGQUIT"])
def test_int_and_quit_stop_at_once(server, tmp_path, signame):
    pidfile = tmp_path / "asgid.pid"
    srv = server(workers=2, worker_class="thread", threads=2, graceful_timeout="10s",
                 pidfile=pidfile)
    workers = srv.wait_workers(2)
    result = {}
    t = start_slow_request(srv, "/sleep?ms=5000", result)
    time.sleep(0.4)
    start = time.monotonic()
    srv.proc.send_signal(getattr(signal, signame))
    code = srv.wait_exit(timeout=5)
    assert code is not None, f"{signame} did not stop the master within 5 s"
    assert time.monotonic() - start < 3.0, f"{signame} waited for the in-flight request"
    assert code == 0, f"exit status {code}\n{srv.log()}"
    for pid in workers:
        assert wait_gone(pid, 2), f"worker {pid} outlived the master"
    assert not pidfile.exists(), "the pidfile outlived the master"
    t.join(timeout=10)
    assert "resp" not in result or result["resp"].status != 200 or \
        not result["resp"].complete, f"{signame} waited for the in-flight request"
    assert result["done"] - start < 1.0, \
        f"the in-flight connection stayed open {result['done'] - start:.2f} s after {signame}"


def test_ttin_adds_a_worker_and_ttou_removes_one(server):
    srv = server(workers=2)
    first = srv.wait_workers(2)
    srv.proc.send_signal(signal.SIGTTIN)
    three = srv.wait_workers(3, timeout=5)
    assert first < three, f"TTIN replaced workers: {first} -> {three}"
    added = (three - first).pop()
    assert wait_for_pid_answer(srv, {added}, 5) == added, "the added worker does not serve"

    srv.proc.send_signal(signal.SIGTTOU)
    two = srv.wait_workers(2, timeout=5)
    assert two < three, f"TTOU replaced workers: {three} -> {two}"
    srv.proc.send_signal(signal.SIGTTOU)
    one = srv.wait_workers(1, timeout=5)
    assert one < two
    assert get_pid(srv) in one
    assert srv.proc.poll() is None, "the master exited"


def test_ttou_keeps_the_last_worker(server):
    srv = server(workers=1)
    (pid,) = srv.wait_workers(1)
    srv.proc.send_signal(signal.SIGTTOU)
    time.sleep(1.0)
    assert srv.worker_pids() == {pid}
    assert get_pid(srv) == pid


def _marker_requests(srv, tag, n):
    markers = [f"{tag}{i}" for i in range(n)]
    for m in markers:
        resp = srv.request(request_bytes("GET", f"/log?{m}",
                                         headers=[("Connection", "close")]))
        assert resp.status == 200, resp
    return markers


def test_usr1_reopens_the_error_log(server):
    srv = server(workers=2, error_log="error.log")
    srv.wait_workers(2)
    log = srv.workdir / "error.log"
    rotated = srv.workdir / "error.log.1"
    before = _marker_requests(srv, "before", 6)
    text = log.read_text()
    assert all(m in text for m in before), text

    log.rename(rotated)
    srv.proc.send_signal(signal.SIGUSR1)
    assert wait_for(log.exists, 3), "no new error log file after USR1"
    time.sleep(0.5)  # the master passed the signal on to its workers
    after = _marker_requests(srv, "after", 10)
    time.sleep(0.2)
    new_text = log.read_text()
    old_text = rotated.read_text()
    missing = [m for m in after if m not in new_text]
    assert not missing, f"lines still going to the rotated file: {missing}\n{old_text[-3000:]}"
    assert not [m for m in after if m in old_text]


def test_usr1_reopens_the_access_log(server):
    srv = server(workers=2, access_log="access.log")
    srv.wait_workers(2)
    log = srv.workdir / "access.log"
    rotated = srv.workdir / "access.log.1"
    _marker_requests(srv, "before", 4)
    assert wait_for(lambda: log.exists() and "before3" in log.read_text(), 2), \
        "requests not in the access log"

    log.rename(rotated)
    srv.proc.send_signal(signal.SIGUSR1)
    assert wait_for(log.exists, 3), "no new access log file after USR1"
    time.sleep(0.5)
    after = _marker_requests(srv, "after", 10)
    time.sleep(0.2)
    new_text = log.read_text()
    missing = [m for m in after if m not in new_text]
    assert not missing, (f"requests still logged to the rotated file: {missing}\n"
                         f"{rotated.read_text()[-3000:]}")


def test_master_log_names_roles(server):
    # Lines from the master and from the workers are told apart by their pid field.
    srv = server(workers=2)
    workers = srv.wait_workers(2)
    _marker_requests(srv, "role", 4)
    srv.stop()
    text = srv.log()
    assert log_lines(text, f"[{srv.proc.pid}]"), f"the master wrote nothing:\n{text}"
    served = {int(line.split("] [")[1]) for line in log_lines(text, "probe-log role")}
    assert served and served <= workers, (served, workers)
