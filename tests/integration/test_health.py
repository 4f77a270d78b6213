"""Health on the metrics listener (docs/deploying.md "Metrics and health"): /healthz is 200
while the master runs; /readyz is 503 until every worker is ready, 200 then, stays 200 while a
worker of two is replaced after a crash and through a reload, and is 503 from the start of a
graceful stop until the master exits (the listener stays open: a probe is answered, not
refused)."""

import os
import signal
import threading
import time

from master_util import wait_for
from metrics_util import get, metrics_settings, scrape, status_of, total
from rawhttp import request_bytes


def test_not_ready_until_every_worker_is(server):
    metrics, port = metrics_settings()
    # The app's lifespan startup takes 3 s in each worker: the first probes come well before.
    srv = server(workers=2, env={"PROBE_STARTUP_DELAY_MS": "3000"}, **metrics)
    assert wait_for(lambda: status_of(port, "/healthz") == 200, 5), srv.log()
    status, _, body = get(port, "/readyz")
    assert (status, body) == (503, b"not ready\n")
    assert "is ready" not in srv.log()
    assert wait_for(lambda: status_of(port, "/readyz") == 200, 10), srv.log()
    assert srv.log().count("is ready") == 2


def watch_readiness(port, stop, seen):
    while not stop.is_set():
        seen.append(status_of(port, "/readyz", timeout=10))
        time.sleep(0.01)


def test_ready_through_a_crash_and_a_reload(server):
    metrics, port = metrics_settings()
    srv = server(workers=2, **metrics)
    pids = srv.wait_workers(2)
    assert wait_for(lambda: status_of(port, "/readyz") == 200, 10)
    stop, seen = threading.Event(), []
    watcher = threading.Thread(target=watch_readiness, args=(port, stop, seen))
    watcher.start()
    try:
        victim = min(pids)
        os.kill(victim, signal.SIGKILL)
        srv.wait_workers(2, differ_from={victim})
        assert wait_for(lambda: srv.log().count("is ready") == 3, 5)
        os.kill(srv.proc.pid, signal.SIGHUP)
        assert wait_for(lambda: "of the previous configuration" in srv.log(), 10), srv.log()
        srv.wait_workers(2, differ_from=pids)
        time.sleep(0.2)
    finally:
        stop.set()
        watcher.join()
    assert len(seen) > 20 and set(seen) == {200}, seen


def test_not_ready_from_the_start_of_a_graceful_stop(server):
    metrics, port = metrics_settings()
    srv = server(workers=1, worker_class="thread", graceful_timeout="10s", **metrics)
    assert wait_for(lambda: status_of(port, "/readyz") == 200, 10)
    # A request in flight keeps the worker, and so the master, for about 4 s after TERM.
    slow = srv.raw(timeout=15)
    slow.send(request_bytes("GET", "/sleep?ms=4000"))
    # The stop must find the request in the worker: its heartbeat says when it is.
    assert wait_for(lambda: total(scrape(port), "asgid_http_requests_in_flight") == 1, 3)
    srv.proc.send_signal(signal.SIGTERM)
    assert wait_for(lambda: status_of(port, "/readyz") == 503, 3)
    assert srv.proc.poll() is None, "the master left before its worker drained"
    assert status_of(port, "/healthz") == 200  # alive, draining
    assert slow.read_response().status == 200
    slow.close()
    assert srv.wait_exit(10) == 0
    assert status_of(port, "/healthz") is None  # gone with the master
